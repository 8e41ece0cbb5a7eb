use integra::config::{Endpoint, Flow, HttpSettings, Subscriber};
use integra::{Error, RegisterOptions};
use serde_json::json;

use crate::support::{TestEngine, http_config};

#[test]
fn invalid_configuration_names_object_and_field_and_changes_nothing() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let before = t.engine.config().unwrap();
    let bad = json!({
        "endpoints": [{"code": "shop", "base_url": "ftp://shop"}],
        "subscribers": [{"code": "a", "kind": "http", "endpoint": "nowhere"}],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["a", "b"]}]
    });
    let err = t.engine.load_config_json(&bad.to_string()).unwrap_err();
    let text = err.to_string();
    assert_mentions(
        &text,
        &[
            "endpoint 'shop', field 'base_url': 'ftp://shop' must start with http:// or https://",
            "subscriber 'a', field 'endpoint': no endpoint has code 'nowhere'",
            "flow 'ORDERS', field 'subscribers': no subscriber has code 'b'",
        ],
    );
    assert!(matches!(err, Error::Config(_)));
    assert_eq!(t.engine.config().unwrap(), before);

    let err = t
        .engine
        .load_config_json(r#"{"flows": [{"code": 7}]}"#)
        .unwrap_err();
    assert!(err.to_string().contains("field 'flows[0].code'"), "{err}");
}

#[test]
fn objects_are_changed_one_by_one_and_references_are_checked() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let e = &t.engine;

    let orphan = Subscriber::http("b", "missing", HttpSettings::default());
    let err = e.put_subscriber(orphan).unwrap_err();
    assert!(
        err.to_string()
            .contains("subscriber 'b', field 'endpoint': no endpoint has code 'missing'"),
        "{err}"
    );

    e.put_endpoint(Endpoint::new("wms", "https://wms.example.com"))
        .unwrap();
    e.put_subscriber(Subscriber::http("b", "wms", HttpSettings::default()))
        .unwrap();
    let mut flow = Flow::outgoing("ORDERS", &["a", "b"]);
    flow.name = "Orders to shop and WMS".into();
    e.put_flow(flow).unwrap();
    let c = e.config().unwrap();
    assert_eq!(c.flow("ORDERS").unwrap().subscribers, ["a", "b"]);
    assert_eq!(
        c.flow("ORDERS").unwrap().display_name(),
        "Orders to shop and WMS"
    );

    let err = e.remove_endpoint("wms").unwrap_err();
    assert!(
        err.to_string().contains("no endpoint has code 'wms'"),
        "{err}"
    );
    let err = e.remove_subscriber("b").unwrap_err();
    assert!(
        err.to_string().contains("no subscriber has code 'b'"),
        "{err}"
    );
    assert!(e.remove_flow("ORDERS").unwrap());
    assert!(e.remove_subscriber("b").unwrap());
    assert!(e.remove_endpoint("wms").unwrap());
    assert!(!e.remove_endpoint("wms").unwrap());
}

#[test]
fn every_engine_on_the_file_sees_a_change_at_once() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let other = t.reopen();
    assert_eq!(other.config().unwrap(), t.engine.config().unwrap());
    t.engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();

    let mut flow = other.config().unwrap().flow("ORDERS").unwrap().clone();
    flow.active = false;
    other.put_flow(flow).unwrap();

    let err = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, Error::FlowInactive { ref flow } if flow == "ORDERS"),
        "{err}"
    );
}

#[test]
fn configuration_loads_from_a_file() {
    let t = TestEngine::new(&json!({}));
    let path = t.dir.path().join("integra.json");
    std::fs::write(&path, http_config("http://127.0.0.1:1", &["a"]).to_string()).unwrap();
    let c = integra::Config::from_file(&path).unwrap();
    t.engine.load_config(&c).unwrap();
    assert_eq!(t.engine.config().unwrap(), c);
    let err = integra::Config::from_file(t.dir.path().join("missing.json")).unwrap_err();
    assert!(
        err.to_string().contains("missing.json': cannot be read"),
        "{err}"
    );
}

#[test]
fn an_endpoint_must_suit_the_kind_of_each_subscriber_using_it() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let bad = json!({
        "endpoints": [
            {"code": "web", "base_url": "https://shop.example.com"},
            {"code": "rabbit", "base_url": "amqp://127.0.0.1:5672",
             "auth": {"type": "bearer", "token": "t"}},
            {"code": "bus", "base_url": "mqtt://127.0.0.1:1883",
             "auth": {"type": "scram", "mechanism": "sha256", "username": "u", "password": "p"}},
            {"code": "log", "base_url": "kafka://127.0.0.1:9092", "proxy": "http://proxy:3128"}
        ],
        "subscribers": [
            {"code": "to_kafka", "kind": "kafka", "endpoint": "web"},
            {"code": "to_rabbit", "kind": "amqp", "endpoint": "rabbit"},
            {"code": "to_mqtt", "kind": "mqtt", "endpoint": "bus"},
            {"code": "to_log", "kind": "kafka", "endpoint": "log"}
        ]
    });
    let text = t
        .engine
        .load_config_json(&bad.to_string())
        .unwrap_err()
        .to_string();
    assert_mentions(
        &text,
        &[
            "subscriber 'to_kafka', field 'endpoint': endpoint 'web': a 'kafka' subscriber needs kafka:// or kafkas:// addresses",
            "subscriber 'to_rabbit', field 'endpoint': endpoint 'rabbit': bearer and API-key authentication are HTTP's",
            "subscriber 'to_mqtt', field 'endpoint': endpoint 'bus': SCRAM authentication is Kafka's, not 'mqtt'",
            "subscriber 'to_log', field 'endpoint': endpoint 'log': a 'kafka' subscriber connects directly; proxies are for HTTP kinds",
        ],
    );
}

/// Issue 22: addresses were parsed by hand, so `mqtt://[::1` or a port past 65535 was
/// accepted and every delivery failed. Each is parsed as a URL when loaded, and refused
/// naming the field.
#[test]
fn addresses_are_parsed_when_loaded() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let endpoint = |code: &str, url: &str| json!({"code": code, "base_url": url});
    let bad = json!({"endpoints": [
        endpoint("open", "mqtt://[::1"),
        endpoint("port", "mqtt://broker:99999"),
        endpoint("path", "mqtt://broker/topic"),
        endpoint("brokers", "kafka://k1:9092,k2:x"),
        endpoint("vhost", "amqp://rabbit/a/b"),
        endpoint("query", "amqp://rabbit/?heartbeat=often"),
        endpoint("base", "https://shop/api#top"),
        endpoint("good", "mqtt://[::1]"),
    ]});
    let err = t.engine.load_config_json(&bad.to_string()).unwrap_err();
    let problems = match &err {
        Error::Config(e) => e.problems.clone(),
        other => panic!("{other}"),
    };
    let named: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.object.as_str(), p.field.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            ("endpoint 'open'", "base_url"),
            ("endpoint 'port'", "base_url"),
            ("endpoint 'path'", "base_url"),
            ("endpoint 'brokers'", "base_url"),
            ("endpoint 'vhost'", "base_url"),
            ("endpoint 'query'", "base_url"),
            ("endpoint 'base'", "base_url"),
        ],
        "{err}"
    );
    let text = err.to_string();
    assert_mentions(
        &text,
        &[
            "'mqtt://[::1' is not a valid URL: invalid IPv6 address",
            "'mqtt://broker:99999' is not a valid URL: invalid port number",
            "'kafka://k1:9092,k2:x': 'kafka://k2:x' is not a valid URL: invalid port number",
            "'often' is not a value of query parameter 'heartbeat'",
        ],
    );
}

/// Issue 22: a header value no request can carry (the README's own placeholder `…`) was
/// accepted, and every delivery failed with "authorization header is not a string". It is
/// refused when loaded, naming the field, without quoting a secret.
#[test]
fn header_values_http_cannot_carry_are_refused_when_loaded() {
    let t = TestEngine::new(&http_config("http://127.0.0.1:1", &["a"]));
    let bad = json!({
        "endpoints": [
            {"code": "bearer", "base_url": "https://shop", "auth": {"type": "bearer", "token": "…"}},
            {"code": "key", "base_url": "https://shop",
             "auth": {"type": "api_key", "header": "X-Key", "value": "ключ-s3cret"}},
            {"code": "empty", "base_url": "https://shop", "auth": {"type": "bearer", "token": ""}},
            {"code": "basic", "base_url": "https://shop",
             "auth": {"type": "basic", "username": "обмен", "password": "пароль"}}
        ],
        "subscribers": [{"code": "s", "kind": "http", "endpoint": "basic",
                         "http": {"headers": {"X-Note": "тест", "X-Padded": "v ", "X-Fine": "a\tb"}}}],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    });
    let text = t
        .engine
        .load_config_json(&bad.to_string())
        .unwrap_err()
        .to_string();
    assert_mentions(
        &text,
        &[
            "endpoint 'bearer', field 'auth.token': is sent in an HTTP header, and character 1 is a character outside ASCII",
            "endpoint 'key', field 'auth.value': is sent in an HTTP header, and character 1 is a character outside ASCII",
            "endpoint 'empty', field 'auth.token': is sent in an HTTP header, and must not be empty",
            "subscriber 's', field 'http.headers': the value of 'X-Note': character 1 is a character outside ASCII",
            "subscriber 's', field 'http.headers': the value of 'X-Padded': begins or ends with a space",
        ],
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        !text.contains("basic"),
        "basic credentials are encoded: {text}"
    );
    assert!(!text.contains("X-Fine"), "{text}");
}

/// Fails unless `text` holds each of `expected`.
fn assert_mentions(text: &str, expected: &[&str]) {
    for expected in expected {
        assert!(text.contains(expected), "missing «{expected}» in «{text}»");
    }
}
