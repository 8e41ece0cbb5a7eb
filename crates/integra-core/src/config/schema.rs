//! Schema catalog entries: OpenAPI 3.0 documents flows are validated against, held inline
//! (JSON or YAML) or fetched from an endpoint and cached.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ConfigError, Problems, duration};
use crate::openapi::{Document, DocumentError};

/// A schema catalog entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaEntry {
    /// Unique code, referenced by flows.
    pub code: String,
    /// The document: a JSON object, or its JSON or YAML text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// A file the document is read from when the configuration is loaded (relative to the
    /// configuration file); the text is then stored as `document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
    /// Fetch the document over HTTP instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalSchema>,
}

/// A document fetched from an endpoint, kept for `ttl`, then revalidated with its ETag or
/// Last-Modified. A failed refresh keeps the last good copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSchema {
    /// The endpoint (its base address, authentication and TLS settings apply).
    pub endpoint: String,
    /// The path of the document under the endpoint's base address.
    pub path: String,
    /// How long a fetched copy is used before it is revalidated. Default 24 h.
    #[serde(default = "day", with = "duration")]
    pub ttl: Duration,
}

fn day() -> Duration {
    Duration::from_secs(86_400)
}

impl SchemaEntry {
    /// An entry holding `document` (a JSON object, or JSON or YAML text).
    pub fn inline(code: impl Into<String>, document: Value) -> Self {
        SchemaEntry {
            code: code.into(),
            document: Some(document),
            file: None,
            external: None,
        }
    }

    /// The inline document, parsed and checked; None for an external entry.
    pub(crate) fn parse(&self) -> Option<Result<Document, Vec<DocumentError>>> {
        self.document.as_ref().map(|d| match d {
            Value::String(text) => Document::parse(text),
            other => Document::from_value(other.clone()),
        })
    }

    /// Reads `file` into `document`, relative to `base`.
    pub(crate) fn read_file(&mut self, base: Option<&Path>) -> Result<(), ConfigError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let path = match base {
            Some(dir) if file.is_relative() => dir.join(&file),
            _ => file,
        };
        let text = crate::limits::read_text_file(&path).map_err(|e| {
            ConfigError::single(
                &format!("schema '{}'", self.code),
                "file",
                format!("cannot read '{}': {e}", path.display()),
            )
        })?;
        self.document = Some(Value::String(text));
        Ok(())
    }

    pub(crate) fn check(&self, p: &mut Problems) {
        let object = format!("schema '{}'", self.code);
        p.code(&object, &self.code);
        match (&self.document, &self.external, &self.file) {
            (_, _, Some(_)) => p.push(
                &object,
                "file",
                "was not read: load the configuration with Config::from_json or from_file",
            ),
            (Some(_), None, None) => {
                if let Some(Err(errors)) = self.parse() {
                    for e in errors {
                        p.push(&object, "document", e.to_string());
                    }
                }
            }
            (None, Some(ext), None) => {
                if !ext.path.starts_with('/') {
                    p.push(
                        &object,
                        "external.path",
                        format!("'{}' must start with '/'", ext.path),
                    );
                }
                if ext.ttl.is_zero() {
                    p.push(&object, "external.ttl", "must be longer than zero");
                }
            }
            (Some(_), Some(_), None) => p.push(
                &object,
                "",
                "has both a document and an external source; keep one",
            ),
            (None, None, None) => p.push(
                &object,
                "",
                "needs a document, a file, or an external source",
            ),
        }
    }
}
