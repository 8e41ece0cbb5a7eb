//! Flows: named streams of messages (`ORDER_EXPORT`), outgoing to subscribers or incoming
//! from other systems, with their forming, ordering, validation and retention rules.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Problems, Source, duration};
use crate::retry::RetryPolicy;

/// A data flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Unique code, e.g. `ORDER_EXPORT`.
    pub code: String,
    /// A name for people. Defaults to the code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Outgoing (registered here, delivered to subscribers) or incoming (accepted here).
    pub direction: Direction,
    /// An inactive flow refuses new messages; what is queued still goes out.
    #[serde(default = "yes")]
    pub active: bool,
    /// Codes of the subscribers of an outgoing flow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers: Vec<String>,
    /// Who turns the registered source into the payload (outgoing).
    #[serde(default)]
    pub former: Former,
    /// Who processes the accepted messages (incoming).
    #[serde(default)]
    pub processor: Processor,
    /// A broker or polled resource feeding the flow (incoming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The contract messages are validated against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaRef>,
    /// Delivery order.
    #[serde(default)]
    pub ordering: Ordering,
    /// How long finished messages are kept.
    #[serde(default)]
    pub retention: Retention,
    /// Retries of forming (outgoing) or of processing (incoming).
    #[serde(default)]
    pub retry: RetryPolicy,
    /// End a delivery as Unchanged, instead of sending it, when the formed payload equals
    /// the one last delivered to that subscriber for the same object key. Default on.
    #[serde(default = "yes")]
    pub skip_unchanged: bool,
}

fn yes() -> bool {
    true
}

impl Flow {
    /// An active outgoing pass-through flow to `subscribers`, with defaults elsewhere.
    pub fn outgoing(code: impl Into<String>, subscribers: &[&str]) -> Self {
        Flow {
            code: code.into(),
            name: String::new(),
            direction: Direction::Outgoing,
            active: true,
            subscribers: subscribers.iter().map(|s| (*s).to_owned()).collect(),
            former: Former::None,
            processor: Processor::External,
            source: None,
            schema: None,
            ordering: Ordering::None,
            retention: Retention::default(),
            retry: RetryPolicy::default(),
            skip_unchanged: true,
        }
    }

    /// An active incoming flow with defaults.
    pub fn incoming(code: impl Into<String>) -> Self {
        Flow {
            direction: Direction::Incoming,
            ..Flow::outgoing(code, &[])
        }
    }

    /// The name for people: `name`, or the code when it has none.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.code
        } else {
            &self.name
        }
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("flow '{}'", self.code);
        p.code(&object, &self.code);
        for (field, problem) in self.retry.problems() {
            p.push(&object, &format!("retry.{field}"), problem);
        }
        if self.direction == Direction::Incoming {
            if !self.subscribers.is_empty() {
                p.push(
                    &object,
                    "subscribers",
                    "an incoming flow has no subscribers",
                );
            }
            if self.former != Former::None {
                p.push(&object, "former", "an incoming flow has no former");
            }
            if let Some(source) = &self.source {
                source.check(&object, p);
            }
        } else {
            if self.processor != Processor::External {
                p.push(&object, "processor", "an outgoing flow has no processor");
            }
            if self.source.is_some() {
                p.push(
                    &object,
                    "source",
                    "an outgoing flow has no source; its messages are registered",
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.subscribers {
            if !seen.insert(s) {
                p.push(&object, "subscribers", format!("'{s}' is listed twice"));
            }
        }
        if let Some(schema) = &self.schema
            && (schema.schema.is_empty() || schema.component.is_empty())
        {
            p.push(&object, "schema", "needs both 'schema' and 'component'");
        }
        self.retention.check(&object, p);
    }
}

/// Which way a flow's messages travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Registered here and delivered to subscribers.
    Outgoing,
    /// Accepted here from other systems and processed here.
    Incoming,
}

impl Direction {
    /// The direction's configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Outgoing => "outgoing",
            Direction::Incoming => "incoming",
        }
    }
}

/// Who forms an outgoing flow's payload from the registered source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Former {
    /// Nobody: the source is the payload, dispatched at registration.
    #[default]
    None,
    /// An external former pulls work with `next_to_form` (this is what 1C code uses).
    External,
    /// A Rust handler registered with `Engine::set_former`, run on the dispatcher's threads.
    Handler,
}

/// Who processes an incoming flow's accepted messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Processor {
    /// An external processor pulls them with `next_incoming` (this is what 1C code uses).
    #[default]
    External,
    /// A Rust handler registered with `Engine::set_incoming_handler`, run on the
    /// dispatcher's threads.
    Handler,
}

/// A reference to a contract: a schema catalog entry and a component in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRef {
    /// The schema's code in the catalog.
    pub schema: String,
    /// The component name under `components/schemas`.
    pub component: String,
}

/// Delivery order of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Any order; the fastest.
    #[default]
    None,
    /// Messages with the same ordering key (the object key when none is given) reach each
    /// subscriber one at a time in registration order; a failing key holds back only itself.
    ByKey,
}

/// How long finished messages are kept before cleanup removes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Sent and cancelled messages. Default 7 days.
    #[serde(with = "duration")]
    pub delivered: Duration,
    /// Dead and undelivered messages. Default 30 days.
    #[serde(with = "duration")]
    pub dead: Duration,
}

impl Retention {
    /// Checks that dead records are kept at least as long as finished ones.
    pub(crate) fn check(&self, object: &str, p: &mut Problems) {
        if self.dead < self.delivered {
            p.push(
                object,
                "retention.dead",
                "must be at least as long as retention.delivered",
            );
        }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            delivered: Duration::from_secs(7 * 86_400),
            dead: Duration::from_secs(30 * 86_400),
        }
    }
}
