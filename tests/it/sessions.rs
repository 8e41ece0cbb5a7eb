//! One database, many sessions and processes, as a 1C server runs them (issue 22): loading
//! the configuration the database already holds changes nothing, and the working processes
//! of one server share a listener's port. (Registrations going on while other sessions
//! reload and change the configuration are shown through the C ABI, in `c_abi.rs`.)

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};

use integra::json_api::Handle;
use integra::{Engine, EngineOptions, SecretsKey};
use serde_json::{Value, json};

use crate::support::brokers::free_port;
use crate::support::http::post;
use crate::support::{TestEngine, child};

/// The configuration's stored version and its objects as the database holds them
/// (sealed).
fn stored(database: &Path) -> (i64, Vec<String>) {
    let version = crate::support::query_texts(
        database,
        "SELECT CAST(value AS TEXT) FROM meta WHERE key = 'config_version'",
    );
    let bodies = crate::support::query_texts(
        database,
        "SELECT body FROM config_object ORDER BY kind, position",
    );
    (version[0].parse().unwrap(), bodies)
}

/// Issue 22: the BSL wrapper opened the database with its configuration at every call, and
/// each open rewrote the configuration and bumped its version, so every other session's
/// work was prepared again. Loading a configuration equal to the stored one, through the
/// engine or by opening a handle with it, now writes nothing: the version and the stored
/// (sealed) secrets stay as they were. A change is still a change.
#[test]
fn loading_the_configuration_the_database_holds_writes_nothing() {
    let key = "8f1e0d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::database(dir.path());
    let key_file = dir.path().join("secrets.key");
    std::fs::write(&key_file, key).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = json!({
        "endpoints": [{"code": "shop", "base_url": "http://127.0.0.1:9",
                       "auth": {"type": "basic", "username": "u", "password": "p4ss"}}],
        "subscribers": [{"code": "shop", "kind": "http", "endpoint": "shop"}],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["shop"]}]
    });
    let options =
        EngineOptions::default().with_secrets_key(SecretsKey::from_hex(key, "the test").unwrap());
    let engine = Engine::open(&database, options).unwrap();
    engine.load_config_json(&config.to_string()).unwrap();
    let before = stored(&database);
    assert!(
        before.1.iter().any(|body| body.contains("sealed:v1:")),
        "{before:?}"
    );

    engine.load_config_json(&config.to_string()).unwrap();
    let mut handle = Handle::new();
    let settings = json!({"database": database, "secrets_key_file": key_file, "config": config});
    handle.open(&settings.to_string()).unwrap();
    handle.open(&settings.to_string()).unwrap();
    handle.load_configuration(&config.to_string()).unwrap();
    engine
        .put_flow(engine.config().unwrap().flows[0].clone())
        .unwrap();
    assert_eq!(stored(&database), before);

    let mut changed = config.clone();
    changed["endpoints"][0]["auth"]["password"] = json!("another");
    handle.load_configuration(&changed.to_string()).unwrap();
    let after = stored(&database);
    assert_eq!(after.0, before.0 + 1);
    assert_ne!(after.1, before.1);
}

/// A configuration with incoming flow `IN` and listener `main` on `port`, with the
/// inter-base endpoint open to all.
fn listening_on(port: u16) -> Value {
    json!({
        "flows": [{"code": "IN", "direction": "incoming"}],
        "listeners": [{"code": "main", "address": format!("127.0.0.1:{port}"),
                       "interbase": {"auth": {"type": "none"}}}]
    })
}

/// A child process serving listener `main` of `database`.
fn serving(database: &Path) -> Child {
    child::command("receiver", &[("DB", database.display().to_string())])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stop(mut process: Child) {
    process.kill().unwrap();
    process.wait().unwrap();
}

/// Posts message `n` to the inter-base endpoint on `port`; its answer's status.
fn send(port: u16, n: usize) -> u16 {
    let id = format!("0b8f7f4e-3c55-4f43-9d7b-{n:012}");
    let url = format!("http://127.0.0.1:{port}/hs/is_api/v1/IN/{id}");
    post(&url, &[], &format!(r#"{{"n": {n}}}"#)).0
}

/// Issue 22: a second working process of a 1C server starting the server failed with
/// "Address already in use". Now every process serving the same listener of the same
/// database shares its port: two processes listen on one port, each message posted twice
/// (each post on a connection of its own, spread over both) is stored once, and when one
/// process goes the other goes on serving. Another database's listener on that port is
/// still refused, naming why.
#[test]
fn the_processes_serving_one_listener_share_its_port_and_store_each_message_once() {
    let port = free_port();
    let t = TestEngine::new(&listening_on(port));
    let database = t.database.clone();
    let mut first = serving(&database);
    let mut second = serving(&database);
    let address = child::listening(&mut first);
    assert_eq!(child::listening(&mut second), address);

    for n in 0..20 {
        assert_eq!(send(port, n), 200);
        assert_eq!(send(port, n), 200);
    }
    let incoming = |t: &TestEngine| -> u64 { t.engine.counts().unwrap().incoming.values().sum() };
    assert_eq!(incoming(&t), 20);

    stop(first);
    for n in 20..30 {
        assert_eq!(send(port, n), 200);
    }
    assert_eq!(incoming(&t), 30);

    let other = TestEngine::new(&listening_on(port));
    let mut intruder = serving(&crate::support::database(other.dir.path()));
    let refused = child::started(&mut intruder).unwrap_err();
    assert!(
        refused.contains(&format!(
            "listener 'main' cannot listen on 127.0.0.1:{port}"
        )) && refused.contains("another database's listener"),
        "{refused}"
    );
    intruder.wait().unwrap();
    stop(second);
}
