//! A receiver that goes away, then answers 503 for a while, then comes back: the background
//! dispatcher drains the backlog by itself, nothing is lost, nothing is Dead, and nothing
//! that was refused counts as delivered.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use integra::{DispatcherOptions, ListFilter, RegisterOptions};

use super::{
    CountingReceiver, engine_on_system_clock, quick_retry_config, scale, sent_of_total,
    wait_until_all_sent,
};
use crate::support::brokers::free_port;

#[test]
fn the_backlog_of_an_outage_drains_by_itself() {
    let per_phase = 100 * scale();
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let (_dir, engine) = engine_on_system_clock(&quick_retry_config(&format!("http://{address}")));
    engine
        .start_dispatcher(
            DispatcherOptions::default().with_poll_interval(Duration::from_millis(50)),
        )
        .unwrap();
    let mut registered = HashSet::new();
    let mut register = |n: usize| {
        for i in 0..n {
            let id = engine
                .register(
                    "ORDERS",
                    &format!(r#"{{"n": {i}}}"#),
                    &RegisterOptions::default(),
                )
                .unwrap();
            registered.insert(id.into());
        }
    };

    // Down: nothing listens.
    let down = Instant::now();
    register(per_phase);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sent_of_total(&engine).0, 0, "sent while nothing listened");

    // Up, but failing: 503 to everything.
    let rx = CountingReceiver::start_on(&address);
    rx.refuse(true);
    register(per_phase);
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        rx.requests() > 0,
        "the retries reached the failing receiver"
    );
    assert_eq!(
        sent_of_total(&engine).0,
        0,
        "sent while the receiver answered 503"
    );

    // Back: the backlog drains with nobody calling anything, while more arrives.
    rx.refuse(false);
    let outage = down.elapsed();
    register(per_phase);
    let drained = wait_until_all_sent(&engine, Duration::from_secs(60), "the receiver came back");
    engine.stop_dispatcher();

    let tally = rx.tally(&registered);
    println!(
        "outage: {} messages registered through {:.1} s of outage, {} lost, {} duplicates, \
         drained {:.1} s after the receiver came back",
        registered.len(),
        outage.as_secs_f64(),
        tally.lost.len(),
        tally.duplicates,
        drained.as_secs_f64()
    );
    assert!(tally.lost.is_empty(), "lost: {:?}", tally.lost);
    assert_eq!(tally.delivered, registered.len());
    assert_eq!(
        tally.duplicates, 0,
        "a message accepted once was sent again"
    );
    let dead = engine
        .list_messages(&ListFilter::default().with_delivery_status(integra::DeliveryStatus::Dead))
        .unwrap();
    assert!(dead.is_empty(), "an outage made messages Dead");
}
