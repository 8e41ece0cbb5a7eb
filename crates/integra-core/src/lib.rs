//! Integra's engine: a durable integration bus on embedded SQLite.
//!
//! Application code registers messages on *flows*; Integra forms them (or passes the
//! source through), fans each out to the flow's *subscribers*, and delivers every
//! (message, subscriber) pair with its own status, retries with backoff, and history. It
//! accepts incoming messages once per sender's id into an incoming queue. Everything lives
//! in one SQLite file that several processes may share.
//!
//! ```no_run
//! use std::time::Duration;
//! use integra_core::{Engine, EngineOptions, RegisterOptions};
//!
//! # fn main() -> integra_core::Result<()> {
//! let engine = Engine::open("integra.db", EngineOptions::default())?;
//! engine.load_config_json(r#"{
//!     "endpoints":   [{"code": "shop", "base_url": "http://127.0.0.1:8080"}],
//!     "subscribers": [{"code": "shop_orders", "kind": "http", "endpoint": "shop",
//!                      "http": {"path": "/orders"}}],
//!     "flows":       [{"code": "ORDER_EXPORT", "direction": "outgoing",
//!                      "subscribers": ["shop_orders"]}]
//! }"#)?;
//! let id = engine.register("ORDER_EXPORT", r#"{"number": "A-1"}"#, &RegisterOptions::default())?;
//! let report = engine.dispatch(1000, Duration::from_secs(10))?;
//! println!("{id}: {report:?}");
//! # Ok(()) }
//! ```
//!
//! ## A map
//!
//! [`Engine`] is the one handle; its operations come in groups, each documented on its own
//! `impl` block: opening, the configuration, registering, forming, incoming messages,
//! looking at the queues, external ids, dispatching, maintenance, schemas, metrics,
//! sources, the receiver and the message exchange. The types they take and return live
//! with their subsystem: [`config`] (what the configuration holds), [`queue`] (messages,
//! statuses, reports), [`dispatch`], [`maintenance`], [`openapi`], [`metrics`],
//! [`inbound`] (receiver and sources), [`exchange`]; the most used are re-exported here.
//! [`Error`] says what went wrong, with an [`ErrorKind`] to branch on.
//!
//! ## Crate features
//!
//! * `http` (default): HTTP subscribers, poll sources, and fetching external schemas,
//!   through ureq 3 with rustls.
//! * `jsonrpc`, `interbase`: JSON-RPC 2.0 and inter-base subscribers (over `http`).
//! * `amqp`, `kafka`, `mqtt`: RabbitMQ, Kafka and MQTT subscribers and sources.
//! * `receiver`: the HTTP receiver (inter-base endpoint, webhook routes), on hyper, and
//!   the message exchange between bases ([`exchange`]), which needs it.
//! * `full`: all of the above.
#![forbid(unsafe_code)]
// docs.rs (nightly, `--cfg docsrs`) marks what each cargo feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
mod core;
pub mod dispatch;
mod engine;
pub mod error;
#[cfg(feature = "receiver")]
pub mod exchange;
mod ids;
pub mod inbound;
// The JSON front door the C library and the 1C add-in share: not part of the Rust API, and
// built only for them (the internal feature `front-door`).
#[cfg(feature = "front-door")]
#[doc(hidden)]
pub mod json_api;
pub mod limits;
pub mod maintenance;
pub mod metrics;
pub mod openapi;
pub mod queue;
pub mod retry;
pub mod secrets;
mod setters;
pub mod status;
pub(crate) mod store;
pub mod time;
pub(crate) mod transport;

pub use crate::core::EngineOptions;
pub use config::Config;
pub use dispatch::{DispatchReport, DispatcherOptions};
pub use engine::Engine;
pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "receiver")]
pub use exchange::{
    ChannelHandler, ChannelRecipients, ConnectionSettings, ExchangeEndpoint, ExchangeIdentity,
    ExchangeMessage, QuickDeliveryReport, ReceivedMessage, Recipients, SentMessage,
};
pub use ids::{ExchangeMessageId, IncomingId, MessageId};
#[cfg(feature = "receiver")]
pub use inbound::receiver::Receiver;
pub use inbound::sources::{Rejection, SourceStatus, Sources};
pub use maintenance::cleanup::CleanupReport;
pub use maintenance::integrity::{
    IntegrityCheck, IntegrityMode, IntegrityProblem, IntegrityReport,
};
pub use openapi::Violation;
pub use queue::forming::{FormOutcome, Former, FormingItem};
pub use queue::incoming::{Accepted, IncomingHandler, IncomingItem};
pub use queue::inspect::{
    CountedQueue, DeliveryReport, FlowCount, HistoryEntry, IncomingFilter, IncomingReport,
    IncomingSummary, ListFilter, MessageReport, MessageSummary, QueueCounts, RetryFilter,
    SubscriberHealth,
};
pub use queue::register::{RegisterOptions, Registration};
pub use retry::HandlerError;
pub use secrets::{SecretsError, SecretsKey};
pub use status::{
    DeliveryStatus, HistoryStatus, InboxStatus, IncomingStatus, MessageStatus, OutboxStatus,
};
pub use store::{BackendError, Durability, StoreError, StoreSpace};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
