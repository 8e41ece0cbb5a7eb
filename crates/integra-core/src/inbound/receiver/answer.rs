//! What the receiver answers with: the status that tells the sender what happened, in plain
//! text for inter-base senders (as the 1C subsystem answers) or JSON for webhooks. Every
//! answer is bounded whatever the request held: an error text is at most
//! [`MAX_ERROR_BYTES`], quoting input through [`quoted`]; schema violations are listed up to
//! [`MAX_VIOLATIONS_BYTES`], each field quoted.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{ALLOW, CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use super::auth::Denied;
use crate::error::Error;
use crate::limits::{MAX_ERROR_BYTES, MAX_VIOLATIONS_BYTES, bounded_error_text, quoted};
use crate::openapi::Violation;
use crate::queue::incoming::Accepted;
use crate::store::{SPACE_RECHECK, StoreError};

/// The answer type.
pub(super) type Answer = Response<Full<Bytes>>;

/// How an answer is written: plain text for inter-base senders, JSON for webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    Text,
    Json,
}

pub(super) fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An answer in `style`: the message alone as text, or `{"error": message, …extra}`. The
/// message is cut to [`MAX_ERROR_BYTES`].
pub(super) fn failure(style: Style, status: StatusCode, message: &str, extra: Value) -> Answer {
    let message = bounded_error_text(message.to_owned());
    match style {
        Style::Text => answer(status, "text/plain; charset=utf-8", message),
        Style::Json => {
            let mut body = json!({"error": message});
            if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
                body.extend(extra);
            }
            answer(status, "application/json", body.to_string())
        }
    }
}

/// A 503: the request may succeed after `after`, which the answer's `Retry-After` says.
pub(super) fn unavailable(style: Style, message: &str, after: Duration) -> Answer {
    let mut response = failure(style, StatusCode::SERVICE_UNAVAILABLE, message, Value::Null);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(after.as_secs().max(1)));
    response
}

/// `answer`, saying that the connection closes after it (RFC 9112 §9.6): the server will not
/// read the rest of the request, so the connection cannot carry another.
pub(super) fn closing(mut answer: Answer) -> Answer {
    answer
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    answer
}

pub(super) fn not_found() -> Answer {
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "no resource at this path",
    )
}

pub(super) fn method_not_allowed(style: Style, allowed: &'static str) -> Answer {
    let mut response = failure(
        style,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("use {allowed}"),
        Value::Null,
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allowed));
    response
}

pub(super) fn refusal(style: Style, denied: Denied) -> Answer {
    match denied {
        Denied::Missing(scheme) => {
            let mut response = failure(
                style,
                StatusCode::UNAUTHORIZED,
                "credentials are required",
                Value::Null,
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
            Value::Null,
        ),
        Denied::Repeated(header) => failure(
            style,
            StatusCode::BAD_REQUEST,
            &format!("the request has more than one {header} header"),
            Value::Null,
        ),
    }
}

pub(super) fn unknown_flow(flow: &str) -> Answer {
    failure(
        Style::Text,
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("flow '{}' does not receive messages here", quoted(flow)),
        Value::Null,
    )
}

pub(super) fn accepted_answer(style: Style, accepted: &Accepted) -> Answer {
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
/// that does not receive here (the 1C subsystem's answer), 503 with `Retry-After` for what
/// may pass (an inactive flow, a busy database, a full disk), 503 without it for a database
/// file deleted under the engine, 500 for our own failures.
pub(super) fn error_answer(style: Style, e: &Error) -> Answer {
    match e {
        Error::InvalidJson { .. } | Error::InvalidArgument { .. } | Error::TooLarge { .. } => {
            failure(style, StatusCode::BAD_REQUEST, &e.to_string(), Value::Null)
        }
        Error::Invalid { what, violations } => invalid(style, what, violations),
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
                Value::Null,
            )
        }
        Error::Store(StoreError::Full { .. }) => unavailable(style, &e.to_string(), SPACE_RECHECK),
        // Permanent until an operator acts: no time to try again is given.
        Error::Store(StoreError::Replaced { .. }) => failure(
            style,
            StatusCode::SERVICE_UNAVAILABLE,
            &e.to_string(),
            Value::Null,
        ),
        e if e.is_retryable() => unavailable(style, &e.to_string(), Duration::from_secs(1)),
        e => {
            log::error!("the receiver could not store a message: {e}");
            failure(
                style,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the message could not be stored; see the receiver's log",
                Value::Null,
            )
        }
    }
}

/// 400 for a body that breaks its flow's schema: the violations one per line (text, cut to
/// [`MAX_ERROR_BYTES`]), and for JSON also as a list, each field quoted, as many as fit in
/// [`MAX_VIOLATIONS_BYTES`] (`violations_omitted` counts the rest).
fn invalid(style: Style, what: &str, violations: &[Violation]) -> Answer {
    let mut text = format!("{what} breaks its schema:");
    for v in violations {
        if text.len() > MAX_ERROR_BYTES {
            break;
        }
        text.push('\n');
        text.push_str(&quoted(&v.to_string()));
    }
    let extra = match style {
        Style::Text => Value::Null,
        Style::Json => {
            let mut listed = Vec::new();
            let mut bytes = 0;
            for v in violations {
                let item = json!({
                    "instance_path": quoted(&v.instance_path),
                    "schema_path": quoted(&v.schema_path),
                    "keyword": quoted(&v.keyword),
                    "message": quoted(&v.message),
                });
                bytes += item.to_string().len() + 1;
                if bytes > MAX_VIOLATIONS_BYTES {
                    break;
                }
                listed.push(item);
            }
            let omitted = violations.len() - listed.len();
            let mut extra = json!({"violations": listed});
            if omitted > 0 {
                extra["violations_omitted"] = json!(omitted);
            }
            extra
        }
    };
    failure(style, StatusCode::BAD_REQUEST, &text, extra)
}
