//! Fan-out: turning a formed message into one delivery per active subscriber of its flow.

use crate::config::{ConfigSnapshot, Flow};
use crate::queue::status::{DeliveryStatus, MessageStatus};
use crate::store::{Db, NewDelivery, StoreError};
use crate::time::Timestamp;

/// The codes of the flow's active subscribers: the ones that get a delivery.
pub(crate) fn targets<'c>(config: &'c ConfigSnapshot, flow: &'c Flow) -> Vec<&'c str> {
    flow.subscribers
        .iter()
        .filter(|code| config.subscriber(code).is_some_and(|s| s.active))
        .map(String::as_str)
        .collect()
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
    pub(crate) flow: &'a str,
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
    for subscriber in targets {
        db.insert_delivery(&NewDelivery {
            message_id: m.message_id,
            subscriber,
            flow: m.flow,
            ordering_key: m.ordering_key,
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
