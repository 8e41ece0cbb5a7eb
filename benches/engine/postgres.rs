//! The PostgreSQL store, measured beside what a team would otherwise build on the same
//! server, in the same run, delivering to the same sink: a bare single-row `INSERT` per
//! autocommit transaction (what registering can at most approach), and a pgmq-style outbox
//! (one `INSERT` per message; four workers claim batches with `FOR UPDATE SKIP LOCKED`,
//! POST each row, then delete the batch). Each runs in a schema of its own on the server
//! `INTEGRA_BENCH_POSTGRES` names (default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped afterwards; without a server, the PostgreSQL figures are skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use integra::{DispatcherOptions, Engine, EngineOptions, RegisterOptions};
use postgres::{Client, NoTls};
use serde::Serialize;

use crate::primitives::http_agent;
use crate::report::{Goal, at_most, ratio_at_least};
use crate::scenarios::{Bench, BenchError, Idle, ONE, Throughput, cpu_time};
use crate::stats::rate;

/// Workers of the outbox, as pgmq's examples run them.
const OUTBOX_WORKERS: usize = 4;

/// Rows an outbox worker claims at a time.
const OUTBOX_BATCH: i64 = 16;

/// How much work each PostgreSQL step does.
pub struct PgSizes {
    /// How long the bare insert runs.
    pub insert: Duration,
    /// Messages of the end-to-end runs.
    pub end_to_end: u64,
    /// Messages of the backlog drains.
    pub backlog: u64,
    /// How long the idle engine is watched.
    pub idle: Duration,
}

/// The PostgreSQL figures.
#[derive(Debug, Default, Serialize)]
pub struct PgFigures {
    /// Bare single-row inserts, one per autocommit transaction, per second.
    pub bare_insert_per_s: f64,
    /// Integra's `register`, one message per call (dispatcher off), per second.
    pub register_per_s: f64,
    /// The outbox, one producer, from the first insert to the last delivery.
    pub outbox_end_to_end: Throughput,
    /// Integra, one producer, one message per call, from the first register to the last
    /// delivery.
    pub end_to_end: Throughput,
    /// The outbox draining a backlog.
    pub outbox_backlog: Throughput,
    /// Integra draining a backlog.
    pub backlog: Throughput,
    /// An idle engine with its dispatcher running.
    pub idle: Idle,
    /// Rows the idle engine inserted, updated or deleted.
    pub idle_row_changes: i64,
}

/// The server to measure on.
fn server() -> String {
    std::env::var("INTEGRA_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema of its own on the server, dropped when this is.
struct Schema {
    name: String,
    admin: Client,
}

impl Schema {
    fn create(purpose: &str) -> Result<Schema, BenchError> {
        let name = format!("bench_{purpose}_{}", std::process::id());
        let mut admin = Client::connect(&server(), NoTls)?;
        admin.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))?;
        Ok(Schema { name, admin })
    }

    /// Integra's URL for this schema, without TLS unless the server's URL asks for it: as
    /// the baselines connect (a server that offers TLS would otherwise encrypt Integra's
    /// traffic alone).
    fn url(&self) -> String {
        let base = server();
        let separator = if base.contains('?') { '&' } else { '?' };
        let tls = if base.contains("sslmode=") {
            ""
        } else {
            "&sslmode=disable"
        };
        format!("{base}{separator}schema={}{tls}", self.name)
    }

    /// A client whose tables are this schema's.
    fn client(&self) -> Result<Client, BenchError> {
        let mut client = Client::connect(&server(), NoTls)?;
        client.batch_execute(&format!("SET search_path TO {}", self.name))?;
        Ok(client)
    }

    /// Rows inserted, updated and deleted in the schema's tables so far.
    fn row_changes(&mut self) -> Result<i64, BenchError> {
        // The statistics are sent at the end of each transaction, with a short delay.
        std::thread::sleep(Duration::from_millis(700));
        self.admin
            .batch_execute("SELECT pg_stat_clear_snapshot()")?;
        let row = self.admin.query_one(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint
             FROM pg_stat_user_tables WHERE schemaname = $1",
            &[&self.name],
        )?;
        Ok(row.get(0))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// Measures everything, or says why it cannot.
pub fn measure(bench: &Bench, sizes: &PgSizes) -> Result<PgFigures, String> {
    Client::connect(&server(), NoTls)
        .map_err(|e| format!("no PostgreSQL server at {}: {e}", server()))?;
    run(bench, sizes).map_err(|e| e.to_string())
}

fn run(bench: &Bench, sizes: &PgSizes) -> Result<PgFigures, BenchError> {
    eprintln!("PostgreSQL: bare insert, register");
    let bare_insert_per_s = bare_insert(&bench.payload, sizes.insert)?;
    let register_per_s = register(bench, sizes.insert)?;
    eprintln!("PostgreSQL: end to end, outbox and Integra");
    let outbox_end_to_end = outbox(bench, sizes.end_to_end, false)?;
    let end_to_end = {
        let schema = Schema::create("e2e")?;
        let engine = engine(bench, &schema)?;
        bench.end_to_end_on(&engine, ONE, 1, sizes.end_to_end)?
    };
    eprintln!("PostgreSQL: backlog, outbox and Integra");
    let outbox_backlog = outbox(bench, sizes.backlog, true)?;
    let backlog = {
        let schema = Schema::create("backlog")?;
        let engine = engine(bench, &schema)?;
        bench.backlog_drain_on(&engine, sizes.backlog)?
    };
    eprintln!("PostgreSQL: idle");
    let (idle, idle_row_changes) = {
        let mut schema = Schema::create("idle")?;
        let engine = engine(bench, &schema)?;
        engine.start_dispatcher(DispatcherOptions::default())?;
        std::thread::sleep(Duration::from_secs(1));
        let before = schema.row_changes()?;
        let idle = bench.watch_idle(sizes.idle, || false)?;
        let changes = schema.row_changes()? - before;
        engine.stop_dispatcher();
        (idle, changes)
    };
    Ok(PgFigures {
        bare_insert_per_s,
        register_per_s,
        outbox_end_to_end,
        end_to_end,
        outbox_backlog,
        backlog,
        idle,
        idle_row_changes,
    })
}

/// An engine on `schema`, configured as every scenario is.
fn engine(bench: &Bench, schema: &Schema) -> Result<Engine, BenchError> {
    let engine = Engine::open(schema.url(), EngineOptions::default())?;
    engine.load_config_json(&bench.config().to_string())?;
    Ok(engine)
}

/// Single-row inserts of the payload, one per autocommit transaction, for `time`.
fn bare_insert(payload: &str, time: Duration) -> Result<f64, BenchError> {
    let schema = Schema::create("insert")?;
    let mut client = schema.client()?;
    client.batch_execute("CREATE TABLE bare (id bigserial PRIMARY KEY, payload text NOT NULL)")?;
    let insert = client.prepare("INSERT INTO bare (payload) VALUES ($1)")?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        client.execute(&insert, &[&payload])?;
        n += 1;
    }
    Ok(rate(n, start.elapsed()))
}

/// Integra's `register`, one message per call with the dispatcher off, for `time`.
fn register(bench: &Bench, time: Duration) -> Result<f64, BenchError> {
    let schema = Schema::create("register")?;
    let engine = engine(bench, &schema)?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        engine.register(ONE, &bench.payload, &RegisterOptions::default())?;
        n += 1;
    }
    Ok(rate(n, start.elapsed()))
}

/// The pgmq-style outbox delivering `messages` to the sink: inserted by one producer while
/// the workers run, or (`backlog`) all inserted first and then drained; timed from the
/// first insert (or the workers' start) to the last delivery.
fn outbox(bench: &Bench, messages: u64, backlog: bool) -> Result<Throughput, BenchError> {
    let schema = Schema::create(if backlog { "outbox_backlog" } else { "outbox" })?;
    let mut producer = schema.client()?;
    producer.batch_execute(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, payload text NOT NULL,
                              enqueued_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let insert = producer.prepare("INSERT INTO outbox (payload) VALUES ($1)")?;
    if backlog {
        producer.execute(
            "INSERT INTO outbox (payload) SELECT $1 FROM generate_series(1, $2::bigint)",
            &[&bench.payload, &i64::try_from(messages)?],
        )?;
    }
    let target = bench.sink.requests() + messages;
    let stop = Arc::new(AtomicBool::new(false));
    let cpu = cpu_time();
    let start = Instant::now();
    let workers: Vec<std::thread::JoinHandle<Result<(), String>>> = (0..OUTBOX_WORKERS)
        .map(|_| {
            let mut client = schema.client()?;
            let (url, stop) = (format!("{}/outbox", bench.sink.url), Arc::clone(&stop));
            Ok(std::thread::spawn(move || -> Result<(), String> {
                outbox_worker(&mut client, &url, &stop).map_err(|e| e.to_string())
            }))
        })
        .collect::<Result<_, BenchError>>()?;
    if !backlog {
        for _ in 0..messages {
            producer.execute(&insert, &[&bench.payload])?;
        }
    }
    let delivered = bench.delivered(target);
    let elapsed = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "an outbox worker panicked")??;
    }
    delivered?;
    Ok(Throughput {
        messages,
        messages_per_s: rate(messages, elapsed),
        deliveries_per_s: rate(messages, elapsed),
        cpu_us_per_message: cpu.as_secs_f64() * 1e6 / messages.max(1) as f64,
    })
}

/// One outbox worker: claims a batch, POSTs each row, deletes the batch; until `stop`.
fn outbox_worker(client: &mut Client, url: &str, stop: &AtomicBool) -> Result<(), BenchError> {
    let agent = http_agent();
    let claim = client
        .prepare("SELECT id, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED")?;
    let delete = client.prepare("DELETE FROM outbox WHERE id = ANY($1)")?;
    while !stop.load(Ordering::Relaxed) {
        let mut tx = client.transaction()?;
        let rows = tx.query(&claim, &[&OUTBOX_BATCH])?;
        if rows.is_empty() {
            tx.commit()?;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let (id, payload): (i64, &str) = (row.get(0), row.get(1));
            agent
                .post(url)
                .header("X-Message-ID", id.to_string())
                .header("Content-Type", "application/json")
                .send(payload)?;
            ids.push(id);
        }
        tx.execute(&delete, &[&ids])?;
        tx.commit()?;
    }
    Ok(())
}

/// The PostgreSQL goals.
pub fn goals(f: &PgFigures) -> Vec<Goal> {
    vec![
        ratio_at_least(
            "P1",
            "register on PostgreSQL ÷ a bare insert per transaction",
            f.register_per_s,
            f.bare_insert_per_s,
            "/s",
            0.8,
        ),
        ratio_at_least(
            "P2",
            "end to end on PostgreSQL ÷ a pgmq-style outbox",
            f.end_to_end.messages_per_s,
            f.outbox_end_to_end.messages_per_s,
            " msg/s",
            2.0,
        ),
        ratio_at_least(
            "P3",
            "backlog drain on PostgreSQL ÷ a pgmq-style outbox",
            f.backlog.messages_per_s,
            f.outbox_backlog.messages_per_s,
            " msg/s",
            1.5,
        ),
        at_most(
            "P4",
            "idle on PostgreSQL: rows written",
            format!("{} rows", f.idle_row_changes),
            f.idle_row_changes as f64,
            0.0,
        ),
        at_most(
            "P5",
            "idle on PostgreSQL: wake-ups of Integra's threads",
            format!("{:.1}/s", f.idle.wakeups_per_s),
            f.idle.wakeups_per_s,
            10.0,
        ),
    ]
}
