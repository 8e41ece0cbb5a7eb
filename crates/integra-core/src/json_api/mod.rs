//! The operations of Integra's two foreign front doors, the C ABI and the 1C add-in, with
//! text in and out: arguments are strings, numbers and flags, complex values JSON (BSL
//! reads them with `ПрочитатьJSON`). Both front doors are thin: they convert their
//! arguments, call a [`Handle`] method, and convert the result or the error's text.
//!
//! A [`Handle`] is one foreign object (an add-in object, a C `integra_engine*`). Handles
//! that open the same database file share one engine, with its dispatcher, receivers and
//! sources (`shared`): 1C loads the library once per server process and creates objects
//! from many sessions, and they must not each run a dispatcher over the same queues. The
//! engine and its background threads stop when the last handle on it is closed or dropped.
//! The open settings may name a log file, one per process (`log_file`): C programs and 1C
//! servers install no logger of their own.

#[cfg(feature = "receiver")]
mod exchange;
mod log_file;
mod settings;
mod shared;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use settings::{LogLevel, LogSettings, OpenSettings, ServerSettings};

use crate::config::Config;
use crate::dispatch::DispatcherOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::queue::incoming::Accepted;
use crate::queue::inspect::{IncomingFilter, ListFilter, RetryFilter};
use crate::queue::register::{RegisterOptions, Registration};
use log_file::LogUse;
use shared::Shared;

/// The version of Integra.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Most items one `NextToForm`, `NextIncoming`, `Dispatch` or listing call takes.
const MAX_BATCH: i64 = crate::limits::MAX_BATCH as i64;
/// The longest lease a caller may ask for, in seconds (a day).
const MAX_LEASE_SECONDS: i64 = 86_400;

/// Room a front door secures for a call's text result, given its length in UTF-16 units:
/// true when it could. Calls that write ask before they write (or, for a claim, before the
/// claim is kept, giving it back otherwise), so that a result that cannot be handed over
/// leaves nothing written that a retry would repeat. The 1C add-in asks the platform for the
/// memory there; the C library's results are its own strings, so it always answers true.
pub type Reserve<'a> = &'a dyn Fn(usize) -> bool;

/// The [`Reserve`] of a front door that hands results over in memory of its own (the C
/// library): there is always room.
pub const OWN_MEMORY: Reserve<'static> = &|_| true;

/// The length of a message id (a UUID) as text.
const ID_UNITS: usize = 36;

/// Secures room for a result of `units` UTF-16 units.
///
/// # Errors
/// [`Error::NoRoomForResult`] when the front door cannot.
fn reserve_room(reserve: Reserve<'_>, units: usize) -> Result<()> {
    if reserve(units) {
        Ok(())
    } else {
        Err(Error::NoRoomForResult)
    }
}

/// `text`'s length in UTF-16 units.
fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The JSON text of claimed `items`, once `reserve` secured room for it; otherwise the
/// claim is given back with `release`.
///
/// # Errors
/// [`Error::NoRoomForResult`], after giving the claim back.
fn claimed<T: Serialize>(
    items: &[T],
    id: impl Fn(&T) -> &str,
    release: impl FnOnce(&[String]) -> Result<usize>,
    reserve: Reserve<'_>,
) -> Result<String> {
    let text = json(&items);
    if reserve(units(&text)) {
        return Ok(text);
    }
    let ids: Vec<String> = items.iter().map(|i| id(i).to_owned()).collect();
    release(&ids)?;
    Err(Error::NoRoomForResult)
}

/// One foreign object's connection to an engine, and its hold on the process's log.
#[derive(Default)]
pub struct Handle {
    shared: Option<Arc<Shared>>,
    /// Let go after the engine, so what the engine says as it stops is written.
    log: Option<LogUse>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("open", &self.shared.is_some())
            .field("log", &self.log.is_some())
            .finish()
    }
}

/// JSON text of `value` (our own types always serialize).
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A count or size argument as `usize`, within `1..=max`.
fn count(name: &'static str, value: i64, max: i64) -> Result<usize> {
    if (1..=max).contains(&value) {
        Ok(usize::try_from(value).unwrap_or(usize::MAX))
    } else {
        Err(Error::InvalidArgument {
            name,
            reason: format!("must be between 1 and {max}, got {value}"),
        })
    }
}

/// A lease argument in seconds.
fn lease(seconds: i64) -> Result<Duration> {
    let seconds = count("lease seconds", seconds, MAX_LEASE_SECONDS)?;
    Ok(Duration::from_secs(seconds as u64))
}

/// Parses a JSON argument, naming it in the error.
fn parse<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = crate::limits::json_error_reason(e.inner());
        let reason = if at == "." {
            inner
        } else {
            format!("at {at}: {inner}")
        };
        Error::InvalidJson {
            what: what.to_owned(),
            reason,
        }
    })
}

/// A filter argument: its JSON, or (empty) the default, matching everything.
fn filter<T: serde::de::DeserializeOwned + Default>(text: &str) -> Result<T> {
    if text.trim().is_empty() {
        Ok(T::default())
    } else {
        parse("the filter", text)
    }
}

impl Handle {
    /// A handle with no engine yet.
    pub fn new() -> Self {
        Handle::default()
    }

    /// The engine, once open.
    ///
    /// # Errors
    /// [`Error::NotOpen`] before [`Handle::open`].
    pub fn engine(&self) -> Result<&Engine> {
        self.shared
            .as_ref()
            .map(|s| &s.engine)
            .ok_or(Error::NotOpen)
    }

    /// Opens (or joins) the engine on a database: `{"database": path or postgres:// URL,
    /// "config": {…} | "config_path": path, "durability": "normal" | "full",
    /// "secrets_key_file": path, "log": {"file": path, "level", "max_bytes", "keep"},
    /// "allow_network_filesystem": false}` ([`OpenSettings`]). A
    /// configuration given is loaded, replacing the stored one (the one stored already
    /// changes nothing, [`Engine::load_config`]). Opening again switches this
    /// handle to the new database (and log). Handles on one database share its engine and so
    /// its durability and secrets key; handles in one process share one log
    /// (the `log_file` module). A failed open opens nothing.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] naming the bad setting; [`Error::Config`]; [`Error::Store`]
    /// when the file cannot be opened; [`Error::InvalidArgument`] for another durability
    /// than the shared engine's, a log setting out of range, or another log than the
    /// process's; [`Error::LogFile`] when the log file cannot be opened.
    pub fn open(&mut self, settings_json: &str) -> Result<()> {
        let settings: OpenSettings = parse("the settings", settings_json)?;
        let config = settings.config()?;
        let log = match &settings.log {
            Some(log) => Some(log_file::prepare(log, self.log.as_ref())?),
            None => None,
        };
        let shared = shared::open(&settings)?;
        if let Some(config) = config {
            shared.engine.load_config(&config)?;
        }
        let log = match log {
            Some(log) => log_file::commit(log, self.log.as_ref())?,
            None => None,
        };
        self.shared = Some(shared);
        self.log = log;
        Ok(())
    }

    /// Closes this handle's connection; the engine stops with the last handle on it, and
    /// the log closes with the last handle that named it.
    pub fn close(&mut self) {
        self.shared = None;
        self.log = None;
    }

    /// Replaces the configuration with a JSON one; the one stored already changes nothing.
    ///
    /// # Errors
    /// [`Error::Config`] naming each problem; nothing is changed then.
    pub fn load_configuration(&self, json: &str) -> Result<()> {
        let config = Config::from_json(json)?;
        self.engine()?.load_config(&config)
    }

    /// The stored configuration as JSON, with every secret replaced by `"***"`
    /// ([`Config::redacted`]): safe to show or keep. Loading it back is refused until the
    /// secrets are written in again.
    ///
    /// # Errors
    /// [`Error::NotOpen`]; [`Error::Store`] when it cannot be read.
    pub fn configuration(&self) -> Result<String> {
        Ok(json(&self.engine()?.config()?.redacted()))
    }

    /// Registers one message; returns its id. `register_duplicate` queues it even when it
    /// would coalesce or be unchanged; `options_json` (may be empty) holds `object_key`,
    /// `ordering_key`, `not_before`.
    ///
    /// # Errors
    /// As [`Engine::register`], [`Error::InvalidJson`] for bad options,
    /// [`Error::NoRoomForResult`].
    pub fn register_message(
        &self,
        flow: &str,
        source_json: &str,
        register_duplicate: bool,
        options_json: &str,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let mut options = RegisterOptions::from_json(options_json)?;
        options.allow_duplicate |= register_duplicate;
        let engine = self.engine()?;
        reserve_room(reserve, ID_UNITS)?;
        engine
            .register(flow, source_json, &options)
            .map(String::from)
    }

    /// Registers a JSON array of `{"source": <JSON>, "options": {…}}` in one transaction;
    /// returns the JSON array of their ids. Each source is kept as the caller wrote it, byte
    /// for byte, as [`Handle::register_message`] keeps its.
    ///
    /// # Errors
    /// As [`Engine::register_batch`]; [`Error::InvalidJson`] for a malformed array;
    /// [`Error::NoRoomForResult`].
    pub fn register_messages(
        &self,
        flow: &str,
        array_json: &str,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Item {
            source: Box<serde_json::value::RawValue>,
            #[serde(default)]
            options: RegisterOptions,
        }
        let items: Vec<Item> = parse("the messages", array_json)?;
        let registrations = items
            .into_iter()
            .map(|item| Registration {
                source: item.source.get().to_owned(),
                options: item.options,
            })
            .collect::<Vec<_>>();
        let engine = self.engine()?;
        // `["id","id"]`: each id quoted, a comma between two, the brackets.
        let n = registrations.len();
        reserve_room(reserve, 2 + n * (ID_UNITS + 2) + n.saturating_sub(1))?;
        Ok(json(&engine.register_batch(flow, registrations)?))
    }

    /// Claims up to `max` messages to form for `lease_seconds`; the JSON array of them.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a count or lease out of range;
    /// [`Error::NoRoomForResult`], the claim given back.
    pub fn next_to_form(
        &self,
        max: i64,
        lease_seconds: i64,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let engine = self.engine()?;
        let items = engine.next_to_form(count("max", max, MAX_BATCH)?, lease(lease_seconds)?)?;
        claimed(
            &items,
            |i| i.id.as_str(),
            |ids| engine.release_forming(ids),
            reserve,
        )
    }

    /// Completes forming with the payload: `""` when accepted, else the JSON array of the
    /// schema violations (the message is then a forming failure).
    ///
    /// # Errors
    /// As [`Engine::complete_forming`].
    pub fn complete_forming(&self, id: &str, payload_json: &str) -> Result<String> {
        let violations = self.engine()?.complete_forming(id, payload_json)?;
        Ok(if violations.is_empty() {
            String::new()
        } else {
            json(&violations)
        })
    }

    /// Records that forming failed.
    ///
    /// # Errors
    /// As [`Engine::fail_forming`].
    pub fn fail_forming(&self, id: &str, error: &str) -> Result<()> {
        self.engine()?.fail_forming(id, error)
    }

    /// Cancels a message that is not formed yet.
    ///
    /// # Errors
    /// As [`Engine::cancel`].
    pub fn cancel_message(&self, id: &str, reason: &str) -> Result<()> {
        self.engine()?.cancel(id, reason)
    }

    /// Forms and sends up to `max` items now, in the calling thread, for at most
    /// `timeout_ms`; the JSON counts by outcome.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a count or timeout out of range.
    pub fn dispatch(&self, max: i64, timeout_ms: i64) -> Result<String> {
        let max = count("max", max, MAX_BATCH)?;
        let timeout = count("timeout milliseconds", timeout_ms, MAX_LEASE_SECONDS * 1000)?;
        let report = self
            .engine()?
            .dispatch(max, Duration::from_millis(timeout as u64))?;
        Ok(json(&report))
    }

    /// Starts the engine's background dispatcher with `threads` workers (one per engine,
    /// shared by every handle on it): true when it started now, false when it was running
    /// already (with the threads it was started with). Starting what runs is not an error, so
    /// a scheduled job may start sending at each run.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a thread count out of range; [`Error::Spawn`].
    pub fn start_dispatcher(&self, threads: i64) -> Result<bool> {
        let options = DispatcherOptions {
            threads: count("threads", threads, 256)?,
            ..DispatcherOptions::default()
        };
        match self.engine()?.start_dispatcher(options) {
            Ok(()) => Ok(true),
            Err(Error::DispatcherRunning) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stops the background dispatcher; false when it was not running.
    ///
    /// # Errors
    /// [`Error::NotOpen`].
    pub fn stop_dispatcher(&self) -> Result<bool> {
        Ok(self.engine()?.stop_dispatcher())
    }

    /// Stores an incoming message; `headers_json` (may be empty) is an object of header
    /// names to values. The JSON `{"id", "duplicate"}`.
    ///
    /// # Errors
    /// As [`Engine::accept`]; [`Error::NoRoomForResult`].
    pub fn accept_incoming(
        &self,
        flow: &str,
        message_id: &str,
        body: &str,
        headers_json: &str,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let headers = if headers_json.trim().is_empty() {
            Default::default()
        } else {
            parse("the headers", headers_json)?
        };
        let engine = self.engine()?;
        let longest = Accepted {
            id: "-".repeat(ID_UNITS).into(),
            duplicate: false,
        };
        reserve_room(reserve, units(&json(&longest)))?;
        Ok(json(&engine.accept(flow, message_id, body, &headers)?))
    }

    /// Claims up to `max` incoming messages for `lease_seconds`; the JSON array of them.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a count or lease out of range;
    /// [`Error::NoRoomForResult`], the claim given back.
    pub fn next_incoming(
        &self,
        max: i64,
        lease_seconds: i64,
        reserve: Reserve<'_>,
    ) -> Result<String> {
        let engine = self.engine()?;
        let items = engine.next_incoming(count("max", max, MAX_BATCH)?, lease(lease_seconds)?)?;
        claimed(
            &items,
            |i| i.id.as_str(),
            |ids| engine.release_incoming(ids),
            reserve,
        )
    }

    /// Marks a claimed incoming message processed.
    ///
    /// # Errors
    /// As [`Engine::ack_incoming`].
    pub fn ack_incoming(&self, id: &str) -> Result<()> {
        self.engine()?.ack_incoming(id)
    }

    /// Records that processing an incoming message failed.
    ///
    /// # Errors
    /// As [`Engine::fail_incoming`].
    pub fn fail_incoming(&self, id: &str, error: &str) -> Result<()> {
        self.engine()?.fail_incoming(id, error)
    }

    /// Validates `json` against `component` of `schema` (a catalog code, or the OpenAPI
    /// document's text); the JSON array of violations, `[]` when valid.
    ///
    /// # Errors
    /// As [`Engine::validate`].
    pub fn validate(&self, schema: &str, component: &str, json_text: &str) -> Result<String> {
        Ok(json(
            &self.engine()?.validate(schema, component, json_text)?,
        ))
    }

    /// A message's status, source, payload, deliveries and history, as JSON.
    ///
    /// # Errors
    /// As [`Engine::message_status`].
    pub fn message_status(&self, id: &str) -> Result<String> {
        Ok(json(&self.engine()?.message_status(id)?))
    }

    /// Outgoing messages matching the JSON filter (`{"flow", "status", "subscriber",
    /// "delivery_status", "created_from", "created_to", "before_seq", "limit"}`, all
    /// optional; empty: the latest 100), newest first, as a JSON array.
    ///
    /// # Errors
    /// As [`Engine::list_messages`], and [`Error::InvalidJson`] for a bad filter.
    pub fn list_messages(&self, filter_json: &str) -> Result<String> {
        let filter: ListFilter = filter(filter_json)?;
        Ok(json(&self.engine()?.list_messages(&filter)?))
    }

    /// Incoming messages matching the JSON filter (`{"flow", "status", "created_from",
    /// "created_to", "before_seq", "limit"}`, all optional; empty: the latest 100), newest
    /// first, without their bodies, as a JSON array.
    ///
    /// # Errors
    /// As [`Engine::list_incoming`], and [`Error::InvalidJson`] for a bad filter.
    pub fn list_incoming(&self, filter_json: &str) -> Result<String> {
        let filter: IncomingFilter = filter(filter_json)?;
        Ok(json(&self.engine()?.list_incoming(&filter)?))
    }

    /// The non-zero counts by queue, flow, subscriber and status, as a JSON array of
    /// `{"queue", "flow", "subscriber"?, "status", "count"}`.
    ///
    /// # Errors
    /// As [`Engine::flow_counts`].
    pub fn counts(&self) -> Result<String> {
        Ok(json(&self.engine()?.flow_counts()?))
    }

    /// Every subscriber's health as a JSON array of `{"subscriber", "last_success_at"?,
    /// "last_failure_at"?, "last_error"?, "consecutive_failures", "waiting", "sending",
    /// "dead"}`.
    ///
    /// # Errors
    /// As [`Engine::subscriber_health`].
    pub fn subscriber_health(&self) -> Result<String> {
        Ok(json(&self.engine()?.subscriber_health()?))
    }

    /// Retries failed work matching the JSON filter (`{"flow", "subscriber", "id",
    /// "created_from", "created_to"}`, all optional); returns how many.
    ///
    /// # Errors
    /// As [`Engine::retry`], and [`Error::InvalidJson`] for a bad filter.
    pub fn retry(&self, filter_json: &str, reason: &str) -> Result<u64> {
        let filter: RetryFilter = filter(filter_json)?;
        Ok(self.engine()?.retry(&filter, reason)? as u64)
    }

    /// Retries failed incoming messages matching the JSON filter (`{"flow", "id",
    /// "created_from", "created_to"}`, all optional); returns how many.
    ///
    /// # Errors
    /// As [`Engine::retry_incoming`], and [`Error::InvalidJson`] for a bad filter.
    pub fn retry_incoming(&self, filter_json: &str, reason: &str) -> Result<u64> {
        let filter: RetryFilter = filter(filter_json)?;
        Ok(self.engine()?.retry_incoming(&filter, reason)? as u64)
    }

    /// An incoming message's status, body, headers and history, as JSON.
    ///
    /// # Errors
    /// As [`Engine::incoming_status`].
    pub fn incoming_status(&self, id: &str) -> Result<String> {
        Ok(json(&self.engine()?.incoming_status(id)?))
    }

    /// Deletes a message; false when there was none.
    ///
    /// # Errors
    /// As [`Engine::delete_message`].
    pub fn delete_message(&self, id: &str) -> Result<bool> {
        self.engine()?.delete_message(id)
    }

    /// Maps a local object to its id in an external system.
    ///
    /// # Errors
    /// As [`Engine::set_external_id`].
    pub fn set_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
        external_id: &str,
    ) -> Result<()> {
        self.engine()?
            .set_external_id(system, object_type, local_key, external_id)
    }

    /// The external id of a local object; `""` when none is mapped.
    ///
    /// # Errors
    /// As [`Engine::external_id`].
    pub fn get_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<String> {
        Ok(self
            .engine()?
            .external_id(system, object_type, local_key)?
            .unwrap_or_default())
    }

    /// The local key mapped to an external id; `""` when none.
    ///
    /// # Errors
    /// As [`Engine::find_by_external_id`].
    pub fn find_by_external_id(
        &self,
        system: &str,
        object_type: &str,
        external_id: &str,
    ) -> Result<String> {
        Ok(self
            .engine()?
            .find_by_external_id(system, object_type, external_id)?
            .unwrap_or_default())
    }

    /// Removes what is past its retention; how many records went.
    ///
    /// # Errors
    /// As [`Engine::cleanup`].
    pub fn cleanup(&self) -> Result<u64> {
        Ok(self.engine()?.cleanup()?.total())
    }

    /// Checks the database (SQLite's quick check, or with `full` its full one, and
    /// Integra's invariants); the [`IntegrityReport`](crate::IntegrityReport) as JSON.
    ///
    /// # Errors
    /// As [`Engine::check_integrity`].
    pub fn check_integrity(&self, full: bool) -> Result<String> {
        let mode = if full {
            crate::IntegrityMode::Full
        } else {
            crate::IntegrityMode::Quick
        };
        Ok(json(&self.engine()?.check_integrity(mode)?))
    }

    /// Every metric, in the OpenMetrics text format.
    ///
    /// # Errors
    /// As [`Engine::metrics_text`].
    pub fn metrics_text(&self) -> Result<String> {
        self.engine()?.metrics_text()
    }

    /// Starts serving: the listed listeners (default every configured one) and the
    /// sources (default on): `{"listeners": ["main"], "sources": true}`; empty text means
    /// the defaults. One server per engine, shared by every handle on it: true when it
    /// started now, false when the same server was running already. Other processes on the
    /// database may serve the same listeners: they share its port (see
    /// [`Engine::start_receiver`]).
    ///
    /// # Errors
    /// [`Error::ServerRunning`] when a server with other listeners or sources runs; as
    /// [`Engine::start_receiver`] and [`Engine::start_sources`].
    pub fn start_server(&self, settings_json: &str) -> Result<bool> {
        let settings: ServerSettings = if settings_json.trim().is_empty() {
            ServerSettings::default()
        } else {
            parse("the server settings", settings_json)?
        };
        let shared = self.shared.as_ref().ok_or(Error::NotOpen)?;
        shared.start_server(&settings)
    }

    /// Stops what [`Handle::start_server`] started; false when nothing ran.
    ///
    /// # Errors
    /// [`Error::NotOpen`].
    pub fn stop_server(&self) -> Result<bool> {
        let shared = self.shared.as_ref().ok_or(Error::NotOpen)?;
        Ok(shared.stop_server())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_out_of_range_name_themselves() {
        assert_eq!(
            count("max", 0, 10).unwrap_err().to_string(),
            "invalid max: must be between 1 and 10, got 0"
        );
        assert_eq!(
            lease(86_401).unwrap_err().to_string(),
            "invalid lease seconds: must be between 1 and 86400, got 86401"
        );
        let err = parse::<RetryFilter>("the filter", r#"{"flow": 7}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the filter is not valid JSON: at flow: "),
            "{err}"
        );
        assert!(matches!(Handle::new().engine(), Err(Error::NotOpen)));
    }
}
