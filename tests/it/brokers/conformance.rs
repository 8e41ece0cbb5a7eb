//! The conformance suite: the same tests, unchanged, against every transport's real peer.

use std::time::Duration;

use integra::{DeliveryStatus, DispatcherOptions, MessageStatus, RegisterOptions};
use serde_json::{Value, json};

use super::Peer;
use crate::support::TestEngine;
use crate::support::proxy::{Proxy, ProxyOptions};

const WAIT: Duration = Duration::from_secs(30);

fn config(peer: &dyn Peer, endpoint: Value, ordered: bool) -> Value {
    json!({
        "endpoints": [endpoint],
        "subscribers": [peer.subscriber()],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"],
                   "ordering": if ordered { "by_key" } else { "none" }}]
    })
}

fn payload(n: usize) -> String {
    json!({"n": n, "text": format!("Заказ №{n}")}).to_string()
}

fn sent(t: &TestEngine) -> u64 {
    t.engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0)
}

fn dispatch_until_sent(t: &TestEngine, n: u64) {
    let start = std::time::Instant::now();
    while sent(t) < n {
        t.engine.dispatch(1000, Duration::from_secs(10)).unwrap();
        assert!(start.elapsed() < WAIT, "only {} of {n} sent", sent(t));
    }
}

/// Messages of one key arrive in registration order, with their payload and ids.
pub fn delivers_in_order_with_ids(peer: &dyn Peer) {
    let t = TestEngine::new(&config(peer, peer.endpoint(), true));
    let options = RegisterOptions::default().with_ordering_key("K");
    let ids: Vec<String> = (0..30)
        .map(|n| {
            t.engine
                .register("ORDERS", &payload(n), &options)
                .unwrap()
                .into()
        })
        .collect();
    dispatch_until_sent(&t, 30);
    let got = peer.read(30, WAIT);
    let ns: Vec<u64> = got
        .iter()
        .map(|g| g.payload["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, (0..30).collect::<Vec<u64>>());
    assert_eq!(got[7].payload["text"], "Заказ №7");
    for (g, id) in got.iter().zip(&ids) {
        if let Some(message_id) = &g.message_id {
            assert_eq!(message_id, id);
        }
        if let Some(flow) = &g.flow {
            assert_eq!(flow, "ORDERS");
        }
    }
}

/// Hundreds of messages through the background dispatcher arrive once each.
pub fn many_arrive_exactly_once(peer: &dyn Peer) {
    let t = TestEngine::new(&config(peer, peer.endpoint(), false));
    t.engine
        .start_dispatcher(DispatcherOptions::default())
        .unwrap();
    for n in 0..250 {
        t.engine
            .register("ORDERS", &payload(n), &RegisterOptions::default())
            .unwrap();
    }
    let start = std::time::Instant::now();
    while sent(&t) < 250 {
        assert!(start.elapsed() < WAIT, "only {} of 250 sent", sent(&t));
        std::thread::sleep(Duration::from_millis(20));
    }
    t.engine.stop_dispatcher();
    let got = peer.read(250, WAIT);
    let mut ns: Vec<u64> = got
        .iter()
        .map(|g| g.payload["n"].as_u64().unwrap())
        .collect();
    ns.sort_unstable();
    assert_eq!(
        ns,
        (0..250).collect::<Vec<u64>>(),
        "each message exactly once"
    );
}

/// With nobody listening, deliveries stay pending, retried, never Sent.
pub fn an_unreachable_peer_leaves_deliveries_pending(peer: &dyn Peer) {
    let t = TestEngine::new(&config(peer, peer.unreachable_endpoint(), false));
    let ids: Vec<String> = (0..5)
        .map(|n| {
            t.engine
                .register("ORDERS", &payload(n), &RegisterOptions::default())
                .unwrap()
                .into()
        })
        .collect();
    let report = t.dispatch();
    assert_eq!((report.sent, report.failed), (0, 5));
    for id in &ids {
        let d = t.delivery(id, "s");
        assert_eq!(d.status, DeliveryStatus::SendError);
        assert!(!d.last_error.unwrap_or_default().is_empty());
        assert_eq!(t.status(id), MessageStatus::Dispatched);
    }
}

/// Connections are opened once and reused across batches.
pub fn connections_are_reused(peer: &dyn Peer) {
    let proxy = Proxy::start(0, peer.port(), ProxyOptions::default());
    let t = TestEngine::new(&config(peer, peer.endpoint_at(proxy.port), false));
    let mut after_first = 0;
    for round in 0..3 {
        for n in 0..10 {
            t.engine
                .register(
                    "ORDERS",
                    &payload(round * 10 + n),
                    &RegisterOptions::default(),
                )
                .unwrap();
        }
        dispatch_until_sent(&t, (round as u64 + 1) * 10);
        if round == 0 {
            after_first = proxy.connections();
        }
    }
    assert!(after_first >= 1);
    assert_eq!(
        proxy.connections(),
        after_first,
        "later batches opened new connections"
    );
    peer.read(30, WAIT);
}

macro_rules! conformance {
    ($($kind:ident => $peer:expr),* $(,)?) => {
        $(
            mod $kind {
                #[test]
                fn delivers_in_order_with_ids() {
                    super::delivers_in_order_with_ids(&$peer);
                }

                #[test]
                fn many_arrive_exactly_once() {
                    super::many_arrive_exactly_once(&$peer);
                }

                #[test]
                fn an_unreachable_peer_leaves_deliveries_pending() {
                    super::an_unreachable_peer_leaves_deliveries_pending(&$peer);
                }

                #[test]
                fn connections_are_reused() {
                    super::connections_are_reused(&$peer);
                }
            }
        )*
    };
}

conformance!(
    amqp => crate::brokers::amqp::AmqpPeer::new(),
    kafka => crate::brokers::kafka::KafkaPeer::new(),
    mqtt => crate::brokers::mqtt::MqttPeer::new(),
    http => crate::brokers::http_kinds::HttpPeer::http(),
    jsonrpc => crate::brokers::http_kinds::HttpPeer::jsonrpc(),
    interbase => crate::brokers::http_kinds::HttpPeer::interbase(),
);
