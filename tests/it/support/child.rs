//! Child processes for multi-process tests: the test binary runs itself with
//! `INTEGRA_TEST_CHILD` set, and [`child_process_entry`] performs the task.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use integra::{
    DispatcherOptions, Engine, EngineOptions, ExchangeMessage, ManualClock, RegisterOptions,
    Registration, Timestamp,
};

const TASK: &str = "INTEGRA_TEST_CHILD";

/// Starts this test binary as a child performing `task` with `args` (environment
/// variables).
pub fn spawn(task: &str, args: &[(&str, String)]) -> Child {
    spawn_with_stdout(task, args, Stdio::null())
}

/// [`spawn`], with the child's standard output going to `stdout` (`Stdio::piped()` to read
/// what it reports).
pub fn spawn_with_stdout(task: &str, args: &[(&str, String)], stdout: Stdio) -> Child {
    command(task, args).stdout(stdout).spawn().unwrap()
}

/// The command that runs this test binary as a child performing `task` with `args`, for a
/// test that changes how it runs (its user, its limits) before starting it.
pub fn command(task: &str, args: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "support::child::child_process_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(TASK, task)
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    for (k, v) in args {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the task `dispatch` on the database at `db` (a [`crate::support::TestEngine`]'s, at
/// its clock's time) in a child whose operating system's certificate store is the file
/// `store` alone (`SSL_CERT_FILE`), and waits for it: what a host whose administrator added
/// a CA to its store does. The machine's own store is left alone.
pub fn dispatch_with_certificate_store(db: &std::path::Path, store: &std::path::Path) {
    let status = command(
        "dispatch",
        &[
            ("DB", db.display().to_string()),
            ("CLOCK_MS", crate::support::T0.to_string()),
            ("SSL_CERT_FILE", store.display().to_string()),
        ],
    )
    .env_remove("SSL_CERT_DIR")
    .status()
    .unwrap();
    assert!(status.success());
}

/// `cmd` run by `sh` with its files limited to `bytes` (`ulimit -f`, in 512-byte blocks)
/// and SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of killing
/// the process.
pub fn with_file_size_limit(cmd: &Command, bytes: u64) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!(
            "ulimit -f {}; trap '' XFSZ; exec \"$@\"",
            bytes / 512
        ))
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            sh.env(key, value);
        }
    }
    sh.stderr(Stdio::inherit());
    sh
}

fn arg(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child needs {name}"))
}

/// Runs the task named in `INTEGRA_TEST_CHILD`; an ordinary test run passes at once.
#[test]
fn child_process_entry() {
    let Ok(task) = std::env::var(TASK) else {
        return;
    };
    let mut options = EngineOptions::default();
    if let Ok(ms) = std::env::var("CLOCK_MS") {
        let start = Timestamp::from_millis(ms.parse().unwrap());
        options.clock = Arc::new(ManualClock::new(start));
    }
    if let Ok(ms) = std::env::var("LEASE_MS") {
        options.lease = Duration::from_millis(ms.parse().unwrap());
    }
    let engine = match (Engine::open(arg("DB"), options), task.as_str()) {
        // Only open, printing `ERROR <why>` when that fails (storage_faults).
        (Err(e), "open") => return println!("ERROR {e}"),
        (engine, _) => engine.unwrap(),
    };
    match task.as_str() {
        "open" => println!("OPENED"),
        // Under a file-size limit (storage_faults): register a batch of BATCH messages,
        // printing `BATCH <why>` when it fails, then single messages, printing `ACK <id>` for
        // each until one fails with `FULL <why>`; then `COUNTED <n>`, the messages counted.
        "register_until_full" => {
            let pad = "x".repeat(1000);
            let source = |what: &str, n: usize| format!(r#"{{"{what}": {n}, "pad": "{pad}"}}"#);
            let batch = (0..arg("BATCH").parse().unwrap())
                .map(|n| Registration {
                    source: source("batch", n),
                    options: RegisterOptions::default(),
                })
                .collect();
            if let Err(e) = engine.register_batch("ORDERS", batch) {
                println!("BATCH {e}");
            }
            for n in 0.. {
                match engine.register("ORDERS", &source("n", n), &RegisterOptions::default()) {
                    Ok(id) => println!("ACK {id}"),
                    Err(e) => {
                        println!("FULL {e}");
                        break;
                    }
                }
            }
            let counted: u64 = engine.counts().unwrap().messages.values().sum();
            println!("COUNTED {counted}");
        }
        // Register COUNT messages tagged TAG, then dispatch until they are all handled.
        "register_and_dispatch" => {
            let count: usize = arg("COUNT").parse().unwrap();
            let tag = arg("TAG");
            for i in 0..count {
                let source = format!(r#"{{"tag": "{tag}", "n": {i}}}"#);
                engine
                    .register("ORDERS", &source, &RegisterOptions::default())
                    .unwrap();
                if i % 50 == 0 {
                    engine.dispatch(20, Duration::from_secs(10)).unwrap();
                }
            }
            while engine
                .dispatch(1000, Duration::from_secs(10))
                .unwrap()
                .total()
                > 0
            {}
        }
        // Dispatch in the background and register a message every PACE_US microseconds,
        // printing `ACK <id>` once each registration has returned, until killed.
        "crash_worker" => {
            engine
                .start_dispatcher(
                    DispatcherOptions::default().with_poll_interval(Duration::from_millis(20)),
                )
                .unwrap();
            let pace = Duration::from_micros(arg("PACE_US").parse().unwrap());
            for n in 0.. {
                let id = engine
                    .register(
                        "ORDERS",
                        &format!(r#"{{"n": {n}}}"#),
                        &RegisterOptions::default(),
                    )
                    .unwrap();
                println!("ACK {id}");
                std::thread::sleep(pace);
            }
        }
        // Dispatch once (the receiver hangs; the parent kills this process meanwhile).
        "dispatch" => {
            engine.dispatch(1000, Duration::from_secs(60)).unwrap();
        }
        // Serve listener "main", printing `LISTENING <address>`, until killed (or orphaned);
        // or print `REFUSED <why>` when it cannot start.
        "receiver" => match engine.start_receiver("main") {
            Ok(receiver) => {
                println!("LISTENING {}", receiver.local_addr());
                until_orphaned();
            }
            Err(e) => println!("REFUSED {e}"),
        },
        // Serve the message exchange until killed (or orphaned): the receiver of listener
        // "main"; with DISPATCHER=1 the background dispatcher; with HANDLED set, a Rust
        // handler of that channel, which fails on a body holding "fail".
        "exchange_base" => {
            let _receiver = engine.start_receiver("main").unwrap();
            if arg("DISPATCHER") == "1" {
                let options =
                    DispatcherOptions::default().with_poll_interval(Duration::from_millis(50));
                engine.start_dispatcher(options).unwrap();
            }
            if let Ok(channel) = std::env::var("HANDLED") {
                engine.set_channel_handler(&channel, |m: &ExchangeMessage| {
                    if m.body.contains("fail") {
                        Err(format!("message {} asked to fail", m.id))
                    } else {
                        Ok(())
                    }
                });
            }
            until_orphaned();
        }
        // Push the quick messages, and write the report's JSON to OUT.
        "deliver_messages" => {
            let report = engine.deliver_messages().unwrap();
            let json = serde_json::to_string(&report).unwrap();
            std::fs::write(arg("OUT"), json).unwrap();
        }
        other => panic!("unknown child task {other}"),
    }
}

/// Returns once the parent process is gone.
fn until_orphaned() {
    let parent = std::os::unix::process::parent_id();
    while std::os::unix::process::parent_id() == parent {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The address a child started with task `receiver` listens on, from its standard output
/// (which must be piped).
pub fn listening(child: &mut Child) -> std::net::SocketAddr {
    started(child).unwrap_or_else(|e| panic!("the child did not listen: {e}"))
}

/// The address a child started with task `receiver` listens on, or why it could not start,
/// from its standard output (which must be piped).
pub fn started(child: &mut Child) -> Result<std::net::SocketAddr, String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("the child's output is piped");
    let mut lines = std::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next() {
        let line = line.unwrap();
        let printed = line.rsplit_once(" ... ").map_or(line.as_str(), |(_, p)| p);
        if let Some(address) = printed.strip_prefix("LISTENING ") {
            return Ok(address.trim().parse().unwrap());
        }
        if let Some(why) = printed.strip_prefix("REFUSED ") {
            // Read what the child's test harness prints as it ends, so it never writes
            // into a closed pipe.
            lines.for_each(drop);
            return Err(why.to_owned());
        }
    }
    panic!("the child ended without listening");
}
