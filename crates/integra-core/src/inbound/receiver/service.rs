//! What the receiver does with a request: routing it to the inter-base endpoint, a webhook
//! route, the exchange, the operators' API ([`super::admin`]), `/metrics` or `/health`, checking its credentials, reading its body
//! ([`body`]) and storing it in the incoming queue (on a blocking thread: the store is
//! synchronous). What each outcome is answered with is [`super::answer`]'s.
//!
//! Inter-base answers are plain text, as the 1C subsystem's are (`SUCCESS`, or the error);
//! webhook answers are JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::http::request::Parts;
use hyper::{HeaderMap, Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::answer::{
    Answer, Style, accepted_answer, answer, error_answer, failure, method_not_allowed, not_found,
    refusal, unknown_flow,
};
use super::auth::{check_headers, check_signature};
use super::body::{self, Budget, Room};
use crate::config::{ADMIN_PATH, AdminEndpoint, InboundAuth, InterbaseListener, Listener, Route};
use crate::core::Core;
use crate::dispatch::Handlers;
use crate::error::Error;
use crate::limits::{bounded_error_text, quoted};
use crate::metrics;
use crate::metrics::events::{Observation, Received as Outcome};
use crate::queue::incoming::Received;
use crate::store::{SPACE_RECHECK, StoreError};

/// Headers never stored with a message: they carry credentials.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// The header that records the path (and query) a webhook was posted to.
pub const PATH_HEADER: &str = "x-integra-path";

/// Serves the requests of one listener.
pub(super) struct Service {
    pub(super) core: Arc<Core>,
    /// The Rust handlers of this process, which the metrics' gauge of work waiting for one
    /// reads.
    pub(super) handlers: Arc<Handlers>,
    pub(super) listener: Listener,
    /// The bytes of bodies being checked at once.
    pub(super) budget: Budget,
    /// The listener's identity, which `/health` names so that another process serving it
    /// may share its port ([`super::bind`]).
    pub(super) identity: HeaderValue,
}

/// What a request is for.
enum Target<'l> {
    Health,
    Metrics(&'l InboundAuth),
    Exchange(&'l InboundAuth, String),
    Ping(&'l InterbaseListener),
    Interbase {
        interbase: &'l InterbaseListener,
        flow: String,
        message_id: String,
    },
    Webhook(&'l Route),
    Admin(&'l AdminEndpoint),
    /// The operators' API's documentation page.
    #[cfg(feature = "admin-docs")]
    Docs,
}

/// Where a message goes, and how its sender authenticates and is answered.
struct Destination<'l> {
    style: Style,
    auth: &'l InboundAuth,
    flow: String,
    /// Where the message id is in the body, when the request does not carry it.
    locator: Option<String>,
}

/// A path segment, percent-decoded (1C flow codes are often Cyrillic).
fn segment(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
        .filter(|s| !s.is_empty())
}

impl Service {
    /// Which target `path` names, or the answer when it names none.
    fn route(&self, method: &Method, path: &str) -> Result<Target<'_>, Box<Answer>> {
        if path == "/health" {
            return Ok(Target::Health);
        }
        if path == "/metrics"
            && let Some(metrics) = &self.listener.metrics
        {
            return if method == Method::GET {
                Ok(Target::Metrics(&metrics.auth))
            } else {
                Err(Box::new(method_not_allowed(Style::Text, "GET")))
            };
        }
        if let Some(exchange) = &self.listener.exchange
            && let Some(operation) = path
                .strip_prefix(crate::exchange::wire::PREFIX)
                .and_then(|rest| rest.strip_prefix('/'))
        {
            return if method == Method::POST {
                Ok(Target::Exchange(&exchange.auth, operation.to_owned()))
            } else {
                Err(Box::new(method_not_allowed(Style::Json, "POST")))
            };
        }
        if let Some(interbase) = &self.listener.interbase {
            for root in &interbase.roots {
                let Some(rest) = path
                    .strip_prefix(root.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                else {
                    continue;
                };
                if rest == "test" || rest.starts_with("test/") {
                    return if method == Method::GET {
                        Ok(Target::Ping(interbase))
                    } else {
                        Err(Box::new(method_not_allowed(Style::Text, "GET")))
                    };
                }
                let parts: Vec<&str> = rest.split('/').collect();
                let [version, flow, message_id] = parts.as_slice() else {
                    return Err(Box::new(not_found()));
                };
                if *version != "v1" {
                    return Err(Box::new(not_found()));
                }
                if method != Method::POST {
                    return Err(Box::new(method_not_allowed(Style::Text, "POST")));
                }
                return match (segment(flow), segment(message_id)) {
                    (Some(flow), Some(message_id)) => Ok(Target::Interbase {
                        interbase,
                        flow,
                        message_id,
                    }),
                    _ => Err(Box::new(failure(
                        Style::Text,
                        StatusCode::BAD_REQUEST,
                        "the path must end with /v1/{flow}/{message_id}",
                        Value::Null,
                    ))),
                };
            }
        }
        if let Some(admin) = &self.listener.admin
            && path
                .strip_prefix(ADMIN_PATH)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        {
            return Ok(Target::Admin(admin));
        }
        #[cfg(feature = "admin-docs")]
        if self.listener.admin.is_some()
            && path
                .strip_prefix(super::admin::docs::DOCS_PATH)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        {
            return if method == Method::GET {
                Ok(Target::Docs)
            } else {
                Err(Box::new(method_not_allowed(Style::Json, "GET")))
            };
        }
        let route = self
            .listener
            .routes
            .iter()
            .filter(|r| {
                path == r.prefix
                    || path
                        .strip_prefix(r.prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|r| r.prefix.len());
        match route {
            Some(route) if method == Method::POST => Ok(Target::Webhook(route)),
            Some(_) => Err(Box::new(method_not_allowed(Style::Json, "POST"))),
            None => Err(Box::new(not_found())),
        }
    }

    /// Answers one request. An answer given before the body was needed is settled with it
    /// (see [`body::settle`]), so the connection stays usable.
    pub(super) async fn serve(self: Arc<Self>, request: Request<Incoming>) -> Answer {
        let (head, body) = request.into_parts();
        let mut body = Some(body);
        let answer = self.answer(&head, &mut body).await;
        match body {
            Some(unread) => body::settle(&self.listener.limits, &head, unread, answer).await,
            None => answer,
        }
    }

    /// What to answer to a request with head `head`; the body is taken from `body` when it
    /// is read.
    async fn answer(&self, head: &Parts, body: &mut Option<Incoming>) -> Answer {
        let path = head.uri.path();
        let target = match self.route(&head.method, path) {
            Ok(target) => target,
            Err(answer) => return *answer,
        };
        match target {
            Target::Health => self.health().await,
            Target::Metrics(auth) => match check_headers(auth, &head.headers) {
                Ok(()) => self.metrics().await,
                Err(denied) => refusal(Style::Text, denied),
            },
            Target::Exchange(auth, operation) => {
                if let Err(denied) = check_headers(auth, &head.headers) {
                    return refusal(Style::Json, denied);
                }
                self.exchange(head, body, operation).await
            }
            Target::Ping(interbase) => match check_headers(&interbase.auth, &head.headers) {
                Ok(()) => answer(StatusCode::OK, "text/plain; charset=utf-8", "OK"),
                Err(denied) => refusal(Style::Text, denied),
            },
            Target::Interbase {
                interbase,
                flow,
                message_id,
            } => {
                if let Err(denied) = check_headers(&interbase.auth, &head.headers) {
                    return refusal(Style::Text, denied);
                }
                if !interbase.flows.is_empty() && !interbase.flows.contains(&flow) {
                    return unknown_flow(&flow);
                }
                if uuid::Uuid::try_parse(&message_id).is_err() {
                    return failure(
                        Style::Text,
                        StatusCode::BAD_REQUEST,
                        &format!("message id '{}' is not a UUID", quoted(&message_id)),
                        Value::Null,
                    );
                }
                let mut headers = stored_headers(&head.headers, &interbase.auth);
                headers.insert("content-type".to_owned(), "application/json".to_owned());
                let received = Received {
                    message_id: Some(message_id),
                    headers,
                    ..Received::default()
                };
                let to = Destination {
                    style: Style::Text,
                    auth: &interbase.auth,
                    flow,
                    locator: None,
                };
                self.store(head, body, to, received).await
            }
            Target::Admin(admin) => super::admin::serve(self, admin, head, body).await,
            #[cfg(feature = "admin-docs")]
            Target::Docs => super::admin::docs::serve(path),
            Target::Webhook(route) => {
                if let Err(denied) = check_headers(&route.auth, &head.headers) {
                    return refusal(Style::Json, denied);
                }
                let mut headers = stored_headers(&head.headers, &route.auth);
                let path_and_query = head
                    .uri
                    .path_and_query()
                    .map_or(path, |p| p.as_str())
                    .to_owned();
                headers.insert(PATH_HEADER.to_owned(), path_and_query);
                let message_id = head
                    .headers
                    .get(route.message_id_header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .filter(|id| !id.is_empty());
                let received = Received {
                    message_id,
                    headers,
                    ..Received::default()
                };
                let to = Destination {
                    style: Style::Json,
                    auth: &route.auth,
                    flow: route.flow.clone(),
                    locator: route.message_id_pointer.clone(),
                };
                self.store(head, body, to, received).await
            }
        }
    }

    /// Reads the body (taking it from `body`) within the limits.
    async fn read_body(
        &self,
        head: &Parts,
        body: &mut Option<Incoming>,
        style: Style,
    ) -> Result<Bytes, Answer> {
        match body.take() {
            Some(unread) => body::read(&self.listener.limits, head, unread, style).await,
            None => Ok(Bytes::new()),
        }
    }

    /// Room for `bytes` in the budget of bytes being checked, waited for within the request
    /// timeout.
    async fn room(&self, bytes: &Bytes, style: Style) -> Result<Room, Answer> {
        let patience = self.listener.limits.request_timeout;
        self.budget.room(bytes.len(), patience, style).await
    }

    /// An operation of the message exchange.
    async fn exchange(
        &self,
        head: &Parts,
        body: &mut Option<Incoming>,
        operation: String,
    ) -> Answer {
        let bytes = match self.read_body(head, body, Style::Json).await {
            Ok(bytes) => bytes,
            Err(answer) => return answer,
        };
        let room = match self.room(&bytes, Style::Json).await {
            Ok(room) => room,
            Err(answer) => return answer,
        };
        let core = Arc::clone(&self.core);
        let served = tokio::task::spawn_blocking(move || {
            let _room = room;
            core.serve_exchange(&operation, &bytes)
        })
        .await;
        match served {
            Ok(Ok(json)) => answer(StatusCode::OK, "application/json", json),
            Ok(Err((status, message))) => failure(
                Style::Json,
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &message,
                Value::Null,
            ),
            Err(_) => failure(
                Style::Json,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the exchange operation failed unexpectedly",
                Value::Null,
            ),
        }
    }

    /// Reads the body of a request whose credentials passed, checks its signature when the
    /// route wants one, and stores the message.
    async fn store(
        &self,
        head: &Parts,
        body: &mut Option<Incoming>,
        to: Destination<'_>,
        mut received: Received,
    ) -> Answer {
        let Destination {
            style,
            auth,
            flow,
            locator,
        } = to;
        let rejected = |answer: Answer| {
            self.core.observe(&[Observation::Received {
                flow: flow.clone(),
                outcome: Outcome::Rejected,
            }]);
            answer
        };
        let bytes = match self.read_body(head, body, style).await {
            Ok(bytes) => bytes,
            Err(answer) => return rejected(answer),
        };
        if let Err(denied) = check_signature(auth, &head.headers, &bytes) {
            return refusal(style, denied);
        }
        // Not a refusal of the message: it may come again once others are checked.
        let room = match self.room(&bytes, style).await {
            Ok(room) => room,
            Err(answer) => return answer,
        };
        // Without a copy when the body came whole in one buffer.
        received.payload = match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => text,
            Err(_) => {
                return rejected(failure(
                    style,
                    StatusCode::BAD_REQUEST,
                    "the body is not UTF-8 text",
                    Value::Null,
                ));
            }
        };
        if received.payload.trim().is_empty() {
            return rejected(failure(
                style,
                StatusCode::BAD_REQUEST,
                "the body is empty",
                Value::Null,
            ));
        }
        let core = Arc::clone(&self.core);
        // The room goes with the work: it ends when checking does, even when the client
        // went away meanwhile.
        let stored = tokio::task::spawn_blocking(move || {
            let _room = room;
            core.accept_received(&flow, locator.as_deref(), received)
        })
        .await;
        match stored {
            Ok(Ok(accepted)) => accepted_answer(style, &accepted),
            Ok(Err(e)) => error_answer(style, &e),
            Err(_) => failure(
                style,
                StatusCode::INTERNAL_SERVER_ERROR,
                "storing the message failed unexpectedly",
                Value::Null,
            ),
        }
    }

    /// `/metrics`: every metric, in the OpenMetrics text format.
    async fn metrics(&self) -> Answer {
        let (core, handlers) = (Arc::clone(&self.core), Arc::clone(&self.handlers));
        let text = tokio::task::spawn_blocking(move || metrics::text(&core, &handlers)).await;
        match text {
            Ok(Ok(text)) => answer(StatusCode::OK, metrics::CONTENT_TYPE, text),
            Ok(Err(e)) => failure(
                Style::Text,
                StatusCode::SERVICE_UNAVAILABLE,
                &e.to_string(),
                Value::Null,
            ),
            Err(_) => failure(
                Style::Text,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metrics could not be gathered",
                Value::Null,
            ),
        }
    }

    /// `/health`: 200 when the database answers and can be written
    /// ([`Core::check_database`]), 503 with the reason otherwise (and `Retry-After` when the
    /// disk is full).
    async fn health(&self) -> Answer {
        let mut answer = self.health_of_database().await;
        answer
            .headers_mut()
            .insert(super::bind::IDENTITY_HEADER, self.identity.clone());
        answer
    }

    /// `/health`'s answer but for the listener's identity.
    async fn health_of_database(&self) -> Answer {
        let core = Arc::clone(&self.core);
        let checked = tokio::task::spawn_blocking(move || core.check_database()).await;
        let unavailable = |body: Value| {
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                body.to_string(),
            )
        };
        match checked {
            Ok(Ok(())) => answer(
                StatusCode::OK,
                "application/json",
                json!({"status": "ok"}).to_string(),
            ),
            Ok(Err(e)) => {
                let mut response = unavailable(json!({
                    "status": "unavailable",
                    "error": bounded_error_text(e.to_string()),
                }));
                if matches!(e, Error::Store(StoreError::Full { .. })) {
                    response
                        .headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from(SPACE_RECHECK.as_secs()));
                }
                response
            }
            Err(_) => unavailable(json!({"status": "unavailable"})),
        }
    }
}

/// The headers kept with a webhook message: all but credentials and the route's own
/// secret-carrying header, names in lower case.
fn stored_headers(headers: &HeaderMap, auth: &InboundAuth) -> BTreeMap<String, String> {
    let secret_header = match auth {
        InboundAuth::ApiKey { header, .. } => Some(header.to_ascii_lowercase()),
        _ => None,
    };
    headers
        .iter()
        .filter(|(name, _)| {
            !CREDENTIAL_HEADERS.contains(&name.as_str())
                && Some(name.as_str()) != secret_header.as_deref()
        })
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

impl Core {
    /// Whether the database is fit to take messages: its file is still the one at its path, it
    /// answers a read and can be written
    /// ([`Store::check_writable`](crate::store::Store::check_writable)). What the receiver's
    /// `/health` reports; the one place to add a check of the database's health.
    fn check_database(&self) -> crate::error::Result<()> {
        self.store.check_file()?;
        self.store.read(|db| db.config_version().map(|_| ()))?;
        self.store.check_writable()?;
        Ok(())
    }
}
