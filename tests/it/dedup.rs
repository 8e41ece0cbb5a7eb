use std::time::Duration;

use integra::{DeliveryStatus, FormOutcome, MessageStatus, RegisterOptions};
use serde_json::json;

use crate::support::{Receiver, Reply, TestEngine, http_config, with_flow};

const LEASE: Duration = Duration::from_secs(30);

fn external_flow(url: &str) -> serde_json::Value {
    with_flow(
        http_config(url, &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    )
}

#[test]
fn registrations_for_a_waiting_object_join_it() {
    let t = TestEngine::new(&external_flow("http://127.0.0.1:1"));
    let key = RegisterOptions::object_key("order-7");
    let first = t.engine.register("DOCS", r#"{"v": 1}"#, &key).unwrap();
    let second = t.engine.register("DOCS", r#"{"v": 2}"#, &key).unwrap();
    assert_eq!(
        first, second,
        "a waiting message absorbs the new registration"
    );
    let other = t
        .engine
        .register("DOCS", "{}", &RegisterOptions::object_key("order-8"))
        .unwrap();
    assert_ne!(first, other);
    let forced = key.clone().with_allow_duplicate(true);
    let duplicate = t.engine.register("DOCS", r#"{"v": 3}"#, &forced).unwrap();
    assert_ne!(first, duplicate, "allow_duplicate queues a second message");

    let m = t.engine.message_status(&first).unwrap();
    assert_eq!(m.source.get(), r#"{"v": 2}"#, "the latest source wins");
    let note = m.history.last().unwrap().detail.clone().unwrap();
    assert!(note.contains("joined"), "{note}");

    // Once its former has it, a new registration is a new message.
    let items = t.engine.next_to_form(10, LEASE).unwrap();
    assert_eq!(items.len(), 3);
    let later = t.engine.register("DOCS", r#"{"v": 4}"#, &key).unwrap();
    assert_ne!(later, first);
    // Batches coalesce within themselves too.
    let ids = t
        .engine
        .register_batch(
            "DOCS",
            vec![
                integra::Registration {
                    source: "{}".into(),
                    options: RegisterOptions::object_key("k9"),
                },
                integra::Registration {
                    source: "{}".into(),
                    options: RegisterOptions::object_key("k9"),
                },
            ],
        )
        .unwrap();
    assert_eq!(ids[0], ids[1]);
}

fn form(t: &TestEngine, key: &str, payload: &str, allow_duplicate: bool) -> String {
    let options = RegisterOptions::object_key(key).with_allow_duplicate(allow_duplicate);
    let id = t
        .engine
        .register("DOCS", r#"{"ref": "x"}"#, &options)
        .unwrap();
    let items = t.engine.next_to_form(10, LEASE).unwrap();
    assert!(items.iter().any(|i| i.id == id));
    t.engine.complete_forming(&id, payload).unwrap();
    id.into()
}

#[test]
fn unchanged_content_is_not_sent_again() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&external_flow(rx.url()));
    let first = form(&t, "doc-1", r#"{"doc": 1, "lines": [{"qty": 2}]}"#, false);
    assert_eq!(t.dispatch().sent, 1);

    // The same content, in another key order and layout.
    let same = form(
        &t,
        "doc-1",
        r#"{ "lines": [ {"qty": 2} ], "doc": 1 }"#,
        false,
    );
    let report = t.dispatch();
    assert_eq!((report.sent, report.unchanged), (0, 1));
    assert_eq!(t.delivery(&same, "a").status, DeliveryStatus::Unchanged);
    assert_eq!(t.status(&same), MessageStatus::Sent);
    assert_eq!(
        t.engine.message_status(&same).unwrap().deliveries[0].status_1c,
        "Отправлен"
    );

    let changed = form(&t, "doc-1", r#"{"doc": 1, "lines": [{"qty": 3}]}"#, false);
    let forced = form(&t, "doc-1", r#"{"doc": 1, "lines": [{"qty": 3}]}"#, true);
    let other_object = form(&t, "doc-2", r#"{"doc": 1, "lines": [{"qty": 3}]}"#, false);
    assert_eq!(t.dispatch().sent, 3);
    for id in [&first, &changed, &forced, &other_object] {
        assert_eq!(t.delivery(id, "a").status, DeliveryStatus::Sent);
    }
    assert_eq!(rx.received().len(), 4);
}

#[test]
fn the_hash_is_recorded_at_delivery_not_at_registration() {
    let rx = Receiver::start(|_| Reply::status(503));
    let t = TestEngine::new(&external_flow(rx.url()));
    let failed = form(&t, "doc-1", r#"{"v": 1}"#, false);
    assert_eq!(t.dispatch().failed, 1);
    // Nothing was delivered yet, so the same content is not "unchanged".
    rx.set_behaviour(|_| Reply::ok());
    let again = form(&t, "doc-1", r#"{"v": 1}"#, false);
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.delivery(&again, "a").status, DeliveryStatus::Sent);
    // The first one's retry now finds its content already delivered.
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().unchanged, 1);
    assert_eq!(t.delivery(&failed, "a").status, DeliveryStatus::Unchanged);
}

#[test]
fn a_reference_only_source_on_a_pass_through_flow_is_always_sent() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&http_config(rx.url(), &["a"]));
    let key = RegisterOptions::object_key("doc-1");
    let a = t
        .engine
        .register("ORDERS", r#"{"ref": "doc-1"}"#, &key)
        .unwrap();
    let b = t
        .engine
        .register("ORDERS", r#"{"ref": "doc-1"}"#, &key)
        .unwrap();
    assert_ne!(
        a, b,
        "pass-through messages never wait, so they never coalesce"
    );
    assert_eq!(
        t.dispatch().sent,
        2,
        "a change behind a reference is not a duplicate"
    );
}

#[test]
fn rust_formers_run_in_the_dispatcher() {
    let rx = Receiver::ok();
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "handler",
               "retry": crate::support::retry(2)}),
    );
    let t = TestEngine::new(&config);
    let good = t
        .engine
        .register("DOCS", r#"{"n": 2}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(
        t.dispatch().total(),
        0,
        "no former registered in this process: nothing happens"
    );

    t.engine
        .set_former("DOCS", |item: &integra::FormingItem| {
            let source: serde_json::Value = serde_json::from_str(&item.source).unwrap();
            match source["n"].as_i64() {
                Some(0) => FormOutcome::Cancel("object deleted".into()),
                Some(1) => panic!("a bug in the former"),
                Some(n) => FormOutcome::Payload(json!({"square": n * n})),
                None => FormOutcome::Fail("no n".into()),
            }
        })
        .unwrap();
    let gone = t
        .engine
        .register("DOCS", r#"{"n": 0}"#, &RegisterOptions::default())
        .unwrap();
    let buggy = t
        .engine
        .register("DOCS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    let bad = t
        .engine
        .register("DOCS", r#"{}"#, &RegisterOptions::default())
        .unwrap();
    let report = t.dispatch();
    assert_eq!(
        (
            report.formed,
            report.cancelled,
            report.forming_failed,
            report.sent
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(rx.received()[0].body, r#"{"square":4}"#);
    assert_eq!(t.status(&good), MessageStatus::Sent);
    assert_eq!(t.status(&gone), MessageStatus::Cancelled);
    let m = t.engine.message_status(&buggy).unwrap();
    assert_eq!(m.status, MessageStatus::FormingError);
    assert_eq!(
        m.last_error.as_deref(),
        Some("the former of flow 'DOCS' panicked")
    );
    assert_eq!(
        t.engine.message_status(&bad).unwrap().last_error.as_deref(),
        Some("no n")
    );

    let err = t
        .engine
        .set_former("ORDERS", |_: &integra::FormingItem| {
            FormOutcome::Fail("x".into())
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "flow 'ORDERS' is formed by nobody (pass-through), not a Rust handler"
    );
}
