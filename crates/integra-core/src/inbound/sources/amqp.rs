//! A RabbitMQ queue source: consumes with manual acknowledgements and a prefetch window,
//! stores what arrived in one transaction, then acknowledges it all at once. A message not
//! valid for the flow is first published to the dead-letter exchange, when there is one
//! (confirmed, with an `x-integra-error` header), and recorded as rejected; then it is
//! acknowledged like the rest. If storing fails, the batch is returned to the queue.
//!
//! The message id is the `message_id` property (Integra's own publisher sets it), else the
//! one at the source's `message_id_pointer`; a message with neither gets a fresh id, so a
//! redelivery of it (after a crash between storing and acknowledging) is stored again: at
//! least once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, Consumer};
use tokio::runtime::Runtime;

use super::{Context, Session};
use crate::config::AmqpSource;
use crate::queue::incoming::{ORDERING_KEY_HEADER, Received};
use crate::transport::amqp::{AmqpLink, short_string};

/// How long a step waits for the first message.
const WAIT: Duration = Duration::from_secs(1);
/// How long publishing a rejected message to the dead-letter exchange may take.
const DEAD_LETTER_TIMEOUT: Duration = Duration::from_secs(10);

struct AmqpSession {
    context: Context,
    settings: AmqpSource,
    address: String,
    runtime: Arc<Runtime>,
    connection: Connection,
    channel: Channel,
    consumer: Consumer,
    /// A channel in confirm mode for the dead-letter exchange.
    dead_letters: Option<Channel>,
}

pub(super) fn open(context: Context) -> Result<Box<dyn Session>, String> {
    let settings = context
        .source
        .amqp
        .clone()
        .ok_or_else(|| context.describe("the 'amqp' section is missing"))?;
    let runtime = context.core.transports.runtime()?;
    let link = AmqpLink::new(&context.endpoint)?;
    let address = link.address().to_owned();
    let tag = format!("integra-{}", context.flow);
    let (connection, channel, consumer, dead_letters) = runtime.block_on(async {
        let (connection, channel) = link.open().await?;
        let fail = |what: &str, e: lapin::Error| format!("RabbitMQ at {address}: {what}: {e}");
        channel
            .basic_qos(settings.prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| fail("cannot set the prefetch", e))?;
        let consumer = channel
            .basic_consume(
                short_string(&settings.queue)?,
                short_string(&tag)?,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                fail(
                    &format!("cannot consume from queue '{}'", settings.queue),
                    e,
                )
            })?;
        let dead_letters = match &settings.dead_letter_exchange {
            None => None,
            Some(_) => {
                let channel = connection
                    .create_channel()
                    .await
                    .map_err(|e| fail("cannot open a channel", e))?;
                channel
                    .confirm_select(ConfirmSelectOptions::default())
                    .await
                    .map_err(|e| fail("cannot enable publisher confirms", e))?;
                Some(channel)
            }
        };
        Ok::<_, String>((connection, channel, consumer, dead_letters))
    })?;
    log::info!(
        "flow '{}': consuming RabbitMQ queue '{}' at {address}",
        context.flow,
        settings.queue
    );
    Ok(Box::new(AmqpSession {
        context,
        settings,
        address,
        runtime,
        connection,
        channel,
        consumer,
        dead_letters,
    }))
}

/// The next delivery, waiting at most `wait`: `Ok(None)` when none came in time.
async fn next(consumer: &mut Consumer, wait: Duration) -> Result<Option<Delivery>, String> {
    let polled = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *consumer).poll_next(cx));
    match tokio::time::timeout(wait, polled).await {
        Err(_) => Ok(None),
        Ok(None) => Err("the consumer was cancelled".into()),
        Ok(Some(Err(e))) => Err(e.to_string()),
        Ok(Some(Ok(delivery))) => Ok(Some(delivery)),
    }
}

/// A header value as text, when it is text or a number.
fn header_text(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::ShortShortInt(n) => n.to_string(),
        AMQPValue::ShortShortUInt(n) => n.to_string(),
        AMQPValue::ShortInt(n) => n.to_string(),
        AMQPValue::ShortUInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        _ => return None,
    })
}

/// What a delivery holds, as a received message.
fn received(delivery: &Delivery) -> Received {
    let properties = &delivery.properties;
    let mut headers: BTreeMap<String, String> = properties
        .headers()
        .iter()
        .flat_map(|table| table.inner().iter())
        .filter_map(|(name, value)| Some((name.as_str().to_ascii_lowercase(), header_text(value)?)))
        .collect();
    headers.insert(
        "content-type".into(),
        properties
            .content_type()
            .as_ref()
            .map_or("application/json", |t| t.as_str())
            .to_owned(),
    );
    headers.insert("x-amqp-exchange".into(), delivery.exchange.as_str().into());
    headers.insert(
        "x-amqp-routing-key".into(),
        delivery.routing_key.as_str().into(),
    );
    if let Some(key) = headers.get("x-ordering-key").cloned() {
        headers.insert(ORDERING_KEY_HEADER.into(), key);
    }
    Received {
        message_id: properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .filter(|id| !id.is_empty()),
        payload: String::from_utf8_lossy(&delivery.data).into_owned(),
        headers,
        ..Received::default()
    }
}

impl AmqpSession {
    fn fail(&self, what: impl std::fmt::Display) -> String {
        format!("RabbitMQ at {}: {what}", self.address)
    }

    /// Publishes a rejected delivery to the dead-letter exchange and awaits the confirm.
    async fn dead_letter(&self, delivery: &Delivery, error: &str) -> Result<(), String> {
        let (Some(channel), Some(exchange)) =
            (&self.dead_letters, &self.settings.dead_letter_exchange)
        else {
            return Ok(());
        };
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        let excerpt: String = error.chars().take(1000).collect();
        headers.insert(
            "x-integra-error".into(),
            AMQPValue::LongString(excerpt.into()),
        );
        headers.insert(
            "x-integra-flow".into(),
            AMQPValue::LongString(self.context.flow.as_str().into()),
        );
        let properties: BasicProperties = delivery.properties.clone().with_headers(headers);
        let published = async {
            let confirm = channel
                .basic_publish(
                    short_string(exchange)?,
                    delivery.routing_key.clone(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &delivery.data,
                    properties,
                )
                .await
                .map_err(|e| self.fail(format!("cannot publish to '{exchange}': {e}")))?;
            match confirm.await {
                Ok(Confirmation::Ack(None)) => Ok(()),
                Ok(Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_))) => Err(self.fail(
                    format!("the dead-letter exchange '{exchange}' routes the message nowhere"),
                )),
                Ok(other) => Err(self.fail(format!(
                    "the dead-letter exchange '{exchange}' refused the message: {other:?}"
                ))),
                Err(e) => Err(self.fail(e)),
            }
        };
        tokio::time::timeout(DEAD_LETTER_TIMEOUT, published)
            .await
            .unwrap_or_else(|_| Err(self.fail("no confirmation from the dead-letter exchange")))
    }

    async fn step_async(&mut self) -> Result<(), String> {
        let Some(first) = next(&mut self.consumer, WAIT)
            .await
            .map_err(|e| self.fail(e))?
        else {
            return Ok(());
        };
        let mut deliveries = vec![first];
        while deliveries.len() < usize::from(self.settings.prefetch) {
            match next(&mut self.consumer, Duration::ZERO).await {
                Ok(Some(delivery)) => deliveries.push(delivery),
                Ok(None) => break,
                Err(e) => return Err(self.fail(e)),
            }
        }
        let checked = self
            .context
            .check(deliveries.iter().map(received).collect());
        for (delivery, outcome) in deliveries.iter().zip(&checked) {
            if let Err(refusal) = outcome
                && !crate::queue::incoming::is_flow_level(&refusal.error)
            {
                self.dead_letter(delivery, &refusal.error.to_string())
                    .await?;
            }
        }
        let last = deliveries
            .last()
            .map(|d| d.delivery_tag)
            .unwrap_or_default();
        // Storing blocks this runner's own thread, never one of the runtime's.
        match self.context.store(checked, |_| Ok(true)) {
            Ok(_) => self
                .channel
                .basic_ack(last, BasicAckOptions { multiple: true })
                .await
                .map_err(|e| self.fail(format!("cannot acknowledge: {e}"))),
            Err(e) => {
                let _ = self
                    .channel
                    .basic_nack(
                        last,
                        BasicNackOptions {
                            multiple: true,
                            requeue: true,
                        },
                    )
                    .await;
                Err(e)
            }
        }
    }
}

impl Session for AmqpSession {
    fn step(&mut self) -> Result<(), String> {
        let runtime = Arc::clone(&self.runtime);
        runtime.block_on(self.step_async())
    }
}

impl Drop for AmqpSession {
    fn drop(&mut self) {
        let connection = &self.connection;
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(2), connection.close(200, "bye".into())).await
        });
    }
}
