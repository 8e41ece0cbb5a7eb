use std::io::Write;
use std::time::Duration;

use integra::{DeliveryStatus, MessageStatus, RegisterOptions};
use serde_json::{Value, json};

use crate::support::child;
use crate::support::tls::{Pki, TlsServer};
use crate::support::{Receiver, Reply, T0, TestEngine, retry};

fn one_subscriber(endpoint: Value, http: Value) -> Value {
    json!({
        "endpoints": [endpoint],
        "subscribers": [{"code": "s", "kind": "http", "endpoint": endpoint["code"], "retry": retry(5), "http": http}],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["s"]}]
    })
}

/// Registers one message, dispatches once, and returns it with its delivery.
fn send_one(t: &TestEngine) -> (String, integra::DeliveryReport) {
    let id = t
        .engine
        .register("ORDERS", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap();
    t.dispatch();
    let d = t.delivery(&id, "s");
    (id.into(), d)
}

#[test]
fn each_auth_method_sends_its_header() {
    let rx = Receiver::ok();
    let endpoint =
        |code: &str, auth: Value| json!({"code": code, "base_url": rx.url(), "auth": auth});
    let config = json!({
        "endpoints": [
            endpoint("basic", json!({"type": "basic", "username": "обмен", "password": "s3cret:x"})),
            endpoint("bearer", json!({"type": "bearer", "token": "tok-123"})),
            endpoint("key", json!({"type": "api_key", "header": "X-API-Key", "value": "k-456"})),
        ],
        "subscribers": [
            {"code": "basic", "kind": "http", "endpoint": "basic", "http": {"path": "/basic"}},
            {"code": "bearer", "kind": "http", "endpoint": "bearer", "http": {"path": "/bearer"}},
            {"code": "key", "kind": "http", "endpoint": "key", "http": {"path": "/key"}},
        ],
        "flows": [{"code": "ORDERS", "direction": "outgoing", "subscribers": ["basic", "bearer", "key"]}]
    });
    let t = TestEngine::new(&config);
    t.engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 3);
    let got = rx.received();
    let at = |path: &str| got.iter().find(|r| r.url == path).unwrap().clone();
    // base64("обмен:s3cret:x")
    assert_eq!(
        at("/basic").header("Authorization"),
        Some("Basic 0L7QsdC80LXQvTpzM2NyZXQ6eA==")
    );
    assert_eq!(
        at("/bearer").header("Authorization"),
        Some("Bearer tok-123")
    );
    assert_eq!(at("/key").header("X-API-Key"), Some("k-456"));
    assert_eq!(at("/key").header("Authorization"), None);
}

#[test]
fn ids_travel_in_the_path_or_query_with_the_configured_method_and_headers() {
    let rx = Receiver::ok();
    let config = json!({
        "endpoints": [{"code": "e", "base_url": format!("{}/api/", rx.url())}],
        "subscribers": [
            {"code": "p", "kind": "http", "endpoint": "e",
             "http": {"method": "PUT", "path": "/in/{flow}/{message_id}", "ids_in": "path",
                      "headers": {"X-Tenant": "42"}}},
            {"code": "q", "kind": "http", "endpoint": "e",
             "http": {"method": "PATCH", "path": "/q", "ids_in": "query"}},
        ],
        "flows": [{"code": "Заказы", "direction": "outgoing", "subscribers": ["p", "q"]}]
    });
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register("Заказы", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 2);
    let got = rx.received();
    let p = got.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(
        p.url,
        format!("/api/in/%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%D1%8B/{id}")
    );
    assert_eq!(p.header("X-Tenant"), Some("42"));
    assert_eq!(p.header("X-Message-ID"), None);
    let q = got.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(
        q.url,
        format!("/api/q?flow=%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%D1%8B&message_id={id}")
    );
}

#[test]
fn retry_after_is_honoured() {
    let rx = Receiver::start(|_| Reply::status(429).header("Retry-After", "120"));
    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": rx.url()}),
        json!({}),
    ));
    let (_, d) = send_one(&t);
    assert_eq!(d.status, DeliveryStatus::SendError);
    assert_eq!(
        d.next_attempt_at.as_millis(),
        T0 + 120_000,
        "Retry-After beats the 1 s backoff"
    );
    assert!(d.last_error.unwrap().contains("answered 429"));
}

#[test]
fn client_errors_keep_the_status_and_an_excerpt_of_the_body() {
    let long = format!("no such order type: {}", "x".repeat(1000));
    let rx = Receiver::start(move |_| Reply::status(422).body(&long));
    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": rx.url()}),
        json!({"path": "/orders"}),
    ));
    let (id, d) = send_one(&t);
    assert_eq!(
        (d.status, d.attempts),
        (DeliveryStatus::SendError, 1),
        "retried per the policy"
    );
    let error = d.last_error.unwrap();
    assert!(
        error.starts_with(&format!(
            "{}/orders answered 422: no such order type: xxx",
            rx.url()
        )),
        "{error}"
    );
    assert!(
        error.len() < 400,
        "only an excerpt is kept: {} bytes",
        error.len()
    );
    assert_eq!(t.status(&id), MessageStatus::Dispatched);
}

#[test]
fn gzip_responses_are_decoded() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all("склад переполнен".as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let rx = Receiver::start(move |_| {
        Reply::status(503)
            .bytes(body.clone())
            .header("Content-Encoding", "gzip")
    });
    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": rx.url()}),
        json!({}),
    ));
    let (_, d) = send_one(&t);
    let error = d.last_error.unwrap();
    assert!(error.ends_with("answered 503: склад переполнен"), "{error}");
    assert_eq!(rx.received()[0].header("Accept-Encoding"), Some("gzip"));
}

#[test]
fn redirects_are_failures_that_name_the_new_location() {
    let rx =
        Receiver::start(|_| Reply::status(302).header("Location", "https://new.example.com/in"));
    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": rx.url()}),
        json!({}),
    ));
    let (_, d) = send_one(&t);
    let error = d.last_error.unwrap();
    assert!(
        error.contains(
            "answered 302, redirecting to https://new.example.com/in; redirects are not followed"
        ),
        "{error}"
    );
    assert_eq!(rx.received().len(), 1);
}

#[test]
fn timeouts_and_refused_connections_are_retried() {
    let rx = Receiver::start(|_| Reply::ok().delay(Duration::from_secs(2)));
    let endpoint = json!({"code": "e", "base_url": rx.url(), "read_timeout": "300ms"});
    let t = TestEngine::new(&one_subscriber(endpoint, json!({})));
    let (_, d) = send_one(&t);
    assert_eq!(d.status, DeliveryStatus::SendError);
    assert!(d.last_error.unwrap().to_lowercase().contains("timeout"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoint = json!({"code": "e", "base_url": format!("http://{closed}")});
    let t = TestEngine::new(&one_subscriber(endpoint, json!({})));
    let (_, d) = send_one(&t);
    assert_eq!(d.status, DeliveryStatus::SendError);
    let error = d.last_error.unwrap();
    assert!(error.starts_with(&format!("http://{closed}")), "{error}");
}

#[test]
fn tls_is_verified_by_default_and_can_trust_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let server = TlsServer::start(&pki, false);

    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": server.url}),
        json!({}),
    ));
    let (_, d) = send_one(&t);
    assert_eq!(
        d.status,
        DeliveryStatus::SendError,
        "an unknown CA is refused"
    );
    assert!(d.last_error.unwrap().contains("UnknownIssuer"));

    let trusted = json!({"code": "e", "base_url": server.url, "tls": {"ca_file": pki.ca_file}});
    let t = TestEngine::new(&one_subscriber(trusted, json!({})));
    assert_eq!(send_one(&t).1.status, DeliveryStatus::Sent);

    let unverified = json!({"code": "e", "base_url": server.url, "tls": {"verify": false}});
    let t = TestEngine::new(&one_subscriber(unverified, json!({})));
    assert_eq!(send_one(&t).1.status, DeliveryStatus::Sent);
    assert_eq!(server.served.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn a_client_certificate_gets_through_where_none_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::create(dir.path());
    let server = TlsServer::start(&pki, true);

    let without = json!({"code": "e", "base_url": server.url, "tls": {"ca_file": pki.ca_file}});
    let t = TestEngine::new(&one_subscriber(without, json!({})));
    assert_eq!(send_one(&t).1.status, DeliveryStatus::SendError);

    let with = json!({"code": "e", "base_url": server.url, "tls": {"ca_file": pki.ca_file},
                      "auth": {"type": "client_certificate", "certificate": pki.client_cert_file,
                               "key": pki.client_key_file}});
    let t = TestEngine::new(&one_subscriber(with, json!({})));
    assert_eq!(send_one(&t).1.status, DeliveryStatus::Sent);
    assert_eq!(server.served.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(
        !server.handshake_errors.lock().unwrap().is_empty(),
        "the first client was refused"
    );
}

/// Issue 22: TLS trusted only the built-in web roots, and `ca_file` replaced them; the
/// system's store was ignored, so a CA an administrator added there (the Russian Trusted Root
/// CA) was not trusted. The engine dispatches in a child process whose system store is the
/// test's (`SSL_CERT_FILE`): a server of the CA in that store is trusted, with a `ca_file`
/// too, which adds its CA; with `system_roots` off, only the `ca_file`'s CA is.
#[test]
fn the_system_store_is_trusted_and_a_ca_file_adds_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (system_dir, file_dir) = (dir.path().join("system"), dir.path().join("file"));
    std::fs::create_dir_all(&system_dir).unwrap();
    std::fs::create_dir_all(&file_dir).unwrap();
    let (in_store, in_file) = (Pki::create(&system_dir), Pki::create(&file_dir));
    let store_server = TlsServer::start(&in_store, false);
    let file_server = TlsServer::start(&in_file, false);
    let endpoints = [
        ("store", &store_server, json!({})),
        (
            "store_and_file",
            &store_server,
            json!({"ca_file": in_file.ca_file}),
        ),
        ("file", &file_server, json!({"ca_file": in_file.ca_file})),
        (
            "file_only",
            &store_server,
            json!({"ca_file": in_file.ca_file, "system_roots": false}),
        ),
        (
            "file_only_own",
            &file_server,
            json!({"ca_file": in_file.ca_file, "system_roots": false}),
        ),
    ];
    let config = json!({
        "endpoints": endpoints.iter().map(|(code, server, tls)| {
            json!({"code": code, "base_url": server.url, "tls": tls})
        }).collect::<Vec<_>>(),
        "subscribers": endpoints.iter().map(|(code, _, _)| {
            json!({"code": code, "kind": "http", "endpoint": code, "retry": retry(5)})
        }).collect::<Vec<_>>(),
        "flows": [{"code": "ORDERS", "direction": "outgoing",
                   "subscribers": endpoints.iter().map(|(code, _, _)| *code).collect::<Vec<_>>()}]
    });
    let t = TestEngine::new(&config);
    let id = t
        .engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    child::dispatch_with_certificate_store(&t.database.clone(), &in_store.ca_file);
    for (code, expected) in [
        ("store", DeliveryStatus::Sent),
        ("store_and_file", DeliveryStatus::Sent),
        ("file", DeliveryStatus::Sent),
        ("file_only", DeliveryStatus::SendError),
        ("file_only_own", DeliveryStatus::Sent),
    ] {
        let d = t.delivery(&id, code);
        assert_eq!(d.status, expected, "{code}: {:?}", d.last_error);
    }
    let refused = t.delivery(&id, "file_only").last_error.unwrap();
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    // This process's store does not hold the CA: the child trusted it from its store.
    let t = TestEngine::new(&one_subscriber(
        json!({"code": "e", "base_url": store_server.url}),
        json!({}),
    ));
    assert_eq!(send_one(&t).1.status, DeliveryStatus::SendError);
}

/// Issue 22: values holding placeholders (a flow code, a message id given by the caller)
/// are sent as written in a path, not expanded again.
#[test]
fn a_path_is_rendered_once() {
    let rx = Receiver::ok();
    let endpoint = json!({"code": "e", "base_url": rx.url()});
    let t = TestEngine::new(&json!({
        "endpoints": [endpoint],
        "subscribers": [{"code": "s", "kind": "http", "endpoint": "e",
                         "http": {"path": "/in/{flow}/{message_id}", "ids_in": "path"}}],
        "flows": [{"code": "{message_id}", "direction": "outgoing", "subscribers": ["s"]}]
    }));
    let id = t
        .engine
        .register("{message_id}", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(t.dispatch().sent, 1);
    let got = rx.received();
    assert_eq!(got[0].url, format!("/in/%7Bmessage_id%7D/{id}"));
}
