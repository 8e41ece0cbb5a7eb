//! Incoming messages processed by Rust handlers on the dispatcher: retries, backoff, Dead,
//! panics, FIFO per ordering key, and the split between handlers and the pull API.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use integra::{DispatcherOptions, Error, HandlerError, IncomingItem, IncomingStatus};
use serde_json::json;

use crate::support::{TestEngine, retry};

fn engine() -> TestEngine {
    TestEngine::new(&json!({
        "flows": [
            {"code": "HANDLED", "direction": "incoming", "processor": "handler",
             "ordering": "by_key", "retry": retry(3)},
            {"code": "PULLED", "direction": "incoming"},
            {"code": "OUT", "direction": "outgoing"}
        ]
    }))
}

fn accept(t: &TestEngine, flow: &str, id: &str, key: Option<&str>) -> String {
    let mut headers = BTreeMap::new();
    if let Some(key) = key {
        headers.insert("X-Ordering-Key".to_owned(), key.to_owned());
    }
    t.engine
        .accept(flow, id, &json!({"id": id}).to_string(), &headers)
        .unwrap()
        .id
        .into()
}

/// What a handler saw, by message id, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// A handler that records what it processed and fails the ids in `failing` each time.
fn recorder(
    failing: &'static [&'static str],
) -> (Seen, impl Fn(&IncomingItem) -> Result<(), String>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let handler = move |item: &IncomingItem| {
        log.lock().unwrap().push(item.message_id.clone());
        if failing.contains(&item.message_id.as_str()) {
            Err(format!("cannot post {}", item.message_id))
        } else {
            Ok(())
        }
    };
    (seen, handler)
}

#[test]
fn handlers_process_with_retries_backoff_and_dead() {
    let t = engine();
    let ok = accept(&t, "HANDLED", "ok", None);
    let bad = accept(&t, "HANDLED", "bad", None);
    let pulled = accept(&t, "PULLED", "p", None);
    // No handler registered in this process yet: nothing is processed.
    assert_eq!(t.dispatch().total(), 0);

    let (seen, handler) = recorder(&["bad"]);
    t.engine.set_incoming_handler("HANDLED", handler).unwrap();
    let report = t.dispatch();
    assert_eq!((report.processed, report.processing_failed), (1, 1));
    assert_eq!(
        t.engine.incoming_status(&ok).unwrap().status,
        IncomingStatus::Processed
    );
    let failed = t.engine.incoming_status(&bad).unwrap();
    assert_eq!(failed.status, IncomingStatus::Error);
    assert_eq!(failed.last_error.as_deref(), Some("cannot post bad"));
    // Backoff: not again before its time (1 s, then 2 s), then Dead after 3 attempts.
    assert_eq!(t.dispatch().total(), 0);
    t.advance(Duration::from_secs(1));
    assert_eq!(t.dispatch().processing_failed, 1);
    t.advance(Duration::from_secs(2));
    assert_eq!(t.dispatch().processing_failed, 1);
    assert_eq!(
        t.engine.incoming_status(&bad).unwrap().status,
        IncomingStatus::Dead
    );
    assert_eq!(*seen.lock().unwrap(), ["ok", "bad", "bad", "bad"]);
    // The pulled flow was left to the pull API, which never sees the handled flow.
    assert_eq!(
        t.engine.incoming_status(&pulled).unwrap().status,
        IncomingStatus::New
    );
    let items = t.engine.next_incoming(10, Duration::from_secs(30)).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, pulled);
}

/// Issue 16: a handler that knows its failure will not pass says so, and the message is Dead
/// at once, with its reason, its attempts left unspent; a retryable failure beside it is
/// retried as before.
#[test]
fn a_permanent_handler_error_ends_the_message_dead_at_once() {
    let t = engine();
    let gone = accept(&t, "HANDLED", "gone", None);
    let busy = accept(&t, "HANDLED", "busy", None);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    t.engine
        .set_incoming_handler("HANDLED", move |item: &IncomingItem| {
            seen.lock().unwrap().push(item.message_id.clone());
            match item.message_id.as_str() {
                "gone" => Err(HandlerError::permanent("order 'gone' does not exist")),
                _ => Err(HandlerError::retry("the warehouse is busy")),
            }
        })
        .unwrap();
    let report = t.dispatch();
    assert_eq!(report.processing_failed, 2);
    let dead = t.engine.incoming_status(&gone).unwrap();
    assert_eq!((dead.status, dead.attempts), (IncomingStatus::Dead, 1));
    assert_eq!(
        dead.last_error.as_deref(),
        Some("order 'gone' does not exist")
    );
    assert_eq!(
        t.engine.incoming_status(&busy).unwrap().status,
        IncomingStatus::Error
    );
    t.advance(Duration::from_secs(3600));
    t.dispatch();
    assert_eq!(*calls.lock().unwrap(), ["gone", "busy", "busy"]);
}

#[test]
fn a_panicking_handler_is_a_failed_attempt() {
    let t = engine();
    let id = accept(&t, "HANDLED", "boom", None);
    t.engine
        .set_incoming_handler("HANDLED", |_: &IncomingItem| -> Result<(), String> {
            panic!("the handler broke")
        })
        .unwrap();
    assert_eq!(t.dispatch().processing_failed, 1);
    let r = t.engine.incoming_status(&id).unwrap();
    assert_eq!(r.status, IncomingStatus::Error);
    assert_eq!(
        r.last_error.as_deref(),
        Some("the handler of flow 'HANDLED' panicked")
    );
}

#[test]
fn each_ordering_key_is_processed_in_order_and_a_failing_key_holds_back_only_itself() {
    let t = engine();
    for (id, key) in [
        ("a1", "a"),
        ("b1", "b"),
        ("a2", "a"),
        ("b2", "b"),
        ("a3", "a"),
    ] {
        accept(&t, "HANDLED", id, Some(key));
    }
    let (seen, handler) = recorder(&["a1"]);
    t.engine.set_incoming_handler("HANDLED", handler).unwrap();
    for _ in 0..3 {
        t.dispatch();
    }
    // a1 failed: a2 and a3 wait behind it; b went on.
    assert_eq!(*seen.lock().unwrap(), ["a1", "b1", "b2"]);
    t.advance(Duration::from_secs(1));
    t.dispatch();
    t.advance(Duration::from_secs(2));
    t.dispatch();
    // a1 is Dead after its third attempt and still holds its key back: order matters more
    // than progress, until someone re-drives or deletes it.
    assert_eq!(*seen.lock().unwrap(), ["a1", "b1", "b2", "a1", "a1"]);
}

#[test]
fn the_background_dispatcher_runs_handlers_on_its_threads() {
    let t = engine();
    let (seen, handler) = recorder(&[]);
    t.engine.set_incoming_handler("HANDLED", handler).unwrap();
    t.engine
        .start_dispatcher(
            DispatcherOptions::default()
                .with_threads(4)
                .with_poll_interval(Duration::from_millis(20)),
        )
        .unwrap();
    for i in 0..100 {
        accept(
            &t,
            "HANDLED",
            &format!("m{i}"),
            Some(&format!("k{}", i % 7)),
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while t
        .engine
        .counts()
        .unwrap()
        .incoming
        .get(&integra::IncomingStatus::Processed)
        .copied()
        .unwrap_or(0)
        < 100
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            t.engine.counts().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    t.engine.stop_dispatcher();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 100, "each processed once");
    for k in 0..7 {
        let order: Vec<usize> = seen
            .iter()
            .map(|id| id[1..].parse::<usize>().unwrap())
            .filter(|i| i % 7 == k)
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "key k{k} kept its order");
    }
}

#[test]
fn handlers_are_registered_only_on_flows_that_take_them() {
    let t = engine();
    let ok = |_: &IncomingItem| -> Result<(), String> { Ok(()) };
    let err = t.engine.set_incoming_handler("PULLED", ok).unwrap_err();
    assert!(matches!(err, Error::WrongProcessor { .. }));
    assert_eq!(
        err.to_string(),
        "flow 'PULLED' is processed externally (with next_incoming); set its processor to 'handler' to register a Rust handler"
    );
    let err = t.engine.set_incoming_handler("OUT", ok).unwrap_err();
    assert_eq!(
        err.to_string(),
        "flow 'OUT' is outgoing, so it cannot be used to process incoming messages"
    );
    assert!(matches!(
        t.engine.set_incoming_handler("NOPE", ok),
        Err(Error::UnknownFlow { .. })
    ));
    let text = t
        .engine
        .load_config_json(
            &json!({"flows": [{"code": "X", "direction": "outgoing", "processor": "handler"}]})
                .to_string(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("flow 'X', field 'processor': an outgoing flow has no processor"),
        "{text}"
    );
}
