//! The message exchange between bases («Обмен сообщениями»).

use std::sync::Arc;
use std::time::Duration;

use crate::core::Core;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exchange::connect::{
    ConnectionSettings, RECIPIENT_TO_THIS, RECORDING, THIS_TO_RECIPIENT, or_own,
};
use crate::exchange::deliver::{CLAIM_LEASE, DELIVERER, DELIVERER_LEASE, QuickDeliveryReport};
use crate::exchange::inbox::{ChannelHandler, ExchangeMessage, ReceivedMessage};
use crate::exchange::wire::{self, CheckBack, Introduction};
use crate::exchange::{
    ChannelRecipients, ExchangeEndpoint, ExchangeIdentity, Recipients, SentMessage, Target,
    check_channel, endpoint_checked, identity, kind,
};
use crate::ids::ExchangeMessageId;
use crate::limits::check_list_limit;
use crate::queue::forming::check_lease;
use crate::queue::retry::HandlerError;
use crate::queue::status::{InboxStatus, OutboxStatus};
use crate::store::{Commit, EndpointRow, NewInbox, NewOutbox, RecipientKind};

/// The message exchange between bases («Обмен сообщениями»).
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
    ) -> Result<ExchangeMessageId> {
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
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Addressed(recipients), true)
    }

    /// Sends `body` on a broadcast channel to every endpoint subscribed to it and not
    /// blocked (none: nothing is sent); returns the message id.
    ///
    /// # Errors
    /// As [`Engine::send_message`].
    pub fn send_message_to_subscribers(
        &self,
        channel: &str,
        body: &str,
    ) -> Result<ExchangeMessageId> {
        self.send(channel, body, &Target::Subscribers, false)
    }

    /// [`Engine::send_message_to_subscribers`], as a quick message.
    ///
    /// # Errors
    /// As [`Engine::send_message`].
    pub fn send_message_to_subscribers_now(
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
        Ok(id.into())
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

impl Engine {
    /// Connects the base reached with `recipient` as an endpoint named `recipient_name`,
    /// after checking the connection both ways; the recipient records this base, reached
    /// with `sender`, as `sender_name`. An empty name stands for the base's own name.
    ///
    /// # Errors
    /// [`Error::Connect`] naming the check that failed (nothing was created);
    /// [`Error::InvalidArgument`] for a malformed URL.
    pub fn connect_endpoint(
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

    /// Changes how endpoint `code` is reached (`recipient`) and how it reaches this base
    /// (`sender`), after the same checks as [`Engine::connect_endpoint`]; both sides are
    /// updated.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; [`Error::Connect`] naming the check that failed.
    pub fn update_endpoint_connection_settings(
        &self,
        code: &str,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
    ) -> Result<()> {
        sender.check("sender settings")?;
        recipient.check("recipient settings")?;
        let known = self
            .core
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
        let now = self.core.now();
        let row = EndpointRow {
            code: code.to_owned(),
            name: name.to_owned(),
            url: settings.url.clone(),
            username: settings.username.clone(),
            password: settings.password.expose().to_owned(),
            blocked: false,
        };
        self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.upsert_exchange_endpoint(&row, now)?)
        })?;
        self.core.wake.notify();
        Ok(())
    }
}

impl Engine {
    /// Pushes every quick message now, looping until none is left: one caller at a time
    /// across threads and processes (another caller makes this one return at once, `busy`).
    /// An endpoint that fails is skipped for the rest of the call; its messages fall back to
    /// regular delivery.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn deliver_messages(&self) -> Result<QuickDeliveryReport> {
        let core = &self.core;
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
        let core = &self.core;
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
}

impl Engine {
    /// Registers the Rust handler of `channel`, run on the background dispatcher's threads.
    pub fn set_channel_handler(&self, channel: &str, handler: impl ChannelHandler + 'static) {
        let handler = Arc::new(handler);
        self.handlers.channels.set(channel, handler);
        self.core.wake.notify();
    }

    /// Claims up to `max` received messages of channels without a Rust handler in this
    /// process, reserving them for `lease`; answer each with
    /// [`Engine::ack_exchange_message`] or [`Engine::fail_exchange_message`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease outside 1 s ..= 24 h.
    pub fn next_exchange_messages(
        &self,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<ExchangeMessage>> {
        check_lease(lease)?;
        let now = self.core.now();
        let owner = self.core.pull_owner();
        let handled = self.handlers.channels.codes();
        let quarantine_after = self.core.exchange_settings()?.quarantine_after;
        self.core.store.write(Commit::Lazy, move |db| {
            // Channels with a Rust handler are the dispatcher's; the rest are pulled.
            let handled: Vec<&str> = handled.iter().map(String::as_str).collect();
            let times = (now.plus(lease), now);
            Core::claim_exchange_inbox(db, &owner, times, (None, &handled), max, quarantine_after)
        })
    }

    /// Gives messages claimed with [`Engine::next_exchange_messages`] back to be handled
    /// (the attempt uncounted); see [`Engine::release_forming`]. Returns how many.
    ///
    /// # Errors
    /// [`Error::Store`].
    pub fn release_exchange_messages(&self, ids: &[String]) -> Result<usize> {
        self.core
            .release_pulled(ids, |db, ids, owner, now| db.release_inbox(ids, owner, now))
    }

    /// Marks a claimed message handled; the sender is told.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`] when no claimed message has this id.
    pub fn ack_exchange_message(&self, id: &str) -> Result<()> {
        self.finish_exchange(id, None)
    }

    /// Records that handling a claimed message failed: it is handled again, or quarantined
    /// on its last allowed attempt.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`] when no claimed message has this id.
    pub fn fail_exchange_message(&self, id: &str, error: &str) -> Result<()> {
        self.finish_exchange(id, Some(HandlerError::retry(error)))
    }

    fn finish_exchange(&self, id: &str, failure: Option<HandlerError>) -> Result<()> {
        let now = self.core.now();
        let retry = self.core.exchange_settings()?.handling_retry();
        let id = id.to_owned();
        self.core.store.write(Commit::Durable, move |db| {
            let finished =
                Core::finish_exchange_message(db, &id, (failure.as_ref(), None), &retry, now)?;
            match finished {
                Some(_) => Ok(()),
                None => Err(Error::MessageNotFound { id }),
            }
        })?;
        self.core.wake.notify();
        Ok(())
    }

    /// Received messages in `status` (every status when `None`), oldest first, at most
    /// `limit`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a limit over [`crate::limits::MAX_LIST`];
    /// [`Error::Store`] when the database fails.
    pub fn received_exchange_messages(
        &self,
        status: Option<InboxStatus>,
        limit: usize,
    ) -> Result<Vec<ReceivedMessage>> {
        check_list_limit(limit)?;
        let rows = self.core.store.read(|db| db.inbox(status, limit))?;
        Ok(rows.into_iter().map(ReceivedMessage::from).collect())
    }

    /// Sends quarantined message `id` (every quarantined one when `None`) back to be handled
    /// afresh; how many.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn retry_received_exchange_messages(&self, id: Option<&str>) -> Result<usize> {
        let now = self.core.now();
        let id = id.map(str::to_owned);
        let n = self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.redrive_inbox(id.as_deref(), now)?)
        })?;
        self.core.wake.notify();
        Ok(n)
    }
}
