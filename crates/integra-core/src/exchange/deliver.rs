//! Delivering the outbox: each recipient's messages in batches of up to 100, oldest first,
//! in one `messages` call; a message is Sent once the recipient stored it (a notice is Done
//! then). A failed batch waits for its next attempt (1 s doubling to 5 minutes; the exchange
//! never gives up, as the SSL's does not). A recipient that is blocked receives nothing.
//!
//! Two deliverers: the background dispatcher delivers what is due;
//! [`Engine::deliver_messages`](crate::Engine::deliver_messages) pushes the quick messages at once,
//! one caller at a time across threads and processes (a lease in the database that expires if its
//! holder dies), skipping for the rest of the call an endpoint that failed (its messages fall back
//! to regular delivery).

use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;

use super::kind;
use super::wire::ConnectionSettings;
use super::wire::{self, Batch, Envelope, Stored};
use crate::config::Secret;
use crate::core::Core;
use crate::error::Result;
use crate::retry::RetryPolicy;
use crate::status::OutboxStatus;
use crate::store::{Db, EndpointRow, OutboxRow};
use crate::time::Timestamp;

/// Most messages in one delivery.
const BATCH: usize = 100;
/// How long a batch claimed by [`Engine::deliver_messages`](crate::Engine::deliver_messages) stays
/// reserved (the dispatcher's batches take its lease, and renew it).
pub(crate) const CLAIM_LEASE: Duration = Duration::from_secs(60);
/// The lease `deliver_messages` holds (the SSL's is 5 minutes).
pub(crate) const DELIVERER_LEASE: Duration = Duration::from_secs(300);
/// The name of that lease.
pub(crate) const DELIVERER: &str = "deliver_messages";
/// Retries of a failed delivery: never dead.
const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: u32::MAX,
    initial_delay: Duration::from_secs(1),
    multiplier: 2.0,
    max_delay: Duration::from_secs(300),
    jitter: 0.2,
};

/// What [`Engine::deliver_messages`](crate::Engine::deliver_messages) did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct QuickDeliveryReport {
    /// Messages the recipients stored.
    pub delivered: u64,
    /// Endpoints that could not be reached: their messages wait for regular delivery.
    pub unavailable: Vec<String>,
    /// True when another caller was delivering (this call did nothing).
    pub busy: bool,
}

/// A batch claimed for one recipient.
pub(crate) struct Claimed {
    /// This base's code.
    sender: String,
    recipient: EndpointRow,
    rows: Vec<OutboxRow>,
}

impl Claimed {
    pub(crate) fn recipient(&self) -> &str {
        &self.recipient.code
    }

    /// How many messages the batch carries.
    pub(crate) fn messages(&self) -> usize {
        self.rows.len()
    }
}

impl Core {
    /// Claims up to a batch for `recipient`: its quick messages, or those due. `name` is
    /// this base's name, should its identity be made now.
    pub(crate) fn claim_outbox(
        db: &Db<'_>,
        (owner, name): (&str, &str),
        recipient: &str,
        quick_only: bool,
        (lease_until, now): (Timestamp, Timestamp),
    ) -> Result<Option<Claimed>> {
        let Some(endpoint) = db.exchange_endpoint(recipient)?.filter(|e| !e.blocked) else {
            return Ok(None);
        };
        let rows = db.claim_outbox(owner, lease_until, now, recipient, quick_only, BATCH)?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(Claimed {
            sender: super::identity(db, name)?.code,
            recipient: endpoint,
            rows,
        }))
    }

    /// Claims what the dispatcher should deliver now: a batch per recipient with due
    /// messages, up to `max` messages in all.
    pub(crate) fn claim_due_outbox(
        db: &Db<'_>,
        (owner, name): (&str, &str),
        (lease_until, now): (Timestamp, Timestamp),
        max: usize,
    ) -> Result<Vec<Claimed>> {
        let mut claimed = Vec::new();
        let mut room = max;
        for recipient in db.outbox_recipients(now, false)? {
            if room == 0 {
                break;
            }
            let times = (lease_until, now);
            if let Some(batch) = Core::claim_outbox(db, (owner, name), &recipient, false, times)? {
                room = room.saturating_sub(batch.rows.len());
                claimed.push(batch);
            }
        }
        Ok(claimed)
    }

    /// Delivers a claimed batch; what went wrong, for the messages' history.
    pub(crate) fn post_outbox(claimed: &Claimed) -> Result<(), String> {
        let messages = claimed
            .rows
            .iter()
            .map(|r| {
                Ok(Envelope {
                    version: wire::VERSION,
                    id: r.uuid.clone(),
                    kind: r.kind.clone(),
                    channel: r.channel.clone(),
                    body: RawValue::from_string(r.body.clone()).map_err(|e| e.to_string())?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let settings = ConnectionSettings {
            url: claimed.recipient.url.clone(),
            username: claimed.recipient.username.clone(),
            password: Secret::new(claimed.recipient.password.clone()),
        };
        let batch = Batch {
            sender: claimed.sender.clone(),
            messages,
        };
        wire::call::<_, Stored>(&settings, "messages", &batch).map(|_| ())
    }

    /// Records a batch's outcome; how many messages the recipient stored.
    pub(crate) fn record_outbox(
        db: &Db<'_>,
        owner: &str,
        claimed: &Claimed,
        outcome: &Result<(), String>,
        now: Timestamp,
    ) -> Result<u64> {
        let mut delivered = 0;
        for row in &claimed.rows {
            let finished = match outcome {
                Ok(()) => {
                    let to = if row.kind == kind::MESSAGE {
                        OutboxStatus::Sent
                    } else {
                        OutboxStatus::Done
                    };
                    db.finish_outbox(row.id, Some(owner), to, None, None, now)?
                }
                Err(e) => Core::retry_outbox(db, (row.id, row.attempts), Some(owner), e, now)?,
            };
            if finished && outcome.is_ok() {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Puts outbox message `id` (on its `attempts`th attempt) back to wait for its next
    /// attempt after a failure (`error`); only while `owner` holds its lease, when given.
    /// False when it was not being delivered (under that lease).
    pub(crate) fn retry_outbox(
        db: &Db<'_>,
        (id, attempts): (i64, u32),
        owner: Option<&str>,
        error: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let pending = OutboxStatus::Pending;
        let (to, next) = RETRY.status_after_failure(attempts, now, None, pending, pending);
        Ok(db.finish_outbox(id, owner, to, Some(error), next, now)?)
    }
}
