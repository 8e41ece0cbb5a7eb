//! Configuration: endpoints, subscribers and flows.
//!
//! Configuration lives in the database (the store keeps one JSON document per object and a
//! version number), so every process that opens the file sees the same. It is loaded from
//! JSON ([`Config::from_json`], [`Config::from_file`]) or changed object by object through
//! the engine, and it is validated as a whole before anything is written: a [`ConfigError`]
//! lists every problem, each naming the object and the field at fault.
//!
//! **Secrets** (passwords, tokens, API keys, HMAC secrets) are [`Secret`]s, given only in
//! `auth` sections. The stored configuration keeps them; [`Config::redacted`] is the form
//! to show or export, with each secret replaced by [`REDACTED`], and a configuration that
//! still holds the marker is refused until the secrets are written in again. Addresses
//! may not carry credentials (`user:password@`), and static headers may not carry
//! `Authorization`: either would show wherever the address or headers are shown.
//!
//! ```json
//! {
//!   "endpoints":   [{"code": "shop", "base_url": "https://shop.example.com",
//!                    "auth": {"type": "bearer", "token": "YOUR-API-TOKEN"}}],
//!   "subscribers": [{"code": "shop_orders", "kind": "http", "endpoint": "shop",
//!                    "http": {"path": "/api/orders/{message_id}"}}],
//!   "flows":       [{"code": "ORDER_EXPORT", "direction": "outgoing",
//!                    "subscribers": ["shop_orders"], "former": "external"}]
//! }
//! ```

mod address;
pub mod duration;
mod endpoint;
mod flow;
mod listener;
mod schema;
mod settings;
mod snapshot;
mod source;
mod subscriber;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_LISTED_PROBLEMS, elided, quoted};
#[cfg(feature = "receiver")]
use crate::retry::RetryPolicy;

pub(crate) use address::Address;
pub use endpoint::{
    Auth, ENDPOINT_SCHEMES, Endpoint, REDACTED, ScramMechanism, Secret, TlsSettings,
};
pub use flow::{Direction, Flow, Former, Ordering, Processor, Retention, SchemaRef};
pub use listener::{
    ADMIN_PATH, AdminEndpoint, AdminRole, AdminToken, HmacAlgorithm, InboundAuth,
    InterbaseListener, Listener, ListenerLimits, RESERVED_PATHS, Route, SignatureEncoding,
};
pub use schema::{ExternalSchema, SchemaEntry};
pub use settings::{
    AmqpSettings, HttpMethod, HttpSettings, IdsIn, InterbaseSettings, JsonRpcSettings,
    KafkaCompression, KafkaSettings, MqttSettings, NAME_PLACEHOLDERS, PATH_PLACEHOLDERS,
};
#[cfg(feature = "network")]
pub(crate) use settings::{Piece, pieces};
pub(crate) use snapshot::ConfigSnapshot;
pub use source::{
    AmqpSource, KafkaSource, KafkaStart, MqttSource, PollCursor, PollSource, Source, SourceKind,
};
pub use subscriber::{Subscriber, SubscriberKind};

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Remote systems.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Receivers of outgoing messages.
    #[serde(default)]
    pub subscribers: Vec<Subscriber>,
    /// Data flows.
    #[serde(default)]
    pub flows: Vec<Flow>,
    /// The schema catalog: OpenAPI 3.0 documents flows are validated against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<SchemaEntry>,
    /// Addresses the HTTP receiver listens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<Listener>,
    /// The message exchange (the 1C SSL «Обмен сообщениями» API): this base's name and how
    /// received messages are handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeSettings>,
}

/// Settings of the message exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExchangeSettings {
    /// This base's name, as other bases show it. Default "Integra".
    pub name: String,
    /// Failed handling attempts after which a received message is quarantined. Default 3.
    pub quarantine_after: u32,
    /// How long after its first failed handling a received message is handled again; the
    /// wait doubles with each further failure, up to 5 minutes. Default 1 s.
    #[serde(with = "duration")]
    pub retry_delay: Duration,
    /// How long finished exchange messages are kept: sent ones the recipient processed and
    /// received ones handled here after `delivered`, quarantined ones after `dead`.
    pub retention: Retention,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        ExchangeSettings {
            name: "Integra".to_owned(),
            quarantine_after: 3,
            retry_delay: Duration::from_secs(1),
            retention: Retention::default(),
        }
    }
}

impl ExchangeSettings {
    /// How failed handling of a received message is retried: `quarantine_after` attempts,
    /// `retry_delay` doubling up to 5 minutes, ±20 % jitter.
    #[cfg(feature = "receiver")]
    pub(crate) fn handling_retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.quarantine_after,
            initial_delay: self.retry_delay,
            multiplier: 2.0,
            max_delay: Duration::from_secs(300).max(self.retry_delay),
            jitter: 0.2,
        }
    }
}

impl Config {
    /// Parses and validates a configuration from JSON text.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field that is malformed, or every problem validation found.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, None)
    }

    /// Parses JSON text, reads schema files relative to `base`, and validates.
    fn parse(text: &str, base: Option<&Path>) -> Result<Config, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::single("configuration", &path, e.into_inner().to_string())
        })?;
        for schema in &mut config.schemas {
            schema.read_file(base)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a configuration file.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read or is not a valid configuration.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = crate::limits::read_text_file(path).map_err(|e| {
            ConfigError::single(
                &format!("file '{}'", path.display()),
                "",
                format!("cannot be read: {e}"),
            )
        })?;
        Config::parse(&text, path.parent())
    }

    /// This configuration with every secret replaced by [`REDACTED`]: the form to show,
    /// log or export. Loading it back is refused until the secrets are written in again.
    #[must_use]
    pub fn redacted(&self) -> Config {
        let mut config = self.clone();
        for secret in config.secrets_mut() {
            REDACTED.clone_into(secret.value_mut());
        }
        config
    }

    /// Every secret of the configuration, to change in place (redacted, sealed, opened).
    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        let endpoints = self
            .endpoints
            .iter_mut()
            .filter_map(|e| e.auth.secret_mut());
        let listeners = self.listeners.iter_mut().flat_map(Listener::secrets_mut);
        endpoints.chain(listeners)
    }

    /// Checks every object and every reference between objects.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Problems::default();
        unique_codes(&mut p, "endpoint", self.endpoints.iter().map(|e| &e.code));
        unique_codes(
            &mut p,
            "subscriber",
            self.subscribers.iter().map(|s| &s.code),
        );
        unique_codes(&mut p, "flow", self.flows.iter().map(|f| &f.code));
        unique_codes(&mut p, "schema", self.schemas.iter().map(|s| &s.code));
        let mut documents = std::collections::HashMap::new();
        for s in &self.schemas {
            s.check(&mut p);
            if let Some(ext) = &s.external
                && !self.endpoints.iter().any(|e| e.code == ext.endpoint)
            {
                p.push(
                    &format!("schema '{}'", s.code),
                    "external.endpoint",
                    format!("no endpoint has code '{}'", ext.endpoint),
                );
            }
            if let Some(Ok(doc)) = s.parse() {
                documents.insert(s.code.as_str(), doc);
            }
        }
        for e in &self.endpoints {
            e.check(&mut p);
        }
        for s in &self.subscribers {
            s.check(&mut p);
            let object = format!("subscriber '{}'", s.code);
            self.check_endpoint_use(&object, "endpoint", &s.endpoint, s.kind, &mut p);
        }
        if let Some(exchange) = &self.exchange {
            if exchange.name.trim().is_empty() {
                p.push("exchange", "name", "must not be empty");
            }
            if exchange.quarantine_after == 0 {
                p.push("exchange", "quarantine_after", "must be at least 1");
            }
            exchange.retention.check("exchange", &mut p);
        }
        unique_codes(&mut p, "listener", self.listeners.iter().map(|l| &l.code));
        let mut addresses = HashSet::new();
        for l in &self.listeners {
            l.check(&mut p);
            let object = format!("listener '{}'", l.code);
            if let Ok(address) = l.socket_address()
                && address.port() != 0
                && !addresses.insert(address)
            {
                p.push(
                    &object,
                    "address",
                    format!("{address} is used by another listener"),
                );
            }
            for (field, code) in l.flow_references() {
                self.check_incoming_flow(&object, &field, code, &mut p);
            }
        }
        for f in &self.flows {
            f.check(&mut p);
            if let Some(source) = f
                .source
                .as_ref()
                .filter(|_| f.direction == Direction::Incoming)
            {
                let object = format!("flow '{}'", f.code);
                let kind = source.kind.protocol();
                self.check_endpoint_use(&object, "source.endpoint", &source.endpoint, kind, &mut p);
            }
            for code in &f.subscribers {
                if !self.subscribers.iter().any(|s| &s.code == code) {
                    p.push(
                        &format!("flow '{}'", f.code),
                        "subscribers",
                        format!("no subscriber has code '{code}'"),
                    );
                }
            }
            if let Some(r) = &f.schema {
                let object = format!("flow '{}'", f.code);
                if !self.schemas.iter().any(|s| s.code == r.schema) {
                    p.push(
                        &object,
                        "schema.schema",
                        format!("no schema has code '{}'", r.schema),
                    );
                } else if let Some(doc) = documents.get(r.schema.as_str())
                    && !doc.components().contains(&r.component)
                {
                    p.push(
                        &object,
                        "schema.component",
                        format!(
                            "schema '{}' {}",
                            r.schema,
                            doc.no_such_component(&r.component)
                        ),
                    );
                }
            }
        }
        p.into_result()
    }

    /// Reports a reference to an endpoint that does not exist or does not suit `kind`.
    fn check_endpoint_use(
        &self,
        object: &str,
        field: &str,
        code: &str,
        kind: SubscriberKind,
        p: &mut Problems,
    ) {
        match self.endpoints.iter().find(|e| e.code == code) {
            None => p.push(object, field, format!("no endpoint has code '{code}'")),
            Some(e) => {
                if let Some(problem) = e.unsuitable_for(kind) {
                    p.push(object, field, format!("endpoint '{}': {problem}", e.code));
                }
            }
        }
    }

    /// Reports a reference to a flow that does not exist or is not incoming.
    fn check_incoming_flow(&self, object: &str, field: &str, code: &str, p: &mut Problems) {
        match self.flow(code) {
            None => p.push(object, field, format!("no flow has code '{code}'")),
            Some(f) if f.direction != Direction::Incoming => p.push(
                object,
                field,
                format!("flow '{code}' is outgoing; only incoming flows receive"),
            ),
            Some(_) => {}
        }
    }

    /// The message exchange's settings: the configured ones, or the defaults.
    pub fn exchange_settings(&self) -> ExchangeSettings {
        self.exchange.clone().unwrap_or_default()
    }

    /// The flow with this code.
    pub fn flow(&self, code: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.code == code)
    }

    /// The subscriber with this code.
    pub fn subscriber(&self, code: &str) -> Option<&Subscriber> {
        self.subscribers.iter().find(|s| s.code == code)
    }

    /// The endpoint with this code.
    pub fn endpoint(&self, code: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.code == code)
    }

    /// The schema catalog entry with this code.
    pub fn schema(&self, code: &str) -> Option<&SchemaEntry> {
        self.schemas.iter().find(|s| s.code == code)
    }
}

fn unique_codes<'a>(p: &mut Problems, kind: &str, codes: impl Iterator<Item = &'a String>) {
    let mut seen = HashSet::new();
    for code in codes {
        if !seen.insert(code) {
            p.push(&format!("{kind} '{code}'"), "code", "is used twice");
        }
    }
}

/// Returns why `url` is not an address with one of `schemes`, or `None` when it is. An
/// address with credentials (`user:password@host`) is refused without repeating it.
pub(crate) fn url_problem(url: &str, schemes: &[&str]) -> Option<String> {
    address::parse_url(url, schemes).err()
}

/// `url` split around credentials in its authority: (the scheme with `://`, if any; the
/// rest after `@`), or `None` when it holds none.
fn split_credentials(url: &str) -> Option<(&str, &str)> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (scheme, rest) = url.split_at(start);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (credentials, _) = authority.rsplit_once('@')?;
    Some((scheme, &rest[credentials.len() + 1..]))
}

/// `url` with any credentials in it replaced by `***`, for messages.
pub(crate) fn without_credentials(url: &str) -> std::borrow::Cow<'_, str> {
    match split_credentials(url) {
        Some((scheme, rest)) => format!("{scheme}***@{rest}").into(),
        None => url.into(),
    }
}

/// One thing wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// The object at fault, e.g. `subscriber 'shop'`.
    pub object: String,
    /// The field at fault, e.g. `retry.max_attempts` (empty when the object as a whole).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (object, message) = (quoted(&self.object), elided(&self.message));
        if self.field.is_empty() {
            write!(f, "{object}: {message}")
        } else {
            write!(f, "{object}, field '{}': {message}", quoted(&self.field))
        }
    }
}

/// A configuration that cannot be used, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", join(.problems))]
pub struct ConfigError {
    /// Each problem, naming the object and field.
    pub problems: Vec<ConfigProblem>,
}

/// The problems, one after another: at most [`MAX_LISTED_PROBLEMS`], then how many more.
fn join(problems: &[ConfigProblem]) -> String {
    let mut text = problems
        .iter()
        .take(MAX_LISTED_PROBLEMS)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > MAX_LISTED_PROBLEMS {
        text.push_str(&format!(
            "; and {} more problems",
            problems.len() - MAX_LISTED_PROBLEMS
        ));
    }
    text
}

impl ConfigError {
    pub(crate) fn single(object: &str, field: &str, message: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![ConfigProblem {
                object: object.to_owned(),
                field: field.to_owned(),
                message: message.into(),
            }],
        }
    }
}

/// Collects problems while validating.
#[derive(Default)]
pub(crate) struct Problems(Vec<ConfigProblem>);

impl Problems {
    pub(crate) fn push(&mut self, object: &str, field: &str, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            object: object.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Checks an object code: non-empty, at most 150 characters, no spaces or control
    /// characters.
    pub(crate) fn code(&mut self, object: &str, code: &str) {
        if code.is_empty() {
            self.push(object, "code", "must not be empty");
        } else if code.chars().count() > 150 {
            self.push(object, "code", "must be at most 150 characters");
        } else if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.push(
                object,
                "code",
                "must not contain spaces or control characters",
            );
        }
    }

    fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems: self.0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "endpoints": [{"code": "shop", "base_url": "http://127.0.0.1:8080",
                       "auth": {"type": "basic", "username": "u", "password": "p"},
                       "read_timeout": "10s"}],
        "subscribers": [{"code": "orders", "kind": "http", "endpoint": "shop",
                         "retry": {"max_attempts": 3, "initial_delay": "2s"},
                         "http": {"path": "/in/{flow}/{message_id}", "ids_in": "path"}}],
        "flows": [{"code": "ORDER_EXPORT", "direction": "outgoing", "subscribers": ["orders"],
                   "former": "external", "ordering": "by_key",
                   "retention": {"delivered": "1d", "dead": "10d"}},
                  {"code": "ORDER_IMPORT", "direction": "incoming"}]
    }"#;

    #[test]
    fn parses_a_full_configuration() {
        let c = Config::from_json(GOOD).unwrap_or_default();
        assert_eq!(c.flows.len(), 2);
        let s = c.subscriber("orders").cloned();
        let s = s.unwrap_or_else(|| Subscriber::http("x", "y", HttpSettings::default()));
        assert_eq!(s.retry.max_attempts, 3);
        assert_eq!(s.http.map(|h| h.ids_in), Some(IdsIn::Path));
        assert_eq!(
            c.endpoint("shop").map(|e| e.read_timeout.as_secs()),
            Some(10)
        );
        // Round trip through the stored form.
        let text = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(Config::from_json(&text), Ok(c));
    }

    fn problems(json: &str) -> Vec<String> {
        match Config::from_json(json) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn syntax_errors_name_the_field() {
        let p = problems(r#"{"flows": [{"code": "A", "direction": "sideways"}]}"#);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("configuration, field 'flows[0].direction'"),
            "{p:?}"
        );
        let p = problems(r#"{"endpoints": [{"code": "e", "base_url": "http://x", "colour": 1}]}"#);
        assert!(p[0].contains("unknown field `colour`"), "{p:?}");
    }

    #[test]
    fn every_semantic_problem_is_reported() {
        let p = problems(
            r#"{
            "endpoints": [{"code": "e", "base_url": "ftp://x"}, {"code": "e", "base_url": "http://"}],
            "subscribers": [{"code": "s", "kind": "http", "endpoint": "missing",
                             "retry": {"max_attempts": 0},
                             "http": {"path": "/x/{id}", "headers": {"Bad Name": "v"}}},
                            {"code": "k", "kind": "kafka", "endpoint": "e", "http": {}}],
            "flows": [{"code": "F", "direction": "incoming", "subscribers": ["s"]},
                      {"code": "G", "direction": "outgoing", "subscribers": ["nobody"],
                       "retention": {"delivered": "2d", "dead": "1d"}}]
        }"#,
        );
        let expected = [
            "endpoint 'e', field 'code': is used twice",
            "endpoint 'e', field 'base_url': 'ftp://x' must start with http:// or https:// or amqp:// or amqps:// or kafka:// or kafkas:// or mqtt:// or mqtts://",
            "endpoint 'e', field 'base_url': 'http://' has no host",
            "subscriber 's', field 'retry.max_attempts': must be at least 1",
            "subscriber 's', field 'http.path': unknown placeholder {id}; use {flow}, {message_id}",
            "subscriber 's', field 'http.headers': 'Bad Name' is not a valid header name",
            "subscriber 's', field 'endpoint': no endpoint has code 'missing'",
            "subscriber 'k', field 'http': the 'http' section does not apply to kind 'kafka'",
            "subscriber 'k', field 'endpoint': endpoint 'e': a 'kafka' subscriber needs kafka:// or kafkas:// addresses; this endpoint is at 'ftp://x'",
            "flow 'F', field 'subscribers': an incoming flow has no subscribers",
            "flow 'G', field 'retention.dead': must be at least as long as retention.delivered",
            "flow 'G', field 'subscribers': no subscriber has code 'nobody'",
        ];
        assert_eq!(p, expected);
    }

    /// Every kind of authentication, each with a secret of its own, `s3cret-<n>`.
    const EVERY_SECRET: &str = r#"{
        "endpoints": [
            {"code": "basic", "base_url": "http://h", "auth": {"type": "basic", "username": "u", "password": "s3cret-1"}},
            {"code": "bearer", "base_url": "http://h", "auth": {"type": "bearer", "token": "s3cret-2"}},
            {"code": "key", "base_url": "http://h", "auth": {"type": "api_key", "header": "X-Key", "value": "s3cret-3"}},
            {"code": "scram", "base_url": "kafka://h:9092", "auth": {"type": "scram", "mechanism": "sha256", "username": "u", "password": "s3cret-4"}},
            {"code": "cert", "base_url": "https://h", "auth": {"type": "client_certificate", "certificate": "c.pem", "key": "k.pem"}}
        ],
        "flows": [{"code": "IN", "direction": "incoming"}],
        "listeners": [{"code": "main",
            "interbase": {"auth": {"type": "basic", "username": "u", "password": "s3cret-5"}},
            "metrics": {"auth": {"type": "bearer", "token": "s3cret-6"}},
            "exchange": {"auth": {"type": "basic", "username": "u", "password": "s3cret-7"}},
            "routes": [
                {"prefix": "/a", "flow": "IN", "auth": {"type": "api_key", "header": "X-Key", "value": "s3cret-8"}},
                {"prefix": "/b", "flow": "IN", "auth": {"type": "hmac", "header": "X-Sig", "secret": "s3cret-9"}},
                {"prefix": "/c", "flow": "IN", "auth": {"type": "none"}}
            ]}]
    }"#;

    /// Fails to compile when a kind of authentication is added: add it to [`EVERY_SECRET`].
    fn covered(endpoint: &Auth, inbound: &InboundAuth) {
        match endpoint {
            Auth::None
            | Auth::Basic { .. }
            | Auth::Bearer { .. }
            | Auth::ApiKey { .. }
            | Auth::ClientCertificate { .. }
            | Auth::Scram { .. } => {}
        }
        match inbound {
            InboundAuth::None
            | InboundAuth::Basic { .. }
            | InboundAuth::Bearer { .. }
            | InboundAuth::ApiKey { .. }
            | InboundAuth::Hmac { .. } => {}
        }
    }

    #[test]
    fn an_export_holds_no_secret_and_is_refused_until_they_are_written_in() {
        let config = Config::from_json(EVERY_SECRET).unwrap();
        covered(&config.endpoints[0].auth, &InboundAuth::None);
        let stored = serde_json::to_string(&config).unwrap();
        let export = serde_json::to_string(&config.redacted()).unwrap();
        for n in 1..=9 {
            let secret = format!("s3cret-{n}");
            assert!(stored.contains(&secret), "the stored form keeps {secret}");
            assert!(
                !export.contains(&secret),
                "{secret} in the export: {export}"
            );
        }
        assert_eq!(export.matches("\"***\"").count(), 9, "{export}");
        // Everything else is kept: names, headers, files.
        assert_eq!(
            stored.replace(|c: char| c.is_ascii_digit(), ""),
            export
                .replace("\"***\"", "\"s3cret-\"")
                .replace(|c: char| c.is_ascii_digit(), "")
        );

        let p = problems(&export);
        let field = |object: &str, field: &str| {
            format!(
                "{object}, field '{field}': is '***', which an exported configuration holds in place of a secret; write the secret itself"
            )
        };
        let expected = [
            field("endpoint 'basic'", "auth.password"),
            field("endpoint 'bearer'", "auth.token"),
            field("endpoint 'key'", "auth.value"),
            field("endpoint 'scram'", "auth.password"),
            field("listener 'main'", "interbase.auth.password"),
            field("listener 'main'", "metrics.auth.token"),
            field("listener 'main'", "exchange.auth.password"),
            field("listener 'main'", "routes[0].auth.value"),
            field("listener 'main'", "routes[1].auth.secret"),
        ];
        assert_eq!(p, expected);
    }

    #[test]
    fn credentials_in_addresses_and_static_headers_are_refused_without_repeating_them() {
        let p = problems(
            r#"{
            "endpoints": [{"code": "a", "base_url": "amqp://guest:pa55word@rabbit:5672/vh"},
                          {"code": "h", "base_url": "http://u:pa55word@shop/api", "proxy": "http://p:pa55word@proxy:3128"},
                          {"code": "x", "base_url": "u:pa55word@shop"}],
            "subscribers": [{"code": "s", "kind": "http", "endpoint": "a",
                             "http": {"headers": {"authorization": "Bearer pa55word"}}}],
            "flows": [{"code": "F", "direction": "outgoing", "subscribers": ["s"]}]
        }"#,
        );
        let joined = p.join("\n");
        assert!(!joined.contains("pa55word"), "{joined}");
        let credentials = |at: &str| {
            format!(
                "'{at}' holds credentials before '@', which would show wherever the address is shown; give them in the authentication settings instead"
            )
        };
        let expected = [
            format!("endpoint 'a', field 'base_url': {}", credentials("amqp://***@rabbit:5672/vh")),
            format!("endpoint 'h', field 'base_url': {}", credentials("http://***@shop/api")),
            format!("endpoint 'h', field 'proxy': {}", credentials("http://***@proxy:3128")),
            format!("endpoint 'x', field 'base_url': {}", credentials("***@shop")),
            "subscriber 's', field 'http.headers': 'authorization' carries credentials; give them in the endpoint's auth, which keeps them secret".to_owned(),
            "subscriber 's', field 'endpoint': endpoint 'a': a 'http' subscriber needs http:// or https:// addresses; this endpoint is at 'amqp://***@rabbit:5672/vh'".to_owned(),
        ];
        assert_eq!(p, expected);
        // An '@' after the authority is no credential.
        assert_eq!(url_problem("http://shop/a@b?c=d@e", ENDPOINT_SCHEMES), None);
    }

    #[test]
    fn listeners_bind_to_loopback_unless_configured_otherwise() {
        let c = Config::from_json(
            r#"{"flows": [{"code": "IN", "direction": "incoming"}],
                "listeners": [{"code": "main", "routes": [
                    {"prefix": "/a", "flow": "IN", "auth": {"type": "none"}}]}]}"#,
        )
        .unwrap();
        let address = c.listeners[0].socket_address().unwrap();
        assert!(address.ip().is_loopback(), "{address}");
        assert_eq!(address.to_string(), "127.0.0.1:8780");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = Config::from_json(GOOD).unwrap_or_default();
        let debug = format!("{c:?}");
        assert!(debug.contains("Secret(***)"));
        assert!(!debug.contains("password: \"p\""));
    }
}
