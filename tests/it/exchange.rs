//! The message exchange (the 1C SSL «Обмен сообщениями» API) between bases, each on its own
//! database file and served by its own process over loopback HTTP. The test process opens
//! the same files to call the API, as another 1C server process of each base would.

use std::path::PathBuf;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use integra::config::Secret;
use integra::limits::MAX_LIST;
use integra::{
    ConnectionSettings, Engine, EngineOptions, Error, ExchangeEndpoint, ExchangeMessage,
    InboxStatus, ManualClock, OutboxStatus, Recipients, Timestamp,
};
use serde_json::{Value, json};

use crate::support::brokers::{free_port, wait_for_port};
use crate::support::proxy::{Proxy, ProxyOptions};
use crate::support::wait_until;
use crate::support::{child, http};

/// How long anything that travels between the bases may take.
const TRAVEL: Duration = Duration::from_secs(20);
/// How long a pulled message stays claimed.
const LEASE: Duration = Duration::from_secs(60);

/// One base: a database file, the process serving its exchange listener, and the test's
/// own engine on the same file.
struct Base {
    name: &'static str,
    dir: tempfile::TempDir,
    port: u16,
    engine: Engine,
    server: Option<Child>,
}

impl Base {
    /// A base named `name` listening on a port of its own; handled messages are quarantined
    /// after `quarantine_after` failures.
    fn new(name: &'static str, quarantine_after: u32) -> Base {
        Base::with_options(name, quarantine_after, EngineOptions::default())
    }

    /// [`Base::new`], with the test's own engine opened with `options`.
    fn with_options(name: &'static str, quarantine_after: u32, options: EngineOptions) -> Base {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let engine = Engine::open(crate::support::database(dir.path()), options).unwrap();
        let config = json!({
            "listeners": [{
                "code": "main",
                "address": format!("127.0.0.1:{port}"),
                "exchange": {"auth": {"type": "basic", "username": name, "password": password(name)}}
            }],
            "exchange": {"name": name, "quarantine_after": quarantine_after}
        });
        engine.load_config_json(&config.to_string()).unwrap();
        Base {
            name,
            dir,
            port,
            engine,
            server: None,
        }
    }

    fn db(&self) -> PathBuf {
        crate::support::database(self.dir.path())
    }

    /// Starts the process serving this base: its receiver, and with `dispatcher` its
    /// dispatcher; with `handled`, a Rust handler of that channel.
    fn start(&mut self, dispatcher: bool, handled: Option<&str>) {
        assert!(self.server.is_none(), "{} is already running", self.name);
        let mut args = vec![
            ("DB", self.db().display().to_string()),
            ("DISPATCHER", if dispatcher { "1" } else { "0" }.to_owned()),
        ];
        if let Some(channel) = handled {
            args.push(("HANDLED", channel.to_owned()));
        }
        self.server = Some(child::spawn("exchange_base", &args));
        wait_for_port(self.port, TRAVEL);
    }

    /// Stops the serving process: the base is down.
    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How other bases reach this one.
    fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            url: self.url(),
            username: self.name.to_owned(),
            password: Secret::new(password(self.name)),
        }
    }

    fn code(&self) -> String {
        self.engine.exchange_identity().unwrap().code
    }

    /// Connects `other` to this base (this base initiates).
    fn connect(&self, other: &Base) -> ExchangeEndpoint {
        self.engine
            .connect_endpoint(&self.settings(), &other.settings(), other.name, self.name)
            .unwrap()
    }

    fn received(&self, status: Option<InboxStatus>) -> Vec<integra::ReceivedMessage> {
        self.engine
            .received_exchange_messages(status, MAX_LIST)
            .unwrap()
    }

    fn sent(&self, status: Option<OutboxStatus>) -> Vec<integra::SentMessage> {
        self.engine
            .sent_exchange_messages(status, MAX_LIST)
            .unwrap()
    }

    /// Handles every received message through the pull API, in the order it hands them
    /// out, until `n` were handled: the bodies, by channel as they came.
    fn pull(&self, n: usize) -> Vec<ExchangeMessage> {
        let mut handled = Vec::new();
        wait_until(
            &format!("{} handles {n} messages", self.name),
            TRAVEL,
            || {
                for m in self.engine.next_exchange_messages(100, LEASE).unwrap() {
                    self.engine.ack_exchange_message(&m.id).unwrap();
                    handled.push(m);
                }
                handled.len() >= n
            },
        );
        assert_eq!(handled.len(), n, "{} handled more than expected", self.name);
        handled
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        self.stop();
    }
}

fn password(name: &str) -> String {
    format!("{name}-s3cret")
}

/// The `n` field of each message's body.
fn numbers(messages: &[ExchangeMessage]) -> Vec<i64> {
    messages
        .iter()
        .map(|m| {
            serde_json::from_str::<Value>(&m.body).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

fn to(base: &Base) -> Recipients {
    Recipients::Endpoints(vec![base.code()])
}

#[test]
fn two_bases_connect_and_exchange_addressed_messages_marked_done_on_both_sides() {
    let (mut a, mut b) = (Base::new("A", 3), Base::new("B", 3));
    a.start(true, None);
    b.start(true, None);

    let endpoint = a.connect(&b);
    assert_eq!(
        (
            &endpoint.code,
            endpoint.name.as_str(),
            &endpoint.url,
            endpoint.blocked
        ),
        (&b.code(), "B", &b.url(), false)
    );
    let at_b = b.engine.exchange_endpoints().unwrap();
    assert_eq!(at_b.len(), 1);
    assert_eq!(
        (at_b[0].code.as_str(), at_b[0].name.as_str()),
        (a.code().as_str(), "A")
    );
    assert_eq!(at_b[0].url, a.url());

    // Addressed to B by the call, and through the sender's settings of a channel.
    let mut ids = Vec::new();
    for n in 0..20 {
        let body = json!({"n": n}).to_string();
        ids.push(a.engine.send_message("orders", &body, &to(&b)).unwrap());
    }
    a.engine
        .set_sender_recipients("prices", &[b.code()])
        .unwrap();
    assert_eq!(
        a.engine.channel_recipients("prices").unwrap().sender,
        [b.code()]
    );
    ids.push(
        a.engine
            .send_message("prices", r#"{"n": 100}"#, &Recipients::FromSettings)
            .unwrap(),
    );
    // To this base itself: stored in its own inbox, handled here.
    a.engine
        .send_message("notes", r#"{"n": 7}"#, &to(&a))
        .unwrap();
    assert_eq!(numbers(&a.pull(1)), [7]);

    let handled = b.pull(21);
    let orders: Vec<ExchangeMessage> = handled
        .iter()
        .filter(|m| m.channel == "orders")
        .cloned()
        .collect();
    assert_eq!(
        numbers(&orders),
        (0..20).collect::<Vec<_>>(),
        "arrival order"
    );
    assert!(
        handled
            .iter()
            .all(|m| m.sender == a.code() && m.attempt == 1)
    );
    assert_eq!(b.received(Some(InboxStatus::Processed)).len(), 21);

    // B's done notices travel back: every message is done on both sides.
    wait_until("A learns every message was processed", TRAVEL, || {
        a.sent(Some(OutboxStatus::Done)).len() == 21
    });
    let sent = a.sent(None);
    assert!(
        sent.iter()
            .all(|m| m.recipient == b.code() && m.attempts == 1)
    );
    let mut sent_ids: Vec<String> = sent.into_iter().map(|m| m.id.into()).collect();
    sent_ids.sort();
    ids.sort();
    assert_eq!(sent_ids, ids);

    // A repeat of a stored message is acknowledged, not stored or handled again.
    let url = format!("{}/integra/exchange/v1/messages", b.url());
    let repeat = json!({"sender": a.code(), "messages": [
        {"version": 1, "id": ids[0], "kind": "message", "channel": "orders", "body": {"n": 0}}
    ]});
    let post = |user: &str, pass: &str, body: &Value| {
        let (status, text, _) = http::post(
            &url,
            &[("Authorization", &http::basic(user, pass))],
            &body.to_string(),
        );
        (status, text)
    };
    assert_eq!(
        post("B", &password("B"), &repeat),
        (200, r#"{"stored":0}"#.to_owned())
    );
    // So is one spelling its UUID otherwise (issue 15).
    let mut spelled = repeat.clone();
    spelled["messages"][0]["id"] = json!(ids[0].to_uppercase().replace('-', ""));
    assert_eq!(
        post("B", &password("B"), &spelled),
        (200, r#"{"stored":0}"#.to_owned())
    );
    assert_eq!(b.received(None).len(), 21);
    assert!(
        b.engine
            .next_exchange_messages(100, LEASE)
            .unwrap()
            .is_empty()
    );

    // The wire refuses what it should, and stores nothing of a refused delivery.
    // Wrong credentials are refused (403, as every Integra listener answers them).
    assert_eq!(post("B", "wrong", &repeat).0, 403);
    let stranger = json!({"sender": "someone", "messages": []});
    let (status, text) = post("B", &password("B"), &stranger);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("someone"), "{text}");
    let mixed = json!({"sender": a.code(), "messages": [
        {"version": 1, "id": "fresh-1", "kind": "message", "channel": "orders", "body": {}},
        {"version": 2, "id": "fresh-2", "kind": "message", "channel": "orders", "body": {}}
    ]});
    let (status, text) = post("B", &password("B"), &mixed);
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("message 1") && text.contains("version 2"),
        "{text}"
    );
    assert_eq!(
        b.received(None).len(),
        21,
        "nothing of a refused delivery is stored"
    );
}

#[test]
fn broadcasts_reach_the_subscribers_who_subscribed_from_their_side() {
    let (mut a, mut b, mut c) = (Base::new("A", 3), Base::new("B", 3), Base::new("C", 3));
    a.start(true, None);
    b.start(true, None);
    // C handles the channel with a Rust handler in its own process.
    c.start(true, Some("news"));
    a.connect(&b);
    a.connect(&c);

    // Subscriptions are made on the subscribers' side and travel to the publisher.
    b.engine.subscribe("news", &a.code()).unwrap();
    c.engine.subscribe("news", &a.code()).unwrap();
    let subscribers = |a: &Base| a.engine.channel_recipients("news").unwrap().subscribers;
    let mut both = vec![b.code(), c.code()];
    both.sort();
    wait_until("A records both subscriptions", TRAVEL, || {
        subscribers(&a) == both
    });

    let first = a
        .engine
        .send_message_to_subscribers("news", r#"{"n": 1}"#)
        .unwrap();
    assert_eq!(numbers(&b.pull(1)), [1]);
    wait_until("C's handler handles it", TRAVEL, || {
        c.received(Some(InboxStatus::Processed)).len() == 1
    });
    wait_until("both tell A it was processed", TRAVEL, || {
        a.sent(Some(OutboxStatus::Done))
            .iter()
            .filter(|m| m.id == first)
            .count()
            == 2
    });

    // C unsubscribes: the next broadcast reaches only B.
    c.engine.unsubscribe("news", &a.code()).unwrap();
    wait_until("A drops C's subscription", TRAVEL, || {
        subscribers(&a) == [b.code()]
    });
    let second = a
        .engine
        .send_message_to_subscribers("news", r#"{"n": 2}"#)
        .unwrap();
    assert_eq!(numbers(&b.pull(1)), [2]);
    let recipients: Vec<String> = a
        .sent(None)
        .into_iter()
        .filter(|m| m.id == second)
        .map(|m| m.recipient)
        .collect();
    assert_eq!(recipients, [b.code()]);

    // A blocked endpoint receives nothing: an addressed send to it is refused, a broadcast
    // passes it by. Unblocked, it receives again.
    a.engine.block_endpoint(&b.code()).unwrap();
    assert!(a.engine.exchange_endpoints().unwrap()[0].blocked);
    let err = a.engine.send_message("news", "{}", &to(&b)).unwrap_err();
    assert!(matches!(err, Error::EndpointBlocked { .. }), "{err}");
    let third = a
        .engine
        .send_message_to_subscribers("news", r#"{"n": 3}"#)
        .unwrap();
    assert!(a.sent(None).iter().all(|m| m.id != third));
    a.engine.unblock_endpoint(&b.code()).unwrap();
    a.engine
        .send_message_to_subscribers("news", r#"{"n": 4}"#)
        .unwrap();
    assert_eq!(numbers(&b.pull(1)), [4]);
    assert_eq!(c.received(None).len(), 1);
}

#[test]
fn quick_messages_go_at_once_and_a_base_that_is_down_gets_them_by_regular_delivery() {
    let (mut a, mut b, mut c) = (Base::new("A", 3), Base::new("B", 3), Base::new("C", 3));
    // A without a dispatcher: only DeliverMessages sends.
    a.start(false, None);
    b.start(true, None);
    c.start(true, None);
    a.connect(&b);
    a.connect(&c);
    c.stop();

    let both = Recipients::Endpoints(vec![b.code(), c.code()]);
    for n in 0..5 {
        let body = json!({"n": n}).to_string();
        a.engine.send_message_now("quick", &body, &both).unwrap();
    }
    let report = a.engine.deliver_messages().unwrap();
    assert_eq!(report.delivered, 5);
    assert_eq!(report.unavailable, [c.code()]);
    assert!(!report.busy);
    assert_eq!(
        b.received(None).len(),
        5,
        "B has them as soon as the call returns"
    );
    assert!(
        a.sent(Some(OutboxStatus::Pending))
            .iter()
            .all(|m| m.recipient == c.code() && m.last_error.is_some())
    );

    // C comes back; A's dispatcher delivers what C missed.
    c.start(true, None);
    a.stop();
    a.start(true, None);
    wait_until("C receives by regular delivery", TRAVEL, || {
        c.received(None).len() == 5
    });
    assert_eq!(numbers(&c.pull(5)), [0, 1, 2, 3, 4]);
    assert_eq!(numbers(&b.pull(5)), [0, 1, 2, 3, 4]);
}

#[test]
fn two_processes_delivering_at_once_deliver_each_message_once() {
    let (mut a, mut b) = (Base::new("A", 3), Base::new("B", 3));
    a.start(false, None);
    b.start(false, None);
    a.connect(&b);
    const N: usize = 500;
    for n in 0..N {
        let body = json!({"n": n}).to_string();
        a.engine.send_message_now("bulk", &body, &to(&b)).unwrap();
    }
    let outs: Vec<PathBuf> = (0..2)
        .map(|i| a.dir.path().join(format!("report-{i}.json")))
        .collect();
    let mut deliverers: Vec<Child> = outs
        .iter()
        .map(|out| {
            child::spawn(
                "deliver_messages",
                &[
                    ("DB", a.db().display().to_string()),
                    ("OUT", out.display().to_string()),
                ],
            )
        })
        .collect();
    for d in &mut deliverers {
        assert!(d.wait().unwrap().success());
    }
    let reports: Vec<Value> = outs
        .iter()
        .map(|o| serde_json::from_str(&std::fs::read_to_string(o).unwrap()).unwrap())
        .collect();
    let delivered: u64 = reports
        .iter()
        .map(|r| r["delivered"].as_u64().unwrap())
        .sum();
    assert_eq!(delivered, N as u64, "{reports:?}");
    let sent = a.sent(None);
    assert_eq!(sent.len(), N);
    assert!(
        sent.iter()
            .all(|m| m.status == OutboxStatus::Sent && m.attempts == 1),
        "each message went once"
    );
    assert_eq!(b.received(None).len(), N);
    eprintln!("two deliverers at once: {reports:?}");
}

/// Sends `signal` (`STOP`, `CONT`) to a child process.
fn signal(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_deliverer_that_dies_holds_deliver_messages_only_until_its_lease_expires() {
    let (mut a, mut b) = (Base::new("A", 3), Base::new("B", 3));
    a.start(false, None);
    b.start(false, None);
    a.connect(&b);
    for n in 0..10 {
        let body = json!({"n": n}).to_string();
        a.engine.send_message_now("quick", &body, &to(&b)).unwrap();
    }
    // B hangs (its process is stopped): a deliverer claims the batch, waits for B's answer,
    // and dies there, holding the lease of DeliverMessages.
    signal(b.server.as_ref().unwrap(), "STOP");
    let out = a.dir.path().join("dead.json");
    let mut deliverer = child::spawn(
        "deliver_messages",
        &[
            ("DB", a.db().display().to_string()),
            ("OUT", out.display().to_string()),
        ],
    );
    wait_until("the deliverer claims the batch", TRAVEL, || {
        a.sent(Some(OutboxStatus::Sending)).len() == 10
    });
    deliverer.kill().unwrap();
    deliverer.wait().unwrap();
    signal(b.server.as_ref().unwrap(), "CONT");

    // Until the lease (5 minutes) runs out, another caller finds it taken.
    let report = a.engine.deliver_messages().unwrap();
    assert!(report.busy, "{report:?}");
    assert_eq!(report.delivered, 0);

    // After it, a caller takes over and delivers the batch the dead one had claimed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let later = Timestamp::from_millis(now.as_millis() as i64).plus(Duration::from_secs(301));
    let options = EngineOptions::default().with_clock(Arc::new(ManualClock::new(later)));
    let after = Engine::open(a.db(), options).unwrap();
    let report = after.deliver_messages().unwrap();
    assert_eq!((report.delivered, report.busy), (10, false), "{report:?}");
    assert!(
        a.sent(None)
            .iter()
            .all(|m| m.status == OutboxStatus::Sent && m.attempts == 2)
    );
    // B may have stored the dead deliverer's request after all: each message once.
    assert_eq!(numbers(&b.pull(10)), (0..10).collect::<Vec<_>>());
}

#[test]
fn a_delivery_whose_reply_is_lost_is_repeated_and_stored_once() {
    let (mut a, mut b) = (Base::new("A", 3), Base::new("B", 3));
    a.start(true, None);
    b.start(true, None);
    // A reaches B through a proxy that can lose B's replies.
    let lose = Arc::new(AtomicBool::new(false));
    let proxy = Proxy::start(
        0,
        b.port,
        ProxyOptions {
            lose_replies: Some(Arc::clone(&lose)),
            ..ProxyOptions::default()
        },
    );
    let through_proxy = ConnectionSettings {
        url: format!("http://127.0.0.1:{}", proxy.port),
        ..b.settings()
    };
    a.engine
        .connect_endpoint(&a.settings(), &through_proxy, "B", "A")
        .unwrap();

    lose.store(true, Ordering::SeqCst);
    let id = a
        .engine
        .send_message("orders", r#"{"n": 1}"#, &to(&b))
        .unwrap();
    wait_until(
        "B stores it, A never hears so and tries again",
        TRAVEL,
        || b.received(None).len() == 1 && a.sent(None)[0].attempts >= 2,
    );
    lose.store(false, Ordering::SeqCst);
    wait_until("A's retry is acknowledged", TRAVEL, || {
        a.sent(None)[0].status == OutboxStatus::Sent
    });
    let handled = b.pull(1);
    assert_eq!(handled[0].id, id);
    assert_eq!(b.received(None).len(), 1, "stored once");
    wait_until("done at A", TRAVEL, || {
        a.sent(None)[0].status == OutboxStatus::Done
    });
}

#[test]
fn connect_endpoint_names_the_check_that_failed_and_creates_nothing() {
    let (mut a, mut b, mut c) = (Base::new("A", 3), Base::new("B", 3), Base::new("C", 3));
    a.start(false, None);
    b.start(false, None);
    c.start(false, None);
    let connect = |sender: &ConnectionSettings, recipient: &ConnectionSettings| match a
        .engine
        .connect_endpoint(sender, recipient, "B", "A")
    {
        Err(Error::Connect { check, reason }) => format!("{check}: {reason}"),
        other => panic!("expected a failed check, got {other:?}"),
    };
    let nobody = format!("http://127.0.0.1:{}", free_port());

    // This base → recipient: nobody there, a wrong password, this base itself.
    let err = connect(
        &a.settings(),
        &ConnectionSettings {
            url: nobody.clone(),
            ..b.settings()
        },
    );
    assert!(err.starts_with("this base → recipient: "), "{err}");
    assert!(err.contains(&nobody), "{err}");
    let err = connect(
        &a.settings(),
        &ConnectionSettings {
            password: Secret::new("wrong"),
            ..b.settings()
        },
    );
    assert!(
        err.starts_with("this base → recipient: ") && err.contains("403"),
        "{err}"
    );
    let err = connect(&a.settings(), &a.settings());
    assert!(err.contains("reaches this base itself"), "{err}");

    // Recipient → this base: B cannot get in with the password given for A, or the
    // settings given for A lead to C.
    let err = connect(
        &ConnectionSettings {
            password: Secret::new("wrong"),
            ..a.settings()
        },
        &b.settings(),
    );
    assert!(
        err.starts_with("recipient → this base: ") && err.contains("403"),
        "{err}"
    );
    let err = connect(&c.settings(), &b.settings());
    assert!(err.starts_with("recipient → this base: "), "{err}");
    assert!(err.contains("reaches base 'C'"), "{err}");

    // A malformed URL is bad input.
    let err = a
        .engine
        .connect_endpoint(
            &a.settings(),
            &ConnectionSettings {
                url: "ftp://b".into(),
                ..b.settings()
            },
            "B",
            "A",
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "recipient settings",
                ..
            }
        ),
        "{err}"
    );

    for base in [&a, &b, &c] {
        assert!(
            base.engine.exchange_endpoints().unwrap().is_empty(),
            "{} has an endpoint",
            base.name
        );
    }

    // Connected; then the settings change on both sides after the same checks.
    a.connect(&b);
    let by_name = ConnectionSettings {
        url: format!("http://localhost:{}", b.port),
        ..b.settings()
    };
    let a_by_name = ConnectionSettings {
        url: format!("http://localhost:{}", a.port),
        ..a.settings()
    };
    a.engine
        .update_endpoint_connection_settings(&b.code(), &a_by_name, &by_name)
        .unwrap();
    assert_eq!(a.engine.exchange_endpoints().unwrap()[0].url, by_name.url);
    assert_eq!(b.engine.exchange_endpoints().unwrap()[0].url, a_by_name.url);
    let err = a
        .engine
        .update_endpoint_connection_settings(&b.code(), &a.settings(), &c.settings())
        .unwrap_err();
    assert!(err.to_string().contains("reaches base 'C'"), "{err}");
    let err = a
        .engine
        .update_endpoint_connection_settings("nobody", &a.settings(), &b.settings())
        .unwrap_err();
    assert!(matches!(err, Error::UnknownEndpoint { .. }), "{err}");
    assert_eq!(a.engine.exchange_endpoints().unwrap()[0].url, by_name.url);
}

#[test]
fn a_message_that_keeps_failing_is_quarantined_visible_and_re_drivable() {
    let (mut a, mut b) = (Base::new("A", 3), Base::new("B", 2));
    a.start(true, None);
    // B handles "jobs" with a Rust handler; "tasks" through the pull API.
    b.start(true, Some("jobs"));
    a.connect(&b);

    // Through the pull API: two failures (exchange.quarantine_after is 2 at B) quarantine
    // the message; the next one of the channel goes on.
    let bad = a
        .engine
        .send_message("tasks", r#"{"n": 1}"#, &to(&b))
        .unwrap();
    a.engine
        .send_message("tasks", r#"{"n": 2}"#, &to(&b))
        .unwrap();
    wait_until("B stores both", TRAVEL, || b.received(None).len() == 2);
    for attempt in 1..=2 {
        // The second attempt is due after B's retry delay.
        let mut claimed = Vec::new();
        wait_until("the failed message is due again", TRAVEL, || {
            claimed = b.engine.next_exchange_messages(100, LEASE).unwrap();
            !claimed.is_empty()
        });
        assert_eq!(claimed.len(), 1, "one at a time, in order");
        assert_eq!(
            (claimed[0].id.as_str(), claimed[0].attempt),
            (bad.as_str(), attempt)
        );
        b.engine
            .fail_exchange_message(&bad, "no such task")
            .unwrap();
    }
    let quarantined = b.received(Some(InboxStatus::Quarantined));
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].id, bad);
    assert_eq!(quarantined[0].last_error.as_deref(), Some("no such task"));
    assert_eq!(numbers(&b.pull(1)), [2]);

    // Re-driven, it is handled afresh and A learns it was done.
    assert_eq!(
        b.engine
            .retry_received_exchange_messages(Some(&bad))
            .unwrap(),
        1
    );
    let again = b.pull(1);
    assert_eq!((again[0].id.as_str(), again[0].attempt), (bad.as_str(), 1));
    wait_until("A learns both were processed", TRAVEL, || {
        a.sent(Some(OutboxStatus::Done)).len() == 2
    });

    // A Rust handler's failures count the same way.
    let failing = a
        .engine
        .send_message("jobs", r#"{"fail": true}"#, &to(&b))
        .unwrap();
    a.engine
        .send_message("jobs", r#"{"n": 3}"#, &to(&b))
        .unwrap();
    wait_until(
        "B's handler gives up on it and handles the next",
        TRAVEL,
        || {
            b.received(Some(InboxStatus::Quarantined)).len() == 1
                && b.received(Some(InboxStatus::Processed)).len() == 3
        },
    );
    let stuck = &b.received(Some(InboxStatus::Quarantined))[0];
    assert_eq!((stuck.id.as_str(), stuck.attempts), (failing.as_str(), 2));
    assert!(
        stuck
            .last_error
            .as_deref()
            .unwrap()
            .contains("asked to fail")
    );

    // What a blocked endpoint sends is quarantined on arrival.
    b.engine.block_endpoint(&a.code()).unwrap();
    let from_blocked = a
        .engine
        .send_message("tasks", r#"{"n": 4}"#, &to(&b))
        .unwrap();
    wait_until("B stores it quarantined", TRAVEL, || {
        b.received(Some(InboxStatus::Quarantined)).len() == 2
    });
    let held = b
        .received(Some(InboxStatus::Quarantined))
        .into_iter()
        .find(|m| m.id == from_blocked)
        .unwrap();
    assert_eq!(held.last_error.as_deref(), Some("the sender is blocked"));
    assert!(
        b.engine
            .next_exchange_messages(100, LEASE)
            .unwrap()
            .is_empty()
    );
}

impl Base {
    /// Serves this base from the test process itself: its receiver, its dispatcher, and
    /// `handler` for `channel`. Returns the receiver, which serves while it is held.
    fn serve_here(
        &self,
        channel: &str,
        handler: impl Fn(&ExchangeMessage) -> Result<(), integra::HandlerError> + Send + Sync + 'static,
    ) -> integra::Receiver {
        let receiver = self.engine.start_receiver("main").unwrap();
        self.engine.set_channel_handler(channel, handler);
        self.engine
            .start_dispatcher(
                integra::DispatcherOptions::default().with_poll_interval(Duration::from_millis(50)),
            )
            .unwrap();
        receiver
    }
}

#[test]
fn a_channel_handler_that_outlasts_its_lease_is_called_once() {
    // B is served by the test process itself, with a 1 s lease, and a handler that takes
    // 3 s, well past the lease, which the dispatcher keeps renewing.
    let options = EngineOptions::default().with_lease(Duration::from_secs(1));
    let (mut a, b) = (Base::new("A", 3), Base::with_options("B", 3, options));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let _receiver = b.serve_here("slow", move |_: &ExchangeMessage| {
        counted.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs(3));
        Ok(())
    });
    a.start(true, None);
    a.connect(&b);

    a.engine
        .send_message("slow", r#"{"n": 1}"#, &to(&b))
        .unwrap();
    wait_until("B's handler starts", TRAVEL, || {
        calls.load(Ordering::SeqCst) == 1
    });
    // Another process of base B (a 1C server pulling every channel) looks for work while
    // the handler still runs, past its first lease: the message is not free to take.
    std::thread::sleep(Duration::from_millis(1_800));
    let other = Engine::open(b.db(), EngineOptions::default()).unwrap();
    let taken = other.next_exchange_messages(100, LEASE).unwrap();
    assert!(
        taken.is_empty(),
        "handed out again while handled: {taken:?}"
    );
    wait_until("B's handler handles it", TRAVEL, || {
        b.received(Some(InboxStatus::Processed)).len() == 1
    });
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler ran once");
    assert_eq!(b.received(None)[0].attempts, 1);
}

/// Issue 16: a channel handler that knows the message can never be handled says so, and the
/// message is quarantined at once with its reason, though two more attempts were allowed.
#[test]
fn a_permanent_channel_handler_error_quarantines_at_once() {
    let (mut a, b) = (Base::new("A", 3), Base::new("B", 3));
    let _receiver = b.serve_here("strict", |m: &ExchangeMessage| {
        Err(integra::HandlerError::permanent(format!(
            "{} is not a known task",
            m.body
        )))
    });
    a.start(true, None);
    a.connect(&b);
    let id = a
        .engine
        .send_message("strict", r#"{"n": 1}"#, &to(&b))
        .unwrap();
    wait_until("B quarantines it", TRAVEL, || {
        b.received(Some(InboxStatus::Quarantined)).len() == 1
    });
    let held = &b.received(None)[0];
    assert_eq!((held.id.as_str(), held.attempts), (id.as_str(), 1));
    assert_eq!(
        held.last_error.as_deref(),
        Some(r#"{"n": 1} is not a known task"#)
    );
}
