//! Delivery transitions shared by the dispatcher and the rescuer: leaving InProgress with
//! its history row, and ending the message when its last delivery finishes.

use crate::error::Result;
use crate::status::{DeliveryStatus, MessageStatus};
use crate::store::Db;
use crate::time::Timestamp;

/// Moves a delivery out of InProgress (only while `owner` holds its lease, when given),
/// writes its history, and ends its message when this was the last pending delivery.
/// Returns false when the delivery was not InProgress under that lease.
pub(crate) fn finish_delivery(
    db: &Db<'_>,
    id: i64,
    owner: Option<&str>,
    to: DeliveryStatus,
    error: Option<&str>,
    next_attempt_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool> {
    let Some((message_id, subscriber, attempts)) = db.transition_delivery(
        id,
        DeliveryStatus::InProgress,
        to,
        owner,
        error,
        next_attempt_at,
        now,
    )?
    else {
        return Ok(false);
    };
    db.insert_message_history(
        message_id,
        Some(&subscriber),
        now,
        to.as_str(),
        attempts,
        error,
    )?;
    if to.is_final() {
        finish_message(db, message_id, now)?;
    }
    Ok(true)
}

/// Ends a dispatched message whose deliveries have all finished, with its history row.
pub(crate) fn finish_message(db: &Db<'_>, message_id: i64, now: Timestamp) -> Result<()> {
    if let Some((status, attempts)) = db.finish_message(message_id, now)? {
        let detail = (status == MessageStatus::Undelivered)
            .then_some("every delivery finished, at least one is dead");
        db.insert_message_history(message_id, None, now, status.as_str(), attempts, detail)?;
    }
    Ok(())
}
