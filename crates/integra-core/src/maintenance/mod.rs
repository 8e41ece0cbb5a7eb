//! Background housekeeping: removing finished records past their retention ([`cleanup`]) and giving the space they took back
//! (`space`); and checking that the database is sound ([`integrity`]).
//!
//! All are idempotent and safe to run from several processes at once.

pub mod cleanup;
pub mod integrity;
mod space;

use std::time::Duration;

use crate::store::Store;

/// The least maintenance rests after each of its transactions.
const MIN_REST: Duration = Duration::from_millis(1);
/// The longest maintenance waits for the checkpoints to catch up with the WAL.
const MAX_SETTLE: Duration = Duration::from_secs(2);

/// What maintenance does after each of its transactions (whose work took `took`), so that
/// it never holds callers up: it rests as long (callers get the store at least half the
/// time), then waits for the checkpoints to copy what it wrote out of the WAL (so the WAL
/// never grows to where every commit waits for a checkpoint).
pub(crate) fn rest_after(store: &Store, took: Duration) {
    std::thread::sleep(took.max(MIN_REST));
    store.settle_wal(MAX_SETTLE);
}
