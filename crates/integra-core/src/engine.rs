//! The [`Engine`]: the handle application code holds, its options, and the shared core the
//! dispatcher's threads work on.
//!
//! `Engine` is cheap to clone; every clone is the same engine. The queue operations are
//! defined next to their concepts (`queue::register`, `queue::forming`, `queue::incoming`,
//! `queue::inspect`, `dispatch`, `maintenance`, `external_ids`); this file holds opening,
//! configuration and the parts they share.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::config::{Config, ConfigSnapshot, Endpoint, ExchangeSettings, Flow, Subscriber};
use crate::dispatch::{Dispatcher, Handlers, Warned};
use crate::error::{Error, Result};
use crate::metrics::{Metrics, Observation};
use crate::openapi::Catalog;
use crate::secrets::SecretsKey;
use crate::store::{Commit, Db, Durability, Store, StoreError, StoreOptions};
use crate::time::{Clock, SystemClock, Timestamp};
use crate::transport::Transports;

/// How an engine opens its database and runs.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// `synchronous=NORMAL` (default) or `FULL`; see [`Durability`].
    pub durability: Durability,
    /// How long work claimed by the dispatcher stays reserved before another process may
    /// take it back. Renewed while the work runs. Default 60 s.
    pub lease: Duration,
    /// How long a write waits for another process holding the database lock. Default 10 s.
    pub busy_timeout: Duration,
    /// The clock every time-dependent decision reads. Default: the system clock.
    pub clock: Arc<dyn Clock>,
    /// Most schema violations reported for one message. Default 100.
    pub max_violations: usize,
    /// The key that seals the configuration's secrets in the database file
    /// ([`crate::secrets`]). Default none: secrets are kept as given, in a file only its
    /// owner may read.
    pub secrets_key: Option<SecretsKey>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            durability: Durability::Normal,
            lease: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
            max_violations: 100,
            secrets_key: None,
        }
    }
}

/// A wake-up signal from registering code to the dispatcher. Sending never blocks: one
/// pending signal is enough to make the dispatcher look for work.
#[derive(Debug)]
pub(crate) struct Wake {
    tx: Sender<()>,
    rx: Receiver<()>,
}

impl Wake {
    fn new() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        Wake { tx, rx }
    }

    pub(crate) fn notify(&self) {
        let _ = self.tx.try_send(());
    }

    pub(crate) fn receiver(&self) -> Receiver<()> {
        self.rx.clone()
    }
}

/// Work prepared against the configuration by [`Core::write_prepared`], and the flow whose
/// settings it was checked against.
pub(crate) struct Prepared<P> {
    /// The flow's code.
    pub(crate) flow: String,
    /// The work, applied in the write transaction.
    pub(crate) work: P,
}

/// What the engine's threads share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) options: EngineOptions,
    /// Identifies this engine's leases in the database.
    pub(crate) owner: String,
    /// The Rust handlers registered in this process.
    pub(crate) handlers: Handlers,
    pub(crate) transports: Transports,
    pub(crate) catalog: Catalog,
    pub(crate) wake: Wake,
    pub(crate) metrics: Metrics,
    /// When work waiting for a Rust handler this process lacks was last logged, per flow.
    pub(crate) unhandled_warned: Warned,
}

impl Core {
    pub(crate) fn now(&self) -> Timestamp {
        self.options.clock.now()
    }

    /// Prepares work against the configuration outside any transaction (schema validation
    /// runs here, never under the write lock), then applies it in a write transaction, with
    /// the configuration that transaction sees. The work was checked against one flow's
    /// settings ([`Prepared::flow`]); only when another writer changed those in between
    /// ([`ConfigSnapshot::flow_scope`]) is it prepared again. A change elsewhere in the
    /// configuration (another flow, an endpoint no schema of this flow is fetched from, a
    /// listener) leaves the work as it was checked, so registrations keep going while other
    /// processes change or reload the configuration (issue 22).
    pub(crate) fn write_prepared<P, R>(
        &self,
        commit: Commit,
        mut prepare: impl FnMut(&Arc<ConfigSnapshot>) -> Result<Prepared<P>>,
        apply: impl Fn(&Db<'_>, &ConfigSnapshot, P) -> Result<R> + Send + std::marker::Sync + 'static,
    ) -> Result<R>
    where
        P: Send + 'static,
        R: Send + 'static,
    {
        /// The transaction saw other settings of the flow than the work was prepared with.
        struct Stale(String);
        const ATTEMPTS: usize = 5;
        let apply = Arc::new(apply);
        let mut flow = String::new();
        for _ in 0..ATTEMPTS {
            let config = self.store.cached_config();
            let prepared = prepare(&config)?;
            let apply = Arc::clone(&apply);
            let outcome = self.store.write(commit, move |db| {
                let current = db.config()?;
                if current.version() != config.version()
                    && current.flow_scope(&prepared.flow) != config.flow_scope(&prepared.flow)
                {
                    return Ok(Err(Stale(prepared.flow)));
                }
                apply(db, &current, prepared.work).map(Ok)
            })?;
            match outcome {
                Ok(done) => return Ok(done),
                Err(Stale(changed)) => flow = changed,
            }
        }
        Err(Error::Store(StoreError::Commit {
            reason: format!(
                "the settings of flow '{}' (the flow, its subscribers or its schema) changed {ATTEMPTS} times while this call ran; try again",
                crate::limits::quoted(&flow)
            ),
        }))
    }

    /// The lease owner of work claimed through the pull API (`next_to_form`,
    /// `next_incoming`): distinct from the dispatcher's, whose lease renewals must not keep
    /// alive work an external caller abandoned.
    pub(crate) fn pull_owner(&self) -> String {
        format!("{}/pull", self.owner)
    }

    /// Gives work claimed through the pull API back with `release` (the store's statement
    /// for its kind), and wakes the dispatcher. Returns how many were given back.
    pub(crate) fn release_pulled(
        &self,
        ids: &[String],
        release: fn(&Db<'_>, &[&str], &str, Timestamp) -> Result<usize, StoreError>,
    ) -> Result<usize> {
        let ids = ids.to_vec();
        let (owner, now) = (self.pull_owner(), self.now());
        let released = self.store.write(Commit::Lazy, move |db| {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            release(db, &ids, &owner, now)
        })?;
        self.wake.notify();
        Ok(released)
    }

    /// Counts what happened, once the transaction that made it true has committed.
    pub(crate) fn observe(&self, observations: &[Observation]) {
        let now = self.now();
        for o in observations {
            self.metrics.events.observe(o, now);
        }
    }

    /// The message exchange's settings as configured now (the defaults when the
    /// configuration has none).
    pub(crate) fn exchange_settings(&self) -> Result<ExchangeSettings> {
        Ok(self
            .store
            .read(|db| db.config())?
            .config()
            .exchange_settings())
    }

    /// Whether the database is fit to take messages: its file is still the one at its
    /// path, it answers a read and can be written ([`Store::check_writable`]). What the
    /// receiver's `/health` reports; the one place to add a check of the database's health.
    #[cfg(feature = "receiver")]
    pub(crate) fn check_database(&self) -> Result<()> {
        self.store.check_file()?;
        self.store.read(|db| db.config_version().map(|_| ()))?;
        self.store.check_writable()?;
        Ok(())
    }
}

/// An Integra engine on one database file.
///
/// Several engines (in one process or several) may open the same file: they share the
/// configuration and the queues, and never claim the same work twice. When the last clone
/// of an engine is dropped, its background dispatcher stops.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) core: Arc<Core>,
    dispatcher: Arc<DispatcherSlot>,
}

/// The engine's background dispatcher, stopped when the last `Engine` clone goes.
#[derive(Debug, Default)]
struct DispatcherSlot(Mutex<Option<Dispatcher>>);

impl Drop for DispatcherSlot {
    fn drop(&mut self) {
        if let Some(d) = self
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            d.stop();
        }
    }
}

impl Engine {
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// # Errors
    /// [`Error::Store`] when the file cannot be opened, is not an Integra database, or was
    /// written by a newer Integra.
    ///
    /// # Examples
    /// ```
    /// use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("integra.db");
    /// let engine = Engine::open(&path, EngineOptions::default())?;
    /// // Another engine on the same file (here or in another process) shares its
    /// // configuration and queues.
    /// let other = Engine::open(&path, EngineOptions::default())?;
    /// # drop((engine, other));
    /// # Ok(()) }
    /// ```
    pub fn open(path: impl AsRef<Path>, options: EngineOptions) -> Result<Engine> {
        if options.lease < Duration::from_secs(1) {
            return Err(Error::InvalidArgument {
                name: "lease",
                reason: "must be at least one second".into(),
            });
        }
        if options.max_violations == 0 {
            return Err(Error::InvalidArgument {
                name: "max_violations",
                reason: "must be at least 1".into(),
            });
        }
        let store = Store::open(
            path.as_ref(),
            StoreOptions {
                durability: options.durability,
                busy_timeout: options.busy_timeout,
                secrets_key: options.secrets_key.clone(),
            },
        )?;
        let core = Core {
            store,
            options,
            owner: uuid::Uuid::new_v4().to_string(),
            handlers: Handlers::default(),
            transports: Transports::default(),
            catalog: Catalog::default(),
            wake: Wake::new(),
            metrics: Metrics::new(),
            unhandled_warned: Warned::default(),
        };
        if let Some(key) = &core.options.secrets_key {
            let now = core.now();
            let sealed = core
                .store
                .write(Commit::Durable, move |db| db.seal_secrets_in_clear(now))?;
            if sealed > 0 {
                log::info!(
                    "sealed {sealed} secrets that were stored in clear, with key {}",
                    key.fingerprint()
                );
            }
        }
        // Warm the configuration cache, so the first calls need not prepare twice.
        core.store.read(|db| db.config().map(|_| ()))?;
        Ok(Engine {
            core: Arc::new(core),
            dispatcher: Arc::new(DispatcherSlot::default()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.core.store.path()
    }

    /// The current time by the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.core.now()
    }

    /// Replaces the whole configuration, after validating it.
    ///
    /// A configuration equal to the stored one (secrets compared by what they are, not by
    /// how they are sealed) changes nothing: nothing is written and the configuration's
    /// version stays, so every process may load the configuration it was given at each start
    /// without disturbing the others' work.
    ///
    /// # Errors
    /// [`Error::Config`] listing every problem; nothing is changed then.
    pub fn load_config(&self, config: &Config) -> Result<()> {
        config.validate()?;
        if self.core.store.read(|db| stored_equals(db, config))? {
            return Ok(());
        }
        let config = config.clone();
        let changed = self.core.store.write(Commit::Durable, move |db| {
            if stored_equals(db, &config)? {
                return Ok(false);
            }
            db.replace_config(&config)?;
            Ok::<_, Error>(true)
        })?;
        if changed {
            self.core.wake.notify();
        }
        Ok(())
    }

    /// Parses, validates and loads a configuration from JSON text.
    ///
    /// # Errors
    /// [`Error::Config`] naming the objects and fields at fault.
    ///
    /// # Examples
    /// ```
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// engine.load_config_json(r#"{
    ///     "endpoints":   [{"code": "shop", "base_url": "https://shop.example.com"}],
    ///     "subscribers": [{"code": "shop_orders", "kind": "http", "endpoint": "shop",
    ///                      "http": {"path": "/api/orders/{message_id}"}}],
    ///     "flows":       [{"code": "ORDER_EXPORT", "direction": "outgoing",
    ///                      "subscribers": ["shop_orders"]}]
    /// }"#)?;
    /// // A configuration with problems is refused whole, naming each.
    /// assert!(engine.load_config_json(r#"{"flows": [{"code": "X"}]}"#).is_err());
    /// # Ok(()) }
    /// ```
    pub fn load_config_json(&self, json: &str) -> Result<()> {
        self.load_config(&Config::from_json(json)?)
    }

    /// The stored configuration.
    ///
    /// # Errors
    /// [`Error::Store`] when it cannot be read.
    pub fn config(&self) -> Result<Config> {
        self.core
            .store
            .read(|db| Ok::<_, Error>(db.config()?.config().clone()))
    }

    /// Adds an endpoint or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid.
    pub fn put_endpoint(&self, endpoint: Endpoint) -> Result<()> {
        self.update_config(move |c| put(&mut c.endpoints, endpoint, |e| &e.code))
    }

    /// Adds a subscriber or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid (e.g. an unknown endpoint).
    pub fn put_subscriber(&self, subscriber: Subscriber) -> Result<()> {
        self.update_config(move |c| put(&mut c.subscribers, subscriber, |s| &s.code))
    }

    /// Adds a flow or replaces the one with the same code.
    ///
    /// # Errors
    /// [`Error::Config`] when the result would be invalid (e.g. an unknown subscriber).
    pub fn put_flow(&self, flow: Flow) -> Result<()> {
        self.update_config(move |c| put(&mut c.flows, flow, |f| &f.code))
    }

    /// Removes the endpoint with this code; false when there was none.
    ///
    /// # Errors
    /// [`Error::Config`] when a subscriber still uses it.
    pub fn remove_endpoint(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.endpoints, &code, |e| &e.code)))
    }

    /// Removes the subscriber with this code; false when there was none. Its pending
    /// deliveries wait until a subscriber with this code exists again.
    ///
    /// # Errors
    /// [`Error::Config`] when a flow still lists it.
    pub fn remove_subscriber(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.subscribers, &code, |s| &s.code)))
    }

    /// Removes the flow with this code; false when there was none. Its queued messages are
    /// kept, and still delivered.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn remove_flow(&self, code: &str) -> Result<bool> {
        let code = code.to_owned();
        self.update_config(move |c| Ok(remove(&mut c.flows, &code, |f| &f.code)))
    }

    /// Reads, changes, validates and stores the configuration in one transaction.
    fn update_config<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Config) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let out = self.core.store.write(Commit::Durable, move |db| {
            let mut config = db.config()?.config().clone();
            let out = change(&mut config)?;
            config.validate()?;
            if !stored_equals(db, &config)? {
                db.replace_config(&config)?;
            }
            Ok::<_, Error>(out)
        })?;
        self.core.wake.notify();
        Ok(out)
    }

    /// Starts the background dispatcher: `options.threads` workers that form and send
    /// whatever is due, woken when there is work. It runs until [`Engine::stop_dispatcher`]
    /// or until the last clone of this engine is dropped.
    ///
    /// # Errors
    /// [`Error::DispatcherRunning`] when one runs already; [`Error::Spawn`] when threads
    /// cannot be started.
    ///
    /// # Examples
    /// ```
    /// use integra_core::{DispatcherOptions, RegisterOptions};
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// engine.start_dispatcher(DispatcherOptions { threads: 8, ..Default::default() })?;
    /// // Registering wakes it: no one needs to call `dispatch`.
    /// engine.register("ORDER_EXPORT", r#"{"number": "A-1"}"#, &RegisterOptions::default())?;
    /// // It stops with the last clone of the engine, or here.
    /// assert!(engine.stop_dispatcher());
    /// # Ok(()) }
    /// ```
    pub fn start_dispatcher(&self, options: crate::dispatch::DispatcherOptions) -> Result<()> {
        let mut slot = self
            .dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return Err(Error::DispatcherRunning);
        }
        *slot = Some(Dispatcher::start(Arc::clone(&self.core), options)?);
        Ok(())
    }

    /// Stops the background dispatcher, waiting for work in flight up to its grace period
    /// (work still running after it is left to its lease). Returns false when none ran.
    pub fn stop_dispatcher(&self) -> bool {
        let running = self
            .dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match running {
            Some(d) => {
                d.stop();
                true
            }
            None => false,
        }
    }

    /// True while the background dispatcher runs.
    pub fn dispatcher_running(&self) -> bool {
        self.dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

/// Whether `config` is the stored configuration: the same objects in the same order, their
/// secrets compared opened (a sealed secret is sealed anew, with a new nonce, at each write).
fn stored_equals(db: &Db<'_>, config: &Config) -> Result<bool> {
    Ok(db.config()?.config() == config)
}

fn put<T>(items: &mut Vec<T>, item: T, code: impl Fn(&T) -> &String) -> Result<()> {
    match items.iter().position(|x| code(x) == code(&item)) {
        Some(i) => items[i] = item,
        None => items.push(item),
    }
    Ok(())
}

fn remove<T>(items: &mut Vec<T>, target: &str, code: impl Fn(&T) -> &String) -> bool {
    let before = items.len();
    items.retain(|x| code(x) != target);
    items.len() != before
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Issue 22: work prepared outside the write lock was prepared again whenever the
    /// configuration's version moved, so a registration failed after five changes of any
    /// part of the configuration by other processes ("the configuration changed 5 times
    /// while this call ran"). Now only a change to what the work was checked against (its
    /// flow, the flow's subscribers, its schema) prepares it again.
    #[test]
    fn work_is_prepared_again_only_when_its_flow_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let engine = Engine::open(&path, EngineOptions::default()).unwrap();
        let config = json!({"flows": [
            {"code": "ORDERS", "direction": "outgoing"},
            {"code": "OTHER", "direction": "outgoing"}
        ]});
        engine.load_config_json(&config.to_string()).unwrap();
        // Read once, so the first preparation sees the configuration as loaded.
        engine.config().unwrap();
        // Another process on the database, renaming flow `code` while the work is prepared.
        let other = Engine::open(&path, EngineOptions::default()).unwrap();
        let rename = |code: &str, n: usize| {
            let config = other.config().unwrap();
            let mut flow = config
                .flows
                .iter()
                .find(|f| f.code == code)
                .unwrap()
                .clone();
            flow.name = format!("renamed {n}");
            other.put_flow(flow).unwrap();
        };
        let write = |changing: &str| {
            let mut prepared = 0;
            let written = engine.core.write_prepared(
                Commit::Durable,
                |_| {
                    prepared += 1;
                    rename(changing, prepared);
                    Ok(Prepared {
                        flow: "ORDERS".to_owned(),
                        work: (),
                    })
                },
                |_, _, ()| Ok(()),
            );
            (written, prepared)
        };

        let (written, prepared) = write("OTHER");
        assert!(written.is_ok(), "{written:?}");
        assert_eq!(prepared, 1);

        let (written, prepared) = write("ORDERS");
        assert_eq!(prepared, 5);
        assert_eq!(
            written.unwrap_err().to_string(),
            "the transaction could not be committed, nothing was written: the settings of flow 'ORDERS' (the flow, its subscribers or its schema) changed 5 times while this call ran; try again"
        );
    }
}
