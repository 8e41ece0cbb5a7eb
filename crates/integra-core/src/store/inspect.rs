//! Inspection and operator actions: status of one message with its deliveries and history,
//! listing by filter, counts by status, re-drive by filter, deletion.

use super::Result;
use crate::status::{DeliveryStatus, HistoryStatus, IncomingStatus, MessageStatus};
use crate::time::Timestamp;

/// One outgoing message as stored.
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) allow_duplicate: bool,
    pub(crate) source: String,
    pub(crate) payload: Option<String>,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// One delivery as stored.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryRow {
    pub(crate) subscriber: String,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// One outgoing history row. `status` is a message status when `subscriber` is None, else a
/// delivery status.
#[derive(Debug, Clone)]
pub(crate) struct HistoryRow {
    pub(crate) subscriber: Option<String>,
    pub(crate) at: Timestamp,
    pub(crate) status: HistoryStatus,
    pub(crate) attempt: u32,
    pub(crate) detail: Option<String>,
}

/// One incoming history row.
#[derive(Debug, Clone)]
pub(crate) struct IncomingHistoryRow {
    pub(crate) at: Timestamp,
    pub(crate) status: IncomingStatus,
    pub(crate) attempt: u32,
    pub(crate) detail: Option<String>,
}

/// An incoming message as stored.
#[derive(Debug, Clone)]
pub(crate) struct IncomingFullRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) message_id: String,
    pub(crate) status: IncomingStatus,
    pub(crate) payload: String,
    pub(crate) content_type: String,
    pub(crate) headers: String,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// An incoming message in a listing: without its body and headers.
#[derive(Debug, Clone)]
pub(crate) struct IncomingListRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) message_id: String,
    pub(crate) status: IncomingStatus,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// Filters of an incoming listing; None matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncomingListQuery<'a> {
    pub(crate) flow: Option<&'a str>,
    pub(crate) status: Option<IncomingStatus>,
    pub(crate) created_from: Option<Timestamp>,
    pub(crate) created_to: Option<Timestamp>,
    pub(crate) before_seq: Option<i64>,
    pub(crate) limit: usize,
}

/// Filters of a message listing; None matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery<'a> {
    pub(crate) flow: Option<&'a str>,
    pub(crate) status: Option<MessageStatus>,
    pub(crate) subscriber: Option<&'a str>,
    pub(crate) delivery_status: Option<DeliveryStatus>,
    pub(crate) created_from: Option<Timestamp>,
    pub(crate) created_to: Option<Timestamp>,
    pub(crate) before_seq: Option<i64>,
    pub(crate) limit: usize,
}

/// Filters of a re-drive; None matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct RedriveQuery<'a> {
    pub(crate) statuses: Vec<&'a str>,
    pub(crate) flow: Option<&'a str>,
    pub(crate) subscriber: Option<&'a str>,
    pub(crate) id: Option<&'a str>,
    pub(crate) created_from: Option<Timestamp>,
    pub(crate) created_to: Option<Timestamp>,
}

/// Reading and re-driving what the queues hold: messages, deliveries, history, incoming. Each call
/// runs in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait InspectStore {
    /// The outgoing message with this public id.
    fn message(&self, uuid: &str) -> Result<Option<MessageRow>>;

    /// The deliveries of message row `id`, in creation order.
    fn deliveries_of(&self, id: i64) -> Result<Vec<DeliveryRow>>;

    /// The history of message row `id`, oldest first.
    fn history_of(&self, id: i64) -> Result<Vec<HistoryRow>>;

    /// Messages matching `q`, newest first.
    fn list_messages(&self, q: &ListQuery<'_>) -> Result<Vec<MessageRow>>;

    /// (delivery id, message row id, subscriber, status) of deliveries matching `q`.
    fn redrive_deliveries(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, i64, String, DeliveryStatus)>>;

    /// (message row id, status) of messages matching `q` (its subscriber is ignored).
    fn redrive_messages(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, MessageStatus)>>;

    /// (row id, status) of incoming messages matching `q` (its subscriber is ignored).
    fn redrive_incoming(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, IncomingStatus)>>;

    /// Resets a delivery in `from` to New with no attempts, due `now`.
    fn reset_delivery(&self, id: i64, from: DeliveryStatus, now: Timestamp) -> Result<bool>;

    /// Resets a message in `from` to New with no attempts, due `now`.
    fn reset_message(&self, id: i64, from: MessageStatus, now: Timestamp) -> Result<bool>;

    /// Resets an incoming message in `from` to New with no attempts, due `now`.
    fn reset_incoming(&self, id: i64, from: IncomingStatus, now: Timestamp) -> Result<bool>;

    /// Incoming messages matching `q`, newest first.
    fn list_incoming(&self, q: &IncomingListQuery<'_>) -> Result<Vec<IncomingListRow>>;

    /// The incoming message with this public id.
    fn incoming(&self, uuid: &str) -> Result<Option<IncomingFullRow>>;

    /// The history of incoming row `id`, oldest first.
    fn incoming_history_of(&self, id: i64) -> Result<Vec<IncomingHistoryRow>>;

    /// Deletes outgoing messages (row ids) with their deliveries and history.
    fn delete_messages(&self, ids: &[i64]) -> Result<usize>;

    /// Deletes incoming messages (row ids) with their history.
    fn delete_incoming(&self, ids: &[i64]) -> Result<usize>;
}
