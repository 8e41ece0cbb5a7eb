//! The [`Engine`]: the handle application code holds, and a thin front over the subsystems.
//!
//! `Engine` is cheap to clone; every clone is the same engine. It holds the [`Core`] that
//! every subsystem shares, the Rust handlers registered in this process, and the background
//! dispatcher. Its operations are grouped by subsystem, one file each, and each hands the
//! call to the subsystem that does the work (the configuration's edits and the external ids,
//! a store call each, are done here): [`config`] (the configuration),
//! [`register`], [`forming`], [`incoming`], [`inspect`] (the queues), [`external_ids`],
//! [`dispatch`], [`maintenance`], [`schemas`], [`metrics`], [`sources`], and with the
//! receiver [`receiver`] and [`exchange`] (the message exchange between bases). No
//! subsystem imports this module.

mod config;
mod dispatch;
#[cfg(feature = "receiver")]
mod exchange;
mod external_ids;
mod forming;
mod incoming;
mod inspect;
mod maintenance;
mod metrics;
#[cfg(feature = "receiver")]
mod receiver;
mod register;
mod schemas;
mod sources;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::core::{Core, EngineOptions};
use crate::dispatch::{Dispatcher, Handlers};
use crate::error::{Error, Result};
use crate::store::{Commit, Store, StoreOptions};
use crate::time::Timestamp;

/// An Integra engine on one database file.
///
/// Several engines (in one process or several) may open the same file: they share the
/// configuration and the queues, and never claim the same work twice. When the last clone
/// of an engine is dropped, its background dispatcher stops.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) core: Arc<Core>,
    /// The Rust handlers registered in this process (formers, incoming and channel handlers).
    pub(crate) handlers: Arc<Handlers>,
    /// The background dispatcher, when it runs.
    dispatcher: Arc<DispatcherSlot>,
}

/// The engine's background dispatcher, stopped when the last `Engine` clone goes.
#[derive(Debug, Default)]
struct DispatcherSlot(Mutex<Option<Dispatcher>>);

impl Drop for DispatcherSlot {
    fn drop(&mut self) {
        if let Some(d) = self
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            d.stop();
        }
    }
}

impl Engine {
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// # Errors
    /// [`Error::Store`] when the file cannot be opened, is not an Integra database, or was
    /// written by a newer Integra.
    ///
    /// # Examples
    /// ```
    /// use integra_core::{Engine, EngineOptions};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("integra.db");
    /// let engine = Engine::open(&path, EngineOptions::default())?;
    /// // Another engine on the same file (here or in another process) shares its
    /// // configuration and queues.
    /// let other = Engine::open(&path, EngineOptions::default())?;
    /// # drop((engine, other));
    /// # Ok(()) }
    /// ```
    pub fn open(path: impl AsRef<Path>, options: EngineOptions) -> Result<Engine> {
        if options.lease < Duration::from_secs(1) {
            return Err(Error::InvalidArgument {
                name: "lease",
                reason: "must be at least one second".into(),
            });
        }
        if options.max_violations == 0 {
            return Err(Error::InvalidArgument {
                name: "max_violations",
                reason: "must be at least 1".into(),
            });
        }
        let store = Store::open(
            path.as_ref(),
            StoreOptions {
                durability: options.durability,
                busy_timeout: options.busy_timeout,
                secrets_key: options.secrets_key.clone(),
                allow_network_filesystem: options.allow_network_filesystem,
            },
        )?;
        let core = Core::new(store, options);
        if let Some(key) = &core.options.secrets_key {
            let now = core.now();
            let sealed = core
                .store
                .write(Commit::Durable, move |db| db.seal_secrets_in_clear(now))?;
            if sealed > 0 {
                log::info!(
                    "sealed {sealed} secrets that were stored in clear, with key {}",
                    key.fingerprint()
                );
            }
        }
        // Warm the configuration cache, so the first calls need not prepare twice.
        core.store.read(|db| db.config().map(|_| ()))?;
        Ok(Engine {
            core: Arc::new(core),
            handlers: Arc::new(Handlers::default()),
            dispatcher: Arc::new(DispatcherSlot::default()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.core.store.path()
    }

    /// The current time by the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.core.now()
    }
}
