//! Integra's inter-base exchange protocol, version 1: JSON over HTTP, authenticated with
//! HTTP Basic (the user and password one base gave the other when they were connected), at
//! `{base URL}/integra/exchange/v1/{operation}`. A later version gets its own path, so both
//! can be served at once.
//!
//! | operation | request | answer |
//! |---|---|---|
//! | `messages` | `{"sender": code, "messages": [envelope…]}` | `{"stored": n}` |
//! | `ping` | `{}` | `{"code", "name"}` of the base answering |
//! | `check-back` | `{"sender_code", "sender": settings}` | `{"code", "name"}` once the base reached the sender with `settings` and found `sender_code` there |
//! | `connect` | `{"code", "name", "settings"}` | `{"code", "name"}`: the caller is now an endpoint of the answering base |
//! | `update-settings` | `{"code", "settings"}` | `{"code", "name"}` |
//!
//! An envelope is `{"version": 1, "id", "kind", "channel", "body"}`: `kind` is `message` or
//! a notice (`done`, `subscribe`, `unsubscribe`); `body` is any JSON.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::ExchangeIdentity;
use crate::config::{Auth, Endpoint, HttpMethod, Secret};
use crate::error::{Error, Result};
use crate::transport::http::EndpointClient;

/// How to reach a base: its URL (where its Integra listener serves the exchange) and the
/// user and password it accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The base URL, e.g. `http://wms.example.com:8780`.
    pub url: String,
    /// The user.
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl ConnectionSettings {
    pub(crate) fn check(&self, which: &'static str) -> Result<()> {
        if let Some(reason) = crate::config::url_problem(&self.url, &["http://", "https://"]) {
            return Err(Error::InvalidArgument {
                name: which,
                reason,
            });
        }
        Ok(())
    }
}

/// The path prefix of this protocol version.
pub const PREFIX: &str = "/integra/exchange/v1";
/// The protocol version envelopes carry.
pub(crate) const VERSION: u32 = 1;
/// How long a call to another base may take (the SSL's is 10 s).
const TIMEOUT: Duration = Duration::from_secs(10);

/// One message or notice on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) version: u32,
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) channel: String,
    pub(crate) body: Box<RawValue>,
}

impl Envelope {
    /// What is wrong with this envelope, if anything.
    pub(crate) fn problem(&self) -> Option<String> {
        use super::kind;
        if self.version != VERSION {
            return Some(format!(
                "envelope version {} is not {VERSION}",
                self.version
            ));
        }
        if self.id.is_empty() || self.id.len() > 100 {
            return Some("the message id must be 1 to 100 bytes".to_owned());
        }
        if let Err(e) = super::check_channel(&self.channel) {
            return Some(e.to_string());
        }
        match self.kind.as_str() {
            kind::MESSAGE | kind::DONE | kind::SUBSCRIBE | kind::UNSUBSCRIBE => None,
            other => Some(format!("unknown envelope kind '{other}'")),
        }
    }
}

/// A delivery: messages from one sender.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Batch {
    pub(crate) sender: String,
    pub(crate) messages: Vec<Envelope>,
}

/// The answer to `messages`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) stored: usize,
}

/// `check-back`: reach the sender with these settings and find this code there.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CheckBack {
    pub(crate) sender_code: String,
    pub(crate) sender: ConnectionSettings,
}

/// `connect` and `update-settings`: the caller, and how to reach it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Introduction {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) settings: ConnectionSettings,
}

/// Calls `operation` of the base reached with `settings`.
///
/// # Errors
/// What went wrong, for people: the base could not be reached, refused the credentials,
/// or answered something else than the protocol's answer.
pub(crate) fn call<T: Serialize, R: DeserializeOwned>(
    settings: &ConnectionSettings,
    operation: &str,
    request: &T,
) -> Result<R, String> {
    let mut endpoint = Endpoint::new("exchange", settings.url.trim_end_matches('/'));
    endpoint.auth = Auth::Basic {
        username: settings.username.clone(),
        password: settings.password.clone(),
    };
    endpoint.connect_timeout = TIMEOUT;
    endpoint.read_timeout = TIMEOUT;
    let client = EndpointClient::new(&endpoint)?;
    let url = format!("{}{PREFIX}/{operation}", client.base);
    let body = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    let reply = client
        .send(HttpMethod::Post, &url, &[], &body)
        .map_err(|f| f.message)?;
    if !reply.is_success() {
        return Err(reply.failure(&url).message);
    }
    serde_json::from_slice(&reply.body)
        .map_err(|e| format!("{url} did not answer as an Integra exchange endpoint: {e}"))
}

/// Asks the base reached with `settings` who it is.
///
/// # Errors
/// As [`call`].
pub(crate) fn ping(settings: &ConnectionSettings) -> Result<ExchangeIdentity, String> {
    call(settings, "ping", &serde_json::json!({}))
}

impl crate::core::Core {
    /// Serves one exchange operation for another base: `body` is the request's JSON; the
    /// answer's JSON, or the status and text of a refusal.
    pub(crate) fn serve_exchange(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Result<String, (u16, String)> {
        fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, (u16, String)> {
            serde_json::from_slice(body)
                .map_err(|e| (400, format!("the request is not valid: {e}")))
        }
        fn answer<T: Serialize>(value: &T) -> String {
            serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
        }
        let conflict = |reason: String| (409, reason);
        match operation {
            "messages" => self.serve_messages(parse(body)?).map(|s| answer(&s)),
            "ping" => self
                .identity()
                .map(|me| answer(&me))
                .map_err(|e| (500, e.to_string())),
            "check-back" => self
                .serve_check_back(&parse(body)?)
                .map(|me| answer(&me))
                .map_err(conflict),
            "connect" => self
                .serve_introduction(&parse(body)?, false)
                .map(|me| answer(&me))
                .map_err(conflict),
            "update-settings" => self
                .serve_introduction(&parse(body)?, true)
                .map(|me| answer(&me))
                .map_err(conflict),
            other => Err((404, format!("there is no exchange operation '{other}'"))),
        }
    }
}
