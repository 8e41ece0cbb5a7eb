use std::time::Duration;

use integra::{DeliveryStatus, Error, MessageStatus, RegisterOptions};
use serde_json::json;

use crate::support::{Receiver, Reply, TestEngine, h, history, http_config, retry, with_flow};

fn by(subscriber: &str, hist: &[(String, String)]) -> Vec<String> {
    hist.iter()
        .filter(|(s, _)| s == subscriber)
        .map(|(_, st)| st.clone())
        .collect()
}

#[test]
fn pass_through_message_reaches_every_subscriber() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&http_config(rx.url(), &["a", "b"]));
    let source = r#"{"number": "A-1", "sum": 10.5, "customer": "ООО Ромашка"}"#;
    let id = t
        .engine
        .register("ORDERS", source, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.status(&id), MessageStatus::Dispatched);
    assert_eq!(t.delivery(&id, "a").status, DeliveryStatus::New);

    let report = t.dispatch();
    assert_eq!((report.sent, report.failed, report.total()), (2, 0, 2));
    assert_eq!(t.status(&id), MessageStatus::Sent);

    let got = rx.received();
    assert_eq!(got.len(), 2);
    let mut paths: Vec<_> = got.iter().map(|r| r.url.clone()).collect();
    paths.sort();
    assert_eq!(paths, ["/a", "/b"]);
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.body, source);
        assert_eq!(r.header("X-Message-ID"), Some(id.as_str()));
        assert_eq!(r.header("X-Flow"), Some("ORDERS"));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
    }

    let hist = history(&t.engine, &id);
    assert_eq!(by("", &hist), ["new", "ready", "dispatched", "sent"]);
    for s in ["a", "b"] {
        assert_eq!(by(s, &hist), ["new", "in_progress", "sent"]);
    }
    let report = t.engine.message_status(&id).unwrap();
    assert_eq!(report.status_1c, "Отправлено");
    assert_eq!(report.payload.unwrap().get(), source);
}

#[test]
fn external_former_forms_then_fan_out_sends_the_payload() {
    let rx = Receiver::ok();
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    );
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register(
            "DOCS",
            r#"{"ref": "e1f0"}"#,
            &RegisterOptions::object_key("e1f0"),
        )
        .unwrap();
    assert_eq!(t.status(&id), MessageStatus::New);
    assert_eq!(t.dispatch().total(), 0, "nothing is sent before forming");

    let items = t.engine.next_to_form(10, Duration::from_secs(30)).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0].id.as_str(),
            items[0].flow.as_str(),
            items[0].attempt
        ),
        (id.as_str(), "DOCS", 1)
    );
    assert_eq!(items[0].source, r#"{"ref": "e1f0"}"#);
    assert_eq!(items[0].object_key.as_deref(), Some("e1f0"));
    assert_eq!(t.status(&id), MessageStatus::Forming);
    assert!(
        t.engine
            .next_to_form(10, Duration::from_secs(30))
            .unwrap()
            .is_empty(),
        "claimed once"
    );

    t.engine
        .complete_forming(&id, r#"{"doc": "e1f0", "total": 3}"#)
        .unwrap();
    assert_eq!(t.status(&id), MessageStatus::Dispatched);
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(rx.received()[0].body, r#"{"doc": "e1f0", "total": 3}"#);
    assert_eq!(t.status(&id), MessageStatus::Sent);
    assert_eq!(
        history(&t.engine, &id),
        [
            h("", "new"),
            h("", "forming"),
            h("", "ready"),
            h("", "dispatched"),
            h("a", "new"),
            h("a", "in_progress"),
            h("a", "sent"),
            h("", "sent")
        ]
    );
}

#[test]
fn forming_failures_back_off_then_die() {
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
    let lease = Duration::from_secs(30);
    t.engine.next_to_form(1, lease).unwrap();
    t.engine
        .fail_forming(&id, "the document is locked")
        .unwrap();
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(m.status, MessageStatus::FormingError);
    assert_eq!(m.last_error.as_deref(), Some("the document is locked"));
    assert_eq!(m.next_attempt_at.as_millis(), crate::support::T0 + 1000);

    assert!(
        t.engine.next_to_form(1, lease).unwrap().is_empty(),
        "not due before the backoff"
    );
    t.advance(Duration::from_secs(1));
    let items = t.engine.next_to_form(1, lease).unwrap();
    assert_eq!(items[0].attempt, 2);
    t.engine.fail_forming(&id, "still locked").unwrap();
    assert_eq!(t.status(&id), MessageStatus::Dead);
    assert_eq!(
        t.engine.message_status(&id).unwrap().status_1c,
        "ОшибкаФормирования"
    );
    t.advance(Duration::from_secs(3600));
    assert!(
        t.engine.next_to_form(1, lease).unwrap().is_empty(),
        "dead is final"
    );

    let err = t.engine.fail_forming(&id, "again").unwrap_err();
    assert!(matches!(err, Error::WrongStatus { .. }), "{err}");
}

/// Issue 16: a Rust former that finds its message can never be formed ends it Dead at once,
/// with its reason, whatever attempts the flow allows.
#[test]
fn a_former_ends_dead_at_once_what_can_never_be_formed() {
    let config = with_flow(
        http_config("http://127.0.0.1:1", &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "handler",
               "retry": retry(5)}),
    );
    let t = TestEngine::new(&config);
    t.engine
        .set_former("DOCS", |item: &integra::FormingItem| {
            integra::FormOutcome::Dead(format!("document {} was deleted", item.source))
        })
        .unwrap();
    let id = t
        .engine
        .register("DOCS", r#""D-7""#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().forming_failed, 1);
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!((m.status, m.attempts), (MessageStatus::Dead, 1));
    assert_eq!(
        m.last_error.as_deref(),
        Some(r#"document "D-7" was deleted"#)
    );
    t.advance(Duration::from_secs(3600));
    assert_eq!(t.dispatch().total(), 0, "dead is final");
}

#[test]
fn a_former_cancels_what_has_nothing_to_send() {
    let config = with_flow(
        http_config("http://127.0.0.1:1", &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    );
    let t = TestEngine::new(&config);
    let waiting = t
        .engine
        .register("DOCS", "{}", &RegisterOptions::default())
        .unwrap();
    let claimed = t
        .engine
        .register("DOCS", "{}", &RegisterOptions::default())
        .unwrap();
    t.engine.cancel(&waiting, "never mind").unwrap();
    let items = t.engine.next_to_form(5, Duration::from_secs(30)).unwrap();
    assert_eq!(items.len(), 1);
    t.engine
        .cancel(&claimed, "the document was deleted")
        .unwrap();
    for id in [&waiting, &claimed] {
        assert_eq!(t.status(id), MessageStatus::Cancelled);
    }
    let last = t
        .engine
        .message_status(&claimed)
        .unwrap()
        .history
        .pop()
        .unwrap();
    assert_eq!(last.detail.as_deref(), Some("the document was deleted"));

    let sent = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    let err = t.engine.cancel(&sent, "too late").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("message '{sent}' is dispatched, so it cannot be cancelled")
    );
    let err = t.engine.complete_forming(&sent, "{}").unwrap_err();
    assert!(matches!(err, Error::WrongStatus { .. }), "{err}");
    let err = t.engine.cancel("no-such-id", "x").unwrap_err();
    assert!(matches!(err, Error::MessageNotFound { .. }), "{err}");
}

#[test]
fn failed_deliveries_retry_with_backoff_and_die_when_attempts_run_out() {
    let rx = Receiver::start(|r| {
        if r.url == "/a" {
            Reply::status(500).body("database is down")
        } else {
            Reply::ok()
        }
    });
    let t = TestEngine::new(&http_config(rx.url(), &["a", "b"]));
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();

    let report = t.dispatch();
    assert_eq!((report.sent, report.failed), (1, 1));
    let a = t.delivery(&id, "a");
    assert_eq!((a.status, a.attempts), (DeliveryStatus::SendError, 1));
    assert_eq!(a.next_attempt_at.as_millis(), crate::support::T0 + 1000);
    let error = a.last_error.unwrap();
    assert!(error.contains("answered 500: database is down"), "{error}");
    assert_eq!(t.status(&id), MessageStatus::Dispatched);

    assert_eq!(t.dispatch().total(), 0, "not due before the backoff");
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().failed, 1);
    assert_eq!(
        t.delivery(&id, "a").next_attempt_at.as_millis(),
        crate::support::T0 + 1000 + 2000
    );
    t.advance(Duration::from_secs(2));
    assert_eq!(t.dispatch().dead, 1);
    assert_eq!(t.delivery(&id, "a").status, DeliveryStatus::Dead);
    assert_eq!(t.delivery(&id, "b").status, DeliveryStatus::Sent);
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(
        (m.status, m.status_1c),
        (MessageStatus::Undelivered, "ОшибкаОтправки")
    );
    assert_eq!(rx.received().iter().filter(|r| r.url == "/a").count(), 3);
}

#[test]
fn a_flow_without_active_subscribers_sends_nothing() {
    let mut config = http_config("http://127.0.0.1:1", &["a", "b"]);
    config["subscribers"][1]["active"] = json!(false);
    let config = with_flow(config, json!({"code": "NOBODY", "direction": "outgoing"}));
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(
        m.deliveries.len(),
        1,
        "the inactive subscriber gets no delivery"
    );
    let id = t
        .engine
        .register("NOBODY", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.status(&id), MessageStatus::Sent);
    let last = t.engine.message_status(&id).unwrap().history.pop().unwrap();
    assert_eq!(
        last.detail.as_deref(),
        Some("the flow has no active subscribers")
    );
}

/// Issue 15: the payload on the wire is the caller's JSON byte for byte (key order, number
/// forms, escapes, spacing), whichever call registered or formed it: `register_messages` (the
/// C ABI's and the add-in's batch registration) as `register_message` and `complete_forming`.
#[test]
fn the_callers_bytes_reach_the_wire_whichever_call_brought_them() {
    let rx = Receiver::ok();
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "FORMED", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    );
    let t = TestEngine::new(&config);
    use integra::json_api::OWN_MEMORY;
    let mut handle = integra::json_api::Handle::new();
    let database = t.database.clone();
    handle
        .open(&json!({"database": database}).to_string())
        .unwrap();
    let documents = [
        r#"{"z": 1,  "a": 1.0, "e": 1E2, "s": "caf\u00e9 \/ \n", "big": 123456789012345678901234567890}"#,
        r#"[ 1 ,2 , {"b":true,"a":null} ]"#,
        r#""Ром\u0430шка""#,
        "-0.0",
    ];
    let batch = format!(
        "[{}]",
        documents
            .iter()
            .map(|d| format!(r#"{{"source": {d}, "options": {{}}}}"#))
            .collect::<Vec<_>>()
            .join(", ")
    );
    handle
        .register_messages("ORDERS", &batch, OWN_MEMORY)
        .unwrap();
    for d in documents {
        handle
            .register_message("ORDERS", d, false, "", OWN_MEMORY)
            .unwrap();
        let id = handle
            .register_message("FORMED", "{}", true, "", OWN_MEMORY)
            .unwrap();
        let items = t.engine.next_to_form(1, Duration::from_secs(60)).unwrap();
        assert_eq!(items[0].id, id);
        assert_eq!(handle.complete_forming(&id, d).unwrap(), "");
    }
    assert_eq!(t.dispatch().sent, 12);
    let bodies: Vec<String> = rx.received().into_iter().map(|r| r.body).collect();
    for d in documents {
        assert_eq!(
            bodies.iter().filter(|b| b.as_str() == d).count(),
            3,
            "{d} in {bodies:#?}"
        );
    }
}
