//! The HTTP-based kinds (arbitrary HTTP, JSON-RPC 2.0, inter-base) as peers on a real HTTP
//! server, and what is particular to JSON-RPC and inter-base delivery.

use std::time::Duration;

use integra::{DeliveryStatus, RegisterOptions};
use serde_json::{Value, json};

use super::{Got, Peer, collect};
use crate::support::{Receiver, Reply, TestEngine};

/// Which HTTP-based kind.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Http,
    JsonRpc,
    Interbase,
}

/// A real HTTP server answering as the kind's far side does.
pub struct HttpPeer {
    kind: Kind,
    receiver: Receiver,
}

impl HttpPeer {
    pub fn http() -> HttpPeer {
        HttpPeer {
            kind: Kind::Http,
            receiver: Receiver::ok(),
        }
    }

    /// A JSON-RPC 2.0 server, strict to the specification ([`strict_jsonrpc`]), that answers
    /// every valid call with a result.
    pub fn jsonrpc() -> HttpPeer {
        let receiver = Receiver::start(|r| Reply::ok().body(&strict_jsonrpc(&r.body)));
        HttpPeer {
            kind: Kind::JsonRpc,
            receiver,
        }
    }

    /// A base that answers like the 1C subsystem's receiver: 200 `SUCCESS`.
    pub fn interbase() -> HttpPeer {
        HttpPeer {
            kind: Kind::Interbase,
            receiver: Receiver::start(|_| Reply::ok().body("SUCCESS")),
        }
    }
}

impl Peer for HttpPeer {
    fn port(&self) -> u16 {
        self.receiver
            .url()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn endpoint_at(&self, port: u16) -> Value {
        json!({"code": "e", "base_url": format!("http://127.0.0.1:{port}"), "connect_timeout": "2s", "read_timeout": "5s"})
    }

    fn subscriber(&self) -> Value {
        match self.kind {
            Kind::Http => {
                json!({"code": "s", "kind": "http", "endpoint": "e", "http": {"path": "/in"}})
            }
            Kind::JsonRpc => {
                json!({"code": "s", "kind": "jsonrpc", "endpoint": "e", "jsonrpc": {"path": "/rpc"}})
            }
            Kind::Interbase => json!({"code": "s", "kind": "interbase", "endpoint": "e"}),
        }
    }

    fn read(&self, n: usize, timeout: Duration) -> Vec<Got> {
        collect(n, timeout, |got| {
            let all = self.receiver.received();
            for r in &all[got.len()..] {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                got.push(match self.kind {
                    Kind::Http => Got {
                        payload: body,
                        message_id: r.header("X-Message-ID").map(str::to_owned),
                        flow: r.header("X-Flow").map(str::to_owned),
                        key: None,
                    },
                    Kind::JsonRpc => Got {
                        payload: body["params"].clone(),
                        message_id: body["id"].as_str().map(str::to_owned),
                        flow: body["method"].as_str().map(str::to_owned),
                        key: None,
                    },
                    Kind::Interbase => {
                        let parts: Vec<&str> = r.url.split('/').collect();
                        assert_eq!(&parts[..4], ["", "hs", "is_api", "v1"], "{}", r.url);
                        assert_eq!(r.header("X-Message-ID"), Some(parts[5]));
                        Got {
                            payload: body,
                            message_id: Some(parts[5].to_owned()),
                            flow: Some(parts[4].to_owned()),
                            key: None,
                        }
                    }
                });
            }
        })
    }
}

/// What a JSON-RPC 2.0 server that follows the specification (jsonrpc.org/specification,
/// sections 4 and 5.1) answers to `body`: -32700 for text that is not JSON; -32600 for a
/// request that is not a Request object (`jsonrpc` not exactly "2.0", `method` not a string,
/// `params` present but not a Structured value, an object or an array, `id` neither a string, a
/// number nor null); nothing for a notification (no `id`); otherwise a result.
fn strict_jsonrpc(body: &str) -> String {
    let error = |code: i64, message: &str, id: &Value| {
        json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id}).to_string()
    };
    let Ok(call) = serde_json::from_str::<Value>(body) else {
        return error(-32700, "Parse error", &Value::Null);
    };
    let Some(request) = call.as_object() else {
        return error(-32600, "Invalid Request", &Value::Null);
    };
    let id = request.get("id");
    let valid = request.get("jsonrpc") == Some(&json!("2.0"))
        && request.get("method").is_some_and(Value::is_string)
        && request
            .get("params")
            .is_none_or(|p| p.is_object() || p.is_array())
        && id.is_none_or(|id| id.is_string() || id.is_number() || id.is_null());
    match (valid, id) {
        (false, _) => error(-32600, "Invalid Request", &Value::Null),
        (true, None) => String::new(),
        (true, Some(id)) => {
            json!({"jsonrpc": "2.0", "result": {"accepted": true}, "id": id}).to_string()
        }
    }
}

#[test]
fn the_strict_json_rpc_server_refuses_what_the_specification_forbids() {
    let invalid = |body: &str| {
        let answer: Value = serde_json::from_str(&strict_jsonrpc(body)).unwrap();
        answer["error"]["code"].as_i64()
    };
    for body in [
        r#"{"jsonrpc": "2.0", "method": "m", "params": 42, "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "params": "text", "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "params": true, "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "params": null, "id": "1"}"#,
        r#"{"jsonrpc": "1.0", "method": "m", "params": [], "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": 1, "params": [], "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "id": {}}"#,
        "[]",
    ] {
        assert_eq!(invalid(body), Some(-32600), "{body}");
    }
    assert_eq!(invalid("{"), Some(-32700));
    for body in [
        r#"{"jsonrpc": "2.0", "method": "m", "params": {"n": 1}, "id": "1"}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "params": [42], "id": 7}"#,
        r#"{"jsonrpc": "2.0", "method": "m", "id": null}"#,
    ] {
        assert_eq!(invalid(body), None, "{body}");
    }
}

fn engine(receiver: &Receiver, subscriber: Value) -> TestEngine {
    TestEngine::new(&json!({
        "endpoints": [{"code": "e", "base_url": receiver.url(), "read_timeout": "5s"}],
        "subscribers": [subscriber],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    }))
}

fn first_error(receiver: &Receiver, subscriber: Value) -> String {
    let t = engine(receiver, subscriber);
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().failed, 1);
    let d = t.delivery(&id, "s");
    assert_eq!(d.status, DeliveryStatus::SendError);
    d.last_error.unwrap()
}

#[test]
fn a_json_rpc_error_or_a_malformed_answer_is_a_failure() {
    let subscriber = json!({"code": "s", "kind": "jsonrpc", "endpoint": "e", "jsonrpc": {"method": "orders.load"}});
    let errors = Receiver::start(|r| {
        let call: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(call["method"], "orders.load");
        assert_eq!(call["jsonrpc"], "2.0");
        Reply::ok().body(&json!({"jsonrpc": "2.0", "error": {"code": -32001, "message": "склад закрыт"}, "id": call["id"]}).to_string())
    });
    let error = first_error(&errors, subscriber.clone());
    assert!(
        error.ends_with("JSON-RPC error -32001: склад закрыт"),
        "{error}"
    );
    let plain_ok = Receiver::start(|_| Reply::ok().body("OK"));
    assert!(
        first_error(&plain_ok, subscriber.clone())
            .contains("malformed JSON-RPC response (not JSON)")
    );
    let other_id =
        Receiver::start(|_| Reply::ok().body(r#"{"jsonrpc": "2.0", "result": 1, "id": "x"}"#));
    assert!(first_error(&other_id, subscriber).contains("the id is not this call's"));
}

#[test]
fn inter_base_delivery_speaks_the_1c_subsystems_protocol() {
    let receiver = Receiver::start(|r| {
        if r.url.contains("/UNKNOWN/") {
            Reply::status(405)
        } else {
            Reply::ok().body("SUCCESS")
        }
    });
    let subscriber = json!({"code": "s", "kind": "interbase", "endpoint": "e",
                            "interbase": {"root": "/hs/api", "flow": "ЗаказыИзМагазина"}});
    let t = engine(&receiver, subscriber);
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    let r = &receiver.received()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.url,
        format!(
            "/hs/api/v1/%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%D1%8B%D0%98%D0%B7%D0%9C%D0%B0%D0%B3%D0%B0%D0%B7%D0%B8%D0%BD%D0%B0/{id}"
        )
    );
    assert_eq!(r.header("X-Message-ID"), Some(id.as_str()));
    assert_eq!(r.body, r#"{"n": 1}"#, "the bare payload, no envelope");

    let unknown = json!({"code": "s", "kind": "interbase", "endpoint": "e", "interbase": {"flow": "UNKNOWN"}});
    assert!(first_error(&receiver, unknown).contains("answered 405"));
}

/// Issue 15: JSON-RPC 2.0's `params` is an object or an array (or absent), so a scalar payload
/// (`42`, `"text"`, `true`, `null`) cannot be a call: a compliant server answers -32600 and
/// the delivery would go dead. Integra refuses it where it enters, naming the flow and the
/// subscriber: at registration on a pass-through flow, at `complete_forming` (the message
/// stays claimed), from a Rust former (a forming failure). A scalar that reaches a JSON-RPC
/// delivery anyway (the subscriber became JSON-RPC after the message was fanned out) is dead
/// at once with the reason, never sent.
#[test]
fn a_scalar_payload_is_never_sent_as_json_rpc_params() {
    let peer = HttpPeer::jsonrpc();
    let flows = json!([
        {"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]},
        {"code": "FORMED", "direction": "outgoing", "subscribers": ["s"], "former": "external"},
        {"code": "BUILT", "direction": "outgoing", "subscribers": ["s"], "former": "handler"}
    ]);
    let t = TestEngine::new(&json!({
        "endpoints": [peer.endpoint()], "subscribers": [peer.subscriber()], "flows": flows
    }));
    for scalar in ["42", r#""text""#, "true", "null", " 7 "] {
        let err = t
            .engine
            .register("ORDERS", scalar, &RegisterOptions::default())
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("flow 'ORDERS'") && text.contains("subscriber 's'"),
            "{text}"
        );
        assert!(text.contains("JSON-RPC 2.0"), "{text}");
        assert_eq!(err.kind(), integra::ErrorKind::InvalidArgument);
    }
    assert!(
        t.engine.counts().unwrap().messages.is_empty(),
        "nothing was registered"
    );
    for structured in [r#"{"n": 1}"#, "[1, 2]"] {
        t.engine
            .register("ORDERS", structured, &RegisterOptions::default())
            .unwrap();
    }
    assert_eq!(t.dispatch().sent, 2);
    let got = peer.read(2, Duration::from_secs(10));
    assert_eq!(got[1].payload, json!([1, 2]));

    let formed = t
        .engine
        .register("FORMED", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(
        t.engine
            .next_to_form(10, Duration::from_secs(60))
            .unwrap()
            .len(),
        1
    );
    let err = t.engine.complete_forming(&formed, "42").unwrap_err();
    assert!(
        err.to_string().contains("flow 'FORMED'") && err.to_string().contains("subscriber 's'"),
        "{err}"
    );
    assert_eq!(t.status(&formed), integra::MessageStatus::Forming);
    assert!(
        t.engine
            .complete_forming(&formed, "[42]")
            .unwrap()
            .is_empty()
    );
    t.engine
        .set_former("BUILT", |_: &integra::FormingItem| {
            integra::FormOutcome::Payload(json!("text"))
        })
        .unwrap();
    let built = t
        .engine
        .register("BUILT", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1, "the completed one");
    let report = t.engine.message_status(&built).unwrap();
    assert_eq!(report.status, integra::MessageStatus::FormingError);
    assert!(
        report
            .last_error
            .as_deref()
            .unwrap()
            .contains("JSON-RPC 2.0"),
        "{report:?}"
    );
    assert_eq!(peer.receiver.received().len(), 3);

    // The subscriber was plain HTTP when the scalar was registered; it is JSON-RPC now.
    let mut plain = peer.subscriber();
    plain["kind"] = json!("http");
    plain.as_object_mut().unwrap().remove("jsonrpc");
    plain["http"] = json!({"path": "/rpc"});
    plain["retry"] = crate::support::retry(10);
    let config = |subscriber: Value| {
        json!({"endpoints": [peer.endpoint()], "subscribers": [subscriber],
               "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]})
    };
    let t = TestEngine::new(&config(plain.clone()));
    let scalar = t
        .engine
        .register("ORDERS", "42", &RegisterOptions::default())
        .unwrap();
    let mut rpc = plain;
    rpc["kind"] = json!("jsonrpc");
    rpc.as_object_mut().unwrap().remove("http");
    rpc["jsonrpc"] = json!({"path": "/rpc"});
    t.engine.load_config_json(&config(rpc).to_string()).unwrap();
    assert_eq!(t.dispatch().dead, 1);
    let d = t.delivery(&scalar, "s");
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 1));
    assert!(d.last_error.unwrap().contains("JSON-RPC 2.0"));
    assert_eq!(peer.receiver.received().len(), 3, "nothing more was sent");
}
