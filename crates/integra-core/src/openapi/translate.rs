//! Translation of OpenAPI 3.0 Schema Objects into JSON Schema draft 7, which the
//! `jsonschema` crate validates. OpenAPI 3.0's Schema Object is not JSON Schema; the
//! differences and how each is carried over:
//!
//! * `nullable: true`: with `type`, the type list gains `"null"`; with `enum`, the list gains
//!   `null`; otherwise (`allOf`, `$ref`, `oneOf` …) the schema applies only to values that are
//!   not null. Integra honours `nullable` beside `$ref` too, as writers of 3.0 documents mean.
//! * boolean `exclusiveMinimum` / `exclusiveMaximum` become draft 7's numeric forms.
//! * `discriminator`: the discriminating property must hold one of the mapped values, and the
//!   value selects the one schema the object is validated against (errors come from that
//!   schema alone). Without a mapping, each `$ref` alternative's name is its value. A base
//!   schema with a discriminator and no `oneOf` dispatches to the schemas that extend it with
//!   `allOf` (or to its mapping); those extensions see the base without the dispatch.
//! * `readOnly` properties are refused in incoming messages and `writeOnly` ones in outgoing
//!   messages, and neither counts as required in that direction.
//! * `format`: `int32`, `int64`, `float` and `double` check numeric ranges; `uuid` and
//!   `byte` (base64) are added to draft 7's `date`, `date-time`, `email` and `uri`. Other
//!   formats (`binary`, `password`, …) are annotations, as OpenAPI allows.
//! * Annotations (`description`, `example`, `xml`, `x-…` …) are dropped.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::document::{Document, escape, extensions_of, mapping_target};
use crate::config::Direction;

/// The custom keyword that refuses a present property (`read-only` / `write-only`).
pub(crate) const FORBIDDEN: &str = "x-integra-forbidden";
/// The custom keyword that checks a numeric `format`.
pub(crate) const NUMBER_FORMAT: &str = "x-integra-number-format";
const NUMBER_FORMATS: &[&str] = &["int32", "int64", "float", "double"];

/// The draft 7 document that validates instances of `component` travelling `direction`
/// (None: neither readOnly nor writeOnly is enforced).
pub(crate) fn translate(doc: &Document, component: &str, direction: Option<Direction>) -> Value {
    let bases: BTreeSet<&String> = doc
        .components()
        .iter()
        .filter(|name| {
            doc.component(name).is_some_and(|s| {
                s.contains_key("discriminator")
                    && !s.contains_key("oneOf")
                    && !s.contains_key("anyOf")
            })
        })
        .collect();
    let t = Translator {
        doc,
        direction,
        bases: &bases,
    };
    let mut schemas = Map::new();
    for name in doc.components() {
        let Some(s) = doc.component(name) else {
            continue;
        };
        if bases.contains(name) {
            let mut plain = s.clone();
            plain.remove("discriminator");
            schemas.insert(base_name(name), t.schema(&plain));
            schemas.insert(name.clone(), t.base_dispatch(name, s));
        } else {
            schemas.insert(name.clone(), t.schema(s));
        }
    }
    json!({
        "$ref": format!("#/components/schemas/{}", escape(component)),
        "components": {"schemas": schemas},
    })
}

/// The name under which a discriminating base schema is kept without its dispatch.
fn base_name(name: &str) -> String {
    format!("{name}~base")
}

fn reference(name: &str) -> String {
    format!("#/components/schemas/{}", escape(name))
}

struct Translator<'d> {
    doc: &'d Document,
    direction: Option<Direction>,
    bases: &'d BTreeSet<&'d String>,
}

impl Translator<'_> {
    fn schema(&self, s: &Map<String, Value>) -> Value {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let out = json!({"$ref": r});
            return if s.get("nullable") == Some(&Value::Bool(true)) {
                unless_null(out)
            } else {
                out
            };
        }
        let mut out = Map::new();
        let mut forbidden = BTreeSet::new();
        for (key, v) in s {
            match key.as_str() {
                "type" | "enum" | "multipleOf" | "maxLength" | "minLength" | "pattern"
                | "maxItems" | "minItems" | "uniqueItems" | "maxProperties" | "minProperties" => {
                    out.insert(key.clone(), v.clone());
                }
                "maximum" if s.get("exclusiveMaximum") == Some(&Value::Bool(true)) => {
                    out.insert("exclusiveMaximum".into(), v.clone());
                }
                "minimum" if s.get("exclusiveMinimum") == Some(&Value::Bool(true)) => {
                    out.insert("exclusiveMinimum".into(), v.clone());
                }
                "maximum" | "minimum" => {
                    out.insert(key.clone(), v.clone());
                }
                "allOf" | "oneOf" | "anyOf" => {
                    let items = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|item| self.sub(item, key == "allOf"));
                    out.insert(key.clone(), Value::Array(items.collect()));
                }
                "not" | "items" => {
                    out.insert(key.clone(), self.sub(v, false));
                }
                "additionalProperties" => {
                    let ap = if v.is_boolean() {
                        v.clone()
                    } else {
                        self.sub(v, false)
                    };
                    out.insert(key.clone(), ap);
                }
                "properties" => {
                    let mut props = Map::new();
                    for (name, p) in v.as_object().into_iter().flatten() {
                        match self.forbidden_as(p) {
                            Some(why) => {
                                forbidden.insert(name.clone());
                                props.insert(name.clone(), json!({FORBIDDEN: why}));
                            }
                            None => {
                                props.insert(name.clone(), self.sub(p, false));
                            }
                        }
                    }
                    out.insert(key.clone(), Value::Object(props));
                }
                "format" => {
                    let format = v.as_str().unwrap_or_default();
                    if NUMBER_FORMATS.contains(&format) {
                        out.insert(NUMBER_FORMAT.into(), v.clone());
                    } else {
                        out.insert(key.clone(), v.clone());
                    }
                }
                _ => {}
            }
        }
        if let Some(Value::Array(required)) = s.get("required") {
            let kept: Vec<Value> = required
                .iter()
                .filter(|r| r.as_str().is_none_or(|name| !forbidden.contains(name)))
                .cloned()
                .collect();
            if !kept.is_empty() {
                out.insert("required".into(), Value::Array(kept));
            }
        }
        if let Some(d) = s.get("discriminator").and_then(Value::as_object) {
            let choice = if s.contains_key("oneOf") {
                "oneOf"
            } else {
                "anyOf"
            };
            if let Some(alternatives) = s.get(choice).and_then(Value::as_array) {
                out.remove(choice);
                let implicit = alternatives
                    .iter()
                    .filter_map(|a| a.get("$ref").and_then(Value::as_str))
                    .filter_map(|r| {
                        r.rsplit('/')
                            .next()
                            .map(|name| (name.replace("~1", "/").replace("~0", "~"), r.to_owned()))
                    })
                    .collect();
                add_dispatch(&mut out, d, implicit);
            }
        }
        let nullable = s.get("nullable") == Some(&Value::Bool(true));
        if !nullable {
            return Value::Object(out);
        }
        let mut handled = false;
        if let Some(t) = out.get("type").and_then(Value::as_str).map(str::to_owned) {
            out.insert("type".into(), json!([t, "null"]));
            handled = true;
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
            handled = true;
        }
        if handled {
            Value::Object(out)
        } else {
            unless_null(Value::Object(out))
        }
    }

    /// A nested schema; inside `allOf`, a reference to a discriminating base means the base
    /// itself, without its dispatch (the schema at hand is one of its extensions).
    fn sub(&self, v: &Value, in_all_of: bool) -> Value {
        let Some(s) = v.as_object() else {
            return v.clone();
        };
        if in_all_of
            && let Some(r) = s.get("$ref").and_then(Value::as_str)
            && let Some(name) = r.strip_prefix("#/components/schemas/")
            && self.bases.iter().any(|b| escape(b) == name)
        {
            let mut plain = s.clone();
            plain.insert("$ref".into(), Value::String(format!("{r}~0base")));
            return self.schema(&plain);
        }
        self.schema(s)
    }

    /// Why a property must not appear in this direction, if it must not.
    fn forbidden_as(&self, p: &Value) -> Option<&'static str> {
        let flag = |key: &str| {
            p.get(key) == Some(&Value::Bool(true))
                || p.get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|pointer| self.doc.root().pointer(pointer))
                    .is_some_and(|target| target.get(key) == Some(&Value::Bool(true)))
        };
        match self.direction {
            Some(Direction::Incoming) if flag("readOnly") => Some("read-only"),
            Some(Direction::Outgoing) if flag("writeOnly") => Some("write-only"),
            _ => None,
        }
    }

    /// A discriminating base: its own constraints, then dispatch to the schema the
    /// discriminator's value names (its mapping, or the schemas extending it).
    fn base_dispatch(&self, name: &str, s: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        out.insert(
            "allOf".into(),
            json!([{"$ref": format!("{}~0base", reference(name))}]),
        );
        let d = s
            .get("discriminator")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let implicit = extensions_of(self.doc, name).into_iter().collect();
        add_dispatch(&mut out, &d, implicit);
        Value::Object(out)
    }
}

/// Applies `schema` only to values that are not null.
fn unless_null(schema: Value) -> Value {
    json!({"if": {"not": {"type": "null"}}, "then": schema})
}

/// Adds the discriminator's dispatch to `out`: the property is required and holds one of
/// the mapped values, and each value applies its schema. `implicit` maps values to references
/// where the discriminator has no mapping.
fn add_dispatch(
    out: &mut Map<String, Value>,
    d: &Map<String, Value>,
    implicit: Vec<(String, String)>,
) {
    let Some(property) = d.get("propertyName").and_then(Value::as_str) else {
        return;
    };
    let targets: Vec<(String, String)> = match d.get("mapping").and_then(Value::as_object) {
        Some(mapping) => mapping
            .iter()
            .filter_map(|(value, target)| {
                target
                    .as_str()
                    .map(|t| (value.clone(), format!("#{}", mapping_target(t))))
            })
            .collect(),
        None => implicit,
    };
    let values: Vec<&String> = targets.iter().map(|(v, _)| v).collect();
    let mut all_of = match out.remove("allOf") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    all_of.push(json!({"required": [property], "properties": {property: {"enum": values}}}));
    for (value, target) in &targets {
        all_of.push(json!({
            "if": {"required": [property], "properties": {property: {"const": value}}},
            "then": {"$ref": target},
        }));
    }
    out.insert("allOf".into(), Value::Array(all_of));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> Document {
        Document::from_value(json!({
            "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap()
    }

    #[test]
    fn nullable_extends_type_or_enum_or_guards_the_schema() {
        let d = doc(json!({
            "S": {"type": "string", "nullable": true},
            "E": {"type": "string", "enum": ["a"], "nullable": true},
            "R": {"$ref": "#/components/schemas/S", "nullable": true},
            "A": {"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true}
        }));
        let t = translate(&d, "S", None);
        let s = &t["components"]["schemas"];
        assert_eq!(s["S"], json!({"type": ["string", "null"]}));
        assert_eq!(
            s["E"],
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            s["R"],
            json!({"if": {"not": {"type": "null"}}, "then": {"$ref": "#/components/schemas/S"}})
        );
        assert_eq!(
            s["A"]["then"]["allOf"][0],
            json!({"$ref": "#/components/schemas/S"})
        );
        assert_eq!(t["$ref"], "#/components/schemas/S");
    }

    #[test]
    fn read_only_and_write_only_depend_on_direction() {
        let d = doc(
            json!({"O": {"type": "object", "required": ["id", "pwd", "n"], "properties": {
            "id": {"type": "string", "readOnly": true},
            "pwd": {"type": "string", "writeOnly": true},
            "n": {"type": "integer", "format": "int32", "minimum": 0, "exclusiveMinimum": true}}}}),
        );
        let incoming = translate(&d, "O", Some(Direction::Incoming));
        let o = &incoming["components"]["schemas"]["O"];
        assert_eq!(o["properties"]["id"], json!({FORBIDDEN: "read-only"}));
        assert_eq!(o["required"], json!(["pwd", "n"]));
        assert_eq!(
            o["properties"]["n"],
            json!({"type": "integer", NUMBER_FORMAT: "int32", "exclusiveMinimum": 0})
        );
        let outgoing = translate(&d, "O", Some(Direction::Outgoing));
        assert_eq!(
            outgoing["components"]["schemas"]["O"]["properties"]["pwd"],
            json!({FORBIDDEN: "write-only"})
        );
        let neither = translate(&d, "O", None);
        assert_eq!(
            neither["components"]["schemas"]["O"]["required"],
            json!(["id", "pwd", "n"])
        );
    }
}
