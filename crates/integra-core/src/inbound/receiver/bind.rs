//! Binding a listener's address, shared by every process that serves the same listener of
//! the same database.
//!
//! A 1C server runs several working processes, and any of them may start the server; so may
//! several copies of a Rust or C service on one host. On Unix each binds the listener's
//! port with `SO_REUSEPORT` and the kernel spreads the connections over them: every process
//! serving stores into the same database, where the incoming queue keeps each message id
//! once, so a sender's repeat lands once whichever process takes it. The port is shared
//! only with the same listener of the same database: before joining an address that is
//! bound already, the receiver asks the one serving it at `/health` for its identity (the
//! [`IDENTITY_HEADER`]), and anything else holding the port (another program, another
//! database's listener) refuses the start with "address in use", as before. Port 0 (a port
//! the system picks) is never shared. Windows has no `SO_REUSEPORT`: there one process
//! serves a port and the others' starts are refused.

use std::io;
#[cfg(unix)]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use sha2::{Digest, Sha256};

/// The header `/health` names its listener's identity in ([`identity`]).
pub(super) const IDENTITY_HEADER: &str = "x-integra-listener";

/// How long asking the process holding a port for its identity may take.
#[cfg(unix)]
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Connections waiting to be accepted, per process.
#[cfg(unix)]
const BACKLOG: i32 = 1024;

/// The identity of listener `code` on the database at `path`: the same in every process
/// on this host that serves it, and different for any other listener or database. A digest,
/// so the path is not shown to the network.
pub(super) fn identity(path: &Path, code: &str) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut digest = Sha256::new();
    digest.update(path.as_os_str().as_encoded_bytes());
    digest.update([0]);
    digest.update(code.as_bytes());
    hex::encode(&digest.finalize()[..16])
}

/// A listening socket on `address` for the listener whose identity is `identity`: alone,
/// or beside the other processes serving the same listener.
///
/// # Errors
/// The system's error, and [`io::ErrorKind::AddrInUse`] when anything other than this
/// listener holds the address.
pub(super) fn bind(address: SocketAddr, identity: &str) -> io::Result<TcpListener> {
    if address.port() == 0 {
        return TcpListener::bind(address);
    }
    shared(address, identity)
}

#[cfg(unix)]
fn shared(address: SocketAddr, identity: &str) -> io::Result<TcpListener> {
    // Alone on the address, or beside what holds it: a socket without SO_REUSEPORT cannot
    // bind beside a listener, so this tells whether anything does.
    match socket(address, false).and_then(|s| s.bind(&address.into())) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            if !served_as(address, identity) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "{e}: another program, or another database's listener, serves it (the port is shared only by the processes serving this listener of this database)"
                    ),
                ));
            }
        }
        Err(e) => return Err(e),
    }
    let socket = socket(address, true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

#[cfg(not(unix))]
fn shared(address: SocketAddr, _identity: &str) -> io::Result<TcpListener> {
    TcpListener::bind(address)
}

/// A TCP socket for `address`, as the standard library makes one (`SO_REUSEADDR`, so a
/// restart is not kept waiting by connections closing), with `SO_REUSEPORT` when `share`.
#[cfg(unix)]
fn socket(address: SocketAddr, share: bool) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if share {
        socket.set_reuse_port(true)?;
    }
    Ok(socket)
}

/// Whether the process listening on `address` serves the listener `identity` names: its
/// `/health` says so.
#[cfg(unix)]
fn served_as(address: SocketAddr, identity: &str) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(PROBE_TIMEOUT))
        .build()
        .into();
    let url = format!("http://{}/health", reachable(address));
    match agent.get(&url).call() {
        Ok(answer) => answer
            .headers()
            .get(IDENTITY_HEADER)
            .is_some_and(|h| h.as_bytes() == identity.as_bytes()),
        Err(_) => false,
    }
}

/// Where a connection to a socket bound to `address` goes: the loopback address for an
/// unspecified one (`0.0.0.0`, `::`).
#[cfg(unix)]
fn reachable(address: SocketAddr) -> SocketAddr {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, address.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_of_a_database_has_one_identity_and_others_another() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        std::fs::write(&a, "").unwrap();
        let spelled = dir.path().join(".").join("a.db");
        assert_eq!(identity(&a, "main"), identity(&spelled, "main"));
        assert_ne!(identity(&a, "main"), identity(&a, "other"));
        assert_ne!(identity(&a, "main"), identity(&b, "main"));
        assert_eq!(identity(&a, "main").len(), 32);
    }

    #[cfg(unix)]
    #[test]
    fn an_address_held_by_something_else_is_refused_naming_why() {
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = holder.local_addr().unwrap();
        let err = bind(address, "someone").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("another program"), "{err}");
        let unspecified = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 8780);
        assert_eq!(reachable(unspecified), "[::1]:8780".parse().unwrap());
    }
}
