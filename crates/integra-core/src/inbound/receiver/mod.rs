//! The HTTP receiver: one listener's server, run inside the process on a private runtime.
//!
//! HTTP/1.1 is parsed by hyper. The receiver adds what keeps a hostile or broken client from
//! exhausting it: a cap on open connections with a share for each client, where connections
//! only waiting for a request head make room for new ones (`admission`); a bound on the
//! request head (431), on the body (413) and on the time to send either (the head within the
//! request timeout, else the connection is closed; the body within it, else 408); a budget
//! of body bytes being checked at once, which bounds the memory parsing takes (`body`);
//! and an idle timeout that closes connections doing nothing. Storing runs on the runtime's
//! blocking threads, so slow clients never hold a thread while they dawdle.
//!
//! The listener's settings are read when it starts; flows and schemas are read per request,
//! so changing them needs no restart. Every process serving the same listener of the same
//! database shares its port (`bind`): the working processes of a 1C server each start it.

mod admin;
mod admission;
mod answer;
mod auth;
mod bind;
mod body;
mod connection;
mod service;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::watch;

pub use service::PATH_HEADER;

use crate::core::Core;
use crate::dispatch::Handlers;
use crate::error::{Error, Result};
use admission::Admission;
use service::Service;

/// How long [`Receiver::stop`] lets requests in flight finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running listener. Dropping it stops it, as [`Receiver::stop`] does: keep it for as
/// long as the listener should serve.
///
/// A receiver whose result is ignored would stop at once, so ignoring it is refused where
/// `unused_must_use` is denied (issue 22):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// fn serve(engine: &integra_core::Engine) -> integra_core::Result<()> {
///     engine.start_receiver("main")?; // dropped here: the listener would stop at once
///     Ok(())
/// }
/// ```
#[must_use = "dropping a Receiver stops it: keep it for as long as it should run"]
pub struct Receiver {
    code: String,
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
    admission: Arc<Admission>,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("listener", &self.code)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// The address it listens on (with the port the system chose, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// The listener's code.
    pub fn listener(&self) -> &str {
        &self.code
    }

    /// Stops accepting connections, lets requests in flight finish for up to 5 s, and
    /// closes everything.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let _ = self.shutdown.send(true);
        if tokio::runtime::Handle::try_current().is_err() {
            let admission = Arc::clone(&self.admission);
            runtime.block_on(async move {
                let _ = tokio::time::timeout(STOP_GRACE, admission.all_ended()).await;
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        } else {
            runtime.shutdown_background();
        }
        log::info!("receiver '{}' stopped", self.code);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl Receiver {
    /// Binds listener `code` of the configuration and serves it on `core`, with `handlers`
    /// ([`Engine::start_receiver`](crate::Engine::start_receiver)).
    pub(crate) fn start(core: Arc<Core>, handlers: Arc<Handlers>, code: &str) -> Result<Receiver> {
        let config = core
            .store
            .read(|db| Ok::<_, Error>(db.config()?.config().clone()))?;
        let listener = config
            .listeners
            .iter()
            .find(|l| l.code == code)
            .cloned()
            .ok_or_else(|| Error::UnknownListener {
                code: code.to_owned(),
            })?;
        let listen_error = |source: std::io::Error| Error::Listen {
            listener: code.to_owned(),
            address: listener.address.clone(),
            source,
        };
        let wanted = listener.socket_address().map_err(|reason| {
            listen_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                reason,
            ))
        })?;
        let identity = bind::identity(core.store.path(), code);
        let socket = bind::bind(wanted, &identity).map_err(listen_error)?;
        let identity = hyper::header::HeaderValue::from_str(&identity)
            .map_err(|e| listen_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        socket.set_nonblocking(true).map_err(listen_error)?;
        let address = socket.local_addr().map_err(listen_error)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(32)
            .thread_name(format!("integra-receiver-{code}"))
            .enable_all()
            .build()
            .map_err(|source| Error::Spawn {
                what: "the receiver",
                source,
            })?;
        let socket = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(socket).map_err(listen_error)?
        };
        let admission = Arc::new(Admission::new(
            listener.limits.max_connections,
            listener.limits.connections_per_client(),
        ));
        let (shutdown, stopping) = watch::channel(false);
        let service = Arc::new(Service {
            core,
            handlers,
            budget: body::Budget::new(&listener.limits),
            listener,
            identity,
        });
        runtime.spawn(connection::accept_loop(
            socket,
            service,
            Arc::clone(&admission),
            stopping,
        ));
        log::info!("receiver '{code}' listening on http://{address}");
        Ok(Receiver {
            code: code.to_owned(),
            address,
            shutdown,
            admission,
            runtime: Some(runtime),
        })
    }
}
