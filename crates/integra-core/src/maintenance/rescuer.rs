//! The rescuer: work whose lease expired (its process died, or stalled past the lease) goes
//! back to its retryable error status, with its next attempt by the retry policy, or to Dead
//! when that was its last allowed attempt. The attempt was counted at claim, so work that
//! crashes its process every time ends Dead instead of looping.

use crate::engine::Core;
use crate::error::{Error, Result};
use crate::queue::delivery::{after_failed_attempt, finish_delivery};
use crate::queue::retry::{NextAttempt, RetryPolicy};
use crate::queue::status::{IncomingStatus, MessageStatus};
use crate::store::Commit;

/// Most expired leases of each kind handled in one transaction.
const BATCH: usize = 500;

/// The history note of a taken-back lease.
pub(crate) const LEASE_EXPIRED: &str =
    "lease expired: the process holding this work stopped or stalled";

impl Core {
    /// Takes back every expired lease. Returns how many. Reads first, so when nothing has
    /// expired nothing is written.
    pub(crate) fn rescue_expired(&self) -> Result<usize> {
        let now = self.now();
        let any = self.store.read(|db| {
            Ok::<_, Error>(
                !db.expired_delivery_leases(now, 1)?.is_empty()
                    || !db.expired_forming_leases(now, 1)?.is_empty()
                    || !db.expired_incoming_leases(now, 1)?.is_empty(),
            )
        })?;
        if !any {
            return Ok(0);
        }
        let rescued = self.store.write(Commit::Lazy, move |db| {
            let config = db.config()?;
            let default_policy = RetryPolicy::default();
            let mut n = 0;
            for e in db.expired_delivery_leases(now, BATCH)? {
                let policy = config
                    .subscriber(&e.policy_of)
                    .map_or(&default_policy, |s| &s.retry);
                let (to, next) = after_failed_attempt(policy, e.attempts, now, None);
                n += usize::from(finish_delivery(
                    db,
                    e.id,
                    None,
                    to,
                    Some(LEASE_EXPIRED),
                    next,
                    now,
                )?);
            }
            let flow_policy = |flow: &str| config.flow(flow).map_or(&default_policy, |f| &f.retry);
            for e in db.expired_forming_leases(now, BATCH)? {
                let (to, next) = match flow_policy(&e.policy_of).next_attempt(
                    e.attempts,
                    now,
                    fastrand::f64(),
                    None,
                ) {
                    NextAttempt::At(t) => (MessageStatus::FormingError, Some(t)),
                    NextAttempt::Dead => (MessageStatus::Dead, None),
                };
                if db.transition_message(
                    e.id,
                    MessageStatus::Forming,
                    to,
                    Some(LEASE_EXPIRED),
                    next,
                    now,
                )? {
                    db.insert_message_history(
                        e.id,
                        None,
                        now,
                        to.as_str(),
                        e.attempts,
                        Some(LEASE_EXPIRED),
                    )?;
                    n += 1;
                }
            }
            for e in db.expired_incoming_leases(now, BATCH)? {
                let (to, next) = match flow_policy(&e.policy_of).next_attempt(
                    e.attempts,
                    now,
                    fastrand::f64(),
                    None,
                ) {
                    NextAttempt::At(t) => (IncomingStatus::Error, Some(t)),
                    NextAttempt::Dead => (IncomingStatus::Dead, None),
                };
                if db.transition_incoming(
                    e.id,
                    IncomingStatus::InProgress,
                    to,
                    Some(LEASE_EXPIRED),
                    next,
                    now,
                )? {
                    db.insert_incoming_history(e.id, now, to, e.attempts, Some(LEASE_EXPIRED))?;
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
