//! An MQTT source: a topic filter subscribed at QoS 1 (or 2) on a persistent session (clean
//! session off, a stable client id), so what is published while Integra is away waits at the
//! broker. Acknowledgements are manual: a PUBACK (or PUBREC) leaves only after the messages
//! are stored, so a crash before it means the broker sends them again.
//!
//! MQTT 3.1.1 messages carry no id: the id is the one at the source's `message_id_pointer`
//! (which makes redeliveries harmless), else a fresh one (at least once). The topic a message
//! came on is stored in the `x-mqtt-topic` header.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, Outgoing, Packet, Publish,
    SubscribeReasonCode,
};
use tokio::runtime::Runtime;

use super::{Context, Session};
use crate::queue::incoming::Received;
use crate::transport::mqtt::{options, qos};

/// How long a step waits for the first message.
const WAIT: Duration = Duration::from_secs(1);
/// Most messages stored in one transaction.
const BATCH: usize = 100;
/// How long acknowledgements may take to leave.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

struct MqttSession {
    context: Context,
    address: String,
    runtime: Arc<Runtime>,
    client: AsyncClient,
    events: EventLoop,
    /// Publishes that arrived while acknowledgements were leaving, for the next step.
    early: VecDeque<Publish>,
}

pub(super) fn open(context: Context) -> Result<Box<dyn Session>, String> {
    let settings = context
        .source
        .mqtt
        .clone()
        .ok_or_else(|| context.describe("the 'mqtt' section is missing"))?;
    let runtime = context.core.transports.runtime()?;
    let client_id = settings
        .client_id
        .clone()
        .unwrap_or_else(|| format!("integra-{}", context.flow));
    let (mut mqtt_options, address) = options(&context.endpoint, client_id)?;
    mqtt_options.set_clean_session(false).set_manual_acks(true);
    let (client, mut events) = AsyncClient::new(mqtt_options, 2 * BATCH);
    let connect_timeout = context.endpoint.connect_timeout;
    let fail = |what: String| format!("MQTT at {address}: {what}");
    // A resumed session delivers what waited for it right after the CONNACK: keep it.
    let mut early = VecDeque::new();
    runtime.block_on(async {
        let connected = async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        return if ack.code == ConnectReturnCode::Success {
                            Ok(())
                        } else {
                            Err(fail(format!(
                                "the broker refused the connection: {:?}",
                                ack.code
                            )))
                        };
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail(format!("cannot connect: {e}"))),
                }
            }
        };
        tokio::time::timeout(connect_timeout, connected)
            .await
            .unwrap_or_else(|_| Err(fail(format!("no connection within {connect_timeout:?}"))))?;
        client
            .subscribe(settings.topic.clone(), qos(settings.qos))
            .await
            .map_err(|e| fail(format!("cannot subscribe: {e}")))?;
        let subscribed = async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(ack))) => {
                        return if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                            Err(fail(format!(
                                "the broker refused the subscription to '{}'",
                                settings.topic
                            )))
                        } else {
                            Ok(())
                        };
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => early.push_back(p),
                    Ok(_) => {}
                    Err(e) => return Err(fail(format!("cannot subscribe: {e}"))),
                }
            }
        };
        tokio::time::timeout(connect_timeout, subscribed)
            .await
            .unwrap_or_else(|_| Err(fail("no subscription acknowledgement".into())))
    })?;
    log::info!(
        "flow '{}': subscribed to MQTT topic '{}' at {address}",
        context.flow,
        settings.topic
    );
    Ok(Box::new(MqttSession {
        context,
        address,
        runtime,
        client,
        events,
        early,
    }))
}

impl MqttSession {
    fn fail(&self, what: impl std::fmt::Display) -> String {
        format!("MQTT at {}: {what}", self.address)
    }

    /// The next publish, waiting at most `wait`: `None` when none came.
    async fn next(&mut self, wait: Duration) -> Result<Option<Publish>, String> {
        if let Some(p) = self.early.pop_front() {
            return Ok(Some(p));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let polled = tokio::time::timeout_at(deadline, self.events.poll()).await;
            match polled {
                Err(_) => return Ok(None),
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => return Ok(Some(p)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(self.fail(format!("the connection failed: {e}"))),
            }
        }
    }

    /// Acknowledges `publishes` and drives the connection until the acknowledgements left.
    async fn acknowledge(&mut self, publishes: &[Publish]) -> Result<(), String> {
        let mut waiting: Vec<u16> = Vec::new();
        for p in publishes {
            self.client
                .ack(p)
                .await
                .map_err(|e| self.fail(format!("cannot acknowledge: {e}")))?;
            if p.pkid != 0 {
                waiting.push(p.pkid);
            }
        }
        let started = Instant::now();
        while !waiting.is_empty() {
            let left = ACK_TIMEOUT.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, self.events.poll()).await {
                Err(_) => return Err(self.fail("the acknowledgements did not leave in time")),
                Ok(Ok(Event::Outgoing(Outgoing::PubAck(id) | Outgoing::PubRec(id)))) => {
                    waiting.retain(|w| *w != id);
                }
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => self.early.push_back(p),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(self.fail(format!("the connection failed: {e}"))),
            }
        }
        Ok(())
    }

    async fn step_async(&mut self) -> Result<(), String> {
        let Some(first) = self.next(WAIT).await? else {
            return Ok(());
        };
        let mut publishes = vec![first];
        while publishes.len() < BATCH {
            match self.next(Duration::ZERO).await? {
                Some(p) => publishes.push(p),
                None => break,
            }
        }
        let received = publishes
            .iter()
            .map(|p| Received {
                payload: String::from_utf8_lossy(&p.payload).into_owned(),
                headers: [
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("x-mqtt-topic".to_owned(), p.topic.clone()),
                ]
                .into(),
                ..Received::default()
            })
            .collect();
        let checked = self.context.check(received);
        // Storing blocks this runner's own thread, never one of the runtime's.
        self.context.store(checked, |_| Ok(true))?;
        self.acknowledge(&publishes).await
    }
}

impl Session for MqttSession {
    fn step(&mut self) -> Result<(), String> {
        let runtime = Arc::clone(&self.runtime);
        runtime.block_on(self.step_async())
    }
}

impl Drop for MqttSession {
    fn drop(&mut self) {
        let (client, events) = (&self.client, &mut self.events);
        self.runtime.block_on(async {
            if client.disconnect().await.is_ok() {
                // Drive the connection until the disconnect has left.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Ok(event) = events.poll().await {
                        if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                            break;
                        }
                    }
                })
                .await;
            }
        });
    }
}
