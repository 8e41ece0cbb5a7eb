//! Engines shared by the handles that open the same database file in this process, each
//! with what its handles started: at most one server (receivers and sources). The registry
//! holds weak references: the engine, its dispatcher, receivers and sources stop when the
//! last handle lets go, inside that handle's close (so a 1C `DestroyObject` returns only
//! after every background thread of the engine has stopped).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::settings::{OpenSettings, ServerSettings};
use crate::core::EngineOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::inbound::sources::Sources;
use crate::secrets::SecretsKey;

/// What runs for an engine on behalf of its handles.
#[derive(Default)]
struct Server {
    #[cfg(feature = "receiver")]
    receivers: Vec<crate::inbound::receiver::Receiver>,
    sources: Option<Sources>,
    /// The settings it was started with.
    settings: Option<ServerSettings>,
}

impl Server {
    fn is_running(&self) -> bool {
        #[cfg(feature = "receiver")]
        if !self.receivers.is_empty() {
            return true;
        }
        self.sources.is_some()
    }
}

/// One engine and its server.
pub(super) struct Shared {
    pub(super) engine: Engine,
    server: Mutex<Server>,
}

/// Engines by canonical database path.
static REGISTRY: Mutex<Option<HashMap<PathBuf, Weak<Shared>>>> = Mutex::new(None);

/// The canonical form of a file's path (its directory resolved), so two spellings of one
/// file are one: handles share an engine, or a log. A PostgreSQL URL is taken as it is.
pub(super) fn canonical(path: &Path) -> PathBuf {
    if crate::store::is_postgres_url(path) {
        return path.to_owned();
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::canonicalize(dir).map_or_else(|_| path.to_owned(), |d| d.join(name))
        }
        _ => path.to_owned(),
    }
}

/// The engine on `settings.database`, opened if no handle has it open.
pub(super) fn open(settings: &OpenSettings) -> Result<Arc<Shared>> {
    let key = canonical(&settings.database);
    let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    let engines = registry.get_or_insert_with(HashMap::new);
    engines.retain(|_, weak| weak.strong_count() > 0);
    // An engine whose file was deleted or replaced refuses all work: a handle opening the
    // path now gets an engine on the file that is there.
    let secrets_key = settings.secrets_key()?;
    if let Some(shared) = engines.get(&key).and_then(Weak::upgrade)
        && shared.engine.core.store.check_file().is_ok()
    {
        let options = &shared.engine.core.options;
        let fingerprint = |k: &Option<SecretsKey>| {
            k.as_ref()
                .map_or("none".to_owned(), |k| k.fingerprint().to_owned())
        };
        let mismatch = if options.durability != settings.durability {
            Some(("durability", options.durability.as_str().to_owned()))
        } else if fingerprint(&options.secrets_key) != fingerprint(&secrets_key) {
            Some(("secrets key", fingerprint(&options.secrets_key)))
        } else {
            None
        };
        if let Some((name, open_with)) = mismatch {
            return Err(Error::InvalidArgument {
                name,
                reason: format!(
                    "database '{}' is open in this process with {name} '{open_with}', and all handles on one database share its engine; open it with '{open_with}' too, or close the other handles first",
                    shared.engine.path().display(),
                ),
            });
        }
        return Ok(shared);
    }
    let options = EngineOptions {
        durability: settings.durability,
        secrets_key,
        allow_network_filesystem: settings.allow_network_filesystem,
        ..EngineOptions::default()
    };
    let shared = Arc::new(Shared {
        engine: Engine::open(&key, options)?,
        server: Mutex::new(Server::default()),
    });
    engines.insert(key, Arc::downgrade(&shared));
    Ok(shared)
}

impl Shared {
    fn server(&self) -> std::sync::MutexGuard<'_, Server> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the listeners and sources `settings` name: true when it started them, false
    /// when a server started with the same settings runs already.
    ///
    /// # Errors
    /// [`Error::ServerRunning`] when the server running was started with other settings.
    pub(super) fn start_server(&self, settings: &ServerSettings) -> Result<bool> {
        let mut server = self.server();
        if server.is_running() {
            return if server.settings.as_ref() == Some(settings) {
                Ok(false)
            } else {
                Err(Error::ServerRunning)
            };
        }
        let mut started = Server {
            settings: Some(settings.clone()),
            ..Server::default()
        };
        let listeners = match &settings.listeners {
            Some(listeners) => listeners.clone(),
            None => self
                .engine
                .config()?
                .listeners
                .iter()
                .map(|l| l.code.clone())
                .collect(),
        };
        #[cfg(feature = "receiver")]
        for code in &listeners {
            started.receivers.push(self.engine.start_receiver(code)?);
        }
        #[cfg(not(feature = "receiver"))]
        if let Some(code) = listeners.first() {
            return Err(Error::UnknownListener {
                code: format!("{code} (this build has no HTTP receiver: cargo feature 'receiver')"),
            });
        }
        if settings.sources {
            started.sources = Some(self.engine.start_sources()?);
        }
        *server = started;
        Ok(true)
    }

    /// Stops the server; false when none ran.
    pub(super) fn stop_server(&self) -> bool {
        let stopped = std::mem::take(&mut *self.server());
        stopped.is_running()
    }
}
