//! The store: every byte Integra keeps, behind one interface the rest of the crate calls.
//!
//! A transaction of the store is a [`Db`]: any implementation of [`Transaction`], whose
//! operations are named by what they do (register, claim deliveries, record outcomes, …),
//! batched where the engine batches, and grouped by area, one file each with its row types
//! (`outgoing`, `incoming`, `exchange`, `maintenance`, …). No SQL, database type or error
//! of a backend appears in them. [`Store`] runs closures in a write transaction (with group
//! commit) or a read snapshot and hands them the `Db`.
//!
//! The implementation is SQLite's (`sqlite/`: its connections, writer, migrations and every
//! statement, one per file); a second one implements the same traits.

mod config;
mod counts;
#[cfg(feature = "receiver")]
mod exchange;
mod external_ids;
mod group_commit;
mod health;
mod incoming;
mod inspect;
mod integrity;
mod maintenance;
mod named_leases;
mod outgoing;
#[cfg(feature = "postgres")]
mod postgres;
mod schema_copies;
mod sources;
mod space;
mod sql;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::config::ConfigSnapshot;
use crate::secrets::SecretsKey;

pub(crate) use counts::{Counted, QueueCount};
#[cfg(feature = "receiver")]
pub(crate) use exchange::{
    EndpointRow, InboxRow, NewInbox, NewOutbox, OutboxListRow, OutboxRow, RecipientKind,
};
pub(crate) use health::HealthChange;
pub(crate) use incoming::{IncomingRow, NewIncoming};
pub(crate) use inspect::{IncomingFullRow, IncomingListQuery, ListQuery, MessageRow, RedriveQuery};
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
pub(crate) use sql::Later;

use config::ConfigStore;
use counts::CountStore;
use external_ids::ExternalIdStore;
use health::HealthStore;
use incoming::IncomingStore;
use inspect::InspectStore;
use integrity::IntegrityStore;
use maintenance::MaintenanceStore;
use named_leases::NamedLeaseStore;
use outgoing::OutgoingStore;
use schema_copies::SchemaCopyStore;
use sources::SourceStore;
use space::SpaceStore;

// The exchange's operations where the receiver is built; nothing where it is not.
#[cfg(feature = "receiver")]
use exchange::ExchangeStore as ExchangeOperations;

/// Without the receiver there is no exchange, and so no operation of it.
#[cfg(not(feature = "receiver"))]
pub(crate) trait ExchangeOperations {}

#[cfg(not(feature = "receiver"))]
impl<T: ?Sized> ExchangeOperations for T {}

/// Every operation of the store, in one transaction: what a [`Db`] offers.
pub(crate) trait Transaction:
    ConfigStore
    + CountStore
    + ExchangeOperations
    + ExternalIdStore
    + HealthStore
    + IncomingStore
    + InspectStore
    + IntegrityStore
    + MaintenanceStore
    + NamedLeaseStore
    + OutgoingStore
    + SchemaCopyStore
    + SourceStore
    + SpaceStore
{
}

impl<T> Transaction for T where
    T: ConfigStore
        + CountStore
        + ExchangeOperations
        + ExternalIdStore
        + HealthStore
        + IncomingStore
        + InspectStore
        + IntegrityStore
        + MaintenanceStore
        + NamedLeaseStore
        + OutgoingStore
        + SchemaCopyStore
        + SourceStore
        + SpaceStore
{
}

/// The store: the embedded SQLite file, or a PostgreSQL database that several servers share.
#[derive(Debug)]
#[cfg_attr(
    feature = "postgres",
    expect(
        clippy::large_enum_variant,
        reason = "one store per engine, held by its core for the engine's life"
    )
)]
pub(crate) enum Store {
    /// An SQLite file.
    Sqlite(sqlite::Store),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(postgres::Store),
}

/// Whether `database` is a PostgreSQL URL rather than a file's path.
pub(crate) fn is_postgres_url(database: &Path) -> bool {
    database
        .to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

impl Store {
    /// Opens the database: the PostgreSQL database a `postgres://` URL names, or else the
    /// SQLite file at `database` (created if needed); either is migrated.
    ///
    /// # Errors
    /// Whatever opening the one or the other fails with.
    pub(crate) fn open(database: &Path, options: StoreOptions) -> Result<Store> {
        if is_postgres_url(database) {
            #[cfg(feature = "postgres")]
            return postgres::Store::open(&database.to_string_lossy(), &options)
                .map(Store::Postgres);
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::Open {
                path: PathBuf::from("postgres://…"),
                source: "this build of Integra has no PostgreSQL store (cargo feature `postgres`)"
                    .into(),
            });
        }
        sqlite::Store::open(database, options).map(Store::Sqlite)
    }

    /// The database: the file's path, or the URL without its password.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Store::Sqlite(s) => s.path(),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.path(),
        }
    }

    /// Whether transactions of several writers run side by side (PostgreSQL), so that a
    /// rule about rows other transactions change needs a second look after commit. On
    /// SQLite one writer at a time commits.
    pub(crate) fn concurrent_writers(&self) -> bool {
        match self {
            Store::Sqlite(_) => false,
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => true,
        }
    }

    /// The SQLite file, when the database is one.
    pub(crate) fn file(&self) -> Option<&Path> {
        match self {
            Store::Sqlite(s) => Some(s.path()),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => None,
        }
    }

    /// Wakes this process (through `local`) when another one on the database announces new
    /// work, and returns where to ask for this process's new work to be announced: on
    /// PostgreSQL. The processes on one SQLite file find each other's work by polling.
    pub(crate) fn signal_other_processes(
        &self,
        local: crossbeam_channel::Sender<()>,
    ) -> Option<crossbeam_channel::Sender<()>> {
        match self {
            Store::Sqlite(_) => {
                drop(local);
                None
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => Some(s.signal_other_processes(local)),
        }
    }

    /// How far the database's clock is ahead of `clock`, in milliseconds: 0 on SQLite (one
    /// host, one clock) and for a simulated clock.
    #[cfg_attr(
        not(feature = "postgres"),
        expect(unused_variables, reason = "only PostgreSQL corrects the clock")
    )]
    pub(crate) fn clock_offset(&self, clock: &dyn crate::time::Clock) -> i64 {
        match self {
            Store::Sqlite(_) => 0,
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.clock_offset(clock),
        }
    }

    /// Checks that the database is still the one this store opened (the file at the path;
    /// a PostgreSQL database always is).
    ///
    /// # Errors
    /// [`StoreError::Replaced`] when the file was deleted or replaced.
    pub(crate) fn check_file(&self) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.check_file(),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => Ok(()),
        }
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
        match self {
            Store::Sqlite(s) => s.write(commit, f),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.write(commit, f),
        }
    }

    /// Runs `f`, the dispatcher's record of finished work, in a write transaction: where
    /// writers run side by side (PostgreSQL), on a connection of its own, so that callers'
    /// registrations do not wait behind records (nor records behind them); on SQLite, as
    /// [`Store::write`]. `f` must take no key locks (`Tx::serialize`): a batch of each
    /// connection holding one and waiting for the other's would deadlock.
    pub(crate) fn write_records<R, E>(
        &self,
        commit: Commit,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E> + Send + 'static,
    ) -> std::result::Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self {
            Store::Sqlite(s) => s.write(commit, f),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.write_records(commit, f),
        }
    }

    /// Runs `f` in a read transaction: one consistent snapshot, never blocked by writers.
    pub(crate) fn read<R, E>(
        &self,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E>
    where
        E: From<StoreError>,
    {
        match self {
            Store::Sqlite(s) => s.read(f),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.read(f),
        }
    }

    /// The configuration snapshot as of the latest transaction (possibly a little stale).
    pub(crate) fn cached_config(&self) -> Arc<ConfigSnapshot> {
        match self {
            Store::Sqlite(s) => s.cached_config(),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.cached_config(),
        }
    }

    /// What maintenance does between its transactions: on SQLite, waits (up to `max`) for
    /// the checkpoints to catch up with the WAL; PostgreSQL needs nothing of the kind.
    pub(crate) fn settle_wal(&self, max: Duration) {
        match self {
            Store::Sqlite(s) => s.settle_wal(max),
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => {}
        }
    }

    /// Whether the database can be written now.
    ///
    /// # Errors
    /// [`StoreError::Full`] while the latest write failed for lack of space; whatever a
    /// probe write fails with.
    #[cfg(feature = "receiver")]
    pub(crate) fn check_writable(&self) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.check_writable(),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.check_writable(),
        }
    }
}

/// The configuration snapshot shared by all connections of one store, and the key that
/// seals its secrets at rest.
#[derive(Debug, Default)]
pub(crate) struct ConfigCache {
    snapshot: RwLock<Arc<ConfigSnapshot>>,
    secrets_key: Option<SecretsKey>,
}

impl ConfigCache {
    /// An empty cache, for secrets sealed with `secrets_key`.
    fn new(secrets_key: Option<SecretsKey>) -> Self {
        ConfigCache {
            snapshot: RwLock::default(),
            secrets_key,
        }
    }

    /// The latest snapshot.
    fn get(&self) -> Arc<ConfigSnapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps `snapshot` as the latest.
    fn set(&self, snapshot: Arc<ConfigSnapshot>) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

/// A transaction of the store, whichever implementation runs it.
pub(crate) type Db<'a> = dyn Transaction + 'a;

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

/// What the database itself said when a statement or an open failed, whichever store
/// implementation it came from.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Failures of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or prepared.
    #[error("cannot open database '{path}': {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What the database said.
        source: BackendError,
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
        /// The statement's name (its file in `store/sqlite/sql/`).
        statement: &'static str,
        /// What the database said.
        source: BackendError,
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
    /// The database server cannot be reached, or the connection to it was lost. Retryable:
    /// the next call connects again. A write that failed this way during its commit may
    /// have been committed: registrations carry their id, so repeating one is safe.
    #[error("cannot reach database '{database}': {reason}")]
    Unavailable {
        /// The database (its URL without the password).
        database: PathBuf,
        /// What the client library said.
        reason: String,
    },
    /// The SQLite file is on a network filesystem, where SQLite's locks and shared memory do
    /// not reach across machines. Permanent: use the PostgreSQL store, or move the file to
    /// a local disk (or, when no other machine uses it, allow it explicitly).
    #[error(
        "database '{path}' is on a network filesystem ({filesystem}): SQLite's locks and shared memory do not work across machines, so processes on other servers would each see a queue of their own or damage the file; for a queue shared by several servers use the PostgreSQL store (a postgres:// URL as the database), or keep the file on a local disk; if no other machine uses this file, set allow_network_filesystem"
    )]
    NetworkFilesystem {
        /// The file.
        path: PathBuf,
        /// The file system's name (`NFS`, `fuse.sshfs`, …).
        filesystem: String,
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
            StoreError::Unavailable { database, reason } => StoreError::Unavailable {
                database: database.clone(),
                reason: reason.clone(),
            },
            other => StoreError::Commit {
                reason: other.to_string(),
            },
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Busy { .. } | StoreError::Commit { .. } | StoreError::Unavailable { .. }
        )
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
    /// Whether an SQLite file may be on a network filesystem.
    pub(crate) allow_network_filesystem: bool,
}
