//! The incoming queue: messages other systems sent here, stored once per (flow, sender's
//! message id) and processed by pullers with the same lease, retry and dead rules as the
//! outgoing side.
//!
//! A repeat of a stored (flow, message id) is acknowledged and not stored again, for as long
//! as the first one is kept (the flow's retention): that is the dedup window.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::register::new_message_id;
use crate::config::{ConfigSnapshot, Direction, Flow, Ordering, Processor};
use crate::core::{Core, Prepared};
use crate::error::{Error, Result};
use crate::ids::IncomingId;
use crate::limits::checks::{check_message, check_message_size};
use crate::limits::{MAX_MESSAGE_ID_CHARS, quoted};
use crate::metrics::events::{Observation, Received as Outcome};
use crate::queue::forming::check_lease;
use crate::retry::HandlerError;
use crate::status::IncomingStatus;
use crate::store::{Commit, Db, IncomingRow, NewIncoming};
use crate::time::Timestamp;

/// The byte-order mark 1C writes before a body by default; it is dropped.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// The header that carries an incoming message's ordering key, for flows ordered by key.
pub const ORDERING_KEY_HEADER: &str = "x-ordering-key";

/// What `accept` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Accepted {
    /// The stored message's id (the first one's, for a repeat).
    pub id: IncomingId,
    /// True when (flow, message id) was already stored: nothing new was stored.
    pub duplicate: bool,
}

/// An incoming message claimed for processing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IncomingItem {
    /// Its id in this queue (use it to ack or fail).
    pub id: IncomingId,
    /// The flow code.
    pub flow: String,
    /// The sender's message id (a UUID in its canonical spelling).
    pub message_id: String,
    /// The body as received: JSON text, or XML text.
    pub payload: String,
    /// The body's content type.
    pub content_type: String,
    /// The headers stored with it (names in lower case).
    pub headers: BTreeMap<String, String>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

impl IncomingItem {
    pub(crate) fn from_row(row: IncomingRow) -> Self {
        IncomingItem {
            headers: serde_json::from_str(&row.headers).unwrap_or_default(),
            id: row.uuid.into(),
            flow: row.flow,
            message_id: row.message_id,
            payload: row.payload,
            content_type: row.content_type,
            attempt: row.attempts,
        }
    }
}

/// How a body of this content type is stored: true for JSON (checked), false for XML
/// (stored as text).
fn is_json_content(content_type: &str) -> Result<bool> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(true)
    } else if essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml") {
        Ok(false)
    } else {
        Err(Error::InvalidArgument {
            name: "content type",
            reason: format!(
                "'{}' is not supported; send JSON or XML",
                quoted(content_type)
            ),
        })
    }
}

/// The flow `code`, if it accepts incoming messages.
fn incoming_flow<'c>(config: &'c ConfigSnapshot, code: &str) -> Result<&'c Flow> {
    super::active_flow_going(
        config.config(),
        code,
        Direction::Incoming,
        "accept incoming messages",
    )
}

/// True when `e` concerns the flow as a whole (unknown, inactive, outgoing) or the
/// database, rather than one message: such a message must not be rejected, only retried.
pub(crate) fn is_flow_level(e: &Error) -> bool {
    matches!(
        e,
        Error::UnknownFlow { .. }
            | Error::FlowInactive { .. }
            | Error::WrongDirection { .. }
            | Error::Store(_)
            | Error::Schema { .. }
    )
}

/// A message as a receiver or a source got it, before it is checked.
#[derive(Clone, Debug, Default)]
pub(crate) struct Received {
    /// The sender's message id, when it sent one.
    pub(crate) message_id: Option<String>,
    /// The id to use when neither the sender nor the body gives one (a Kafka record's
    /// topic, partition and offset, say); without it a fresh id is made.
    pub(crate) fallback_id: Option<String>,
    /// The body.
    pub(crate) payload: String,
    /// Its headers (any case; stored in lower case).
    pub(crate) headers: BTreeMap<String, String>,
}

/// A received message checked against its flow, ready to store.
#[derive(Clone, Debug)]
pub(crate) struct Checked {
    message_id: String,
    payload: String,
    content_type: String,
    headers: String,
    ordering_key: Option<String>,
}

/// A received message that cannot be stored.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// Its id, when it had one.
    pub(crate) message_id: Option<String>,
    /// The body as received.
    #[cfg_attr(
        not(feature = "network"),
        allow(dead_code, reason = "only sources keep it, and this build has none")
    )]
    pub(crate) payload: String,
    /// Why.
    pub(crate) error: Error,
}

/// A received message after its checks: ready to store, or refused.
pub(crate) type CheckOutcome = Result<Checked, Box<Refusal>>;

/// What storing one message of a batch did.
#[cfg_attr(
    not(feature = "network"),
    allow(
        dead_code,
        reason = "only sources store batches, and this build has none"
    )
)]
pub(crate) type StoreOutcome = Result<Accepted, Box<Refusal>>;

/// The value `locator` names in `value`: a JSON pointer (`/a/b`) or a top-level field name.
pub(crate) fn locate<'v>(value: &'v Value, locator: &str) -> Option<&'v Value> {
    if locator.starts_with('/') {
        value.pointer(locator)
    } else {
        value.get(locator)
    }
}

/// A message id from a located value: a non-empty string, or a number.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The spelling a sender's message id is stored in. A UUID in any spelling (upper case,
/// without dashes, in braces, as a `urn:uuid:` URN) becomes its canonical one, lower case
/// and hyphenated, so that one message has one id whichever way it was written; any other id
/// is the sender's own and is kept exactly as sent.
pub(crate) fn canonical_message_id(id: String) -> String {
    match uuid::Uuid::try_parse(&id) {
        Ok(uuid) => uuid.hyphenated().to_string(),
        Err(_) => id,
    }
}

fn check_message_id(message_id: &str) -> Result<()> {
    if message_id.is_empty()
        || message_id.chars().count() > MAX_MESSAGE_ID_CHARS
        || message_id.chars().any(char::is_control)
    {
        return Err(Error::InvalidArgument {
            name: "message id",
            reason: format!(
                "must be 1 to {MAX_MESSAGE_ID_CHARS} characters without control characters"
            ),
        });
    }
    Ok(())
}

impl Core {
    /// Checks a received message against flow `flow` as `config` has it: a usable message
    /// id (taken from the body at `id_locator` when the sender gave none, else generated), a
    /// supported content type (default JSON), a JSON body that parses (a leading byte-order
    /// mark, which 1C writes by default, is dropped) and keeps to the flow's schema, or a
    /// non-empty XML body for a flow without one.
    pub(crate) fn check_received(
        &self,
        config: &ConfigSnapshot,
        flow: &str,
        id_locator: Option<&str>,
        received: Received,
    ) -> CheckOutcome {
        let Received {
            message_id,
            fallback_id,
            mut payload,
            headers,
        } = received;
        let (message_id, fallback_id) = (
            message_id.map(canonical_message_id),
            fallback_id.map(canonical_message_id),
        );
        if payload.starts_with(BYTE_ORDER_MARK) {
            // In place: the body may be megabytes.
            payload.drain(..BYTE_ORDER_MARK.len_utf8());
        }
        let ids = (message_id.as_deref(), fallback_id.clone());
        match self.check_parts(config, flow, id_locator, ids, &payload, headers) {
            Ok((message_id, content_type, headers, ordering_key)) => Ok(Checked {
                message_id,
                payload,
                content_type,
                headers,
                ordering_key,
            }),
            Err(error) => Err(Box::new(Refusal {
                message_id: message_id.or(fallback_id),
                payload,
                error,
            })),
        }
    }

    /// [`Core::check_received`] without the moves: (message id, content type, headers JSON,
    /// ordering key).
    fn check_parts(
        &self,
        config: &ConfigSnapshot,
        flow: &str,
        id_locator: Option<&str>,
        (message_id, fallback_id): (Option<&str>, Option<String>),
        payload: &str,
        headers: BTreeMap<String, String>,
    ) -> Result<(String, String, String, Option<String>)> {
        let f = incoming_flow(config, flow)?;
        if let Some(id) = message_id {
            check_message_id(id)?;
        }
        let headers: BTreeMap<String, String> = headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let content_type = headers
            .get("content-type")
            .cloned()
            .unwrap_or_else(|| "application/json".to_owned());
        let what = || {
            let id = message_id.unwrap_or("without an id");
            format!("incoming message '{id}' for flow '{flow}'")
        };
        let mut message_id = message_id.map(str::to_owned);
        check_message_size(|| format!("the body of {}", what()), payload)?;
        let json = is_json_content(&content_type)?;
        let needs_tree = f.schema.is_some() || (message_id.is_none() && id_locator.is_some());
        if json && !needs_tree {
            // Only checked, never built: a parsed tree takes ten times the body's size or more.
            check_message(|| format!("the body of {}", what()), payload)?;
        } else if json {
            // Its size was checked above, for every content type.
            let value: Value = serde_json::from_str(payload)
                .map_err(|e| Error::invalid_json(format!("the body of {}", what()), &e))?;
            if message_id.is_none()
                && let Some(id) = id_locator.and_then(|l| locate(&value, l)).and_then(id_text)
            {
                check_message_id(&id)?;
                message_id = Some(canonical_message_id(id));
            }
            let violations = self.flow_violations(config, f, &value)?;
            if !violations.is_empty() {
                return Err(Error::Invalid {
                    what: what(),
                    violations,
                });
            }
        } else if payload.trim().is_empty() {
            return Err(Error::InvalidArgument {
                name: "body",
                reason: "is empty".into(),
            });
        } else if f.schema.is_some() {
            return Err(Error::InvalidArgument {
                name: "content type",
                reason: format!(
                    "flow '{flow}' validates JSON against a schema, so '{}' is not accepted",
                    quoted(&content_type)
                ),
            });
        }
        let ordering_key = match f.ordering {
            Ordering::ByKey => headers.get(ORDERING_KEY_HEADER).cloned(),
            Ordering::None => None,
        };
        let headers = serde_json::to_string(&headers).unwrap_or_else(|_| "{}".to_owned());
        Ok((
            message_id.or(fallback_id).unwrap_or_else(new_message_id),
            content_type,
            headers,
            ordering_key,
        ))
    }

    /// Checks and stores one received message, validating outside the write lock against
    /// the configuration the write sees. A message that fails its checks but whose id is
    /// stored already is a repeat: acknowledged, not stored again.
    pub(crate) fn accept_received(
        &self,
        flow: &str,
        id_locator: Option<&str>,
        received: Received,
    ) -> Result<Accepted> {
        let now = self.now();
        let code = flow.to_owned();
        let accepted = self.write_prepared(
            Commit::Durable,
            |config| {
                Ok(Prepared {
                    flow: flow.to_owned(),
                    work: self.check_received(config, flow, id_locator, received.clone()),
                })
            },
            move |db, config, checked| {
                incoming_flow(config, &code)?;
                match checked {
                    Ok(checked) => store_checked(db, &code, &checked, now),
                    Err(refusal) => repeat_of(db, &code, *refusal),
                }
            },
        );
        self.observe(&received_observations(flow, [accepted.as_ref()]));
        let accepted = accepted?;
        self.wake.notify();
        Ok(accepted)
    }

    /// Stores a batch a source received for `flow`: each checked message once, each refused
    /// one as a rejection of `source`. `also` runs first in the same transaction (moving an
    /// offset, saving poll state); when it returns false nothing is stored and the result is
    /// `None`. A refusal that concerns the flow as a whole fails the whole batch.
    #[cfg_attr(
        not(feature = "network"),
        allow(
            dead_code,
            reason = "only sources store batches, and this build has none"
        )
    )]
    pub(crate) fn store_batch(
        &self,
        flow: &str,
        source: &str,
        batch: Vec<CheckOutcome>,
        also: impl FnOnce(&Db<'_>) -> Result<bool> + Send + 'static,
    ) -> Result<Option<Vec<StoreOutcome>>> {
        let now = self.now();
        let (code, source) = (flow.to_owned(), source.to_owned());
        let mut batch = batch;
        let stored = self.store.write(Commit::Durable, move |db| {
            let config = db.config()?;
            incoming_flow(&config, &code)?;
            let flow_level = batch
                .iter()
                .position(|r| r.as_ref().is_err_and(|f| is_flow_level(&f.error)));
            if let Some(Err(refusal)) = flow_level.map(|i| batch.swap_remove(i)) {
                return Err(refusal.error);
            }
            if !also(db)? {
                return Ok(None);
            }
            let mut outcomes = Vec::with_capacity(batch.len());
            for item in batch {
                outcomes.push(match item {
                    Ok(checked) => Ok(store_checked(db, &code, &checked, now)?),
                    Err(refusal) => {
                        db.insert_rejection(
                            &code,
                            &source,
                            refusal.message_id.as_deref(),
                            &refusal.error.to_string(),
                            &refusal.payload,
                            now,
                        )?;
                        Err(refusal)
                    }
                });
            }
            Ok::<_, Error>(Some(outcomes))
        })?;
        if let Some(outcomes) = &stored {
            let outcomes = outcomes.iter().map(|o| o.as_ref().map_err(|r| &r.error));
            self.observe(&received_observations(flow, outcomes));
        }
        self.wake.notify();
        Ok(stored)
    }
}

/// The metrics of received messages: accepted, repeats, and refusals of a message (not of
/// the flow as a whole, or of the database), with schema violations counted apart.
fn received_observations<'a>(
    flow: &str,
    outcomes: impl IntoIterator<Item = std::result::Result<&'a Accepted, &'a Error>>,
) -> Vec<Observation> {
    let mut out = Vec::new();
    let received = |outcome| Observation::Received {
        flow: flow.to_owned(),
        outcome,
    };
    for outcome in outcomes {
        match outcome {
            Ok(a) if a.duplicate => out.push(received(Outcome::Duplicate)),
            Ok(_) => out.push(received(Outcome::Accepted)),
            Err(e) if is_flow_level(e) => {}
            Err(e) => {
                out.push(received(Outcome::Rejected));
                if matches!(e, Error::Invalid { .. }) {
                    out.push(Observation::Invalid {
                        flow: flow.to_owned(),
                        direction: Direction::Incoming,
                    });
                }
            }
        }
    }
    out
}

/// Stores a checked message unless (flow, message id) is stored already.
fn store_checked(db: &Db<'_>, flow: &str, m: &Checked, now: Timestamp) -> Result<Accepted> {
    let uuid = new_message_id();
    let inserted = db.insert_incoming(&NewIncoming {
        uuid: &uuid,
        flow,
        message_id: &m.message_id,
        payload: &m.payload,
        content_type: &m.content_type,
        headers: &m.headers,
        ordering_key: m.ordering_key.as_deref(),
        now,
    })?;
    match inserted {
        Some(row) => {
            db.insert_incoming_history(row, now, IncomingStatus::New, 0, None)?;
            Ok(Accepted {
                id: uuid.into(),
                duplicate: false,
            })
        }
        None => Ok(Accepted {
            id: db
                .incoming_uuid(flow, &m.message_id)?
                .unwrap_or_default()
                .into(),
            duplicate: true,
        }),
    }
}

/// A refused message whose id is stored already is a repeat of what we hold (its schema may
/// have tightened since, or the sender retransmits): acknowledged as a duplicate. Otherwise
/// the refusal's error.
fn repeat_of(db: &Db<'_>, flow: &str, refusal: Refusal) -> Result<Accepted> {
    if !is_flow_level(&refusal.error)
        && let Some(id) = &refusal.message_id
        && let Some(existing) = db.incoming_uuid(flow, id)?
    {
        return Ok(Accepted {
            id: existing.into(),
            duplicate: true,
        });
    }
    Err(refusal.error)
}

/// Processes one flow's incoming messages in the background dispatcher.
pub trait IncomingHandler: Send + Sync {
    /// Processes `item`; an error (or a panic) is a failed attempt, retried per the flow's
    /// policy, or Dead at once when it is [`HandlerError::Permanent`].
    ///
    /// # Errors
    /// Why processing failed, for the message's history.
    fn process(&self, item: &IncomingItem) -> Result<(), HandlerError>;
}

impl<F, E> IncomingHandler for F
where
    F: Fn(&IncomingItem) -> Result<(), E> + Send + Sync,
    E: Into<HandlerError>,
{
    fn process(&self, item: &IncomingItem) -> Result<(), HandlerError> {
        self(item).map_err(Into::into)
    }
}

impl std::fmt::Debug for dyn IncomingHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IncomingHandler")
    }
}

/// Claims due incoming messages of `flows` for `owner`, with a history row each.
pub(crate) fn claim_incoming(
    db: &Db<'_>,
    owner: &str,
    lease_until: Timestamp,
    now: Timestamp,
    flows: &[&str],
    max: usize,
) -> Result<Vec<IncomingRow>> {
    if flows.is_empty() || max == 0 {
        return Ok(Vec::new());
    }
    let rows = db.claim_incoming(owner, lease_until, now, flows, max)?;
    for r in &rows {
        db.insert_incoming_history(r.id, now, IncomingStatus::InProgress, r.attempts, None)?;
    }
    Ok(rows)
}

/// An incoming message whose processing ended.
pub(crate) struct Processing<'a> {
    pub(crate) row: i64,
    pub(crate) flow: &'a str,
    pub(crate) attempts: u32,
    /// The lease owner that must still hold it, when checked.
    pub(crate) owner: Option<&'a str>,
}

/// Records how processing ended: Processed without an error; with one, Error (retried per
/// the flow's policy) or Dead. `None` when the message was no longer being processed (or no
/// longer `owner`'s).
pub(crate) fn record_processing(
    db: &Db<'_>,
    config: &ConfigSnapshot,
    done: &Processing<'_>,
    failure: Option<&HandlerError>,
    now: Timestamp,
) -> Result<Option<IncomingStatus>> {
    let (to, next) = match failure {
        None => (IncomingStatus::Processed, None),
        Some(failure) => config.flow_retry(done.flow).status_after(
            failure,
            done.attempts,
            now,
            IncomingStatus::Error,
            IncomingStatus::Dead,
        ),
    };
    let error = failure.map(HandlerError::reason);
    let from = IncomingStatus::InProgress;
    if !db.transition_incoming(done.row, from, to, error, next, done.owner, now)? {
        return Ok(None);
    }
    db.insert_incoming_history(done.row, now, to, done.attempts, error)?;
    if to == IncomingStatus::Dead {
        let flow = done.flow;
        log::warn!(
            flow, row = done.row, attempt = done.attempts;
            "processing an incoming message is dead after {} attempts: {}",
            done.attempts,
            error.unwrap_or_default()
        );
    }
    Ok(Some(to))
}

impl Core {
    /// [`Engine::accept`](crate::Engine::accept).
    pub(crate) fn accept(
        &self,
        flow: &str,
        message_id: &str,
        payload: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<Accepted> {
        check_message_id(message_id)?;
        let received = Received {
            message_id: Some(message_id.to_owned()),
            payload: payload.to_owned(),
            headers: headers.clone(),
            ..Received::default()
        };
        self.accept_received(flow, None, received)
    }

    /// [`Engine::next_incoming`](crate::Engine::next_incoming).
    pub(crate) fn next_incoming(&self, max: usize, lease: Duration) -> Result<Vec<IncomingItem>> {
        check_lease(lease)?;
        self.rescue_expired()?;
        let pulled =
            |f: &Flow| f.direction == Direction::Incoming && f.processor == Processor::External;
        let rows = self.claim_pulled(max, lease, pulled, claim_incoming)?;
        Ok(rows.into_iter().map(IncomingItem::from_row).collect())
    }

    /// [`Engine::release_incoming`](crate::Engine::release_incoming).
    pub(crate) fn release_incoming(&self, ids: &[String]) -> Result<usize> {
        self.release_pulled(ids, |db, ids, owner, now| {
            db.release_incoming(ids, owner, now)
        })
    }

    /// [`Engine::ack_incoming`](crate::Engine::ack_incoming).
    pub(crate) fn ack_incoming(&self, id: &str) -> Result<()> {
        self.finish_incoming(id, None)
    }

    /// [`Engine::fail_incoming`](crate::Engine::fail_incoming).
    pub(crate) fn fail_incoming(&self, id: &str, error: &str) -> Result<()> {
        self.finish_incoming(id, Some(HandlerError::retry(error)))
    }

    fn finish_incoming(&self, id: &str, error: Option<HandlerError>) -> Result<()> {
        let now = self.now();
        let id = id.to_owned();
        let (flow, status, took) = self.store.write(Commit::Durable, move |db| {
            let state = db
                .incoming_state(&id)?
                .ok_or_else(|| Error::IncomingNotFound { id: id.clone() })?;
            let wrong = || Error::WrongStatus {
                what: "incoming message",
                id: id.clone(),
                status: state.status.to_string(),
                operation: if error.is_some() {
                    "failed"
                } else {
                    "acknowledged"
                },
            };
            if state.status != IncomingStatus::InProgress {
                return Err(wrong());
            }
            let config = db.config()?;
            let done = Processing {
                row: state.id,
                flow: &state.flow,
                attempts: state.attempts,
                owner: None,
            };
            match record_processing(db, &config, &done, error.as_ref(), now)? {
                // An external processor is timed from its claim, by the engine's clock.
                Some(status) => Ok((state.flow.clone(), status, now.since(state.updated_at))),
                None => Err(wrong()),
            }
        })?;
        self.observe(&[Observation::Processed {
            flow,
            status,
            took: Some(took),
        }]);
        Ok(())
    }
}
