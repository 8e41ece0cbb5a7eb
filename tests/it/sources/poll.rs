//! An HTTP resource polled on an interval.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{engine, take_all, wait_for_incoming};
use crate::support::wait_until;
use crate::support::{Receiver, Reply};

#[test]
fn a_polled_resource_is_followed_by_cursor_and_each_item_stored_once() {
    // A CRM that pages its changes by cursor and answers 304 when nothing changed.
    let changes = Arc::new(Mutex::new(vec![
        json!([{"id": 1, "number": "A-1"}, {"id": 2, "number": "A-2"}]),
        json!([{"id": 3, "number": "A-3"}, {"number": "no id"}]),
        json!([]),
    ]));
    let pages = Arc::clone(&changes);
    let crm = Receiver::start(move |r| {
        let cursor = r.url.split("since=").nth(1).map_or(0, |c| {
            c.trim_start_matches("c%2F").parse::<usize>().unwrap()
        });
        let pages = pages.lock().unwrap();
        if cursor >= pages.len() - 1
            && r.header("if-none-match") == Some("\"v1\"")
            && pages.len() == 3
        {
            return Reply::status(304);
        }
        let page = &pages[cursor.min(pages.len() - 1)];
        let next = if page.as_array().unwrap().is_empty() {
            cursor
        } else {
            cursor + 1
        };
        Reply::ok()
            .header("Content-Type", "application/json")
            .header("ETag", "\"v1\"")
            .body(&json!({"data": page, "next": format!("c/{next}")}).to_string())
    });
    let t = engine(
        json!({"code": "e", "base_url": crm.url(), "auth": {"type": "bearer", "token": "t0k"}}),
        json!({"kind": "poll", "endpoint": "e",
               "poll": {"path": "/api/orders", "interval": "1s", "items": "/data", "id": "id",
                        "cursor": {"from": "/next", "param": "since"}}}),
        true,
    );
    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 3, Duration::from_secs(10));
    // The next poll asks with the validator and the last cursor, and hears 304.
    wait_until("a conditional poll", Duration::from_secs(10), || {
        crm.received()
            .iter()
            .any(|r| r.header("if-none-match").is_some())
    });
    // New changes appear (with a repeat of item 2).
    changes.lock().unwrap().insert(
        2,
        json!([{"id": 4, "number": "A-4"}, {"id": 2, "number": "A-2 again"}]),
    );
    wait_for_incoming(&t.engine, 4, Duration::from_secs(10));
    sources.stop();

    let requests = crm.received();
    assert_eq!(requests[0].url, "/api/orders");
    assert_eq!(requests[1].url, "/api/orders?since=c%2F1");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer t0k"))
    );
    let conditional = requests
        .iter()
        .find(|r| r.header("if-none-match").is_some())
        .unwrap();
    assert_eq!(
        conditional.url, "/api/orders?since=c%2F2",
        "the stored cursor is sent"
    );

    let items = take_all(&t.engine);
    let ids: Vec<&str> = items.iter().map(|i| i.message_id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(
        items[1].payload, r#"{"id":2,"number":"A-2"}"#,
        "the repeat was not stored"
    );
    assert_eq!(
        items[0].headers["x-integra-poll-url"],
        format!("{}/api/orders", crm.url())
    );
    let rejections = t.engine.rejected_incoming("IN", 10).unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        rejections[0].reason,
        "invalid message id: the item has no id at 'id'"
    );

    // Rejections are kept for the flow's dead retention (30 days by default).
    t.advance(Duration::from_secs(29 * 86_400));
    assert_eq!(t.engine.cleanup().unwrap().rejections, 0);
    t.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(t.engine.cleanup().unwrap().rejections, 1);
    assert!(t.engine.rejected_incoming("IN", 10).unwrap().is_empty());
}

#[test]
fn a_failing_resource_is_retried_and_its_error_shown() {
    let crm = Receiver::start(|_| Reply::status(503).body("maintenance"));
    let t = engine(
        json!({"code": "e", "base_url": crm.url()}),
        json!({"kind": "poll", "endpoint": "e", "poll": {"interval": "1s", "id": "id"}}),
        false,
    );
    let sources = t.engine.start_sources().unwrap();
    wait_until("the error is shown", Duration::from_secs(10), || {
        t.engine.source_status().unwrap().iter().any(|s| {
            s.last_error
                .as_deref()
                .is_some_and(|e| e.contains("answered 503: maintenance"))
        })
    });
    crm.set_behaviour(|_| Reply::ok().body(r#"[{"id": "x"}]"#));
    wait_for_incoming(&t.engine, 1, Duration::from_secs(10));
    wait_until("the error is cleared", Duration::from_secs(10), || {
        t.engine.source_status().unwrap()[0].last_error.is_none()
    });
    sources.stop();
}
