//! An engine that registers and dispatches, killed with SIGKILL at random moments and
//! started again, trial after trial: nothing registered is lost, and the duplicates one
//! kill can cause are bounded by the dispatcher's claim batch.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use integra::{DispatcherOptions, Engine, EngineOptions};

use super::{
    CountingReceiver, assert_intact, engine_on_system_clock, quick_retry_config, scale, seed,
    sent_of_total, wait_until_all_sent,
};
use crate::support::child;

/// The lease the killed engines take: short, so what they held comes back during the run.
const LEASE: Duration = Duration::from_secs(1);

#[test]
fn an_engine_killed_at_random_moments_loses_nothing() {
    let trials = 100 * scale();
    let seed = seed();
    let mut rng = fastrand::Rng::with_seed(seed);
    let rx = CountingReceiver::start();
    let (dir, engine) = engine_on_system_clock(&quick_retry_config(rx.url()));
    drop(engine);
    let db = crate::support::database(dir.path()).display().to_string();

    let mut acknowledged = HashSet::new();
    for trial in 0..trials {
        rx.set_round(trial);
        let mut worker = child::spawn_with_stdout(
            "crash_worker",
            &[
                ("DB", db.clone()),
                ("LEASE_MS", LEASE.as_millis().to_string()),
                ("PACE_US", "2000".to_owned()),
            ],
            Stdio::piped(),
        );
        let stdout = worker.stdout.take().unwrap();
        let acks = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| line.strip_prefix("ACK ").map(str::to_owned))
                .collect::<Vec<_>>()
        });
        // From before the engine has opened to well into its dispatching.
        std::thread::sleep(Duration::from_millis(rng.u64(5..400)));
        worker.kill().unwrap();
        let status = worker.wait().unwrap();
        assert!(
            std::os::unix::process::ExitStatusExt::signal(&status) == Some(9),
            "trial {trial}: the worker ended before it was killed ({status}; seed {seed})"
        );
        acknowledged.extend(acks.join().unwrap());
    }

    // One last engine, never killed, finishes what the killed ones left.
    rx.set_round(trials);
    let options = EngineOptions::default().with_lease(LEASE);
    let engine = Engine::open(&db, options).unwrap();
    engine
        .start_dispatcher(
            DispatcherOptions::default().with_poll_interval(Duration::from_millis(50)),
        )
        .unwrap();
    wait_until_all_sent(
        &engine,
        Duration::from_secs(120),
        &format!("the last kill (seed {seed})"),
    );
    engine.stop_dispatcher();
    assert_intact(&engine);
    let (_, total) = sent_of_total(&engine);

    let tally = rx.tally(&acknowledged);
    let batch = DispatcherOptions::default().batch;
    println!(
        "crash loop: {trials} SIGKILLs (seed {seed}), {total} messages registered \
         ({} acknowledged before a kill), {} lost, {} duplicates, at most {} after one kill \
         (claim batch {batch})",
        acknowledged.len(),
        tally.lost.len(),
        tally.duplicates,
        tally.most_duplicates_in_a_round,
    );
    assert!(
        tally.lost.is_empty(),
        "lost (seed {seed}): {:?}",
        tally.lost
    );
    assert_eq!(
        tally.delivered as u64, total,
        "every message the file holds was delivered, and nothing else"
    );
    assert!(
        tally.most_duplicates_in_a_round <= batch,
        "one kill caused {} duplicates, more than the claim batch {batch} (seed {seed})",
        tally.most_duplicates_in_a_round
    );
}
