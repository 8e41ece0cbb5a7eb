//! The store: every byte Integra keeps lives here, in one SQLite file, and every SQL
//! statement lives in this folder.
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
//!   prepared once per connection; the rest of the crate calls named functions on [`Db`] and
//!   never sees SQL. The schema comes from numbered files in `migrations/`, tracked by
//!   `PRAGMA user_version`.
//! * **Statements SQLite need not rebuild or re-plan.** A bound `LIMIT` is written
//!   `LIMIT ?n + 0`: SQLite plans a bare `LIMIT ?n` for the value bound, and so prepares the
//!   statement again, parse and plan, whenever that value changes (every claim). A status
//!   list of three values or more is written as comparisons, not `IN (…)`, in statements,
//!   `CHECK` constraints and index conditions: SQLite builds a temporary table for such an
//!   `IN` list each time a statement runs. Tests in `migrate.rs` hold both.
//! * **Configuration cache.** The configuration's version number sits in `meta`; every
//!   transaction compares it with the cached snapshot and reloads when another process (or
//!   this one) changed it, so a change is seen by the very next write everywhere.

mod config;
mod counts;
mod db;
#[cfg(feature = "receiver")]
mod exchange;
mod external_ids;
mod file;
mod incoming;
mod inspect;
mod integrity;
mod maintenance;
mod migrate;
mod named_leases;
mod outgoing;
mod schema_copies;
mod sources;
mod space;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::config::ConfigSnapshot;
use crate::secrets::SecretsKey;

pub(crate) use counts::{Counted, QueueCount};
pub(crate) use db::Db;
#[cfg(feature = "receiver")]
pub(crate) use exchange::{
    EndpointRow, InboxRow, NewInbox, NewOutbox, OutboxListRow, OutboxRow, RecipientKind,
};
use file::OpenedFile;
pub(crate) use incoming::{IncomingRow, NewIncoming};
pub(crate) use inspect::{IncomingFullRow, ListQuery, MessageRow, RedriveQuery};
pub(crate) use integrity::Finding;
pub(crate) use maintenance::{Expired, Finished, Leased};
pub(crate) use outgoing::{
    ClaimedDeliveryRow, ClaimedFormingRow, MessageState, NewDelivery, NewMessage,
};
pub(crate) use schema_copies::SchemaCopy;
#[cfg(feature = "http")]
pub(crate) use sources::PollStateRow;
#[cfg(feature = "receiver")]
pub(crate) use space::SPACE_RECHECK;
pub use space::StoreSpace;
use writer::Writer;

/// How hard a commit tries to survive a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous=NORMAL`: survives a crash of the process; may lose the latest commits
    /// on power failure or an OS crash.
    #[default]
    Normal,
    /// `synchronous=FULL`: each durable commit is flushed to the disk before it returns.
    Full,
}

impl Durability {
    /// The setting's name in settings and errors: `normal`, `full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Normal => "normal",
            Durability::Full => "full",
        }
    }
}

/// Whether a write must honour the engine's durability, or may commit lazily because
/// losing it only means the work is done again (claims, lease renewals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Commit {
    Durable,
    Lazy,
}

/// Failures of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or prepared.
    #[error("cannot open database '{path}': {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a newer Integra.
    #[error(
        "database '{path}' has schema version {found}, newer than this build of Integra knows ({known})"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// Another process held the database lock longer than the busy timeout. Retryable.
    #[error("the database is locked by another process (statement '{statement}'); try again")]
    Busy {
        /// The statement that waited.
        statement: &'static str,
    },
    /// A statement failed.
    #[error("database statement '{statement}' failed: {source}")]
    Sql {
        /// The statement's name (its file in `store/sql/`).
        statement: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The transaction that carried this write could not be committed; nothing was written.
    #[error(
        "the transaction could not be committed, nothing was written: {e_reason}",
        e_reason = crate::limits::elided(.reason),
    )]
    Commit {
        /// Why.
        reason: String,
    },
    /// A stored configuration object could not be read back.
    #[error(
        "stored configuration object {kind} '{q_code}' is unreadable: {e_reason}",
        q_code = crate::limits::quoted(.code),
        e_reason = crate::limits::elided(.reason),
    )]
    StoredConfig {
        /// Object kind.
        kind: String,
        /// Object code.
        code: String,
        /// Why.
        reason: String,
    },
    /// A bug: code run inside a transaction panicked. The transaction part was rolled back.
    #[error(
        "internal error inside a database transaction: {e_what}",
        e_what = crate::limits::elided(.what),
    )]
    Panicked {
        /// The panic message.
        what: String,
    },
    /// The file cannot be written: its permissions, its directory's (SQLite creates the
    /// `-wal` and `-shm` files beside it) or a read-only mount. Integra writes at open (the
    /// schema's migrations), so this comes from `open`. Permanent until someone changes the
    /// permissions.
    #[error(
        "database '{path}' is read-only: Integra must write to it and create its -wal and -shm files beside it; give this process write access to the file and its directory"
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// The file could not grow: the disk is full, or the file reached the process's size
    /// limit (`RLIMIT_FSIZE`), which SQLite reports as a failed write. The transaction was
    /// rolled back whole: nothing of it was written. Not retryable by itself: space must be
    /// freed first.
    #[error(
        "database '{path}' is full: {cause}; the write was rolled back and nothing of it was kept"
    )]
    Full {
        /// The file.
        path: PathBuf,
        /// What SQLite reported, in words.
        cause: &'static str,
    },
    /// The file at the database's path is no longer the file this engine opened: it was
    /// deleted, or replaced (moved away, a backup restored over it). Writing on would keep
    /// acknowledged work only in a file no other process can reach, so every write is
    /// refused. Permanent: put the file back, or open the engine again on the new one.
    #[error(
        "database '{path}' {how} while this engine had it open; new work is refused, since it would be kept only in a file no other process can reach; put the file back, or open the engine again"
    )]
    Replaced {
        /// The file.
        path: PathBuf,
        /// What happened to it: `was deleted`, `was replaced by another file`.
        how: &'static str,
    },
    /// The database file could not be examined when it was opened.
    #[error("cannot examine database file '{path}': {source}")]
    Examine {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The stored secrets cannot be opened: no key, another key, damage.
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    /// The file is not an SQLite database, or it is damaged (a page or the header
    /// overwritten). [`crate::Engine::check_integrity`] lists the damage when the file still
    /// opens. Permanent: restore the file from a backup.
    #[error("database '{path}' is corrupt: {reason}; restore it from a backup")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
}

impl StoreError {
    /// The error of statement `statement` on the database at `path`: a fault of the file
    /// itself (read-only, full, corrupt) when it is one.
    pub(crate) fn sql(path: &Path, statement: &'static str, source: rusqlite::Error) -> Self {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return StoreError::Busy { statement };
        }
        StoreError::file_fault(path, source)
            .unwrap_or_else(|source| StoreError::Sql { statement, source })
    }

    /// The error of opening or preparing the database at `path`.
    fn open(path: &Path, source: rusqlite::Error) -> Self {
        StoreError::file_fault(path, source).unwrap_or_else(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })
    }

    /// The fault of the file that `source` reports, or `source` back when it is none.
    fn file_fault(path: &Path, source: rusqlite::Error) -> Result<Self, rusqlite::Error> {
        use rusqlite::ErrorCode;
        let Some(&rusqlite::ffi::Error {
            code,
            extended_code,
        }) = source.sqlite_error()
        else {
            return Err(source);
        };
        let path = path.to_owned();
        Ok(match code {
            ErrorCode::ReadOnly => StoreError::ReadOnly { path },
            ErrorCode::DiskFull => StoreError::Full {
                path,
                cause: "the disk has no space left",
            },
            ErrorCode::SystemIoFailure if extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE => {
                StoreError::Full {
                    path,
                    cause: "a write failed (disk I/O error): the disk is full, the file reached \
                            its size limit, or the device failed",
                }
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt {
                path,
                reason: source.to_string(),
            },
            _ => return Err(source),
        })
    }

    /// This error, as the result of each job of a transaction that failed with it: a fault
    /// of the file as itself, anything else as a failed commit.
    pub(crate) fn for_job(&self) -> Self {
        match self {
            StoreError::ReadOnly { path } => StoreError::ReadOnly { path: path.clone() },
            StoreError::Full { path, cause } => StoreError::Full {
                path: path.clone(),
                cause,
            },
            StoreError::Corrupt { path, reason } => StoreError::Corrupt {
                path: path.clone(),
                reason: reason.clone(),
            },
            StoreError::Replaced { path, how } => StoreError::Replaced {
                path: path.clone(),
                how,
            },
            other => StoreError::Commit {
                reason: other.to_string(),
            },
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Commit { .. })
    }
}

/// Result of store operations.
pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How the store opens its file.
#[derive(Clone, Debug)]
pub(crate) struct StoreOptions {
    pub(crate) durability: Durability,
    pub(crate) busy_timeout: Duration,
    /// The key secrets are sealed with at rest, if any ([`crate::secrets`]).
    pub(crate) secrets_key: Option<SecretsKey>,
}

/// The configuration snapshot shared by all connections of one store, and the key that
/// seals its secrets at rest.
#[derive(Debug, Default)]
pub(crate) struct ConfigCache {
    snapshot: RwLock<Arc<ConfigSnapshot>>,
    secrets_key: Option<SecretsKey>,
}

impl ConfigCache {
    fn get(&self) -> Arc<ConfigSnapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn set(&self, snapshot: Arc<ConfigSnapshot>) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

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
            config: ConfigCache {
                snapshot: RwLock::default(),
                secrets_key: options.secrets_key.clone(),
            },
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
        let result = f(&Db::new(&conn, &self.config, &self.path));
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
