//! Delivery transitions shared by the dispatcher and the rescuer: leaving InProgress with
//! its history row, and ending the message when its last delivery finishes. The questions
//! these ask the database (did the delivery move? did its message end?) are sent ahead and
//! read afterwards, so that a batch's share one round trip on PostgreSQL.

use crate::error::Result;
use crate::status::{DeliveryStatus, MessageStatus};
use crate::store::{Db, Later};
use crate::time::Timestamp;

/// A delivery leaving InProgress: the columns of its transition.
pub(crate) struct Leaving<'a> {
    pub(crate) id: i64,
    /// Only while this owner holds its lease, when given.
    pub(crate) owner: Option<&'a str>,
    pub(crate) to: DeliveryStatus,
    pub(crate) error: Option<&'a str>,
    pub(crate) next_attempt_at: Option<Timestamp>,
}

/// The move of a delivery out of InProgress, sent ahead ([`send_move`]): the moves of a
/// whole batch share one round trip, and [`Moving::finish`] reads whether each moved.
pub(crate) struct Moving<'c> {
    moved: Later<'c, (i64, String, u32)>,
    to: DeliveryStatus,
    error: Option<String>,
}

/// Sends ahead the move of `leaving` out of InProgress.
pub(crate) fn send_move<'c>(
    db: &'c Db<'c>,
    leaving: &Leaving<'_>,
    now: Timestamp,
) -> Result<Moving<'c>> {
    let moved = db.transition_delivery(
        leaving.id,
        DeliveryStatus::InProgress,
        leaving.to,
        leaving.owner,
        leaving.error,
        leaving.next_attempt_at,
        now,
    )?;
    Ok(Moving {
        moved,
        to: leaving.to,
        error: leaving.error.map(str::to_owned),
    })
}

impl<'c> Moving<'c> {
    /// Whether the delivery moved (false: it was not InProgress under that lease). When it
    /// did, writes its history and, when it was final, sends its message's end ahead into
    /// `ending`.
    pub(crate) fn finish(
        self,
        db: &'c Db<'c>,
        now: Timestamp,
        ending: &mut Ending<'c>,
    ) -> Result<bool> {
        let Some((message_id, subscriber, attempts)) = self.moved.take()? else {
            return Ok(false);
        };
        let error = self.error.as_deref();
        db.insert_message_history(
            message_id,
            Some(&subscriber),
            now,
            self.to.as_str(),
            attempts,
            error,
        )?;
        if self.to.is_final() {
            ending.send(db, message_id, now)?;
        }
        Ok(true)
    }
}

/// Messages whose final deliveries finished, their ends sent ahead ([`Ending::send`]) and
/// read together ([`Ending::end`]).
#[derive(Default)]
pub(crate) struct Ending<'c> {
    messages: Vec<(i64, Later<'c, (MessageStatus, u32)>)>,
}

impl<'c> Ending<'c> {
    /// Sends ahead the end of dispatched message `message_id`: it ends if all its
    /// deliveries have finished by then. Sent again for each of its deliveries that
    /// finishes: the one sent after the last delivery's move ends it.
    pub(crate) fn send(&mut self, db: &'c Db<'c>, message_id: i64, now: Timestamp) -> Result<()> {
        self.messages
            .push((message_id, db.finish_message(message_id, now)?));
        Ok(())
    }

    /// Writes the history of the messages that ended; those that none of their ends sent
    /// ended (left open) go into `left_open` (see [`left_open`]).
    pub(crate) fn end(self, db: &Db<'_>, now: Timestamp, left_open: &mut Vec<i64>) -> Result<()> {
        let mut ended_ids = Vec::new();
        let mut open = Vec::new();
        for (message_id, ended) in self.messages {
            let Some((status, attempts)) = ended.take()? else {
                open.push(message_id);
                continue;
            };
            ended_ids.push(message_id);
            let detail = (status == MessageStatus::Undelivered)
                .then_some("every delivery finished, at least one is dead");
            db.insert_message_history(message_id, None, now, status.as_str(), attempts, detail)?;
        }
        open.retain(|id| !ended_ids.contains(id));
        open.sort_unstable();
        open.dedup();
        left_open.extend(open);
        Ok(())
    }
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
    core.store
        .write_records(crate::store::Commit::Durable, move |db| {
            let mut ending = Ending::default();
            for id in messages {
                ending.send(db, id, now)?;
            }
            ending.end(db, now, &mut Vec::new())
        })
}
