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

use serde::{Deserialize, Serialize};

use super::wire::{self, CheckBack, Introduction};
use super::{ExchangeEndpoint, ExchangeIdentity, identity};
use crate::config::Secret;
use crate::engine::{Core, Engine};
use crate::error::{Error, Result};
use crate::store::{Commit, EndpointRow};

/// How to reach a base: its URL (where its Integra listener serves the exchange) and the
/// user and password it accepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The base URL, e.g. `http://wms.example.com:8780`.
    pub url: String,
    /// The user.
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl ConnectionSettings {
    fn check(&self, which: &'static str) -> Result<()> {
        if let Some(reason) = crate::config::url_problem(&self.url, &["http://", "https://"]) {
            return Err(Error::InvalidArgument {
                name: which,
                reason,
            });
        }
        Ok(())
    }
}

/// `given`, or when it is empty the base's own name `own`.
fn or_own(given: &str, own: &str) -> String {
    if given.trim().is_empty() { own } else { given }.to_owned()
}

const THIS_TO_RECIPIENT: &str = "this base → recipient";
const RECIPIENT_TO_THIS: &str = "recipient → this base";
const RECORDING: &str = "recording the connection at the recipient";

impl Engine {
    /// Connects the base reached with `recipient` as an endpoint named `recipient_name`,
    /// after checking the connection both ways; the recipient records this base, reached
    /// with `sender`, as `sender_name`. An empty name stands for the base's own name.
    ///
    /// # Errors
    /// [`Error::Connect`] naming the check that failed (nothing was created);
    /// [`Error::InvalidArgument`] for a malformed URL.
    pub fn connect_endpoint(
        &self,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
        recipient_name: &str,
        sender_name: &str,
    ) -> Result<ExchangeEndpoint> {
        sender.check("sender settings")?;
        recipient.check("recipient settings")?;
        let me = self.exchange_identity()?;
        let them = self.check_both_ways(&me, sender, recipient, None)?;
        let introduction = Introduction {
            code: me.code.clone(),
            name: or_own(sender_name, &me.name),
            settings: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "connect", &introduction).map_err(
            |reason| Error::Connect {
                check: RECORDING,
                reason,
            },
        )?;
        let name = or_own(recipient_name, &them.name);
        self.record_endpoint(&them.code, &name, recipient)?;
        Ok(ExchangeEndpoint {
            code: them.code,
            name,
            url: recipient.url.clone(),
            blocked: false,
        })
    }

    /// Changes how endpoint `code` is reached (`recipient`) and how it reaches this base
    /// (`sender`), after the same checks as [`Engine::connect_endpoint`]; both sides are
    /// updated.
    ///
    /// # Errors
    /// [`Error::UnknownEndpoint`]; [`Error::Connect`] naming the check that failed.
    pub fn update_endpoint_connection_settings(
        &self,
        code: &str,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
    ) -> Result<()> {
        sender.check("sender settings")?;
        recipient.check("recipient settings")?;
        let known = self
            .core
            .store
            .read(|db| db.exchange_endpoint(code))?
            .ok_or_else(|| Error::UnknownEndpoint {
                code: code.to_owned(),
            })?;
        let me = self.exchange_identity()?;
        self.check_both_ways(&me, sender, recipient, Some(code))?;
        let introduction = Introduction {
            code: me.code,
            name: String::new(),
            settings: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "update-settings", &introduction).map_err(
            |reason| Error::Connect {
                check: RECORDING,
                reason,
            },
        )?;
        self.record_endpoint(code, &known.name, recipient)
    }

    /// Checks 1 and 2; the recipient's identity.
    fn check_both_ways(
        &self,
        me: &ExchangeIdentity,
        sender: &ConnectionSettings,
        recipient: &ConnectionSettings,
        expected: Option<&str>,
    ) -> Result<ExchangeIdentity> {
        let them = wire::ping(recipient).map_err(|reason| Error::Connect {
            check: THIS_TO_RECIPIENT,
            reason,
        })?;
        if them.code == me.code {
            return Err(Error::Connect {
                check: THIS_TO_RECIPIENT,
                reason: format!("{} reaches this base itself", recipient.url),
            });
        }
        if let Some(expected) = expected
            && them.code != expected
        {
            return Err(Error::Connect {
                check: THIS_TO_RECIPIENT,
                reason: format!(
                    "{} reaches base '{}' ({}), not endpoint {expected}",
                    recipient.url, them.name, them.code
                ),
            });
        }
        let back = CheckBack {
            sender_code: me.code.clone(),
            sender: sender.clone(),
        };
        wire::call::<_, ExchangeIdentity>(recipient, "check-back", &back).map_err(|reason| {
            Error::Connect {
                check: RECIPIENT_TO_THIS,
                reason,
            }
        })?;
        Ok(them)
    }

    fn record_endpoint(&self, code: &str, name: &str, settings: &ConnectionSettings) -> Result<()> {
        let now = self.core.now();
        let row = EndpointRow {
            code: code.to_owned(),
            name: name.to_owned(),
            url: settings.url.clone(),
            username: settings.username.clone(),
            password: settings.password.expose().to_owned(),
            blocked: false,
        };
        self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.upsert_exchange_endpoint(&row, now)?)
        })?;
        self.core.wake.notify();
        Ok(())
    }
}

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
