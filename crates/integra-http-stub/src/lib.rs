//! A real HTTP/1.1 server standing in for a subscriber (a web shop, a WMS): it records every
//! request and answers as its user tells it to. Integra's integration tests, the add-in's
//! host test and the quick start example all deliver to it. It is written on `std::net`
//! because tiny_http's connection pool can leave a new connection unserved while another
//! stays open (a stale idle-thread count), which made deliveries time out under load.
//!
//! It is test support, not a server to expose: it trusts what it reads (a request is held
//! whole in memory) and its panicking constructors stop a test that cannot bind a port.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// `POST`, `GET`…
    pub method: String,
    /// The request target: path and query.
    pub url: String,
    /// The headers in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body (by `Content-Length` or chunked), as text (invalid UTF-8 replaced).
    pub body: String,
}

impl Received {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Reply {
    /// An empty answer with `status`.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: Vec::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// An empty 200.
    pub fn ok() -> Self {
        Reply::status(200)
    }

    /// With `body` as text.
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.as_bytes().to_vec();
        self
    }

    /// With `body` as bytes.
    pub fn bytes(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// With one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answered after `d`.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Behaviour = Box<dyn FnMut(&Received) -> Reply + Send>;

/// A running receiver: a listener with a thread per connection (keep-alive honoured).
/// Dropping it closes the listener and every open connection, as a stopped server would.
pub struct Receiver {
    url: String,
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stopping: Arc<AtomicBool>,
    /// The open connections by number, each removed when it ends.
    connections: Arc<Mutex<HashMap<u64, TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// A receiver on a free loopback port that answers 200 to everything.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn ok() -> Self {
        Receiver::start(|_| Reply::ok())
    }

    /// A receiver on a free loopback port that answers with `behaviour`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(behaviour: impl FnMut(&Received) -> Reply + Send + 'static) -> Self {
        Receiver::start_on("127.0.0.1:0", behaviour)
    }

    /// A receiver on `address` (e.g. the port of one that was stopped) that answers with
    /// `behaviour`.
    ///
    /// # Panics
    /// When `address` cannot be bound.
    pub fn start_on(
        address: &str,
        behaviour: impl FnMut(&Received) -> Reply + Send + 'static,
    ) -> Self {
        Receiver::bind(address, behaviour)
            .unwrap_or_else(|e| panic!("the test server cannot listen on {address}: {e}"))
    }

    /// A receiver on `address` that answers with `behaviour`.
    ///
    /// # Errors
    /// When `address` cannot be bound, or its accepting thread cannot start.
    pub fn bind(
        address: &str,
        behaviour: impl FnMut(&Received) -> Reply + Send + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour: Arc<Mutex<Behaviour>> = Arc::new(Mutex::new(Box::new(behaviour)));
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(HashMap::new()));
        let thread = {
            let (received, behaviour, stopping, connections) = (
                Arc::clone(&received),
                Arc::clone(&behaviour),
                Arc::clone(&stopping),
                Arc::clone(&connections),
            );
            std::thread::Builder::new()
                .name("http-stub".into())
                .spawn(move || {
                    for (number, stream) in (0u64..).zip(listener.incoming()) {
                        if stopping.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        if let Ok(clone) = stream.try_clone() {
                            lock(&connections).insert(number, clone);
                        }
                        let (received, behaviour, connections) = (
                            Arc::clone(&received),
                            Arc::clone(&behaviour),
                            Arc::clone(&connections),
                        );
                        // Each connection is served on its own thread, so a slow reply holds
                        // up nothing else.
                        std::thread::spawn(move || {
                            serve(stream, &received, &behaviour);
                            lock(&connections).remove(&number);
                        });
                    }
                })?
        };
        Ok(Receiver {
            url: format!("http://{address}"),
            address,
            received,
            behaviour,
            stopping,
            connections,
            thread: Some(thread),
        })
    }

    /// Changes how the receiver answers from now on.
    pub fn set_behaviour(&self, behaviour: impl FnMut(&Received) -> Reply + Send + 'static) {
        *lock(&self.behaviour) = Box::new(behaviour);
    }

    /// The base address, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.received).clone()
    }

    /// Waits until `n` requests arrived.
    ///
    /// # Panics
    /// When fewer have arrived after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < timeout,
                "expected {n} requests within {timeout:?}, got {}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stopping` and closes the listener.
        let _ = TcpStream::connect(self.address);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for (_, connection) in lock(&self.connections).drain() {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }
}

/// `mutex` locked, whether or not a holder panicked (a behaviour that panics fails its
/// request, not the server).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves one connection: request after request until the client closes it or asks to.
fn serve(stream: TcpStream, received: &Mutex<Vec<Received>>, behaviour: &Mutex<Behaviour>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = (lock(behaviour))(&request);
        lock(received).push(request);
        std::thread::sleep(reply.delay);
        if write_reply(&mut writer, reply).is_err() || close {
            return;
        }
    }
}

/// Reads one request (its body by `Content-Length` or chunked); None at the end of the
/// connection or on a malformed request.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, url) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = Received {
        method,
        url,
        headers,
        body: String::new(),
    };
    let body = if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        read_chunked(reader)?
    } else {
        let length: usize = request
            .header("content-length")
            .unwrap_or("0")
            .parse()
            .ok()?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    request.body = String::from_utf8_lossy(&body).into_owned();
    Some(request)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

fn write_reply(writer: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} Status\r\nContent-Length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // One write: a head and a body written apart wait on the client's delayed ACK (Nagle),
    // tens of milliseconds per answer.
    let mut answer = head.into_bytes();
    answer.extend_from_slice(&reply.body);
    writer.write_all(&answer)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request on a fresh connection, read to the end of its answer's body.
    fn get(stream: &mut TcpStream, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: stub\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap_or_default();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or_default() == 0 || line == "\r\n" {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.trim().parse().unwrap_or_default();
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap_or_default();
        head + &String::from_utf8_lossy(&body)
    }

    /// Issue 22: what tiny_http's pool sometimes failed to do: a new connection is served
    /// while another stays open between its requests.
    #[test]
    fn a_new_connection_is_served_while_another_stays_open() {
        let stub = Receiver::start(|r| Reply::ok().body(&r.url));
        let connect = || {
            let stream = TcpStream::connect(stub.address).unwrap_or_else(|e| panic!("{e}"));
            // A guard against a hang, not a measure: the answers come at once.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            stream
        };
        let mut idle = connect();
        assert!(get(&mut idle, "/first").ends_with("/first"));
        let mut other = connect();
        assert!(get(&mut other, "/second").ends_with("/second"));
        assert!(get(&mut idle, "/third").ends_with("/third"));
        let urls: Vec<String> = stub.received().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["/first", "/second", "/third"]);
    }
}
