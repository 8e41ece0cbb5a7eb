//! The background dispatcher: wakes on registration, works in parallel, backs off, stops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use integra::{DispatcherOptions, Error, FormOutcome, MessageStatus, RegisterOptions};
use serde_json::json;

use crate::support::{Receiver, Reply, TestEngine, http_config, wait_until, with_flow};

fn sent(t: &TestEngine) -> u64 {
    t.engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0)
}

#[test]
fn registered_messages_are_delivered_without_anyone_calling_dispatch() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&http_config(rx.url(), &["a", "b"]));
    t.engine
        .start_dispatcher(DispatcherOptions::default())
        .unwrap();
    assert!(matches!(
        t.engine.start_dispatcher(DispatcherOptions::default()),
        Err(Error::DispatcherRunning)
    ));
    for i in 0..300 {
        t.engine
            .register(
                "ORDERS",
                &format!(r#"{{"i": {i}}}"#),
                &RegisterOptions::default(),
            )
            .unwrap();
    }
    let start = Instant::now();
    while sent(&t) < 300 {
        if start.elapsed() > Duration::from_secs(30) {
            let failed = t
                .engine
                .list_messages(
                    &integra::ListFilter::default()
                        .with_delivery_status(integra::DeliveryStatus::SendError),
                )
                .unwrap();
            let errors: Vec<_> = failed
                .iter()
                .flat_map(|m| t.engine.message_status(&m.id).unwrap().deliveries)
                .collect();
            panic!(
                "{:?}; received {}; failed deliveries: {errors:?}",
                t.engine.counts().unwrap(),
                rx.received().len()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(rx.received().len(), 600);
    assert!(t.engine.stop_dispatcher());
    assert!(!t.engine.dispatcher_running());
    assert!(!t.engine.stop_dispatcher());
}

#[test]
fn rust_formers_run_on_several_threads_at_once() {
    let rx = Receiver::ok();
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "handler"}),
    );
    let t = TestEngine::new(&config);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (Arc::clone(&running), Arc::clone(&most));
    t.engine
        .set_former("DOCS", move |item: &integra::FormingItem| {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            r.fetch_sub(1, Ordering::SeqCst);
            FormOutcome::Payload(json!({"formed": item.id}))
        })
        .unwrap();
    for _ in 0..16 {
        t.engine
            .register("DOCS", "{}", &RegisterOptions::default())
            .unwrap();
    }
    let options = DispatcherOptions::default().with_threads(4);
    t.engine.start_dispatcher(options).unwrap();
    wait_until("all formed and sent", Duration::from_secs(20), || {
        sent(&t) == 16
    });
    t.engine.stop_dispatcher();
    assert!(
        most.load(Ordering::SeqCst) >= 2,
        "formers ran one at a time"
    );
}

#[test]
fn a_retry_waits_for_its_time_then_goes_by_itself() {
    let rx = Receiver::start(|_| Reply::status(500));
    let t = TestEngine::new(&http_config(rx.url(), &["a"]));
    let options = DispatcherOptions::default().with_poll_interval(Duration::from_millis(20));
    t.engine.start_dispatcher(options).unwrap();
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    rx.wait_for(1, Duration::from_secs(10));
    rx.set_behaviour(|_| Reply::ok());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        rx.received().len(),
        1,
        "nothing happens before the backoff ends"
    );
    t.advance(Duration::from_secs(1));
    wait_until("the retry", Duration::from_secs(10), || {
        t.status(&id) == MessageStatus::Sent
    });
    t.engine.stop_dispatcher();
}

#[test]
fn stop_does_not_wait_forever_for_a_hanging_send() {
    let rx = Receiver::start(|_| Reply::ok().delay(Duration::from_secs(20)));
    let t = TestEngine::new(&http_config(rx.url(), &["a"]));
    let options = DispatcherOptions::default().with_stop_grace(Duration::from_millis(200));
    t.engine.start_dispatcher(options).unwrap();
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    rx.wait_for(1, Duration::from_secs(10));
    let started = Instant::now();
    t.engine.stop_dispatcher();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop hung: {:?}",
        started.elapsed()
    );
    assert_eq!(
        t.delivery(&id, "a").status,
        integra::DeliveryStatus::InProgress,
        "left to its lease, to be retried"
    );
}

#[test]
fn dispatcher_options_are_checked() {
    let t = TestEngine::new(&json!({}));
    let err = t
        .engine
        .start_dispatcher(DispatcherOptions::default().with_threads(0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid threads: must be between 1 and 256"
    );
    assert!(!t.engine.dispatcher_running());
}

/// Stopping the dispatcher behind a subscriber that never answers takes one grace period,
/// not one for the scheduler and another for the workers (issue 15). The bound is the
/// behaviour under test: the stop sleeps, it does not compute, so load cannot stretch it
/// past the margin.
#[test]
fn a_stop_behind_a_subscriber_that_never_answers_takes_one_grace_period() {
    let rx = Receiver::start(|_| Reply::ok().delay(Duration::from_secs(60)));
    let mut config = http_config(rx.url(), &["a"]);
    config["endpoints"][0]["read_timeout"] = json!("2m");
    let t = TestEngine::new(&config);
    let grace = Duration::from_secs(2);
    t.engine
        .start_dispatcher(DispatcherOptions::default().with_stop_grace(grace))
        .unwrap();
    t.engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    wait_until("the delivery is in flight", Duration::from_secs(10), || {
        !rx.received().is_empty()
    });
    let started = Instant::now();
    assert!(t.engine.stop_dispatcher());
    let took = started.elapsed();
    assert!(took >= grace, "it did not wait for the send: {took:?}");
    assert!(
        took < grace + grace / 2,
        "the stop took {took:?}, over one grace period of {grace:?}"
    );
}
