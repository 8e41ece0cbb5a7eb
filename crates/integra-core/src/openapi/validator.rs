//! A compiled validator and the violations it reports, in a form people can act on.

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::Value;

use super::Violation;
use super::translate::{FORBIDDEN, NUMBER_FORMAT};

/// The base URI validators are built with, so errors carry their keyword's location in the
/// translated document (which mirrors the original one).
const BASE_URI: &str = "urn:integra:openapi";
/// Most alternatives described when no alternative of `anyOf` / `oneOf` matched.
const MAX_ALTERNATIVES: usize = 5;

/// A translated schema, compiled once and shared.
pub(crate) struct Compiled {
    validator: Validator,
}

impl Compiled {
    /// Compiles a translated draft 7 document.
    pub(crate) fn new(root: &Value) -> Result<Compiled, String> {
        let options = jsonschema::options()
            .with_draft(Draft::Draft7)
            .with_base_uri(BASE_URI)
            .should_validate_formats(true);
        let validator = super::formats::register(options)
            .build(root)
            .map_err(|e| e.to_string())?;
        Ok(Compiled { validator })
    }

    /// True when `instance` is valid.
    pub(crate) fn is_valid(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }

    /// Every violation in `instance`, at most `max`, in instance-path order. A keyword reached
    /// twice (a base schema applied directly and through an extension) is reported once.
    pub(crate) fn violations(&self, instance: &Value, max: usize) -> Vec<Violation> {
        if self.is_valid(instance) {
            return Vec::new();
        }
        let mut out: Vec<Violation> = Vec::new();
        for v in self.validator.iter_errors(instance).map(|e| violation(&e)) {
            if !out.contains(&v) {
                out.push(v);
                if out.len() == max {
                    break;
                }
            }
        }
        out.sort_by(|a, b| a.instance_path.cmp(&b.instance_path));
        out
    }
}

fn violation(e: &ValidationError<'_>) -> Violation {
    let schema_path = e
        .absolute_keyword_location()
        .and_then(|uri| uri.as_str().split_once('#').map(|(_, f)| f.to_owned()))
        .unwrap_or_else(|| e.schema_path().to_string());
    let (keyword, message) = match e.kind() {
        ValidationErrorKind::Custom { keyword, message } if keyword == FORBIDDEN => {
            let which = if message.contains("write-only") {
                "writeOnly"
            } else {
                "readOnly"
            };
            (which.to_owned(), message.clone())
        }
        ValidationErrorKind::Custom { keyword, message } if keyword == NUMBER_FORMAT => {
            ("format".to_owned(), message.clone())
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            (
                e.kind().keyword().to_owned(),
                format!("{e}; {}", alternatives(context)),
            )
        }
        kind => (kind.keyword().to_owned(), e.to_string()),
    };
    Violation {
        instance_path: e.instance_path().to_string(),
        schema_path,
        keyword,
        message,
    }
}

/// What each alternative of a failed `anyOf` / `oneOf` objected to.
fn alternatives(context: &[Vec<ValidationError<'static>>]) -> String {
    let mut parts: Vec<String> = context
        .iter()
        .take(MAX_ALTERNATIVES)
        .enumerate()
        .map(|(i, errors)| {
            let reasons: Vec<String> = errors
                .iter()
                .take(3)
                .map(|e| violation(e).to_string())
                .collect();
            format!("alternative {}: {}", i + 1, reasons.join(", "))
        })
        .collect();
    if context.len() > MAX_ALTERNATIVES {
        parts.push(format!("and {} more", context.len() - MAX_ALTERNATIVES));
    }
    parts.join("; ")
}
