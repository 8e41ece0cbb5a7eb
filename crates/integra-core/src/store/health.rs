//! Each subscriber's health: when a delivery to it last succeeded, when one last failed and
//! why, and how many attempts in a row have failed since. One row per subscriber, updated
//! once per recorded batch of deliveries (not per delivery), read by the operators' views.

use super::Result;
use crate::time::Timestamp;

/// What one recorded batch says about one subscriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthChange<'a> {
    pub(crate) subscriber: &'a str,
    /// When a delivery of the batch succeeded, if one did.
    pub(crate) succeeded_at: Option<Timestamp>,
    /// When one failed, and why, if one did (the batch's last failure).
    pub(crate) failed: Option<(Timestamp, &'a str)>,
    /// Failed attempts after the batch's last success (all of them when none succeeded:
    /// then they add to the count so far).
    pub(crate) failures: u64,
}

/// A subscriber's health as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HealthRow {
    pub(crate) subscriber: String,
    pub(crate) last_success_at: Option<Timestamp>,
    pub(crate) last_failure_at: Option<Timestamp>,
    pub(crate) last_error: Option<String>,
    pub(crate) consecutive_failures: u64,
}

/// The subscribers' health. Each call runs in the transaction of the [`Db`](super::Db) it is
/// called on.
pub(crate) trait HealthStore {
    /// Notes what a recorded batch says about one subscriber.
    fn record_health(&self, change: &HealthChange<'_>) -> Result<()>;

    /// Every subscriber's health, by code.
    fn subscriber_health(&self) -> Result<Vec<HealthRow>>;
}
