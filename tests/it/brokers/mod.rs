//! Every subscriber kind delivering to the real thing. [`conformance`] runs the same tests
//! against each transport; the other modules hold what is particular to one.

mod amqp;
mod conformance;
mod http_kinds;
mod kafka;
mod mqtt;

use std::time::Duration;

use serde_json::Value;

/// One message as the far side received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Got {
    pub payload: Value,
    /// The message id, when the protocol carries it.
    pub message_id: Option<String>,
    /// The flow, when the protocol carries it.
    pub flow: Option<String>,
    /// The record key or equivalent, when the protocol has one.
    pub key: Option<String>,
}

/// A fresh destination on a real broker or server, and an independent client reading it.
pub trait Peer {
    /// The port the broker or server listens on.
    fn port(&self) -> u16;
    /// The endpoint (code `e`) reaching it through `port` (its own, or a proxy's).
    fn endpoint_at(&self, port: u16) -> Value;
    /// The subscriber (code `s`) that delivers here.
    fn subscriber(&self) -> Value;
    /// Waits until `n` messages arrived (panics after `timeout`); returns them in order.
    fn read(&self, n: usize, timeout: Duration) -> Vec<Got>;

    /// The endpoint reaching it directly.
    fn endpoint(&self) -> Value {
        self.endpoint_at(self.port())
    }

    /// The endpoint at an address nothing listens on.
    fn unreachable_endpoint(&self) -> Value {
        self.endpoint_at(crate::support::brokers::free_port())
    }
}

/// Polls `read_more` until `n` messages were collected.
pub fn collect(n: usize, timeout: Duration, mut read_more: impl FnMut(&mut Vec<Got>)) -> Vec<Got> {
    let start = std::time::Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        read_more(&mut got);
        assert!(
            start.elapsed() < timeout,
            "expected {n} messages within {timeout:?}, got {}",
            got.len()
        );
        if got.len() < n {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    got
}

/// Registration options with both keys: object key `doc-1`, ordering key `customer-7`.
pub fn both_keys() -> integra::RegisterOptions {
    integra::RegisterOptions::object_key("doc-1").with_ordering_key("customer-7")
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
