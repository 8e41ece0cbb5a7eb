//! Inbound: what feeds the incoming queue from outside. The HTTP [`receiver`] answers
//! callers (other bases through the inter-base endpoint, webhooks through routes); sources
//! fetch from brokers and polled resources. Both store through the incoming queue's checks,
//! so every message is validated and stored once per sender's id, whichever way it came.

#[cfg(feature = "receiver")]
pub mod receiver;
pub mod sources;
