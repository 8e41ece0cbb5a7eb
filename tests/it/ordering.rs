use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use integra::{DeliveryStatus, RegisterOptions, RetryFilter};
use serde_json::{Value, json};

use crate::support::{Receiver, Reply, TestEngine, http_config, retry, with_flow};

fn ordered_config(url: &str, former: &str, attempts: u32) -> Value {
    with_flow(
        http_config(url, &["a"]),
        json!({"code": "STOCK", "direction": "outgoing", "subscribers": ["a"], "former": former,
               "ordering": "by_key", "retry": retry(attempts)}),
    )
}

fn register(t: &TestEngine, key: &str, n: u32) -> String {
    let source = format!(r#"{{"key": "{key}", "n": {n}}}"#);
    let options = RegisterOptions::default().with_ordering_key(key.to_owned());
    t.engine
        .register("STOCK", &source, &options)
        .unwrap()
        .into()
}

fn bodies(rx: &Receiver) -> Vec<String> {
    rx.received()
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.body).unwrap();
            format!("{}{}", v["key"].as_str().unwrap(), v["n"])
        })
        .collect()
}

#[test]
fn a_failing_key_holds_back_only_itself() {
    let broken = Arc::new(AtomicBool::new(true));
    let rx = {
        let broken = Arc::clone(&broken);
        Receiver::start(move |r| {
            if broken.load(Ordering::SeqCst) && r.body.contains(r#""key": "A""#) {
                Reply::status(500)
            } else {
                Reply::ok()
            }
        })
    };
    let mut config = ordered_config(rx.url(), "none", 5);
    config["subscribers"][0]["retry"] = retry(5);
    let t = TestEngine::new(&config);
    let a1 = register(&t, "A", 1);
    register(&t, "B", 1);
    let a2 = register(&t, "A", 2);
    register(&t, "B", 2);
    register(&t, "A", 3);

    let report = t.dispatch();
    assert_eq!((report.sent, report.failed), (2, 1));
    assert_eq!(bodies(&rx), ["A1", "B1", "B2"]);
    assert_eq!(
        t.delivery(&a2, "a").status,
        DeliveryStatus::New,
        "A2 waits behind A1"
    );

    broken.store(false, Ordering::SeqCst);
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().sent, 3);
    assert_eq!(bodies(&rx), ["A1", "B1", "B2", "A1", "A2", "A3"]);
    assert_eq!(t.delivery(&a1, "a").attempts, 2);
}

#[test]
fn registration_order_holds_even_when_forming_finishes_out_of_order() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&ordered_config(rx.url(), "external", 5));
    let first = register(&t, "K", 1);
    let second = register(&t, "K", 2);
    let items = t.engine.next_to_form(10, Duration::from_secs(30)).unwrap();
    assert_eq!(items.len(), 2);
    t.engine
        .complete_forming(&second, r#"{"key": "K", "n": 2}"#)
        .unwrap();
    assert_eq!(t.dispatch().sent, 0, "the first message is not formed yet");
    t.engine
        .complete_forming(&first, r#"{"key": "K", "n": 1}"#)
        .unwrap();
    assert_eq!(t.dispatch().sent, 2);
    assert_eq!(bodies(&rx), ["K1", "K2"]);
}

#[test]
fn a_dead_head_parks_its_key_until_re_driven() {
    let broken = Arc::new(AtomicBool::new(true));
    let rx = {
        let broken = Arc::clone(&broken);
        Receiver::start(move |_| {
            if broken.load(Ordering::SeqCst) {
                Reply::status(500)
            } else {
                Reply::ok()
            }
        })
    };
    let mut config = ordered_config(rx.url(), "none", 5);
    config["subscribers"][0]["retry"] = retry(1);
    let t = TestEngine::new(&config);
    let head = register(&t, "A", 1);
    let next = register(&t, "A", 2);
    assert_eq!(t.dispatch().dead, 1);
    broken.store(false, Ordering::SeqCst);
    t.advance(Duration::from_secs(60));
    assert_eq!(
        t.dispatch().total(),
        0,
        "the key is parked behind its dead head"
    );
    assert_eq!(t.delivery(&next, "a").status, DeliveryStatus::New);

    let filter = RetryFilter::default().with_id(head.clone());
    assert_eq!(t.engine.retry(&filter, "the WMS is fixed").unwrap(), 1);
    assert_eq!(t.dispatch().sent, 2);
    assert_eq!(bodies(&rx), ["A1", "A1", "A2"]);
}

/// Issue 15: an ordering key given on a flow without `"ordering": "by_key"` is kept (it is in
/// the message's status, and the transports that have a place for it carry it) but orders
/// nothing: a failing message does not hold back a later one with the same key, nor does one
/// still being formed.
#[test]
fn an_ordering_key_on_an_unordered_flow_is_kept_but_orders_nothing() {
    let rx = Receiver::start(|r| {
        if r.body.contains(r#""n": 1"#) {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "STOCK", "direction": "outgoing", "subscribers": ["a"],
               "former": "external", "retry": retry(5)}),
    );
    let t = TestEngine::new(&config);
    let keyed = RegisterOptions::default().with_ordering_key("customer-7");
    let first = t.engine.register("ORDERS", r#"{"n": 1}"#, &keyed).unwrap();
    let second = t.engine.register("ORDERS", r#"{"n": 2}"#, &keyed).unwrap();
    for id in [&first, &second] {
        assert_eq!(
            t.engine.message_status(id).unwrap().ordering_key.as_deref(),
            Some("customer-7"),
            "the key is kept and shown"
        );
    }
    let report = t.dispatch();
    assert_eq!((report.sent, report.failed), (1, 1));
    assert_eq!(t.delivery(&first, "a").status, DeliveryStatus::SendError);
    assert_eq!(
        t.delivery(&second, "a").status,
        DeliveryStatus::Sent,
        "not held back behind the failing message with the same key"
    );

    let formed_first = t.engine.register("STOCK", r#"{"n": 3}"#, &keyed).unwrap();
    let formed_second = t.engine.register("STOCK", r#"{"n": 4}"#, &keyed).unwrap();
    assert_eq!(
        t.engine
            .next_to_form(10, Duration::from_secs(30))
            .unwrap()
            .len(),
        2
    );
    t.engine
        .complete_forming(&formed_second, r#"{"n": 4}"#)
        .unwrap();
    assert_eq!(
        t.dispatch().sent,
        1,
        "not held back behind a message with the same key still being formed"
    );
    assert_eq!(
        t.engine
            .message_status(&formed_first)
            .unwrap()
            .ordering_key
            .as_deref(),
        Some("customer-7")
    );
}
