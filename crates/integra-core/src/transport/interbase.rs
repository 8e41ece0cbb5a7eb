//! Inter-base delivery: the same subsystem in another base (the 1C `инт_` integration
//! subsystem, or Integra's own receiver). Wire-compatible with the 1C subsystem:
//! `POST {base}{root}/v1/{flow}/{message_id}` with `X-Message-ID` and the bare JSON payload;
//! it answers 200 `SUCCESS`, 400 (bad id, body or contract), 405 (unknown flow) or 500.
//! The root is configurable because both `/hs/is_api` (what the 1C receiver serves) and
//! `/hs/api` (what the 1C sender calls) exist in the wild.

use percent_encoding::utf8_percent_encode;

use super::http::{COMPONENT, EndpointClient};
use super::{Outgoing, SendFailure, Transport};
use crate::config::{Endpoint, HttpMethod, InterbaseSettings};

/// An inter-base subscriber's transport.
pub struct InterbaseTransport {
    client: EndpointClient,
    settings: InterbaseSettings,
}

impl InterbaseTransport {
    /// Builds the transport of a subscriber with `settings` on `endpoint`.
    ///
    /// # Errors
    /// A message naming the endpoint when its client cannot be built.
    pub fn new(endpoint: &Endpoint, settings: &InterbaseSettings) -> Result<Self, String> {
        Ok(InterbaseTransport {
            client: EndpointClient::new(endpoint)?,
            settings: settings.clone(),
        })
    }

    fn url(&self, m: &Outgoing<'_>) -> String {
        let flow = self.settings.flow.as_deref().unwrap_or(m.flow);
        format!(
            "{}{}/v1/{}/{}",
            self.client.base,
            self.settings.root,
            utf8_percent_encode(flow, COMPONENT),
            utf8_percent_encode(m.message_id, COMPONENT)
        )
    }
}

impl Transport for InterbaseTransport {
    fn send(&self, m: &Outgoing<'_>) -> Result<(), SendFailure> {
        let url = self.url(m);
        let headers = [("X-Message-ID", m.message_id)];
        let reply = self
            .client
            .send(HttpMethod::Post, &url, &headers, m.payload.as_bytes())?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.failure(&url))
        }
    }
}
