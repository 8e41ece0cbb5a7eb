//! Dispatch: claiming due work, doing it, and recording the outcome.
//!
//! Work comes in kinds (`kinds`, one file each behind one trait): forming (for flows with a
//! Rust former in this process), delivering (for subscribers this process has a transport
//! for), processing incoming messages (for flows with a Rust handler here), and, with the
//! receiver, the exchange's outbox and the received messages of channels with a Rust handler
//! here. This module knows only the trait. One cycle is always the same three steps,
//! whoever runs it:
//!
//! 1. **claim** a batch in one lazy write, kind by kind until it is full: each item's
//!    attempt is counted and a lease taken (deliveries whose payload equals the one last
//!    delivered to that subscriber for the same object end as Unchanged right here);
//! 2. **execute** each item outside any transaction: the former, the transport, the handler;
//! 3. **complete** the batch in one durable write: each outcome recorded by its kind, with
//!    its history.
//!
//! [`Engine::dispatch`](crate::Engine::dispatch) runs cycles in the caller's thread;
//! `background` runs them on a scheduler thread and a pool of workers. Both renew the leases
//! of every kind they hold, and both tell of work that waits for a Rust handler this process
//! lacks (`unhandled`).

mod background;
mod handlers;
mod health;
pub(crate) mod kinds;
pub(crate) mod oneshot;
mod rescuer;
mod unhandled;

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::{Duration, Instant};

use serde::Serialize;

pub(crate) use background::Dispatcher;
pub use background::DispatcherOptions;
pub(crate) use handlers::Handlers;
use kinds::{Done, Here, Step, Work};
pub(crate) use unhandled::Unhandled;

use crate::core::Core;
use crate::error::Result;
use crate::metrics::events::Observation;
use crate::store::Commit;
use crate::time::Timestamp;

/// What a dispatch did, by outcome, and what it found waiting that this process cannot do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DispatchReport {
    /// Messages formed and fanned out.
    pub formed: u64,
    /// Forming attempts that failed (retried, or Dead).
    pub forming_failed: u64,
    /// Messages their former cancelled.
    pub cancelled: u64,
    /// Deliveries the subscriber confirmed.
    pub sent: u64,
    /// Deliveries ended as Unchanged (same payload as last delivered).
    pub unchanged: u64,
    /// Delivery attempts that failed and will be retried.
    pub failed: u64,
    /// Deliveries that used up their attempts.
    pub dead: u64,
    /// Incoming messages their handler processed.
    pub processed: u64,
    /// Processing attempts that failed (retried, or Dead).
    pub processing_failed: u64,
    /// Exchange messages (and notices) the recipient stored.
    pub exchanged: u64,
    /// Received exchange messages their channel's handler handled.
    pub handled: u64,
    /// Handling attempts of received exchange messages that failed.
    pub handling_failed: u64,
    /// Outcomes not recorded because the work's lease had been taken back meanwhile.
    pub lost_leases: u64,
    /// Messages waiting to be formed, by flow, on flows whose former is a Rust handler
    /// (`"former": "handler"`) that this process has not registered ([`Engine::set_former`]):
    /// nothing here forms them. Not counted in [`DispatchReport::total`].
    ///
    /// [`Engine::set_former`]: crate::Engine::set_former
    pub waiting_for_former: BTreeMap<String, u64>,
    /// Incoming messages waiting to be processed, by flow, on flows whose processor is a
    /// Rust handler (`"processor": "handler"`) that this process has not registered
    /// ([`Engine::set_incoming_handler`]). Not counted in [`DispatchReport::total`].
    ///
    /// [`Engine::set_incoming_handler`]: crate::Engine::set_incoming_handler
    pub waiting_for_incoming_handler: BTreeMap<String, u64>,
}

impl DispatchReport {
    /// Items processed in all.
    pub fn total(&self) -> u64 {
        self.formed
            + self.forming_failed
            + self.cancelled
            + self.sent
            + self.unchanged
            + self.failed
            + self.dead
            + self.processed
            + self.processing_failed
            + self.exchanged
            + self.handled
            + self.handling_failed
            + self.lost_leases
    }
}

impl AddAssign for DispatchReport {
    fn add_assign(&mut self, o: Self) {
        self.formed += o.formed;
        self.forming_failed += o.forming_failed;
        self.cancelled += o.cancelled;
        self.sent += o.sent;
        self.unchanged += o.unchanged;
        self.failed += o.failed;
        self.dead += o.dead;
        self.processed += o.processed;
        self.processing_failed += o.processing_failed;
        self.exchanged += o.exchanged;
        self.handled += o.handled;
        self.handling_failed += o.handling_failed;
        self.lost_leases += o.lost_leases;
        self.waiting_for_former.extend(o.waiting_for_former);
        self.waiting_for_incoming_handler
            .extend(o.waiting_for_incoming_handler);
    }
}

/// A claimed piece of work and how long doing it took, once done.
pub(crate) struct WorkResult {
    outcome: Box<dyn Done>,
    took: Duration,
}

/// What recording a batch did: the report, and what to count once it committed.
#[derive(Default)]
pub(crate) struct Recorded {
    report: DispatchReport,
    observed: Vec<Observation>,
    /// What the batch says about the subscribers' health, written when it ends.
    health: health::HealthNotes,
}

/// A claimed batch: the work to do, and what the claim already finished (Unchanged).
#[derive(Default)]
pub(crate) struct Claimed {
    pub(crate) items: Vec<Box<dyn Work>>,
    pub(crate) report: DispatchReport,
    observed: Vec<Observation>,
    /// Rows claimed, whether as items or finished at claim.
    pub(crate) rows: usize,
}

impl Claimed {
    /// Adds claimed `items`, one row each; how many.
    fn take<W: Work + 'static>(&mut self, items: Vec<W>) -> usize {
        let n = items.len();
        self.items
            .extend(items.into_iter().map(|w| Box::new(w) as Box<dyn Work>));
        n
    }
}

impl Core {
    /// Claims up to `max` rows of due work, filling the room kind by kind.
    pub(crate) fn claim_work(&self, handlers: &Handlers, max: usize) -> Result<Claimed> {
        let step = self.step(handlers.here(), self.options.lease);
        let (mut claimed, left_open) = self.store.write(Commit::Lazy, move |db| {
            step.run_finishing(db, |at| {
                let mut claimed = Claimed::default();
                for kind in kinds::all() {
                    // A kind may overshoot its room (an exchange batch goes whole).
                    let room = max.saturating_sub(claimed.rows);
                    claimed.rows += kind.claim(at, room, &mut claimed)?;
                }
                Ok(claimed)
            })
        })?;
        crate::queue::delivery::left_open(self, left_open)?;
        self.observe(&std::mem::take(&mut claimed.observed));
        Ok(claimed)
    }

    /// Does one piece of work, outside any transaction, with this process's `handlers`.
    /// Never panics: a panicking former, transport or handler is a failed attempt.
    pub(crate) fn execute(&self, handlers: &Handlers, item: Box<dyn Work>) -> WorkResult {
        let started = Instant::now();
        let outcome = item.execute(self, handlers);
        WorkResult {
            outcome,
            took: started.elapsed(),
        }
    }

    /// Records the outcomes of a batch in one durable write.
    pub(crate) fn complete_work(&self, results: Vec<WorkResult>) -> Result<DispatchReport> {
        if results.is_empty() {
            return Ok(DispatchReport::default());
        }
        let step = self.step(Here::default(), Duration::ZERO);
        let (recorded, left_open) = self.store.write_records(Commit::Durable, move |db| {
            step.run_finishing(db, |at| {
                for WorkResult { outcome, .. } in &results {
                    outcome.ask(at)?;
                }
                let mut done = Recorded::default();
                for WorkResult { outcome, took } in results {
                    outcome.record(at, took, &mut done)?;
                }
                done.health.write(at.db, at.now)?;
                Ok(done)
            })
        })?;
        crate::queue::delivery::left_open(self, left_open)?;
        self.wake.announce();
        self.observe(&recorded.observed);
        Ok(recorded.report)
    }

    /// Extends the leases of all work this engine holds.
    pub(crate) fn renew_leases(&self) -> Result<()> {
        let step = self.step(Here::default(), self.options.lease);
        self.store.write(Commit::Lazy, move |db| {
            step.run(db, |at| {
                for kind in kinds::all() {
                    kind.renew(at)?;
                }
                Ok(())
            })
        })
    }

    /// When the next piece of work this engine (with `handlers`) can do falls due, if any is
    /// queued.
    pub(crate) fn next_due(&self, handlers: &Handlers) -> Result<Option<Timestamp>> {
        let step = self.step(handlers.here(), Duration::ZERO);
        self.store.read(|db| {
            step.run(db, |at| {
                let mut due = None;
                for kind in kinds::all() {
                    due = due.into_iter().chain(kind.next_due(at)?).min();
                }
                Ok(due)
            })
        })
    }

    /// A step of this engine's, with what this process can do (`here`), taking leases for
    /// `lease` from now.
    pub(crate) fn step(&self, here: Here, lease: Duration) -> Step {
        let now = self.now();
        Step {
            here,
            owner: self.owner.clone(),
            now,
            lease_until: now.plus(lease),
        }
    }
}
