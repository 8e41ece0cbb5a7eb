//! Fetching an external schema over HTTP, conditionally (`If-None-Match`,
//! `If-Modified-Since`), through its endpoint's client (authentication, TLS, timeouts).

use crate::config::Endpoint;
use crate::store::SchemaCopy;

/// What a fetch brought.
#[cfg_attr(
    not(feature = "http"),
    allow(dead_code, reason = "only an HTTP client brings a document")
)]
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
    let client = crate::transport::http::EndpointClient::new(endpoint)?;
    let url = format!("{}{path}", client.base);
    let mut headers = vec![(
        "Accept",
        "application/json, application/yaml, text/yaml, */*",
    )];
    if let Some(etag) = held.and_then(|c| c.etag.as_deref()) {
        headers.push(("If-None-Match", etag));
    }
    if let Some(lm) = held.and_then(|c| c.last_modified.as_deref()) {
        headers.push(("If-Modified-Since", lm));
    }
    let reply = client.get(&url, &headers).map_err(|f| f.message)?;
    match reply.status {
        304 => Ok(Fetched::NotModified),
        200..=299 => {
            let (etag, last_modified) = reply.validators();
            let document = String::from_utf8(reply.body)
                .map_err(|_| format!("{url}: the document is not UTF-8"))?;
            Ok(Fetched::Fresh {
                document,
                etag,
                last_modified,
            })
        }
        _ => Err(reply.failure(&url).message),
    }
}

/// Without an HTTP client, external schemas cannot be fetched.
#[cfg(not(feature = "http"))]
pub(crate) fn fetch(_: &Endpoint, _: &str, _: Option<&SchemaCopy>) -> Result<Fetched, String> {
    Err("this build of Integra has no HTTP client (feature 'http')".into())
}
