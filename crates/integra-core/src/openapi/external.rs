//! Fetching an external schema over HTTP, conditionally (`If-None-Match`,
//! `If-Modified-Since`), through its endpoint's client (authentication, TLS, timeouts).

use crate::config::Endpoint;
use crate::store::SchemaCopy;

/// What a fetch brought.
pub(crate) enum Fetched {
    /// The copy we hold is current (304).
    NotModified,
    /// A new document, with the validators to send next time.
    Fresh {
        document: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Fetches `path` from `endpoint`, revalidating the copy `held` when there is one.
#[cfg(feature = "http")]
pub(crate) fn fetch(
    endpoint: &Endpoint,
    path: &str,
    held: Option<&SchemaCopy>,
) -> Result<Fetched, String> {
    use crate::transport::http::{EndpointClient, read_body, request_failure};

    let client = EndpointClient::new(endpoint)?;
    let url = format!("{}{path}", client.base);
    let mut request = client.agent.get(&url).header(
        "Accept",
        "application/json, application/yaml, text/yaml, */*",
    );
    if let Some(etag) = held.and_then(|c| c.etag.as_deref()) {
        request = request.header("If-None-Match", etag);
    }
    if let Some(lm) = held.and_then(|c| c.last_modified.as_deref()) {
        request = request.header("If-Modified-Since", lm);
    }
    let mut response = client
        .authenticate(request)
        .call()
        .map_err(|e| request_failure(&url, e).message)?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    match status {
        304 => Ok(Fetched::NotModified),
        200..=299 => {
            let body = read_body(&mut response)
                .map_err(|e| format!("{url}: reading the body failed: {e}"))?;
            let document =
                String::from_utf8(body).map_err(|_| format!("{url}: the document is not UTF-8"))?;
            Ok(Fetched::Fresh {
                document,
                etag,
                last_modified,
            })
        }
        _ => Err(format!("{url} answered {status}")),
    }
}

/// Without an HTTP client, external schemas cannot be fetched.
#[cfg(not(feature = "http"))]
pub(crate) fn fetch(_: &Endpoint, _: &str, _: Option<&SchemaCopy>) -> Result<Fetched, String> {
    Err("this build of Integra has no HTTP client (feature 'http')".into())
}
