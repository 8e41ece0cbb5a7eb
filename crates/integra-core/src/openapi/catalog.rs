//! The catalog at run time: documents by schema code (inline ones from the configuration,
//! external ones from their last good fetched copy), and compiled validators cached per
//! (document fingerprint, component, direction), so a schema is compiled once, not per
//! message.
//!
//! An external copy is used until it expires (its `ttl`), then revalidated with its ETag or
//! Last-Modified. A failed refresh keeps the last good copy, logs a warning, records the error
//! (see [`Engine::external_schema_status`]) and is tried again after at most five minutes.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::Violation;
use super::document::Document;
use super::external::{Fetched, fetch};
use super::translate::translate;
use super::validator::Compiled;
use crate::config::{ConfigSnapshot, Direction, ExternalSchema, Flow};
use crate::error::{Error, Result};
use crate::limits::quoted;
use crate::store::{Commit, SchemaCopy, Store};
use crate::time::{Clock, Timestamp};

/// The longest wait before a failed refresh is tried again.
const RETRY_FAILED_REFRESH: Duration = Duration::from_secs(300);

/// Most compiled validators kept. Past it the cache starts over: validators of documents no
/// longer in use (replaced schemas, documents given as text) would otherwise pile up for
/// the life of the process.
const MAX_VALIDATORS: usize = 1024;

/// Most documents given as text kept parsed; past it that cache starts over.
const MAX_ADHOC_DOCUMENTS: usize = 64;

/// The fingerprint of a document's text: equal texts share compiled validators.
pub(crate) fn fingerprint(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    fingerprint: u64,
    component: String,
    direction: Option<Direction>,
}

/// A document and its fingerprint.
pub(crate) type Fingerprinted = (u64, Arc<Document>);

struct CurrentCopy {
    source: String,
    document: Fingerprinted,
    expires_at: Timestamp,
}

/// Caches of documents and validators.
#[derive(Default)]
pub(crate) struct Catalog {
    validators: Mutex<HashMap<Key, Arc<Compiled>>>,
    external: Mutex<HashMap<String, CurrentCopy>>,
    adhoc: Mutex<HashMap<u64, Arc<Document>>>,
    refresh: Mutex<()>,
    /// How many validators were compiled.
    pub(crate) compilations: AtomicU64,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Catalog")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Inserts into a cache of at most `max` entries, emptying it first when it is full.
fn insert_bounded<K: Eq + Hash, V>(cache: &Mutex<HashMap<K, V>>, max: usize, key: K, value: V) {
    let mut cache = lock(cache);
    if cache.len() >= max && !cache.contains_key(&key) {
        cache.clear();
    }
    cache.insert(key, value);
}

/// The state of an external schema's fetched copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExternalSchemaStatus {
    /// The address the copy came from.
    pub source: String,
    /// When it was fetched.
    pub fetched_at: Timestamp,
    /// When it will be revalidated.
    pub expires_at: Timestamp,
    /// Its ETag, if the server sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Why the latest refresh failed (the copy was kept), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Catalog {
    /// The validator of `component` of schema `code` for `direction`.
    pub(crate) fn validator(
        &self,
        store: &Store,
        clock: &dyn Clock,
        config: &ConfigSnapshot,
        code: &str,
        component: &str,
        direction: Option<Direction>,
    ) -> Result<Arc<Compiled>> {
        let (fingerprint, doc) = self.schema_document(store, clock, config, code)?;
        self.compiled(code, fingerprint, &doc, component, direction)
    }

    fn compiled(
        &self,
        code: &str,
        fingerprint: u64,
        doc: &Document,
        component: &str,
        direction: Option<Direction>,
    ) -> Result<Arc<Compiled>> {
        let key = Key {
            fingerprint,
            component: component.to_owned(),
            direction,
        };
        if let Some(v) = lock(&self.validators).get(&key) {
            return Ok(Arc::clone(v));
        }
        if !doc.components().contains(component) {
            return Err(Error::Schema {
                schema: quoted(code).into_owned(),
                reason: format!("it {}", doc.no_such_component(component)),
            });
        }
        let compiled = Compiled::new(translate(doc, component, direction)).map_err(|reason| {
            Error::Schema {
                schema: quoted(code).into_owned(),
                reason: format!(
                    "component '{}' cannot be compiled: {reason}",
                    quoted(component)
                ),
            }
        })?;
        let compiled = Arc::new(compiled);
        self.compilations.fetch_add(1, AtomicOrdering::Relaxed);
        insert_bounded(&self.validators, MAX_VALIDATORS, key, Arc::clone(&compiled));
        Ok(compiled)
    }

    /// The violations of `value` against `flow`'s schema (none when it has no schema),
    /// in the flow's direction, at most `max_violations`.
    pub(crate) fn flow_violations(
        &self,
        store: &Store,
        clock: &dyn Clock,
        config: &ConfigSnapshot,
        flow: &Flow,
        value: &Value,
        max_violations: usize,
    ) -> Result<Vec<Violation>> {
        let Some(r) = &flow.schema else {
            return Ok(Vec::new());
        };
        let v = self.validator(
            store,
            clock,
            config,
            &r.schema,
            &r.component,
            Some(flow.direction),
        )?;
        undecided_is_an_error(&r.schema, &r.component, v.violations(value, max_violations))
    }

    /// The violations of `value` against `component` of `schema` (a catalog code, or the
    /// text of an OpenAPI 3.0 document), in no direction, at most `max_violations`.
    pub(crate) fn violations(
        &self,
        (store, clock): (&Store, &dyn Clock),
        config: &ConfigSnapshot,
        (schema, component): (&str, &str),
        value: &Value,
        max_violations: usize,
    ) -> Result<Vec<Violation>> {
        let (fingerprint, doc) = if config.config().schema(schema).is_some() {
            self.schema_document(store, clock, config, schema)?
        } else if looks_like_a_document(schema) {
            self.adhoc_document(schema)?
        } else {
            return Err(Error::Schema {
                schema: quoted(schema).into_owned(),
                reason: "no schema has this code (and it is not an OpenAPI document)".into(),
            });
        };
        let v = self.compiled(schema, fingerprint, &doc, component, None)?;
        undecided_is_an_error(schema, component, v.violations(value, max_violations))
    }

    /// The document of schema `code`: inline in the configuration, or the current copy of an
    /// external one (fetched, or read from `store`, when it expired by `clock`).
    fn schema_document(
        &self,
        store: &Store,
        clock: &dyn Clock,
        config: &ConfigSnapshot,
        code: &str,
    ) -> Result<Fingerprinted> {
        if let Some(inline) = config.inline_schema(code) {
            return Ok(inline.clone());
        }
        let entry = config.config().schema(code).ok_or_else(|| Error::Schema {
            schema: code.to_owned(),
            reason: "no schema has this code".into(),
        })?;
        match &entry.external {
            Some(ext) => self.external_document(store, clock, config, code, ext),
            None => Err(Error::Schema {
                schema: code.to_owned(),
                reason: "its document does not parse".into(),
            }),
        }
    }

    fn external_document(
        &self,
        store: &Store,
        clock: &dyn Clock,
        config: &ConfigSnapshot,
        code: &str,
        ext: &ExternalSchema,
    ) -> Result<Fingerprinted> {
        // A copy belongs to the address it came from: re-pointing the endpoint drops it.
        let source = match config.endpoint(&ext.endpoint) {
            Some(e) => format!("{}{}", e.base_url.trim_end_matches('/'), ext.path),
            None => format!("endpoint '{}'{}", ext.endpoint, ext.path),
        };
        let current = |now| {
            lock(&self.external)
                .get(code)
                .filter(|c| c.source == source && c.expires_at > now)
                .map(|c| c.document.clone())
        };
        if let Some(doc) = current(clock.now()) {
            return Ok(doc);
        }
        let _refreshing = lock(&self.refresh);
        let now = clock.now();
        if let Some(doc) = current(now) {
            return Ok(doc);
        }
        let stored = store
            .read(|db| Ok::<_, Error>(db.schema_copy(code)?))?
            .filter(|c| c.source == source);
        if let Some(copy) = stored.as_ref().filter(|c| c.expires_at > now) {
            return self.remember(code, copy);
        }
        let fetched = match config.endpoint(&ext.endpoint) {
            Some(endpoint) => fetch(endpoint, &ext.path, stored.as_ref()),
            None => Err(format!("endpoint '{}' is not configured", ext.endpoint)),
        };
        if let (Ok(Fetched::NotModified), Some(copy)) = (&fetched, &stored) {
            let until = now.plus(ext.ttl);
            let code_owned = code.to_owned();
            store.write(Commit::Durable, move |db| {
                Ok::<_, Error>(db.extend_schema_copy(&code_owned, until, None)?)
            })?;
            return self.remember(
                code,
                &SchemaCopy {
                    expires_at: until,
                    ..copy.clone()
                },
            );
        }
        let failure = match fetched {
            Ok(Fetched::NotModified) => {
                "the server answered 304 Not Modified, but no copy is held".to_owned()
            }
            Ok(Fetched::Fresh {
                document,
                etag,
                last_modified,
            }) => match Document::parse(&document) {
                Ok(_) => {
                    let copy = SchemaCopy {
                        source,
                        document,
                        etag,
                        last_modified,
                        fetched_at: now,
                        expires_at: now.plus(ext.ttl),
                        last_error: None,
                    };
                    let (code_owned, stored_copy) = (code.to_owned(), copy.clone());
                    store.write(Commit::Durable, move |db| {
                        Ok::<_, Error>(db.store_schema_copy(&code_owned, &stored_copy)?)
                    })?;
                    return self.remember(code, &copy);
                }
                Err(problems) => {
                    let shown: Vec<String> =
                        problems.iter().take(3).map(ToString::to_string).collect();
                    format!(
                        "the fetched document is not valid OpenAPI 3.0: {}",
                        shown.join("; ")
                    )
                }
            },
            Err(e) => e,
        };
        match stored {
            Some(copy) => {
                log::warn!(
                    "external schema '{code}': refresh failed ({failure}); keeping the copy fetched at {}",
                    copy.fetched_at
                );
                let until = now.plus(ext.ttl.min(RETRY_FAILED_REFRESH));
                let (code_owned, reason) = (code.to_owned(), failure);
                store.write(Commit::Durable, move |db| {
                    Ok::<_, Error>(db.extend_schema_copy(&code_owned, until, Some(&reason))?)
                })?;
                self.remember(
                    code,
                    &SchemaCopy {
                        expires_at: until,
                        ..copy
                    },
                )
            }
            None => Err(Error::Schema {
                schema: code.to_owned(),
                reason: format!("it cannot be fetched and no copy is held: {failure}"),
            }),
        }
    }

    /// Makes `copy` the current document of external schema `code`.
    fn remember(&self, code: &str, copy: &SchemaCopy) -> Result<Fingerprinted> {
        let fp = fingerprint(&copy.document);
        let reuse = lock(&self.external)
            .get(code)
            .filter(|c| c.document.0 == fp)
            .map(|c| Arc::clone(&c.document.1));
        let doc = match reuse {
            Some(doc) => doc,
            None => {
                Arc::new(
                    Document::parse(&copy.document).map_err(|problems| Error::Schema {
                        schema: code.to_owned(),
                        reason: format!(
                            "its stored copy is not valid OpenAPI 3.0: {}",
                            problems[0]
                        ),
                    })?,
                )
            }
        };
        lock(&self.external).insert(
            code.to_owned(),
            CurrentCopy {
                source: copy.source.clone(),
                document: (fp, Arc::clone(&doc)),
                expires_at: copy.expires_at,
            },
        );
        Ok((fp, doc))
    }

    /// A document passed as text rather than by code, parsed once per distinct text.
    fn adhoc_document(&self, text: &str) -> Result<Fingerprinted> {
        let fp = fingerprint(text);
        if let Some(doc) = lock(&self.adhoc).get(&fp) {
            return Ok((fp, Arc::clone(doc)));
        }
        let doc = Arc::new(Document::parse(text).map_err(|problems| {
            Error::Schema {
                schema: "(document given as text)".into(),
                reason: problems
                    .iter()
                    .take(5)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?);
        insert_bounded(&self.adhoc, MAX_ADHOC_DOCUMENTS, fp, Arc::clone(&doc));
        Ok((fp, doc))
    }
}

/// The violations, or [`Error::Schema`] when the validator of `component` of schema `code`
/// could not decide.
fn undecided_is_an_error(
    code: &str,
    component: &str,
    violations: std::result::Result<Vec<Violation>, String>,
) -> Result<Vec<Violation>> {
    violations.map_err(|reason| Error::Schema {
        schema: quoted(code).into_owned(),
        reason: format!("component '{}': {reason}", quoted(component)),
    })
}

fn looks_like_a_document(text: &str) -> bool {
    text.trim_start().starts_with('{') || text.contains("openapi")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use serde_json::json;

    use crate::config::Endpoint;
    use crate::{Engine, EngineOptions};

    #[test]
    fn a_schema_is_compiled_once_per_document_component_and_direction() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path().join("c.db"), EngineOptions::default()).unwrap();
        let document = |minimum: i64| {
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
                   "components": {"schemas": {"Order": {"type": "object", "properties": {
                       "total": {"type": "number", "minimum": minimum}}}}}})
        };
        let flows = json!([
            {"code": "IN", "direction": "incoming", "schema": {"schema": "s", "component": "Order"}},
            {"code": "OUT", "direction": "outgoing", "schema": {"schema": "s", "component": "Order"}}
        ]);
        let config = json!({"schemas": [{"code": "s", "document": document(0)}], "flows": flows});
        engine.load_config_json(&config.to_string()).unwrap();
        let compiled = || engine.core.catalog.compilations.load(Ordering::Relaxed);
        for _ in 0..20 {
            assert!(
                engine
                    .validate_for_flow("IN", r#"{"total": 1}"#)
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(compiled(), 1);
        engine.validate_for_flow("OUT", r#"{"total": 1}"#).unwrap();
        assert_eq!(compiled(), 2, "the other direction is another translation");
        engine
            .put_endpoint(Endpoint::new("e", "http://127.0.0.1:1"))
            .unwrap();
        engine.validate_for_flow("IN", r#"{"total": 1}"#).unwrap();
        assert_eq!(
            compiled(),
            2,
            "an unrelated configuration change keeps the validators"
        );
        let changed = json!({"schemas": [{"code": "s", "document": document(5)}], "flows": flows});
        engine.load_config_json(&changed.to_string()).unwrap();
        assert_eq!(
            engine
                .validate_for_flow("IN", r#"{"total": 1}"#)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(compiled(), 3, "a changed document is compiled again");
    }

    /// Found by the `openapi_document` fuzz target: every distinct document given as text
    /// stayed parsed and compiled for the life of the process.
    #[test]
    fn documents_given_as_text_do_not_pile_up() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path().join("c.db"), EngineOptions::default()).unwrap();
        for minimum in 0..=super::MAX_VALIDATORS {
            let number = json!({"type": "number", "minimum": minimum});
            let document = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {}, "components": {"schemas": {"N": number}}});
            let violations = engine.validate(&document.to_string(), "N", "0").unwrap();
            assert_eq!(violations.len(), usize::from(minimum > 0));
        }
        let catalog = &engine.core.catalog;
        assert!(super::lock(&catalog.adhoc).len() <= super::MAX_ADHOC_DOCUMENTS);
        assert!(super::lock(&catalog.validators).len() <= super::MAX_VALIDATORS);
    }
}
