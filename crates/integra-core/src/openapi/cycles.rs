//! Reference cycles that never reach into the value (`A → B → A`, `A: {allOf: [A]}`): a
//! validator following one would apply the same schemas to the same value forever, so no value
//! could be validated against them, and a document holding one is refused when loaded. A cycle
//! that passes through `properties`, `items` or `additionalProperties` (a tree whose nodes hold
//! nodes) reaches one level deeper into the value at each turn, ends with the data, and stays
//! valid.
//!
//! The graph is the translation's ([`super::translate`]): from each schema, an edge to every
//! schema it applies to the same value. That is its `$ref` alone (3.0 ignores the siblings of
//! `$ref`), or its `allOf`, `oneOf` and `anyOf` items, its `not`, and the schemas its
//! discriminator dispatches to. A discriminating base dispatches to the schemas extending it,
//! whose `allOf` reference to it means the base without its dispatch: that is no cycle.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::document::{
    Document, DocumentError, children, component_name, extensions_of, is_discriminating_base,
    local_pointer, mapping, schema_positions, shown_pointer,
};

/// Most schemas of a cycle an error names.
const MAX_STEPS_SHOWN: usize = 10;

/// A schema: its pointer, and whether it is a discriminating base without its dispatch.
type Node = (String, bool);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// On the path being followed.
    OnPath,
    /// Every schema it leads to was followed.
    Done,
}

/// The cycles in `doc` (at most `max`), each reported where it was entered.
pub(crate) fn check(doc: &Document, max: usize) -> Vec<DocumentError> {
    let mut search = Search {
        doc,
        seen: HashMap::new(),
        reported: HashSet::new(),
        errors: Vec::new(),
        max,
    };
    for (pointer, _) in schema_positions(doc) {
        search.follow((pointer, false));
    }
    search.errors
}

struct Search<'d> {
    doc: &'d Document,
    seen: HashMap<Node, Seen>,
    reported: HashSet<String>,
    errors: Vec<DocumentError>,
    max: usize,
}

impl Search<'_> {
    /// Follows every edge from `start` depth first, without recursion (a chain of references
    /// may be as long as the document).
    fn follow(&mut self, start: Node) {
        if self.seen.contains_key(&start) {
            return;
        }
        self.seen.insert(start.clone(), Seen::OnPath);
        let edges = self.edges(&start);
        let mut path: Vec<(Node, Vec<Node>)> = vec![(start, edges)];
        while let Some((_, edges)) = path.last_mut() {
            let Some(next) = edges.pop() else {
                if let Some((done, _)) = path.pop() {
                    self.seen.insert(done, Seen::Done);
                }
                continue;
            };
            match self.seen.get(&next) {
                None => {
                    self.seen.insert(next.clone(), Seen::OnPath);
                    let edges = self.edges(&next);
                    path.push((next, edges));
                }
                Some(Seen::OnPath) => self.report(&path, &next),
                Some(Seen::Done) => {}
            }
        }
    }

    /// The schemas `node` applies to the same value.
    fn edges(&self, (pointer, plain): &Node) -> Vec<Node> {
        let root = self.doc.root();
        let Some(s) = root.pointer(pointer).and_then(Value::as_object) else {
            return Vec::new();
        };
        let to = |reference: &str| local_pointer(root, reference).map(|p| (p, false));
        if let Some(name) = component_name(pointer)
            && !plain
            && is_discriminating_base(s)
        {
            let mut out = vec![(pointer.clone(), true)];
            out.extend(extensions_of(self.doc, name).values().filter_map(|r| to(r)));
            out.extend(mapped(s).iter().filter_map(|r| to(r)));
            return out;
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let in_all_of = pointer.rsplit('/').nth(1) == Some("allOf");
            return to(r)
                .map(|(target, _)| {
                    let base = in_all_of
                        && component_name(&target)
                            .and_then(|name| self.doc.component(name))
                            .is_some_and(is_discriminating_base);
                    (target, base)
                })
                .into_iter()
                .collect();
        }
        let mut out: Vec<Node> = children(s)
            .into_iter()
            .filter(|(_, _, same_value)| *same_value)
            .map(|(path, _, _)| (format!("{pointer}/{path}"), false))
            .collect();
        if !is_discriminating_base(s) {
            out.extend(mapped(s).iter().filter_map(|r| to(r)));
        }
        out
    }

    /// Reports the cycle that `next`, on the path, closes.
    fn report(&mut self, path: &[(Node, Vec<Node>)], next: &Node) {
        if self.errors.len() >= self.max || !self.reported.insert(next.0.clone()) {
            return;
        }
        let Some(start) = path.iter().position(|(node, _)| node == next) else {
            return;
        };
        let mut steps: Vec<&str> = path[start..]
            .iter()
            .map(|(node, _)| node.0.as_str())
            .collect();
        steps.push(&next.0);
        let mut shown: Vec<String> = steps.iter().map(|p| shown_pointer(p)).collect();
        if shown.len() > MAX_STEPS_SHOWN {
            let last = shown.pop().unwrap_or_default();
            shown.truncate(MAX_STEPS_SHOWN - 1);
            shown.push(format!("… ({} more)", steps.len() - MAX_STEPS_SHOWN));
            shown.push(last);
        }
        self.errors.push(DocumentError::new(
            &next.0,
            format!(
                "a cycle of references that never reaches into the value: {}; it would apply the same schemas to the same value forever (a recursive schema must pass through properties, items or additionalProperties)",
                shown.join(" → ")
            ),
        ));
    }
}

/// The references a discriminator's mapping names.
fn mapped(s: &Map<String, Value>) -> Vec<String> {
    s.get("discriminator")
        .and_then(Value::as_object)
        .map(mapping)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cycles(schemas: Value) -> Vec<String> {
        let root = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                          "paths": {}, "components": {"schemas": schemas}});
        match Document::from_value(root) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    const TAIL: &str = "; it would apply the same schemas to the same value forever (a recursive schema must pass through properties, items or additionalProperties)";

    /// Issue 15: `A → B → A` and `A → A` accepted every value; they are refused.
    #[test]
    fn cycles_on_the_same_value_are_refused() {
        assert_eq!(
            cycles(
                json!({"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}})
            ),
            [format!(
                "/components/schemas/A: a cycle of references that never reaches into the value: /components/schemas/A → /components/schemas/B → /components/schemas/A{TAIL}"
            )]
        );
        assert_eq!(
            cycles(
                json!({"S": {"anyOf": [{"type": "string"}, {"not": {"$ref": "#/components/schemas/S"}}]}})
            ),
            [format!(
                "/components/schemas/S: a cycle of references that never reaches into the value: /components/schemas/S → /components/schemas/S/anyOf/1 → /components/schemas/S/anyOf/1/not → /components/schemas/S{TAIL}"
            )]
        );
        let p = cycles(json!({"O": {"type": "object", "properties": {
            "a": {"allOf": [{"$ref": "#/components/schemas/O/properties/a"}]}}}}));
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("/components/schemas/O/properties/a: a cycle"),
            "{p:?}"
        );
        // A discriminator whose alternatives extend it with allOf goes round too.
        let p = cycles(json!({
            "Pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}], "discriminator": {"propertyName": "t"}},
            "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}]}}));
        assert_eq!(p.len(), 1, "{p:?}");
        let long: serde_json::Map<String, Value> = (0..20)
            .map(|i| {
                (
                    format!("S{i:02}"),
                    json!({"$ref": format!("#/components/schemas/S{:02}", (i + 1) % 20)}),
                )
            })
            .collect();
        let p = cycles(Value::Object(long));
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("/components/schemas/S08 → … (11 more) → /components/schemas/S00;"),
            "{p:?}"
        );
    }

    #[test]
    fn recursion_through_the_value_and_discriminating_bases_are_no_cycles() {
        assert!(cycles(json!({
            "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}},
            "Map": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Map"}},
            "Pet": {"type": "object", "properties": {"t": {"type": "string"}},
                    "discriminator": {"propertyName": "t", "mapping": {"dog": "Dog"}}},
            "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"}]},
            "Dog": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"properties": {"friend": {"$ref": "#/components/schemas/Pet"}}}]},
            "Diamond": {"allOf": [{"$ref": "#/components/schemas/Tree"}, {"$ref": "#/components/schemas/Tree"}]}
        }))
        .is_empty());
    }
}
