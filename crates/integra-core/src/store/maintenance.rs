//! Maintenance queries: leases that expired (their holder died or stalled) and finished
//! records past their retention.

use super::db::sql;
use super::outgoing::json_list;
use super::{Db, Result};
use crate::time::Timestamp;

/// A lease that expired: the record, the subscriber or flow whose retry policy applies, and
/// the attempts used.
#[derive(Debug, Clone)]
pub(crate) struct Expired {
    pub(crate) id: i64,
    pub(crate) policy_of: String,
    pub(crate) attempts: u32,
}

fn expired(r: &rusqlite::Row<'_>) -> rusqlite::Result<Expired> {
    Ok(Expired {
        id: r.get(0)?,
        policy_of: r.get(1)?,
        attempts: r.get(2)?,
    })
}

/// Which retention cutoffs apply to one flow (or to every flow not configured).
pub(crate) struct Cutoffs<'a> {
    pub(crate) flow: Option<&'a str>,
    pub(crate) known_flows: &'a [&'a str],
    pub(crate) finished_before: Timestamp,
    pub(crate) dead_before: Timestamp,
}

impl Db<'_> {
    /// Deliveries whose lease expired by `now`.
    pub(crate) fn expired_delivery_leases(
        &self,
        now: Timestamp,
        max: usize,
    ) -> Result<Vec<Expired>> {
        self.rows(
            sql!(select_expired_delivery_leases),
            (now.as_millis(), max),
            expired,
        )
    }

    /// Messages whose forming lease expired by `now` (`policy_of` is the flow).
    pub(crate) fn expired_forming_leases(
        &self,
        now: Timestamp,
        max: usize,
    ) -> Result<Vec<Expired>> {
        self.rows(
            sql!(select_expired_forming_leases),
            (now.as_millis(), max),
            expired,
        )
    }

    /// Incoming messages whose lease expired by `now` (`policy_of` is the flow).
    pub(crate) fn expired_incoming_leases(
        &self,
        now: Timestamp,
        max: usize,
    ) -> Result<Vec<Expired>> {
        self.rows(
            sql!(select_expired_incoming_leases),
            (now.as_millis(), max),
            expired,
        )
    }

    /// Row ids of up to `max` finished outgoing messages past the cutoffs.
    pub(crate) fn expired_messages(&self, c: &Cutoffs<'_>, max: usize) -> Result<Vec<i64>> {
        let cut = (
            c.finished_before.as_millis(),
            c.dead_before.as_millis(),
            max,
        );
        match c.flow {
            Some(flow) => self.rows(
                sql!(select_expired_messages),
                (flow, cut.0, cut.1, cut.2),
                |r| r.get(0),
            ),
            None => self.rows(
                sql!(select_expired_messages_of_other_flows),
                (json_list(c.known_flows), cut.0, cut.1, cut.2),
                |r| r.get(0),
            ),
        }
    }

    /// Row ids of up to `max` finished incoming messages past the cutoffs.
    pub(crate) fn expired_incoming(&self, c: &Cutoffs<'_>, max: usize) -> Result<Vec<i64>> {
        let cut = (
            c.finished_before.as_millis(),
            c.dead_before.as_millis(),
            max,
        );
        match c.flow {
            Some(flow) => self.rows(
                sql!(select_expired_incoming),
                (flow, cut.0, cut.1, cut.2),
                |r| r.get(0),
            ),
            None => self.rows(
                sql!(select_expired_incoming_of_other_flows),
                (json_list(c.known_flows), cut.0, cut.1, cut.2),
                |r| r.get(0),
            ),
        }
    }
}
