//! Secrets never show: a configuration with a distinctive secret in every place one can be
//! (each kind of endpoint authentication, each kind of inbound authentication, the message
//! exchange's passwords) is driven through failing deliveries, refused and accepted
//! requests, a metrics scrape, status reads, a failed and a successful connection between
//! two bases, and an export; none of the secrets appears in any log line, error, metrics
//! text, status JSON or export. At rest, the database file is its owner's alone, and with a
//! secrets key it holds every secret sealed.

use std::fs::Permissions;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

use hmac::Mac;
use integra::config::Secret;
use integra::json_api::Handle;
use integra::{Config, ConnectionSettings, Engine, EngineOptions, Recipients, SecretsKey};
use serde_json::{Value, json};

use crate::support::http::{basic, get, post};
use crate::support::{Receiver, Reply, TestEngine, wait_until};

/// A secrets key, as 64 hexadecimal digits.
const KEY: &str = "8f1e0d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";

/// Every secret the test configures or sends.
const SECRETS: &[&str] = &[
    "leak-out-basic",
    "leak-out-bearer",
    "leak-out-key",
    "leak-out-amqp",
    "leak-out-scram",
    "leak-in-basic",
    "leak-in-bearer",
    "leak-in-key",
    "leak-in-hmac",
    "leak-in-metrics",
    "leak-exchange-a",
    "leak-exchange-b",
    "leak-given-wrong",
];

/// Log lines captured while [`Capture::start`] is in effect.
static LOGS: Mutex<String> = Mutex::new(String::new());
/// How many tests capture logs now; the logger records nothing while none does.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

/// The test binary's logger: records every line, at every level, while a test captures.
pub(crate) struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        CAPTURING.load(Ordering::SeqCst) > 0
    }

    fn log(&self, record: &log::Record<'_>) {
        // ureq-proto dumps the raw bytes of every request at TRACE, credentials included
        // (documented: keep `ureq_proto` below TRACE); everything else is checked.
        let wire_dump =
            record.target() == "ureq_proto::util" && record.level() == log::Level::Trace;
        if self.enabled(record.metadata()) && !wire_dump {
            let mut line = format!("{} {}: {}", record.level(), record.target(), record.args());
            // The key-values too: the C library's and the add-in's log file writes them.
            let _ = record.key_values().visit(&mut Pairs(&mut line));
            line.push('\n');
            LOGS.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(&line);
        }
    }

    fn flush(&self) {}
}

/// A record's key-values, appended as ` key=value`.
struct Pairs<'a>(&'a mut String);

impl<'kvs> log::kv::VisitSource<'kvs> for Pairs<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        self.0.push_str(&format!(" {key}={value}"));
        Ok(())
    }
}

impl Capture {
    /// Installs the logger (once per test binary) and starts capturing.
    pub(crate) fn start() -> CaptureGuard {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            log::set_logger(&Capture).expect("no other logger is installed in the test binary");
            log::set_max_level(log::LevelFilter::Trace);
        });
        CAPTURING.fetch_add(1, Ordering::SeqCst);
        CaptureGuard
    }
}

/// Stops capturing when dropped.
pub(crate) struct CaptureGuard;

impl CaptureGuard {
    /// Every line captured so far.
    pub(crate) fn logs(&self) -> String {
        LOGS.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(rejecting: &str) -> Value {
    let closed = closed_port();
    let quick = |mut endpoint: Value| {
        endpoint["connect_timeout"] = json!("1s");
        endpoint["read_timeout"] = json!("2s");
        endpoint
    };
    json!({
        "endpoints": [
            quick(json!({"code": "basic", "base_url": rejecting,
                         "auth": {"type": "basic", "username": "u", "password": "leak-out-basic"}})),
            quick(json!({"code": "bearer", "base_url": format!("http://127.0.0.1:{closed}"),
                         "auth": {"type": "bearer", "token": "leak-out-bearer"}})),
            quick(json!({"code": "key", "base_url": format!("https://127.0.0.1:{closed}"),
                         "tls": {"verify": false},
                         "auth": {"type": "api_key", "header": "X-Key", "value": "leak-out-key"}})),
            quick(json!({"code": "amqp", "base_url": format!("amqp://127.0.0.1:{closed}"),
                         "auth": {"type": "basic", "username": "u", "password": "leak-out-amqp"}})),
            quick(json!({"code": "kafka", "base_url": format!("kafka://127.0.0.1:{closed}"),
                         "auth": {"type": "scram", "mechanism": "sha256", "username": "u",
                                  "password": "leak-out-scram"}}))
        ],
        "subscribers": [
            {"code": "basic", "kind": "http", "endpoint": "basic", "retry": {"max_attempts": 1}},
            {"code": "bearer", "kind": "http", "endpoint": "bearer", "retry": {"max_attempts": 1}},
            {"code": "key", "kind": "http", "endpoint": "key", "retry": {"max_attempts": 1}},
            {"code": "amqp", "kind": "amqp", "endpoint": "amqp", "retry": {"max_attempts": 1},
             "amqp": {"exchange": "", "routing_key": "q"}},
            {"code": "kafka", "kind": "kafka", "endpoint": "kafka", "retry": {"max_attempts": 1},
             "kafka": {"topic": "t"}}
        ],
        "flows": [
            {"code": "OUT", "direction": "outgoing",
             "subscribers": ["basic", "bearer", "key", "amqp", "kafka"]},
            {"code": "IN", "direction": "incoming"}
        ],
        "listeners": [{
            "code": "main", "address": "127.0.0.1:0",
            "interbase": {"auth": {"type": "basic", "username": "u", "password": "leak-in-basic"}},
            "metrics": {"auth": {"type": "bearer", "token": "leak-in-metrics"}},
            "exchange": {"auth": {"type": "basic", "username": "a", "password": "leak-exchange-a"}},
            "routes": [
                {"prefix": "/bearer", "flow": "IN", "auth": {"type": "bearer", "token": "leak-in-bearer"}},
                {"prefix": "/key", "flow": "IN", "auth": {"type": "api_key", "header": "X-Key", "value": "leak-in-key"}},
                {"prefix": "/hmac", "flow": "IN", "auth": {"type": "hmac", "header": "X-Sig", "secret": "leak-in-hmac"}}
            ]
        }]
    })
}

/// Asserts that no secret (nor the Basic form of one) is in `text`, which is `what`.
fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret)
                && !text.contains(basic("u", secret).trim_start_matches("Basic ")),
            "{what} shows the secret {secret}:\n{text}"
        );
    }
}

#[test]
fn secrets_never_show_in_logs_errors_metrics_status_or_exports() {
    let capture = Capture::start();
    let rejecting = Receiver::start(|_| Reply::status(401).body("who are you?"));
    let t = TestEngine::new(&config(rejecting.url()));
    let receiver = t.engine.start_receiver("main").unwrap();
    let url = |path: &str| format!("http://{}{path}", receiver.local_addr());
    let mut seen: Vec<(String, String)> = Vec::new();

    // Outgoing: a 401, a refused connection, a TLS failure, two brokers that are not there.
    let id = t
        .engine
        .register("OUT", r#"{"n": 1}"#, &Default::default())
        .unwrap();
    t.dispatch();
    let status = t.engine.message_status(&id).unwrap();
    assert_eq!(
        rejecting.received().len(),
        1,
        "the 401 came from the receiver"
    );
    for d in &status.deliveries {
        assert!(
            d.last_error.is_some(),
            "{} did not fail: {d:?}",
            d.subscriber
        );
    }
    seen.push((
        "message status".into(),
        serde_json::to_string(&status).unwrap(),
    ));

    // Inbound: missing and wrong credentials on every way in, then the right ones.
    let message = "0b8f7f4e-3c55-4f43-9d7b-8f1a3e0c2d11";
    let interbase = url(&format!("/hs/is_api/v1/IN/{message}"));
    let wrong_basic = basic("u", "leak-given-wrong");
    let wrong_bearer = "Bearer leak-given-wrong".to_owned();
    for (path, header, right) in [
        (
            interbase.clone(),
            "Authorization",
            basic("u", "leak-in-basic"),
        ),
        (
            url("/bearer/x"),
            "Authorization",
            "Bearer leak-in-bearer".to_owned(),
        ),
        (url("/key/x"), "X-Key", "leak-in-key".to_owned()),
    ] {
        let (status, text, headers) = post(&path, &[], "{}");
        assert_eq!(status, 401, "{path}: {text}");
        seen.push((
            format!("{path} without credentials"),
            format!("{text} {headers:?}"),
        ));
        let wrong = match header {
            "X-Key" => "leak-given-wrong",
            _ if right.starts_with("Basic") => &wrong_basic,
            _ => &wrong_bearer,
        };
        let (status, text, headers) = post(&path, &[(header, wrong)], "{}");
        assert_eq!(status, 403, "{path}: {text}");
        seen.push((
            format!("{path} with wrong credentials"),
            format!("{text} {headers:?}"),
        ));
        let (status, text, headers) = post(&path, &[(header, &right)], r#"{"ok": 1}"#);
        assert_eq!(status, 200, "{path}: {text}");
        seen.push((format!("{path} accepted"), format!("{text} {headers:?}")));
    }
    let body = r#"{"signed": true}"#;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"leak-in-hmac").unwrap();
    mac.update(body.as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (status, text, _) = post(&url("/hmac/x"), &[("X-Sig", "0000")], body);
    assert_eq!(status, 403, "{text}");
    seen.push(("a bad signature".into(), text));
    let (status, text, _) = post(&url("/hmac/x"), &[("X-Sig", &signature)], body);
    assert_eq!(status, 200, "{text}");

    // What was stored, as the pull API and the status read show it.
    let items = t
        .engine
        .next_incoming(100, Duration::from_secs(60))
        .unwrap();
    assert_eq!(items.len(), 4);
    seen.push((
        "incoming items".into(),
        serde_json::to_string(&items).unwrap(),
    ));
    for item in &items {
        let report = t.engine.incoming_status(&item.id).unwrap();
        seen.push((
            "incoming status".into(),
            serde_json::to_string(&report).unwrap(),
        ));
    }

    // Metrics: scraped (with and without the token) and asked for.
    let (status, text) = get(
        &url("/metrics"),
        &[("Authorization", "Bearer leak-in-metrics")],
    );
    assert_eq!(status, 200, "{text}");
    seen.push(("the metrics scrape".into(), text));
    let (status, text) = get(&url("/metrics"), &[("Authorization", &wrong_bearer)]);
    assert_eq!(status, 403, "{text}");
    seen.push(("a refused scrape".into(), text));
    seen.push(("metrics text".into(), t.engine.metrics_text().unwrap()));

    // The exchange: a connection refused for a wrong password, then one that works.
    let b = TestEngine::new(
        &json!({"listeners": [{"code": "main", "address": "127.0.0.1:0",
        "exchange": {"auth": {"type": "basic", "username": "b", "password": "leak-exchange-b"}}}]}),
    );
    let b_receiver = b.engine.start_receiver("main").unwrap();
    let settings = |address: std::net::SocketAddr, user: &str, password: &str| ConnectionSettings {
        url: format!("http://{address}"),
        username: user.to_owned(),
        password: Secret::new(password),
    };
    let a_settings = settings(receiver.local_addr(), "a", "leak-exchange-a");
    let wrong = settings(b_receiver.local_addr(), "b", "leak-given-wrong");
    let err = t
        .engine
        .connect_endpoint(&a_settings, &wrong, "B", "A")
        .unwrap_err();
    seen.push(("a refused connection".into(), format!("{err} {err:?}")));
    let mut with_credentials = a_settings.clone();
    with_credentials.url = format!("http://a:leak-exchange-a@{}", receiver.local_addr());
    let err = t
        .engine
        .connect_endpoint(&with_credentials, &wrong, "B", "A")
        .unwrap_err();
    assert!(err.to_string().contains("holds credentials"), "{err}");
    seen.push(("credentials in a URL".into(), format!("{err} {err:?}")));
    let b_settings = settings(b_receiver.local_addr(), "b", "leak-exchange-b");
    let endpoint = t
        .engine
        .connect_endpoint(&a_settings, &b_settings, "B", "A")
        .unwrap();
    t.engine
        .send_message_now(
            "news",
            r#"{"n": 1}"#,
            &Recipients::Endpoints(vec![endpoint.code]),
        )
        .unwrap();
    t.engine.deliver_messages().unwrap();
    wait_until("B receives", Duration::from_secs(10), || {
        !b.engine
            .received_exchange_messages(None, 10)
            .unwrap()
            .is_empty()
    });
    for (base, engine) in [("A", &t.engine), ("B", &b.engine)] {
        let endpoints = serde_json::to_string(&engine.exchange_endpoints().unwrap()).unwrap();
        seen.push((format!("{base}'s exchange endpoints"), endpoints));
        let sent = engine.sent_exchange_messages(None, 100).unwrap();
        seen.push((
            format!("{base}'s sent messages"),
            serde_json::to_string(&sent).unwrap(),
        ));
        let received = engine.received_exchange_messages(None, 100).unwrap();
        seen.push((
            format!("{base}'s received messages"),
            serde_json::to_string(&received).unwrap(),
        ));
    }

    // The export, through the front door the C ABI and the add-in use; loading it back is
    // refused, naming the secrets to write in, without showing any.
    let mut handle = Handle::new();
    let database = t.database.clone();
    handle
        .open(&json!({"database": database}).to_string())
        .unwrap();
    let export = handle.configuration().unwrap();
    assert!(export.contains(r#""password":"***""#), "{export}");
    seen.push(("the export".into(), export.clone()));
    let err = handle.load_configuration(&export).unwrap_err();
    assert!(err.to_string().contains("write the secret itself"), "{err}");
    seen.push(("loading the export".into(), err.to_string()));
    seen.push((
        "the engine's debug form of the configuration".into(),
        format!("{:?}", t.engine.config().unwrap()),
    ));

    // The switched-off TLS verification is logged; no secret is.
    let logs = capture.logs();
    assert!(
        logs.contains("endpoint 'key': TLS certificate verification is switched off"),
        "{logs}"
    );
    seen.push(("the logs".into(), logs));
    for (what, text) in &seen {
        assert_clean(what, text);
    }
}

/// The bytes of the database file and its `-wal`, where secrets at rest would be.
fn file_bytes(database: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(database).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", database.display())).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The database and its `-wal` and `-shm` files are created readable by their owner only;
/// with a secrets key, no secret of the configuration or the exchange is in them in clear,
/// yet every one works (a Basic password reaches the subscriber, an exchange connection
/// delivers); an engine without the key, or with another, is refused naming the key's
/// fingerprint; a database used without a key has its secrets sealed when it is opened with
/// one (issue 15).
#[test]
fn with_a_key_secrets_are_sealed_at_rest_in_a_file_only_its_owner_reads() {
    let key = SecretsKey::from_hex(KEY, "the test").unwrap();
    let options = |key: Option<&SecretsKey>| {
        let mut options = EngineOptions::default();
        options.secrets_key = key.cloned();
        options
    };
    let shop = Receiver::ok();
    let config = json!({
        "endpoints": [{"code": "shop", "base_url": shop.url(),
                       "auth": {"type": "basic", "username": "u", "password": "sealed-out-basic"}}],
        "subscribers": [{"code": "shop", "kind": "http", "endpoint": "shop"}],
        "flows": [{"code": "OUT", "direction": "outgoing", "subscribers": ["shop"]},
                  {"code": "IN", "direction": "incoming"}],
        "listeners": [{"code": "main", "address": "127.0.0.1:0",
            "exchange": {"auth": {"type": "basic", "username": "a", "password": "sealed-exchange-a"}},
            "routes": [{"prefix": "/in", "flow": "IN",
                        "auth": {"type": "bearer", "token": "sealed-in-bearer"}}]}]
    });
    // The file and its modes: what this test is about.
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("integra.db");
    let a = Engine::open(&database, options(Some(&key))).unwrap();
    a.load_config_json(&config.to_string()).unwrap();
    for file in ["", "-wal", "-shm"] {
        let mode = std::fs::metadata(format!("{}{file}", database.display()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "integra.db{file}");
    }

    // The secrets work: the subscriber gets the password, another base gets connected.
    let receiver = a.start_receiver("main").unwrap();
    a.register("OUT", "{}", &Default::default()).unwrap();
    a.dispatch(10, Duration::from_secs(10)).unwrap();
    assert_eq!(
        shop.received()[0].header("authorization"),
        Some(basic("u", "sealed-out-basic").as_str())
    );
    let b = TestEngine::new(
        &json!({"listeners": [{"code": "main", "address": "127.0.0.1:0",
        "exchange": {"auth": {"type": "basic", "username": "b", "password": "sealed-exchange-b"}}}]}),
    );
    let b_receiver = b.engine.start_receiver("main").unwrap();
    let settings = |address: std::net::SocketAddr, user: &str, password: &str| ConnectionSettings {
        url: format!("http://{address}"),
        username: user.to_owned(),
        password: Secret::new(password),
    };
    a.connect_endpoint(
        &settings(receiver.local_addr(), "a", "sealed-exchange-a"),
        &settings(b_receiver.local_addr(), "b", "sealed-exchange-b"),
        "B",
        "A",
    )
    .unwrap();
    drop((receiver, b_receiver));
    drop(a);
    let bytes = file_bytes(&database);
    for secret in [
        "sealed-out-basic",
        "sealed-exchange-a",
        "sealed-exchange-b",
        "sealed-in-bearer",
    ] {
        assert!(
            !contains(&bytes, secret),
            "{secret} is in the file in clear"
        );
    }
    assert!(contains(
        &bytes,
        &format!("sealed:v1:{}:", key.fingerprint())
    ));

    // Without the key, or with another, the engine is refused at open.
    let err = Engine::open(&database, options(None)).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "the database's secrets are sealed with key {}, and this engine has no key",
            key.fingerprint()
        )),
        "{err}"
    );
    let other = SecretsKey::from_hex(&KEY.replace('0', "f"), "the test").unwrap();
    let err = Engine::open(&database, options(Some(&other))).unwrap_err();
    assert!(
        err.to_string()
            .contains("every process on one database needs the same key"),
        "{err}"
    );
    let reopened = Engine::open(&database, options(Some(&key))).unwrap();
    assert_eq!(
        reopened.config().unwrap().endpoints[0].auth,
        Config::from_json(&config.to_string()).unwrap().endpoints[0].auth
    );

    // A database used without a key: its secrets are sealed when a key is given.
    let plain = TestEngine::new(
        &json!({"endpoints": [{"code": "shop", "base_url": shop.url(),
        "auth": {"type": "bearer", "token": "sealed-later"}}]}),
    );
    let plain_db = crate::support::database(plain.dir.path());
    drop(Engine::open(&plain_db, options(Some(&key))).unwrap());
    let err = Engine::open(&plain_db, options(None)).unwrap_err();
    assert!(err.to_string().contains("this engine has no key"), "{err}");

    // A key given to the front doors in a file only its owner reads.
    let key_file = dir.path().join("integra.key");
    std::fs::write(&key_file, KEY).unwrap();
    std::fs::set_permissions(&key_file, Permissions::from_mode(0o600)).unwrap();
    drop(reopened);
    let mut handle = Handle::new();
    handle
        .open(&json!({"database": database, "secrets_key_file": key_file}).to_string())
        .unwrap();
    assert!(
        handle
            .configuration()
            .unwrap()
            .contains(r#""password":"***""#)
    );
}
