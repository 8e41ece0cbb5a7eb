//! Dispatch: claiming due work, doing it, and recording the outcome.
//!
//! Work is forming (for flows with a Rust former in this process), delivering (for
//! subscribers this process has a transport for), and processing incoming messages (for
//! flows with a Rust handler in this process). One cycle is always the same three steps,
//! whoever runs it:
//!
//! 1. **claim** a batch in one lazy write: each item's attempt is counted and a lease taken;
//!    deliveries whose payload equals the one last delivered to that subscriber for the same
//!    object end as Unchanged right here;
//! 2. **execute** each item outside any transaction: run the former, the transport, or the
//!    incoming handler;
//! 3. **complete** the batch in one durable write: Sent, SendError with its next attempt
//!    time, Dead, formed and fanned out, Processed, and so on, each with its history row.
//!
//! [`Engine::dispatch`](crate::Engine::dispatch) runs cycles in the caller's thread; `background` runs them on a
//! scheduler thread and a pool of workers. Both renew the leases of work they hold, and
//! both tell of work that waits for a Rust handler this process lacks (`unhandled`).

mod background;
mod oneshot;
mod unhandled;

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

pub(crate) use background::Dispatcher;
pub use background::DispatcherOptions;
pub(crate) use unhandled::{Unhandled, Warned};

use crate::config::{ConfigSnapshot, Direction, Former as FormerKind, Processor};
use crate::engine::Core;
use crate::error::{Error, Result};
#[cfg(feature = "receiver")]
use crate::exchange;
use crate::metrics::Observation;
use crate::queue::delivery::finish_delivery;
use crate::queue::forming::{
    FormOutcome, FormingItem, FormingResult, check_formed, claim_forming, finish_forming,
};
use crate::queue::incoming::{IncomingItem, Processing, claim_incoming, record_processing};
use crate::queue::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::store::{ClaimedDeliveryRow, ClaimedFormingRow, Commit, Db, IncomingRow};
use crate::time::Timestamp;
use crate::transport::{FailureKind, Outgoing, SendFailure, deliverable};

/// What a dispatch did, by outcome, and what it found waiting that this process cannot do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    /// Messages formed and fanned out.
    pub formed: u64,
    /// Forming attempts that failed (retried, or Dead).
    pub forming_failed: u64,
    /// Messages their former cancelled.
    pub cancelled: u64,
    /// Deliveries the subscriber confirmed.
    pub sent: u64,
    /// Deliveries ended as Unchanged (same payload as last delivered).
    pub unchanged: u64,
    /// Delivery attempts that failed and will be retried.
    pub failed: u64,
    /// Deliveries that used up their attempts.
    pub dead: u64,
    /// Incoming messages their handler processed.
    pub processed: u64,
    /// Processing attempts that failed (retried, or Dead).
    pub processing_failed: u64,
    /// Exchange messages (and notices) the recipient stored.
    pub exchanged: u64,
    /// Received exchange messages their channel's handler handled.
    pub handled: u64,
    /// Handling attempts of received exchange messages that failed.
    pub handling_failed: u64,
    /// Outcomes not recorded because the work's lease had been taken back meanwhile.
    pub lost_leases: u64,
    /// Messages waiting to be formed, by flow, on flows whose former is a Rust handler
    /// (`"former": "handler"`) that this process has not registered ([`Engine::set_former`]):
    /// nothing here forms them. Not counted in [`DispatchReport::total`].
    ///
    /// [`Engine::set_former`]: crate::Engine::set_former
    pub waiting_for_former: BTreeMap<String, u64>,
    /// Incoming messages waiting to be processed, by flow, on flows whose processor is a
    /// Rust handler (`"processor": "handler"`) that this process has not registered
    /// ([`Engine::set_incoming_handler`]). Not counted in [`DispatchReport::total`].
    ///
    /// [`Engine::set_incoming_handler`]: crate::Engine::set_incoming_handler
    pub waiting_for_incoming_handler: BTreeMap<String, u64>,
}

impl DispatchReport {
    /// Items processed in all.
    pub fn total(&self) -> u64 {
        self.formed
            + self.forming_failed
            + self.cancelled
            + self.sent
            + self.unchanged
            + self.failed
            + self.dead
            + self.processed
            + self.processing_failed
            + self.exchanged
            + self.handled
            + self.handling_failed
            + self.lost_leases
    }
}

impl AddAssign for DispatchReport {
    fn add_assign(&mut self, o: Self) {
        self.formed += o.formed;
        self.forming_failed += o.forming_failed;
        self.cancelled += o.cancelled;
        self.sent += o.sent;
        self.unchanged += o.unchanged;
        self.failed += o.failed;
        self.dead += o.dead;
        self.processed += o.processed;
        self.processing_failed += o.processing_failed;
        self.exchanged += o.exchanged;
        self.handled += o.handled;
        self.handling_failed += o.handling_failed;
        self.lost_leases += o.lost_leases;
        self.waiting_for_former.extend(o.waiting_for_former);
        self.waiting_for_incoming_handler
            .extend(o.waiting_for_incoming_handler);
    }
}

/// Most deliveries handed to a broker transport at once.
const MAX_BROKER_BATCH: usize = 100;

/// One claimed piece of work.
pub(crate) enum WorkItem {
    Form(ClaimedFormingRow),
    /// Deliveries to one subscriber: one for HTTP-based kinds, a batch for brokers.
    Deliver(Vec<ClaimedDeliveryRow>),
    /// An incoming message for its flow's handler.
    Process(IncomingRow),
    /// Exchange messages to one endpoint.
    #[cfg(feature = "receiver")]
    Exchange(exchange::deliver::Claimed),
    /// A received exchange message for its channel's handler.
    #[cfg(feature = "receiver")]
    Channel(exchange::ExchangeMessage),
}

/// The outcome of one piece of work, to be recorded, and how long the work took.
pub(crate) struct WorkResult {
    outcome: Outcome,
    took: Duration,
}

enum Outcome {
    /// Forming ended; true when the payload broke the flow's schema.
    Formed(ClaimedFormingRow, FormingResult, bool),
    Delivered(Vec<(ClaimedDeliveryRow, Result<(), SendFailure>)>),
    Processed(IncomingRow, Result<(), String>),
    #[cfg(feature = "receiver")]
    Exchanged(exchange::deliver::Claimed, Result<(), String>),
    #[cfg(feature = "receiver")]
    Handled(exchange::ExchangeMessage, Result<(), String>),
}

/// Groups claimed deliveries into work: one item per delivery for HTTP-based subscribers
/// (sent in parallel), batches per subscriber for brokers (confirmed together).
fn group_deliveries(config: &ConfigSnapshot, rows: Vec<ClaimedDeliveryRow>) -> Vec<WorkItem> {
    let mut items = Vec::new();
    let mut batches: BTreeMap<String, Vec<ClaimedDeliveryRow>> = BTreeMap::new();
    for row in rows {
        if config
            .subscriber(&row.subscriber)
            .is_some_and(|s| s.kind.batches())
        {
            let batch = batches.entry(row.subscriber.clone()).or_default();
            batch.push(row);
            if batch.len() == MAX_BROKER_BATCH {
                items.push(WorkItem::Deliver(std::mem::take(batch)));
            }
        } else {
            items.push(WorkItem::Deliver(vec![row]));
        }
    }
    items.extend(
        batches
            .into_values()
            .filter(|b| !b.is_empty())
            .map(WorkItem::Deliver),
    );
    items
}

/// What recording a batch did: the report, and what to count once it committed.
#[derive(Default)]
struct Recorded {
    report: DispatchReport,
    observed: Vec<Observation>,
}

/// A claimed batch: the work to do, and what the claim already finished (Unchanged).
pub(crate) struct Claimed {
    pub(crate) items: Vec<WorkItem>,
    pub(crate) report: DispatchReport,
    observed: Vec<Observation>,
}

impl Core {
    /// Claims up to `max` items of due work.
    pub(crate) fn claim_work(&self, max: usize) -> Result<Claimed> {
        let mut claimed = self.claim(max)?;
        self.observe(&std::mem::take(&mut claimed.observed));
        Ok(claimed)
    }

    fn claim(&self, max: usize) -> Result<Claimed> {
        let now = self.now();
        let lease_until = now.plus(self.options.lease);
        let owner = self.owner.clone();
        let registered = self.registered_formers();
        let handled = self.registered_handlers();
        #[cfg(feature = "receiver")]
        let channels = self.registered_channels();
        self.store.write(Commit::Lazy, move |db| {
            let config = db.config()?;
            #[cfg(feature = "receiver")]
            let exchange = config.config().exchange_settings();
            let formed_here = flows_formed_here(&config, &registered);
            let forms = claim_forming(db, &owner, lease_until, now, &formed_here, max)?;
            let processed_here = flows_processed_here(&config, &handled);
            let incoming = claim_incoming(
                db,
                &owner,
                lease_until,
                now,
                &processed_here,
                max - forms.len(),
            )?;
            let room = max - forms.len() - incoming.len();
            let rows = if room > 0 {
                db.claim_deliveries(&owner, lease_until, now, &deliverable(&config), room)?
            } else {
                Vec::new()
            };
            let mut claimed = Claimed {
                items: forms.into_iter().map(WorkItem::Form).collect(),
                report: DispatchReport::default(),
                observed: Vec::new(),
            };
            claimed
                .items
                .extend(incoming.into_iter().map(WorkItem::Process));
            let mut to_send = Vec::with_capacity(rows.len());
            for row in rows {
                db.insert_message_history(
                    row.message_id,
                    Some(&row.subscriber),
                    now,
                    DeliveryStatus::InProgress.as_str(),
                    row.attempts,
                    None,
                )?;
                if is_unchanged(db, &config, &row)? {
                    finish_delivery(
                        db,
                        row.id,
                        Some(&owner),
                        DeliveryStatus::Unchanged,
                        None,
                        None,
                        now,
                    )?;
                    claimed.report.unchanged += 1;
                    claimed.observed.push(Observation::Delivered {
                        flow: row.flow.clone(),
                        subscriber: row.subscriber.clone(),
                        status: DeliveryStatus::Unchanged,
                        took: None,
                    });
                } else {
                    to_send.push(row);
                }
            }
            claimed.items.extend(group_deliveries(&config, to_send));
            #[cfg(feature = "receiver")]
            {
                let room = max.saturating_sub(claimed.items.len());
                if room > 0 && !channels.is_empty() {
                    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
                    let times = (lease_until, now);
                    let handled = Core::claim_exchange_inbox(
                        db,
                        &owner,
                        times,
                        (Some(&channels), &[]),
                        room,
                        exchange.quarantine_after,
                    )?;
                    claimed
                        .items
                        .extend(handled.into_iter().map(WorkItem::Channel));
                }
                let room = max.saturating_sub(claimed.items.len());
                if room > 0 {
                    let batches = Core::claim_due_outbox(db, (&owner, &exchange.name), now, room)?;
                    claimed
                        .items
                        .extend(batches.into_iter().map(WorkItem::Exchange));
                }
            }
            Ok::<_, Error>(claimed)
        })
    }

    /// Does one piece of work, outside any transaction. Never panics: a panicking former
    /// or transport is a failed attempt.
    pub(crate) fn execute(&self, item: WorkItem) -> WorkResult {
        let started = Instant::now();
        let outcome = self.run(item);
        WorkResult {
            outcome,
            took: started.elapsed(),
        }
    }

    fn run(&self, item: WorkItem) -> Outcome {
        match item {
            WorkItem::Form(row) => {
                let config = self.store.cached_config();
                let (result, invalid) = match self.produce(&config, &row) {
                    Ok((payload, value)) => {
                        let has_key = row.object_key.is_some();
                        let (flow, id) = (row.flow.as_str(), row.uuid.as_str());
                        match check_formed(self, &config, flow, id, has_key, payload, &value) {
                            Ok((result, violations)) => (result, !violations.is_empty()),
                            Err(e) => (FormingResult::Failed(e.to_string()), false),
                        }
                    }
                    Err(ended) => (ended, false),
                };
                Outcome::Formed(row, result, invalid)
            }
            WorkItem::Deliver(rows) => {
                let config = self.store.cached_config();
                let Some(subscriber) = rows.first().map(|r| r.subscriber.clone()) else {
                    return Outcome::Delivered(Vec::new());
                };
                let outcomes = match self.transports.get(&config, &subscriber) {
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
                            Ok(_) => failed_all(
                                &rows,
                                "the transport returned the wrong number of outcomes",
                            ),
                            Err(_) => failed_all(
                                &rows,
                                &format!("the transport of subscriber '{subscriber}' panicked"),
                            ),
                        }
                    }
                };
                Outcome::Delivered(rows.into_iter().zip(outcomes).collect())
            }
            WorkItem::Process(row) => {
                let outcome = match self.incoming_handler(&row.flow) {
                    None => Err(format!(
                        "no Rust handler is registered for flow '{}' in this process",
                        row.flow
                    )),
                    Some(handler) => {
                        let item = IncomingItem::from_row(row.clone());
                        catch_unwind(AssertUnwindSafe(|| handler.process(&item))).unwrap_or_else(
                            |_| Err(format!("the handler of flow '{}' panicked", row.flow)),
                        )
                    }
                };
                Outcome::Processed(row, outcome)
            }
            #[cfg(feature = "receiver")]
            WorkItem::Exchange(claimed) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| Core::post_outbox(&claimed)))
                    .unwrap_or_else(|_| Err("delivering panicked".to_owned()));
                Outcome::Exchanged(claimed, outcome)
            }
            #[cfg(feature = "receiver")]
            WorkItem::Channel(message) => {
                let outcome = match self.channel_handler(&message.channel) {
                    None => Err(format!(
                        "no Rust handler is registered for channel '{}' in this process",
                        message.channel
                    )),
                    Some(handler) => catch_unwind(AssertUnwindSafe(|| handler.handle(&message)))
                        .unwrap_or_else(|_| {
                            Err(format!(
                                "the handler of channel '{}' panicked",
                                message.channel
                            ))
                        }),
                };
                Outcome::Handled(message, outcome)
            }
        }
    }

    /// The payload of a message claimed for forming, from its Rust former or (pass-through)
    /// its source; or how forming ended without one.
    fn produce(
        &self,
        config: &ConfigSnapshot,
        row: &ClaimedFormingRow,
    ) -> Result<(String, Value), FormingResult> {
        if config
            .flow(&row.flow)
            .is_some_and(|f| f.former == FormerKind::None)
        {
            return serde_json::from_str(&row.source)
                .map(|value| (row.source.clone(), value))
                .map_err(|e| FormingResult::Failed(format!("the source is not JSON: {e}")));
        }
        let Some(former) = self.former(&row.flow) else {
            return Err(FormingResult::Failed(format!(
                "no Rust former is registered for flow '{}' in this process",
                row.flow
            )));
        };
        let item = FormingItem::from_row(row.clone());
        match catch_unwind(AssertUnwindSafe(|| former.form(&item))) {
            Ok(FormOutcome::Payload(value)) => Ok((value.to_string(), value)),
            Ok(FormOutcome::Cancel(reason)) => Err(FormingResult::Cancelled(reason)),
            Ok(FormOutcome::Fail(error)) => Err(FormingResult::Failed(error)),
            Err(_) => Err(FormingResult::Failed(format!(
                "the former of flow '{}' panicked",
                row.flow
            ))),
        }
    }

    /// Records the outcomes of a batch in one durable write.
    pub(crate) fn complete_work(&self, results: Vec<WorkResult>) -> Result<DispatchReport> {
        if results.is_empty() {
            return Ok(DispatchReport::default());
        }
        let now = self.now();
        let owner = self.owner.clone();
        let (report, observed) = self.store.write(Commit::Durable, move |db| {
            let config = db.config()?;
            #[cfg(feature = "receiver")]
            let retry = config.config().exchange_settings().handling_retry();
            let mut done = Recorded::default();
            for WorkResult { outcome, took } in results {
                match outcome {
                    Outcome::Delivered(outcomes) => {
                        for (row, outcome) in outcomes {
                            record_delivery(
                                db, &config, &owner, &row, outcome, took, now, &mut done,
                            )?;
                        }
                    }
                    Outcome::Formed(row, result, invalid) => {
                        if invalid {
                            done.observed.push(Observation::Invalid {
                                flow: row.flow.clone(),
                                direction: Direction::Outgoing,
                            });
                        }
                        record_forming(db, &config, &row, result, took, now, &mut done)?;
                    }
                    Outcome::Processed(row, outcome) => {
                        let processing = Processing {
                            row: row.id,
                            flow: &row.flow,
                            attempts: row.attempts,
                            owner: Some(&owner),
                        };
                        let error = outcome.err();
                        match record_processing(db, &config, &processing, error.as_deref(), now)? {
                            Some(status) => {
                                if status == IncomingStatus::Processed {
                                    done.report.processed += 1;
                                } else {
                                    done.report.processing_failed += 1;
                                }
                                done.observed.push(Observation::Processed {
                                    flow: row.flow.clone(),
                                    status,
                                    took: Some(took),
                                });
                            }
                            None => done.report.lost_leases += 1,
                        }
                    }
                    #[cfg(feature = "receiver")]
                    Outcome::Exchanged(claimed, outcome) => {
                        let delivered = Core::record_outbox(db, &owner, &claimed, &outcome, now)?;
                        done.report.exchanged += delivered;
                        if let Err(e) = outcome {
                            let endpoint = claimed.recipient();
                            log::debug!(endpoint; "delivering to exchange endpoint {endpoint} failed: {e}");
                        }
                    }
                    #[cfg(feature = "receiver")]
                    Outcome::Handled(message, outcome) => {
                        let error = outcome.err();
                        let finished = Core::finish_exchange_message(
                            db,
                            &message.id,
                            (error.as_deref(), Some(&owner)),
                            &retry,
                            now,
                        )?;
                        match finished {
                            Some(crate::queue::status::InboxStatus::Processed) => {
                                done.report.handled += 1;
                            }
                            Some(_) => done.report.handling_failed += 1,
                            None => done.report.lost_leases += 1,
                        }
                    }
                }
            }
            Ok::<_, Error>((done.report, done.observed))
        })?;
        self.observe(&observed);
        Ok(report)
    }

    /// Extends the leases of all work this engine holds.
    pub(crate) fn renew_leases(&self) -> Result<()> {
        let until = self.now().plus(self.options.lease);
        let owner = self.owner.clone();
        self.store.write(Commit::Lazy, move |db| {
            db.renew_leases(&owner, until)?;
            db.renew_incoming_leases(&owner, until)?;
            Ok::<_, Error>(())
        })
    }

    /// When the next piece of work this engine can do falls due, if any is queued.
    pub(crate) fn next_due(&self) -> Result<Option<Timestamp>> {
        let registered = self.registered_formers();
        let handled = self.registered_handlers();
        #[cfg(feature = "receiver")]
        let (channels, now) = (self.registered_channels(), self.now());
        self.store.read(|db| {
            let config = db.config()?;
            let flows = flows_formed_here(&config, &registered);
            let delivery = db.next_delivery_due(&deliverable(&config))?;
            let forming = if flows.is_empty() {
                None
            } else {
                db.next_forming_due(&flows)?
            };
            let handled = flows_processed_here(&config, &handled);
            let processing = if handled.is_empty() {
                None
            } else {
                db.next_incoming_due(&handled)?
            };
            #[cfg(feature = "receiver")]
            let exchange = {
                let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
                let received = if channels.is_empty() {
                    None
                } else {
                    db.next_inbox_due(&channels)?
                };
                [db.next_outbox_due(now)?, received]
                    .into_iter()
                    .flatten()
                    .min()
            };
            #[cfg(not(feature = "receiver"))]
            let exchange = None;
            Ok::<_, Error>(
                [delivery, forming, processing, exchange]
                    .into_iter()
                    .flatten()
                    .min(),
            )
        })
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
        attempt: row.attempts,
    }
}

/// The same failure for every delivery of a batch.
fn failed_all(rows: &[ClaimedDeliveryRow], why: &str) -> Vec<Result<(), SendFailure>> {
    rows.iter()
        .map(|_| Err(SendFailure::permanent(why)))
        .collect()
}

/// The flows whose messages this process forms: pass-through flows (validating a source that
/// waits after a failed check or a re-drive) and flows with a Rust former registered here.
fn flows_formed_here<'c>(config: &'c ConfigSnapshot, registered: &[String]) -> Vec<&'c str> {
    config
        .config()
        .flows
        .iter()
        .filter(|f| {
            f.direction == Direction::Outgoing
                && match f.former {
                    FormerKind::None => true,
                    FormerKind::Handler => registered.contains(&f.code),
                    FormerKind::External => false,
                }
        })
        .map(|f| f.code.as_str())
        .collect()
}

/// The incoming flows whose messages this process handles: processor `handler`, with a
/// handler registered here.
fn flows_processed_here<'c>(config: &'c ConfigSnapshot, registered: &[String]) -> Vec<&'c str> {
    config
        .config()
        .flows
        .iter()
        .filter(|f| {
            f.direction == Direction::Incoming
                && f.processor == Processor::Handler
                && registered.contains(&f.code)
        })
        .map(|f| f.code.as_str())
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

#[expect(
    clippy::too_many_arguments,
    reason = "the pieces of one recorded outcome"
)]
fn record_delivery(
    db: &Db<'_>,
    config: &ConfigSnapshot,
    owner: &str,
    row: &ClaimedDeliveryRow,
    outcome: Result<(), SendFailure>,
    took: Duration,
    now: Timestamp,
    done: &mut Recorded,
) -> Result<()> {
    let (to, error, next) = match outcome {
        Ok(()) => (DeliveryStatus::Sent, None, None),
        Err(failure) if failure.kind == FailureKind::Unsendable => {
            (DeliveryStatus::Dead, Some(failure.message), None)
        }
        Err(failure) => {
            let (to, next) = config
                .subscriber_retry(&row.subscriber)
                .status_after_failure(
                    row.attempts,
                    now,
                    failure.retry_after,
                    DeliveryStatus::SendError,
                    DeliveryStatus::Dead,
                );
            (to, Some(failure.message), next)
        }
    };
    if !finish_delivery(db, row.id, Some(owner), to, error.as_deref(), next, now)? {
        log::info!(
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
    let error = error.as_deref().unwrap_or_default();
    match to {
        DeliveryStatus::Sent => {
            if let (Some(key), Some(hash)) = (&row.object_key, &row.payload_hash) {
                db.record_delivered_hash(&row.flow, &row.subscriber, key, hash, now)?;
            }
            done.report.sent += 1;
        }
        DeliveryStatus::Dead => {
            log::warn!(
                flow, subscriber, message, attempt = row.attempts;
                "delivery is dead after {} attempts: {error}", row.attempts
            );
            done.report.dead += 1;
        }
        _ => {
            log::debug!(
                flow, subscriber, message, attempt = row.attempts;
                "delivery failed, to be retried: {error}"
            );
            done.report.failed += 1;
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

fn record_forming(
    db: &Db<'_>,
    config: &ConfigSnapshot,
    row: &ClaimedFormingRow,
    result: FormingResult,
    took: Duration,
    now: Timestamp,
    done: &mut Recorded,
) -> Result<()> {
    let Some(state) = db.message_state_by_id(row.id)? else {
        done.report.lost_leases += 1;
        return Ok(());
    };
    match finish_forming(db, config, &state, result, now) {
        Ok(status) => {
            match status {
                MessageStatus::Cancelled => done.report.cancelled += 1,
                MessageStatus::FormingError | MessageStatus::Dead => {
                    if status == MessageStatus::Dead {
                        let (flow, message) = (row.flow.as_str(), row.uuid.as_str());
                        log::warn!(
                            flow, message, attempt = row.attempts;
                            "forming is dead after {} attempts", row.attempts
                        );
                    }
                    done.report.forming_failed += 1;
                }
                _ => done.report.formed += 1,
            }
            done.observed.push(Observation::Formed {
                flow: row.flow.clone(),
                status,
                took: Some(took),
            });
        }
        Err(Error::Store(e)) => return Err(Error::Store(e)),
        Err(e) => {
            log::warn!("forming of message {} was not recorded: {e}", row.uuid);
            done.report.lost_leases += 1;
        }
    }
    Ok(())
}
