//! HTTP: the client of one endpoint (ureq 3 with rustls), shared by every HTTP-based
//! transport, and the arbitrary-HTTP subscriber.
//!
//! The client always sets timeouts (ureq has none by default), ignores proxy environment
//! variables unless the endpoint names a proxy, does not follow redirects (a redirected POST
//! is not a delivered one, so a 3xx is a failure naming the new location), accepts gzip, and
//! resolves host names through `resolver`, which remembers them for a while. It trusts the
//! roots of `tls::trusted_roots`: the system's store, the built-in web roots and the
//! endpoint's CA file.
//!
//! Outcome of a request: 2xx is success. 408, 429, 5xx, timeouts and connection errors are
//! transient and honour `Retry-After`. Any other status is a failure carrying the status and a
//! body excerpt. All failures are retried per the subscriber's policy.
//!
//! The arbitrary-HTTP subscriber sends the payload as `application/json` with the
//! configured method to the base address plus its path, the flow code and message id in
//! headers (`X-Flow`, `X-Message-ID`), path placeholders or query parameters.

use std::io::Read;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use super::resolver::CachingResolver;
use super::template::fill;
use super::{FailureKind, Outgoing, SendFailure, Transport};
use crate::config::{Auth, Endpoint, HttpMethod, HttpSettings, IdsIn};

/// Characters of an error response kept for the history.
const EXCERPT_CHARS: usize = 300;
/// Most bytes read of the answer to a delivery.
const MAX_RESPONSE_BYTES: u64 = 1 << 20;
/// Most bytes read of a fetched document (a schema, a polled resource).
const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// Characters percent-encoded in a path segment or query value.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An HTTP client for one endpoint: an agent with its timeouts, TLS and proxy, its base
/// address, and its authentication header.
pub(crate) struct EndpointClient {
    agent: ureq::Agent,
    pub(crate) base: String,
    auth: Option<(String, String)>,
}

/// An answer to a request.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) retry_after: Option<Duration>,
    location: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
}

impl Reply {
    /// True for 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The failure a non-2xx answer from `url` stands for.
    pub(crate) fn failure(&self, url: &str) -> SendFailure {
        let mut message = format!("{url} answered {}", self.status);
        if let Some(location) = self
            .location
            .as_ref()
            .filter(|_| (300..400).contains(&self.status))
        {
            message.push_str(&format!(
                ", redirecting to {location}; redirects are not followed"
            ));
        }
        let text = String::from_utf8_lossy(&self.body);
        let excerpt: String = text.trim().chars().take(EXCERPT_CHARS).collect();
        if !excerpt.is_empty() {
            message.push_str(": ");
            message.push_str(&excerpt);
        }
        SendFailure {
            message,
            status: Some(self.status),
            retry_after: self.retry_after,
            kind: if matches!(self.status, 408 | 429 | 500..=599) {
                FailureKind::Transient
            } else {
                FailureKind::Permanent
            },
        }
    }

    /// The `ETag` and `Last-Modified` validators of the answer.
    pub(crate) fn validators(&self) -> (Option<String>, Option<String>) {
        (self.etag.clone(), self.last_modified.clone())
    }
}

impl EndpointClient {
    /// Builds the client of `endpoint`.
    ///
    /// # Errors
    /// A message naming the endpoint when its TLS files cannot be read or its proxy is
    /// malformed.
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Self, String> {
        let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
        let mut tls = TlsConfig::builder().disable_verification(!endpoint.tls.verify);
        if !endpoint.tls.verify {
            log::warn!(
                "endpoint '{}': TLS certificate verification is switched off",
                endpoint.code
            );
        }
        if endpoint.tls.verify {
            let roots = super::tls::trusted_roots(endpoint)?;
            tls = tls.root_certs(RootCerts::from(
                roots
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned()),
            ));
        }
        let auth = match &endpoint.auth {
            Auth::None | Auth::Scram { .. } => None,
            Auth::Basic { username, password } => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                Some(("Authorization".to_owned(), format!("Basic {token}")))
            }
            Auth::Bearer { token } => Some((
                "Authorization".to_owned(),
                format!("Bearer {}", token.expose()),
            )),
            Auth::ApiKey { header, value } => Some((header.clone(), value.expose().to_owned())),
            Auth::ClientCertificate { certificate, key } => {
                let chain_pem = read_file(certificate).map_err(context)?;
                let chain = pem_certificates(&chain_pem)
                    .map_err(|e| context(format!("{}: {e}", certificate.display())))?;
                let key_pem = read_file(key).map_err(context)?;
                let key = PrivateKey::from_pem(&key_pem)
                    .map_err(|e| context(format!("{}: no private key ({e})", key.display())))?;
                tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
                None
            }
        };
        let proxy = match &endpoint.proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|e| context(format!("proxy '{p}': {e}")))?),
            None => None,
        };
        let read = endpoint.read_timeout;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(proxy)
            .timeout_connect(Some(endpoint.connect_timeout))
            .timeout_send_request(Some(read))
            .timeout_send_body(Some(read))
            .timeout_recv_response(Some(read))
            .timeout_recv_body(Some(read))
            .timeout_global(Some(endpoint.connect_timeout + read * 2))
            .user_agent(concat!("integra/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            CachingResolver::default(),
        );
        Ok(EndpointClient {
            agent,
            base: endpoint.address()?.http_base(),
            auth,
        })
    }

    /// Sends `body` (JSON) to `url` with `method` and `headers`, plus the endpoint's
    /// authentication.
    ///
    /// # Errors
    /// A [`SendFailure`] when no answer came (connection refused, timeout, TLS failure).
    pub(crate) fn send(
        &self,
        method: HttpMethod,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, SendFailure> {
        let mut request = match method {
            HttpMethod::Post => self.agent.post(url),
            HttpMethod::Put => self.agent.put(url),
            HttpMethod::Patch => self.agent.patch(url),
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((name, value)) = &self.auth {
            request = request.header(name, value);
        }
        let response = request
            .content_type("application/json")
            .send(body)
            .map_err(|e| request_failure(url, e))?;
        Ok(reply(url, response, MAX_RESPONSE_BYTES))
    }

    /// GETs `url` with `headers`, plus the endpoint's authentication; the body is read up to
    /// 64 MiB.
    ///
    /// # Errors
    /// A [`SendFailure`] when no answer came, or it is larger than that.
    pub(crate) fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, SendFailure> {
        let mut request = self.agent.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((name, value)) = &self.auth {
            request = request.header(name, value);
        }
        let response = request.call().map_err(|e| request_failure(url, e))?;
        let reply = reply(url, response, MAX_DOCUMENT_BYTES + 1);
        if reply.body.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err(SendFailure::permanent(format!(
                "{url}: the answer is larger than {MAX_DOCUMENT_BYTES} bytes"
            )));
        }
        Ok(reply)
    }
}

fn reply(url: &str, mut response: ureq::http::Response<ureq::Body>, max_bytes: u64) -> Reply {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let retry_after = header("retry-after").as_deref().and_then(parse_retry_after);
    let (location, etag, last_modified) =
        (header("location"), header("etag"), header("last-modified"));
    let mut body = Vec::new();
    if let Err(e) = response
        .body_mut()
        .as_reader()
        .take(max_bytes)
        .read_to_end(&mut body)
    {
        // A 2xx still means the far side accepted the message even if its answer broke off.
        log::debug!("{url}: reading the {status} response failed: {e}");
    }
    Reply {
        status,
        body,
        retry_after,
        location,
        etag,
        last_modified,
    }
}

fn request_failure(url: &str, e: ureq::Error) -> SendFailure {
    let message = format!("{url}: {e}");
    match e {
        ureq::Error::Timeout(_)
        | ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound => SendFailure::transient(message),
        _ => SendFailure::permanent(message),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let PemItem::Certificate(c) = item.map_err(|e| e.to_string())? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

/// An HTTP subscriber's transport.
pub struct HttpTransport {
    client: EndpointClient,
    settings: HttpSettings,
}

impl HttpTransport {
    /// Builds the transport of a subscriber with `settings` on `endpoint`.
    ///
    /// # Errors
    /// A message naming the endpoint when its TLS files cannot be read or its proxy is
    /// malformed.
    pub fn new(endpoint: &Endpoint, settings: &HttpSettings) -> Result<Self, String> {
        Ok(HttpTransport {
            client: EndpointClient::new(endpoint)?,
            settings: settings.clone(),
        })
    }

    /// The request URL for `m`.
    fn url(&self, m: &Outgoing<'_>) -> String {
        let flow = utf8_percent_encode(m.flow, COMPONENT).to_string();
        let id = utf8_percent_encode(m.message_id, COMPONENT).to_string();
        let path = fill(&self.settings.path, |placeholder| match placeholder {
            "{flow}" => Some(flow.as_str()),
            "{message_id}" => Some(id.as_str()),
            _ => None,
        });
        let mut url = format!("{}{path}", self.client.base);
        if self.settings.ids_in == IdsIn::Query {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("flow={flow}&message_id={id}"));
        }
        url
    }
}

impl Transport for HttpTransport {
    fn send(&self, m: &Outgoing<'_>) -> Result<(), SendFailure> {
        let url = self.url(m);
        let mut headers: Vec<(&str, &str)> = self
            .settings
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if self.settings.ids_in == IdsIn::Header {
            headers.push(("X-Message-ID", m.message_id));
            headers.push(("X-Flow", m.flow));
        }
        let reply = self
            .client
            .send(self.settings.method, &url, &headers, m.payload.as_bytes())?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.failure(&url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(settings: HttpSettings) -> HttpTransport {
        HttpTransport::new(&Endpoint::new("e", "http://127.0.0.1:9/base/"), &settings).unwrap()
    }

    pub(crate) fn message() -> Outgoing<'static> {
        Outgoing {
            message_id: "0190-ab",
            flow: "ЗАКАЗ ORDER",
            subscriber: "s",
            payload: "{}",
            object_key: None,
            ordering_key: None,
        }
    }

    #[test]
    fn urls_carry_ids_where_configured() {
        let t = transport(HttpSettings {
            path: "/in/{flow}/{message_id}".into(),
            ids_in: IdsIn::Path,
            ..HttpSettings::default()
        });
        assert_eq!(
            t.url(&message()),
            "http://127.0.0.1:9/base/in/%D0%97%D0%90%D0%9A%D0%90%D0%97%20ORDER/0190-ab"
        );
        let t = transport(HttpSettings {
            path: "/in?x=1".into(),
            ids_in: IdsIn::Query,
            ..HttpSettings::default()
        });
        assert_eq!(
            t.url(&message()),
            "http://127.0.0.1:9/base/in?x=1&flow=%D0%97%D0%90%D0%9A%D0%90%D0%97%20ORDER&message_id=0190-ab"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        let later = SystemTime::now() + Duration::from_secs(3600);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            d > Duration::from_secs(3500) && d <= Duration::from_secs(3600),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn unreadable_tls_files_name_the_endpoint() {
        let mut e = Endpoint::new("secure", "https://127.0.0.1:9");
        e.tls.ca_file = Some("/nonexistent/ca.pem".into());
        let err = HttpTransport::new(&e, &HttpSettings::default())
            .err()
            .unwrap();
        assert!(
            err.starts_with("endpoint 'secure': /nonexistent/ca.pem: cannot read it"),
            "{err}"
        );
    }
}
