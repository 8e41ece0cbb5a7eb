//! RabbitMQ (AMQP 0-9-1) through lapin.
//!
//! One connection and one channel in publisher-confirm mode per subscriber, reused across
//! messages and re-opened after the broker or the network drops them. A batch is published
//! whole, then its confirmations are awaited together. Messages are persistent
//! (`delivery_mode` 2), carry the message id in `message_id`, and the flow, subscriber and
//! keys in headers. They are published `mandatory`, so a message no queue would take comes
//! back and is a failure, not a silent acknowledgement; a broker nack is a failure too.
//! Nothing is Sent that the broker did not confirm.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::tcp::{AMQPUriTcpExt, RustlsConnector};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::uri::{AMQPScheme, AMQPUri, SASLMechanism};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use lapin::{Confirmation, PublisherConfirm};
use tokio::runtime::Runtime;

use super::template::render;
use super::{Outgoing, SendFailure, Transport};
use crate::config::{AmqpSettings, Auth, Endpoint};

/// How to reach a RabbitMQ endpoint: its URI with credentials, TLS, and the connection
/// deadline. Shared by the subscriber transport and the queue source.
///
/// The connection is opened here rather than by lapin's own connector: TCP to the host as
/// parsed ([`crate::config::Address`]: lapin would read an IP address as `localhost` and
/// cannot resolve an IPv6 address in brackets), then, for `amqps://`, TLS with the rustls
/// configuration every broker transport uses ([`super::tls::client_config`]: the system's
/// store, the built-in roots and the endpoint's CA file, its client certificate).
pub(crate) struct AmqpLink {
    uri: AMQPUri,
    /// Where to connect, for messages: the address without credentials.
    address: String,
    /// The TLS configuration, for `amqps://`.
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
}

/// A RabbitMQ subscriber's transport.
pub struct AmqpTransport {
    link: AmqpLink,
    address: String,
    settings: AmqpSettings,
    confirm_timeout: Duration,
    runtime: Arc<Runtime>,
    live: Mutex<Option<Live>>,
}

struct Live {
    connection: Connection,
    channel: Channel,
}

impl AmqpLink {
    /// Reads the endpoint's address, credentials and TLS files.
    ///
    /// # Errors
    /// A message naming the endpoint when its address or TLS files are unusable.
    pub(crate) fn new(endpoint: &Endpoint) -> Result<Self, String> {
        let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
        let address = endpoint.address()?;
        // The virtual host and the query's settings as lapin reads them; the host and port
        // as parsed.
        let mut uri: AMQPUri = endpoint.base_url.parse().map_err(|e| {
            context(format!(
                "'{}' is not an AMQP address: {e}",
                crate::config::without_credentials(&endpoint.base_url)
            ))
        })?;
        uri.authority.host = address.host().host();
        uri.authority.port = address.host().port;
        let mut tls = None;
        if uri.scheme == AMQPScheme::AMQPS {
            tls = Some(super::tls::client_config(endpoint)?);
        }
        match &endpoint.auth {
            Auth::Basic { username, password } => {
                uri.authority.userinfo.username = username.clone();
                uri.authority.userinfo.password = password.expose().to_owned();
            }
            Auth::ClientCertificate { .. } => {
                if tls.is_none() {
                    return Err(context(
                        "a client certificate is presented over TLS: use an amqps:// address"
                            .to_owned(),
                    ));
                }
                uri.query.auth_mechanism = Some(SASLMechanism::External);
            }
            _ => {}
        }
        Ok(AmqpLink {
            uri,
            address: address.host().to_string(),
            tls,
            connect_timeout: endpoint.connect_timeout,
        })
    }

    /// The broker's address, without credentials.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Connects and opens a channel, within the connection deadline.
    pub(crate) async fn open(&self) -> Result<(Connection, Channel), String> {
        let fail =
            |what: &str, e: lapin::Error| format!("RabbitMQ at {}: {what}: {e}", self.address);
        let opening = async {
            let runtime = lapin::runtime::default_runtime().map_err(|e| fail("no runtime", e))?;
            let tls = self.tls.clone().map(RustlsConnector::from);
            let connect = async move |uri: AMQPUri, runtime| {
                let plain = AMQPUri {
                    scheme: AMQPScheme::AMQP,
                    ..uri.clone()
                };
                let stream = plain.connect_async(&runtime).await?;
                Ok(match &tls {
                    Some(tls) => stream.into_rustls(tls, &uri.authority.host).await?,
                    None => stream,
                })
            };
            let connection = Connection::connector(
                self.uri.clone(),
                runtime,
                connect,
                ConnectionProperties::default(),
            )
            .await
            .map_err(|e| fail("cannot connect", e))?;
            let channel = connection
                .create_channel()
                .await
                .map_err(|e| fail("cannot open a channel", e))?;
            Ok((connection, channel))
        };
        tokio::time::timeout(self.connect_timeout, opening)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "RabbitMQ at {}: no connection within {:?}",
                    self.address, self.connect_timeout
                ))
            })
    }
}

/// Checks that `value` fits an AMQP short string (255 bytes).
pub(crate) fn short_string(value: &str) -> Result<ShortString, String> {
    ShortString::try_new(value).map_err(|e| e.to_string())
}

impl AmqpTransport {
    /// Builds the transport; it connects on first use.
    ///
    /// # Errors
    /// A message naming the endpoint when its address or TLS files are unusable.
    pub fn new(
        endpoint: &Endpoint,
        settings: &AmqpSettings,
        runtime: Arc<Runtime>,
    ) -> Result<Self, String> {
        let context = |what: String| format!("endpoint '{}': {what}", endpoint.code);
        let link = AmqpLink::new(endpoint)?;
        // AMQP short strings hold at most 255 bytes; check what the configuration fixes now.
        let short = |field: String, value: &str| {
            short_string(value)
                .map(|_| ())
                .map_err(|e| context(format!("{field}: {e}")))
        };
        short("amqp.exchange".into(), &settings.exchange)?;
        for name in settings.headers.keys() {
            short(format!("amqp.headers: '{name}'"), name)?;
        }
        Ok(AmqpTransport {
            address: link.address.clone(),
            link,
            settings: settings.clone(),
            confirm_timeout: endpoint.read_timeout,
            runtime,
            live: Mutex::new(None),
        })
    }

    /// Connects, opens a channel and puts it in confirm mode.
    async fn connect(&self) -> Result<Live, SendFailure> {
        let (connection, channel) = self.link.open().await.map_err(SendFailure::transient)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| {
                SendFailure::transient(format!(
                    "RabbitMQ at {}: cannot enable publisher confirms: {e}",
                    self.address
                ))
            })?;
        Ok(Live {
            connection,
            channel,
        })
    }

    fn properties(&self, m: &Outgoing<'_>) -> BasicProperties {
        let mut headers = FieldTable::default();
        let mut put = |name: &str, value: &str| {
            headers.insert(name.into(), AMQPValue::LongString(value.into()));
        };
        put("x-flow", m.flow);
        put("x-subscriber", m.subscriber);
        if let Some(k) = m.object_key {
            put("x-object-key", k);
        }
        if let Some(k) = m.ordering_key {
            put("x-ordering-key", k);
        }
        for (name, value) in &self.settings.headers {
            put(name, value);
        }
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_message_id(m.message_id.into())
            .with_content_type("application/json".into())
            .with_headers(headers)
    }

    /// Publishes the batch on `live`, then awaits each confirmation.
    async fn publish(
        &self,
        live: &Live,
        messages: &[Outgoing<'_>],
    ) -> (Vec<Result<(), SendFailure>>, bool) {
        let mut confirms: Vec<Result<PublisherConfirm, SendFailure>> =
            Vec::with_capacity(messages.len());
        let mut broken = false;
        for m in messages {
            let routing_key = render(&self.settings.routing_key, m);
            let published = match short_string(&routing_key) {
                Err(e) => Err(SendFailure::unsendable(format!(
                    "the routing key of message {}: {e}",
                    m.message_id
                ))),
                Ok(key) => live
                    .channel
                    .basic_publish(
                        self.settings.exchange.as_str().into(),
                        key,
                        BasicPublishOptions {
                            mandatory: true,
                            ..BasicPublishOptions::default()
                        },
                        m.payload.as_bytes(),
                        self.properties(m),
                    )
                    .await
                    .map_err(|e| {
                        broken = true;
                        SendFailure::transient(format!(
                            "RabbitMQ at {}: publish failed: {e}",
                            self.address
                        ))
                    }),
            };
            confirms.push(published);
        }
        let mut outcomes = Vec::with_capacity(confirms.len());
        for (confirm, m) in confirms.into_iter().zip(messages) {
            let outcome = match confirm {
                Err(e) => Err(e),
                Ok(confirm) => match tokio::time::timeout(self.confirm_timeout, confirm).await {
                    Err(_) => {
                        broken = true;
                        Err(SendFailure::transient(format!(
                            "RabbitMQ at {}: no confirmation within {:?}",
                            self.address, self.confirm_timeout
                        )))
                    }
                    Ok(Err(e)) => {
                        broken = true;
                        Err(SendFailure::transient(format!(
                            "RabbitMQ at {}: {e}",
                            self.address
                        )))
                    }
                    Ok(Ok(confirmation)) => self.judge(confirmation, m),
                },
            };
            outcomes.push(outcome);
        }
        (outcomes, broken)
    }

    fn judge(&self, confirmation: Confirmation, m: &Outgoing<'_>) -> Result<(), SendFailure> {
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(back)) | Confirmation::Nack(Some(back)) => {
                Err(SendFailure::permanent(format!(
                    "RabbitMQ returned message {}: {} {} (exchange '{}', routing key '{}'): no queue takes it",
                    m.message_id,
                    back.reply_code,
                    back.reply_text,
                    self.settings.exchange,
                    render(&self.settings.routing_key, m)
                )))
            }
            Confirmation::Nack(None) => Err(SendFailure::transient(format!(
                "RabbitMQ refused message {} (nack)",
                m.message_id
            ))),
            Confirmation::NotRequested => Err(SendFailure::permanent(
                "the channel is not in confirm mode, so delivery cannot be confirmed".to_owned(),
            )),
        }
    }
}

impl Transport for AmqpTransport {
    fn send(&self, message: &Outgoing<'_>) -> Result<(), SendFailure> {
        self.send_batch(std::slice::from_ref(message))
            .pop()
            .unwrap_or_else(|| Err(SendFailure::permanent("nothing was sent")))
    }

    fn send_batch(&self, messages: &[Outgoing<'_>]) -> Vec<Result<(), SendFailure>> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        self.runtime.block_on(async {
            if !live
                .as_ref()
                .is_some_and(|l| l.channel.status().connected())
            {
                *live = None;
                match self.connect().await {
                    Ok(l) => *live = Some(l),
                    Err(e) => return messages.iter().map(|_| Err(e.clone())).collect(),
                }
            }
            let Some(current) = live.as_ref() else {
                return messages
                    .iter()
                    .map(|_| Err(SendFailure::transient("not connected")))
                    .collect();
            };
            let (outcomes, broken) = self.publish(current, messages).await;
            if broken {
                // Open a fresh connection next time rather than reuse a doubtful one.
                *live = None;
            }
            outcomes
        })
    }
}

impl Drop for AmqpTransport {
    fn drop(&mut self) {
        let live = self
            .live
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Close politely when we can block; inside a runtime, dropping is all we may do.
        if let Some(live) = live
            && tokio::runtime::Handle::try_current().is_err()
        {
            self.runtime.block_on(async move {
                let closing = live.connection.close(200, "Integra is closing".into());
                let _ = tokio::time::timeout(Duration::from_secs(2), closing).await;
            });
        }
    }
}
