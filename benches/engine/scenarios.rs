//! The scenarios, each on a fresh database in the run's data directory, delivering to the
//! trivial loopback server: end to end at saturation (1 and 3 subscribers), batch
//! registration, 8 concurrent durable callers, a backlog drain, latency at a fixed load, and
//! the cost of an idle engine.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integra::{
    DispatcherOptions, Durability, Engine, EngineOptions, RegisterOptions, Registration,
};
use serde::Serialize;
use serde_json::json;

use crate::order::OPENAPI;
use crate::server::Sink;
use crate::stats::{Latencies, rate};

/// A failure of the benchmark itself.
pub type BenchError = Box<dyn std::error::Error>;

/// The flow with one subscriber.
pub const ONE: &str = "ORDERS";
/// The flow with three subscribers.
pub const THREE: &str = "ORDERS_3";
/// Another flow with one subscriber of its own, for a producer beside a scenario.
pub const OTHER: &str = "RETURNS";

/// How long to wait for deliveries before calling the run broken.
pub const PATIENCE: Duration = Duration::from_secs(600);

/// Where scenarios run and what they send.
pub struct Bench {
    /// The data directory.
    pub dir: PathBuf,
    /// The subscriber.
    pub sink: Arc<Sink>,
    /// The scenario payload (a 1 KB order).
    pub payload: String,
}

/// Throughput of a scenario.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Throughput {
    /// Messages in the scenario.
    pub messages: u64,
    /// Messages per second.
    pub messages_per_s: f64,
    /// Deliveries per second.
    pub deliveries_per_s: f64,
    /// CPU time (user + system, the whole process) per message, µs.
    pub cpu_us_per_message: f64,
}

/// Latency at a fixed load.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct FixedLoad {
    /// The load offered, messages per second.
    pub offered_per_s: f64,
    /// Messages measured.
    pub messages: usize,
    /// Register return → the subscriber has the message, ms.
    pub end_to_end_p50_ms: f64,
    /// Same, ms.
    pub end_to_end_p99_ms: f64,
    /// Same, ms.
    pub end_to_end_max_ms: f64,
    /// The `register` call itself, µs.
    pub register_p50_us: f64,
    /// Same, µs.
    pub register_p99_us: f64,
}

/// What an idle engine costs.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Idle {
    /// How long it was watched, s.
    pub seconds: f64,
    /// Context switches per second of the engine's threads.
    pub wakeups_per_s: f64,
    /// Write system calls of the process meanwhile.
    pub write_calls: u64,
    /// Whether the database and its WAL changed (size or modification time).
    pub files_changed: bool,
    /// CPU time of the process meanwhile, as a share of one core, %.
    pub cpu_percent: f64,
}

/// The dispatcher as the benchmark runs it: Integra's defaults.
fn dispatcher() -> DispatcherOptions {
    DispatcherOptions::default()
}

impl Bench {
    /// An engine on a fresh database `name` in the data directory, configured with both
    /// flows delivering to the sink and validating against the order schema.
    pub fn engine(&self, name: &str, durability: Durability) -> Result<Engine, BenchError> {
        let path = self.dir.join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let options = EngineOptions::default().with_durability(durability);
        let engine = Engine::open(&path, options)?;
        engine.load_config_json(&self.config().to_string())?;
        Ok(engine)
    }

    /// The configuration every scenario runs with: the flows delivering to the sink and
    /// validating against the order schema.
    pub fn config(&self) -> serde_json::Value {
        let subscriber = |code: &str| {
            json!({"code": code, "kind": "http", "endpoint": "sink",
                   "http": {"path": format!("/{code}")}})
        };
        let schema = json!({"schema": "orders", "component": "Order"});
        json!({
            "schemas": [{"code": "orders", "document": OPENAPI}],
            "endpoints": [{"code": "sink", "base_url": self.sink.url}],
            "subscribers": [subscriber("s1"), subscriber("s2"), subscriber("s3"), subscriber("s4")],
            "flows": [
                {"code": ONE, "direction": "outgoing", "subscribers": ["s1"], "schema": schema},
                {"code": THREE, "direction": "outgoing",
                 "subscribers": ["s1", "s2", "s3"], "schema": schema},
                {"code": OTHER, "direction": "outgoing", "subscribers": ["s4"], "schema": schema}
            ]
        })
    }

    /// Waits until the sink has answered `count` requests.
    pub fn delivered(&self, count: u64) -> Result<(), BenchError> {
        if self.sink.wait_for(count, PATIENCE) {
            Ok(())
        } else {
            Err(format!(
                "only {} of {count} deliveries arrived within {PATIENCE:?}",
                self.sink.requests()
            )
            .into())
        }
    }

    /// One producer registers `messages` one per call on `flow` (with `fan_out`
    /// subscribers) as fast as it can while the dispatcher delivers; from the first
    /// register to the last delivery. On a fresh database.
    pub fn end_to_end(
        &self,
        flow: &str,
        fan_out: u64,
        messages: u64,
    ) -> Result<Throughput, BenchError> {
        let engine = self.engine("e2e", Durability::Normal)?;
        self.end_to_end_on(&engine, flow, fan_out, messages)
    }

    /// [`Bench::end_to_end`] on `engine` as it is (its dispatcher stopped).
    pub fn end_to_end_on(
        &self,
        engine: &Engine,
        flow: &str,
        fan_out: u64,
        messages: u64,
    ) -> Result<Throughput, BenchError> {
        engine.start_dispatcher(dispatcher())?;
        let target = self.sink.requests() + messages * fan_out;
        let cpu = cpu_time();
        let start = Instant::now();
        for _ in 0..messages {
            engine.register(flow, &self.payload, &RegisterOptions::default())?;
        }
        self.delivered(target)?;
        let elapsed = start.elapsed();
        let cpu = cpu_time().saturating_sub(cpu);
        engine.stop_dispatcher();
        Ok(throughput(messages, fan_out, elapsed, cpu))
    }

    /// The same with `batch` messages per `register_batch` call.
    pub fn batch_end_to_end(&self, batch: usize, messages: u64) -> Result<Throughput, BenchError> {
        let engine = self.engine("batch", Durability::Normal)?;
        engine.start_dispatcher(dispatcher())?;
        let target = self.sink.requests() + messages;
        let cpu = cpu_time();
        let start = Instant::now();
        let mut left = messages as usize;
        while left > 0 {
            let n = left.min(batch);
            engine.register_batch(ONE, self.registrations(n))?;
            left -= n;
        }
        self.delivered(target)?;
        let elapsed = start.elapsed();
        let cpu = cpu_time().saturating_sub(cpu);
        engine.stop_dispatcher();
        Ok(throughput(messages, 1, elapsed, cpu))
    }

    /// `n` registrations of the scenario payload.
    pub fn registrations(&self, n: usize) -> Vec<Registration> {
        (0..n)
            .map(|_| Registration {
                source: self.payload.clone(),
                options: RegisterOptions::default(),
            })
            .collect()
    }

    /// `threads` callers each register one message per call at FULL durability (each call
    /// returns once its message is on disk), `messages` in all; the dispatcher is off.
    pub fn durable_callers(&self, threads: usize, messages: u64) -> Result<Throughput, BenchError> {
        let engine = Arc::new(self.engine("durable", Durability::Full)?);
        let each = messages / threads as u64;
        let cpu = cpu_time();
        let start = Instant::now();
        let callers: Vec<_> = (0..threads)
            .map(|_| {
                let (engine, payload) = (Arc::clone(&engine), self.payload.clone());
                std::thread::spawn(move || -> Result<(), String> {
                    for _ in 0..each {
                        engine
                            .register(ONE, &payload, &RegisterOptions::default())
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for caller in callers {
            caller.join().map_err(|_| "a caller panicked")??;
        }
        let elapsed = start.elapsed();
        let cpu = cpu_time().saturating_sub(cpu);
        Ok(throughput(each * threads as u64, 0, elapsed, cpu))
    }

    /// `messages` are registered (in batches, the dispatcher off), then the dispatcher
    /// starts and delivers them all; from its start to the last delivery.
    pub fn backlog_drain(&self, messages: u64) -> Result<Throughput, BenchError> {
        let engine = self.engine("backlog", Durability::Normal)?;
        self.backlog_drain_on(&engine, messages)
    }

    /// [`Bench::backlog_drain`] on `engine` as it is (its dispatcher stopped).
    pub fn backlog_drain_on(
        &self,
        engine: &Engine,
        messages: u64,
    ) -> Result<Throughput, BenchError> {
        let mut left = messages as usize;
        while left > 0 {
            let n = left.min(1000);
            engine.register_batch(ONE, self.registrations(n))?;
            left -= n;
        }
        let target = self.sink.requests() + messages;
        let cpu = cpu_time();
        let start = Instant::now();
        engine.start_dispatcher(dispatcher())?;
        self.delivered(target)?;
        let elapsed = start.elapsed();
        let cpu = cpu_time().saturating_sub(cpu);
        engine.stop_dispatcher();
        Ok(throughput(messages, 1, elapsed, cpu))
    }

    /// Open loop: a message every `1/per_s` seconds for `time`, each registered at its
    /// scheduled moment; the latency from `register` returning to the subscriber having it,
    /// and of the `register` call itself.
    pub fn fixed_load(&self, per_s: f64, time: Duration) -> Result<FixedLoad, BenchError> {
        let engine = self.engine("latency", Durability::Normal)?;
        engine.start_dispatcher(dispatcher())?;
        // Warm up: the first delivery opens the connection.
        let warm = self.sink.requests() + 1;
        engine.register(ONE, &self.payload, &RegisterOptions::default())?;
        self.delivered(warm)?;
        let count = (per_s * time.as_secs_f64()).ceil() as u64;
        let interval = Duration::from_secs_f64(1.0 / per_s);
        let target = self.sink.requests() + count;
        self.sink.record_arrivals(true);
        let mut returned = Vec::with_capacity(count as usize);
        let mut calls = Latencies::default();
        let start = Instant::now();
        for k in 0..count {
            let due = start + interval.mul_f64(k as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let t = Instant::now();
            let id = engine.register(ONE, &self.payload, &RegisterOptions::default())?;
            let back = Instant::now();
            calls.push(back - t);
            returned.push((id, back));
        }
        calls.finish(start.elapsed());
        self.delivered(target)?;
        self.sink.record_arrivals(false);
        let arrivals = self.sink.take_arrivals();
        engine.stop_dispatcher();
        let mut trips = Latencies::default();
        for (id, back) in &returned {
            let arrived = arrivals
                .get(id.as_str())
                .ok_or_else(|| format!("message {id} never reached the sink"))?;
            trips.push(arrived.saturating_duration_since(*back));
        }
        Ok(FixedLoad {
            offered_per_s: per_s,
            messages: returned.len(),
            end_to_end_p50_ms: trips.ms(50.0),
            end_to_end_p99_ms: trips.ms(99.0),
            end_to_end_max_ms: trips.ms(100.0),
            register_p50_us: calls.us(50.0),
            register_p99_us: calls.us(99.0),
        })
    }

    /// An engine with its dispatcher running and nothing to do, watched for `time` after a
    /// second to settle.
    pub fn idle(&self, time: Duration) -> Result<Idle, BenchError> {
        let engine = self.engine("idle", Durability::Normal)?;
        engine.start_dispatcher(dispatcher())?;
        std::thread::sleep(Duration::from_secs(1));
        let db = self.dir.join("idle.db");
        let before = file_states(&db);
        let idle = self.watch_idle(time, || file_states(&db) != before)?;
        engine.stop_dispatcher();
        Ok(idle)
    }

    /// Watches this process for `time` while an engine idles: its threads' wake-ups, its
    /// write calls, its CPU; `changed` tells whether the database changed meanwhile.
    pub fn watch_idle(
        &self,
        time: Duration,
        changed: impl FnOnce() -> bool,
    ) -> Result<Idle, BenchError> {
        let (switches, writes, cpu) = (engine_switches(), write_calls(), cpu_time());
        let start = Instant::now();
        std::thread::sleep(time);
        let elapsed = start.elapsed();
        Ok(Idle {
            seconds: elapsed.as_secs_f64(),
            wakeups_per_s: rate(engine_switches().saturating_sub(switches), elapsed),
            write_calls: write_calls().saturating_sub(writes),
            files_changed: changed(),
            cpu_percent: cpu_time().saturating_sub(cpu).as_secs_f64() / elapsed.as_secs_f64()
                * 100.0,
        })
    }
}

fn throughput(messages: u64, fan_out: u64, elapsed: Duration, cpu: Duration) -> Throughput {
    Throughput {
        messages,
        messages_per_s: rate(messages, elapsed),
        deliveries_per_s: rate(messages * fan_out, elapsed),
        cpu_us_per_message: cpu.as_secs_f64() * 1e6 / messages.max(1) as f64,
    }
}

/// The process's CPU time so far (user + system), from `/proc/self/stat`.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Context switches of the engine's threads (named `integra-…`) so far.
fn engine_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("integra"))
        })
        .map(|t| {
            let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// Write system calls of the process so far (`syscw` of `/proc/self/io`).
fn write_calls() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("syscw:")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Size and modification time of the database and its WAL.
fn file_states(db: &Path) -> Vec<Option<(u64, std::time::SystemTime)>> {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let meta = std::fs::metadata(format!("{}{suffix}", db.display())).ok()?;
            Some((meta.len(), meta.modified().ok()?))
        })
        .collect()
}
