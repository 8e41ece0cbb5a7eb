//! Shared test support: engines on temporary files with a manual clock, configurations,
//! a real HTTP receiver (`integra-http-stub`, which the add-in's host test and the quick
//! start share), and child processes.

pub mod brokers;
pub mod child;
pub mod http;
pub mod proxy;
pub mod raw_http;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use integra::{Engine, EngineOptions, ManualClock, MessageStatus, Timestamp};
use serde_json::{Value, json};

pub use integra_http_stub::{Receiver, Reply};

/// Waits until `cond` holds, looking every 10 ms (panics after `timeout`).
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The manual clock's starting time: 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000_000;

/// The PostgreSQL database the suite runs on with `INTEGRA_TEST_STORE=postgres`
/// (`INTEGRA_TEST_POSTGRES` overrides it): each test gets a schema of its own in it.
fn postgres_base() -> Option<String> {
    (std::env::var("INTEGRA_TEST_STORE").as_deref() == Ok("postgres")).then(|| {
        std::env::var("INTEGRA_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
    })
}

/// Whether the suite runs on PostgreSQL (`INTEGRA_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    postgres_base().is_some()
}

/// The database of a test whose temporary directory is `dir`: the file `integra.db` in it,
/// or, on PostgreSQL, a schema named after the directory (dropped, with every schema of an
/// earlier run, when the suite starts).
pub fn database(dir: &std::path::Path) -> std::path::PathBuf {
    let Some(base) = postgres_base() else {
        return dir.join("integra.db");
    };
    static CLEARED: std::sync::Once = std::sync::Once::new();
    CLEARED.call_once(|| {
        let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        let stale: Vec<String> = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'it\\_%'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for schema in stale {
            client
                .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .unwrap();
        }
    });
    let name: String = dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}schema=it_{name}").into()
}

/// An engine on the suite's store (a file in its own temporary directory, or a schema of
/// its own on PostgreSQL), driven by a manual clock.
pub struct TestEngine {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
    /// The database: the file's path, or the PostgreSQL URL.
    pub database: std::path::PathBuf,
}

impl TestEngine {
    pub fn new(config: &Value) -> Self {
        Self::at(config, database)
    }

    /// An engine on an SQLite file whichever store the suite runs on: for tests of the file
    /// itself (its permissions, its space, damage done to it).
    pub fn on_file(config: &Value) -> Self {
        Self::at(config, |dir| dir.join("integra.db"))
    }

    fn at(config: &Value, database: fn(&std::path::Path) -> std::path::PathBuf) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
        let database = database(dir.path());
        let engine = open(&database, &clock);
        engine.load_config_json(&config.to_string()).unwrap();
        TestEngine {
            engine,
            clock,
            dir,
            database,
        }
    }

    /// Another engine on the same database and clock (as a second process would open it).
    pub fn reopen(&self) -> Engine {
        open(&self.database, &self.clock)
    }

    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    pub fn status(&self, id: &str) -> MessageStatus {
        self.engine.message_status(id).unwrap().status
    }

    /// The status of `id`'s delivery to `subscriber`.
    pub fn delivery(&self, id: &str, subscriber: &str) -> integra::DeliveryReport {
        self.engine
            .message_status(id)
            .unwrap()
            .deliveries
            .into_iter()
            .find(|d| d.subscriber == subscriber)
            .unwrap_or_else(|| panic!("message {id} has no delivery to {subscriber}"))
    }

    /// Dispatches everything due now.
    pub fn dispatch(&self) -> integra::DispatchReport {
        self.engine
            .dispatch(100_000, Duration::from_secs(30))
            .unwrap()
    }
}

pub fn open(path: &std::path::Path, clock: &Arc<ManualClock>) -> Engine {
    let options = EngineOptions::default().with_clock(Arc::clone(clock) as Arc<dyn integra::Clock>);
    Engine::open(path, options).unwrap()
}

/// A retry policy without jitter, so due times are exact.
pub fn retry(max_attempts: u32) -> Value {
    json!({"max_attempts": max_attempts, "initial_delay": "1s", "multiplier": 2.0,
           "max_delay": "1m", "jitter": 0.0})
}

/// One endpoint `shop` at `url`, HTTP subscribers `subscribers` on it (path `/{code}`), and
/// an outgoing pass-through flow `ORDERS` to all of them.
pub fn http_config(url: &str, subscribers: &[&str]) -> Value {
    let subs: Vec<Value> = subscribers
        .iter()
        .map(|code| {
            json!({"code": code, "kind": "http", "endpoint": "shop", "retry": retry(3),
                   "http": {"path": format!("/{code}")}})
        })
        .collect();
    json!({
        "endpoints": [{"code": "shop", "base_url": url, "connect_timeout": "2s", "read_timeout": "5s"}],
        "subscribers": subs,
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": subscribers,
                   "retry": retry(3)}]
    })
}

/// `config` with one more flow.
pub fn with_flow(mut config: Value, flow: Value) -> Value {
    config["flows"].as_array_mut().unwrap().push(flow);
    config
}

/// The statuses in a message's history: (subscriber or "", status), oldest first.
pub fn history(engine: &Engine, id: &str) -> Vec<(String, String)> {
    engine
        .message_status(id)
        .unwrap()
        .history
        .into_iter()
        .map(|h| (h.subscriber.unwrap_or_default(), h.status.to_string()))
        .collect()
}

pub fn h(subscriber: &str, status: &str) -> (String, String) {
    (subscriber.to_owned(), status.to_owned())
}
