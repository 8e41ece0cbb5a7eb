//! Request bodies: read whole within the listener's limits; read and dropped after an answer
//! given before they were needed, so that the connection can carry the next request; and the
//! listener's budget of body bytes being checked at once, which bounds the memory that
//! parsing and validation take (a parsed tree is many times its text).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::StatusCode;
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, EXPECT};
use hyper::http::request::Parts;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::answer::{Answer, Style, closing, failure, unavailable};
use crate::config::ListenerLimits;

/// The length a request declares, when it declares one.
fn declared_length(head: &Parts) -> Option<u64> {
    head.headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Reads the whole body, refusing one over the size limit (413) or slower than the request
/// timeout (408). A refusal says the connection closes: the rest of the body is not read.
pub(super) async fn read(
    limits: &ListenerLimits,
    head: &Parts,
    body: Incoming,
    style: Style,
) -> Result<Bytes, Answer> {
    let too_large = || {
        closing(failure(
            style,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {} bytes", limits.max_body_bytes),
            serde_json::Value::Null,
        ))
    };
    if declared_length(head).is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let body = Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.request_timeout, body.collect()).await {
        Err(_) => Err(closing(failure(
            style,
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the body did not arrive within {}",
                humantime::format_duration(limits.request_timeout)
            ),
            serde_json::Value::Null,
        ))),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(closing(failure(
            style,
            StatusCode::BAD_REQUEST,
            &format!("the body could not be read: {e}"),
            serde_json::Value::Null,
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// `answer`, given before `body` was read: the body is read and dropped (nothing of it kept)
/// so that the connection can carry the client's next request, as a client answering a 401
/// challenge sends it. A body that will not be read, because it is over the size limit, too
/// slow, or awaits `100 Continue` (which is then never sent), gets `Connection: close` on the
/// answer instead.
pub(super) async fn settle(
    limits: &ListenerLimits,
    head: &Parts,
    body: Incoming,
    answer: Answer,
) -> Answer {
    if body.is_end_stream() {
        return answer;
    }
    let awaits_continue = head.headers.contains_key(EXPECT);
    if awaits_continue || declared_length(head).is_some_and(|n| n > limits.max_body_bytes as u64) {
        return closing(answer);
    }
    let mut body = Limited::new(body, limits.max_body_bytes);
    let drained = tokio::time::timeout(limits.request_timeout, async {
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })
    .await;
    match drained {
        Ok(Ok(())) => answer,
        _ => closing(answer),
    }
}

/// The listener's budget of body bytes being checked (parsed, validated, stored) at once.
/// Only bodies read whole take from it, so a slow client never holds any of it; a body waits
/// for room, for at most the request timeout, then is answered 503.
pub(super) struct Budget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// Room in the budget for one body's bytes, given back when dropped.
pub(super) struct Room {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Budget {
    /// The budget of `limits`: `max_checking_bytes`, and never less than the largest body.
    pub(super) fn new(limits: &ListenerLimits) -> Self {
        let total = limits
            .max_checking_bytes
            .max(limits.max_body_bytes)
            .min(Semaphore::MAX_PERMITS);
        Budget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Room for `len` bytes, waiting for it for at most `patience`; when none comes, the 503
    /// to answer (`Retry-After: 1`).
    pub(super) async fn room(
        &self,
        len: usize,
        patience: Duration,
        style: Style,
    ) -> Result<Room, Answer> {
        // A body is at most 64 MiB, far below u32::MAX.
        let n = u32::try_from(len.min(self.total)).unwrap_or(u32::MAX);
        if n == 0 {
            return Ok(Room { _permit: None });
        }
        let waited =
            tokio::time::timeout(patience, Arc::clone(&self.bytes).acquire_many_owned(n)).await;
        match waited {
            Ok(Ok(permit)) => Ok(Room {
                _permit: Some(permit),
            }),
            _ => Err(unavailable(
                style,
                &format!(
                    "the receiver is busy checking {} bytes of other requests' bodies, its limit; try again",
                    self.total
                ),
                Duration::from_secs(1),
            )),
        }
    }
}
