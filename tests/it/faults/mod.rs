//! Faults injected on purpose, many times, and counted: engines killed with SIGKILL at
//! random moments, a receiver that goes away and comes back, four processes on one file.
//! (Broker restarts mid-stream are in `brokers::{amqp, kafka, mqtt}`; storage faults in
//! `storage_faults`.)
//!
//! Each test prints a one-line tally (trials, messages, lost, duplicates) that
//! RELIABILITY.md records. `INTEGRA_FAULT_SCALE=N` multiplies the sizes for a longer run,
//! `INTEGRA_FAULT_SEED` repeats a run's random moments.

mod concurrency;
mod crash_loop;
mod outage;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use integra::{Engine, EngineOptions, IntegrityMode};
use serde_json::{Value, json};

use crate::support::{Receiver, Reply, http_config};

/// How many times the default sizes to run (`INTEGRA_FAULT_SCALE`, default 1).
fn scale() -> usize {
    std::env::var("INTEGRA_FAULT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// The seed of a run's random moments: `INTEGRA_FAULT_SEED`, or the time.
fn seed() -> u64 {
    std::env::var("INTEGRA_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// [`http_config`] with retries quick enough for a run of seconds, and many of them, so
/// no fault makes a message Dead.
fn quick_retry_config(url: &str) -> Value {
    let mut config = http_config(url, &["a"]);
    let retry = json!({"max_attempts": 1000, "initial_delay": "50ms", "multiplier": 2.0,
                       "max_delay": "500ms", "jitter": 0.0});
    config["subscribers"][0]["retry"] = retry.clone();
    config["flows"][0]["retry"] = retry;
    config
}

/// An engine on the system clock (as the child processes run), on a file in its own
/// temporary directory, with `config` loaded.
fn engine_on_system_clock(config: &Value) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        crate::support::database(dir.path()),
        EngineOptions::default(),
    )
    .unwrap();
    engine.load_config_json(&config.to_string()).unwrap();
    (dir, engine)
}

/// A receiver that answers 200 and notes every message id it accepted, with the round
/// (trial, phase) the test was in when it arrived; or, while refusing, answers 503 and
/// notes nothing.
struct CountingReceiver {
    receiver: Receiver,
    accepted: Arc<Mutex<Vec<(String, usize)>>>,
    round: Arc<AtomicUsize>,
    refusing: Arc<AtomicBool>,
}

impl CountingReceiver {
    fn start() -> Self {
        Self::start_on("127.0.0.1:0")
    }

    fn start_on(address: &str) -> Self {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let round = Arc::new(AtomicUsize::new(0));
        let refusing = Arc::new(AtomicBool::new(false));
        let receiver = {
            let (accepted, round, refusing) = (
                Arc::clone(&accepted),
                Arc::clone(&round),
                Arc::clone(&refusing),
            );
            Receiver::start_on(address, move |r| {
                if refusing.load(Ordering::SeqCst) {
                    return Reply::status(503);
                }
                let id = r.header("X-Message-ID").unwrap().to_owned();
                accepted
                    .lock()
                    .unwrap()
                    .push((id, round.load(Ordering::SeqCst)));
                Reply::ok()
            })
        };
        CountingReceiver {
            receiver,
            accepted,
            round,
            refusing,
        }
    }

    /// Answers 503 to everything (`true`) or accepts again (`false`).
    fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Every request so far, accepted or refused.
    fn requests(&self) -> usize {
        self.receiver.received().len()
    }

    fn url(&self) -> &str {
        self.receiver.url()
    }

    /// Deliveries from now on are noted as arriving in `round`.
    fn set_round(&self, round: usize) {
        self.round.store(round, Ordering::SeqCst);
    }

    /// The count of what arrived against `expected`, the ids that must have arrived.
    fn tally(&self, expected: &HashSet<String>) -> Tally {
        let accepted = self.accepted.lock().unwrap();
        let mut first_round: HashMap<&str, usize> = HashMap::new();
        let mut duplicates_by_round: HashMap<usize, usize> = HashMap::new();
        for (id, round) in accepted.iter() {
            match first_round.get(id.as_str()) {
                Some(first) => *duplicates_by_round.entry(*first).or_default() += 1,
                None => {
                    first_round.insert(id, *round);
                }
            }
        }
        Tally {
            delivered: first_round.len(),
            lost: expected
                .iter()
                .filter(|id| !first_round.contains_key(id.as_str()))
                .cloned()
                .collect(),
            duplicates: accepted.len() - first_round.len(),
            most_duplicates_in_a_round: duplicates_by_round.values().copied().max().unwrap_or(0),
        }
    }
}

/// What a receiver got, counted.
#[derive(Debug)]
struct Tally {
    /// Distinct messages delivered.
    delivered: usize,
    /// Messages that should have arrived and did not.
    lost: Vec<String>,
    /// Deliveries of a message after its first.
    duplicates: usize,
    /// The most duplicates of messages first delivered in one round.
    most_duplicates_in_a_round: usize,
}

/// Panics unless the file passes the full integrity check (SQLite's and Integra's own).
fn assert_intact(engine: &Engine) {
    let report = engine.check_integrity(IntegrityMode::Full).unwrap();
    assert!(report.ok, "the file is damaged: {:?}", report.problems);
}

/// Waits until every message the engine holds is Sent, and returns how long that took;
/// panics after `timeout`, saying how far it got `after` what.
fn wait_until_all_sent(engine: &Engine, timeout: Duration, after: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (sent, total) = sent_of_total(engine);
        if sent == total {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < timeout,
            "{sent} of {total} messages sent {timeout:?} after {after}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many messages the engine holds, and how many of them are Sent.
fn sent_of_total(engine: &Engine) -> (u64, u64) {
    let counts = engine.counts().unwrap();
    let sent = counts
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0);
    (sent, counts.messages.values().sum())
}
