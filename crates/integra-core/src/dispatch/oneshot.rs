//! [`Engine::dispatch`]: dispatch cycles run in the caller's thread, until nothing is due,
//! `max` items are done or the timeout passes. This is what a 1C scheduled job calls; several
//! callers (threads, processes) may run it at once and never take the same work.

use std::time::{Duration, Instant};

use super::DispatchReport;
use super::unhandled::Unhandled;
use crate::engine::Engine;
use crate::error::Result;

/// Items claimed per cycle: small, so the timeout is checked often and little work is held
/// by one caller.
const BATCH: usize = 16;

impl Engine {
    /// Forms and sends what is due, in this thread, and returns what happened.
    ///
    /// Stops when nothing more is due, after about `max` items, or once `timeout` has
    /// passed (it then finishes the items already claimed, each bounded by its transport's
    /// timeouts). Expired leases of dead processes are taken back first.
    ///
    /// Work this process cannot do is not waited for but named in the report: messages of
    /// flows whose Rust former or incoming handler is not registered here
    /// ([`DispatchReport::waiting_for_former`], a warning in the log as well).
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the database fails; outcomes of the batch in hand are
    /// then not recorded, and its leases expire so the work is retried.
    ///
    /// # Examples
    /// ```no_run
    /// use std::time::Duration;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let engine = Engine::open("integra.db", EngineOptions::default())?;
    /// // From your own loop or scheduler (a 1C scheduled job calls this):
    /// let report = engine.dispatch(1000, Duration::from_secs(60))?;
    /// println!("sent {}, failed {}, dead {}", report.sent, report.failed, report.dead);
    /// for (flow, waiting) in &report.waiting_for_former {
    ///     eprintln!("{waiting} message(s) of {flow} wait for a former this process lacks");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn dispatch(&self, max: usize, timeout: Duration) -> Result<DispatchReport> {
        let core = &self.core;
        core.rescue_expired()?;
        let started = Instant::now();
        let renew_every = core.options.lease / 3;
        let mut report = DispatchReport::default();
        while report.total() < max as u64 && started.elapsed() < timeout {
            let room = usize::try_from(max as u64 - report.total()).unwrap_or(BATCH);
            let claimed = core.claim_work(room.min(BATCH))?;
            let finished_in_claim = claimed.report.total();
            report += claimed.report;
            if claimed.items.is_empty() {
                if finished_in_claim == 0 {
                    break;
                }
                continue;
            }
            let mut renewed = Instant::now();
            let mut results = Vec::with_capacity(claimed.items.len());
            for item in claimed.items {
                if renewed.elapsed() >= renew_every {
                    core.renew_leases()?;
                    renewed = Instant::now();
                }
                results.push(core.execute(item));
            }
            report += core.complete_work(results)?;
        }
        let unhandled = core.unhandled()?;
        core.warn_unhandled(&unhandled);
        report.waiting_for_former = Unhandled::waiting(unhandled.forming);
        report.waiting_for_incoming_handler = Unhandled::waiting(unhandled.incoming);
        Ok(report)
    }
}
