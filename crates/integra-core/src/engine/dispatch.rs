//! Dispatching: forming, delivering and processing what is due, in the caller's thread or
//! by the background dispatcher.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::dispatch::{DispatchReport, Dispatcher, DispatcherOptions, oneshot};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Dispatching: forming, delivering and processing what is due.
impl Engine {
    /// Forms and sends what is due, in this thread, and returns what happened.
    ///
    /// Stops when nothing more is due, after about `max` items, or once `timeout` has
    /// passed (it then finishes the items already claimed, each bounded by its transport's
    /// timeouts). Expired leases of dead processes are taken back first.
    ///
    /// Work this process cannot do is not waited for but named in the report: messages of
    /// flows whose Rust former or incoming handler is not registered here
    /// ([`DispatchReport::waiting_for_former`], a warning in the log as well).
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the database fails; outcomes of the batch in hand are
    /// then not recorded, and its leases expire so the work is retried.
    ///
    /// # Examples
    /// ```no_run
    /// use std::time::Duration;
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let engine = Engine::open("integra.db", EngineOptions::default())?;
    /// // From your own loop or scheduler (a 1C scheduled job calls this):
    /// let report = engine.dispatch(1000, Duration::from_secs(60))?;
    /// println!("sent {}, failed {}, dead {}", report.sent, report.failed, report.dead);
    /// for (flow, waiting) in &report.waiting_for_former {
    ///     eprintln!("{waiting} message(s) of {flow} wait for a former this process lacks");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn dispatch(&self, max: usize, timeout: Duration) -> Result<DispatchReport> {
        oneshot::run(&self.core, &self.handlers, max, timeout)
    }

    /// Starts the background dispatcher: `options.threads` workers that form and send
    /// whatever is due, woken when there is work. It runs until [`Engine::stop_dispatcher`]
    /// or until the last clone of this engine is dropped.
    ///
    /// # Errors
    /// [`Error::DispatcherRunning`] when one runs already; [`Error::Spawn`] when threads
    /// cannot be started.
    ///
    /// # Examples
    /// ```
    /// use integra_core::{DispatcherOptions, RegisterOptions};
    /// # use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    /// # engine.load_config_json(r#"{"flows": [{"code": "ORDER_EXPORT", "direction": "outgoing",
    /// #     "subscribers": []}]}"#)?;
    /// engine.start_dispatcher(DispatcherOptions::default().with_threads(8))?;
    /// // Registering wakes it: no one needs to call `dispatch`.
    /// engine.register("ORDER_EXPORT", r#"{"number": "A-1"}"#, &RegisterOptions::default())?;
    /// // It stops with the last clone of the engine, or here.
    /// assert!(engine.stop_dispatcher());
    /// # Ok(()) }
    /// ```
    pub fn start_dispatcher(&self, options: DispatcherOptions) -> Result<()> {
        let mut slot = self
            .dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return Err(Error::DispatcherRunning);
        }
        *slot = Some(Dispatcher::start(
            Arc::clone(&self.core),
            Arc::clone(&self.handlers),
            options,
        )?);
        Ok(())
    }

    /// Stops the background dispatcher, waiting for work in flight up to its grace period
    /// (work still running after it is left to its lease). Returns false when none ran.
    pub fn stop_dispatcher(&self) -> bool {
        let running = self
            .dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match running {
            Some(d) => {
                d.stop();
                true
            }
            None => false,
        }
    }

    /// True while the background dispatcher runs.
    pub fn dispatcher_running(&self) -> bool {
        self.dispatcher
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}
