//! MQTT 3.1.1 through rumqttc.
//!
//! One connection per subscriber, driven by its own thread, which reconnects after a drop.
//! A delivery is Sent only once the broker acknowledged it: PUBACK for QoS 1, PUBCOMP for
//! QoS 2 (QoS 0 has no acknowledgement: Sent once written to the connection). rumqttc does
//! not return packet ids, so acknowledgements are matched to our publishes by order: the
//! connection thread sees each publish leave (with its packet id) in the order they were
//! queued, then the acknowledgement for that id. Publishes are queued one batch at a time.
//!
//! The session is clean: when the connection drops, rumqttc forgets unacknowledged
//! publishes, so every publish waiting for its acknowledgement fails at once and the queue
//! retries it. MQTT 3.1.1 has no headers: the payload travels alone, and the topic template
//! may carry `{message_id}` or `{object_key}`.
//!
//! A topic is checked before it is published (`topic_fault`): a key that makes it one no
//! broker takes (a wildcard, U+0000, a control character) fails that message alone, as
//! unsendable, instead of reaching rumqttc (which refuses wildcards with an error that reads
//! like a connection problem) or the broker (which drops the connection, failing every
//! publish in flight).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use rumqttc::{
    Client, Event, MqttOptions, Outgoing as Sent, Packet, QoS, TlsConfiguration, Transport as Link,
};

use super::template::render;
use super::{Outgoing, SendFailure, Transport};
use crate::config::{Auth, Endpoint, MqttSettings};
use crate::limits::quoted;

/// Requests that may wait in rumqttc's queue.
const QUEUE: usize = 256;
/// The longest topic, in bytes (MQTT writes its length in two bytes).
const MAX_TOPIC_BYTES: usize = 65_535;
/// The largest packet sent or received.
const MAX_PACKET: usize = 64 << 20;

type Outcome = Result<(), String>;

/// Publishes waiting for the broker.
#[derive(Default)]
struct Pending {
    /// Queued, not yet seen leaving: completed in order as their packet ids appear.
    queued: VecDeque<Sender<Outcome>>,
    /// Sent, waiting for their acknowledgement, by packet id.
    sent: HashMap<u16, Sender<Outcome>>,
}

impl Pending {
    fn fail_all(&mut self, why: &str) {
        for waiter in self
            .queued
            .drain(..)
            .chain(self.sent.drain().map(|(_, w)| w))
        {
            let _ = waiter.send(Err(why.to_owned()));
        }
    }
}

/// An MQTT subscriber's transport.
pub struct MqttTransport {
    /// Taken in `drop`, which ends the connection thread.
    client: Option<Client>,
    stopping: Arc<AtomicBool>,
    address: String,
    settings: MqttSettings,
    qos: QoS,
    ack_timeout: Duration,
    pending: Arc<Mutex<Pending>>,
    /// Serialises queueing, so the order of `queued` is the order rumqttc sends in.
    publishing: Mutex<()>,
    thread: Option<JoinHandle<()>>,
}

/// Connection options for `endpoint` under `client_id`: the broker's host and port,
/// credentials, TLS, keep-alive and packet size; and the broker's address, for messages.
/// The caller chooses the session kind.
///
/// # Errors
/// A message naming the endpoint when its address or TLS files are unusable.
pub(crate) fn options(
    endpoint: &Endpoint,
    client_id: String,
) -> Result<(MqttOptions, String), String> {
    let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
    let address = endpoint.address()?;
    let broker = address.host();
    // The host without brackets: rumqttc resolves `host:port` and names the TLS server by it.
    let (host, port) = (broker.host(), broker.port);
    let tls = address.tls;
    let mut options = MqttOptions::new(client_id, host, port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    match &endpoint.auth {
        Auth::Basic { username, password } => {
            options.set_credentials(username.clone(), password.expose());
        }
        Auth::ClientCertificate { .. } | Auth::None => {}
        other => return Err(context(format!("MQTT cannot authenticate with {other:?}"))),
    }
    if tls {
        let config = super::tls::client_config(endpoint)?;
        options.set_transport(Link::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    Ok((options, broker.to_string()))
}

/// The quality of service of level 0, 1 or 2 (anything else is 1).
pub(crate) fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        2 => QoS::ExactlyOnce,
        _ => QoS::AtLeastOnce,
    }
}

/// Why `topic` cannot be published to, if it cannot (MQTT 3.1.1, sections 1.5.3 and 4.7):
/// it is empty or over 65,535 bytes, or holds a wildcard (`+`, `#`) or U+0000; or it holds a
/// character over which the specification lets a broker drop the connection (the control
/// characters U+0001–U+001F and U+007F–U+009F, the non-characters).
pub(crate) fn topic_fault(topic: &str) -> Option<String> {
    if topic.is_empty() {
        return Some("it is empty".to_owned());
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Some(format!(
            "it is {} bytes, over the limit of {MAX_TOPIC_BYTES} bytes",
            topic.len()
        ));
    }
    topic.chars().find_map(|c| {
        let code = u32::from(c);
        if c == '+' || c == '#' {
            Some(format!("it holds the wildcard '{c}'"))
        } else if code <= 0x1F
            || (0x7F..=0x9F).contains(&code)
            || (0xFDD0..=0xFDEF).contains(&code)
            || code & 0xFFFE == 0xFFFE
        {
            Some(format!("it holds U+{code:04X}"))
        } else {
            None
        }
    })
}

impl MqttTransport {
    /// Builds the transport and starts its connection thread.
    ///
    /// # Errors
    /// A message naming the endpoint when its address or TLS files are unusable.
    pub fn new(
        endpoint: &Endpoint,
        subscriber: &str,
        settings: &MqttSettings,
    ) -> Result<Self, String> {
        let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
        let client_id = format!("integra-{subscriber}-{}", uuid::Uuid::new_v4().simple());
        let (mut options, address) = options(endpoint, client_id)?;
        options.set_clean_session(true);
        let qos = qos(settings.qos);
        let (client, connection) = Client::new(options, QUEUE);
        let pending = Arc::new(Mutex::new(Pending::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (pending, stopping, address) =
                (Arc::clone(&pending), Arc::clone(&stopping), address.clone());
            std::thread::Builder::new()
                .name(format!("integra-mqtt-{subscriber}"))
                .spawn(move || drive(connection, &pending, &stopping, qos, &address))
                .map_err(|e| context(format!("cannot start the connection thread: {e}")))?
        };
        Ok(MqttTransport {
            client: Some(client),
            stopping,
            address,
            settings: settings.clone(),
            qos,
            ack_timeout: endpoint.read_timeout,
            pending,
            publishing: Mutex::new(()),
            thread: Some(thread),
        })
    }

    /// Queues one publish and returns where its outcome will arrive.
    fn queue(&self, m: &Outgoing<'_>) -> Result<Receiver<Outcome>, SendFailure> {
        let topic = render(&self.settings.topic, m);
        if let Some(fault) = topic_fault(&topic) {
            return Err(SendFailure::unsendable(format!(
                "message {}: {:?} is not a valid MQTT topic to publish to: {fault}",
                m.message_id,
                quoted(&topic)
            )));
        }
        let (tx, rx) = bounded(1);
        let _order = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .queued
            .push_back(tx);
        let published = match &self.client {
            Some(client) => {
                client.publish(topic, self.qos, self.settings.retain, m.payload.as_bytes())
            }
            None => Err(rumqttc::ClientError::Request(rumqttc::Request::Disconnect(
                rumqttc::Disconnect,
            ))),
        };
        if let Err(e) = published {
            // Still holding the queueing lock: ours is the last waiter.
            self.pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .queued
                .pop_back();
            return Err(SendFailure::transient(format!(
                "MQTT at {}: cannot publish: {e}",
                self.address
            )));
        }
        Ok(rx)
    }
}

/// The connection thread: watches publishes leave and acknowledgements arrive, fails every
/// waiting publish when the connection drops, and reconnects (after a pause) by going on.
fn drive(
    mut connection: rumqttc::Connection,
    pending: &Mutex<Pending>,
    stopping: &AtomicBool,
    qos: QoS,
    address: &str,
) {
    for event in connection.iter() {
        let lock = || pending.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Ok(Event::Outgoing(Sent::Publish(pkid))) => {
                let mut p = lock();
                if let Some(waiter) = p.queued.pop_front() {
                    if qos == QoS::AtMostOnce {
                        let _ = waiter.send(Ok(()));
                    } else {
                        p.sent.insert(pkid, waiter);
                    }
                }
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) if qos == QoS::AtLeastOnce => {
                if let Some(waiter) = lock().sent.remove(&ack.pkid) {
                    let _ = waiter.send(Ok(()));
                }
            }
            Ok(Event::Incoming(Packet::PubComp(comp))) if qos == QoS::ExactlyOnce => {
                if let Some(waiter) = lock().sent.remove(&comp.pkid) {
                    let _ = waiter.send(Ok(()));
                }
            }
            Ok(_) => {}
            Err(rumqttc::ConnectionError::RequestsDone) => break,
            Err(e) => {
                lock().fail_all(&format!("MQTT at {address}: the connection failed: {e}"));
                if stopping.load(AtomicOrdering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

impl Transport for MqttTransport {
    fn send(&self, message: &Outgoing<'_>) -> Result<(), SendFailure> {
        self.send_batch(std::slice::from_ref(message))
            .pop()
            .unwrap_or_else(|| Err(SendFailure::permanent("nothing was sent")))
    }

    fn send_batch(&self, messages: &[Outgoing<'_>]) -> Vec<Result<(), SendFailure>> {
        let waiting: Vec<Result<Receiver<Outcome>, SendFailure>> =
            messages.iter().map(|m| self.queue(m)).collect();
        waiting
            .into_iter()
            .map(|w| {
                let rx = w?;
                match rx.recv_timeout(self.ack_timeout) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(why)) => Err(SendFailure::transient(why)),
                    Err(_) => Err(SendFailure::transient(format!(
                        "MQTT at {}: no acknowledgement within {:?}",
                        self.address, self.ack_timeout
                    ))),
                }
            })
            .collect()
    }
}

impl Drop for MqttTransport {
    fn drop(&mut self) {
        self.stopping.store(true, AtomicOrdering::SeqCst);
        if let Some(client) = self.client.take() {
            let _ = client.disconnect();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fail_all("the MQTT transport was stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: `mqtt://[::1]` was accepted at load, and every delivery failed with "'1]'
    /// is not a port".
    #[test]
    fn an_ipv6_broker_is_reached_at_its_address_and_default_port() {
        let endpoint = Endpoint::new("broker", "mqtt://[::1]");
        let (options, address) = options(&endpoint, "integra-test".to_owned()).unwrap();
        assert_eq!(options.broker_address(), ("::1".to_owned(), 1883));
        assert_eq!(address, "[::1]:1883");
    }

    #[test]
    fn a_topic_no_broker_takes_for_a_publish_is_named() {
        for topic in [
            "orders/7",
            "заказы/ЗК-001",
            "a b/$c",
            "x".repeat(MAX_TOPIC_BYTES).as_str(),
        ] {
            assert_eq!(topic_fault(topic), None, "{topic}");
        }
        let fault = |topic: &str| topic_fault(topic).unwrap();
        assert_eq!(fault(""), "it is empty");
        assert_eq!(fault("orders/#"), "it holds the wildcard '#'");
        assert_eq!(fault("orders/+/7"), "it holds the wildcard '+'");
        assert_eq!(fault("a\0b"), "it holds U+0000");
        assert_eq!(fault("a\nb"), "it holds U+000A");
        assert_eq!(fault("a\u{85}"), "it holds U+0085");
        assert_eq!(fault("a\u{FFFF}"), "it holds U+FFFF");
        assert_eq!(fault("a\u{FDD0}"), "it holds U+FDD0");
        assert_eq!(
            fault(&"x".repeat(MAX_TOPIC_BYTES + 1)),
            "it is 65536 bytes, over the limit of 65535 bytes"
        );
    }
}
