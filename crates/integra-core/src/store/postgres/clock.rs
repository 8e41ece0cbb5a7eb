//! The database's clock. On PostgreSQL, the times Integra writes and compares (due times,
//! leases, retention) are the database's, so that servers whose clocks disagree judge a
//! lease alike: a server ten minutes ahead does not take leases that are still live. Each
//! process measures how far the engine's clock is from the database's (a round trip, halved)
//! when it first needs the time and again every [`CHECK_EVERY`], and corrects its times by
//! that.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::store::group_commit::lock;

/// How often the offset is measured again.
const CHECK_EVERY: Duration = Duration::from_secs(30);

/// An offset from the database's clock that is worth a line in the log.
const NOTABLE_MS: i64 = 1000;

/// The offset of the database's clock from the engine's, as last measured.
#[derive(Debug, Default)]
pub(super) struct DatabaseClock {
    offset_ms: AtomicI64,
    checked_at: Mutex<Option<Instant>>,
}

impl DatabaseClock {
    /// The offset in milliseconds, measured again with `measure` when it is due.
    pub(super) fn offset(&self, measure: impl FnOnce() -> Option<i64>) -> i64 {
        {
            let mut checked_at = lock(&self.checked_at);
            if checked_at.is_some_and(|at| at.elapsed() < CHECK_EVERY) {
                return self.offset_ms.load(Ordering::Relaxed);
            }
            // Marked before measuring: the other threads keep the last offset meanwhile.
            *checked_at = Some(Instant::now());
        }
        if let Some(offset) = measure() {
            let before = self.offset_ms.swap(offset, Ordering::Relaxed);
            if offset.abs() >= NOTABLE_MS && (offset - before).abs() >= NOTABLE_MS {
                log::warn!(
                    "this server's clock is {:.1} s {} the database's; Integra keeps the database's time",
                    offset.abs() as f64 / 1000.0,
                    if offset > 0 { "behind" } else { "ahead of" }
                );
            }
        }
        self.offset_ms.load(Ordering::Relaxed)
    }
}
