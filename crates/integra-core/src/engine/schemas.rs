//! Schemas: validating against the catalog's OpenAPI documents.

use serde_json::Value;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::limits::checks::parse_message;
use crate::openapi::{ExternalSchemaStatus, Violation};

/// Schemas: validating against the catalog's OpenAPI documents.
impl Engine {
    /// Validates `json` against `component` of a schema: a catalog code, or the text of an
    /// OpenAPI 3.0 document (JSON or YAML). Neither readOnly nor writeOnly is enforced.
    /// Returns every violation (capped by `EngineOptions::max_violations`); empty when valid.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] when `json` does not parse; [`Error::Schema`] when the schema
    /// is unknown, the document is not valid OpenAPI 3.0, or has no such component.
    pub fn validate(&self, schema: &str, component: &str, json: &str) -> Result<Vec<Violation>> {
        let value: Value = parse_message(|| "the instance".into(), json)?;
        let config = self.core.store.read(|db| Ok::<_, Error>(db.config()?))?;
        let core = &self.core;
        core.catalog.violations(
            (&core.store, &*core.options.clock),
            &config,
            (schema, component),
            &value,
            core.options.max_violations,
        )
    }

    /// Validates a sample payload against `flow`'s schema, in the flow's direction, as a dry
    /// run before the flow is switched on. Empty when valid, or when the flow has no schema.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::InvalidJson`], [`Error::Schema`].
    pub fn validate_for_flow(&self, flow: &str, json: &str) -> Result<Vec<Violation>> {
        let value: Value = parse_message(|| "the sample".into(), json)?;
        let config = self.core.store.read(|db| Ok::<_, Error>(db.config()?))?;
        let f = config.flow(flow).ok_or_else(|| Error::UnknownFlow {
            flow: flow.to_owned(),
        })?;
        self.core.flow_violations(&config, f, &value)
    }

    /// The state of external schema `code`'s fetched copy; None before the first fetch.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn external_schema_status(&self, code: &str) -> Result<Option<ExternalSchemaStatus>> {
        self.core.store.read(|db| {
            Ok(db.schema_copy(code)?.map(|c| ExternalSchemaStatus {
                source: c.source,
                fetched_at: c.fetched_at,
                expires_at: c.expires_at,
                etag: c.etag,
                last_error: c.last_error,
            }))
        })
    }
}
