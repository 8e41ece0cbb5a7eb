//! A plain HTTP client for tests that speak to Integra's receiver themselves.

use std::time::Duration;

use base64::Engine as _;

/// An agent that returns every status as a response, with a 10 s timeout.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// POSTs `body` with `headers`; (status, body text, response headers).
pub fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, ureq::http::HeaderMap) {
    let mut request = agent().post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), text, response.headers().clone())
}

/// GETs `url` with `headers`; (status, body text).
pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), text)
}

/// The `Authorization` value of HTTP Basic for `user` and `password`.
pub fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}
