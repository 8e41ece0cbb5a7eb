//! Kafka, against tansu (a Kafka-compatible broker), one broker per test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use integra::{DeliveryStatus, DispatcherOptions, RegisterOptions};
use rskafka::client::ClientBuilder;
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use serde_json::{Value, json};

use super::{Got, Peer, both_keys, collect, unique};
use crate::support::TestEngine;
use crate::support::brokers::{Tansu, free_port};
use crate::support::proxy::{Proxy, ProxyOptions};
use crate::support::tls::Pki;

/// A topic on a broker of its own, read back from partition 0 (or all partitions).
pub struct KafkaPeer {
    pub broker: Tansu,
    pub topic: String,
    partitions: u32,
    /// How the reader reaches the broker: its own port in plaintext, or a TLS proxy.
    via: Option<(u16, Arc<rustls::ClientConfig>)>,
    rt: tokio::runtime::Runtime,
    /// The next offset to read, per partition.
    next: Mutex<BTreeMap<i32, i64>>,
}

impl KafkaPeer {
    pub fn new() -> KafkaPeer {
        KafkaPeer::with(Tansu::start(), 1)
    }

    pub fn with(broker: Tansu, partitions: u32) -> KafkaPeer {
        let topic = unique("integra-test");
        broker.create_topic(&topic, partitions);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        KafkaPeer {
            broker,
            topic,
            partitions,
            via: None,
            rt,
            next: Mutex::new(BTreeMap::new()),
        }
    }

    /// The reader connects through the TLS proxy at `port` with `tls`.
    pub fn through_tls(mut self, port: u16, tls: Arc<rustls::ClientConfig>) -> KafkaPeer {
        self.via = Some((port, tls));
        self
    }

    fn partition(&self, partition: i32) -> Arc<PartitionClient> {
        self.rt.block_on(async {
            let port = self.via.as_ref().map_or(self.broker.port, |(p, _)| *p);
            let backoff = rskafka::BackoffConfig {
                deadline: Some(Duration::from_secs(10)),
                ..Default::default()
            };
            let mut builder =
                ClientBuilder::new(vec![format!("127.0.0.1:{port}")]).backoff_config(backoff);
            if let Some((_, tls)) = &self.via {
                builder = builder.tls_config(Arc::clone(tls));
            }
            let client = builder.build().await.unwrap();
            Arc::new(
                client
                    .partition_client(self.topic.clone(), partition, UnknownTopicHandling::Retry)
                    .await
                    .unwrap(),
            )
        })
    }

    /// Records of `partition` not read yet, with their keys.
    fn fetch(&self, partition: &PartitionClient, id: i32) -> Vec<Got> {
        let mut next = self.next.lock().unwrap();
        let from = *next.entry(id).or_insert(0);
        let records = self.rt.block_on(async {
            let latest = partition.get_offset(OffsetAt::Latest).await.unwrap_or(0);
            if latest <= from {
                return Vec::new();
            }
            partition
                .fetch_records(from, 1..10_000_000, 500)
                .await
                .map(|(r, _)| r)
                .unwrap_or_default()
        });
        let mut out = Vec::new();
        for r in records {
            next.insert(id, r.offset + 1);
            let header = |name: &str| {
                r.record
                    .headers
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            };
            out.push(Got {
                payload: serde_json::from_slice(r.record.value.as_deref().unwrap_or_default())
                    .unwrap(),
                message_id: header("message_id"),
                flow: header("flow"),
                key: r
                    .record
                    .key
                    .as_ref()
                    .map(|k| String::from_utf8_lossy(k).into_owned()),
            });
        }
        out
    }

    /// Everything in every partition, by partition.
    fn read_partitions(&self, n: usize, timeout: Duration) -> BTreeMap<i32, Vec<Got>> {
        let clients: Vec<(i32, Arc<PartitionClient>)> = (0..self.partitions as i32)
            .map(|p| (p, self.partition(p)))
            .collect();
        let mut by_partition: BTreeMap<i32, Vec<Got>> = BTreeMap::new();
        collect(n, timeout, |got| {
            for (id, client) in &clients {
                let fresh = self.fetch(client, *id);
                by_partition
                    .entry(*id)
                    .or_default()
                    .extend(fresh.iter().cloned());
                got.extend(fresh);
            }
        });
        by_partition
    }
}

impl Peer for KafkaPeer {
    fn port(&self) -> u16 {
        self.broker.port
    }

    fn endpoint_at(&self, port: u16) -> Value {
        json!({"code": "e", "base_url": format!("kafka://127.0.0.1:{port}"), "connect_timeout": "2s",
               "read_timeout": "5s"})
    }

    fn subscriber(&self) -> Value {
        json!({"code": "s", "kind": "kafka", "endpoint": "e", "retry": crate::support::retry(10),
               "kafka": {"topic": self.topic}})
    }

    fn read(&self, n: usize, timeout: Duration) -> Vec<Got> {
        self.read_partitions(n, timeout)
            .into_values()
            .flatten()
            .collect()
    }
}

fn engine(endpoint: Value, subscriber: Value) -> TestEngine {
    TestEngine::new(&json!({
        "endpoints": [endpoint],
        "subscribers": [subscriber],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    }))
}

/// Kafka 4 removed the oldest request versions (KIP-896); tansu still accepts them, so this
/// pins what the Kafka transport sends to the versions Kafka 4 accepts.
#[test]
fn requests_use_only_versions_kafka_4_accepts() {
    Tansu::install();
    let proxy_port = free_port();
    let broker = Tansu::start_advertising(free_port(), proxy_port);
    let proxy = Proxy::start(
        proxy_port,
        broker.port,
        ProxyOptions {
            record_kafka: true,
            ..Default::default()
        },
    );
    let peer = KafkaPeer::with(broker, 1);
    let t = engine(peer.endpoint_at(proxy_port), peer.subscriber());
    t.engine
        .register("ORDERS", "{}", &RegisterOptions::object_key("k"))
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    // The oldest version of each API that Kafka 4.0 still accepts.
    let minimum: BTreeMap<i16, i16> = [
        (0, 3),  // Produce
        (1, 4),  // Fetch
        (2, 1),  // ListOffsets
        (3, 0),  // Metadata
        (8, 2),  // OffsetCommit
        (9, 1),  // OffsetFetch
        (17, 1), // SaslHandshake
        (18, 0), // ApiVersions
        (19, 2), // CreateTopics
        (36, 0), // SaslAuthenticate
    ]
    .into();
    let seen = proxy.kafka_requests();
    assert!(
        seen.iter().any(|(key, _)| *key == 0),
        "no Produce request seen: {seen:?}"
    );
    for (key, version) in seen {
        let floor = minimum
            .get(&key)
            .unwrap_or_else(|| panic!("API {key} is not expected from a producer"));
        assert!(
            version >= *floor,
            "API {key} sent at v{version}, Kafka 4 needs v{floor} or later"
        );
    }
}

#[test]
fn records_carry_key_and_headers_and_keep_per_key_order_across_partitions() {
    let peer = KafkaPeer::with(Tansu::start(), 3);
    let mut subscriber = peer.subscriber();
    subscriber["kafka"]["headers"] = json!({"source": "1c"});
    subscriber["kafka"]["compression"] = json!("gzip");
    let t = TestEngine::new(&json!({
        "endpoints": [peer.endpoint()],
        "subscribers": [subscriber],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"], "ordering": "by_key"}]
    }));
    let mut ids = BTreeMap::new();
    for n in 0..60 {
        let key = format!("counterparty-{}", n % 4);
        let options = RegisterOptions::default()
            .with_ordering_key(key)
            .with_object_key(format!("doc-{n}"));
        ids.insert(
            n,
            t.engine
                .register("ORDERS", &json!({"n": n}).to_string(), &options)
                .unwrap(),
        );
    }
    let untagged = t
        .engine
        .register(
            "ORDERS",
            r#"{"n": 60}"#,
            &RegisterOptions::object_key("doc-60"),
        )
        .unwrap();
    while t.dispatch().total() > 0 {}
    let by_partition = peer.read_partitions(61, Duration::from_secs(30));
    let mut partition_of_key: BTreeMap<String, i32> = BTreeMap::new();
    for (partition, records) in &by_partition {
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for g in records {
            let key = g.key.clone().unwrap();
            let n = g.payload["n"].as_u64().unwrap();
            assert_eq!(g.flow.as_deref(), Some("ORDERS"));
            let expected = if n == 60 {
                untagged.clone()
            } else {
                ids[&n].clone()
            };
            assert_eq!(g.message_id.as_deref(), Some(expected.as_str()));
            if n < 60 {
                assert_eq!(
                    key,
                    format!("counterparty-{}", n % 4),
                    "the ordering key is the record key"
                );
                assert_eq!(
                    *partition_of_key.entry(key.clone()).or_insert(*partition),
                    *partition,
                    "one key, one partition"
                );
                assert!(
                    last.insert(key, n).is_none_or(|before| before < n),
                    "order within a key"
                );
            } else {
                assert_eq!(
                    key, "doc-60",
                    "without an ordering key, the object key is the record key"
                );
            }
        }
    }
    assert!(
        partition_of_key
            .values()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1,
        "keys spread over partitions"
    );
}

#[test]
fn a_missing_topic_is_a_failure_that_names_it() {
    let peer = KafkaPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["kafka"]["topic"] = json!("no-such-topic-{flow}");
    let t = engine(peer.endpoint(), subscriber);
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    let d = t.delivery(&id, "s");
    assert_eq!(d.status, DeliveryStatus::SendError);
    assert!(d.last_error.unwrap().contains("no-such-topic-ORDERS"));
}

#[test]
fn tls_to_the_broker_with_a_private_ca_and_a_client_certificate() {
    Tansu::install();
    let proxy_port = free_port();
    let broker = Tansu::start_advertising(free_port(), proxy_port);
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let _proxy = Proxy::start(
        proxy_port,
        broker.port,
        ProxyOptions {
            tls: Some(pki.server_config(true)),
            ..Default::default()
        },
    );
    let peer = KafkaPeer::with(broker, 1).through_tls(proxy_port, pki.client_config());
    let endpoint = |auth: Value| {
        json!({"code": "e", "base_url": format!("kafkas://127.0.0.1:{proxy_port}"), "connect_timeout": "2s",
               "read_timeout": "3s", "tls": {"ca_file": pki.ca_file}, "auth": auth})
    };
    let t = engine(endpoint(json!({"type": "none"})), peer.subscriber());
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 0}"#, &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    assert_eq!(
        t.delivery(&id, "s").status,
        DeliveryStatus::SendError,
        "the proxy wants a client certificate"
    );

    let certified = json!({"type": "client_certificate", "certificate": pki.client_cert_file, "key": pki.client_key_file});
    let t = engine(endpoint(certified), peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 1);
}

/// SASL: the transport authenticates as configured (SCRAM here, PLAIN for `basic`). This
/// tansu keeps users in memory and accepts no user creation once it requires
/// authentication, so what can be shown is that the exchange happens and that a refusal is
/// a failure, reported without the password.
#[test]
fn sasl_authentication_is_performed_and_a_refusal_is_a_failure() {
    let broker = Tansu::requiring_authentication();
    for auth in [
        json!({"type": "scram", "mechanism": "sha256", "username": "integra", "password": "pa55-secret"}),
        json!({"type": "scram", "mechanism": "sha512", "username": "integra", "password": "pa55-secret"}),
        json!({"type": "basic", "username": "integra", "password": "pa55-secret"}),
    ] {
        let endpoint = json!({"code": "e", "base_url": format!("kafka://127.0.0.1:{}", broker.port),
                              "connect_timeout": "2s", "read_timeout": "2s", "auth": auth});
        let subscriber =
            json!({"code": "s", "kind": "kafka", "endpoint": "e", "kafka": {"topic": "orders"}});
        let t = engine(endpoint, subscriber);
        let id = t
            .engine
            .register("ORDERS", "{}", &RegisterOptions::default())
            .unwrap();
        assert_eq!(t.dispatch().failed, 1, "{auth}");
        let error = t.delivery(&id, "s").last_error.unwrap();
        assert!(
            error.to_lowercase().contains("sasl") || error.to_lowercase().contains("auth"),
            "{error}"
        );
        assert!(
            !error.contains("pa55-secret"),
            "the password must not appear in the error"
        );
    }
}

/// The broker stops while messages keep being registered, and starts again: what it had
/// confirmed was read before it stopped, what came after waited and is delivered once it is
/// back. (This tansu keeps its log in memory, so it is stopped once the consumer has read
/// everything Sent; RabbitMQ and Mosquitto are restarted with messages in flight.)
#[test]
fn a_broker_restart_mid_stream_loses_nothing() {
    let mut peer = KafkaPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["retry"] = crate::support::retry(50);
    let t = engine(peer.endpoint(), subscriber);
    let options = DispatcherOptions::default().with_poll_interval(Duration::from_millis(50));
    t.engine.start_dispatcher(options.clone()).unwrap();
    let register = |n: u64| {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": n}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    };
    (0..100).for_each(register);
    let before = peer.read(100, Duration::from_secs(30));
    peer.broker.stop();
    (100..200).for_each(register);
    std::thread::sleep(Duration::from_millis(500));
    let sent = t
        .engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0);
    assert_eq!(sent, 100, "nothing is Sent while the broker is down");
    // The broker comes back empty (memory storage): recreate the topic before deliveries
    // resume, or a metadata request would create it with the broker's default partitions.
    t.engine.stop_dispatcher();
    peer.broker.resume();
    peer.broker.create_topic(&peer.topic, 1);
    peer.next.lock().unwrap().clear();
    t.engine.start_dispatcher(options).unwrap();
    let start = std::time::Instant::now();
    while t
        .engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0)
        < 200
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not everything was sent after the restart"
        );
        t.advance(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(100));
    }
    t.engine.stop_dispatcher();
    let after = peer.read(100, Duration::from_secs(30));
    let mut ns: Vec<u64> = before
        .iter()
        .chain(&after)
        .map(|g| g.payload["n"].as_u64().unwrap())
        .collect();
    ns.sort_unstable();
    ns.dedup();
    assert_eq!(ns, (0..200).collect::<Vec<u64>>());
}

/// Issue 15: on a flow that does not order by key, a given ordering key is still the record
/// key (so a consumer partitioning by customer gets one customer on one partition), not the
/// object key.
#[test]
fn the_ordering_key_is_the_record_key_on_an_unordered_flow() {
    let peer = KafkaPeer::new();
    let t = engine(peer.endpoint(), peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 1}"#, &both_keys())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    let got = peer.read(1, Duration::from_secs(30));
    assert_eq!(got[0].key.as_deref(), Some("customer-7"));
}
