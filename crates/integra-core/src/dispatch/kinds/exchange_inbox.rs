//! The exchange's inbox: received messages of the channels with a Rust handler registered in
//! this process, per sender and channel in arrival order.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use super::{Claimed, Context, Done, Handlers, Kind, LEASE_EXPIRED, Work};
use crate::core::Core;
use crate::dispatch::Recorded;
use crate::error::Result;
use crate::exchange::ExchangeMessage;
use crate::retry::HandlerError;
use crate::status::InboxStatus;
use crate::store::{Expired, Leased};
use crate::time::Timestamp;

/// Handling received exchange messages.
pub(super) struct ExchangeInbox;

impl Kind for ExchangeInbox {
    fn leased(&self) -> Leased {
        Leased::ExchangeInbox
    }

    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize> {
        let channels = handled_here(at);
        if room == 0 || channels.is_empty() {
            return Ok(0);
        }
        let quarantine_after = at.config.config().exchange_settings().quarantine_after;
        let times = (at.lease_until, at.now);
        let which = (Some(channels.as_slice()), &[][..]);
        let messages =
            Core::claim_exchange_inbox(at.db, at.owner, times, which, room, quarantine_after)?;
        Ok(claimed.take(messages))
    }

    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>> {
        let channels = handled_here(at);
        if channels.is_empty() {
            return Ok(None);
        }
        Ok(at.db.next_inbox_due(&channels)?)
    }

    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool> {
        let retry = at.config.config().exchange_settings().handling_retry();
        let (to, next) = retry.status_after_failure(
            expired.attempts,
            at.now,
            None,
            InboxStatus::New,
            InboxStatus::Quarantined,
        );
        let outcome = (to, Some(LEASE_EXPIRED), next);
        Ok(at.db.finish_inbox(expired.id, outcome, None, at.now)?)
    }
}

/// The channels with a Rust handler in this process.
fn handled_here<'a>(at: &'a Context<'_>) -> Vec<&'a str> {
    at.here.channels.iter().map(String::as_str).collect()
}

impl Work for ExchangeMessage {
    fn execute(self: Box<Self>, _core: &Core, handlers: &Handlers) -> Box<dyn Done> {
        let outcome = match handlers.channels.get(&self.channel) {
            None => Err(HandlerError::retry(format!(
                "no Rust handler is registered for channel '{}' in this process",
                self.channel
            ))),
            Some(handler) => catch_unwind(AssertUnwindSafe(|| handler.handle(&self)))
                .unwrap_or_else(|_| {
                    Err(HandlerError::retry(format!(
                        "the handler of channel '{}' panicked",
                        self.channel
                    )))
                }),
        };
        Box::new(Handled {
            message: *self,
            outcome,
        })
    }
}

/// How handling one received message went.
struct Handled {
    message: ExchangeMessage,
    outcome: Result<(), HandlerError>,
}

impl Done for Handled {
    fn record(self: Box<Self>, at: &Context<'_>, _: Duration, done: &mut Recorded) -> Result<()> {
        let retry = at.config.config().exchange_settings().handling_retry();
        let failure = self.outcome.err();
        let how = (failure.as_ref(), Some(at.owner));
        match Core::finish_exchange_message(at.db, &self.message.id, how, &retry, at.now)? {
            Some(InboxStatus::Processed) => done.report.handled += 1,
            Some(_) => done.report.handling_failed += 1,
            None => done.report.lost_leases += 1,
        }
        Ok(())
    }
}
