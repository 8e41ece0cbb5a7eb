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

use std::sync::{Mutex, PoisonError};
#[cfg(feature = "receiver")]
use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

use super::db::sql;
#[cfg(feature = "receiver")]
use super::{Commit, Store, StoreError};
use super::{Db, Result};

/// The database file's space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreSpace {
    /// The file's size, bytes (as of the latest commit, WAL included).
    pub file_bytes: u64,
    /// Free pages inside it, bytes: space removed records left, reused by new ones.
    pub free_bytes: u64,
    /// Whether free pages are given back to the file system (files created by this
    /// version); otherwise they stay in the file until it is compacted.
    pub gives_back: bool,
}

impl Db<'_> {
    /// The file's size and free space.
    pub(crate) fn space(&self) -> Result<StoreSpace> {
        self.row(sql!(select_space), [], |r| {
            Ok(StoreSpace {
                file_bytes: r.get(0)?,
                free_bytes: r.get(1)?,
                gives_back: r.get::<_, i64>(2)? == 2,
            })
        })
        .map(Option::unwrap_or_default)
    }

    /// Gives up to 64 KB of free pages back to the file system (a file created by this
    /// version): how many bytes, and the file's space afterwards.
    pub(crate) fn give_back_free_pages(&self) -> Result<(u64, StoreSpace)> {
        let before = self.space()?.free_bytes;
        // The pragma steps like a query (it works as its rows are read).
        self.rows(sql!(give_back_free_pages), [], |_| Ok(()))?;
        let after = self.space()?;
        Ok((before.saturating_sub(after.free_bytes), after))
    }
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
    fn recent(&self) -> Option<&'static str> {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .filter(|(at, _)| at.elapsed() < SPACE_RECHECK)
            .map(|(_, cause)| cause)
    }
}

#[cfg(feature = "receiver")]
impl Db<'_> {
    /// A write that changes nothing of the queues.
    fn probe_write(&self) -> Result<()> {
        self.execute(sql!(probe_write), [])?;
        Ok(())
    }
}

#[cfg(feature = "receiver")]
impl Store {
    /// Whether the database can be written: [`StoreError::Full`] while the latest write
    /// failed for lack of space (for [`SPACE_RECHECK`] after it, unless a write commits
    /// meanwhile); otherwise the outcome of a probe write.
    ///
    /// # Errors
    /// [`StoreError::Full`]; whatever the probe write fails with (read-only, busy).
    pub(crate) fn check_writable(&self) -> Result<()> {
        if let Some(cause) = self.writer.space().recent() {
            return Err(StoreError::Full {
                path: self.path.clone(),
                cause,
            });
        }
        self.write(Commit::Lazy, |db| db.probe_write())
    }
}
