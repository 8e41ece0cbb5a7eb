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
    let cases: Vec<(integra::Result<integra::MessageId>, &str)> = vec![
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
        e.list_messages(&ListFilter::default().with_limit(10_001))
            .unwrap_err()
            .to_string(),
        "invalid limit: must be at most 10000, got 10001"
    );
    // One listing limit, defined once, for every listing and front door (issue 15).
    let over = integra::limits::MAX_LIST + 1;
    for err in [
        e.received_exchange_messages(None, over).unwrap_err(),
        e.sent_exchange_messages(None, over).unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "invalid limit: must be at most 10000, got 10001"
        );
    }
    let mut handle = integra::json_api::Handle::new();
    handle
        .open(&serde_json::json!({"database": t.database.clone()}).to_string())
        .unwrap();
    for err in [
        handle.received_exchange_messages("", 10_001).unwrap_err(),
        handle.sent_exchange_messages("", 10_001).unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "invalid limit: must be between 1 and 10000, got 10001"
        );
    }
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
    // An Integra database whose header was overwritten (issue 10): the same.
    let damaged = dir.path().join("damaged.db");
    drop(Engine::open(&damaged, EngineOptions::default()).unwrap());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&damaged)
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, &[0x42u8; 100], 0).unwrap();
    for path in [junk, damaged] {
        let err = Engine::open(&path, EngineOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "database '{}' is corrupt: file is not a database; restore it from a backup",
                path.display()
            )
        );
    }
    let err = Engine::open(dir.path(), EngineOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot open database '{}'", dir.path().display())),
        "{err}"
    );
    let err = Engine::open(
        dir.path().join("x.db"),
        EngineOptions::default().with_lease(Duration::ZERO),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lease: must be at least one second"
    );
}

/// `[[…]]` nested `depth` levels.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn inputs_over_the_limits_are_refused_naming_the_limit_and_the_value() {
    use integra::limits::{MAX_BATCH, MAX_JSON_DEPTH, MAX_MESSAGE_BYTES};

    let t = TestEngine::new(&config());
    let e = &t.engine;
    let none = RegisterOptions::default();
    let deep = nested(MAX_JSON_DEPTH + 1);
    let depth_error = "nested deeper than 127 levels, the limit, at line 1 column 128";
    let huge = format!("\"{}\"", "x".repeat(MAX_MESSAGE_BYTES));
    let cases: Vec<(integra::Result<String>, String)> = vec![
        (
            e.register("ORDERS", &deep, &none).map(String::from),
            format!("the source of message 0 for flow 'ORDERS' is not valid JSON: {depth_error}"),
        ),
        (
            e.register("ORDERS", &huge, &none).map(String::from),
            "the source of message 0 for flow 'ORDERS' is 67108866 bytes, over the limit of 67108864 bytes".into(),
        ),
        (
            e.accept("IN", "m-1", &deep, &Default::default())
                .map(|a| a.id.into()),
            format!("the body of incoming message 'm-1' for flow 'IN' is not valid JSON: {depth_error}"),
        ),
        (
            e.accept("IN", "m-2", &huge, &Default::default())
                .map(|a| a.id.into()),
            "the body of incoming message 'm-2' for flow 'IN' is 67108866 bytes, over the limit of 67108864 bytes".into(),
        ),
    ];
    for (result, expected) in cases {
        let err = result.unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(err.kind(), integra::ErrorKind::InvalidArgument);
    }
    assert!(e.register("ORDERS", &nested(MAX_JSON_DEPTH), &none).is_ok());

    // A batch through the front door the C ABI and the add-in share: one item too many.
    use integra::json_api::OWN_MEMORY;
    let mut handle = integra::json_api::Handle::new();
    let database = t.database.clone();
    handle
        .open(&json!({"database": database}).to_string())
        .unwrap();
    let items = format!("[{}]", vec![r#"{"source": 1}"#; MAX_BATCH + 1].join(","));
    let err = handle
        .register_messages("ORDERS", &items, OWN_MEMORY)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the batch for flow 'ORDERS' is 100001 items, over the limit of 100000 items"
    );
    let err = handle.next_to_form(100_001, 60, OWN_MEMORY).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid max: must be between 1 and 100000, got 100001"
    );
    let deep_item = format!(r#"[{{"source": {deep}}}]"#);
    let err = handle
        .register_messages("ORDERS", &deep_item, OWN_MEMORY)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("nested deeper than 127 levels, the limit"),
        "{err}"
    );
    assert_eq!(total_messages(&t), 1, "only the message within the limits");

    // Validation of deep input against a recursive schema: the deepest accepted payload is
    // checked without exhausting the stack, a deeper one refused by the limit; a document
    // nested too deep is refused naming the limit.
    let tree = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
      "components": {"schemas": {"Node": {"type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}}}"##;
    let node = |levels: usize| {
        format!(
            "{}{{}}{}",
            r#"{"children": ["#.repeat(levels),
            "]}".repeat(levels)
        )
    };
    let deepest = node((MAX_JSON_DEPTH - 1) / 2);
    assert_eq!(e.validate(tree, "Node", &deepest).unwrap(), []);
    let bad_leaf = deepest.replacen("{}", "{\"children\": 1}", 1);
    assert_eq!(e.validate(tree, "Node", &bad_leaf).unwrap().len(), 1);
    let err = e.validate(tree, "Node", &node(MAX_JSON_DEPTH)).unwrap_err();
    assert!(
        err.to_string().contains("nested deeper than 127 levels"),
        "{err}"
    );
    let deep_document = tree.replace(
        r#""paths": {}"#,
        &format!(r#""paths": {{}}, "x-deep": {}"#, nested(200)),
    );
    let err = e.validate(&deep_document, "Node", "{}").unwrap_err();
    assert!(
        err.to_string().contains("nested deeper than 127 levels"),
        "{err}"
    );
}

/// An error quotes a bounded part of its input, however large: a 5 MB flow name, id or
/// configuration code gives an error of a line, not of 5 MB; a configuration with a
/// thousand problems lists twenty and counts the rest (issue 15).
#[test]
fn errors_quote_a_bounded_part_of_any_input() {
    use integra::json_api::OWN_MEMORY;
    use integra::limits::{MAX_ERROR_BYTES, MAX_QUOTED_CHARS, MAX_REASON_CHARS};
    let t = TestEngine::new(&config());
    let huge = "Ж".repeat(2_500_000);
    let line = MAX_REASON_CHARS + MAX_QUOTED_CHARS + 200;
    let short = |e: &dyn std::fmt::Display, starts: &str| {
        let text = e.to_string();
        assert!(
            text.chars().count() < line,
            "{} chars: {text}",
            text.chars().count()
        );
        assert!(text.starts_with(starts), "{}", &text[..200.min(text.len())]);
        assert!(text.contains("bytes"), "the size is named: {text}");
    };
    let none = RegisterOptions::default();
    short(
        &t.engine.register(&huge, "{}", &none).unwrap_err(),
        "unknown flow 'ЖЖЖ",
    );
    short(
        &t.engine.message_status(&huge).unwrap_err(),
        "no message has id 'ЖЖЖ",
    );
    short(
        &t.engine.complete_forming(&huge, "{oops").unwrap_err(),
        "the payload of message 'ЖЖЖ",
    );
    let bad_code = serde_json::json!({"flows": [{"code": huge, "direction": "outgoing",
                                                  "subscribers": ["nobody"]}]});
    short(
        &t.engine
            .load_config_json(&bad_code.to_string())
            .unwrap_err(),
        "invalid configuration: flow 'ЖЖЖ",
    );
    let many: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"code": format!("F{i}"), "direction": "outgoing", "subscribers": ["nobody"]}))
        .collect();
    let err = t
        .engine
        .load_config_json(&serde_json::json!({"flows": many}).to_string())
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("; and 980 more problems"), "{err}");

    // The front doors bound the whole text too.
    let mut handle = integra::json_api::Handle::new();
    handle
        .open(&serde_json::json!({"database": t.database.clone()}).to_string())
        .unwrap();
    let err = handle
        .register_message(&huge, "{}", false, "", OWN_MEMORY)
        .unwrap_err();
    assert!(err.to_string().len() < MAX_ERROR_BYTES);
}
