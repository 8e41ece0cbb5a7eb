//! A versioned, indexed, read-only view of the configuration, shared by every thread of an
//! engine until the stored version changes.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Config, Endpoint, Flow, Retention, SchemaEntry, Subscriber};
use crate::openapi::{Fingerprinted, fingerprint};
use crate::retry::RetryPolicy;

/// The configuration as of one stored version, with lookups by code.
#[derive(Debug, Default)]
pub(crate) struct ConfigSnapshot {
    version: i64,
    config: Config,
    flows: HashMap<String, usize>,
    subscribers: HashMap<String, usize>,
    /// Inline schema documents, parsed once per snapshot.
    inline_schemas: HashMap<String, Fingerprinted>,
}

impl ConfigSnapshot {
    pub(crate) fn new(version: i64, config: Config) -> Self {
        let flows = index(config.flows.iter().map(|f| &f.code));
        let subscribers = index(config.subscribers.iter().map(|s| &s.code));
        let inline_schemas = config
            .schemas
            .iter()
            .filter_map(|s| {
                let text = serde_json::to_string(s.document.as_ref()?).ok()?;
                let doc = s.parse()?.ok()?;
                Some((s.code.clone(), (fingerprint(&text), Arc::new(doc))))
            })
            .collect();
        ConfigSnapshot {
            version,
            config,
            flows,
            subscribers,
            inline_schemas,
        }
    }

    pub(crate) fn version(&self) -> i64 {
        self.version
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn flow(&self, code: &str) -> Option<&Flow> {
        self.flows.get(code).map(|&i| &self.config.flows[i])
    }

    pub(crate) fn subscriber(&self, code: &str) -> Option<&Subscriber> {
        self.subscribers
            .get(code)
            .map(|&i| &self.config.subscribers[i])
    }

    /// The retry policy of subscriber `code`; the default when it is not configured.
    pub(crate) fn subscriber_retry(&self, code: &str) -> &RetryPolicy {
        self.subscriber(code)
            .map_or(&RetryPolicy::DEFAULT, |s| &s.retry)
    }

    /// The retry policy of flow `code` (forming or processing); the default when it is not
    /// configured.
    pub(crate) fn flow_retry(&self, code: &str) -> &RetryPolicy {
        self.flow(code).map_or(&RetryPolicy::DEFAULT, |f| &f.retry)
    }

    /// How long finished records of flow `code` are kept; the default when it is not
    /// configured (a removed flow's records).
    pub(crate) fn flow_retention(&self, code: &str) -> Retention {
        self.flow(code)
            .map_or_else(Retention::default, |f| f.retention.clone())
    }

    /// The parsed document of inline schema `code`.
    pub(crate) fn inline_schema(&self, code: &str) -> Option<&Fingerprinted> {
        self.inline_schemas.get(code)
    }

    pub(crate) fn endpoint(&self, code: &str) -> Option<&Endpoint> {
        self.config.endpoint(code)
    }

    /// What work on flow `code` is checked against when it is prepared outside the write
    /// lock: the flow, the subscribers it lists (whether they are active, what they take),
    /// its schema, and the endpoint an external schema is fetched from. Work prepared with
    /// one snapshot holds in another whose scope of the flow is equal.
    pub(crate) fn flow_scope(&self, code: &str) -> FlowScope<'_> {
        let flow = self.flow(code);
        let schema = flow
            .and_then(|f| f.schema.as_ref())
            .and_then(|r| self.config.schema(&r.schema));
        FlowScope {
            flow,
            subscribers: flow.map_or_else(Vec::new, |f| {
                f.subscribers.iter().map(|s| self.subscriber(s)).collect()
            }),
            schema,
            schema_endpoint: schema
                .and_then(|s| s.external.as_ref())
                .and_then(|e| self.endpoint(&e.endpoint)),
        }
    }
}

/// The part of a configuration work on one flow depends on ([`ConfigSnapshot::flow_scope`]).
#[derive(Debug, PartialEq)]
pub(crate) struct FlowScope<'c> {
    flow: Option<&'c Flow>,
    subscribers: Vec<Option<&'c Subscriber>>,
    schema: Option<&'c SchemaEntry>,
    schema_endpoint: Option<&'c Endpoint>,
}

fn index<'a>(codes: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
    codes.enumerate().map(|(i, c)| (c.clone(), i)).collect()
}
