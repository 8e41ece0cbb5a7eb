//! The SQLite store: one file, every statement in `sql/` (one per file), the schema in
//! `migrations/`.
//!
//! ## Design
//!
//! * **One writer per process, with group commit** ([`writer`]). All writes of an engine go
//!   through one connection. A caller that finds the connection free runs its own
//!   transaction at once; callers that arrive while it is busy queue their work, and the next
//!   of them to get the connection commits everything queued in one transaction (each job in
//!   its own savepoint, so one failing job does not undo the others). Durable writes from many
//!   threads therefore share fsyncs, and nothing relies on `busy_timeout` inside a process.
//! * **Several processes on one file.** 1C runs several server processes; each opens its own
//!   engine. Transactions begin `IMMEDIATE`, so writers of different processes serialise on
//!   SQLite's lock (waiting up to the busy timeout), and every claim is a conditional
//!   `UPDATE … RETURNING` inside such a transaction: nothing is claimed twice.
//! * **Durability.** WAL journal. `synchronous=NORMAL` by default: a committed transaction
//!   survives a crash of the process, and may be lost on power failure or an OS crash.
//!   `FULL`: each durable commit is flushed to the disk first, so it survives power loss when
//!   the storage honours flushes. Claims and lease renewals never need the flush (a lost
//!   claim only means the work is done again), so they commit at `NORMAL` either way.
//! * **Readers** use a small pool of separate connections and never wait for the writer.
//! * **Named operations.** Each statement is a file in `sql/`, loaded with `include_str!` and
//!   prepared once per connection; [`Tx`] implements the store's operations with them, and
//!   the rest of the crate, calling those on a [`Db`](super::Db), never sees SQL. The schema
//!   comes from numbered files in `migrations/`, tracked by `PRAGMA user_version`.
//! * **Statements SQLite need not rebuild or re-plan.** A bound `LIMIT` is written
//!   `LIMIT ?n + 0`: SQLite plans a bare `LIMIT ?n` for the value bound, and so prepares the
//!   statement again, parse and plan, whenever that value changes (every claim). A status
//!   list of three values or more is written as comparisons, not `IN (…)`, in statements,
//!   `CHECK` constraints and index conditions: SQLite builds a temporary table for such an
//!   `IN` list each time a statement runs. Tests in `migrate.rs` hold both.
//! * **Configuration cache.** The configuration's version number sits in `meta`; every
//!   transaction compares it with the cached snapshot and reloads when another process (or
//!   this one) changed it, so a change is seen by the very next write everywhere.

mod error;
mod file;
mod migrate;
mod network;
#[cfg(test)]
mod plans;
#[cfg(feature = "receiver")]
mod space;
mod statements;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::sql::{Conn, Tx};
use super::{Commit, ConfigCache, Db, Durability, Result, StoreError, StoreOptions};
use crate::config::ConfigSnapshot;
use file::OpenedFile;
use writer::Writer;

pub(crate) use statements::{column, execute, query};

/// The SQLite file: its writer, its readers and its configuration cache.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    /// The file opened, to tell whether it is still the one at `path`.
    file: OpenedFile,
    options: StoreOptions,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    config: ConfigCache,
}

/// Most idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub(crate) fn open(path: &Path, options: StoreOptions) -> Result<Store> {
        if !options.allow_network_filesystem
            && let Some(filesystem) = network::network_filesystem(path)
        {
            return Err(StoreError::NetworkFilesystem {
                path: path.to_owned(),
                filesystem,
            });
        }
        file::create_private(path);
        let conn = open_connection(path, &options, Access::Create)?;
        let file = OpenedFile::note(path)?;
        migrate::migrate(&conn, path)?;
        let checkpoint = open_connection(path, &options, Access::Write)?;
        let store = Store {
            path: path.to_owned(),
            writer: Writer::new(conn, options.durability, checkpoint, file.clone()),
            file,
            readers: Mutex::new(Vec::new()),
            config: ConfigCache::new(options.secrets_key.clone()),
            options,
        };
        Ok(store)
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Checks that the file at the path is still the one this store opened.
    ///
    /// # Errors
    /// [`StoreError::Replaced`] when it was deleted or replaced.
    pub(crate) fn check_file(&self) -> Result<()> {
        self.file.check()
    }

    /// Runs `f` in a write transaction, committed together with whatever other threads
    /// queued meanwhile. An error from `f` rolls back only `f`'s own changes.
    pub(crate) fn write<R, E>(
        &self,
        commit: Commit,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E> + Send + 'static,
    ) -> std::result::Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writer.write(&self.config, commit, f)
    }

    /// Waits, up to `max`, for the checkpoints to catch up with the WAL (see
    /// `Writer::settle_wal`): what maintenance does between its transactions.
    pub(crate) fn settle_wal(&self, max: Duration) {
        self.writer.settle_wal(max);
    }

    /// The configuration snapshot as of the latest transaction (possibly a little stale).
    pub(crate) fn cached_config(&self) -> Arc<ConfigSnapshot> {
        self.config.get()
    }

    /// Runs `f` on a read connection: a consistent snapshot, never blocked by the writer.
    pub(crate) fn read<R, E>(
        &self,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E>
    where
        E: From<StoreError>,
    {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                // A new connection opens whatever file is at the path now.
                self.file.check()?;
                open_connection(&self.path, &self.options, Access::Read)?
            }
        };
        run_control(&conn, "BEGIN").map_err(|e| StoreError::sql(&self.path, "begin_read", e))?;
        let result = f(&Tx::new(Conn::Sqlite(&conn), &self.config, &self.path));
        let ended = run_control(&conn, "COMMIT");
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if ended.is_ok() && readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        result
    }
}

/// Runs a transaction-control statement (`BEGIN`, `COMMIT`, `SAVEPOINT`…), prepared once
/// per connection: they run several times per write.
fn run_control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// What a connection does with the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The writer's: creates the file when missing.
    Create,
    /// Writes an existing file (the checkpoint thread's).
    Write,
    /// Reads an existing file.
    Read,
}

/// Opens one connection with Integra's PRAGMAs.
fn open_connection(path: &Path, options: &StoreOptions, access: Access) -> Result<Connection> {
    let fail = |source| StoreError::open(path, source);
    let read_only = access == Access::Read;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if access == Access::Create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    // SQLite falls back to reading a file it may not write; Integra must write.
    if !read_only && conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
        return Err(StoreError::ReadOnly {
            path: path.to_owned(),
        });
    }
    conn.busy_timeout(options.busy_timeout).map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(128);
    if access == Access::Create {
        // A new file gives free pages back (see space.rs). SQLite takes this only before
        // the file's first page is written (switching to WAL writes it); on an existing
        // file it changes nothing.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(fail)?;
    }
    let journal: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(fail)?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(fail(rusqlite::Error::InvalidParameterName(format!(
            "the database cannot use WAL journaling (journal_mode is {journal})"
        ))));
    }
    if read_only {
        conn.pragma_update(None, "query_only", true).map_err(fail)?;
    } else {
        // The writer checkpoints on its own schedule (see writer.rs), off the commit path.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
    }
    Ok(conn)
}
