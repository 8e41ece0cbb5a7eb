//! The implementation of [`ConfigStore`].

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Later, Result, StoreError, Tx};
use super::{params, sql};
use crate::config::{Config, ConfigSnapshot};
use crate::store::config::ConfigStore;
#[cfg(feature = "receiver")]
use crate::store::exchange::ExchangeStore;
use crate::time::Timestamp;

/// The kinds of stored configuration objects.
const ENDPOINT: &str = "endpoint";
const SUBSCRIBER: &str = "subscriber";
const FLOW: &str = "flow";
const SCHEMA: &str = "schema";
const LISTENER: &str = "listener";
const EXCHANGE: &str = "exchange";

/// Decodes one stored object of `kind`.
fn decode<T: DeserializeOwned>(kind: &str, code: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| StoreError::StoredConfig {
        kind: kind.to_owned(),
        code: code.to_owned(),
        reason: e.to_string(),
    })
}

impl Tx<'_> {
    /// Reads the stored configuration, its secrets as stored.
    fn load_config_as_stored(&self) -> Result<Config> {
        let mut config = Config::default();
        let rows = self.rows(sql!(select_config_objects), &[], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
            ))
        })?;
        for (kind, code, body) in rows {
            match kind.as_str() {
                ENDPOINT => config.endpoints.push(decode(&kind, &code, &body)?),
                SUBSCRIBER => config.subscribers.push(decode(&kind, &code, &body)?),
                FLOW => config.flows.push(decode(&kind, &code, &body)?),
                SCHEMA => config.schemas.push(decode(&kind, &code, &body)?),
                LISTENER => config.listeners.push(decode(&kind, &code, &body)?),
                EXCHANGE => config.exchange = Some(decode(&kind, &code, &body)?),
                _ => {
                    return Err(StoreError::StoredConfig {
                        kind,
                        code,
                        reason: "this build of Integra does not know this kind of object".into(),
                    });
                }
            }
        }
        Ok(config)
    }

    /// Stores the objects of one kind, keeping their order.
    fn insert_objects<T: Serialize>(
        &self,
        kind: &str,
        objects: &[T],
        code: impl Fn(&T) -> &str,
    ) -> Result<()> {
        for (position, object) in objects.iter().enumerate() {
            let code = code(object);
            let body = serde_json::to_string(object).map_err(|e| StoreError::StoredConfig {
                kind: kind.to_owned(),
                code: code.to_owned(),
                reason: e.to_string(),
            })?;
            self.write(
                sql!(insert_config_object),
                params![kind, code, position, &body],
            )?;
        }
        Ok(())
    }
}

impl ConfigStore for Tx<'_> {
    fn config(&self) -> Result<Arc<ConfigSnapshot>> {
        let cached = self.config.get();
        let version = self.config_version()?;
        if version == cached.version() {
            return Ok(cached);
        }
        let fresh = Arc::new(ConfigSnapshot::new(version, self.load_config()?));
        self.config.set(Arc::clone(&fresh));
        Ok(fresh)
    }

    fn config_version(&self) -> Result<i64> {
        Ok(self
            .row(sql!(select_config_version), &[], |r| r.get(0))?
            .unwrap_or(0))
    }

    fn config_version_later(&self) -> Result<Later<'_, i64>> {
        self.row_later(sql!(select_config_version), &[], |r| r.get(0))
    }

    fn load_config(&self) -> Result<Config> {
        let mut config = self.load_config_as_stored()?;
        let key = self.secrets_key();
        for secret in config.secrets_mut() {
            *secret.value_mut() = crate::secrets::open(key, secret.value_mut())?;
        }
        Ok(config)
    }

    fn seal_secrets_in_clear(&self, now: Timestamp) -> Result<usize> {
        if self.secrets_key().is_none() {
            return Ok(0);
        }
        let mut stored = self.load_config_as_stored()?;
        let in_clear = stored
            .secrets_mut()
            .filter(|s| !crate::secrets::is_sealed(s.expose()))
            .count();
        if in_clear > 0 {
            self.replace_config(&self.load_config()?)?;
        }
        #[cfg(feature = "receiver")]
        let in_clear = {
            let mut more = in_clear;
            for endpoint in self.exchange_endpoints_as_stored()? {
                if !crate::secrets::is_sealed(&endpoint.password) {
                    self.upsert_exchange_endpoint(&endpoint, now)?;
                    more += 1;
                }
            }
            more
        };
        #[cfg(not(feature = "receiver"))]
        let _ = now;
        Ok(in_clear)
    }

    fn replace_config(&self, config: &Config) -> Result<i64> {
        let sealed;
        let config = match self.secrets_key() {
            Some(key) => {
                let mut copy = config.clone();
                for secret in copy.secrets_mut() {
                    *secret.value_mut() = key.seal(secret.value_mut());
                }
                sealed = copy;
                &sealed
            }
            None => config,
        };
        self.serialize("config", "", "")?;
        self.write(sql!(delete_config_objects), &[])?;
        self.insert_objects(ENDPOINT, &config.endpoints, |e| &e.code)?;
        self.insert_objects(SUBSCRIBER, &config.subscribers, |s| &s.code)?;
        self.insert_objects(FLOW, &config.flows, |f| &f.code)?;
        self.insert_objects(SCHEMA, &config.schemas, |s| &s.code)?;
        self.insert_objects(LISTENER, &config.listeners, |l| &l.code)?;
        self.insert_objects(EXCHANGE, config.exchange.as_slice(), |_| EXCHANGE)?;
        Ok(self
            .row(sql!(bump_config_version), &[], |r| r.get(0))?
            .unwrap_or(0))
    }
}
