//! RabbitMQ: the shared broker for most tests, a node of its own for the restart.

use std::sync::Arc;
use std::time::Duration;

use integra::{DeliveryStatus, DispatcherOptions, RegisterOptions};
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};

use super::{Got, Peer, both_keys, collect, unique};
use crate::support::TestEngine;
use crate::support::brokers::{RabbitNode, rabbit_endpoint, rabbit_url};
use crate::support::proxy::{Proxy, ProxyOptions};
use crate::support::tls::Pki;

/// A durable queue on a RabbitMQ, read back with `basic_get`.
pub struct AmqpPeer {
    pub queue: String,
    port: u16,
    rt: Arc<tokio::runtime::Runtime>,
    channel: Channel,
    _connection: Connection,
}

fn runtime() -> Arc<tokio::runtime::Runtime> {
    Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    )
}

fn header(headers: &Option<FieldTable>, name: &str) -> Option<String> {
    match headers.as_ref()?.inner().get(name)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        other => Some(format!("{other:?}")),
    }
}

impl AmqpPeer {
    /// A fresh queue on the shared broker.
    pub fn new() -> AmqpPeer {
        AmqpPeer::on(&rabbit_url())
    }

    /// A fresh queue on the broker at `url`.
    pub fn on(url: &str) -> AmqpPeer {
        AmqpPeer::attach(url, &unique("integra-test"))
    }

    /// The durable queue `queue` on the broker at `url` (declared if it does not exist).
    pub fn attach(url: &str, queue: &str) -> AmqpPeer {
        let rt = runtime();
        let queue = queue.to_owned();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(5672);
        let (connection, channel) = rt.block_on(async {
            let connection = Connection::connect(url, ConnectionProperties::default())
                .await
                .unwrap();
            let channel = connection.create_channel().await.unwrap();
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(queue.as_str().into(), durable, FieldTable::default())
                .await
                .unwrap();
            (connection, channel)
        });
        AmqpPeer {
            queue,
            port,
            rt,
            channel,
            _connection: connection,
        }
    }

    /// Reads one message off the queue, if there is one.
    fn get(&self) -> Option<(Got, lapin::BasicProperties)> {
        self.rt.block_on(async {
            let message = self
                .channel
                .basic_get(
                    self.queue.as_str().into(),
                    BasicGetOptions { no_ack: false },
                )
                .await
                .unwrap()?;
            let d = message.delivery;
            self.channel
                .basic_ack(d.delivery_tag, BasicAckOptions::default())
                .await
                .unwrap();
            let headers = d.properties.headers().clone();
            let got = Got {
                payload: serde_json::from_slice(&d.data).unwrap(),
                message_id: d.properties.message_id().as_ref().map(ToString::to_string),
                flow: header(&headers, "x-flow"),
                key: header(&headers, "x-ordering-key")
                    .or_else(|| header(&headers, "x-object-key")),
            };
            Some((got, d.properties))
        })
    }
}

impl Drop for AmqpPeer {
    fn drop(&mut self) {
        let (channel, queue) = (self.channel.clone(), self.queue.clone());
        self.rt.block_on(async move {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        });
    }
}

impl Peer for AmqpPeer {
    fn port(&self) -> u16 {
        self.port
    }

    fn endpoint_at(&self, port: u16) -> Value {
        rabbit_endpoint(port)
    }

    fn subscriber(&self) -> Value {
        json!({"code": "s", "kind": "amqp", "endpoint": "e", "retry": crate::support::retry(10),
               "amqp": {"exchange": "", "routing_key": self.queue}})
    }

    fn read(&self, n: usize, timeout: Duration) -> Vec<Got> {
        collect(n, timeout, |got| {
            while let Some((g, _)) = self.get() {
                got.push(g);
            }
        })
    }
}

fn one_flow(peer: &AmqpPeer, endpoint: Value, subscriber: Value) -> TestEngine {
    let _ = peer;
    TestEngine::new(&json!({
        "endpoints": [endpoint],
        "subscribers": [subscriber],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    }))
}

#[test]
fn messages_are_persistent_and_carry_their_ids_in_properties_and_headers() {
    let peer = AmqpPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["amqp"]["headers"] = json!({"x-source": "1c"});
    let t = one_flow(&peer, peer.endpoint(), subscriber);
    let id = t
        .engine
        .register(
            "ORDERS",
            r#"{"n": 1}"#,
            &RegisterOptions::object_key("doc-1"),
        )
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    let (got, properties) = collect_one(&peer);
    assert_eq!(got.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(got.flow.as_deref(), Some("ORDERS"));
    assert_eq!(got.key.as_deref(), Some("doc-1"));
    assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
    assert_eq!(
        properties
            .content_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("application/json")
    );
    assert_eq!(
        header(properties.headers(), "x-source").as_deref(),
        Some("1c")
    );
}

fn collect_one(peer: &AmqpPeer) -> (Got, lapin::BasicProperties) {
    let start = std::time::Instant::now();
    loop {
        if let Some(m) = peer.get() {
            return m;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "nothing arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_unroutable_message_is_a_failure_not_a_silent_ack() {
    let peer = AmqpPeer::new();
    let nowhere = json!({"code": "s", "kind": "amqp", "endpoint": "e",
                         "amqp": {"exchange": "amq.direct", "routing_key": unique("no-queue-bound")}});
    let t = one_flow(&peer, peer.endpoint(), nowhere);
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().failed, 1);
    let d = t.delivery(&id, "s");
    assert_eq!(d.status, DeliveryStatus::SendError);
    let error = d.last_error.unwrap();
    assert!(
        error.contains("312 NO_ROUTE") && error.contains("no queue takes it"),
        "{error}"
    );
}

#[test]
fn a_wrong_password_is_refused_and_retried() {
    let peer = AmqpPeer::new();
    let mut endpoint = peer.endpoint();
    endpoint["auth"]["password"] = json!("not-guest");
    let t = one_flow(&peer, endpoint, peer.subscriber());
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().failed, 1);
    let error = t.delivery(&id, "s").last_error.unwrap();
    assert!(
        error.contains("cannot connect") && error.contains("ACCESS_REFUSED"),
        "{error}"
    );
    assert!(
        !error.contains("not-guest"),
        "the password must not appear in the error"
    );
}

#[test]
fn amqps_verifies_the_broker_and_trusts_a_private_ca() {
    let peer = AmqpPeer::new();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let proxy = Proxy::start(
        0,
        peer.port(),
        ProxyOptions {
            tls: Some(pki.server_config(false)),
            ..Default::default()
        },
    );
    let mut endpoint = peer.endpoint();
    endpoint["base_url"] = json!(format!("amqps://127.0.0.1:{}/%2f", proxy.port));
    let t = one_flow(&peer, endpoint.clone(), peer.subscriber());
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().failed, 1, "an unknown CA is refused");
    assert!(
        t.delivery(&id, "s")
            .last_error
            .unwrap()
            .to_lowercase()
            .contains("certificate")
    );

    endpoint["tls"] = json!({"ca_file": pki.ca_file});
    let t = one_flow(&peer, endpoint, peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 2}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 2);
}

/// The broker goes down in the middle of a stream and comes back: nothing is lost, and
/// nothing is Sent that it did not confirm (a durable queue keeps what it confirmed).
#[test]
fn a_broker_restart_mid_stream_loses_nothing() {
    let mut node = RabbitNode::start();
    let queue = AmqpPeer::on(&node.url()).queue.clone();
    let peer = AmqpPeer::attach(&node.url(), &queue);
    let mut subscriber = peer.subscriber();
    subscriber["retry"] = crate::support::retry(50);
    let endpoint = peer.endpoint_at(node.port);
    let t = one_flow(&peer, endpoint, subscriber);
    let options = DispatcherOptions::default().with_poll_interval(Duration::from_millis(50));
    t.engine.start_dispatcher(options).unwrap();
    let total: u64 = 300;
    let register = |n: u64| {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": n}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    };
    (0..total / 2).for_each(register);
    node.stop();
    (total / 2..total).for_each(register);
    std::thread::sleep(Duration::from_millis(300));
    node.resume();
    // Failed deliveries back off; let the engine's clock run so their retries come due.
    let start = std::time::Instant::now();
    while t
        .engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0)
        < total
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not everything was sent after the restart"
        );
        t.advance(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(100));
    }
    t.engine.stop_dispatcher();
    let failures = t.engine.list_messages(
        &integra::ListFilter::default().with_delivery_status(integra::DeliveryStatus::Dead),
    );
    assert!(failures.unwrap().is_empty());
    let reader = AmqpPeer::attach(&node.url(), &queue);
    let got = reader.read(total as usize, Duration::from_secs(30));
    let mut ns: Vec<u64> = got
        .iter()
        .map(|g| g.payload["n"].as_u64().unwrap())
        .collect();
    let received = ns.len();
    ns.sort_unstable();
    ns.dedup();
    assert_eq!(
        ns,
        (0..total).collect::<Vec<u64>>(),
        "every message reached the queue"
    );
    // Messages in flight when the broker stopped may arrive twice (at least once).
    assert!(
        received - ns.len() <= 100,
        "{} duplicates",
        received - ns.len()
    );
}

/// Issue 15: the ordering key travels as `x-ordering-key` on a flow that does not order by
/// key too (a consumer that partitions by customer needs it), beside the object key.
#[test]
fn the_ordering_key_travels_as_a_header_on_an_unordered_flow() {
    let peer = AmqpPeer::new();
    let t = one_flow(&peer, peer.endpoint(), peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 1}"#, &both_keys())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    let (_, properties) = collect_one(&peer);
    assert_eq!(
        header(properties.headers(), "x-ordering-key").as_deref(),
        Some("customer-7")
    );
    assert_eq!(
        header(properties.headers(), "x-object-key").as_deref(),
        Some("doc-1")
    );
}

/// Issue 15: a routing key made from a message's object key that AMQP cannot carry (over 255
/// bytes) fails that message alone, as unsendable: dead at once with the reason, not retried
/// to the end of its attempts.
#[test]
fn a_routing_key_too_long_for_amqp_is_dead_at_once() {
    let peer = AmqpPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["amqp"]["routing_key"] = json!("{object_key}");
    let t = one_flow(&peer, peer.endpoint(), subscriber);
    let id = t
        .engine
        .register(
            "ORDERS",
            "{}",
            &RegisterOptions::object_key("k".repeat(300)),
        )
        .unwrap();
    assert_eq!(t.dispatch().dead, 1);
    let d = t.delivery(&id, "s");
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 1));
    assert!(d.last_error.unwrap().contains("the routing key of message"));
}

/// Issue 22: a routing key was expanded once per placeholder, so an object key holding
/// `{message_id}` had the message id put in its place and went to no queue. It is sent as
/// written, to the queue of that name.
#[test]
fn a_routing_key_is_rendered_once() {
    let peer = AmqpPeer::attach(&rabbit_url(), &unique("integra-test.{message_id}"));
    let mut subscriber = peer.subscriber();
    subscriber["amqp"]["routing_key"] = json!("{object_key}");
    let t = one_flow(&peer, peer.endpoint(), subscriber);
    t.engine
        .register(
            "ORDERS",
            r#"{"n": 3}"#,
            &RegisterOptions::object_key(&peer.queue),
        )
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 3);
}
