//! Four processes registering and dispatching on one database file at once: every message
//! is delivered, once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{CountingReceiver, assert_intact, scale};
use crate::support::{T0, TestEngine, child, http_config};

#[test]
fn four_processes_on_one_file_lose_nothing_and_send_nothing_twice() {
    let rx = CountingReceiver::start();
    let t = TestEngine::new(&http_config(rx.url(), &["a"]));
    let db = t.database.clone().display().to_string();
    let per_process = 150 * scale();
    let mut processes: Vec<_> = ["w", "x", "y", "z"]
        .iter()
        .map(|tag| {
            Some(child::spawn(
                "register_and_dispatch",
                &[
                    ("DB", db.clone()),
                    ("CLOCK_MS", T0.to_string()),
                    ("COUNT", per_process.to_string()),
                    ("TAG", (*tag).to_owned()),
                ],
            ))
        })
        .collect();
    let started = Instant::now();
    while processes.iter().any(Option::is_some) {
        for slot in &mut processes {
            if let Some(process) = slot
                && let Some(status) = process.try_wait().unwrap()
            {
                assert!(status.success(), "a process failed");
                *slot = None;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the processes did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each process dispatched until it found nothing due; what another registered after
    // that is still to go.
    t.dispatch();
    assert_intact(&t.engine);

    let registered = every_message_id(&t.engine);
    let tally = rx.tally(&registered);
    println!(
        "concurrency: 4 processes, {} messages, {} lost, {} duplicates",
        registered.len(),
        tally.lost.len(),
        tally.duplicates
    );
    assert_eq!(registered.len(), 4 * per_process);
    assert!(tally.lost.is_empty(), "lost: {:?}", tally.lost);
    assert_eq!(tally.delivered, registered.len());
    assert_eq!(tally.duplicates, 0, "a message was sent twice");
    let counts = t.engine.counts().unwrap();
    assert_eq!(
        counts.messages.get(&integra::MessageStatus::Sent),
        Some(&(4 * per_process as u64))
    );
    assert_eq!(counts.messages.len(), 1);
}

/// The ids of every message `engine` holds, page by page (newest first).
fn every_message_id(engine: &integra::Engine) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut filter = integra::ListFilter::default().with_limit(10_000);
    loop {
        let page = engine.list_messages(&filter).unwrap();
        let Some(oldest) = page.last() else {
            return ids;
        };
        filter.before_seq = Some(oldest.seq);
        ids.extend(page.into_iter().map(|m| m.id.into()));
    }
}
