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

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use deliver::QuickDeliveryReport;
pub use inbox::{ChannelHandler, ExchangeMessage, ReceivedMessage};
pub use wire::ConnectionSettings;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::exchange::connect::{RECIPIENT_TO_THIS, RECORDING, THIS_TO_RECIPIENT, or_own};
use crate::exchange::deliver::{CLAIM_LEASE, DELIVERER, DELIVERER_LEASE};
use crate::exchange::wire::{CheckBack, Introduction};
use crate::ids::ExchangeMessageId;
use crate::limits::MAX_CHANNEL_CHARS;
use crate::limits::checks::check_list_limit;
use crate::queue::forming::check_lease;
use crate::retry::HandlerError;
use crate::status::{InboxStatus, OutboxStatus};
use crate::store::{Commit, Db, EndpointRow, NewInbox, NewOutbox, OutboxListRow, RecipientKind};
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
    /// Claims up to `max` received messages of channels other than `handled` (those with a
    /// Rust handler here) for `lease` ([`Engine::next_exchange_messages`]).
    ///
    /// [`Engine::next_exchange_messages`]: crate::Engine::next_exchange_messages
    pub(crate) fn next_exchange_messages(
        &self,
        handled: Vec<String>,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<ExchangeMessage>> {
        check_lease(lease)?;
        let now = self.now();
        let owner = self.pull_owner();
        let quarantine_after = self.exchange_settings()?.quarantine_after;
        self.store.write(Commit::Lazy, move |db| {
            let handled: Vec<&str> = handled.iter().map(String::as_str).collect();
            let times = (now.plus(lease), now);
            Core::claim_exchange_inbox(db, &owner, times, (None, &handled), max, quarantine_after)
        })
    }

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

impl Core {
    /// [`Engine::exchange_identity`](crate::Engine::exchange_identity).
    pub(crate) fn exchange_identity(&self) -> Result<ExchangeIdentity> {
        self.identity()
    }

    /// [`Engine::send_message`](crate::Engine::send_message).
    pub(crate) fn send_message(
        &self,
        channel: &str,
        body: &str,
        recipients: &Recipients,
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Addressed(recipients), false)
    }

    /// [`Engine::send_message_now`](crate::Engine::send_message_now).
    pub(crate) fn send_message_now(
        &self,
        channel: &str,
        body: &str,
        recipients: &Recipients,
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Addressed(recipients), true)
    }

    /// [`Engine::send_message_to_subscribers`](crate::Engine::send_message_to_subscribers).
    pub(crate) fn send_message_to_subscribers(
        &self,
        channel: &str,
        body: &str,
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Subscribers, false)
    }

    /// [`Engine::send_message_to_subscribers_now`](crate::Engine::send_message_to_subscribers_now).
    pub(crate) fn send_message_to_subscribers_now(
        &self,
        channel: &str,
        body: &str,
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Subscribers, true)
    }

    fn send(
        &self,
        channel: &str,
        body: &str,
        target: &Target<'_>,
        quick: bool,
    ) -> Result<ExchangeMessageId> {
        check_channel(channel)?;
        if matches!(target, Target::Addressed(Recipients::Endpoints(list)) if list.is_empty()) {
            return Err(Error::InvalidArgument {
                name: "recipient",
                reason: "the list of recipients is empty".to_owned(),
            });
        }
        crate::limits::checks::check_message(|| "the message body".to_owned(), body)?;
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        let recipients = match target {
            Target::Addressed(Recipients::Endpoints(list)) => Some(list.clone()),
            Target::Addressed(Recipients::FromSettings) | Target::Subscribers => None,
        };
        let subscribers = matches!(target, Target::Subscribers);
        let (channel, body, uuid) = (channel.to_owned(), body.to_owned(), id.clone());
        self.store.write(Commit::Durable, move |db| {
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
        self.wake.notify();
        Ok(id.into())
    }

    /// [`Engine::set_sender_recipients`](crate::Engine::set_sender_recipients).
    pub(crate) fn set_sender_recipients(&self, channel: &str, recipients: &[String]) -> Result<()> {
        check_channel(channel)?;
        let (channel, recipients) = (channel.to_owned(), recipients.to_vec());
        self.store.write(Commit::Durable, move |db| {
            db.clear_exchange_recipients(RecipientKind::Sender, &channel)?;
            for r in &recipients {
                endpoint_checked(db, r, false)?;
                db.add_exchange_recipient(RecipientKind::Sender, &channel, r)?;
            }
            Ok::<_, Error>(())
        })
    }

    /// [`Engine::channel_recipients`](crate::Engine::channel_recipients).
    pub(crate) fn channel_recipients(&self, channel: &str) -> Result<ChannelRecipients> {
        self.store.read(|db| {
            Ok::<_, Error>(ChannelRecipients {
                sender: db.exchange_recipients(RecipientKind::Sender, channel)?,
                subscribers: db.exchange_recipients(RecipientKind::Subscriber, channel)?,
            })
        })
    }

    /// [`Engine::subscribe_recipient`](crate::Engine::subscribe_recipient).
    pub(crate) fn subscribe_recipient(&self, channel: &str, recipient: &str) -> Result<()> {
        check_channel(channel)?;
        let (channel, recipient) = (channel.to_owned(), recipient.to_owned());
        self.store.write(Commit::Durable, move |db| {
            endpoint_checked(db, &recipient, false)?;
            db.add_exchange_recipient(RecipientKind::Subscriber, &channel, &recipient)?;
            Ok::<_, Error>(())
        })
    }

    /// [`Engine::unsubscribe_recipient`](crate::Engine::unsubscribe_recipient).
    pub(crate) fn unsubscribe_recipient(&self, channel: &str, recipient: &str) -> Result<bool> {
        let (channel, recipient) = (channel.to_owned(), recipient.to_owned());
        self.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.remove_exchange_recipient(
                RecipientKind::Subscriber,
                &channel,
                &recipient,
            )?)
        })
    }

    /// [`Engine::subscribe`](crate::Engine::subscribe).
    pub(crate) fn subscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.subscription(channel, publisher, kind::SUBSCRIBE)
    }

    /// [`Engine::unsubscribe`](crate::Engine::unsubscribe).
    pub(crate) fn unsubscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.subscription(channel, publisher, kind::UNSUBSCRIBE)
    }

    fn subscription(&self, channel: &str, publisher: &str, notice: &'static str) -> Result<()> {
        check_channel(channel)?;
        let now = self.now();
        let (channel, publisher) = (channel.to_owned(), publisher.to_owned());
        self.store.write(Commit::Durable, move |db| {
            endpoint_checked(db, &publisher, false)?;
            Core::notice(db, notice, &channel, &publisher, "null", now)
        })?;
        self.wake.notify();
        Ok(())
    }

    /// [`Engine::block_endpoint`](crate::Engine::block_endpoint).
    pub(crate) fn block_endpoint(&self, code: &str) -> Result<()> {
        self.set_blocked(code, true)
    }

    /// [`Engine::unblock_endpoint`](crate::Engine::unblock_endpoint).
    pub(crate) fn unblock_endpoint(&self, code: &str) -> Result<()> {
        self.set_blocked(code, false)
    }

    fn set_blocked(&self, code: &str, blocked: bool) -> Result<()> {
        let now = self.now();
        let code = code.to_owned();
        self.store.write(Commit::Durable, move |db| {
            if db.set_exchange_endpoint_blocked(&code, blocked, now)? {
                Ok(())
            } else {
                Err(Error::UnknownEndpoint { code })
            }
        })?;
        self.wake.notify();
        Ok(())
    }

    /// [`Engine::sent_exchange_messages`](crate::Engine::sent_exchange_messages).
    pub(crate) fn sent_exchange_messages(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<SentMessage>> {
        check_list_limit(limit)?;
        let rows = self.store.read(|db| db.outbox(status, limit))?;
        Ok(rows.into_iter().map(SentMessage::from).collect())
    }

    /// [`Engine::exchange_endpoints`](crate::Engine::exchange_endpoints).
    pub(crate) fn exchange_endpoints(&self) -> Result<Vec<ExchangeEndpoint>> {
        let rows = self.store.read(|db| db.exchange_endpoints())?;
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

    /// [`Engine::connect_endpoint`](crate::Engine::connect_endpoint).
    pub(crate) fn connect_endpoint(
        &self,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
        recipient_name: &str,
        sender_name: &str,
    ) -> Result<ExchangeEndpoint> {
        sender.check("sender settings")?;
        recipient.check("recipient settings")?;
        let me = self.exchange_identity()?;
        let them = self.check_both_ways(&me, sender, recipient, None)?;
        let introduction = Introduction {
            code: me.code.clone(),
            name: or_own(sender_name, &me.name),
            settings: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "connect", &introduction).map_err(
            |reason| Error::Connect {
                check: RECORDING,
                reason,
            },
        )?;
        let name = or_own(recipient_name, &them.name);
        self.record_endpoint(&them.code, &name, recipient)?;
        Ok(ExchangeEndpoint {
            code: them.code,
            name,
            url: recipient.url.clone(),
            blocked: false,
        })
    }

    /// [`Engine::update_endpoint_connection_settings`](crate::Engine::update_endpoint_connection_settings).
    pub(crate) fn update_endpoint_connection_settings(
        &self,
        code: &str,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
    ) -> Result<()> {
        sender.check("sender settings")?;
        recipient.check("recipient settings")?;
        let known = self
            .store
            .read(|db| db.exchange_endpoint(code))?
            .ok_or_else(|| Error::UnknownEndpoint {
                code: code.to_owned(),
            })?;
        let me = self.exchange_identity()?;
        self.check_both_ways(&me, sender, recipient, Some(code))?;
        let introduction = Introduction {
            code: me.code,
            name: String::new(),
            settings: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "update-settings", &introduction).map_err(
            |reason| Error::Connect {
                check: RECORDING,
                reason,
            },
        )?;
        self.record_endpoint(code, &known.name, recipient)
    }

    /// Checks 1 and 2; the recipient's identity.
    fn check_both_ways(
        &self,
        me: &ExchangeIdentity,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
        expected: Option<&str>,
    ) -> Result<ExchangeIdentity> {
        let them = wire::ping(recipient).map_err(|reason| Error::Connect {
            check: THIS_TO_RECIPIENT,
            reason,
        })?;
        if them.code == me.code {
            return Err(Error::Connect {
                check: THIS_TO_RECIPIENT,
                reason: format!("{} reaches this base itself", recipient.url),
            });
        }
        if let Some(expected) = expected
            && them.code != expected
        {
            return Err(Error::Connect {
                check: THIS_TO_RECIPIENT,
                reason: format!(
                    "{} reaches base '{}' ({}), not endpoint {expected}",
                    recipient.url, them.name, them.code
                ),
            });
        }
        let back = CheckBack {
            sender_code: me.code.clone(),
            sender: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "check-back", &back).map_err(|reason| {
            Error::Connect {
                check: RECIPIENT_TO_THIS,
                reason,
            }
        })?;
        Ok(them)
    }

    fn record_endpoint(&self, code: &str, name: &str, settings: &ConnectionSettings) -> Result<()> {
        let now = self.now();
        let row = EndpointRow {
            code: code.to_owned(),
            name: name.to_owned(),
            url: settings.url.clone(),
            username: settings.username.clone(),
            password: settings.password.expose().to_owned(),
            blocked: false,
        };
        self.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.upsert_exchange_endpoint(&row, now)?)
        })?;
        self.wake.notify();
        Ok(())
    }

    /// [`Engine::deliver_messages`](crate::Engine::deliver_messages).
    pub(crate) fn deliver_messages(&self) -> Result<QuickDeliveryReport> {
        let core = self;
        let owner = core.owner.clone();
        let now = core.now();
        let holder = owner.clone();
        let taken = core.store.write(Commit::Lazy, move |db| {
            let until = now.plus(DELIVERER_LEASE);
            Ok::<_, Error>(db.acquire_named_lease(DELIVERER, &holder, until, now)?)
        })?;
        if !taken {
            return Ok(QuickDeliveryReport {
                busy: true,
                ..QuickDeliveryReport::default()
            });
        }
        let delivered = self.deliver_quick(&owner);
        let released = core.store.write(Commit::Lazy, move |db| {
            Ok::<_, Error>(db.release_named_lease(DELIVERER, &owner)?)
        });
        let report = delivered?;
        released?;
        Ok(report)
    }

    fn deliver_quick(&self, owner: &str) -> Result<QuickDeliveryReport> {
        let core = self;
        let name = core.exchange_settings()?.name;
        let mut report = QuickDeliveryReport::default();
        loop {
            let now = core.now();
            let recipients = core.store.read(|db| db.outbox_recipients(now, true))?;
            let recipients: Vec<String> = recipients
                .into_iter()
                .filter(|r| !report.unavailable.contains(r))
                .collect();
            if recipients.is_empty() {
                return Ok(report);
            }
            for recipient in recipients {
                let now = core.now();
                let (holder, who, to) = (owner.to_owned(), name.clone(), recipient.clone());
                let claimed = core.store.write(Commit::Lazy, move |db| {
                    let times = (now.plus(CLAIM_LEASE), now);
                    Core::claim_outbox(db, (&holder, &who), &to, true, times)
                })?;
                let Some(claimed) = claimed else {
                    continue;
                };
                let outcome = Core::post_outbox(&claimed);
                let now = core.now();
                let holder = owner.to_owned();
                let recorded = outcome.clone();
                let delivered = core.store.write(Commit::Durable, move |db| {
                    Core::record_outbox(db, &holder, &claimed, &recorded, now)
                })?;
                report.delivered += delivered;
                if let Err(e) = outcome {
                    log::warn!(
                        endpoint = recipient.as_str();
                        "quick delivery to endpoint {recipient} failed; its messages wait for regular delivery: {e}"
                    );
                    report.unavailable.push(recipient);
                }
            }
        }
    }

    /// [`Engine::release_exchange_messages`](crate::Engine::release_exchange_messages).
    pub(crate) fn release_exchange_messages(&self, ids: &[String]) -> Result<usize> {
        self.release_pulled(ids, |db, ids, owner, now| db.release_inbox(ids, owner, now))
    }

    /// [`Engine::ack_exchange_message`](crate::Engine::ack_exchange_message).
    pub(crate) fn ack_exchange_message(&self, id: &str) -> Result<()> {
        self.finish_exchange(id, None)
    }

    /// [`Engine::fail_exchange_message`](crate::Engine::fail_exchange_message).
    pub(crate) fn fail_exchange_message(&self, id: &str, error: &str) -> Result<()> {
        self.finish_exchange(id, Some(HandlerError::retry(error)))
    }

    fn finish_exchange(&self, id: &str, failure: Option<HandlerError>) -> Result<()> {
        let now = self.now();
        let retry = self.exchange_settings()?.handling_retry();
        let id = id.to_owned();
        self.store.write(Commit::Durable, move |db| {
            let finished =
                Core::finish_exchange_message(db, &id, (failure.as_ref(), None), &retry, now)?;
            match finished {
                Some(_) => Ok(()),
                None => Err(Error::MessageNotFound { id }),
            }
        })?;
        self.wake.notify();
        Ok(())
    }

    /// [`Engine::received_exchange_messages`](crate::Engine::received_exchange_messages).
    pub(crate) fn received_exchange_messages(
        &self,
        status: Option<InboxStatus>,
        limit: usize,
    ) -> Result<Vec<ReceivedMessage>> {
        check_list_limit(limit)?;
        let rows = self.store.read(|db| db.inbox(status, limit))?;
        Ok(rows.into_iter().map(ReceivedMessage::from).collect())
    }

    /// [`Engine::retry_received_exchange_messages`](crate::Engine::retry_received_exchange_messages).
    pub(crate) fn retry_received_exchange_messages(&self, id: Option<&str>) -> Result<usize> {
        let now = self.now();
        let id = id.map(str::to_owned);
        let n = self.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.redrive_inbox(id.as_deref(), now)?)
        })?;
        self.wake.notify();
        Ok(n)
    }
}
