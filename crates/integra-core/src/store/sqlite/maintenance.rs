//! The SQLite implementation of [`MaintenanceStore`].

use super::db::sql;
use super::{Result, Tx};
use crate::store::Counted;
use crate::store::maintenance::{Expired, Finished, Leased, MaintenanceStore};
use crate::time::Timestamp;

impl MaintenanceStore for Tx<'_> {
    fn expired_leases(&self, what: Leased, now: Timestamp, max: usize) -> Result<Vec<Expired>> {
        let sql = match what {
            Leased::Deliveries => sql!(select_expired_delivery_leases),
            Leased::Forming => sql!(select_expired_forming_leases),
            Leased::Incoming => sql!(select_expired_incoming_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => sql!(select_expired_inbox_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => sql!(select_expired_outbox_leases),
        };
        self.rows(sql, (now.as_millis(), max), |r| {
            Ok(Expired {
                id: r.get(0)?,
                policy_of: r.get(1)?,
                attempts: r.get(2)?,
            })
        })
    }

    fn renew_leases(&self, what: Leased, owner: &str, until: Timestamp) -> Result<usize> {
        let sql = match what {
            Leased::Deliveries => sql!(renew_delivery_leases),
            Leased::Forming => sql!(renew_forming_leases),
            Leased::Incoming => sql!(renew_incoming_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => sql!(renew_inbox_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => sql!(renew_outbox_leases),
        };
        self.execute(sql, (owner, until.as_millis()))
    }

    fn counted_statuses(&self, what: Finished) -> Result<Vec<(String, String)>> {
        let kind = match what {
            Finished::Messages => Counted::Messages,
            Finished::Incoming => Counted::Incoming,
        }
        .kind();
        self.rows(sql!(select_counted_statuses), [kind], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn expired_records(
        &self,
        what: Finished,
        flow: &str,
        status: &str,
        before: Timestamp,
        max: usize,
    ) -> Result<Vec<i64>> {
        let statement = match what {
            Finished::Messages => sql!(select_expired_messages),
            Finished::Incoming => sql!(select_expired_incoming),
        };
        self.rows(statement, (flow, status, before.as_millis(), max), |r| {
            r.get(0)
        })
    }

    fn rejection_flows(&self) -> Result<Vec<String>> {
        self.rows(sql!(select_rejection_flows), [], |r| r.get(0))
    }

    fn delete_rejections(&self, flow: &str, before: Timestamp, max: usize) -> Result<usize> {
        self.execute(sql!(delete_rejections), (flow, before.as_millis(), max))
    }

    fn delete_exchange_outbox_done(&self, before: Timestamp, max: usize) -> Result<usize> {
        self.execute(sql!(delete_exchange_outbox_done), (before.as_millis(), max))
    }

    fn delete_exchange_inbox_finished(
        &self,
        status: crate::status::InboxStatus,
        before: Timestamp,
        max: usize,
    ) -> Result<usize> {
        self.execute(
            sql!(delete_exchange_inbox_finished),
            (status.as_str(), before.as_millis(), max),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::Connection;

    use super::super::migrate::migrate;

    /// Every table whose rows are claimed (a status, attempts counted at claim, a lease
    /// owner and an end) is a [`Leased`], so the leases on it are renewed and taken back.
    #[cfg(feature = "receiver")]
    #[test]
    fn every_claimable_table_is_leased() {
        use super::Leased;
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
}
