//! The trivial loopback HTTP server every HTTP figure is measured against: a thread per
//! connection, keep-alive, `TCP_NODELAY`; it reads the request head and body and answers
//! `200 ok` at once. It counts what it received and, when asked, notes when each message id
//! (the `X-Message-ID` header) arrived, for end-to-end latencies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    record: AtomicBool,
    arrivals: Mutex<HashMap<String, Instant>>,
}

/// A running server; it lives as long as the process (its threads block on their sockets).
pub struct Sink {
    /// `http://127.0.0.1:{port}`.
    pub url: String,
    seen: Arc<Seen>,
}

impl Sink {
    /// Starts a server on a free loopback port.
    pub fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Seen::default());
        let shared = Arc::clone(&seen);
        std::thread::Builder::new()
            .name("bench-sink".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let seen = Arc::clone(&shared);
                    let _ = std::thread::Builder::new()
                        .name("bench-sink-conn".into())
                        .spawn(move || serve(stream, &seen));
                }
            })?;
        Ok(Sink { url, seen })
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.seen.requests.load(Ordering::Acquire)
    }

    /// Starts or stops noting arrival times (cleared when started).
    pub fn record_arrivals(&self, on: bool) {
        if on {
            self.arrivals().clear();
        }
        self.seen.record.store(on, Ordering::Release);
    }

    /// When each message id arrived, while recording was on.
    pub fn take_arrivals(&self) -> HashMap<String, Instant> {
        std::mem::take(&mut *self.arrivals())
    }

    fn arrivals(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.seen
            .arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `count` requests were answered; false if that took longer than
    /// `timeout`.
    pub fn wait_for(&self, count: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.requests() < count {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, seen: &Seen) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut length = 0usize;
        let mut message_id = None;
        // The request line, then headers up to the blank line.
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("x-message-id") {
                    message_id = Some(value.to_owned());
                }
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if seen.record.load(Ordering::Acquire)
            && let Some(id) = message_id
        {
            seen.arrivals
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, Instant::now());
        }
        seen.requests.fetch_add(1, Ordering::AcqRel);
        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}
