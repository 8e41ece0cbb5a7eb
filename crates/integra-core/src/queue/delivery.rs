//! Delivery transitions shared by the dispatcher and the rescuer: leaving InProgress with
//! its history row, and ending the message when its last delivery finishes.

use crate::error::Result;
use crate::status::{DeliveryStatus, MessageStatus};
use crate::store::Db;
use crate::time::Timestamp;

/// Moves a delivery out of InProgress (only while `owner` holds its lease, when given),
/// writes its history, and ends its message when this was the last pending delivery; a
/// message a final delivery left open goes into `left_open` (see [`left_open`]). Returns
/// false when the delivery was not InProgress under that lease.
#[expect(
    clippy::too_many_arguments,
    reason = "the transition's columns, and where to note a message left open"
)]
pub(crate) fn finish_delivery(
    db: &Db<'_>,
    id: i64,
    owner: Option<&str>,
    to: DeliveryStatus,
    error: Option<&str>,
    next_attempt_at: Option<Timestamp>,
    now: Timestamp,
    left_open: &mut Vec<i64>,
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
    if to.is_final() && !finish_message(db, message_id, now)? {
        left_open.push(message_id);
    }
    Ok(true)
}

/// Ends a dispatched message whose deliveries have all finished, with its history row.
/// Returns whether it ended.
pub(crate) fn finish_message(db: &Db<'_>, message_id: i64, now: Timestamp) -> Result<bool> {
    let Some((status, attempts)) = db.finish_message(message_id, now)? else {
        return Ok(false);
    };
    let detail = (status == MessageStatus::Undelivered)
        .then_some("every delivery finished, at least one is dead");
    db.insert_message_history(message_id, None, now, status.as_str(), attempts, detail)?;
    Ok(true)
}

/// Messages whose final deliveries left them open, looked at again in a transaction of their
/// own once those committed: where writers run side by side (PostgreSQL), two transactions
/// that finish a message's last two deliveries at once each see the other's still in
/// progress, and neither ends the message. Whichever commits last then finds, in its second
/// look, both finished. Where one writer at a time commits (SQLite), the first look is
/// enough and nothing is looked at again.
pub(crate) fn left_open(core: &crate::core::Core, messages: Vec<i64>) -> Result<()> {
    if messages.is_empty() || !core.store.concurrent_writers() {
        return Ok(());
    }
    let now = core.now();
    core.store.write(crate::store::Commit::Durable, move |db| {
        messages
            .into_iter()
            .try_for_each(|id| finish_message(db, id, now).map(drop))
    })
}
