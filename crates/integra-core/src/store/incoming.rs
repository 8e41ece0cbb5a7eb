//! Incoming queue operations: accepted messages, stored once per (flow, sender's id), and
//! their history.

use super::db::{sql, status_column};
use super::outgoing::json_list;
use super::{Db, Result};
use crate::queue::status::IncomingStatus;
use crate::time::Timestamp;

/// What finishing the processing of an incoming message needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct IncomingState {
    /// Its row id.
    pub(crate) id: i64,
    pub(crate) flow: String,
    pub(crate) status: IncomingStatus,
    pub(crate) attempts: u32,
    /// Its last change: while it is InProgress, when it was claimed (nothing writes a claimed
    /// message but the lease renewal, which leaves this).
    pub(crate) updated_at: Timestamp,
}

/// An incoming message to store.
pub(crate) struct NewIncoming<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) message_id: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) content_type: &'a str,
    pub(crate) headers: &'a str,
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) now: Timestamp,
}

/// A claimed incoming message.
#[derive(Debug, Clone)]
pub(crate) struct IncomingRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) message_id: String,
    pub(crate) payload: String,
    pub(crate) content_type: String,
    pub(crate) headers: String,
    pub(crate) attempts: u32,
}

impl Db<'_> {
    /// Stores an incoming message unless (flow, message id) is already stored. Returns the
    /// new row id, or None for a repeat.
    pub(crate) fn insert_incoming(&self, m: &NewIncoming<'_>) -> Result<Option<i64>> {
        self.row(
            sql!(insert_incoming),
            (
                m.uuid,
                m.flow,
                m.message_id,
                m.payload,
                m.content_type,
                m.headers,
                m.ordering_key,
                m.now.as_millis(),
            ),
            |r| r.get(0),
        )
    }

    /// The public id of the stored incoming message (flow, sender's message id).
    pub(crate) fn incoming_uuid(&self, flow: &str, message_id: &str) -> Result<Option<String>> {
        self.row(sql!(select_incoming_uuid), (flow, message_id), |r| r.get(0))
    }

    /// Gives incoming messages claimed by `owner` back, as they were before the claim.
    /// Returns how many.
    pub(crate) fn release_incoming(
        &self,
        ids: &[&str],
        owner: &str,
        now: Timestamp,
    ) -> Result<usize> {
        self.execute(
            sql!(release_incoming),
            (json_list(ids), owner, now.as_millis()),
        )
    }

    /// Claims up to `max` incoming messages of `flows` that are due, under a lease.
    pub(crate) fn claim_incoming(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        flows: &[&str],
        max: usize,
    ) -> Result<Vec<IncomingRow>> {
        self.rows(
            sql!(claim_incoming),
            (
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                json_list(flows),
                max,
            ),
            |r| {
                Ok(IncomingRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    flow: r.get(2)?,
                    message_id: r.get(3)?,
                    payload: r.get(4)?,
                    content_type: r.get(5)?,
                    headers: r.get(6)?,
                    attempts: r.get(7)?,
                })
            },
        )
    }

    /// The state of the incoming message with this public id.
    pub(crate) fn incoming_state(&self, uuid: &str) -> Result<Option<IncomingState>> {
        self.row(sql!(select_incoming_state), [uuid], |r| {
            Ok(IncomingState {
                id: r.get(0)?,
                flow: r.get(1)?,
                status: status_column(r, 2)?,
                attempts: r.get(3)?,
                updated_at: Timestamp::from_millis(r.get(4)?),
            })
        })
    }

    /// Moves an incoming message from `from` to `to` (with `owner`, only while that owner
    /// holds its lease). Returns false when it was not in `from`, or not `owner`'s.
    #[expect(
        clippy::too_many_arguments,
        reason = "one named statement's parameters"
    )]
    pub(crate) fn transition_incoming(
        &self,
        id: i64,
        from: IncomingStatus,
        to: IncomingStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(transition_incoming),
            (
                id,
                from.as_str(),
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
                owner,
            ),
        )? == 1)
    }

    /// When the earliest incoming message of `flows` falls due for processing.
    pub(crate) fn next_incoming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_incoming_due), [json_list(flows)], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    /// Appends a history row for an incoming message.
    pub(crate) fn insert_incoming_history(
        &self,
        id: i64,
        at: Timestamp,
        status: IncomingStatus,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()> {
        self.execute(
            sql!(insert_incoming_history),
            (id, at.as_millis(), status.as_str(), attempt, detail),
        )?;
        Ok(())
    }
}
