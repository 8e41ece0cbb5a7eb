//! The settings a front door passes as JSON: where the database is and what to load when a
//! handle opens, and what to serve when it starts a server.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secrets::SecretsKey;
use crate::store::Durability;

/// `Open`'s settings.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSettings {
    /// The database file (created when missing).
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
