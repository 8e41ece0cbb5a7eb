//! External schemas: fetched with the endpoint's authentication, kept for their TTL,
//! revalidated with ETag, and the last good copy kept when a refresh fails.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use integra::Error;
use serde_json::json;

use crate::support::{Receiver, Reply, TestEngine};

/// What the schema registry serves: a status, and a document with its ETag.
struct Registry {
    status: u16,
    minimum: i64,
    etag: String,
}

fn document(minimum: i64) -> String {
    json!({
        "openapi": "3.0.3", "info": {"title": "stock", "version": "1"}, "paths": {},
        "components": {"schemas": {"Stock": {"type": "object", "required": ["qty"],
            "properties": {"qty": {"type": "integer", "minimum": minimum}}}}}
    })
    .to_string()
}

fn registry(state: &Arc<Mutex<Registry>>) -> Receiver {
    let state = Arc::clone(state);
    Receiver::start(move |r| {
        let s = state.lock().unwrap();
        assert_eq!(r.header("Authorization"), Some("Bearer registry-token"));
        if s.status != 200 {
            return Reply::status(s.status).body("registry is down");
        }
        if r.header("If-None-Match") == Some(s.etag.as_str()) {
            return Reply::status(304);
        }
        Reply::ok()
            .body(&document(s.minimum))
            .header("ETag", &s.etag)
    })
}

fn engine(url: &str) -> TestEngine {
    TestEngine::new(&json!({
        "endpoints": [{"code": "registry", "base_url": url,
                       "auth": {"type": "bearer", "token": "registry-token"}}],
        "schemas": [{"code": "stock", "external": {"endpoint": "registry", "path": "/openapi.json", "ttl": "1h"}}],
        "flows": [{"code": "IN", "direction": "incoming", "schema": {"schema": "stock", "component": "Stock"}}]
    }))
}

fn errors(t: &TestEngine, qty: i64) -> usize {
    t.engine
        .validate_for_flow("IN", &json!({"qty": qty}).to_string())
        .unwrap()
        .len()
}

#[test]
fn fetched_once_kept_for_the_ttl_then_revalidated_by_etag() {
    let state = Arc::new(Mutex::new(Registry {
        status: 200,
        minimum: 0,
        etag: "\"v1\"".into(),
    }));
    let rx = registry(&state);
    let t = engine(rx.url());
    assert_eq!(errors(&t, -1), 1);
    assert_eq!(errors(&t, 5), 0);
    assert_eq!(rx.received().len(), 1, "fetched once");

    t.advance(Duration::from_secs(3601));
    assert_eq!(errors(&t, -1), 1);
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[1].header("If-None-Match"),
        Some("\"v1\""),
        "revalidated, not refetched"
    );
    let status = t.engine.external_schema_status("stock").unwrap().unwrap();
    assert_eq!(status.etag.as_deref(), Some("\"v1\""));
    assert_eq!(status.last_error, None);

    // The registry publishes a stricter version.
    {
        let mut s = state.lock().unwrap();
        s.minimum = 10;
        s.etag = "\"v2\"".into();
    }
    assert_eq!(errors(&t, 5), 0, "the copy is current until its TTL");
    t.advance(Duration::from_secs(3601));
    assert_eq!(errors(&t, 5), 1, "the new version applies");

    // Another engine on the same file uses the stored copy without fetching.
    let other = t.reopen();
    let before = rx.received().len();
    assert_eq!(
        other
            .validate_for_flow("IN", r#"{"qty": 5}"#)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(rx.received().len(), before);
}

#[test]
fn a_failed_refresh_keeps_the_last_good_copy() {
    let state = Arc::new(Mutex::new(Registry {
        status: 200,
        minimum: 0,
        etag: "\"v1\"".into(),
    }));
    let rx = registry(&state);
    let t = engine(rx.url());
    assert_eq!(errors(&t, -1), 1);

    state.lock().unwrap().status = 500;
    t.advance(Duration::from_secs(3601));
    assert_eq!(errors(&t, -1), 1, "validated with the last good copy");
    let status = t.engine.external_schema_status("stock").unwrap().unwrap();
    let error = status.last_error.unwrap();
    assert!(error.contains("/openapi.json answered 500"), "{error}");
    let tries = rx.received().len();
    assert_eq!(errors(&t, -1), 1);
    assert_eq!(rx.received().len(), tries, "not retried on every message");
    t.advance(Duration::from_secs(301));
    errors(&t, -1);
    assert_eq!(rx.received().len(), tries + 1, "retried after five minutes");

    // A document that is not OpenAPI 3.0 is not taken either.
    *state.lock().unwrap() = Registry {
        status: 200,
        minimum: 0,
        etag: "\"bad\"".into(),
    };
    let bad_server = Receiver::start(|_| Reply::ok().body(r#"{"swagger": "2.0"}"#));
    let mut c = t.engine.config().unwrap();
    c.endpoints[0].base_url = bad_server.url().to_owned();
    c.endpoints[0].auth = integra::config::Auth::None;
    t.engine.load_config(&c).unwrap();
    let err = t
        .engine
        .validate_for_flow("IN", r#"{"qty": 1}"#)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Schema { reason, .. } if reason.contains("no copy is held") && reason.contains("Swagger 2.0")),
        "a copy from another source is not used: {err}"
    );
}

#[test]
fn without_any_copy_a_failed_fetch_is_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let t = engine(&format!("http://{closed}"));
    let err = t
        .engine
        .validate_for_flow("IN", r#"{"qty": 1}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("schema 'stock': it cannot be fetched and no copy is held:"),
        "{err}"
    );
    let err = t
        .engine
        .accept("IN", "m1", r#"{"qty": 1}"#, &Default::default())
        .unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err}");
    assert!(t.engine.counts().unwrap().incoming.is_empty());
}
