//! Integra's integration tests: one binary, one module per capability.

mod support;

// Configuration: loading, validation, changes through the API, sharing through the file.
mod config;
// The outgoing lifecycle: every transition of messages and deliveries.
mod lifecycle;
