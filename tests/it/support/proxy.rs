//! A TCP proxy in front of a real broker. It can terminate TLS with the test PKI (and require
//! a client certificate), so TLS clients are tested against real brokers; it counts the
//! connections clients open; and it can record the Kafka requests passing through, to check
//! the protocol versions a client sends; and it can lose the server's replies, so a client
//! sees a request fail that the server carried out.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running proxy.
pub struct Proxy {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<(i16, i16)>>>,
    _runtime: tokio::runtime::Runtime,
}

/// What the proxy does besides forwarding.
#[derive(Default, Clone)]
pub struct ProxyOptions {
    /// Terminate TLS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Record (api key, api version) of each Kafka request from the client.
    pub record_kafka: bool,
    /// While this is true, a reply from the server is dropped and the client's connection
    /// closed instead.
    pub lose_replies: Option<Arc<AtomicBool>>,
}

impl Proxy {
    /// A proxy to `127.0.0.1:upstream` on `port` (0 for any free port).
    pub fn start(port: u16, upstream: u16, options: ProxyOptions) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, record) = (Arc::clone(&connections), Arc::clone(&requests));
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (options, record) = (options.clone(), Arc::clone(&record));
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    match &options.tls {
                        Some(config) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(config));
                            if let Ok(stream) = acceptor.accept(client).await {
                                pipe(stream, server, &options, record).await;
                            }
                        }
                        None => pipe(client, server, &options, record).await,
                    }
                });
            }
        });
        Proxy {
            port,
            connections,
            requests,
            _runtime: runtime,
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The (api key, api version) of every Kafka request seen.
    pub fn kafka_requests(&self) -> Vec<(i16, i16)> {
        self.requests.lock().unwrap().clone()
    }
}

async fn pipe<C>(
    client: C,
    server: TcpStream,
    options: &ProxyOptions,
    record: Arc<Mutex<Vec<(i16, i16)>>>,
) where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let (mut from_client, mut to_client) = tokio::io::split(client);
    let (mut from_server, mut to_server) = server.into_split();
    let up = async {
        if !options.record_kafka {
            let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
            return;
        }
        // Kafka frames: a 4-byte length, then api key (2 bytes) and api version (2 bytes).
        loop {
            let mut length = [0u8; 4];
            if from_client.read_exact(&mut length).await.is_err() {
                return;
            }
            let mut frame = vec![0u8; i32::from_be_bytes(length).max(0) as usize];
            if from_client.read_exact(&mut frame).await.is_err() {
                return;
            }
            if frame.len() >= 4 {
                let key = i16::from_be_bytes([frame[0], frame[1]]);
                let version = i16::from_be_bytes([frame[2], frame[3]]);
                record.lock().unwrap().push((key, version));
            }
            if to_server.write_all(&length).await.is_err()
                || to_server.write_all(&frame).await.is_err()
            {
                return;
            }
        }
    };
    let down = async {
        let Some(lose) = &options.lose_replies else {
            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
            return;
        };
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if lose.load(Ordering::SeqCst) || to_client.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = up => {},
        () = down => {},
    }
}
