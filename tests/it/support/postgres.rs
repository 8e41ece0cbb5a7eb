//! PostgreSQL for the tests: the suite's server (`INTEGRA_TEST_POSTGRES`, else the one on
//! 127.0.0.1:5432 with a database `test`, which `scripts/postgres.sh start` provides when
//! none answers), a schema of its own per test, and private clusters for the tests that
//! restart or kill the server (never the shared one).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Runs `scripts/postgres.sh` with `args`, failing the test when it fails.
fn script(args: &[&str]) {
    let out = Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`scripts/postgres.sh {}` failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The suite's server, started when none answers; the schemas of an earlier run of the
/// suite are dropped the first time.
pub fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        let url = std::env::var("INTEGRA_TEST_POSTGRES").unwrap_or_else(|_| {
            script(&["start"]);
            "postgres://postgres@127.0.0.1:5432/test".to_owned()
        });
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let stale: Vec<String> = client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'it\\_%'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for schema in stale {
            client
                .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .unwrap();
        }
        url
    })
}

/// The URL of schema `it_<name>` (lowercase, `_` for what is not a letter or digit) on
/// `base`.
pub fn schema_on(base: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}schema=it_{name}")
}

/// The URL of schema `it_<name>` on the suite's server.
pub fn schema_url(name: &str) -> String {
    schema_on(server(), name)
}

/// A fresh schema on the suite's server, whichever store the suite runs on: for the tests
/// of the PostgreSQL store itself.
pub fn fresh_schema() -> String {
    schema_url(&uuid::Uuid::new_v4().simple().to_string())
}

/// A client on the schema of `url` (a URL [`schema_on`] made).
pub fn connect(url: &str) -> postgres::Client {
    let (base, schema) = url.rsplit_once("schema=").unwrap();
    let base = base.trim_end_matches(['?', '&']);
    let mut client = postgres::Client::connect(base, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .unwrap();
    client
}

/// Runs `sql` on the suite's server.
pub fn execute(sql: &str) {
    postgres::Client::connect(server(), postgres::NoTls)
        .unwrap()
        .batch_execute(sql)
        .unwrap();
}

/// A PostgreSQL cluster of a test's own, on a free port: stopped, killed and started again
/// as the test needs; removed when dropped.
pub struct Cluster {
    dir: PathBuf,
    pub port: u16,
    /// The certificate and key it serves TLS with.
    tls: Option<(PathBuf, PathBuf)>,
}

impl Cluster {
    /// A new cluster, running.
    pub fn start() -> Cluster {
        Cluster::start_serving_tls(None)
    }

    /// A new cluster, running, serving TLS with the certificate and key `tls` names.
    pub fn start_serving_tls(tls: Option<(PathBuf, PathBuf)>) -> Cluster {
        script(&["install"]);
        let cluster = Cluster {
            // Outside the checkout, which may be private to its owner: the server runs as
            // `postgres` when the tests run as root.
            dir: PathBuf::from(format!(
                "/var/tmp/integra-pg-{}",
                uuid::Uuid::new_v4().simple()
            )),
            port: super::brokers::free_port(),
            tls,
        };
        cluster.up();
        cluster
    }

    fn run(&self, action: &str) {
        let mut command =
            Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh"));
        command.args([
            "cluster",
            &self.dir.to_string_lossy(),
            &self.port.to_string(),
            action,
        ]);
        if let Some((cert, key)) = &self.tls {
            command.env("PG_SSL_CERT", cert).env("PG_SSL_KEY", key);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "`scripts/postgres.sh cluster … {action}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server (again).
    pub fn up(&self) {
        self.run("up");
    }

    /// Stops the server, letting sessions end.
    pub fn down(&self) {
        self.run("down");
    }

    /// The URL of the database `test` on it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh"))
            .args([
                "cluster",
                &self.dir.to_string_lossy(),
                &self.port.to_string(),
                "kill",
            ])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
