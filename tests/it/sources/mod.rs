//! Sources feeding incoming flows from real brokers and a polled HTTP resource: what arrives
//! is stored once, what is invalid is rejected (never dropped), and a consumer restart loses
//! nothing and stores nothing twice.

mod amqp;
mod kafka;
mod leases;
mod mqtt;
mod poll;

use std::time::{Duration, Instant};

use integra::{Engine, IncomingItem};
use serde_json::{Value, json};

use crate::support::TestEngine;

/// An engine with incoming flow `IN` fed by `source` through `endpoint` (code `e`), ordered
/// by key, validated against a small order schema when `validated`.
pub fn engine(endpoint: Value, source: Value, validated: bool) -> TestEngine {
    TestEngine::new(&config(endpoint, source, validated))
}

pub fn config(endpoint: Value, source: Value, validated: bool) -> Value {
    let mut flow = json!({"code": "IN", "direction": "incoming", "source": source,
                          "ordering": "by_key"});
    if validated {
        flow["schema"] = json!({"schema": "orders", "component": "Order"});
    }
    json!({
        "endpoints": [endpoint],
        "schemas": [{"code": "orders", "document": {
            "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"Order": {"type": "object", "required": ["number"],
                "properties": {"number": {"type": "string"}}}}}}}],
        "flows": [flow]
    })
}

/// Waits until `engine` holds `n` incoming messages (panics after `timeout`).
pub fn wait_for_incoming(engine: &Engine, n: u64, timeout: Duration) {
    let start = Instant::now();
    loop {
        let have: u64 = engine.counts().unwrap().incoming.values().sum();
        if have >= n {
            assert_eq!(have, n, "more incoming messages than expected");
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "expected {n} incoming messages within {timeout:?}, have {have}; sources: {:?}",
            engine.source_status().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every stored incoming message, processed in the order the queue hands them out (which
/// keeps each ordering key's order).
pub fn take_all(engine: &Engine) -> Vec<IncomingItem> {
    let mut all = Vec::new();
    loop {
        let batch = engine.next_incoming(1000, Duration::from_secs(60)).unwrap();
        if batch.is_empty() {
            return all;
        }
        for item in &batch {
            engine.ack_incoming(&item.id).unwrap();
        }
        all.extend(batch);
    }
}
