//! A TLS server for testing certificate verification and client certificates: a private CA
//! (rcgen), a server certificate for 127.0.0.1, and a client certificate, over rustls. It
//! answers every request with 200; the HTTP it speaks is the least a client needs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Certificates written to files, as an endpoint's configuration names them.
pub struct Pki {
    pub ca_file: PathBuf,
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    ca_der: CertificateDer<'static>,
    server_cert: CertificateDer<'static>,
    server_key: Vec<u8>,
    /// The server's certificate and key in PEM.
    server_pem: (String, String),
}

impl Pki {
    pub fn create(dir: &Path) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own, as two real CAs have: a client trusting two test CAs tells
        // them apart.
        let name = format!("Integra test CA {}", uuid::Uuid::new_v4().simple());
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let client = CertificateParams::new(vec!["integra-client".to_owned()])
            .unwrap()
            .signed_by(&client_key, &ca)
            .unwrap();
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Pki {
            ca_file: write("ca.pem", ca.pem()),
            client_cert_file: write("client.pem", client.pem()),
            client_key_file: write("client.key", client_key.serialize_pem()),
            ca_der: ca.der().clone(),
            server_cert: server.der().clone(),
            server_key: server_key.serialize_der(),
            server_pem: (server.pem(), server_key.serialize_pem()),
        }
    }
}

impl Pki {
    /// The server's certificate and key as PEM files in `dir`: for servers that read them
    /// (PostgreSQL).
    pub fn server_files(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("server.crt");
        let key = dir.join("server.key");
        std::fs::write(&cert, &self.server_pem.0).unwrap();
        std::fs::write(&key, &self.server_pem.1).unwrap();
        (cert, key)
    }

    /// A rustls server configuration with the server certificate; with
    /// `require_client_cert`, only clients holding a certificate from the same CA get through.
    pub fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        Arc::new(
            builder
                .with_single_cert(vec![self.server_cert.clone()], key)
                .unwrap(),
        )
    }
}

impl Pki {
    /// A rustls client configuration trusting the CA and presenting the client certificate.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let chain = vec![CertificateDer::from_pem_file(&self.client_cert_file).unwrap()];
        let key = PrivateKeyDer::from_pem_file(&self.client_key_file).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }
}

/// A running TLS server on 127.0.0.1.
pub struct TlsServer {
    pub url: String,
    pub served: Arc<AtomicUsize>,
    pub handshake_errors: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    /// Starts a server; with `require_client_cert`, only clients holding a certificate from
    /// the same CA get through the handshake.
    pub fn start(pki: &Pki, require_client_cert: bool) -> TlsServer {
        let config = pki.server_config(require_client_cert);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let served = Arc::new(AtomicUsize::new(0));
        let handshake_errors = Arc::new(Mutex::new(Vec::new()));
        let (s, e) = (Arc::clone(&served), Arc::clone(&handshake_errors));
        // The thread ends with the test process; each connection is served in turn.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                match read_request(&mut tls) {
                    Ok(()) => {
                        let _ = tls.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        );
                        let _ = tls.flush();
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                        s.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(err) => e.lock().unwrap().push(err.to_string()),
                }
            }
        });
        TlsServer {
            url,
            served,
            handshake_errors,
        }
    }
}

/// Reads one request: the head, then as many body bytes as Content-Length says.
fn read_request(stream: &mut impl Read) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "connection closed before the request ended",
            ));
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            return Ok(());
        }
    }
}
