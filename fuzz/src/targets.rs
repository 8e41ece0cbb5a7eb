//! The bodies of the fuzz targets, one public function per target, each taking the raw
//! bytes libFuzzer made. `fuzz_targets/*.rs` call them under cargo fuzz; the stable test
//! `tests/it/fuzz_corpora.rs` includes this file and replays every corpus file through them,
//! so what the fuzzer found stays fixed.
//!
//! A panic, anywhere in the process, is a finding; so is a failed assertion. The engines the
//! targets drive are opened once per process, lazily, on a database in a temporary
//! directory.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use integra_addin::fuzzing::{HostVariant, Value as AddinValue, decode};
use integra_core::openapi::Document;
use integra_core::{Config, Engine, EngineOptions, Error, Receiver};
use serde_json::{Value, json};

/// A target's body: it takes one input, and panics on a finding.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its folder under `fuzz/corpus/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("openapi_document", openapi_document),
    ("payload_validation", payload_validation),
    ("configuration", configuration),
    ("receiver_request", receiver_request),
    ("addin_variant", addin_variant),
];

/// The keyword cases of the OpenAPI tests: the documents `payload_validation` validates
/// against (each case's schema is component `Subject` of a document of its own).
const CASES: &[&str] = &[
    include_str!("../../tests/it/openapi/cases/arrays.json"),
    include_str!("../../tests/it/openapi/cases/combinators.json"),
    include_str!("../../tests/it/openapi/cases/discriminator.json"),
    include_str!("../../tests/it/openapi/cases/formats.json"),
    include_str!("../../tests/it/openapi/cases/nullable.json"),
    include_str!("../../tests/it/openapi/cases/numbers.json"),
    include_str!("../../tests/it/openapi/cases/objects.json"),
    include_str!("../../tests/it/openapi/cases/read_write_only.json"),
    include_str!("../../tests/it/openapi/cases/references.json"),
    include_str!("../../tests/it/openapi/cases/strings.json"),
    include_str!("../../tests/it/openapi/cases/types.json"),
];

/// Instances every component of a loaded document is validated with.
const INSTANCES: &[&str] = &["{}", "[]", "null", "\"text\"", "-1.5", "{\"id\": [true]}"];

/// The components of one document validated per input (a document may have thousands).
const MAX_COMPONENTS: usize = 8;

/// The configuration of the receiver engine: listener `fuzz` with every kind of route.
const RECEIVER_CONFIG: &str = include_str!("../receiver.json");

/// The listener of the receiver engine.
const LISTENER: &str = "fuzz";

/// The longest wait for the receiver's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// An engine and the temporary directory of its database.
struct Fixture {
    engine: Engine,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// Opens an engine on a new temporary directory and loads configuration `config`. The
    /// fixtures live in statics, which are never dropped, so under `cargo test` the
    /// directory goes in cargo's own temporary folder (`target/tmp`) rather than `/tmp`.
    fn new(config: &str) -> Fixture {
        let parent = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, Into::into);
        let dir = tempfile::Builder::new()
            .prefix("integra-fuzz-")
            .tempdir_in(parent)
            .expect("a temporary directory");
        let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())
            .expect("the engine opens");
        engine
            .load_config_json(config)
            .expect("the fuzz configuration loads");
        Fixture { engine, _dir: dir }
    }
}

/// The number of keyword cases, and the engine with case `i`'s document as schema `s{i}` and
/// a flow `F{i}` validated against it, in the case's direction (incoming when it has none).
fn validation() -> &'static (usize, Fixture) {
    static FIXTURE: OnceLock<(usize, Fixture)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut schemas = Vec::new();
        let mut flows = Vec::new();
        let cases = CASES.iter().flat_map(|text| {
            let cases: Vec<Value> = serde_json::from_str(text).expect("the cases parse");
            cases
        });
        for (i, case) in cases.enumerate() {
            let mut components = case["components"].as_object().cloned().unwrap_or_default();
            components.insert("Subject".into(), case["schema"].clone());
            schemas.push(json!({"code": format!("s{i}"), "document": {
                "openapi": "3.0.3", "info": {"title": "case", "version": "1"}, "paths": {},
                "components": {"schemas": components}}}));
            let direction = case["direction"].as_str().unwrap_or("incoming");
            let mut flow = json!({"code": format!("F{i}"), "direction": direction,
                                  "schema": {"schema": format!("s{i}"), "component": "Subject"}});
            if direction == "outgoing" {
                flow["subscribers"] = json!(["s"]);
            }
            flows.push(flow);
        }
        let config = json!({
            "endpoints": [{"code": "nowhere", "base_url": "http://127.0.0.1:1"}],
            "subscribers": [{"code": "s", "kind": "http", "endpoint": "nowhere"}],
            "schemas": schemas,
            "flows": flows,
        });
        (flows.len(), Fixture::new(&config.to_string()))
    })
}

/// OpenAPI document loading: any text either is refused or loads into a document whose
/// every component (up to [`MAX_COMPONENTS`]) compiles and validates, given as text to
/// [`Engine::validate`] as a caller would.
pub fn openapi_document(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(document) = Document::parse(text) else {
        return;
    };
    let engine = &validation().1.engine;
    for component in document.components().iter().take(MAX_COMPONENTS) {
        for instance in INSTANCES {
            if let Err(e) = engine.validate(text, component, instance) {
                panic!("the document loads, but component '{component}' cannot validate: {e}");
            }
        }
    }
}

/// Payload validation: the first byte chooses a keyword case, the rest is the payload,
/// validated against the case's schema as [`Engine::validate`] does (no direction) and as
/// the case's flow does (its direction). JSON always validates; anything else is refused
/// as invalid JSON.
pub fn payload_validation(data: &[u8]) {
    let Some((&choice, payload)) = data.split_first() else {
        return;
    };
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let (cases, fixture) = validation();
    let case = usize::from(choice) % cases;
    let is_json = serde_json::from_str::<Value>(payload).is_ok();
    let checked = [
        fixture
            .engine
            .validate(&format!("s{case}"), "Subject", payload),
        fixture
            .engine
            .validate_for_flow(&format!("F{case}"), payload),
    ];
    for result in checked {
        match result {
            Ok(violations) => {
                assert!(is_json, "a payload that is not JSON was validated");
                assert!(violations.len() <= EngineOptions::default().max_violations);
            }
            Err(Error::InvalidJson { .. }) => assert!(!is_json, "JSON was refused as invalid"),
            Err(e) => panic!("validating case {case} failed: {e}"),
        }
    }
}

/// Configuration parsing: any text is refused or parses and validates, and then its
/// serialization parses and validates into the same configuration.
pub fn configuration(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_json(text) else {
        return;
    };
    let written = serde_json::to_string(&config).expect("a configuration serializes");
    match Config::from_json(&written) {
        Ok(again) => assert_eq!(again, config, "the configuration changed on its round trip"),
        Err(e) => panic!("a valid configuration, written out, is refused: {e}\n{written}"),
    }
}

/// Whether a thread of the fuzzed receiver panicked (its runtime survives that, so it
/// would go unnoticed).
static RECEIVER_PANICKED: AtomicBool = AtomicBool::new(false);

/// The receiver: an engine whose listener has every kind of route (inter-base, webhooks
/// with each authentication, metrics, the message exchange), on 127.0.0.1 port 0.
fn receiver() -> &'static (Fixture, Receiver) {
    static RECEIVER: OnceLock<(Fixture, Receiver)> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let thread = format!("integra-receiver-{LISTENER}");
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(thread.as_str()) {
                RECEIVER_PANICKED.store(true, Ordering::SeqCst);
            }
            previous(info);
        }));
        let fixture = Fixture::new(RECEIVER_CONFIG);
        let receiver = fixture
            .engine
            .start_receiver(LISTENER)
            .expect("the receiver starts");
        (fixture, receiver)
    })
}

/// Writes `request` on a new connection, closes the sending side and reads the answer
/// until the receiver closes or [`ANSWER_WAIT`] passes.
fn send_raw(address: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).expect("the receiver accepts a connection");
    stream
        .set_read_timeout(Some(ANSWER_WAIT))
        .expect("a read timeout");
    // The receiver may answer and close before reading it all: a failed write is its right.
    let _ = stream.write_all(request);
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

/// HTTP receiver requests: the bytes are sent as they are on a connection of their own;
/// whatever comes back is HTTP/1.x, no receiver thread panics, and `/health` still answers.
pub fn receiver_request(data: &[u8]) {
    let (_, receiver) = receiver();
    let address = receiver.local_addr();
    let answer = send_raw(address, data);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
    let health = send_raw(address, b"GET /health HTTP/1.1\r\nHost: fuzz\r\n\r\n");
    assert!(
        health.starts_with(b"HTTP/1.1 200 "),
        "/health does not answer after the request: {:?}",
        String::from_utf8_lossy(&health)
    );
    assert!(
        !RECEIVER_PANICKED.load(Ordering::SeqCst),
        "a receiver thread panicked"
    );
}

/// Bytes of the input before the buffer: type code (2), flags (1), array size (4),
/// scalar payload (16), offset (2) and length (2) of the string or blob in the buffer.
const VARIANT_HEAD: usize = 27;

/// The add-in's decoding of `tVariant` arguments: a variant laid out as a host would (the
/// string or blob pointer into a buffer of the input, at a chosen offset and length inside
/// it, or NULL) decodes to the value its type code and payload say.
pub fn addin_variant(data: &[u8]) {
    let Some((head, buffer)) = data.split_at_checked(VARIANT_HEAD) else {
        return;
    };
    let word = |at: usize| usize::from(u16::from_le_bytes([head[at], head[at + 1]]));
    let (offset, len) = (word(23), word(25));
    let within = |total: usize| {
        let start = offset.min(total);
        start..(start + len).min(total)
    };
    let units: Vec<u16> = buffer
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .collect();
    let host = HostVariant {
        vt: u16::from_le_bytes([head[0], head[1]]),
        null: head[2] & 1 != 0,
        elements: u32::from_le_bytes([head[3], head[4], head[5], head[6]]),
        scalar: head[7..23].try_into().expect("16 bytes"),
        units: &units[within(units.len())],
        bytes: &buffer[within(buffer.len())],
    };
    let decoded = decode(&host);
    let wanted = expected(&host);
    let same = match (&decoded, &wanted) {
        (AddinValue::Number(a), AddinValue::Number(b)) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        (a, b) => a == b,
    };
    assert!(same, "{host:?} decoded to {decoded:?}, not {wanted:?}");
}

/// What `host` must decode to, from the Native API's type codes.
fn expected(host: &HostVariant<'_>) -> AddinValue {
    let s = host.scalar;
    let number = AddinValue::Number;
    let text = |t: String| AddinValue::Str(if host.null { String::new() } else { t });
    if host.vt & 0xf000 != 0 {
        return AddinValue::Unsupported(host.vt);
    }
    match host.vt {
        0 | 1 => AddinValue::Empty,
        11 => AddinValue::Bool(s[0] != 0),
        13 => number(f64::from(i8::from_ne_bytes([s[0]]))),
        2 => number(f64::from(i16::from_ne_bytes([s[0], s[1]]))),
        3 | 10 | 19 => number(f64::from(i32::from_ne_bytes([s[0], s[1], s[2], s[3]]))),
        14 => number(f64::from(s[0])),
        15 => number(f64::from(u16::from_ne_bytes([s[0], s[1]]))),
        16 | 20 => number(f64::from(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))),
        17 => number(i64::from_ne_bytes(s[..8].try_into().expect("8 bytes")) as f64),
        18 => number(u64::from_ne_bytes(s[..8].try_into().expect("8 bytes")) as f64),
        4 => number(f64::from(f32::from_ne_bytes([s[0], s[1], s[2], s[3]]))),
        5 => number(f64::from_ne_bytes(s[..8].try_into().expect("8 bytes"))),
        22 if host.null => text(String::new()),
        22 => match String::from_utf16(host.units) {
            Ok(t) => text(t),
            Err(_) => {
                let at: usize = char::decode_utf16(host.units.iter().copied())
                    .map_while(Result::ok)
                    .map(char::len_utf16)
                    .sum();
                AddinValue::Malformed(format!(
                    "it holds an unpaired UTF-16 surrogate at unit {at}"
                ))
            }
        },
        8 if host.null => text(String::new()),
        8 => match std::str::from_utf8(host.bytes) {
            Ok(t) => text(t.to_owned()),
            Err(e) => {
                AddinValue::Malformed(format!("it is not UTF-8 from byte {}", e.valid_up_to()))
            }
        },
        23 => AddinValue::Blob(if host.null {
            Vec::new()
        } else {
            host.bytes.to_vec()
        }),
        6 | 7 => AddinValue::Date,
        other => AddinValue::Unsupported(other),
    }
}
