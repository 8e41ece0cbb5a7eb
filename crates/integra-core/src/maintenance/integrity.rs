//! The integrity check: what is wrong with a database, if anything.
//!
//! First, the file at the database's path must still be the file the engine opened (not
//! deleted or replaced under it). Then two kinds of checks run, in one read transaction (a
//! snapshot: writers of this and other processes go on meanwhile, and nothing is locked;
//! only the WAL cannot be checkpointed past the snapshot until the check ends):
//!
//! * **SQLite's** check of the file: `PRAGMA quick_check` by default, `integrity_check` on
//!   request (it also compares every index with its table, and takes several times longer),
//!   and `foreign_key_check`.
//! * **Integra's invariants**, which a crash cannot break (every change is one transaction)
//!   but a bug, a hand edit or a damaged file can: every delivery's message exists; every
//!   message's status agrees with its deliveries; the counts kept by triggers
//!   (`queue_count`, read by `counts` and the metrics) equal the rows; every history row's
//!   message exists.
//!
//! Each check lists at most [`MAX_LISTED`] problems. A check that cannot run because the
//! file is damaged where it reads is itself a problem, and the other checks still run.

use std::time::Instant;

use serde::Serialize;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{Db, Finding, StoreError, StoreSpace};

/// Most problems each check lists.
pub const MAX_LISTED: usize = 100;

/// How thoroughly SQLite checks the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityMode {
    /// `PRAGMA quick_check`: pages, b-trees, NOT NULL and CHECK constraints.
    #[default]
    Quick,
    /// `PRAGMA integrity_check`: the quick check, and every index against its table.
    Full,
}

/// Which check found a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityCheck {
    /// The file at the database's path is the file the engine has open.
    File,
    /// SQLite's check of the file (`quick_check` or `integrity_check`).
    Sqlite,
    /// SQLite's `foreign_key_check`.
    ForeignKeys,
    /// Every delivery's message exists.
    Deliveries,
    /// Every message's status agrees with its deliveries.
    MessageStatus,
    /// The maintained counts by status equal the rows.
    Counts,
    /// Every history row's message exists.
    History,
}

/// One problem: which check found it, what is wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IntegrityProblem {
    /// The check that found it.
    pub check: IntegrityCheck,
    /// What is wrong.
    pub what: String,
    /// Where: a table and row, a message, a page; empty when the whole file.
    pub location: String,
}

/// What an integrity check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IntegrityReport {
    /// True when nothing is wrong.
    pub ok: bool,
    /// How thoroughly SQLite checked the file.
    pub mode: IntegrityMode,
    /// Every problem found, by check (at most [`MAX_LISTED`] per check).
    pub problems: Vec<IntegrityProblem>,
    /// The file's size and free space, as the check read them.
    pub space: StoreSpace,
    /// How long the check took, in milliseconds.
    pub elapsed_ms: u64,
}

/// One check: what it found (at most [`MAX_LISTED`]).
type Run = fn(&Db<'_>, IntegrityMode) -> Result<Vec<Finding>, StoreError>;

/// The checks, in the order they run.
const CHECKS: [(IntegrityCheck, Run); 6] = [
    (IntegrityCheck::Sqlite, |db, mode| {
        db.check_storage(mode == IntegrityMode::Full, MAX_LISTED)
    }),
    (IntegrityCheck::ForeignKeys, |db, _| {
        db.check_foreign_keys(MAX_LISTED)
    }),
    (IntegrityCheck::Deliveries, |db, _| {
        db.check_orphan_deliveries(MAX_LISTED)
    }),
    (IntegrityCheck::MessageStatus, |db, _| {
        db.check_message_statuses(MAX_LISTED)
    }),
    (IntegrityCheck::Counts, |db, _| {
        db.check_queue_counts(MAX_LISTED)
    }),
    (IntegrityCheck::History, |db, _| {
        db.check_orphan_history(MAX_LISTED)
    }),
];

/// A finding, described.
fn problem(check: IntegrityCheck, finding: Finding) -> IntegrityProblem {
    let (what, location) = match finding {
        Finding::Storage(line) => sqlite_line(&line),
        Finding::ForeignKey {
            table,
            rowid,
            parent,
        } => (
            format!("the row's foreign key points to no row of table {parent}"),
            match rowid {
                Some(rowid) => format!("table {table}, row {rowid}"),
                None => format!("table {table}"),
            },
        ),
        Finding::OrphanDelivery {
            id,
            message_id,
            subscriber,
        } => (
            format!(
                "the delivery to subscriber '{subscriber}' belongs to message row {message_id}, which does not exist"
            ),
            format!("table delivery, row {id}"),
        ),
        Finding::OrphanHistory {
            incoming,
            record_id,
            rows,
        } => {
            let (table, record) = if incoming {
                ("incoming_history", "incoming message")
            } else {
                ("message_history", "message")
            };
            (
                format!(
                    "{rows} history rows belong to {record} row {record_id}, which does not exist"
                ),
                format!("table {table}, {record} row {record_id}"),
            )
        }
        Finding::MessageStatus {
            id,
            uuid,
            status,
            deliveries,
            pending,
            dead,
        } => (
            format!(
                "the message is {status}, but of its {deliveries} deliveries {pending} are pending and {dead} dead"
            ),
            format!("message '{uuid}' (table message, row {id})"),
        ),
        Finding::Count {
            kind,
            flow,
            subscriber,
            status,
            kept,
            actual,
        } => (
            format!("{kept} counted, {actual} there"),
            if subscriber.is_empty() {
                format!("table queue_count: {kind} of flow '{flow}' in status {status}")
            } else {
                format!(
                    "table queue_count: {kind} of flow '{flow}' to subscriber '{subscriber}' in status {status}"
                )
            },
        ),
    };
    IntegrityProblem {
        check,
        what,
        location,
    }
}

/// A line of SQLite's check as (what, where): `Tree 4 page 4: btreeInitPage() returns
/// error code 11` is where (`Tree 4 page 4`) and what; a line without a location (`row 3
/// missing from index i`) is all what.
fn sqlite_line(line: &str) -> (String, String) {
    match line.split_once(": ") {
        Some((location, what))
            if location.starts_with("Tree ") || location.starts_with("Page ") =>
        {
            (what.to_owned(), location.to_owned())
        }
        _ => (line.to_owned(), String::new()),
    }
}

/// Checks the database in `mode` ([`Engine::check_integrity`]).
///
/// [`Engine::check_integrity`]: crate::Engine::check_integrity
pub(crate) fn check(core: &Core, mode: IntegrityMode) -> Result<IntegrityReport> {
    let started = Instant::now();
    let mut problems = Vec::new();
    if let Err(e) = core.store.check_file() {
        problems.push(IntegrityProblem {
            check: IntegrityCheck::File,
            what: e.to_string(),
            location: core.store.path().display().to_string(),
        });
    }
    let checked = core.store.read(|db| {
        let space = db.space()?;
        let mut problems = Vec::new();
        for (check, run) in CHECKS {
            match run(db, mode) {
                Ok(findings) => problems.extend(findings.into_iter().map(|f| problem(check, f))),
                Err(e @ StoreError::Corrupt { .. }) => problems.push(IntegrityProblem {
                    check,
                    what: format!("the check could not run: {e}"),
                    location: String::new(),
                }),
                Err(e) => return Err(Error::Store(e)),
            }
        }
        Ok::<_, Error>((space, problems))
    });
    let space = match checked {
        Ok((space, found)) => {
            problems.extend(found);
            space
        }
        // The read connections opened before the file was replaced still read it; a
        // new one is refused, which the problem above already says.
        Err(Error::Store(StoreError::Replaced { .. })) if !problems.is_empty() => {
            StoreSpace::default()
        }
        Err(e) => return Err(e),
    };
    Ok(IntegrityReport {
        ok: problems.is_empty(),
        mode,
        problems,
        space,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}
