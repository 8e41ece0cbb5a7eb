//! A Kafka source: explicit assignment of a topic's partitions (no consumer group), with the
//! next offset of each partition kept in Integra's database and moved in the same
//! transaction as the records read before it. A restart resumes exactly where the last
//! commit ended: nothing lost, nothing stored twice. The move is conditional on the stored
//! offset being the one the batch was read from, so a second process reading the same
//! partition by mistake stores nothing twice either.
//!
//! The message id is the record's `message_id` header (Integra's own producer writes it),
//! else the one at the source's `message_id_pointer`, else `topic/partition/offset`. The
//! record key becomes the ordering key when the record carries no `ordering_key` header.
//! A record not valid for the flow goes to the dead-letter topic, when there is one, as the
//! 1C subsystem writes it (`{original_topic, original_partition, original_offset,
//! original_payload, error_message, failed_at}`), and is recorded as rejected; its offset
//! is passed like the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rskafka::client::Client;
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, OffsetAt, PartitionClient};
use rskafka::record::{Record, RecordAndOffset};
use serde_json::json;
use tokio::runtime::Runtime;

use super::{Context, Session};
use crate::config::{KafkaSource, KafkaStart};
use crate::queue::incoming::{ORDERING_KEY_HEADER, Received, is_flow_level};
use crate::transport::kafka::KafkaLink;

/// Most bytes one fetch asks for, per partition.
const FETCH_BYTES: i32 = 1 << 20;
/// How long producing to the dead-letter topic may take.
const DEAD_LETTER_TIMEOUT: Duration = Duration::from_secs(10);

struct Partition {
    id: i32,
    client: PartitionClient,
    /// The next offset to read, as stored.
    next: i64,
}

struct KafkaSession {
    context: Context,
    settings: KafkaSource,
    link: KafkaLink,
    runtime: Arc<Runtime>,
    /// Kept for its connections, which the partition clients use.
    _client: Client,
    partitions: Vec<Partition>,
    dead_letters: Option<PartitionClient>,
}

pub(super) fn open(context: Context) -> Result<Box<dyn Session>, String> {
    let settings = context
        .source
        .kafka
        .clone()
        .ok_or_else(|| context.describe("the 'kafka' section is missing"))?;
    let runtime = context.core.transports.runtime()?;
    let link = KafkaLink::new(&context.endpoint)?;
    let stored: HashMap<i32, i64> = {
        let (flow, topic) = (context.flow.clone(), settings.topic.clone());
        context
            .core
            .store
            .read(|db| db.source_offsets(&flow, &topic))
            .map_err(|e| context.describe(format!("cannot read the stored offsets: {e}")))?
            .into_iter()
            .collect()
    };
    let (client, partitions, dead_letters) = runtime.block_on(async {
        let client = link.client().await?;
        let ids = if settings.partitions.is_empty() {
            link.partitions(&client, &settings.topic)
                .await?
                .ok_or_else(|| link.describe(format!("there is no topic '{}'", settings.topic)))?
        } else {
            settings.partitions.clone()
        };
        let mut partitions = Vec::with_capacity(ids.len());
        for id in ids {
            let partition = link.partition(&client, &settings.topic, id).await?;
            let next = match stored.get(&id) {
                Some(next) => *next,
                None => start_offset(&link, &partition, settings.start).await?,
            };
            partitions.push(Partition {
                id,
                client: partition,
                next,
            });
        }
        let dead_letters = match &settings.dead_letter_topic {
            Some(topic) => Some(link.partition(&client, topic, 0).await?),
            None => None,
        };
        Ok::<_, String>((client, partitions, dead_letters))
    })?;
    log::info!(
        "flow '{}': reading Kafka topic '{}', partitions {:?}",
        context.flow,
        settings.topic,
        partitions
            .iter()
            .map(|p| (p.id, p.next))
            .collect::<Vec<_>>()
    );
    Ok(Box::new(KafkaSession {
        context,
        settings,
        link,
        runtime,
        _client: client,
        partitions,
        dead_letters,
    }))
}

/// Where a partition with no stored offset starts.
async fn start_offset(
    link: &KafkaLink,
    partition: &PartitionClient,
    start: KafkaStart,
) -> Result<i64, String> {
    let at = match start {
        KafkaStart::Earliest => OffsetAt::Earliest,
        KafkaStart::Latest => OffsetAt::Latest,
    };
    link.connecting(partition.get_offset(at))
        .await?
        .map_err(|e| link.describe(format!("cannot read the {start:?} offset: {e}")))
}

/// A record as a received message.
fn received(topic: &str, partition: i32, r: &RecordAndOffset) -> Received {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut headers: BTreeMap<String, String> = r
        .record
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), text(value)))
        .collect();
    let message_id = headers.remove("message_id").filter(|id| !id.is_empty());
    let ordering_key = headers
        .get("ordering_key")
        .cloned()
        .or_else(|| r.record.key.as_deref().map(text));
    if let Some(key) = ordering_key {
        headers.insert(ORDERING_KEY_HEADER.into(), key);
    }
    headers
        .entry("content-type".into())
        .or_insert_with(|| "application/json".into());
    headers.insert("x-kafka-topic".into(), topic.into());
    headers.insert("x-kafka-partition".into(), partition.to_string());
    headers.insert("x-kafka-offset".into(), r.offset.to_string());
    Received {
        message_id,
        fallback_id: Some(format!("{topic}/{partition}/{}", r.offset)),
        payload: r.record.value.as_deref().map(text).unwrap_or_default(),
        headers,
    }
}

impl KafkaSession {
    /// Fetches from every partition at once, waiting up to the configured wait.
    async fn fetch(&self) -> Vec<(usize, Result<(Vec<RecordAndOffset>, i64), KafkaError>)> {
        let wait = i32::try_from(self.settings.max_wait.as_millis()).unwrap_or(i32::MAX);
        let fetches = self
            .partitions
            .iter()
            .map(|p| Box::pin(p.client.fetch_records(p.next, 1..FETCH_BYTES, wait)))
            .collect();
        // Each fetch ends by the broker's wait, or fails; a broker gone silent ends them all.
        let deadline = self.settings.max_wait + Duration::from_secs(10);
        match tokio::time::timeout(deadline, join_all(fetches)).await {
            Ok(results) => results.into_iter().enumerate().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Produces a rejected record to the dead-letter topic, as the 1C subsystem does.
    async fn dead_letter(
        &self,
        partition: i32,
        record: &RecordAndOffset,
        error: &str,
    ) -> Result<(), String> {
        let Some(producer) = &self.dead_letters else {
            return Ok(());
        };
        let now = self.context.core.now();
        let value = json!({
            "original_topic": self.settings.topic,
            "original_partition": partition,
            "original_offset": record.offset,
            "original_payload": record.record.value.as_deref().map(String::from_utf8_lossy),
            "error_message": error,
            "failed_at": now.to_string(),
        });
        let dead = Record {
            key: record.record.key.clone(),
            value: Some(value.to_string().into_bytes()),
            headers: BTreeMap::new(),
            timestamp: rskafka::chrono::DateTime::from_timestamp_millis(now.as_millis())
                .unwrap_or_default(),
        };
        tokio::time::timeout(
            DEAD_LETTER_TIMEOUT,
            producer.produce(vec![dead], Compression::NoCompression),
        )
        .await
        .map_err(|_| {
            self.link
                .describe("the dead-letter topic did not acknowledge")
        })?
        .map(|_| ())
        .map_err(|e| {
            self.link
                .describe(format!("cannot write to the dead-letter topic: {e}"))
        })
    }

    /// Stores one partition's records and moves its offset, in one transaction.
    async fn store(&mut self, index: usize, records: Vec<RecordAndOffset>) -> Result<(), String> {
        let (id, from) = (self.partitions[index].id, self.partitions[index].next);
        let records: Vec<RecordAndOffset> =
            records.into_iter().filter(|r| r.offset >= from).collect();
        let Some(to) = records.last().map(|r| r.offset + 1) else {
            return Ok(());
        };
        let topic = self.settings.topic.clone();
        let checked = self
            .context
            .check(records.iter().map(|r| received(&topic, id, r)).collect());
        for (record, outcome) in records.iter().zip(&checked) {
            if let Err(refusal) = outcome
                && !is_flow_level(&refusal.error)
            {
                self.dead_letter(id, record, &refusal.error.to_string())
                    .await?;
            }
        }
        let (flow, now) = (self.context.flow.clone(), self.context.core.now());
        // Storing blocks this runner's own thread, never one of the runtime's.
        let moved = self.context.store(checked, move |db| {
            Ok(db.advance_source_offset(&flow, &topic, id, from, to, now)?)
        })?;
        match moved {
            Some(()) => self.partitions[index].next = to,
            None => {
                // Another reader moved the offset: continue from where it is now.
                let (flow, topic) = (self.context.flow.clone(), self.settings.topic.clone());
                let stored = self
                    .context
                    .core
                    .store
                    .read(|db| db.source_offsets(&flow, &topic))
                    .map_err(|e| e.to_string())?;
                if let Some((_, next)) = stored.into_iter().find(|(p, _)| *p == id) {
                    log::warn!(
                        "flow '{}': partition {id} of '{}' was read up to {next} by another reader; continuing from there",
                        self.context.flow,
                        self.settings.topic
                    );
                    self.partitions[index].next = next;
                }
            }
        }
        Ok(())
    }

    async fn step_async(&mut self) -> Result<(), String> {
        for (index, fetched) in self.fetch().await {
            match fetched {
                Ok((records, _high_watermark)) => self.store(index, records).await?,
                Err(KafkaError::ServerError {
                    protocol_error: ProtocolError::OffsetOutOfRange,
                    ..
                }) => {
                    let partition = &self.partitions[index];
                    let (id, gone) = (partition.id, partition.next);
                    let restart =
                        start_offset(&self.link, &partition.client, KafkaStart::Earliest).await?;
                    log::warn!(
                        "flow '{}': offset {gone} of partition {id} of '{}' is gone (retention); continuing from the earliest kept, {restart}",
                        self.context.flow,
                        self.settings.topic
                    );
                    self.partitions[index].next = restart;
                }
                Err(e) => {
                    return Err(self.link.describe(format!(
                        "cannot fetch from partition {} of '{}': {e}",
                        self.partitions[index].id, self.settings.topic
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Runs `futures` together; their outputs in order.
async fn join_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match std::pin::Pin::new(future).poll(cx) {
                    std::task::Poll::Ready(out) => *output = Some(out),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

impl Session for KafkaSession {
    fn step(&mut self) -> Result<(), String> {
        let runtime = Arc::clone(&self.runtime);
        runtime.block_on(self.step_async())
    }
}
