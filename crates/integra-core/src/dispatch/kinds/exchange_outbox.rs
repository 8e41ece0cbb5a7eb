//! The exchange's outbox: messages and notices to other bases, a batch per recipient in
//! the order they were sent.

use std::time::Duration;

use super::{Claimed, Context, Done, Handlers, Kind, LEASE_EXPIRED, LOG_TARGET, Work};
use crate::core::Core;
use crate::dispatch::Recorded;
use crate::error::Result;
use crate::exchange::deliver::Claimed as Batch;
use crate::store::{Expired, Leased};
use crate::time::Timestamp;

/// Delivering exchange messages to other bases.
pub(super) struct ExchangeOutbox;

impl Kind for ExchangeOutbox {
    fn leased(&self) -> Leased {
        Leased::ExchangeOutbox
    }

    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize> {
        if room == 0 {
            return Ok(0);
        }
        let name = at.config.config().exchange_settings().name;
        let times = (at.lease_until, at.now);
        let batches = Core::claim_due_outbox(at.db, (at.owner, &name), times, room)?;
        let messages = batches.iter().map(Batch::messages).sum();
        claimed.take(batches);
        Ok(messages)
    }

    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>> {
        Ok(at.db.next_outbox_due(at.now)?)
    }

    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool> {
        let id = (expired.id, expired.attempts);
        Core::retry_outbox(at.db, id, None, LEASE_EXPIRED, at.now)
    }
}

impl Work for Batch {
    fn execute(self: Box<Self>, _: &Core, _: &Handlers) -> Box<dyn Done> {
        let outcome = std::panic::catch_unwind(|| Core::post_outbox(&self))
            .unwrap_or_else(|_| Err("delivering panicked".to_owned()));
        Box::new(Posted {
            batch: *self,
            outcome,
        })
    }
}

/// How delivering one batch went.
struct Posted {
    batch: Batch,
    outcome: Result<(), String>,
}

impl Done for Posted {
    fn record(self: Box<Self>, at: &Context<'_>, _: Duration, done: &mut Recorded) -> Result<()> {
        let Posted { batch, outcome } = *self;
        done.report.exchanged += Core::record_outbox(at.db, at.owner, &batch, &outcome, at.now)?;
        if let Err(e) = outcome {
            let endpoint = batch.recipient();
            log::debug!(target: LOG_TARGET, endpoint; "delivering to exchange endpoint {endpoint} failed: {e}");
        }
        Ok(())
    }
}
