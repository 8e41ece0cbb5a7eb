//! The HTTP subscriber: one request per delivery, through ureq 3 with rustls.
//!
//! The payload goes as `application/json` with the configured method to the endpoint's base
//! address plus the subscriber's path, the flow code and message id in headers (`X-Flow`,
//! `X-Message-ID`), path placeholders or query parameters. Timeouts are always set (ureq
//! has none by default); proxy environment variables are ignored unless the endpoint names
//! a proxy; redirects are not followed (a redirected POST is not a delivered one), so a 3xx
//! is a failure naming the new location. gzip responses are accepted.
//!
//! Outcome: 2xx is Sent. 408, 429, 5xx, timeouts and connection errors are transient and
//! honour `Retry-After`. Any other status is a failure carrying the status and a body
//! excerpt. All failures are retried per the subscriber's policy.

use std::io::Read;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use super::{Outgoing, SendFailure, Transport};
use crate::config::{Auth, Endpoint, HttpMethod, HttpSettings, IdsIn};

/// Bytes of an error response kept for the history.
const EXCERPT_CHARS: usize = 300;
/// Most bytes read of any response body.
const MAX_RESPONSE_BYTES: u64 = 1 << 20;

/// Characters percent-encoded in a path segment or query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An HTTP client for one endpoint: an agent with its timeouts, TLS and proxy, its base
/// address, and its authentication header. Shared by HTTP-based transports and by the
/// fetching of external schemas.
pub(crate) struct EndpointClient {
    pub(crate) agent: ureq::Agent,
    pub(crate) base: String,
    pub(crate) auth: Option<(String, String)>,
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
        if let Some(ca) = &endpoint.tls.ca_file {
            let pem = read_file(ca).map_err(context)?;
            let certs =
                pem_certificates(&pem).map_err(|e| context(format!("{}: {e}", ca.display())))?;
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let mut auth = None;
        match &endpoint.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                auth = Some(("Authorization".to_owned(), format!("Basic {token}")));
            }
            Auth::Bearer { token } => {
                auth = Some((
                    "Authorization".to_owned(),
                    format!("Bearer {}", token.expose()),
                ));
            }
            Auth::ApiKey { header, value } => {
                auth = Some((header.clone(), value.expose().to_owned()));
            }
            Auth::ClientCertificate { certificate, key } => {
                let chain_pem = read_file(certificate).map_err(context)?;
                let chain = pem_certificates(&chain_pem)
                    .map_err(|e| context(format!("{}: {e}", certificate.display())))?;
                let key_pem = read_file(key).map_err(context)?;
                let key = PrivateKey::from_pem(&key_pem)
                    .map_err(|e| context(format!("{}: no private key ({e})", key.display())))?;
                tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
            }
        }
        let proxy = match &endpoint.proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|e| context(format!("proxy '{p}': {e}")))?),
            None => None,
        };
        let read = endpoint.read_timeout;
        let agent = ureq::Agent::config_builder()
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
            .build()
            .new_agent();
        Ok(EndpointClient {
            agent,
            base: endpoint.base_url.trim_end_matches('/').to_owned(),
            auth,
        })
    }

    /// Adds the endpoint's authentication header to a request.
    pub(crate) fn authenticate<B>(
        &self,
        request: ureq::RequestBuilder<B>,
    ) -> ureq::RequestBuilder<B> {
        match &self.auth {
            Some((name, value)) => request.header(name, value),
            None => request,
        }
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of a response body.
pub(crate) fn read_body(
    response: &mut ureq::http::Response<ureq::Body>,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut body)?;
    Ok(body)
}

/// An HTTP subscriber's transport.
pub struct HttpTransport {
    client: EndpointClient,
    method: HttpMethod,
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
            method: settings.method,
            settings: settings.clone(),
        })
    }

    /// The request URL for `m`.
    fn url(&self, m: &Outgoing<'_>) -> String {
        let flow = utf8_percent_encode(m.flow, COMPONENT).to_string();
        let id = utf8_percent_encode(m.message_id, COMPONENT).to_string();
        let path = self
            .settings
            .path
            .replace("{flow}", &flow)
            .replace("{message_id}", &id);
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
        let agent = &self.client.agent;
        let mut request = match self.method {
            HttpMethod::Post => agent.post(&url),
            HttpMethod::Put => agent.put(&url),
            HttpMethod::Patch => agent.patch(&url),
        };
        if self.settings.ids_in == IdsIn::Header {
            request = request
                .header("X-Message-ID", m.message_id)
                .header("X-Flow", m.flow);
        }
        for (name, value) in &self.settings.headers {
            request = request.header(name, value);
        }
        let mut response = self
            .client
            .authenticate(request)
            .content_type("application/json")
            .send(m.payload.as_bytes())
            .map_err(|e| request_failure(&url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let read = read_body(&mut response);
        if (200..300).contains(&status) {
            // The far side accepted the message even if its answer broke off.
            if let Err(e) = read {
                log::debug!("{url}: reading the {status} response failed: {e}");
            }
            return Ok(());
        }
        let mut message = format!("{url} answered {status}");
        if let Some(location) = location.filter(|_| (300..400).contains(&status)) {
            message.push_str(&format!(
                ", redirecting to {location}; redirects are not followed"
            ));
        }
        let body = read.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let excerpt: String = text.trim().chars().take(EXCERPT_CHARS).collect();
        if !excerpt.is_empty() {
            message.push_str(": ");
            message.push_str(&excerpt);
        }
        Err(SendFailure {
            message,
            status: Some(status),
            retry_after,
            transient: matches!(status, 408 | 429 | 500..=599),
        })
    }
}

pub(crate) fn request_failure(url: &str, e: ureq::Error) -> SendFailure {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(settings: HttpSettings) -> HttpTransport {
        HttpTransport::new(&Endpoint::new("e", "http://127.0.0.1:9/base/"), &settings).unwrap()
    }

    fn message() -> Outgoing<'static> {
        Outgoing {
            message_id: "0190-ab",
            flow: "ЗАКАЗ ORDER",
            subscriber: "s",
            payload: "{}",
            object_key: None,
            ordering_key: None,
            attempt: 1,
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
            err.starts_with("endpoint 'secure': cannot read /nonexistent/ca.pem"),
            "{err}"
        );
    }
}
