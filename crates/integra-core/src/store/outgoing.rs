//! Outgoing queue operations: messages, their deliveries, their history, and the hashes of
//! what was last delivered.

use super::{Later, Result};
use crate::status::{DeliveryStatus, MessageStatus};
use crate::time::Timestamp;

/// A message to insert.
pub(crate) struct NewMessage<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<&'a str>,
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) allow_duplicate: bool,
    pub(crate) source: &'a str,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) now: Timestamp,
}

/// A delivery to insert.
pub(crate) struct NewDelivery<'a> {
    pub(crate) message_id: i64,
    pub(crate) subscriber: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) status: DeliveryStatus,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) now: Timestamp,
}

/// What a transition of a message needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct MessageState {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) attempts: u32,
    /// Its last change: while it is Forming, when it was claimed (nothing writes a claimed
    /// message but the lease renewal, which leaves this).
    pub(crate) updated_at: Timestamp,
}

/// A message claimed for forming.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedFormingRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) source: String,
    pub(crate) object_key: Option<String>,
    pub(crate) attempts: u32,
}

/// A delivery claimed for sending, with what its transport needs.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedDeliveryRow {
    pub(crate) id: i64,
    pub(crate) message_id: i64,
    pub(crate) subscriber: String,
    pub(crate) attempts: u32,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) payload: String,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) payload_hash: Option<Vec<u8>>,
    pub(crate) allow_duplicate: bool,
}

/// The outgoing queue: messages, their deliveries, their history, and what was last delivered. Each
/// call runs in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait OutgoingStore {
    /// Inserts a message; returns its row id (the registration order).
    fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64>;

    /// The oldest message of `flow` for `object_key` that still waits to be formed.
    fn find_waiting_message(&self, flow: &str, object_key: &str) -> Result<Option<(i64, String)>>;

    /// Replaces the source of a message that still waits to be formed.
    fn update_waiting_source(&self, id: i64, source: &str, now: Timestamp) -> Result<bool>;

    /// Inserts a delivery.
    fn insert_delivery(&self, d: &NewDelivery<'_>) -> Result<()>;

    /// Appends a history row: a message transition (`subscriber` None) or a delivery's.
    fn insert_message_history(
        &self,
        message_id: i64,
        subscriber: Option<&str>,
        at: Timestamp,
        status: &str,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()>;

    /// Claims up to `max` messages of `flows` due for forming, under a lease.
    fn claim_forming(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        flows: &[&str],
        max: usize,
    ) -> Result<Vec<ClaimedFormingRow>>;

    /// Gives messages claimed for forming by `owner` back, as they were before the claim.
    /// Returns how many.
    fn release_forming(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize>;

    /// Counts a forming attempt made outside a claim (the validation of a pass-through
    /// source at registration).
    fn bump_forming_attempts(&self, id: i64) -> Result<()>;

    /// The message with this public id.
    fn message_state(&self, uuid: &str) -> Result<Option<MessageState>>;

    /// The message with this row id.
    fn message_state_by_id(&self, id: i64) -> Result<Option<MessageState>>;

    /// Stores the formed payload of a message being formed and moves it to Ready. `payload`
    /// None means the source is the payload.
    fn set_message_formed(
        &self,
        id: i64,
        payload: Option<&str>,
        hash: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<bool>;

    /// Moves a message from `from` to `to`. Returns false when it was not in `from`.
    fn transition_message(
        &self,
        id: i64,
        from: MessageStatus,
        to: MessageStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool>;

    /// Claims up to `max` due deliveries to `subscribers`, under a lease.
    fn claim_deliveries(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        subscribers: &[&str],
        max: usize,
    ) -> Result<Vec<ClaimedDeliveryRow>>;

    /// The hash of the payload last delivered to `subscriber` for (`flow`, `object_key`).
    fn delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
    ) -> Result<Option<Vec<u8>>>;

    /// Records the hash of a payload just delivered.
    fn record_delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<()>;

    /// Moves a delivery from `from` to `to`; when `owner` is given, only while it still holds
    /// the lease. Answers (message row id, subscriber, attempts) when it moved; the answer
    /// may come with the transaction's next round trip ([`Later`]).
    #[expect(
        clippy::too_many_arguments,
        reason = "one parameter per column the statement sets"
    )]
    fn transition_delivery(
        &self,
        id: i64,
        from: DeliveryStatus,
        to: DeliveryStatus,
        owner: Option<&str>,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Later<'_, (i64, String, u32)>>;

    /// Ends a dispatched message whose deliveries have all finished; answers its new status
    /// and attempts, possibly with the next round trip ([`Later`]).
    fn finish_message(&self, id: i64, now: Timestamp) -> Result<Later<'_, (MessageStatus, u32)>>;

    /// When the earliest delivery to one of `subscribers` falls due.
    fn next_delivery_due(&self, subscribers: &[&str]) -> Result<Option<Timestamp>>;

    /// When the earliest message of `flows` falls due for forming.
    fn next_forming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>>;
}
