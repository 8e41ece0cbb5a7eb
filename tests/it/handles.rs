//! The front doors' handle (`json_api`), which the C library and the 1C add-in share: a
//! call whose result cannot be handed over writes nothing (issue 15); a log named in a Rust
//! program that has a logger of its own.

use integra::json_api::{Handle, OWN_MEMORY, Reserve};
use serde_json::{Value, json};

use crate::support::{TestEngine, http_config, with_flow};

/// A front door that can have no memory for a result (the 1C platform refusing it).
const NO_MEMORY: Reserve<'static> = &|_| false;

fn total<S>(counts: &std::collections::BTreeMap<S, u64>) -> u64 {
    counts.values().sum()
}

/// A handle on `t`'s database.
fn handle(t: &TestEngine) -> Handle {
    let mut handle = Handle::new();
    handle
        .open(&json!({"database": t.database.clone()}).to_string())
        .unwrap();
    handle
}

/// Registrations, accepted incoming messages and sent exchange messages refused for want of
/// memory for their result are not written, so the BSL code that retries queues one, not
/// two; claims whose result cannot be handed over are given back as they were, their
/// attempt uncounted.
#[test]
fn a_call_whose_result_cannot_be_handed_over_writes_nothing() {
    let config = with_flow(
        with_flow(
            http_config("http://127.0.0.1:1", &["a"]),
            json!({"code": "FORMED", "direction": "outgoing", "subscribers": ["a"],
                   "former": "external"}),
        ),
        json!({"code": "IN", "direction": "incoming"}),
    );
    let t = TestEngine::new(&config);
    let h = handle(&t);
    let no_memory = |e: integra::Error| {
        assert_eq!(
            e.to_string(),
            "no memory could be had for the result, so nothing was written"
        );
        assert!(e.is_retryable());
    };

    no_memory(
        h.register_message("ORDERS", "{}", false, "", NO_MEMORY)
            .unwrap_err(),
    );
    no_memory(
        h.register_messages("ORDERS", r#"[{"source": 1}, {"source": 2}]"#, NO_MEMORY)
            .unwrap_err(),
    );
    no_memory(
        h.accept_incoming(
            "IN",
            "0b8f7f4e-3c55-4f43-9d7b-8f1a3e0c2d11",
            "{}",
            "",
            NO_MEMORY,
        )
        .unwrap_err(),
    );
    let counts = t.engine.counts().unwrap();
    assert_eq!(total(&counts.messages), 0, "{counts:?}");
    assert_eq!(total(&counts.incoming), 0, "{counts:?}");

    // What room was asked for is what the result needs.
    let asked = std::cell::Cell::new(0);
    let exact: Reserve<'_> = &|units| {
        asked.set(units);
        true
    };
    let id = h
        .register_message("ORDERS", "{}", false, "", exact)
        .unwrap();
    assert_eq!(asked.get(), id.len());
    let ids = h
        .register_messages("ORDERS", r#"[{"source": 1}, {"source": 2}]"#, exact)
        .unwrap();
    assert_eq!(asked.get(), ids.len());
    let accepted = h
        .accept_incoming(
            "IN",
            "0b8f7f4e-3c55-4f43-9d7b-8f1a3e0c2d11",
            "{}",
            "",
            exact,
        )
        .unwrap();
    assert!(accepted.len() <= asked.get(), "{accepted}: {}", asked.get());

    // Claims are given back, their attempt uncounted.
    h.register_message("FORMED", r#"{"n": 1}"#, false, "", OWN_MEMORY)
        .unwrap();
    no_memory(h.next_to_form(10, 60, NO_MEMORY).unwrap_err());
    no_memory(h.next_incoming(10, 60, NO_MEMORY).unwrap_err());
    let counts = t.engine.counts().unwrap();
    assert_eq!(
        counts.messages.get(&integra::MessageStatus::Forming),
        None,
        "{counts:?}"
    );
    assert_eq!(
        counts.incoming.get(&integra::IncomingStatus::InProgress),
        None,
        "{counts:?}"
    );
    let formed: Value = serde_json::from_str(&h.next_to_form(10, 60, OWN_MEMORY).unwrap()).unwrap();
    assert_eq!(formed[0]["attempt"], 1, "{formed}");
    let incoming: Value =
        serde_json::from_str(&h.next_incoming(10, 60, OWN_MEMORY).unwrap()).unwrap();
    assert_eq!(incoming[0]["attempt"], 1, "{incoming}");
    let status = t
        .engine
        .message_status(formed[0]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(status.status.as_str(), "forming");

    // Given back without memory again, a claim made after a failed attempt is a forming
    // error again, as before it was claimed.
    let id = formed[0]["id"].as_str().unwrap();
    h.fail_forming(id, "not yet").unwrap();
    t.advance(std::time::Duration::from_secs(3600));
    no_memory(h.next_to_form(10, 60, NO_MEMORY).unwrap_err());
    assert_eq!(
        t.engine.message_status(id).unwrap().status.as_str(),
        "forming_error"
    );
}

/// A message sent on an exchange channel without memory for its id is not queued.
#[test]
fn an_exchange_message_without_memory_for_its_id_is_not_sent() {
    let t = TestEngine::new(&json!({}));
    let h = handle(&t);
    for err in [
        h.send_message("news", "{}", r#"["nobody"]"#, false, NO_MEMORY)
            .unwrap_err(),
        h.send_message_to_subscribers("news", "{}", true, NO_MEMORY)
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), integra::ErrorKind::Failed, "{err}");
        let sent = t.engine.sent_exchange_messages(None, 10).unwrap();
        assert!(sent.is_empty(), "{sent:?}");
    }
}

/// Issue 15: in a program that has a logger of its own (this test binary's), a handle whose
/// settings name a log file opens without it: the file is not made, Integra's lines go to
/// the program's logger, and a warning there says so. Bad log settings are still refused.
#[test]
fn a_log_named_in_a_program_with_a_logger_of_its_own_is_not_opened_and_it_is_told() {
    let capture = crate::secrets::Capture::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("integra.log");
    let database = crate::support::database(dir.path());
    let mut handle = Handle::new();
    let refused = handle
        .open(&json!({"database": database, "log": {"file": log, "keep": 101}}).to_string())
        .unwrap_err();
    assert!(
        refused.to_string().starts_with("invalid log.keep: "),
        "{refused}"
    );
    handle
        .open(&json!({"database": database, "log": {"file": log, "level": "debug"}}).to_string())
        .unwrap();
    assert!(!log.exists(), "the log file was made");
    let logs = capture.logs();
    assert!(
        logs.contains("WARN integra_core::json_api::log_file: the open settings name a log file, which is not opened: this program has a logger of its own"),
        "{logs}"
    );
}
