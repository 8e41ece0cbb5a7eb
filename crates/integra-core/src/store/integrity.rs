//! The queries of the integrity check: SQLite's own checks of the file, and Integra's
//! invariants that a crash, a bug or a hand edit could break. Each returns what it found,
//! at most `max` findings; the check itself ([`crate::maintenance::integrity`]) describes
//! them.

use super::Result;

/// One thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// A line of the storage's own check other than `ok` (SQLite's `quick_check` /
    /// `integrity_check`).
    Storage(String),
    /// A row whose declared foreign key points nowhere.
    ForeignKey {
        table: String,
        rowid: Option<i64>,
        parent: String,
    },
    /// A delivery whose message is missing.
    OrphanDelivery {
        id: i64,
        message_id: i64,
        subscriber: String,
    },
    /// History rows of a message (or, `incoming`, an incoming message) that is missing.
    OrphanHistory {
        incoming: bool,
        record_id: i64,
        rows: u64,
    },
    /// A message whose status disagrees with its deliveries.
    MessageStatus {
        id: i64,
        uuid: String,
        status: String,
        deliveries: u64,
        pending: u64,
        dead: u64,
    },
    /// A maintained count that disagrees with the rows it counts.
    Count {
        kind: String,
        flow: String,
        subscriber: String,
        status: String,
        kept: i64,
        actual: i64,
    },
}

/// The integrity check: the storage's own check and the consistency of the queues. Each call
/// runs in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait IntegrityStore {
    /// The storage's own check (SQLite's of the file): the quick one, or (`full`) the one
    /// that also compares every index with its table. Empty when the file is sound. When it
    /// stops at damage it cannot read past, what it reported before is kept, and the stop is
    /// the last finding.
    fn check_storage(&self, full: bool, max: usize) -> Result<Vec<Finding>>;

    /// Rows whose declared foreign key points nowhere.
    fn check_foreign_keys(&self, max: usize) -> Result<Vec<Finding>>;

    /// Deliveries whose message is missing.
    fn check_orphan_deliveries(&self, max: usize) -> Result<Vec<Finding>>;

    /// History rows whose message or incoming message is missing.
    fn check_orphan_history(&self, max: usize) -> Result<Vec<Finding>>;

    /// Messages whose status disagrees with their deliveries.
    fn check_message_statuses(&self, max: usize) -> Result<Vec<Finding>>;

    /// Maintained counts that disagree with the rows they count.
    fn check_queue_counts(&self, max: usize) -> Result<Vec<Finding>>;
}
