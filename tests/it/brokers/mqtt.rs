//! MQTT, against Mosquitto, one broker per test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use integra::{DeliveryStatus, DispatcherOptions, RegisterOptions};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

use super::{Got, Peer, collect, unique};
use crate::support::TestEngine;
use crate::support::brokers::Mosquitto;
use crate::support::proxy::{Proxy, ProxyOptions};
use crate::support::tls::Pki;

/// What a subscriber received: (topic, payload, retain flag), in arrival order.
type Inbox = Arc<Mutex<Vec<(String, Vec<u8>, bool)>>>;

/// A topic on a broker of its own, read by a subscriber connected before anything is sent.
pub struct MqttPeer {
    pub broker: Mosquitto,
    pub topic: String,
    qos: u8,
    received: Inbox,
    client: Client,
}

impl MqttPeer {
    pub fn new() -> MqttPeer {
        MqttPeer::with(Mosquitto::start(""), 1, true)
    }

    /// A peer on `broker` subscribed with `qos`; a `clean` session is forgotten on
    /// disconnect, a persistent one has the broker keep its messages while it is away.
    pub fn with(broker: Mosquitto, qos: u8, clean: bool) -> MqttPeer {
        let topic = unique("integra/test");
        let received = Arc::new(Mutex::new(Vec::new()));
        let client = subscribe(broker.port, &topic, clean, &received);
        MqttPeer {
            broker,
            topic,
            qos,
            received,
            client,
        }
    }

    /// Messages received so far: (topic, payload, retain flag).
    pub fn received(&self) -> Vec<(String, Vec<u8>, bool)> {
        self.received.lock().unwrap().clone()
    }
}

/// Connects a subscriber to `topic` (and everything under it), waits for its SubAck, and keeps
/// collecting what arrives (reconnecting if the broker restarts).
fn subscribe(port: u16, topic: &str, clean: bool, into: &Inbox) -> Client {
    let mut options = MqttOptions::new(unique("reader"), "127.0.0.1", port);
    options
        .set_clean_session(clean)
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut connection) = Client::new(options, 64);
    client
        .subscribe(format!("{topic}/#"), QoS::ExactlyOnce)
        .unwrap();
    client.subscribe(topic, QoS::ExactlyOnce).unwrap();
    let (subscribed_tx, subscribed_rx) = crossbeam_channel::bounded(2);
    let into = Arc::clone(into);
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = subscribed_tx.try_send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    into.lock()
                        .unwrap()
                        .push((p.topic.clone(), p.payload.to_vec(), p.retain));
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::RequestsDone) => break,
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    for _ in 0..2 {
        subscribed_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the subscription was acknowledged");
    }
    client
}

impl Drop for MqttPeer {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
    }
}

impl Peer for MqttPeer {
    fn port(&self) -> u16 {
        self.broker.port
    }

    fn endpoint_at(&self, port: u16) -> Value {
        json!({"code": "e", "base_url": format!("mqtt://127.0.0.1:{port}"), "connect_timeout": "2s",
               "read_timeout": "5s"})
    }

    fn subscriber(&self) -> Value {
        json!({"code": "s", "kind": "mqtt", "endpoint": "e", "retry": crate::support::retry(10),
               "mqtt": {"topic": self.topic, "qos": self.qos}})
    }

    fn read(&self, n: usize, timeout: Duration) -> Vec<Got> {
        let mut seen = 0;
        collect(n, timeout, |got| {
            let all = self.received();
            for (_, payload, _) in &all[seen..] {
                got.push(Got {
                    payload: serde_json::from_slice(payload).unwrap(),
                    message_id: None,
                    flow: None,
                    key: None,
                });
            }
            seen = all.len();
        })
    }
}

fn engine(peer: &MqttPeer, endpoint: Value, subscriber: Value) -> TestEngine {
    let _ = peer;
    TestEngine::new(&json!({
        "endpoints": [endpoint],
        "subscribers": [subscriber],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    }))
}

#[test]
fn every_quality_of_service_delivers() {
    for qos in [0, 1, 2] {
        let peer = MqttPeer::with(Mosquitto::start(""), qos, true);
        let t = engine(&peer, peer.endpoint(), peer.subscriber());
        for n in 0..20 {
            t.engine
                .register(
                    "ORDERS",
                    &json!({"n": n}).to_string(),
                    &RegisterOptions::default(),
                )
                .unwrap();
        }
        assert_eq!(t.dispatch().sent, 20, "QoS {qos}");
        let got = peer.read(20, Duration::from_secs(10));
        assert_eq!(got.len(), 20, "QoS {qos}");
    }
}

#[test]
fn topic_templates_and_the_retain_flag() {
    let peer = MqttPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["mqtt"]["topic"] = json!(format!("{}/{{flow}}/{{object_key}}", peer.topic));
    subscriber["mqtt"]["retain"] = json!(true);
    let t = engine(&peer, peer.endpoint(), subscriber);
    t.engine
        .register(
            "ORDERS",
            r#"{"n": 1}"#,
            &RegisterOptions::object_key("sku-7"),
        )
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    peer.read(1, Duration::from_secs(10));
    assert_eq!(peer.received()[0].0, format!("{}/ORDERS/sku-7", peer.topic));
    // A subscriber that comes later still gets the retained message.
    let late = Arc::new(Mutex::new(Vec::new()));
    let _client = subscribe(peer.broker.port, &peer.topic, true, &late);
    let start = std::time::Instant::now();
    while late.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the retained message did not arrive"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(late.lock().unwrap()[0].2, "delivered as retained");
}

#[test]
fn a_user_name_and_password_are_required_and_checked() {
    let broker = Mosquitto::with_password("integra", "s3cret");
    let endpoint = |password: &str| {
        json!({"code": "e", "base_url": broker.url(), "connect_timeout": "2s", "read_timeout": "3s",
               "auth": {"type": "basic", "username": "integra", "password": password}})
    };
    let subscriber = json!({"code": "s", "kind": "mqtt", "endpoint": "e", "mqtt": {"topic": unique("integra/auth")}});
    let config = |password: &str| {
        json!({"endpoints": [endpoint(password)], "subscribers": [subscriber],
               "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]})
    };
    let t = TestEngine::new(&config("wrong"));
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    let d = t.delivery(&id, "s");
    assert_eq!(d.status, DeliveryStatus::SendError);
    assert!(
        !d.last_error.unwrap().contains("wrong"),
        "the password must not appear in the error"
    );
    let t = TestEngine::new(&config("s3cret"));
    t.engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(
        t.dispatch().sent,
        1,
        "acknowledged by the broker with the right password"
    );
}

/// A TLS proxy in front of `peer`'s broker with `pki`'s server certificate; with
/// `require_client_cert`, only clients holding a certificate of `pki` get through.
fn tls_in_front(peer: &MqttPeer, pki: &Pki, require_client_cert: bool) -> Proxy {
    Proxy::start(
        0,
        peer.broker.port,
        ProxyOptions {
            tls: Some(pki.server_config(require_client_cert)),
            ..Default::default()
        },
    )
}

#[test]
fn mqtts_with_a_private_ca_and_a_client_certificate() {
    let peer = MqttPeer::new();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let proxy = tls_in_front(&peer, &pki, true);
    let endpoint = |auth: Value| {
        json!({"code": "e", "base_url": format!("mqtts://127.0.0.1:{}", proxy.port), "connect_timeout": "2s",
               "read_timeout": "3s", "tls": {"ca_file": pki.ca_file}, "auth": auth})
    };
    let t = engine(&peer, endpoint(json!({"type": "none"})), peer.subscriber());
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 0}"#, &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    assert_eq!(
        t.delivery(&id, "s").status,
        DeliveryStatus::SendError,
        "no client certificate"
    );
    let certified = json!({"type": "client_certificate", "certificate": pki.client_cert_file, "key": pki.client_key_file});
    let t = engine(&peer, endpoint(certified), peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 1);
}

/// The broker restarts while messages are in flight; a persistent subscriber session keeps
/// what the broker acknowledged, and what it did not is sent again: nothing is lost.
#[test]
fn a_broker_restart_mid_stream_loses_nothing() {
    let mut peer = MqttPeer::with(Mosquitto::start(""), 1, false);
    let mut subscriber = peer.subscriber();
    subscriber["retry"] = crate::support::retry(50);
    let t = engine(&peer, peer.endpoint(), subscriber);
    let options = DispatcherOptions::default().with_poll_interval(Duration::from_millis(50));
    t.engine.start_dispatcher(options).unwrap();
    let register = |n: u64| {
        t.engine
            .register(
                "ORDERS",
                &json!({"n": n}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
    };
    (0..150).for_each(register);
    peer.broker.stop();
    (150..300).for_each(register);
    std::thread::sleep(Duration::from_millis(300));
    peer.broker.resume();
    let start = std::time::Instant::now();
    while t
        .engine
        .counts()
        .unwrap()
        .messages
        .get(&integra::MessageStatus::Sent)
        .copied()
        .unwrap_or(0)
        < 300
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not everything was sent after the restart"
        );
        t.advance(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(100));
    }
    t.engine.stop_dispatcher();
    let start = std::time::Instant::now();
    loop {
        let mut ns: Vec<u64> = peer
            .received()
            .iter()
            .map(|(_, p, _)| {
                serde_json::from_slice::<Value>(p).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        ns.sort_unstable();
        ns.dedup();
        if ns == (0..300).collect::<Vec<u64>>() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} of 300 arrived",
            ns.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Issue 15: an object key that makes the topic one no broker takes for a publish (a
/// wildcard, U+0000, a control character) is a permanent failure with the reason: the
/// delivery is dead after its one attempt instead of retried to death as a connection
/// problem, and the other messages of the batch are sent.
#[test]
fn an_object_key_that_makes_an_invalid_topic_is_dead_at_once_with_the_reason() {
    let peer = MqttPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["mqtt"]["topic"] = json!(format!("{}/{{object_key}}", peer.topic));
    let t = engine(&peer, peer.endpoint(), subscriber);
    let register = |key: &str| {
        t.engine
            .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::object_key(key))
            .unwrap()
    };
    let mut invalid = vec![
        ("order#7", "'#'"),
        ("a+b", "'+'"),
        ("nul\0", "U+0000"),
        ("bell\u{7}", "U+0007"),
    ];
    if crate::support::on_postgres() {
        // PostgreSQL cannot store U+0000 in text: the registration itself is refused.
        let refused = t
            .engine
            .register(
                "ORDERS",
                r#"{"n": 1}"#,
                &RegisterOptions::object_key("nul\0"),
            )
            .unwrap_err()
            .to_string();
        assert!(refused.contains("U+0000"), "{refused}");
        invalid.retain(|(key, _)| !key.contains('\0'));
    }
    let ids: Vec<String> = invalid
        .iter()
        .map(|(key, _)| register(key).into())
        .collect();
    let valid = register("sku-7");
    let report = t.dispatch();
    assert_eq!(
        (report.sent, report.dead, report.failed),
        (1, invalid.len() as u64, 0)
    );
    for ((_, reason), id) in invalid.iter().zip(&ids) {
        let d = t.delivery(id, "s");
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 1));
        let error = d.last_error.unwrap();
        assert!(
            error.contains("not a valid MQTT topic") && error.contains(reason),
            "{error}"
        );
    }
    assert_eq!(t.delivery(&valid, "s").status, DeliveryStatus::Sent);
    peer.read(1, Duration::from_secs(10));
    assert_eq!(peer.received()[0].0, format!("{}/sku-7", peer.topic));
}

/// Issue 22: an IPv6 address was split by hand (`mqtt://[::1]`, with no port, failed every
/// delivery with "'1]' is not a port": `transport::mqtt`'s unit test). The broker also
/// listens on the IPv6 loopback, and is reached there from the parsed address.
#[test]
fn a_broker_at_an_ipv6_address_is_reached() {
    let ipv6 = crate::support::brokers::free_port();
    let peer = MqttPeer::with(Mosquitto::start(&format!("listener {ipv6} ::1")), 1, true);
    let endpoint = json!({"code": "e", "base_url": format!("mqtt://[::1]:{ipv6}"),
                          "connect_timeout": "2s", "read_timeout": "5s"});
    let t = engine(&peer, endpoint, peer.subscriber());
    t.engine
        .register("ORDERS", r#"{"n": 6}"#, &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 6);
}

/// Issue 22: a topic was expanded once per placeholder, so an object key holding
/// `{message_id}` had the message id put in its place. It is published as written.
#[test]
fn a_topic_is_rendered_once() {
    let peer = MqttPeer::new();
    let mut subscriber = peer.subscriber();
    subscriber["mqtt"]["topic"] = json!(format!("{}/{{object_key}}", peer.topic));
    let t = engine(&peer, peer.endpoint(), subscriber);
    t.engine
        .register(
            "ORDERS",
            "{}",
            &RegisterOptions::object_key("{message_id}{flow}"),
        )
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    peer.read(1, Duration::from_secs(10));
    assert_eq!(
        peer.received()[0].0,
        format!("{}/{{message_id}}{{flow}}", peer.topic)
    );
}

/// Issue 22: the broker transports trust the system's store too (their rustls configuration
/// is the HTTP client's roots): dispatched in a child process whose store holds the broker's
/// CA (`SSL_CERT_FILE`), an `mqtts://` endpoint with no `ca_file` is trusted.
#[test]
fn mqtts_trusts_a_ca_in_the_system_store() {
    let peer = MqttPeer::new();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let proxy = tls_in_front(&peer, &pki, false);
    let endpoint = json!({"code": "e", "base_url": format!("mqtts://127.0.0.1:{}", proxy.port),
                          "connect_timeout": "2s", "read_timeout": "3s"});
    let t = engine(&peer, endpoint, peer.subscriber());
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 9}"#, &RegisterOptions::default())
        .unwrap();
    crate::support::child::dispatch_with_certificate_store(&t.database.clone(), &pki.ca_file);
    let d = t.delivery(&id, "s");
    assert_eq!(d.status, DeliveryStatus::Sent, "{:?}", d.last_error);
    assert_eq!(peer.read(1, Duration::from_secs(10))[0].payload["n"], 9);
}
