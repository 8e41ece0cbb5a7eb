//! The PostgreSQL store: several processes on several servers share one queue in one
//! database. Every statement is in `sql/` (one per file, the same names as SQLite's), the
//! schema in `migrations/`.
//!
//! ## Design
//!
//! * **Connections.** Each engine keeps one writer connection, a few idle readers, and
//!   opens more readers when needed. A lost connection is opened again for the next
//!   transaction; the one in flight failed with [`StoreError::Unavailable`] (unless none of
//!   its statements had reached the server: then it starts over on the new connection).
//! * **Pipelining** ([`session`]): a transaction's statements whose answers nobody waits
//!   for go with the next one whose answer is needed, in one round trip; a registration is
//!   two, the record of a batch of deliveries four.
//! * **Two writers per process, each with group commit**, as on SQLite ([`GroupCommit`]),
//!   with at most 64 jobs (savepoints) per transaction: one for the dispatcher's records of
//!   finished work, one for everything else, so that a registration never waits behind a
//!   record. Transactions of different writers run side by side; every claim locks the rows
//!   it takes with `FOR UPDATE SKIP LOCKED`, so nothing is claimed twice and claimers never
//!   wait for each other.
//! * **Durability.** A durable write commits at the server's `synchronous_commit`; claims and
//!   lease renewals commit without waiting for the WAL flush.
//! * **Readers** run in `REPEATABLE READ READ ONLY` transactions: one consistent snapshot.
//! * **Wake-ups across processes** through `LISTEN`/`NOTIFY` ([`signals`]): work registered
//!   on one server wakes the dispatchers of the others at once.
//! * **Time** is the database's ([`clock`]): servers whose clocks disagree judge leases alike.
//! * **Counts** by status are kept by triggers in rows sharded by connection, so the writers
//!   of several processes do not queue on one row; readers add the shards up.

mod clock;
mod migrate;
mod session;
mod signals;
mod target;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::group_commit::GroupCommit;
use super::sql::{Conn, Tx};
use super::{Commit, ConfigCache, Db, Result, StoreError, StoreOptions};
use crate::config::ConfigSnapshot;
use crate::time::Clock;
use writer::WriterSession;

pub(crate) use session::{Session, column};

/// Most idle read connections kept open.
const MAX_IDLE_READERS: usize = 4;

/// Shards of the counts: each process's writer counts in one of them.
const SHARDS: u8 = 64;

/// A PostgreSQL database: its writer, its readers and its configuration cache.
#[derive(Debug)]
pub(crate) struct Store {
    target: target::Target,
    writer: GroupCommit<WriterSession>,
    /// The writer of the dispatcher's records ([`Store::write_records`]).
    records: GroupCommit<WriterSession>,
    readers: Mutex<Vec<Session>>,
    config: ConfigCache,
    clock: clock::DatabaseClock,
    /// Wake-ups to and from the other processes, once the engine asked for them.
    signals: OnceLock<signals::Signals>,
}

impl Store {
    /// Connects to the database at `url`, creating and migrating Integra's schema if needed.
    ///
    /// # Errors
    /// [`StoreError::Open`] for a bad URL; [`StoreError::Unavailable`] when the server
    /// cannot be reached; [`StoreError::TooNew`]; what a migration failed with.
    pub(crate) fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        let target = target::Target::parse(url)?;
        let mut client = target.connect()?;
        migrate::migrate(&mut client, &target)?;
        drop(client);
        // The two writers count in shards of their own (see the counts in `migrations/`).
        let shard = fastrand::u8(..SHARDS);
        let writer = Session::connect(&target, shard)?;
        let records = Session::connect(&target, (shard + 1) % SHARDS)?;
        Ok(Store {
            writer: GroupCommit::new(WriterSession::new(writer)),
            records: GroupCommit::new(WriterSession::new(records)),
            readers: Mutex::new(Vec::new()),
            config: ConfigCache::new(options.secrets_key.clone()),
            clock: clock::DatabaseClock::default(),
            signals: OnceLock::new(),
            target,
        })
    }

    /// The database's URL, without its password.
    pub(crate) fn path(&self) -> &Path {
        &self.target.shown
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

    /// Runs `f`, the dispatcher's record of finished work, as [`Store::write`] does, on the
    /// writer of records.
    pub(crate) fn write_records<R, E>(
        &self,
        commit: Commit,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E> + Send + 'static,
    ) -> std::result::Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.records.write(&self.config, commit, f)
    }

    /// The configuration snapshot as of the latest transaction (possibly a little stale).
    pub(crate) fn cached_config(&self) -> Arc<ConfigSnapshot> {
        self.config.get()
    }

    /// Runs `f` on a read connection, in one snapshot.
    pub(crate) fn read<R, E>(
        &self,
        f: impl FnOnce(&Db<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E>
    where
        E: From<StoreError>,
    {
        let session = self.reader("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let result = f(&Tx::new(
            Conn::Postgres(&session),
            &self.config,
            &self.target.shown,
        ));
        session.control("end_read", "COMMIT")?;
        self.keep_reader(session);
        result
    }

    /// A read connection with transaction `begin` queued: an idle one from the pool, or a
    /// new one. A pooled connection the server ended while it was idle is opened again when
    /// the transaction's first round trip finds it lost (nothing of it had reached the
    /// server yet).
    fn reader(&self, begin: &'static str) -> Result<Session> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let session = match pooled {
            Some(session) => session,
            None => Session::connect(&self.target, 0)?,
        };
        session.begin(begin)?;
        Ok(session)
    }

    /// Keeps `session` for the next reader, unless enough are kept.
    fn keep_reader(&self, session: Session) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(session);
        }
    }

    /// Wakes this process (through `local`) when another one announces new work, and
    /// returns where to ask for this process's new work to be announced to the others
    /// ([`signals`]).
    pub(crate) fn signal_other_processes(
        &self,
        local: crossbeam_channel::Sender<()>,
    ) -> crossbeam_channel::Sender<()> {
        self.signals
            .get_or_init(|| signals::Signals::start(&self.target, local))
            .announcer()
    }

    /// How far the database's clock is ahead of `clock`, in milliseconds (0 for a simulated
    /// clock): measured now and then ([`clock`]).
    pub(crate) fn clock_offset(&self, clock: &dyn Clock) -> i64 {
        if clock.is_simulated() {
            return 0;
        }
        self.clock.offset(|| {
            let measured = self.reader("BEGIN READ ONLY").and_then(|session| {
                let tx = Tx::new(Conn::Postgres(&session), &self.config, &self.target.shown);
                let before = clock.now().as_millis();
                let database = tx.database_time()?.as_millis();
                let after = clock.now().as_millis();
                session.control("end_read", "COMMIT")?;
                self.keep_reader(session);
                Ok(database - before / 2 - after / 2)
            });
            measured
                .map_err(|e| log::warn!("cannot read the database's clock: {e}"))
                .ok()
        })
    }

    /// Whether the database can be written: the outcome of a probe write.
    ///
    /// # Errors
    /// Whatever the probe write fails with.
    #[cfg(feature = "receiver")]
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.write(Commit::Lazy, |db| db.probe_write())
    }
}
