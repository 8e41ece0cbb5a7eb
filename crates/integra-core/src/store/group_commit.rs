//! Group commit: every write of a process goes through one connection, and writes that
//! arrive while it is busy share the next transaction, whichever database it is.
//!
//! A caller queues its job, then takes the connection. If another caller committed the job
//! meanwhile (as part of its batch), the result is already there; otherwise this caller
//! becomes the leader: it takes every queued job, runs each in its own savepoint inside one
//! transaction, commits once, and hands each job its result. Uncontended writes thus cost
//! one transaction and no thread hand-off, and contended ones share a commit (and its flush)
//! instead of queueing behind each other's. A job that fails rolls back to its savepoint:
//! the others of the batch still commit.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::space::SpaceWatch;
use super::sql::Tx;
use super::{Commit, ConfigCache, Db, StoreError};

/// The write connection of one database, as group commit drives it.
pub(crate) trait WriterConnection: Send {
    /// Most jobs committed in one transaction.
    const MAX_BATCH: usize;

    /// Begins the transaction of a batch; `durable`: whether a job of it must be durable.
    fn begin(&mut self, durable: bool) -> Result<(), StoreError>;

    /// Runs a transaction-control statement (`SAVEPOINT job`, `RELEASE job`, …) named
    /// `statement`, or queues it for the next round trip (PostgreSQL).
    fn control(&self, statement: &'static str, sql: &'static str) -> Result<(), StoreError>;

    /// Commits the transaction, with whatever was queued for it.
    fn commit(&self) -> Result<(), StoreError> {
        self.control("commit", "COMMIT")
    }

    /// Rolls the transaction back.
    fn rollback(&self) -> Result<(), StoreError> {
        self.control("rollback", "ROLLBACK")
    }

    /// The connection inside the transaction, for the jobs.
    fn tx<'a>(&'a self, config: &'a ConfigCache) -> Tx<'a>;

    /// Whether a transaction is open (after a failed commit, say).
    fn in_transaction(&self) -> bool;

    /// What the connection does after each commit (SQLite's checkpoints).
    fn after_commit(&mut self) {}
}

/// Publishes a job's result once the commit outcome is known.
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// Runs a job inside the transaction: whether it succeeded, and how to publish its result.
type Run = Box<dyn FnOnce(&Db<'_>) -> (bool, Finish) + Send>;

/// A queued write: `run` executes it and returns whether it succeeded plus the closure that
/// publishes its result once the commit outcome is known; `abort` publishes an error when the
/// job could not run at all.
struct Job {
    commit: Commit,
    run: Run,
    abort: Box<dyn FnOnce(&StoreError) + Send>,
}

/// One write connection, and the jobs queued for it.
pub(crate) struct GroupCommit<C> {
    conn: Mutex<C>,
    pending: Mutex<Vec<Job>>,
    /// Whether the latest transaction failed for lack of space.
    space: SpaceWatch,
}

impl<C> std::fmt::Debug for GroupCommit<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C: WriterConnection> GroupCommit<C> {
    /// Group commit on `conn`.
    pub(crate) fn new(conn: C) -> Self {
        GroupCommit {
            conn: Mutex::new(conn),
            pending: Mutex::new(Vec::new()),
            space: SpaceWatch::default(),
        }
    }

    /// Whether the latest transaction failed for lack of space.
    #[cfg(feature = "receiver")]
    pub(crate) fn space(&self) -> &SpaceWatch {
        &self.space
    }

    /// Runs `f` in a write transaction, committed together with whatever other threads
    /// queued meanwhile. An error from `f` rolls back only `f`'s own changes.
    pub(crate) fn write<R, E>(
        &self,
        config: &ConfigCache,
        commit: Commit,
        f: impl FnOnce(&Db<'_>) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let slot: Arc<Mutex<Option<Result<R, E>>>> = Arc::new(Mutex::new(None));
        lock(&self.pending).push(make_job(commit, f, Arc::clone(&slot)));
        let mut conn = lock(&self.conn);
        loop {
            if let Some(result) = lock(&slot).take() {
                return result;
            }
            // Our job is still queued: a leader that took it would have published its result
            // before releasing the connection we now hold.
            let batch: Vec<Job> = {
                let mut pending = lock(&self.pending);
                let n = pending.len().min(C::MAX_BATCH);
                pending.drain(..n).collect()
            };
            if run_batch(&mut *conn, config, batch, &self.space) {
                conn.after_commit();
            }
        }
    }
}

/// Wraps `f` into a job whose result lands in `slot`.
fn make_job<R, E>(
    commit: Commit,
    f: impl FnOnce(&Db<'_>) -> Result<R, E> + Send + 'static,
    slot: Arc<Mutex<Option<Result<R, E>>>>,
) -> Job
where
    R: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let abort_slot = Arc::clone(&slot);
    Job {
        commit,
        run: Box::new(move |db| {
            // A panicking job must not take the connection (and every other caller) down:
            // it fails alone, its savepoint rolled back.
            let result = match catch_unwind(AssertUnwindSafe(|| f(db))) {
                Ok(r) => r,
                Err(panic) => Err(E::from(StoreError::Panicked {
                    what: panic_text(&*panic),
                })),
            };
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let result = match (commit_error, result) {
                    (Some(e), Ok(_)) => Err(E::from(e.for_job())),
                    (_, r) => r,
                };
                *lock(&slot) = Some(result);
            });
            (ok, finish)
        }),
        abort: Box::new(move |e| {
            *lock(&abort_slot) = Some(Err(E::from(e.for_job())));
        }),
    }
}

/// The message of a panic.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// Runs `jobs` in one transaction, recording in `space` whether it failed for lack of
/// space. Returns true when it committed.
fn run_batch<C: WriterConnection>(
    conn: &mut C,
    config: &ConfigCache,
    jobs: Vec<Job>,
    space: &SpaceWatch,
) -> bool {
    if jobs.is_empty() {
        return false;
    }
    let durable = jobs.iter().any(|j| j.commit == Commit::Durable);
    if let Err(e) = conn.begin(durable) {
        for job in jobs {
            (job.abort)(&e);
        }
        return false;
    }
    let conn = &*conn;
    // A single job needs no savepoint: its failure rolls the transaction back.
    let single = jobs.len() == 1;
    let mut finishes = Vec::with_capacity(jobs.len());
    let mut all_ok = true;
    let mut broken: Option<StoreError> = None;
    let db = conn.tx(config);
    for job in jobs {
        if let Some(e) = &broken {
            (job.abort)(e);
            continue;
        }
        if !single && let Err(e) = conn.control("savepoint", "SAVEPOINT job") {
            (job.abort)(&e);
            broken = Some(e);
            continue;
        }
        let (mut ok, finish) = (job.run)(&db);
        // What the job queued must have succeeded before its savepoint is released: a
        // statement of it that fails fails the job, not its neighbours.
        let settled = if single { Ok(()) } else { db.settle() };
        let failed = match settled {
            Err(e) if ok => {
                ok = false;
                Some(e)
            }
            _ => None,
        };
        finishes.push((finish, failed));
        all_ok &= ok;
        if !single {
            let undone = if ok {
                Ok(())
            } else {
                conn.control("savepoint_end", "ROLLBACK TO job")
            };
            if let Err(e) = undone.and_then(|()| conn.control("savepoint_end", "RELEASE job")) {
                broken = Some(e);
            }
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None if single && !all_ok => {
            // The only job failed: nothing to keep. Its own error is its result.
            if let Some(cause) = db.full() {
                space.record(Some(cause));
            }
            let _ = conn.rollback();
            for (finish, failed) in finishes {
                finish(failed.as_ref());
            }
            return false;
        }
        None => conn.commit(),
    };
    let full = match &outcome {
        Err(StoreError::Full { cause, .. }) => Some(*cause),
        _ => db.full(),
    };
    space.record(full);
    match outcome {
        Ok(()) => {
            for (finish, failed) in finishes {
                finish(failed.as_ref());
            }
            true
        }
        Err(e) => {
            if conn.in_transaction() {
                let _ = conn.rollback();
            }
            for (finish, _) in finishes {
                finish(Some(&e));
            }
            false
        }
    }
}
