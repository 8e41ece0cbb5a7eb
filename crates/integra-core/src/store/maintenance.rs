//! Maintenance queries: leases that expired (their holder died or stalled) and finished
//! records past their retention.

use super::db::{Sql, sql};
use super::outgoing::json_list;
use super::{Db, Result};
use crate::time::Timestamp;

/// What holds leases.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Leased {
    /// Deliveries being sent (`policy_of` is the subscriber).
    Deliveries,
    /// Messages being formed (`policy_of` is the flow).
    Forming,
    /// Incoming messages being processed (`policy_of` is the flow).
    Incoming,
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

/// Which retention cutoffs apply to one flow, or (`flow` None) to every flow not in
/// `known_flows`.
pub(crate) struct Cutoffs<'a> {
    pub(crate) flow: Option<&'a str>,
    pub(crate) known_flows: &'a [&'a str],
    pub(crate) finished_before: Timestamp,
    pub(crate) dead_before: Timestamp,
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
        };
        self.rows(sql, (now.as_millis(), max), |r| {
            Ok(Expired {
                id: r.get(0)?,
                policy_of: r.get(1)?,
                attempts: r.get(2)?,
            })
        })
    }

    /// Row ids of up to `max` finished records of `what` past the cutoffs.
    pub(crate) fn expired_records(
        &self,
        what: Finished,
        c: &Cutoffs<'_>,
        max: usize,
    ) -> Result<Vec<i64>> {
        let (of_flow, of_other_flows): (Sql, Sql) = match what {
            Finished::Messages => (
                sql!(select_expired_messages),
                sql!(select_expired_messages_of_other_flows),
            ),
            Finished::Incoming => (
                sql!(select_expired_incoming),
                sql!(select_expired_incoming_of_other_flows),
            ),
        };
        let (before, dead_before) = (c.finished_before.as_millis(), c.dead_before.as_millis());
        match c.flow {
            Some(flow) => self.rows(of_flow, (flow, before, dead_before, max), |r| r.get(0)),
            None => self.rows(
                of_other_flows,
                (json_list(c.known_flows), before, dead_before, max),
                |r| r.get(0),
            ),
        }
    }

    /// Removes up to `max` finished messages of the exchange past the cutoffs (`flow` and
    /// `known_flows` do not apply): how many sent and how many received.
    pub(crate) fn delete_finished_exchange(
        &self,
        c: &Cutoffs<'_>,
        max: usize,
    ) -> Result<(usize, usize)> {
        let (before, dead_before) = (c.finished_before.as_millis(), c.dead_before.as_millis());
        let sent = self.execute(sql!(delete_exchange_outbox_done), (before, max))?;
        let received = self.execute(
            sql!(delete_exchange_inbox_finished),
            (before, dead_before, max),
        )?;
        Ok((sent, received))
    }
}
