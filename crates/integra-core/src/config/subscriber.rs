//! Subscribers: who receives a flow's messages, over which transport, with which retry policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Problems;
use super::settings::{
    AmqpSettings, HttpSettings, InterbaseSettings, JsonRpcSettings, KafkaSettings, MqttSettings,
};
use crate::retry::RetryPolicy;

/// A receiver of outgoing messages. Each delivery to it has its own status and retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// Unique code, referenced by flows.
    pub code: String,
    /// The transport.
    pub kind: SubscriberKind,
    /// The endpoint it connects to (every kind needs one).
    pub endpoint: String,
    /// An inactive subscriber gets no new deliveries, and its pending ones wait.
    #[serde(default = "yes")]
    pub active: bool,
    /// How failed deliveries are retried.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Settings of an `http` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
    /// Settings of a `jsonrpc` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonrpc: Option<JsonRpcSettings>,
    /// Settings of an `interbase` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interbase: Option<InterbaseSettings>,
    /// Settings of an `amqp` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amqp: Option<AmqpSettings>,
    /// Settings of a `kafka` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaSettings>,
    /// Settings of an `mqtt` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<MqttSettings>,
}

fn yes() -> bool {
    true
}

impl Subscriber {
    /// An active subscriber of `kind` on `endpoint`, with default settings.
    pub fn new(code: impl Into<String>, kind: SubscriberKind, endpoint: impl Into<String>) -> Self {
        Subscriber {
            code: code.into(),
            kind,
            endpoint: endpoint.into(),
            active: true,
            retry: RetryPolicy::default(),
            http: None,
            jsonrpc: None,
            interbase: None,
            amqp: None,
            kafka: None,
            mqtt: None,
        }
    }

    /// An active HTTP subscriber on `endpoint`.
    pub fn http(
        code: impl Into<String>,
        endpoint: impl Into<String>,
        settings: HttpSettings,
    ) -> Self {
        Subscriber {
            http: Some(settings),
            ..Subscriber::new(code, SubscriberKind::Http, endpoint)
        }
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("subscriber '{}'", self.code);
        p.code(&object, &self.code);
        for (field, problem) in self.retry.problems() {
            p.push(&object, &format!("retry.{field}"), problem);
        }
        let sections = [
            (SubscriberKind::Http, self.http.is_some()),
            (SubscriberKind::Jsonrpc, self.jsonrpc.is_some()),
            (SubscriberKind::Interbase, self.interbase.is_some()),
            (SubscriberKind::Amqp, self.amqp.is_some()),
            (SubscriberKind::Kafka, self.kafka.is_some()),
            (SubscriberKind::Mqtt, self.mqtt.is_some()),
        ];
        for (kind, present) in sections {
            if present && kind != self.kind {
                p.push(
                    &object,
                    kind.as_str(),
                    format!(
                        "the '{kind}' section does not apply to kind '{}'",
                        self.kind
                    ),
                );
            }
        }
        match self.kind {
            SubscriberKind::Http => self.http.clone().unwrap_or_default().check(&object, p),
            SubscriberKind::Jsonrpc => self.jsonrpc.clone().unwrap_or_default().check(&object, p),
            SubscriberKind::Interbase => {
                self.interbase.clone().unwrap_or_default().check(&object, p)
            }
            SubscriberKind::Amqp => self.amqp.clone().unwrap_or_default().check(&object, p),
            SubscriberKind::Kafka => self.kafka.clone().unwrap_or_default().check(&object, p),
            SubscriberKind::Mqtt => self.mqtt.clone().unwrap_or_default().check(&object, p),
        }
    }
}

/// The transport a subscriber is reached by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberKind {
    /// Arbitrary HTTP.
    Http,
    /// JSON-RPC 2.0 over HTTP.
    Jsonrpc,
    /// The same subsystem in another base (1C `инт_` or Integra), over HTTP.
    Interbase,
    /// RabbitMQ (AMQP 0-9-1).
    Amqp,
    /// Kafka.
    Kafka,
    /// MQTT 3.1.1.
    Mqtt,
}

impl SubscriberKind {
    /// The kind's configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriberKind::Http => "http",
            SubscriberKind::Jsonrpc => "jsonrpc",
            SubscriberKind::Interbase => "interbase",
            SubscriberKind::Amqp => "amqp",
            SubscriberKind::Kafka => "kafka",
            SubscriberKind::Mqtt => "mqtt",
        }
    }

    /// The endpoint address schemes this kind connects with (plain, then TLS).
    pub const fn schemes(self) -> [&'static str; 2] {
        match self {
            SubscriberKind::Http | SubscriberKind::Jsonrpc | SubscriberKind::Interbase => {
                ["http://", "https://"]
            }
            SubscriberKind::Amqp => ["amqp://", "amqps://"],
            SubscriberKind::Kafka => ["kafka://", "kafkas://"],
            SubscriberKind::Mqtt => ["mqtt://", "mqtts://"],
        }
    }

    /// True for brokers, whose transports send batches and await their confirmations
    /// together; HTTP-based kinds send one request per delivery, in parallel.
    pub const fn batches(self) -> bool {
        matches!(
            self,
            SubscriberKind::Amqp | SubscriberKind::Kafka | SubscriberKind::Mqtt
        )
    }
}

impl fmt::Display for SubscriberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
