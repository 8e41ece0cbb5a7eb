//! Cleanup: removes finished messages older than their flow's retention (sent and cancelled
//! after `retention.delivered`, dead and undelivered after the longer `retention.dead`),
//! with their deliveries and history, and processed / dead incoming messages likewise, and
//! sources' rejections after the flow's `retention.dead`, and the message exchange's
//! finished messages after `exchange.retention`. Messages of flows no longer configured get
//! the default retention. Afterwards it gives the freed space back to the file system
//! (`maintenance::space`).
//!
//! It never stalls the callers it serves, however much there is to remove:
//! * **Found by index.** Where to look comes from the counts the triggers keep (which flows
//!   hold records in which finished status), and each (flow, status) is one range of an
//!   index ordered by age: a cleanup reads what it removes and little else, and one with
//!   nothing to remove reads a few index pages.
//! * **Paced.** Each transaction removes as many records as take about a millisecond (the
//!   number follows the time the previous transactions took, between 8 and 500), so a caller that
//!   arrives meanwhile waits about that long; after each, cleanup rests as long as the transaction
//!   took, so writers always get the store at least half the time, and lets the checkpoints copy
//!   what it wrote out of the WAL (`maintenance::rest_after`).
//! * **One at a time per store.** Every transaction also renews the store's `cleanup`
//!   lease; a cleanup started while another runs, in this process or another one on the
//!   same store, returns at once with [`CleanupReport::busy`].

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::Retention;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::status::{IncomingStatus, MessageStatus};
use crate::store::{Commit, Db, Finished};
use crate::time::Timestamp;

/// How long one transaction of a cleanup should take.
const STEP: Duration = Duration::from_millis(1);
/// The fewest and most records one transaction removes, and the first transaction's.
const CHUNKS: (usize, usize, usize) = (8, 500, 64);
/// The named lease a running cleanup holds.
const LEASE_NAME: &str = "cleanup";
/// How long the lease outlives the latest transaction of a cleanup (whose process may
/// have died).
const LEASE: Duration = Duration::from_secs(60);

/// What a cleanup removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CleanupReport {
    /// Outgoing messages removed (with their deliveries and history).
    pub messages: u64,
    /// Incoming messages removed (with their history).
    pub incoming: u64,
    /// Rejections by sources removed.
    pub rejections: u64,
    /// Exchange messages sent and processed by their recipient, removed.
    pub exchange_sent: u64,
    /// Exchange messages received and handled (or quarantined), removed.
    pub exchange_received: u64,
    /// Free space given back to the file system, bytes.
    pub bytes_given_back: u64,
    /// Another cleanup was running on this store (in this process or another), so this one
    /// did nothing.
    pub busy: bool,
}

impl CleanupReport {
    /// Every record removed.
    pub fn total(&self) -> u64 {
        self.messages
            + self.incoming
            + self.rejections
            + self.exchange_sent
            + self.exchange_received
    }
}

/// One range of records a cleanup removes: which queue, flow and finished status, last
/// changed before when.
struct Expired {
    what: Finished,
    flow: String,
    status: String,
    before: Timestamp,
}

/// What a cleanup removes: the ranges of expired records, and every flow with rejections
/// with the time before which they go.
struct Expiry {
    ranges: Vec<Expired>,
    rejections: Vec<(String, Timestamp)>,
}

/// Why a cleanup stopped early.
enum Stop {
    /// Another cleanup holds the store's lease.
    Overtaken,
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

/// One cleanup run: the engine's core, the lease owner it runs as, how many records its
/// next transaction removes, and whether it has taken the store's cleanup lease.
struct Cleanup<'a> {
    core: &'a Core,
    owner: &'a str,
    chunk: Cell<usize>,
    leased: Cell<bool>,
}

impl Cleanup<'_> {
    fn run(&self, report: &mut CleanupReport) -> std::result::Result<(), Stop> {
        let now = self.core.now();
        let Expiry { ranges, rejections } = self.expiry(now)?;
        for range in ranges {
            let Expired {
                what,
                flow,
                status,
                before,
            } = range;
            let removed = self.drain(move |db, chunk| {
                let ids = db.expired_records(what, &flow, &status, before, chunk)?;
                Ok(match what {
                    Finished::Messages => db.delete_messages(&ids)?,
                    Finished::Incoming => db.delete_incoming(&ids)?,
                })
            })?;
            match what {
                Finished::Messages => report.messages += removed,
                Finished::Incoming => report.incoming += removed,
            }
        }
        for (flow, before) in rejections {
            report.rejections +=
                self.drain(move |db, chunk| Ok(db.delete_rejections(&flow, before, chunk)?))?;
        }
        self.cleanup_exchange(now, report)
    }

    /// Where expired records may be, read in one snapshot: every flow and finished status
    /// that holds records (by the kept counts) with its cutoff by the flow's retention; and
    /// every flow with rejections with the time before which they go (its dead retention).
    fn expiry(&self, now: Timestamp) -> Result<Expiry> {
        self.core.store.read(|db| {
            let config = db.config()?;
            let mut ranges = Vec::new();
            for what in [Finished::Messages, Finished::Incoming] {
                for (flow, status) in db.counted_statuses(what)? {
                    let retention = config.flow_retention(&flow);
                    if let Some(keep) = kept_for(what, &status, &retention) {
                        ranges.push(Expired {
                            what,
                            before: now.minus(keep),
                            flow,
                            status,
                        });
                    }
                }
            }
            let rejections = db
                .rejection_flows()?
                .into_iter()
                .map(|flow| {
                    let before = now.minus(config.flow_retention(&flow).dead);
                    (flow, before)
                })
                .collect();
            Ok(Expiry { ranges, rejections })
        })
    }

    /// Removes finished exchange messages past `exchange.retention`.
    fn cleanup_exchange(
        &self,
        now: Timestamp,
        report: &mut CleanupReport,
    ) -> std::result::Result<(), Stop> {
        use crate::status::InboxStatus;
        let retention = self.core.exchange_settings()?.retention;
        let sent_before = now.minus(retention.delivered);
        report.exchange_sent +=
            self.drain(move |db, chunk| Ok(db.delete_exchange_outbox_done(sent_before, chunk)?))?;
        for (status, keep) in [
            (InboxStatus::Processed, retention.delivered),
            (InboxStatus::Quarantined, retention.dead),
        ] {
            let before = now.minus(keep);
            report.exchange_received += self.drain(move |db, chunk| {
                Ok(db.delete_exchange_inbox_finished(status, before, chunk)?)
            })?;
        }
        Ok(())
    }

    /// Runs `step` (removing at most the given number of records, returning how many) in
    /// transactions of its own, each renewing the cleanup lease, resting after each, until a
    /// step removes fewer than it may: how many records in all. The number follows the time
    /// each step's work took (not the time it waited for the store), aiming at [`STEP`].
    fn drain(
        &self,
        step: impl Fn(&Db<'_>, usize) -> Result<usize> + Clone + Send + 'static,
    ) -> std::result::Result<u64, Stop> {
        let mut total = 0;
        loop {
            let now = self.core.now();
            let (owner, step, chunk) = (self.owner.to_owned(), step.clone(), self.chunk.get());
            let removed = self.core.store.write(Commit::Lazy, move |db| {
                let started = Instant::now();
                if !db.acquire_named_lease(LEASE_NAME, &owner, now.plus(LEASE), now)? {
                    return Ok(None);
                }
                let removed = step(db, chunk)?;
                Ok::<_, Error>(Some((removed, started.elapsed())))
            })?;
            let Some((removed, took)) = removed else {
                return Err(Stop::Overtaken);
            };
            self.leased.set(true);
            total += removed as u64;
            if removed < chunk {
                return Ok(total);
            }
            self.chunk.set(next_chunk(chunk, took));
            super::rest_after(&self.core.store, took);
        }
    }
}

/// The records the next transaction removes, after one of `chunk` records took `took`:
/// halfway to the number that would take [`STEP`], within [`CHUNKS`].
fn next_chunk(chunk: usize, took: Duration) -> usize {
    let fitting = chunk as f64 * STEP.as_secs_f64() / took.as_secs_f64().max(1e-6);
    let next = (chunk as f64 + fitting) / 2.0;
    (next as usize).clamp(CHUNKS.0, CHUNKS.1)
}

/// How long a record of `what` in `status` is kept under `retention`; `None` when the
/// status is not finished (cleanup leaves it alone).
fn kept_for(what: Finished, status: &str, retention: &Retention) -> Option<Duration> {
    match what {
        Finished::Messages => match status.parse::<MessageStatus>().ok()? {
            MessageStatus::Sent | MessageStatus::Cancelled => Some(retention.delivered),
            MessageStatus::Undelivered | MessageStatus::Dead => Some(retention.dead),
            _ => None,
        },
        Finished::Incoming => match status.parse::<IncomingStatus>().ok()? {
            IncomingStatus::Processed => Some(retention.delivered),
            IncomingStatus::Dead => Some(retention.dead),
            _ => None,
        },
    }
}

/// Removes what outlived its retention, in chunks, under the cleanup lease
/// ([`Engine::cleanup`]).
///
/// [`Engine::cleanup`]: crate::Engine::cleanup
pub(crate) fn cleanup(core: &Core) -> Result<CleanupReport> {
    let owner = format!("{}/cleanup/{}", core.owner, uuid::Uuid::new_v4());
    let mut report = CleanupReport::default();
    let cleanup = Cleanup {
        core,
        owner: &owner,
        chunk: Cell::new(CHUNKS.2),
        leased: Cell::new(false),
    };
    let removed = cleanup.run(&mut report);
    let released = if cleanup.leased.get() {
        core.store.write(Commit::Lazy, move |db| {
            Ok::<_, Error>(db.release_named_lease(LEASE_NAME, &owner)?)
        })
    } else {
        Ok(())
    };
    match removed {
        Ok(()) => {}
        Err(Stop::Overtaken) => report.busy = true,
        Err(Stop::Failed(e)) => return Err(e),
    }
    released?;
    if !report.busy {
        report.bytes_given_back = core.give_back_space()?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_grow_when_quick_and_shrink_when_slow_within_bounds() {
        assert_eq!(next_chunk(64, Duration::from_millis(1)), 64);
        assert_eq!(next_chunk(64, Duration::from_millis(4)), 40);
        assert!(next_chunk(64, Duration::from_micros(250)) > 64);
        assert_eq!(next_chunk(400, Duration::from_micros(10)), CHUNKS.1);
        assert_eq!(next_chunk(8, Duration::from_secs(1)), CHUNKS.0);
    }

    #[test]
    fn only_finished_statuses_are_kept_for_a_retention() {
        let r = Retention::default();
        assert_eq!(kept_for(Finished::Messages, "sent", &r), Some(r.delivered));
        assert_eq!(kept_for(Finished::Messages, "dead", &r), Some(r.dead));
        assert_eq!(kept_for(Finished::Messages, "ready", &r), None);
        assert_eq!(
            kept_for(Finished::Incoming, "processed", &r),
            Some(r.delivered)
        );
        assert_eq!(kept_for(Finished::Incoming, "error", &r), None);
    }
}
