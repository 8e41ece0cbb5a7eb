//! Endpoints: where subscribers connect (base address, authentication, TLS, timeouts).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{header_name_problem, header_value_problem};
use super::{Address, Problems, SubscriberKind, duration, url_problem, without_credentials};

/// A secret (password, token, key). Its `Debug` never shows the value, so secrets do not
/// leak into logs and error messages. It serializes as its value, because the stored
/// configuration must keep it; [`super::Config::redacted`] is the form to show or export.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

/// What a redacted configuration ([`super::Config::redacted`]) holds in place of each
/// secret. A configuration that still holds it is refused: the secrets must be written in
/// again before an export is loaded.
pub const REDACTED: &str = "***";

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for the code that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value, to replace: with [`REDACTED`], sealed or opened at rest.
    pub(crate) fn value_mut(&mut self) -> &mut String {
        &mut self.0
    }

    /// Reports the secret at `field` when it is still [`REDACTED`], or looks sealed (as the
    /// database keeps it with a secrets key, `sealed:v1:…`).
    pub(crate) fn check(&self, object: &str, field: &str, p: &mut Problems) {
        if self.0 == REDACTED {
            p.push(
                object,
                field,
                format!("is '{REDACTED}', which an exported configuration holds in place of a secret; write the secret itself"),
            );
        } else if crate::secrets::is_sealed(&self.0) {
            p.push(
                object,
                field,
                "is a sealed secret, as the database keeps it; write the secret itself",
            );
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A remote system Integra talks to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Unique code, referenced by subscribers.
    pub code: String,
    /// Address: `http(s)://host/base` for HTTP-based subscribers, `amqp(s)://host:5672/vhost`
    /// for RabbitMQ, `kafka(s)://host:9092[,host2:9092]` for Kafka, `mqtt(s)://host:1883`
    /// for MQTT. The `s` forms connect over TLS. Parsed as a URL when the configuration is
    /// loaded: an IPv6 address is written in brackets, and a port left out is the scheme's
    /// default (80, 443, 5672, 5671, 9092, 1883, 8883).
    pub base_url: String,
    /// How requests authenticate. Default: none.
    #[serde(default)]
    pub auth: Auth,
    /// TLS settings for the TLS schemes (`https`, `amqps`, `kafkas`, `mqtts`).
    #[serde(default)]
    pub tls: TlsSettings,
    /// Longest wait for a connection. Default 5 s.
    #[serde(default = "default_connect_timeout", with = "duration")]
    pub connect_timeout: Duration,
    /// Longest wait for a response after sending. Default 30 s.
    #[serde(default = "default_read_timeout", with = "duration")]
    pub read_timeout: Duration,
    /// An HTTP proxy address. None by default: proxy environment variables are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

/// The address schemes an endpoint may use.
pub const ENDPOINT_SCHEMES: &[&str] = &[
    "http://",
    "https://",
    "amqp://",
    "amqps://",
    "kafka://",
    "kafkas://",
    "mqtt://",
    "mqtts://",
];

fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_read_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Endpoint {
    /// An endpoint at `base_url` with no authentication and default timeouts.
    pub fn new(code: impl Into<String>, base_url: impl Into<String>) -> Self {
        Endpoint {
            code: code.into(),
            base_url: base_url.into(),
            auth: Auth::None,
            tls: TlsSettings::default(),
            connect_timeout: default_connect_timeout(),
            read_timeout: default_read_timeout(),
            proxy: None,
        }
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("endpoint '{}'", self.code);
        p.code(&object, &self.code);
        if let Err(problem) = Address::parse(&self.base_url) {
            p.push(&object, "base_url", problem);
        }
        if self.tls.verify && !self.tls.system_roots && self.tls.ca_file.is_none() {
            p.push(
                &object,
                "tls.system_roots",
                "is false, so only the certificates of tls.ca_file are trusted, and there is no ca_file",
            );
        }
        if self.connect_timeout.is_zero() {
            p.push(&object, "connect_timeout", "must be longer than zero");
        }
        if self.read_timeout.is_zero() {
            p.push(&object, "read_timeout", "must be longer than zero");
        }
        if let Some(proxy) = &self.proxy
            && let Some(problem) = url_problem(proxy, &["http://", "socks5://"])
        {
            p.push(&object, "proxy", problem);
        }
        self.auth.check(&object, p);
    }

    /// The address, parsed.
    ///
    /// # Errors
    /// A message naming the endpoint when `base_url` is not an address (a configuration that
    /// passed validation always has one).
    #[cfg(feature = "network")]
    pub(crate) fn address(&self) -> Result<Address, String> {
        Address::parse(&self.base_url).map_err(|e| format!("endpoint '{}': {e}", self.code))
    }

    /// Why a subscriber of `kind` cannot send through this endpoint, if it cannot: the
    /// address's scheme, the authentication or a proxy belongs to another kind.
    pub(crate) fn unsuitable_for(&self, kind: SubscriberKind) -> Option<String> {
        let [plain, tls] = kind.schemes();
        if !self.base_url.starts_with(plain) && !self.base_url.starts_with(tls) {
            return Some(format!(
                "a '{kind}' subscriber needs {plain} or {tls} addresses; this endpoint is at '{}'",
                without_credentials(&self.base_url)
            ));
        }
        if self.proxy.is_some() && plain != "http://" {
            return Some(format!(
                "a '{kind}' subscriber connects directly; proxies are for HTTP kinds"
            ));
        }
        self.auth.unsuitable_for(kind)
    }
}

/// How requests to an endpoint authenticate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// HTTP Basic.
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
    /// A key in a header of the endpoint's choosing, e.g. `X-API-Key`.
    ApiKey {
        /// Header name.
        header: String,
        /// Key value.
        value: Secret,
    },
    /// A TLS client certificate (PEM files).
    ClientCertificate {
        /// The certificate chain, PEM.
        certificate: PathBuf,
        /// The private key, PEM.
        key: PathBuf,
    },
    /// Kafka SASL/SCRAM. (For Kafka, `basic` means SASL/PLAIN.)
    Scram {
        /// `sha256` or `sha512`.
        mechanism: ScramMechanism,
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
}

/// The hash of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScramMechanism {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl Auth {
    /// The secret this authentication carries, with its field's name.
    fn secret(&self) -> Option<(&'static str, &Secret)> {
        match self {
            Auth::None | Auth::ClientCertificate { .. } => None,
            Auth::Basic { password, .. } | Auth::Scram { password, .. } => {
                Some(("password", password))
            }
            Auth::Bearer { token } => Some(("token", token)),
            Auth::ApiKey { value, .. } => Some(("value", value)),
        }
    }

    /// The secret, to change in place.
    pub(crate) fn secret_mut(&mut self) -> Option<&mut Secret> {
        match self {
            Auth::None | Auth::ClientCertificate { .. } => None,
            Auth::Basic { password: s, .. }
            | Auth::Scram { password: s, .. }
            | Auth::Bearer { token: s }
            | Auth::ApiKey { value: s, .. } => Some(s),
        }
    }

    /// Why this authentication cannot be used by a subscriber of `kind`, if it cannot.
    fn unsuitable_for(&self, kind: SubscriberKind) -> Option<String> {
        let over_http = kind.schemes()[0] == "http://";
        match self {
            Auth::Bearer { .. } | Auth::ApiKey { .. } if !over_http => Some(format!(
                "bearer and API-key authentication are HTTP's; a '{kind}' subscriber can use basic (user and password), or a client certificate"
            )),
            Auth::Scram { .. } if kind != SubscriberKind::Kafka => {
                Some(format!("SCRAM authentication is Kafka's, not '{kind}'"))
            }
            _ => None,
        }
    }

    fn check(&self, object: &str, p: &mut Problems) {
        if let Some((name, secret)) = self.secret() {
            secret.check(object, &format!("auth.{name}"), p);
        }
        match self {
            Auth::None | Auth::ClientCertificate { .. } => {}
            Auth::Bearer { token } => secret_header_value(object, "auth.token", token, p),
            Auth::Scram { username, .. } => {
                if username.is_empty() {
                    p.push(object, "auth.username", "must not be empty");
                }
            }
            Auth::Basic { username, .. } => {
                if username.is_empty() || username.contains(':') {
                    p.push(
                        object,
                        "auth.username",
                        "must be non-empty and contain no ':'",
                    );
                }
            }
            Auth::ApiKey { header, value } => {
                if let Some(problem) = header_name_problem(header) {
                    p.push(object, "auth.header", problem);
                }
                secret_header_value(object, "auth.value", value, p);
            }
        }
    }
}

/// Reports a secret sent as (part of) an HTTP header's value that is empty or that a header
/// cannot carry, without quoting it.
fn secret_header_value(object: &str, field: &str, secret: &Secret, p: &mut Problems) {
    let problem = if secret.expose().is_empty() {
        Some("must not be empty".to_owned())
    } else {
        header_value_problem(secret.expose())
    };
    if let Some(problem) = problem {
        p.push(
            object,
            field,
            format!("is sent in an HTTP header, and {problem}"),
        );
    }
}

/// TLS settings of an endpoint with a TLS scheme: which certificates it trusts.
///
/// By default a server's certificate must chain to a root of the operating system's store
/// (on Linux the files OpenSSL reads, `/etc/ssl/certs`, or those `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` name; on Windows the machine's and the user's root stores; on macOS the
/// keychains) or of the web roots built in (Mozilla's), or to one in `ca_file`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Verify the server's certificate. On by default; turning it off is logged as a
    /// warning each time a transport is built.
    #[serde(default = "yes")]
    pub verify: bool,
    /// Root certificates (PEM) trusted in addition to the system's and the built-in ones:
    /// a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Trust the operating system's store and the built-in web roots. On by default; off,
    /// only the certificates of `ca_file` (then required) are trusted.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub system_roots: bool,
}

/// For `skip_serializing_if`: a default that need not be written.
fn is_true(value: &bool) -> bool {
    *value
}

fn yes() -> bool {
    true
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify: true,
            ca_file: None,
            system_roots: true,
        }
    }
}
