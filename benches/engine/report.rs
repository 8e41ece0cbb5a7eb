//! The goals (G1–G17 of the performance notes) as measured value, ratio to the same run's
//! primitives, threshold and PASS/FAIL; printed as a table and written as JSON with the
//! machine, the primitives and every scenario's figures.

use serde::Serialize;

use crate::native::CallLatency;
use crate::primitives::Primitives;
use crate::scenarios::{FixedLoad, Idle, Throughput};
use crate::validation::Validation;

/// Every figure of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// The primitives (medians of the repetitions).
    pub primitives: Primitives,
    /// One producer, one message per call, 1 subscriber.
    pub end_to_end_1: Throughput,
    /// The same, 3 subscribers.
    pub end_to_end_3: Throughput,
    /// 100 messages per call, 1 subscriber.
    pub batch_100: Throughput,
    /// 8 callers at FULL, register only.
    pub durable_8: Throughput,
    /// A backlog delivered from a standing start.
    pub backlog_drain: Throughput,
    /// Open loop at 10 % of `end_to_end_1`.
    pub fixed_load: FixedLoad,
    /// An idle engine.
    pub idle: Idle,
    /// `RegisterMessage` through the C ABI, from C.
    pub c_abi_register: Option<CallLatency>,
    /// `RegisterMessage` through the add-in's Native API, from C++.
    pub addin_register: Option<CallLatency>,
    /// A 1 KB order.
    pub validation_1kb: Validation,
    /// A 16 KB order.
    pub validation_16kb: Validation,
}

/// One goal, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    /// `G1` …
    pub id: &'static str,
    /// What is measured.
    pub what: String,
    /// The measured value, for people.
    pub measured: String,
    /// The value compared with the threshold.
    pub value: f64,
    /// The threshold, for people.
    pub threshold: String,
    /// Whether it holds.
    pub pass: bool,
}

/// A goal met at `min` or above.
pub fn at_least(
    id: &'static str,
    what: impl Into<String>,
    measured: String,
    value: f64,
    min: f64,
) -> Goal {
    Goal {
        id,
        what: what.into(),
        measured,
        value,
        threshold: format!("≥ {min}"),
        pass: value >= min,
    }
}

/// A goal on the ratio of rate `ours` to rate `theirs` (shown in `unit`), met at `min` or
/// above.
pub fn ratio_at_least(
    id: &'static str,
    what: impl Into<String>,
    ours: f64,
    theirs: f64,
    unit: &str,
    min: f64,
) -> Goal {
    at_least(
        id,
        what,
        format!("{ours:.0} ÷ {theirs:.0}{unit}"),
        ours / theirs,
        min,
    )
}

/// A goal met at `max` or below.
pub fn at_most(
    id: &'static str,
    what: impl Into<String>,
    measured: String,
    value: f64,
    max: f64,
) -> Goal {
    Goal {
        id,
        what: what.into(),
        measured,
        value,
        threshold: format!("≤ {max}"),
        pass: value <= max,
    }
}

/// `a ⊕ b`: the rate of two stages in series.
fn serial(a: f64, b: f64) -> f64 {
    1.0 / (1.0 / a + 1.0 / b)
}

/// The goals, judged against the figures.
pub fn goals(f: &Figures) -> Vec<Goal> {
    let p = &f.primitives;
    let r1 = f.end_to_end_1.messages_per_s;
    let mut goals = vec![
        ratio_at_least(
            "G1",
            "end to end ÷ bare single-row insert (NORMAL)",
            r1,
            p.insert_normal_per_s,
            " msg/s",
            0.7,
        ),
        ratio_at_least(
            "G3",
            "batch of 100 end to end ÷ bare 100-row insert",
            f.batch_100.messages_per_s,
            p.insert_100_normal_rows_per_s,
            " msg/s",
            0.3,
        ),
        ratio_at_least(
            "G5",
            "8 durable callers (FULL) ÷ bare group commit of 8",
            f.durable_8.messages_per_s,
            p.group_commit_8_full_per_s,
            " msg/s",
            0.8,
        ),
        ratio_at_least(
            "G6",
            "deliveries/s with 3 subscribers ÷ with 1",
            f.end_to_end_3.deliveries_per_s,
            f.end_to_end_1.deliveries_per_s,
            "",
            2.5,
        ),
        ratio_at_least(
            "G7",
            "backlog drain ÷ (claim+ack ⊕ HTTP)",
            f.backlog_drain.messages_per_s,
            serial(p.claim_ack_100_per_s, p.http_per_s),
            " msg/s",
            0.8,
        ),
    ];
    let primitives_us = 1e6
        * (1.0 / p.insert_normal_per_s
            + 1.0 / p.claim_ack_100_per_s
            + 1.0 / p.http_per_s
            + 1.0 / p.parse_validate_per_s);
    let overhead = 1e6 / r1 - primitives_us;
    goals.push(at_most(
        "G8",
        "engine overhead per message above its primitives, µs",
        format!("{:.1} − {primitives_us:.1} µs", 1e6 / r1),
        overhead,
        15.0,
    ));
    let l = &f.fixed_load;
    goals.push(at_most(
        "G10",
        "register → delivered at 10 % load, p50 ms",
        format!(
            "{:.3} ms at {:.0} msg/s",
            l.end_to_end_p50_ms, l.offered_per_s
        ),
        l.end_to_end_p50_ms,
        0.3,
    ));
    goals.push(at_most(
        "G10",
        "register → delivered at 10 % load, p99 ms",
        format!("{:.3} ms", l.end_to_end_p99_ms),
        l.end_to_end_p99_ms,
        2.0,
    ));
    for (name, call) in [
        ("Native API", &f.addin_register),
        ("C ABI", &f.c_abi_register),
    ] {
        let Some(call) = call else { continue };
        goals.push(at_most(
            "G12",
            format!("RegisterMessage through the {name}, p50 µs"),
            format!("{:.1} µs", call.p50_us),
            call.p50_us,
            25.0,
        ));
        goals.push(at_most(
            "G12",
            format!("RegisterMessage through the {name}, p99 µs"),
            format!("{:.1} µs", call.p99_us),
            call.p99_us,
            200.0,
        ));
    }
    goals.push(at_most(
        "G13",
        "idle engine: wake-ups per second",
        format!("{:.1}/s", f.idle.wakeups_per_s),
        f.idle.wakeups_per_s,
        10.0,
    ));
    let writes = f.idle.write_calls as f64 + if f.idle.files_changed { 1.0 } else { 0.0 };
    goals.push(at_most(
        "G13",
        "idle engine: writes",
        format!(
            "{} write calls, files {}",
            f.idle.write_calls,
            if f.idle.files_changed {
                "changed"
            } else {
                "unchanged"
            }
        ),
        writes,
        0.0,
    ));
    let v = &f.validation_16kb;
    goals.push(at_most(
        "G17",
        "validation of a 16 KB order ÷ raw parse + validate",
        format!("{:.1} ÷ {:.1} µs", v.integra_us, v.raw_us),
        v.ratio,
        1.0,
    ));
    goals
}

/// Prints the primitives, the scenarios and the goals.
pub fn print(f: &Figures, goals: &[Goal]) {
    let p = &f.primitives;
    println!("\nPrimitives (same run, same data directory)");
    println!(
        "  fdatasync 4 KB          {:>10.0} /s   p50 {:.2} ms  p99 {:.2} ms",
        p.fsync_per_s, p.fsync_p50_ms, p.fsync_p99_ms
    );
    println!(
        "  insert 1/txn NORMAL     {:>10.0} /s   (I1N)",
        p.insert_normal_per_s
    );
    println!(
        "  insert 1/txn FULL       {:>10.0} /s   (I1F)",
        p.insert_full_per_s
    );
    println!(
        "  insert 100/txn NORMAL   {:>10.0} rows/s (I100N)",
        p.insert_100_normal_rows_per_s
    );
    println!(
        "  group commit 8, FULL    {:>10.0} /s   (GC8)",
        p.group_commit_8_full_per_s
    );
    println!(
        "  claim+ack 100           {:>10.0} /s   (CA100)",
        p.claim_ack_100_per_s
    );
    println!(
        "  loopback HTTP, ureq     {:>10.0} /s   p50 {:.1} µs (H)",
        p.http_per_s, p.http_p50_us
    );
    println!(
        "  parse + validate 1 KB   {:>10.0} /s   (PV)",
        p.parse_validate_per_s
    );
    println!("\nScenarios");
    for (name, t) in [
        ("end to end, 1 subscriber", &f.end_to_end_1),
        ("end to end, 3 subscribers", &f.end_to_end_3),
        ("batch of 100, end to end", &f.batch_100),
        ("8 durable callers, FULL", &f.durable_8),
        ("backlog drain", &f.backlog_drain),
    ] {
        println!(
            "  {name:<26} {:>8.0} msg/s {:>8.0} deliveries/s  {:>6.1} µs CPU/msg  ({} msgs)",
            t.messages_per_s, t.deliveries_per_s, t.cpu_us_per_message, t.messages
        );
    }
    let l = &f.fixed_load;
    println!(
        "  fixed load {:.0} msg/s: register → delivered p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; register call p50 {:.1} µs, p99 {:.1} µs",
        l.offered_per_s,
        l.end_to_end_p50_ms,
        l.end_to_end_p99_ms,
        l.end_to_end_max_ms,
        l.register_p50_us,
        l.register_p99_us
    );
    let i = &f.idle;
    println!(
        "  idle {:.0} s: {:.1} wake-ups/s, {} write calls, files {}, CPU {:.2} %",
        i.seconds,
        i.wakeups_per_s,
        i.write_calls,
        if i.files_changed {
            "changed"
        } else {
            "unchanged"
        },
        i.cpu_percent
    );
    for (name, call) in [
        ("C ABI", &f.c_abi_register),
        ("Native API", &f.addin_register),
    ] {
        if let Some(c) = call {
            println!(
                "  RegisterMessage via {name}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs, {:.0} calls/s",
                c.p50_us, c.p99_us, c.max_us, c.per_second
            );
        }
    }
    for v in [&f.validation_1kb, &f.validation_16kb] {
        println!(
            "  validation {:>5.1} KB: raw {:.1} µs, Integra {:.1} µs, ratio {:.2}",
            v.bytes as f64 / 1024.0,
            v.raw_us,
            v.integra_us,
            v.ratio
        );
    }
    print_goals(goals);
}

/// Prints the goals as a table.
pub fn print_goals(goals: &[Goal]) {
    println!("\nGoals");
    for g in goals {
        println!(
            "  {:<4} {:<55} {:>9.3}  {:<7} {}  ({})",
            g.id,
            g.what,
            g.value,
            g.threshold,
            if g.pass { "PASS" } else { "FAIL" },
            g.measured
        );
    }
}
