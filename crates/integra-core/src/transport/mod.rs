//! Transports: how a delivery reaches its subscriber.
//!
//! Every subscriber kind implements [`Transport`], one module per kind behind its cargo
//! feature. A transport is built once per subscriber from the configuration (its endpoint,
//! its kind-specific settings) and reused across messages and threads, so connections are
//! pooled; `Transports` rebuilds them when the configuration's version changes.
//!
//! A transport reports success only when the far side confirmed the message. A failure is
//! retried per the subscriber's policy; a [`SendFailure`] says what kind it is
//! ([`FailureKind`]: transient like timeouts, refused connections and 5xx, or permanent) and
//! may carry a `Retry-After` delay. A failure of the message itself, which no attempt can
//! mend (its key makes a topic no broker accepts, its payload is no JSON-RPC `params`), is
//! [`FailureKind::Unsendable`]: found before anything is sent, and the delivery is Dead at
//! once instead of retried to the end of its attempts.
//!
//! Broker transports receive batches ([`Transport::send_batch`]): they publish every message
//! of the batch, then await the confirmations together (publisher confirms, one Kafka record
//! batch, MQTT acknowledgements), without weakening what Sent means: each message gets its own
//! outcome. HTTP-based transports send one request per delivery, on several workers at once.
//! lapin, rskafka and (for sources) rumqttc are asynchronous; they run on one small runtime
//! private to the engine (`runtime`), so callers stay synchronous.

#![cfg_attr(
    not(all(
        feature = "http",
        feature = "jsonrpc",
        feature = "interbase",
        feature = "amqp",
        feature = "kafka",
        feature = "mqtt"
    )),
    allow(
        dead_code,
        reason = "each transport reads its part; a build without some leaves theirs unread"
    )
)]

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
#[cfg(feature = "brokers")]
pub(crate) mod runtime;
#[cfg(feature = "network")]
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
    /// The ordering key given at registration, whatever the flow's ordering; on a flow
    /// ordered by key, the object key when none was given.
    pub ordering_key: Option<&'a str>,
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
    /// What the failure says about the next attempt.
    pub kind: FailureKind,
}

/// What a failed send says about the next attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// Usually passes by itself (a timeout, a connection error, 408/429/5xx): retried per
    /// the subscriber's policy.
    Transient,
    /// Not expected to pass by itself (the far side refused the message or our credentials,
    /// the configuration is wrong), but someone may mend the far side or the configuration:
    /// retried per the subscriber's policy too.
    Permanent,
    /// This message cannot be sent as it is, whatever the far side does (its object key
    /// makes an invalid MQTT topic, its payload cannot be JSON-RPC `params`): found before
    /// anything was sent, and the delivery is Dead at once (a re-drive after a configuration
    /// change tries again).
    Unsendable,
}

impl SendFailure {
    /// A failure that is not expected to pass by itself; retried per the policy.
    pub fn permanent(message: impl Into<String>) -> Self {
        SendFailure {
            message: message.into(),
            status: None,
            retry_after: None,
            kind: FailureKind::Permanent,
        }
    }

    /// A failure that usually passes (a timeout, a refused connection).
    pub fn transient(message: impl Into<String>) -> Self {
        SendFailure {
            kind: FailureKind::Transient,
            ..SendFailure::permanent(message)
        }
    }

    /// A message that cannot be sent as it is: its delivery is Dead at once.
    pub fn unsendable(message: impl Into<String>) -> Self {
        SendFailure {
            kind: FailureKind::Unsendable,
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

/// What `payload` (JSON text) is when it cannot be a JSON-RPC 2.0 call's `params` (`a
/// number`, `a string`, `a boolean`, `null`); `None` for an object or an array. Used where
/// payloads enter (registration, forming) as well as by the transport, so it does not depend
/// on the `jsonrpc` feature.
pub(crate) fn not_jsonrpc_params(payload: &str) -> Option<&'static str> {
    match payload
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first()
    {
        Some(b'{' | b'[') => None,
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        _ => Some("a number"),
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
    #[cfg(feature = "brokers")]
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
    #[cfg(feature = "brokers")]
    pub(crate) fn runtime(&self) -> Result<Arc<tokio::runtime::Runtime>, String> {
        self.runtime.get()
    }

    #[cfg_attr(
        not(feature = "network"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_or_an_array_can_be_json_rpc_params() {
        for structured in ["{}", "[]", " \n\t{\"n\": 1}", "\r\n[42]"] {
            assert_eq!(not_jsonrpc_params(structured), None, "{structured}");
        }
        for (scalar, found) in [
            ("42", "a number"),
            (" -0.5e3", "a number"),
            ("\"text\"", "a string"),
            ("true", "a boolean"),
            ("\nfalse", "a boolean"),
            ("null", "null"),
        ] {
            assert_eq!(not_jsonrpc_params(scalar), Some(found), "{scalar}");
        }
    }
}
