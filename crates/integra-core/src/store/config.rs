//! Stored configuration: one JSON row per object, plus the version number every process
//! compares with its cached snapshot.

use super::{Later, Result};
use std::sync::Arc;

use crate::config::{Config, ConfigSnapshot};
use crate::time::Timestamp;

/// The stored configuration: read (cached by version), replace, seal secrets. Each call runs in the
/// transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait ConfigStore {
    /// The configuration as of this transaction, reloaded when its stored version changed.
    fn config(&self) -> Result<Arc<ConfigSnapshot>>;

    /// The stored configuration's version; it grows by one with every change.
    fn config_version(&self) -> Result<i64>;

    /// [`ConfigStore::config_version`], possibly read with the transaction's next round
    /// trip ([`Later`]).
    fn config_version_later(&self) -> Result<Later<'_, i64>>;

    /// Reads the stored configuration, its secrets opened.
    fn load_config(&self) -> Result<Config>;

    /// Seals every secret still stored in clear, when the store has a key (the database
    /// was used without one before). Returns how many were sealed.
    fn seal_secrets_in_clear(&self, now: Timestamp) -> Result<usize>;

    /// Replaces the stored configuration with `config` (already validated) and bumps the
    /// version. Returns the new version.
    fn replace_config(&self, config: &Config) -> Result<i64>;
}
