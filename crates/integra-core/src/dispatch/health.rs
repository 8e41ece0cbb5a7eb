//! What a recorded batch says about each subscriber's health: noted as each delivery's
//! outcome is recorded, written once per subscriber when the batch ends
//! ([`HealthChange`]).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::status::DeliveryStatus;
use crate::store::{Db, HealthChange};
use crate::time::Timestamp;

/// The batch's outcomes, by subscriber.
#[derive(Default)]
pub(crate) struct HealthNotes {
    by_subscriber: BTreeMap<String, Note>,
}

/// One subscriber's outcomes in the batch.
#[derive(Default)]
struct Note {
    succeeded: bool,
    /// The last failure's error.
    error: Option<String>,
    /// Failed attempts after the last success (all of them when none succeeded).
    failures: u64,
}

impl HealthNotes {
    /// Notes that a delivery to `subscriber` ended in `status` (`error`: why it failed).
    pub(crate) fn note(&mut self, subscriber: &str, status: DeliveryStatus, error: &str) {
        let note = self.by_subscriber.entry(subscriber.to_owned()).or_default();
        match status {
            DeliveryStatus::Sent => {
                note.succeeded = true;
                note.failures = 0;
            }
            DeliveryStatus::SendError | DeliveryStatus::Dead => {
                note.failures += 1;
                note.error = Some(error.to_owned());
            }
            _ => {}
        }
    }

    /// Writes what the batch says, at `now`, subscriber by subscriber in the order of their
    /// codes: every writer takes their rows' locks in one order, so two never wait for each
    /// other in a circle (PostgreSQL).
    pub(crate) fn write(&self, db: &Db<'_>, now: Timestamp) -> Result<()> {
        for (subscriber, note) in &self.by_subscriber {
            db.record_health(&HealthChange {
                subscriber,
                succeeded_at: note.succeeded.then_some(now),
                failed: note.error.as_deref().map(|e| (now, e)),
                failures: note.failures,
            })?;
        }
        Ok(())
    }
}
