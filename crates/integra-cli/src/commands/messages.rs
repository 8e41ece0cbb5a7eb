//! `list`, `incoming`, `show`, `dead`, `retry`, `delete`: messages one by one or by filter.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use integra_core::{
    DeliveryStatus, Engine, Error, IncomingFilter, IncomingStatus, ListFilter, MessageReport,
    MessageStatus, MessageSummary, RetryFilter,
};

use super::{status, time};
use crate::cli::{DeadArgs, IncomingArgs, ListArgs, RetryArgs};
use crate::failure::Failure;
use crate::output::{Output, cut, or_dash, print_json, table};

/// The longest error text a table shows (the JSON has it whole).
const ERROR_COLUMN: usize = 60;

/// `integra list`.
pub(crate) fn list(engine: &Engine, args: &ListArgs, out: Output) -> Result<ExitCode, Failure> {
    let page = &args.page;
    let mut filter = ListFilter::default().with_limit(page.limit);
    if let Some(flow) = &args.flow {
        filter = filter.with_flow(flow);
    }
    if let Some(s) = status("--status", args.status.as_deref(), MessageStatus::ALL)? {
        filter = filter.with_status(s);
    }
    if let Some(subscriber) = &args.subscriber {
        filter = filter.with_subscriber(subscriber);
    }
    let delivery = args.delivery_status.as_deref();
    if let Some(s) = status("--delivery-status", delivery, DeliveryStatus::ALL)? {
        filter = filter.with_delivery_status(s);
    }
    let (from, to) = page.window()?;
    filter.created_from = from;
    filter.created_to = to;
    filter.before_seq = page.before;
    let found = engine.list_messages(&filter)?;
    show_page(&found, page.limit, out);
    Ok(ExitCode::SUCCESS)
}

/// `integra incoming`.
pub(crate) fn incoming(
    engine: &Engine,
    args: &IncomingArgs,
    out: Output,
) -> Result<ExitCode, Failure> {
    let page = &args.page;
    let mut filter = IncomingFilter::default().with_limit(page.limit);
    if let Some(flow) = &args.flow {
        filter = filter.with_flow(flow);
    }
    if let Some(s) = status("--status", args.status.as_deref(), IncomingStatus::ALL)? {
        filter = filter.with_status(s);
    }
    let (from, to) = page.window()?;
    filter.created_from = from;
    filter.created_to = to;
    filter.before_seq = page.before;
    let found = engine.list_incoming(&filter)?;
    if found.is_empty() && !out.json() {
        eprintln!("no incoming messages match");
        return Ok(ExitCode::SUCCESS);
    }
    out.show(&found, |page| {
        let mut t = table(&[
            "seq",
            "id",
            "flow",
            "sender's id",
            "status",
            "attempts",
            "accepted",
            "last error",
        ]);
        for m in page {
            t.add_row(vec![
                m.seq.to_string(),
                m.id.to_string(),
                m.flow.clone(),
                cut(&m.message_id, 40),
                m.status.to_string(),
                m.attempts.to_string(),
                m.created_at.to_string(),
                or_dash(m.last_error.as_deref().map(|e| cut(e, ERROR_COLUMN))),
            ]);
        }
        t
    });
    more_may_follow(found.len(), page.limit, found.last().map(|m| m.seq), out);
    Ok(ExitCode::SUCCESS)
}

/// `integra dead`: messages dead themselves (forming ran out of attempts) or with a dead
/// delivery, newest first.
pub(crate) fn dead(engine: &Engine, args: &DeadArgs, out: Output) -> Result<ExitCode, Failure> {
    let mut deliveries = ListFilter::default()
        .with_delivery_status(DeliveryStatus::Dead)
        .with_limit(args.limit);
    let mut messages = ListFilter::default()
        .with_status(MessageStatus::Dead)
        .with_limit(args.limit);
    if let Some(flow) = &args.flow {
        deliveries = deliveries.with_flow(flow);
        messages = messages.with_flow(flow);
    }
    let mut page = match &args.subscriber {
        Some(subscriber) => engine.list_messages(&deliveries.with_subscriber(subscriber))?,
        None => {
            let mut both = engine.list_messages(&deliveries)?;
            both.extend(engine.list_messages(&messages)?);
            both
        }
    };
    page.sort_by_key(|m| std::cmp::Reverse(m.seq));
    page.dedup_by_key(|m| m.seq);
    page.truncate(args.limit);
    show_page(&page, args.limit, out);
    Ok(ExitCode::SUCCESS)
}

/// Shows a page of messages; for people, with how to ask for the next one.
fn show_page(page: &[MessageSummary], limit: usize, out: Output) {
    if page.is_empty() && !out.json() {
        eprintln!("no messages match");
        return;
    }
    out.show(page, |page| {
        let mut t = table(&[
            "seq",
            "id",
            "flow",
            "status",
            "object key",
            "attempts",
            "registered",
            "last error",
        ]);
        for m in page {
            t.add_row(vec![
                m.seq.to_string(),
                m.id.to_string(),
                m.flow.clone(),
                m.status.to_string(),
                or_dash(m.object_key.as_deref()),
                m.attempts.to_string(),
                m.created_at.to_string(),
                or_dash(m.last_error.as_deref().map(|e| cut(e, ERROR_COLUMN))),
            ]);
        }
        t
    });
    more_may_follow(page.len(), limit, page.last().map(|m| m.seq), out);
}

/// For people: how to ask for the next page, when this one is full (`last`: its last seq).
fn more_may_follow(shown: usize, limit: usize, last: Option<i64>, out: Output) {
    if let Some(last) = last
        && shown == limit
        && !out.json()
    {
        eprintln!("(more may follow: --before {last})");
    }
}

/// `integra show ID`: an outgoing message, or else an incoming one.
pub(crate) fn show(engine: &Engine, id: &str, out: Output) -> Result<ExitCode, Failure> {
    match engine.message_status(id) {
        Ok(report) => {
            if out.json() {
                print_json(&report);
            } else {
                show_message(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::MessageNotFound { .. } | Error::InvalidArgument { .. }) => {
            match engine.incoming_status(id) {
                Ok(report) => {
                    out.show(&report, |r| {
                        let mut t = table(&["at", "status", "attempt", "detail"]);
                        for h in &r.history {
                            t.add_row(vec![
                                h.at.to_string(),
                                h.status.to_string(),
                                h.attempt.to_string(),
                                or_dash(h.detail.as_deref()),
                            ]);
                        }
                        println!(
                            "incoming {} of flow {}: {} ({}), {} attempt(s)",
                            r.id, r.flow, r.status, r.status_1c, r.attempts
                        );
                        println!("sender's message id: {}", r.message_id);
                        if let Some(e) = &r.last_error {
                            println!("last error: {e}");
                        }
                        println!("payload ({}):\n{}", r.content_type, r.payload);
                        t
                    });
                    Ok(ExitCode::SUCCESS)
                }
                Err(Error::IncomingNotFound { .. } | Error::InvalidArgument { .. }) => Err(
                    Failure::No(format!("no message has the id '{}'", cut(id, 64))),
                ),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// An outgoing message for people: its state, deliveries, history and payload.
fn show_message(r: &MessageReport) {
    println!(
        "message {} (seq {}) of flow {}: {} ({}), {} forming attempt(s)",
        r.id, r.seq, r.flow, r.status, r.status_1c, r.attempts
    );
    println!(
        "registered {}, changed {}, object key {}, ordering key {}",
        r.created_at,
        r.updated_at,
        or_dash(r.object_key.as_deref()),
        or_dash(r.ordering_key.as_deref())
    );
    if let Some(e) = &r.last_error {
        println!("last error: {e}");
    }
    let mut deliveries = table(&[
        "subscriber",
        "status",
        "attempts",
        "next attempt",
        "last error",
    ]);
    for d in &r.deliveries {
        deliveries.add_row(vec![
            d.subscriber.clone(),
            format!("{} ({})", d.status, d.status_1c),
            d.attempts.to_string(),
            d.next_attempt_at.to_string(),
            or_dash(d.last_error.as_deref()),
        ]);
    }
    println!("{deliveries}");
    let mut history = table(&["at", "of", "status", "attempt", "detail"]);
    for h in &r.history {
        history.add_row(vec![
            h.at.to_string(),
            h.subscriber.clone().unwrap_or_else(|| "message".to_owned()),
            h.status.to_string(),
            h.attempt.to_string(),
            or_dash(h.detail.as_deref()),
        ]);
    }
    println!("{history}");
    let payload = r.payload.as_deref().unwrap_or(&*r.source);
    let pretty = serde_json::from_str::<serde_json::Value>(payload.get())
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| payload.get().to_owned());
    let which = if r.payload.is_some() {
        "payload"
    } else {
        "source"
    };
    println!("{which}:\n{pretty}");
}

/// `integra retry`.
pub(crate) fn retry(engine: &Engine, args: &RetryArgs, out: Output) -> Result<ExitCode, Failure> {
    let mut filter = RetryFilter::default();
    if let Some(flow) = &args.flow {
        filter = filter.with_flow(flow);
    }
    if let Some(subscriber) = &args.subscriber {
        filter = filter.with_subscriber(subscriber);
    }
    if let Some(id) = &args.id {
        filter = filter.with_id(id);
    }
    if let Some(t) = time("--from", args.from.as_deref())? {
        filter = filter.with_created_from(t);
    }
    if let Some(t) = time("--to", args.to.as_deref())? {
        filter = filter.with_created_to(t);
    }
    let spinner = crate::output::spinner("re-driving");
    let n = if args.incoming {
        engine.retry_incoming(&filter, &args.reason)
    } else {
        engine.retry(&filter, &args.reason)
    };
    spinner.finish_and_clear();
    let n = n?;
    let what = if args.incoming {
        "incoming message(s)"
    } else {
        "record(s)"
    };
    out.outcome("retried", n as u64, &format!("re-driven: {n} {what}"));
    Ok(ExitCode::SUCCESS)
}

/// `integra delete ID...`: asks first unless `yes`; refuses to guess without a terminal.
pub(crate) fn delete(
    engine: &Engine,
    ids: &[String],
    yes: bool,
    out: Output,
) -> Result<ExitCode, Failure> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(
                "delete",
                "deletes nothing without --yes when not run from a terminal",
            ));
        }
        eprint!(
            "Delete {} message(s) with their deliveries and history? [y/N] ",
            ids.len()
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(Failure::No("nothing deleted".to_owned()));
        }
    }
    let mut deleted = 0;
    let mut missing = Vec::new();
    for id in ids {
        if engine.delete_message(id)? {
            deleted += 1;
        } else {
            missing.push(cut(id, 64));
        }
    }
    out.outcome("deleted", deleted, &format!("deleted: {deleted}"));
    if missing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::No(format!("not found: {}", missing.join(", "))))
    }
}
