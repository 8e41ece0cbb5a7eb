//! Steady as the store grows and as time passes (`--only soak`, `--only size`).
//!
//! * **Soak**: one producer registers at half the end-to-end rate (measured first, in the
//!   same run) for minutes, finished messages are kept 60 s, and a scheduled job cleans up
//!   every 10 s, as a 1C scheduled job calling `ОчиститьУстаревшие` would. Every period
//!   (a minute) prints the registration's p50/p99/max, register → delivered p99/max, the
//!   process's memory, the database's and the WAL's size, and the cleanups with the longest.
//! * **Size**: register and end-to-end rates with nothing held and with `held` messages
//!   held; a backlog of `held` drained while a producer registers 1,000 a second on another
//!   flow; and that producer's longest wait while a cleanup finds nothing to remove, and
//!   while it removes all `held`; then the free space the cleanup left and the file's
//!   size.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use integra::{Durability, Engine, RegisterOptions};
use serde::Serialize;
use serde_json::json;

use crate::report::{Goal, at_most, ratio_at_least};
use crate::scenarios::{Bench, BenchError, ONE, OTHER, PATIENCE};
use crate::stats::{Latencies, rate};

/// How long the soak and the size scenario run, and how big the store grows.
pub struct SteadySizes {
    /// The soak's length.
    pub soak: Duration,
    /// One line of the soak's report per period.
    pub period: Duration,
    /// How long finished messages are kept during the soak.
    pub retention: Duration,
    /// How often the soak's scheduled job cleans up.
    pub cleanup_every: Duration,
    /// Messages held in the size scenario.
    pub held: u64,
    /// Messages registered to measure each rate.
    pub rate_messages: u64,
}

/// A registration slower than this counts as a stall.
const STALL: Duration = Duration::from_millis(50);

/// Registrations of a producer during one window of time.
#[derive(Default)]
struct Window {
    calls: Latencies,
    /// Registered messages not yet seen by the subscriber: when `register` returned.
    returned: HashMap<String, Instant>,
}

/// A thread registering at a fixed rate (open loop: each message at its scheduled moment,
/// late ones at once) on one flow.
struct Producer {
    stop: Arc<AtomicBool>,
    /// Messages registered so far.
    produced: Arc<AtomicU64>,
    window: Arc<Mutex<Window>>,
    thread: JoinHandle<Result<u64, String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Producer {
    fn start(engine: &Arc<Engine>, flow: &'static str, payload: &str, per_s: f64) -> Producer {
        let stop = Arc::new(AtomicBool::new(false));
        let produced = Arc::new(AtomicU64::new(0));
        let window = Arc::new(Mutex::new(Window::default()));
        let (engine, payload) = (Arc::clone(engine), payload.to_owned());
        let (stopping, filling, counting) = (
            Arc::clone(&stop),
            Arc::clone(&window),
            Arc::clone(&produced),
        );
        let interval = Duration::from_secs_f64(1.0 / per_s);
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut k = 0u64;
            while !stopping.load(Ordering::Acquire) {
                let due = start + interval.mul_f64(k as f64);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let t = Instant::now();
                let id = engine
                    .register(flow, &payload, &RegisterOptions::default())
                    .map_err(|e| e.to_string())?;
                let back = Instant::now();
                let mut w = lock(&filling);
                w.calls.push(back - t);
                w.returned.insert(id.into(), back);
                k += 1;
                counting.store(k, Ordering::Release);
            }
            Ok(k)
        });
        Producer {
            stop,
            produced,
            window,
            thread,
        }
    }

    /// The registrations since the last call, as latencies; the messages they registered
    /// go to `returned`.
    fn take(&self, returned: &mut HashMap<String, Instant>) -> Latencies {
        let w = std::mem::take(&mut *lock(&self.window));
        returned.extend(w.returned);
        w.calls
    }

    /// Messages registered so far.
    fn produced(&self) -> u64 {
        self.produced.load(Ordering::Acquire)
    }

    /// Stops the producer: how many it registered.
    fn stop(self) -> Result<u64, BenchError> {
        self.stop.store(true, Ordering::Release);
        Ok(self.thread.join().map_err(|_| "the producer panicked")??)
    }
}

/// One period of the soak.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SoakPeriod {
    /// Minutes since the start (at the period's end).
    pub minute: f64,
    /// Messages registered.
    pub registered: usize,
    /// The `register` call, µs.
    pub register_p50_us: f64,
    /// Same, µs.
    pub register_p99_us: f64,
    /// Same, ms.
    pub register_max_ms: f64,
    /// Calls over 50 ms.
    pub stalls: usize,
    /// Register returned → the subscriber has it, ms.
    pub delivered_p99_ms: f64,
    /// Same, ms.
    pub delivered_max_ms: f64,
    /// The process's resident memory at the period's end, MB.
    pub rss_mb: f64,
    /// The database file, MB.
    pub db_mb: f64,
    /// The WAL, MB (largest seen in the period).
    pub wal_mb: f64,
    /// Cleanups that ended in the period.
    pub cleanups: usize,
    /// The longest of them, ms.
    pub cleanup_longest_ms: f64,
    /// Records they removed.
    pub removed: u64,
}

/// The soak's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Soak {
    /// The load offered, messages per second (half the end-to-end rate).
    pub offered_per_s: f64,
    /// The end-to-end rate measured first.
    pub end_to_end_per_s: f64,
    /// Per period.
    pub periods: Vec<SoakPeriod>,
}

/// Cleanups run by the soak's scheduled job.
#[derive(Default)]
struct Cleanups {
    runs: usize,
    longest: Duration,
    removed: u64,
}

/// The process's resident memory, MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .map_or(0.0, |kb: f64| kb / 1024.0)
}

/// The size of a file, MB (0 when it is missing).
fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

/// `path` with `suffix` appended (`-wal`).
fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Matches what the subscriber received against what was registered: the latencies of
/// the matched messages; arrivals not yet matched (their registration not yet reported)
/// stay in `early`.
fn match_arrivals(
    bench: &Bench,
    returned: &mut HashMap<String, Instant>,
    early: &mut HashMap<String, Instant>,
    trips: &mut Latencies,
) {
    early.extend(bench.sink.take_arrivals());
    early.retain(|id, arrived| match returned.remove(id) {
        Some(back) => {
            trips.push(arrived.saturating_duration_since(back));
            false
        }
        None => true,
    });
}

impl Bench {
    /// The soak (see the module's docs).
    pub fn soak(&self, sizes: &SteadySizes) -> Result<Soak, BenchError> {
        let end_to_end = self.end_to_end(ONE, 1, sizes.rate_messages)?.messages_per_s;
        let per_s = end_to_end / 2.0;
        eprintln!(
            "soak: {per_s:.0} msg/s for {:.1} min, retention {:?}, cleanup every {:?}",
            sizes.soak.as_secs_f64() / 60.0,
            sizes.retention,
            sizes.cleanup_every
        );
        let engine = Arc::new(self.engine("soak", Durability::Normal)?);
        let retention = format!("{}ms", sizes.retention.as_millis());
        self.configure(&engine, &retention)?;
        engine.start_dispatcher(integra::DispatcherOptions::default())?;
        let db = self.dir.join("soak.db");
        let wal = beside(&db, "-wal");
        let cleanups = Arc::new(Mutex::new(Cleanups::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let cleaner = {
            let (engine, cleanups, stop) = (
                Arc::clone(&engine),
                Arc::clone(&cleanups),
                Arc::clone(&stop),
            );
            let every = sizes.cleanup_every;
            std::thread::spawn(move || -> Result<(), String> {
                let mut next = Instant::now() + every;
                while !stop.load(Ordering::Acquire) {
                    if Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let t = Instant::now();
                    let report = engine.cleanup().map_err(|e| e.to_string())?;
                    let took = t.elapsed();
                    let mut c = lock(&cleanups);
                    c.runs += 1;
                    c.longest = c.longest.max(took);
                    c.removed += report.total();
                    next = Instant::now() + every;
                }
                Ok(())
            })
        };
        self.sink.record_arrivals(true);
        let producer = Producer::start(&engine, ONE, &self.payload, per_s);
        let start = Instant::now();
        let (mut returned, mut early) = (HashMap::new(), HashMap::new());
        let mut soak = Soak {
            offered_per_s: per_s,
            end_to_end_per_s: end_to_end,
            periods: Vec::new(),
        };
        let mut calls = Latencies::default();
        let mut trips = Latencies::default();
        let mut wal_mb = 0.0f64;
        let mut period_end = start + sizes.period;
        while start.elapsed() < sizes.soak {
            std::thread::sleep(Duration::from_millis(250));
            for d in producer.take(&mut returned).samples() {
                calls.push(*d);
            }
            match_arrivals(self, &mut returned, &mut early, &mut trips);
            wal_mb = wal_mb.max(file_mb(&wal));
            if Instant::now() >= period_end {
                let c = std::mem::take(&mut *lock(&cleanups));
                let period = SoakPeriod {
                    minute: start.elapsed().as_secs_f64() / 60.0,
                    registered: calls.len(),
                    register_p50_us: calls.us(50.0),
                    register_p99_us: calls.us(99.0),
                    register_max_ms: calls.ms(100.0),
                    stalls: calls.over(STALL),
                    delivered_p99_ms: trips.ms(99.0),
                    delivered_max_ms: trips.ms(100.0),
                    rss_mb: rss_mb(),
                    db_mb: file_mb(&db),
                    wal_mb,
                    cleanups: c.runs,
                    cleanup_longest_ms: c.longest.as_secs_f64() * 1e3,
                    removed: c.removed,
                };
                print_period(&period);
                soak.periods.push(period);
                calls = Latencies::default();
                trips = Latencies::default();
                wal_mb = 0.0;
                period_end += sizes.period;
            }
        }
        producer.stop()?;
        stop.store(true, Ordering::Release);
        cleaner.join().map_err(|_| "the cleanup job panicked")??;
        self.sink.record_arrivals(false);
        engine.stop_dispatcher();
        Ok(soak)
    }

    /// Loads the bench configuration with `retention` for finished messages of every flow.
    fn configure(&self, engine: &Engine, retention: &str) -> Result<(), BenchError> {
        let mut config = self.config();
        if let Some(flows) = config["flows"].as_array_mut() {
            for flow in flows {
                flow["retention"] = json!({"delivered": retention, "dead": retention});
            }
        }
        engine.load_config_json(&config.to_string())?;
        Ok(())
    }

    /// `messages` registered one per call as fast as one producer goes, the dispatcher off:
    /// messages per second.
    fn register_rate(&self, engine: &Engine, messages: u64) -> Result<f64, BenchError> {
        let start = Instant::now();
        for _ in 0..messages {
            engine.register(ONE, &self.payload, &RegisterOptions::default())?;
        }
        Ok(rate(messages, start.elapsed()))
    }

    /// Runs `work` while a producer registers 1,000 a second on another flow: its result,
    /// how long it took, and the producer's calls meanwhile.
    fn beside_producer<T>(
        &self,
        engine: &Arc<Engine>,
        work: impl FnOnce() -> Result<T, BenchError>,
    ) -> Result<(T, Duration, Latencies), BenchError> {
        let producer = Producer::start(engine, OTHER, &self.payload, 1000.0);
        std::thread::sleep(Duration::from_millis(200));
        let mut returned = HashMap::new();
        producer.take(&mut returned);
        let t = Instant::now();
        let result = work()?;
        let took = t.elapsed();
        let calls = producer.take(&mut returned);
        producer.stop()?;
        Ok((result, took, calls))
    }

    /// The store-size scenario (see the module's docs).
    pub fn size(&self, sizes: &SteadySizes) -> Result<Size, BenchError> {
        let n = sizes.rate_messages;
        let engine = Arc::new(self.engine("size", Durability::Normal)?);
        let db = self.dir.join("size.db");
        eprintln!("size: rates with nothing held");
        let end_to_end_empty = self.end_to_end_on(&engine, ONE, 1, n)?.messages_per_s;
        let register_empty = self.register_rate(&engine, n)?;
        eprintln!("size: registering {} messages", sizes.held);
        let mut left = sizes.held;
        while left > 0 {
            let k = left.min(1000);
            engine.register_batch(ONE, self.registrations(k as usize))?;
            left -= k;
        }
        eprintln!("size: draining them while registering 1,000/s on another flow");
        let backlog = self.sink.requests() + sizes.held + n;
        let producer = Producer::start(&engine, OTHER, &self.payload, 1000.0);
        let start = Instant::now();
        engine.start_dispatcher(integra::DispatcherOptions::default())?;
        while self.sink.requests() < backlog + producer.produced() {
            if start.elapsed() > PATIENCE {
                return Err("the backlog was not delivered in time".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let drain_took = start.elapsed();
        let mut drain_calls = producer.take(&mut HashMap::new());
        producer.stop()?;
        engine.stop_dispatcher();
        eprintln!("size: rates with {} held", sizes.held);
        let end_to_end_held = self.end_to_end_on(&engine, ONE, 1, n)?.messages_per_s;
        let register_held = self.register_rate(&engine, n)?;
        engine.start_dispatcher(integra::DispatcherOptions::default())?;
        eprintln!("size: a cleanup with nothing to remove");
        let (_, empty_took, mut empty_calls) =
            self.beside_producer(&engine, || Ok(engine.cleanup()?))?;
        eprintln!("size: a cleanup of everything held");
        self.configure(&engine, "1ms")?;
        std::thread::sleep(Duration::from_millis(100));
        let db_mb_before = file_mb(&db);
        let (report, full_took, mut full_calls) =
            self.beside_producer(&engine, || Ok(engine.cleanup()?))?;
        let free_mb_after = free_bytes(&engine)? as f64 / 1e6;
        // The file shrinks once the checkpoints have copied the WAL back into it.
        std::thread::sleep(Duration::from_secs(5));
        engine.stop_dispatcher();
        let size = Size {
            held: sizes.held,
            register_empty_per_s: register_empty,
            register_held_per_s: register_held,
            end_to_end_empty_per_s: end_to_end_empty,
            end_to_end_held_per_s: end_to_end_held,
            drain_per_s: rate(sizes.held, drain_took),
            drain_register_p99_ms: drain_calls.ms(99.0),
            drain_register_max_ms: drain_calls.ms(100.0),
            empty_cleanup_ms: empty_took.as_secs_f64() * 1e3,
            empty_cleanup_register_max_ms: empty_calls.ms(100.0),
            cleanup_removed: report.messages,
            cleanup_s: full_took.as_secs_f64(),
            cleanup_register_p99_ms: full_calls.ms(99.0),
            cleanup_register_max_ms: full_calls.ms(100.0),
            cleanup_register_stalls: full_calls.over(STALL),
            db_mb_before_cleanup: db_mb_before,
            free_mb_after_cleanup: free_mb_after,
            db_mb_after_cleanup: file_mb(&db),
        };
        Ok(size)
    }
}

/// The store's free space, bytes, from its metrics.
fn free_bytes(engine: &Engine) -> Result<u64, BenchError> {
    let text = engine.metrics_text()?;
    Ok(text
        .lines()
        .find_map(|l| {
            l.strip_prefix("integra_database_free_bytes ")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0) as u64)
}

/// The store-size scenario's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Size {
    /// Messages held.
    pub held: u64,
    /// Registrations per second (one per call, dispatcher off), nothing held.
    pub register_empty_per_s: f64,
    /// Same, `held` held.
    pub register_held_per_s: f64,
    /// End to end, one producer, nothing held.
    pub end_to_end_empty_per_s: f64,
    /// Same, `held` held.
    pub end_to_end_held_per_s: f64,
    /// A backlog of `held` drained, messages per second.
    pub drain_per_s: f64,
    /// A producer at 1,000/s on another flow during the drain: `register` p99, ms.
    pub drain_register_p99_ms: f64,
    /// Same, the longest, ms.
    pub drain_register_max_ms: f64,
    /// A cleanup that found nothing to remove with `held` held, ms.
    pub empty_cleanup_ms: f64,
    /// The producer's longest call meanwhile, ms.
    pub empty_cleanup_register_max_ms: f64,
    /// Messages the full cleanup removed.
    pub cleanup_removed: u64,
    /// How long it took, s.
    pub cleanup_s: f64,
    /// The producer's p99 meanwhile, ms.
    pub cleanup_register_p99_ms: f64,
    /// The producer's longest call meanwhile, ms.
    pub cleanup_register_max_ms: f64,
    /// The producer's calls over 50 ms meanwhile.
    pub cleanup_register_stalls: usize,
    /// The database file before the cleanup, MB.
    pub db_mb_before_cleanup: f64,
    /// Free space the store reported right after it, MB.
    pub free_mb_after_cleanup: f64,
    /// The database file a few seconds after it, MB.
    pub db_mb_after_cleanup: f64,
}

fn print_period(p: &SoakPeriod) {
    println!(
        "  {:>5.1} min  {:>7} msgs  register p50 {:>6.1} µs p99 {:>7.1} µs max {:>8.2} ms ({} over 50 ms)  → delivered p99 {:>7.2} ms max {:>8.2} ms  RSS {:>5.1} MB  db {:>6.1} MB  WAL ≤ {:>5.1} MB  {} cleanups, longest {:.0} ms, {} removed",
        p.minute,
        p.registered,
        p.register_p50_us,
        p.register_p99_us,
        p.register_max_ms,
        p.stalls,
        p.delivered_p99_ms,
        p.delivered_max_ms,
        p.rss_mb,
        p.db_mb,
        p.wal_mb,
        p.cleanups,
        p.cleanup_longest_ms,
        p.removed
    );
}

/// The soak's goals: no stall, p99s under their bounds in every period, the last period
/// as fast as the first, memory flat, the WAL bounded.
pub fn soak_goals(s: &Soak) -> Vec<Goal> {
    let worst = |f: fn(&SoakPeriod) -> f64| s.periods.iter().map(f).fold(0.0, f64::max);
    let (Some(first), Some(last)) = (s.periods.first(), s.periods.last()) else {
        return Vec::new();
    };
    // Memory from the end of the second period on: the first fills the store up to its
    // retention.
    let settled = s.periods.get(1).unwrap_or(first);
    vec![
        at_most(
            "S1",
            "soak: longest registration, ms",
            format!("{:.1} ms", worst(|p| p.register_max_ms)),
            worst(|p| p.register_max_ms),
            STALL.as_secs_f64() * 1e3,
        ),
        at_most(
            "S2",
            "soak: register p99 in the worst period, ms",
            format!("{:.3} ms", worst(|p| p.register_p99_us) / 1e3),
            worst(|p| p.register_p99_us) / 1e3,
            2.0,
        ),
        at_most(
            "S3",
            "soak: register → delivered p99 in the worst period, ms",
            format!("{:.2} ms", worst(|p| p.delivered_p99_ms)),
            worst(|p| p.delivered_p99_ms),
            20.0,
        ),
        at_most(
            "S4",
            "soak: register p99, last period ÷ first",
            format!(
                "{:.1} ÷ {:.1} µs",
                last.register_p99_us, first.register_p99_us
            ),
            last.register_p99_us / first.register_p99_us.max(1e-9),
            1.2,
        ),
        at_most(
            "S5",
            "soak: memory growth after the second period, %",
            format!("{:.1} → {:.1} MB", settled.rss_mb, last.rss_mb),
            (last.rss_mb / settled.rss_mb.max(1e-9) - 1.0) * 100.0,
            2.0,
        ),
        at_most(
            "S6",
            "soak: largest WAL, MB",
            format!("{:.1} MB", worst(|p| p.wal_mb)),
            worst(|p| p.wal_mb),
            64.0,
        ),
    ]
}

/// The size scenario's goals.
pub fn size_goals(z: &Size) -> Vec<Goal> {
    vec![
        ratio_at_least(
            "Z1",
            format!("register with {} held ÷ with none", z.held),
            z.register_held_per_s,
            z.register_empty_per_s,
            " msg/s",
            0.9,
        ),
        ratio_at_least(
            "Z2",
            format!("end to end with {} held ÷ with none", z.held),
            z.end_to_end_held_per_s,
            z.end_to_end_empty_per_s,
            " msg/s",
            0.9,
        ),
        at_most(
            "Z3",
            "draining the backlog: a producer's p99, ms",
            format!(
                "p99 {:.2} ms, max {:.1} ms",
                z.drain_register_p99_ms, z.drain_register_max_ms
            ),
            z.drain_register_p99_ms,
            2.0,
        ),
        at_most(
            "Z4",
            "draining the backlog: a producer's longest call, ms",
            format!("{:.1} ms", z.drain_register_max_ms),
            z.drain_register_max_ms,
            STALL.as_secs_f64() * 1e3,
        ),
        at_most(
            "Z5",
            "a cleanup with nothing to remove, ms",
            format!(
                "{:.2} ms (producer's longest call {:.2} ms)",
                z.empty_cleanup_ms, z.empty_cleanup_register_max_ms
            ),
            z.empty_cleanup_ms,
            10.0,
        ),
        at_most(
            "Z6",
            "cleanup of everything held: a producer's longest call, ms",
            format!(
                "{:.1} ms (p99 {:.2} ms; {} removed in {:.1} s)",
                z.cleanup_register_max_ms,
                z.cleanup_register_p99_ms,
                z.cleanup_removed,
                z.cleanup_s
            ),
            z.cleanup_register_max_ms,
            STALL.as_secs_f64() * 1e3,
        ),
        at_most(
            "Z7",
            "free space left after the cleanup ÷ the file before it",
            format!(
                "{:.1} ÷ {:.1} MB (the file {:.1} MB after)",
                z.free_mb_after_cleanup, z.db_mb_before_cleanup, z.db_mb_after_cleanup
            ),
            z.free_mb_after_cleanup / z.db_mb_before_cleanup.max(1e-9),
            0.1,
        ),
    ]
}

/// Prints the size scenario's figures.
pub fn print_size(z: &Size) {
    println!(
        "  register: {:.0} msg/s with nothing held, {:.0} with {} held",
        z.register_empty_per_s, z.register_held_per_s, z.held
    );
    println!(
        "  end to end: {:.0} msg/s with nothing held, {:.0} with {} held",
        z.end_to_end_empty_per_s, z.end_to_end_held_per_s, z.held
    );
    println!(
        "  backlog of {} drained at {:.0} msg/s; a producer at 1,000/s meanwhile: p99 {:.2} ms, max {:.1} ms",
        z.held, z.drain_per_s, z.drain_register_p99_ms, z.drain_register_max_ms
    );
    println!(
        "  empty cleanup: {:.2} ms; the producer's longest call {:.2} ms",
        z.empty_cleanup_ms, z.empty_cleanup_register_max_ms
    );
    println!(
        "  cleanup of {} in {:.1} s; the producer's p99 {:.2} ms, max {:.1} ms, {} calls over 50 ms",
        z.cleanup_removed,
        z.cleanup_s,
        z.cleanup_register_p99_ms,
        z.cleanup_register_max_ms,
        z.cleanup_register_stalls
    );
    println!(
        "  database {:.1} MB before the cleanup; after it {:.1} MB free, the file {:.1} MB",
        z.db_mb_before_cleanup, z.free_mb_after_cleanup, z.db_mb_after_cleanup
    );
}
