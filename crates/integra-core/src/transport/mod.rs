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

#[cfg(feature = "http")]
pub mod http;

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
}

/// Whether this build can deliver to subscribers of `kind`.
pub(crate) const fn compiled_in(kind: SubscriberKind) -> bool {
    match kind {
        SubscriberKind::Http => cfg!(feature = "http"),
        SubscriberKind::Jsonrpc
        | SubscriberKind::Interbase
        | SubscriberKind::Amqp
        | SubscriberKind::Kafka
        | SubscriberKind::Mqtt => false,
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
        let built = build(config, s).map_err(SendFailure::permanent)?;
        cache
            .by_subscriber
            .insert(subscriber.to_owned(), Arc::clone(&built));
        Ok(built)
    }
}

fn build(config: &ConfigSnapshot, s: &Subscriber) -> Result<Arc<dyn Transport>, String> {
    let endpoint = || {
        let code = s.endpoint.as_deref().unwrap_or_default();
        config.endpoint(code).ok_or_else(|| {
            format!(
                "subscriber '{}': endpoint '{code}' is not configured",
                s.code
            )
        })
    };
    match s.kind {
        #[cfg(feature = "http")]
        SubscriberKind::Http => Ok(Arc::new(http::HttpTransport::new(
            endpoint()?,
            &s.http_settings(),
        )?)),
        kind => {
            let _ = endpoint;
            Err(format!(
                "subscriber '{}': this build of Integra has no '{kind}' transport",
                s.code
            ))
        }
    }
}
