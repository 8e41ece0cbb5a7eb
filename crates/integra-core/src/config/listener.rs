//! Listeners: the addresses Integra's HTTP receiver serves, what each serves (the inter-base
//! endpoint of the 1C subsystem, webhook routes), how callers authenticate, and the limits
//! that keep a slow or hostile client from exhausting the receiver.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::header_name_problem;
use super::source::check_locator;
use super::{Problems, Secret, duration};
use crate::limits::MAX_MESSAGE_BYTES;

/// Paths the receiver serves itself on every listener.
pub const RESERVED_PATHS: &[&str] = &["/health", "/metrics"];

/// One address the HTTP receiver listens on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Unique code, named when the receiver is started.
    pub code: String,
    /// `IP:port` to bind. Default `127.0.0.1:8780`: loopback only, unless configured
    /// otherwise. Port 0 takes a free port.
    #[serde(default = "default_address")]
    pub address: String,
    /// The inter-base endpoint, compatible with the 1C subsystem's receiver. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interbase: Option<InterbaseListener>,
    /// Webhook routes, told apart by path prefix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// `GET /metrics` (Prometheus, OpenMetrics text). Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsEndpoint>,
    /// The message exchange's endpoint (`/integra/exchange/v1/…`), where other bases
    /// deliver messages and connect. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeListener>,
    /// The operators' API (`/api/v1/…`, its OpenAPI document at `/api/v1/openapi.json`).
    /// Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminEndpoint>,
    /// Limits on connections and requests.
    #[serde(default)]
    pub limits: ListenerLimits,
}

fn default_address() -> String {
    "127.0.0.1:8780".to_owned()
}

/// The inter-base endpoint: `POST {root}/v1/{flow}/{message_id}` stores a message in the
/// incoming flow, `GET {root}/test` answers a ping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterbaseListener {
    /// Service roots served. Default both that exist in the wild: `/hs/is_api` (what the 1C
    /// receiver serves) and `/hs/api` (what the 1C sender calls).
    #[serde(default = "default_roots")]
    pub roots: Vec<String>,
    /// How senders authenticate. Required: `{"type": "none"}` must be written to allow
    /// anonymous senders.
    pub auth: InboundAuth,
    /// Incoming flows served; empty (default) serves every incoming flow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<String>,
}

fn default_roots() -> Vec<String> {
    vec!["/hs/is_api".to_owned(), "/hs/api".to_owned()]
}

/// The metrics endpoint of a listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsEndpoint {
    /// How scrapers authenticate. Required: `{"type": "none"}` must be written to allow
    /// anonymous scrapes.
    pub auth: InboundAuth,
}

/// The operators' API on a listener: who may call it, each with a bearer token of their own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminEndpoint {
    /// The tokens that open it (at least one).
    pub tokens: Vec<AdminToken>,
}

/// One caller of the operators' API. Only the token's SHA-256 is kept, so the configuration
/// reveals nothing that opens the API (`integra token` makes a token and its hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Who holds it: written to the history of what they change.
    pub name: String,
    /// What it may do.
    pub role: AdminRole,
    /// The SHA-256 of the token, 64 hexadecimal digits.
    pub sha256: String,
}

/// What a caller of the operators' API may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// Read everything.
    Viewer,
    /// Read everything; re-drive and delete.
    Operator,
}

/// The paths the operators' API serves, when a listener has it.
pub const ADMIN_PATH: &str = "/api/v1";

/// The message exchange's endpoint on a listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeListener {
    /// How other bases authenticate: the user and password given to them when they were
    /// connected. Required.
    pub auth: InboundAuth,
}

/// A webhook route: requests under `prefix` are stored in `flow`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The path prefix, e.g. `/webhooks/shop`; the route serves it and every path below it.
    pub prefix: String,
    /// The incoming flow the bodies are stored in.
    pub flow: String,
    /// How callers authenticate. Required: `{"type": "none"}` must be written to allow
    /// anonymous callers.
    pub auth: InboundAuth,
    /// The request header carrying the sender's message id, which deduplicates repeats.
    /// Default `X-Message-ID`.
    #[serde(default = "default_id_header")]
    pub message_id_header: String,
    /// Where in a JSON body the message id is, when the header is absent: a JSON pointer
    /// (`/event/id`) or a top-level field name (`id`). Without either, each request is a new
    /// message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id_pointer: Option<String>,
}

fn default_id_header() -> String {
    "X-Message-ID".to_owned()
}

/// How a caller proves who it is to the receiver. Secrets are compared in constant time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InboundAuth {
    /// Anyone may call.
    None,
    /// HTTP Basic (what a 1C sender uses for an infobase user).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// A key in a header, e.g. `X-API-Key`.
    ApiKey {
        /// Header name.
        header: String,
        /// The key.
        value: Secret,
    },
    /// An HMAC of the raw body with a shared secret, in a header (`X-Hub-Signature-256:
    /// sha256=<hex>` style, or base64 as Shopify sends).
    Hmac {
        /// Header carrying the signature.
        header: String,
        /// The shared secret.
        secret: Secret,
        /// The hash: `sha256` (default), `sha512` or `sha1`.
        #[serde(default)]
        algorithm: HmacAlgorithm,
        /// How the signature is written: `hex` (default) or `base64`.
        #[serde(default)]
        encoding: SignatureEncoding,
        /// Text before the signature in the header, e.g. `sha256=`. Default none.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        prefix: String,
    },
}

/// The hash of an HMAC signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HmacAlgorithm {
    /// HMAC-SHA-256.
    #[default]
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
    /// HMAC-SHA-1 (legacy senders only).
    Sha1,
}

/// How an HMAC signature is written in its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignatureEncoding {
    /// Lower- or upper-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64.
    Base64,
}

/// Limits of a listener. A request over a limit is refused with its status code (413 body,
/// 431 headers, 408 too slow, 503 while the bodies being checked fill their budget);
/// connections over the limit are closed at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenerLimits {
    /// Largest request body, in bytes. Default 10 MiB; at most 64 MiB
    /// ([`crate::limits::MAX_MESSAGE_BYTES`]).
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers), in bytes. Default 16 KiB; at least
    /// 8 KiB.
    pub max_header_bytes: usize,
    /// How long a client may take to send a whole request. Default 30 s.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// How long a connection may sit idle between requests. Default 60 s.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Most connections open at once. When the listener is full, a connection only waiting
    /// for a request head (a new one still sending it, an idle keep-alive one) is closed to
    /// make room: of the client holding the most, the oldest. Default 256.
    pub max_connections: usize,
    /// Most connections one client (a peer IP address; for IPv6, its /64) holds at once.
    /// Default: half of `max_connections`. Behind a reverse proxy every connection comes
    /// from the proxy's address: raise it to `max_connections` there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_per_client: Option<usize>,
    /// Most bytes of bodies being checked at once (parsed, validated against their flow's
    /// schema, stored), across the listener's requests: parsing takes many times a body's
    /// size, so this bounds the receiver's memory. A body read whole waits for room for up
    /// to `request_timeout`, then is answered 503 with `Retry-After`. Default 16 MiB; never
    /// less than `max_body_bytes`.
    pub max_checking_bytes: usize,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            max_body_bytes: 10 << 20,
            max_header_bytes: 16 << 10,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_connections_per_client: None,
            max_checking_bytes: 16 << 20,
        }
    }
}

impl Listener {
    /// A listener on `address` serving the inter-base endpoint with `auth`, with default
    /// limits and no webhook routes.
    pub fn interbase(
        code: impl Into<String>,
        address: impl Into<String>,
        auth: InboundAuth,
    ) -> Self {
        Listener {
            code: code.into(),
            address: address.into(),
            interbase: Some(InterbaseListener {
                roots: default_roots(),
                auth,
                flows: Vec::new(),
            }),
            routes: Vec::new(),
            metrics: None,
            exchange: None,
            admin: None,
            limits: ListenerLimits::default(),
        }
    }

    /// The address to bind.
    ///
    /// # Errors
    /// A message when `address` is not `IP:port`.
    pub fn socket_address(&self) -> Result<SocketAddr, String> {
        self.address.parse().map_err(|_| {
            format!(
                "'{}' is not an IP address and port such as 127.0.0.1:8780",
                self.address
            )
        })
    }

    /// The secret of every way in, to change in place.
    pub(crate) fn secrets_mut(&mut self) -> impl Iterator<Item = &mut Secret> {
        let interbase = self.interbase.iter_mut().map(|i| &mut i.auth);
        let metrics = self.metrics.iter_mut().map(|m| &mut m.auth);
        let exchange = self.exchange.iter_mut().map(|e| &mut e.auth);
        let routes = self.routes.iter_mut().map(|r| &mut r.auth);
        interbase
            .chain(metrics)
            .chain(exchange)
            .chain(routes)
            .filter_map(InboundAuth::secret_mut)
    }

    /// Every flow this listener names, with the field naming it.
    pub(crate) fn flow_references(&self) -> Vec<(String, &str)> {
        let interbase = self.interbase.iter().flat_map(|i| {
            i.flows
                .iter()
                .map(|f| ("interbase.flows".to_owned(), f.as_str()))
        });
        let routes = self
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("routes[{i}].flow"), r.flow.as_str()));
        interbase.chain(routes).collect()
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("listener '{}'", self.code);
        p.code(&object, &self.code);
        if let Err(problem) = self.socket_address() {
            p.push(&object, "address", problem);
        }
        let mut paths: HashSet<&str> = RESERVED_PATHS.iter().copied().collect();
        if let Some(interbase) = &self.interbase {
            if interbase.roots.is_empty() {
                p.push(&object, "interbase.roots", "must list at least one root");
            }
            for root in &interbase.roots {
                check_path(&object, "interbase.roots", root, &mut paths, p);
            }
            interbase.auth.check(&object, "interbase.auth", p);
        }
        if let Some(metrics) = &self.metrics {
            metrics.auth.check(&object, "metrics.auth", p);
        }
        if let Some(exchange) = &self.exchange {
            exchange.auth.check(&object, "exchange.auth", p);
        }
        if let Some(admin) = &self.admin {
            check_path(&object, "admin", ADMIN_PATH, &mut paths, p);
            check_path(&object, "admin", "/docs", &mut paths, p);
            admin.check(&object, p);
        }
        for (i, route) in self.routes.iter().enumerate() {
            let field = |name: &str| format!("routes[{i}].{name}");
            check_path(&object, &field("prefix"), &route.prefix, &mut paths, p);
            route.auth.check(&object, &field("auth"), p);
            if let Some(problem) = header_name_problem(&route.message_id_header) {
                p.push(&object, &field("message_id_header"), problem);
            }
            if let Some(pointer) = &route.message_id_pointer {
                check_locator(&object, &field("message_id_pointer"), pointer, p);
            }
        }
        self.limits.check(&object, p);
    }
}

impl AdminEndpoint {
    fn check(&self, object: &str, p: &mut Problems) {
        if self.tokens.is_empty() {
            p.push(object, "admin.tokens", "must list at least one token");
        }
        let mut names = HashSet::new();
        for (i, token) in self.tokens.iter().enumerate() {
            if token.name.trim().is_empty() {
                p.push(
                    object,
                    &format!("admin.tokens[{i}].name"),
                    "must not be empty",
                );
            } else if !names.insert(token.name.as_str()) {
                p.push(
                    object,
                    &format!("admin.tokens[{i}].name"),
                    format!("'{}' is used twice", token.name),
                );
            }
            let hex =
                token.sha256.len() == 64 && token.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex {
                p.push(
                    object,
                    &format!("admin.tokens[{i}].sha256"),
                    "must be the token's SHA-256, 64 hexadecimal digits (integra token makes both)",
                );
            }
        }
    }
}

/// Checks a served path: absolute, no trailing slash, not taken by another route or root.
fn check_path<'a>(
    object: &str,
    field: &str,
    path: &'a str,
    taken: &mut HashSet<&'a str>,
    p: &mut Problems,
) {
    let well_formed = path.len() > 1
        && path.starts_with('/')
        && !path.ends_with('/')
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_graphic() && !"?#%{}".contains(c));
    if !well_formed {
        p.push(
            object,
            field,
            format!("'{path}' must be an absolute path such as /webhooks/shop, without a trailing slash, query or placeholders"),
        );
    } else if !taken.insert(path) {
        p.push(
            object,
            field,
            format!("'{path}' is already served by this listener"),
        );
    }
}

impl InboundAuth {
    /// The secret callers must prove they know, with its field's name.
    fn secret(&self) -> Option<(&'static str, &Secret)> {
        match self {
            InboundAuth::None => None,
            InboundAuth::Basic { password, .. } => Some(("password", password)),
            InboundAuth::Bearer { token } => Some(("token", token)),
            InboundAuth::ApiKey { value, .. } => Some(("value", value)),
            InboundAuth::Hmac { secret, .. } => Some(("secret", secret)),
        }
    }

    /// The secret, to change in place.
    fn secret_mut(&mut self) -> Option<&mut Secret> {
        match self {
            InboundAuth::None => None,
            InboundAuth::Basic { password: s, .. }
            | InboundAuth::Bearer { token: s }
            | InboundAuth::ApiKey { value: s, .. }
            | InboundAuth::Hmac { secret: s, .. } => Some(s),
        }
    }

    fn check(&self, object: &str, field: &str, p: &mut Problems) {
        if let Some((name, secret)) = self.secret() {
            let at = format!("{field}.{name}");
            if secret.expose().is_empty() {
                p.push(object, &at, "must not be empty");
            }
            secret.check(object, &at, p);
        }
        match self {
            InboundAuth::None | InboundAuth::Bearer { .. } => {}
            InboundAuth::Basic { username, .. } => {
                if username.is_empty() || username.contains(':') {
                    p.push(
                        object,
                        &format!("{field}.username"),
                        "must be non-empty and contain no ':'",
                    );
                }
            }
            InboundAuth::ApiKey { header, .. } | InboundAuth::Hmac { header, .. } => {
                if let Some(problem) = header_name_problem(header) {
                    p.push(object, &format!("{field}.header"), problem);
                }
            }
        }
    }
}

impl ListenerLimits {
    /// The connections one client may hold: `max_connections_per_client`, by default half
    /// of `max_connections` (at least one).
    pub fn connections_per_client(&self) -> usize {
        self.max_connections_per_client
            .unwrap_or(self.max_connections / 2)
            .clamp(1, self.max_connections.max(1))
    }

    fn check(&self, object: &str, p: &mut Problems) {
        if !(1024..=MAX_MESSAGE_BYTES).contains(&self.max_body_bytes) {
            p.push(
                object,
                "limits.max_body_bytes",
                format!("must be between 1024 and {MAX_MESSAGE_BYTES}, the largest message"),
            );
        }
        if !(8192..=1 << 20).contains(&self.max_header_bytes) {
            p.push(
                object,
                "limits.max_header_bytes",
                "must be between 8192 and 1048576",
            );
        }
        if self.request_timeout.is_zero() {
            p.push(object, "limits.request_timeout", "must be longer than zero");
        }
        if self.idle_timeout.is_zero() {
            p.push(object, "limits.idle_timeout", "must be longer than zero");
        }
        if !(1..=100_000).contains(&self.max_connections) {
            p.push(
                object,
                "limits.max_connections",
                "must be between 1 and 100000",
            );
        }
        if let Some(n) = self.max_connections_per_client
            && !(1..=self.max_connections).contains(&n)
        {
            p.push(
                object,
                "limits.max_connections_per_client",
                "must be between 1 and limits.max_connections",
            );
        }
        if !(1 << 20..=1 << 32).contains(&self.max_checking_bytes) {
            p.push(
                object,
                "limits.max_checking_bytes",
                "must be between 1048576 (1 MiB) and 4294967296 (4 GiB)",
            );
        }
    }
}
