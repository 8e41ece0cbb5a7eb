use std::collections::BTreeMap;
use std::time::Duration;

use integra::{Error, IncomingStatus};
use serde_json::{Value, json};

use crate::support::{TestEngine, http_config, retry, with_flow};

const LEASE: Duration = Duration::from_secs(30);

fn config() -> Value {
    let c = with_flow(
        http_config("http://127.0.0.1:1", &["a"]),
        json!({"code": "IN", "direction": "incoming", "retry": retry(2)}),
    );
    with_flow(
        c,
        json!({"code": "QUIET", "direction": "incoming", "active": false}),
    )
}

fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn each_message_id_is_stored_once() {
    let t = TestEngine::new(&config());
    let first = t
        .engine
        .accept(
            "IN",
            "a7f3",
            r#"{"n": 1}"#,
            &headers(&[("X-Source", "shop")]),
        )
        .unwrap();
    assert!(!first.duplicate);
    let repeat = t
        .engine
        .accept("IN", "a7f3", r#"{"n": 2}"#, &BTreeMap::new())
        .unwrap();
    assert_eq!(
        (repeat.id.as_str(), repeat.duplicate),
        (first.id.as_str(), true)
    );
    assert_eq!(
        t.engine.counts().unwrap().incoming[&integra::IncomingStatus::New],
        1
    );

    let items = t.engine.next_incoming(10, LEASE).unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(
        (
            item.flow.as_str(),
            item.message_id.as_str(),
            item.payload.as_str()
        ),
        ("IN", "a7f3", r#"{"n": 1}"#)
    );
    assert_eq!(item.headers["x-source"], "shop");
    assert_eq!(item.attempt, 1);
    assert!(
        t.engine.next_incoming(10, LEASE).unwrap().is_empty(),
        "claimed once"
    );
    t.engine.ack_incoming(&item.id).unwrap();
    let report = t.engine.incoming_status(&item.id).unwrap();
    assert_eq!(
        (report.status, report.status_1c),
        (IncomingStatus::Processed, "Обработан")
    );
    let statuses: Vec<_> = report.history.iter().map(|h| h.status.as_str()).collect();
    assert_eq!(statuses, ["new", "in_progress", "processed"]);
    assert!(
        t.engine
            .accept("IN", "a7f3", "{}", &BTreeMap::new())
            .unwrap()
            .duplicate
    );
    let err = t.engine.ack_incoming(&item.id).unwrap_err();
    assert!(matches!(err, Error::WrongStatus { .. }), "{err}");
}

#[test]
fn failed_processing_backs_off_then_dies_and_can_be_re_driven() {
    let t = TestEngine::new(&config());
    let id = t
        .engine
        .accept("IN", "m1", "{}", &BTreeMap::new())
        .unwrap()
        .id;
    t.engine.next_incoming(1, LEASE).unwrap();
    t.engine.fail_incoming(&id, "no such item").unwrap();
    let r = t.engine.incoming_status(&id).unwrap();
    assert_eq!(
        (r.status, r.last_error.as_deref()),
        (IncomingStatus::Error, Some("no such item"))
    );
    assert!(t.engine.next_incoming(1, LEASE).unwrap().is_empty());
    t.advance(Duration::from_secs(1));
    assert_eq!(t.engine.next_incoming(1, LEASE).unwrap()[0].attempt, 2);
    t.engine.fail_incoming(&id, "still no such item").unwrap();
    assert_eq!(
        t.engine.incoming_status(&id).unwrap().status,
        IncomingStatus::Dead
    );

    let filter = integra::RetryFilter::default().with_flow("IN");
    assert_eq!(t.engine.retry_incoming(&filter, "item created").unwrap(), 1);
    let item = t.engine.next_incoming(1, LEASE).unwrap().pop().unwrap();
    assert_eq!(item.attempt, 1);
    t.engine.ack_incoming(&item.id).unwrap();
}

#[test]
fn an_expired_processing_lease_is_taken_back() {
    let t = TestEngine::new(&config());
    let id = t
        .engine
        .accept("IN", "m1", "{}", &BTreeMap::new())
        .unwrap()
        .id;
    t.engine.next_incoming(1, LEASE).unwrap();
    t.advance(LEASE + Duration::from_secs(1));
    let r = t.engine.incoming_status(&id).unwrap();
    assert_eq!(
        r.status,
        IncomingStatus::InProgress,
        "nothing happens until someone looks"
    );
    assert!(
        t.engine.next_incoming(1, LEASE).unwrap().is_empty(),
        "taken back, then backing off"
    );
    assert_eq!(
        t.engine.incoming_status(&id).unwrap().status,
        IncomingStatus::Error
    );
    t.advance(Duration::from_secs(1));
    let again = t.engine.next_incoming(1, LEASE).unwrap();
    assert_eq!((again[0].id.as_str(), again[0].attempt), (id.as_str(), 2));
    let hist = t.engine.incoming_status(&id).unwrap().history;
    assert!(hist.iter().any(|h| {
        h.detail
            .as_deref()
            .is_some_and(|d| d.starts_with("lease expired"))
    }));
}

#[test]
fn xml_is_stored_as_text_and_bad_input_is_refused() {
    let t = TestEngine::new(&config());
    let xml = headers(&[("Content-Type", "application/xml; charset=utf-8")]);
    let id = t
        .engine
        .accept("IN", "x1", "<order><n>1</n></order>", &xml)
        .unwrap()
        .id;
    let r = t.engine.incoming_status(&id).unwrap();
    assert_eq!(
        (r.payload.as_str(), r.content_type.as_str()),
        ("<order><n>1</n></order>", "application/xml; charset=utf-8")
    );

    let e = &t.engine;
    let none = BTreeMap::new();
    let cases: Vec<(Result<_, _>, &str)> = vec![
        (e.accept("NOPE", "1", "{}", &none), "unknown flow 'NOPE'"),
        (
            e.accept("ORDERS", "1", "{}", &none),
            "flow 'ORDERS' is outgoing, so it cannot be used to accept incoming messages",
        ),
        (
            e.accept("QUIET", "1", "{}", &none),
            "flow 'QUIET' is inactive",
        ),
        (
            e.accept("IN", "", "{}", &none),
            "invalid message id: must be 1 to 200 characters without control characters",
        ),
        (
            e.accept("IN", "2", "{oops", &none),
            "the body of incoming message '2' for flow 'IN' is not valid JSON: key must be a string at line 1 column 2",
        ),
        (e.accept("IN", "3", "  ", &xml), "invalid body: is empty"),
        (
            e.accept("IN", "4", "x", &headers(&[("content-type", "image/png")])),
            "invalid content type: 'image/png' is not supported; send JSON or XML",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err().to_string(), expected);
    }
    assert_eq!(
        e.counts().unwrap().incoming.values().sum::<u64>(),
        1,
        "nothing else was stored"
    );
}
