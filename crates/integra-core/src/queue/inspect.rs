//! Inspection and operator actions: a message's status with its deliveries and history,
//! listings by filter, counts by status, re-drive of failed work by filter (the reason is
//! written to each record's history), and deletion.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::ids::{IncomingId, MessageId};
use crate::limits::checks::check_list_limit;
use crate::status::{DeliveryStatus, HistoryStatus, IncomingStatus, MessageStatus};
use crate::store::{
    Commit, Counted, IncomingFullRow, IncomingListQuery, ListQuery, MessageRow, RedriveQuery,
};
use crate::time::Timestamp;

/// An outgoing message with its deliveries and history.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct MessageReport {
    /// The message id.
    pub id: MessageId,
    /// Registration order: larger is later.
    pub seq: i64,
    /// The flow code.
    pub flow: String,
    /// Its status.
    pub status: MessageStatus,
    /// The same status by its name in the 1C subsystem.
    pub status_1c: &'static str,
    /// The object key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    /// The ordering key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    /// Registered with `allow_duplicate`.
    pub allow_duplicate: bool,
    /// The registered source.
    pub source: Box<RawValue>,
    /// The formed payload, once formed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Box<RawValue>>,
    /// Forming attempts so far.
    pub attempts: u32,
    /// When forming is next due (for New and FormingError).
    pub next_attempt_at: Timestamp,
    /// Delayed delivery time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    /// The last forming error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Registration time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// One per subscriber, once fanned out.
    pub deliveries: Vec<DeliveryReport>,
    /// Every transition, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One delivery of a message.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// The subscriber code.
    pub subscriber: String,
    /// Its status.
    pub status: DeliveryStatus,
    /// The same status by its name in the 1C subsystem.
    pub status_1c: &'static str,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (New and SendError).
    pub next_attempt_at: Timestamp,
    /// The last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One transition in a message's history: of the message (`subscriber` absent) or of its
/// delivery to `subscriber`.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// When.
    pub at: Timestamp,
    /// The delivery's subscriber; absent for the message's own status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<String>,
    /// The status entered.
    pub status: HistoryStatus,
    /// The attempt it belongs to.
    pub attempt: u32,
    /// Error text or note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One message in a listing.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct MessageSummary {
    /// The message id.
    pub id: MessageId,
    /// Registration order; pass the smallest seen as `before_seq` for the next page.
    pub seq: i64,
    /// The flow code.
    pub flow: String,
    /// Its status.
    pub status: MessageStatus,
    /// The object key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_key: Option<String>,
    /// Forming attempts so far.
    pub attempts: u32,
    /// The last forming error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Registration time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Which messages a listing returns; absent fields match everything.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ListFilter {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only messages in this status.
    pub status: Option<MessageStatus>,
    /// Only messages with a delivery to this subscriber.
    pub subscriber: Option<String>,
    /// Only messages with a delivery in this status (to `subscriber`, when given).
    pub delivery_status: Option<DeliveryStatus>,
    /// Registered at or after.
    pub created_from: Option<Timestamp>,
    /// Registered before.
    pub created_to: Option<Timestamp>,
    /// Registered before the message with this `seq` (paging, newest first).
    pub before_seq: Option<i64>,
    /// At most this many (default 100, at most 10 000).
    pub limit: Option<usize>,
}

/// Which incoming messages a listing returns; absent fields match everything.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct IncomingFilter {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only incoming messages in this status.
    pub status: Option<IncomingStatus>,
    /// Accepted at or after.
    pub created_from: Option<Timestamp>,
    /// Accepted before.
    pub created_to: Option<Timestamp>,
    /// Accepted before the one with this `seq` (paging, newest first).
    pub before_seq: Option<i64>,
    /// At most this many (default 100, at most 10 000).
    pub limit: Option<usize>,
}

/// One incoming message in a listing (its body and headers: [`IncomingReport`]).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct IncomingSummary {
    /// Its id in the incoming queue.
    pub id: IncomingId,
    /// Arrival order; pass the smallest seen as `before_seq` for the next page.
    pub seq: i64,
    /// The flow code.
    pub flow: String,
    /// The sender's message id.
    pub message_id: String,
    /// Its status.
    pub status: IncomingStatus,
    /// Processing attempts so far.
    pub attempts: u32,
    /// The last processing error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was accepted.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Which failed work a re-drive retries; absent fields match everything.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RetryFilter {
    /// Only this flow.
    pub flow: Option<String>,
    /// Only deliveries to this subscriber (failed forming is then left alone).
    pub subscriber: Option<String>,
    /// Only this message (outgoing) or incoming message.
    pub id: Option<String>,
    /// Registered (or accepted) at or after.
    pub created_from: Option<Timestamp>,
    /// Registered (or accepted) before.
    pub created_to: Option<Timestamp>,
}

crate::setters::setters!(ListFilter {} optional {
    with_flow => flow: impl Into<String>,
    with_status => status: MessageStatus,
    with_subscriber => subscriber: impl Into<String>,
    with_delivery_status => delivery_status: DeliveryStatus,
    with_created_from => created_from: Timestamp,
    with_created_to => created_to: Timestamp,
    with_before_seq => before_seq: i64,
    with_limit => limit: usize,
});

crate::setters::setters!(IncomingFilter {} optional {
    with_flow => flow: impl Into<String>,
    with_status => status: IncomingStatus,
    with_created_from => created_from: Timestamp,
    with_created_to => created_to: Timestamp,
    with_before_seq => before_seq: i64,
    with_limit => limit: usize,
});

crate::setters::setters!(RetryFilter {} optional {
    with_flow => flow: impl Into<String>,
    with_subscriber => subscriber: impl Into<String>,
    with_id => id: impl Into<String>,
    with_created_from => created_from: Timestamp,
    with_created_to => created_to: Timestamp,
});

/// How many records are in each status.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct QueueCounts {
    /// Outgoing messages by status.
    pub messages: BTreeMap<MessageStatus, u64>,
    /// Deliveries by status.
    pub deliveries: BTreeMap<DeliveryStatus, u64>,
    /// Incoming messages by status.
    pub incoming: BTreeMap<IncomingStatus, u64>,
}

/// Which queue a count is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CountedQueue {
    /// Outgoing messages.
    Messages,
    /// Deliveries (message × subscriber).
    Deliveries,
    /// Incoming messages.
    Incoming,
}

impl CountedQueue {
    /// Its name (`messages`, `deliveries`, `incoming`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CountedQueue::Messages => "messages",
            CountedQueue::Deliveries => "deliveries",
            CountedQueue::Incoming => "incoming",
        }
    }
}

/// How many records of one queue are in one status, for one flow (and, for deliveries, one
/// subscriber).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FlowCount {
    /// The queue.
    pub queue: CountedQueue,
    /// The flow code.
    pub flow: String,
    /// The subscriber, for deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<String>,
    /// The status name.
    pub status: String,
    /// How many.
    pub count: u64,
}

/// A subscriber's health: how deliveries to it went lately, and what waits for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubscriberHealth {
    /// The subscriber's code.
    pub subscriber: String,
    /// When a delivery to it last succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<Timestamp>,
    /// When a delivery attempt to it last failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<Timestamp>,
    /// Why that attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u64,
    /// Deliveries waiting to be sent: new, or failed and due again.
    pub waiting: u64,
    /// Deliveries being sent now.
    pub sending: u64,
    /// Deliveries that ran out of attempts (until cleanup removes them, or a re-drive).
    pub dead: u64,
}

impl SubscriberHealth {
    /// A subscriber nothing was delivered to yet.
    fn new(subscriber: &str) -> Self {
        SubscriberHealth {
            subscriber: subscriber.to_owned(),
            last_success_at: None,
            last_failure_at: None,
            last_error: None,
            consecutive_failures: 0,
            waiting: 0,
            sending: 0,
            dead: 0,
        }
    }
}

/// An incoming message with its history.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct IncomingReport {
    /// Its id in the incoming queue.
    pub id: IncomingId,
    /// The flow code.
    pub flow: String,
    /// The sender's message id.
    pub message_id: String,
    /// Its status.
    pub status: IncomingStatus,
    /// The same status by its name in the 1C subsystem.
    pub status_1c: &'static str,
    /// The body as received.
    pub payload: String,
    /// The body's content type.
    pub content_type: String,
    /// Stored headers.
    pub headers: BTreeMap<String, String>,
    /// Processing attempts so far.
    pub attempts: u32,
    /// When processing is next due.
    pub next_attempt_at: Timestamp,
    /// The last processing error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Acceptance time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Every transition, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// Stored sources and payloads are JSON (checked when stored); text that somehow is not is
/// shown as a JSON string rather than lost.
fn raw_json(text: String) -> Box<RawValue> {
    serde_json::from_str::<Box<RawValue>>(&text)
        .or_else(|_| serde_json::value::to_raw_value(&text))
        .unwrap_or_default()
}

impl MessageSummary {
    pub(crate) fn from_row(r: MessageRow) -> Self {
        MessageSummary {
            id: r.uuid.into(),
            seq: r.id,
            flow: r.flow,
            status: r.status,
            object_key: r.object_key,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn redrive_note(reason: &str) -> Result<String> {
    if reason.trim().is_empty() {
        return Err(Error::InvalidArgument {
            name: "reason",
            reason: "a re-drive needs a reason for the history".into(),
        });
    }
    Ok(format!("re-driven: {reason}"))
}

fn redrive_query(f: &RetryFilter) -> RedriveQuery<'_> {
    RedriveQuery {
        statuses: Vec::new(),
        flow: f.flow.as_deref(),
        subscriber: f.subscriber.as_deref(),
        id: f.id.as_deref(),
        created_from: f.created_from,
        created_to: f.created_to,
    }
}

impl Core {
    /// [`Engine::message_status`](crate::Engine::message_status).
    pub(crate) fn message_status(&self, id: &str) -> Result<MessageReport> {
        self.store.read(|db| {
            let m = db
                .message(id)?
                .ok_or_else(|| Error::MessageNotFound { id: id.to_owned() })?;
            let deliveries = db
                .deliveries_of(m.id)?
                .into_iter()
                .map(|d| DeliveryReport {
                    subscriber: d.subscriber,
                    status: d.status,
                    status_1c: d.status.name_1c(),
                    attempts: d.attempts,
                    next_attempt_at: d.next_attempt_at,
                    last_error: d.last_error,
                    created_at: d.created_at,
                    updated_at: d.updated_at,
                })
                .collect();
            let history = db
                .history_of(m.id)?
                .into_iter()
                .map(|h| HistoryEntry {
                    at: h.at,
                    subscriber: h.subscriber,
                    status: h.status,
                    attempt: h.attempt,
                    detail: h.detail,
                })
                .collect();
            Ok(MessageReport {
                id: m.uuid.into(),
                seq: m.id,
                flow: m.flow,
                status: m.status,
                status_1c: m.status.name_1c(),
                object_key: m.object_key,
                ordering_key: m.ordering_key,
                allow_duplicate: m.allow_duplicate,
                source: raw_json(m.source),
                payload: m.payload.map(raw_json),
                attempts: m.attempts,
                next_attempt_at: m.next_attempt_at,
                not_before: m.not_before,
                last_error: m.last_error,
                created_at: m.created_at,
                updated_at: m.updated_at,
                deliveries,
                history,
            })
        })
    }

    /// [`Engine::list_messages`](crate::Engine::list_messages).
    pub(crate) fn list_messages(&self, filter: &ListFilter) -> Result<Vec<MessageSummary>> {
        let limit = filter.limit.unwrap_or(100);
        check_list_limit(limit)?;
        let query = ListQuery {
            flow: filter.flow.as_deref(),
            status: filter.status,
            subscriber: filter.subscriber.as_deref(),
            delivery_status: filter.delivery_status,
            created_from: filter.created_from,
            created_to: filter.created_to,
            before_seq: filter.before_seq,
            limit,
        };
        self.store.read(|db| {
            Ok(db
                .list_messages(&query)?
                .into_iter()
                .map(MessageSummary::from_row)
                .collect())
        })
    }

    /// [`Engine::list_incoming`](crate::Engine::list_incoming).
    pub(crate) fn list_incoming(&self, filter: &IncomingFilter) -> Result<Vec<IncomingSummary>> {
        let limit = filter.limit.unwrap_or(100);
        check_list_limit(limit)?;
        let query = IncomingListQuery {
            flow: filter.flow.as_deref(),
            status: filter.status,
            created_from: filter.created_from,
            created_to: filter.created_to,
            before_seq: filter.before_seq,
            limit,
        };
        self.store.read(|db| {
            Ok(db
                .list_incoming(&query)?
                .into_iter()
                .map(|r| IncomingSummary {
                    id: r.uuid.into(),
                    seq: r.id,
                    flow: r.flow,
                    message_id: r.message_id,
                    status: r.status,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
                .collect())
        })
    }

    /// [`Engine::flow_counts`](crate::Engine::flow_counts).
    pub(crate) fn flow_counts(&self) -> Result<Vec<FlowCount>> {
        let mut counts: Vec<FlowCount> = self.store.read(|db| {
            Ok::<_, Error>(
                db.queue_counts()?
                    .into_iter()
                    .map(|c| FlowCount {
                        queue: match c.queue {
                            Counted::Messages => CountedQueue::Messages,
                            Counted::Deliveries => CountedQueue::Deliveries,
                            Counted::Incoming => CountedQueue::Incoming,
                        },
                        flow: c.flow,
                        subscriber: (!c.subscriber.is_empty()).then_some(c.subscriber),
                        status: c.status,
                        count: c.n,
                    })
                    .collect(),
            )
        })?;
        counts.sort_by(|a, b| {
            (a.queue, &a.flow, &a.subscriber, &a.status).cmp(&(
                b.queue,
                &b.flow,
                &b.subscriber,
                &b.status,
            ))
        });
        Ok(counts)
    }

    /// [`Engine::subscriber_health`](crate::Engine::subscriber_health).
    pub(crate) fn subscriber_health(&self) -> Result<Vec<SubscriberHealth>> {
        let (config, counts, rows) = self.store.read(|db| {
            Ok::<_, Error>((db.config()?, db.queue_counts()?, db.subscriber_health()?))
        })?;
        let mut health: BTreeMap<String, SubscriberHealth> = config
            .config()
            .subscribers
            .iter()
            .map(|s| (s.code.clone(), SubscriberHealth::new(&s.code)))
            .collect();
        for row in rows {
            let entry = health
                .entry(row.subscriber.clone())
                .or_insert_with(|| SubscriberHealth::new(&row.subscriber));
            entry.last_success_at = row.last_success_at;
            entry.last_failure_at = row.last_failure_at;
            entry.last_error = row.last_error;
            entry.consecutive_failures = row.consecutive_failures;
        }
        for c in counts.iter().filter(|c| c.queue == Counted::Deliveries) {
            let entry = health
                .entry(c.subscriber.clone())
                .or_insert_with(|| SubscriberHealth::new(&c.subscriber));
            let slot = match c.status.parse::<DeliveryStatus>() {
                Ok(DeliveryStatus::New | DeliveryStatus::SendError) => &mut entry.waiting,
                Ok(DeliveryStatus::InProgress) => &mut entry.sending,
                Ok(DeliveryStatus::Dead) => &mut entry.dead,
                _ => continue,
            };
            *slot += c.n;
        }
        Ok(health.into_values().collect())
    }

    /// [`Engine::counts`](crate::Engine::counts).
    pub(crate) fn counts(&self) -> Result<QueueCounts> {
        self.store.read(|db| {
            let c = db.status_counts()?;
            Ok(QueueCounts {
                messages: c.messages,
                deliveries: c.deliveries,
                incoming: c.incoming,
            })
        })
    }

    /// [`Engine::retry`](crate::Engine::retry).
    pub(crate) fn retry(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        let note = redrive_note(reason)?;
        let filter = filter.clone();
        let now = self.now();
        let n = self.store.write(Commit::Durable, move |db| {
            let mut query = redrive_query(&filter);
            query.statuses = vec![
                DeliveryStatus::SendError.as_str(),
                DeliveryStatus::Dead.as_str(),
            ];
            let mut n = 0;
            for (id, message_id, subscriber, status) in db.redrive_deliveries(&query)? {
                if db.reset_delivery(id, status, now)? {
                    db.insert_message_history(
                        message_id,
                        Some(&subscriber),
                        now,
                        DeliveryStatus::New.as_str(),
                        0,
                        Some(&note),
                    )?;
                    if db.transition_message(
                        message_id,
                        MessageStatus::Undelivered,
                        MessageStatus::Dispatched,
                        None,
                        None,
                        now,
                    )? {
                        db.insert_message_history(
                            message_id,
                            None,
                            now,
                            MessageStatus::Dispatched.as_str(),
                            0,
                            Some(&note),
                        )?;
                    }
                    n += 1;
                }
            }
            if filter.subscriber.is_none() {
                query.statuses = vec![
                    MessageStatus::FormingError.as_str(),
                    MessageStatus::Dead.as_str(),
                ];
                for (id, status) in db.redrive_messages(&query)? {
                    if db.reset_message(id, status, now)? {
                        db.insert_message_history(
                            id,
                            None,
                            now,
                            MessageStatus::New.as_str(),
                            0,
                            Some(&note),
                        )?;
                        n += 1;
                    }
                }
            }
            Ok::<_, Error>(n)
        })?;
        self.wake.notify();
        Ok(n)
    }

    /// [`Engine::retry_incoming`](crate::Engine::retry_incoming).
    pub(crate) fn retry_incoming(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        let note = redrive_note(reason)?;
        let filter = filter.clone();
        let now = self.now();
        let n = self.store.write(Commit::Durable, move |db| {
            let mut query = redrive_query(&filter);
            query.statuses = vec![
                IncomingStatus::Error.as_str(),
                IncomingStatus::Dead.as_str(),
            ];
            let mut n = 0;
            for (id, status) in db.redrive_incoming(&query)? {
                if db.reset_incoming(id, status, now)? {
                    db.insert_incoming_history(id, now, IncomingStatus::New, 0, Some(&note))?;
                    n += 1;
                }
            }
            Ok::<_, Error>(n)
        })?;
        self.wake.notify();
        Ok(n)
    }

    /// [`Engine::delete_message`](crate::Engine::delete_message).
    pub(crate) fn delete_message(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(match db.message_state(&id)? {
                Some(m) => db.delete_messages(&[m.id])? == 1,
                None => false,
            })
        })
    }

    /// [`Engine::incoming_status`](crate::Engine::incoming_status).
    pub(crate) fn incoming_status(&self, id: &str) -> Result<IncomingReport> {
        self.store.read(|db| {
            let m: IncomingFullRow = db
                .incoming(id)?
                .ok_or_else(|| Error::IncomingNotFound { id: id.to_owned() })?;
            let history = db
                .incoming_history_of(m.id)?
                .into_iter()
                .map(|h| HistoryEntry {
                    at: h.at,
                    subscriber: None,
                    status: HistoryStatus::Incoming(h.status),
                    attempt: h.attempt,
                    detail: h.detail,
                })
                .collect();
            Ok(IncomingReport {
                id: m.uuid.into(),
                flow: m.flow,
                message_id: m.message_id,
                status: m.status,
                status_1c: m.status.name_1c(),
                payload: m.payload,
                content_type: m.content_type,
                headers: serde_json::from_str(&m.headers).unwrap_or_default(),
                attempts: m.attempts,
                next_attempt_at: m.next_attempt_at,
                last_error: m.last_error,
                created_at: m.created_at,
                updated_at: m.updated_at,
                history,
            })
        })
    }
}
