//! The message exchange between bases («Обмен сообщениями»).

use std::sync::Arc;
use std::time::Duration;

use crate::engine::Engine;
use crate::error::Result;
use crate::exchange::ConnectionSettings;
use crate::exchange::deliver::QuickDeliveryReport;
use crate::exchange::inbox::{ChannelHandler, ExchangeMessage, ReceivedMessage};
use crate::exchange::{
    ChannelRecipients, ExchangeEndpoint, ExchangeIdentity, Recipients, SentMessage,
};
use crate::ids::ExchangeMessageId;
use crate::status::{InboxStatus, OutboxStatus};

/// The message exchange between bases («Обмен сообщениями»).
impl Engine {
    /// This base's code and name as an exchange endpoint.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn exchange_identity(&self) -> Result<ExchangeIdentity> {
        self.core.exchange_identity()
    }

    /// Sends `body` (JSON) on an addressed channel to `recipients`; returns the message id.
    /// Delivered by the dispatcher.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a bad channel or no
    /// recipients; [`Error::InvalidJson`](crate::Error::InvalidJson);
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint);
    /// [`Error::EndpointBlocked`](crate::Error::EndpointBlocked). Nothing is queued then.
    pub fn send_message(
        &self,
        channel: &str,
        body: &str,
        recipients: &Recipients,
    ) -> Result<ExchangeMessageId> {
        self.core.send_message(channel, body, recipients)
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
        self.core.send_message_now(channel, body, recipients)
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
        self.core.send_message_to_subscribers(channel, body)
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
        self.core.send_message_to_subscribers_now(channel, body)
    }

    /// Sets the sender's recipients of an addressed channel (used when a send names none).
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint);
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a bad channel.
    pub fn set_sender_recipients(&self, channel: &str, recipients: &[String]) -> Result<()> {
        self.core.set_sender_recipients(channel, recipients)
    }

    /// Who receives `channel`: the sender's recipients and the subscribers.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn channel_recipients(&self, channel: &str) -> Result<ChannelRecipients> {
        self.core.channel_recipients(channel)
    }

    /// Subscribes `recipient` to a broadcast channel of this base (the publisher's side).
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint);
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a bad channel.
    pub fn subscribe_recipient(&self, channel: &str, recipient: &str) -> Result<()> {
        self.core.subscribe_recipient(channel, recipient)
    }

    /// Unsubscribes `recipient` from a broadcast channel of this base; false when it was not
    /// subscribed.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn unsubscribe_recipient(&self, channel: &str, recipient: &str) -> Result<bool> {
        self.core.unsubscribe_recipient(channel, recipient)
    }

    /// Subscribes this base to `publisher`'s broadcast channel: the subscription travels to
    /// the publisher (delivered like a message), which records this base as a subscriber.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint);
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a bad channel.
    pub fn subscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.core.subscribe(channel, publisher)
    }

    /// Unsubscribes this base from `publisher`'s broadcast channel.
    ///
    /// # Errors
    /// As [`Engine::subscribe`].
    pub fn unsubscribe(&self, channel: &str, publisher: &str) -> Result<()> {
        self.core.unsubscribe(channel, publisher)
    }

    /// Blocks an endpoint: it receives nothing until unblocked, and what it sends is
    /// quarantined.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint).
    pub fn block_endpoint(&self, code: &str) -> Result<()> {
        self.core.block_endpoint(code)
    }

    /// Unblocks an endpoint; what waited for it is delivered.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint).
    pub fn unblock_endpoint(&self, code: &str) -> Result<()> {
        self.core.unblock_endpoint(code)
    }

    /// Sent messages and notices in `status` (every status when `None`), oldest first, at
    /// most `limit`: one per recipient.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a limit over
    /// [`crate::limits::MAX_LIST`]; [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn sent_exchange_messages(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<SentMessage>> {
        self.core.sent_exchange_messages(status, limit)
    }

    /// Every endpoint this base exchanges with.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn exchange_endpoints(&self) -> Result<Vec<ExchangeEndpoint>> {
        self.core.exchange_endpoints()
    }

    /// Connects the base reached with `recipient` as an endpoint named `recipient_name`,
    /// after checking the connection both ways; the recipient records this base, reached
    /// with `sender`, as `sender_name`. An empty name stands for the base's own name.
    ///
    /// # Errors
    /// [`Error::Connect`](crate::Error::Connect) naming the check that failed (nothing was
    /// created); [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a malformed URL.
    pub fn connect_endpoint(
        &self,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
        recipient_name: &str,
        sender_name: &str,
    ) -> Result<ExchangeEndpoint> {
        self.core
            .connect_endpoint(sender, recipient, recipient_name, sender_name)
    }

    /// Changes how endpoint `code` is reached (`recipient`) and how it reaches this base
    /// (`sender`), after the same checks as [`Engine::connect_endpoint`]; both sides are
    /// updated.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`](crate::Error::UnknownEndpoint);
    /// [`Error::Connect`](crate::Error::Connect) naming the check that failed.
    pub fn update_endpoint_connection_settings(
        &self,
        code: &str,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
    ) -> Result<()> {
        self.core
            .update_endpoint_connection_settings(code, sender, recipient)
    }

    /// Pushes every quick message now, looping until none is left: one caller at a time
    /// across threads and processes (another caller makes this one return at once, `busy`).
    /// An endpoint that fails is skipped for the rest of the call; its messages fall back to
    /// regular delivery.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn deliver_messages(&self) -> Result<QuickDeliveryReport> {
        self.core.deliver_messages()
    }

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
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a lease outside 1 s ..= 24 h.
    pub fn next_exchange_messages(
        &self,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<ExchangeMessage>> {
        // Channels with a Rust handler are the dispatcher's; the rest are pulled.
        let handled = self.handlers.channels.codes();
        self.core.next_exchange_messages(handled, max, lease)
    }

    /// Gives messages claimed with [`Engine::next_exchange_messages`] back to be handled
    /// (the attempt uncounted); see [`Engine::release_forming`]. Returns how many.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store).
    pub fn release_exchange_messages(&self, ids: &[String]) -> Result<usize> {
        self.core.release_exchange_messages(ids)
    }

    /// Marks a claimed message handled; the sender is told.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`](crate::Error::MessageNotFound) when no claimed message has this
    /// id.
    pub fn ack_exchange_message(&self, id: &str) -> Result<()> {
        self.core.ack_exchange_message(id)
    }

    /// Records that handling a claimed message failed: it is handled again, or quarantined
    /// on its last allowed attempt.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`](crate::Error::MessageNotFound) when no claimed message has this
    /// id.
    pub fn fail_exchange_message(&self, id: &str, error: &str) -> Result<()> {
        self.core.fail_exchange_message(id, error)
    }

    /// Received messages in `status` (every status when `None`), oldest first, at most
    /// `limit`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a limit over
    /// [`crate::limits::MAX_LIST`]; [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn received_exchange_messages(
        &self,
        status: Option<InboxStatus>,
        limit: usize,
    ) -> Result<Vec<ReceivedMessage>> {
        self.core.received_exchange_messages(status, limit)
    }

    /// Sends quarantined message `id` (every quarantined one when `None`) back to be handled
    /// afresh; how many.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn retry_received_exchange_messages(&self, id: Option<&str>) -> Result<usize> {
        self.core.retry_received_exchange_messages(id)
    }
}
