//! Quick start: an Integra engine on a fresh database delivers 1,000 orders to two HTTP
//! subscribers (a web shop and a WMS, played here by one local HTTP server: Integra's test
//! server, `integra-http-stub`), then prints the counts by status and one message's history.
//!
//! Run: `cargo run --release --example quickstart`

use std::error::Error;
use std::time::{Duration, Instant};

use integra::{Engine, EngineOptions, RegisterOptions};
use integra_http_stub::{Receiver, Reply};

fn main() -> Result<(), Box<dyn Error>> {
    // A local HTTP server standing in for the shop and the WMS: it accepts every POST.
    let server = Receiver::bind("127.0.0.1:0", |_| Reply::ok().body("OK"))?;
    let base_url = server.url();

    let dir = tempfile::tempdir()?;
    let engine = Engine::open(dir.path().join("integra.db"), EngineOptions::default())?;
    engine.load_config_json(&format!(
        r#"{{
        "endpoints": [{{"code": "local", "base_url": "{base_url}", "read_timeout": "10s"}}],
        "subscribers": [
            {{"code": "shop", "kind": "http", "endpoint": "local", "http": {{"path": "/shop/orders"}}}},
            {{"code": "wms",  "kind": "http", "endpoint": "local",
              "http": {{"path": "/wms/{{flow}}/{{message_id}}", "ids_in": "path"}}}}
        ],
        "flows": [{{"code": "ORDER_EXPORT", "name": "Orders to the shop and the WMS",
                    "direction": "outgoing", "subscribers": ["shop", "wms"]}}]
    }}"#
    ))?;

    let started = Instant::now();
    let mut ids = Vec::with_capacity(1000);
    for n in 1..=1000 {
        let order = format!(
            r#"{{"number": "ЗК-{n:05}", "customer": "ООО Ромашка", "lines": [{{"sku": "A-{n}", "qty": 2, "price": 99.5}}]}}"#
        );
        let options = RegisterOptions::object_key(format!("order-{n}"));
        ids.push(engine.register("ORDER_EXPORT", &order, &options)?);
    }
    let registered = started.elapsed();
    let report = engine.dispatch(usize::MAX, Duration::from_secs(120))?;
    let delivered = started.elapsed();

    println!("registered 1000 messages in {registered:.2?}; all delivered after {delivered:.2?}");
    println!("dispatch: {report:?}");
    let counts = engine.counts()?;
    println!("messages by status:   {:?}", counts.messages);
    println!("deliveries by status: {:?}", counts.deliveries);

    let status = engine.message_status(&ids[0])?;
    println!(
        "\nmessage {} ({}, {}):",
        status.id, status.status, status.status_1c
    );
    for h in &status.history {
        let who = h.subscriber.as_deref().unwrap_or("message");
        let detail = h.detail.as_deref().unwrap_or("");
        println!(
            "  {}  {who:<8} {:<12} attempt {}  {detail}",
            h.at, h.status, h.attempt
        );
    }
    Ok(())
}
