//! The queues' state, read at each scrape: depth by flow, subscriber and status, the age of
//! the oldest pending row, dead deliveries, the dispatcher's threads, the database's size,
//! the rows waiting for a Rust handler this process lacks;
//! and the 1C integration subsystem's metrics (`pde_*`), with their names and labels, so its
//! Grafana dashboards keep working (the flow label holds the flow's code).
//!
//! A scrape stays cheap however long the queues are: depths come from counts the database
//! keeps by trigger, and each oldest age from one indexed lookup per flow with pending rows.

use std::collections::BTreeMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet};
use prometheus_client::metrics::MetricType;

use super::recent::{Durations, Operation};
use crate::core::Core;
use crate::dispatch::{Handlers, Unhandled};
use crate::error::{Error, Result};
use crate::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::store::{Counted, QueueCount};

/// What a scrape reports about state, gathered before encoding.
#[derive(Debug)]
pub(crate) struct State {
    counts: Vec<QueueCount>,
    /// Age in seconds of the oldest pending row, per (queue, flow).
    oldest: BTreeMap<(Counted, String), f64>,
    database_bytes: u64,
    /// Free pages inside the database file, bytes.
    free_bytes: u64,
    wal_bytes: u64,
    threads: usize,
    busy: usize,
    /// Rows waiting for a Rust handler this process has not registered.
    unhandled: Unhandled,
    per_minute: Vec<(String, Operation, bool, u64)>,
    durations: Vec<(String, Operation, Durations)>,
}

/// The statuses the 1C subsystem calls errors (it has no separate Dead).
fn errors(queue: Counted) -> [&'static str; 2] {
    match queue {
        Counted::Messages => [
            MessageStatus::FormingError.as_str(),
            MessageStatus::Dead.as_str(),
        ],
        Counted::Deliveries => [
            DeliveryStatus::SendError.as_str(),
            DeliveryStatus::Dead.as_str(),
        ],
        Counted::Incoming => [
            IncomingStatus::Error.as_str(),
            IncomingStatus::Dead.as_str(),
        ],
    }
}

/// The status of a row awaiting a retry.
fn retrying(queue: Counted) -> &'static str {
    match queue {
        Counted::Messages => MessageStatus::FormingError.as_str(),
        Counted::Deliveries => DeliveryStatus::SendError.as_str(),
        Counted::Incoming => IncomingStatus::Error.as_str(),
    }
}

const fn queue_name(queue: Counted) -> &'static str {
    match queue {
        Counted::Messages => "forming",
        Counted::Deliveries => "delivery",
        Counted::Incoming => "incoming",
    }
}

/// The 1C subsystem's names: (its `pde_queue_length` label, its age `queue` label). Its
/// template counts, despite the names, message-level rows waiting to be formed under
/// `outcomingQueue` and per-subscriber rows waiting to be sent under `outcomingFormingQueue`
/// (`пэмМетрика_pde_queue_length`); its dashboards read them so.
const fn pde_names(queue: Counted) -> (&'static str, &'static str) {
    match queue {
        Counted::Messages => ("outcomingQueue", "outgoing"),
        Counted::Deliveries => ("outcomingFormingQueue", "distribution"),
        Counted::Incoming => ("incomingQueue", "incoming"),
    }
}

const fn direction(queue: Counted) -> &'static str {
    match queue {
        Counted::Messages | Counted::Deliveries => "outgoing",
        Counted::Incoming => "incoming",
    }
}

const QUEUES: [Counted; 3] = [Counted::Messages, Counted::Deliveries, Counted::Incoming];

impl State {
    /// Reads the state from the database and this process.
    pub(crate) fn gather(core: &Core, handlers: &Handlers) -> Result<State> {
        let now = core.now();
        let registered = (handlers.formers.codes(), handlers.incoming.codes());
        let (counts, oldest, unhandled, space) = core.store.read(|db| {
            let counts = db.queue_counts()?;
            let mut oldest = BTreeMap::new();
            for c in counts
                .iter()
                .filter(|c| c.queue.pending().contains(&c.status.as_str()))
            {
                let key = (c.queue, c.flow.clone());
                if oldest.contains_key(&key) {
                    continue;
                }
                if let Some(at) = db.oldest_pending(c.queue, &c.flow)? {
                    let age = (now.as_millis() - at.as_millis()).max(0) as f64 / 1000.0;
                    oldest.insert(key, age);
                }
            }
            let registered = (registered.0.as_slice(), registered.1.as_slice());
            let config = db.config()?;
            let unhandled = Unhandled::of(&config, registered, &counts);
            Ok::<_, Error>((counts, oldest, unhandled, db.space()?))
        })?;
        let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
        // An SQLite file and its WAL as the file system tells; a PostgreSQL database as it
        // reports the size of Integra's tables.
        let (database_bytes, wal_bytes) = match core.store.file() {
            Some(database) => {
                let mut wal = database.as_os_str().to_owned();
                wal.push("-wal");
                (size(database), size(std::path::Path::new(&wal)))
            }
            None => (space.file_bytes, 0),
        };
        let dispatcher = &core.metrics;
        Ok(State {
            counts,
            oldest,
            database_bytes,
            free_bytes: space.free_bytes,
            wal_bytes,
            threads: dispatcher
                .threads
                .load(std::sync::atomic::Ordering::Relaxed),
            busy: dispatcher.busy.load(std::sync::atomic::Ordering::Relaxed),
            unhandled,
            per_minute: dispatcher.events.recent.per_minute(now),
            durations: dispatcher.events.recent.durations(now),
        })
    }

    /// The sum of the counts of `queue` in `statuses`, per flow.
    fn by_flow(&self, queue: Counted, statuses: &[&str]) -> BTreeMap<&str, u64> {
        let mut out = BTreeMap::new();
        for c in self
            .counts
            .iter()
            .filter(|c| c.queue == queue && statuses.contains(&c.status.as_str()))
        {
            *out.entry(c.flow.as_str()).or_default() += c.n;
        }
        out
    }
}

/// Writes one gauge family; nothing at all when it has no samples (as prometheus-client
/// does for empty families: strict OpenMetrics readers refuse a family without samples).
fn gauges<'a, L: EncodeLabelSet + 'a, V: prometheus_client::encoding::EncodeGaugeValue + 'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> Result<(), std::fmt::Error> {
    let mut samples = samples.into_iter().peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        metric.encode_family(&labels)?.encode_gauge(&value)?;
    }
    Ok(())
}

impl Collector for State {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.encode_own(&mut encoder)?;
        self.encode_1c(&mut encoder)
    }
}

impl State {
    fn encode_own(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let of = |queue: Counted| self.counts.iter().filter(move |c| c.queue == queue);
        gauges(
            e,
            "integra_queue_messages",
            "Outgoing messages by flow and status",
            of(Counted::Messages).map(|c| {
                (
                    [("flow", c.flow.as_str()), ("status", c.status.as_str())],
                    c.n,
                )
            }),
        )?;
        gauges(
            e,
            "integra_queue_deliveries",
            "Deliveries by flow, subscriber and status",
            of(Counted::Deliveries).map(|c| {
                let labels = [
                    ("flow", c.flow.as_str()),
                    ("subscriber", c.subscriber.as_str()),
                    ("status", c.status.as_str()),
                ];
                (labels, c.n)
            }),
        )?;
        gauges(
            e,
            "integra_queue_incoming",
            "Incoming messages by flow and status",
            of(Counted::Incoming).map(|c| {
                (
                    [("flow", c.flow.as_str()), ("status", c.status.as_str())],
                    c.n,
                )
            }),
        )?;
        gauges(
            e,
            "integra_dead_deliveries",
            "Deliveries that used up their attempts, by flow and subscriber",
            of(Counted::Deliveries)
                .filter(|c| c.status == DeliveryStatus::Dead.as_str())
                .map(|c| {
                    let labels = [
                        ("flow", c.flow.as_str()),
                        ("subscriber", c.subscriber.as_str()),
                    ];
                    (labels, c.n)
                }),
        )?;
        gauges(
            e,
            "integra_oldest_pending_age_seconds",
            "Age of the oldest row waiting to be formed, sent or processed, by queue and flow",
            self.oldest.iter().map(|((queue, flow), age)| {
                (
                    [("queue", queue_name(*queue)), ("flow", flow.as_str())],
                    *age,
                )
            }),
        )?;
        let unhandled = [
            (Counted::Messages, &self.unhandled.forming),
            (Counted::Incoming, &self.unhandled.incoming),
        ];
        gauges(
            e,
            "integra_pending_without_handler",
            "Rows waiting to be formed or processed by a Rust former or incoming handler this process has not registered, by queue and flow",
            unhandled.into_iter().flat_map(|(queue, waiting)| {
                waiting.iter().map(move |(flow, n)| {
                    ([("queue", queue_name(queue)), ("flow", flow.as_str())], *n)
                })
            }),
        )?;
        gauges(
            e,
            "integra_dispatcher_threads",
            "Worker threads of this process's background dispatcher",
            [([("process", "this")], self.threads)],
        )?;
        gauges(
            e,
            "integra_dispatcher_threads_busy",
            "Worker threads of this process's background dispatcher forming, sending or processing now",
            [([("process", "this")], self.busy)],
        )?;
        gauges(
            e,
            "integra_database_size_bytes",
            "Size of the database file",
            [([("file", "database")], self.database_bytes)],
        )?;
        gauges(
            e,
            "integra_database_free_bytes",
            "Free pages inside the database file: space removed records left, reused by new ones and given back after a cleanup",
            [([("file", "database")], self.free_bytes)],
        )?;
        gauges(
            e,
            "integra_wal_size_bytes",
            "Size of the database's write-ahead log",
            [([("file", "wal")], self.wal_bytes)],
        )
    }

    fn encode_1c(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        gauges(
            e,
            "pde_queue_length",
            "Pending messages, as the 1C integration subsystem reports them",
            QUEUES.map(|q| {
                let total: u64 = self.by_flow(q, &q.pending()).values().sum();
                ([("label", pde_names(q).0)], total)
            }),
        )?;
        gauges(
            e,
            "pde_oldest_pending_age_seconds",
            "Age of the oldest pending message, as the 1C integration subsystem reports it",
            QUEUES.map(|q| {
                let oldest = self
                    .oldest
                    .iter()
                    .filter(|((queue, _), _)| *queue == q)
                    .map(|(_, age)| *age)
                    .fold(0.0, f64::max);
                ([("queue", pde_names(q).1)], oldest)
            }),
        )?;
        let error_types = [
            (Counted::Messages, "formation_error"),
            (Counted::Deliveries, "send_error"),
            (Counted::Incoming, "processing_error"),
        ];
        gauges(
            e,
            "pde_error_count",
            "Messages in an error status, as the 1C integration subsystem reports them",
            error_types.iter().flat_map(|(q, error_type)| {
                self.by_flow(*q, &errors(*q))
                    .into_iter()
                    .map(move |(flow, n)| {
                        let labels = [
                            ("flow_name", flow),
                            ("error_type", *error_type),
                            ("direction", direction(*q)),
                        ];
                        (labels, n)
                    })
            }),
        )?;
        let mut retrying_by_flow: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for q in QUEUES {
            for (flow, n) in self.by_flow(q, &[retrying(q)]) {
                *retrying_by_flow.entry((flow, direction(q))).or_default() += n;
            }
        }
        gauges(
            e,
            "pde_retry_count",
            "Messages waiting for a retry, as the 1C integration subsystem reports them",
            retrying_by_flow
                .into_iter()
                .map(|((flow, direction), n)| ([("flow_name", flow), ("direction", direction)], n)),
        )?;
        for (operation, name, help) in [
            (
                Operation::Formation,
                "pde_formation_duration_seconds",
                "Forming time over the last 5 minutes (a Rust former's run, an external former's claim to answer), as the 1C integration subsystem reports it",
            ),
            (
                Operation::Send,
                "pde_send_duration_seconds",
                "Sending time over the last 5 minutes, as the 1C integration subsystem reports it",
            ),
            (
                Operation::Incoming,
                "pde_incoming_duration_seconds",
                "Processing time of incoming messages over the last 5 minutes (a Rust handler's run, an external processor's claim to answer), as the 1C integration subsystem reports it",
            ),
        ] {
            gauges(
                e,
                name,
                help,
                self.durations
                    .iter()
                    .filter(|(_, op, _)| *op == operation)
                    .flat_map(|(flow, _, d)| {
                        [
                            (
                                [("flow_name", flow.as_str()), ("aggregation", "avg")],
                                d.avg,
                            ),
                            (
                                [("flow_name", flow.as_str()), ("aggregation", "max")],
                                d.max,
                            ),
                        ]
                    }),
            )?;
        }
        gauges(
            e,
            "pde_messages_per_minute",
            "Operations over the last 60 seconds, as the 1C integration subsystem reports them",
            self.per_minute.iter().map(|(flow, op, ok, n)| {
                let status = if *ok { "success" } else { "error" };
                let labels = [
                    ("flow_name", flow.as_str()),
                    ("operation", op.as_str()),
                    ("status", status),
                ];
                (labels, *n)
            }),
        )
    }
}
