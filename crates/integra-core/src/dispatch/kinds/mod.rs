//! The kinds of work the dispatcher does, behind one trait: forming, delivery, incoming
//! processing, and (with the receiver) the exchange's outbox and inbox. One file per kind.
//!
//! A kind says how its work is claimed (inside the claim's write), done (outside any
//! transaction), recorded (inside the batch's durable write), when its next item falls due,
//! and how the lease of an item whose process died or stalled is taken back. Its leases are
//! renewed by the table they are on ([`Kind::leased`]), so a kind cannot be added without
//! renewal and take-back: the dispatcher, the one-shot [`Engine::dispatch`] and the rescuer
//! only ever iterate [`all`].
//!
//! [`Engine::dispatch`]: crate::Engine::dispatch

mod delivery;
#[cfg(feature = "receiver")]
mod exchange_inbox;
#[cfg(feature = "receiver")]
mod exchange_outbox;
mod forming;
mod incoming;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use super::{Claimed, Handlers, Recorded};
use crate::config::ConfigSnapshot;
use crate::core::Core;
use crate::error::Result;
use crate::queue::delivery::{Ending, Leaving, Moving, send_move};
use crate::store::{Db, Expired, Leased};
use crate::time::Timestamp;

/// The target of the kinds' log lines: the dispatcher's, whichever kind writes them (the
/// README shows it, and operators filter by it).
const LOG_TARGET: &str = "integra_core::dispatch";

/// The history note of a taken-back lease.
const LEASE_EXPIRED: &str = "lease expired: the process holding this work stopped or stalled";

/// Every kind of work, in the order a claim fills its room.
pub(crate) fn all() -> &'static [&'static dyn Kind] {
    &[
        &forming::Forming,
        &incoming::Incoming,
        &delivery::Delivery,
        #[cfg(feature = "receiver")]
        &exchange_inbox::ExchangeInbox,
        #[cfg(feature = "receiver")]
        &exchange_outbox::ExchangeOutbox,
    ]
}

/// What this process can do: the codes its Rust handlers are registered for.
#[derive(Debug, Default)]
pub(crate) struct Here {
    /// Flows with a Rust former.
    pub(crate) formers: Vec<String>,
    /// Incoming flows with a Rust handler.
    pub(crate) handlers: Vec<String>,
    /// Exchange channels with a Rust handler.
    #[cfg(feature = "receiver")]
    pub(crate) channels: Vec<String>,
}

/// Who takes a step over the kinds (claim, record, renew, look for due work, take back),
/// and when: made before the transaction and moved into it.
pub(crate) struct Step {
    pub(crate) here: Here,
    /// Who holds the leases taken, renewed and recorded.
    pub(crate) owner: String,
    pub(crate) now: Timestamp,
    /// Until when the leases taken or renewed last.
    pub(crate) lease_until: Timestamp,
}

impl Step {
    /// Runs `f` in transaction `db` with the configuration it reads.
    pub(crate) fn run<T>(
        &self,
        db: &Db<'_>,
        f: impl FnOnce(&Context<'_>) -> Result<T>,
    ) -> Result<T> {
        self.run_finishing(db, f).map(|(value, _)| value)
    }

    /// Runs `f` like [`Step::run`], a step that may finish deliveries: with the messages
    /// their final deliveries left open, to look at again once it committed
    /// ([`left_open`](crate::queue::delivery::left_open)).
    pub(crate) fn run_finishing<T>(
        &self,
        db: &Db<'_>,
        f: impl FnOnce(&Context<'_>) -> Result<T>,
    ) -> Result<(T, Vec<i64>)> {
        let config = db.config()?;
        let at = Context {
            db,
            config: &config,
            here: &self.here,
            owner: &self.owner,
            now: self.now,
            lease_until: self.lease_until,
            moving: RefCell::new(HashMap::new()),
            ending: RefCell::new(Ending::default()),
        };
        let value = f(&at)?;
        let mut left_open = Vec::new();
        at.ending.into_inner().end(db, self.now, &mut left_open)?;
        Ok((value, left_open))
    }
}

/// Where a step runs: its transaction, the configuration it read, and the step's own.
pub(crate) struct Context<'a> {
    pub(crate) db: &'a Db<'a>,
    pub(crate) config: &'a ConfigSnapshot,
    pub(crate) here: &'a Here,
    /// Who holds the leases taken, renewed and recorded.
    pub(crate) owner: &'a str,
    pub(crate) now: Timestamp,
    /// Until when the leases taken or renewed last.
    pub(crate) lease_until: Timestamp,
    /// Moves of deliveries out of InProgress sent ahead ([`Done::ask`]), by delivery id.
    moving: RefCell<HashMap<i64, Moving<'a>>>,
    /// The messages whose final deliveries the step finished, their ends sent ahead: read
    /// when the step is done, those left open returned by [`Step::run_finishing`].
    ending: RefCell<Ending<'a>>,
}

impl Context<'_> {
    /// Sends ahead the move of a delivery out of InProgress, for
    /// [`finish_delivery`](Self::finish_delivery) to read.
    pub(crate) fn ask_move(&self, leaving: &Leaving<'_>) -> Result<()> {
        let moving = send_move(self.db, leaving, self.now)?;
        self.moving.borrow_mut().insert(leaving.id, moving);
        Ok(())
    }

    /// Moves a delivery out of InProgress (its move sent ahead by
    /// [`ask_move`](Self::ask_move), or now), writes its history, and ends its message when
    /// this was its last pending delivery. False when the delivery was not InProgress
    /// under that lease.
    pub(crate) fn finish_delivery(&self, leaving: &Leaving<'_>) -> Result<bool> {
        let asked = self.moving.borrow_mut().remove(&leaving.id);
        let moving = match asked {
            Some(moving) => moving,
            None => send_move(self.db, leaving, self.now)?,
        };
        moving.finish(self.db, self.now, &mut self.ending.borrow_mut())
    }
}

/// One kind of work.
pub(crate) trait Kind: Sync {
    /// The table whose rows this kind claims, and so whose leases it renews and takes back.
    fn leased(&self) -> Leased;

    /// Claims up to `room` items due now that this process can do, into `claimed`; how many
    /// rows it claimed (a batch of a broker's deliveries is one item of several rows).
    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize>;

    /// When the next item this process can do falls due, if any is queued.
    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>>;

    /// Takes back one expired lease (its holder died or stalled past it): the item goes back
    /// to be retried by its retry policy, or ends on its last allowed attempt. False when the
    /// item had moved on meanwhile.
    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool>;

    /// Extends every lease of this kind that `at.owner` holds to `at.lease_until`.
    fn renew(&self, at: &Context<'_>) -> Result<usize> {
        Ok(at
            .db
            .renew_leases(self.leased(), at.owner, at.lease_until)?)
    }
}

/// A claimed item, done outside any transaction.
pub(crate) trait Work: Send {
    /// Does the work, with the Rust handlers registered in this process. Never panics: a panicking
    /// former, transport or handler is a failed attempt.
    fn execute(self: Box<Self>, core: &Core, handlers: &Handlers) -> Box<dyn Done>;
}

/// A done item's outcome, to be recorded with its batch.
pub(crate) trait Done: Send {
    /// Sends ahead what recording will ask the database, so that a batch's questions share
    /// one round trip (PostgreSQL); called for every outcome of the batch before any is
    /// recorded.
    fn ask(&self, _at: &Context<'_>) -> Result<()> {
        Ok(())
    }

    /// Records the outcome (the work took `took`) in the batch's durable write.
    fn record(self: Box<Self>, at: &Context<'_>, took: Duration, done: &mut Recorded)
    -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::all;
    use crate::store::Leased;

    /// Every table that holds leases is one kind's, so its claim, renewal and take-back
    /// exist (the store's own test checks that every claimable table is a [`Leased`]).
    #[test]
    fn every_leased_table_belongs_to_one_kind() {
        let mut kinds: Vec<&str> = all().iter().map(|k| k.leased().table()).collect();
        kinds.sort_unstable();
        let mut leased: Vec<&str> = Leased::ALL.iter().map(|l| l.table()).collect();
        leased.sort_unstable();
        assert_eq!(kinds, leased);
    }
}
