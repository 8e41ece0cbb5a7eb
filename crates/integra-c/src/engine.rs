//! `integra_engine`: the engine handle and every operation on it. Each function is the C
//! face of one [`integra_core::json_api::Handle`] method, with the same name: arguments are
//! NUL-terminated UTF-8 strings, `int64_t` counts and `bool` flags; complex values are JSON
//! text. Returned strings belong to the caller, who frees them with `integra_string_free`.
//!
//! Thread safety: every function may be called from any thread, on one handle from several
//! threads at once. Handles that open the same database share one engine (and its
//! dispatcher and server) within the process.

use std::ffi::c_char;

use integra_core::json_api::OWN_MEMORY;

use crate::handle::{
    IntegraEngine, call, free_engine, new_engine, optional_out, optional_text, out, owned_string,
    text,
};
use crate::panic::guard;
use crate::status::IntegraStatus;

/// A new, unopened engine handle; open it with `integra_engine_open`. Free it with
/// `integra_engine_free`. NULL only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn integra_engine_new() -> *mut IntegraEngine {
    guard(new_engine)
}

/// Frees an engine handle (NULL is ignored). When it was the last handle on its database
/// in this process, the engine stops first: its dispatcher, receivers and sources.
///
/// # Safety
/// `engine` is NULL or a handle from `integra_engine_new`, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_free(engine: *mut IntegraEngine) {
    // SAFETY: the caller's contract.
    guard(|| unsafe { free_engine(engine) });
}

/// What the calling thread's last call on `engine` said was wrong, as a new string (empty
/// after a call that succeeded); free it with `integra_string_free`. NULL when `engine` is
/// NULL. Each thread has its own: calls on the same handle from other threads never clear
/// or replace it.
///
/// # Safety
/// `engine` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_last_error(engine: *const IntegraEngine) -> *mut c_char {
    guard(|| {
        // SAFETY: the caller's contract.
        match unsafe { engine.as_ref() } {
            Some(engine) => owned_string(engine.last_error()),
            None => std::ptr::null_mut(),
        }
    })
}

/// Opens (or joins) the engine on a database. `settings_json`: `{"database": path,
/// "config": {…} | "config_path": path, "durability": "normal" | "full", "secrets_key_file":
/// path, "log": {"file": path, "level": "info", "max_bytes": 10485760, "keep": 5}}` (without
/// a key file, the key is read from the environment variable `INTEGRA_SECRETS_KEY` when it
/// is set). Handles on one database in a process share its engine, and so its durability
/// and key: others are refused (`INTEGRA_STATUS_INVALID_ARGUMENT`).
///
/// `log` names the process's log file, where Integra writes what happens in the background
/// (deliveries that end dead, sources' failures), rotated by size; the library installs no
/// other logger. One log serves the process: the first handle that names it opens it,
/// handles naming the same settings share it, another log is refused
/// (`INTEGRA_STATUS_INVALID_ARGUMENT`) until the last handle that named it is freed or
/// closed, which closes the file. A log file that cannot be opened is
/// `INTEGRA_STATUS_FAILED`. A failed open opens nothing.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_open(
    engine: *mut IntegraEngine,
    settings_json: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let settings = text(settings_json, "settings_json")?;
            Ok(e.write(|h| h.open(settings))?)
        })
    }
}

/// Lets go of the engine (it stops with the last handle on its database); the handle can
/// be opened again.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_close(engine: *mut IntegraEngine) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            e.write(|h| h.close());
            Ok(())
        })
    }
}

/// Replaces the configuration with `config_json`; the one stored already changes nothing
/// (no write, no new version).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_load_configuration(
    engine: *mut IntegraEngine,
    config_json: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let config = text(config_json, "config_json")?;
            Ok(e.read(|h| h.load_configuration(config))?)
        })
    }
}

/// Writes the stored configuration, as JSON, to `config_out`, with every secret (password,
/// token, API key, HMAC secret) replaced by `"***"`. The string is the caller's, freed with
/// `integra_string_free`. Loading it back with `integra_engine_load_configuration` is refused
/// until the secrets are written in again.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_get_configuration(
    engine: *mut IntegraEngine,
    config_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let config_out = out(config_out, "config_out")?;
            let config = e.read(|h| h.configuration())?;
            config_out.put_string(config)
        })
    }
}

/// Registers a message on an outgoing flow. `options_json` may be NULL or empty, or hold
/// `object_key`, `ordering_key`, `not_before`. `id_out` receives the message id.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_register_message(
    engine: *mut IntegraEngine,
    flow: *const c_char,
    source_json: *const c_char,
    register_duplicate: bool,
    options_json: *const c_char,
    id_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let id_out = out(id_out, "id_out")?;
            let (flow, source) = (text(flow, "flow")?, text(source_json, "source_json")?);
            let options = optional_text(options_json, "options_json")?;
            let id = e.read(|h| {
                h.register_message(flow, source, register_duplicate, options, OWN_MEMORY)
            })?;
            id_out.put_string(id)
        })
    }
}

/// Registers a JSON array of `{"source": …, "options": {…}}` in one transaction.
/// `ids_out` receives the JSON array of their ids.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_register_messages(
    engine: *mut IntegraEngine,
    flow: *const c_char,
    messages_json: *const c_char,
    ids_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let ids_out = out(ids_out, "ids_out")?;
            let (flow, messages) = (text(flow, "flow")?, text(messages_json, "messages_json")?);
            let ids = e.read(|h| h.register_messages(flow, messages, OWN_MEMORY))?;
            ids_out.put_string(ids)
        })
    }
}

/// Claims up to `max` messages to form for `lease_seconds`. `items_out` receives the JSON
/// array of them.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_next_to_form(
    engine: *mut IntegraEngine,
    max: i64,
    lease_seconds: i64,
    items_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let items_out = out(items_out, "items_out")?;
            let items = e.read(|h| h.next_to_form(max, lease_seconds, OWN_MEMORY))?;
            items_out.put_string(items)
        })
    }
}

/// Completes forming with `payload_json`. `violations_out` receives `""` when it was
/// accepted, else the JSON array of schema violations (the message is a forming failure).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_complete_forming(
    engine: *mut IntegraEngine,
    id: *const c_char,
    payload_json: *const c_char,
    violations_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let violations_out = out(violations_out, "violations_out")?;
            let (id, payload) = (text(id, "id")?, text(payload_json, "payload_json")?);
            let violations = e.read(|h| h.complete_forming(id, payload))?;
            violations_out.put_string(violations)
        })
    }
}

/// Records that forming a message failed; it is retried per the flow's policy.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_fail_forming(
    engine: *mut IntegraEngine,
    id: *const c_char,
    error: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (id, error) = (text(id, "id")?, text(error, "error")?);
            Ok(e.read(|h| h.fail_forming(id, error))?)
        })
    }
}

/// Cancels a message that is not formed yet.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_cancel_message(
    engine: *mut IntegraEngine,
    id: *const c_char,
    reason: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (id, reason) = (text(id, "id")?, text(reason, "reason")?);
            Ok(e.read(|h| h.cancel_message(id, reason))?)
        })
    }
}

/// Forms and sends up to `max` items now, in the calling thread, for at most `timeout_ms`.
/// `report_out` receives the JSON counts by outcome.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_dispatch(
    engine: *mut IntegraEngine,
    max: i64,
    timeout_ms: i64,
    report_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let report_out = out(report_out, "report_out")?;
            let report = e.read(|h| h.dispatch(max, timeout_ms))?;
            report_out.put_string(report)
        })
    }
}

/// Starts the engine's background dispatcher with `threads` workers, one per database in
/// the process, shared by every handle on it. `started_out` (may be NULL) tells whether it
/// started now (true) or was running already (false: still `INTEGRA_STATUS_OK`, with the
/// threads it was started with).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_start_dispatcher(
    engine: *mut IntegraEngine,
    threads: i64,
    started_out: *mut bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let started_out = optional_out(started_out);
            let started = e.read(|h| h.start_dispatcher(threads))?;
            started_out.map_or(Ok(()), |o| o.put(started))
        })
    }
}

/// Stops the background dispatcher; `was_running_out` (may be NULL) tells whether it
/// ran.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_stop_dispatcher(
    engine: *mut IntegraEngine,
    was_running_out: *mut bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let was_running_out = optional_out(was_running_out);
            let was_running = e.read(|h| h.stop_dispatcher())?;
            was_running_out.map_or(Ok(()), |o| o.put(was_running))
        })
    }
}

/// Stores an incoming message. `headers_json` may be NULL or empty, or a JSON object of
/// headers. `result_out` receives `{"id": …, "duplicate": …}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_accept_incoming(
    engine: *mut IntegraEngine,
    flow: *const c_char,
    message_id: *const c_char,
    body: *const c_char,
    headers_json: *const c_char,
    result_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let result_out = out(result_out, "result_out")?;
            let (flow, message_id) = (text(flow, "flow")?, text(message_id, "message_id")?);
            let (body, headers) = (
                text(body, "body")?,
                optional_text(headers_json, "headers_json")?,
            );
            let result =
                e.read(|h| h.accept_incoming(flow, message_id, body, headers, OWN_MEMORY))?;
            result_out.put_string(result)
        })
    }
}

/// Claims up to `max` incoming messages for `lease_seconds`. `items_out` receives the
/// JSON array of them.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_next_incoming(
    engine: *mut IntegraEngine,
    max: i64,
    lease_seconds: i64,
    items_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let items_out = out(items_out, "items_out")?;
            let items = e.read(|h| h.next_incoming(max, lease_seconds, OWN_MEMORY))?;
            items_out.put_string(items)
        })
    }
}

/// Marks a claimed incoming message processed.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_ack_incoming(
    engine: *mut IntegraEngine,
    id: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let id = text(id, "id")?;
            Ok(e.read(|h| h.ack_incoming(id))?)
        })
    }
}

/// Records that processing an incoming message failed.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_fail_incoming(
    engine: *mut IntegraEngine,
    id: *const c_char,
    error: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (id, error) = (text(id, "id")?, text(error, "error")?);
            Ok(e.read(|h| h.fail_incoming(id, error))?)
        })
    }
}

/// Validates `json` against `component` of `schema` (a catalog code, or an OpenAPI 3.0
/// document's text). `violations_out` receives the JSON array of violations (`[]` when
/// valid).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_validate(
    engine: *mut IntegraEngine,
    schema: *const c_char,
    component: *const c_char,
    json: *const c_char,
    violations_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let violations_out = out(violations_out, "violations_out")?;
            let (schema, component) = (text(schema, "schema")?, text(component, "component")?);
            let json = text(json, "json")?;
            let violations = e.read(|h| h.validate(schema, component, json))?;
            violations_out.put_string(violations)
        })
    }
}

/// `status_out` receives a message's status, source, payload, deliveries and history, as
/// JSON.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_message_status(
    engine: *mut IntegraEngine,
    id: *const c_char,
    status_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let status_out = out(status_out, "status_out")?;
            let id = text(id, "id")?;
            let status = e.read(|h| h.message_status(id))?;
            status_out.put_string(status)
        })
    }
}

/// Retries failed work matching `filter_json` (NULL or empty: everything) with `reason`
/// in its history; `count_out` receives how many.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_retry(
    engine: *mut IntegraEngine,
    filter_json: *const c_char,
    reason: *const c_char,
    count_out: *mut u64,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let count_out = out(count_out, "count_out")?;
            let (filter, reason) = (
                optional_text(filter_json, "filter_json")?,
                text(reason, "reason")?,
            );
            let n = e.read(|h| h.retry(filter, reason))?;
            count_out.put(n)
        })
    }
}

/// `list_out` receives the outgoing messages matching `filter_json` (NULL or empty: the
/// latest 100; `{"flow", "status", "subscriber", "delivery_status", "created_from",
/// "created_to", "before_seq", "limit"}`), newest first, as a JSON array; pass the last
/// one's `seq` as `before_seq` for the next page.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_list_messages(
    engine: *mut IntegraEngine,
    filter_json: *const c_char,
    list_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let list_out = out(list_out, "list_out")?;
            let filter = optional_text(filter_json, "filter_json")?;
            let list = e.read(|h| h.list_messages(filter))?;
            list_out.put_string(list)
        })
    }
}

/// `list_out` receives the incoming messages matching `filter_json` (NULL or empty: the
/// latest 100; `{"flow", "status", "created_from", "created_to", "before_seq", "limit"}`),
/// newest first, without their bodies, as a JSON array.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_list_incoming(
    engine: *mut IntegraEngine,
    filter_json: *const c_char,
    list_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let list_out = out(list_out, "list_out")?;
            let filter = optional_text(filter_json, "filter_json")?;
            let list = e.read(|h| h.list_incoming(filter))?;
            list_out.put_string(list)
        })
    }
}

/// `counts_out` receives the non-zero counts by queue (`messages`, `deliveries`,
/// `incoming`), flow, subscriber and status, as a JSON array of `{"queue", "flow",
/// "subscriber", "status", "count"}`.
///
/// # Safety
/// `engine` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_counts(
    engine: *mut IntegraEngine,
    counts_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let counts_out = out(counts_out, "counts_out")?;
            let counts = e.read(|h| h.counts())?;
            counts_out.put_string(counts)
        })
    }
}

/// `health_out` receives every subscriber's health as a JSON array of `{"subscriber",
/// "last_success_at", "last_failure_at", "last_error", "consecutive_failures", "waiting",
/// "sending", "dead"}` (the times and the error absent until there is one).
///
/// # Safety
/// `engine` is a live handle; out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_subscriber_health(
    engine: *mut IntegraEngine,
    health_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let health_out = out(health_out, "health_out")?;
            let health = e.read(|h| h.subscriber_health())?;
            health_out.put_string(health)
        })
    }
}

/// Retries failed incoming messages matching `filter_json` (NULL or empty: all; `{"flow",
/// "id", "created_from", "created_to"}`) with `reason` in their history; `count_out`
/// receives how many.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_retry_incoming(
    engine: *mut IntegraEngine,
    filter_json: *const c_char,
    reason: *const c_char,
    count_out: *mut u64,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let count_out = out(count_out, "count_out")?;
            let (filter, reason) = (
                optional_text(filter_json, "filter_json")?,
                text(reason, "reason")?,
            );
            let n = e.read(|h| h.retry_incoming(filter, reason))?;
            count_out.put(n)
        })
    }
}

/// `status_out` receives an incoming message's status, body, headers and history, as JSON.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_incoming_status(
    engine: *mut IntegraEngine,
    id: *const c_char,
    status_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let status_out = out(status_out, "status_out")?;
            let id = text(id, "id")?;
            let status = e.read(|h| h.incoming_status(id))?;
            status_out.put_string(status)
        })
    }
}

/// Deletes a message with its deliveries and history; `deleted_out` (may be NULL) tells
/// whether there was one.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_delete_message(
    engine: *mut IntegraEngine,
    id: *const c_char,
    deleted_out: *mut bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let deleted_out = optional_out(deleted_out);
            let id = text(id, "id")?;
            let deleted = e.read(|h| h.delete_message(id))?;
            deleted_out.map_or(Ok(()), |o| o.put(deleted))
        })
    }
}

/// Maps a local object to its id in an external system.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_set_external_id(
    engine: *mut IntegraEngine,
    system: *const c_char,
    object_type: *const c_char,
    local_key: *const c_char,
    external_id: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (system, object_type) =
                (text(system, "system")?, text(object_type, "object_type")?);
            let (local, external) = (
                text(local_key, "local_key")?,
                text(external_id, "external_id")?,
            );
            Ok(e.read(|h| h.set_external_id(system, object_type, local, external))?)
        })
    }
}

/// `external_id_out` receives the external id of a local object (`""` when none).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_get_external_id(
    engine: *mut IntegraEngine,
    system: *const c_char,
    object_type: *const c_char,
    local_key: *const c_char,
    external_id_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let external_id_out = out(external_id_out, "external_id_out")?;
            let (system, object_type) =
                (text(system, "system")?, text(object_type, "object_type")?);
            let local = text(local_key, "local_key")?;
            let id = e.read(|h| h.get_external_id(system, object_type, local))?;
            external_id_out.put_string(id)
        })
    }
}

/// `local_key_out` receives the local key mapped to an external id (`""` when none).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_find_by_external_id(
    engine: *mut IntegraEngine,
    system: *const c_char,
    object_type: *const c_char,
    external_id: *const c_char,
    local_key_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let local_key_out = out(local_key_out, "local_key_out")?;
            let (system, object_type) =
                (text(system, "system")?, text(object_type, "object_type")?);
            let external = text(external_id, "external_id")?;
            let key = e.read(|h| h.find_by_external_id(system, object_type, external))?;
            local_key_out.put_string(key)
        })
    }
}

/// Removes what is past its retention; `count_out` receives how many records went.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_cleanup(
    engine: *mut IntegraEngine,
    count_out: *mut u64,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let count_out = out(count_out, "count_out")?;
            let n = e.read(|h| h.cleanup())?;
            count_out.put(n)
        })
    }
}

/// Checks the database: SQLite's quick check (with `full`, its full integrity check, which
/// also compares every index with its table, several times slower) and Integra's own
/// invariants. `report_out` receives the report as JSON, `{"ok": bool, "mode": "quick" |
/// "full", "problems": [{"check", "what", "location"}], "space": {"file_bytes",
/// "free_bytes", "gives_back"}, "elapsed_ms"}`; free it with
/// `integra_string_free`. The check reads one snapshot and blocks no writer.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_check_integrity(
    engine: *mut IntegraEngine,
    full: bool,
    report_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let report_out = out(report_out, "report_out")?;
            let report = e.read(|h| h.check_integrity(full))?;
            report_out.put_string(report)
        })
    }
}

/// `text_out` receives every metric in the OpenMetrics text format.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_metrics_text(
    engine: *mut IntegraEngine,
    text_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let text_out = out(text_out, "text_out")?;
            let metrics = e.read(|h| h.metrics_text())?;
            text_out.put_string(metrics)
        })
    }
}

/// Starts the HTTP receivers and sources: `settings_json` (NULL or empty: every listener
/// and the sources) is `{"listeners": ["main"], "sources": true}`. `started_out` (may be
/// NULL) tells whether they started now (true) or the same server was running already
/// (false: still `INTEGRA_STATUS_OK`); a server started with other settings is
/// `INTEGRA_STATUS_WRONG_STATE`. Other processes on the same database may serve the same
/// listeners: on Unix they share the port (`SO_REUSEPORT`), which is refused to any other
/// program or database.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_start_server(
    engine: *mut IntegraEngine,
    settings_json: *const c_char,
    started_out: *mut bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let settings = optional_text(settings_json, "settings_json")?;
            let started_out = optional_out(started_out);
            let started = e.read(|h| h.start_server(settings))?;
            started_out.map_or(Ok(()), |o| o.put(started))
        })
    }
}

/// Stops what `integra_engine_start_server` started.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_stop_server(engine: *mut IntegraEngine) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            e.read(|h| h.stop_server())?;
            Ok(())
        })
    }
}
