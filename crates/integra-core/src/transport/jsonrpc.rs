//! JSON-RPC 2.0 over HTTP: each delivery is a call
//! `{"jsonrpc":"2.0","method":…,"params":<payload>,"id":<message id>}`. The call succeeded
//! only when the answer is a JSON-RPC response with a `result` and our id; a response
//! carrying `error` is a failure with its code and message recorded, and a malformed answer is
//! a failure, not a success.
//!
//! `params` must be an object or an array (the specification's Structured value), so a
//! scalar payload is refused rather than wrapped: wrapping `42` as `[42]` would send the same
//! call for the payloads `42` and `[42]`, and change what the caller wrote. Registration and
//! forming refuse it for a flow with a JSON-RPC subscriber, naming both; a scalar that got
//! past them (the subscriber became JSON-RPC after the message was fanned out) is unsendable
//! here, and its delivery dead at once, never sent.

use serde_json::Value;

use super::http::EndpointClient;
use super::{Outgoing, SendFailure, Transport, not_jsonrpc_params};
use crate::config::{Endpoint, HttpMethod, JsonRpcSettings};
use crate::error::JSONRPC_PARAMS_RULE;

/// A JSON-RPC 2.0 subscriber's transport.
pub struct JsonRpcTransport {
    client: EndpointClient,
    settings: JsonRpcSettings,
}

impl JsonRpcTransport {
    /// Builds the transport of a subscriber with `settings` on `endpoint`.
    ///
    /// # Errors
    /// A message naming the endpoint when its client cannot be built.
    pub fn new(endpoint: &Endpoint, settings: &JsonRpcSettings) -> Result<Self, String> {
        Ok(JsonRpcTransport {
            client: EndpointClient::new(endpoint)?,
            settings: settings.clone(),
        })
    }
}

/// The request body of a call; the payload is spliced in as it is (it is JSON already).
fn request(method: &str, payload: &str, id: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","method":{},"params":{payload},"id":{}}}"#,
        Value::String(method.to_owned()),
        Value::String(id.to_owned())
    )
}

/// Judges an answer: Ok for a result to our call, else the failure it stands for.
fn judge(url: &str, body: &[u8], id: &str) -> Result<(), SendFailure> {
    let malformed = |why: &str| {
        let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
        SendFailure::permanent(format!(
            "{url}: malformed JSON-RPC response ({why}): {excerpt}"
        ))
    };
    let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("not JSON"))?;
    let Some(answer) = answer.as_object() else {
        return Err(malformed("not an object"));
    };
    if answer.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(malformed("no \"jsonrpc\": \"2.0\""));
    }
    if let Some(error) = answer.get("error") {
        let code = error.get("code").and_then(Value::as_i64);
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        return match code {
            Some(code) => Err(SendFailure::permanent(format!(
                "{url}: JSON-RPC error {code}: {message}"
            ))),
            None => Err(malformed("an error without a code")),
        };
    }
    if answer.get("id").and_then(Value::as_str) != Some(id) {
        return Err(malformed("the id is not this call's"));
    }
    if !answer.contains_key("result") {
        return Err(malformed("neither result nor error"));
    }
    Ok(())
}

impl Transport for JsonRpcTransport {
    fn send(&self, m: &Outgoing<'_>) -> Result<(), SendFailure> {
        if let Some(found) = not_jsonrpc_params(m.payload) {
            return Err(SendFailure::unsendable(format!(
                "the payload of message {} is {found}, and {JSONRPC_PARAMS_RULE}",
                m.message_id
            )));
        }
        let url = format!("{}{}", self.client.base, self.settings.path);
        let method = self.settings.method.as_deref().unwrap_or(m.flow);
        let headers: Vec<(&str, &str)> = self
            .settings
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = request(method, m.payload, m.message_id);
        let reply = self
            .client
            .send(HttpMethod::Post, &url, &headers, body.as_bytes())?;
        if !reply.is_success() {
            return Err(reply.failure(&url));
        }
        judge(&url, &reply.body, m.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_becomes_the_params() {
        let body = request("Заказы.Загрузить", r#"{"n": 1}"#, "id-\"1\"");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["method"], "Заказы.Загрузить");
        assert_eq!(v["params"]["n"], 1);
        assert_eq!(v["id"], "id-\"1\"");
    }

    #[test]
    fn only_a_result_for_our_id_is_success() {
        let ok = |body: &str| judge("u", body.as_bytes(), "m1");
        assert!(ok(r#"{"jsonrpc":"2.0","result":null,"id":"m1"}"#).is_ok());
        let err = |body: &str| ok(body).unwrap_err().message;
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"bad params"},"id":"m1"}"#),
            "u: JSON-RPC error -32602: bad params"
        );
        assert!(
            err(r#"{"jsonrpc":"2.0","result":1,"id":"m2"}"#).contains("the id is not this call's")
        );
        assert!(err(r#"{"result":1,"id":"m1"}"#).contains("no \"jsonrpc\""));
        assert!(err("OK").contains("not JSON"));
        assert!(err(r#"{"jsonrpc":"2.0","id":"m1"}"#).contains("neither result nor error"));
    }
}
