//! The rescuer: work whose lease expired (its process died, or stalled past the lease) goes
//! back to its retryable error status, with its next attempt by the retry policy, or to Dead
//! when that was its last allowed attempt; each kind of work says how
//! ([`Kind::take_back`](crate::dispatch::kinds::Kind::take_back)). The attempt was counted at
//! claim, so work that crashes its process every time ends Dead instead of looping.

use std::time::Duration;

use super::kinds::{self, Here};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::Commit;

/// Most expired leases of each kind handled in one transaction.
const BATCH: usize = 500;

impl Core {
    /// Takes back every expired lease. Returns how many. Reads first, so when nothing has
    /// expired nothing is written.
    pub(crate) fn rescue_expired(&self) -> Result<usize> {
        let now = self.now();
        let any = self.store.read(|db| {
            for kind in kinds::all() {
                if !db.expired_leases(kind.leased(), now, 1)?.is_empty() {
                    return Ok::<_, Error>(true);
                }
            }
            Ok(false)
        })?;
        if !any {
            return Ok(0);
        }
        let step = self.step(Here::default(), Duration::ZERO);
        let (rescued, left_open) = self.store.write(Commit::Lazy, move |db| {
            step.run_finishing(db, |at| {
                let mut n = 0;
                for kind in kinds::all() {
                    for expired in db.expired_leases(kind.leased(), at.now, BATCH)? {
                        n += usize::from(kind.take_back(at, &expired)?);
                    }
                }
                Ok(n)
            })
        })?;
        crate::queue::delivery::left_open(self, left_open)?;
        if rescued > 0 {
            log::info!("took back {rescued} expired lease(s)");
        }
        Ok(rescued)
    }
}
