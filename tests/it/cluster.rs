//! Several servers on one PostgreSQL database: what only the PostgreSQL store does, tested
//! on it whichever store the rest of the suite runs on. Each engine opened here stands for
//! a process on its own server: it has its own connections, listener and clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integra::{
    Clock, DispatcherOptions, Engine, EngineOptions, MessageStatus, RegisterOptions, SystemClock,
    Timestamp,
};
use serde_json::json;

use crate::support::postgres::{Cluster, execute, fresh_schema};
use crate::support::{Receiver, http_config, wait_until};

/// An engine on `url` with the system's clock.
fn open(url: &str) -> Engine {
    Engine::open(url, EngineOptions::default()).unwrap()
}

/// A dispatcher that polls only once a minute: what it delivers sooner, it was woken for.
fn rarely_polling() -> DispatcherOptions {
    DispatcherOptions::default().with_poll_interval(Duration::from_secs(60))
}

#[test]
fn a_dispatcher_wakes_when_another_server_registers_with_no_polling() {
    let rx = Receiver::ok();
    let url = fresh_schema();
    let producer = open(&url);
    producer
        .load_config_json(&http_config(rx.url(), &["a"]).to_string())
        .unwrap();
    let consumer = open(&url);
    consumer.start_dispatcher(rarely_polling()).unwrap();
    // The dispatcher's first look, at its start, finds nothing.
    std::thread::sleep(Duration::from_millis(300));
    for round in 0..3 {
        let started = Instant::now();
        producer
            .register(
                "ORDERS",
                &json!({"round": round}).to_string(),
                &RegisterOptions::default(),
            )
            .unwrap();
        rx.wait_for(round + 1, Duration::from_secs(10));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "round {round}: delivered only after {:?}",
            started.elapsed()
        );
        // Past the announcer's tenth of a second, so each round is announced anew.
        std::thread::sleep(Duration::from_millis(200));
    }
    consumer.stop_dispatcher();
}

/// A clock ten minutes ahead of the world's: a server whose time is wrong.
#[derive(Debug)]
struct TenMinutesAhead;

impl Clock for TenMinutesAhead {
    fn now(&self) -> Timestamp {
        SystemClock.now().plus(Duration::from_secs(600))
    }
}

#[test]
fn a_server_whose_clock_is_ten_minutes_ahead_takes_no_live_lease() {
    let url = fresh_schema();
    let first = open(&url);
    first
        .load_config_json(
            &json!({"flows": [{"code": "FORMED", "direction": "outgoing", "subscribers": [],
                               "former": "external"}]})
            .to_string(),
        )
        .unwrap();
    let id = first
        .register("FORMED", r#"{"n": 1}"#, &RegisterOptions::default())
        .unwrap()
        .to_string();
    let held = first.next_to_form(10, Duration::from_secs(60)).unwrap();
    assert_eq!(held.len(), 1);
    let ahead = Engine::open(
        &url,
        EngineOptions::default().with_clock(Arc::new(TenMinutesAhead) as Arc<dyn Clock>),
    )
    .unwrap();
    // Taking back expired leases and claiming: by its own clock the lease ended nine
    // minutes ago; by the database's it has a minute to run.
    ahead.dispatch(100, Duration::from_secs(5)).unwrap();
    assert!(
        ahead
            .next_to_form(10, Duration::from_secs(60))
            .unwrap()
            .is_empty()
    );
    let status = ahead.message_status(&id).unwrap();
    assert_eq!(
        (status.status, status.attempts),
        (MessageStatus::Forming, 1)
    );
    // Its times are the database's too: a registration is due now, not in ten minutes.
    let registered = ahead
        .register("FORMED", r#"{"n": 2}"#, &RegisterOptions::default())
        .unwrap();
    let created = ahead
        .message_status(registered.as_ref())
        .unwrap()
        .created_at;
    let drift = created.as_millis() - SystemClock.now().as_millis();
    assert!(
        drift.abs() < 60_000,
        "registered {drift} ms off the database's time"
    );
    assert_eq!(
        first
            .next_to_form(10, Duration::from_secs(60))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_connection_ended_by_the_server_is_opened_again_and_nothing_is_lost() {
    let rx = Receiver::ok();
    // Named, so that only this engine's connections are ended (not other tests').
    let name = format!("integra-{}", uuid::Uuid::new_v4().simple());
    let url = format!("{}&application_name={name}", fresh_schema());
    // A delivery whose outcome was being recorded when its connection ended is sent again
    // once its lease expires.
    let engine = Engine::open(
        &url,
        EngineOptions::default().with_lease(Duration::from_secs(2)),
    )
    .unwrap();
    engine
        .load_config_json(&http_config(rx.url(), &["a"]).to_string())
        .unwrap();
    engine
        .start_dispatcher(DispatcherOptions::default())
        .unwrap();
    let register = |n: usize| {
        engine.register(
            "ORDERS",
            &json!({"n": n}).to_string(),
            &RegisterOptions::default(),
        )
    };
    let mut acknowledged = 0;
    let mut refused = 0;
    for n in 0..60 {
        if n % 20 == 10 {
            execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = '{name}'"
            ));
        }
        match register(n) {
            Ok(_) => acknowledged += 1,
            Err(e) => {
                assert!(e.to_string().contains("cannot reach database"), "{e}");
                assert!(!e.to_string().contains("password"), "{e}");
                refused += 1;
            }
        }
    }
    // A connection the server ended while idle is opened again before the next call; only
    // a call in flight when it ended may fail.
    assert!(refused <= 3, "{refused} registrations refused");
    rx.wait_for(acknowledged, Duration::from_secs(30));
    wait_until(
        "every acknowledged message sent",
        Duration::from_secs(30),
        || {
            engine
                .counts()
                .unwrap()
                .messages
                .get(&MessageStatus::Sent)
                .copied()
                == Some(acknowledged as u64)
        },
    );
    engine.stop_dispatcher();
}

#[test]
fn a_restart_of_the_server_mid_stream_loses_nothing_and_the_dispatcher_resumes() {
    let rx = Receiver::ok();
    let cluster = Cluster::start();
    let url = cluster.url();
    let engine = open(&url);
    engine
        .load_config_json(&http_config(rx.url(), &["a"]).to_string())
        .unwrap();
    engine
        .start_dispatcher(DispatcherOptions::default())
        .unwrap();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for n in 0..200 {
        if n == 100 {
            cluster.down();
            for _ in 0..5 {
                let e = engine
                    .register("ORDERS", r#"{"down": true}"#, &RegisterOptions::default())
                    .unwrap_err();
                assert!(e.is_retryable(), "{e}");
                refused += 1;
            }
            cluster.up();
        }
        match engine.register(
            "ORDERS",
            &json!({"n": n}).to_string(),
            &RegisterOptions::default(),
        ) {
            Ok(id) => acknowledged.push(id.to_string()),
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                refused += 1;
            }
        }
    }
    assert!(refused <= 7, "{refused} registrations refused");
    wait_until(
        "every acknowledged message sent",
        Duration::from_secs(60),
        || {
            acknowledged
                .iter()
                .all(|id| engine.message_status(id).unwrap().status == MessageStatus::Sent)
        },
    );
    let delivered: std::collections::HashSet<String> = rx
        .received()
        .iter()
        .filter_map(|r| r.header("x-message-id").map(str::to_owned))
        .collect();
    for id in &acknowledged {
        assert!(delivered.contains(id), "{id} was never delivered");
    }
    engine.stop_dispatcher();
}

#[test]
fn the_server_is_verified_as_sslmode_asks() {
    let dir = tempfile::tempdir().unwrap();
    let pki = crate::support::tls::Pki::create(dir.path());
    let cluster = Cluster::start_serving_tls(Some(pki.server_files(dir.path())));
    let url = |mode: &str| format!("{}?sslmode={mode}&schema=tls", cluster.url());
    // Encrypted, the server not verified (libpq's `require`).
    open(&url("require"));
    // Verified against the CA that signed the server's certificate.
    let ca = pki.ca_file.display().to_string();
    open(&format!("{}&sslrootcert={ca}", url("verify-full")));
    // Not verifiable against the system's roots and the web's: refused, saying why.
    let refused = Engine::open(url("verify-full"), EngineOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("cannot reach database") && refused.contains("certificate"),
        "{refused}"
    );
}

#[test]
fn processes_opening_a_new_database_at_once_migrate_it_once() {
    let url = fresh_schema();
    let opened: Vec<Engine> = std::thread::scope(|scope| {
        let opening: Vec<_> = (0..4).map(|_| scope.spawn(|| open(&url))).collect();
        opening.into_iter().map(|t| t.join().unwrap()).collect()
    });
    opened[0]
        .load_config_json(&http_config("http://127.0.0.1:9", &["a"]).to_string())
        .unwrap();
    let id = opened[1]
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
    assert_eq!(
        opened[3].message_status(id.as_ref()).unwrap().status,
        MessageStatus::Dispatched
    );
}

#[test]
fn two_servers_finishing_the_deliveries_of_one_message_at_once_end_it() {
    let rx = Receiver::ok();
    let url = fresh_schema();
    let first = open(&url);
    first
        .load_config_json(&http_config(rx.url(), &["a", "b", "c"]).to_string())
        .unwrap();
    let second = open(&url);
    let batch = (0..300)
        .map(|n| integra::Registration {
            source: json!({"n": n}).to_string(),
            options: RegisterOptions::default(),
        })
        .collect();
    first.register_batch("ORDERS", batch).unwrap();
    // Small claims, so the deliveries of one message are spread over both servers and
    // recorded side by side.
    let options = DispatcherOptions::default().with_batch(3);
    first.start_dispatcher(options.clone()).unwrap();
    second.start_dispatcher(options).unwrap();
    rx.wait_for(900, Duration::from_secs(60));
    wait_until("every message ended", Duration::from_secs(30), || {
        first
            .counts()
            .unwrap()
            .messages
            .get(&MessageStatus::Sent)
            .copied()
            == Some(300)
    });
    first.stop_dispatcher();
    second.stop_dispatcher();
    let report = first
        .check_integrity(integra::IntegrityMode::Quick)
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A transaction's writes go to the server without waiting for each answer (pipelined):
/// a write that fails there fails its own call, never the calls that shared its commit.
#[test]
fn a_write_the_database_refuses_fails_only_its_own_call_in_a_shared_commit() {
    let url = fresh_schema();
    let engine = open(&url);
    let mut config = http_config("http://127.0.0.1:9", &["a"]);
    config["flows"][0]["ordering"] = json!("by_key");
    engine.load_config_json(&config.to_string()).unwrap();
    // A rule of the database's that Integra does not check itself: a delivery's row is the
    // last write of a registration, sent ahead with the commit.
    crate::support::postgres::connect(&url)
        .batch_execute(
            "ALTER TABLE delivery ADD CONSTRAINT no_poison \
             CHECK (ordering_key IS DISTINCT FROM 'poison')",
        )
        .unwrap();
    let threads = 8;
    let per_thread = 50;
    let barrier = Arc::new(std::sync::Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, barrier) = (engine.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let (mut kept, mut refused) = (0, 0);
                for i in 0..per_thread {
                    let poisoned = i % 5 == 4;
                    let options = RegisterOptions::default().with_ordering_key(if poisoned {
                        "poison"
                    } else {
                        "fine"
                    });
                    match engine.register("ORDERS", &json!({"t": t, "i": i}).to_string(), &options)
                    {
                        Ok(_) if !poisoned => kept += 1,
                        Err(e) if poisoned => {
                            assert!(e.to_string().contains("no_poison"), "{e}");
                            refused += 1;
                        }
                        other => panic!("message {i} of thread {t}: {other:?}"),
                    }
                }
                (kept, refused)
            })
        })
        .collect();
    let (mut kept, mut refused) = (0, 0);
    for handle in handles {
        let (k, r) = handle.join().unwrap();
        kept += k;
        refused += r;
    }
    assert_eq!(
        (kept, refused),
        (threads * per_thread * 4 / 5, threads * per_thread / 5)
    );
    let counts = engine.counts().unwrap();
    assert_eq!(
        counts.messages.get(&MessageStatus::Dispatched).copied(),
        Some(kept as u64),
        "every call that succeeded committed, and no refused one: {counts:?}"
    );
}
