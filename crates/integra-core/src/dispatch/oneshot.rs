//! [`Engine::dispatch`](crate::Engine::dispatch): dispatch cycles run in the caller's thread, until
//! nothing is due, `max` items are done or the timeout passes. This is what a 1C scheduled job
//! calls; several callers (threads, processes) may run it at once and never take the same work.

use std::time::{Duration, Instant};

use super::unhandled::{Unhandled, warn_unhandled};
use super::{DispatchReport, Handlers};
use crate::core::Core;
use crate::error::Result;

/// Items claimed per cycle: small, so the timeout is checked often and little work is held
/// by one caller.
const BATCH: usize = 16;

/// Runs dispatch cycles on `core` with this process's `handlers` until nothing is due, `max`
/// items are done or `timeout` passed ([`Engine::dispatch`]).
///
/// [`Engine::dispatch`]: crate::Engine::dispatch
pub(crate) fn run(
    core: &Core,
    handlers: &Handlers,
    max: usize,
    timeout: Duration,
) -> Result<DispatchReport> {
    core.rescue_expired()?;
    let started = Instant::now();
    let renew_every = core.options.lease / 3;
    let mut report = DispatchReport::default();
    while report.total() < max as u64 && started.elapsed() < timeout {
        let room = usize::try_from(max as u64 - report.total()).unwrap_or(BATCH);
        let claimed = core.claim_work(handlers, room.min(BATCH))?;
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
            results.push(core.execute(handlers, item));
        }
        report += core.complete_work(results)?;
    }
    let unhandled = core.unhandled(handlers)?;
    warn_unhandled(handlers, &unhandled);
    report.waiting_for_former = Unhandled::waiting(unhandled.forming);
    report.waiting_for_incoming_handler = Unhandled::waiting(unhandled.incoming);
    Ok(report)
}
