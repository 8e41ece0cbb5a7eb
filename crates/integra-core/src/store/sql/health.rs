//! The implementation of [`HealthStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::health::{HealthChange, HealthRow, HealthStore};
use crate::time::Timestamp;

impl HealthStore for Tx<'_> {
    fn record_health(&self, c: &HealthChange<'_>) -> Result<()> {
        let (failed_at, error) = c.failed.unzip();
        self.write(
            sql!(upsert_subscriber_health),
            params![
                c.subscriber,
                c.succeeded_at.map(Timestamp::as_millis),
                failed_at.map(Timestamp::as_millis),
                error,
                c.failures,
                c.succeeded_at.is_some()
            ],
        )
    }

    fn subscriber_health(&self) -> Result<Vec<HealthRow>> {
        self.rows(sql!(select_subscriber_health), &[], |r| {
            Ok(HealthRow {
                subscriber: r.get(0)?,
                last_success_at: r.get(1)?,
                last_failure_at: r.get(2)?,
                last_error: r.get(3)?,
                consecutive_failures: r.get(4)?,
            })
        })
    }
}
