//! The primitives every goal is a ratio against, measured in the same run on the same data
//! directory: fdatasync latency, bare SQLite inserts with Integra's PRAGMAs (WAL, its
//! `synchronous` setting, automatic checkpoints off and a checkpoint thread doing them every
//! 256 commits, as Integra's writer does), group commit, claim + acknowledge, loopback HTTP
//! with the HTTP client Integra uses (ureq 3, configured as Integra configures it), and
//! parsing + validating the scenario payload.
//!
//! The bare table is the naive outbox of the performance notes: a row per message, one
//! index on (status, id), a history table written on acknowledgement.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rusqlite::Connection;
use serde::Serialize;

use crate::server::Sink;
use crate::stats::{Latencies, rate};

/// Commits between two checkpoints (Integra's writer uses the same).
const CHECKPOINT_EVERY: u32 = 256;

/// SQLite's `synchronous` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// `NORMAL`: survives a process crash.
    Normal,
    /// `FULL`: an fsync per commit.
    Full,
}

impl Sync {
    fn pragma(self) -> &'static str {
        match self {
            Sync::Normal => "NORMAL",
            Sync::Full => "FULL",
        }
    }
}

/// A bare database with Integra's PRAGMAs and the naive outbox schema.
struct Bare {
    conn: Connection,
    commits: u32,
    checkpoints: Sender<()>,
    _checkpointer: std::thread::JoinHandle<()>,
}

impl Bare {
    fn open(path: &Path, sync: Sync) -> rusqlite::Result<Bare> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "synchronous", sync.pragma())?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS msg (id INTEGER PRIMARY KEY, flow TEXT NOT NULL,
                 status INTEGER NOT NULL, created_at INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS msg_status ON msg (status, id);
             CREATE TABLE IF NOT EXISTS history (msg_id INTEGER NOT NULL, at INTEGER NOT NULL,
                 status INTEGER NOT NULL);",
        )?;
        let checkpoint = Connection::open(path)?;
        checkpoint.busy_timeout(Duration::from_secs(10))?;
        let (tx, rx): (Sender<()>, Receiver<()>) = crossbeam_channel::bounded(1);
        let thread = std::thread::spawn(move || {
            while rx.recv().is_ok() {
                let _ = checkpoint.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
            }
        });
        Ok(Bare {
            conn,
            commits: 0,
            checkpoints: tx,
            _checkpointer: thread,
        })
    }

    /// Counts a commit; asks for a checkpoint every [`CHECKPOINT_EVERY`].
    fn committed(&mut self) {
        self.commits += 1;
        if self.commits.is_multiple_of(CHECKPOINT_EVERY)
            && let Err(TrySendError::Disconnected(())) = self.checkpoints.try_send(())
        {
            eprintln!("the checkpoint thread stopped");
        }
    }

    fn insert(&self, payload: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO msg (flow, status, created_at, payload) VALUES ('ORDERS', 0, ?1, ?2)",
            )?
            .execute((now_ms(), payload))?;
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh file under `dir` for one probe.
fn fresh(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

/// The primitives of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Primitives {
    /// 4 KB overwrite + fdatasync, per second.
    pub fsync_per_s: f64,
    /// fdatasync latency, ms.
    pub fsync_p50_ms: f64,
    /// fdatasync latency, ms.
    pub fsync_p99_ms: f64,
    /// `I1N`: single-row insert transactions per second at NORMAL.
    pub insert_normal_per_s: f64,
    /// `I1F`: the same at FULL.
    pub insert_full_per_s: f64,
    /// `I100N`: rows per second at 100 rows per transaction, NORMAL.
    pub insert_100_normal_rows_per_s: f64,
    /// `GC(8)`: messages per second from 8 threads each waiting for its own commit, one
    /// writer thread committing what is queued, FULL.
    pub group_commit_8_full_per_s: f64,
    /// `CA100`: messages per second claimed 100 at a time and acknowledged with history.
    pub claim_ack_100_per_s: f64,
    /// `H`: loopback requests per second, 1 KB POST, one keep-alive connection.
    pub http_per_s: f64,
    /// Loopback request latency, µs.
    pub http_p50_us: f64,
    /// `PV`: parse + validate of the scenario payload, per second.
    pub parse_validate_per_s: f64,
}

/// Measures fdatasync of a 4 KB overwrite for `time`.
pub fn fsync(dir: &Path, time: Duration) -> std::io::Result<Latencies> {
    let path = dir.join("fsync.probe");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = [0x5au8; 4096];
    file.write_all(&block)?;
    file.sync_all()?;
    let mut samples = Latencies::default();
    let start = Instant::now();
    while start.elapsed() < time {
        let t = Instant::now();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(t.elapsed());
    }
    samples.finish(start.elapsed());
    Ok(samples)
}

/// Rows per second inserted `rows_per_txn` at a time for `time`.
pub fn insert(
    dir: &Path,
    sync: Sync,
    rows_per_txn: usize,
    payload: &str,
    time: Duration,
) -> rusqlite::Result<f64> {
    let mut bare = Bare::open(&fresh(dir, "insert.db"), sync)?;
    let mut rows = 0u64;
    let start = Instant::now();
    while start.elapsed() < time {
        bare.conn.execute_batch("BEGIN IMMEDIATE")?;
        for _ in 0..rows_per_txn {
            bare.insert(payload)?;
        }
        bare.conn.execute_batch("COMMIT")?;
        bare.committed();
        rows += rows_per_txn as u64;
    }
    Ok(rate(rows, start.elapsed()))
}

/// Messages per second from `threads` callers, each waiting until its message is
/// committed, with one writer thread committing everything queued (up to 256) per
/// transaction.
pub fn group_commit(
    dir: &Path,
    threads: usize,
    sync: Sync,
    payload: &str,
    time: Duration,
) -> rusqlite::Result<f64> {
    type Request = Sender<()>;
    let mut bare = Bare::open(&fresh(dir, "group.db"), sync)?;
    let (tx, rx) = crossbeam_channel::unbounded::<Request>();
    let payload: Arc<str> = Arc::from(payload);
    let writer = {
        let payload = Arc::clone(&payload);
        std::thread::spawn(move || -> rusqlite::Result<u64> {
            let mut done = 0u64;
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter().take(255));
                bare.conn.execute_batch("BEGIN IMMEDIATE")?;
                for _ in &batch {
                    bare.insert(&payload)?;
                }
                bare.conn.execute_batch("COMMIT")?;
                bare.committed();
                done += batch.len() as u64;
                for reply in batch {
                    let _ = reply.send(());
                }
            }
            Ok(done)
        })
    };
    let start = Instant::now();
    let callers: Vec<_> = (0..threads)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
                while start.elapsed() < time {
                    if tx.send(reply_tx.clone()).is_err() || reply_rx.recv().is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        let _ = caller.join();
    }
    let elapsed = start.elapsed();
    drop(tx);
    let done = writer.join().map_err(|_| rusqlite::Error::InvalidQuery)??;
    Ok(rate(done, elapsed))
}

/// Messages per second claimed `n` at a time (one `UPDATE … RETURNING` transaction) and
/// acknowledged (one transaction marking them done and writing their history), from a
/// table of `backlog` pending rows, for at most `time`.
pub fn claim_ack(
    dir: &Path,
    n: usize,
    backlog: usize,
    payload: &str,
    time: Duration,
) -> rusqlite::Result<f64> {
    let mut bare = Bare::open(&fresh(dir, "claim.db"), Sync::Normal)?;
    for chunk in (0..backlog).collect::<Vec<_>>().chunks(1000) {
        bare.conn.execute_batch("BEGIN IMMEDIATE")?;
        for _ in chunk {
            bare.insert(payload)?;
        }
        bare.conn.execute_batch("COMMIT")?;
        bare.committed();
    }
    let mut acked = 0u64;
    let start = Instant::now();
    while start.elapsed() < time {
        bare.conn.execute_batch("BEGIN IMMEDIATE")?;
        let claimed: Vec<(i64, String)> = bare
            .conn
            .prepare_cached(
                "UPDATE msg SET status = 1, attempts = attempts + 1 WHERE id IN
                   (SELECT id FROM msg WHERE status = 0 ORDER BY id LIMIT ?1)
                 RETURNING id, payload",
            )?
            .query_map([n], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        bare.conn.execute_batch("COMMIT")?;
        bare.committed();
        if claimed.is_empty() {
            break;
        }
        bare.conn.execute_batch("BEGIN IMMEDIATE")?;
        for (id, body) in &claimed {
            std::hint::black_box(body.len());
            bare.conn
                .prepare_cached("UPDATE msg SET status = 2 WHERE id = ?1")?
                .execute([id])?;
            bare.conn
                .prepare_cached("INSERT INTO history (msg_id, at, status) VALUES (?1, ?2, 2)")?
                .execute((id, now_ms()))?;
        }
        bare.conn.execute_batch("COMMIT")?;
        bare.committed();
        acked += claimed.len() as u64;
    }
    Ok(rate(acked, start.elapsed()))
}

/// The HTTP client Integra uses, configured as Integra configures an endpoint's.
pub fn http_agent() -> ureq::Agent {
    let timeout = Some(Duration::from_secs(30));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_send_request(timeout)
        .timeout_send_body(timeout)
        .timeout_recv_response(timeout)
        .timeout_recv_body(timeout)
        .build()
        .new_agent()
}

/// Loopback requests: `payload` POSTed to `sink` over one keep-alive connection for
/// `time`.
pub fn http(sink: &Sink, payload: &str, time: Duration) -> Result<Latencies, ureq::Error> {
    let agent = http_agent();
    let url = format!("{}/orders", sink.url);
    let mut samples = Latencies::default();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        let t = Instant::now();
        let mut response = agent
            .post(&url)
            .header("X-Message-ID", n.to_string())
            .content_type("application/json")
            .send(payload)?;
        response.body_mut().read_to_vec()?;
        samples.push(t.elapsed());
        n += 1;
    }
    samples.finish(start.elapsed());
    Ok(samples)
}

/// Parses and validates `payload` against `schema` (precompiled) for `time`; per second.
pub fn parse_validate(payload: &str, schema: &jsonschema::Validator, time: Duration) -> f64 {
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < time {
        for _ in 0..100 {
            let value: serde_json::Value =
                serde_json::from_str(std::hint::black_box(payload)).unwrap_or_default();
            std::hint::black_box(schema.is_valid(&value));
        }
        n += 100;
    }
    rate(n, start.elapsed())
}
