//! The operators' API: JSON over REST under `/api/v1` on a listener whose configuration has
//! an `admin` section. Every route but the OpenAPI document (`/api/v1/openapi.json`, which
//! holds no data) needs a bearer token ([`auth`]): a viewer's reads, an operator's also
//! re-drives and deletes, and the token's name goes into the history of what it changed.
//! Each route calls one of the engine's inspection operations on a blocking thread (the
//! store is synchronous); errors are `{"error": …}` with the status that says what went
//! wrong. Built with the feature `admin-docs`, `/docs` serves the API's documentation
//! page ([`docs`]).

mod auth;
#[cfg(feature = "admin-docs")]
pub(super) mod docs;

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::answer::{
    Answer, Style, answer, failure, method_not_allowed, not_found, refusal, unavailable,
};
use super::body;
use super::service::Service;
use crate::config::{ADMIN_PATH, AdminEndpoint, AdminRole, Config};
use crate::core::Core;
use crate::error::{Error, ErrorKind};
use crate::limits::quoted;
use crate::queue::inspect::{IncomingFilter, ListFilter, RetryFilter};
use auth::Caller;

/// The API's OpenAPI 3.0 document, served at `/api/v1/openapi.json`.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

/// Where the log names the operators' changes.
const LOG_TARGET: &str = "integra::admin";

/// A re-drive: which failed work, and why (written to each record's history with the name of
/// the token that asked).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Redrive {
    #[serde(default)]
    filter: RetryFilter,
    reason: String,
}

/// Answers a request under [`ADMIN_PATH`].
pub(super) async fn serve(
    service: &Service,
    admin: &AdminEndpoint,
    head: &Parts,
    body: &mut Option<Incoming>,
) -> Answer {
    let rest = head.uri.path().strip_prefix(ADMIN_PATH).unwrap_or_default();
    if rest == "/openapi.json" {
        return if head.method == Method::GET {
            answer(StatusCode::OK, "application/json", OPENAPI)
        } else {
            method_not_allowed(Style::Json, "GET")
        };
    }
    let caller = match auth::caller(admin, &head.headers) {
        Ok(caller) => caller,
        Err(denied) => return refusal(Style::Json, denied),
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let core = Arc::clone(&service.core);
    match (&head.method, segments.as_slice()) {
        (method, ["messages" | "incoming", "retry"]) if method != Method::POST => {
            method_not_allowed(Style::Json, "POST")
        }
        (&Method::GET, ["config"]) => {
            // The stored configuration, its secrets as `***`.
            run(core, |core| {
                core.store
                    .read(|db| Ok::<_, Error>(db.config()?.config().redacted()))
            })
            .await
        }
        (&Method::POST, ["config", "validate"]) => {
            let Some(unread) = body.take() else {
                return failure(Style::Json, StatusCode::BAD_REQUEST, "no body", Value::Null);
            };
            match body::read(&service.listener.limits, head, unread, Style::Json).await {
                Ok(bytes) => validation(&bytes),
                Err(answer) => answer,
            }
        }
        (&Method::GET, ["counts"]) => run(core, |core| core.flow_counts()).await,
        (&Method::GET, ["subscribers"]) => run(core, |core| core.subscriber_health()).await,
        (&Method::GET, ["messages"]) => match list_filter::<ListFilter>(head.uri.query()) {
            Ok(filter) => run(core, move |core| core.list_messages(&filter)).await,
            Err(answer) => *answer,
        },
        (&Method::GET, ["incoming"]) => match list_filter::<IncomingFilter>(head.uri.query()) {
            Ok(filter) => run(core, move |core| core.list_incoming(&filter)).await,
            Err(answer) => *answer,
        },
        (&Method::GET, ["messages", id]) => {
            let id = (*id).to_owned();
            run(core, move |core| core.message_status(&id)).await
        }
        (&Method::GET, ["incoming", id]) => {
            let id = (*id).to_owned();
            run(core, move |core| core.incoming_status(&id)).await
        }
        (&Method::DELETE, ["messages", id]) => {
            if let Err(refused) = operator(caller) {
                return *refused;
            }
            let id = (*id).to_owned();
            log::info!(target: LOG_TARGET, "{} deletes message {}", caller.name, quoted(&id));
            let shown = id.clone();
            let deleted = run_value(core, move |core| core.delete_message(&id)).await;
            match deleted {
                Ok(true) => answer(
                    StatusCode::OK,
                    "application/json",
                    json!({"deleted": true}).to_string(),
                ),
                Ok(false) => failure(
                    Style::Json,
                    StatusCode::NOT_FOUND,
                    &format!("no message has the id '{}'", quoted(&shown)),
                    Value::Null,
                ),
                Err(answer) => *answer,
            }
        }
        (&Method::POST, [queue @ ("messages" | "incoming"), "retry"]) => {
            if let Err(refused) = operator(caller) {
                return *refused;
            }
            let Some(unread) = body.take() else {
                return failure(Style::Json, StatusCode::BAD_REQUEST, "no body", Value::Null);
            };
            let bytes = match body::read(&service.listener.limits, head, unread, Style::Json).await
            {
                Ok(bytes) => bytes,
                Err(answer) => return answer,
            };
            let request: Redrive = match serde_json::from_slice(&bytes) {
                Ok(request) => request,
                Err(e) => {
                    return failure(
                        Style::Json,
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "the body is not a re-drive ({{\"filter\": {{…}}, \"reason\": …}}): {e}"
                        ),
                        Value::Null,
                    );
                }
            };
            if request.reason.trim().is_empty() {
                return failure(
                    Style::Json,
                    StatusCode::BAD_REQUEST,
                    "a re-drive needs a reason for the history",
                    Value::Null,
                );
            }
            let incoming = *queue == "incoming";
            let reason = format!("{} (by {})", request.reason, caller.name);
            log::info!(target: LOG_TARGET, "{} re-drives {queue}: {}", caller.name, request.reason);
            let n = run_value(core, move |core| {
                if incoming {
                    core.retry_incoming(&request.filter, &reason)
                } else {
                    core.retry(&request.filter, &reason)
                }
            })
            .await;
            match n {
                Ok(n) => answer(
                    StatusCode::OK,
                    "application/json",
                    json!({"retried": n}).to_string(),
                ),
                Err(answer) => *answer,
            }
        }
        (_, ["config", "validate"]) => method_not_allowed(Style::Json, "POST"),
        (_, ["config" | "counts" | "subscribers" | "messages" | "incoming"] | ["incoming", _]) => {
            method_not_allowed(Style::Json, "GET")
        }
        (_, ["messages", _]) => method_not_allowed(Style::Json, "GET, DELETE"),
        _ => not_found(),
    }
}

/// `POST /api/v1/config/validate`: every problem of the configuration in `body`, nothing
/// loaded (`{"valid": true}`, or `{"valid": false, "problems": […]}` naming each object and
/// field).
fn validation(body: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(body);
    let verdict = match Config::from_json(&text) {
        Ok(_) => json!({"valid": true}),
        Err(e) => json!({"valid": false, "problems": e.problems}),
    };
    answer(StatusCode::OK, "application/json", verdict.to_string())
}

/// Refuses a viewer what only an operator may do (403).
fn operator(caller: Caller<'_>) -> Result<(), Box<Answer>> {
    match caller.role {
        AdminRole::Operator => Ok(()),
        AdminRole::Viewer => Err(Box::new(failure(
            Style::Json,
            StatusCode::FORBIDDEN,
            &format!(
                "the token '{}' is a viewer's: re-driving and deleting need an operator's",
                quoted(caller.name)
            ),
            Value::Null,
        ))),
    }
}

/// A listing's filter from the query string (`?flow=ORDERS&status=dead&limit=50`): the
/// fields of [`ListFilter`] or [`IncomingFilter`], numbers where they take numbers.
fn list_filter<F: DeserializeOwned>(query: Option<&str>) -> Result<F, Box<Answer>> {
    let bad = |reason: String| {
        Box::new(failure(
            Style::Json,
            StatusCode::BAD_REQUEST,
            &reason,
            Value::Null,
        ))
    };
    let mut fields = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = match key.as_ref() {
            "before_seq" | "limit" => match value.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    return Err(bad(format!(
                        "{key} must be a whole number, got '{}'",
                        quoted(&value)
                    )));
                }
            },
            _ => Value::from(value.as_ref()),
        };
        if fields.insert(key.clone().into_owned(), value).is_some() {
            return Err(bad(format!("'{}' is given twice", quoted(&key))));
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| bad(format!("the query: {e}")))
}

/// Runs `f` on a blocking thread and answers its value as JSON.
async fn run<T: Serialize + Send + 'static>(
    core: Arc<Core>,
    f: impl FnOnce(&Core) -> crate::error::Result<T> + Send + 'static,
) -> Answer {
    match run_value(core, f).await {
        Ok(value) => match serde_json::to_string(&value) {
            Ok(text) => answer(StatusCode::OK, "application/json", text),
            Err(e) => failure(
                Style::Json,
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
                Value::Null,
            ),
        },
        Err(answer) => *answer,
    }
}

/// Runs `f` on a blocking thread: its value, or the answer for its error.
async fn run_value<T: Send + 'static>(
    core: Arc<Core>,
    f: impl FnOnce(&Core) -> crate::error::Result<T> + Send + 'static,
) -> Result<T, Box<Answer>> {
    match tokio::task::spawn_blocking(move || f(&core)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Box::new(error_answer(&e))),
        Err(_) => Err(Box::new(failure(
            Style::Json,
            StatusCode::INTERNAL_SERVER_ERROR,
            "the operation failed; see the receiver's log",
            Value::Null,
        ))),
    }
}

/// The status that says what went wrong: 404 for what is not there, 400 for a bad argument,
/// 503 with `Retry-After` for what may pass, 500 otherwise.
fn error_answer(e: &Error) -> Answer {
    let status = match e.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidArgument | ErrorKind::Invalid | ErrorKind::Config => {
            StatusCode::BAD_REQUEST
        }
        ErrorKind::WrongState => StatusCode::CONFLICT,
        _ if e.is_retryable() => {
            return unavailable(Style::Json, &e.to_string(), Duration::from_secs(1));
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    failure(Style::Json, status, &e.to_string(), Value::Null)
}
