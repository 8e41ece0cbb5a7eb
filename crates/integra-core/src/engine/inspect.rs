//! Looking at the queues: messages, their deliveries and history, counts; sending again.

use crate::engine::Engine;
use crate::error::Result;
use crate::queue::inspect::{
    FlowCount, IncomingFilter, IncomingReport, IncomingSummary, ListFilter, MessageReport,
    MessageSummary, QueueCounts, RetryFilter, SubscriberHealth,
};

/// Looking at the queues: messages, their deliveries and history, counts; sending again.
impl Engine {
    /// A message with its source, payload, deliveries and history.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`](crate::Error::MessageNotFound).
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
        self.core.message_status(id)
    }

    /// Messages matching `filter`, newest first.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an unknown status name or a
    /// limit over 10 000.
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
        self.core.list_messages(filter)
    }

    /// Incoming messages matching `filter`, newest first, without their bodies
    /// ([`Engine::incoming_status`] has those).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a limit over 10 000.
    pub fn list_incoming(&self, filter: &IncomingFilter) -> Result<Vec<IncomingSummary>> {
        self.core.list_incoming(filter)
    }

    /// How many messages, deliveries and incoming messages are in each status.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn counts(&self) -> Result<QueueCounts> {
        self.core.counts()
    }

    /// How many messages, deliveries and incoming messages of each flow (and, for
    /// deliveries, each subscriber) are in each status: the non-zero counts, by queue, flow,
    /// subscriber and status. Read from counts kept with every change, not by scanning the
    /// queues.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn flow_counts(&self) -> Result<Vec<FlowCount>> {
        self.core.flow_counts()
    }

    /// Every subscriber's health: when a delivery to it last succeeded, when one last failed
    /// and why, failed attempts since the last success, and how many deliveries wait, are
    /// being sent, or died. Kept once per recorded batch, the same for every process on the
    /// store.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn subscriber_health(&self) -> Result<Vec<SubscriberHealth>> {
        self.core.subscriber_health()
    }

    /// Retries failed outgoing work matching `filter` now, with its attempts reset: dead and
    /// failing deliveries, and (without a subscriber filter) messages whose forming failed or
    /// died. The reason is written to each record's history. Returns how many were re-driven.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an empty reason.
    pub fn retry(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        self.core.retry(filter, reason)
    }

    /// Retries failed and dead incoming messages matching `filter` now, with their attempts
    /// reset; the reason is written to their history. Returns how many.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for an empty reason.
    pub fn retry_incoming(&self, filter: &RetryFilter, reason: &str) -> Result<usize> {
        self.core.retry_incoming(filter, reason)
    }

    /// Deletes a message with its deliveries and history; false when there was none.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn delete_message(&self, id: &str) -> Result<bool> {
        self.core.delete_message(id)
    }

    /// An incoming message with its history.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`](crate::Error::IncomingNotFound).
    pub fn incoming_status(&self, id: &str) -> Result<IncomingReport> {
        self.core.incoming_status(id)
    }
}
