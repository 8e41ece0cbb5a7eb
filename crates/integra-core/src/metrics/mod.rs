//! Metrics for Prometheus, in the OpenMetrics text format.
//!
//! Two kinds, encoded together by [`Engine::metrics_text`](crate::Engine::metrics_text):
//!
//! * **events** (`events`): counters and histograms of what *this process* did, recorded
//!   after each transaction commits: registered, formed, delivered by outcome, received by
//!   outcome, processed, retried, refused by a schema, and how long sending, forming and
//!   processing took (for an external former or processor, pulling through the API as 1C
//!   does, the time from its claim to its answer, by the engine's clock). Like any
//!   Prometheus client's, they start at zero with the process: scrape every process that
//!   works (each 1C server process with the add-in, say).
//! * **state** (`state`): the queues as the database holds them, the same from every
//!   process: depth by flow, subscriber and status, the oldest pending row's age, dead
//!   deliveries, the dispatcher's threads, the database's size; and the 1C integration
//!   subsystem's `pde_*` metrics under its names and labels. One gauge is this process's
//!   own: the rows waiting for a Rust former or incoming handler it has not registered.
//!
//! The text is served at `/metrics` by a listener that enables it (see the receiver), and returned
//! by [`Engine::metrics_text`](crate::Engine::metrics_text) for programs that serve it themselves
//! (a 1C HTTP service). Serve it with [`CONTENT_TYPE`], or Prometheus reads it as the classic
//! format.

pub(crate) mod events;
mod recent;
mod state;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::registry::Registry;

use crate::core::Core;
use crate::dispatch::Handlers;
use crate::error::Result;

/// The content type of [`Engine::metrics_text`](crate::Engine::metrics_text).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of `core`'s engine, whose Rust handlers are `handlers`
/// ([`Engine::metrics_text`](crate::Engine::metrics_text)).
pub(crate) fn text(core: &Core, handlers: &Handlers) -> Result<String> {
    let state = state::State::gather(core, handlers)?;
    let mut scrape = Registry::default();
    scrape.register_collector(Box::new(state));
    let mut text = String::new();
    let written = encode_registry(&mut text, &core.metrics.events.registry)
        .and_then(|()| encode_registry(&mut text, &scrape))
        .and_then(|()| encode_eof(&mut text));
    // Writing to a String cannot fail.
    debug_assert!(written.is_ok());
    Ok(text)
}
