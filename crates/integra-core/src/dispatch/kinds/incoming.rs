//! Incoming processing: messages of incoming flows whose processor is a Rust handler
//! registered in this process.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use super::{Claimed, Context, Done, Handlers, Kind, LEASE_EXPIRED, Work};
use crate::config::{ConfigSnapshot, Direction, Processor};
use crate::core::Core;
use crate::dispatch::Recorded;
use crate::error::Result;
use crate::metrics::events::Observation;
use crate::queue::incoming::{IncomingItem, Processing, claim_incoming, record_processing};
use crate::retry::HandlerError;
use crate::status::IncomingStatus;
use crate::store::{Expired, IncomingRow, Leased};
use crate::time::Timestamp;

/// Processing incoming messages.
pub(super) struct Incoming;

impl Kind for Incoming {
    fn leased(&self) -> Leased {
        Leased::Incoming
    }

    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize> {
        let flows = flows_processed_here(at.config, &at.here.handlers);
        let rows = claim_incoming(at.db, at.owner, at.lease_until, at.now, &flows, room)?;
        Ok(claimed.take(rows))
    }

    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>> {
        let flows = flows_processed_here(at.config, &at.here.handlers);
        if flows.is_empty() {
            return Ok(None);
        }
        Ok(at.db.next_incoming_due(&flows)?)
    }

    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool> {
        let (to, next) = at
            .config
            .flow_retry(&expired.policy_of)
            .status_after_failure(
                expired.attempts,
                at.now,
                None,
                IncomingStatus::Error,
                IncomingStatus::Dead,
            );
        let (from, note) = (IncomingStatus::InProgress, Some(LEASE_EXPIRED));
        if !at
            .db
            .transition_incoming(expired.id, from, to, note, next, None, at.now)?
        {
            return Ok(false);
        }
        at.db
            .insert_incoming_history(expired.id, at.now, to, expired.attempts, note)?;
        Ok(true)
    }
}

impl Work for IncomingRow {
    fn execute(self: Box<Self>, _core: &Core, handlers: &Handlers) -> Box<dyn Done> {
        let outcome = match handlers.incoming.get(&self.flow) {
            None => Err(HandlerError::retry(format!(
                "no Rust handler is registered for flow '{}' in this process",
                self.flow
            ))),
            Some(handler) => {
                let item = IncomingItem::from_row((*self).clone());
                catch_unwind(AssertUnwindSafe(|| handler.process(&item))).unwrap_or_else(|_| {
                    let why = format!("the handler of flow '{}' panicked", self.flow);
                    Err(HandlerError::retry(why))
                })
            }
        };
        Box::new(Processed {
            row: *self,
            outcome,
        })
    }
}

/// How processing one incoming message ended.
struct Processed {
    row: IncomingRow,
    outcome: Result<(), HandlerError>,
}

impl Done for Processed {
    fn record(
        self: Box<Self>,
        at: &Context<'_>,
        took: Duration,
        done: &mut Recorded,
    ) -> Result<()> {
        let Processed { row, outcome } = *self;
        let processing = Processing {
            row: row.id,
            flow: &row.flow,
            attempts: row.attempts,
            owner: Some(at.owner),
        };
        let failure = outcome.err();
        match record_processing(at.db, at.config, &processing, failure.as_ref(), at.now)? {
            Some(status) => {
                if status == IncomingStatus::Processed {
                    done.report.processed += 1;
                } else {
                    done.report.processing_failed += 1;
                }
                done.observed.push(Observation::Processed {
                    flow: row.flow.clone(),
                    status,
                    took: Some(took),
                });
            }
            None => done.report.lost_leases += 1,
        }
        Ok(())
    }
}

/// The incoming flows whose messages this process handles: processor `handler`, with a
/// handler registered here.
fn flows_processed_here<'c>(config: &'c ConfigSnapshot, registered: &[String]) -> Vec<&'c str> {
    config
        .config()
        .flows
        .iter()
        .filter(|f| {
            f.direction == Direction::Incoming
                && f.processor == Processor::Handler
                && registered.contains(&f.code)
        })
        .map(|f| f.code.as_str())
        .collect()
}
