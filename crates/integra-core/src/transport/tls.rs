//! rustls client configurations for broker endpoints (RabbitMQ, Kafka, MQTT) that connect
//! over TLS: the roots to trust (the endpoint's CA file, or the built-in web roots, so no
//! system OpenSSL or certificate store is needed), certificate verification (on unless the
//! endpoint switches it off, which is logged), and the client certificate when the endpoint
//! authenticates with one.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{Auth, Endpoint};

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
        match &endpoint.tls.ca_file {
            Some(ca) => {
                for cert in CertificateDer::pem_file_iter(ca)
                    .map_err(|e| context(format!("{}: {e}", ca.display())))?
                {
                    let cert = cert.map_err(|e| context(format!("{}: {e}", ca.display())))?;
                    roots
                        .add(cert)
                        .map_err(|e| context(format!("{}: {e}", ca.display())))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
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
