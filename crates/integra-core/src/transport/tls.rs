//! TLS of endpoints: the roots an endpoint trusts ([`trusted_roots`]), shared by the HTTP
//! client and the brokers, and the rustls client configurations of broker endpoints
//! (RabbitMQ, Kafka, MQTT): certificate verification (on unless the endpoint switches it off,
//! which is logged), and the client certificate when the endpoint authenticates with one.
//!
//! An endpoint trusts the operating system's store (read with rustls-native-certs: on Linux
//! the files OpenSSL reads, `/etc/ssl/certs` or those `SSL_CERT_FILE` and `SSL_CERT_DIR`
//! name; the root stores on Windows; the keychains on macOS), so a CA the administrator added
//! there (the Russian Trusted Root CA, a company's CA) is trusted; and the web roots built in
//! (Mozilla's), so public sites are reached from a host whose store is missing or sparse (a
//! container without `ca-certificates`, a Windows server that fetches roots as its own
//! programs first need them). `tls.ca_file` adds to both; with `tls.system_roots` off, it is
//! all that is trusted. The store is read when a transport is built, at most once a minute, so
//! a certificate added to it is trusted from the next configuration change or restart on.

#![cfg_attr(
    not(feature = "brokers"),
    allow(
        dead_code,
        reason = "the rustls configurations are the brokers'; HTTP takes the roots alone"
    )
)]

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{Auth, Endpoint};

/// The root certificates `endpoint` trusts (see the module's docs).
///
/// # Errors
/// A message naming the endpoint and the file when `tls.ca_file` cannot be read or holds no
/// usable certificate.
pub(crate) fn trusted_roots(endpoint: &Endpoint) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut roots = Vec::new();
    if endpoint.tls.system_roots {
        roots.extend(system_store().iter().cloned());
        roots.extend(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    if let Some(ca) = &endpoint.tls.ca_file {
        roots.extend(
            ca_certificates(ca)
                .map_err(|e| format!("endpoint '{}': {}: {e}", endpoint.code, ca.display()))?,
        );
    }
    Ok(roots)
}

/// How long the system's store, once read, is used before it is read again: reading it
/// parses a few hundred files, and every transport built after a configuration change needs
/// it.
const STORE_TTL: Duration = Duration::from_secs(60);

/// The certificates of the operating system's store, read at most once per [`STORE_TTL`]; a
/// file it cannot read is logged, and the others are used.
fn system_store() -> Arc<Vec<CertificateDer<'static>>> {
    static READ: Mutex<Option<(Instant, Arc<Vec<CertificateDer<'static>>>)>> = Mutex::new(None);
    let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((at, certs)) = read.as_ref()
        && at.elapsed() < STORE_TTL
    {
        return Arc::clone(certs);
    }
    let store = rustls_native_certs::load_native_certs();
    for e in &store.errors {
        log::warn!("the system's certificate store: {e}");
    }
    let certs = Arc::new(store.certs);
    *read = Some((Instant::now(), Arc::clone(&certs)));
    certs
}

/// The certificates of a CA file (PEM), each usable as a root.
fn ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read it: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file".to_owned());
    }
    let mut check = RootCertStore::empty();
    for cert in &certs {
        check.add(cert.clone()).map_err(|e| e.to_string())?;
    }
    Ok(certs)
}

/// The rustls configuration of `endpoint`.
///
/// # Errors
/// A message naming the endpoint and the file when a certificate or key cannot be read.
pub(crate) fn client_config(endpoint: &Endpoint) -> Result<Arc<ClientConfig>, String> {
    let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| context(e.to_string()))?;
    let builder = if endpoint.tls.verify {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(trusted_roots(endpoint)?);
        builder.with_root_certificates(roots)
    } else {
        log::warn!(
            "endpoint '{}': TLS certificate verification is switched off",
            endpoint.code
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            )))
    };
    let config = match &endpoint.auth {
        Auth::ClientCertificate { certificate, key } => {
            let chain = CertificateDer::pem_file_iter(certificate)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| context(format!("{}: {e}", certificate.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| context(format!("{}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| context(format!("the client certificate cannot be used: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The PostgreSQL store's rustls configuration: with `verify`, the server is verified
/// against the system's store, the web roots and `ca_file` when given (its `sslrootcert`);
/// without, the connection is encrypted but the server not authenticated (libpq's
/// `sslmode=prefer` and `require`).
///
/// # Errors
/// A message naming the file when `ca_file` cannot be read or holds no usable certificate.
#[cfg(feature = "postgres")]
pub(crate) fn database_config(
    ca_file: Option<&Path>,
    verify: bool,
) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if !verify {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(system_store().iter().cloned());
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if let Some(ca) = ca_file {
        roots.add_parsable_certificates(
            ca_certificates(ca).map_err(|e| format!("{}: {e}", ca.display()))?,
        );
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// Accepts any server certificate: only for endpoints that switch verification off. The
/// handshake's signatures are still checked, so the connection is encrypted, if not
/// authenticated.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
