//! The operators' API, driven by a real HTTP client: its tokens and roles, each route it
//! documents in its OpenAPI document (and only those), its answers checked against that
//! document's schemas with Integra's own validator, and what an operator's re-drive and
//! delete leave in the queues and their history.

use std::collections::BTreeMap;
use std::time::Duration;

use integra::RegisterOptions;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::http::{agent, get, post};
use crate::support::{Receiver, Reply, TestEngine, http_config};

const OPERATOR: &str = "itg_operator-token-for-the-tests";
const VIEWER: &str = "itg_viewer-token-for-the-tests";

fn sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Subscriber `shop` answers 500 (three attempts), `crm` 200; three messages on `ORDERS`,
/// dispatched until `shop`'s deliveries are dead; an incoming message on `IN` failed once;
/// a listener with the operators' API.
struct Admin {
    t: TestEngine,
    base: String,
    ids: Vec<String>,
    incoming: String,
    _rx: Receiver,
    _receiver: integra::inbound::receiver::Receiver,
}

impl Admin {
    fn new() -> Admin {
        let rx = Receiver::start(|r| {
            if r.url.starts_with("/shop") {
                Reply::status(500).body("out of order")
            } else {
                Reply::ok()
            }
        });
        let mut config = http_config(rx.url(), &["shop", "crm"]);
        config["flows"][0]["retry"] = json!({"max_attempts": 1});
        config["subscribers"][0]["retry"] = json!({"max_attempts": 1});
        config["flows"]
            .as_array_mut()
            .unwrap()
            .push(json!({"code": "IN", "direction": "incoming"}));
        config["listeners"] = json!([{
            "code": "ops", "address": "127.0.0.1:0",
            "admin": {"tokens": [
                {"name": "duty", "role": "operator", "sha256": sha256(OPERATOR)},
                {"name": "grafana", "role": "viewer", "sha256": sha256(VIEWER).to_uppercase()}
            ]}
        }]);
        let t = TestEngine::new(&config);
        let ids = (0..3)
            .map(|i| {
                t.engine
                    .register(
                        "ORDERS",
                        &json!({"n": i}).to_string(),
                        &RegisterOptions::default(),
                    )
                    .unwrap()
                    .to_string()
            })
            .collect();
        t.dispatch();
        let accepted = t
            .engine
            .accept("IN", "m-1", r#"{"x": 1}"#, &BTreeMap::new())
            .unwrap();
        let taken = t.engine.next_incoming(1, Duration::from_secs(60)).unwrap();
        t.engine
            .fail_incoming(taken[0].id.as_ref(), "the handler broke")
            .unwrap();
        let receiver = t.engine.start_receiver("ops").unwrap();
        Admin {
            base: format!("http://{}", receiver.local_addr()),
            t,
            ids,
            incoming: accepted.id.to_string(),
            _rx: rx,
            _receiver: receiver,
        }
    }

    fn get(&self, path: &str, token: &str) -> (u16, String) {
        get(
            &format!("{}{path}", self.base),
            &[("Authorization", &format!("Bearer {token}"))],
        )
    }

    fn post(&self, path: &str, token: &str, body: &Value) -> (u16, String) {
        let auth = format!("Bearer {token}");
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let (status, text, _) = post(&format!("{}{path}", self.base), &headers, &body.to_string());
        (status, text)
    }

    fn delete(&self, path: &str, token: &str) -> (u16, String) {
        let mut response = agent()
            .delete(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), text)
    }

    /// `text` checked against component `component` of the API's own OpenAPI document.
    fn conforms(&self, component: &str, text: &str) {
        let (status, document) = get(&format!("{}/api/v1/openapi.json", self.base), &[]);
        assert_eq!(status, 200);
        let violations = self.t.engine.validate(&document, component, text).unwrap();
        assert!(violations.is_empty(), "{component}: {violations:?}\n{text}");
    }
}

#[test]
fn tokens_and_roles_decide_who_may_do_what() {
    let a = Admin::new();
    let (status, text, headers) = post(&format!("{}/api/v1/counts", a.base), &[], "");
    assert_eq!(status, 401, "{text}");
    assert!(headers.get("www-authenticate").is_some());
    let (status, _) = get(&format!("{}/api/v1/counts", a.base), &[]);
    assert_eq!(status, 401);
    assert_eq!(a.get("/api/v1/counts", "itg_guessed").0, 403);
    // The viewer reads (its hash was written in capitals), but changes nothing.
    assert_eq!(a.get("/api/v1/counts", VIEWER).0, 200);
    let (status, text) = a.post("/api/v1/messages/retry", VIEWER, &json!({"reason": "try"}));
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("grafana") && text.contains("operator"),
        "{text}"
    );
    assert_eq!(
        a.delete(&format!("/api/v1/messages/{}", a.ids[0]), VIEWER)
            .0,
        403
    );
    assert_eq!(
        a.t.engine
            .list_messages(&integra::ListFilter::default())
            .unwrap()
            .len(),
        3
    );
    // The document needs no token: it holds no data.
    let (status, document) = get(&format!("{}/api/v1/openapi.json", a.base), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&document).unwrap()["openapi"],
        "3.0.3"
    );
}

#[test]
fn every_documented_route_answers_and_nothing_else_does() {
    let a = Admin::new();
    let (_, document) = get(&format!("{}/api/v1/openapi.json", a.base), &[]);
    let document: Value = serde_json::from_str(&document).unwrap();
    let mut routes = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let path = path
            .replace("/messages/{id}", &format!("/messages/{}", a.ids[0]))
            .replace("/incoming/{id}", &format!("/incoming/{}", a.incoming));
        for method in ["get", "post", "delete", "put", "patch"] {
            let documented = item.get(method).is_some();
            let url = format!("{}{path}", a.base);
            let request = ureq::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&url)
                .header("Authorization", format!("Bearer {VIEWER}"))
                .body(())
                .unwrap();
            let mut response = agent().run(request).unwrap();
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap();
            if documented {
                routes += 1;
                // A viewer's token: reads answer, changes are refused for the role, not
                // for want of a route.
                assert!(
                    [200, 403].contains(&status),
                    "{method} {path}: {status} {text}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is not documented: {text}");
            }
        }
    }
    assert_eq!(routes, 12);
    for undocumented in [
        "/api/v1",
        "/api/v1/queues",
        "/api/v1/messages/x/y",
        "/api/v1/incoming/x/y",
    ] {
        assert_eq!(a.get(undocumented, OPERATOR).0, 404, "{undocumented}");
    }
}

#[test]
fn answers_match_the_documented_schemas() {
    let a = Admin::new();
    let (status, counts) = a.get("/api/v1/counts", VIEWER);
    assert_eq!(status, 200);
    a.conforms("FlowCounts", &counts);
    let counts: Value = serde_json::from_str(&counts).unwrap();
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
    let (status, health) = a.get("/api/v1/subscribers", VIEWER);
    assert_eq!(status, 200);
    a.conforms("SubscriberHealthList", &health);
    assert!(health.contains("\"consecutive_failures\":3"), "{health}");

    let (status, page) = a.get(
        "/api/v1/messages?subscriber=shop&delivery_status=dead&limit=2",
        VIEWER,
    );
    assert_eq!(status, 200, "{page}");
    a.conforms("MessageList", &page);
    let page: Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["id"], a.ids[2].as_str());
    let before = page[1]["seq"].as_i64().unwrap();
    let (_, rest) = a.get(&format!("/api/v1/messages?before_seq={before}"), VIEWER);
    let rest: Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(rest[0]["id"], a.ids[0].as_str());

    let (status, message) = a.get(&format!("/api/v1/messages/{}", a.ids[1]), VIEWER);
    assert_eq!(status, 200);
    a.conforms("MessageReport", &message);
    let (status, listed) = a.get("/api/v1/incoming?flow=IN&status=error", VIEWER);
    assert_eq!(status, 200, "{listed}");
    a.conforms("IncomingList", &listed);
    assert!(
        listed.contains(&a.incoming) && !listed.contains("\"payload\""),
        "{listed}"
    );
    let (status, incoming) = a.get(&format!("/api/v1/incoming/{}", a.incoming), VIEWER);
    assert_eq!(status, 200);
    a.conforms("IncomingReport", &incoming);
    assert!(incoming.contains("the handler broke"), "{incoming}");

    // What is wrong is said, as the documented error.
    for (path, status, said) in [
        ("/api/v1/messages?status=lost", 400, "lost"),
        (
            "/api/v1/messages?limit=many",
            400,
            "limit must be a whole number",
        ),
        ("/api/v1/messages?limit=1&limit=2", 400, "given twice"),
        ("/api/v1/messages?colour=red", 400, "colour"),
        (
            "/api/v1/messages/00000000-0000-0000-0000-000000000000",
            404,
            "00000000",
        ),
    ] {
        let (got, text) = a.get(path, VIEWER);
        assert_eq!(got, status, "{path}: {text}");
        assert!(text.contains(said), "{path}: {text}");
        a.conforms("Error", &text);
    }
}

#[test]
fn an_operator_re_drives_and_deletes_and_the_history_says_who() {
    let a = Admin::new();
    let (status, text) = a.post(
        "/api/v1/messages/retry",
        OPERATOR,
        &json!({"filter": {"subscriber": "shop"}, "reason": "the shop is back"}),
    );
    assert_eq!(status, 200, "{text}");
    a.conforms("Retried", &text);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["retried"], 3);
    let history = a.t.engine.message_status(&a.ids[0]).unwrap().history;
    assert!(
        history.iter().any(|h| h
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("the shop is back (by duty)"))),
        "{history:?}"
    );
    let (status, text) = a.post(
        "/api/v1/incoming/retry",
        OPERATOR,
        &json!({"filter": {"flow": "IN"}, "reason": "handler fixed"}),
    );
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["retried"], 1);
    // A re-drive needs its reason, and a body that is one.
    let (status, text) = a.post("/api/v1/messages/retry", OPERATOR, &json!({"filter": {}}));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("reason"), "{text}");
    let (status, text) = a.post("/api/v1/messages/retry", OPERATOR, &json!({"reason": " "}));
    assert_eq!(status, 400, "{text}");

    let (status, text) = a.delete(&format!("/api/v1/messages/{}", a.ids[0]), OPERATOR);
    assert_eq!(status, 200, "{text}");
    a.conforms("Deleted", &text);
    assert_eq!(
        a.delete(&format!("/api/v1/messages/{}", a.ids[0]), OPERATOR)
            .0,
        404
    );
    assert_eq!(
        a.t.engine
            .list_messages(&integra::ListFilter::default())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn the_configuration_refuses_an_admin_section_without_sound_tokens() {
    let config = json!({"listeners": [{"code": "ops", "address": "127.0.0.1:0",
        "admin": {"tokens": [{"name": "duty", "role": "operator", "sha256": "not-a-hash"},
                             {"name": "duty", "role": "viewer", "sha256": sha256("x")},
                             {"name": "root", "role": "admin", "sha256": sha256("y")}]}}]});
    let err = integra::Config::from_json(&config.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown variant `admin`"), "{err}");
    let config = json!({"listeners": [{"code": "ops", "address": "127.0.0.1:0",
        "admin": {"tokens": [{"name": "duty", "role": "operator", "sha256": "not-a-hash"},
                             {"name": "duty", "role": "viewer", "sha256": sha256("x")}]}}]});
    let err = integra::Config::from_json(&config.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("64 hexadecimal digits") && err.contains("used twice"),
        "{err}"
    );
    let config = json!({"listeners": [{"code": "ops", "address": "127.0.0.1:0",
        "admin": {"tokens": []}}]});
    let err = integra::Config::from_json(&config.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least one token"), "{err}");
}

#[cfg(feature = "admin-docs")]
#[test]
fn the_documentation_page_is_served_offline() {
    let a = Admin::new();
    let (status, page) = get(&format!("{}/docs/", a.base), &[]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("swagger-ui"), "{page}");
    // Nothing is loaded from elsewhere: every src and href of the page is its own.
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in page.match_indices(attribute) {
            let value = &page[at + attribute.len()..];
            let value = &value[..value.find('"').unwrap()];
            assert!(
                !value.contains("//"),
                "the page loads {value} from elsewhere"
            );
        }
    }
    let (status, script) = get(&format!("{}/docs/swagger-initializer.js", a.base), &[]);
    assert_eq!(status, 200);
    assert!(script.contains("/api/v1/openapi.json"), "{script}");
    assert!(script.contains("validatorUrl"), "{script}");
    let mut moved = agent()
        .get(&format!("{}/docs", a.base))
        .config()
        .max_redirects(0)
        .build()
        .call()
        .unwrap();
    assert_eq!(moved.status().as_u16(), 301);
    assert_eq!(moved.headers()["location"], "/docs/");
    let _ = moved.body_mut().read_to_string();
    let csp = agent().get(&format!("{}/docs/", a.base)).call().unwrap();
    let policy = csp.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
}

#[test]
fn the_configuration_is_shown_without_secrets_and_checked_without_loading() {
    let a = Admin::new();
    let (status, config) = a.get("/api/v1/config", VIEWER);
    assert_eq!(status, 200, "{config}");
    a.conforms("Configuration", &config);
    assert!(
        config.contains("\"ORDERS\"") && config.contains(&sha256(OPERATOR)),
        "{config}"
    );
    let broken =
        json!({"flows": [{"code": "X", "direction": "outgoing", "subscribers": ["nobody"]}]});
    let (status, verdict) = a.post("/api/v1/config/validate", VIEWER, &broken);
    assert_eq!(status, 200, "{verdict}");
    a.conforms("Validation", &verdict);
    let verdict: Value = serde_json::from_str(&verdict).unwrap();
    assert_eq!(verdict["valid"], false);
    assert!(
        verdict["problems"].to_string().contains("nobody"),
        "{verdict}"
    );
    let (_, verdict) = a.post("/api/v1/config/validate", VIEWER, &json!({"flows": []}));
    assert_eq!(
        serde_json::from_str::<Value>(&verdict).unwrap()["valid"],
        true
    );
    // Nothing was loaded.
    assert_eq!(a.t.engine.config().unwrap().flows.len(), 2);
}
