//! The settings a front door passes as JSON: where the database is, what to load and where
//! to log when a handle opens, and what to serve when it starts a server.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secrets::SecretsKey;
use crate::store::Durability;

/// `Open`'s settings.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSettings {
    /// The database: an SQLite file (created when missing), or a PostgreSQL URL.
    pub database: PathBuf,
    /// A configuration to load, as a JSON object.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// A configuration file to load (schema files are read relative to it).
    #[serde(default)]
    pub config_path: Option<PathBuf>,
    /// `normal` (default) or `full`.
    #[serde(default)]
    pub durability: Durability,
    /// The file holding the key that seals secrets in the database ([`crate::secrets`]);
    /// without it, the environment variable [`crate::secrets::SECRETS_KEY_ENV`] when set.
    #[serde(default)]
    pub secrets_key_file: Option<PathBuf>,
    /// The process's log file ([`LogSettings`]); without it, this handle neither uses nor
    /// changes the log.
    #[serde(default)]
    pub log: Option<LogSettings>,
    /// Opens an SQLite file on a network filesystem, which is otherwise refused
    /// ([`EngineOptions::allow_network_filesystem`](crate::EngineOptions::allow_network_filesystem)).
    #[serde(default)]
    pub allow_network_filesystem: bool,
}

impl OpenSettings {
    /// The secrets key the settings name: from the key file, else from the environment.
    ///
    /// # Errors
    /// [`Error::Store`] with the [`crate::secrets::SecretsError`] when the key cannot be had.
    pub(crate) fn secrets_key(&self) -> Result<Option<SecretsKey>> {
        let key = match &self.secrets_key_file {
            Some(path) => SecretsKey::from_file(path).map(Some),
            None => SecretsKey::from_env(),
        };
        key.map_err(|e| Error::Store(e.into()))
    }

    /// The configuration to load, if the settings carry one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when both `config` and `config_path` are given;
    /// [`Error::Config`] when the configuration is invalid.
    pub(crate) fn config(&self) -> Result<Option<Config>> {
        match (&self.config, &self.config_path) {
            (Some(_), Some(_)) => Err(Error::InvalidArgument {
                name: "settings",
                reason: "give either 'config' or 'config_path', not both".into(),
            }),
            (Some(value), None) => Ok(Some(Config::from_json(&value.to_string())?)),
            (None, Some(path)) => Ok(Some(Config::from_file(path)?)),
            (None, None) => Ok(None),
        }
    }
}

/// The log a handle's open settings name: `{"file": path, "level": "info", "max_bytes":
/// 10485760, "keep": 5}`, every field but `file` optional. One log serves the whole process
/// (`json_api`'s `log_file` module).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// The file lines are appended to; its directory must exist and be writable.
    pub file: PathBuf,
    /// The most verbose level written; default `info`.
    #[serde(default)]
    pub level: LogLevel,
    /// The size past which the file is rotated, in bytes: [`LogSettings::MIN_BYTES`] to
    /// [`LogSettings::MAX_BYTES`]; default 10 MiB.
    #[serde(default = "LogSettings::default_max_bytes")]
    pub max_bytes: u64,
    /// How many rotated files are kept (`file.1` the newest … `file.<keep>`), 0 to
    /// [`LogSettings::MAX_KEEP`]; default 5.
    #[serde(default = "LogSettings::default_keep")]
    pub keep: u32,
}

impl LogSettings {
    /// The smallest `max_bytes`: 4 KiB.
    pub const MIN_BYTES: u64 = 4 << 10;
    /// The largest `max_bytes`: 4 GiB.
    pub const MAX_BYTES: u64 = 4 << 30;
    /// The most rotated files kept.
    pub const MAX_KEEP: u32 = 100;

    fn default_max_bytes() -> u64 {
        10 << 20
    }

    fn default_keep() -> u32 {
        5
    }

    /// Checks each field, naming the one that is wrong; the file is not touched.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `log.file`, `log.max_bytes` or `log.keep`.
    pub(crate) fn check(&self) -> Result<()> {
        if !(Self::MIN_BYTES..=Self::MAX_BYTES).contains(&self.max_bytes) {
            return Err(Error::InvalidArgument {
                name: "log.max_bytes",
                reason: format!(
                    "must be between {} and {}, got {}",
                    Self::MIN_BYTES,
                    Self::MAX_BYTES,
                    self.max_bytes
                ),
            });
        }
        if self.keep > Self::MAX_KEEP {
            return Err(Error::InvalidArgument {
                name: "log.keep",
                reason: format!(
                    "must be between 0 and {}, got {}",
                    Self::MAX_KEEP,
                    self.keep
                ),
            });
        }
        let file = |reason: String| Error::InvalidArgument {
            name: "log.file",
            reason,
        };
        let shown = crate::limits::quoted(&self.file.to_string_lossy()).into_owned();
        if self.file.file_name().is_none() {
            return Err(file(format!("'{shown}' does not name a file")));
        }
        // The rolling appender reads `$ENV{NAME}` in its path as an environment variable.
        if self.file.to_string_lossy().contains("$ENV{") {
            return Err(file(format!(
                "'{shown}' holds '$ENV{{', which a log file's name may not"
            )));
        }
        if self.file.is_dir() {
            return Err(file(format!("'{shown}' is a directory")));
        }
        let dir = self.directory();
        if !dir.is_dir() {
            let dir = crate::limits::quoted(&dir.to_string_lossy()).into_owned();
            return Err(file(format!("the directory '{dir}' does not exist")));
        }
        Ok(())
    }

    /// The directory of the file (`.` for a bare name).
    pub(crate) fn directory(&self) -> &Path {
        match self.file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }
}

/// The most verbose level a log writes: `error`, `warn`, `info` (default), `debug` or
/// `trace`. Lines of other libraries Integra uses are written at `warn` and `error` only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// And what ended badly but was handled: deliveries, forming, processing that end Dead.
    Warn,
    /// And what happened: a receiver listening, a source connected, leases taken back.
    #[default]
    Info,
    /// And each failed attempt that will be retried.
    Debug,
    /// Everything Integra says.
    Trace,
}

impl LogLevel {
    /// The level as the `log` crate filters by it.
    pub fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }

    /// The level's name in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `StartServer`'s settings.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// The listeners to serve; default every configured listener.
    pub listeners: Option<Vec<String>>,
    /// Whether to run the incoming flows' sources. Default true.
    pub sources: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listeners: None,
            sources: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(json: serde_json::Value) -> LogSettings {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn log_settings_have_defaults_and_each_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("integra.log");
        let settings = log(serde_json::json!({"file": file}));
        assert_eq!(
            (settings.level, settings.max_bytes, settings.keep),
            (LogLevel::Info, 10 << 20, 5)
        );
        settings.check().unwrap();
        let refused = |json: serde_json::Value| log(json).check().unwrap_err().to_string();
        assert_eq!(
            refused(serde_json::json!({"file": file, "max_bytes": 4095})),
            "invalid log.max_bytes: must be between 4096 and 4294967296, got 4095"
        );
        assert_eq!(
            refused(serde_json::json!({"file": file, "keep": 101})),
            "invalid log.keep: must be between 0 and 100, got 101"
        );
        let env = dir.path().join("$ENV{HOME}.log");
        assert!(
            refused(serde_json::json!({"file": env}))
                .ends_with("holds '$ENV{', which a log file's name may not"),
        );
        assert!(
            refused(serde_json::json!({"file": dir.path().join("none/integra.log")}))
                .starts_with("invalid log.file: the directory '"),
        );
        assert!(refused(serde_json::json!({"file": dir.path()})).ends_with("' is a directory"));
        assert!(refused(serde_json::json!({"file": ""})).ends_with("'' does not name a file"));
        assert_eq!(
            LogSettings {
                file: "integra.log".into(),
                ..settings
            }
            .directory(),
            Path::new(".")
        );
    }
}
