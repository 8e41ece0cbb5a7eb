//! Two servers, one queue: two processes (standing for two working servers of a 1C
//! cluster) open the same PostgreSQL database. Each registers 500 orders; both dispatchers
//! deliver, each woken at once when the other registers; every order reaches the shop
//! exactly once here, and each process sees the same counts.
//!
//! Run: `cargo run --release --example cluster --features postgres -- [URL]`, the URL
//! defaulting to `postgres://postgres@127.0.0.1:5432/test` (`scripts/postgres.sh start`
//! starts a server there when none runs). The example works in a schema of its own, which
//! it drops at the end.

use std::error::Error;
use std::process::Command;
use std::time::{Duration, Instant};

use integra::{DispatcherOptions, Engine, EngineOptions, RegisterOptions};
use integra_http_stub::{Receiver, Reply};

/// Orders each server registers.
const ORDERS: usize = 500;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    // A child: one server, given its name, the database and the shop.
    if let Some("--server") = args.next().as_deref() {
        let (name, database) = (
            args.next().unwrap_or_default(),
            args.next().unwrap_or_default(),
        );
        return server(&name, &database);
    }
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("cluster_example_{}", std::process::id());
    let database = format!(
        "{base}{}schema={schema}",
        if base.contains('?') { '&' } else { '?' }
    );

    // The web shop both servers deliver to: it accepts every POST.
    let shop = Receiver::bind("127.0.0.1:0", |_| Reply::ok().body("OK"))?;
    let setup = Engine::open(&database, EngineOptions::default())?;
    setup.load_config_json(&format!(
        r#"{{
        "endpoints": [{{"code": "shop", "base_url": "{}"}}],
        "subscribers": [{{"code": "shop", "kind": "http", "endpoint": "shop"}}],
        "flows": [{{"code": "ORDERS", "direction": "outgoing", "subscribers": ["shop"]}}]
    }}"#,
        shop.url()
    ))?;

    let started = Instant::now();
    let me = std::env::current_exe()?;
    let servers: Vec<_> = ["A", "B"]
        .iter()
        .map(|name| {
            Command::new(&me)
                .args(["--server", name, &database])
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for mut server in servers {
        let status = server.wait()?;
        if !status.success() {
            return Err(format!("a server failed: {status}").into());
        }
    }
    let received = shop.received();
    let mut ids: Vec<&str> = received
        .iter()
        .filter_map(|r| r.header("X-Message-ID"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    println!(
        "{} orders delivered by two servers in {:.2?} ({} requests)",
        ids.len(),
        started.elapsed(),
        received.len()
    );
    println!(
        "counts, as any server reads them: {:?}",
        setup.counts()?.messages
    );
    drop(setup);
    // Leave the database as it was.
    let mut client = postgres::Client::connect(&base, postgres::NoTls)?;
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
    Ok(())
}

/// One server: registers its orders, and dispatches until every order of both is sent.
fn server(name: &str, database: &str) -> Result<(), Box<dyn Error>> {
    let engine = Engine::open(database, EngineOptions::default())?;
    engine.start_dispatcher(DispatcherOptions::default())?;
    for n in 1..=ORDERS {
        let order = format!(r#"{{"number": "{name}-{n:04}", "server": "{name}"}}"#);
        engine.register("ORDERS", &order, &RegisterOptions::default())?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = engine.counts()?;
        let sent: u64 = counts
            .messages
            .iter()
            .filter(|(status, _)| status.as_str() == "sent")
            .map(|(_, n)| n)
            .sum();
        if sent == 2 * ORDERS as u64 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("server {name}: only {sent} sent").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    engine.stop_dispatcher();
    println!(
        "server {name}: registered {ORDERS}; all {} sent",
        2 * ORDERS
    );
    Ok(())
}
