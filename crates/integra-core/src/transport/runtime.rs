//! The engine's private async runtime: one tokio worker thread, started when the first
//! asynchronous transport (RabbitMQ, Kafka) is built, that drives their connections between
//! calls (heartbeats, reading responses). Callers stay synchronous: they `block_on` it.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Runtime;

/// The runtime, started on first use and stopped with the engine.
#[derive(Default)]
pub(crate) struct Shared(Mutex<Option<Arc<Runtime>>>);

impl Shared {
    /// The runtime, started if it is not yet.
    pub(crate) fn get(&self) -> Result<Arc<Runtime>, String> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(rt) = slot.as_ref() {
            return Ok(Arc::clone(rt));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("integra-async")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let rt = Arc::new(rt);
        *slot = Some(Arc::clone(&rt));
        Ok(rt)
    }
}
