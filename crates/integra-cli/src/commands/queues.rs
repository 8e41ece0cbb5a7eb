//! `status`, `flows` and `subscribers`: the queues' depth, from the counts kept with every
//! change, and the subscribers' health.

use std::collections::BTreeMap;
use std::process::ExitCode;

use integra_core::{CountedQueue, Engine, FlowCount};
use serde::Serialize;

use crate::failure::Failure;
use crate::output::{Output, cut, or_dash, table};

/// `integra status`: every non-zero count, by queue, flow, subscriber and status.
pub(crate) fn status(engine: &Engine, out: Output) -> Result<ExitCode, Failure> {
    let counts = engine.flow_counts()?;
    if counts.is_empty() && !out.json() {
        eprintln!("the queues are empty");
        return Ok(ExitCode::SUCCESS);
    }
    out.show(&counts, |counts| {
        let mut t = table(&["queue", "flow", "subscriber", "status", "count"]);
        for c in counts {
            t.add_row(vec![
                c.queue.as_str().to_owned(),
                c.flow.clone(),
                c.subscriber.clone().unwrap_or_default(),
                c.status.clone(),
                c.count.to_string(),
            ]);
        }
        t
    });
    Ok(ExitCode::SUCCESS)
}

/// One flow as `integra flows` shows it.
#[derive(Debug, Serialize)]
struct FlowLine {
    code: String,
    direction: String,
    active: bool,
    subscribers: Vec<String>,
    /// Messages (outgoing) or incoming messages by status.
    counts: BTreeMap<String, u64>,
    /// Deliveries by subscriber and status (outgoing flows).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    deliveries: BTreeMap<String, BTreeMap<String, u64>>,
}

/// `integra flows`: each configured flow with its subscribers and counts.
pub(crate) fn flows(engine: &Engine, out: Output) -> Result<ExitCode, Failure> {
    let config = engine.config()?;
    let counts = engine.flow_counts()?;
    let lines: Vec<FlowLine> = config
        .flows
        .iter()
        .map(|flow| {
            let mut line = FlowLine {
                code: flow.code.clone(),
                direction: flow.direction.as_str().to_owned(),
                active: flow.active,
                subscribers: flow.subscribers.clone(),
                counts: BTreeMap::new(),
                deliveries: BTreeMap::new(),
            };
            for c in counts.iter().filter(|c| c.flow == flow.code) {
                add(&mut line, c);
            }
            line
        })
        .collect();
    out.show(&lines, |lines| {
        let mut t = table(&["flow", "direction", "active", "subscribers", "by status"]);
        for l in lines {
            let subscribers = l
                .subscribers
                .iter()
                .map(|s| {
                    let by_status = l.deliveries.get(s).map(joined).unwrap_or_default();
                    if by_status.is_empty() {
                        s.clone()
                    } else {
                        format!("{s} ({by_status})")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            t.add_row(vec![
                l.code.clone(),
                l.direction.clone(),
                if l.active { "yes" } else { "no" }.to_owned(),
                subscribers,
                joined(&l.counts),
            ]);
        }
        t
    });
    Ok(ExitCode::SUCCESS)
}

/// Adds count `c` to the flow's line.
fn add(line: &mut FlowLine, c: &FlowCount) {
    match (c.queue, &c.subscriber) {
        (CountedQueue::Deliveries, Some(subscriber)) => {
            *line
                .deliveries
                .entry(subscriber.clone())
                .or_default()
                .entry(c.status.clone())
                .or_default() += c.count;
        }
        (CountedQueue::Deliveries, None) => {}
        _ => *line.counts.entry(c.status.clone()).or_default() += c.count,
    }
}

/// `status n, status n`.
fn joined(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(status, n)| format!("{status} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `integra subscribers`: each subscriber's health.
pub(crate) fn subscribers(engine: &Engine, out: Output) -> Result<ExitCode, Failure> {
    let health = engine.subscriber_health()?;
    out.show(&health, |health| {
        let mut t = table(&[
            "subscriber",
            "last success",
            "last failure",
            "failures in a row",
            "waiting",
            "sending",
            "dead",
            "last error",
        ]);
        for h in health {
            t.add_row(vec![
                h.subscriber.clone(),
                or_dash(h.last_success_at),
                or_dash(h.last_failure_at),
                h.consecutive_failures.to_string(),
                h.waiting.to_string(),
                h.sending.to_string(),
                h.dead.to_string(),
                or_dash(h.last_error.as_deref().map(|e| cut(e, 60))),
            ]);
        }
        t
    });
    Ok(ExitCode::SUCCESS)
}
