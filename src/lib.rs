//! # Integra
//!
//! A fast, durable integration bus that runs inside your process: outgoing and incoming
//! message queues on an embedded SQLite file, data flows fanned out to subscribers with
//! per-subscriber status, retries and history, for 1C:Enterprise applications (through
//! the add-in), C programs (through the C library, `crates/integra-c`) and Rust programs
//! (this crate).
//!
//! This crate is the front door for Rust users: it re-exports the engine,
//! [`integra_core`]. See [`Engine`] to start.
//!
//! ```no_run
//! use std::time::Duration;
//! use integra::{Engine, EngineOptions, RegisterOptions};
//!
//! # fn main() -> integra::Result<()> {
//! let engine = Engine::open("integra.db", EngineOptions::default())?;
//! engine.load_config(&integra::Config::from_file("integra.json")?)?;
//! let id = engine.register("ORDER_EXPORT", r#"{"number": "A-1"}"#, &RegisterOptions::default())?;
//! engine.dispatch(1000, Duration::from_secs(10))?;
//! println!("{id} is {}", engine.message_status(&id)?.status);
//! # Ok(()) }
//! ```
//!
//! ## Crate features
//!
//! * `http` (default): HTTP subscribers, poll sources, external schemas.
//! * `jsonrpc`, `interbase`: JSON-RPC 2.0 and inter-base subscribers.
//! * `amqp`, `kafka`, `mqtt`: RabbitMQ, Kafka and MQTT subscribers and sources.
//! * `receiver`: the HTTP receiver (inter-base endpoint, webhook routes) and the message
//!   exchange between bases.
//! * `full`: all of the above.

// docs.rs (nightly, `--cfg docsrs`) marks what each cargo feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use integra_core::*;

/// The README's code blocks, compiled as doctests so they stay true (they use every
/// feature).
#[cfg(all(doctest, feature = "full"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
