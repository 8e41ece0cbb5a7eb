//! The rescuer: work whose lease expired (its process died, or stalled past the lease) goes
//! back to its retryable error status, with its next attempt by the retry policy, or to Dead
//! when that was its last allowed attempt. The attempt was counted at claim, so work that
//! crashes its process every time ends Dead instead of looping.

use crate::engine::Core;
use crate::error::{Error, Result};
use crate::queue::delivery::finish_delivery;
use crate::queue::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::store::{Commit, Leased};

/// Most expired leases of each kind handled in one transaction.
const BATCH: usize = 500;

/// The history note of a taken-back lease.
pub(crate) const LEASE_EXPIRED: &str =
    "lease expired: the process holding this work stopped or stalled";

const ALL: [Leased; 3] = [Leased::Deliveries, Leased::Forming, Leased::Incoming];

impl Core {
    /// Takes back every expired lease. Returns how many. Reads first, so when nothing has
    /// expired nothing is written.
    pub(crate) fn rescue_expired(&self) -> Result<usize> {
        let now = self.now();
        let any = self.store.read(|db| {
            for what in ALL {
                if !db.expired_leases(what, now, 1)?.is_empty() {
                    return Ok::<_, Error>(true);
                }
            }
            Ok(false)
        })?;
        if !any {
            return Ok(0);
        }
        let rescued = self.store.write(Commit::Lazy, move |db| {
            let config = db.config()?;
            let note = Some(LEASE_EXPIRED);
            let mut n = 0;
            for e in db.expired_leases(Leased::Deliveries, now, BATCH)? {
                let (to, next) = config.subscriber_retry(&e.policy_of).status_after_failure(
                    e.attempts,
                    now,
                    None,
                    DeliveryStatus::SendError,
                    DeliveryStatus::Dead,
                );
                n += usize::from(finish_delivery(db, e.id, None, to, note, next, now)?);
            }
            for e in db.expired_leases(Leased::Forming, now, BATCH)? {
                let (to, next) = config.flow_retry(&e.policy_of).status_after_failure(
                    e.attempts,
                    now,
                    None,
                    MessageStatus::FormingError,
                    MessageStatus::Dead,
                );
                if db.transition_message(e.id, MessageStatus::Forming, to, note, next, now)? {
                    db.insert_message_history(e.id, None, now, to.as_str(), e.attempts, note)?;
                    n += 1;
                }
            }
            for e in db.expired_leases(Leased::Incoming, now, BATCH)? {
                let (to, next) = config.flow_retry(&e.policy_of).status_after_failure(
                    e.attempts,
                    now,
                    None,
                    IncomingStatus::Error,
                    IncomingStatus::Dead,
                );
                if db.transition_incoming(
                    e.id,
                    IncomingStatus::InProgress,
                    to,
                    note,
                    next,
                    None,
                    now,
                )? {
                    db.insert_incoming_history(e.id, now, to, e.attempts, note)?;
                    n += 1;
                }
            }
            Ok::<_, Error>(n)
        })?;
        if rescued > 0 {
            log::info!("took back {rescued} expired lease(s)");
        }
        Ok(rescued)
    }
}
