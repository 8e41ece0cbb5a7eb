//! Kafka partitions feeding an incoming flow, against tansu.

use std::collections::BTreeMap;
use std::time::Duration;

use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use serde_json::{Value, json};

use super::{engine, take_all, wait_for_incoming};
use crate::brokers::unique;
use crate::support::brokers::Tansu;
use crate::support::wait_until;

/// A producer and reader on one broker.
struct Kafka {
    broker: Tansu,
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Kafka {
    fn start() -> Kafka {
        let broker = Tansu::start();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(async {
            ClientBuilder::new(vec![format!("127.0.0.1:{}", broker.port)])
                .backoff_config(rskafka::BackoffConfig {
                    deadline: Some(Duration::from_secs(10)),
                    ..Default::default()
                })
                .build()
                .await
                .unwrap()
        });
        Kafka { broker, rt, client }
    }

    fn topic(&self, partitions: u32) -> String {
        let topic = unique("integra-in");
        self.broker.create_topic(&topic, partitions);
        topic
    }

    fn partition(&self, topic: &str, partition: i32) -> PartitionClient {
        self.rt.block_on(async {
            self.client
                .partition_client(topic, partition, UnknownTopicHandling::Retry)
                .await
                .unwrap()
        })
    }

    /// Produces `(key, value, message_id header)` records to one partition.
    fn produce(
        &self,
        topic: &str,
        partition: i32,
        records: &[(Option<&str>, String, Option<String>)],
    ) {
        let client = self.partition(topic, partition);
        let records = records
            .iter()
            .map(|(key, value, id)| Record {
                key: key.map(|k| k.as_bytes().to_vec()),
                value: Some(value.as_bytes().to_vec()),
                headers: id
                    .iter()
                    .map(|id| ("message_id".to_owned(), id.as_bytes().to_vec()))
                    .collect(),
                timestamp: rskafka::chrono::DateTime::from_timestamp_millis(1_800_000_000_000)
                    .unwrap(),
            })
            .collect();
        self.rt
            .block_on(client.produce(records, Compression::NoCompression))
            .unwrap();
    }

    /// Every record value of partition 0 of `topic`.
    fn read(&self, topic: &str) -> Vec<Value> {
        let client = self.partition(topic, 0);
        self.rt.block_on(async {
            let end = client.get_offset(OffsetAt::Latest).await.unwrap();
            if end == 0 {
                return Vec::new();
            }
            let (records, _) = client.fetch_records(0, 1..10_000_000, 1000).await.unwrap();
            records
                .into_iter()
                .map(|r| serde_json::from_slice(&r.record.value.unwrap()).unwrap())
                .collect()
        })
    }

    fn endpoint(&self) -> Value {
        json!({"code": "e", "base_url": format!("kafka://127.0.0.1:{}", self.broker.port),
               "connect_timeout": "3s"})
    }
}

fn order(n: usize) -> String {
    json!({"number": format!("A-{n}")}).to_string()
}

#[test]
fn partitions_are_read_with_ids_keys_and_a_dead_letter_topic_as_1c_writes_it() {
    let kafka = Kafka::start();
    let topic = kafka.topic(2);
    let dlq = kafka.topic(1);
    let t = engine(
        kafka.endpoint(),
        json!({"kind": "kafka", "endpoint": "e",
               "kafka": {"topic": topic, "dead_letter_topic": dlq, "max_wait": "200ms"}}),
        true,
    );
    // Partition 0: records with Integra's message_id header and keys; a repeat of one id.
    let p0: Vec<_> = (0..10)
        .map(|i| {
            (
                Some(if i % 2 == 0 { "even" } else { "odd" }),
                order(i),
                Some(format!("m-{i}")),
            )
        })
        .chain([(None, order(99), Some("m-0".to_owned()))])
        .collect();
    kafka.produce(&topic, 0, &p0);
    // Partition 1: records without ids, and one the flow's schema refuses.
    let p1 = vec![
        (None, order(20), None),
        (None, r#"{"total": 1}"#.to_owned(), None),
        (None, order(21), None),
    ];
    kafka.produce(&topic, 1, &p1);

    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 12, Duration::from_secs(20));
    wait_until("the dead letter", Duration::from_secs(10), || {
        !kafka.read(&dlq).is_empty()
    });
    sources.stop();

    let items = take_all(&t.engine);
    let by_id: BTreeMap<&str, &integra::IncomingItem> =
        items.iter().map(|i| (i.message_id.as_str(), i)).collect();
    assert_eq!(by_id.len(), 12);
    assert_eq!(by_id["m-0"].payload, order(0), "the repeat was not stored");
    assert_eq!(by_id["m-3"].headers["x-ordering-key"], "odd");
    let fallback = format!("{topic}/1/0");
    assert_eq!(by_id[fallback.as_str()].payload, order(20));
    assert_eq!(by_id[format!("{topic}/1/2").as_str()].payload, order(21));
    assert_eq!(by_id["m-4"].headers["x-kafka-partition"], "0");
    assert_eq!(by_id["m-4"].headers["x-kafka-offset"], "4");

    let dead = kafka.read(&dlq);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["original_topic"], topic.as_str());
    assert_eq!(dead[0]["original_partition"], 1);
    assert_eq!(dead[0]["original_offset"], 1);
    assert_eq!(dead[0]["original_payload"], r#"{"total": 1}"#);
    assert!(
        dead[0]["error_message"]
            .as_str()
            .unwrap()
            .contains("\"number\" is a required property"),
        "{}",
        dead[0]
    );
    assert!(
        dead[0]["failed_at"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-15T08:00:00")
    );
    let rejections = t.engine.rejected_incoming("IN", 10).unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        rejections[0].message_id.as_deref(),
        Some(format!("{topic}/1/1").as_str())
    );
}

#[test]
fn a_consumer_restarted_mid_stream_resumes_at_the_stored_offset() {
    let kafka = Kafka::start();
    let topic = kafka.topic(1);
    let t = engine(
        kafka.endpoint(),
        json!({"kind": "kafka", "endpoint": "e", "kafka": {"topic": topic, "max_wait": "100ms"}}),
        false,
    );
    let batch =
        |from: usize| -> Vec<_> { (from..from + 50).map(|i| (None, order(i), None)).collect() };
    kafka.produce(&topic, 0, &batch(0));
    let sources = t.engine.start_sources().unwrap();
    wait_until("some progress", Duration::from_secs(20), || {
        t.engine.counts().unwrap().incoming.values().sum::<u64>() > 0
    });
    sources.stop();
    // Written while the consumer was away.
    kafka.produce(&topic, 0, &batch(50));
    kafka.produce(&topic, 0, &batch(100));
    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 150, Duration::from_secs(20));
    sources.stop();
    // Started again with nothing new: the stored offsets hold, nothing is read twice.
    let sources = t.engine.start_sources().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    sources.stop();
    let items = take_all(&t.engine);
    assert_eq!(items.len(), 150);
    let payloads: Vec<&str> = items.iter().map(|i| i.payload.as_str()).collect();
    let expected: Vec<String> = (0..150).map(order).collect();
    assert_eq!(payloads, expected, "every record once, in offset order");
}

#[test]
fn a_new_partition_starts_at_the_latest_offset_when_asked_to() {
    let kafka = Kafka::start();
    let topic = kafka.topic(1);
    kafka.produce(&topic, 0, &[(None, order(1), None)]);
    let t = engine(
        kafka.endpoint(),
        json!({"kind": "kafka", "endpoint": "e",
               "kafka": {"topic": topic, "start": "latest", "partitions": [0], "max_wait": "100ms"}}),
        false,
    );
    let sources = t.engine.start_sources().unwrap();
    wait_until("the source is connected", Duration::from_secs(20), || {
        t.engine
            .source_status()
            .unwrap()
            .iter()
            .any(|s| s.held && s.last_error.is_none())
    });
    std::thread::sleep(Duration::from_millis(500));
    kafka.produce(&topic, 0, &[(None, order(2), None)]);
    wait_for_incoming(&t.engine, 1, Duration::from_secs(20));
    sources.stop();
    assert_eq!(take_all(&t.engine)[0].payload, order(2));
}
