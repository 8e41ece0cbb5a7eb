//! Incoming queue operations: accepted messages, stored once per (flow, sender's id), and
//! their history.

use super::Result;
use crate::status::IncomingStatus;
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

/// The incoming queue: store once per (flow, message id), claim, transition, history. Each call
/// runs in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait IncomingStore {
    /// Stores an incoming message unless (flow, message id) is already stored. Returns the
    /// new row id, or None for a repeat.
    fn insert_incoming(&self, m: &NewIncoming<'_>) -> Result<Option<i64>>;

    /// The public id of the stored incoming message (flow, sender's message id).
    fn incoming_uuid(&self, flow: &str, message_id: &str) -> Result<Option<String>>;

    /// Gives incoming messages claimed by `owner` back, as they were before the claim.
    /// Returns how many.
    fn release_incoming(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize>;

    /// Claims up to `max` incoming messages of `flows` that are due, under a lease.
    fn claim_incoming(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        flows: &[&str],
        max: usize,
    ) -> Result<Vec<IncomingRow>>;

    /// The state of the incoming message with this public id.
    fn incoming_state(&self, uuid: &str) -> Result<Option<IncomingState>>;

    /// Moves an incoming message from `from` to `to` (with `owner`, only while that owner
    /// holds its lease). Returns false when it was not in `from`, or not `owner`'s.
    #[expect(
        clippy::too_many_arguments,
        reason = "one named statement's parameters"
    )]
    fn transition_incoming(
        &self,
        id: i64,
        from: IncomingStatus,
        to: IncomingStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool>;

    /// When the earliest incoming message of `flows` falls due for processing.
    fn next_incoming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>>;

    /// Appends a history row for an incoming message.
    fn insert_incoming_history(
        &self,
        id: i64,
        at: Timestamp,
        status: IncomingStatus,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()>;
}
