//! Transports: how a delivery reaches its subscriber.
//!
//! Every subscriber kind implements [`Transport`], one module per kind behind its cargo
//! feature. A transport is built once per subscriber from the configuration (its endpoint,
//! its kind-specific settings) and reused across messages and threads, so connections are
//! pooled; [`Transports`] rebuilds them when the configuration's version changes.
//!
//! A transport reports success only when the far side confirmed the message. Every failure
//! is retried per the subscriber's policy; a [`SendFailure`] says whether it looked transient
//! (timeouts, refused connections, 5xx) and may carry a `Retry-After` delay.
//!
//! Broker transports receive batches ([`Transport::send_batch`]): they publish every message
//! of the batch, then await the confirmations together (publisher confirms, one Kafka record
//! batch, MQTT acknowledgements), without weakening what Sent means: each message gets its own
//! outcome. HTTP-based transports send one request per delivery, on several workers at once.
//! lapin, rskafka and (for sources) rumqttc are asynchronous; they run on one small runtime
//! private to the engine ([`runtime`]), so callers stay synchronous.

#[cfg(feature = "amqp")]
pub mod amqp;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "interbase")]
pub mod interbase;
#[cfg(feature = "jsonrpc")]
pub mod jsonrpc;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "http")]
pub(crate) mod resolver;
#[cfg(any(feature = "amqp", feature = "kafka", feature = "mqtt"))]
pub(crate) mod runtime;
#[cfg(any(feature = "amqp", feature = "kafka", feature = "mqtt"))]
pub(crate) mod template;
#[cfg(feature = "tls")]
pub(crate) mod tls;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::config::{ConfigSnapshot, Subscriber, SubscriberKind};

/// One message on its way to one subscriber.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    /// The message id.
    pub message_id: &'a str,
    /// The flow code.
    pub flow: &'a str,
    /// The subscriber code.
    pub subscriber: &'a str,
    /// The payload, JSON text.
    pub payload: &'a str,
    /// The object key given at registration.
    pub object_key: Option<&'a str>,
    /// The ordering key.
    pub ordering_key: Option<&'a str>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

/// Why a send failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendFailure {
    /// What happened, for the history: status and a body excerpt, or the I/O error.
    pub message: String,
    /// The HTTP (or protocol) status, when there was one.
    pub status: Option<u16>,
    /// A delay the far side asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// True for failures that usually pass (timeouts, connection errors, 408/429/5xx).
    pub transient: bool,
}

impl SendFailure {
    /// A failure that is not expected to pass by itself.
    pub fn permanent(message: impl Into<String>) -> Self {
        SendFailure {
            message: message.into(),
            status: None,
            retry_after: None,
            transient: false,
        }
    }

    /// A failure that usually passes (a timeout, a refused connection).
    pub fn transient(message: impl Into<String>) -> Self {
        SendFailure {
            transient: true,
            ..SendFailure::permanent(message)
        }
    }
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Delivers messages to one subscriber.
pub trait Transport: Send + Sync {
    /// Sends one message; `Ok` only once the far side confirmed it.
    ///
    /// # Errors
    /// [`SendFailure`] describing what went wrong; the delivery is retried per policy.
    fn send(&self, message: &Outgoing<'_>) -> Result<(), SendFailure>;

    /// Sends several messages; one outcome per message, in order. The default sends them one
    /// by one; broker transports publish them all and await the confirmations together.
    fn send_batch(&self, messages: &[Outgoing<'_>]) -> Vec<Result<(), SendFailure>> {
        messages.iter().map(|m| self.send(m)).collect()
    }
}

/// Whether this build can deliver to subscribers of `kind`.
pub(crate) const fn compiled_in(kind: SubscriberKind) -> bool {
    match kind {
        SubscriberKind::Http => cfg!(feature = "http"),
        SubscriberKind::Jsonrpc => cfg!(feature = "jsonrpc"),
        SubscriberKind::Interbase => cfg!(feature = "interbase"),
        SubscriberKind::Amqp => cfg!(feature = "amqp"),
        SubscriberKind::Kafka => cfg!(feature = "kafka"),
        SubscriberKind::Mqtt => cfg!(feature = "mqtt"),
    }
}

/// The subscribers this process delivers to: active, and of a kind compiled in.
pub(crate) fn deliverable(config: &ConfigSnapshot) -> Vec<&str> {
    config
        .config()
        .subscribers
        .iter()
        .filter(|s| s.active && compiled_in(s.kind))
        .map(|s| s.code.as_str())
        .collect()
}

/// Built transports, per subscriber, for one configuration version.
#[derive(Default)]
pub(crate) struct Transports {
    cache: Mutex<Built>,
    #[cfg(any(feature = "amqp", feature = "kafka", feature = "mqtt"))]
    runtime: runtime::Shared,
}

#[derive(Default)]
struct Built {
    version: i64,
    by_subscriber: HashMap<String, Arc<dyn Transport>>,
}

impl fmt::Debug for Transports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transports")
    }
}

impl Transports {
    /// The transport of `subscriber`, built on first use for this configuration version.
    pub(crate) fn get(
        &self,
        config: &ConfigSnapshot,
        subscriber: &str,
    ) -> Result<Arc<dyn Transport>, SendFailure> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.version != config.version() {
            *cache = Built {
                version: config.version(),
                by_subscriber: HashMap::new(),
            };
        }
        if let Some(t) = cache.by_subscriber.get(subscriber) {
            return Ok(Arc::clone(t));
        }
        let s = config.subscriber(subscriber).ok_or_else(|| {
            SendFailure::permanent(format!("subscriber '{subscriber}' is not configured"))
        })?;
        let built = self.build(config, s).map_err(SendFailure::permanent)?;
        cache
            .by_subscriber
            .insert(subscriber.to_owned(), Arc::clone(&built));
        Ok(built)
    }
}

impl Transports {
    /// The engine's async runtime, started on first use.
    #[cfg(any(feature = "amqp", feature = "kafka", feature = "mqtt"))]
    pub(crate) fn runtime(&self) -> Result<Arc<tokio::runtime::Runtime>, String> {
        self.runtime.get()
    }

    #[cfg_attr(
        not(any(
            feature = "http",
            feature = "amqp",
            feature = "kafka",
            feature = "mqtt"
        )),
        expect(
            unused_variables,
            unreachable_code,
            reason = "a build with no transport refuses every subscriber"
        )
    )]
    fn build(&self, config: &ConfigSnapshot, s: &Subscriber) -> Result<Arc<dyn Transport>, String> {
        let endpoint = config.endpoint(&s.endpoint).ok_or_else(|| {
            format!(
                "subscriber '{}': endpoint '{}' is not configured",
                s.code, s.endpoint
            )
        })?;
        let built: Arc<dyn Transport> = match s.kind {
            #[cfg(feature = "http")]
            SubscriberKind::Http => Arc::new(http::HttpTransport::new(
                endpoint,
                &s.http.clone().unwrap_or_default(),
            )?),
            #[cfg(feature = "jsonrpc")]
            SubscriberKind::Jsonrpc => Arc::new(jsonrpc::JsonRpcTransport::new(
                endpoint,
                &s.jsonrpc.clone().unwrap_or_default(),
            )?),
            #[cfg(feature = "interbase")]
            SubscriberKind::Interbase => Arc::new(interbase::InterbaseTransport::new(
                endpoint,
                &s.interbase.clone().unwrap_or_default(),
            )?),
            #[cfg(feature = "amqp")]
            SubscriberKind::Amqp => Arc::new(amqp::AmqpTransport::new(
                endpoint,
                &s.amqp.clone().unwrap_or_default(),
                self.runtime.get()?,
            )?),
            #[cfg(feature = "kafka")]
            SubscriberKind::Kafka => Arc::new(kafka::KafkaTransport::new(
                endpoint,
                &s.kafka.clone().unwrap_or_default(),
                self.runtime.get()?,
            )?),
            #[cfg(feature = "mqtt")]
            SubscriberKind::Mqtt => Arc::new(mqtt::MqttTransport::new(
                endpoint,
                &s.code,
                &s.mqtt.clone().unwrap_or_default(),
            )?),
            #[allow(
                unreachable_patterns,
                reason = "reached when a transport's feature is off"
            )]
            kind => {
                return Err(format!(
                    "subscriber '{}': this build of Integra has no '{kind}' transport (cargo feature '{kind}')",
                    s.code
                ));
            }
        };
        Ok(built)
    }
}
