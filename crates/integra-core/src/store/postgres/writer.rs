//! A PostgreSQL writer: a write connection of the process (it has two: the dispatcher's
//! records go through one, every other write through the other), with group commit
//! ([`GroupCommit`]). A transaction's statements are pipelined (see
//! [`Session`]): a registration is two round trips. A lost connection is opened again for
//! the next batch (or for the batch whose first round trip found it lost); a batch that had
//! reached the server when the connection was lost failed with [`StoreError::Unavailable`],
//! its outcome unknown only if the loss came during `COMMIT`.

use super::session::Session;
use crate::store::group_commit::WriterConnection;
use crate::store::sql::{Conn, Tx};
use crate::store::{ConfigCache, StoreError};

/// The write connection.
pub(super) struct WriterSession {
    session: Session,
}

impl WriterSession {
    /// The writer on `session`.
    pub(super) fn new(session: Session) -> Self {
        WriterSession { session }
    }
}

impl WriterConnection for WriterSession {
    /// PostgreSQL slows every backend once a transaction holds more than 64
    /// subtransactions (one savepoint per job).
    const MAX_BATCH: usize = 64;

    /// Queues the `BEGIN`: it reaches the server with the first statement that waits for an
    /// answer, and a connection lost while idle is opened again for it.
    fn begin(&mut self, durable: bool) -> Result<(), StoreError> {
        // Claims and lease renewals lose nothing but repeated work if a crash takes them:
        // they need not wait for the WAL flush.
        self.session.begin(if durable {
            "BEGIN"
        } else {
            "BEGIN; SET LOCAL synchronous_commit TO OFF"
        })
    }

    /// Queued for the next round trip.
    fn control(&self, statement: &'static str, sql: &'static str) -> Result<(), StoreError> {
        self.session.queue(statement, sql);
        Ok(())
    }

    fn commit(&self) -> Result<(), StoreError> {
        self.session.control("commit", "COMMIT")
    }

    fn rollback(&self) -> Result<(), StoreError> {
        self.session.rollback()
    }

    fn tx<'a>(&'a self, config: &'a ConfigCache) -> Tx<'a> {
        Tx::new(Conn::Postgres(&self.session), config, self.session.shown())
    }

    fn in_transaction(&self) -> bool {
        self.session.in_transaction()
    }
}
