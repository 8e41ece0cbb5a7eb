//! Integra's benchmark: measures the primitives of this machine (disk flushes, bare SQLite,
//! group commit, loopback HTTP, JSON validation) and then Integra's scenarios in the same
//! run, on the same data directory, and judges each performance goal as a ratio to those
//! primitives, since absolute figures move with the machine and its neighbours.
//!
//! Run: `cargo bench --bench engine` (release build; about two minutes). Options:
//! `--quick` (a smoke run that checks the benchmark works; its figures mean nothing),
//! `--json PATH` (where the report goes; default `target/bench/engine.json`, or
//! `engine-quick.json` for a quick run),
//! `--dir PATH` (the data directory; default a fresh one under `target/`),
//! `--only SCENARIO` (runs one scenario and prints its figures, for profiling it:
//! `end-to-end`, `fan-out`, `batch`, `durable`, `backlog`, `fixed-load`, `idle`,
//! `validation`; and the scenarios that are not part of the default run and judge goals
//! of their own: `soak`, `size`, and, built with `--features postgres`, `postgres` (the
//! PostgreSQL store beside a bare insert and a pgmq-style outbox on the same server)),
//! `--minutes M` (the soak's length; default 15),
//! `--held N` (messages held in the size scenario; default 1,000,000).
//!
//! What each figure means and the goals' thresholds are in `BENCHMARKS.md`.

mod native;
mod order;
#[cfg(feature = "postgres")]
mod postgres;
mod primitives;
mod report;
mod scenarios;
mod server;
mod stats;
mod steady;
mod validation;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use integra::Durability;
use serde::Serialize;

use primitives::{Primitives, Sync};
use report::Figures;
use scenarios::{Bench, BenchError, ONE, THREE};
use server::Sink;
use stats::median;
use steady::SteadySizes;

/// How much work each step does.
struct Sizes {
    /// How long each primitive runs.
    primitive: Duration,
    /// How many times the primitives are measured (round robin); medians are reported.
    repeats: usize,
    end_to_end: u64,
    fan_out: u64,
    batch: u64,
    durable: u64,
    backlog: u64,
    fixed_load: Duration,
    idle: Duration,
    native_calls: usize,
    steady: SteadySizes,
    #[cfg(feature = "postgres")]
    postgres: postgres::PgSizes,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                primitive: Duration::from_millis(100),
                repeats: 1,
                end_to_end: 200,
                fan_out: 100,
                batch: 1_000,
                durable: 160,
                backlog: 1_000,
                fixed_load: Duration::from_millis(300),
                idle: Duration::from_millis(500),
                native_calls: 200,
                steady: SteadySizes {
                    soak: Duration::from_secs(20),
                    period: Duration::from_secs(5),
                    retention: Duration::from_secs(5),
                    cleanup_every: Duration::from_secs(2),
                    held: 5_000,
                    rate_messages: 500,
                },
                #[cfg(feature = "postgres")]
                postgres: postgres::PgSizes {
                    insert: Duration::from_millis(300),
                    end_to_end: 200,
                    backlog: 1_000,
                    idle: Duration::from_millis(500),
                },
            }
        } else {
            Sizes {
                primitive: Duration::from_secs(2),
                repeats: 3,
                end_to_end: 20_000,
                fan_out: 10_000,
                batch: 100_000,
                durable: 16_000,
                backlog: 100_000,
                fixed_load: Duration::from_secs(5),
                idle: Duration::from_secs(5),
                native_calls: 20_000,
                steady: SteadySizes {
                    soak: Duration::from_secs(15 * 60),
                    period: Duration::from_secs(60),
                    retention: Duration::from_secs(60),
                    cleanup_every: Duration::from_secs(10),
                    held: 1_000_000,
                    rate_messages: 20_000,
                },
                #[cfg(feature = "postgres")]
                postgres: postgres::PgSizes {
                    insert: Duration::from_secs(5),
                    end_to_end: 20_000,
                    backlog: 100_000,
                    idle: Duration::from_secs(5),
                },
            }
        }
    }
}

/// The command line.
struct Args {
    quick: bool,
    json: PathBuf,
    dir: Option<PathBuf>,
    only: Option<String>,
    minutes: Option<f64>,
    held: Option<u64>,
}

fn args() -> Result<Args, BenchError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        quick: false,
        json: PathBuf::new(),
        dir: None,
        only: None,
        minutes: None,
        held: None,
    };
    let mut json = None;
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--json" => json = Some(given.next().ok_or("--json needs a path")?.into()),
            "--dir" => args.dir = Some(given.next().ok_or("--dir needs a path")?.into()),
            "--only" => args.only = Some(given.next().ok_or("--only needs a scenario")?),
            "--minutes" => {
                let m = given.next().and_then(|m| m.parse::<f64>().ok());
                args.minutes = Some(m.filter(|m| *m > 0.0).ok_or("--minutes needs minutes")?);
            }
            "--held" => {
                let n = given.next().and_then(|n| n.parse().ok());
                args.held = Some(n.ok_or("--held needs a number of messages")?);
            }
            // cargo passes --bench to benchmarks; test harness flags may come too.
            _ => {}
        }
    }
    args.json = json.unwrap_or_else(|| {
        let name = if args.quick { "engine-quick" } else { "engine" };
        root.join(format!("target/bench/{name}.json"))
    });
    Ok(args)
}

/// The machine and software the figures come from.
#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    kernel: String,
    sqlite: &'static str,
    data_directory: String,
    load_before: String,
    load_after: String,
    profile: &'static str,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn machine(dir: &Path) -> Machine {
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        kernel: read("/proc/sys/kernel/osrelease"),
        sqlite: rusqlite::version(),
        data_directory: dir.display().to_string(),
        load_before: read("/proc/loadavg"),
        load_after: String::new(),
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    }
}

/// The primitives, measured `repeats` times round robin; the medians.
fn measure_primitives(
    dir: &Path,
    sink: &Sink,
    payload: &str,
    raw: &jsonschema::Validator,
    sizes: &Sizes,
) -> Result<Primitives, BenchError> {
    let t = sizes.primitive;
    let mut runs: Vec<Primitives> = Vec::new();
    for round in 1..=sizes.repeats {
        eprintln!("primitives, round {round} of {}", sizes.repeats);
        let mut fsync = primitives::fsync(dir, t)?;
        let mut http = primitives::http(sink, payload, t)?;
        runs.push(Primitives {
            fsync_per_s: fsync.per_second(),
            fsync_p50_ms: fsync.ms(50.0),
            fsync_p99_ms: fsync.ms(99.0),
            insert_normal_per_s: primitives::insert(dir, Sync::Normal, 1, payload, t)?,
            insert_full_per_s: primitives::insert(dir, Sync::Full, 1, payload, t)?,
            insert_100_normal_rows_per_s: primitives::insert(dir, Sync::Normal, 100, payload, t)?,
            group_commit_8_full_per_s: primitives::group_commit(dir, 8, Sync::Full, payload, t)?,
            claim_ack_100_per_s: primitives::claim_ack(dir, 100, 100_000, payload, t)?,
            http_per_s: http.per_second(),
            http_p50_us: http.us(50.0),
            parse_validate_per_s: primitives::parse_validate(payload, raw, t),
        });
    }
    let pick = |f: fn(&Primitives) -> f64| median(runs.iter().map(f).collect());
    Ok(Primitives {
        fsync_per_s: pick(|p| p.fsync_per_s),
        fsync_p50_ms: pick(|p| p.fsync_p50_ms),
        fsync_p99_ms: pick(|p| p.fsync_p99_ms),
        insert_normal_per_s: pick(|p| p.insert_normal_per_s),
        insert_full_per_s: pick(|p| p.insert_full_per_s),
        insert_100_normal_rows_per_s: pick(|p| p.insert_100_normal_rows_per_s),
        group_commit_8_full_per_s: pick(|p| p.group_commit_8_full_per_s),
        claim_ack_100_per_s: pick(|p| p.claim_ack_100_per_s),
        http_per_s: pick(|p| p.http_per_s),
        http_p50_us: pick(|p| p.http_p50_us),
        parse_validate_per_s: pick(|p| p.parse_validate_per_s),
    })
}

/// A native measurement, or nothing (with the reason on stderr) when it cannot run here.
fn optional<T>(what: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|e| eprintln!("{what} skipped: {e}")).ok()
}

fn run() -> Result<(), BenchError> {
    let args = args()?;
    let mut sizes = Sizes::new(args.quick);
    if let Some(minutes) = args.minutes {
        sizes.steady.soak = Duration::from_secs_f64(minutes * 60.0);
    }
    if let Some(held) = args.held {
        sizes.steady.held = held;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            tempfile::tempdir_in(dir)?
        }
        None => {
            let target = root.join("target");
            std::fs::create_dir_all(&target)?;
            tempfile::Builder::new()
                .prefix("bench-data-")
                .tempdir_in(target)?
        }
    };
    let dir = scratch.path().to_owned();
    let mut machine = machine(&dir);
    let payload = order::order(4);
    let raw = jsonschema::options()
        .with_format("uuid", order::is_uuid)
        .should_validate_formats(true)
        .build(&order::raw_schema())?;
    let sink = Arc::new(Sink::start()?);
    eprintln!(
        "Integra benchmark ({} build{}), data in {}",
        machine.profile,
        if args.quick { ", quick" } else { "" },
        dir.display()
    );

    let bench = Bench {
        dir: dir.clone(),
        sink: Arc::clone(&sink),
        payload: payload.clone(),
    };
    match args.only.as_deref() {
        Some("soak" | "size") => return steady(&bench, &args, &sizes, &mut machine),
        #[cfg(feature = "postgres")]
        Some("postgres") => return on_postgres(&bench, &args, &sizes, &mut machine),
        Some(scenario) => return only(&bench, scenario, &sizes, &raw, args.quick),
        None => {}
    }
    let primitives = measure_primitives(&dir, &sink, &payload, &raw, &sizes)?;
    eprintln!("end to end");
    let end_to_end_1 = bench.end_to_end(ONE, 1, sizes.end_to_end)?;
    let end_to_end_3 = bench.end_to_end(THREE, 3, sizes.fan_out)?;
    eprintln!("batch, durable callers, backlog");
    let batch_100 = bench.batch_end_to_end(100, sizes.batch)?;
    let durable_8 = bench.durable_callers(8, sizes.durable)?;
    let backlog_drain = bench.backlog_drain(sizes.backlog)?;
    eprintln!("fixed load, idle");
    let fixed_load = bench.fixed_load(end_to_end_1.messages_per_s * 0.1, sizes.fixed_load)?;
    let idle = bench.idle(sizes.idle)?;
    eprintln!("native calls");
    let warmup = sizes.native_calls / 10;
    let c_abi_register = optional(
        "the C ABI call",
        native::c_abi_register(&dir, sizes.native_calls, warmup),
    );
    let addin_register = optional(
        "the Native API call",
        native::addin_register(&dir, sizes.native_calls, warmup),
    );
    eprintln!("validation");
    let validating = bench.engine("validation", Durability::Normal)?;
    let validation_1kb = validation::measure(&validating, ONE, &raw, 4, args.quick)?;
    let validation_16kb = validation::measure(&validating, ONE, &raw, 94, args.quick)?;
    machine.load_after = read("/proc/loadavg");

    let figures = Figures {
        primitives,
        end_to_end_1,
        end_to_end_3,
        batch_100,
        durable_8,
        backlog_drain,
        fixed_load,
        idle,
        c_abi_register,
        addin_register,
        validation_1kb,
        validation_16kb,
    };
    let goals = report::goals(&figures);
    report::print(&figures, &goals);
    print_machine(&machine);
    if args.quick {
        println!("(quick run: the figures only show that every step works)");
    }
    write_report(
        &args.json,
        &serde_json::json!({
            "command": "cargo bench --bench engine",
            "quick": args.quick,
            "machine": machine,
            "figures": figures,
            "goals": goals,
        }),
    )
}

fn print_machine(machine: &Machine) {
    println!(
        "\nMachine: {} ({} cores), Linux {}, SQLite {}; load {} → {}",
        machine.cpu,
        machine.cores,
        machine.kernel,
        machine.sqlite,
        machine.load_before,
        machine.load_after
    );
}

fn write_report(path: &Path, json: &serde_json::Value) -> Result<(), BenchError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(json)?)?;
    println!("Written to {}", path.display());
    Ok(())
}

/// Measures the PostgreSQL store beside its primitives, prints the figures and goals, and
/// writes them as JSON beside the main report (`postgres.json`).
#[cfg(feature = "postgres")]
fn on_postgres(
    bench: &Bench,
    args: &Args,
    sizes: &Sizes,
    machine: &mut Machine,
) -> Result<(), BenchError> {
    let figures = postgres::measure(bench, &sizes.postgres)?;
    println!("\nPostgreSQL store");
    let line = |what: &str, t: &scenarios::Throughput| {
        println!(
            "  {what:<38} {:>9.0} msg/s  {:>7.1} µs CPU/msg",
            t.messages_per_s, t.cpu_us_per_message
        );
    };
    println!(
        "  {:<38} {:>9.0} /s",
        "bare INSERT per transaction", figures.bare_insert_per_s
    );
    println!(
        "  {:<38} {:>9.0} /s",
        "Integra register, one per call", figures.register_per_s
    );
    line(
        "outbox (pgmq-style), end to end",
        &figures.outbox_end_to_end,
    );
    line("Integra, end to end", &figures.end_to_end);
    line(
        "outbox (pgmq-style), backlog drain",
        &figures.outbox_backlog,
    );
    line("Integra, backlog drain", &figures.backlog);
    println!(
        "  {:<38} {:>9.1} wake-ups/s, {} rows written, {:.2} % CPU",
        "Integra idle",
        figures.idle.wakeups_per_s,
        figures.idle_row_changes,
        figures.idle.cpu_percent
    );
    let goals = postgres::goals(&figures);
    report::print_goals(&goals);
    machine.load_after = read("/proc/loadavg");
    print_machine(machine);
    let name = if args.quick {
        "postgres-quick.json"
    } else {
        "postgres.json"
    };
    write_report(
        &args.json.with_file_name(name),
        &serde_json::json!({
            "command": "cargo bench --bench engine --features postgres -- --only postgres",
            "quick": args.quick,
            "machine": machine,
            "figures": figures,
            "goals": goals,
        }),
    )
}

/// Runs the soak or the size scenario, prints its figures and goals, and writes them as
/// JSON beside the main report (`soak.json`, `size.json`).
fn steady(
    bench: &Bench,
    args: &Args,
    sizes: &Sizes,
    machine: &mut Machine,
) -> Result<(), BenchError> {
    let scenario = args.only.as_deref().unwrap_or_default();
    let (figures, goals) = if scenario == "soak" {
        println!("\nSoak (per period)");
        let soak = bench.soak(&sizes.steady)?;
        let goals = steady::soak_goals(&soak);
        (serde_json::to_value(&soak)?, goals)
    } else {
        let size = bench.size(&sizes.steady)?;
        println!("\nStore size");
        steady::print_size(&size);
        let goals = steady::size_goals(&size);
        (serde_json::to_value(&size)?, goals)
    };
    report::print_goals(&goals);
    machine.load_after = read("/proc/loadavg");
    print_machine(machine);
    let name = if args.quick {
        format!("{scenario}-quick.json")
    } else {
        format!("{scenario}.json")
    };
    let path = args.json.with_file_name(name);
    let command = format!("cargo bench --bench engine -- --only {scenario}");
    write_report(
        &path,
        &serde_json::json!({
            "command": command,
            "quick": args.quick,
            "machine": machine,
            "figures": figures,
            "goals": goals,
        }),
    )
}

/// Runs one scenario alone and prints its figures.
fn only(
    bench: &Bench,
    scenario: &str,
    sizes: &Sizes,
    raw: &jsonschema::Validator,
    quick: bool,
) -> Result<(), BenchError> {
    let figures = match scenario {
        "end-to-end" => format!("{:?}", bench.end_to_end(ONE, 1, sizes.end_to_end)?),
        "fan-out" => format!("{:?}", bench.end_to_end(THREE, 3, sizes.fan_out)?),
        "batch" => format!("{:?}", bench.batch_end_to_end(100, sizes.batch)?),
        "durable" => format!("{:?}", bench.durable_callers(8, sizes.durable)?),
        "backlog" => format!("{:?}", bench.backlog_drain(sizes.backlog)?),
        "fixed-load" => format!("{:?}", bench.fixed_load(400.0, sizes.fixed_load)?),
        "idle" => format!("{:?}", bench.idle(sizes.idle)?),
        "validation" => {
            let engine = bench.engine("validation", Durability::Normal)?;
            format!("{:?}", validation::measure(&engine, ONE, raw, 94, quick)?)
        }
        other => return Err(format!("there is no scenario '{other}'").into()),
    };
    println!("{scenario}: {figures}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}
