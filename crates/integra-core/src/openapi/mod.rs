//! OpenAPI 3.0 validation of the messages Integra forms and receives.
//!
//! A flow names a schema from the catalog (`Config::schemas`) and a component under
//! `components/schemas`. Documents are checked when loaded ([`document`]): one Integra
//! could not validate against faithfully (not OpenAPI 3.0, an unknown keyword, a remote
//! `$ref`, a JSON Schema construct that 3.0 lacks, a cycle of references that never reaches
//! into the value: `cycles`) is refused then, with the JSON pointer of each problem. Each
//! component is translated into JSON Schema draft 7 (`translate` documents how each
//! OpenAPI rule is carried over) and compiled once per (document, component, direction) by
//! the catalog.
//!
//! Where it runs: outgoing payloads when they are formed (`complete_forming`, Rust formers,
//! and pass-through flows at registration); a payload that fails becomes a forming failure
//! with the violations, and nothing is sent. Incoming messages on `accept`: a message that
//! fails is refused with the violations, and nothing is stored. And on demand:
//! [`crate::Engine::validate`], [`crate::Engine::validate_for_flow`].
//!
//! Violations are reported in full (up to `EngineOptions::max_violations`), each with the
//! instance's JSON pointer, the schema keyword's location, the keyword, and a message. A value
//! the validator cannot decide (a `pattern` past the regex engine's backtracking limit) is an
//! error of the schema, not a violation. Errors and violations quote at most a bounded prefix
//! of any input ([`crate::limits::quoted`]).

mod catalog;
mod cycles;
pub mod document;
mod external;
mod formats;
mod pattern;
pub(crate) mod translate;
mod validator;

use std::fmt;

use serde::Serialize;

pub use catalog::ExternalSchemaStatus;
pub(crate) use catalog::{Catalog, Fingerprinted, fingerprint};
pub use document::{Document, DocumentError};

/// One way an instance breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// Where in the instance, as a JSON pointer (`/items/2/price`; empty for the root).
    pub instance_path: String,
    /// Where in the schema, as a JSON pointer to the keyword.
    pub schema_path: String,
    /// The keyword that failed (`minimum`, `required`, `format`, `readOnly` …).
    pub keyword: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    /// The one-line form: `/items/2/price: -5 is less than the minimum of 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// The one-line forms of `violations`, joined with `; `.
pub(crate) fn summary(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
