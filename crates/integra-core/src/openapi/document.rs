//! Loading an OpenAPI 3.0 document: parsing JSON or YAML, and checking its structure and
//! every Schema Object in it, so that a document Integra cannot validate against faithfully
//! is refused at load time with the JSON pointer of each problem, never silently accepted.
//! A problem quotes at most a bounded prefix of anything from the document
//! ([`crate::limits::quoted`]), in its message and in each segment of its pointer.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::cycles;
use super::pattern;
use crate::limits::quoted;

/// Most problems reported for one document.
const MAX_PROBLEMS: usize = 50;

/// Most component names an error lists.
const MAX_NAMES_SHOWN: usize = 10;

/// One problem in a document, at a JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentError {
    /// Where, as a JSON pointer (`/components/schemas/Order/properties/sum/minimum`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl DocumentError {
    /// A problem at `pointer`, each of whose segments is quoted ([`quoted`]).
    pub(crate) fn new(pointer: &str, message: impl Into<String>) -> DocumentError {
        DocumentError {
            pointer: shown_pointer(pointer),
            message: message.into(),
        }
    }
}

/// `pointer` with each segment quoted ([`quoted`]): a key of a million characters stays a
/// line long.
pub(crate) fn shown_pointer(pointer: &str) -> String {
    pointer.split('/').map(quoted).collect::<Vec<_>>().join("/")
}

/// A value from the document as a problem quotes it: its JSON, bounded ([`quoted`]).
fn shown(v: &impl ToString) -> String {
    quoted(&v.to_string()).into_owned()
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// A checked OpenAPI 3.0 document.
#[derive(Clone, Debug)]
pub struct Document {
    root: Value,
    components: BTreeSet<String>,
}

/// The Schema Object keywords of OpenAPI 3.0 that Integra understands.
const SCHEMA_KEYWORDS: &[&str] = &[
    "title",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "type",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "items",
    "properties",
    "additionalProperties",
    "description",
    "format",
    "default",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
    "$ref",
];

/// Keywords that may stand beside `$ref`. OpenAPI 3.0 ignores siblings of `$ref`; these carry
/// no constraint, so writing them is harmless (`nullable` beside `$ref` is ignored too, as 3.0
/// says; `readOnly` and `writeOnly` still mark the property in the direction they forbid).
const REF_SIBLINGS: &[&str] = &[
    "$ref",
    "description",
    "title",
    "example",
    "deprecated",
    "nullable",
    "readOnly",
    "writeOnly",
    "default",
    "externalDocs",
    "xml",
];

const TYPES: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];
const OPERATIONS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Document {
    /// Parses JSON or YAML text and checks it.
    ///
    /// # Errors
    /// Every problem found (at most 50), each with its JSON pointer.
    pub fn parse(text: &str) -> Result<Document, Vec<DocumentError>> {
        Document::from_value(parse_text(text).map_err(|e| vec![e])?)
    }

    /// Checks an already parsed document.
    ///
    /// # Errors
    /// Every problem found (at most 50), each with its JSON pointer.
    pub fn from_value(root: Value) -> Result<Document, Vec<DocumentError>> {
        let mut c = Checker {
            root: &root,
            errors: Vec::new(),
        };
        c.document();
        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        let components = root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let doc = Document { root, components };
        let cycles = cycles::check(&doc, MAX_PROBLEMS);
        if !cycles.is_empty() {
            return Err(cycles);
        }
        Ok(doc)
    }

    /// The document.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The names under `components/schemas`.
    pub fn components(&self) -> &BTreeSet<String> {
        &self.components
    }

    /// The component `name`, as written.
    pub fn component(&self, name: &str) -> Option<&Map<String, Value>> {
        self.root
            .pointer("/components/schemas")
            .and_then(|s| s.get(name))
            .and_then(Value::as_object)
    }

    /// Why `component` cannot be asked for, quoting it and naming the first few components
    /// there are: `has no component 'Ordr' (it has: Order)`.
    pub(crate) fn no_such_component(&self, component: &str) -> String {
        let mut known: Vec<Cow<'_, str>> = self
            .components
            .iter()
            .take(MAX_NAMES_SHOWN)
            .map(|name| quoted(name))
            .collect();
        if self.components.len() > MAX_NAMES_SHOWN {
            known.push(format!("and {} more", self.components.len() - MAX_NAMES_SHOWN).into());
        }
        format!(
            "has no component '{}' (it has: {})",
            quoted(component),
            known.join(", ")
        )
    }
}

/// JSON or YAML text to a value (YAML keys such as unquoted `200:` become strings).
fn parse_text(text: &str) -> Result<Value, DocumentError> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(DocumentError {
            pointer: String::new(),
            message: "the document is empty".into(),
        });
    }
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| DocumentError {
            pointer: String::new(),
            message: format!("not valid JSON: {}", crate::limits::json_error_reason(&e)),
        });
    }
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| DocumentError {
        pointer: String::new(),
        message: format!("not valid JSON or YAML: {}", quoted(&e.to_string())),
    })?;
    yaml_to_json(yaml, "")
}

fn yaml_to_json(v: serde_norway::Value, pointer: &str) -> Result<Value, DocumentError> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| DocumentError {
                        pointer: pointer.to_owned(),
                        message: format!("{f} is not a number JSON can hold"),
                    })?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &format!("{pointer}/{i}")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, item) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(DocumentError {
                            pointer: pointer.to_owned(),
                            message: format!(
                                "a mapping key must be a string, got {}",
                                quoted(&format!("{other:?}"))
                            ),
                        });
                    }
                };
                let value = yaml_to_json(item, &format!("{pointer}/{}", escape(&key)))?;
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            return Err(DocumentError {
                pointer: pointer.to_owned(),
                message: format!("YAML tags are not supported ({})", shown(&t.tag)),
            });
        }
    })
}

/// Escapes a key for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Checker<'d> {
    root: &'d Value,
    errors: Vec<DocumentError>,
}

impl Checker<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        if self.errors.len() < MAX_PROBLEMS {
            self.errors.push(DocumentError::new(pointer, message));
        }
    }

    fn document(&mut self) {
        let Some(root) = self.root.as_object() else {
            self.error("", "an OpenAPI document is a JSON object");
            return;
        };
        match root.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.0.") => {}
            Some(v) if v.starts_with("3.1") => {
                self.error(
                    "/openapi",
                    format!(
                        "OpenAPI {} is not supported: Integra reads OpenAPI 3.0.x",
                        quoted(v)
                    ),
                );
            }
            Some(v) => self.error(
                "/openapi",
                format!("'{}' is not an OpenAPI 3.0.x version", quoted(v)),
            ),
            None if root.contains_key("swagger") => self.error(
                "/swagger",
                "this is a Swagger 2.0 document; Integra reads OpenAPI 3.0.x (convert it first)",
            ),
            None => self.error(
                "/openapi",
                "is required: the OpenAPI version, e.g. \"3.0.3\"",
            ),
        }
        match root.get("info") {
            Some(Value::Object(info)) => {
                for field in ["title", "version"] {
                    if !info.get(field).is_some_and(Value::is_string) {
                        self.error(
                            &format!("/info/{field}"),
                            "is required and must be a string",
                        );
                    }
                }
            }
            _ => self.error("/info", "is required: an object with title and version"),
        }
        match root.get("paths") {
            Some(Value::Object(paths)) => {
                for (path, item) in paths {
                    let at = format!("/paths/{}", escape(path));
                    if !path.starts_with('/') && !path.starts_with("x-") {
                        self.error(&at, "a path must start with '/'");
                    }
                    self.path_item(&at, item);
                }
            }
            _ => self.error("/paths", "is required: an object (it may be empty)"),
        }
        if let Some(components) = root.get("components") {
            let Some(components) = components.as_object() else {
                self.error("/components", "must be an object");
                return;
            };
            if let Some(schemas) = components.get("schemas") {
                let Some(schemas) = schemas.as_object() else {
                    self.error("/components/schemas", "must be an object");
                    return;
                };
                for (name, schema) in schemas {
                    let at = format!("/components/schemas/{}", escape(name));
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                    {
                        self.error(
                            &at,
                            "a component name may hold only letters, digits, '.', '-' and '_'",
                        );
                    }
                    self.schema(&at, schema);
                }
            }
            for (section, key) in [("parameters", "schema"), ("headers", "schema")] {
                if let Some(Value::Object(items)) = components.get(section) {
                    for (name, item) in items {
                        if let Some(schema) = item.get(key) {
                            self.schema(
                                &format!("/components/{section}/{}/{key}", escape(name)),
                                schema,
                            );
                        }
                    }
                }
            }
            for section in ["requestBodies", "responses"] {
                if let Some(Value::Object(items)) = components.get(section) {
                    for (name, item) in items {
                        self.content(&format!("/components/{section}/{}", escape(name)), item);
                    }
                }
            }
        }
    }

    fn path_item(&mut self, at: &str, item: &Value) {
        let Some(item) = item.as_object() else {
            self.error(at, "a path item must be an object");
            return;
        };
        self.parameters(at, item.get("parameters"));
        for op in OPERATIONS {
            let Some(operation) = item.get(*op) else {
                continue;
            };
            let at = format!("{at}/{op}");
            let Some(operation) = operation.as_object() else {
                self.error(&at, "an operation must be an object");
                continue;
            };
            self.parameters(&at, operation.get("parameters"));
            if let Some(body) = operation.get("requestBody") {
                self.content(&format!("{at}/requestBody"), body);
            }
            if let Some(responses) = operation.get("responses") {
                match responses.as_object() {
                    Some(responses) => {
                        for (code, response) in responses {
                            self.content(&format!("{at}/responses/{}", escape(code)), response);
                        }
                    }
                    None => self.error(&format!("{at}/responses"), "must be an object"),
                }
            }
        }
    }

    fn parameters(&mut self, at: &str, parameters: Option<&Value>) {
        let Some(parameters) = parameters else { return };
        let Some(parameters) = parameters.as_array() else {
            self.error(&format!("{at}/parameters"), "must be an array");
            return;
        };
        for (i, p) in parameters.iter().enumerate() {
            if let Some(schema) = p.get("schema") {
                self.schema(&format!("{at}/parameters/{i}/schema"), schema);
            }
        }
    }

    /// A request body or response: the schemas of its media types.
    fn content(&mut self, at: &str, holder: &Value) {
        if holder.get("$ref").is_some() {
            return;
        }
        let Some(content) = holder.get("content") else {
            return;
        };
        let Some(content) = content.as_object() else {
            self.error(&format!("{at}/content"), "must be an object");
            return;
        };
        for (media_type, media) in content {
            if let Some(schema) = media.get("schema") {
                self.schema(
                    &format!("{at}/content/{}/schema", escape(media_type)),
                    schema,
                );
            }
        }
    }

    fn schema(&mut self, at: &str, schema: &Value) {
        let Some(s) = schema.as_object() else {
            self.error(
                at,
                "a Schema Object must be an object (boolean schemas are OpenAPI 3.1)",
            );
            return;
        };
        for key in s.keys() {
            if !SCHEMA_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                let hint = match key.as_str() {
                    "const"
                    | "if"
                    | "then"
                    | "else"
                    | "$defs"
                    | "prefixItems"
                    | "contains"
                    | "patternProperties"
                    | "dependentRequired"
                    | "unevaluatedProperties"
                    | "examples"
                    | "$schema"
                    | "$id"
                    | "propertyNames"
                    | "dependencies" => " (a JSON Schema keyword that OpenAPI 3.0 does not have)",
                    _ => "",
                };
                self.error(
                    &format!("{at}/{}", escape(key)),
                    format!(
                        "'{}' is not a Schema Object keyword of OpenAPI 3.0{hint}",
                        quoted(key)
                    ),
                );
            }
        }
        if let Some(reference) = s.get("$ref") {
            self.reference(at, reference);
            for key in s.keys() {
                if !REF_SIBLINGS.contains(&key.as_str()) && !key.starts_with("x-") {
                    self.error(
                        &format!("{at}/{}", escape(key)),
                        format!(
                            "'{key}' beside $ref is ignored by OpenAPI 3.0; put the $ref and '{key}' under allOf",
                            key = quoted(key)
                        ),
                    );
                }
            }
        }
        self.keyword_values(at, s);
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(list) = s.get(key) {
                match list.as_array() {
                    Some(items) if !items.is_empty() => {
                        for (i, item) in items.iter().enumerate() {
                            self.schema(&format!("{at}/{key}/{i}"), item);
                        }
                    }
                    _ => self.error(
                        &format!("{at}/{key}"),
                        "must be a non-empty array of schemas",
                    ),
                }
            }
        }
        if let Some(not) = s.get("not") {
            self.schema(&format!("{at}/not"), not);
        }
        match s.get("items") {
            Some(Value::Array(_)) => self.error(
                &format!("{at}/items"),
                "must be one schema (tuple items are not OpenAPI 3.0)",
            ),
            Some(items) => self.schema(&format!("{at}/items"), items),
            None if s.get("type").and_then(Value::as_str) == Some("array") => {
                self.error(at, "an array schema must have 'items' in OpenAPI 3.0");
            }
            None => {}
        }
        if let Some(props) = s.get("properties") {
            match props.as_object() {
                Some(props) => {
                    for (name, p) in props {
                        self.schema(&format!("{at}/properties/{}", escape(name)), p);
                    }
                }
                None => self.error(&format!("{at}/properties"), "must be an object of schemas"),
            }
        }
        match s.get("additionalProperties") {
            None | Some(Value::Bool(_)) => {}
            Some(ap) => self.schema(&format!("{at}/additionalProperties"), ap),
        }
        if let Some(d) = s.get("discriminator") {
            self.discriminator(&format!("{at}/discriminator"), d, s);
        }
    }

    /// The value of each constraint keyword has the type OpenAPI 3.0 gives it.
    fn keyword_values(&mut self, at: &str, s: &Map<String, Value>) {
        let at_key = |k: &str| format!("{at}/{k}");
        match s.get("type") {
            None => {}
            Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
            Some(Value::Array(_)) => self.error(
                &at_key("type"),
                "OpenAPI 3.0 allows one type; for null use nullable: true, for several use oneOf",
            ),
            Some(t) => self.error(
                &at_key("type"),
                format!("{} is not one of {}", shown(t), TYPES.join(", ")),
            ),
        }
        for k in [
            "maxLength",
            "minLength",
            "maxItems",
            "minItems",
            "maxProperties",
            "minProperties",
        ] {
            if let Some(v) = s.get(k)
                && v.as_u64().is_none()
            {
                self.error(
                    &at_key(k),
                    format!("must be a non-negative integer, got {}", shown(v)),
                );
            }
        }
        for k in ["maximum", "minimum"] {
            if let Some(v) = s.get(k)
                && !v.is_number()
            {
                self.error(&at_key(k), format!("must be a number, got {}", shown(v)));
            }
        }
        if let Some(v) = s.get("multipleOf")
            && !v.as_f64().is_some_and(|m| m > 0.0)
        {
            self.error(
                &at_key("multipleOf"),
                format!("must be a number greater than 0, got {}", shown(v)),
            );
        }
        for (k, bound) in [
            ("exclusiveMaximum", "maximum"),
            ("exclusiveMinimum", "minimum"),
        ] {
            match s.get(k) {
                None | Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) if s.contains_key(bound) => {}
                Some(Value::Bool(true)) => self.error(&at_key(k), format!("true needs '{bound}' beside it")),
                Some(Value::Number(_)) => self.error(
                    &at_key(k),
                    format!("is a boolean in OpenAPI 3.0 (a number here is OpenAPI 3.1); write {bound} and {k}: true"),
                ),
                Some(v) => self.error(&at_key(k), format!("must be a boolean, got {}", shown(v))),
            }
        }
        for k in [
            "uniqueItems",
            "nullable",
            "readOnly",
            "writeOnly",
            "deprecated",
        ] {
            if let Some(v) = s.get(k)
                && !v.is_boolean()
            {
                self.error(&at_key(k), format!("must be a boolean, got {}", shown(v)));
            }
        }
        if s.get("readOnly") == Some(&Value::Bool(true))
            && s.get("writeOnly") == Some(&Value::Bool(true))
        {
            self.error(at, "a schema cannot be both readOnly and writeOnly");
        }
        for k in ["title", "description", "format"] {
            if let Some(v) = s.get(k)
                && !v.is_string()
            {
                self.error(&at_key(k), format!("must be a string, got {}", shown(v)));
            }
        }
        if let Some(v) = s.get("required") {
            let names: Option<Vec<&str>> = v
                .as_array()
                .and_then(|a| a.iter().map(Value::as_str).collect());
            match names {
                Some(names) => {
                    let unique: BTreeSet<&&str> = names.iter().collect();
                    if unique.len() != names.len() {
                        self.error(&at_key("required"), "lists a property twice");
                    }
                }
                None => self.error(&at_key("required"), "must be an array of property names"),
            }
        }
        if let Some(v) = s.get("enum")
            && v.as_array().is_none_or(|a| a.is_empty())
        {
            self.error(&at_key("enum"), "must be a non-empty array");
        }
        if let Some(p) = s.get("pattern") {
            match p.as_str() {
                Some(p) => {
                    if !pattern::is_usable(p) {
                        self.error(
                            &at_key("pattern"),
                            format!("'{}' is not a valid regular expression", quoted(p)),
                        );
                    }
                }
                None => self.error(&at_key("pattern"), "must be a string"),
            }
        }
    }

    fn reference(&mut self, at: &str, reference: &Value) {
        let at = format!("{at}/$ref");
        let Some(r) = reference.as_str() else {
            self.error(&at, "must be a string");
            return;
        };
        let Some(fragment) = r.strip_prefix('#') else {
            self.error(
                &at,
                format!(
                    "'{}' is a remote reference; Integra resolves only references inside the document (#/...)",
                    quoted(r)
                ),
            );
            return;
        };
        let pointer = local_pointer(self.root, r).unwrap_or_else(|| fragment.to_owned());
        if !names_a_schema(&pointer) {
            self.error(
                &at,
                format!(
                    "'{}' is not a reference to a schema; Integra resolves '#/components/schemas/<name>' and the schemas inside a component ('#/components/schemas/<name>/properties/<property>', '…/items' …)",
                    quoted(r)
                ),
            );
            return;
        }
        match self.root.pointer(&pointer) {
            Some(target) if target.is_object() => {}
            Some(_) => self.error(&at, format!("'{}' does not point to a schema", quoted(r))),
            None => self.error(
                &at,
                format!("'{}' points to nothing in this document", quoted(r)),
            ),
        }
    }

    fn discriminator(&mut self, at: &str, d: &Value, schema: &Map<String, Value>) {
        let Some(d) = d.as_object() else {
            self.error(at, "must be an object with propertyName");
            return;
        };
        if !d.get("propertyName").is_some_and(Value::is_string) {
            self.error(
                &format!("{at}/propertyName"),
                "is required and must be a string",
            );
        }
        if let Some(mapping) = d.get("mapping") {
            let Some(mapping) = mapping.as_object() else {
                self.error(
                    &format!("{at}/mapping"),
                    "must be an object of schema references",
                );
                return;
            };
            for (value, target) in mapping {
                let at = format!("{at}/mapping/{}", escape(value));
                let pointer = target
                    .as_str()
                    .map(|t| local_pointer(self.root, &format!("#{}", mapping_target(t))));
                match pointer {
                    Some(Some(pointer))
                        if names_a_schema(&pointer)
                            && self.root.pointer(&pointer).is_some_and(Value::is_object) => {}
                    Some(_) => self.error(
                        &at,
                        format!("{} names no schema in this document", shown(target)),
                    ),
                    None => self.error(&at, "must be a schema name or reference"),
                }
            }
        }
        let has_choice = schema.contains_key("oneOf") || schema.contains_key("anyOf");
        if !has_choice
            && !d.contains_key("mapping")
            && schema.get("properties").is_none()
            && schema.get("allOf").is_none()
        {
            self.error(at, "a discriminator needs oneOf or anyOf beside it, a mapping, or schemas that extend this one with allOf");
        }
        if has_choice {
            for key in ["oneOf", "anyOf"] {
                for (i, item) in schema
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if item.get("$ref").is_none() && !d.contains_key("mapping") {
                        self.error(
                            &format!("{}/{key}/{i}", at.trim_end_matches("/discriminator")),
                            "with a discriminator and no mapping, each alternative must be a $ref (its name is its value)",
                        );
                    }
                }
            }
        }
    }
}

/// Whether `pointer` is where a Schema Object stands under `components/schemas`: a component,
/// or a schema inside one (`…/properties/<name>`, `…/items`, `…/allOf/<i>` …).
fn names_a_schema(pointer: &str) -> bool {
    let Some(rest) = pointer.strip_prefix("/components/schemas/") else {
        return false;
    };
    let mut segments = rest.split('/');
    if segments.next().is_none_or(str::is_empty) {
        return false;
    }
    while let Some(segment) = segments.next() {
        let fits = match segment {
            "items" | "not" | "additionalProperties" => true,
            "properties" => segments.next().is_some(),
            "allOf" | "oneOf" | "anyOf" => {
                segments.next().is_some_and(|i| i.parse::<usize>().is_ok())
            }
            _ => false,
        };
        if !fits {
            return false;
        }
    }
    true
}

/// The name of the component `pointer` is, if it is one (`/components/schemas/<name>`).
pub(crate) fn component_name(pointer: &str) -> Option<&str> {
    pointer
        .strip_prefix("/components/schemas/")
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// The JSON pointer a local reference (`#/…`) names in `root`: as written or, failing that,
/// percent-decoded (a reference is a URI, whose fragment may be); None when the reference is
/// not local or names nothing.
pub(crate) fn local_pointer(root: &Value, reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    if root.pointer(fragment).is_some() {
        return Some(fragment.to_owned());
    }
    let decoded = percent_encoding::percent_decode_str(fragment)
        .decode_utf8()
        .ok()?
        .into_owned();
    root.pointer(&decoded).is_some().then_some(decoded)
}

/// Whether `s` is a discriminating base: a discriminator without `oneOf` / `anyOf` beside it,
/// which the schemas extending it with `allOf` are the alternatives of.
pub(crate) fn is_discriminating_base(s: &Map<String, Value>) -> bool {
    s.contains_key("discriminator") && !s.contains_key("oneOf") && !s.contains_key("anyOf")
}

/// The Schema Objects directly inside `s`: each one's path from `s` (`properties/a`, `items`,
/// `allOf/0` …), the schema, and whether it applies to the same value as `s` (`allOf`,
/// `oneOf`, `anyOf`, `not`) rather than to a part of it.
pub(crate) fn children(s: &Map<String, Value>) -> Vec<(String, &Map<String, Value>, bool)> {
    let mut out = Vec::new();
    for key in ["allOf", "oneOf", "anyOf"] {
        for (i, item) in s
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(item) = item.as_object() {
                out.push((format!("{key}/{i}"), item, true));
            }
        }
    }
    if let Some(not) = s.get("not").and_then(Value::as_object) {
        out.push(("not".to_owned(), not, true));
    }
    for key in ["items", "additionalProperties"] {
        if let Some(item) = s.get(key).and_then(Value::as_object) {
            out.push((key.to_owned(), item, false));
        }
    }
    for (name, p) in s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(p) = p.as_object() {
            out.push((format!("properties/{}", escape(name)), p, false));
        }
    }
    out
}

/// Every Schema Object under `components/schemas`, each with its pointer, components in order.
pub(crate) fn schema_positions(doc: &Document) -> Vec<(String, &Map<String, Value>)> {
    let mut out = Vec::new();
    let mut pending: Vec<(String, &Map<String, Value>)> = doc
        .components()
        .iter()
        .rev()
        .filter_map(|name| {
            doc.component(name)
                .map(|s| (format!("/components/schemas/{}", escape(name)), s))
        })
        .collect();
    while let Some((pointer, s)) = pending.pop() {
        for (path, child, _) in children(s) {
            pending.push((format!("{pointer}/{path}"), child));
        }
        out.push((pointer, s));
    }
    out
}

/// The entries of a discriminator's mapping: each value, and the local reference (`#/…`) of
/// the schema it names.
pub(crate) fn mapping(discriminator: &Map<String, Value>) -> Vec<(String, String)> {
    discriminator
        .get("mapping")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(value, target)| {
            let target = target.as_str()?;
            Some((value.clone(), format!("#{}", mapping_target(target))))
        })
        .collect()
}

/// The JSON pointer a discriminator mapping value names: a reference, or a bare schema name.
pub(crate) fn mapping_target(target: &str) -> String {
    match target.strip_prefix('#') {
        Some(pointer) => pointer.to_owned(),
        None => format!("/components/schemas/{}", escape(target)),
    }
}

/// The schemas that extend `base` with `allOf: [{$ref: base}, …]`, by name.
pub(crate) fn extensions_of(doc: &Document, base: &str) -> BTreeMap<String, String> {
    let reference = format!("#/components/schemas/{}", escape(base));
    let mut out = BTreeMap::new();
    for name in doc.components() {
        let extends = doc
            .component(name)
            .and_then(|s| s.get("allOf"))
            .and_then(Value::as_array)
            .is_some_and(|all| {
                all.iter()
                    .any(|s| s.get("$ref").and_then(Value::as_str) == Some(&reference))
            });
        if extends {
            out.insert(
                name.clone(),
                format!("#/components/schemas/{}", escape(name)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(doc: &str) -> Vec<String> {
        match Document::parse(doc) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn yaml_and_json_parse_alike() {
        let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /orders:\n    post:\n      responses:\n        200: {description: ok}\ncomponents:\n  schemas:\n    Order: {type: object, properties: {n: {type: integer}}}\n";
        let d = Document::parse(yaml).unwrap();
        assert!(
            d.root()
                .pointer("/paths/~1orders/post/responses/200")
                .is_some()
        );
        assert_eq!(d.components().iter().collect::<Vec<_>>(), ["Order"]);
    }

    #[test]
    fn documents_that_are_not_openapi_3_0_are_refused() {
        assert_eq!(problems(""), ["/: the document is empty"]);
        assert_eq!(problems("[1]"), ["/: an OpenAPI document is a JSON object"]);
        let p = problems(r##"{"swagger": "2.0"}"##);
        assert!(
            p[0].starts_with("/swagger: this is a Swagger 2.0 document"),
            "{p:?}"
        );
        let p = problems(
            r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"##,
        );
        assert_eq!(
            p,
            ["/openapi: OpenAPI 3.1.0 is not supported: Integra reads OpenAPI 3.0.x"]
        );
        let p = problems(r##"{"openapi": "3.0.0", "info": {"title": 5}}"##);
        assert_eq!(
            p,
            [
                "/info/title: is required and must be a string",
                "/info/version: is required and must be a string",
                "/paths: is required: an object (it may be empty)"
            ]
        );
    }

    fn with_schemas(schemas: &str) -> String {
        format!(
            r##"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}}, "paths": {{}}, "components": {{"schemas": {schemas}}}}}"##
        )
    }

    #[test]
    fn unsupported_keywords_and_bad_values_are_named_by_pointer() {
        let p = problems(&with_schemas(
            r##"{"A": {"type": ["string", "null"], "const": 1, "minLength": -1,
                      "exclusiveMinimum": 5, "pattern": "(", "required": ["x", "x"]},
                "B": {"type": "array"},
                "C": {"$ref": "#/components/schemas/Missing"},
                "D": {"$ref": "other.yaml#/X"},
                "E": {"$ref": "#/components/schemas/A", "maxLength": 3},
                "F": {"items": [{"type": "string"}]}}"##,
        ));
        let expected = [
            "/components/schemas/A/const: 'const' is not a Schema Object keyword of OpenAPI 3.0 (a JSON Schema keyword that OpenAPI 3.0 does not have)",
            "/components/schemas/A/type: OpenAPI 3.0 allows one type; for null use nullable: true, for several use oneOf",
            "/components/schemas/A/minLength: must be a non-negative integer, got -1",
            "/components/schemas/A/exclusiveMinimum: is a boolean in OpenAPI 3.0 (a number here is OpenAPI 3.1); write minimum and exclusiveMinimum: true",
            "/components/schemas/A/required: lists a property twice",
            "/components/schemas/A/pattern: '(' is not a valid regular expression",
            "/components/schemas/B: an array schema must have 'items' in OpenAPI 3.0",
            "/components/schemas/C/$ref: '#/components/schemas/Missing' points to nothing in this document",
            "/components/schemas/D/$ref: 'other.yaml#/X' is a remote reference; Integra resolves only references inside the document (#/...)",
            "/components/schemas/E/maxLength: 'maxLength' beside $ref is ignored by OpenAPI 3.0; put the $ref and 'maxLength' under allOf",
            "/components/schemas/F/items: must be one schema (tuple items are not OpenAPI 3.0)",
        ];
        assert_eq!(p, expected);
    }

    /// Issue 15: a reference to a schema inside a component is valid (written as a JSON
    /// pointer or percent-encoded, as URI fragments may be); one to a part of a component that
    /// is not a schema, or to anything outside the components, is not.
    #[test]
    fn references_may_name_schemas_inside_components() {
        let p = problems(&with_schemas(
            r##"{"O": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "c d": {"type": "string"}}},
                "A": {"$ref": "#/components/schemas/O/properties/a"},
                "B": {"$ref": "#/components/schemas/O/properties"},
                "C": {"$ref": "#/components/schemas/O/required"},
                "D": {"$ref": "#/components/schemas/O/properties/b"},
                "E": {"$ref": "#/paths"},
                "P": {"$ref": "#/components/schemas/O/properties/c%20d"}}"##,
        ));
        let not_a_schema = "is not a reference to a schema; Integra resolves '#/components/schemas/<name>' and the schemas inside a component ('#/components/schemas/<name>/properties/<property>', '…/items' …)";
        assert_eq!(
            p,
            [
                format!("/components/schemas/B/$ref: '#/components/schemas/O/properties' {not_a_schema}"),
                format!("/components/schemas/C/$ref: '#/components/schemas/O/required' {not_a_schema}"),
                "/components/schemas/D/$ref: '#/components/schemas/O/properties/b' points to nothing in this document".to_owned(),
                format!("/components/schemas/E/$ref: '#/paths' {not_a_schema}"),
            ]
        );
    }

    /// Issue 15, item 19: a problem quotes at most a bounded prefix of the document's keys and
    /// values.
    #[test]
    fn problems_quote_bounded_prefixes() {
        let key = "k".repeat(100_000);
        let value = "v".repeat(100_000);
        let p = problems(&with_schemas(&format!(
            r##"{{"A": {{"properties": {{"{key}": {{"type": "{value}", "{key}": 1}}}}}}}}"##
        )));
        assert_eq!(p.len(), 2, "{p:?}");
        for problem in &p {
            assert!(problem.len() < 1_000, "{}", problem.len());
            assert!(problem.contains("… (100000 bytes in all)"), "{problem}");
        }
    }

    #[test]
    fn schemas_in_paths_are_checked_too() {
        let doc = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/orders/{id}": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "thing"}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {"if": {}}}}}}}}}}"##;
        let p = problems(doc);
        assert_eq!(
            p,
            [
                "/paths/~1orders~1{id}/post/requestBody/content/application~1json/schema/type: \"thing\" is not one of string, number, integer, boolean, array, object",
                "/paths/~1orders~1{id}/post/responses/200/content/application~1json/schema/if: 'if' is not a Schema Object keyword of OpenAPI 3.0 (a JSON Schema keyword that OpenAPI 3.0 does not have)",
            ]
        );
    }

    #[test]
    fn discriminators_must_be_resolvable() {
        let p = problems(&with_schemas(
            r##"{"Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"type": "object"}],
                        "discriminator": {"propertyName": "kind"}},
                "Cat": {"type": "object"},
                "Pet2": {"oneOf": [{"$ref": "#/components/schemas/Cat"}],
                         "discriminator": {"propertyName": "kind", "mapping": {"cat": "Cat", "dog": "Dog"}}}}"##,
        ));
        assert_eq!(
            p,
            [
                "/components/schemas/Pet/oneOf/1: with a discriminator and no mapping, each alternative must be a $ref (its name is its value)",
                "/components/schemas/Pet2/discriminator/mapping/dog: \"Dog\" names no schema in this document",
            ]
        );
    }
}
