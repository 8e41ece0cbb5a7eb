//! Storage faults: a read-only database, a full disk (a file-size limit on a child process),
//! a damaged file, a file deleted or replaced under the engine; the integrity check that
//! reports what is wrong (issue 10); handles of one process sharing an engine (issue 15).

use std::fs::{OpenOptions, Permissions};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use integra::json_api::{Handle, OWN_MEMORY};
use integra::{
    Engine, EngineOptions, IntegrityCheck, IntegrityMode, IntegrityProblem, RegisterOptions,
};
use serde_json::json;

use crate::support::http::{get, post};
use crate::support::{TestEngine, child, http_config};

/// An engine with `n` messages registered on flow ORDERS, each with a delivery to
/// subscriber `a`.
fn engine_with_messages(n: usize) -> (TestEngine, Vec<String>) {
    let t = TestEngine::on_file(&http_config("http://127.0.0.1:1", &["a"]));
    let ids = (0..n)
        .map(|i| {
            let source = format!(r#"{{"n": {i}, "text": "{}"}}"#, "y".repeat(200));
            t.engine
                .register("ORDERS", &source, &RegisterOptions::default())
                .unwrap()
                .into()
        })
        .collect();
    (t, ids)
}

fn db_path(t: &TestEngine) -> std::path::PathBuf {
    t.dir.path().join("integra.db")
}

/// What the integrity check reports, and that it is ok exactly when nothing is listed.
fn problems(engine: &Engine, mode: IntegrityMode) -> Vec<IntegrityProblem> {
    let report = engine.check_integrity(mode).unwrap();
    assert_eq!(report.mode, mode);
    assert_eq!(report.ok, report.problems.is_empty(), "{report:?}");
    report.problems
}

/// Runs a child to its end and returns the lines it printed.
fn child_lines(mut cmd: Command) -> Vec<String> {
    let out = cmd.stdout(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "the child failed: {:?}", out.status);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The text after `prefix ` of each line that has it (the test harness prints the first
/// on its own line's end).
fn tagged<'a>(lines: &'a [String], prefix: &str) -> Vec<&'a str> {
    lines
        .iter()
        .map(|l| {
            l.rsplit_once(" ... ")
                .map_or(l.as_str(), |(_, printed)| printed)
        })
        .filter_map(|l| l.strip_prefix(prefix)?.strip_prefix(' '))
        .collect()
}

/// The row id of the message with id `uuid`.
fn row_id(conn: &rusqlite::Connection, uuid: &str) -> i64 {
    conn.query_row("SELECT id FROM message WHERE uuid = ?1", [uuid], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn a_sound_database_checks_ok_and_damage_done_behind_integras_back_is_named() {
    let (t, ids) = engine_with_messages(20);
    for mode in [IntegrityMode::Quick, IntegrityMode::Full] {
        assert_eq!(problems(&t.engine, mode), []);
    }
    let json =
        serde_json::to_value(t.engine.check_integrity(IntegrityMode::Quick).unwrap()).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["mode"], "quick");
    assert_eq!(json["problems"], serde_json::json!([]));

    // Damage, as a bug or a hand edit would: a delivery deleted, a count altered, a message
    // deleted without its deliveries and history.
    let conn = rusqlite::Connection::open(db_path(&t)).unwrap();
    let (lost_delivery, lost_message) = (row_id(&conn, &ids[0]), row_id(&conn, &ids[1]));
    let of_lost_message =
        |sql| -> i64 { conn.query_row(sql, [lost_message], |r| r.get(0)).unwrap() };
    let orphan = of_lost_message("SELECT id FROM delivery WHERE message_id = ?1");
    let history = of_lost_message("SELECT COUNT(*) FROM message_history WHERE message_id = ?1");
    conn.execute_batch(&format!(
        "DELETE FROM delivery WHERE message_id = {lost_delivery};
         UPDATE queue_count SET n = n + 2 WHERE kind = 'message' AND status = 'dispatched';
         DELETE FROM message WHERE id = {lost_message};"
    ))
    .unwrap();

    let problem = |check, what: &str, location: String| (check, what.to_owned(), location);
    let expected = [
        problem(
            IntegrityCheck::Deliveries,
            &format!(
                "the delivery to subscriber 'a' belongs to message row {lost_message}, which does not exist"
            ),
            format!("table delivery, row {orphan}"),
        ),
        problem(
            IntegrityCheck::MessageStatus,
            "the message is dispatched, but of its 0 deliveries 0 are pending and 0 dead",
            format!("message '{}' (table message, row {lost_delivery})", ids[0]),
        ),
        // 20 counted, +2 altered, -1 by the delete's trigger; 19 rows.
        problem(
            IntegrityCheck::Counts,
            "21 counted, 19 there",
            "table queue_count: message of flow 'ORDERS' in status dispatched".to_owned(),
        ),
        problem(
            IntegrityCheck::History,
            &format!(
                "{history} history rows belong to message row {lost_message}, which does not exist"
            ),
            format!("table message_history, message row {lost_message}"),
        ),
    ];
    for mode in [IntegrityMode::Quick, IntegrityMode::Full] {
        let found: Vec<_> = problems(&t.engine, mode)
            .into_iter()
            .map(|p| (p.check, p.what, p.location))
            .collect();
        assert_eq!(found, expected);
    }
}

#[test]
fn the_check_reads_a_snapshot_while_another_engine_writes() {
    let (t, _) = engine_with_messages(50);
    let other = t.reopen();
    let writer = std::thread::spawn(move || {
        for i in 0..300 {
            other
                .register(
                    "ORDERS",
                    &format!(r#"{{"w": {i}}}"#),
                    &RegisterOptions::default(),
                )
                .unwrap();
        }
    });
    let mut checks = 0;
    while !writer.is_finished() || checks == 0 {
        assert_eq!(problems(&t.engine, IntegrityMode::Full), []);
        checks += 1;
    }
    writer.join().unwrap();
    let total: u64 = t.engine.counts().unwrap().messages.values().sum();
    assert_eq!(total, 350);
}

#[test]
fn a_page_of_garbage_is_reported_by_the_check_and_reading_it_fails_clearly() {
    let (t, ids) = engine_with_messages(300);
    let TestEngine { engine, dir, .. } = t;
    drop(engine);
    let path = dir.path().join("integra.db");
    // The message table's leftmost leaf: the first messages' rows.
    let (page, page_size): (u64, u64) = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let page = conn
            .query_row(
                "SELECT pageno FROM dbstat WHERE name = 'message' AND path = '/000/'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let size = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        (page, size)
    };
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    let garbage: Vec<u8> = (0..page_size).map(|i| (i * 7 + 13) as u8).collect();
    file.write_all_at(&garbage, (page - 1) * page_size).unwrap();
    drop(file);

    // The pages read at open are sound: it opens, the check names the damaged page, and
    // what reads it fails with an error that says the file is corrupt.
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    let found = problems(&engine, IntegrityMode::Quick);
    assert!(
        found.iter().any(|p| p.check == IntegrityCheck::Sqlite
            && p.location.to_lowercase().contains(&format!("page {page}"))),
        "{found:#?}"
    );
    let err = engine.message_status(&ids[0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "database '{}' is corrupt: database disk image is malformed; restore it from a backup",
            path.display()
        )
    );
}

/// True when this process runs as root, whom file permissions do not stop.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn a_read_only_database_is_refused_at_open_naming_the_file() {
    let (t, _) = engine_with_messages(3);
    let TestEngine { engine, dir, .. } = t;
    drop(engine);
    let path = dir.path().join("integra.db");
    std::fs::set_permissions(&path, Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), Permissions::from_mode(0o555)).unwrap();

    let error = if running_as_root() {
        // Root writes whatever the permissions say: open in a child that is root without
        // the capabilities that override them. (Not as another user: the checkout, where
        // the test binary is, may be private to root; issue 15.)
        let exe = std::env::current_exe().unwrap();
        let reopen = child::command("open", &[("DB", path.display().to_string())]);
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--bounding-set",
            "-dac_override,-dac_read_search,-fowner",
            "--",
        ])
        .arg(exe)
        .args(reopen.get_args())
        .envs(reopen.get_envs().filter_map(|(k, v)| Some((k, v?))));
        let lines = child_lines(cmd);
        tagged(&lines, "ERROR").concat()
    } else {
        Engine::open(&path, EngineOptions::default())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error,
        format!(
            "database '{}' is read-only: Integra must write to it and create its -wal and -shm files beside it; give this process write access to the file and its directory",
            path.display()
        )
    );
    std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();

    // Nothing was written: the file opens and checks ok once writable again.
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    assert_eq!(problems(&engine, IntegrityMode::Full), []);
}

#[test]
fn a_full_disk_fails_the_write_that_does_not_fit_and_keeps_every_one_before_it() {
    let (t, _) = engine_with_messages(0);
    let TestEngine { engine, dir, .. } = t;
    drop(engine);
    let path = dir.path().join("integra.db");
    let args = [
        ("DB", path.display().to_string()),
        ("BATCH", "2000".to_owned()),
    ];
    let limit = 1 << 20;
    let lines = child_lines(child::with_file_size_limit(
        &child::command("register_until_full", &args),
        limit,
    ));

    let full = |error: &str| {
        assert_eq!(
            error,
            format!(
                "database '{}' is full: a write failed (disk I/O error): the disk is full, the file reached its size limit, or the device failed; the write was rolled back and nothing of it was kept",
                path.display()
            )
        );
    };
    // The batch of 2000 messages (2 MB) does not fit in 1 MB, then singles fill it.
    let batch = tagged(&lines, "BATCH");
    assert_eq!(batch.len(), 1, "the batch fitted: {lines:?}");
    full(batch[0]);
    let acked = tagged(&lines, "ACK");
    assert!(
        acked.len() > 10,
        "only {} registrations fitted",
        acked.len()
    );
    let failed = tagged(&lines, "FULL");
    assert_eq!(failed.len(), 1, "{lines:?}");
    full(failed[0]);
    // The engine that hit the limit still reads, and counts only what it acknowledged.
    assert_eq!(tagged(&lines, "COUNTED"), [acked.len().to_string()]);

    // Without the limit: every acknowledged registration is there, nothing of the batch or
    // of the one that failed, and the file is sound.
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    assert_eq!(problems(&engine, IntegrityMode::Full), []);
    let counted: u64 = engine.counts().unwrap().messages.values().sum();
    assert_eq!(counted, acked.len() as u64);
    for (n, id) in acked.iter().enumerate() {
        let message = engine.message_status(id).unwrap();
        let source: serde_json::Value = serde_json::from_str(message.source.get()).unwrap();
        assert_eq!(source["n"], n);
    }
    eprintln!(
        "{} registrations fitted under a {limit}-byte file-size limit",
        acked.len()
    );
    // And it writes again.
    engine
        .register("ORDERS", "{}", &RegisterOptions::default())
        .unwrap();
}

/// A database file deleted or replaced under a running engine is noticed: every write is
/// refused naming what happened, the integrity check reports it, and a front-door handle
/// that opens the path again gets an engine on the file that is there now (issue 15).
#[test]
fn a_database_deleted_or_replaced_under_the_engine_refuses_new_work() {
    for replace in [false, true] {
        let (t, ids) = engine_with_messages(2);
        let path = db_path(&t);
        std::fs::remove_file(&path).unwrap();
        let how = if replace {
            // Another process makes a fresh database at the path (with no WAL of the old
            // one beside it, which SQLite would apply to the new file).
            for suffix in ["-wal", "-shm"] {
                std::fs::remove_file(format!("{}{suffix}", path.display())).unwrap();
            }
            drop(Engine::open(&path, EngineOptions::default()).unwrap());
            "was replaced by another file"
        } else {
            "was deleted"
        };
        let expected = format!(
            "database '{}' {how} while this engine had it open; new work is refused, since it would be kept only in a file no other process can reach; put the file back, or open the engine again",
            path.display()
        );
        let err = t
            .engine
            .register("ORDERS", "{}", &RegisterOptions::default())
            .unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(t.engine.retry(&Default::default(), "again").is_err());
        let found = problems(&t.engine, IntegrityMode::Quick);
        assert_eq!(found[0].check, IntegrityCheck::File, "{found:?}");
        assert_eq!(found[0].what, expected);
        // What was acknowledged before is still in the file the engine has open.
        assert!(t.engine.message_status(&ids[0]).is_ok());
    }
}

/// The receiver of an engine whose database file was deleted says so: `/health` and a
/// message sent to it are answered 503 naming what happened (issue 15).
#[test]
fn health_and_the_receiver_report_a_deleted_database() {
    let config = json!({
        "flows": [{"code": "IN", "direction": "incoming"}],
        "listeners": [{"code": "main", "address": "127.0.0.1:0",
                       "routes": [{"prefix": "/in", "flow": "IN", "auth": {"type": "none"}}]}]
    });
    let t = TestEngine::on_file(&config);
    let receiver = t.engine.start_receiver("main").unwrap();
    let url = |path: &str| format!("http://{}{path}", receiver.local_addr());
    assert_eq!(get(&url("/health"), &[]).0, 200);
    std::fs::remove_file(db_path(&t)).unwrap();
    let (status, body) = get(&url("/health"), &[]);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("was deleted while this engine had it open"),
        "{body}"
    );
    let (status, body, _) = post(&url("/in/x"), &[("X-Message-ID", "m-1")], "{}");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("was deleted while this engine had it open"),
        "{body}"
    );
}

/// A handle of the front doors (the C ABI, the add-in) that opens a path whose engine lost
/// its file gets an engine on the file there now, not the one refusing all work (issue 15).
#[test]
fn a_handle_opening_a_replaced_database_gets_the_file_there_now() {
    let (t, _) = engine_with_messages(1);
    let settings =
        json!({"database": db_path(&t), "config": http_config("http://127.0.0.1:1", &["a"])})
            .to_string();
    let mut first = Handle::new();
    first.open(&settings).unwrap();
    std::fs::remove_file(db_path(&t)).unwrap();
    assert!(
        first
            .register_message("ORDERS", "{}", false, "", OWN_MEMORY)
            .is_err()
    );
    let mut second = Handle::new();
    second.open(&settings).unwrap();
    second
        .register_message("ORDERS", "{}", false, "", OWN_MEMORY)
        .unwrap();
    let counts = second.engine().unwrap().counts().unwrap();
    assert_eq!(counts.messages.values().sum::<u64>(), 1, "{counts:?}");
}

/// Handles on one database in one process share its engine, and so its durability: a
/// handle asking for another durability is refused, naming both, instead of silently
/// getting the first one's (issue 15).
#[test]
fn a_handle_asking_for_another_durability_than_the_shared_engine_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("integra.db");
    let mut normal = Handle::new();
    normal
        .open(&json!({"database": database, "durability": "normal"}).to_string())
        .unwrap();
    let mut full = Handle::new();
    let err = full
        .open(&json!({"database": database, "durability": "full"}).to_string())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid durability: database '{}' is open in this process with durability 'normal', and all handles on one database share its engine; open it with 'normal' too, or close the other handles first",
            database.canonicalize().unwrap().display()
        )
    );
    assert!(full.engine().is_err(), "the refused handle has no engine");
    full.open(&json!({"database": database}).to_string())
        .unwrap();
    // Once the other handles are closed, the engine opens with what is asked.
    normal.close();
    full.close();
    full.open(&json!({"database": database, "durability": "full"}).to_string())
        .unwrap();
}
