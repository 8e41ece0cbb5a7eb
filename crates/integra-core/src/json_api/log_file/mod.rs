//! The log of the C library and the 1C add-in: a file named in the open settings
//! ([`LogSettings`]), where Integra's `log` records go as one line each ([`line`]): deliveries,
//! forming and processing that end dead, lost leases, sources' and receivers' failures. A
//! Rust program installs a logger of its own; a C program or a 1C server has none, and
//! without this log those events would be invisible.
//!
//! Design decisions:
//! * **One log per process.** The `log` crate has one logger per process (in the C library
//!   and the add-in, per library: each carries its own copy of the crate). The first handle
//!   whose open settings name a log installs Integra's logger and opens the file; handles
//!   naming the same settings share it; a handle naming other settings is refused, naming
//!   the log in use, for as long as a handle that named it is open (as handles on one
//!   database must agree on its durability). An Open that names no log neither uses nor
//!   changes it. When the last handle that named the log closes, the file is closed (a 1C
//!   server keeps no descriptor of an add-in whose objects are all gone) and another log
//!   may be opened. Every engine of the process logs to it while it is open. Refusing,
//!   rather than letting the latest Open win, keeps a 1C server that hosts several bases
//!   from moving its log from file to file and level to level as sessions open objects.
//! * **A logger already installed** (a Rust program that has its own): Integra's lines go
//!   there, and the settings' log is checked but not opened; a warning says so, once.
//! * **Only Integra's debug lines.** Records of Integra's own modules are written at the
//!   level asked for; other libraries' (HTTP, TLS, brokers' clients) at `warn` and `error`
//!   only, since their debug and trace output is theirs, not Integra's, and may hold what
//!   Integra keeps out of its own lines (ureq dumps raw requests, credentials included, at
//!   trace). Integra's lines never hold a secret.
//! * **Rotation by size**, by `log4rs`'s rolling file appender and size trigger: once the
//!   file passes `max_bytes` after a line, it becomes `file.1`, `file.1` becomes `file.2`,
//!   … up to `file.<keep>`, the oldest deleted ([`rotation`]), and a new file is started;
//!   so a file holds at most `max_bytes` and one line. No thread is started: a record is
//!   formatted by the thread that logs it and written with one `write` (no `fsync`) under a
//!   lock, so a caller waits for the page cache, not the disk. A rotation that fails (the
//!   directory made read-only) is written into the log once, and retried after each line.
//! * **Several processes** may name one file (a 1C cluster's working processes): lines are
//!   appended whole (`O_APPEND`, one `write` per line) and none is lost, but each process
//!   rotates by what it wrote itself, so a file may grow to about `max_bytes` per process.

mod line;
mod rotation;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use log::{Level, LevelFilter, Log, Metadata, Record};
use log4rs::append::Append;
use log4rs::append::rolling_file::RollingFileAppender;
use log4rs::append::rolling_file::policy::compound::CompoundPolicy;
use log4rs::append::rolling_file::policy::compound::trigger::size::SizeTrigger;
use log4rs::encode::pattern::PatternEncoder;

use super::settings::LogSettings;
use crate::error::{Error, Result};
use crate::limits::quoted;
use crate::time::{Clock, SystemClock};
use rotation::Shift;

/// The logger Integra installs: it writes to the log in use, if any.
struct FrontDoorLog;

static LOGGER: FrontDoorLog = FrontDoorLog;

/// The log in use: none until a handle names one, none again once the last lets go.
static ACTIVE: RwLock<Option<Arc<Sink>>> = RwLock::new(None);

fn active() -> RwLockReadGuard<'static, Option<Arc<Sink>>> {
    ACTIVE.read().unwrap_or_else(PoisonError::into_inner)
}

fn active_mut() -> RwLockWriteGuard<'static, Option<Arc<Sink>>> {
    ACTIVE.write().unwrap_or_else(PoisonError::into_inner)
}

/// Whether Integra's logger is the process's: installs it the first time it is asked, and
/// is false for good when the program had installed one of its own.
fn ours() -> bool {
    static OURS: OnceLock<bool> = OnceLock::new();
    *OURS.get_or_init(|| log::set_logger(&LOGGER).is_ok())
}

impl Log for FrontDoorLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        active().as_ref().is_some_and(|sink| sink.accepts(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        let sink = active().clone();
        if let Some(sink) = sink {
            sink.write(record);
        }
    }

    fn flush(&self) {}
}

/// Whether a target is one of Integra's crates (`integra`, `integra_core`, `integra_addin`).
fn is_integra(target: &str) -> bool {
    target
        .split("::")
        .next()
        .is_some_and(|krate| krate == "integra" || krate.starts_with("integra_"))
}

/// An open log file.
struct Sink {
    settings: LogSettings,
    appender: RollingFileAppender,
    /// The handles that hold it; changed only under [`ACTIVE`]'s write lock.
    users: AtomicUsize,
    /// The last failure to write that was written about, so a lasting one is written once.
    failure: Mutex<Option<String>>,
    /// Whether the last write failed.
    failing: AtomicBool,
}

impl Sink {
    /// Opens the file the settings name (creating it when missing), after checking its
    /// directory can be written (rotation renames and creates files there).
    ///
    /// # Errors
    /// [`Error::LogFile`] naming the file.
    fn open(settings: &LogSettings) -> Result<Sink> {
        let name = settings.file.to_string_lossy();
        let failed = |reason: String| Error::LogFile {
            file: quoted(&name).into_owned(),
            reason,
        };
        probe(settings.directory()).map_err(|e| {
            let dir = settings.directory().to_string_lossy();
            failed(format!(
                "its directory '{}' cannot be written: {e}",
                quoted(&dir)
            ))
        })?;
        let policy = CompoundPolicy::new(
            Box::new(SizeTrigger::new(settings.max_bytes)),
            Box::new(Shift::new(settings.keep)),
        );
        let appender = RollingFileAppender::builder()
            .encoder(Box::new(PatternEncoder::new("{m}")))
            .build(&settings.file, Box::new(policy))
            .map_err(|e| failed(e.to_string()))?;
        Ok(Sink {
            settings: settings.clone(),
            appender,
            users: AtomicUsize::new(0),
            failure: Mutex::new(None),
            failing: AtomicBool::new(false),
        })
    }

    /// Whether a record is written: Integra's at the level asked for, others' at `warn`
    /// and `error` only.
    fn accepts(&self, metadata: &Metadata<'_>) -> bool {
        let level = self.settings.level.filter();
        let limit = if is_integra(metadata.target()) {
            level
        } else {
            level.min(LevelFilter::Warn)
        };
        metadata.level() <= limit
    }

    /// Writes `record` when its level is accepted.
    fn write(&self, record: &Record<'_>) {
        if !self.accepts(record.metadata()) {
            return;
        }
        match self.append(record) {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
                }
            }
            Err(error) => self.failed(error),
        }
    }

    /// Appends `record`'s line, rotating the file when it passed its size.
    fn append(&self, record: &Record<'_>) -> std::result::Result<(), String> {
        let line = line::format(record, SystemClock.now());
        self.appender
            .append(
                &Record::builder()
                    .level(record.level())
                    .target(record.target())
                    .args(format_args!("{line}"))
                    .build(),
            )
            .map_err(|e| e.to_string())
    }

    /// Writes that writing failed, unless the same failure was written already.
    fn failed(&self, error: String) {
        self.failing.store(true, Ordering::Relaxed);
        {
            let mut last = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
            if last.as_deref() == Some(error.as_str()) {
                return;
            }
            *last = Some(error.clone());
        }
        // Nothing more can be done when even that cannot be written.
        let _ = self.append(
            &Record::builder()
                .level(Level::Error)
                .target(module_path!())
                .args(format_args!("writing the log failed: {error}"))
                .build(),
        );
    }

    /// Writes an event of the log itself, at level info.
    fn note(&self, message: &str, pairs: &[(&str, &str)]) {
        self.write(
            &Record::builder()
                .level(Level::Info)
                .target(module_path!())
                .args(format_args!("{message}"))
                .key_values(&pairs)
                .build(),
        );
    }
}

/// Creates and removes a file in `dir`, to learn whether files can be made there.
fn probe(dir: &std::path::Path) -> std::io::Result<()> {
    let name = format!(
        ".integra-log-probe-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    );
    let path = dir.join(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)
}

/// A handle's hold on the process's log: the log stays open while a handle holds it.
pub(crate) struct LogUse {
    sink: Arc<Sink>,
}

impl Drop for LogUse {
    fn drop(&mut self) {
        let mut active = active_mut();
        if self.sink.users.fetch_sub(1, Ordering::Relaxed) > 1 {
            return;
        }
        self.sink.note("log closed", &[]);
        if active
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, &self.sink))
        {
            *active = None;
            log::set_max_level(LevelFilter::Off);
        }
    }
}

/// A log checked for a handle and ready to be held: the log in use, or a new one with its
/// file open; `None` when the program has a logger of its own.
pub(crate) struct Prepared(Option<Arc<Sink>>);

/// Checks `settings` and readies their log for a handle that holds `held` now, changing
/// nothing yet: a failure leaves nothing open.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the bad setting, or `log` when the process logs
/// elsewhere for other handles; [`Error::LogFile`] when the file cannot be opened.
pub(crate) fn prepare(settings: &LogSettings, held: Option<&LogUse>) -> Result<Prepared> {
    settings.check()?;
    // Two spellings of one file are one log.
    let settings = &LogSettings {
        file: super::shared::canonical(&settings.file),
        ..settings.clone()
    };
    if !ours() {
        static TOLD: AtomicBool = AtomicBool::new(false);
        if !TOLD.swap(true, Ordering::Relaxed) {
            let file = settings.file.to_string_lossy();
            log::warn!(
                file = quoted(&file);
                "the open settings name a log file, which is not opened: this program has a logger of its own, and Integra's lines go there"
            );
        }
        return Ok(Prepared(None));
    }
    if let Some(current) = active().as_ref() {
        if current.settings == *settings {
            return Ok(Prepared(Some(Arc::clone(current))));
        }
        refuse_if_shared(current, held)?;
    }
    Ok(Prepared(Some(Arc::new(Sink::open(settings)?))))
}

/// Puts a prepared log in use for a handle that holds `held` now (and lets go of it after).
///
/// # Errors
/// [`Error::InvalidArgument`] when another handle put another log in use meanwhile.
pub(crate) fn commit(prepared: Prepared, held: Option<&LogUse>) -> Result<Option<LogUse>> {
    let Prepared(Some(prepared)) = prepared else {
        return Ok(None);
    };
    let mut active = active_mut();
    let sink = match active.as_ref() {
        Some(current)
            if Arc::ptr_eq(current, &prepared) || current.settings == prepared.settings =>
        {
            Arc::clone(current)
        }
        Some(current) => {
            refuse_if_shared(current, held)?;
            activate(&mut active, Arc::clone(&prepared))
        }
        None => activate(&mut active, Arc::clone(&prepared)),
    };
    sink.users.fetch_add(1, Ordering::Relaxed);
    Ok(Some(LogUse { sink }))
}

/// Makes `sink` the log in use, and writes so in it.
fn activate(active: &mut Option<Arc<Sink>>, sink: Arc<Sink>) -> Arc<Sink> {
    log::set_max_level(sink.settings.level.filter());
    let settings = &sink.settings;
    let (max_bytes, keep, pid) = (
        settings.max_bytes.to_string(),
        settings.keep.to_string(),
        std::process::id().to_string(),
    );
    let file = settings.file.to_string_lossy();
    sink.note(
        "log opened",
        &[
            ("file", &file),
            ("level", settings.level.as_str()),
            ("max_bytes", &max_bytes),
            ("keep", &keep),
            ("pid", &pid),
            ("version", super::VERSION),
        ],
    );
    *active = Some(Arc::clone(&sink));
    sink
}

/// Refuses another log while `current` is held by a handle other than `held`'s.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the log in use.
fn refuse_if_shared(current: &Arc<Sink>, held: Option<&LogUse>) -> Result<()> {
    let own = held.is_some_and(|h| Arc::ptr_eq(&h.sink, current));
    if current.users.load(Ordering::Relaxed) > usize::from(own) {
        let settings = &current.settings;
        return Err(Error::InvalidArgument {
            name: "log",
            reason: format!(
                "this process logs to '{}' at level {} (max_bytes {}, keep {}) for the handles open with it, and a process has one log; name the same log settings, or none, or close those handles first",
                quoted(&settings.file.to_string_lossy()),
                settings.level.as_str(),
                settings.max_bytes,
                settings.keep
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_api::LogLevel;

    fn settings(dir: &std::path::Path, level: LogLevel, keep: u32) -> LogSettings {
        LogSettings {
            file: dir.join("integra.log"),
            level,
            max_bytes: LogSettings::MIN_BYTES,
            keep,
        }
    }

    fn warn(sink: &Sink, message: &str) {
        sink.write(
            &Record::builder()
                .level(Level::Warn)
                .target("integra_core::dispatch")
                .args(format_args!("{message}"))
                .build(),
        );
    }

    #[test]
    fn other_libraries_lines_are_written_at_warn_and_error_only() {
        let dir = tempfile::tempdir().unwrap();
        let sink = Sink::open(&settings(dir.path(), LogLevel::Trace, 1)).unwrap();
        let at =
            |target, level| sink.accepts(&Metadata::builder().target(target).level(level).build());
        assert!(at("integra_core::dispatch", Level::Trace));
        assert!(at("integra_addin", Level::Debug));
        assert!(!at("ureq_proto::util", Level::Trace));
        assert!(!at("lapin::channel", Level::Info));
        assert!(at("lapin::channel", Level::Warn));
        assert!(!at("integrator", Level::Debug));
        let sink = Sink::open(&settings(dir.path(), LogLevel::Error, 1)).unwrap();
        assert!(
            !sink.accepts(
                &Metadata::builder()
                    .target("lapin")
                    .level(Level::Warn)
                    .build()
            )
        );
    }

    /// A rotation that fails (here `integra.log.1` is a directory) is written into the log
    /// once, and the lines go on in the file.
    #[test]
    fn a_rotation_that_fails_is_written_once_and_lines_go_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("integra.log.1")).unwrap();
        let sink = Sink::open(&settings(dir.path(), LogLevel::Info, 1)).unwrap();
        let long = "x".repeat(1000);
        for _ in 0..10 {
            warn(&sink, &long);
        }
        warn(&sink, "the last");
        let text = std::fs::read_to_string(dir.path().join("integra.log")).unwrap();
        assert_eq!(
            text.matches(" ERROR integra_core::json_api::log_file: writing the log failed: ")
                .count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches(&long).count(), 10);
        assert!(
            text.ends_with("integra_core::dispatch: the last\n"),
            "{text}"
        );
    }
}
