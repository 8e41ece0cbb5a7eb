//! Sources: queues, topics and URLs that incoming flows read from.

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::Result;
use crate::inbound::sources::{self, Rejection, SourceStatus, Sources};

/// Sources: queues, topics and URLs that incoming flows read from.
impl Engine {
    /// Starts the sources of every incoming flow (RabbitMQ queues, Kafka partitions, MQTT
    /// topics, polled resources), each on its own thread, following configuration changes.
    /// In several processes on one database, one at a time runs each source.
    ///
    /// # Errors
    /// [`Error::Spawn`](crate::Error::Spawn) when the supervisor thread cannot start.
    ///
    /// # Examples
    /// ```
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_IMPORT", "direction": "incoming"}]}"#)?;
    /// // Keep it: dropping it stops the sources.
    /// let sources = engine.start_sources()?;
    /// for status in engine.source_status()? {
    ///     println!("{}: held here {}", status.flow, status.here && status.held);
    /// }
    /// sources.stop();
    /// # Ok(()) }
    /// ```
    pub fn start_sources(&self) -> Result<Sources> {
        sources::start(Arc::clone(&self.core))
    }

    /// Who runs each flow's source and how it last went.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn source_status(&self) -> Result<Vec<SourceStatus>> {
        sources::status(&self.core)
    }

    /// The latest `limit` messages sources rejected for `flow`, newest first.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails.
    pub fn rejected_incoming(&self, flow: &str, limit: usize) -> Result<Vec<Rejection>> {
        sources::rejections(&self.core, flow, limit)
    }
}
