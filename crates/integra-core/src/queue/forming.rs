//! Forming: turning a registered source into the payload that is sent.
//!
//! A flow's former is either a Rust handler ([`Former`], run on the dispatcher's threads, several
//! messages in parallel) or an external former that pulls work with
//! [`Engine::next_to_form`](crate::Engine::next_to_form) and reports back with
//! [`Engine::complete_forming`](crate::Engine::complete_forming),
//! [`Engine::fail_forming`](crate::Engine::fail_forming) or
//! [`Engine::cancel`](crate::Engine::cancel). The pull form is what 1C code uses: the 1C server
//! cannot receive callbacks, and the former reads the object's current state at forming time (late
//! materialisation). A claim counts an attempt and holds a lease; a former that dies leaves the
//! lease to expire, and the message is retried. The time from the claim to the answer, by the
//! engine's clock, is the forming time the metrics report for an external former (for a Rust
//! former, its run).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::fan_out::{Formed, check_sendable, fan_out, status_after_fan_out, targets};
use super::hash::content_hash;
use crate::config::{ConfigSnapshot, Direction, Flow, Former as FormerKind};
use crate::core::{Core, Prepared};
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::limits::checks::parse_message;
use crate::metrics::events::Observation;
use crate::openapi::{Violation, summary};
use crate::retry::HandlerError;
use crate::status::MessageStatus;
use crate::store::{ClaimedFormingRow, Commit, Db, MessageState};
use crate::time::Timestamp;

/// Longest lease a puller may ask for.
pub const MAX_LEASE: Duration = Duration::from_secs(86_400);

/// A message to form.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FormingItem {
    /// The message id.
    pub id: MessageId,
    /// The flow code.
    pub flow: String,
    /// The registered source, JSON text.
    pub source: String,
    /// The object key given at registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

impl FormingItem {
    pub(crate) fn from_row(row: ClaimedFormingRow) -> Self {
        FormingItem {
            id: row.uuid.into(),
            flow: row.flow,
            source: row.source,
            object_key: row.object_key,
            attempt: row.attempts,
        }
    }
}

/// What a Rust former decided.
#[derive(Clone, Debug, PartialEq)]
pub enum FormOutcome {
    /// The payload to send.
    Payload(Value),
    /// There is nothing to send (the object is gone, say); the reason goes to the history.
    Cancel(String),
    /// Forming failed; it is retried per the flow's policy.
    Fail(String),
    /// Forming can never succeed (the document it reads is gone for good): the message is
    /// Dead at once, with this reason.
    Dead(String),
}

/// A Rust former for one flow, run on the dispatcher's threads.
pub trait Former: Send + Sync {
    /// Forms the payload of one message.
    fn form(&self, item: &FormingItem) -> FormOutcome;
}

impl<F> Former for F
where
    F: Fn(&FormingItem) -> FormOutcome + Send + Sync,
{
    fn form(&self, item: &FormingItem) -> FormOutcome {
        self(item)
    }
}

impl std::fmt::Debug for dyn Former {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Former")
    }
}

/// The end of one forming attempt, as recorded.
pub(crate) enum FormingResult {
    /// The payload (None: the source is the payload) and, for a message with an object key,
    /// its content hash.
    Formed {
        payload: Option<String>,
        hash: Option<Vec<u8>>,
    },
    /// Forming failed: retried per the flow's policy, or Dead at once when permanent.
    Failed(HandlerError),
    Cancelled(String),
}

/// Checks the formed payload of message `id` against its flow's subscribers and schema,
/// outside any transaction, and prepares what is recorded: the payload with its content hash
/// (for messages with an object key on flows that form their payloads), or the violations as
/// a forming failure.
///
/// # Errors
/// [`Error::NotJsonRpcParams`] for a payload a subscriber cannot be sent; [`Error::Schema`]
/// when the flow's schema cannot be had.
pub(crate) fn check_formed(
    core: &Core,
    config: &ConfigSnapshot,
    flow: &str,
    id: &str,
    has_object_key: bool,
    payload: String,
    value: &Value,
) -> Result<(FormingResult, Vec<Violation>)> {
    let flow = config.flow(flow);
    let violations = match flow {
        Some(f) => {
            let what = || format!("the payload of message '{id}'");
            check_sendable(config, f, what, &payload)?;
            core.flow_violations(config, f, value)?
        }
        None => Vec::new(),
    };
    if !violations.is_empty() {
        let failure = HandlerError::retry(summary(&violations));
        return Ok((FormingResult::Failed(failure), violations));
    }
    let pass_through = flow.is_some_and(|f| f.former == FormerKind::None);
    let result = FormingResult::Formed {
        hash: (has_object_key && !pass_through).then(|| content_hash(value)),
        payload: (!pass_through).then_some(payload),
    };
    Ok((result, violations))
}

/// How long an external former held a message it answers for at `now`: from its claim, by
/// the engine's clock. None for a message that was not claimed (a cancel before forming).
fn claimed_for(state: &MessageState, now: Timestamp) -> Option<Duration> {
    (state.status == MessageStatus::Forming).then(|| now.since(state.updated_at))
}

/// Checks a lease asked for by a puller: 1 s to 24 h.
pub(crate) fn check_lease(lease: Duration) -> Result<()> {
    if (Duration::from_secs(1)..=MAX_LEASE).contains(&lease) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            name: "lease",
            reason: format!("must be between 1 s and 24 h, got {lease:?}"),
        })
    }
}

pub(crate) fn former_name(f: FormerKind) -> &'static str {
    match f {
        FormerKind::None => "nobody (pass-through)",
        FormerKind::External => "an external former",
        FormerKind::Handler => "a Rust handler",
    }
}

/// Claims messages for forming and records the claim in their history.
pub(crate) fn claim_forming(
    db: &Db<'_>,
    owner: &str,
    lease_until: Timestamp,
    now: Timestamp,
    flows: &[&str],
    max: usize,
) -> Result<Vec<ClaimedFormingRow>> {
    if flows.is_empty() || max == 0 {
        return Ok(Vec::new());
    }
    let rows = db.claim_forming(owner, lease_until, now, flows, max)?;
    for r in &rows {
        db.insert_message_history(
            r.id,
            None,
            now,
            MessageStatus::Forming.as_str(),
            r.attempts,
            None,
        )?;
    }
    Ok(rows)
}

/// Applies the end of a forming attempt to a message; returns its new status.
pub(crate) fn finish_forming(
    db: &Db<'_>,
    config: &ConfigSnapshot,
    state: &MessageState,
    result: FormingResult,
    now: Timestamp,
) -> Result<MessageStatus> {
    let wrong_status = |operation| Error::WrongStatus {
        what: "message",
        id: state.uuid.clone(),
        status: state.status.to_string(),
        operation,
    };
    let flow = config.flow(&state.flow);
    match result {
        FormingResult::Formed { payload, hash } => {
            if state.status != MessageStatus::Forming {
                return Err(wrong_status("completed"));
            }
            let flow = flow.ok_or_else(|| Error::UnknownFlow {
                flow: state.flow.clone(),
            })?;
            if !db.set_message_formed(state.id, payload.as_deref(), hash.as_deref(), now)? {
                return Err(wrong_status("completed"));
            }
            db.insert_message_history(
                state.id,
                None,
                now,
                MessageStatus::Ready.as_str(),
                state.attempts,
                None,
            )?;
            let targets = targets(config, flow);
            let status = status_after_fan_out(&targets);
            db.transition_message(state.id, MessageStatus::Ready, status, None, None, now)?;
            let formed = Formed {
                message_id: state.id,
                flow,
                ordering_key: state.ordering_key.as_deref(),
                due: state.not_before.map_or(now, |t| t.max(now)),
                attempt: state.attempts,
            };
            fan_out(db, &formed, &targets, now)?;
            Ok(status)
        }
        FormingResult::Failed(failure) => {
            if state.status != MessageStatus::Forming {
                return Err(wrong_status("failed"));
            }
            let (status, next) = config.flow_retry(&state.flow).status_after(
                &failure,
                state.attempts,
                now,
                MessageStatus::FormingError,
                MessageStatus::Dead,
            );
            let error = failure.reason();
            if !db.transition_message(state.id, state.status, status, Some(error), next, now)? {
                return Err(wrong_status("failed"));
            }
            db.insert_message_history(
                state.id,
                None,
                now,
                status.as_str(),
                state.attempts,
                Some(error),
            )?;
            Ok(status)
        }
        FormingResult::Cancelled(reason) => {
            if !matches!(
                state.status,
                MessageStatus::New | MessageStatus::Forming | MessageStatus::FormingError
            ) {
                return Err(wrong_status("cancelled"));
            }
            if !db.transition_message(
                state.id,
                state.status,
                MessageStatus::Cancelled,
                None,
                None,
                now,
            )? {
                return Err(wrong_status("cancelled"));
            }
            db.insert_message_history(
                state.id,
                None,
                now,
                MessageStatus::Cancelled.as_str(),
                state.attempts,
                Some(&reason),
            )?;
            Ok(MessageStatus::Cancelled)
        }
    }
}

impl Core {
    /// [`Engine::next_to_form`](crate::Engine::next_to_form).
    pub(crate) fn next_to_form(&self, max: usize, lease: Duration) -> Result<Vec<FormingItem>> {
        check_lease(lease)?;
        self.rescue_expired()?;
        let pulled = |f: &Flow| f.former == FormerKind::External;
        let rows = self.claim_pulled(max, lease, pulled, claim_forming)?;
        Ok(rows.into_iter().map(FormingItem::from_row).collect())
    }

    /// [`Engine::release_forming`](crate::Engine::release_forming).
    pub(crate) fn release_forming(&self, ids: &[String]) -> Result<usize> {
        self.release_pulled(ids, |db, ids, owner, now| {
            db.release_forming(ids, owner, now)
        })
    }

    /// [`Engine::complete_forming`](crate::Engine::complete_forming).
    pub(crate) fn complete_forming(&self, id: &str, payload: &str) -> Result<Vec<Violation>> {
        let value: Value = parse_message(|| format!("the payload of message '{id}'"), payload)?;
        let now = self.now();
        let uuid = id.to_owned();
        self.write_prepared(
            Commit::Durable,
            |config| {
                let state = self
                    .store
                    .read(|db| Ok::<_, Error>(db.message_state(id)?))?
                    .ok_or_else(|| Error::MessageNotFound { id: id.to_owned() })?;
                let has_key = state.object_key.is_some();
                let work = check_formed(
                    self,
                    config,
                    &state.flow,
                    id,
                    has_key,
                    payload.to_owned(),
                    &value,
                )?;
                Ok(Prepared {
                    flow: state.flow,
                    work,
                })
            },
            move |db, config, (result, violations)| {
                let state = db
                    .message_state(&uuid)?
                    .ok_or_else(|| Error::MessageNotFound { id: uuid.clone() })?;
                let status = finish_forming(db, config, &state, result, now)?;
                Ok((violations, status, claimed_for(&state, now), state.flow))
            },
        )
        .map(|(violations, status, took, flow)| {
            let mut observed = vec![Observation::Formed {
                flow: flow.clone(),
                status,
                took,
            }];
            if !violations.is_empty() {
                observed.push(Observation::Invalid {
                    flow,
                    direction: Direction::Outgoing,
                });
            }
            self.observe(&observed);
            violations
        })
    }

    /// [`Engine::fail_forming`](crate::Engine::fail_forming).
    pub(crate) fn fail_forming(&self, id: &str, error: &str) -> Result<()> {
        self.report_forming(id, FormingResult::Failed(HandlerError::retry(error)))
    }

    /// [`Engine::cancel`](crate::Engine::cancel).
    pub(crate) fn cancel(&self, id: &str, reason: &str) -> Result<()> {
        self.report_forming(id, FormingResult::Cancelled(reason.to_owned()))
    }

    fn report_forming(&self, id: &str, result: FormingResult) -> Result<()> {
        let now = self.now();
        let id = id.to_owned();
        let (flow, status, took) = self.store.write(Commit::Durable, move |db| {
            let config = db.config()?;
            let state = db
                .message_state(&id)?
                .ok_or_else(|| Error::MessageNotFound { id: id.clone() })?;
            let status = finish_forming(db, &config, &state, result, now)?;
            Ok::<_, Error>((state.flow.clone(), status, claimed_for(&state, now)))
        })?;
        self.observe(&[Observation::Formed { flow, status, took }]);
        Ok(())
    }
}
