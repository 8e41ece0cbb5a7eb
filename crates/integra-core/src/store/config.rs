//! Stored configuration: one JSON row per object, plus the version number every process
//! compares with its cached snapshot.

use super::db::sql;
use super::{Db, Result, StoreError};
use crate::config::Config;

const ENDPOINT: &str = "endpoint";
const SUBSCRIBER: &str = "subscriber";
const FLOW: &str = "flow";
const SCHEMA: &str = "schema";

impl Db<'_> {
    /// The stored configuration's version; it grows by one with every change.
    pub(crate) fn config_version(&self) -> Result<i64> {
        Ok(self
            .row(sql!(select_config_version), [], |r| r.get(0))?
            .unwrap_or(0))
    }

    /// Reads the stored configuration.
    pub(crate) fn load_config(&self) -> Result<Config> {
        let mut config = Config::default();
        let rows = self.rows(sql!(select_config_objects), [], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for (kind, code, body) in rows {
            let unreadable = |e: serde_json::Error| StoreError::StoredConfig {
                kind: kind.clone(),
                code: code.clone(),
                reason: e.to_string(),
            };
            match kind.as_str() {
                ENDPOINT => config
                    .endpoints
                    .push(serde_json::from_str(&body).map_err(unreadable)?),
                SUBSCRIBER => config
                    .subscribers
                    .push(serde_json::from_str(&body).map_err(unreadable)?),
                FLOW => config
                    .flows
                    .push(serde_json::from_str(&body).map_err(unreadable)?),
                SCHEMA => config
                    .schemas
                    .push(serde_json::from_str(&body).map_err(unreadable)?),
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

    /// Replaces the stored configuration with `config` (already validated) and bumps the
    /// version. Returns the new version.
    pub(crate) fn replace_config(&self, config: &Config) -> Result<i64> {
        self.execute(sql!(delete_config_objects), [])?;
        let encode = |kind: &str, code: &str, value: Result<String, serde_json::Error>| {
            value.map_err(|e| StoreError::StoredConfig {
                kind: kind.to_owned(),
                code: code.to_owned(),
                reason: e.to_string(),
            })
        };
        for (i, e) in config.endpoints.iter().enumerate() {
            let body = encode(ENDPOINT, &e.code, serde_json::to_string(e))?;
            self.execute(sql!(insert_config_object), (ENDPOINT, &e.code, i, body))?;
        }
        for (i, s) in config.subscribers.iter().enumerate() {
            let body = encode(SUBSCRIBER, &s.code, serde_json::to_string(s))?;
            self.execute(sql!(insert_config_object), (SUBSCRIBER, &s.code, i, body))?;
        }
        for (i, f) in config.flows.iter().enumerate() {
            let body = encode(FLOW, &f.code, serde_json::to_string(f))?;
            self.execute(sql!(insert_config_object), (FLOW, &f.code, i, body))?;
        }
        for (i, s) in config.schemas.iter().enumerate() {
            let body = encode(SCHEMA, &s.code, serde_json::to_string(s))?;
            self.execute(sql!(insert_config_object), (SCHEMA, &s.code, i, body))?;
        }
        Ok(self
            .row(sql!(bump_config_version), [], |r| r.get(0))?
            .unwrap_or(0))
    }
}
