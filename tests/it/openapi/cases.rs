//! The driver of the keyword cases in `cases/*.json`, in the style of the
//! JSON-Schema-Test-Suite: each case is a schema (placed at `components/schemas/Subject`,
//! with any extra `components`), an optional direction, and instances that must be valid or
//! not, with, for invalid ones, the violations expected (their one-line forms).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::TestEngine;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    schema: Value,
    #[serde(default)]
    components: serde_json::Map<String, Value>,
    /// `incoming`, `outgoing`, or absent (neither readOnly nor writeOnly enforced).
    #[serde(default)]
    direction: Option<String>,
    tests: Vec<Test>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Test {
    description: String,
    data: Value,
    valid: bool,
    /// The violations' one-line forms, in order; checked when present.
    #[serde(default)]
    errors: Option<Vec<String>>,
}

fn run(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/openapi/cases")
        .join(file);
    let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(!cases.is_empty(), "{file} holds no cases");
    let mut failures = Vec::new();
    for case in cases {
        let mut schemas = case.components.clone();
        schemas.insert("Subject".into(), case.schema.clone());
        let document = json!({
            "openapi": "3.0.3", "info": {"title": case.description, "version": "1"}, "paths": {},
            "components": {"schemas": schemas}
        });
        let flow = match case.direction.as_deref() {
            Some(direction) => json!([{"code": "F", "direction": direction,
                                       "schema": {"schema": "s", "component": "Subject"}}]),
            None => json!([]),
        };
        let t = TestEngine::new(
            &json!({"schemas": [{"code": "s", "document": document}], "flows": flow}),
        );
        for test in &case.tests {
            let data = test.data.to_string();
            let violations = match &case.direction {
                Some(_) => t.engine.validate_for_flow("F", &data),
                None => t.engine.validate("s", "Subject", &data),
            }
            .unwrap_or_else(|e| panic!("{file}: {}: {}: {e}", case.description, test.description));
            let shown: Vec<String> = violations.iter().map(ToString::to_string).collect();
            let ok = violations.is_empty() == test.valid
                && test
                    .errors
                    .as_ref()
                    .is_none_or(|expected| *expected == shown);
            if !ok {
                failures.push(format!(
                    "{file}: {} / {}: expected {}{}, got {shown:?}",
                    case.description,
                    test.description,
                    if test.valid { "valid" } else { "invalid" },
                    test.errors
                        .as_ref()
                        .map(|e| format!(" with {e:?}"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

macro_rules! case_files {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(concat!(stringify!($name), ".json"));
            }
        )*
    };
}

case_files!(
    types,
    nullable,
    references,
    combinators,
    discriminator,
    read_write_only,
    numbers,
    strings,
    formats,
    arrays,
    objects,
);
