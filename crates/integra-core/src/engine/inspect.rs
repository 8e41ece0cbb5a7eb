//! Looking at the queues: messages, their deliveries and history, counts; sending again.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::limits::check_list_limit;
use crate::queue::inspect::{
    DeliveryReport, HistoryEntry, IncomingReport, ListFilter, MessageReport, MessageSummary,
    QueueCounts, RetryFilter, raw_json, redrive_note, redrive_query,
};
use crate::queue::status::{DeliveryStatus, HistoryStatus, IncomingStatus, MessageStatus};
use crate::store::{Commit, IncomingFullRow, ListQuery};

/// Looking at the queues: messages, their deliveries and history, counts; sending again.
impl Engine {
    /// A message with its source, payload, deliveries and history.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`].
    ///
    /// # Examples
    /// ```
    /// # use integra_core::{Engine, EngineOptions, RegisterOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// # let id = engine.register("ORDER_EXPORT", "{}", &RegisterOptions::default())?;
    /// let report = engine.message_status(&id)?;
    /// println!("{} ({}): {} attempt(s)", report.status, report.status_1c, report.attempts);
    /// for entry in &report.history {
    ///     let who = entry.subscriber.as_deref().unwrap_or("message");
    ///     println!("{}  {who}  {}  {}", entry.at, entry.status, entry.detail.as_deref().unwrap_or(""));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn message_status(&self, id: &str) -> Result<MessageReport> {
        self.core.store.read(|db| {
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

    /// Messages matching `filter`, newest first.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown status name or a limit over 10 000.
    ///
    /// # Examples
    /// ```
    /// use integra_core::ListFilter;
    /// # use integra_core::{Engine, EngineOptions, RegisterOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// # engine.register("ORDER_EXPORT", "{}", &RegisterOptions::default())?;
    /// let filter = ListFilter::default().with_flow("ORDER_EXPORT").with_limit(50);
    /// for m in engine.list_messages(&filter)? {
    ///     println!("{} {} {}", m.seq, m.id, m.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_messages(&self, filter: &ListFilter) -> Result<Vec<MessageSummary>> {
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
        self.core.store.read(|db| {
            Ok(db
                .list_messages(&query)?
                .into_iter()
                .map(MessageSummary::from_row)
                .collect())
        })
    }

    /// How many messages, deliveries and incoming messages are in each status.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn counts(&self) -> Result<QueueCounts> {
        self.core.store.read(|db| {
            let c = db.status_counts()?;
            Ok(QueueCounts {
                messages: c.messages,
                deliveries: c.deliveries,
                incoming: c.incoming,
            })
        })
    }

    /// Retries failed outgoing work matching `filter` now, with its attempts reset: dead and
    /// failing deliveries, and (without a subscriber filter) messages whose forming failed or
    /// died. The reason is written to each record's history. Returns how many were re-driven.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty reason.
    pub fn retry(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        let note = redrive_note(reason)?;
        let filter = filter.clone();
        let now = self.core.now();
        let n = self.core.store.write(Commit::Durable, move |db| {
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
        self.core.wake.notify();
        Ok(n)
    }

    /// Retries failed and dead incoming messages matching `filter` now, with their attempts
    /// reset; the reason is written to their history. Returns how many.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty reason.
    pub fn retry_incoming(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        let note = redrive_note(reason)?;
        let filter = filter.clone();
        let now = self.core.now();
        let n = self.core.store.write(Commit::Durable, move |db| {
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
        self.core.wake.notify();
        Ok(n)
    }

    /// Deletes a message with its deliveries and history; false when there was none.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn delete_message(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(match db.message_state(&id)? {
                Some(m) => db.delete_messages(&[m.id])? == 1,
                None => false,
            })
        })
    }

    /// An incoming message with its history.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`].
    pub fn incoming_status(&self, id: &str) -> Result<IncomingReport> {
        self.core.store.read(|db| {
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
