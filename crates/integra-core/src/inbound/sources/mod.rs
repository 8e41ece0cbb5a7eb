//! Sources: the brokers and polled resources that feed incoming flows.
//!
//! [`Engine::start_sources`](crate::Engine::start_sources) starts a supervisor thread that keeps
//! one runner thread per configured source (of a kind compiled in), starting, restarting and
//! stopping runners as the configuration changes. A runner first takes its flow's *source lease* in
//! the database, so however many processes start their sources (every 1C server process may), one
//! at a time consumes each source; the others stand by and take over when the holder stops or dies
//! (its lease expires). Holding the lease, the runner connects and steps its session: wait up to a
//! second for messages, check each against the flow, store the batch in one durable transaction,
//! and only then acknowledge the broker. A broker that is unreachable, or a session that fails, is
//! retried with backoff, its error recorded for
//! [`Engine::source_status`](crate::Engine::source_status). An inactive flow pauses its source: the
//! runner disconnects, so nothing is taken from the broker until the flow is active again.
//!
//! A message that is not valid for the flow (not JSON, breaking the schema) is never dropped
//! silently: it goes to the source's dead-letter destination when one is configured, and is always
//! recorded as a rejection ([`Engine::rejected_incoming`](crate::Engine::rejected_incoming)), then
//! acknowledged.

#[cfg(feature = "amqp")]
mod amqp;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "mqtt")]
mod mqtt;
#[cfg(feature = "http")]
mod poll;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{ConfigSnapshot, Direction, Endpoint, Source, SourceKind};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::queue::incoming::{CheckOutcome, Received};
use crate::store::{Commit, Db};
use crate::time::Timestamp;

/// How long a runner's lease on its source lasts without renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often a runner renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often a standing-by runner asks for the lease.
const STANDBY_CHECK: Duration = Duration::from_secs(2);
/// How often the supervisor compares the runners with the configuration.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);
/// The first and the longest wait after a failed session.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));

/// One connection to a source, stepped by its runner.
trait Session: Send {
    /// Waits up to about a second for messages, stores what arrived, acknowledges it.
    fn step(&mut self) -> Result<(), String>;
}

/// What a session needs from its runner.
#[cfg_attr(
    not(feature = "network"),
    allow(dead_code, reason = "only sources use it, and this build has none")
)]
struct Context {
    core: Arc<Core>,
    flow: String,
    source: Source,
    endpoint: Endpoint,
}

#[cfg_attr(
    not(feature = "network"),
    allow(dead_code, reason = "only sources use it, and this build has none")
)]
impl Context {
    /// Checks a received message against the flow as configured now.
    fn check_one(&self, received: Received) -> CheckOutcome {
        let config = self.core.store.cached_config();
        let locator = self.source.message_id_pointer.as_deref();
        self.core
            .check_received(&config, &self.flow, locator, received)
    }

    /// Checks received messages against the flow as configured now.
    #[cfg(feature = "brokers")]
    fn check(&self, received: Vec<Received>) -> Vec<CheckOutcome> {
        received.into_iter().map(|r| self.check_one(r)).collect()
    }

    /// Stores a checked batch, `also` in the same transaction; `None` when `also` refused.
    fn store(
        &self,
        batch: Vec<CheckOutcome>,
        also: impl FnOnce(&Db<'_>) -> Result<bool> + Send + 'static,
    ) -> Result<Option<()>, String> {
        let name = format!("{}:{}", self.source.kind, self.endpoint.code);
        let stored = self
            .core
            .store_batch(&self.flow, &name, batch, also)
            .map_err(|e| format!("storing into flow '{}' failed: {e}", self.flow))?;
        if let Some(outcomes) = &stored {
            for refusal in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                log::warn!(
                    "flow '{}': rejected a message from {name}: {}",
                    self.flow,
                    refusal.error
                );
            }
        }
        Ok(stored.map(|_| ()))
    }

    /// A message naming this source, for errors.
    fn describe(&self, what: impl std::fmt::Display) -> String {
        format!(
            "{} source of flow '{}' (endpoint '{}'): {what}",
            self.source.kind, self.flow, self.endpoint.code
        )
    }
}

/// Opens a session of the source's kind.
fn open(context: Context) -> Result<Box<dyn Session>, String> {
    match context.source.kind {
        #[cfg(feature = "amqp")]
        SourceKind::Amqp => amqp::open(context),
        #[cfg(feature = "kafka")]
        SourceKind::Kafka => kafka::open(context),
        #[cfg(feature = "mqtt")]
        SourceKind::Mqtt => mqtt::open(context),
        #[cfg(feature = "http")]
        SourceKind::Poll => poll::open(context),
        #[allow(
            unreachable_patterns,
            reason = "reached when a source's feature is off"
        )]
        kind => Err(format!(
            "this build of Integra has no '{kind}' source (cargo feature '{}')",
            feature_of(kind)
        )),
    }
}

/// The cargo feature a source kind needs.
const fn feature_of(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Amqp => "amqp",
        SourceKind::Kafka => "kafka",
        SourceKind::Mqtt => "mqtt",
        SourceKind::Poll => "http",
    }
}

/// Whether this build can run sources of `kind`.
const fn compiled_in(kind: SourceKind) -> bool {
    match kind {
        SourceKind::Amqp => cfg!(feature = "amqp"),
        SourceKind::Kafka => cfg!(feature = "kafka"),
        SourceKind::Mqtt => cfg!(feature = "mqtt"),
        SourceKind::Poll => cfg!(feature = "http"),
    }
}

/// The sources of the configuration this build can run, by flow.
fn wanted(config: &ConfigSnapshot) -> HashMap<String, Source> {
    config
        .config()
        .flows
        .iter()
        .filter(|f| f.direction == Direction::Incoming)
        .filter_map(|f| Some((f.code.clone(), f.source.clone()?)))
        .filter(|(_, s)| compiled_in(s.kind))
        .collect()
}

/// Running sources. Dropping it stops them, as [`Sources::stop`] does: keep it for as long
/// as the sources should run.
///
/// Sources whose result is ignored would stop at once, so ignoring it is refused where
/// `unused_must_use` is denied (issue 22):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn receive(engine: &integra_core::Engine) -> integra_core::Result<()> {
///     engine.start_sources()?; // dropped here: the sources would stop at once
///     Ok(())
/// }
/// ```
#[must_use = "dropping a Sources stops it: keep it for as long as it should run"]
pub struct Sources {
    stop: Arc<AtomicBool>,
    supervisor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sources")
    }
}

impl Sources {
    /// Stops every runner (each finishes its step, which takes at most about a second, and
    /// gives up its lease) and waits for them.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
    }
}

impl Drop for Sources {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A runner thread and how to stop it.
struct Runner {
    source: Source,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Runner {
    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

/// Who runs a flow's source, and how it last went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SourceStatus {
    /// The flow.
    pub flow: String,
    /// The engine holding (or last holding) the lease.
    pub owner: String,
    /// True when that is this engine.
    pub here: bool,
    /// True while the lease is held.
    pub held: bool,
    /// The last error, until the source works again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When this was last updated.
    pub updated_at: Timestamp,
}

/// A message a source received and rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rejection {
    /// The flow.
    pub flow: String,
    /// The source: kind and endpoint, e.g. `amqp:rabbit`.
    pub source: String,
    /// The message's id, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The body as received.
    pub payload: String,
    /// When.
    pub at: Timestamp,
}

/// Keeps one runner per wanted source until `stop`.
fn supervise(core: &Arc<Core>, stop: &AtomicBool) {
    let mut runners: HashMap<String, Runner> = HashMap::new();
    while !stop.load(Ordering::SeqCst) {
        let config = match core.store.read(|db| db.config()) {
            Ok(config) => config,
            Err(e) => {
                log::warn!("sources: cannot read the configuration: {e}");
                sleep_unless(stop, SUPERVISE_EVERY);
                continue;
            }
        };
        let mut wanted = wanted(&config);
        let stale: Vec<String> = runners
            .iter()
            .filter(|(flow, r)| wanted.get(*flow) != Some(&r.source))
            .map(|(flow, _)| flow.clone())
            .collect();
        for flow in stale {
            if let Some(runner) = runners.remove(&flow) {
                log::info!("flow '{flow}': its source changed or was removed; stopping it");
                runner.stop();
            }
        }
        for (flow, source) in wanted.drain() {
            if runners.contains_key(&flow) {
                continue;
            }
            match start_runner(core, &flow, source) {
                Ok(runner) => {
                    runners.insert(flow, runner);
                }
                Err(e) => log::error!("flow '{flow}': cannot start its source: {e}"),
            }
        }
        sleep_unless(stop, SUPERVISE_EVERY);
    }
    for (_, runner) in runners.drain() {
        runner.stop();
    }
}

fn start_runner(core: &Arc<Core>, flow: &str, source: Source) -> std::io::Result<Runner> {
    let stop = Arc::new(AtomicBool::new(false));
    let (core, code, settings, stopping) = (
        Arc::clone(core),
        flow.to_owned(),
        source.clone(),
        Arc::clone(&stop),
    );
    let thread = std::thread::Builder::new()
        .name(format!("integra-source-{flow}"))
        .spawn(move || run(&core, &code, &settings, &stopping))?;
    Ok(Runner {
        source,
        stop,
        thread,
    })
}

/// Sleeps `total`, waking early when `stop` is set.
fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let until = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

impl Core {
    fn take_source_lease(&self, flow: &str) -> Result<bool> {
        let now = self.now();
        let (flow, owner) = (flow.to_owned(), self.owner.clone());
        self.store.write(Commit::Lazy, move |db| {
            Ok::<_, Error>(db.acquire_source_lease(&flow, &owner, now.plus(LEASE), now)?)
        })
    }

    fn source_error(&self, flow: &str, error: Option<String>) {
        let now = self.now();
        let (code, owner) = (flow.to_owned(), self.owner.clone());
        let written = self.store.write(Commit::Lazy, move |db| {
            Ok::<_, Error>(db.set_source_error(&code, &owner, error.as_deref(), now)?)
        });
        if let Err(e) = written {
            log::warn!("flow '{flow}': cannot record its source's state: {e}");
        }
    }

    fn release_source_lease(&self, flow: &str) {
        let now = self.now();
        let (code, owner) = (flow.to_owned(), self.owner.clone());
        let released = self.store.write(Commit::Lazy, move |db| {
            Ok::<_, Error>(db.release_source_lease(&code, &owner, now)?)
        });
        if let Err(e) = released {
            log::warn!("flow '{flow}': cannot give up its source's lease: {e}");
        }
    }
}

/// A runner: holds the flow's source lease and keeps a session going until `stop`.
fn run(core: &Arc<Core>, flow: &str, source: &Source, stop: &AtomicBool) {
    let mut backoff = BACKOFF.0;
    let mut holding = false;
    while !stop.load(Ordering::SeqCst) {
        if !flow_active(core, flow) {
            sleep_unless(stop, Duration::from_secs(1));
            continue;
        }
        match core.take_source_lease(flow) {
            Ok(true) => holding = true,
            Ok(false) => {
                sleep_unless(stop, STANDBY_CHECK);
                continue;
            }
            Err(e) => {
                log::warn!("flow '{flow}': cannot take its source's lease: {e}");
                sleep_unless(stop, STANDBY_CHECK);
                continue;
            }
        }
        match session(core, flow, source, stop) {
            Ok(()) => backoff = BACKOFF.0,
            Err(e) => {
                log::warn!("{e}; retrying in {}", humantime::format_duration(backoff));
                core.source_error(flow, Some(e));
                sleep_unless(stop, backoff);
                backoff = (backoff * 2).min(BACKOFF.1);
            }
        }
    }
    if holding {
        core.release_source_lease(flow);
    }
}

/// Connects and steps a session until `stop`, a lost lease, or an error.
fn session(core: &Arc<Core>, flow: &str, source: &Source, stop: &AtomicBool) -> Result<(), String> {
    let endpoint = core
        .store
        .cached_config()
        .endpoint(&source.endpoint)
        .cloned()
        .ok_or_else(|| {
            format!(
                "flow '{flow}': endpoint '{}' is not configured",
                source.endpoint
            )
        })?;
    let context = Context {
        core: Arc::clone(core),
        flow: flow.to_owned(),
        source: source.clone(),
        endpoint,
    };
    let mut session = open(context)?;
    let mut healthy = false;
    let mut renewed = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if renewed.elapsed() >= RENEW_EVERY {
            if !core.take_source_lease(flow).map_err(|e| e.to_string())? {
                log::warn!("flow '{flow}': another process took over its source");
                return Ok(());
            }
            renewed = Instant::now();
        }
        if !flow_active(core, flow) {
            log::info!("flow '{flow}' is inactive; its source disconnects until it is active");
            return Ok(());
        }
        session.step()?;
        if !healthy {
            core.source_error(flow, None);
            healthy = true;
        }
    }
}

/// True while `flow` is configured and active.
fn flow_active(core: &Core, flow: &str) -> bool {
    core.store
        .cached_config()
        .flow(flow)
        .is_some_and(|f| f.active)
}

/// Starts the supervisor that runs the configured sources on `core`
/// ([`Engine::start_sources`](crate::Engine::start_sources)).
///
/// [`Engine::start_sources`]: crate::Engine::start_sources
pub(crate) fn start(core: Arc<Core>) -> Result<Sources> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let supervisor = std::thread::Builder::new()
        .name("integra-sources".into())
        .spawn(move || supervise(&core, &stopping))
        .map_err(|source| Error::Spawn {
            what: "the source supervisor",
            source,
        })?;
    Ok(Sources {
        stop,
        supervisor: Some(supervisor),
    })
}

/// Who holds each source's lease ([`Engine::source_status`](crate::Engine::source_status)).
///
/// [`Engine::source_status`]: crate::Engine::source_status
pub(crate) fn status(core: &Core) -> Result<Vec<SourceStatus>> {
    let now = core.now();
    let rows = core.store.read(|db| db.source_leases())?;
    Ok(rows
        .into_iter()
        .map(|r| SourceStatus {
            here: r.owner == core.owner,
            held: r.lease_until > now,
            flow: r.flow,
            owner: r.owner,
            last_error: r.last_error,
            updated_at: r.updated_at,
        })
        .collect())
}

/// The latest messages `flow`'s source refused
/// ([`Engine::rejected_incoming`](crate::Engine::rejected_incoming)).
///
/// [`Engine::rejected_incoming`]: crate::Engine::rejected_incoming
pub(crate) fn rejections(core: &Core, flow: &str, limit: usize) -> Result<Vec<Rejection>> {
    let rows = core.store.read(|db| db.rejections(flow, limit))?;
    Ok(rows
        .into_iter()
        .map(|r| Rejection {
            flow: r.flow,
            source: r.source,
            message_id: r.message_id,
            reason: r.reason,
            payload: r.payload,
            at: r.at,
        })
        .collect())
}
