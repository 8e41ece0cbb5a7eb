//! Subscribers: who receives a flow's messages, over which transport, with which retry policy.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Problems;
use crate::queue::retry::RetryPolicy;

/// A receiver of outgoing messages. Each delivery to it has its own status and retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// Unique code, referenced by flows.
    pub code: String,
    /// The transport.
    pub kind: SubscriberKind,
    /// The endpoint it connects to (required by HTTP-based kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// An inactive subscriber gets no new deliveries, and its pending ones wait.
    #[serde(default = "yes")]
    pub active: bool,
    /// How failed deliveries are retried.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Settings of an `http` subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
}

fn yes() -> bool {
    true
}

impl Subscriber {
    /// An active HTTP subscriber on `endpoint` with default settings.
    pub fn http(
        code: impl Into<String>,
        endpoint: impl Into<String>,
        settings: HttpSettings,
    ) -> Self {
        Subscriber {
            code: code.into(),
            kind: SubscriberKind::Http,
            endpoint: Some(endpoint.into()),
            active: true,
            retry: RetryPolicy::default(),
            http: Some(settings),
        }
    }

    /// The HTTP settings, defaults when the section is absent.
    pub fn http_settings(&self) -> HttpSettings {
        self.http.clone().unwrap_or_default()
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("subscriber '{}'", self.code);
        p.code(&object, &self.code);
        for (field, problem) in self.retry.problems() {
            p.push(&object, &format!("retry.{field}"), problem);
        }
        if !self.kind.implemented() {
            p.push(
                &object,
                "kind",
                format!("kind '{}' is not implemented in this version", self.kind),
            );
        }
        if self.kind.needs_endpoint() && self.endpoint.is_none() {
            p.push(
                &object,
                "endpoint",
                format!("a '{}' subscriber needs an endpoint", self.kind),
            );
        }
        if self.http.is_some() && self.kind != SubscriberKind::Http {
            p.push(
                &object,
                "http",
                format!("the 'http' section does not apply to kind '{}'", self.kind),
            );
        }
        if let Some(http) = &self.http {
            http.check(&object, p);
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
    /// The same subsystem in another base (1C `инт_` or Integra).
    Interbase,
    /// RabbitMQ (AMQP 0-9-1).
    Amqp,
    /// Kafka.
    Kafka,
    /// MQTT.
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

    /// Whether this version of Integra implements the kind at all. A kind that is
    /// implemented but whose cargo feature this build lacks is still valid configuration:
    /// another process sharing the database may deliver it.
    pub const fn implemented(self) -> bool {
        matches!(self, SubscriberKind::Http)
    }

    const fn needs_endpoint(self) -> bool {
        matches!(
            self,
            SubscriberKind::Http | SubscriberKind::Jsonrpc | SubscriberKind::Interbase
        )
    }
}

impl fmt::Display for SubscriberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of an HTTP subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// The request method: `POST` (default), `PUT` or `PATCH`.
    pub method: HttpMethod,
    /// Path appended to the endpoint's base address; may hold `{flow}` and `{message_id}`.
    pub path: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Where the flow code and message id travel. Default: headers `X-Flow`, `X-Message-ID`.
    pub ids_in: IdsIn,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            method: HttpMethod::Post,
            path: String::new(),
            headers: BTreeMap::new(),
            ids_in: IdsIn::Header,
        }
    }
}

/// The placeholders a path template may hold.
pub const PATH_PLACEHOLDERS: [&str; 2] = ["{flow}", "{message_id}"];

impl HttpSettings {
    fn check(&self, object: &str, p: &mut Problems) {
        if !self.path.is_empty() && !self.path.starts_with('/') && !self.path.starts_with('?') {
            p.push(
                object,
                "http.path",
                format!("'{}' must start with '/'", self.path),
            );
        }
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            let tail = &rest[open..];
            let Some(close) = tail.find('}') else {
                p.push(object, "http.path", "has a '{' without a matching '}'");
                break;
            };
            let placeholder = &tail[..=close];
            if !PATH_PLACEHOLDERS.contains(&placeholder) {
                p.push(
                    object,
                    "http.path",
                    format!("unknown placeholder {placeholder}; use {{flow}} or {{message_id}}"),
                );
            }
            rest = &tail[close + 1..];
        }
        if self.ids_in == IdsIn::Path && PATH_PLACEHOLDERS.iter().any(|ph| !self.path.contains(ph))
        {
            p.push(
                object,
                "http.path",
                "ids_in is 'path', so the path must hold both {flow} and {message_id}",
            );
        }
        for (name, value) in &self.headers {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                p.push(
                    object,
                    "http.headers",
                    format!("'{name}' is not a valid header name"),
                );
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                p.push(
                    object,
                    "http.headers",
                    format!("the value of '{name}' contains a line break"),
                );
            }
        }
    }
}

/// An HTTP request method that carries a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
        }
    }
}

/// Where an HTTP subscriber's requests carry the flow code and message id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdsIn {
    /// Headers `X-Flow` and `X-Message-ID`.
    Header,
    /// The path template's `{flow}` and `{message_id}`.
    Path,
    /// Query parameters `flow` and `message_id`.
    Query,
}
