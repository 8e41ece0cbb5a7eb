//! Shared test support: engines on temporary files with a manual clock, configurations,
//! a real HTTP receiver (`integra-http-stub`, which the add-in's host test and the quick
//! start share), and child processes.

pub mod brokers;
pub mod child;
pub mod http;
pub mod postgres;
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

/// Whether the suite runs on PostgreSQL (`INTEGRA_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("INTEGRA_TEST_STORE").as_deref() == Ok("postgres")
}

/// The database of a test whose temporary directory is `dir`: the file `integra.db` in it,
/// or, on PostgreSQL, a schema of its own named after the directory.
pub fn database(dir: &std::path::Path) -> std::path::PathBuf {
    if !on_postgres() {
        return dir.join("integra.db");
    }
    postgres::schema_url(&dir.file_name().unwrap().to_string_lossy()).into()
}

/// Runs `sql` on the test's database, whichever store it is: what another process would
/// write behind the engine's back.
pub fn execute_sql(database: &std::path::Path, sql: &str) {
    match database.to_str().filter(|d| d.starts_with("postgres://")) {
        Some(url) => postgres::connect(url).batch_execute(sql).unwrap(),
        None => rusqlite::Connection::open(database)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
    }
}

/// The first column of what `sql` returns on the test's database, as text (cast it in the
/// statement).
pub fn query_texts(database: &std::path::Path, sql: &str) -> Vec<String> {
    match database.to_str().filter(|d| d.starts_with("postgres://")) {
        Some(url) => postgres::connect(url)
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect(),
        None => {
            let db = rusqlite::Connection::open(database).unwrap();
            let mut statement = db.prepare(sql).unwrap();
            statement
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
    }
}

/// Another process holding the database's write lock, until what this returns is dropped:
/// SQLite's lock on the file, or an exclusive lock on the incoming queue's table on
/// PostgreSQL.
pub fn hold_write_lock(database: &std::path::Path) -> Box<dyn std::any::Any> {
    match database.to_str().filter(|d| d.starts_with("postgres://")) {
        Some(url) => {
            let mut client = postgres::connect(url);
            client
                .batch_execute("BEGIN; LOCK TABLE incoming IN EXCLUSIVE MODE")
                .unwrap();
            Box::new(client)
        }
        None => {
            let db = rusqlite::Connection::open(database).unwrap();
            db.execute_batch("BEGIN IMMEDIATE").unwrap();
            Box::new(db)
        }
    }
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
