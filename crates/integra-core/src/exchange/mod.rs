//! The message exchange: the 1C standard subsystem library's «Обмен сообщениями» API on
//! Integra's engine, between bases that run Integra, over HTTP and JSON.
//!
//! * **Endpoints** are the other bases, each with how to reach it (URL, user, password) and
//!   a blocked flag (a blocked endpoint receives nothing). [`Engine::connect_endpoint`]
//!   connects two bases after checking the connection both ways (`connect`).
//! * **Addressed channels** go to the recipients a call names, or, when it names none, to
//!   the sender's settings for the channel. **Broadcast channels** go to the endpoints
//!   subscribed to the channel; a subscription made on the subscriber's side
//!   ([`Engine::subscribe`]) travels to the publisher, which records it.
//! * Each send is one message, stored in the outbox once per recipient in the sender's
//!   transaction. **Quick** messages are pushed at once by [`Engine::deliver_messages`];
//!   regular ones, and quick ones an endpoint could not take, by the dispatcher
//!   (`deliver`).
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

use crate::engine::{Core, Engine};
use crate::error::{Error, Result};
use crate::limits::{MAX_CHANNEL_CHARS, check_list_limit};
use crate::queue::status::OutboxStatus;
use crate::store::{Commit, Db, NewInbox, NewOutbox, OutboxListRow, RecipientKind};
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
pub struct ExchangeIdentity {
    /// Its code, a UUID made once.
    pub code: String,
    /// Its name (the `exchange.name` setting).
    pub name: String,
}

/// An endpoint this base exchanges with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
pub struct SentMessage {
    /// The message id.
    pub id: String,
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
            id: r.uuid,
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
enum Target<'a> {
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
fn check_channel(channel: &str) -> Result<()> {
    if channel.is_empty() || channel.chars().count() > MAX_CHANNEL_CHARS {
        return Err(Error::InvalidArgument {
            name: "channel",
            reason: format!("must be 1 to {MAX_CHANNEL_CHARS} characters"),
        });
    }
    Ok(())
}

/// The endpoint `code`, which must exist and, with `deliverable`, not be blocked.
fn endpoint_checked(db: &Db<'_>, code: &str, deliverable: bool) -> Result<()> {
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

impl Engine {
    /// This base's code and name as an exchange endpoint.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn exchange_identity(&self) -> Result<ExchangeIdentity> {
        self.core.identity()
    }

    /// Sends `body` (JSON) on an addressed channel to `recipients`; returns the message id.
    /// Delivered by the dispatcher.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad channel or no recipients; [`Error::InvalidJson`];
    /// [`Error::UnknownEndpoint`]; [`Error::EndpointBlocked`]. Nothing is queued then.
    pub fn send_message(
        &self,
        channel: &str,
        body: &str,
        recipients: &Recipients,
    ) -> Result<String> {
        self.send(channel, body, &Target::Addressed(recipients), false)
    }

    /// [`Engine::send_message`], as a quick message: [`Engine::deliver_messages`] pushes it
    /// at once.
    ///
    /// # Errors
    /// As [`Engine::send_message`].
    pub fn send_message_now(
        &self,
        channel: &str,
        body: &str,
        recipients: &Recipients,
    ) -> Result<String> {
        self.send(channel, body, &Target::Addressed(recipients), true)
    }

    /// Sends `body` on a broadcast channel to every endpoint subscribed to it and not
    /// blocked (none: nothing is sent); returns the message id.
    ///
    /// # Errors
    /// As [`Engine::send_message`].
    pub fn send_message_to_subscribers(&self, channel: &str, body: &str) -> Result<String> {
        self.send(channel, body, &Target::Subscribers, false)
    }

    /// [`Engine::send_message_to_subscribers`], as a quick message.
    ///
    /// # Errors
    /// As [`Engine::send_message`].
    pub fn send_message_to_subscribers_now(&self, channel: &str, body: &str) -> Result<String> {
        self.send(channel, body, &Target::Subscribers, true)
    }

    fn send(&self, channel: &str, body: &str, target: &Target<'_>, quick: bool) -> Result<String> {
        check_channel(channel)?;
        if matches!(target, Target::Addressed(Recipients::Endpoints(list)) if list.is_empty()) {
            return Err(Error::InvalidArgument {
                name: "recipient",
                reason: "the list of recipients is empty".to_owned(),
            });
        }
        crate::limits::check_message(|| "the message body".to_owned(), body)?;
        let now = self.core.now();
        let id = uuid::Uuid::now_v7().to_string();
        let recipients = match target {
            Target::Addressed(Recipients::Endpoints(list)) => Some(list.clone()),
            Target::Addressed(Recipients::FromSettings) | Target::Subscribers => None,
        };
        let subscribers = matches!(target, Target::Subscribers);
        let (channel, body, uuid) = (channel.to_owned(), body.to_owned(), id.clone());
        self.core.store.write(Commit::Durable, move |db| {
            let me = identity(db, &db.config()?.config().exchange_settings().name)?;
            let list = match recipients {
                Some(list) => list,
                None if subscribers => db.exchange_recipients(RecipientKind::Subscriber, &channel)?,
                None => db.exchange_recipients(RecipientKind::Sender, &channel)?,
            };
            if list.is_empty() && !subscribers {
                return Err(Error::InvalidArgument {
                    name: "recipient",
                    reason: format!(
                        "none given, and channel '{channel}' has no recipients in the sender's settings"
                    ),
                });
            }
            let mut unique = list;
            unique.sort();
            unique.dedup();
            for recipient in &unique {
                if *recipient == me.code {
                    let message = NewInbox {
                        uuid: &uuid,
                        sender: &me.code,
                        channel: &channel,
                        body: &body,
                        quarantined: None,
                    };
                    db.insert_inbox(&message, now)?;
                    continue;
                }
                if subscribers {
                    // A blocked subscriber receives nothing; the others still do.
                    if db.exchange_endpoint(recipient)?.is_none_or(|e| e.blocked) {
                        continue;
                    }
                } else {
                    endpoint_checked(db, recipient, true)?;
                }
                db.insert_outbox(
                    &NewOutbox {
                        uuid: &uuid,
                        kind: kind::MESSAGE,
                        channel: &channel,
                        recipient,
                        body: &body,
                        quick,
                    },
                    now,
                )?;
            }
            Ok::<_, Error>(())
        })?;
        self.core.wake.notify();
        Ok(id)
    }

    /// Sets the sender's recipients of an addressed channel (used when a send names none).
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; [`Error::InvalidArgument`] for a bad channel.
    pub fn set_sender_recipients(&self, channel: &str, recipients: &[String]) -> Result<()> {
        check_channel(channel)?;
        let (channel, recipients) = (channel.to_owned(), recipients.to_vec());
        self.core.store.write(Commit::Durable, move |db| {
            db.clear_exchange_recipients(RecipientKind::Sender, &channel)?;
            for r in &recipients {
                endpoint_checked(db, r, false)?;
                db.add_exchange_recipient(RecipientKind::Sender, &channel, r)?;
            }
            Ok::<_, Error>(())
        })
    }

    /// Who receives `channel`: the sender's recipients and the subscribers.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn channel_recipients(&self, channel: &str) -> Result<ChannelRecipients> {
        self.core.store.read(|db| {
            Ok::<_, Error>(ChannelRecipients {
                sender: db.exchange_recipients(RecipientKind::Sender, channel)?,
                subscribers: db.exchange_recipients(RecipientKind::Subscriber, channel)?,
            })
        })
    }

    /// Subscribes `recipient` to a broadcast channel of this base (the publisher's side).
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; [`Error::InvalidArgument`] for a bad channel.
    pub fn subscribe_recipient(&self, channel: &str, recipient: &str) -> Result<()> {
        check_channel(channel)?;
        let (channel, recipient) = (channel.to_owned(), recipient.to_owned());
        self.core.store.write(Commit::Durable, move |db| {
            endpoint_checked(db, &recipient, false)?;
            db.add_exchange_recipient(RecipientKind::Subscriber, &channel, &recipient)?;
            Ok::<_, Error>(())
        })
    }

    /// Unsubscribes `recipient` from a broadcast channel of this base; false when it was not
    /// subscribed.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn unsubscribe_recipient(&self, channel: &str, recipient: &str) -> Result<bool> {
        let (channel, recipient) = (channel.to_owned(), recipient.to_owned());
        self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.remove_exchange_recipient(
                RecipientKind::Subscriber,
                &channel,
                &recipient,
            )?)
        })
    }

    /// Subscribes this base to `publisher`'s broadcast channel: the subscription travels to
    /// the publisher (delivered like a message), which records this base as a subscriber.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; [`Error::InvalidArgument`] for a bad channel.
    pub fn subscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.subscription(channel, publisher, kind::SUBSCRIBE)
    }

    /// Unsubscribes this base from `publisher`'s broadcast channel.
    ///
    /// # Errors
    /// As [`Engine::subscribe`].
    pub fn unsubscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.subscription(channel, publisher, kind::UNSUBSCRIBE)
    }

    fn subscription(&self, channel: &str, publisher: &str, notice: &'static str) -> Result<()> {
        check_channel(channel)?;
        let now = self.core.now();
        let (channel, publisher) = (channel.to_owned(), publisher.to_owned());
        self.core.store.write(Commit::Durable, move |db| {
            endpoint_checked(db, &publisher, false)?;
            Core::notice(db, notice, &channel, &publisher, "null", now)
        })?;
        self.core.wake.notify();
        Ok(())
    }

    /// Blocks an endpoint: it receives nothing until unblocked, and what it sends is
    /// quarantined.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`].
    pub fn block_endpoint(&self, code: &str) -> Result<()> {
        self.set_blocked(code, true)
    }

    /// Unblocks an endpoint; what waited for it is delivered.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`].
    pub fn unblock_endpoint(&self, code: &str) -> Result<()> {
        self.set_blocked(code, false)
    }

    fn set_blocked(&self, code: &str, blocked: bool) -> Result<()> {
        let now = self.core.now();
        let code = code.to_owned();
        self.core.store.write(Commit::Durable, move |db| {
            if db.set_exchange_endpoint_blocked(&code, blocked, now)? {
                Ok(())
            } else {
                Err(Error::UnknownEndpoint { code })
            }
        })?;
        self.core.wake.notify();
        Ok(())
    }

    /// Sent messages and notices in `status` (every status when `None`), oldest first, at
    /// most `limit`: one per recipient.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a limit over [`crate::limits::MAX_LIST`];
    /// [`Error::Store`] when the database fails.
    pub fn sent_exchange_messages(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<SentMessage>> {
        check_list_limit(limit)?;
        let rows = self.core.store.read(|db| db.outbox(status, limit))?;
        Ok(rows.into_iter().map(SentMessage::from).collect())
    }

    /// Every endpoint this base exchanges with.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn exchange_endpoints(&self) -> Result<Vec<ExchangeEndpoint>> {
        let rows = self.core.store.read(|db| db.exchange_endpoints())?;
        Ok(rows
            .into_iter()
            .map(|e| ExchangeEndpoint {
                code: e.code,
                name: e.name,
                url: e.url,
                blocked: e.blocked,
            })
            .collect())
    }
}
