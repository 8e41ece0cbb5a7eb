//! The message exchange: the 1C standard subsystem library's «Обмен сообщениями» API on
//! Integra's engine, between bases that run Integra, over HTTP and JSON.
//!
//! * **Endpoints** are the other bases, each with how to reach it (URL, user, password) and
//!   a blocked flag (a blocked endpoint receives nothing).
//!   [`Engine::connect_endpoint`](crate::Engine::connect_endpoint) connects two bases after
//!   checking the connection both ways (`connect`).
//! * **Addressed channels** go to the recipients a call names, or, when it names none, to
//!   the sender's settings for the channel. **Broadcast channels** go to the endpoints
//!   subscribed to the channel; a subscription made on the subscriber's side
//!   ([`Engine::subscribe`](crate::Engine::subscribe)) travels to the publisher, which records it.
//! * Each send is one message, stored in the outbox once per recipient in the sender's
//!   transaction. **Quick** messages are pushed at once by
//!   [`Engine::deliver_messages`](crate::Engine::deliver_messages); regular ones, and quick ones an
//!   endpoint could not take, by the dispatcher (`deliver`).
//! * On the receiving side each (sender, message id) is stored once and handled in arrival
//!   order per sender and channel, by a Rust channel handler or through the pull API; the
//!   attempt is counted before handling, and a message is quarantined after the configured
//!   number of failures. A handled message is marked done on both sides (`inbox`).
//!
//! The wire is Integra's own, versioned protocol (`wire`).

pub(crate) mod connect;
pub(crate) mod deliver;
pub(crate) mod inbox;
pub(crate) mod wire;

use serde::{Deserialize, Serialize};

pub use connect::ConnectionSettings;
pub use deliver::QuickDeliveryReport;
pub use inbox::{ChannelHandler, ExchangeMessage, ReceivedMessage};

use crate::core::Core;
use crate::error::{Error, Result};
use crate::ids::ExchangeMessageId;
use crate::limits::MAX_CHANNEL_CHARS;
use crate::queue::status::OutboxStatus;
use crate::store::{Commit, Db, NewOutbox, OutboxListRow};
use crate::time::Timestamp;

/// What an outbox row carries: a channel message, or a notice between the two bases.
pub(crate) mod kind {
    /// A message of a channel.
    pub(crate) const MESSAGE: &str = "message";
    /// The recipient handled a message (its id is the body).
    pub(crate) const DONE: &str = "done";
    /// The sender subscribes to the channel at the recipient (the publisher).
    pub(crate) const SUBSCRIBE: &str = "subscribe";
    /// The sender unsubscribes.
    pub(crate) const UNSUBSCRIBE: &str = "unsubscribe";
}

/// This base as an exchange endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExchangeIdentity {
    /// Its code, a UUID made once.
    pub code: String,
    /// Its name (the `exchange.name` setting).
    pub name: String,
}

/// An endpoint this base exchanges with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExchangeEndpoint {
    /// Its code.
    pub code: String,
    /// Its name here.
    pub name: String,
    /// Where it is reached.
    pub url: String,
    /// A blocked endpoint receives nothing.
    pub blocked: bool,
}

/// A message sent (or a notice), to one recipient, for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// The message id.
    pub id: ExchangeMessageId,
    /// `message`, or a notice: `done`, `subscribe`, `unsubscribe`.
    pub kind: String,
    /// The channel.
    pub channel: String,
    /// The recipient endpoint's code.
    pub recipient: String,
    /// Sent by `deliver_messages` rather than the dispatcher.
    pub quick: bool,
    /// Where it is.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl From<OutboxListRow> for SentMessage {
    fn from(r: OutboxListRow) -> Self {
        SentMessage {
            id: r.uuid.into(),
            kind: r.kind,
            channel: r.channel,
            recipient: r.recipient,
            quick: r.quick,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            sent_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Who receives a channel's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChannelRecipients {
    /// The sender's recipients of the addressed channel (sends that name none go there).
    pub sender: Vec<String>,
    /// The endpoints subscribed to the broadcast channel.
    pub subscribers: Vec<String>,
}

/// Who an addressed message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipients {
    /// The sender's settings for the channel.
    FromSettings,
    /// These endpoints (this base's own code delivers to itself).
    Endpoints(Vec<String>),
}

/// Who a send goes to.
pub(crate) enum Target<'a> {
    Addressed(&'a Recipients),
    Subscribers,
}

impl Core {
    /// This base's identity (see [`identity`]).
    pub(crate) fn identity(&self) -> Result<ExchangeIdentity> {
        let name = self.exchange_settings()?.name;
        self.store
            .write(Commit::Durable, move |db| identity(db, &name))
    }

    /// Queues a notice (`kind`) of `channel` with `body` for `recipient`.
    pub(crate) fn notice(
        db: &Db<'_>,
        kind: &str,
        channel: &str,
        recipient: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<()> {
        let id = uuid::Uuid::now_v7().to_string();
        db.insert_outbox(
            &NewOutbox {
                uuid: &id,
                kind,
                channel,
                recipient,
                body,
                quick: false,
            },
            now,
        )?;
        Ok(())
    }
}

/// This base's identity, made the first time it is asked for; `name` is the configured
/// name, which the identity follows.
pub(crate) fn identity(db: &Db<'_>, name: &str) -> Result<ExchangeIdentity> {
    let fresh = uuid::Uuid::new_v4().to_string();
    let (code, name) = db.exchange_self(&fresh, name)?;
    Ok(ExchangeIdentity { code, name })
}

/// Checks a channel name.
pub(crate) fn check_channel(channel: &str) -> Result<()> {
    if channel.is_empty() || channel.chars().count() > MAX_CHANNEL_CHARS {
        return Err(Error::InvalidArgument {
            name: "channel",
            reason: format!("must be 1 to {MAX_CHANNEL_CHARS} characters"),
        });
    }
    Ok(())
}

/// The endpoint `code`, which must exist and, with `deliverable`, not be blocked.
pub(crate) fn endpoint_checked(db: &Db<'_>, code: &str, deliverable: bool) -> Result<()> {
    match db.exchange_endpoint(code)? {
        None => Err(Error::UnknownEndpoint {
            code: code.to_owned(),
        }),
        Some(e) if deliverable && e.blocked => Err(Error::EndpointBlocked {
            code: code.to_owned(),
        }),
        Some(_) => Ok(()),
    }
}
