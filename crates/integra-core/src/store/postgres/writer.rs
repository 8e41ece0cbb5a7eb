//! The PostgreSQL writer: the one connection per process that every write goes through,
//! with group commit ([`GroupCommit`]). A lost connection is opened again before the next
//! batch; the batch that was in flight when it was lost failed with
//! [`StoreError::Unavailable`], its outcome unknown only if the loss came during `COMMIT`.

use super::session::Session;
use super::target::Target;
use crate::store::group_commit::WriterConnection;
use crate::store::sql::{Conn, Tx};
use crate::store::{ConfigCache, StoreError};

/// The write connection, and how to open it again.
pub(super) struct WriterSession {
    target: Target,
    session: Session,
    shard: u8,
}

impl WriterSession {
    /// The writer on `session`, counting its changes in `shard`.
    pub(super) fn new(target: Target, session: Session, shard: u8) -> Self {
        WriterSession {
            target,
            session,
            shard,
        }
    }
}

impl WriterConnection for WriterSession {
    /// PostgreSQL slows every backend once a transaction holds more than 64
    /// subtransactions (one savepoint per job).
    const MAX_BATCH: usize = 64;

    fn begin(&mut self, durable: bool) -> Result<(), StoreError> {
        if self.session.is_closed() {
            self.session = Session::connect(&self.target, self.shard)?;
        }
        // Claims and lease renewals lose nothing but repeated work if a crash takes them:
        // they need not wait for the WAL flush.
        let begin = if durable {
            "BEGIN"
        } else {
            "BEGIN; SET LOCAL synchronous_commit TO OFF"
        };
        match self.session.control("begin", begin) {
            // The connection was lost while idle (the server restarted, an administrator
            // ended it): nothing was sent yet, so a new one can begin in its place.
            Err(StoreError::Unavailable { .. }) => {
                self.session = Session::connect(&self.target, self.shard)?;
                self.session.control("begin", begin)
            }
            done => done,
        }
    }

    fn control(&self, statement: &'static str, sql: &str) -> Result<(), StoreError> {
        self.session.control(statement, sql)
    }

    fn tx<'a>(&'a self, config: &'a ConfigCache) -> Tx<'a> {
        Tx::new(Conn::Postgres(&self.session), config, &self.target.shown)
    }

    fn in_transaction(&self) -> bool {
        self.session.in_transaction()
    }
}
