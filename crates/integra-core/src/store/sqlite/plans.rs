//! Tests of the SQLite schema and plans: every claimable table is leased, and a cleanup
//! reads no queue table whole.

use std::path::Path;

use rusqlite::Connection;

use super::migrate::migrate;

/// Every table whose rows are claimed (a status, attempts counted at claim, a lease
/// owner and an end) is a [`Leased`](crate::store::Leased), so the leases on it are renewed and taken back.
#[cfg(feature = "receiver")]
#[test]
fn every_claimable_table_is_leased() {
    use crate::store::Leased;
    let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    migrate(&conn, Path::new(":memory:")).unwrap_or_else(|e| panic!("{e}"));
    let mut claimable: Vec<String> = conn
        .prepare(
            "SELECT m.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS c
             WHERE m.type = 'table'
               AND c.name IN ('status', 'attempts', 'lease_owner', 'lease_until')
             GROUP BY m.name HAVING COUNT(*) = 4",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_else(|e| panic!("{e}"));
    claimable.sort_unstable();
    let mut leased: Vec<&str> = Leased::ALL.iter().map(|l| l.table()).collect();
    leased.sort_unstable();
    assert_eq!(claimable, leased);
}

/// The queues and their side tables: what a cleanup must never read whole.
const QUEUE_TABLES: [&str; 8] = [
    "message",
    "delivery",
    "message_history",
    "incoming",
    "incoming_history",
    "incoming_rejection",
    "exchange_outbox",
    "exchange_inbox",
];

/// Every statement a cleanup runs finds its rows through an index: none reads a queue
/// table (or walks a whole index of one) from end to end, so a cleanup with nothing to
/// remove costs a few index pages however many records the store holds.
#[test]
fn cleanup_reads_no_table_whole() {
    let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    migrate(&conn, Path::new(":memory:")).unwrap_or_else(|e| panic!("{e}"));
    let statements = [
        include_str!("sql/select_counted_statuses.sql"),
        include_str!("sql/select_expired_messages.sql"),
        include_str!("sql/select_expired_incoming.sql"),
        include_str!("sql/delete_messages.sql"),
        include_str!("sql/delete_messages_deliveries.sql"),
        include_str!("sql/delete_messages_history.sql"),
        include_str!("sql/delete_incoming.sql"),
        include_str!("sql/delete_incoming_history.sql"),
        include_str!("sql/select_rejection_flows.sql"),
        include_str!("sql/delete_rejections.sql"),
        include_str!("sql/delete_exchange_outbox_done.sql"),
        include_str!("sql/delete_exchange_inbox_finished.sql"),
        include_str!("sql/select_space.sql"),
    ];
    for sql in statements {
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        let nulls = vec![rusqlite::types::Null; plan.parameter_count()];
        let steps: Vec<String> = plan
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get(3))
            .and_then(Iterator::collect)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        for step in &steps {
            let scanned = step
                .strip_prefix("SCAN ")
                .and_then(|rest| rest.split_whitespace().next());
            assert!(
                !scanned.is_some_and(|table| QUEUE_TABLES.contains(&table)),
                "'{step}' reads a whole table:\n{sql}\n{}",
                steps.join("\n")
            );
        }
        assert!(
            sql.contains("sqlite")
                || sql.contains("pragma_")
                || steps.iter().any(|s| s.starts_with("SEARCH")),
            "no index is used:\n{sql}\n{}",
            steps.join("\n")
        );
    }
}
