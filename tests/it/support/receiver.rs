//! A real HTTP server standing in for a subscriber (a web shop, a WMS): it records every
//! request and answers as the test tells it to.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
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
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: Vec::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok() -> Self {
        Reply::status(200)
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.as_bytes().to_vec();
        self
    }

    pub fn bytes(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Behaviour = Box<dyn FnMut(&Received) -> Reply + Send>;

/// A running receiver. Dropping it stops the server.
pub struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// A receiver that answers 200 to everything.
    pub fn ok() -> Self {
        Receiver::start(|_| Reply::ok())
    }

    /// A receiver that answers with `behaviour`.
    pub fn start(behaviour: impl FnMut(&Received) -> Reply + Send + 'static) -> Self {
        Receiver::start_on("127.0.0.1:0", behaviour)
    }

    /// A receiver on `address` (e.g. the port of one that was stopped) that answers with
    /// `behaviour`.
    pub fn start_on(
        address: &str,
        behaviour: impl FnMut(&Received) -> Reply + Send + 'static,
    ) -> Self {
        let server = Arc::new(tiny_http::Server::http(address).expect("bind a loopback port"));
        let url = format!(
            "http://{}",
            server.server_addr().to_ip().expect("an IP address")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour: Arc<Mutex<Behaviour>> = Arc::new(Mutex::new(Box::new(behaviour)));
        let thread = {
            let (server, received, behaviour) = (
                Arc::clone(&server),
                Arc::clone(&received),
                Arc::clone(&behaviour),
            );
            std::thread::spawn(move || {
                // Each request is answered on its own thread, so a slow reply holds up nothing else.
                for mut request in server.incoming_requests() {
                    let mut body = String::new();
                    let _ = request.as_reader().read_to_string(&mut body);
                    let r = Received {
                        method: request.method().to_string(),
                        url: request.url().to_owned(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|h| (h.field.to_string(), h.value.to_string()))
                            .collect(),
                        body,
                    };
                    let reply = (behaviour.lock().unwrap())(&r);
                    received.lock().unwrap().push(r);
                    std::thread::spawn(move || {
                        std::thread::sleep(reply.delay);
                        let mut response = tiny_http::Response::from_data(reply.body)
                            .with_status_code(reply.status);
                        for (k, v) in reply.headers {
                            response.add_header(tiny_http::Header::from_bytes(k, v).unwrap());
                        }
                        let _ = request.respond(response);
                    });
                }
            })
        };
        Receiver {
            url,
            received,
            behaviour,
            server,
            thread: Some(thread),
        }
    }

    /// Changes how the receiver answers from now on.
    pub fn set_behaviour(&self, behaviour: impl FnMut(&Received) -> Reply + Send + 'static) {
        *self.behaviour.lock().unwrap() = Box::new(behaviour);
    }

    /// The base address, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived; panics after `timeout`.
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
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
