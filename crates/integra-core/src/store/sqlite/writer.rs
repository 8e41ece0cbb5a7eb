//! The SQLite writer: the one connection per process that every write goes through (with
//! group commit), and the background checkpointer that keeps the WAL short off the commit
//! path.
//!
//! Checkpoints follow the WAL's length, which SQLite reports after every commit: once
//! [`CHECKPOINT_FRAMES`] more frames are in it, the checkpoint thread copies them into the
//! database while writes go on. Under a sustained stream of writes it never quite catches
//! up (frames arrive while it copies), and SQLite can only start the WAL over once
//! everything in it is copied; so when the WAL reaches [`RESTART_FRAMES`] the writer
//! copies the little that is left itself, between two transactions, once the thread's
//! latest checkpoint left at most [`FINISH_FRAMES`] (until then it keeps the thread
//! copying). When the checkpoint
//! thread is copying at that moment (its flush can take hundreds of milliseconds on a busy
//! disk), the writer tries again after each commit, and once the WAL reaches
//! [`MAX_WAL_FRAMES`] it waits for the thread to finish first: the disk is then the
//! bottleneck, and the WAL must not grow with the backlog. The WAL thus stays under a few
//! tens of megabytes and is rewritten in place (pages the system has cached) rather than
//! growing into new file blocks, which costs several times more per frame.
//!
//!
//! Group commit itself is [`GroupCommit`]'s; this is the SQLite connection it drives.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use rusqlite::Connection;

use super::file::OpenedFile;
use super::{Commit, ConfigCache, Conn, Db, Durability, StoreError, Tx, run_control};
use crate::store::group_commit::{GroupCommit, WriterConnection, lock};
#[cfg(feature = "receiver")]
use crate::store::space::SpaceWatch;

/// WAL frames (pages) between two requests to the checkpoint thread (SQLite's own
/// automatic checkpoints use the same).
const CHECKPOINT_FRAMES: u32 = 1000;
/// WAL frames at which the writer completes the checkpoint itself, so that the WAL starts
/// over (16 MB at 4 KB pages).
const RESTART_FRAMES: u32 = 4 * CHECKPOINT_FRAMES;
/// The most WAL frames left to copy for the writer to complete a checkpoint itself (below
/// [`MAX_WAL_FRAMES`]): more would hold the commit path up for the copy and its flush.
const FINISH_FRAMES: u32 = 64;
/// WAL frames at which the writer waits for a checkpoint in progress rather than let the
/// WAL grow further (32 MB at 4 KB pages).
const MAX_WAL_FRAMES: u32 = 2 * RESTART_FRAMES;

/// How often [`Writer::settle_wal`] looks at the checkpoint's progress.
const SETTLE_POLL: Duration = Duration::from_millis(5);

struct WriterConn {
    conn: Connection,
    /// The database file, named in errors.
    path: PathBuf,
    /// The file opened, checked before each transaction.
    file: OpenedFile,
    durability: Durability,
    synchronous_full: bool,
    /// Frames in the WAL after the latest commit (SQLite's WAL hook writes it).
    wal_frames: Arc<AtomicU32>,
    /// The WAL's length when the checkpoint thread was last asked to run.
    checkpoint_asked_at: u32,
    /// The WAL's length when the writer last completed a checkpoint itself.
    checkpoint_done_at: u32,
    checkpointer: Arc<Checkpointer>,
}

/// The single write connection of a store, with group commit.
pub(super) struct Writer {
    commit: GroupCommit<WriterConn>,
    /// Frames in the WAL after the latest commit (shared with the connection's WAL hook).
    wal_frames: Arc<AtomicU32>,
    checkpointer: Arc<Checkpointer>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    pub(super) fn new(
        mut conn: Connection,
        durability: Durability,
        checkpoint: Connection,
        file: OpenedFile,
    ) -> Self {
        let checkpointer = Arc::new(Checkpointer::start(checkpoint));
        let wal_frames = Arc::new(AtomicU32::new(0));
        let frames = Arc::clone(&wal_frames);
        let followed = checkpointer.requests.is_some()
            && conn
                .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
                    frames.store(u32::try_from(pages).unwrap_or(0), Ordering::Relaxed);
                    Ok(())
                }))
                .map_err(|e| log::warn!("cannot follow the WAL's length: {e}"))
                .is_ok();
        if !followed {
            // No checkpoint thread, or no way to know when it is needed: let SQLite
            // checkpoint on commit rather than grow the WAL.
            if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_FRAMES) {
                log::warn!("cannot re-enable automatic checkpoints: {e}");
            }
        }
        Writer {
            commit: GroupCommit::new(WriterConn {
                conn,
                path: file.path().to_owned(),
                file,
                durability,
                synchronous_full: false,
                wal_frames: Arc::clone(&wal_frames),
                checkpoint_asked_at: 0,
                checkpoint_done_at: 0,
                checkpointer: Arc::clone(&checkpointer),
            }),
            wal_frames,
            checkpointer,
        }
    }

    /// Whether the latest transaction failed for lack of space.
    #[cfg(feature = "receiver")]
    pub(super) fn space(&self) -> &SpaceWatch {
        self.commit.space()
    }

    /// Waits, up to `max`, while more than a checkpoint's worth of the WAL is not copied
    /// back, asking the checkpoint thread to copy it. Maintenance calls this between its
    /// transactions, so that it never grows the WAL faster than checkpoints empty it: were
    /// it to, the WAL would reach the length at which every commit waits for a checkpoint.
    pub(super) fn settle_wal(&self, max: Duration) {
        if self.checkpointer.requests.is_none() {
            return;
        }
        let deadline = Instant::now() + max;
        while self
            .checkpointer
            .uncopied(self.wal_frames.load(Ordering::Relaxed))
            >= CHECKPOINT_FRAMES
            && Instant::now() < deadline
        {
            self.checkpointer.request();
            std::thread::sleep(SETTLE_POLL);
            drop(self.checkpointer.wait_idle());
        }
    }

    pub(super) fn write<R, E>(
        &self,
        config: &ConfigCache,
        commit: Commit,
        f: impl FnOnce(&Db<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.commit.write(config, commit, f)
    }
}

impl WriterConn {
    /// Keeps the WAL short (see the module's docs).
    fn keep_wal_short(&mut self) {
        let checkpointer = Arc::clone(&self.checkpointer);
        let frames = self.wal_frames.load(Ordering::Relaxed);
        if frames < self.checkpoint_asked_at.max(self.checkpoint_done_at) {
            // The WAL started over.
            self.checkpoint_asked_at = 0;
            self.checkpoint_done_at = 0;
        }
        if frames >= RESTART_FRAMES && frames >= self.checkpoint_done_at + CHECKPOINT_FRAMES {
            if frames < MAX_WAL_FRAMES && checkpointer.uncopied(frames) > FINISH_FRAMES {
                // Copying that much (and flushing it) inside a commit would hold every
                // caller up: the thread copies it, and this is tried again after the next
                // commit.
                checkpointer.request();
                return;
            }
            // A reader of another process may keep the WAL from starting over; then this
            // is tried again only after as many frames more.
            let _thread_idle = (frames >= MAX_WAL_FRAMES).then(|| checkpointer.wait_idle());
            match self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    row.get::<_, i64>(0)
                }) {
                // Another checkpoint is copying (this process's thread, or another
                // process): try again after the next commit.
                Ok(busy) if busy != 0 => {}
                Ok(_) => self.checkpoint_done_at = frames,
                Err(e) => {
                    log::warn!("WAL checkpoint failed: {e}");
                    self.checkpoint_done_at = frames;
                }
            }
        } else if frames >= self.checkpoint_asked_at + CHECKPOINT_FRAMES {
            checkpointer.request();
            self.checkpoint_asked_at = frames;
        }
    }

    fn set_synchronous(&mut self, full: bool) -> Result<(), StoreError> {
        if full != self.synchronous_full {
            let mode = if full { "FULL" } else { "NORMAL" };
            self.conn
                .pragma_update(None, "synchronous", mode)
                .map_err(|e| StoreError::sql(&self.path, "set_synchronous", e))?;
            self.synchronous_full = full;
        }
        Ok(())
    }
}

impl WriterConnection for WriterConn {
    const MAX_BATCH: usize = 512;

    fn begin(&mut self, durable: bool) -> Result<(), StoreError> {
        let full = self.durability == Durability::Full && durable;
        self.file.check()?;
        self.set_synchronous(full)?;
        self.control("begin", "BEGIN IMMEDIATE")
    }

    fn control(&self, statement: &'static str, sql: &'static str) -> Result<(), StoreError> {
        run_control(&self.conn, sql).map_err(|e| StoreError::sql(&self.path, statement, e))
    }

    fn tx<'a>(&'a self, config: &'a ConfigCache) -> Tx<'a> {
        Tx::new(Conn::Sqlite(&self.conn), config, &self.path)
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn after_commit(&mut self) {
        self.keep_wal_short();
    }
}

/// A thread with its own connection that runs `PRAGMA wal_checkpoint(PASSIVE)` when asked,
/// so that copying the WAL back into the database never happens inside a commit.
struct Checkpointer {
    requests: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Held by the thread while it copies.
    copying: Arc<Mutex<()>>,
    /// The WAL's length and the frames copied back, as the thread's latest checkpoint
    /// found them.
    copied: Arc<Mutex<(u32, u32)>>,
}

impl Checkpointer {
    fn start(conn: Connection) -> Self {
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let copying = Arc::new(Mutex::new(()));
        let copied = Arc::new(Mutex::new((0, 0)));
        let (held, progress) = (Arc::clone(&copying), Arc::clone(&copied));
        let thread = std::thread::Builder::new()
            .name("integra-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    let _copying = lock(&held);
                    let frames = |r: &rusqlite::Row<'_>, i| {
                        r.get::<_, i64>(i).map(|n| u32::try_from(n).unwrap_or(0))
                    };
                    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((frames(r, 1)?, frames(r, 2)?))
                    }) {
                        Ok(done) => *lock(&progress) = done,
                        Err(e) => log::warn!("WAL checkpoint failed: {e}"),
                    }
                }
            });
        match thread {
            Ok(handle) => Checkpointer {
                requests: Some(tx),
                thread: Some(handle),
                copying,
                copied,
            },
            Err(e) => {
                log::warn!("cannot start the checkpoint thread: {e}");
                Checkpointer {
                    requests: None,
                    thread: None,
                    copying,
                    copied,
                }
            }
        }
    }

    /// WAL frames not yet copied back into the database when the WAL holds `frames`, as far
    /// as the thread's latest checkpoint tells.
    fn uncopied(&self, frames: u32) -> u32 {
        let (log, copied) = *lock(&self.copied);
        if frames < log {
            // The WAL started over since that checkpoint.
            frames
        } else {
            frames - copied.min(frames)
        }
    }

    /// Waits until the thread is not copying, and keeps it from starting until the guard
    /// is dropped.
    fn wait_idle(&self) -> MutexGuard<'_, ()> {
        lock(&self.copying)
    }

    fn request(&self) {
        if let Some(tx) = &self.requests {
            match tx.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => log::warn!("the checkpoint thread stopped"),
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}
