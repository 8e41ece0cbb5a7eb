//! The receiving side of the exchange: storing what other bases deliver (each sender's
//! message id once; notices applied at once), and handling it.
//!
//! Messages are handled in arrival order per sender and channel: a message waits while an
//! earlier one of the same sender and channel is unfinished. A channel is handled by a Rust
//! [`ChannelHandler`] registered in the process (run on the dispatcher's threads), or
//! through the pull API ([`Engine::next_exchange_messages`], `ack`, `fail`), as 1C does. The
//! attempt is counted when a message is claimed, before it is handled; a message whose
//! attempts exceed the `exchange.quarantine_after` setting (default 3), or that came from a
//! blocked endpoint, is quarantined: kept, visible, re-drivable. A handled message is
//! marked processed here, and a `done` notice tells the sender.

use serde::Serialize;

use super::kind;
use super::wire::{Batch, Stored};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::ids::ExchangeMessageId;
use crate::queue::incoming::canonical_message_id;
use crate::retry::{HandlerError, RetryPolicy};
use crate::status::InboxStatus;
use crate::store::{Commit, Db, InboxRow, NewInbox, RecipientKind};
use crate::time::Timestamp;

/// A received message to handle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExchangeMessage {
    /// The message id (the sender's).
    pub id: ExchangeMessageId,
    /// The sending endpoint's code.
    pub sender: String,
    /// The channel.
    pub channel: String,
    /// The body, JSON text.
    pub body: String,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

/// A received message, for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReceivedMessage {
    /// The message id.
    pub id: ExchangeMessageId,
    /// The sending endpoint's code.
    pub sender: String,
    /// The channel.
    pub channel: String,
    /// The body, JSON text.
    pub body: String,
    /// Where it is.
    pub status: InboxStatus,
    /// Handling attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed, or why it was quarantined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Arrival.
    pub received_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl From<InboxRow> for ReceivedMessage {
    fn from(r: InboxRow) -> Self {
        ReceivedMessage {
            id: r.uuid.into(),
            sender: r.sender,
            channel: r.channel,
            body: r.body,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            received_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Handles one channel's messages in the background dispatcher.
pub trait ChannelHandler: Send + Sync {
    /// Handles `message`; an error (or a panic) is a failed attempt, quarantined at once
    /// when it is [`HandlerError::Permanent`].
    ///
    /// # Errors
    /// Why handling failed, kept with the message.
    fn handle(&self, message: &ExchangeMessage) -> Result<(), HandlerError>;
}

impl<F, E> ChannelHandler for F
where
    F: Fn(&ExchangeMessage) -> Result<(), E> + Send + Sync,
    E: Into<HandlerError>,
{
    fn handle(&self, message: &ExchangeMessage) -> Result<(), HandlerError> {
        self(message).map_err(Into::into)
    }
}

impl std::fmt::Debug for dyn ChannelHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelHandler")
    }
}

/// Why a message was quarantined when its attempts ran out.
const EXHAUSTED: &str = "the handling attempts are used up";
/// Why a message from a blocked endpoint was quarantined.
const FROM_BLOCKED: &str = "the sender is blocked";

impl Core {
    /// `messages`: stores a delivery from another base in one transaction; notices are
    /// applied at once. A repeat of a stored message is acknowledged and not stored again;
    /// a message id that is a UUID counts in its canonical spelling, as on every door.
    /// A malformed envelope refuses the whole delivery, before anything is stored.
    pub(crate) fn serve_messages(&self, batch: Batch) -> Result<Stored, (u16, String)> {
        for (i, envelope) in batch.messages.iter().enumerate() {
            envelope
                .problem()
                .map_or(Ok(()), |p| Err((400, format!("message {i}: {p}"))))?;
        }
        let now = self.now();
        let stored = self.store.write(Commit::Durable, move |db| {
            let Some(sender) = db.exchange_endpoint(&batch.sender)? else {
                return Ok(Err((
                    403,
                    format!(
                        "base {} is not an endpoint here: connect it first",
                        batch.sender
                    ),
                )));
            };
            let mut stored = 0;
            for m in &batch.messages {
                match m.kind.as_str() {
                    kind::MESSAGE => {
                        let id = canonical_message_id(m.id.clone());
                        let message = NewInbox {
                            uuid: &id,
                            sender: &sender.code,
                            channel: &m.channel,
                            body: m.body.get(),
                            quarantined: sender.blocked.then_some(FROM_BLOCKED),
                        };
                        if db.insert_inbox(&message, now)? {
                            stored += 1;
                        }
                    }
                    kind::DONE => {
                        let done: String = serde_json::from_str(m.body.get()).unwrap_or_default();
                        db.mark_outbox_done(&canonical_message_id(done), &sender.code, now)?;
                    }
                    kind::SUBSCRIBE => {
                        db.add_exchange_recipient(
                            RecipientKind::Subscriber,
                            &m.channel,
                            &sender.code,
                        )?;
                    }
                    // Envelope::problem let only the kinds above and this one through.
                    _ => {
                        db.remove_exchange_recipient(
                            RecipientKind::Subscriber,
                            &m.channel,
                            &sender.code,
                        )?;
                    }
                }
            }
            Ok::<_, Error>(Ok(Stored { stored }))
        });
        self.wake.notify();
        stored.map_err(|e| (500, e.to_string()))?
    }

    /// Claims received messages of `channels` (all when `None`) for `owner`, quarantining
    /// those whose attempts ran out or whose sender is blocked.
    pub(crate) fn claim_exchange_inbox(
        db: &Db<'_>,
        owner: &str,
        (lease_until, now): (Timestamp, Timestamp),
        channels: (Option<&[&str]>, &[&str]),
        max: usize,
        quarantine_after: u32,
    ) -> Result<Vec<ExchangeMessage>> {
        let mut out = Vec::new();
        for m in db.claim_inbox(owner, lease_until, now, channels, max)? {
            let blocked = db.exchange_endpoint(&m.sender)?.is_some_and(|e| e.blocked);
            let why = if blocked {
                Some(FROM_BLOCKED)
            } else if m.attempts > quarantine_after {
                Some(EXHAUSTED)
            } else {
                None
            };
            if let Some(why) = why {
                db.finish_inbox(m.id, (InboxStatus::Quarantined, Some(why), None), None, now)?;
                continue;
            }
            out.push(ExchangeMessage {
                id: m.uuid.into(),
                sender: m.sender,
                channel: m.channel,
                body: m.body,
                attempt: m.attempts,
            });
        }
        Ok(out)
    }

    /// Records how handling `message` ended: processed (and the sender told), or failed
    /// (handled again after `retry`'s delay, or quarantined on its last allowed attempt).
    /// `None` when the message was no longer being handled (by `owner`, when given).
    pub(crate) fn finish_exchange_message(
        db: &Db<'_>,
        message_id: &str,
        (failure, owner): (Option<&HandlerError>, Option<&str>),
        retry: &RetryPolicy,
        now: Timestamp,
    ) -> Result<Option<InboxStatus>> {
        let Some(row) = db.inbox_message(message_id)? else {
            return Ok(None);
        };
        let (to, next) = match failure {
            None => (InboxStatus::Processed, None),
            Some(failure) => retry.status_after(
                failure,
                row.attempts,
                now,
                InboxStatus::New,
                InboxStatus::Quarantined,
            ),
        };
        let error = failure.map(HandlerError::reason);
        if !db.finish_inbox(row.id, (to, error, next), owner, now)? {
            return Ok(None);
        }
        let own = db
            .stored_exchange_self()?
            .is_some_and(|(code, _)| code == row.sender);
        if to == InboxStatus::Processed && !own {
            let id = serde_json::to_string(&row.uuid).unwrap_or_default();
            Core::notice(db, kind::DONE, &row.channel, &row.sender, &id, now)?;
        }
        Ok(Some(to))
    }
}
