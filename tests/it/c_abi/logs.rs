//! The C library's log (issue 15): a C program (`tests/c/log.c`) opens with a log in its open
//! settings and makes deliveries fail; its file has one line per event with the time, level,
//! target, message and key-values, at the level asked for, rotated by size; bad log settings
//! are refused naming the setting, and handles in one process share one log.

use std::path::Path;
use std::process::Command;

use super::{compile, run};
use crate::support::brokers::free_port;

/// Runs `tests/c/log.c` in `dir` with `args` after the mode; its output.
fn log_program(dir: &Path, mode: &str, args: &[&str]) -> String {
    let program = compile("tests/c/log.c", dir, &[]);
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    run(Command::new(&program)
        .arg(mode)
        .arg(dir)
        .arg(nowhere)
        .args(args))
}

/// Runs the `events` mode: `messages` messages, each ending dead for one subscriber and
/// failing once for the other; the first message's id.
fn events(dir: &Path, level: &str, max_bytes: u64, keep: u32, messages: u32) -> String {
    let output = log_program(
        dir,
        "events",
        &[
            level,
            &max_bytes.to_string(),
            &keep.to_string(),
            &messages.to_string(),
        ],
    );
    assert!(output.contains("events passed"), "{output}");
    output
        .lines()
        .find_map(|l| l.strip_prefix("first message "))
        .expect("the program prints the first message's id")
        .to_owned()
}

/// The lines of the log file `name` in `dir`.
fn log_lines(dir: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    text.lines().map(str::to_owned).collect()
}

/// Checks one line's shape: `2026-05-01T10:00:00.123Z LEVEL target: message key=value…`,
/// the time in UTC with milliseconds, the level padded to five characters.
fn assert_line_shape(line: &str) {
    let (time, rest) = line.split_at_checked(24).expect("a timestamp");
    let digits = |range: std::ops::Range<usize>| time[range].bytes().all(|b| b.is_ascii_digit());
    assert!(
        digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13) && digits(14..16),
        "{line}"
    );
    assert!(digits(17..19) && digits(20..23), "{line}");
    assert_eq!(
        (
            &time[4..5],
            &time[7..8],
            &time[10..11],
            &time[19..20],
            &time[23..]
        ),
        ("-", "-", "T", ".", "Z"),
        "{line}"
    );
    let level = &rest[1..6];
    assert!(
        ["ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"].contains(&level),
        "{line}"
    );
    let target = rest[7..].split(": ").next().unwrap();
    assert!(
        !target.is_empty() && !target.contains(' '),
        "no target: {line}"
    );
}

/// Issue 15: a C program's deliveries that end dead are in its log file, one line each, with
/// the level, the target, the message and the key-values Integra logs them with; a delivery
/// that will be retried is a debug line, not written at level info.
#[test]
fn a_c_programs_log_has_each_dead_delivery_with_its_key_values() {
    let dir = tempfile::tempdir().unwrap();
    let first = events(dir.path(), "info", 10 << 20, 5, 3);
    let lines = log_lines(dir.path(), "integra.log");
    for line in &lines {
        assert_line_shape(line);
    }
    let dead: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(" WARN  integra_core::dispatch: delivery is dead after 1 attempts"))
        .collect();
    assert_eq!(dead.len(), 3, "{lines:#?}");
    let expected = format!(" flow=ORDERS subscriber=once message={first} attempt=1");
    assert!(
        dead.iter().any(|l| l.ends_with(&expected)),
        "no line ends with {expected:?}: {lines:#?}"
    );
    assert!(
        lines[0].contains(" INFO  integra_core::json_api::log_file: log opened")
            && lines[0].contains(" level=info max_bytes=10485760 keep=5"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains(" DEBUG ")),
        "debug lines at level info: {lines:#?}"
    );
    assert!(lines.last().unwrap().contains("log closed"), "{lines:#?}");
}

/// Issue 15: the level filters: at `debug` a failed attempt that will be retried is written,
/// at `warn` only warnings and errors are.
#[test]
fn the_log_level_filters_lines() {
    let debug = tempfile::tempdir().unwrap();
    events(debug.path(), "debug", 10 << 20, 5, 1);
    let lines = log_lines(debug.path(), "integra.log");
    assert!(
        lines.iter().any(|l| l
            .contains(" DEBUG integra_core::dispatch: delivery failed, to be retried")
            && l.contains(" flow=ORDERS subscriber=again message=")),
        "{lines:#?}"
    );
    let warn = tempfile::tempdir().unwrap();
    events(warn.path(), "warn", 10 << 20, 5, 1);
    let lines = log_lines(warn.path(), "integra.log");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" WARN  integra_core::dispatch: delivery is dead")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" WARN  ") || l.contains(" ERROR ")),
        "lines under warn at level warn: {lines:#?}"
    );
}

/// Issue 15: the log rotates by size: `integra.log`, `integra.log.1` … `integra.log.<keep>`,
/// no more (the oldest is deleted), and none larger than `max_bytes` and one line.
#[test]
fn the_log_rotates_by_size_keeping_at_most_keep_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let max_bytes = 4096;
    events(dir.path(), "info", max_bytes, 2, 100);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("integra.log"))
        .collect();
    names.sort();
    assert_eq!(names, ["integra.log", "integra.log.1", "integra.log.2"]);
    for name in &names {
        let lines = log_lines(dir.path(), name);
        let longest = lines.iter().map(|l| l.len() + 1).max().unwrap_or(0);
        let size = std::fs::metadata(dir.path().join(name)).unwrap().len();
        assert!(
            size <= max_bytes + longest as u64,
            "{name} has {size} bytes, over {max_bytes} and a line of {longest}"
        );
        for line in &lines {
            assert_line_shape(line);
        }
    }
    // The rotated files are full: 100 dead deliveries filled more than three files.
    let rotated = std::fs::metadata(dir.path().join("integra.log.2"))
        .unwrap()
        .len();
    assert!(rotated > max_bytes / 2, "integra.log.2 has {rotated} bytes");
}

/// Issue 15: a bad log setting is refused naming it, and nothing is opened then (no
/// database, no log file); handles share the process's one log, a handle asking for another
/// is refused while it is in use, and once the last handle that named it lets go the log is
/// closed and another can be opened.
#[test]
fn bad_log_settings_are_refused_and_handles_share_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let output = log_program(dir.path(), "refusals", &[]);
    assert!(output.contains("refusals passed"), "{output}");
    let shared = log_lines(dir.path(), "shared.log");
    assert_eq!(
        shared.iter().filter(|l| l.contains("log opened")).count(),
        1,
        "{shared:#?}"
    );
    assert!(shared.last().unwrap().contains("log closed"), "{shared:#?}");
    let next = log_lines(dir.path(), "next.log");
    assert!(
        next[0].contains("log opened") && next[0].contains(" level=debug "),
        "{next:#?}"
    );
}
