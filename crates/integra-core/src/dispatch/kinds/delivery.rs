//! Delivery: sending messages to the subscribers this process has a transport for, one
//! delivery per HTTP-based call and batches per broker subscriber.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use super::{Claimed, Context, Done, Handlers, Kind, LEASE_EXPIRED, LOG_TARGET, Work};
use crate::config::ConfigSnapshot;
use crate::core::Core;
use crate::dispatch::Recorded;
use crate::error::Result;
use crate::metrics::events::Observation;
use crate::queue::delivery::Leaving;
use crate::status::DeliveryStatus;
use crate::store::{ClaimedDeliveryRow, Db, Expired, Leased};
use crate::time::Timestamp;
use crate::transport::{FailureKind, Outgoing, SendFailure, deliverable};

/// Most deliveries handed to a broker transport at once.
const MAX_BROKER_BATCH: usize = 100;

/// Delivering messages to subscribers.
pub(super) struct Delivery;

impl Kind for Delivery {
    fn leased(&self) -> Leased {
        Leased::Deliveries
    }

    /// Claims due deliveries, writes each one's InProgress history, and ends as Unchanged
    /// right here those whose payload equals the one last delivered to that subscriber for
    /// the same object.
    fn claim(&self, at: &Context<'_>, room: usize, claimed: &mut Claimed) -> Result<usize> {
        if room == 0 {
            return Ok(0);
        }
        let subscribers = deliverable(at.config);
        let rows = at
            .db
            .claim_deliveries(at.owner, at.lease_until, at.now, &subscribers, room)?;
        let n = rows.len();
        let mut to_send = Vec::with_capacity(rows.len());
        for row in rows {
            let status = DeliveryStatus::InProgress.as_str();
            let (id, subscriber) = (row.message_id, Some(row.subscriber.as_str()));
            at.db
                .insert_message_history(id, subscriber, at.now, status, row.attempts, None)?;
            if is_unchanged(at.db, at.config, &row)? {
                let to = DeliveryStatus::Unchanged;
                at.finish_delivery(&Leaving {
                    id: row.id,
                    owner: Some(at.owner),
                    to,
                    error: None,
                    next_attempt_at: None,
                })?;
                claimed.report.unchanged += 1;
                claimed.observed.push(Observation::Delivered {
                    flow: row.flow,
                    subscriber: row.subscriber,
                    status: to,
                    took: None,
                });
            } else {
                to_send.push(row);
            }
        }
        claimed.items.extend(group(at.config, to_send));
        Ok(n)
    }

    fn next_due(&self, at: &Context<'_>) -> Result<Option<Timestamp>> {
        Ok(at.db.next_delivery_due(&deliverable(at.config))?)
    }

    fn take_back(&self, at: &Context<'_>, expired: &Expired) -> Result<bool> {
        let (to, next) = at
            .config
            .subscriber_retry(&expired.policy_of)
            .status_after_failure(
                expired.attempts,
                at.now,
                None,
                DeliveryStatus::SendError,
                DeliveryStatus::Dead,
            );
        at.finish_delivery(&Leaving {
            id: expired.id,
            owner: None,
            to,
            error: Some(LEASE_EXPIRED),
            next_attempt_at: next,
        })
    }
}

/// Deliveries to one subscriber: one for HTTP-based kinds, a batch for brokers.
struct Deliveries(Vec<ClaimedDeliveryRow>);

/// Groups claimed deliveries into work: one item per delivery for HTTP-based subscribers
/// (sent in parallel), batches per subscriber for brokers (confirmed together).
fn group(config: &ConfigSnapshot, rows: Vec<ClaimedDeliveryRow>) -> Vec<Box<dyn Work>> {
    let mut items: Vec<Box<dyn Work>> = Vec::new();
    let mut batches: BTreeMap<String, Vec<ClaimedDeliveryRow>> = BTreeMap::new();
    for row in rows {
        if config
            .subscriber(&row.subscriber)
            .is_some_and(|s| s.kind.batches())
        {
            let batch = batches.entry(row.subscriber.clone()).or_default();
            batch.push(row);
            if batch.len() == MAX_BROKER_BATCH {
                items.push(Box::new(Deliveries(std::mem::take(batch))));
            }
        } else {
            items.push(Box::new(Deliveries(vec![row])));
        }
    }
    items.extend(
        batches
            .into_values()
            .filter(|b| !b.is_empty())
            .map(|b| Box::new(Deliveries(b)) as Box<dyn Work>),
    );
    items
}

impl Work for Deliveries {
    fn execute(self: Box<Self>, core: &Core, _: &Handlers) -> Box<dyn Done> {
        let rows = self.0;
        let config = core.store.cached_config();
        let Some(subscriber) = rows.first().map(|r| r.subscriber.clone()) else {
            return Box::new(Delivered(Vec::new()));
        };
        let outcomes = match core.transports.get(&config, &subscriber) {
            Err(e) => rows.iter().map(|_| Err(e.clone())).collect(),
            Ok(transport) => {
                let messages: Vec<Outgoing<'_>> = rows.iter().map(outgoing).collect();
                let sent = catch_unwind(AssertUnwindSafe(|| {
                    if let [one] = messages.as_slice() {
                        vec![transport.send(one)]
                    } else {
                        transport.send_batch(&messages)
                    }
                }));
                match sent {
                    Ok(outcomes) if outcomes.len() == rows.len() => outcomes,
                    Ok(_) => {
                        failed_all(&rows, "the transport returned the wrong number of outcomes")
                    }
                    Err(_) => failed_all(
                        &rows,
                        &format!("the transport of subscriber '{subscriber}' panicked"),
                    ),
                }
            }
        };
        Box::new(Delivered(rows.into_iter().zip(outcomes).collect()))
    }
}

/// How each delivery of a batch went.
struct Delivered(Vec<(ClaimedDeliveryRow, Result<(), SendFailure>)>);

impl Done for Delivered {
    /// Sends ahead the move of every delivery of the batch.
    fn ask(&self, at: &Context<'_>) -> Result<()> {
        for (row, outcome) in &self.0 {
            let decided = decide(at, row, outcome);
            at.ask_move(&leaving(at.owner, row, &decided))?;
        }
        Ok(())
    }

    fn record(
        self: Box<Self>,
        at: &Context<'_>,
        took: Duration,
        done: &mut Recorded,
    ) -> Result<()> {
        for (row, outcome) in self.0 {
            record(at, &row, outcome, took, done)?;
        }
        Ok(())
    }
}

/// The message a claimed delivery carries.
fn outgoing(row: &ClaimedDeliveryRow) -> Outgoing<'_> {
    Outgoing {
        message_id: &row.uuid,
        flow: &row.flow,
        subscriber: &row.subscriber,
        payload: &row.payload,
        object_key: row.object_key.as_deref(),
        ordering_key: row.ordering_key.as_deref(),
    }
}

/// The same failure for every delivery of a batch.
fn failed_all(rows: &[ClaimedDeliveryRow], why: &str) -> Vec<Result<(), SendFailure>> {
    rows.iter()
        .map(|_| Err(SendFailure::permanent(why)))
        .collect()
}

/// True when `row`'s payload equals the one last delivered to its subscriber for the same
/// object, and neither the message nor the flow asks to send it anyway.
fn is_unchanged(db: &Db<'_>, config: &ConfigSnapshot, row: &ClaimedDeliveryRow) -> Result<bool> {
    let (Some(hash), Some(key)) = (&row.payload_hash, &row.object_key) else {
        return Ok(false);
    };
    if row.allow_duplicate || !config.flow(&row.flow).is_some_and(|f| f.skip_unchanged) {
        return Ok(false);
    }
    Ok(db.delivered_hash(&row.flow, &row.subscriber, key)?.as_ref() == Some(hash))
}

/// Where a delivery goes after its outcome: its new status (Sent, SendError, Dead), the
/// error, and the next attempt.
type Decided = (DeliveryStatus, Option<String>, Option<Timestamp>);

/// Where a delivery goes after `outcome`.
fn decide(
    at: &Context<'_>,
    row: &ClaimedDeliveryRow,
    outcome: &Result<(), SendFailure>,
) -> Decided {
    match outcome {
        Ok(()) => (DeliveryStatus::Sent, None, None),
        Err(failure) if failure.kind == FailureKind::Unsendable => {
            (DeliveryStatus::Dead, Some(failure.message.clone()), None)
        }
        Err(failure) => {
            let (to, next) = at
                .config
                .subscriber_retry(&row.subscriber)
                .status_after_failure(
                    row.attempts,
                    at.now,
                    failure.retry_after,
                    DeliveryStatus::SendError,
                    DeliveryStatus::Dead,
                );
            (to, Some(failure.message.clone()), next)
        }
    }
}

/// The move of `row` out of InProgress, as `decided`, while `owner` holds its lease.
fn leaving<'a>(owner: &'a str, row: &ClaimedDeliveryRow, decided: &'a Decided) -> Leaving<'a> {
    let (to, error, next_attempt_at) = decided;
    Leaving {
        id: row.id,
        owner: Some(owner),
        to: *to,
        error: error.as_deref(),
        next_attempt_at: *next_attempt_at,
    }
}

/// Records how one delivery went (its move asked ahead by [`Delivered::ask`]): Sent
/// (remembering what was delivered for the object), SendError with its next attempt, or
/// Dead.
fn record(
    at: &Context<'_>,
    row: &ClaimedDeliveryRow,
    outcome: Result<(), SendFailure>,
    took: Duration,
    done: &mut Recorded,
) -> Result<()> {
    let decided = decide(at, row, &outcome);
    if !at.finish_delivery(&leaving(at.owner, row, &decided))? {
        log::info!(
            target: LOG_TARGET,
            "delivery of message {} to '{}' was taken back before its outcome arrived",
            row.uuid,
            row.subscriber
        );
        done.report.lost_leases += 1;
        return Ok(());
    }
    let (flow, subscriber, message) = (
        row.flow.as_str(),
        row.subscriber.as_str(),
        row.uuid.as_str(),
    );
    let (to, error, _) = decided;
    let error = error.as_deref().unwrap_or_default();
    done.health.note(subscriber, to, error);
    let report = &mut done.report;
    match to {
        DeliveryStatus::Sent => {
            if let (Some(key), Some(hash)) = (&row.object_key, &row.payload_hash) {
                at.db
                    .record_delivered_hash(&row.flow, &row.subscriber, key, hash, at.now)?;
            }
            report.sent += 1;
        }
        DeliveryStatus::Dead => {
            log::warn!(
                target: LOG_TARGET,
                flow, subscriber, message, attempt = row.attempts;
                "delivery is dead after {} attempts: {error}", row.attempts
            );
            report.dead += 1;
        }
        _ => {
            log::debug!(
                target: LOG_TARGET,
                flow, subscriber, message, attempt = row.attempts;
                "delivery failed, to be retried: {error}"
            );
            report.failed += 1;
        }
    }
    done.observed.push(Observation::Delivered {
        flow: row.flow.clone(),
        subscriber: row.subscriber.clone(),
        status: to,
        took: Some(took),
    });
    Ok(())
}
