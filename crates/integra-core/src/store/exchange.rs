//! The message exchange's tables: this base's identity, endpoints, channel recipients, the
//! outbox (one row per message and recipient) and the inbox (each sender's message once),
//! and named leases.

use super::db::{sql, status_column};
use super::outgoing::json_list;
use super::{Db, Result};
use crate::queue::status::{InboxStatus, OutboxStatus};
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
    const fn as_str(self) -> &'static str {
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

fn endpoint(r: &rusqlite::Row<'_>) -> rusqlite::Result<EndpointRow> {
    Ok(EndpointRow {
        code: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        username: r.get(3)?,
        password: r.get(4)?,
        blocked: r.get(5)?,
    })
}

fn inbox(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxRow> {
    Ok(InboxRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        sender: r.get(2)?,
        channel: r.get(3)?,
        body: r.get(4)?,
        status: status_column(r, 5)?,
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        created_at: Timestamp::from_millis(r.get(8)?),
        updated_at: Timestamp::from_millis(r.get(9)?),
    })
}

impl Db<'_> {
    /// This base's code and name, made with `code` the first time; the name is kept equal to
    /// `name`.
    pub(crate) fn exchange_self(&self, code: &str, name: &str) -> Result<(String, String)> {
        self.execute(sql!(insert_exchange_self), (code, name))?;
        Ok(self
            .stored_exchange_self()?
            .unwrap_or_else(|| (code.to_owned(), name.to_owned())))
    }

    /// This base's code and name, if they were made.
    pub(crate) fn stored_exchange_self(&self) -> Result<Option<(String, String)>> {
        self.row(sql!(select_exchange_self), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Adds an endpoint, or updates its name and connection settings. The password is
    /// sealed when the store has a secrets key.
    pub(crate) fn upsert_exchange_endpoint(&self, e: &EndpointRow, now: Timestamp) -> Result<()> {
        self.execute(
            sql!(upsert_exchange_endpoint),
            (
                &e.code,
                &e.name,
                &e.url,
                &e.username,
                crate::secrets::seal(self.secrets_key(), &e.password),
                now.as_millis(),
            ),
        )?;
        Ok(())
    }

    /// The endpoint with this code.
    pub(crate) fn exchange_endpoint(&self, code: &str) -> Result<Option<EndpointRow>> {
        self.row(sql!(select_exchange_endpoint), [code], endpoint)?
            .map(|e| self.open_password(e))
            .transpose()
    }

    /// Every endpoint.
    pub(crate) fn exchange_endpoints(&self) -> Result<Vec<EndpointRow>> {
        self.exchange_endpoints_as_stored()?
            .into_iter()
            .map(|e| self.open_password(e))
            .collect()
    }

    /// Every endpoint, its password as stored (sealed or not).
    pub(super) fn exchange_endpoints_as_stored(&self) -> Result<Vec<EndpointRow>> {
        self.rows(sql!(select_exchange_endpoints), [], endpoint)
    }

    /// `e` with its password as given (opened when sealed).
    fn open_password(&self, mut e: EndpointRow) -> Result<EndpointRow> {
        e.password = crate::secrets::open(self.secrets_key(), &e.password)?;
        Ok(e)
    }

    /// Blocks or unblocks an endpoint; false when there is none.
    pub(crate) fn set_exchange_endpoint_blocked(
        &self,
        code: &str,
        blocked: bool,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(set_exchange_endpoint_blocked),
            (code, blocked, now.as_millis()),
        )? == 1)
    }

    /// Adds a recipient of a channel.
    pub(crate) fn add_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<()> {
        self.execute(
            sql!(insert_exchange_recipient),
            (kind.as_str(), channel, recipient),
        )?;
        Ok(())
    }

    /// Removes a recipient of a channel; false when it was not one.
    pub(crate) fn remove_exchange_recipient(
        &self,
        kind: RecipientKind,
        channel: &str,
        recipient: &str,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(delete_exchange_recipient),
            (kind.as_str(), channel, recipient),
        )? == 1)
    }

    /// Removes every recipient of a channel.
    pub(crate) fn clear_exchange_recipients(
        &self,
        kind: RecipientKind,
        channel: &str,
    ) -> Result<()> {
        self.execute(sql!(delete_exchange_recipients), (kind.as_str(), channel))?;
        Ok(())
    }

    /// The recipients of a channel.
    pub(crate) fn exchange_recipients(
        &self,
        kind: RecipientKind,
        channel: &str,
    ) -> Result<Vec<String>> {
        self.rows(
            sql!(select_exchange_recipients),
            (kind.as_str(), channel),
            |r| r.get(0),
        )
    }

    /// Queues a message for a recipient, due `now`.
    pub(crate) fn insert_outbox(&self, m: &NewOutbox<'_>, now: Timestamp) -> Result<()> {
        self.execute(
            sql!(insert_outbox),
            (
                m.uuid,
                m.kind,
                m.channel,
                m.recipient,
                m.body,
                m.quick,
                now.as_millis(),
            ),
        )?;
        Ok(())
    }

    /// Recipients (not blocked, no delivery in flight) to deliver to: those whose oldest
    /// undelivered message is due, or with `quick_only` those with quick messages.
    pub(crate) fn outbox_recipients(
        &self,
        now: Timestamp,
        quick_only: bool,
    ) -> Result<Vec<String>> {
        self.rows(
            sql!(select_outbox_recipients),
            (now.as_millis(), quick_only),
            |r| r.get(0),
        )
    }

    /// Claims up to `max` messages to `recipient`, oldest first (none while a delivery to
    /// it is in flight).
    pub(crate) fn claim_outbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        recipient: &str,
        quick_only: bool,
        max: usize,
    ) -> Result<Vec<OutboxRow>> {
        let mut rows = self.rows(
            sql!(claim_outbox),
            (
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                recipient,
                quick_only,
                max,
            ),
            |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    kind: r.get(2)?,
                    channel: r.get(3)?,
                    body: r.get(4)?,
                    attempts: r.get(5)?,
                })
            },
        )?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Records a claimed message's delivery outcome; false when the claim was lost.
    pub(crate) fn finish_outbox(
        &self,
        id: i64,
        owner: Option<&str>,
        to: OutboxStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(finish_outbox),
            (
                id,
                owner,
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ),
        )? == 1)
    }

    /// The recipient processed message `uuid`.
    pub(crate) fn mark_outbox_done(
        &self,
        uuid: &str,
        recipient: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(sql!(mark_outbox_done), (uuid, recipient, now.as_millis()))?;
        Ok(())
    }

    /// When the next recipient (not blocked, no delivery in flight) falls due: when its
    /// oldest undelivered message does.
    pub(crate) fn next_outbox_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_outbox_due), [now.as_millis()], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    /// When the earliest new message of `channels` arrived (it is due at once).
    pub(crate) fn next_inbox_due(&self, channels: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_inbox_due), [json_list(channels)], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    /// Sent messages in `status` (any when `None`), oldest first.
    pub(crate) fn outbox(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<OutboxListRow>> {
        self.rows(
            sql!(select_outbox),
            (status.map(OutboxStatus::as_str), limit),
            |r| {
                Ok(OutboxListRow {
                    uuid: r.get(0)?,
                    kind: r.get(1)?,
                    channel: r.get(2)?,
                    recipient: r.get(3)?,
                    quick: r.get(4)?,
                    status: status_column(r, 5)?,
                    attempts: r.get(6)?,
                    last_error: r.get(7)?,
                    created_at: Timestamp::from_millis(r.get(8)?),
                    updated_at: Timestamp::from_millis(r.get(9)?),
                })
            },
        )
    }

    /// Stores a received message unless (sender, uuid) is stored; true when new.
    pub(crate) fn insert_inbox(&self, m: &NewInbox<'_>, now: Timestamp) -> Result<bool> {
        let status = match m.quarantined {
            Some(_) => InboxStatus::Quarantined,
            None => InboxStatus::New,
        };
        let inserted: Option<i64> = self.row(
            sql!(insert_inbox),
            (
                m.uuid,
                m.sender,
                m.channel,
                m.body,
                status.as_str(),
                now.as_millis(),
                m.quarantined,
            ),
            |r| r.get(0),
        )?;
        Ok(inserted.is_some())
    }

    /// Gives received messages claimed by `owner` back to be handled. Returns how many.
    pub(crate) fn release_inbox(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize> {
        self.execute(
            sql!(release_inbox),
            (json_list(ids), owner, now.as_millis()),
        )
    }

    /// Claims up to `max` received messages of `channels` (all when `None`) but not of
    /// `excluded`.
    pub(crate) fn claim_inbox(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        (channels, excluded): (Option<&[&str]>, &[&str]),
        max: usize,
    ) -> Result<Vec<ClaimedInbox>> {
        let mut rows = self.rows(
            sql!(claim_inbox),
            (
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                channels.map(json_list),
                max,
                json_list(excluded),
            ),
            |r| {
                Ok(ClaimedInbox {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    sender: r.get(2)?,
                    channel: r.get(3)?,
                    body: r.get(4)?,
                    attempts: r.get(5)?,
                })
            },
        )?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Moves a claimed message from in progress to `to`, with `error`, due again at `next`
    /// (while `owner` holds it, when given); false when it was not in progress.
    pub(crate) fn finish_inbox(
        &self,
        id: i64,
        (to, error, next): (InboxStatus, Option<&str>, Option<Timestamp>),
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        let next = next.map(Timestamp::as_millis);
        Ok(self.execute(
            sql!(finish_inbox),
            (id, to.as_str(), error, now.as_millis(), owner, next),
        )? == 1)
    }

    /// The received message with this id.
    pub(crate) fn inbox_message(&self, uuid: &str) -> Result<Option<InboxRow>> {
        self.row(sql!(select_inbox_by_uuid), [uuid], inbox)
    }

    /// Received messages in `status` (any when `None`), oldest first.
    pub(crate) fn inbox(&self, status: Option<InboxStatus>, limit: usize) -> Result<Vec<InboxRow>> {
        self.rows(
            sql!(select_inbox),
            (status.map(InboxStatus::as_str), limit),
            inbox,
        )
    }

    /// Sends quarantined message `uuid` (every quarantined one when `None`) back to be
    /// handled; how many.
    pub(crate) fn redrive_inbox(&self, uuid: Option<&str>, now: Timestamp) -> Result<usize> {
        self.execute(sql!(redrive_inbox), (uuid, now.as_millis()))
    }
}
