//! # Integra
//!
//! A fast, durable integration bus that runs inside your process: outgoing and incoming
//! message queues on an embedded SQLite file, data flows fanned out to subscribers with
//! per-subscriber status, retries and history, for 1C:Enterprise applications (through
//! the add-in), C programs (through the C ABI) and Rust programs (this crate).
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
//!
//! ## The C ABI
//!
//! This crate is also Integra's C library (`libintegra.so`), declared in
//! `include/integra.h`, which cbindgen generates from these modules. Its conventions:
//!
//! * Every symbol starts with `integra_`. `integra_engine` is opaque: made by
//!   `integra_engine_new`, freed by `integra_engine_free` (NULL-safe).
//! * Every fallible function returns an `integra_status`; on failure
//!   `integra_engine_last_error` says what was wrong, and out-parameters are not written.
//!   A NULL where a pointer is required is `INTEGRA_STATUS_NULL_PARAMETER`, refused before
//!   the call does anything (`tests/it/c_abi.rs` sweeps every function for this).
//! * Strings are NUL-terminated UTF-8 both ways; complex values are JSON. Returned strings
//!   belong to the caller, who frees them with `integra_string_free`.
//! * Nothing unwinds into C: every function runs inside one panic guard and reports a
//!   panic as `INTEGRA_STATUS_PANIC`.
//! * Every function may be called from any thread, on one handle from several at once. The
//!   last error belongs to the thread: `integra_engine_last_error` tells what this thread's
//!   last call on the handle said, whatever other threads do with it meanwhile.
//! * The library installs no logger but its own: a log file named in the open settings
//!   (`integra_engine_open`), one per process.

// docs.rs (nightly, `--cfg docsrs`) marks what each cargo feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod engine;
mod handle;
#[cfg(feature = "receiver")]
mod message_exchange;
mod panic;
mod status;
mod string;

pub use handle::IntegraEngine;
pub use integra_core::*;
pub use status::IntegraStatus;

/// The README's code blocks, compiled as doctests so they stay true (they use every
/// feature).
#[cfg(all(doctest, feature = "full"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
