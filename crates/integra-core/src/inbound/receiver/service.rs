//! What the receiver answers: routing a request to the inter-base endpoint, a webhook route
//! or `/health`, checking its credentials and limits, storing its body in the incoming
//! queue (on a blocking thread: the store is synchronous), and the status that tells the
//! sender what happened.
//!
//! Inter-base answers are plain text, as the 1C subsystem's are (`SUCCESS`, or the error);
//! webhook answers are JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::auth::{Denied, check_headers, check_signature};
use crate::config::{InboundAuth, InterbaseListener, Listener, Route};
use crate::engine::Core;
use crate::error::Error;
use crate::metrics::{self, Observation, Received as Outcome};
use crate::queue::incoming::{Accepted, Received};

/// The answer type.
pub(super) type Answer = Response<Full<Bytes>>;

/// Headers never stored with a message: they carry credentials.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// The header that records the path (and query) a webhook was posted to.
pub const PATH_HEADER: &str = "x-integra-path";

/// Serves the requests of one listener.
pub(super) struct Service {
    pub(super) core: Arc<Core>,
    pub(super) listener: Listener,
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
}

/// How an answer is written: plain text for inter-base senders, JSON for webhooks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Text,
    Json,
}

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An answer in `style`: the message alone as text, or `{"error": message, …extra}`.
fn failure(style: Style, status: StatusCode, message: &str, extra: serde_json::Value) -> Answer {
    match style {
        Style::Text => answer(status, "text/plain; charset=utf-8", message.to_owned()),
        Style::Json => {
            let mut body = json!({"error": message});
            if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
                body.extend(extra);
            }
            answer(status, "application/json", body.to_string())
        }
    }
}

fn not_found() -> Answer {
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "no resource at this path",
    )
}

fn method_not_allowed(style: Style, allowed: &'static str) -> Answer {
    let mut response = failure(
        style,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("use {allowed}"),
        serde_json::Value::Null,
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allowed));
    response
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
                        serde_json::Value::Null,
                    ))),
                };
            }
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

    /// Answers one request.
    pub(super) async fn serve(self: Arc<Self>, request: Request<Incoming>) -> Answer {
        let path = request.uri().path().to_owned();
        let target = match self.route(request.method(), &path) {
            Ok(target) => target,
            Err(answer) => return *answer,
        };
        match target {
            Target::Health => self.health().await,
            Target::Metrics(auth) => match check_headers(auth, request.headers()) {
                Ok(()) => self.metrics().await,
                Err(denied) => refusal(Style::Text, denied),
            },
            Target::Exchange(auth, operation) => {
                if let Err(denied) = check_headers(auth, request.headers()) {
                    return refusal(Style::Json, denied);
                }
                let body = match self.read_body(request, Style::Json).await {
                    Ok(body) => body,
                    Err(answer) => return answer,
                };
                let core = Arc::clone(&self.core);
                let served =
                    tokio::task::spawn_blocking(move || core.serve_exchange(&operation, &body))
                        .await;
                match served {
                    Ok(Ok(json)) => answer(StatusCode::OK, "application/json", json),
                    Ok(Err((status, message))) => failure(
                        Style::Json,
                        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                        &message,
                        serde_json::Value::Null,
                    ),
                    Err(_) => failure(
                        Style::Json,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the exchange operation failed unexpectedly",
                        serde_json::Value::Null,
                    ),
                }
            }
            Target::Ping(interbase) => match check_headers(&interbase.auth, request.headers()) {
                Ok(()) => answer(StatusCode::OK, "text/plain; charset=utf-8", "OK"),
                Err(denied) => refusal(Style::Text, denied),
            },
            Target::Interbase {
                interbase,
                flow,
                message_id,
            } => {
                if !interbase.flows.is_empty() && !interbase.flows.contains(&flow) {
                    return unknown_flow(&flow);
                }
                if uuid::Uuid::parse_str(&message_id).is_err() {
                    return failure(
                        Style::Text,
                        StatusCode::BAD_REQUEST,
                        &format!("message id '{message_id}' is not a UUID"),
                        serde_json::Value::Null,
                    );
                }
                let mut headers = stored_headers(request.headers(), &interbase.auth);
                headers.insert("content-type".to_owned(), "application/json".to_owned());
                let received = Received {
                    message_id: Some(message_id),
                    headers,
                    ..Received::default()
                };
                self.store(request, Style::Text, &interbase.auth, flow, None, received)
                    .await
            }
            Target::Webhook(route) => {
                let mut headers = stored_headers(request.headers(), &route.auth);
                let path_and_query = request
                    .uri()
                    .path_and_query()
                    .map_or(path.clone(), |p| p.as_str().to_owned());
                headers.insert(PATH_HEADER.to_owned(), path_and_query);
                let message_id = request
                    .headers()
                    .get(route.message_id_header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .filter(|id| !id.is_empty());
                let received = Received {
                    message_id,
                    headers,
                    ..Received::default()
                };
                let locator = route.message_id_pointer.clone();
                self.store(
                    request,
                    Style::Json,
                    &route.auth,
                    route.flow.clone(),
                    locator,
                    received,
                )
                .await
            }
        }
    }

    /// Checks credentials, reads the body within the limits, and stores the message.
    async fn store(
        &self,
        request: Request<Incoming>,
        style: Style,
        auth: &InboundAuth,
        flow: String,
        locator: Option<String>,
        mut received: Received,
    ) -> Answer {
        if let Err(denied) = check_headers(auth, request.headers()) {
            return refusal(style, denied);
        }
        let headers = request.headers().clone();
        let rejected = |answer: Answer| {
            self.core.observe(&[Observation::Received {
                flow: flow.clone(),
                outcome: Outcome::Rejected,
            }]);
            answer
        };
        let body = match self.read_body(request, style).await {
            Ok(body) => body,
            Err(answer) => return rejected(answer),
        };
        if let Err(denied) = check_signature(auth, &headers, &body) {
            return refusal(style, denied);
        }
        received.payload = match String::from_utf8(body.to_vec()) {
            Ok(text) => text,
            Err(_) => {
                return rejected(failure(
                    style,
                    StatusCode::BAD_REQUEST,
                    "the body is not UTF-8 text",
                    serde_json::Value::Null,
                ));
            }
        };
        if received.payload.trim().is_empty() {
            return rejected(failure(
                style,
                StatusCode::BAD_REQUEST,
                "the body is empty",
                serde_json::Value::Null,
            ));
        }
        let core = Arc::clone(&self.core);
        let stored = tokio::task::spawn_blocking(move || {
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
                serde_json::Value::Null,
            ),
        }
    }

    /// Reads the whole body, refusing one over the size limit (413) or slower than the
    /// request timeout (408).
    async fn read_body(&self, request: Request<Incoming>, style: Style) -> Result<Bytes, Answer> {
        let limits = &self.listener.limits;
        let too_large = || {
            failure(
                style,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is larger than {} bytes", limits.max_body_bytes),
                serde_json::Value::Null,
            )
        };
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
            return Err(too_large());
        }
        let body = Limited::new(request.into_body(), limits.max_body_bytes);
        match tokio::time::timeout(limits.request_timeout, body.collect()).await {
            Err(_) => Err(failure(
                style,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the body did not arrive within {}",
                    humantime::format_duration(limits.request_timeout)
                ),
                serde_json::Value::Null,
            )),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
            Ok(Err(e)) => Err(failure(
                style,
                StatusCode::BAD_REQUEST,
                &format!("the body could not be read: {e}"),
                serde_json::Value::Null,
            )),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    }

    /// `/metrics`: every metric, in the OpenMetrics text format.
    async fn metrics(&self) -> Answer {
        let core = Arc::clone(&self.core);
        let text = tokio::task::spawn_blocking(move || core.metrics_text()).await;
        match text {
            Ok(Ok(text)) => answer(StatusCode::OK, metrics::CONTENT_TYPE, text),
            Ok(Err(e)) => failure(
                Style::Text,
                StatusCode::SERVICE_UNAVAILABLE,
                &e.to_string(),
                serde_json::Value::Null,
            ),
            Err(_) => failure(
                Style::Text,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the metrics could not be gathered",
                serde_json::Value::Null,
            ),
        }
    }

    /// `/health`: 200 when the database answers, 503 when it does not.
    async fn health(&self) -> Answer {
        let core = Arc::clone(&self.core);
        let checked = tokio::task::spawn_blocking(move || core.check_database()).await;
        match checked {
            Ok(Ok(())) => answer(
                StatusCode::OK,
                "application/json",
                json!({"status": "ok"}).to_string(),
            ),
            Ok(Err(e)) => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                json!({"status": "unavailable", "error": e.to_string()}).to_string(),
            ),
            Err(_) => answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                json!({"status": "unavailable"}).to_string(),
            ),
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

fn refusal(style: Style, denied: Denied) -> Answer {
    match denied {
        Denied::Missing(scheme) => {
            let mut response = failure(
                style,
                StatusCode::UNAUTHORIZED,
                "credentials are required",
                serde_json::Value::Null,
            );
            let challenge = match scheme {
                "Basic" => Some("Basic realm=\"Integra\", charset=\"UTF-8\""),
                "Bearer" => Some("Bearer realm=\"Integra\""),
                _ => None,
            };
            if let Some(challenge) = challenge {
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            response
        }
        Denied::Wrong => failure(
            style,
            StatusCode::FORBIDDEN,
            "the credentials are not valid",
            serde_json::Value::Null,
        ),
    }
}

fn unknown_flow(flow: &str) -> Answer {
    failure(
        Style::Text,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("flow '{flow}' does not receive messages here"),
        serde_json::Value::Null,
    )
}

fn accepted_answer(style: Style, accepted: &Accepted) -> Answer {
    match style {
        Style::Text => answer(StatusCode::OK, "text/plain; charset=utf-8", "SUCCESS"),
        Style::Json => answer(
            StatusCode::OK,
            "application/json",
            json!({"id": accepted.id, "duplicate": accepted.duplicate}).to_string(),
        ),
    }
}

/// The status that tells the sender what went wrong: 400 for what it sent, 405 for a flow
/// that does not receive here (the 1C subsystem's answer), 503 for what may pass (an
/// inactive flow, a busy database), 500 for our own failures.
fn error_answer(style: Style, e: &Error) -> Answer {
    match e {
        Error::InvalidJson { .. } | Error::InvalidArgument { .. } => failure(
            style,
            StatusCode::BAD_REQUEST,
            &e.to_string(),
            serde_json::Value::Null,
        ),
        Error::Invalid { what, violations } => {
            let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
            let message = format!("{what} breaks its schema:\n{}", lines.join("\n"));
            failure(
                style,
                StatusCode::BAD_REQUEST,
                &message,
                json!({"violations": violations}),
            )
        }
        Error::UnknownFlow { flow } | Error::WrongDirection { flow, .. }
            if style == Style::Text =>
        {
            unknown_flow(flow)
        }
        Error::FlowInactive { .. } | Error::UnknownFlow { .. } | Error::WrongDirection { .. } => {
            failure(
                style,
                StatusCode::SERVICE_UNAVAILABLE,
                &e.to_string(),
                serde_json::Value::Null,
            )
        }
        e if e.is_retryable() => {
            let mut response = failure(
                style,
                StatusCode::SERVICE_UNAVAILABLE,
                &e.to_string(),
                serde_json::Value::Null,
            );
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            response
        }
        e => {
            log::error!("the receiver could not store a message: {e}");
            failure(
                style,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the message could not be stored; see the receiver's log",
                serde_json::Value::Null,
            )
        }
    }
}
