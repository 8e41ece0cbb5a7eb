//! The HTTP receiver: serving a listener of the configuration.

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::Result;
use crate::inbound::receiver::Receiver;

/// The HTTP receiver.
impl Engine {
    /// Starts serving listener `code` of the configuration: binds its address and answers
    /// on two threads of its own until stopped. Other processes (or engines) on the same
    /// database may serve the same listener at once: on Unix they share its port, and the
    /// system spreads connections over them; anything else holding the port is refused.
    ///
    /// # Errors
    /// [`Error::UnknownListener`](crate::Error::UnknownListener);
    /// [`Error::Listen`](crate::Error::Listen) when the address cannot be bound (in use by another
    /// program or database, not local, not permitted); [`Error::Spawn`](crate::Error::Spawn) when
    /// its threads cannot start.
    ///
    /// # Examples
    /// ```
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// engine.load_config_json(r#"{
    ///     "listeners": [{"code": "main", "address": "127.0.0.1:0",
    ///                    "routes": [{"prefix": "/webhooks/orders", "flow": "ORDER_IMPORT",
    ///                                "auth": {"type": "bearer", "token": "change-me"}}]}],
    ///     "flows": [{"code": "ORDER_IMPORT", "direction": "incoming"}]
    /// }"#)?;
    /// // Keep it: dropping it stops the listener.
    /// let receiver = engine.start_receiver("main")?;
    /// println!("POST http://{}/webhooks/orders", receiver.local_addr());
    /// receiver.stop();
    /// # Ok(()) }
    /// ```
    pub fn start_receiver(&self, code: &str) -> Result<Receiver> {
        Receiver::start(Arc::clone(&self.core), Arc::clone(&self.handlers), code)
    }
}
