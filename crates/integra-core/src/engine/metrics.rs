//! Metrics for Prometheus: the text of every metric, for programs that serve it themselves.

use crate::engine::Engine;
use crate::error::Result;

/// Metrics for Prometheus.
impl Engine {
    /// Every metric, in the OpenMetrics text format (serve it with
    /// [`CONTENT_TYPE`](crate::metrics::CONTENT_TYPE)).
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the database cannot be read.
    ///
    /// # Examples
    /// ```
    /// use integra_core::metrics::CONTENT_TYPE;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// let text = engine.metrics_text()?;
    /// assert!(text.ends_with("# EOF\n"));
    /// // Serve it with this content type, or Prometheus misreads it.
    /// println!("Content-Type: {CONTENT_TYPE}\n\n{text}");
    /// # Ok(()) }
    /// ```
    pub fn metrics_text(&self) -> Result<String> {
        crate::metrics::text(&self.core, &self.handlers)
    }
}
