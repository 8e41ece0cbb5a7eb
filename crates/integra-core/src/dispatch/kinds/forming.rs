//! Forming: messages of pass-through flows (their source checked against the flow's schema)
//! and of flows whose former is a Rust handler registered in this process.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use serde_json::Value;

use super::{Claimed, Context, Done, Handlers, Kind, LEASE_EXPIRED, LOG_TARGET, Work};
use crate::config::{ConfigSnapshot, Direction, Former as FormerKind};
use crate::core::Core;
use crate::dispatch::Recorded;
use crate::error::{Error, Result};
use crate::metrics::events::Observation;
use crate::queue::forming::{
    FormOutcome, FormingItem, FormingResult, check_formed, claim_forming, finish_forming,
};
use crate::retry::HandlerError;
use crate::status::MessageStatus;
use crate::store::{ClaimedFormingRow, Expired, Leased};
use crate::time::Timestamp;

/// Forming messages.
pub(super) struct Forming;

impl Kind for Forming {
    fn leased(&self) -> Leased {
        Leased::Forming
    }

    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize> {
        let flows = flows_formed_here(at.config, &at.here.formers);
        let rows = claim_forming(at.db, at.owner, at.lease_until, at.now, &flows, room)?;
        Ok(claimed.take(rows))
    }

    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>> {
        let flows = flows_formed_here(at.config, &at.here.formers);
        if flows.is_empty() {
            return Ok(None);
        }
        Ok(at.db.next_forming_due(&flows)?)
    }

    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool> {
        let (to, next) = at
            .config
            .flow_retry(&expired.policy_of)
            .status_after_failure(
                expired.attempts,
                at.now,
                None,
                MessageStatus::FormingError,
                MessageStatus::Dead,
            );
        let note = Some(LEASE_EXPIRED);
        let from = MessageStatus::Forming;
        if !at
            .db
            .transition_message(expired.id, from, to, note, next, at.now)?
        {
            return Ok(false);
        }
        let status = to.as_str();
        at.db
            .insert_message_history(expired.id, None, at.now, status, expired.attempts, note)?;
        Ok(true)
    }
}

impl Work for ClaimedFormingRow {
    fn execute(self: Box<Self>, core: &Core, handlers: &Handlers) -> Box<dyn Done> {
        let config = core.store.cached_config();
        let (result, invalid) = match produce(handlers, &config, &self) {
            Ok((payload, value)) => {
                let has_key = self.object_key.is_some();
                let (flow, id) = (self.flow.as_str(), self.uuid.as_str());
                match check_formed(core, &config, flow, id, has_key, payload, &value) {
                    Ok((result, violations)) => (result, !violations.is_empty()),
                    Err(e) => (
                        FormingResult::Failed(HandlerError::retry(e.to_string())),
                        false,
                    ),
                }
            }
            Err(ended) => (ended, false),
        };
        Box::new(Formed {
            row: *self,
            result,
            invalid,
        })
    }
}

/// How forming one message ended; `invalid` when its payload broke the flow's schema.
struct Formed {
    row: ClaimedFormingRow,
    result: FormingResult,
    invalid: bool,
}

impl Done for Formed {
    fn record(
        self: Box<Self>,
        at: &Context<'_>,
        took: Duration,
        done: &mut Recorded,
    ) -> Result<()> {
        let Formed {
            row,
            result,
            invalid,
        } = *self;
        if invalid {
            done.observed.push(Observation::Invalid {
                flow: row.flow.clone(),
                direction: Direction::Outgoing,
            });
        }
        let Some(state) = at.db.message_state_by_id(row.id)? else {
            done.report.lost_leases += 1;
            return Ok(());
        };
        match finish_forming(at.db, at.config, &state, result, at.now) {
            Ok(status) => {
                match status {
                    MessageStatus::Cancelled => done.report.cancelled += 1,
                    MessageStatus::FormingError | MessageStatus::Dead => {
                        if status == MessageStatus::Dead {
                            let (flow, message) = (row.flow.as_str(), row.uuid.as_str());
                            log::warn!(
                                target: LOG_TARGET,
                                flow, message, attempt = row.attempts;
                                "forming is dead after {} attempts", row.attempts
                            );
                        }
                        done.report.forming_failed += 1;
                    }
                    _ => done.report.formed += 1,
                }
                done.observed.push(Observation::Formed {
                    flow: row.flow.clone(),
                    status,
                    took: Some(took),
                });
            }
            Err(Error::Store(e)) => return Err(Error::Store(e)),
            Err(e) => {
                log::warn!(target: LOG_TARGET, "forming of message {} was not recorded: {e}", row.uuid);
                done.report.lost_leases += 1;
            }
        }
        Ok(())
    }
}

/// The payload of a message claimed for forming, from its Rust former or (pass-through)
/// its source; or how forming ended without one.
fn produce(
    handlers: &Handlers,
    config: &ConfigSnapshot,
    row: &ClaimedFormingRow,
) -> Result<(String, Value), FormingResult> {
    if config
        .flow(&row.flow)
        .is_some_and(|f| f.former == FormerKind::None)
    {
        return serde_json::from_str(&row.source)
            .map(|value| (row.source.clone(), value))
            .map_err(|e| failed(format!("the source is not JSON: {e}")));
    }
    let Some(former) = handlers.formers.get(&row.flow) else {
        return Err(failed(format!(
            "no Rust former is registered for flow '{}' in this process",
            row.flow
        )));
    };
    let item = FormingItem::from_row(row.clone());
    match catch_unwind(AssertUnwindSafe(|| former.form(&item))) {
        Ok(FormOutcome::Payload(value)) => Ok((value.to_string(), value)),
        Ok(FormOutcome::Cancel(reason)) => Err(FormingResult::Cancelled(reason)),
        Ok(FormOutcome::Fail(error)) => Err(failed(error)),
        Ok(FormOutcome::Dead(reason)) => {
            Err(FormingResult::Failed(HandlerError::permanent(reason)))
        }
        Err(_) => Err(failed(format!(
            "the former of flow '{}' panicked",
            row.flow
        ))),
    }
}

/// A forming attempt that failed, to be retried.
fn failed(reason: String) -> FormingResult {
    FormingResult::Failed(HandlerError::Retry(reason))
}

/// The flows whose messages this process forms: pass-through flows (validating a source that
/// waits after a failed check or a re-drive) and flows with a Rust former registered here.
fn flows_formed_here<'c>(config: &'c ConfigSnapshot, registered: &[String]) -> Vec<&'c str> {
    config
        .config()
        .flows
        .iter()
        .filter(|f| {
            f.direction == Direction::Outgoing
                && match f.former {
                    FormerKind::None => true,
                    FormerKind::Handler => registered.contains(&f.code),
                    FormerKind::External => false,
                }
        })
        .map(|f| f.code.as_str())
        .collect()
}
