//! An MQTT topic filter feeding an incoming flow, against Mosquitto.

use std::time::Duration;

use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::{Value, json};

use super::{engine, take_all, wait_for_incoming};
use crate::brokers::unique;
use crate::support::brokers::Mosquitto;
use crate::support::wait_until;

/// Publishes `payloads` to `topic` at QoS 1 and waits for every PUBACK.
fn publish(port: u16, topic: &str, payloads: &[String]) {
    let options = MqttOptions::new(unique("writer"), "127.0.0.1", port);
    let (client, mut connection) = Client::new(options, 1000);
    for payload in payloads {
        client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes())
            .unwrap();
    }
    let mut acked = 0;
    for event in connection.iter() {
        match event.unwrap() {
            Event::Incoming(Packet::PubAck(_)) => {
                acked += 1;
                if acked == payloads.len() {
                    break;
                }
            }
            Event::Outgoing(Outgoing::Disconnect) => break,
            _ => {}
        }
    }
    let _ = client.disconnect();
}

fn endpoint(broker: &Mosquitto) -> Value {
    json!({"code": "e", "base_url": broker.url(), "connect_timeout": "3s"})
}

#[test]
fn a_persistent_session_keeps_what_arrived_while_the_source_was_stopped() {
    let broker = Mosquitto::start("");
    let t = engine(
        endpoint(&broker),
        json!({"kind": "mqtt", "endpoint": "e", "message_id_pointer": "/number",
               "mqtt": {"topic": "shop/+/orders", "qos": 1}}),
        true,
    );
    // The first start creates the session and its subscription.
    let sources = t.engine.start_sources().unwrap();
    wait_until("subscribed", Duration::from_secs(20), || {
        t.engine
            .source_status()
            .unwrap()
            .iter()
            .any(|s| s.held && s.last_error.is_none())
    });
    std::thread::sleep(Duration::from_millis(300));
    let first: Vec<String> = (0..10)
        .map(|i| json!({"number": format!("A-{i}")}).to_string())
        .collect();
    publish(broker.port, "shop/main/orders", &first);
    wait_for_incoming(&t.engine, 10, Duration::from_secs(20));
    sources.stop();

    // Published while no one listens: the broker keeps them for the session.
    let later: Vec<String> = (10..30)
        .map(|i| json!({"number": format!("A-{i}")}).to_string())
        .chain([
            json!({"number": "A-3"}).to_string(),
            r#"{"number": 5}"#.to_owned(),
        ])
        .collect();
    publish(broker.port, "shop/outlet/orders", &later);
    publish(
        broker.port,
        "shop/outlet/returns",
        &[json!({"number": "R-1"}).to_string()],
    );

    let sources = t.engine.start_sources().unwrap();
    wait_for_incoming(&t.engine, 30, Duration::from_secs(20));
    wait_until("the rejection", Duration::from_secs(10), || {
        t.engine.rejected_incoming("IN", 10).unwrap().len() == 1
    });
    sources.stop();
    let items = take_all(&t.engine);
    assert_eq!(
        items.len(),
        30,
        "A-3 repeated is stored once; returns are not subscribed"
    );
    let a12 = items.iter().find(|i| i.message_id == "A-12").unwrap();
    assert_eq!(a12.headers["x-mqtt-topic"], "shop/outlet/orders");
    let rejection = &t.engine.rejected_incoming("IN", 10).unwrap()[0];
    assert_eq!(rejection.payload, r#"{"number": 5}"#);
    assert_eq!(rejection.source, "mqtt:e");
}
