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

    /// A JSON-RPC server that answers every call with a result.
    pub fn jsonrpc() -> HttpPeer {
        let receiver = Receiver::start(|r| {
            let call: Value = serde_json::from_str(&r.body).unwrap();
            Reply::ok().body(
                &json!({"jsonrpc": "2.0", "result": {"accepted": true}, "id": call["id"]})
                    .to_string(),
            )
        });
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
