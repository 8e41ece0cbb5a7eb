//! A compiled validator and the violations it reports, in a form people can act on: each
//! names the keyword and its place as the OpenAPI document has them, and quotes at most a
//! bounded prefix of the value.

use std::collections::HashMap;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::Value;

use super::Violation;
use super::translate::{FORBIDDEN, INTEGER, NUMBER_FORMAT, PATTERN, SUBSCHEMAS, Translation};
use crate::limits::{bounded_error_text, quoted};

/// The base URI validators are built with, so errors carry their keyword's location in the
/// translated document (which mirrors the original one).
const BASE_URI: &str = "urn:integra:openapi";
/// Most alternatives described when no alternative of `anyOf` / `oneOf` matched.
const MAX_ALTERNATIVES: usize = 5;

/// A translated schema, compiled once and shared.
pub(crate) struct Compiled {
    validator: Validator,
    /// Where in the OpenAPI document each schema under [`SUBSCHEMAS`] stands.
    subschemas: Vec<String>,
    /// Each `pattern` as compiled, and as written.
    patterns: HashMap<String, String>,
}

impl Compiled {
    /// Compiles a translated document.
    pub(crate) fn new(translation: Translation) -> Result<Compiled, String> {
        let options = jsonschema::options()
            .with_draft(Draft::Draft7)
            .with_base_uri(BASE_URI)
            .should_validate_formats(true);
        let validator = super::formats::register(options)
            .build(&translation.root)
            .map_err(|e| quoted(&e.to_string()).into_owned())?;
        Ok(Compiled {
            validator,
            subschemas: translation.subschemas,
            patterns: translation.patterns,
        })
    }

    /// Every violation in `instance`, at most `max`, in instance-path order. A keyword reached
    /// twice (a base schema applied directly and through an extension) is reported once.
    ///
    /// # Errors
    /// Why the validator cannot decide (a pattern past the regex engine's backtracking
    /// limit), in words: an error of the schema, which says nothing of the value.
    pub(crate) fn violations(
        &self,
        instance: &Value,
        max: usize,
    ) -> Result<Vec<Violation>, String> {
        if self.validator.is_valid(instance) {
            return Ok(Vec::new());
        }
        let mut out: Vec<Violation> = Vec::new();
        for e in self.validator.iter_errors(instance) {
            if let Some(reason) = self.undecided(&e) {
                return Err(reason);
            }
            let v = self.violation(&e);
            if !out.contains(&v) {
                out.push(v);
                if out.len() == max {
                    break;
                }
            }
        }
        out.sort_by(|a, b| a.instance_path.cmp(&b.instance_path));
        Ok(out)
    }

    /// Why `e` (or an error of an alternative inside it) leaves the value undecided, if it does.
    fn undecided(&self, e: &ValidationError<'_>) -> Option<String> {
        match e.kind() {
            ValidationErrorKind::BacktrackLimitExceeded { .. }
            | ValidationErrorKind::RegexEngineFailure { .. } => {
                let at = match e.instance_path().as_str() {
                    "" => "/",
                    path => path,
                };
                Some(format!(
                    "{}: the regular expression engine cannot decide whether the value at {} matches the pattern: it hit its backtracking limit ({}); the pattern must be simpler",
                    self.schema_path(e),
                    quoted(at),
                    quoted(&e.to_string())
                ))
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                context.iter().flatten().find_map(|e| self.undecided(e))
            }
            _ => None,
        }
    }

    /// Where in the OpenAPI document the keyword of `e` stands: translated schemas mirror the
    /// document, but for those under [`SUBSCHEMAS`] and Integra's own keywords.
    fn schema_path(&self, e: &ValidationError<'_>) -> String {
        let mut path = e
            .absolute_keyword_location()
            .and_then(|uri| uri.as_str().split_once('#').map(|(_, f)| f.to_owned()))
            .unwrap_or_else(|| e.schema_path().to_string());
        if let Some(rest) = path.strip_prefix(&format!("/{SUBSCHEMAS}/")) {
            let (number, tail) = rest.split_once('/').unwrap_or((rest, ""));
            if let Some(pointer) = number
                .parse::<usize>()
                .ok()
                .and_then(|i| self.subschemas.get(i))
            {
                path = if tail.is_empty() {
                    pointer.clone()
                } else {
                    format!("{pointer}/{tail}")
                };
            }
        }
        path
    }

    fn violation(&self, e: &ValidationError<'_>) -> Violation {
        let mut schema_path = self.schema_path(e);
        let (keyword, message) = match e.kind() {
            ValidationErrorKind::Custom { keyword, message } if keyword == FORBIDDEN => {
                let which = if message.contains("write-only") {
                    "writeOnly"
                } else {
                    "readOnly"
                };
                (which.to_owned(), message.clone())
            }
            ValidationErrorKind::Custom { keyword, .. } if keyword == NUMBER_FORMAT => {
                ("format".to_owned(), self.message(e))
            }
            ValidationErrorKind::Custom { keyword, .. } if keyword == INTEGER => {
                ("type".to_owned(), self.message(e))
            }
            ValidationErrorKind::Custom { keyword, .. } if keyword == PATTERN => {
                ("pattern".to_owned(), self.message(e))
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => (
                e.kind().keyword().to_owned(),
                format!("{}; {}", self.message(e), self.alternatives(context)),
            ),
            kind => (kind.keyword().to_owned(), self.message(e)),
        };
        if let ValidationErrorKind::Custom {
            keyword: custom, ..
        } = e.kind()
            && let Some(parent) = schema_path.strip_suffix(custom.as_str())
        {
            schema_path = format!("{parent}{keyword}");
        }
        Violation {
            instance_path: e.instance_path().to_string(),
            schema_path,
            keyword,
            message,
        }
    }

    /// The message of `e`, quoting at most a bounded prefix of the value, and a `pattern` as
    /// the document writes it.
    fn message(&self, e: &ValidationError<'_>) -> String {
        let value = e.instance().to_string();
        let shown = quoted(&value);
        let message = match e.kind() {
            ValidationErrorKind::Pattern { pattern } => format!(
                "{shown} does not match \"{}\"",
                quoted(self.patterns.get(pattern).unwrap_or(pattern))
            ),
            _ => {
                let message = e.to_string();
                if shown.len() < value.len() {
                    message.replace(&value, &shown)
                } else {
                    message
                }
            }
        };
        bounded_error_text(message)
    }

    /// What each alternative of a failed `anyOf` / `oneOf` objected to.
    fn alternatives(&self, context: &[Vec<ValidationError<'static>>]) -> String {
        let mut parts: Vec<String> = context
            .iter()
            .take(MAX_ALTERNATIVES)
            .enumerate()
            .map(|(i, errors)| {
                let reasons: Vec<String> = errors
                    .iter()
                    .take(3)
                    .map(|e| self.violation(e).to_string())
                    .collect();
                format!("alternative {}: {}", i + 1, reasons.join(", "))
            })
            .collect();
        if context.len() > MAX_ALTERNATIVES {
            parts.push(format!("and {} more", context.len() - MAX_ALTERNATIVES));
        }
        parts.join("; ")
    }
}
