//! Fan-out: turning a formed message into one delivery per active subscriber of its flow.
//!
//! A delivery carries an ordering key only on a flow ordered by key: that is what holds it
//! behind earlier messages with the same key. On other flows the message keeps its ordering
//! key for the transports to carry, and its deliveries go as soon as they are due.

use crate::config::{ConfigSnapshot, Flow, Ordering, SubscriberKind};
use crate::error::{Error, Result};
use crate::status::{DeliveryStatus, MessageStatus};
use crate::store::{Db, NewDelivery, StoreError};
use crate::time::Timestamp;
use crate::transport::not_jsonrpc_params;

/// The codes of the flow's active subscribers: the ones that get a delivery.
pub(crate) fn targets<'c>(config: &'c ConfigSnapshot, flow: &'c Flow) -> Vec<&'c str> {
    flow.subscribers
        .iter()
        .filter(|code| config.subscriber(code).is_some_and(|s| s.active))
        .map(String::as_str)
        .collect()
}

/// Refuses a payload (JSON text) that one of the flow's active subscribers cannot be sent:
/// a JSON-RPC 2.0 subscriber takes only an object or an array, its call's `params`. `what`
/// names the payload for the error.
///
/// # Errors
/// [`Error::NotJsonRpcParams`] naming the flow and the first such subscriber.
pub(crate) fn check_sendable(
    config: &ConfigSnapshot,
    flow: &Flow,
    what: impl FnOnce() -> String,
    payload: &str,
) -> Result<()> {
    let Some(found) = not_jsonrpc_params(payload) else {
        return Ok(());
    };
    let jsonrpc = targets(config, flow).into_iter().find(|code| {
        config
            .subscriber(code)
            .is_some_and(|s| s.kind == SubscriberKind::Jsonrpc)
    });
    match jsonrpc {
        None => Ok(()),
        Some(subscriber) => Err(Error::NotJsonRpcParams {
            what: what(),
            flow: flow.code.clone(),
            subscriber: subscriber.to_owned(),
            found,
        }),
    }
}

/// The status a formed message moves to: Dispatched, or Sent when nobody is to receive it.
pub(crate) fn status_after_fan_out(targets: &[&str]) -> MessageStatus {
    if targets.is_empty() {
        MessageStatus::Sent
    } else {
        MessageStatus::Dispatched
    }
}

/// A message that is ready to fan out.
pub(crate) struct Formed<'a> {
    pub(crate) message_id: i64,
    pub(crate) flow: &'a Flow,
    /// The message's ordering key.
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) due: Timestamp,
    pub(crate) attempt: u32,
}

/// Creates the deliveries of a message (already in its after-fan-out status) and writes the
/// history of its last transitions.
pub(crate) fn fan_out(
    db: &Db<'_>,
    m: &Formed<'_>,
    targets: &[&str],
    now: Timestamp,
) -> Result<(), StoreError> {
    let status = status_after_fan_out(targets);
    let note = targets
        .is_empty()
        .then_some("the flow has no active subscribers");
    db.insert_message_history(m.message_id, None, now, status.as_str(), m.attempt, note)?;
    let ordering_key = m
        .ordering_key
        .filter(|_| m.flow.ordering == Ordering::ByKey);
    for subscriber in targets {
        db.insert_delivery(&NewDelivery {
            message_id: m.message_id,
            subscriber,
            flow: &m.flow.code,
            ordering_key,
            status: DeliveryStatus::New,
            next_attempt_at: m.due,
            now,
        })?;
        db.insert_message_history(
            m.message_id,
            Some(subscriber),
            now,
            DeliveryStatus::New.as_str(),
            0,
            None,
        )?;
    }
    Ok(())
}
