//! The queries of the integrity check: SQLite's own checks of the file, and Integra's
//! invariants that a crash, a bug or a hand edit could break. Each returns what it found,
//! at most `max` findings; the check itself ([`crate::maintenance::integrity`]) describes
//! them.

use super::db::sql;
use super::{Counted, Db, Result};

/// One thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// A line of SQLite's `quick_check` / `integrity_check` other than `ok`.
    Sqlite(String),
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

impl Db<'_> {
    /// SQLite's check of the file: the quick one, or (`full`) the one that also compares
    /// every index with its table. Empty when the file is sound. When SQLite stops at
    /// damage it cannot read past, what it reported before is kept, and the stop is the last
    /// finding.
    pub(crate) fn check_sqlite(&self, full: bool, max: usize) -> Result<Vec<Finding>> {
        let statement = if full {
            sql!(check_sqlite_full)
        } else {
            sql!(check_sqlite_quick)
        };
        let (rows, stopped) = self.rows_until_error(statement, [max], |r| r.get::<_, String>(0))?;
        let mut findings: Vec<Finding> = rows
            .iter()
            .flat_map(|row| row.lines())
            .filter(|line| *line != "ok" && !line.starts_with("*** in database "))
            .map(|line| Finding::Sqlite(line.to_owned()))
            .collect();
        match stopped {
            None => {}
            Some(e) if findings.is_empty() => return Err(e),
            Some(e) => findings.push(Finding::Sqlite(format!("the check stopped here: {e}"))),
        }
        Ok(findings)
    }

    /// Rows whose declared foreign key points nowhere.
    pub(crate) fn check_foreign_keys(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_foreign_keys), [max], |r| {
            Ok(Finding::ForeignKey {
                table: r.get(0)?,
                rowid: r.get(1)?,
                parent: r.get(2)?,
            })
        })
    }

    /// Deliveries whose message is missing.
    pub(crate) fn check_orphan_deliveries(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_orphan_deliveries), [max], |r| {
            Ok(Finding::OrphanDelivery {
                id: r.get(0)?,
                message_id: r.get(1)?,
                subscriber: r.get(2)?,
            })
        })
    }

    /// History rows whose message or incoming message is missing.
    pub(crate) fn check_orphan_history(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_orphan_history), [max], |r| {
            Ok(Finding::OrphanHistory {
                incoming: r.get(0)?,
                record_id: r.get(1)?,
                rows: r.get(2)?,
            })
        })
    }

    /// Messages whose status disagrees with their deliveries.
    pub(crate) fn check_message_statuses(&self, max: usize) -> Result<Vec<Finding>> {
        self.rows(sql!(check_message_statuses), [max], |r| {
            Ok(Finding::MessageStatus {
                id: r.get(0)?,
                uuid: r.get(1)?,
                status: r.get(2)?,
                deliveries: r.get(3)?,
                pending: r.get(4)?,
                dead: r.get(5)?,
            })
        })
    }

    /// Maintained counts that disagree with the rows they count.
    pub(crate) fn check_queue_counts(&self, max: usize) -> Result<Vec<Finding>> {
        let [messages, deliveries, incoming] = Counted::ALL.map(Counted::kind);
        self.rows(
            sql!(check_queue_counts),
            rusqlite::params![messages, deliveries, incoming, max],
            |r| {
                Ok(Finding::Count {
                    kind: r.get(0)?,
                    flow: r.get(1)?,
                    subscriber: r.get(2)?,
                    status: r.get(3)?,
                    kept: r.get(4)?,
                    actual: r.get(5)?,
                })
            },
        )
    }
}
