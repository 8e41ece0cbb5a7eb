//! Registration: putting messages into the outgoing queue.
//!
//! A registration names a flow and carries a source (JSON: the data itself, or only a
//! reference the former resolves later). On a pass-through flow (no former) the source is
//! the payload and the message is fanned out in the same transaction. Otherwise it waits,
//! New, for its former.
//!
//! **Coalescing.** While a message for (flow, object key) still waits to be formed,
//! registering another returns the waiting message's id and replaces its source, instead of
//! queuing a second: its former reads the latest state anyway. Pass-through messages never
//! wait, so they are never coalesced. `allow_duplicate` bypasses this (and the
//! unchanged-content rule at delivery).

use std::sync::Arc;

use serde::Deserialize;

use super::fan_out::{Formed, check_sendable, fan_out, status_after_fan_out, targets};
use crate::config::{ConfigSnapshot, Direction, Flow, Former, Ordering};
use crate::core::{Core, Prepared};
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::limits::MAX_KEY_CHARS;
use crate::limits::checks::{check_batch, check_message};
use crate::metrics::events::Observation;
use crate::openapi::{Violation, summary};
use crate::status::MessageStatus;
use crate::store::{Commit, Db, NewMessage};
use crate::time::Timestamp;

/// Options of a registration.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RegisterOptions {
    /// The business object the message is about (e.g. a document's UUID). Enables
    /// coalescing and the unchanged-content rule, and orders by key when the flow does and
    /// no ordering key is given.
    pub object_key: Option<String>,
    /// Kept on every flow: shown in the status and carried where the transport has a place
    /// for it (AMQP header `x-ordering-key`, the Kafka record key). Only on flows with
    /// `ordering: by_key` does it order delivery: messages with the same key reach each
    /// subscriber in registration order.
    pub ordering_key: Option<String>,
    /// Queue this message even when it would coalesce or be unchanged.
    pub allow_duplicate: bool,
    /// Delayed delivery: nothing is formed or sent before this time.
    pub not_before: Option<Timestamp>,
}

crate::setters::setters!(RegisterOptions {
    with_allow_duplicate => allow_duplicate: bool,
} optional {
    with_object_key => object_key: impl Into<String>,
    with_ordering_key => ordering_key: impl Into<String>,
    with_not_before => not_before: Timestamp,
});

impl RegisterOptions {
    /// Options with an object key.
    pub fn object_key(key: impl Into<String>) -> Self {
        RegisterOptions {
            object_key: Some(key.into()),
            ..RegisterOptions::default()
        }
    }

    /// Parses options from JSON (the form 1C passes); empty text means defaults.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] naming the malformed field.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(RegisterOptions::default());
        }
        serde_json::from_str(text).map_err(|e| Error::invalid_json("registration options", &e))
    }

    pub(crate) fn check(&self) -> Result<()> {
        for (name, key) in [
            ("object_key", &self.object_key),
            ("ordering_key", &self.ordering_key),
        ] {
            if let Some(key) = key
                && (key.is_empty() || key.chars().count() > MAX_KEY_CHARS)
            {
                return Err(Error::InvalidArgument {
                    name,
                    reason: format!("must be 1 to {MAX_KEY_CHARS} characters"),
                });
            }
        }
        Ok(())
    }
}

/// One message of a batch registration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The source, JSON text.
    pub source: String,
    /// Its options.
    #[serde(default)]
    pub options: RegisterOptions,
}

/// A new message id: a UUID v7, so ids sort by registration time.
pub(crate) fn new_message_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The flow `code`, if it accepts registrations.
fn outgoing_flow<'c>(config: &'c ConfigSnapshot, code: &str) -> Result<&'c Flow> {
    super::active_flow_going(
        config.config(),
        code,
        Direction::Outgoing,
        "register outgoing messages",
    )
}

/// What registering one message did.
struct Registered {
    id: String,
    /// How forming ended at registration (pass-through flows), and whether the source
    /// broke the flow's schema.
    formed: Option<(MessageStatus, bool)>,
}

/// The metrics of a committed registration.
fn observations(flow: &str, registered: &[Registered]) -> Vec<Observation> {
    let mut out = vec![Observation::Registered {
        flow: flow.to_owned(),
        n: registered.len() as u64,
    }];
    for (status, invalid) in registered.iter().filter_map(|r| r.formed) {
        if invalid {
            out.push(Observation::Invalid {
                flow: flow.to_owned(),
                direction: Direction::Outgoing,
            });
        }
        out.push(Observation::Formed {
            flow: flow.to_owned(),
            status,
            took: None,
        });
    }
    out
}

/// On a pass-through flow (sources are payloads there), refuses a source a subscriber cannot
/// be sent, and returns the violations of each against the flow's schema; empty for flows
/// that form their payloads, or have no schema.
fn validate_sources(
    core: &Core,
    config: &ConfigSnapshot,
    flow: &str,
    items: &[Registration],
) -> Result<Vec<Vec<Violation>>> {
    match config.flow(flow) {
        Some(f) if f.former == Former::None => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let what = || format!("the source of message {i} for flow '{flow}'");
                check_sendable(config, f, what, &item.source)?;
                if f.schema.is_none() {
                    return Ok(Vec::new());
                }
                let value: serde_json::Value = serde_json::from_str(&item.source)
                    .map_err(|e| Error::invalid_json("a source", &e))?;
                core.flow_violations(config, f, &value)
            })
            .collect(),
        _ => Ok(vec![Vec::new(); items.len()]),
    }
}

/// Queues one message inside the caller's transaction.
fn register_one(
    db: &Db<'_>,
    config: &ConfigSnapshot,
    flow: &Flow,
    item: &Registration,
    violations: Vec<Violation>,
    now: Timestamp,
) -> Result<Registered> {
    let o = &item.options;
    let pass_through = flow.former == Former::None;
    if !pass_through
        && !o.allow_duplicate
        && let Some(key) = &o.object_key
        && let Some((id, uuid)) = db.find_waiting_message(&flow.code, key)?
    {
        db.update_waiting_source(id, &item.source, now)?;
        db.insert_message_history(
            id,
            None,
            now,
            MessageStatus::New.as_str(),
            0,
            Some("a later registration for the same object joined this message"),
        )?;
        return Ok(Registered {
            id: uuid,
            formed: None,
        });
    }
    // Kept whatever the flow's ordering (a consumer may partition by it); the object key
    // stands in for a missing one only where it orders delivery.
    let ordering_key = match flow.ordering {
        Ordering::ByKey => o.ordering_key.as_deref().or(o.object_key.as_deref()),
        Ordering::None => o.ordering_key.as_deref(),
    };
    let due = o.not_before.map_or(now, |t| t.max(now));
    let valid = violations.is_empty();
    let targets = if pass_through && valid {
        targets(config, flow)
    } else {
        Vec::new()
    };
    let status = if pass_through && valid {
        status_after_fan_out(&targets)
    } else {
        MessageStatus::New
    };
    let uuid = new_message_id();
    let id = db.insert_message(&NewMessage {
        uuid: &uuid,
        flow: &flow.code,
        status,
        object_key: o.object_key.as_deref(),
        ordering_key,
        allow_duplicate: o.allow_duplicate,
        source: &item.source,
        next_attempt_at: due,
        not_before: o.not_before,
        now,
    })?;
    db.insert_message_history(id, None, now, MessageStatus::New.as_str(), 0, None)?;
    if !valid {
        // The source is the payload and breaks the schema: a failed first forming attempt.
        let error = summary(&violations);
        let (to, next) = flow.retry.status_after_failure(
            1,
            now,
            None,
            MessageStatus::FormingError,
            MessageStatus::Dead,
        );
        db.bump_forming_attempts(id)?;
        db.transition_message(id, MessageStatus::New, to, Some(&error), next, now)?;
        db.insert_message_history(id, None, now, to.as_str(), 1, Some(&error))?;
        return Ok(Registered {
            id: uuid,
            formed: Some((to, true)),
        });
    }
    if pass_through {
        db.insert_message_history(
            id,
            None,
            now,
            MessageStatus::Ready.as_str(),
            0,
            Some("pass-through: the source is the payload"),
        )?;
        let formed = Formed {
            message_id: id,
            flow,
            ordering_key,
            due,
            attempt: 0,
        };
        fan_out(db, &formed, &targets, now)?;
    }
    Ok(Registered {
        id: uuid,
        formed: pass_through.then_some((status, false)),
    })
}

/// Registers `items` on `flow` in one transaction ([`Engine::register_batch`]).
///
/// [`Engine::register_batch`]: crate::Engine::register_batch
pub(crate) fn register_batch(
    core: &Core,
    flow: &str,
    items: Vec<Registration>,
) -> Result<Vec<MessageId>> {
    check_batch(|| format!("the batch for flow '{flow}'"), items.len())?;
    for (i, item) in items.iter().enumerate() {
        check_message(
            || format!("the source of message {i} for flow '{flow}'"),
            &item.source,
        )?;
        item.options.check()?;
    }
    let now = core.now();
    let items = Arc::new(items);
    let checked = Arc::clone(&items);
    let code = flow.to_owned();
    let registered = core.write_prepared(
        Commit::Durable,
        |config| {
            Ok(Prepared {
                flow: flow.to_owned(),
                work: validate_sources(core, config, flow, &checked)?,
            })
        },
        move |db, config, violations| {
            let flow = outgoing_flow(config, &code)?;
            items
                .iter()
                .zip(violations)
                .map(|(item, v)| register_one(db, config, flow, item, v, now))
                .collect::<Result<Vec<Registered>>>()
        },
    )?;
    core.wake.notify();
    core.observe(&observations(flow, &registered));
    Ok(registered.into_iter().map(|r| r.id.into()).collect())
}
