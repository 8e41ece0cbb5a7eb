//! Space: how big the file is and how much of it is free pages, giving free pages back, and
//! room to write.
//!
//! Removing records leaves their pages free inside the file, for new records to reuse.
//! Files created by this version give them back to the file system on request
//! (`auto_vacuum = INCREMENTAL`, a step of at most 64 KB per transaction); older files keep
//! them until compacted (see the README).
//!
//! Room to write: whether the database can grow. A write that fails for lack of space (a
//! full disk, or the file at the process's size limit) is remembered until a write commits,
//! so that `/health` says so even when a small write would still fit in space the failed
//! one had taken; and a probe write, which changes nothing of the queues, tells whether a
//! write commits now. The receiver's `/health` asks.

use super::Result;
use serde::Serialize;
use std::sync::{Mutex, PoisonError};
#[cfg(feature = "receiver")]
use std::time::Duration;
use std::time::Instant;

/// The database file's space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StoreSpace {
    /// The file's size, bytes (as of the latest commit, WAL included).
    pub file_bytes: u64,
    /// Free pages inside it, bytes: space removed records left, reused by new ones.
    pub free_bytes: u64,
    /// Whether free pages are given back to the file system (files created by this
    /// version); otherwise they stay in the file until it is compacted.
    pub gives_back: bool,
}

/// How long a write that failed for lack of space is taken as the database's state before
/// a probe write is tried again; the receiver's `Retry-After` for a full disk.
#[cfg(feature = "receiver")]
pub(crate) const SPACE_RECHECK: Duration = Duration::from_secs(30);

/// The latest write that failed for lack of space (when, and why), until a write commits.
#[derive(Debug, Default)]
pub(super) struct SpaceWatch(Mutex<Option<(Instant, &'static str)>>);

impl SpaceWatch {
    /// Records the outcome of a transaction: `full` is the cause when one of its statements,
    /// or its commit, failed for lack of space.
    pub(super) fn record(&self, full: Option<&'static str>) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *state = full.map(|cause| (Instant::now(), cause));
    }

    /// Why the latest write failed for lack of space, when it did less than
    /// [`SPACE_RECHECK`] ago and nothing committed since.
    #[cfg(feature = "receiver")]
    pub(super) fn recent(&self) -> Option<&'static str> {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .filter(|(at, _)| at.elapsed() < SPACE_RECHECK)
            .map(|(_, cause)| cause)
    }
}

/// The space the store takes, and giving free space back. Each call runs in the transaction of the
/// [`Db`](super::Db) it is called on.
pub(crate) trait SpaceStore {
    /// The file's size and free space.
    fn space(&self) -> Result<StoreSpace>;

    /// Gives up to 64 KB of free pages back to the file system (a file created by this
    /// version): how many bytes, and the file's space afterwards.
    fn give_back_free_pages(&self) -> Result<(u64, StoreSpace)>;

    /// Writes (and so tests) the store without changing anything of the queues.
    #[cfg(feature = "receiver")]
    fn probe_write(&self) -> Result<()>;
}
