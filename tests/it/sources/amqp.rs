//! RabbitMQ queues feeding an incoming flow.

use std::time::Duration;

use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};

use super::{engine, take_all, wait_for_incoming};
use crate::brokers::unique;
use crate::support::brokers::{rabbit_endpoint, rabbit_url};
use crate::support::wait_until;

/// A connection to the shared RabbitMQ for publishing and inspecting.
struct Rabbit {
    rt: tokio::runtime::Runtime,
    channel: Channel,
    _connection: Connection,
    queues: Vec<String>,
}

impl Rabbit {
    fn new() -> Rabbit {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (connection, channel) = rt.block_on(async {
            let connection = Connection::connect(&rabbit_url(), ConnectionProperties::default())
                .await
                .unwrap();
            let channel = connection.create_channel().await.unwrap();
            (connection, channel)
        });
        Rabbit {
            rt,
            channel,
            _connection: connection,
            queues: Vec::new(),
        }
    }

    /// A fresh durable queue.
    fn queue(&mut self) -> String {
        let queue = unique("integra-in");
        self.rt.block_on(async {
            self.channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        durable: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .unwrap();
        });
        self.queues.push(queue.clone());
        queue
    }

    /// A fanout exchange with a fresh queue bound to it: (exchange, queue).
    fn dead_letter_exchange(&mut self) -> (String, String) {
        let exchange = unique("integra-dlx");
        let queue = self.queue();
        self.rt.block_on(async {
            self.channel
                .exchange_declare(
                    exchange.as_str().into(),
                    ExchangeKind::Fanout,
                    ExchangeDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await
                .unwrap();
            self.channel
                .queue_bind(
                    queue.as_str().into(),
                    exchange.as_str().into(),
                    "".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .unwrap();
        });
        (exchange, queue)
    }

    fn publish(&self, queue: &str, body: &str, message_id: Option<&str>, headers: &[(&str, &str)]) {
        let mut table = FieldTable::default();
        for (name, value) in headers {
            table.insert((*name).into(), AMQPValue::LongString((*value).into()));
        }
        let mut properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(table);
        if let Some(id) = message_id {
            properties = properties.with_message_id(id.into());
        }
        self.rt.block_on(async {
            self.channel
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    properties,
                )
                .await
                .unwrap()
                .await
                .unwrap();
        });
    }

    /// Messages ready in `queue`.
    fn ready(&self, queue: &str) -> u32 {
        self.rt.block_on(async {
            self.channel
                .queue_declare(
                    queue.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .unwrap()
                .message_count()
        })
    }

    /// Takes one message from `queue`: (body, headers).
    fn get(&self, queue: &str) -> Option<(String, FieldTable)> {
        self.rt.block_on(async {
            let m = self
                .channel
                .basic_get(queue.into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap()?;
            let d = m.delivery;
            Some((
                String::from_utf8(d.data).unwrap(),
                d.properties.headers().clone().unwrap_or_default(),
            ))
        })
    }
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        for queue in &self.queues {
            let _ = self.rt.block_on(
                self.channel
                    .queue_delete(queue.as_str().into(), QueueDeleteOptions::default()),
            );
        }
    }
}

fn endpoint() -> Value {
    rabbit_endpoint(5672)
}

#[test]
fn a_queue_is_stored_once_and_invalid_messages_go_to_the_dead_letter_exchange() {
    let mut rabbit = Rabbit::new();
    let queue = rabbit.queue();
    let (dlx, dead) = rabbit.dead_letter_exchange();
    let t = engine(
        endpoint(),
        json!({"kind": "amqp", "endpoint": "e",
               "amqp": {"queue": queue, "prefetch": 10, "dead_letter_exchange": dlx}}),
        true,
    );
    for i in 0..30 {
        let body = json!({"number": format!("A-{i}")}).to_string();
        let key = format!("k{}", i % 3);
        rabbit.publish(
            &queue,
            &body,
            Some(&format!("m-{i}")),
            &[("x-ordering-key", &key)],
        );
    }
    // A repeat of a message id, and two messages the flow cannot take.
    rabbit.publish(&queue, r#"{"number": "again"}"#, Some("m-0"), &[]);
    rabbit.publish(&queue, r#"{"total": 5}"#, Some("bad-1"), &[]);
    rabbit.publish(&queue, "not json", None, &[]);

    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 30, Duration::from_secs(20));
    wait_until("the queue is drained", Duration::from_secs(10), || {
        rabbit.ready(&queue) == 0
    });
    wait_until("two rejections", Duration::from_secs(10), || {
        t.engine.rejected_incoming("IN", 10).unwrap().len() == 2
    });
    sources.stop();

    let items = take_all(&t.engine);
    assert_eq!(items.len(), 30);
    let first = items.iter().find(|i| i.message_id == "m-0").unwrap();
    assert_eq!(first.payload, r#"{"number":"A-0"}"#);
    assert_eq!(first.headers["x-amqp-routing-key"], queue);
    // Per ordering key, in publishing order.
    for key in ["k0", "k1", "k2"] {
        let numbers: Vec<u32> = items
            .iter()
            .filter(|i| i.headers["x-ordering-key"] == key)
            .map(|i| i.message_id[2..].parse().unwrap())
            .collect();
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        assert_eq!(numbers, sorted, "key {key}");
    }

    let rejections = t.engine.rejected_incoming("IN", 10).unwrap();
    assert_eq!(rejections[1].message_id.as_deref(), Some("bad-1"));
    assert!(
        rejections[1]
            .reason
            .contains("\"number\" is a required property"),
        "{}",
        rejections[1].reason
    );
    assert!(
        rejections[0].reason.contains("is not valid JSON"),
        "{}",
        rejections[0].reason
    );
    assert_eq!(rejections[0].source, "amqp:e");
    let mut dead_letters = Vec::new();
    while let Some(m) = rabbit.get(&dead) {
        dead_letters.push(m);
    }
    assert_eq!(dead_letters.len(), 2);
    let (body, headers) = &dead_letters[0];
    assert_eq!(body, r#"{"total": 5}"#);
    match headers.inner().get("x-integra-error") {
        Some(AMQPValue::LongString(error)) => {
            assert!(error.to_string().contains("required property"), "{error}");
        }
        other => panic!("no error header: {other:?}"),
    }
}

#[test]
fn without_a_dead_letter_exchange_invalid_messages_are_acknowledged_and_recorded() {
    let mut rabbit = Rabbit::new();
    let queue = rabbit.queue();
    let t = engine(
        endpoint(),
        json!({"kind": "amqp", "endpoint": "e", "amqp": {"queue": queue}}),
        true,
    );
    rabbit.publish(&queue, r#"{"number": 7}"#, Some("x"), &[]);
    rabbit.publish(&queue, r#"{"number": "7"}"#, Some("y"), &[]);
    let _sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 1, Duration::from_secs(20));
    wait_until("the queue is drained", Duration::from_secs(10), || {
        rabbit.ready(&queue) == 0
    });
    let rejections = t.engine.rejected_incoming("IN", 10).unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        (
            rejections[0].message_id.as_deref(),
            rejections[0].payload.as_str()
        ),
        (Some("x"), r#"{"number": 7}"#)
    );
}

#[test]
fn a_consumer_restarted_mid_stream_loses_nothing_and_stores_nothing_twice() {
    let mut rabbit = Rabbit::new();
    let queue = rabbit.queue();
    let t = engine(
        endpoint(),
        json!({"kind": "amqp", "endpoint": "e", "amqp": {"queue": queue, "prefetch": 5}}),
        false,
    );
    for i in 0..200 {
        rabbit.publish(
            &queue,
            &json!({"i": i}).to_string(),
            Some(&format!("m-{i}")),
            &[],
        );
    }
    for _ in 0..3 {
        let sources = t.engine.start_sources().unwrap();
        wait_until("some progress", Duration::from_secs(20), || {
            t.engine.counts().unwrap().incoming.values().sum::<u64>() > 0
        });
        sources.stop();
    }
    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 200, Duration::from_secs(30));
    wait_until("the queue is drained", Duration::from_secs(10), || {
        rabbit.ready(&queue) == 0
    });
    sources.stop();
    let mut ids: Vec<String> = take_all(&t.engine)
        .into_iter()
        .map(|i| i.message_id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
}

#[test]
fn an_inactive_flow_leaves_its_queue_alone_until_switched_on() {
    let mut rabbit = Rabbit::new();
    let queue = rabbit.queue();
    let mut c = super::config(
        endpoint(),
        json!({"kind": "amqp", "endpoint": "e", "amqp": {"queue": queue}}),
        false,
    );
    c["flows"][0]["active"] = json!(false);
    let t = crate::support::TestEngine::new(&c);
    rabbit.publish(&queue, "{}", Some("a"), &[]);
    let _sources = t.engine.start_sources().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(rabbit.ready(&queue), 1, "nothing was taken");
    let mut flow = t.engine.config().unwrap().flows[0].clone();
    flow.active = true;
    t.engine.put_flow(flow).unwrap();
    wait_for_incoming(&t.engine, 1, Duration::from_secs(20));
}
