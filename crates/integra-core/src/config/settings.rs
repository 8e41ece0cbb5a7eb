//! The transport-specific settings of a subscriber, one section per kind, with the checks of
//! the templates (`{flow}`, `{message_id}` …) and headers they hold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Problems;

/// Placeholders a topic, routing key or queue-name template may hold.
pub const NAME_PLACEHOLDERS: &[&str] = &["{flow}", "{subscriber}", "{object_key}", "{message_id}"];
/// Placeholders an HTTP path template may hold.
pub const PATH_PLACEHOLDERS: &[&str] = &["{flow}", "{message_id}"];

/// A piece of a template: literal text, or a placeholder with its braces (`{flow}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text sent as it is.
    Text(&'a str),
    /// `{name}`, braces included.
    Placeholder(&'a str),
    /// A `{` with no `}` after it, and the rest of the template.
    Unclosed(&'a str),
}

/// The pieces of `template`, in order: the one reading of it that both its check and its
/// rendering follow, so a template is expanded once and a value is never read again.
pub(crate) fn pieces(template: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let piece = match rest.find('{') {
            Some(0) => match rest.find('}') {
                Some(close) => Piece::Placeholder(&rest[..=close]),
                None => Piece::Unclosed(rest),
            },
            Some(open) => Piece::Text(&rest[..open]),
            None => Piece::Text(rest),
        };
        let (Piece::Text(taken) | Piece::Placeholder(taken) | Piece::Unclosed(taken)) = piece;
        rest = &rest[taken.len()..];
        Some(piece)
    })
}

/// Reports placeholders in `template` that are not in `allowed`, and unbalanced braces.
fn check_template(object: &str, field: &str, template: &str, allowed: &[&str], p: &mut Problems) {
    for piece in pieces(template) {
        match piece {
            Piece::Text(_) => {}
            Piece::Unclosed(_) => {
                p.push(object, field, "has a '{' without a matching '}'");
                return;
            }
            Piece::Placeholder(placeholder) => {
                if !allowed.contains(&placeholder) {
                    p.push(
                        object,
                        field,
                        format!(
                            "unknown placeholder {placeholder}; use {}",
                            allowed.join(", ")
                        ),
                    );
                }
            }
        }
    }
}

/// Why `name` cannot be an HTTP header name (it must be a non-empty token), if it cannot.
pub(crate) fn header_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    (!valid).then(|| format!("'{name}' is not a valid header name"))
}

/// Why `value` cannot be sent as an HTTP header's value, if it cannot, without quoting it
/// (it may be a secret): a header carries printable ASCII and tabs, and loses spaces at its
/// ends. ureq refuses anything else in `Authorization`, and other servers read other bytes
/// each in its own way.
pub(crate) fn header_value_problem(value: &str) -> Option<String> {
    if let Some((at, c)) = value
        .chars()
        .enumerate()
        .find(|&(_, c)| !(c == '\t' || (' '..='~').contains(&c)))
    {
        let what = if c.is_ascii() {
            "a control character"
        } else {
            "a character outside ASCII"
        };
        return Some(format!(
            "character {} is {what}, which an HTTP header cannot carry (printable ASCII only: encode other text, e.g. in base64 or percent-encoding)",
            at + 1
        ));
    }
    if value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        return Some("begins or ends with a space, which HTTP drops".to_owned());
    }
    None
}

/// Reports header names that are not HTTP tokens, values HTTP cannot carry, and headers
/// that carry credentials (static headers are not secret: they show in exports).
fn check_headers(object: &str, field: &str, headers: &BTreeMap<String, String>, p: &mut Problems) {
    for (name, value) in headers {
        if let Some(problem) = header_name_problem(name) {
            p.push(object, field, problem);
        }
        if ["authorization", "proxy-authorization"].contains(&name.to_ascii_lowercase().as_str()) {
            p.push(
                object,
                field,
                format!("'{name}' carries credentials; give them in the endpoint's auth, which keeps them secret"),
            );
        }
        if let Some(problem) = header_value_problem(value) {
            p.push(object, field, format!("the value of '{name}': {problem}"));
        }
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

impl HttpSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        if !self.path.is_empty() && !self.path.starts_with('/') && !self.path.starts_with('?') {
            p.push(
                object,
                "http.path",
                format!("'{}' must start with '/'", self.path),
            );
        }
        check_template(object, "http.path", &self.path, PATH_PLACEHOLDERS, p);
        if self.ids_in == IdsIn::Path && PATH_PLACEHOLDERS.iter().any(|ph| !self.path.contains(ph))
        {
            p.push(
                object,
                "http.path",
                "ids_in is 'path', so the path must hold both {flow} and {message_id}",
            );
        }
        check_headers(object, "http.headers", &self.headers, p);
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

/// Settings of a JSON-RPC 2.0 subscriber.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonRpcSettings {
    /// The method called; default: the flow code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Path appended to the endpoint's base address.
    pub path: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
}

impl JsonRpcSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        if self.method.as_deref() == Some("") {
            p.push(
                object,
                "jsonrpc.method",
                "must not be empty (omit it to call the flow code)",
            );
        }
        if !self.path.is_empty() && !self.path.starts_with('/') {
            p.push(
                object,
                "jsonrpc.path",
                format!("'{}' must start with '/'", self.path),
            );
        }
        check_headers(object, "jsonrpc.headers", &self.headers, p);
    }
}

/// Settings of an inter-base subscriber: the same subsystem (1C `инт_` or Integra) in another
/// base, reached at `POST {base}{root}/v1/{flow}/{message_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InterbaseSettings {
    /// The service root: `/hs/is_api` (default: what the 1C receiver and Integra's listen on)
    /// or `/hs/api` (what the 1C sender calls).
    pub root: String,
    /// The flow code at the receiving base; default: this flow's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

impl Default for InterbaseSettings {
    fn default() -> Self {
        InterbaseSettings {
            root: "/hs/is_api".to_owned(),
            flow: None,
        }
    }
}

impl InterbaseSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        if !self.root.is_empty() && (!self.root.starts_with('/') || self.root.ends_with('/')) {
            p.push(
                object,
                "interbase.root",
                format!("'{}' must start with '/' and not end with one", self.root),
            );
        }
        if self.flow.as_deref() == Some("") {
            p.push(
                object,
                "interbase.flow",
                "must not be empty (omit it to use this flow's code)",
            );
        }
    }
}

/// Settings of a RabbitMQ (AMQP 0-9-1) subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpSettings {
    /// The exchange published to; `""` (default) is the default exchange, which routes to
    /// the queue named by the routing key.
    pub exchange: String,
    /// The routing key; may hold `{flow}`, `{subscriber}`, `{object_key}`, `{message_id}`.
    /// Default `{flow}`.
    pub routing_key: String,
    /// Extra message headers.
    pub headers: BTreeMap<String, String>,
}

impl Default for AmqpSettings {
    fn default() -> Self {
        AmqpSettings {
            exchange: String::new(),
            routing_key: "{flow}".to_owned(),
            headers: BTreeMap::new(),
        }
    }
}

impl AmqpSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        check_template(
            object,
            "amqp.routing_key",
            &self.routing_key,
            NAME_PLACEHOLDERS,
            p,
        );
        if self.exchange.len() > 255 {
            p.push(object, "amqp.exchange", "must be at most 255 bytes");
        }
    }
}

/// Settings of a Kafka subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSettings {
    /// The topic; may hold `{flow}`, `{subscriber}`, `{object_key}`, `{message_id}`.
    /// Default `{flow}`.
    pub topic: String,
    /// Compression of record batches.
    pub compression: KafkaCompression,
    /// Extra record headers.
    pub headers: BTreeMap<String, String>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            topic: "{flow}".to_owned(),
            compression: KafkaCompression::None,
            headers: BTreeMap::new(),
        }
    }
}

impl KafkaSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        check_template(object, "kafka.topic", &self.topic, NAME_PLACEHOLDERS, p);
        let literal = NAME_PLACEHOLDERS
            .iter()
            .fold(self.topic.clone(), |t, ph| t.replace(ph, "x"));
        if literal.is_empty()
            || !literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            p.push(
                object,
                "kafka.topic",
                format!(
                    "'{}' is not a valid topic: use letters, digits, '.', '_' and '-'",
                    self.topic
                ),
            );
        }
    }
}

/// Compression of Kafka record batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaCompression {
    /// None (default).
    None,
    /// gzip.
    Gzip,
    /// LZ4.
    Lz4,
    /// Snappy.
    Snappy,
    /// Zstandard.
    Zstd,
}

/// Settings of an MQTT subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttSettings {
    /// The topic; may hold `{flow}`, `{subscriber}`, `{object_key}`, `{message_id}`.
    /// Default `{flow}`.
    pub topic: String,
    /// Quality of service: 0, 1 (default) or 2. A delivery is Sent once the broker
    /// acknowledged it (PUBACK for 1, PUBCOMP for 2; for 0, once written to the connection).
    pub qos: u8,
    /// Publish with the retain flag.
    pub retain: bool,
}

impl Default for MqttSettings {
    fn default() -> Self {
        MqttSettings {
            topic: "{flow}".to_owned(),
            qos: 1,
            retain: false,
        }
    }
}

impl MqttSettings {
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        check_template(object, "mqtt.topic", &self.topic, NAME_PLACEHOLDERS, p);
        if self.topic.is_empty() || self.topic.contains(['+', '#', '\0']) {
            p.push(
                object,
                "mqtt.topic",
                format!(
                    "'{}' is not a topic to publish to: it must be non-empty, without '+' or '#'",
                    self.topic
                ),
            );
        }
        if self.qos > 2 {
            p.push(
                object,
                "mqtt.qos",
                format!("must be 0, 1 or 2, got {}", self.qos),
            );
        }
    }
}
