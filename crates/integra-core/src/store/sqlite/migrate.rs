//! Schema migrations: numbered SQL files applied in order, tracked by `PRAGMA user_version`.
//!
//! Their status lists are filled in by [`expand`]. They use `{{message_status:status}}`,
//! which becomes `(status = 'new' OR status = 'forming' OR …)`, rather than an `IN` list:
//! SQLite evaluates an `IN` list of three or more values by building a temporary table each
//! time a statement runs, which made every insert of a row build several; comparisons cost
//! nothing of the kind.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};
use crate::store::sql::expand;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_initial", include_str!("migrations/001_initial.sql")),
    ("002_inbound", include_str!("migrations/002_inbound.sql")),
    (
        "003_queue_counts",
        include_str!("migrations/003_queue_counts.sql"),
    ),
    ("004_exchange", include_str!("migrations/004_exchange.sql")),
    (
        "005_status_comparisons",
        include_str!("migrations/005_status_comparisons.sql"),
    ),
    (
        "006_finished_by_status",
        include_str!("migrations/006_finished_by_status.sql"),
    ),
    (
        "007_subscriber_health",
        include_str!("migrations/007_subscriber_health.sql"),
    ),
];

/// The schema version this build writes.
pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`CURRENT_VERSION`]. Safe when several processes open the same
/// new file at once: the version is read and the migrations applied in one `IMMEDIATE`
/// transaction.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let sql_err = |statement| move |e| StoreError::sql(path, statement, e);
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
            conn.execute_batch(&expand(text)).map_err(sql_err(name))?;
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
    use crate::status::{DeliveryStatus, InboxStatus, IncomingStatus, MessageStatus, OutboxStatus};

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
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sqlite/sql");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for (i, piece) in text.split('\'').enumerate() {
                let quoted = i % 2 == 1;
                let is_status_like = piece.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                let meta_key = ["config_version", "write_probe"].contains(&piece);
                if quoted && is_status_like && !piece.is_empty() && !meta_key {
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

    /// The statements that run for every message make SQLite build no temporary table (as
    /// an `IN` list of three values or more would, in a statement or in a CHECK
    /// constraint, partial index or trigger it sets off) but the one a `RETURNING` clause
    /// collects its rows in; and the statements written for a partial index use it.
    #[test]
    fn per_message_statements_build_no_temporary_tables() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        migrate(&conn, Path::new(":memory:")).unwrap_or_else(|e| panic!("{e}"));
        // Each statement, prefixed, run with NULL for every parameter: column `column`.
        let rows = |prefix: &str, sql: &str, column: usize| -> Vec<String> {
            let mut stmt = conn
                .prepare(&format!("{prefix} {sql}"))
                .unwrap_or_else(|e| panic!("{e}: {sql}"));
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            stmt.query_map(rusqlite::params_from_iter(nulls), |r| {
                r.get::<_, String>(column)
            })
            .and_then(Iterator::collect)
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
        };
        let hot = [
            include_str!("sql/insert_message.sql"),
            include_str!("sql/insert_message_history.sql"),
            include_str!("sql/insert_delivery.sql"),
            include_str!("sql/transition_delivery.sql"),
            include_str!("sql/transition_message.sql"),
            include_str!("sql/finish_message.sql"),
            include_str!("sql/set_message_formed.sql"),
            include_str!("sql/insert_incoming.sql"),
            include_str!("sql/insert_incoming_history.sql"),
            include_str!("sql/transition_incoming.sql"),
            include_str!("sql/insert_outbox.sql"),
            include_str!("sql/finish_outbox.sql"),
            include_str!("sql/insert_inbox.sql"),
            include_str!("sql/finish_inbox.sql"),
        ];
        for sql in hot {
            let built = rows("EXPLAIN", sql, 1)
                .iter()
                .filter(|op| *op == "OpenEphemeral")
                .count();
            let returning = usize::from(sql.contains("RETURNING"));
            assert!(
                built <= returning,
                "this statement builds {built} temporary tables: {sql}"
            );
        }
        for (sql, index) in [
            (
                include_str!("sql/select_expired_messages.sql"),
                "message_finished",
            ),
            (
                include_str!("sql/select_expired_incoming.sql"),
                "incoming_finished",
            ),
            (
                include_str!("sql/claim_deliveries.sql"),
                "message_unfanned_key",
            ),
        ] {
            let plan = rows("EXPLAIN QUERY PLAN", sql, 3).join("\n");
            assert!(plan.contains(index), "{index} is not used:\n{plan}");
        }
    }

    /// Every bound LIMIT is written `?n + 0` (see the store's module docs).
    #[test]
    fn no_statement_limits_by_a_bare_parameter() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sqlite/sql");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for (i, _) in text.match_indices("LIMIT ?") {
                let rest = &text[i + "LIMIT ?".len()..];
                let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                assert!(
                    after.starts_with(" + 0"),
                    "{}: a bare LIMIT parameter makes SQLite prepare the statement again",
                    entry.path().display()
                );
            }
        }
    }

    /// A file written by version 4 keeps every row, row id and count through version 5,
    /// and its counting triggers still work.
    #[test]
    fn version_4_files_keep_their_rows_through_version_5() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let run = |sql: &str| {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
        };
        for (_, text) in &MIGRATIONS[..4] {
            run(&expand(text));
        }
        run("PRAGMA user_version = 4");
        run(
            "INSERT INTO message (id, uuid, flow, status, source, next_attempt_at, created_at,
                                  updated_at)
             VALUES (7, 'm-7', 'F', 'dispatched', '{}', 0, 0, 0),
                    (9, 'm-9', 'F', 'sent', '{}', 0, 0, 0);
             INSERT INTO delivery (id, message_id, subscriber, flow, status, next_attempt_at,
                                   created_at, updated_at)
             VALUES (3, 7, 's', 'F', 'new', 0, 0, 0);
             INSERT INTO message_history (rowid, message_id, subscriber, at, status, attempt)
             VALUES (40, 7, NULL, 0, 'new', 0), (41, 7, 's', 0, 'new', 0);
             INSERT INTO incoming (id, uuid, flow, message_id, status, payload, content_type,
                                   headers, next_attempt_at, created_at, updated_at)
             VALUES (5, 'i-5', 'IN', 'x', 'new', '{}', 'application/json', '{}', 0, 0, 0);
             INSERT INTO incoming_history (rowid, incoming_id, at, status, attempt)
             VALUES (8, 5, 0, 'new', 0);",
        );
        migrate(&conn, Path::new(":memory:")).unwrap_or_else(|e| panic!("{e}"));
        let texts = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
            stmt.query_map([], |r| r.get::<_, String>(0))
                .and_then(Iterator::collect)
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
        };
        assert_eq!(
            texts("SELECT id || uuid || status FROM message ORDER BY id"),
            ["7m-7dispatched", "9m-9sent"]
        );
        assert_eq!(
            texts("SELECT id || '/' || message_id FROM delivery"),
            ["3/7"]
        );
        assert_eq!(
            texts("SELECT rowid || coalesce(subscriber, '-') FROM message_history ORDER BY rowid"),
            ["40-", "41s"]
        );
        assert_eq!(texts("SELECT id || uuid FROM incoming"), ["5i-5"]);
        assert_eq!(
            texts("SELECT rowid || status FROM incoming_history"),
            ["8new"]
        );
        let counts = "SELECT kind || ':' || status || '=' || n FROM queue_count ORDER BY 1";
        assert_eq!(
            texts(counts),
            [
                "delivery:new=1",
                "incoming:new=1",
                "message:dispatched=1",
                "message:sent=1"
            ]
        );
        run("UPDATE message SET status = 'sent' WHERE id = 7");
        assert_eq!(
            texts(counts),
            [
                "delivery:new=1",
                "incoming:new=1",
                "message:dispatched=0",
                "message:sent=2"
            ]
        );
        let broken = conn.execute("UPDATE message SET status = 'lost' WHERE id = 7", []);
        assert!(broken.is_err(), "the status CHECK holds");
    }
}
