//! Translation of OpenAPI 3.0 Schema Objects into JSON Schema draft 7, which the
//! `jsonschema` crate validates. OpenAPI 3.0's Schema Object is not JSON Schema; the
//! differences and how each is carried over:
//!
//! * `nullable: true` adds `"null"` to the `type` of the same Schema Object, and does nothing
//!   without one (OpenAPI 3.0.3). The other keywords keep their meaning, so an `enum` that does
//!   not list `null` still refuses it, as does a `$ref` (whose siblings 3.0 ignores) or an
//!   `allOf` / `oneOf` whose schemas refuse it.
//! * `type: integer` is JSON Schema Wright draft 00's: a number without a fraction or exponent
//!   part, so `1.0` and `1e2` are not integers (draft 7 would take them).
//! * boolean `exclusiveMinimum` / `exclusiveMaximum` become draft 7's numeric forms.
//! * `pattern` is an ECMA 262 regular expression ([`super::pattern`]).
//! * `discriminator`: the discriminating property must hold a value that names a schema, and
//!   the value selects the one schema the object is validated against (errors come from that
//!   schema alone). Each `$ref` alternative's name is a value, and so is each key of the
//!   mapping, which takes the value from a name equal to it. A base schema with a
//!   discriminator and no `oneOf` dispatches to the schemas that extend it with `allOf` (and
//!   to its mapping); those extensions see the base without the dispatch.
//! * `$ref` to a schema inside a component (`#/components/schemas/Order/properties/sum`) is
//!   translated on its own under [`SUBSCHEMAS`], since the translation of the component
//!   around it need not keep its place (a discriminating base, a read-only property).
//! * `readOnly` properties are refused in incoming messages and `writeOnly` ones in outgoing
//!   messages, and neither counts as required in that direction.
//! * `format`: `int32`, `int64`, `float` and `double` check numeric ranges; `uuid` and
//!   `byte` (base64) are added to draft 7's `date`, `date-time`, `email` and `uri`. Other
//!   formats (`binary`, `password`, …) are annotations, as OpenAPI allows.
//! * Annotations (`description`, `example`, `xml`, `x-…` …) are dropped.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::document::{
    Document, component_name, escape, extensions_of, is_discriminating_base, local_pointer,
    mapping, schema_positions,
};
use super::pattern::{self, Engine};
use crate::config::Direction;

/// The custom keyword that refuses a present property (`read-only` / `write-only`).
pub(crate) const FORBIDDEN: &str = "x-integra-forbidden";
/// The custom keyword that checks a numeric `format`.
pub(crate) const NUMBER_FORMAT: &str = "x-integra-number-format";
/// The custom keyword that holds `type: integer` to draft 00's integers.
pub(crate) const INTEGER: &str = "x-integra-integer";
/// The custom keyword that runs a `pattern` on the regex crate.
pub(crate) const PATTERN: &str = "x-integra-pattern";
/// Where the translated document keeps the schemas that references name inside a component,
/// by number.
pub(crate) const SUBSCHEMAS: &str = "x-integra-subschemas";
const NUMBER_FORMATS: &[&str] = &["int32", "int64", "float", "double"];

/// A component translated for validation.
pub(crate) struct Translation {
    /// The draft 7 document.
    pub(crate) root: Value,
    /// Where in the OpenAPI document each schema under [`SUBSCHEMAS`] stands, by number.
    pub(crate) subschemas: Vec<String>,
    /// Each `pattern` the crate compiles rewritten, and the pattern as written.
    pub(crate) patterns: HashMap<String, String>,
}

/// The draft 7 document that validates instances of `component` travelling `direction`
/// (None: neither readOnly nor writeOnly is enforced).
pub(crate) fn translate(
    doc: &Document,
    component: &str,
    direction: Option<Direction>,
) -> Translation {
    let bases: BTreeSet<&String> = doc
        .components()
        .iter()
        .filter(|name| doc.component(name).is_some_and(is_discriminating_base))
        .collect();
    let inside = references_inside_components(doc);
    let t = Translator {
        doc,
        direction,
        bases: &bases,
        subschemas: inside
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), i))
            .collect(),
        patterns: RefCell::default(),
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
    let mut subschemas = Map::new();
    for (i, pointer) in inside.iter().enumerate() {
        if let Some(s) = doc.root().pointer(pointer).and_then(Value::as_object) {
            subschemas.insert(i.to_string(), t.schema(s));
        }
    }
    let patterns = t.patterns.into_inner();
    Translation {
        root: json!({
            "$ref": reference(component),
            "components": {"schemas": schemas},
            SUBSCHEMAS: subschemas,
        }),
        subschemas: inside,
        patterns,
    }
}

/// The schemas inside components that references (and discriminator mappings) name, by
/// pointer.
fn references_inside_components(doc: &Document) -> Vec<String> {
    let mut inside = BTreeSet::new();
    for (_, s) in schema_positions(doc) {
        let mapped = s
            .get("discriminator")
            .and_then(Value::as_object)
            .map(mapping)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, r)| r);
        let referenced = s.get("$ref").and_then(Value::as_str).map(str::to_owned);
        for r in referenced.into_iter().chain(mapped) {
            if let Some(pointer) = local_pointer(doc.root(), &r)
                && component_name(&pointer).is_none()
            {
                inside.insert(pointer);
            }
        }
    }
    inside.into_iter().collect()
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
    /// The number of each schema inside a component that a reference names.
    subschemas: BTreeMap<&'d str, usize>,
    patterns: RefCell<HashMap<String, String>>,
}

impl Translator<'_> {
    fn schema(&self, s: &Map<String, Value>) -> Value {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            // OpenAPI 3.0 ignores every sibling of `$ref`, `nullable` included.
            return json!({"$ref": self.target(r)});
        }
        let mut out = Map::new();
        let mut forbidden = BTreeSet::new();
        for (key, v) in s {
            match key.as_str() {
                "type" | "enum" | "multipleOf" | "maxLength" | "minLength" | "maxItems"
                | "minItems" | "uniqueItems" | "maxProperties" | "minProperties" => {
                    out.insert(key.clone(), v.clone());
                }
                "pattern" => {
                    let written = v.as_str().unwrap_or_default();
                    match pattern::engine(written) {
                        Engine::AsWritten => {
                            out.insert(key.clone(), v.clone());
                        }
                        Engine::Rewritten(rewritten) => {
                            self.patterns
                                .borrow_mut()
                                .insert(rewritten.clone(), written.to_owned());
                            out.insert(key.clone(), Value::String(rewritten));
                        }
                        Engine::Linear(regex) => {
                            out.insert(PATTERN.into(), json!({"regex": regex, "pattern": written}));
                        }
                    }
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
                    .filter_map(|r| local_pointer(self.doc.root(), r))
                    .filter_map(|pointer| component_name(&pointer).map(str::to_owned))
                    .map(|name| {
                        let r = reference(&name);
                        (name, r)
                    })
                    .collect();
                self.add_dispatch(&mut out, d, implicit);
            }
        }
        let t = s.get("type").and_then(Value::as_str);
        if t == Some("integer") {
            out.insert(INTEGER.into(), Value::Bool(true));
        }
        if let Some(t) = t
            && s.get("nullable") == Some(&Value::Bool(true))
        {
            out.insert("type".into(), json!([t, "null"]));
        }
        Value::Object(out)
    }

    /// Where the translated document holds the schema reference `r` names: a component keeps
    /// its place, a schema inside one is under [`SUBSCHEMAS`].
    fn target(&self, r: &str) -> String {
        match local_pointer(self.doc.root(), r) {
            Some(pointer) => match self.subschemas.get(pointer.as_str()) {
                Some(i) => format!("#/{SUBSCHEMAS}/{i}"),
                None => format!("#{pointer}"),
            },
            None => r.to_owned(),
        }
    }

    /// A nested schema; inside `allOf`, a reference to a discriminating base means the base
    /// itself, without its dispatch (the schema at hand is one of its extensions).
    fn sub(&self, v: &Value, in_all_of: bool) -> Value {
        let Some(s) = v.as_object() else {
            return v.clone();
        };
        if in_all_of
            && let Some(pointer) = s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| local_pointer(self.doc.root(), r))
            && let Some(name) = component_name(&pointer)
            && self.bases.iter().any(|b| b.as_str() == name)
        {
            return json!({"$ref": reference(&base_name(name))});
        }
        self.schema(s)
    }

    /// Why a property must not appear in this direction, if it must not.
    fn forbidden_as(&self, p: &Value) -> Option<&'static str> {
        let flag = |key: &str| {
            p.get(key) == Some(&Value::Bool(true))
                || p.get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| local_pointer(self.doc.root(), r))
                    .and_then(|pointer| self.doc.root().pointer(&pointer))
                    .is_some_and(|target| target.get(key) == Some(&Value::Bool(true)))
        };
        match self.direction {
            Some(Direction::Incoming) if flag("readOnly") => Some("read-only"),
            Some(Direction::Outgoing) if flag("writeOnly") => Some("write-only"),
            _ => None,
        }
    }

    /// A discriminating base: its own constraints, then dispatch to the schema the
    /// discriminator's value names (the schemas extending it, or its mapping).
    fn base_dispatch(&self, name: &str, s: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        out.insert(
            "allOf".into(),
            json!([{"$ref": reference(&base_name(name))}]),
        );
        let d = s
            .get("discriminator")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let implicit = extensions_of(self.doc, name).into_iter().collect();
        self.add_dispatch(&mut out, &d, implicit);
        Value::Object(out)
    }

    /// Adds the discriminator's dispatch to `out`: the property is required and holds a value
    /// that names a schema, and each value applies its schema. The values are the mapping's
    /// keys, then the `implicit` names (schema names, with their references) that the
    /// mapping does not take.
    fn add_dispatch(
        &self,
        out: &mut Map<String, Value>,
        d: &Map<String, Value>,
        implicit: Vec<(String, String)>,
    ) {
        let Some(property) = d.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let mut targets: Vec<(String, String)> = mapping(d)
            .into_iter()
            .map(|(value, r)| (value, self.target(&r)))
            .collect();
        for (value, target) in implicit {
            if !targets.iter().any(|(taken, _)| *taken == value) {
                targets.push((value, target));
            }
        }
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

    /// Issue 15: `nullable` extends the `type` beside it and nothing else.
    #[test]
    fn nullable_extends_the_type_beside_it_only() {
        let d = doc(json!({
            "S": {"type": "string", "nullable": true},
            "E": {"type": "string", "enum": ["a"], "nullable": true},
            "R": {"$ref": "#/components/schemas/S", "nullable": true},
            "A": {"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true},
            "I": {"type": "integer", "nullable": true}
        }));
        let t = translate(&d, "S", None).root;
        let s = &t["components"]["schemas"];
        assert_eq!(s["S"], json!({"type": ["string", "null"]}));
        assert_eq!(s["E"], json!({"type": ["string", "null"], "enum": ["a"]}));
        assert_eq!(s["R"], json!({"$ref": "#/components/schemas/S"}));
        assert_eq!(
            s["A"],
            json!({"allOf": [{"$ref": "#/components/schemas/S"}]})
        );
        assert_eq!(s["I"], json!({"type": ["integer", "null"], INTEGER: true}));
        assert_eq!(t["$ref"], "#/components/schemas/S");
    }

    /// Issue 15: a reference inside a component is translated on its own.
    #[test]
    fn references_inside_components_have_their_own_translation() {
        let d = doc(json!({
            "O": {"type": "object", "properties": {"id": {"type": "string", "readOnly": true}}},
            "R": {"$ref": "#/components/schemas/O/properties/id"}
        }));
        let t = translate(&d, "R", Some(Direction::Incoming));
        assert_eq!(t.subschemas, ["/components/schemas/O/properties/id"]);
        let root = &t.root;
        assert_eq!(
            root["components"]["schemas"]["R"],
            json!({"$ref": format!("#/{SUBSCHEMAS}/0")})
        );
        assert_eq!(root[SUBSCHEMAS]["0"], json!({"type": "string"}));
        assert_eq!(
            root["components"]["schemas"]["O"]["properties"]["id"],
            json!({FORBIDDEN: "read-only"})
        );
    }

    #[test]
    fn read_only_and_write_only_depend_on_direction() {
        let d = doc(
            json!({"O": {"type": "object", "required": ["id", "pwd", "n"], "properties": {
            "id": {"type": "string", "readOnly": true},
            "pwd": {"type": "string", "writeOnly": true},
            "n": {"type": "integer", "format": "int32", "minimum": 0, "exclusiveMinimum": true}}}}),
        );
        let incoming = translate(&d, "O", Some(Direction::Incoming)).root;
        let o = &incoming["components"]["schemas"]["O"];
        assert_eq!(o["properties"]["id"], json!({FORBIDDEN: "read-only"}));
        assert_eq!(o["required"], json!(["pwd", "n"]));
        assert_eq!(
            o["properties"]["n"],
            json!({"type": "integer", NUMBER_FORMAT: "int32", "exclusiveMinimum": 0, INTEGER: true})
        );
        let outgoing = translate(&d, "O", Some(Direction::Outgoing)).root;
        assert_eq!(
            outgoing["components"]["schemas"]["O"]["properties"]["pwd"],
            json!({FORBIDDEN: "write-only"})
        );
        let neither = translate(&d, "O", None).root;
        assert_eq!(
            neither["components"]["schemas"]["O"]["required"],
            json!(["id", "pwd", "n"])
        );
    }
}
