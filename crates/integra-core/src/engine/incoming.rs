//! Incoming messages: accepting them once per sender's id, processing them by Rust handlers or
//! through the pull API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Direction, Processor};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::queue::incoming::{Accepted, IncomingHandler, IncomingItem};

/// Incoming messages: accepting them once per sender's id, processing them by Rust handlers or
/// through the pull API.
impl Engine {
    /// Stores an incoming message once per (flow, sender's message id). The body's
    /// `content-type` header (default `application/json`) decides how it is checked: JSON
    /// must parse; XML is stored as text. A repeat is acknowledged (`duplicate: true`) and
    /// not stored again. A message id that is a UUID is stored in its canonical spelling
    /// (lower case, hyphenated), so its other spellings are repeats of it.
    ///
    /// A JSON body on a flow with a schema is validated; one that breaks it is refused with
    /// every violation, and nothing is stored.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::FlowInactive`], [`Error::WrongDirection`] for an
    /// outgoing flow, [`Error::InvalidJson`], [`Error::Invalid`] with the violations,
    /// [`Error::InvalidArgument`] for an empty or overlong message id, an empty body or an
    /// unsupported content type.
    ///
    /// # Examples
    /// ```
    /// use std::collections::BTreeMap;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_IMPORT", "direction": "incoming"}]}"#)?;
    /// let body = r#"{"number": "A-1"}"#;
    /// let first = engine.accept("ORDER_IMPORT", "order-1", body, &BTreeMap::new())?;
    /// assert!(!first.duplicate);
    /// // The same sender's id again is acknowledged, not stored twice.
    /// let again = engine.accept("ORDER_IMPORT", "order-1", body, &BTreeMap::new())?;
    /// assert!(again.duplicate && again.id == first.id);
    /// # Ok(()) }
    /// ```
    pub fn accept(
        &self,
        flow: &str,
        message_id: &str,
        payload: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<Accepted> {
        self.core.accept(flow, message_id, payload, headers)
    }

    /// Claims up to `max` incoming messages that are due, of flows processed externally
    /// (`processor: external`), reserving them for `lease`. The caller processes each and
    /// reports with [`Engine::ack_incoming`] or [`Engine::fail_incoming`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease outside 1 s ..= 24 h.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// # use std::collections::BTreeMap;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_IMPORT", "direction": "incoming"}]}"#)?;
    /// # engine.accept("ORDER_IMPORT", "order-1", r#"{"number": "A-1"}"#, &BTreeMap::new())?;
    /// for item in engine.next_incoming(100, Duration::from_secs(300))? {
    ///     println!("{} from {}: {}", item.message_id, item.flow, item.payload);
    ///     engine.ack_incoming(&item.id)?; // or fail_incoming: retried per the flow's policy
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_incoming(&self, max: usize, lease: Duration) -> Result<Vec<IncomingItem>> {
        self.core.next_incoming(max, lease)
    }

    /// Gives messages claimed with [`Engine::next_incoming`] back unprocessed, as they were
    /// before the claim (the attempt uncounted, due at once); see
    /// [`Engine::release_forming`]. Returns how many were given back.
    ///
    /// # Errors
    /// [`Error::Store`].
    pub fn release_incoming(&self, ids: &[String]) -> Result<usize> {
        self.core.release_incoming(ids)
    }

    /// Marks a claimed incoming message processed.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`]; [`Error::WrongStatus`] when it is not being processed.
    pub fn ack_incoming(&self, id: &str) -> Result<()> {
        self.core.ack_incoming(id)
    }

    /// Records that processing failed; it is retried per the flow's policy, or ends Dead.
    ///
    /// # Errors
    /// [`Error::IncomingNotFound`]; [`Error::WrongStatus`] when it is not being processed.
    pub fn fail_incoming(&self, id: &str, error: &str) -> Result<()> {
        self.core.fail_incoming(id, error)
    }

    /// Registers the Rust handler that processes flow `flow`'s incoming messages on the
    /// background dispatcher's threads (the flow's processor must be `handler`). A handler
    /// returning an error, or panicking, is a failed attempt: retried per the flow's policy,
    /// then Dead.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::WrongDirection`], or [`Error::WrongProcessor`].
    pub fn set_incoming_handler(
        &self,
        flow: &str,
        handler: impl IncomingHandler + 'static,
    ) -> Result<()> {
        let config = self.config()?;
        let f = crate::queue::flow_going(
            &config,
            flow,
            Direction::Incoming,
            "process incoming messages",
        )?;
        if f.processor != Processor::Handler {
            return Err(Error::WrongProcessor {
                flow: flow.to_owned(),
            });
        }
        self.handlers.incoming.set(flow, Arc::new(handler));
        self.core.wake.notify();
        Ok(())
    }
}
