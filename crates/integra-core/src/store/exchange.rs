//! The message exchange's tables: this base's identity, endpoints, channel recipients, the
//! outbox (one row per message and recipient) and the inbox (each sender's message once),
//! and named leases.

use super::Result;
use crate::status::{InboxStatus, OutboxStatus};
use crate::time::Timestamp;

/// An endpoint this base exchanges with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EndpointRow {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) blocked: bool,
}

/// Who a channel's recipients are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecipientKind {
    /// The sender's settings of an addressed channel.
    Sender,
    /// The subscribers of a broadcast channel.
    Subscriber,
}

impl RecipientKind {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Sender => "sender",
            RecipientKind::Subscriber => "subscriber",
        }
    }
}

/// A message to send.
pub(crate) struct NewOutbox<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) recipient: &'a str,
    pub(crate) body: &'a str,
    pub(crate) quick: bool,
}

/// A received message to store: new, or quarantined at once (with why).
pub(crate) struct NewInbox<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) sender: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) body: &'a str,
    pub(crate) quarantined: Option<&'a str>,
}

/// An outbox message claimed for delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OutboxRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) kind: String,
    pub(crate) channel: String,
    pub(crate) body: String,
    pub(crate) attempts: u32,
}

/// An outbox message, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OutboxListRow {
    pub(crate) uuid: String,
    pub(crate) kind: String,
    pub(crate) channel: String,
    pub(crate) recipient: String,
    pub(crate) quick: bool,
    pub(crate) status: OutboxStatus,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// A received message claimed for handling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimedInbox {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) sender: String,
    pub(crate) channel: String,
    pub(crate) body: String,
    pub(crate) attempts: u32,
}

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InboxRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) sender: String,
    pub(crate) channel: String,
    pub(crate) body: String,
    pub(crate) status: InboxStatus,
    pub(crate) attempts: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// The message exchange's records: identity, endpoints, recipients, outbox, inbox. Each call runs
/// in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait ExchangeStore {
    /// This base's code and name, made with `code` the first time; the name is kept equal to
    /// `name`.
    fn exchange_self(&self, code: &str, name: &str) -> Result<(String, String)>;

    /// This base's code and name, if they were made.
    fn stored_exchange_self(&self) -> Result<Option<(String, String)>>;

    /// Adds an endpoint, or updates its name and connection settings. The password is
    /// sealed when the store has a secrets key.
    fn upsert_exchange_endpoint(&self, e: &EndpointRow, now: Timestamp) -> Result<()>;

    /// The endpoint with this code.
    fn exchange_endpoint(&self, code: &str) -> Result<Option<EndpointRow>>;

    /// Every endpoint.
    fn exchange_endpoints(&self) -> Result<Vec<EndpointRow>>;

    /// Blocks or unblocks an endpoint; false when there is none.
    fn set_exchange_endpoint_blocked(
        &self,
        code: &str,
        blocked: bool,
        now: Timestamp,
    ) -> Result<bool>;

    /// Adds a recipient of a channel.
    fn add_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<()>;

    /// Removes a recipient of a channel; false when it was not one.
    fn remove_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<bool>;

    /// Removes every recipient of a channel.
    fn clear_exchange_recipients(&self, kind: RecipientKind, channel: &str) -> Result<()>;

    /// The recipients of a channel.
    fn exchange_recipients(&self, kind: RecipientKind, channel: &str) -> Result<Vec<String>>;

    /// Queues a message for a recipient, due `now`.
    fn insert_outbox(&self, m: &NewOutbox<'_>, now: Timestamp) -> Result<()>;

    /// Recipients (not blocked, no delivery in flight) to deliver to: those whose oldest
    /// undelivered message is due, or with `quick_only` those with quick messages.
    fn outbox_recipients(&self, now: Timestamp, quick_only: bool) -> Result<Vec<String>>;

    /// Claims up to `max` messages to `recipient`, oldest first (none while a delivery to
    /// it is in flight).
    fn claim_outbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        recipient: &str,
        quick_only: bool,
        max: usize,
    ) -> Result<Vec<OutboxRow>>;

    /// Records a claimed message's delivery outcome; false when the claim was lost.
    fn finish_outbox(
        &self,
        id: i64,
        owner: Option<&str>,
        to: OutboxStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool>;

    /// The recipient processed message `uuid`.
    fn mark_outbox_done(&self, uuid: &str, recipient: &str, now: Timestamp) -> Result<()>;

    /// When the next recipient (not blocked, no delivery in flight) falls due: when its
    /// oldest undelivered message does.
    fn next_outbox_due(&self, now: Timestamp) -> Result<Option<Timestamp>>;

    /// When the earliest new message of `channels` arrived (it is due at once).
    fn next_inbox_due(&self, channels: &[&str]) -> Result<Option<Timestamp>>;

    /// Sent messages in `status` (any when `None`), oldest first.
    fn outbox(&self, status: Option<OutboxStatus>, limit: usize) -> Result<Vec<OutboxListRow>>;

    /// Stores a received message unless (sender, uuid) is stored; true when new.
    fn insert_inbox(&self, m: &NewInbox<'_>, now: Timestamp) -> Result<bool>;

    /// Gives received messages claimed by `owner` back to be handled. Returns how many.
    fn release_inbox(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize>;

    /// Claims up to `max` received messages of `channels` (all when `None`) but not of
    /// `excluded`.
    fn claim_inbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        channels: (Option<&[&str]>, &[&str]),
        max: usize,
    ) -> Result<Vec<ClaimedInbox>>;

    /// Moves a claimed message from in progress to `to`, with `error`, due again at `next`
    /// (while `owner` holds it, when given); false when it was not in progress.
    fn finish_inbox(
        &self,
        id: i64,
        outcome: (InboxStatus, Option<&str>, Option<Timestamp>),
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool>;

    /// The received message with this id.
    fn inbox_message(&self, uuid: &str) -> Result<Option<InboxRow>>;

    /// Received messages in `status` (any when `None`), oldest first.
    fn inbox(&self, status: Option<InboxStatus>, limit: usize) -> Result<Vec<InboxRow>>;

    /// Sends quarantined message `uuid` (every quarantined one when `None`) back to be
    /// handled; how many.
    fn redrive_inbox(&self, uuid: Option<&str>, now: Timestamp) -> Result<usize>;
}
