//! Delayed delivery, re-drive, deletion, listing and cleanup.

use std::time::Duration;

use integra::{
    DeliveryStatus, Error, ListFilter, MessageStatus, RegisterOptions, RetryFilter, Timestamp,
};
use serde_json::json;

use crate::support::{Receiver, Reply, T0, TestEngine, http_config, retry, with_flow};

#[test]
fn delayed_messages_wait_for_their_time() {
    let rx = Receiver::ok();
    let config = with_flow(
        http_config(rx.url(), &["a"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    );
    let t = TestEngine::new(&config);
    let at = Timestamp::from_millis(T0 + 3_600_000);
    let later = RegisterOptions::default().with_not_before(at);
    let passed = t.engine.register("ORDERS", "{}", &later).unwrap();
    let formed = t.engine.register("DOCS", "{}", &later).unwrap();
    let now = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert!(
        t.engine
            .next_to_form(5, Duration::from_secs(30))
            .unwrap()
            .is_empty()
    );
    assert_eq!(t.status(&now), MessageStatus::Sent);

    t.advance(Duration::from_secs(3599));
    assert_eq!(t.dispatch().sent, 0);
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.status(&passed), MessageStatus::Sent);
    let items = t.engine.next_to_form(5, Duration::from_secs(30)).unwrap();
    assert_eq!(items[0].id, formed);

    let opts =
        RegisterOptions::from_json(r#"{"not_before": "2027-01-15T09:00:00Z", "object_key": "k"}"#)
            .unwrap();
    assert_eq!(opts.not_before, Some(at));
    let err = RegisterOptions::from_json(r#"{"not_before": "tomorrow"}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("'tomorrow' is not an RFC 3339 time"),
        "{err}"
    );
}

#[test]
fn re_drive_retries_dead_work_and_says_why() {
    let rx = Receiver::start(|_| Reply::status(500));
    let mut config = with_flow(
        http_config(rx.url(), &["a", "b"]),
        json!({"code": "DOCS", "direction": "outgoing", "subscribers": ["a"], "former": "external",
               "retry": retry(1)}),
    );
    config["subscribers"][0]["retry"] = retry(1);
    config["subscribers"][1]["retry"] = retry(1);
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    let doc = t
        .engine
        .register("DOCS", "{}", &RegisterOptions::default())
        .unwrap();
    t.engine.next_to_form(5, Duration::from_secs(30)).unwrap();
    t.engine.fail_forming(&doc, "broken former").unwrap();
    assert_eq!(t.dispatch().dead, 2);
    assert_eq!(t.status(&id), MessageStatus::Undelivered);
    assert_eq!(t.status(&doc), MessageStatus::Dead);

    let err = t.engine.retry(&RetryFilter::default(), " ").unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { name: "reason", .. }),
        "{err}"
    );
    let only_b = RetryFilter::default().with_subscriber("b");
    assert_eq!(
        t.engine.retry(&only_b, "shop is back").unwrap(),
        1,
        "forming is left alone with a subscriber filter"
    );
    let b = t.delivery(&id, "b");
    assert_eq!((b.status, b.attempts), (DeliveryStatus::New, 0));
    assert_eq!(t.delivery(&id, "a").status, DeliveryStatus::Dead);
    let m = t.engine.message_status(&id).unwrap();
    assert_eq!(m.status, MessageStatus::Dispatched);
    let last = m.history.last().unwrap();
    assert_eq!(
        (last.status.as_str(), last.detail.as_deref()),
        ("dispatched", Some("re-driven: shop is back"))
    );

    rx.set_behaviour(|_| Reply::ok());
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.status(&id), MessageStatus::Undelivered, "a is still dead");
    let all = RetryFilter::default().with_flow("ORDERS");
    assert_eq!(t.engine.retry(&all, "retry everything").unwrap(), 1);
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(t.status(&id), MessageStatus::Sent);

    let forming = RetryFilter::default().with_flow("DOCS");
    assert_eq!(t.engine.retry(&forming, "former fixed").unwrap(), 1);
    assert_eq!(t.status(&doc), MessageStatus::New);
    let window = RetryFilter::default().with_created_to(Timestamp::from_millis(T0));
    assert_eq!(t.engine.retry(&window, "nothing is that old").unwrap(), 0);
}

#[test]
fn listing_filters_and_pages_and_deletion_removes_everything() {
    let rx = Receiver::start(|r| {
        if r.url == "/b" {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let t = TestEngine::new(&http_config(rx.url(), &["a", "b"]));
    let ids: Vec<String> = (0..5)
        .map(|i| {
            t.advance(Duration::from_secs(1));
            t.engine
                .register(
                    "ORDERS",
                    &format!(r#"{{"i": {i}}}"#),
                    &RegisterOptions::default(),
                )
                .unwrap()
                .into()
        })
        .collect();
    t.dispatch();
    let page = t
        .engine
        .list_messages(&ListFilter::default().with_limit(2))
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        [ids[4].clone(), ids[3].clone()]
    );
    let next = ListFilter::default()
        .with_limit(10)
        .with_before_seq(page[1].seq);
    assert_eq!(t.engine.list_messages(&next).unwrap().len(), 3);
    let failing = ListFilter::default()
        .with_subscriber("b")
        .with_delivery_status(integra::DeliveryStatus::SendError)
        .with_created_from(Timestamp::from_millis(T0 + 2000));
    assert_eq!(t.engine.list_messages(&failing).unwrap().len(), 4);
    let sent_to_b = ListFilter::default()
        .with_subscriber("b")
        .with_delivery_status(integra::DeliveryStatus::Sent);
    assert!(t.engine.list_messages(&sent_to_b).unwrap().is_empty());
    // A status is typed; one read from JSON that names none is refused, naming it.
    let err = serde_json::from_str::<ListFilter>(r#"{"status": "lost"}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("'lost' is not a message status"),
        "{err}"
    );

    let counts = t.engine.counts().unwrap();
    assert_eq!(counts.messages[&integra::MessageStatus::Dispatched], 5);
    assert_eq!(
        (
            counts.deliveries[&integra::DeliveryStatus::Sent],
            counts.deliveries[&integra::DeliveryStatus::SendError]
        ),
        (5, 5)
    );
    assert!(t.engine.delete_message(&ids[0]).unwrap());
    assert!(!t.engine.delete_message(&ids[0]).unwrap());
    assert!(matches!(
        t.engine.message_status(&ids[0]),
        Err(Error::MessageNotFound { .. })
    ));
    assert_eq!(
        t.engine.counts().unwrap().deliveries[&integra::DeliveryStatus::Sent],
        4
    );
}

#[test]
fn cleanup_keeps_dead_messages_longer_than_delivered_ones() {
    let rx = Receiver::start(|r| {
        if r.body.contains("fail") {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let mut config = http_config(rx.url(), &["a"]);
    config["subscribers"][0]["retry"] = retry(1);
    config["flows"][0]["retention"] = json!({"delivered": "1d", "dead": "3d"});
    let config = with_flow(
        config,
        json!({"code": "INBOX", "direction": "incoming", "retention": {"delivered": "1d", "dead": "3d"}}),
    );
    let t = TestEngine::new(&config);
    let sent = t
        .engine
        .register("ORDERS", r#"{"ok": 1}"#, &RegisterOptions::default())
        .unwrap();
    let dead = t
        .engine
        .register("ORDERS", r#"{"fail": 1}"#, &RegisterOptions::default())
        .unwrap();
    let pending = t
        .engine
        .register(
            "ORDERS",
            "{}",
            &RegisterOptions::default()
                .with_not_before(Timestamp::from_millis(T0 + 10 * 86_400_000)),
        )
        .unwrap();
    t.dispatch();
    let processed = t
        .engine
        .accept("INBOX", "m1", "{}", &Default::default())
        .unwrap()
        .id;
    t.engine.next_incoming(1, Duration::from_secs(30)).unwrap();
    t.engine.ack_incoming(&processed).unwrap();

    t.advance(Duration::from_secs(86_400 - 1));
    assert_eq!(
        t.engine.cleanup().unwrap(),
        integra::CleanupReport::default()
    );
    t.advance(Duration::from_secs(2));
    assert_eq!(t.engine.cleanup().unwrap(), {
        let mut removed = integra::CleanupReport::default();
        (removed.messages, removed.incoming) = (1, 1);
        removed
    });
    assert!(t.engine.message_status(&sent).is_err());
    assert_eq!(t.status(&dead), MessageStatus::Undelivered);
    t.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(t.engine.cleanup().unwrap().messages, 1);
    assert!(t.engine.message_status(&dead).is_err());
    assert_eq!(
        t.status(&pending),
        MessageStatus::Dispatched,
        "unfinished messages are never removed"
    );
    // After its record is gone, the same incoming id is new again: the dedup window is the retention.
    assert!(
        !t.engine
            .accept("INBOX", "m1", "{}", &Default::default())
            .unwrap()
            .duplicate
    );
}

/// An engine whose flow ORDERS, delivering to `rx`, keeps finished messages an hour.
fn kept_an_hour(rx: &Receiver) -> TestEngine {
    TestEngine::new(&kept_an_hour_config(rx))
}

/// ORDERS to `rx`, delivered and dead messages kept an hour.
fn kept_an_hour_config(rx: &Receiver) -> serde_json::Value {
    let mut config = http_config(rx.url(), &["a"]);
    config["flows"][0]["retention"] = json!({"delivered": "1h", "dead": "1h"});
    config
}

/// A message of ORDERS registered and sent: its id.
fn sent_message(t: &TestEngine) -> String {
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    id.into()
}

#[test]
fn messages_of_a_removed_flow_get_the_default_retention() {
    let rx = Receiver::ok();
    let t = kept_an_hour(&rx);
    let id = sent_message(&t);
    t.engine.remove_flow("ORDERS").unwrap();
    t.advance(Duration::from_secs(2 * 3600));
    assert_eq!(
        t.engine.cleanup().unwrap().messages,
        0,
        "the default keeps sent messages 7 days"
    );
    t.advance(Duration::from_secs(7 * 86_400));
    assert_eq!(t.engine.cleanup().unwrap().messages, 1);
    assert!(t.engine.message_status(&id).is_err());
}

/// The store's cleanup lease as another process holding it would leave it.
fn hold_cleanup_lease(t: &TestEngine, until_ms: i64) {
    crate::support::execute_sql(
        &t.database,
        &format!(
            "INSERT INTO named_lease (name, owner, lease_until)
             VALUES ('cleanup', 'another process', {until_ms})
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,
                                              lease_until = excluded.lease_until"
        ),
    );
}

#[test]
fn a_cleanup_while_another_process_cleans_up_returns_busy_and_removes_nothing() {
    let rx = Receiver::ok();
    let t = kept_an_hour(&rx);
    let id = sent_message(&t);
    t.advance(Duration::from_secs(2 * 3600));
    let now = T0 + 2 * 3_600_000;
    hold_cleanup_lease(&t, now + 60_000);
    let report = t.engine.cleanup().unwrap();
    assert!(report.busy, "{report:?}");
    assert_eq!(report.total(), 0);
    assert_eq!(t.status(&id), MessageStatus::Sent);
    // The other process died: its lease runs out and the next cleanup takes over.
    t.advance(Duration::from_secs(61));
    let report = t.engine.cleanup().unwrap();
    assert!(!report.busy);
    assert_eq!(report.messages, 1);
    assert!(t.engine.message_status(&id).is_err());
}

#[test]
fn a_cleanup_gives_the_space_it_freed_back_and_reports_what_is_free() {
    let rx = Receiver::ok();
    // The file's free pages: SQLite's.
    let t = TestEngine::on_file(&kept_an_hour_config(&rx));
    let payload = json!({"note": "x".repeat(8_000)}).to_string();
    for _ in 0..5 {
        let batch = (0..1_000)
            .map(|_| integra::Registration {
                source: payload.clone(),
                options: RegisterOptions::default(),
            })
            .collect();
        t.engine.register_batch("ORDERS", batch).unwrap();
    }
    let path = t.database.clone();
    let before = t
        .engine
        .check_integrity(integra::IntegrityMode::Quick)
        .unwrap();
    assert!(before.space.gives_back, "a new file gives free pages back");
    assert!(before.space.file_bytes > 40 << 20, "{:?}", before.space);
    while t.dispatch().total() > 0 {}
    t.advance(Duration::from_secs(2 * 3600));
    let report = t.engine.cleanup().unwrap();
    assert_eq!(report.messages, 5_000);
    assert!(report.bytes_given_back > 30 << 20, "{report:?}");
    let after = t
        .engine
        .check_integrity(integra::IntegrityMode::Full)
        .unwrap();
    assert!(after.ok, "{after:?}");
    assert!(after.space.file_bytes < 16 << 20, "{:?}", after.space);
    assert!(after.space.free_bytes <= 8 << 20, "{:?}", after.space);
    let metrics = t.engine.metrics_text().unwrap();
    let free: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("integra_database_free_bytes{file=\"database\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no free space in the metrics:\n{metrics}"));
    assert_eq!(free as u64, after.space.free_bytes);
    // The file itself shrinks once the WAL is copied back into it.
    drop(t.engine);
    assert!(std::fs::metadata(&path).unwrap().len() < 16 << 20);
}

#[test]
fn subscriber_health_tells_successes_failures_and_what_waits() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = Arc::new(AtomicBool::new(true));
    let answer = Arc::clone(&down);
    let rx = Receiver::start(move |r| {
        if r.url.starts_with("/shop") && answer.load(Ordering::SeqCst) {
            Reply::status(503).body("down for maintenance")
        } else {
            Reply::ok()
        }
    });
    let t = TestEngine::new(&http_config(rx.url(), &["shop", "crm"]));
    let health = |code: &str| {
        t.engine
            .subscriber_health()
            .unwrap()
            .into_iter()
            .find(|h| h.subscriber == code)
            .unwrap()
    };
    // Known before anything was sent to it.
    let fresh = health("shop");
    assert_eq!(
        (fresh.last_success_at, fresh.last_failure_at, fresh.waiting),
        (None, None, 0)
    );

    for i in 0..3 {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": i}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    }
    t.dispatch();
    let shop = health("shop");
    assert_eq!(shop.consecutive_failures, 3, "{shop:?}");
    assert_eq!(shop.last_success_at, None);
    assert_eq!(shop.last_failure_at, Some(t.engine.now()));
    assert!(
        shop.last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{shop:?}"
    );
    assert_eq!((shop.waiting, shop.sending, shop.dead), (3, 0, 0));
    let crm = health("crm");
    assert_eq!(crm.last_success_at, Some(t.engine.now()));
    assert_eq!((crm.consecutive_failures, crm.waiting), (0, 0));

    // A second round of failures adds to the count; a success resets it, the last failure
    // and its reason stay for the operator.
    t.advance(Duration::from_secs(2));
    t.dispatch();
    assert_eq!(health("shop").consecutive_failures, 6);
    down.store(false, Ordering::SeqCst);
    t.advance(Duration::from_secs(10));
    t.dispatch();
    let shop = health("shop");
    assert_eq!(shop.consecutive_failures, 0, "{shop:?}");
    assert_eq!(shop.last_success_at, Some(t.engine.now()));
    assert!(shop.last_failure_at.is_some() && shop.last_error.is_some());
    assert_eq!((shop.waiting, shop.dead), (0, 0));
}

#[test]
fn incoming_messages_are_listed_newest_first_by_page() {
    use std::collections::BTreeMap;
    let t = TestEngine::new(&json!({"flows": [{"code": "IN", "direction": "incoming"},
                                               {"code": "OTHER", "direction": "incoming"}]}));
    for i in 0..5 {
        let flow = if i == 2 { "OTHER" } else { "IN" };
        t.engine
            .accept(flow, &format!("m-{i}"), "{}", &BTreeMap::new())
            .unwrap();
        t.advance(Duration::from_secs(1));
    }
    let filter = integra::IncomingFilter::default()
        .with_flow("IN")
        .with_limit(3);
    let page = t.engine.list_incoming(&filter).unwrap();
    let ids: Vec<&str> = page.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, ["m-4", "m-3", "m-1"]);
    let rest = t
        .engine
        .list_incoming(&filter.clone().with_before_seq(page[2].seq))
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].message_id, "m-0");
    let since = Timestamp::from_millis(T0 + 3_000);
    let late = integra::IncomingFilter::default().with_created_from(since);
    let late: Vec<String> = t
        .engine
        .list_incoming(&late)
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(late, ["m-4", "m-3"]);
    let by_status = integra::IncomingFilter::default().with_status(integra::IncomingStatus::Dead);
    assert!(t.engine.list_incoming(&by_status).unwrap().is_empty());
    let err = t
        .engine
        .list_incoming(&integra::IncomingFilter::default().with_limit(10_001))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
}
