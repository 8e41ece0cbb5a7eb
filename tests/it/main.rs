//! Integra's integration tests: one binary, one module per capability.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test that meets the unexpected should stop right there, loudly"
)]

mod support;

// Configuration: loading, validation, changes through the API, sharing through the file.
mod config;
// The outgoing lifecycle: every transition of messages and deliveries.
mod lifecycle;
// Duplicate suppression: coalescing, unchanged content, Rust formers.
mod dedup;
// Ordering by key: one at a time per key, a failing key holds back only itself.
mod ordering;
// Delayed delivery, re-drive, listing, deletion, cleanup.
mod operations;
// External-ID mapping.
mod external_ids;
// The incoming queue: dedup, processing, retries, leases, content types.
mod incoming;
// The HTTP subscriber: auth, ids, methods, statuses, Retry-After, timeouts, gzip, TLS.
mod http_subscriber;
// Leases, and crashes (SIGKILL of a child process) of work in flight.
mod crash;
// Faults injected many times and counted: SIGKILL loops, outages, four processes on one file.
mod faults;
// The C ABI: the header, a C program through it.
mod c_abi;
// Metrics: Prometheus exposition, the 1C subsystem's names, scrape cost.
mod metrics;
// Incoming messages processed by Rust handlers.
mod processing;
// The HTTP receiver: the inter-base endpoint, webhook routes, limits, two bases exchanging.
mod receiver;
// The operators' API on a listener: tokens and roles, every documented route, answers
// checked against the OpenAPI document.
mod admin;
// Sources: RabbitMQ, Kafka and MQTT consumers and the HTTP poller feeding incoming flows.
mod sources;
// The message exchange between bases (the 1C SSL «Обмен сообщениями» API).
mod exchange;
// The background dispatcher.
mod dispatcher;
// Bad input: clear errors, nothing half-written.
mod bad_input;
// Secrets: never in logs, errors, metrics, status output or exported configuration.
mod secrets;
// The store: group commit under concurrency, FULL durability.
mod store;
// Several servers on one PostgreSQL database: wake-ups across servers, the database's clock,
// lost connections and restarts of the server.
mod cluster;
// OpenAPI 3.0 validation.
mod openapi;
// Every subscriber kind against the real thing: RabbitMQ, Kafka (tansu), MQTT (Mosquitto),
// HTTP, JSON-RPC, inter-base.
mod brokers;
// The fuzz corpora replayed through the fuzz targets' bodies (fuzz/src/targets.rs).
mod fuzz_corpora;
// Storage faults: read-only, full disk, damaged file; the integrity check.
mod storage_faults;
// The front doors' handle, shared by the C library and the add-in: results and writes.
mod handles;
// One database, many sessions and processes, as a 1C server runs them.
mod sessions;
