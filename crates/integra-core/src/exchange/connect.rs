//! Connecting two bases, as the SSL's `ПодключитьКонечнуюТочку` does, with every check
//! before anything is created:
//!
//! 1. **this base → recipient**: the recipient answers `ping` with the settings given for it
//!    (it is reachable, the credentials hold, and it is another base);
//! 2. **recipient → this base**: the recipient, asked to `check-back`, reaches this base
//!    with the settings given for this base, and finds this base's code there (the
//!    settings point back here, not to some other base);
//! 3. the recipient records this base as an endpoint (`connect`), and this base records the
//!    recipient.
//!
//! A failure names its check, and nothing is recorded on either side before step 3.

use super::wire::{self, CheckBack, Introduction};
use super::{ExchangeIdentity, identity};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{Commit, EndpointRow};

/// `given`, or when it is empty the base's own name `own`.
pub(crate) fn or_own(given: &str, own: &str) -> String {
    if given.trim().is_empty() { own } else { given }.to_owned()
}

pub(crate) const THIS_TO_RECIPIENT: &str = "this base → recipient";
pub(crate) const RECIPIENT_TO_THIS: &str = "recipient → this base";
pub(crate) const RECORDING: &str = "recording the connection at the recipient";

impl Core {
    /// `check-back`: reach the caller with the settings it gave, and find its code there.
    pub(crate) fn serve_check_back(&self, request: &CheckBack) -> Result<ExchangeIdentity, String> {
        let found = wire::ping(&request.sender).map_err(|e| {
            format!(
                "this base could not reach you at {}: {e}",
                request.sender.url
            )
        })?;
        if found.code != request.sender_code {
            return Err(format!(
                "{} reaches base '{}' ({}), not you ({})",
                request.sender.url, found.name, found.code, request.sender_code
            ));
        }
        self.identity().map_err(|e| e.to_string())
    }

    /// `connect` and `update-settings`: record the caller as an endpoint (for an update, one
    /// that exists).
    pub(crate) fn serve_introduction(
        &self,
        request: &Introduction,
        update: bool,
    ) -> Result<ExchangeIdentity, String> {
        request
            .settings
            .check("settings")
            .map_err(|e| e.to_string())?;
        let now = self.now();
        let own_name = self.exchange_settings().map_err(|e| e.to_string())?.name;
        let mut row = EndpointRow {
            code: request.code.clone(),
            name: request.name.clone(),
            url: request.settings.url.clone(),
            username: request.settings.username.clone(),
            password: request.settings.password.expose().to_owned(),
            blocked: false,
        };
        let result = self.store.write(Commit::Durable, move |db| {
            match db.exchange_endpoint(&row.code)? {
                Some(known) if update => row.name = known.name,
                None if update => return Err(Error::UnknownEndpoint { code: row.code }),
                _ => {}
            }
            db.upsert_exchange_endpoint(&row, now)?;
            identity(db, &own_name)
        });
        self.wake.notify();
        result.map_err(|e| e.to_string())
    }
}
