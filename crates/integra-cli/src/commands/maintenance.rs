//! `cleanup` and `check`: maintenance on demand.

use std::process::ExitCode;

use integra_core::{Engine, IntegrityMode};

use crate::failure::Failure;
use crate::output::{Output, spinner, table};

/// `integra cleanup`: what retention lets go, removed now.
pub(crate) fn cleanup(engine: &Engine, out: Output) -> Result<ExitCode, Failure> {
    let progress = spinner("removing what retention lets go");
    let report = engine.cleanup();
    progress.finish_and_clear();
    let report = report?;
    out.show(&report, |r| {
        let mut t = table(&["removed", "count"]);
        t.add_row(vec!["messages".to_owned(), r.messages.to_string()]);
        t.add_row(vec!["incoming messages".to_owned(), r.incoming.to_string()]);
        t.add_row(vec!["rejections".to_owned(), r.rejections.to_string()]);
        t.add_row(vec![
            "exchange, sent".to_owned(),
            r.exchange_sent.to_string(),
        ]);
        t.add_row(vec![
            "exchange, received".to_owned(),
            r.exchange_received.to_string(),
        ]);
        t.add_row(vec![
            "bytes given back".to_owned(),
            r.bytes_given_back.to_string(),
        ]);
        t
    });
    if report.busy {
        eprintln!("(the database was busy: the rest is left for the next cleanup)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `integra check`: the integrity check; exit code 1 when it found problems.
pub(crate) fn check(engine: &Engine, full: bool, out: Output) -> Result<ExitCode, Failure> {
    let mode = if full {
        IntegrityMode::Full
    } else {
        IntegrityMode::Quick
    };
    let progress = spinner("checking");
    let report = engine.check_integrity(mode);
    progress.finish_and_clear();
    let report = report?;
    if report.ok && !out.json() {
        eprintln!("no problems found ({} ms)", report.elapsed_ms);
        return Ok(ExitCode::SUCCESS);
    }
    out.show(&report, |r| {
        let mut t = table(&["check", "what", "where"]);
        for p in &r.problems {
            t.add_row(vec![
                format!("{:?}", p.check),
                p.what.clone(),
                p.location.clone(),
            ]);
        }
        t
    });
    if report.ok {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::No(format!(
            "{} problem(s) found",
            report.problems.len()
        )))
    }
}
