//! The store under concurrency: group commit from many threads, FULL durability, and a
//! failing write inside a shared commit.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use integra::{Durability, Engine, EngineOptions, Error, RegisterOptions};

use crate::support::{Receiver, http_config};

#[test]
fn concurrent_durable_writers_share_commits_and_lose_nothing() {
    let rx = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions::default().with_durability(Durability::Full);
    let engine = Engine::open(dir.path().join("full.db"), options).unwrap();
    engine
        .load_config_json(&http_config(rx.url(), &["a"]).to_string())
        .unwrap();

    let threads = 8;
    let per_thread = 40;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, barrier) = (engine.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut ids = Vec::new();
                let mut refused = 0;
                for i in 0..per_thread {
                    // Every fifth write fails inside whatever batch it lands in.
                    let flow = if i % 5 == 4 { "NO_SUCH_FLOW" } else { "ORDERS" };
                    match engine.register(
                        flow,
                        &format!(r#"{{"t": {t}, "i": {i}}}"#),
                        &RegisterOptions::default(),
                    ) {
                        Ok(id) => ids.push(id),
                        Err(Error::UnknownFlow { .. }) => refused += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                (ids, refused)
            })
        })
        .collect();
    let mut ids = Vec::new();
    let mut refused = 0;
    for h in handles {
        let (i, r) = h.join().unwrap();
        ids.extend(i);
        refused += r;
    }
    assert_eq!(refused, threads * per_thread / 5);
    let expected = threads * per_thread * 4 / 5;
    assert_eq!(ids.len(), expected);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected, "ids are unique");

    // Reopened from the file, every registered message is there, and goes out.
    drop(engine);
    let engine = Engine::open(dir.path().join("full.db"), EngineOptions::default()).unwrap();
    assert_eq!(
        engine.counts().unwrap().messages[&integra::MessageStatus::Dispatched],
        expected as u64
    );
    let report = engine
        .dispatch(usize::MAX, Duration::from_secs(60))
        .unwrap();
    assert_eq!(report.sent, expected as u64);
    assert_eq!(rx.received().len(), expected);
}

/// Under a steady stream of writes the WAL starts over instead of growing: the writer
/// finishes the checkpoint itself once the WAL reaches 4,000 frames (16 MB at 4 KB pages),
/// and waits for the checkpoint thread at 8,000 when that thread is still copying (its
/// flush can stall for a third of a second on a busy disk, long enough for the writer to
/// add 30,000 frames: issue 15's CI runs). 6,000 registrations write some 55,000 frames,
/// over 200 MB if the WAL never started over.
#[test]
fn the_wal_stays_short_under_a_steady_stream_of_writes() {
    let rx = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    engine
        .load_config_json(&http_config(rx.url(), &["a"]).to_string())
        .unwrap();
    let source = format!(r#"{{"filler": "{}"}}"#, "x".repeat(1000));
    let wal = dir.path().join("wal.db-wal");
    let mut largest = 0;
    for _ in 0..6000 {
        engine
            .register("ORDERS", &source, &RegisterOptions::default())
            .unwrap();
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    assert!(largest < 36 << 20, "the WAL reached {} MB", largest >> 20);
    assert_eq!(
        engine.counts().unwrap().messages[&integra::MessageStatus::Dispatched],
        6000
    );
}
