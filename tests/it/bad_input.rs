//! Every bad input gets a clear error naming what was wrong, and nothing is half-written.

use std::time::Duration;

use integra::{Engine, EngineOptions, Error, ListFilter, RegisterOptions, Registration};
use serde_json::json;

use crate::support::{TestEngine, http_config, with_flow};

fn config() -> serde_json::Value {
    let c = with_flow(
        http_config("http://127.0.0.1:1", &["a"]),
        json!({"code": "IN", "direction": "incoming"}),
    );
    with_flow(
        c,
        json!({"code": "OFF", "direction": "outgoing", "active": false}),
    )
}

fn total_messages(t: &TestEngine) -> u64 {
    t.engine.counts().unwrap().messages.values().sum()
}

#[test]
fn registration_refuses_bad_flows_sources_and_keys() {
    let t = TestEngine::new(&config());
    let e = &t.engine;
    let none = RegisterOptions::default();
    let long_key = RegisterOptions::object_key("k".repeat(1025));
    let cases: Vec<(integra::Result<String>, &str)> = vec![
        (e.register("NOPE", "{}", &none), "unknown flow 'NOPE'"),
        (e.register("OFF", "{}", &none), "flow 'OFF' is inactive"),
        (
            e.register("IN", "{}", &none),
            "flow 'IN' is incoming, so it cannot be used to register outgoing messages",
        ),
        (
            e.register("ORDERS", r#"{"a": }"#, &none),
            "the source of message 0 for flow 'ORDERS' is not valid JSON: expected value at line 1 column 7",
        ),
        (
            e.register("ORDERS", "", &none),
            "the source of message 0 for flow 'ORDERS' is not valid JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            e.register("ORDERS", "{}", &long_key),
            "invalid object_key: must be 1 to 1024 characters",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err().to_string(), expected);
    }
    let err = RegisterOptions::from_json(r#"{"object_kee": "x"}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("registration options is not valid JSON: unknown field `object_kee`"),
        "{err}"
    );
    assert_eq!(total_messages(&t), 0);
}

#[test]
fn a_batch_with_one_bad_item_registers_nothing() {
    let t = TestEngine::new(&config());
    let good = || Registration {
        source: "{}".into(),
        options: RegisterOptions::default(),
    };
    let bad = Registration {
        source: "[1,".into(),
        options: RegisterOptions::default(),
    };
    let err = t
        .engine
        .register_batch("ORDERS", vec![good(), good(), bad])
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the source of message 2 for flow 'ORDERS' is not valid JSON"),
        "{err}"
    );
    assert_eq!(total_messages(&t), 0);
    let ids = t
        .engine
        .register_batch("ORDERS", vec![good(), good()])
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(total_messages(&t), 2);
}

#[test]
fn forming_and_inspection_refuse_what_they_cannot_do() {
    let t = TestEngine::new(&config());
    let e = &t.engine;
    let id = e
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(
        e.next_to_form(1, Duration::ZERO).unwrap_err().to_string(),
        "invalid lease: must be between 1 s and 24 h, got 0ns"
    );
    assert_eq!(
        e.complete_forming("nope", "{}").unwrap_err().to_string(),
        "no message has id 'nope'"
    );
    assert_eq!(
        e.complete_forming(&id, "{").unwrap_err().to_string(),
        format!(
            "the payload of message '{id}' is not valid JSON: EOF while parsing an object at line 1 column 1"
        )
    );
    assert!(matches!(
        e.fail_forming(&id, "x"),
        Err(Error::WrongStatus { .. })
    ));
    assert_eq!(
        e.message_status("nope").unwrap_err().to_string(),
        "no message has id 'nope'"
    );
    assert_eq!(
        e.list_messages(&ListFilter {
            limit: Some(10_001),
            ..ListFilter::default()
        })
        .unwrap_err()
        .to_string(),
        "invalid limit: must be at most 10000"
    );
    assert_eq!(
        e.ack_incoming("nope").unwrap_err().to_string(),
        "no incoming message has id 'nope'"
    );
    assert_eq!(
        e.set_former("NOPE", |_: &integra::FormingItem| {
            integra::FormOutcome::Fail(String::new())
        })
        .unwrap_err()
        .to_string(),
        "unknown flow 'NOPE'"
    );
}

#[test]
fn opening_something_that_is_not_an_integra_database_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    let err = Engine::open(&junk, EngineOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot open database '{}': file is not a database",
            junk.display()
        )
    );
    let err = Engine::open(dir.path(), EngineOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot open database '{}'", dir.path().display())),
        "{err}"
    );
    let err = Engine::open(
        dir.path().join("x.db"),
        EngineOptions {
            lease: Duration::ZERO,
            ..EngineOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lease: must be at least one second"
    );
}
