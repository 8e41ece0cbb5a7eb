//! Registering messages on outgoing flows.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::queue::register::{RegisterOptions, Registration, register_batch};

/// Registering messages on outgoing flows.
impl Engine {
    /// Registers one message on an outgoing flow; returns its id.
    ///
    /// # Errors
    /// [`Error::UnknownFlow`], [`Error::FlowInactive`], [`Error::WrongDirection`] for an
    /// incoming flow, [`Error::InvalidJson`] for a source that is not JSON,
    /// [`Error::InvalidArgument`] for a bad key, [`Error::NotJsonRpcParams`] for a source
    /// that is not an object or an array on a pass-through flow with a JSON-RPC subscriber.
    /// Nothing is queued then.
    ///
    /// # Examples
    /// ```
    /// use integra_core::RegisterOptions;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// // Durable when it returns. The object key enables duplicate suppression.
    /// let id = engine.register("ORDER_EXPORT", r#"{"number": "A-1", "sum": 1500}"#,
    ///                          &RegisterOptions::object_key("order-1"))?;
    /// println!("{id}: {}", engine.message_status(&id)?.status);
    /// # Ok(()) }
    /// ```
    pub fn register(
        &self,
        flow: &str,
        source: &str,
        options: &RegisterOptions,
    ) -> Result<MessageId> {
        let mut ids = self.register_batch(
            flow,
            vec![Registration {
                source: source.to_owned(),
                options: options.clone(),
            }],
        )?;
        ids.pop().ok_or_else(|| Error::InvalidArgument {
            name: "source",
            reason: "nothing was registered".into(),
        })
    }

    /// Registers many messages on one flow in one transaction: all or none. Returns their
    /// ids in order (a coalesced message returns the id it joined).
    ///
    /// # Errors
    /// As [`Engine::register`]; the error names the position of a bad item.
    ///
    /// # Examples
    /// ```
    /// use integra_core::{RegisterOptions, Registration};
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// let items = (1..=3)
    ///     .map(|n| Registration {
    ///         source: format!(r#"{{"number": "A-{n}"}}"#),
    ///         options: RegisterOptions::object_key(format!("order-{n}")),
    ///     })
    ///     .collect();
    /// let ids = engine.register_batch("ORDER_EXPORT", items)?;
    /// assert_eq!(ids.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn register_batch(&self, flow: &str, items: Vec<Registration>) -> Result<Vec<MessageId>> {
        register_batch(&self.core, flow, items)
    }
}
