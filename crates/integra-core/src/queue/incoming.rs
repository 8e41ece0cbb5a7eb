//! The incoming queue: messages other systems sent here, stored once per (flow, sender's
//! message id) and processed by pullers with the same lease, retry and dead rules as the
//! outgoing side.
//!
//! A repeat of a stored (flow, message id) is acknowledged and not stored again, for as long
//! as the first one is kept (the flow's retention): that is the dedup window.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::forming::check_lease;
use super::register::new_message_id;
use super::status::IncomingStatus;
use crate::config::{ConfigSnapshot, Direction, Flow, Ordering};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::{Commit, IncomingRow, NewIncoming};

/// Longest sender's message id, in characters.
pub const MAX_MESSAGE_ID_CHARS: usize = 200;

/// The header that carries an incoming message's ordering key, for flows ordered by key.
pub const ORDERING_KEY_HEADER: &str = "x-ordering-key";

/// What `accept` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The stored message's id (the first one's, for a repeat).
    pub id: String,
    /// True when (flow, message id) was already stored: nothing new was stored.
    pub duplicate: bool,
}

/// An incoming message claimed for processing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IncomingItem {
    /// Its id in this queue (use it to ack or fail).
    pub id: String,
    /// The flow code.
    pub flow: String,
    /// The sender's message id.
    pub message_id: String,
    /// The body as received: JSON text, or XML text.
    pub payload: String,
    /// The body's content type.
    pub content_type: String,
    /// The headers stored with it (names in lower case).
    pub headers: BTreeMap<String, String>,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

impl IncomingItem {
    fn from_row(row: IncomingRow) -> Self {
        IncomingItem {
            headers: serde_json::from_str(&row.headers).unwrap_or_default(),
            id: row.uuid,
            flow: row.flow,
            message_id: row.message_id,
            payload: row.payload,
            content_type: row.content_type,
            attempt: row.attempts,
        }
    }
}

/// How a body of this content type is stored: true for JSON (checked), false for XML
/// (stored as text).
fn is_json_content(content_type: &str) -> Result<bool> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(true)
    } else if essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml") {
        Ok(false)
    } else {
        Err(Error::InvalidArgument {
            name: "content type",
            reason: format!("'{content_type}' is not supported; send JSON or XML"),
        })
    }
}

/// The flow `code`, if it accepts incoming messages.
fn incoming_flow<'c>(config: &'c ConfigSnapshot, code: &str) -> Result<&'c Flow> {
    let f = config.flow(code).ok_or_else(|| Error::UnknownFlow {
        flow: code.to_owned(),
    })?;
    if f.direction != Direction::Incoming {
        return Err(Error::WrongDirection {
            flow: code.to_owned(),
            direction: f.direction,
            operation: "accept incoming messages",
        });
    }
    if !f.active {
        return Err(Error::FlowInactive {
            flow: code.to_owned(),
        });
    }
    Ok(f)
}

impl Engine {
    /// Stores an incoming message once per (flow, sender's message id). The body's
    /// `content-type` header (default `application/json`) decides how it is checked: JSON
    /// must parse; XML is stored as text. A repeat is acknowledged (`duplicate: true`) and
    /// not stored again.
    ///
    /// A JSON body on a flow with a schema is validated; one that breaks it is refused with
    /// every violation, and nothing is stored.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::FlowInactive`], [`Error::WrongDirection`] for an
    /// outgoing flow, [`Error::InvalidJson`], [`Error::Invalid`] with the violations,
    /// [`Error::InvalidArgument`] for an empty or overlong message id, an empty body or an
    /// unsupported content type.
    pub fn accept(
        &self,
        flow: &str,
        message_id: &str,
        payload: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<Accepted> {
        if message_id.is_empty()
            || message_id.chars().count() > MAX_MESSAGE_ID_CHARS
            || message_id.chars().any(char::is_control)
        {
            return Err(Error::InvalidArgument {
                name: "message id",
                reason: format!(
                    "must be 1 to {MAX_MESSAGE_ID_CHARS} characters without control characters"
                ),
            });
        }
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let content_type = headers
            .get("content-type")
            .cloned()
            .unwrap_or_else(|| "application/json".to_owned());
        let json = is_json_content(&content_type)?;
        let value: Option<serde_json::Value> = if json {
            let what = format!("the body of incoming message '{message_id}'");
            Some(serde_json::from_str(payload).map_err(|e| Error::invalid_json(what, &e))?)
        } else if payload.trim().is_empty() {
            return Err(Error::InvalidArgument {
                name: "body",
                reason: "is empty".into(),
            });
        } else {
            None
        };
        let headers_json = serde_json::to_string(&headers).unwrap_or_else(|_| "{}".to_owned());
        let now = self.core.now();
        let (code, id, body) = (flow.to_owned(), message_id.to_owned(), payload.to_owned());
        let stored_type = content_type.clone();
        let accepted = self.core.write_prepared(
            Commit::Durable,
            |config| match (config.flow(flow), &value) {
                (Some(f), Some(v)) if f.direction == Direction::Incoming => {
                    self.core.flow_violations(config, f, v)
                }
                (Some(f), None) if f.schema.is_some() => Err(Error::InvalidArgument {
                    name: "content type",
                    reason: format!(
                        "flow '{flow}' validates JSON against a schema, so '{content_type}' is not accepted"
                    ),
                }),
                _ => Ok(Vec::new()),
            },
            move |db, config, violations| {
                let f = incoming_flow(config, &code)?;
                if !violations.is_empty() {
                    // A repeat of a stored message is acknowledged even if its schema has
                    // tightened since: the sender is retransmitting what we hold.
                    return match db.incoming_uuid(&code, &id)? {
                        Some(existing) => Ok(Accepted {
                            id: existing,
                            duplicate: true,
                        }),
                        None => Err(Error::Invalid {
                            what: format!("incoming message '{id}' for flow '{code}'"),
                            violations,
                        }),
                    };
                }
                let ordering_key = match f.ordering {
                    Ordering::ByKey => headers.get(ORDERING_KEY_HEADER).map(String::as_str),
                    Ordering::None => None,
                };
                let uuid = new_message_id();
                let inserted = db.insert_incoming(&NewIncoming {
                    uuid: &uuid,
                    flow: &code,
                    message_id: &id,
                    payload: &body,
                    content_type: &stored_type,
                    headers: &headers_json,
                    ordering_key,
                    now,
                })?;
                match inserted {
                    Some(row) => {
                        db.insert_incoming_history(row, now, IncomingStatus::New, 0, None)?;
                        Ok(Accepted {
                            id: uuid,
                            duplicate: false,
                        })
                    }
                    None => Ok(Accepted {
                        id: db.incoming_uuid(&code, &id)?.unwrap_or_default(),
                        duplicate: true,
                    }),
                }
            },
        )?;
        self.core.wake.notify();
        Ok(accepted)
    }

    /// Claims up to `max` incoming messages that are due, reserving them for `lease`. The
    /// caller processes each and reports with [`Engine::ack_incoming`] or
    /// [`Engine::fail_incoming`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease outside 1 s ..= 24 h.
    pub fn next_incoming(&self, max: usize, lease: Duration) -> Result<Vec<IncomingItem>> {
        check_lease(lease)?;
        self.core.rescue_expired()?;
        let now = self.core.now();
        let owner = self.core.owner.clone();
        let rows = self.core.store.write(Commit::Lazy, move |db| {
            let config = db.config()?;
            let flows: Vec<&str> = config
                .config()
                .flows
                .iter()
                .filter(|f| f.direction == Direction::Incoming)
                .map(|f| f.code.as_str())
                .collect();
            if flows.is_empty() || max == 0 {
                return Ok(Vec::new());
            }
            let rows = db.claim_incoming(&owner, now.plus(lease), now, &flows, max)?;
            for r in &rows {
                db.insert_incoming_history(
                    r.id,
                    now,
                    IncomingStatus::InProgress,
                    r.attempts,
                    None,
                )?;
            }
            Ok::<_, Error>(rows)
        })?;
        Ok(rows.into_iter().map(IncomingItem::from_row).collect())
    }

    /// Marks a claimed incoming message processed.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`]; [`Error::WrongStatus`] when it is not being processed.
    pub fn ack_incoming(&self, id: &str) -> Result<()> {
        self.finish_incoming(id, None)
    }

    /// Records that processing failed; it is retried per the flow's policy, or ends Dead.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`]; [`Error::WrongStatus`] when it is not being processed.
    pub fn fail_incoming(&self, id: &str, error: &str) -> Result<()> {
        self.finish_incoming(id, Some(error.to_owned()))
    }

    fn finish_incoming(&self, id: &str, error: Option<String>) -> Result<()> {
        let now = self.core.now();
        let id = id.to_owned();
        self.core.store.write(Commit::Durable, move |db| {
            let (row, flow, status, attempts) = db
                .incoming_state(&id)?
                .ok_or_else(|| Error::IncomingNotFound { id: id.clone() })?;
            let wrong = || Error::WrongStatus {
                what: "incoming message",
                id: id.clone(),
                status: status.to_string(),
                operation: if error.is_some() {
                    "failed"
                } else {
                    "acknowledged"
                },
            };
            if status != IncomingStatus::InProgress {
                return Err(wrong());
            }
            let (to, next) = match &error {
                None => (IncomingStatus::Processed, None),
                Some(_) => db.config()?.flow_retry(&flow).status_after_failure(
                    attempts,
                    now,
                    None,
                    IncomingStatus::Error,
                    IncomingStatus::Dead,
                ),
            };
            if !db.transition_incoming(row, status, to, error.as_deref(), next, now)? {
                return Err(wrong());
            }
            db.insert_incoming_history(row, now, to, attempts, error.as_deref())?;
            Ok(())
        })
    }
}
