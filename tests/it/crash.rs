//! Leases and crashes: work held by a process that dies is taken back, and work that keeps
//! killing its process ends Dead instead of looping. (Many kills in a row, outages and
//! several processes on one file are in `faults`.)

use std::time::Duration;

use integra::{DeliveryStatus, MessageStatus, RegisterOptions};
use serde_json::json;

use crate::support::{Receiver, Reply, T0, TestEngine, child, http_config, retry, with_flow};

#[test]
fn a_delivery_held_by_a_killed_process_is_delivered_after_its_lease() {
    let first = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let rx = {
        let first = std::sync::Arc::clone(&first);
        Receiver::start(move |_| {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                Reply::ok().delay(Duration::from_secs(30))
            } else {
                Reply::ok()
            }
        })
    };
    let t = TestEngine::new(&http_config(rx.url(), &["a"]));
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();

    let db = t.database.clone().display().to_string();
    let mut process = child::spawn("dispatch", &[("DB", db), ("CLOCK_MS", T0.to_string())]);
    rx.wait_for(1, Duration::from_secs(20));
    process.kill().unwrap();
    process.wait().unwrap();
    assert_eq!(t.delivery(&id, "a").status, DeliveryStatus::InProgress);

    assert_eq!(t.dispatch().total(), 0, "the lease still holds");
    t.advance(Duration::from_secs(61));
    assert_eq!(t.dispatch().total(), 0, "taken back, then backing off");
    let d = t.delivery(&id, "a");
    assert_eq!((d.status, d.attempts), (DeliveryStatus::SendError, 1));
    assert!(d.last_error.unwrap().starts_with("lease expired"));
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.delivery(&id, "a").attempts, 2);
    assert_eq!(t.status(&id), MessageStatus::Sent);
    assert_eq!(
        rx.received().len(),
        2,
        "delivered twice: at least once, the duplicate counted"
    );
}

#[test]
fn work_that_never_finishes_ends_dead_instead_of_looping() {
    let config = with_flow(
        http_config("http://127.0.0.1:1", &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external",
               "retry": retry(2)}),
    );
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register("DOCS", "{}", &RegisterOptions::default())
        .unwrap();
    let lease = Duration::from_secs(10);
    for attempt in 1..=2 {
        let items = t.engine.next_to_form(1, lease).unwrap();
        assert_eq!(items[0].attempt, attempt);
        // The former "crashes": it never reports back. Its lease expires and the message is
        // taken back, then backs off.
        t.advance(lease + Duration::from_secs(1));
        assert!(t.engine.next_to_form(1, lease).unwrap().is_empty());
        t.advance(Duration::from_secs(2));
    }
    assert!(t.engine.next_to_form(1, lease).unwrap().is_empty());
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(m.status, MessageStatus::Dead);
    assert!(m.last_error.unwrap().starts_with("lease expired"));
}
