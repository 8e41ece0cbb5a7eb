//! Forming: Rust formers, and the pull API through which 1C forms messages itself.

use std::time::Duration;

use crate::config::{Direction, Former as FormerKind};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::openapi::Violation;
use crate::queue::forming::{Former, FormingItem, former_name};

/// Forming: Rust formers, and the pull API through which 1C forms messages itself.
impl Engine {
    /// Registers the Rust former of `flow`, replacing any earlier one. The flow must be an
    /// outgoing flow configured with `"former": "handler"`.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::WrongDirection`], or [`Error::WrongFormer`].
    pub fn set_former(&self, flow: &str, former: impl Former + 'static) -> Result<()> {
        let config = self.config()?;
        let f =
            crate::queue::flow_going(&config, flow, Direction::Outgoing, "form outgoing messages")?;
        if f.former != FormerKind::Handler {
            return Err(Error::WrongFormer {
                flow: flow.to_owned(),
                former: former_name(f.former),
                expected: "a Rust handler",
            });
        }
        let former = std::sync::Arc::new(former);
        self.handlers.formers.set(flow, former);
        self.core.wake.notify();
        Ok(())
    }

    /// Claims up to `max` messages of flows with an external former that are due for
    /// forming, reserving them for `lease`. The caller forms each and reports with
    /// [`Engine::complete_forming`], [`Engine::fail_forming`] or [`Engine::cancel`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease outside 1 s ..= 24 h.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// # use integra_core::{Engine, EngineOptions, RegisterOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": [], "former": "external"}]}"#)?;
    /// # engine.register("ORDER_EXPORT", r#"{"ref": "order-1"}"#, &RegisterOptions::default())?;
    /// // An external former (1C code, another service) pulls work and answers each item.
    /// for item in engine.next_to_form(100, Duration::from_secs(300))? {
    ///     // `item.source` is what was registered, often a reference: read the current state.
    ///     let payload = format!(r#"{{"order": {}, "sum": 1500}}"#, item.source);
    ///     let violations = engine.complete_forming(&item.id, &payload)?;
    ///     assert!(violations.is_empty(), "the payload breaks the flow's schema: {violations:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_to_form(&self, max: usize, lease: Duration) -> Result<Vec<FormingItem>> {
        self.core.next_to_form(max, lease)
    }

    /// Gives messages claimed with [`Engine::next_to_form`] back unformed, as they were
    /// before the claim (the attempt uncounted, due at once), for a caller that claimed
    /// more than it will form, or could not take the claim (the 1C add-in when the
    /// platform refuses memory for the result). Ids not claimed through this engine's pull
    /// API are left alone. Returns how many were given back.
    ///
    /// # Errors
    /// [`Error::Store`].
    pub fn release_forming(&self, ids: &[String]) -> Result<usize> {
        self.core.release_forming(ids)
    }

    /// Stores the formed payload (JSON text) of a message being formed, after checking it
    /// against the flow's schema, and fans it out to the flow's subscribers. Returns the
    /// schema violations: empty when the payload was accepted; otherwise nothing is sent and
    /// the message is a forming failure (retried per the flow's policy) with the violations
    /// in its history.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] for a payload that is not JSON; [`Error::NotJsonRpcParams`]
    /// for a payload that is not an object or an array on a flow with a JSON-RPC subscriber
    /// (the message stays claimed); [`Error::MessageNotFound`];
    /// [`Error::WrongStatus`] when the message is not being formed; [`Error::Schema`] when
    /// the flow's schema cannot be had (the message stays claimed until its lease expires).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// # use integra_core::{Engine, EngineOptions, RegisterOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": [], "former": "external"}]}"#)?;
    /// # engine.register("ORDER_EXPORT", r#"{"ref": "order-1"}"#, &RegisterOptions::default())?;
    /// for item in engine.next_to_form(10, Duration::from_secs(60))? {
    ///     match engine.complete_forming(&item.id, r#"{"number": "A-1"}"#)? {
    ///         violations if violations.is_empty() => println!("{} formed", item.id),
    ///         violations => eprintln!("{} broke the schema: {violations:?}", item.id),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn complete_forming(&self, id: &str, payload: &str) -> Result<Vec<Violation>> {
        self.core.complete_forming(id, payload)
    }

    /// Records that forming a message failed; it is retried per the flow's policy, or
    /// ends Dead when the attempts are used up.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`]; [`Error::WrongStatus`] when it is not being formed.
    pub fn fail_forming(&self, id: &str, error: &str) -> Result<()> {
        self.core.fail_forming(id, error)
    }

    /// Cancels a message that is not yet formed: the former decided there is nothing to
    /// send. The reason goes to its history.
    ///
    /// # Errors
    /// [`Error::MessageNotFound`]; [`Error::WrongStatus`] once it is formed.
    pub fn cancel(&self, id: &str, reason: &str) -> Result<()> {
        self.core.cancel(id, reason)
    }
}
