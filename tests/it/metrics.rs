//! Metrics: known operations, then a scrape over HTTP read with a strict OpenMetrics parser;
//! the 1C subsystem's metric names; and a scrape that costs the same with a million-row
//! backlog as with a small one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use integra::RegisterOptions;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use serde_json::{Value, json};

use crate::support::{Receiver, Reply, TestEngine, retry, with_flow};

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

/// The value of the sample of `family` with exactly `labels` (a histogram's count).
fn value(e: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let family = e.families.get(family)?;
    family.iter_samples().find_map(|s| {
        let set = s.get_labelset().ok()?;
        let matches = set.iter().count() == labels.len()
            && labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v));
        if !matches {
            return None;
        }
        Some(match &s.value {
            OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
            OpenMetricsValue::Counter(c) => c.value.as_f64(),
            OpenMetricsValue::Histogram(h) => h.count.unwrap_or_default() as f64,
            other => panic!("unexpected {other:?}"),
        })
    })
}

fn scrape(url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut request = crate::support::http::agent().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut response = request.call().unwrap();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), content_type, body)
}

fn config(shop: &str) -> Value {
    json!({
        "endpoints": [{"code": "shop", "base_url": shop, "connect_timeout": "2s", "read_timeout": "5s"}],
        "subscribers": [
            {"code": "a", "kind": "http", "endpoint": "shop", "http": {"path": "/a"}, "retry": retry(3)},
            {"code": "b", "kind": "http", "endpoint": "shop", "http": {"path": "/b"}, "retry": retry(3)}
        ],
        "schemas": [{"code": "s", "document": {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {}, "components": {"schemas": {"Doc": {"type": "object", "required": ["n"]}}}}}],
        "flows": [
            {"code": "ORDERS", "direction": "outgoing", "subscribers": ["a", "b"]},
            {"code": "IN\"x\"\\y", "direction": "incoming"},
            {"code": "DOCS", "direction": "incoming", "schema": {"schema": "s", "component": "Doc"}}
        ],
        "listeners": [
            {"code": "main", "address": "127.0.0.1:0",
             "metrics": {"auth": {"type": "bearer", "token": "scrape"}}},
            {"code": "bare", "address": "127.0.0.1:0"}
        ]
    })
}

#[test]
fn a_scrape_reports_what_was_done_with_the_1c_names_too() {
    let shop = Receiver::start(|r| {
        if r.url == "/b" {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let t = TestEngine::new(&config(shop.url()));
    for i in 0..5 {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": i}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    }
    let report = t.dispatch();
    assert_eq!((report.sent, report.failed), (5, 5));
    let inbound = "IN\"x\"\\y";
    let none = BTreeMap::new();
    t.engine.accept(inbound, "m1", "{}", &none).unwrap();
    t.engine.accept(inbound, "m1", "{}", &none).unwrap();
    assert!(t.engine.accept(inbound, "m2", "{oops", &none).is_err());
    assert!(t.engine.accept("DOCS", "d1", "{}", &none).is_err());
    t.advance(Duration::from_secs(10));

    let receiver = t.engine.start_receiver("main").unwrap();
    let url = format!("http://{}/metrics", receiver.local_addr());
    assert_eq!(scrape(&url, &[]).0, 401);
    assert_eq!(scrape(&url, &[("Authorization", "Bearer nope")]).0, 403);
    let (status, content_type, text) = scrape(&url, &[("Authorization", "Bearer scrape")]);
    assert_eq!(status, 200);
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let e = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|err| panic!("{err:?} in:\n{text}"));
    let v = |family, labels: &[(&str, &str)]| {
        value(&e, family, labels).unwrap_or_else(|| panic!("no {family} {labels:?} in:\n{text}"))
    };

    // Integra's own.
    assert_eq!(v("integra_messages_registered", &[("flow", "ORDERS")]), 5.0);
    let delivered = |subscriber, outcome| {
        v(
            "integra_deliveries",
            &[
                ("flow", "ORDERS"),
                ("subscriber", subscriber),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(delivered("a", "sent"), 5.0);
    assert_eq!(delivered("b", "error"), 5.0);
    assert_eq!(
        v(
            "integra_retries",
            &[("flow", "ORDERS"), ("stage", "delivery")]
        ),
        5.0
    );
    assert_eq!(
        v(
            "integra_delivery_duration_seconds",
            &[("flow", "ORDERS"), ("subscriber", "a")]
        ),
        5.0
    );
    assert_eq!(
        v(
            "integra_queue_deliveries",
            &[
                ("flow", "ORDERS"),
                ("subscriber", "b"),
                ("status", "send_error")
            ]
        ),
        5.0
    );
    assert_eq!(
        v(
            "integra_queue_messages",
            &[("flow", "ORDERS"), ("status", "dispatched")]
        ),
        5.0
    );
    assert_eq!(
        v(
            "integra_oldest_pending_age_seconds",
            &[("queue", "delivery"), ("flow", "ORDERS")]
        ),
        10.0
    );
    // Label values with quotes and backslashes are escaped, and read back intact.
    for (outcome, n) in [("accepted", 1.0), ("duplicate", 1.0), ("rejected", 1.0)] {
        assert_eq!(
            v(
                "integra_incoming",
                &[("flow", inbound), ("outcome", outcome)]
            ),
            n
        );
    }
    assert_eq!(
        v(
            "integra_queue_incoming",
            &[("flow", inbound), ("status", "new")]
        ),
        1.0
    );
    assert!(v("integra_database_size_bytes", &[("file", "database")]) > 0.0);
    assert_eq!(v("integra_dispatcher_threads", &[("process", "this")]), 0.0);

    // The 1C subsystem's, with the flow code as the flow label.
    assert_eq!(v("pde_queue_length", &[("label", "outcomingQueue")]), 0.0);
    assert_eq!(v("pde_queue_length", &[("label", "incomingQueue")]), 1.0);
    assert_eq!(
        v("pde_queue_length", &[("label", "outcomingFormingQueue")]),
        5.0
    );
    assert_eq!(
        v(
            "pde_oldest_pending_age_seconds",
            &[("queue", "distribution")]
        ),
        10.0
    );
    assert_eq!(
        v(
            "pde_error_count",
            &[
                ("flow_name", "ORDERS"),
                ("error_type", "send_error"),
                ("direction", "outgoing")
            ]
        ),
        5.0
    );
    assert_eq!(
        v(
            "pde_retry_count",
            &[("flow_name", "ORDERS"), ("direction", "outgoing")]
        ),
        5.0
    );
    // The windows follow the engine's clock: 10 s on, the sends are within the minute.
    assert_eq!(
        v(
            "pde_messages_per_minute",
            &[
                ("flow_name", "ORDERS"),
                ("operation", "send"),
                ("status", "success")
            ]
        ),
        5.0
    );
    assert_eq!(
        v(
            "pde_messages_per_minute",
            &[
                ("flow_name", "ORDERS"),
                ("operation", "send"),
                ("status", "error")
            ]
        ),
        5.0
    );
    let max = v(
        "pde_send_duration_seconds",
        &[("flow_name", "ORDERS"), ("aggregation", "max")],
    );
    let avg = v(
        "pde_send_duration_seconds",
        &[("flow_name", "ORDERS"), ("aggregation", "avg")],
    );
    assert!(max >= avg && avg > 0.0, "{avg} {max}");

    // The same text without HTTP, for a 1C HTTP service to serve; and no /metrics where a
    // listener does not enable it.
    let direct =
        openmetrics_parser::openmetrics::parse_openmetrics(&t.engine.metrics_text().unwrap())
            .unwrap();
    assert_eq!(
        value(
            &direct,
            "integra_messages_registered",
            &[("flow", "ORDERS")]
        ),
        Some(5.0)
    );
    let bare = t.engine.start_receiver("bare").unwrap();
    assert_eq!(
        scrape(&format!("http://{}/metrics", bare.local_addr()), &[]).0,
        404
    );
}

/// The engine's own metrics text, parsed.
fn scraped(t: &TestEngine) -> (Exposition, String) {
    let text = t.engine.metrics_text().unwrap();
    let e = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|err| panic!("{err:?} in:\n{text}"));
    (e, text)
}

/// Issue 15: `pde_queue_length` counts the levels the 1C subsystem's template counts:
/// `outcomingQueue` messages waiting to be formed (one per message), `outcomingFormingQueue`
/// deliveries waiting to be sent (one per message and subscriber), `incomingQueue` incoming
/// messages waiting to be processed.
#[test]
fn pde_queue_length_counts_the_levels_the_1c_subsystem_counts() {
    let t = TestEngine::new(&with_flow(
        config("http://127.0.0.1:9"),
        json!({"code": "FORMED", "direction": "outgoing", "subscribers": ["a"], "former": "external"}),
    ));
    for n in 0..3 {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": n}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    }
    t.engine
        .register("FORMED", "{}", &RegisterOptions::default())
        .unwrap();
    for id in ["m1", "m2"] {
        t.engine
            .accept("IN\"x\"\\y", id, "{}", &BTreeMap::new())
            .unwrap();
    }
    let (e, text) = scraped(&t);
    let length = |label| {
        value(&e, "pde_queue_length", &[("label", label)])
            .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
    };
    assert_eq!(
        length("outcomingQueue"),
        1.0,
        "the message waiting to be formed"
    );
    assert_eq!(
        length("outcomingFormingQueue"),
        6.0,
        "3 messages × 2 subscribers"
    );
    assert_eq!(length("incomingQueue"), 2.0);
}

/// Issue 15: forming and processing done outside Integra (1C through the add-in, C: the pull
/// API, which is the normal 1C case) are timed from the claim to the answer by the engine's
/// clock, so `pde_formation_duration_seconds` and `pde_incoming_duration_seconds`, and
/// Integra's histograms, report them as they do Rust formers and handlers.
#[test]
fn external_formers_and_processors_are_timed_from_claim_to_answer() {
    let t = TestEngine::new(&json!({
        "flows": [
            {"code": "FORMED", "direction": "outgoing", "former": "external", "retry": retry(3)},
            {"code": "IN", "direction": "incoming"}
        ]
    }));
    let none = RegisterOptions::default();
    let first = t.engine.register("FORMED", "{}", &none).unwrap();
    let second = t.engine.register("FORMED", "{}", &none).unwrap();
    let lease = Duration::from_secs(60);
    assert_eq!(t.engine.next_to_form(10, lease).unwrap().len(), 2);
    t.advance(Duration::from_secs(2));
    t.engine.complete_forming(&first, r#"{"n": 1}"#).unwrap();
    t.advance(Duration::from_secs(2));
    t.engine
        .fail_forming(&second, "the order is locked")
        .unwrap();
    t.engine.accept("IN", "m1", "{}", &BTreeMap::new()).unwrap();
    let items = t.engine.next_incoming(10, lease).unwrap();
    t.advance(Duration::from_secs(5));
    t.engine.ack_incoming(&items[0].id).unwrap();

    let (e, text) = scraped(&t);
    let v = |family, labels: &[(&str, &str)]| {
        value(&e, family, labels).unwrap_or_else(|| panic!("no {family} {labels:?} in:\n{text}"))
    };
    let pde =
        |family, flow, aggregation| v(family, &[("flow_name", flow), ("aggregation", aggregation)]);
    assert_eq!(pde("pde_formation_duration_seconds", "FORMED", "avg"), 3.0);
    assert_eq!(pde("pde_formation_duration_seconds", "FORMED", "max"), 4.0);
    assert_eq!(pde("pde_incoming_duration_seconds", "IN", "avg"), 5.0);
    assert_eq!(pde("pde_incoming_duration_seconds", "IN", "max"), 5.0);
    assert_eq!(
        v("integra_forming_duration_seconds", &[("flow", "FORMED")]),
        2.0,
        "two timed attempts"
    );
    assert_eq!(
        v(
            "integra_incoming_processing_duration_seconds",
            &[("flow", "IN")]
        ),
        1.0
    );
}

#[test]
fn a_scrape_costs_the_same_with_a_million_rows_waiting() {
    /// A database with `n` deliveries waiting (written straight into the tables: building
    /// a million through the API would take minutes in a debug build).
    fn with_backlog(n: u64) -> TestEngine {
        let t = TestEngine::on_file(&config("http://127.0.0.1:1"));
        let db = rusqlite::Connection::open(t.database.clone()).unwrap();
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO delivery (message_id, subscriber, flow, status, next_attempt_at,
                                   created_at, updated_at)
             SELECT i, 'b', 'ORDERS', 'send_error', ?2, ?2 + i, ?2 + i FROM n",
            (n, crate::support::T0),
        )
        .unwrap();
        t
    }
    /// The median of 15 scrapes.
    fn scrape_time(t: &TestEngine) -> Duration {
        let mut times: Vec<Duration> = (0..15)
            .map(|_| {
                let start = Instant::now();
                let text = t.engine.metrics_text().unwrap();
                let took = start.elapsed();
                assert!(text.contains("pde_queue_length"));
                took
            })
            .collect();
        times.sort();
        times[7]
    }
    let small = with_backlog(1_000);
    let large = with_backlog(1_000_000);
    let text = large.engine.metrics_text().unwrap();
    let e = openmetrics_parser::openmetrics::parse_openmetrics(&text).unwrap();
    assert_eq!(
        value(
            &e,
            "integra_queue_deliveries",
            &[
                ("flow", "ORDERS"),
                ("subscriber", "b"),
                ("status", "send_error")
            ]
        ),
        Some(1_000_000.0)
    );
    let (small_time, large_time) = (scrape_time(&small), scrape_time(&large));
    // Depths come from counts kept by trigger and ages from one index lookup, so the
    // backlog must not show; the margin absorbs a noisy machine, not a scan (a scan of a
    // million rows takes a hundred times longer).
    assert!(
        large_time <= small_time * 3 + Duration::from_millis(5),
        "a scrape took {small_time:?} with 1,000 rows waiting and {large_time:?} with 1,000,000"
    );
}

/// Issue 22: a flow whose former is a Rust handler, and an incoming flow whose processor is,
/// with none registered in this process, leave their messages waiting: the dispatch report
/// names each such flow with its waiting count, and so does a gauge, until the handler is
/// registered.
#[test]
fn work_waiting_for_a_rust_handler_this_process_lacks_is_reported_and_measured() {
    let t = TestEngine::new(&with_flow(
        with_flow(
            config("http://127.0.0.1:9"),
            json!({"code": "FORMED", "direction": "outgoing", "subscribers": [], "former": "handler"}),
        ),
        json!({"code": "HANDLED", "direction": "incoming", "processor": "handler"}),
    ));
    for n in 0..2 {
        t.engine
            .register(
                "FORMED",
                &json!({"n": n}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    }
    t.engine
        .accept("HANDLED", "m1", "{}", &BTreeMap::new())
        .unwrap();

    let report = t.dispatch();
    assert_eq!(report.total(), 0, "nothing can be done here: {report:?}");
    assert_eq!(
        report.waiting_for_former,
        BTreeMap::from([("FORMED".to_owned(), 2)])
    );
    assert_eq!(
        report.waiting_for_incoming_handler,
        BTreeMap::from([("HANDLED".to_owned(), 1)])
    );
    let (e, text) = scraped(&t);
    let waiting = |queue, flow| {
        value(
            &e,
            "integra_pending_without_handler",
            &[("queue", queue), ("flow", flow)],
        )
    };
    assert_eq!(waiting("forming", "FORMED"), Some(2.0), "{text}");
    assert_eq!(waiting("incoming", "HANDLED"), Some(1.0), "{text}");

    t.engine
        .set_former("FORMED", |_: &integra::FormingItem| {
            integra::FormOutcome::Payload(json!({}))
        })
        .unwrap();
    t.engine
        .set_incoming_handler("HANDLED", |_: &integra::IncomingItem| {
            Ok::<(), integra::HandlerError>(())
        })
        .unwrap();
    let report = t.dispatch();
    assert_eq!((report.formed, report.processed), (2, 1), "{report:?}");
    assert!(report.waiting_for_former.is_empty(), "{report:?}");
    assert!(report.waiting_for_incoming_handler.is_empty(), "{report:?}");
    let (e, text) = scraped(&t);
    assert!(
        !e.families.contains_key("integra_pending_without_handler"),
        "{text}"
    );
}
