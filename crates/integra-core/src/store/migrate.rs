//! Schema migrations: numbered SQL files applied in order, tracked by `PRAGMA user_version`.
//!
//! Migration text may hold `{{message_status}}`, `{{delivery_status}}`,
//! `{{incoming_status}}`, `{{outbox_status}}` and `{{inbox_status}}`; they are replaced by
//! the SQL lists of the status enums, so the `CHECK` constraints and the Rust enums come
//! from one list.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};
use crate::queue::status::{
    DeliveryStatus, InboxStatus, IncomingStatus, MessageStatus, OutboxStatus,
};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_initial", include_str!("migrations/001_initial.sql")),
    ("002_inbound", include_str!("migrations/002_inbound.sql")),
    (
        "003_queue_counts",
        include_str!("migrations/003_queue_counts.sql"),
    ),
    ("004_exchange", include_str!("migrations/004_exchange.sql")),
];

/// The schema version this build writes.
pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The migration's text with the status lists filled in.
fn expand(text: &str) -> String {
    text.replace("{{message_status}}", &MessageStatus::sql_list())
        .replace("{{delivery_status}}", &DeliveryStatus::sql_list())
        .replace("{{incoming_status}}", &IncomingStatus::sql_list())
        .replace("{{outbox_status}}", &OutboxStatus::sql_list())
        .replace("{{inbox_status}}", &InboxStatus::sql_list())
}

/// Brings the database up to [`CURRENT_VERSION`]. Safe when several processes open the same
/// new file at once: the version is read and the migrations applied in one `IMMEDIATE`
/// transaction.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let sql_err = |statement| move |e| StoreError::sql(statement, e);
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(sql_err("begin_migration"))?;
    let outcome = (|| {
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_err("read_user_version"))?;
        if found > CURRENT_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found,
                known: CURRENT_VERSION,
            });
        }
        let start = usize::try_from(found).unwrap_or(0);
        for (name, text) in &MIGRATIONS[start..] {
            conn.execute_batch(&expand(text))
                .map_err(|e| StoreError::Sql {
                    statement: name,
                    source: e,
                })?;
        }
        conn.pragma_update(None, "user_version", CURRENT_VERSION)
            .map_err(sql_err("write_user_version"))
    })();
    match outcome {
        Ok(()) => conn
            .execute_batch("COMMIT")
            .map_err(sql_err("commit_migration")),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        for (_, text) in MIGRATIONS {
            assert!(!expand(text).contains("{{"), "a placeholder is left");
        }
    }

    /// Every status literal in a statement names a variant of one of the status enums.
    #[test]
    fn statements_use_only_known_statuses() {
        let known: Vec<&str> = MessageStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(DeliveryStatus::ALL.iter().map(|s| s.as_str()))
            .chain(IncomingStatus::ALL.iter().map(|s| s.as_str()))
            .chain(OutboxStatus::ALL.iter().map(|s| s.as_str()))
            .chain(InboxStatus::ALL.iter().map(|s| s.as_str()))
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sql");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for (i, piece) in text.split('\'').enumerate() {
                let quoted = i % 2 == 1;
                let is_status_like = piece.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                if quoted && is_status_like && !piece.is_empty() && piece != "config_version" {
                    assert!(
                        known.contains(&piece),
                        "{}: '{piece}' is not a status",
                        entry.path().display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 20,
            "only {checked} literals found in {}",
            dir.display()
        );
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_files_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        migrate(&conn, &path).unwrap_or_else(|e| panic!("{e}"));
        migrate(&conn, &path).unwrap_or_else(|e| panic!("{e}"));
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap_or_else(|e| panic!("{e}"));
        let err = migrate(&conn, &path).map(|()| "migrated");
        assert!(
            matches!(err, Err(StoreError::TooNew { found, .. }) if found == CURRENT_VERSION + 1)
        );
    }
}
