//! Kafka through rskafka (pure Rust; it negotiates protocol versions with ApiVersions and
//! sends only versions Kafka 3.x and 4.x both accept).
//!
//! One client per subscriber, built on first use and rebuilt after a failure. A batch is
//! grouped by topic and partition, and each group is produced as one record batch, with
//! `acks=all`; a message is Sent only when its batch was acknowledged. The record key is
//! the ordering key, else the object key; keyed records go to the partition Kafka's own
//! producers would choose (murmur2 of the key), so the order per key is kept; records without
//! a key rotate over the partitions. Headers carry the message id, flow and keys. rskafka has
//! no idempotent producer, so a retry after a lost acknowledgement may store a record twice:
//! at least once, like the queue itself; consumers deduplicate by the `message_id` header.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rskafka::BackoffConfig;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::record::Record;
use tokio::runtime::Runtime;

use super::template::render;
use super::{Outgoing, SendFailure, Transport};
use crate::config::{Auth, Endpoint, KafkaCompression, KafkaSettings, ScramMechanism};

/// How to reach Kafka: bootstrap brokers, TLS, SASL, and the connection deadline. Shared by
/// the subscriber transport and the partition source.
pub(crate) struct KafkaLink {
    brokers: Vec<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    sasl: Option<SaslConfig>,
    /// How long rskafka keeps retrying a connection before it reports why it failed.
    connect_timeout: Duration,
}

/// A Kafka subscriber's transport.
pub struct KafkaTransport {
    link: KafkaLink,
    settings: KafkaSettings,
    /// The longest a whole batch may take; rskafka's own deadline ends earlier.
    timeout: Duration,
    runtime: Arc<Runtime>,
    state: Mutex<State>,
    round_robin: AtomicUsize,
}

#[derive(Default)]
struct State {
    client: Option<Arc<Client>>,
    /// Partition counts by topic.
    partitions: HashMap<String, i32>,
    producers: HashMap<(String, i32), Arc<PartitionClient>>,
}

impl KafkaLink {
    /// Reads the endpoint's brokers, TLS files and SASL credentials.
    ///
    /// # Errors
    /// A message naming the endpoint when its address or TLS files are unusable.
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Self, String> {
        let address = endpoint.address()?;
        let tls = if address.tls {
            Some(super::tls::client_config(endpoint)?)
        } else {
            None
        };
        // `host:port`, IPv6 in brackets: what rskafka resolves.
        let brokers = address.hosts.iter().map(ToString::to_string).collect();
        let sasl = match &endpoint.auth {
            Auth::Basic { username, password } => Some(SaslConfig::Plain(Credentials::new(
                username.clone(),
                password.expose().to_owned(),
            ))),
            Auth::Scram {
                mechanism,
                username,
                password,
            } => {
                let credentials = Credentials::new(username.clone(), password.expose().to_owned());
                Some(match mechanism {
                    ScramMechanism::Sha256 => SaslConfig::ScramSha256(credentials),
                    ScramMechanism::Sha512 => SaslConfig::ScramSha512(credentials),
                })
            }
            _ => None,
        };
        Ok(KafkaLink {
            brokers,
            tls,
            sasl,
            connect_timeout: endpoint.connect_timeout,
        })
    }

    /// `what` happened at these brokers, as a message.
    pub(crate) fn describe(&self, what: impl std::fmt::Display) -> String {
        format!("Kafka at {}: {what}", self.brokers.join(","))
    }

    /// What connecting involves, for messages.
    fn connect_verb(&self) -> &'static str {
        if self.sasl.is_some() {
            "connect and authenticate (SASL)"
        } else {
            "connect"
        }
    }

    /// Runs a step of connecting under the connection deadline: one attempt can wait forever
    /// for an answer (a broker that never completes the SASL exchange, say).
    pub(crate) async fn connecting<T>(
        &self,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, String> {
        tokio::time::timeout(self.connect_timeout, step)
            .await
            .map_err(|_| {
                self.describe(format!(
                    "could not {} within {:?}",
                    self.connect_verb(),
                    self.connect_timeout
                ))
            })
    }

    /// A new client, connected to the cluster.
    pub(crate) async fn client(&self) -> Result<Client, String> {
        let mut builder = ClientBuilder::new(self.brokers.clone())
            .client_id("integra")
            .backoff_config(BackoffConfig {
                deadline: Some(self.connect_timeout),
                ..BackoffConfig::default()
            });
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(Arc::clone(tls));
        }
        if let Some(sasl) = &self.sasl {
            builder = builder.sasl_config(sasl.clone());
        }
        self.connecting(builder.build())
            .await?
            .map_err(|e| self.describe(format!("cannot {}: {e}", self.connect_verb())))
    }

    /// The partitions of `topic`, in order; `None` when there is no such topic.
    pub(crate) async fn partitions(
        &self,
        client: &Client,
        topic: &str,
    ) -> Result<Option<Vec<i32>>, String> {
        let topics = self
            .connecting(client.list_topics())
            .await?
            .map_err(|e| self.describe(format!("cannot list topics: {e}")))?;
        Ok(topics
            .into_iter()
            .find(|t| t.name == topic)
            .filter(|t| !t.partitions.is_empty())
            .map(|t| t.partitions.into_iter().collect()))
    }

    /// A client for one partition.
    pub(crate) async fn partition(
        &self,
        client: &Client,
        topic: &str,
        partition: i32,
    ) -> Result<PartitionClient, String> {
        self.connecting(client.partition_client(topic, partition, UnknownTopicHandling::Error))
            .await?
            .map_err(|e| {
                self.describe(format!(
                    "cannot reach partition {partition} of '{topic}': {e}"
                ))
            })
    }
}

impl KafkaTransport {
    /// Builds the transport; it connects on first use.
    ///
    /// # Errors
    /// A message naming the endpoint when its address or TLS files are unusable.
    pub fn new(
        endpoint: &Endpoint,
        settings: &KafkaSettings,
        runtime: Arc<Runtime>,
    ) -> Result<Self, String> {
        Ok(KafkaTransport {
            link: KafkaLink::new(endpoint)?,
            settings: settings.clone(),
            timeout: endpoint.connect_timeout + endpoint.read_timeout,
            runtime,
            state: Mutex::new(State::default()),
            round_robin: AtomicUsize::new(0),
        })
    }

    fn fail(&self, what: impl std::fmt::Display) -> SendFailure {
        SendFailure::transient(self.link.describe(what))
    }

    async fn client(&self, state: &mut State) -> Result<Arc<Client>, SendFailure> {
        if let Some(c) = &state.client {
            return Ok(Arc::clone(c));
        }
        let client = Arc::new(self.link.client().await.map_err(SendFailure::transient)?);
        state.client = Some(Arc::clone(&client));
        Ok(client)
    }

    async fn partition_count(
        &self,
        state: &mut State,
        client: &Client,
        topic: &str,
    ) -> Result<i32, SendFailure> {
        if let Some(n) = state.partitions.get(topic) {
            return Ok(*n);
        }
        let n = self
            .link
            .partitions(client, topic)
            .await
            .map_err(SendFailure::transient)?
            .map_or(
                Err(SendFailure::permanent(format!(
                    "Kafka has no topic '{topic}'"
                ))),
                |p| Ok(i32::try_from(p.len()).unwrap_or(i32::MAX)),
            )?;
        state.partitions.insert(topic.to_owned(), n);
        Ok(n)
    }

    async fn producer(
        &self,
        state: &mut State,
        client: &Client,
        topic: &str,
        partition: i32,
    ) -> Result<Arc<PartitionClient>, SendFailure> {
        let key = (topic.to_owned(), partition);
        if let Some(p) = state.producers.get(&key) {
            return Ok(Arc::clone(p));
        }
        let p = Arc::new(
            self.link
                .partition(client, topic, partition)
                .await
                .map_err(SendFailure::transient)?,
        );
        state.producers.insert(key, Arc::clone(&p));
        Ok(p)
    }

    fn record(&self, m: &Outgoing<'_>, now_ms: i64) -> Record {
        let mut headers: BTreeMap<String, Vec<u8>> = self
            .settings
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect();
        headers.insert("message_id".into(), m.message_id.as_bytes().to_vec());
        headers.insert("flow".into(), m.flow.as_bytes().to_vec());
        if let Some(k) = m.object_key {
            headers.insert("object_key".into(), k.as_bytes().to_vec());
        }
        if let Some(k) = m.ordering_key {
            headers.insert("ordering_key".into(), k.as_bytes().to_vec());
        }
        Record {
            key: record_key(m).map(|k| k.as_bytes().to_vec()),
            value: Some(m.payload.as_bytes().to_vec()),
            headers,
            timestamp: rskafka::chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default(),
        }
    }

    fn compression(&self) -> Compression {
        match self.settings.compression {
            KafkaCompression::None => Compression::NoCompression,
            KafkaCompression::Gzip => Compression::Gzip,
            KafkaCompression::Lz4 => Compression::Lz4,
            KafkaCompression::Snappy => Compression::Snappy,
            KafkaCompression::Zstd => Compression::Zstd,
        }
    }

    /// Produces the batch; one outcome per message.
    async fn produce(
        &self,
        state: &mut State,
        messages: &[Outgoing<'_>],
    ) -> Vec<Result<(), SendFailure>> {
        let mut outcomes: Vec<Result<(), SendFailure>> = messages.iter().map(|_| Ok(())).collect();
        let client = match self.client(state).await {
            Ok(c) => c,
            Err(e) => return messages.iter().map(|_| Err(e.clone())).collect(),
        };
        let now_ms = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or_default();
        // Group by (topic, partition), keeping each group in batch order.
        let mut groups: BTreeMap<(String, i32), Vec<usize>> = BTreeMap::new();
        for (i, m) in messages.iter().enumerate() {
            let topic = render(&self.settings.topic, m);
            match self.partition_count(state, &client, &topic).await {
                Ok(n) => {
                    let partition = match record_key(m) {
                        Some(key) => partition_for(key.as_bytes(), n),
                        None => {
                            (self.round_robin.fetch_add(1, Ordering::Relaxed) % n as usize) as i32
                        }
                    };
                    groups.entry((topic, partition)).or_default().push(i);
                }
                Err(e) => outcomes[i] = Err(e),
            }
        }
        for ((topic, partition), members) in groups {
            let records = members
                .iter()
                .map(|&i| self.record(&messages[i], now_ms))
                .collect();
            let result = match self.producer(state, &client, &topic, partition).await {
                Ok(p) => p
                    .produce(records, self.compression())
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        self.fail(format!(
                            "producing to partition {partition} of '{topic}' failed: {e}"
                        ))
                    }),
                Err(e) => Err(e),
            };
            if result.is_err() {
                // Rebuild the client and partition clients next time.
                *state = State::default();
            }
            for i in members {
                outcomes[i] = result.clone();
            }
        }
        outcomes
    }
}

/// The record key: the ordering key, else the object key.
fn record_key<'a>(m: &Outgoing<'a>) -> Option<&'a str> {
    m.ordering_key.or(m.object_key)
}

/// The partition Kafka's Java producer chooses for `key` among `count` partitions.
fn partition_for(key: &[u8], count: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % count.max(1)
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`).
fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

impl Transport for KafkaTransport {
    fn send(&self, message: &Outgoing<'_>) -> Result<(), SendFailure> {
        self.send_batch(std::slice::from_ref(message))
            .pop()
            .unwrap_or_else(|| Err(SendFailure::permanent("nothing was sent")))
    }

    fn send_batch(&self, messages: &[Outgoing<'_>]) -> Vec<Result<(), SendFailure>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.runtime.block_on(async {
            match tokio::time::timeout(self.timeout, self.produce(&mut state, messages)).await {
                Ok(outcomes) => outcomes,
                Err(_) => {
                    *state = State::default();
                    let e = self.fail(format!("no acknowledgement within {:?}", self.timeout));
                    messages.iter().map(|_| Err(e.clone())).collect()
                }
            }
        })
    }
}

impl Drop for KafkaTransport {
    fn drop(&mut self) {
        // rskafka's clients must be dropped inside the runtime they were built on.
        let state = std::mem::take(self.state.get_mut().unwrap_or_else(PoisonError::into_inner));
        let _guard = self.runtime.enter();
        drop(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of Kafka's `Utils.murmur2` for the Java client's own test inputs.
    #[test]
    fn murmur2_matches_the_java_client() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, expected) in cases {
            assert_eq!(murmur2(data), expected, "{}", String::from_utf8_lossy(data));
        }
        assert_eq!(
            partition_for(b"21", 3),
            (-973_932_308_i32 & 0x7fff_ffff) % 3
        );
    }
}
