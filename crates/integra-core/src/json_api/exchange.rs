//! The message exchange (the 1C SSL «Обмен сообщениями» API) through a [`Handle`]: the
//! same operations as [`crate::exchange`], with endpoints, recipients and connection
//! settings as JSON text.

use std::str::FromStr;

use super::{
    Handle, ID_UNITS, MAX_BATCH, Reserve, claimed, count, json, lease, parse, reserve_room,
};
use crate::error::{Error, Result};
use crate::exchange::{ConnectionSettings, Recipients};

/// Most items one listing returns.
const MAX_LIST: i64 = crate::limits::MAX_LIST as i64;

/// The recipients argument of a send: `""` or `null` (the sender's settings for the
/// channel), one endpoint code (bare or as a JSON string), or a JSON array of codes.
fn recipients(text: &str) -> Result<Recipients> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(Recipients::FromSettings);
    }
    if !trimmed.starts_with('[') && !trimmed.starts_with('"') {
        return Ok(Recipients::Endpoints(vec![trimmed.to_owned()]));
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Given {
        One(String),
        Many(Vec<String>),
    }
    let given = parse::<Given>("the recipients", trimmed).map_err(|_| Error::InvalidJson {
        what: "the recipients".to_owned(),
        reason: "expected an endpoint code or a JSON array of codes".to_owned(),
    })?;
    Ok(Recipients::Endpoints(match given {
        Given::One(code) => vec![code],
        Given::Many(codes) => codes,
    }))
}

/// A status filter argument: `""` for every status.
fn status<S: FromStr>(text: &str) -> Result<Option<S>>
where
    S::Err: std::fmt::Display,
{
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e: S::Err| Error::InvalidArgument {
            name: "status",
            reason: e.to_string(),
        })
}

/// Connection settings: `{"url", "username", "password"}`.
fn settings(what: &'static str, text: &str) -> Result<ConnectionSettings> {
    parse(what, text)
}

impl Handle {
    /// Sends `body` on an addressed channel to `recipients_json`: `""` (the sender's
    /// settings for the channel), an endpoint code, or a JSON array of codes. `quick` makes
    /// it a quick message, pushed by `deliver_messages`. The message id.
    ///
    /// # Errors
    /// As [`crate::Engine::send_message`]; [`Error::NoRoomForResult`].
    pub fn send_message(
        &self,
        channel: &str,
        body: &str,
        recipients_json: &str,
        quick: bool,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let to = recipients(recipients_json)?;
        let engine = self.engine()?;
        reserve_room(reserve, ID_UNITS)?;
        if quick {
            engine
                .send_message_now(channel, body, &to)
                .map(String::from)
        } else {
            engine.send_message(channel, body, &to).map(String::from)
        }
    }

    /// Sends `body` on a broadcast channel to its subscribers (`quick` as for
    /// [`Handle::send_message`]); the message id.
    ///
    /// # Errors
    /// As [`crate::Engine::send_message_to_subscribers`]; [`Error::NoRoomForResult`].
    pub fn send_message_to_subscribers(
        &self,
        channel: &str,
        body: &str,
        quick: bool,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let engine = self.engine()?;
        reserve_room(reserve, ID_UNITS)?;
        if quick {
            engine
                .send_message_to_subscribers_now(channel, body)
                .map(String::from)
        } else {
            engine
                .send_message_to_subscribers(channel, body)
                .map(String::from)
        }
    }

    /// Pushes the quick messages now; the JSON of the report.
    ///
    /// # Errors
    /// As [`crate::Engine::deliver_messages`].
    pub fn deliver_messages(&self) -> Result<String> {
        Ok(json(&self.engine()?.deliver_messages()?))
    }

    /// Connects another base: `sender_json` says how it reaches this base, `recipient_json`
    /// how this base reaches it (`{"url", "username", "password"}`). The JSON of the new
    /// endpoint.
    ///
    /// # Errors
    /// As [`crate::Engine::connect_endpoint`].
    pub fn connect_endpoint(
        &self,
        sender_json: &str,
        recipient_json: &str,
        recipient_name: &str,
        sender_name: &str,
    ) -> Result<String> {
        let sender = settings("the sender settings", sender_json)?;
        let recipient = settings("the recipient settings", recipient_json)?;
        let endpoint =
            self.engine()?
                .connect_endpoint(&sender, &recipient, recipient_name, sender_name)?;
        Ok(json(&endpoint))
    }

    /// Changes how endpoint `code` and this base reach each other, on both sides.
    ///
    /// # Errors
    /// As [`crate::Engine::update_endpoint_connection_settings`].
    pub fn update_endpoint_connection_settings(
        &self,
        code: &str,
        sender_json: &str,
        recipient_json: &str,
    ) -> Result<()> {
        let sender = settings("the sender settings", sender_json)?;
        let recipient = settings("the recipient settings", recipient_json)?;
        self.engine()?
            .update_endpoint_connection_settings(code, &sender, &recipient)
    }

    /// Sets the sender's recipients of an addressed channel (a JSON array of codes).
    ///
    /// # Errors
    /// As [`crate::Engine::set_sender_recipients`].
    pub fn set_sender_recipients(&self, channel: &str, recipients_json: &str) -> Result<()> {
        let codes: Vec<String> = parse("the recipients", recipients_json)?;
        self.engine()?.set_sender_recipients(channel, &codes)
    }

    /// Subscribes (`subscribed`) or unsubscribes endpoint `recipient` to a broadcast channel
    /// of this base.
    ///
    /// # Errors
    /// As [`crate::Engine::subscribe_recipient`].
    pub fn set_recipient_subscribed(
        &self,
        channel: &str,
        recipient: &str,
        subscribed: bool,
    ) -> Result<()> {
        let engine = self.engine()?;
        if subscribed {
            engine.subscribe_recipient(channel, recipient)
        } else {
            engine.unsubscribe_recipient(channel, recipient).map(|_| ())
        }
    }

    /// Subscribes (`subscribed`) or unsubscribes this base to `publisher`'s broadcast
    /// channel; the publisher is told.
    ///
    /// # Errors
    /// As [`crate::Engine::subscribe`].
    pub fn set_subscribed(&self, channel: &str, publisher: &str, subscribed: bool) -> Result<()> {
        let engine = self.engine()?;
        if subscribed {
            engine.subscribe(channel, publisher)
        } else {
            engine.unsubscribe(channel, publisher)
        }
    }

    /// Blocks (`blocked`) or unblocks an endpoint.
    ///
    /// # Errors
    /// As [`crate::Engine::block_endpoint`].
    pub fn set_endpoint_blocked(&self, code: &str, blocked: bool) -> Result<()> {
        let engine = self.engine()?;
        if blocked {
            engine.block_endpoint(code)
        } else {
            engine.unblock_endpoint(code)
        }
    }

    /// This base's identity and the endpoints it exchanges with:
    /// `{"this": {"code", "name"}, "endpoints": [{"code", "name", "url", "blocked"}…]}`.
    ///
    /// # Errors
    /// As [`crate::Engine::exchange_endpoints`].
    pub fn exchange_endpoints(&self) -> Result<String> {
        let engine = self.engine()?;
        Ok(json(&serde_json::json!({
            "this": engine.exchange_identity()?,
            "endpoints": engine.exchange_endpoints()?,
        })))
    }

    /// Who receives `channel`: `{"sender": [code…], "subscribers": [code…]}`.
    ///
    /// # Errors
    /// As [`crate::Engine::channel_recipients`].
    pub fn channel_recipients(&self, channel: &str) -> Result<String> {
        Ok(json(&self.engine()?.channel_recipients(channel)?))
    }

    /// Claims up to `max` received messages of channels without a Rust handler, for
    /// `lease_seconds`; the JSON array of `{id, sender, channel, body, attempt}`.
    ///
    /// # Errors
    /// As [`crate::Engine::next_exchange_messages`]; [`Error::NoRoomForResult`], the
    /// claim given back.
    pub fn next_exchange_messages(
        &self,
        max: i64,
        lease_seconds: i64,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let engine = self.engine()?;
        let messages =
            engine.next_exchange_messages(count("max", max, MAX_BATCH)?, lease(lease_seconds)?)?;
        claimed(
            &messages,
            |m| m.id.as_str(),
            |ids| engine.release_exchange_messages(ids),
            reserve,
        )
    }

    /// Marks a claimed received message handled; its sender is told.
    ///
    /// # Errors
    /// As [`crate::Engine::ack_exchange_message`].
    pub fn ack_exchange_message(&self, id: &str) -> Result<()> {
        self.engine()?.ack_exchange_message(id)
    }

    /// Records that handling a claimed received message failed.
    ///
    /// # Errors
    /// As [`crate::Engine::fail_exchange_message`].
    pub fn fail_exchange_message(&self, id: &str, error: &str) -> Result<()> {
        self.engine()?.fail_exchange_message(id, error)
    }

    /// Received messages in `status` (`""`: every status), at most `limit`, as JSON.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown status; as
    /// [`crate::Engine::received_exchange_messages`].
    pub fn received_exchange_messages(&self, status_text: &str, limit: i64) -> Result<String> {
        let messages = self
            .engine()?
            .received_exchange_messages(status(status_text)?, count("limit", limit, MAX_LIST)?)?;
        Ok(json(&messages))
    }

    /// Sent messages and notices in `status` (`""`: every status), at most `limit`, as JSON.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown status; as
    /// [`crate::Engine::sent_exchange_messages`].
    pub fn sent_exchange_messages(&self, status_text: &str, limit: i64) -> Result<String> {
        let messages = self
            .engine()?
            .sent_exchange_messages(status(status_text)?, count("limit", limit, MAX_LIST)?)?;
        Ok(json(&messages))
    }

    /// Sends quarantined received message `id` (`""`: every one) back to be handled; how
    /// many.
    ///
    /// # Errors
    /// As [`crate::Engine::retry_received_exchange_messages`].
    pub fn retry_received_exchange_messages(&self, id: &str) -> Result<u64> {
        let id = (!id.is_empty()).then_some(id);
        Ok(self.engine()?.retry_received_exchange_messages(id)? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_none_one_code_or_an_array() {
        assert_eq!(recipients("").unwrap(), Recipients::FromSettings);
        assert_eq!(recipients(" null ").unwrap(), Recipients::FromSettings);
        assert_eq!(
            recipients("wms").unwrap(),
            Recipients::Endpoints(vec!["wms".to_owned()])
        );
        assert_eq!(
            recipients("\"wms\"").unwrap(),
            Recipients::Endpoints(vec!["wms".to_owned()])
        );
        assert_eq!(
            recipients("[\"a\", \"b\"]").unwrap(),
            Recipients::Endpoints(vec!["a".to_owned(), "b".to_owned()])
        );
        let err = recipients("[1]").unwrap_err().to_string();
        assert!(err.contains("the recipients"), "{err}");
    }

    #[test]
    fn a_status_filter_names_what_is_wrong() {
        use crate::status::InboxStatus;
        assert_eq!(status::<InboxStatus>("").unwrap(), None);
        assert_eq!(
            status::<InboxStatus>("quarantined").unwrap(),
            Some(InboxStatus::Quarantined)
        );
        let err = status::<InboxStatus>("lost").unwrap_err().to_string();
        assert!(err.contains("status") && err.contains("lost"), "{err}");
    }
}
