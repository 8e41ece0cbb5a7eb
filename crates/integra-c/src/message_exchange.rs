//! The message exchange on an `integra_engine` (the 1C SSL «Обмен сообщениями» API): each
//! function is the C face of the [`integra_core::json_api::Handle`] method with the same
//! name. Present when the library is built with the `receiver` feature (as with
//! `--features full`): a base must serve the exchange to take part in it. Every body runs
//! inside [`call`], which converts the handle and runs the call under the panic guard
//! (`panic::guard(…)`), so nothing unwinds into C.

use std::ffi::c_char;

use integra_core::json_api::OWN_MEMORY;

use crate::handle::{IntegraEngine, call, optional_text, out, text};
use crate::status::IntegraStatus;

/// Sends `body_json` on an addressed channel to `recipients` (NULL or empty: the sender's
/// recipients of the channel; an endpoint code; or a JSON array of codes). `quick` makes it
/// a quick message, pushed by `integra_engine_deliver_messages`. `id_out` receives the
/// message id.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_send_message(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    body_json: *const c_char,
    recipients: *const c_char,
    quick: bool,
    id_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let id_out = out(id_out, "id_out")?;
            let (channel, body) = (text(channel, "channel")?, text(body_json, "body_json")?);
            let recipients = optional_text(recipients, "recipients")?;
            let id = e.read(|h| h.send_message(channel, body, recipients, quick, OWN_MEMORY))?;
            id_out.put_string(id)
        })
    }
}

/// Sends `body_json` on a broadcast channel to the endpoints subscribed to it (`quick` as
/// for `integra_engine_send_message`). `id_out` receives the message id.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_send_message_to_subscribers(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    body_json: *const c_char,
    quick: bool,
    id_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let id_out = out(id_out, "id_out")?;
            let (channel, body) = (text(channel, "channel")?, text(body_json, "body_json")?);
            let id = e.read(|h| h.send_message_to_subscribers(channel, body, quick, OWN_MEMORY))?;
            id_out.put_string(id)
        })
    }
}

/// Pushes every quick message now, one caller at a time across processes. `report_out`
/// receives `{"delivered", "unavailable": [endpoint…], "busy"}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_deliver_messages(
    engine: *mut IntegraEngine,
    report_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let report_out = out(report_out, "report_out")?;
            let report = e.read(|h| h.deliver_messages())?;
            report_out.put_string(report)
        })
    }
}

/// Connects another base after checking the connection both ways. `sender_json` says how
/// it reaches this base, `recipient_json` how this base reaches it: `{"url", "username",
/// "password"}`. `recipient_name` (NULL or empty: the recipient's own name) and
/// `sender_name` (NULL or empty: this base's configured name) are optional. `endpoint_out`
/// receives `{"code", "name", "url", "blocked"}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_connect_endpoint(
    engine: *mut IntegraEngine,
    sender_json: *const c_char,
    recipient_json: *const c_char,
    recipient_name: *const c_char,
    sender_name: *const c_char,
    endpoint_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let endpoint_out = out(endpoint_out, "endpoint_out")?;
            let (sender, recipient) = (
                text(sender_json, "sender_json")?,
                text(recipient_json, "recipient_json")?,
            );
            let (recipient_name, sender_name) = (
                optional_text(recipient_name, "recipient_name")?,
                optional_text(sender_name, "sender_name")?,
            );
            let endpoint =
                e.read(|h| h.connect_endpoint(sender, recipient, recipient_name, sender_name))?;
            endpoint_out.put_string(endpoint)
        })
    }
}

/// Re-checks and changes how endpoint `code` and this base reach each other, on both
/// sides (settings as for `integra_engine_connect_endpoint`).
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_update_endpoint_connection_settings(
    engine: *mut IntegraEngine,
    code: *const c_char,
    sender_json: *const c_char,
    recipient_json: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let code = text(code, "code")?;
            let (sender, recipient) = (
                text(sender_json, "sender_json")?,
                text(recipient_json, "recipient_json")?,
            );
            Ok(e.read(|h| h.update_endpoint_connection_settings(code, sender, recipient))?)
        })
    }
}

/// Sets the recipients (a JSON array of endpoint codes) an addressed channel's sends go to
/// when they name none.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_set_sender_recipients(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    recipients_json: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (channel, recipients) = (
                text(channel, "channel")?,
                text(recipients_json, "recipients_json")?,
            );
            Ok(e.read(|h| h.set_sender_recipients(channel, recipients))?)
        })
    }
}

/// Subscribes (`subscribed`) or unsubscribes `endpoint` to a broadcast channel of this
/// base.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_set_recipient_subscribed(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    endpoint: *const c_char,
    subscribed: bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (channel, endpoint) = (text(channel, "channel")?, text(endpoint, "endpoint")?);
            Ok(e.read(|h| h.set_recipient_subscribed(channel, endpoint, subscribed))?)
        })
    }
}

/// Subscribes (`subscribed`) or unsubscribes this base to `publisher`'s broadcast channel;
/// the publisher is told.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_set_subscribed(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    publisher: *const c_char,
    subscribed: bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (channel, publisher) = (text(channel, "channel")?, text(publisher, "publisher")?);
            Ok(e.read(|h| h.set_subscribed(channel, publisher, subscribed))?)
        })
    }
}

/// Blocks (`blocked`) or unblocks an endpoint: a blocked endpoint receives nothing, and
/// what it sends is quarantined.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_set_endpoint_blocked(
    engine: *mut IntegraEngine,
    code: *const c_char,
    blocked: bool,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let code = text(code, "code")?;
            Ok(e.read(|h| h.set_endpoint_blocked(code, blocked))?)
        })
    }
}

/// `endpoints_out` receives `{"this": {"code", "name"}, "endpoints": [{"code", "name",
/// "url", "blocked"}…]}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_exchange_endpoints(
    engine: *mut IntegraEngine,
    endpoints_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let endpoints_out = out(endpoints_out, "endpoints_out")?;
            let endpoints = e.read(|h| h.exchange_endpoints())?;
            endpoints_out.put_string(endpoints)
        })
    }
}

/// `recipients_out` receives who receives `channel`: `{"sender": [code…], "subscribers":
/// [code…]}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_channel_recipients(
    engine: *mut IntegraEngine,
    channel: *const c_char,
    recipients_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let recipients_out = out(recipients_out, "recipients_out")?;
            let channel = text(channel, "channel")?;
            let recipients = e.read(|h| h.channel_recipients(channel))?;
            recipients_out.put_string(recipients)
        })
    }
}

/// Claims up to `max` received messages of channels without a Rust handler, for
/// `lease_seconds`, in arrival order per sender and channel. `items_out` receives the JSON
/// array of `{"id", "sender", "channel", "body", "attempt"}`.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_next_exchange_messages(
    engine: *mut IntegraEngine,
    max: i64,
    lease_seconds: i64,
    items_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let items_out = out(items_out, "items_out")?;
            let items = e.read(|h| h.next_exchange_messages(max, lease_seconds, OWN_MEMORY))?;
            items_out.put_string(items)
        })
    }
}

/// Marks a claimed received message handled; its sender is told.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_ack_exchange_message(
    engine: *mut IntegraEngine,
    id: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let id = text(id, "id")?;
            Ok(e.read(|h| h.ack_exchange_message(id))?)
        })
    }
}

/// Records that handling a claimed received message failed: it is handled again, or
/// quarantined after `exchange.quarantine_after` attempts.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_fail_exchange_message(
    engine: *mut IntegraEngine,
    id: *const c_char,
    error: *const c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let (id, error) = (text(id, "id")?, text(error, "error")?);
            Ok(e.read(|h| h.fail_exchange_message(id, error))?)
        })
    }
}

/// Received messages in `status` (NULL or empty: every status), at most `limit`, oldest
/// first. `items_out` receives the JSON array.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_received_exchange_messages(
    engine: *mut IntegraEngine,
    status: *const c_char,
    limit: i64,
    items_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let items_out = out(items_out, "items_out")?;
            let status = optional_text(status, "status")?;
            let items = e.read(|h| h.received_exchange_messages(status, limit))?;
            items_out.put_string(items)
        })
    }
}

/// Sent messages and notices, one per recipient, in `status` (NULL or empty: every
/// status), at most `limit`, oldest first. `items_out` receives the JSON array.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_sent_exchange_messages(
    engine: *mut IntegraEngine,
    status: *const c_char,
    limit: i64,
    items_out: *mut *mut c_char,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let items_out = out(items_out, "items_out")?;
            let status = optional_text(status, "status")?;
            let items = e.read(|h| h.sent_exchange_messages(status, limit))?;
            items_out.put_string(items)
        })
    }
}

/// Sends quarantined received message `id` (NULL or empty: every one) back to be handled.
/// `count_out` receives how many.
///
/// # Safety
/// `engine` is a live handle; string arguments are NULL or NUL-terminated (NULL is an
/// error except where an argument is optional); out-parameters are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn integra_engine_retry_received_exchange_messages(
    engine: *mut IntegraEngine,
    id: *const c_char,
    count_out: *mut u64,
) -> IntegraStatus {
    // SAFETY: the pointers are as the function's `# Safety` section requires.
    unsafe {
        call(engine, |e| {
            let count_out = out(count_out, "count_out")?;
            let id = optional_text(id, "id")?;
            let n = e.read(|h| h.retry_received_exchange_messages(id))?;
            count_out.put(n)
        })
    }
}
