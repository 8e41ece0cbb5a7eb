//! The `integra` binary, run as an operator runs it, on a database a real engine filled:
//! its answers (tables and JSON), its exit codes, and what its changes did to the queues.
#![expect(
    clippy::unwrap_used,
    reason = "a test that meets the unexpected should stop right there, loudly"
)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use integra_core::{DeliveryStatus, Engine, EngineOptions, RegisterOptions};
use integra_http_stub::{Receiver, Reply};
use serde_json::{Value, json};

/// A database with flow `ORDERS` to subscribers `shop` (answers 500, one attempt: dead at
/// once) and `crm` (answers 200), and three messages dispatched to both.
struct Fixture {
    dir: tempfile::TempDir,
    /// The database: the SQLite file, or a schema's URL on the PostgreSQL server.
    db: String,
    /// The PostgreSQL schema to drop afterwards (server URL, schema).
    schema: Option<(String, String)>,
    _shop: Receiver,
    ids: Vec<String>,
}

impl Fixture {
    /// On an SQLite file.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("integra.db").to_str().unwrap().to_owned();
        Fixture::on(dir, db, None)
    }

    /// On a schema of its own on the PostgreSQL server the tests use (started by
    /// `scripts/postgres.sh` when none answers).
    fn postgres() -> Fixture {
        let server = std::env::var("INTEGRA_TEST_POSTGRES").unwrap_or_else(|_| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh");
            let out = Command::new(script).arg("start").output().unwrap();
            assert!(
                out.status.success(),
                "scripts/postgres.sh start: {}",
                text(&out)
            );
            "postgres://postgres@127.0.0.1:5432/test".to_owned()
        });
        let schema = format!("cli_{}", uuid::Uuid::new_v4().simple());
        let separator = if server.contains('?') { '&' } else { '?' };
        let db = format!("{server}{separator}schema={schema}");
        Fixture::on(tempfile::tempdir().unwrap(), db, Some((server, schema)))
    }

    fn on(dir: tempfile::TempDir, db: String, schema: Option<(String, String)>) -> Fixture {
        let shop = Receiver::start(|r| {
            if r.url.starts_with("/shop") {
                Reply::status(500).body("out of order")
            } else {
                Reply::ok()
            }
        });
        let engine = Engine::open(&db, EngineOptions::default()).unwrap();
        engine
            .load_config_json(&config(shop.url()).to_string())
            .unwrap();
        let ids: Vec<String> = (0..3)
            .map(|i| {
                engine
                    .register(
                        "ORDERS",
                        &json!({"n": i}).to_string(),
                        &RegisterOptions::default(),
                    )
                    .unwrap()
                    .to_string()
            })
            .collect();
        let unfinished = || {
            let counts = engine.counts().unwrap().deliveries;
            let finished = |s: &DeliveryStatus| matches!(s.as_str(), "sent" | "dead");
            counts
                .iter()
                .filter(|(s, _)| !finished(s))
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while unfinished() > 0 {
            assert!(Instant::now() < deadline, "the deliveries did not finish");
            engine.dispatch(64, Duration::from_secs(5)).unwrap();
        }
        Fixture {
            dir,
            db,
            schema,
            _shop: shop,
            ids,
        }
    }

    /// Runs `integra --db DB args…`.
    fn run(&self, args: &[&str]) -> Output {
        integra(Path::new(&self.db), args)
    }

    /// Runs `integra --db DB --json args…`, expecting success, and parses its answer.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some((server, schema)) = &self.schema
            && let Ok(mut client) = postgres::Client::connect(server, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

fn config(url: &str) -> Value {
    json!({
        "endpoints": [{"code": "web", "base_url": url, "connect_timeout": "2s", "read_timeout": "5s",
                       "auth": {"type": "bearer", "token": "very-secret-token"}}],
        "subscribers": [
            {"code": "shop", "kind": "http", "endpoint": "web", "retry": {"max_attempts": 1},
             "http": {"path": "/shop"}},
            {"code": "crm", "kind": "http", "endpoint": "web", "http": {"path": "/crm"}}
        ],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["shop", "crm"]}]
    })
}

fn integra(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_integra"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("INTEGRA_DB")
        .env_remove("INTEGRA_SECRETS_KEY")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn status_counts_each_flow_subscriber_and_status() {
    let f = Fixture::new();
    let counts = f.json(&["status"]);
    let count = |queue: &str, subscriber: Option<&str>, status: &str| {
        counts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["queue"] == queue
                    && c["flow"] == "ORDERS"
                    && c.get("subscriber").and_then(Value::as_str) == subscriber
                    && c["status"] == status
            })
            .map(|c| c["count"].as_u64().unwrap())
    };
    assert_eq!(count("deliveries", Some("shop"), "dead"), Some(3));
    assert_eq!(count("deliveries", Some("crm"), "sent"), Some(3));
    assert_eq!(count("messages", None, "undelivered"), Some(3));
    // The table names the same.
    let table = text(&f.run(&["status"]));
    assert!(table.contains("shop") && table.contains("dead"), "{table}");
    let flows = f.json(&["flows"]);
    assert_eq!(flows[0]["code"], "ORDERS");
    assert_eq!(flows[0]["deliveries"]["shop"]["dead"], 3);
    let health = f.json(&["subscribers"]);
    let shop = health
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["subscriber"] == "shop")
        .unwrap();
    assert_eq!(shop["dead"], 3, "{health}");
    assert_eq!(shop["consecutive_failures"], 3, "{health}");
    assert!(
        shop["last_error"].as_str().unwrap().contains("500"),
        "{health}"
    );
    let table = text(&f.run(&["subscribers"]));
    assert!(table.contains("failures in a row"), "{table}");
}

#[test]
fn list_pages_newest_first() {
    let f = Fixture::new();
    let first = f.json(&["list", "--limit", "2"]);
    let first = first.as_array().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["id"], f.ids[2].as_str());
    assert_eq!(first[1]["id"], f.ids[1].as_str());
    let before = first[1]["seq"].as_i64().unwrap().to_string();
    let rest = f.json(&["list", "--limit", "2", "--before", &before]);
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["id"], f.ids[0].as_str());
    let by_delivery = f.json(&["list", "--subscriber", "crm", "--delivery-status", "sent"]);
    assert_eq!(by_delivery.as_array().unwrap().len(), 3);
    let none = f.json(&["list", "--delivery-status", "new"]);
    assert_eq!(none.as_array().unwrap().len(), 0);
}

#[test]
fn dead_letters_are_retried_with_the_reason_in_their_history() {
    let f = Fixture::new();
    let dead = f.json(&["dead", "--subscriber", "shop"]);
    assert_eq!(dead.as_array().unwrap().len(), 3);
    let retried = f.json(&[
        "retry",
        "--subscriber",
        "shop",
        "--reason",
        "the shop is back",
    ]);
    assert_eq!(retried["retried"], 3);
    let dead = f.json(&["dead"]);
    assert_eq!(dead.as_array().unwrap().len(), 0, "{dead}");
    let shown = f.json(&["show", &f.ids[0]]);
    let history = shown["history"].as_array().unwrap();
    assert!(
        history.iter().any(|h| h["subscriber"] == "shop"
            && h["status"] == "new"
            && h["detail"]
                .as_str()
                .is_some_and(|d| d.contains("the shop is back"))),
        "{shown}"
    );
    let delivery = shown["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["subscriber"] == "shop")
        .unwrap();
    assert_eq!(delivery["status"], "new");
}

#[test]
fn show_tells_a_message_and_its_deliveries() {
    let f = Fixture::new();
    let out = f.run(&["show", &f.ids[1]]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&f.ids[1]), "{shown}");
    assert!(shown.contains("crm") && shown.contains("shop"), "{shown}");
    assert!(
        shown.contains("\"n\": 1"),
        "the payload, formatted: {shown}"
    );
}

#[test]
fn exit_codes_say_what_happened() {
    let f = Fixture::new();
    // Not found: 1, with the id named.
    let out = f.run(&["show", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("00000000-0000"));
    // A status that is none: 2, naming the valid ones.
    let out = f.run(&["list", "--status", "lost"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("'lost'") && said.contains("undelivered"),
        "{said}"
    );
    // A time that is not one: 2.
    let out = f.run(&["list", "--from", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Unknown options: clap's 2.
    let out = f.run(&["list", "--colour"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // No database: 2.
    let out = Command::new(env!("CARGO_BIN_EXE_integra"))
        .arg("status")
        .env_remove("INTEGRA_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A database server nobody answers on: 69, the password not shown.
    let out = integra(
        Path::new("postgres://integra:pa55word@127.0.0.1:1/erp?connect_timeout=2"),
        &["status"],
    );
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(!text(&out).contains("pa55word"), "{}", text(&out));
    // A retry needs a reason: clap's 2.
    let out = f.run(&["retry", "--flow", "ORDERS"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn delete_asks_first() {
    let f = Fixture::new();
    // Not a terminal and no --yes: nothing deleted.
    let out = f.run(&["delete", &f.ids[0]]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(f.json(&["list"]).as_array().unwrap().len(), 3);
    let deleted = f.json(&["delete", "--yes", &f.ids[0]]);
    assert_eq!(deleted["deleted"], 1);
    assert_eq!(f.json(&["list"]).as_array().unwrap().len(), 2);
    // One of two missing: the other deleted, exit 1 naming the missing one.
    let out = f.run(&["delete", "--yes", &f.ids[0], &f.ids[1]]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&f.ids[0]));
    assert_eq!(f.json(&["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn configuration_is_validated_loaded_and_exported_without_secrets() {
    let f = Fixture::new();
    let exported = f.run(&["config", "export"]);
    assert_eq!(exported.status.code(), Some(0), "{}", text(&exported));
    let exported = String::from_utf8_lossy(&exported.stdout).into_owned();
    assert!(!exported.contains("very-secret-token"), "{exported}");
    assert!(exported.contains("***"), "{exported}");

    let bad = f.dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({"flows": [{"code": "X", "direction": "outgoing", "subscribers": ["nobody"]}]})
            .to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_integra"))
        .args(["config", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nobody"),
        "{}",
        text(&out)
    );
    // Loading it changes nothing.
    let out = f.run(&["config", "load", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert_eq!(f.json(&["flows"])[0]["code"], "ORDERS");

    let good = f.dir.path().join("good.json");
    let mut config = config("http://127.0.0.1:9");
    config["flows"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "INVOICES", "direction": "outgoing", "subscribers": ["crm"]}));
    std::fs::write(&good, config.to_string()).unwrap();
    let loaded = f.json(&["config", "load", good.to_str().unwrap()]);
    assert_eq!(loaded["flows"], 2);
    let flows = f.json(&["flows"]);
    assert_eq!(flows.as_array().unwrap().len(), 2);
}

#[test]
fn check_finds_no_problems_in_a_sound_database() {
    let f = Fixture::new();
    let report = f.json(&["check"]);
    assert_eq!(report["ok"], true, "{report}");
    let cleaned = f.json(&["cleanup"]);
    assert!(cleaned["messages"].is_u64(), "{cleaned}");
}

#[test]
fn serve_delivers_until_interrupted() {
    let crm = Receiver::ok();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("integra.db");
    let file = dir.path().join("integra.json");
    let mut config = config(crm.url());
    config["flows"][0]["subscribers"] = json!(["crm"]);
    config["listeners"] = json!([{"code": "main", "address": "127.0.0.1:0",
        "routes": [{"prefix": "/in", "flow": "IN", "auth": {"type": "bearer", "token": "t"}}]}]);
    config["flows"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "IN", "direction": "incoming"}));
    std::fs::write(&file, config.to_string()).unwrap();
    {
        let engine = Engine::open(&db, EngineOptions::default()).unwrap();
        engine.load_config_json(&config.to_string()).unwrap();
        for i in 0..5 {
            engine
                .register(
                    "ORDERS",
                    &json!({"n": i}).to_string(),
                    &RegisterOptions::default(),
                )
                .unwrap();
        }
    }
    let child = Command::new(env!("CARGO_BIN_EXE_integra"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--config"])
        .arg(&file)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while crm.received().len() < 5 {
        assert!(
            Instant::now() < deadline,
            "serve delivered {} of 5",
            crm.received().len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The shell's own `kill`: no procps needed.
    let term = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("listener 'main' on 127.0.0.1:"), "{said}");
    assert!(said.contains("stopping"), "{said}");
}

#[test]
fn failed_incoming_messages_are_shown_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("integra.db");
    let engine = Engine::open(&db, EngineOptions::default()).unwrap();
    engine
        .load_config_json(
            &json!({"flows": [{"code": "IN", "direction": "incoming",
                               "retry": {"max_attempts": 1}}]})
            .to_string(),
        )
        .unwrap();
    let body = r#"{"number": "A-1"}"#;
    let accepted = engine
        .accept("IN", "order-1", body, &std::collections::BTreeMap::new())
        .unwrap();
    let id = accepted.id.to_string();
    let taken = engine.next_incoming(10, Duration::from_secs(60)).unwrap();
    engine
        .fail_incoming(taken[0].id.as_ref(), "the handler broke")
        .unwrap();
    let json = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = integra(&db, &all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let shown = json(&["show", &id]);
    assert_eq!(shown["status"], "dead", "{shown}");
    assert_eq!(shown["last_error"], "the handler broke");
    let out = integra(&db, &["show", &id]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("A-1"),
        "{}",
        text(&out)
    );
    let listed = json(&["incoming", "--flow", "IN", "--status", "dead"]);
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed[0]["message_id"], "order-1");
    let retried = json(&[
        "retry",
        "--incoming",
        "--flow",
        "IN",
        "--reason",
        "handler fixed",
    ]);
    assert_eq!(retried["retried"], 1);
    assert_eq!(json(&["show", &id])["status"], "new");
}

#[test]
fn a_sealed_database_needs_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("integra.db");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    let owner_only = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(&key_file, owner_only).unwrap();
    {
        let key = integra_core::SecretsKey::from_file(&key_file).unwrap();
        let engine = Engine::open(&db, EngineOptions::default().with_secrets_key(key)).unwrap();
        engine
            .load_config_json(&config("http://127.0.0.1:9").to_string())
            .unwrap();
    }
    let out = integra(&db, &["config", "export"]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let mut args = vec!["--secrets-key-file", key_file.to_str().unwrap()];
    args.extend(["config", "export"]);
    let out = integra(&db, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exported = String::from_utf8_lossy(&out.stdout);
    assert!(
        exported.contains("\"web\"") && !exported.contains("very-secret-token"),
        "{exported}"
    );
}

#[test]
fn the_same_commands_work_on_postgresql() {
    let f = Fixture::postgres();
    let counts = f.json(&["status"]);
    assert!(
        counts
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["queue"] == "deliveries"
                && c["subscriber"] == "shop"
                && c["status"] == "dead"
                && c["count"] == 3),
        "{counts}"
    );
    assert_eq!(
        f.json(&["list", "--limit", "2"]).as_array().unwrap().len(),
        2
    );
    let retried = f.json(&["retry", "--subscriber", "shop", "--reason", "back"]);
    assert_eq!(retried["retried"], 3);
    assert_eq!(f.json(&["dead"]).as_array().unwrap().len(), 0);
    assert_eq!(f.json(&["check"])["ok"], true);
    // The URL is shown without its password, here as anywhere.
    let out = integra(
        Path::new("postgres://postgres:hunter2@127.0.0.1:1/test?connect_timeout=1"),
        &["status"],
    );
    assert!(!text(&out).contains("hunter2"), "{}", text(&out));
}

#[test]
fn a_token_opens_the_operators_api_of_a_served_listener() {
    let made = Command::new(env!("CARGO_BIN_EXE_integra"))
        .args(["--json", "token", "--name", "duty", "--role", "viewer"])
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("itg_") && token.len() > 60, "{token}");
    assert!(!made["entry"].to_string().contains(&token));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("integra.db");
    let file = dir.path().join("integra.json");
    let mut config = config("http://127.0.0.1:9");
    config["listeners"] = json!([{"code": "ops", "address": "127.0.0.1:0",
                                  "admin": {"tokens": [made["entry"].clone()]}}]);
    std::fs::write(&file, config.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_integra"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--config"])
        .arg(&file)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The listener's address, from what serve says.
    let mut said = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let address = loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut said, &mut line).unwrap();
        assert!(n > 0, "serve ended before naming its listener");
        if let Some(address) = line.trim().strip_prefix("listener 'ops' on ") {
            break address.to_owned();
        }
    };
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("http://{address}/api/v1/counts");
    let with_token = agent
        .get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(with_token.status().as_u16(), 200);
    let without = agent.get(&url).call().unwrap();
    assert_eq!(without.status().as_u16(), 401);
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
