//! Validation where messages are formed (complete_forming, Rust formers, pass-through
//! registration) and received (accept), schema problems at load time, and standalone calls.

use std::collections::BTreeMap;
use std::time::Duration;

use integra::{Error, FormOutcome, MessageStatus, RegisterOptions};
use serde_json::{Value, json};

use crate::support::{Receiver, TestEngine, http_config, retry};

fn contract(min_total: i64) -> Value {
    json!({
        "openapi": "3.0.3", "info": {"title": "orders", "version": "1"}, "paths": {},
        "components": {"schemas": {"Order": {
            "type": "object", "required": ["number", "total"],
            "properties": {"number": {"type": "string"}, "total": {"type": "number", "minimum": min_total},
                           "id": {"type": "string", "readOnly": true}}}}}
    })
}

fn config(url: &str) -> Value {
    let mut c = http_config(url, &["a"]);
    c["schemas"] = json!([{"code": "orders", "document": contract(0)}]);
    let schema = json!({"schema": "orders", "component": "Order"});
    c["flows"] = json!([
        {"code": "PASS", "direction": "outgoing", "subscribers": ["a"], "schema": schema, "retry": retry(5)},
        {"code": "PULL", "direction": "outgoing", "subscribers": ["a"], "schema": schema, "former": "external", "retry": retry(5)},
        {"code": "RUST", "direction": "outgoing", "subscribers": ["a"], "schema": schema, "former": "handler", "retry": retry(5)},
        {"code": "IN", "direction": "incoming", "schema": schema}
    ]);
    c
}

#[test]
fn an_invalid_formed_payload_is_a_forming_failure_and_is_not_sent() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&config(rx.url()));
    let id = t
        .engine
        .register("PULL", r#"{"ref": 1}"#, &RegisterOptions::default())
        .unwrap();
    t.engine.next_to_form(1, Duration::from_secs(30)).unwrap();
    let violations = t
        .engine
        .complete_forming(&id, r#"{"number": "A-1", "total": -5}"#)
        .unwrap();
    let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["/total: -5 is less than the minimum of 0"]);
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(m.status, MessageStatus::FormingError);
    assert_eq!(
        m.last_error.as_deref(),
        Some("/total: -5 is less than the minimum of 0")
    );
    assert!(m.payload.is_none());
    assert_eq!(t.dispatch().total(), 0, "nothing is sent");

    t.advance(Duration::from_secs(1));
    t.engine.next_to_form(1, Duration::from_secs(30)).unwrap();
    assert!(
        t.engine
            .complete_forming(&id, r#"{"number": "A-1", "total": 5}"#)
            .unwrap()
            .is_empty()
    );
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.status(&id), MessageStatus::Sent);
}

#[test]
fn an_invalid_pass_through_source_waits_until_the_contract_is_fixed() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&config(rx.url()));
    let good = t
        .engine
        .register(
            "PASS",
            r#"{"number": "A-1", "total": 10}"#,
            &RegisterOptions::default(),
        )
        .unwrap();
    let bad = t
        .engine
        .register(
            "PASS",
            r#"{"number": "A-2", "total": -1}"#,
            &RegisterOptions::default(),
        )
        .unwrap();
    assert_eq!(t.status(&good), MessageStatus::Dispatched);
    let m = t.engine.message_status(&bad).unwrap();
    assert_eq!((m.status, m.attempts), (MessageStatus::FormingError, 1));
    assert!(m.deliveries.is_empty());
    assert_eq!(t.dispatch().sent, 1, "only the valid one goes");

    // The contract is relaxed; the retry re-checks the source and sends it.
    let mut c = t.engine.config().unwrap();
    c.schemas[0].document = Some(contract(-100));
    t.engine.load_config(&c).unwrap();
    t.advance(Duration::from_secs(1));
    let report = t.dispatch();
    assert_eq!((report.formed, report.sent), (1, 1));
    assert_eq!(t.status(&bad), MessageStatus::Sent);
    assert_eq!(
        rx.received().last().unwrap().body,
        r#"{"number": "A-2", "total": -1}"#
    );
}

#[test]
fn a_rust_former_payload_is_checked_on_the_worker() {
    let rx = Receiver::ok();
    let t = TestEngine::new(&config(rx.url()));
    t.engine
        .set_former("RUST", |item: &integra::FormingItem| {
            let n: Value = serde_json::from_str(&item.source).unwrap();
            FormOutcome::Payload(json!({"number": "R", "total": n["total"]}))
        })
        .unwrap();
    let ok = t
        .engine
        .register("RUST", r#"{"total": 3}"#, &RegisterOptions::default())
        .unwrap();
    let bad = t
        .engine
        .register("RUST", r#"{"total": "three"}"#, &RegisterOptions::default())
        .unwrap();
    let report = t.dispatch();
    assert_eq!(
        (report.formed, report.forming_failed, report.sent),
        (1, 1, 1)
    );
    assert_eq!(t.status(&ok), MessageStatus::Sent);
    let m = t.engine.message_status(&bad).unwrap();
    assert_eq!(
        m.last_error.as_deref(),
        Some("/total: \"three\" is not of type \"number\"")
    );
}

#[test]
fn an_invalid_incoming_message_is_refused_and_not_stored() {
    let t = TestEngine::new(&config("http://127.0.0.1:1"));
    let none = BTreeMap::new();
    let err = t
        .engine
        .accept("IN", "m1", r#"{"number": 1, "id": "x"}"#, &none)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "incoming message 'm1' for flow 'IN' breaks its schema: /: \"total\" is a required property; \
         /id: is read-only: it must not appear in an incoming message; /number: 1 is not of type \"string\""
    );
    match err {
        Error::Invalid { violations, .. } => assert_eq!(violations.len(), 3),
        other => panic!("{other}"),
    }
    assert!(t.engine.counts().unwrap().incoming.is_empty());

    let first = t
        .engine
        .accept("IN", "m2", r#"{"number": "A", "total": 1}"#, &none)
        .unwrap();
    // A retransmission is acknowledged even when the contract has tightened since.
    let mut c = t.engine.config().unwrap();
    c.schemas[0].document = Some(contract(100));
    t.engine.load_config(&c).unwrap();
    let again = t
        .engine
        .accept("IN", "m2", r#"{"number": "A", "total": 1}"#, &none)
        .unwrap();
    assert_eq!((again.id, again.duplicate), (first.id, true));

    let xml: BTreeMap<String, String> = [("content-type".to_owned(), "text/xml".to_owned())].into();
    let err = t.engine.accept("IN", "m3", "<order/>", &xml).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid content type: flow 'IN' validates JSON against a schema, so 'text/xml' is not accepted"
    );
}

#[test]
fn bad_documents_and_references_are_refused_at_load_time() {
    let t = TestEngine::new(&json!({}));
    let mut document = contract(0);
    document["components"]["schemas"]["Order"]["properties"]["total"]["exclusiveMinimum"] =
        json!(0);
    let bad = json!({
        "schemas": [{"code": "orders", "document": document}, {"code": "empty"}],
        "flows": [{"code": "F", "direction": "incoming", "schema": {"schema": "orders", "component": "Ordre"}},
                  {"code": "G", "direction": "incoming", "schema": {"schema": "nope", "component": "X"}}]
    });
    let err = t
        .engine
        .load_config_json(&bad.to_string())
        .unwrap_err()
        .to_string();
    for expected in [
        "schema 'orders', field 'document': /components/schemas/Order/properties/total/exclusiveMinimum: is a boolean in OpenAPI 3.0",
        "schema 'empty': needs a document, a file, or an external source",
        "flow 'G', field 'schema.schema': no schema has code 'nope'",
    ] {
        assert!(err.contains(expected), "missing «{expected}» in «{err}»");
    }
    let good = json!({
        "schemas": [{"code": "orders", "document": contract(0)}],
        "flows": [{"code": "F", "direction": "incoming", "schema": {"schema": "orders", "component": "Ordre"}}]
    });
    let err = t
        .engine
        .load_config_json(&good.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("flow 'F', field 'schema.component': schema 'orders' has no component 'Ordre' (it has: Order)"), "{err}");
}

#[test]
fn schema_files_are_read_relative_to_the_configuration() {
    let t = TestEngine::new(&json!({}));
    let dir = t.dir.path();
    std::fs::create_dir(dir.join("contracts")).unwrap();
    std::fs::write(
        dir.join("contracts/orders.yaml"),
        serde_norway::to_string(&contract(0)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("integra.json"),
        json!({"schemas": [{"code": "orders", "file": "contracts/orders.yaml"}]}).to_string(),
    )
    .unwrap();
    let c = integra::Config::from_file(dir.join("integra.json")).unwrap();
    t.engine.load_config(&c).unwrap();
    assert_eq!(
        t.engine
            .validate("orders", "Order", r#"{"number": "1", "total": -1}"#)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn standalone_validation_takes_a_code_or_a_document() {
    let t = TestEngine::new(&config("http://127.0.0.1:1"));
    let e = &t.engine;
    assert!(
        e.validate("orders", "Order", r#"{"number": "1", "total": 1}"#)
            .unwrap()
            .is_empty()
    );
    let text = contract(0).to_string();
    assert_eq!(
        e.validate(&text, "Order", r#"{"total": 1}"#).unwrap().len(),
        1
    );
    let yaml = serde_norway::to_string(&contract(0)).unwrap();
    assert_eq!(
        e.validate(&yaml, "Order", r#"{"total": 1}"#).unwrap().len(),
        1
    );
    // Without a direction, readOnly is not enforced.
    assert!(
        e.validate(
            "orders",
            "Order",
            r#"{"number": "1", "total": 1, "id": "x"}"#
        )
        .unwrap()
        .is_empty()
    );
    assert_eq!(
        e.validate("orders", "Ordr", "{}").unwrap_err().to_string(),
        "schema 'orders': it has no component 'Ordr' (it has: Order)"
    );
    assert_eq!(
        e.validate("nope", "X", "{}").unwrap_err().to_string(),
        "schema 'nope': no schema has this code (and it is not an OpenAPI document)"
    );
    assert_eq!(
        e.validate("orders", "Order", "{").unwrap_err().to_string(),
        "the instance is not valid JSON: EOF while parsing an object at line 1 column 1"
    );
    let err = e
        .validate(r#"{"openapi": "3.1.0"}"#, "X", "{}")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "schema '(document given as text)': /openapi: OpenAPI 3.1.0 is not supported"
        ),
        "{err}"
    );
}

/// A document whose components are `schemas`.
fn with_schemas(schemas: Value) -> Value {
    json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
           "components": {"schemas": schemas}})
}

/// Issue 15: a pattern the regular expression engine gives up on (its backtracking limit)
/// says nothing about the value; it is an error of the schema, not a violation by a value
/// that in fact matches (here through the second alternative).
#[test]
fn a_pattern_past_the_backtracking_limit_is_an_error_of_the_schema() {
    let document =
        with_schemas(json!({"Code": {"type": "string", "pattern": "^(?:(a|a)*\\1b|a*c)$"}}));
    let t = TestEngine::new(
        &json!({"schemas": [{"code": "codes", "document": document}],
        "flows": [{"code": "IN", "direction": "incoming", "schema": {"schema": "codes", "component": "Code"}}]}),
    );
    let costly = json!(format!("{}c", "a".repeat(40))).to_string();
    let err = t.engine.validate("codes", "Code", &costly).unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("schema 'codes': component 'Code': /components/schemas/Code/pattern: "),
        "{text}"
    );
    assert!(text.contains("backtracking limit"), "{text}");
    let err = t
        .engine
        .accept("IN", "m1", &costly, &BTreeMap::new())
        .unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    assert!(t.engine.counts().unwrap().incoming.is_empty());
    // Values the engine decides stay ordinary.
    assert!(
        t.engine
            .validate("codes", "Code", r#""aac""#)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        t.engine.validate("codes", "Code", r#""x""#).unwrap().len(),
        1
    );
}

/// Issue 15, item 19: an error quotes at most a bounded prefix of any input. Asking a 9 MB
/// document given as text for a component it lacks repeated the whole document.
#[test]
fn errors_quote_a_bounded_prefix_of_the_document_and_names() {
    let t = TestEngine::new(&json!({}));
    let mut schemas = serde_json::Map::new();
    for i in 0..20_000 {
        schemas.insert(
            format!("Component{i:05}"),
            json!({"type": "string", "description": "x".repeat(400)}),
        );
    }
    let text = with_schemas(Value::Object(schemas)).to_string();
    assert!(text.len() > 8_000_000);
    let missing = "M".repeat(100_000);
    let err = t
        .engine
        .validate(&text, &missing, "{}")
        .unwrap_err()
        .to_string();
    assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..2_000]);
    assert!(err.contains("has no component 'MMMM"), "{err}");
    assert!(err.contains("Component00000, Component00001"), "{err}");
    assert!(err.contains("19990 more"), "{err}");

    let err = t
        .engine
        .validate(&"x".repeat(1_000_000), "X", "{}")
        .unwrap_err()
        .to_string();
    assert!(err.len() < 1_000, "{} bytes", err.len());

    let huge = "k".repeat(1_000_000);
    let bad = with_schemas(
        json!({"A": {"type": {"no": "x".repeat(1_000_000)}, "properties": {&huge: {"type": 5}},
        "enum": "x".repeat(1_000_000), "pattern": format!("({}", "y".repeat(1_000_000))}}),
    );
    let err = t
        .engine
        .validate(&bad.to_string(), "A", "{}")
        .unwrap_err()
        .to_string();
    assert!(err.len() < 4_000, "{} bytes: {}", err.len(), &err[..4_000]);
    assert!(err.contains("bytes in all"), "{err}");
}

/// Issue 15, item 19: a violation quotes a bounded prefix of the value it is about.
#[test]
fn violations_quote_a_bounded_prefix_of_the_value() {
    let t = TestEngine::new(
        &json!({"schemas": [{"code": "s", "document": with_schemas(json!({
        "S": {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}, "b": {"type": "integer"}}}}))}]}),
    );
    let long = "ж".repeat(1_000_000);
    let v = t
        .engine
        .validate("s", "S", &json!({"a": long, "b": [long]}).to_string())
        .unwrap();
    assert_eq!(v.len(), 2);
    for violation in &v {
        assert!(
            violation.message.len() < 1_000,
            "{}",
            violation.message.len()
        );
    }
    assert!(
        v[0].message
            .ends_with("bytes in all) is longer than 3 characters"),
        "{}",
        v[0].message
    );
}

/// Issue 15: references that lead back to where they started without reaching into the
/// value would apply to the same value forever; such a document is refused at load time,
/// while a recursive tree (the cycle passes through `items`) stays valid.
#[test]
fn a_pure_reference_cycle_is_refused_and_a_tree_is_not() {
    let t = TestEngine::new(&json!({}));
    let cycle = with_schemas(json!({
        "A": {"$ref": "#/components/schemas/B"},
        "B": {"$ref": "#/components/schemas/A"},
        "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}
    }));
    let err = t
        .engine
        .load_config_json(&json!({"schemas": [{"code": "c", "document": cycle}]}).to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "/components/schemas/A: a cycle of references that never reaches into the value"
        ),
        "{err}"
    );
    assert!(
        err.contains("/components/schemas/A → /components/schemas/B → /components/schemas/A"),
        "{err}"
    );
    let err = t
        .engine
        .validate(
            &with_schemas(json!({"S": {"allOf": [{"$ref": "#/components/schemas/S"}]}}))
                .to_string(),
            "S",
            "1",
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/components/schemas/S: a cycle of references"),
        "{err}"
    );
    let tree = with_schemas(
        json!({"Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}}),
    );
    let v = t
        .engine
        .validate(
            &tree.to_string(),
            "Tree",
            r#"{"children": [{"children": [1]}]}"#,
        )
        .unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
}
