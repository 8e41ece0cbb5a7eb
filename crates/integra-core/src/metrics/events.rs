//! Counters and histograms of what this process did: registered, formed, delivered,
//! received, processed, validated. Each is recorded as an [`Observation`] once the
//! transaction that made it true has committed, so the counters never count what a
//! rolled-back transaction undid.

use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::recent::{Operation, Recent};
use crate::config::Direction;
use crate::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::time::Timestamp;

/// The metrics of one engine.
pub(crate) struct Metrics {
    pub(crate) events: Events,
    /// Worker threads of the background dispatcher (0 when it is not running).
    pub(crate) threads: AtomicUsize,
    /// Workers executing an item now.
    pub(crate) busy: AtomicUsize,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Metrics {
            events: Events::new(),
            threads: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Something that happened, to be counted.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Observation {
    /// Messages registered on an outgoing flow.
    Registered { flow: String, n: u64 },
    /// Forming ended in `status` (Ready and after: formed; FormingError, Dead: failed;
    /// Cancelled), after `took`: a Rust former's run, or an external former's time from its
    /// claim to its answer (none for a cancel before any claim).
    Formed {
        flow: String,
        status: MessageStatus,
        took: Option<Duration>,
    },
    /// A delivery attempt ended in `status` (Sent, Unchanged, SendError, Dead).
    Delivered {
        flow: String,
        subscriber: String,
        status: DeliveryStatus,
        took: Option<Duration>,
    },
    /// An incoming message was stored, was a repeat, or was refused.
    Received { flow: String, outcome: Received },
    /// Processing an incoming message ended in `status` (Processed, Error, Dead), after
    /// `took`: a Rust handler's run, or an external processor's time from claim to answer.
    Processed {
        flow: String,
        status: IncomingStatus,
        took: Option<Duration>,
    },
    /// A message broke its flow's schema.
    Invalid { flow: String, direction: Direction },
}

/// What became of a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Received {
    Accepted,
    Duplicate,
    Rejected,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FlowLabels {
    flow: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    flow: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    flow: String,
    subscriber: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriberLabels {
    flow: String,
    subscriber: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    flow: String,
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    flow: String,
    direction: &'static str,
}

/// Durations from 0.5 ms to about 16 s.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

type Durations<L> = Family<L, Histogram, fn() -> Histogram>;

/// The event metrics, registered in their own registry.
pub(crate) struct Events {
    pub(crate) registry: Registry,
    registered: Family<FlowLabels, Counter>,
    formed: Family<OutcomeLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    incoming: Family<OutcomeLabels, Counter>,
    processed: Family<OutcomeLabels, Counter>,
    retries: Family<StageLabels, Counter>,
    validation_failures: Family<DirectionLabels, Counter>,
    delivery_seconds: Durations<SubscriberLabels>,
    forming_seconds: Durations<FlowLabels>,
    processing_seconds: Durations<FlowLabels>,
    pub(crate) recent: Recent,
}

impl Events {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let registered = Family::default();
        registry.register(
            "integra_messages_registered",
            "Messages registered on outgoing flows",
            registered.clone(),
        );
        let formed = Family::default();
        registry.register(
            "integra_forming",
            "Forming attempts by outcome: formed, error (retried), dead, cancelled",
            formed.clone(),
        );
        let deliveries = Family::default();
        registry.register(
            "integra_deliveries",
            "Delivery attempts by outcome: sent, unchanged, error (retried), dead",
            deliveries.clone(),
        );
        let incoming = Family::default();
        registry.register(
            "integra_incoming",
            "Incoming messages by outcome: accepted, duplicate (not stored again), rejected",
            incoming.clone(),
        );
        let processed = Family::default();
        registry.register(
            "integra_incoming_processing",
            "Processing attempts of incoming messages by outcome: processed, error (retried), dead",
            processed.clone(),
        );
        let retries = Family::default();
        registry.register(
            "integra_retries",
            "Failed attempts that will be retried, by stage: forming, delivery, processing",
            retries.clone(),
        );
        let validation_failures = Family::default();
        registry.register(
            "integra_validation_failures",
            "Messages that broke their flow's schema, by direction",
            validation_failures.clone(),
        );
        let constructor: fn() -> Histogram = duration_histogram;
        let delivery_seconds = Family::new_with_constructor(constructor);
        registry.register(
            "integra_delivery_duration_seconds",
            "Time a subscriber took to confirm a delivery (a broker batch's, for each of its deliveries)",
            delivery_seconds.clone(),
        );
        let forming_seconds = Family::new_with_constructor(constructor);
        registry.register(
            "integra_forming_duration_seconds",
            "Time forming took: a Rust former's run, an external former's claim to answer",
            forming_seconds.clone(),
        );
        let processing_seconds = Family::new_with_constructor(constructor);
        registry.register(
            "integra_incoming_processing_duration_seconds",
            "Time processing an incoming message took: a Rust handler's run, an external processor's claim to answer",
            processing_seconds.clone(),
        );
        Events {
            registry,
            registered,
            formed,
            deliveries,
            incoming,
            processed,
            retries,
            validation_failures,
            delivery_seconds,
            forming_seconds,
            processing_seconds,
            recent: Recent::default(),
        }
    }

    fn retry(&self, flow: &str, stage: &'static str) {
        self.retries
            .get_or_create(&StageLabels {
                flow: flow.to_owned(),
                stage,
            })
            .inc();
    }

    /// Counts what happened at `now`.
    pub(crate) fn observe(&self, o: &Observation, now: Timestamp) {
        let outcome = |flow: &str, outcome| OutcomeLabels {
            flow: flow.to_owned(),
            outcome,
        };
        match o {
            Observation::Registered { flow, n } => {
                self.registered
                    .get_or_create(&FlowLabels { flow: flow.clone() })
                    .inc_by(*n);
            }
            Observation::Formed { flow, status, took } => {
                let (name, succeeded) = match status {
                    MessageStatus::FormingError => ("error", false),
                    MessageStatus::Dead => ("dead", false),
                    MessageStatus::Cancelled => ("cancelled", true),
                    _ => ("formed", true),
                };
                self.formed.get_or_create(&outcome(flow, name)).inc();
                if *status == MessageStatus::FormingError {
                    self.retry(flow, "forming");
                }
                if let Some(took) = took {
                    self.forming_seconds
                        .get_or_create(&FlowLabels { flow: flow.clone() })
                        .observe(took.as_secs_f64());
                }
                self.recent
                    .record(flow, Operation::Formation, succeeded, *took, now);
            }
            Observation::Delivered {
                flow,
                subscriber,
                status,
                took,
            } => {
                let name = match status {
                    DeliveryStatus::Sent => "sent",
                    DeliveryStatus::Unchanged => "unchanged",
                    DeliveryStatus::Dead => "dead",
                    _ => "error",
                };
                self.deliveries
                    .get_or_create(&DeliveryLabels {
                        flow: flow.clone(),
                        subscriber: subscriber.clone(),
                        outcome: name,
                    })
                    .inc();
                if *status == DeliveryStatus::SendError {
                    self.retry(flow, "delivery");
                }
                if let Some(took) = took {
                    self.delivery_seconds
                        .get_or_create(&SubscriberLabels {
                            flow: flow.clone(),
                            subscriber: subscriber.clone(),
                        })
                        .observe(took.as_secs_f64());
                }
                let succeeded = matches!(status, DeliveryStatus::Sent | DeliveryStatus::Unchanged);
                self.recent
                    .record(flow, Operation::Send, succeeded, *took, now);
            }
            Observation::Received { flow, outcome: o } => {
                let name = match o {
                    Received::Accepted => "accepted",
                    Received::Duplicate => "duplicate",
                    Received::Rejected => "rejected",
                };
                self.incoming.get_or_create(&outcome(flow, name)).inc();
            }
            Observation::Processed { flow, status, took } => {
                let (name, succeeded) = match status {
                    IncomingStatus::Processed => ("processed", true),
                    IncomingStatus::Dead => ("dead", false),
                    _ => ("error", false),
                };
                self.processed.get_or_create(&outcome(flow, name)).inc();
                if *status == IncomingStatus::Error {
                    self.retry(flow, "processing");
                }
                if let Some(took) = took {
                    self.processing_seconds
                        .get_or_create(&FlowLabels { flow: flow.clone() })
                        .observe(took.as_secs_f64());
                }
                self.recent
                    .record(flow, Operation::Incoming, succeeded, *took, now);
            }
            Observation::Invalid { flow, direction } => {
                self.validation_failures
                    .get_or_create(&DirectionLabels {
                        flow: flow.clone(),
                        direction: direction.as_str(),
                    })
                    .inc();
            }
        }
    }
}
