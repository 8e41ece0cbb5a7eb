//! Sources: where an incoming flow's messages come from besides HTTP callers: a RabbitMQ
//! queue, Kafka partitions, an MQTT topic filter, or an HTTP resource polled on an interval.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Problems, SubscriberKind, duration};

/// What feeds an incoming flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The kind of source.
    pub kind: SourceKind,
    /// The endpoint to connect to (a broker, or the HTTP service polled).
    pub endpoint: String,
    /// Where in a JSON message its id is when the broker message carries none: a JSON
    /// pointer (`/id`) or a top-level field name. Repeats of an id are stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id_pointer: Option<String>,
    /// Settings of an `amqp` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amqp: Option<AmqpSource>,
    /// Settings of a `kafka` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaSource>,
    /// Settings of an `mqtt` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<MqttSource>,
    /// Settings of a `poll` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollSource>,
}

/// The kind of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A RabbitMQ queue.
    Amqp,
    /// Kafka partitions of a topic.
    Kafka,
    /// An MQTT topic filter.
    Mqtt,
    /// An HTTP resource polled on an interval.
    Poll,
}

impl SourceKind {
    /// The kind's configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::Amqp => "amqp",
            SourceKind::Kafka => "kafka",
            SourceKind::Mqtt => "mqtt",
            SourceKind::Poll => "poll",
        }
    }

    /// The subscriber kind that speaks the same protocol, whose endpoint rules apply.
    pub(crate) const fn protocol(self) -> SubscriberKind {
        match self {
            SourceKind::Amqp => SubscriberKind::Amqp,
            SourceKind::Kafka => SubscriberKind::Kafka,
            SourceKind::Mqtt => SubscriberKind::Mqtt,
            SourceKind::Poll => SubscriberKind::Http,
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A RabbitMQ queue consumed with manual acknowledgements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpSource {
    /// The queue (it must exist).
    pub queue: String,
    /// Most unacknowledged messages the broker sends ahead. Default 100.
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
    /// Where a message that is not valid for the flow is published (with its routing key and
    /// an `x-integra-error` header) before it is acknowledged. Without it the message is
    /// acknowledged and recorded as rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_exchange: Option<String>,
}

fn default_prefetch() -> u16 {
    100
}

/// Kafka partitions read by explicit assignment, their offsets kept in Integra's database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSource {
    /// The topic.
    pub topic: String,
    /// The partitions read; empty (default) reads every partition of the topic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<i32>,
    /// Where a partition without a stored offset starts: `earliest` (default) or `latest`.
    #[serde(default)]
    pub start: KafkaStart,
    /// A topic that receives records that are not valid for the flow, as the 1C subsystem
    /// writes them: `{original_topic, original_partition, original_offset, original_payload,
    /// error_message, failed_at}`. Without it they are recorded as rejected and skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    /// How long the broker may hold a fetch open waiting for records. Default 500 ms.
    #[serde(default = "default_max_wait", with = "duration")]
    pub max_wait: Duration,
}

fn default_max_wait() -> Duration {
    Duration::from_millis(500)
}

/// Where a Kafka partition with no stored offset starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KafkaStart {
    /// The oldest record the broker still has.
    #[default]
    Earliest,
    /// Only records written after the first start.
    Latest,
}

/// An MQTT topic filter subscribed with a persistent session, so messages published while
/// Integra is away wait at the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSource {
    /// The topic filter (`+` and `#` wildcards allowed).
    pub topic: String,
    /// The client id of the persistent session. Default `integra-{flow}`. Only one
    /// connection may use it at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The subscription's quality of service: 1 (default) or 2.
    #[serde(default = "default_qos")]
    pub qos: u8,
}

fn default_qos() -> u8 {
    1
}

/// An HTTP resource asked on an interval; each item of the answer is stored once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSource {
    /// Path (and query) appended to the endpoint's base address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Time between polls. Default 1 minute.
    #[serde(default = "default_interval", with = "duration")]
    pub interval: Duration,
    /// JSON pointer to the items in the answer: an array (each element is a message) or one
    /// object. Default: the whole answer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub items: String,
    /// The item's id, which keys it so it is stored once: a JSON pointer or a field name.
    pub id: String,
    /// A cursor taken from each answer and sent with the next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<PollCursor>,
    /// Most requests one poll makes following cursors. Default 100.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
}

fn default_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_max_pages() -> u32 {
    100
}

/// Where a poll's cursor comes from and how it is sent back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollCursor {
    /// JSON pointer (or field name) of the cursor in the answer.
    pub from: String,
    /// The query parameter that carries it in the next request.
    pub param: String,
}

impl Source {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        let sections = [
            (SourceKind::Amqp, self.amqp.is_some()),
            (SourceKind::Kafka, self.kafka.is_some()),
            (SourceKind::Mqtt, self.mqtt.is_some()),
            (SourceKind::Poll, self.poll.is_some()),
        ];
        for (kind, present) in sections {
            if present && kind != self.kind {
                p.push(
                    object,
                    &format!("source.{kind}"),
                    format!(
                        "the '{kind}' section does not apply to a '{}' source",
                        self.kind
                    ),
                );
            }
        }
        if let Some(pointer) = &self.message_id_pointer {
            check_locator(object, "source.message_id_pointer", pointer, p);
        }
        let missing = |p: &mut Problems| {
            p.push(
                object,
                &format!("source.{}", self.kind),
                format!("a '{}' source needs its '{}' section", self.kind, self.kind),
            );
        };
        match self.kind {
            SourceKind::Amqp => match &self.amqp {
                Some(a) => a.check(object, p),
                None => missing(p),
            },
            SourceKind::Kafka => match &self.kafka {
                Some(k) => k.check(object, p),
                None => missing(p),
            },
            SourceKind::Mqtt => match &self.mqtt {
                Some(m) => m.check(object, p),
                None => missing(p),
            },
            SourceKind::Poll => match &self.poll {
                Some(poll) => poll.check(object, p),
                None => missing(p),
            },
        }
    }
}

/// Checks a JSON pointer or field name that locates a value in a message.
pub(crate) fn check_locator(object: &str, field: &str, locator: &str, p: &mut Problems) {
    if locator.is_empty() {
        p.push(
            object,
            field,
            "must be a JSON pointer such as /id, or a field name",
        );
    }
}

impl AmqpSource {
    fn check(&self, object: &str, p: &mut Problems) {
        if self.queue.is_empty() || self.queue.len() > 255 {
            p.push(object, "source.amqp.queue", "must be 1 to 255 bytes");
        }
        if self.prefetch == 0 {
            p.push(object, "source.amqp.prefetch", "must be at least 1");
        }
        if let Some(exchange) = &self.dead_letter_exchange
            && exchange.len() > 255
        {
            p.push(
                object,
                "source.amqp.dead_letter_exchange",
                "must be at most 255 bytes",
            );
        }
    }
}

/// Why `name` cannot be a Kafka topic name, if it cannot.
fn topic_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    (!valid).then(|| {
        format!("'{name}' is not a Kafka topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-')")
    })
}

impl KafkaSource {
    fn check(&self, object: &str, p: &mut Problems) {
        if let Some(problem) = topic_problem(&self.topic) {
            p.push(object, "source.kafka.topic", problem);
        }
        if let Some(problem) = self.dead_letter_topic.as_deref().and_then(topic_problem) {
            p.push(object, "source.kafka.dead_letter_topic", problem);
        }
        if self.dead_letter_topic.as_ref() == Some(&self.topic) {
            p.push(
                object,
                "source.kafka.dead_letter_topic",
                "must differ from the topic read",
            );
        }
        let mut seen = std::collections::HashSet::new();
        for partition in &self.partitions {
            if *partition < 0 || !seen.insert(partition) {
                p.push(
                    object,
                    "source.kafka.partitions",
                    format!("{partition} is negative or listed twice"),
                );
            }
        }
        if self.max_wait.is_zero() || self.max_wait > Duration::from_secs(30) {
            p.push(
                object,
                "source.kafka.max_wait",
                "must be between 1 ms and 30 s",
            );
        }
    }
}

impl MqttSource {
    fn check(&self, object: &str, p: &mut Problems) {
        let levels: Vec<&str> = self.topic.split('/').collect();
        let wildcards_ok = levels.iter().enumerate().all(|(i, level)| {
            (*level == "#" && i == levels.len() - 1)
                || *level == "+"
                || !(level.contains('#') || level.contains('+'))
        });
        if self.topic.is_empty() || !wildcards_ok || self.topic.contains('\0') {
            p.push(
                object,
                "source.mqtt.topic",
                format!(
                    "'{}' is not a topic filter ('+' stands for one whole level, '#' for the last ones)",
                    self.topic
                ),
            );
        }
        if let Some(id) = &self.client_id
            && (id.is_empty() || id.len() > 65_535)
        {
            p.push(object, "source.mqtt.client_id", "must be 1 to 65535 bytes");
        }
        if !(1..=2).contains(&self.qos) {
            p.push(object, "source.mqtt.qos", "must be 1 or 2");
        }
    }
}

impl PollSource {
    fn check(&self, object: &str, p: &mut Problems) {
        if !(self.path.is_empty() || self.path.starts_with('/') || self.path.starts_with('?')) {
            p.push(
                object,
                "source.poll.path",
                format!("'{}' must start with '/' or '?'", self.path),
            );
        }
        if self.interval < Duration::from_secs(1) {
            p.push(object, "source.poll.interval", "must be at least 1 s");
        }
        if !(self.items.is_empty() || self.items.starts_with('/')) {
            p.push(
                object,
                "source.poll.items",
                format!("'{}' is not a JSON pointer such as /data", self.items),
            );
        }
        check_locator(object, "source.poll.id", &self.id, p);
        if let Some(cursor) = &self.cursor {
            check_locator(object, "source.poll.cursor.from", &cursor.from, p);
            let valid = !cursor.param.is_empty()
                && cursor
                    .param
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.[]".contains(&b));
            if !valid {
                p.push(
                    object,
                    "source.poll.cursor.param",
                    format!("'{}' is not a query parameter name", cursor.param),
                );
            }
        }
        if self.max_pages == 0 {
            p.push(object, "source.poll.max_pages", "must be at least 1");
        }
    }
}
