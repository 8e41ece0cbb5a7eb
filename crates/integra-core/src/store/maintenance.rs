//! Maintenance queries: leases (renewed by their holder, taken back when they expired because
//! it died or stalled) and finished records past their retention.

use super::counts::Counted;
use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

/// What holds leases: the tables whose rows are claimed by a process for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leased {
    /// Deliveries being sent (`policy_of` is the subscriber).
    Deliveries,
    /// Messages being formed (`policy_of` is the flow).
    Forming,
    /// Incoming messages being processed (`policy_of` is the flow).
    Incoming,
    /// Received exchange messages being handled (`policy_of` is the channel).
    #[cfg(feature = "receiver")]
    ExchangeInbox,
    /// Exchange messages being delivered (`policy_of` is the recipient).
    #[cfg(feature = "receiver")]
    ExchangeOutbox,
}

#[cfg(test)]
impl Leased {
    /// Every table that holds leases.
    pub(crate) const ALL: &[Leased] = &[
        Leased::Deliveries,
        Leased::Forming,
        Leased::Incoming,
        #[cfg(feature = "receiver")]
        Leased::ExchangeInbox,
        #[cfg(feature = "receiver")]
        Leased::ExchangeOutbox,
    ];

    /// The table whose rows these leases are on.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Leased::Deliveries => "delivery",
            Leased::Forming => "message",
            Leased::Incoming => "incoming",
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => "exchange_inbox",
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => "exchange_outbox",
        }
    }
}

/// Which queue's finished records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Finished {
    /// Outgoing messages (removed with their deliveries and history).
    Messages,
    /// Incoming messages.
    Incoming,
}

/// A lease that expired: the record, the subscriber or flow whose retry policy applies, and
/// the attempts used.
#[derive(Debug, Clone)]
pub(crate) struct Expired {
    pub(crate) id: i64,
    pub(crate) policy_of: String,
    pub(crate) attempts: u32,
}

impl Db<'_> {
    /// Records of `what` whose lease expired by `now`.
    pub(crate) fn expired_leases(
        &self,
        what: Leased,
        now: Timestamp,
        max: usize,
    ) -> Result<Vec<Expired>> {
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

    /// Extends every lease of `what` that `owner` holds to `until`; how many.
    pub(crate) fn renew_leases(
        &self,
        what: Leased,
        owner: &str,
        until: Timestamp,
    ) -> Result<usize> {
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

    /// The flows and statuses that hold records of `what`, from the kept counts (no read of
    /// the queue itself).
    pub(crate) fn counted_statuses(&self, what: Finished) -> Result<Vec<(String, String)>> {
        let kind = match what {
            Finished::Messages => Counted::Messages,
            Finished::Incoming => Counted::Incoming,
        }
        .kind();
        self.rows(sql!(select_counted_statuses), [kind], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Row ids of up to `max` records of `what` of `flow` in finished status `status` last
    /// changed before `before`.
    pub(crate) fn expired_records(
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

    /// The flows that have rejections by sources.
    pub(crate) fn rejection_flows(&self) -> Result<Vec<String>> {
        self.rows(sql!(select_rejection_flows), [], |r| r.get(0))
    }

    /// Removes up to `max` rejections of `flow` older than `before`: how many.
    pub(crate) fn delete_rejections(
        &self,
        flow: &str,
        before: Timestamp,
        max: usize,
    ) -> Result<usize> {
        self.execute(sql!(delete_rejections), (flow, before.as_millis(), max))
    }

    /// Removes up to `max` sent exchange messages the recipient processed before `before`:
    /// how many.
    pub(crate) fn delete_exchange_outbox_done(
        &self,
        before: Timestamp,
        max: usize,
    ) -> Result<usize> {
        self.execute(sql!(delete_exchange_outbox_done), (before.as_millis(), max))
    }

    /// Removes up to `max` received exchange messages in `status` (handled or quarantined)
    /// last changed before `before`: how many.
    pub(crate) fn delete_exchange_inbox_finished(
        &self,
        status: crate::queue::status::InboxStatus,
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
