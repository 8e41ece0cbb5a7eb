//! Where the PostgreSQL store connects: its URL read into a connection configuration, the
//! schema Integra's tables live in, TLS, and the URL as errors and logs show it (without
//! the password).
//!
//! The URL is libpq's (`postgres://user:password@host:5432/db?sslmode=require`), with one
//! parameter of Integra's own: `schema` (default `integra`). `sslmode` is `disable`,
//! `prefer` (the default: TLS when the server offers it), `require`, `verify-ca` or
//! `verify-full`, as libpq reads them: `prefer` and `require` encrypt without authenticating
//! the server; `verify-ca` and `verify-full` verify its certificate (against the system's
//! store, the web roots and `sslrootcert`) and its name.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::StoreError;

/// The schema Integra's tables live in when the URL names none.
const DEFAULT_SCHEMA: &str = "integra";

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL database to connect to.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: postgres::Config,
    /// TLS, unless `sslmode=disable`.
    pub(crate) tls: Option<MakeRustlsConnect>,
    /// The schema of Integra's tables.
    pub(crate) schema: String,
    /// The URL without its password: what errors and logs name.
    pub(crate) shown: PathBuf,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("database", &self.shown)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Reads `url`.
    ///
    /// # Errors
    /// [`StoreError::Open`] naming what is wrong with the URL (shown without its password).
    pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
        let fail = |shown: &str, why: String| StoreError::Open {
            path: PathBuf::from(shown),
            source: why.into(),
        };
        let mut parsed = url::Url::parse(url)
            .map_err(|e| fail("postgres://…", format!("not a valid URL: {e}")))?;
        if parsed.password().is_some() {
            let _ = parsed.set_password(Some("***"));
        }
        let shown = {
            let mut s = parsed.clone();
            s.set_query(None);
            crate::limits::elided(s.as_str()).to_string()
        };
        let mut schema = DEFAULT_SCHEMA.to_owned();
        let mut sslmode = SslMode::Prefer;
        let mut verify = false;
        let mut ca_file = None;
        let mut kept = Vec::new();
        for (key, value) in url::Url::parse(url)
            .map_err(|e| fail(&shown, e.to_string()))?
            .query_pairs()
        {
            match &*key {
                "schema" => schema = value.into_owned(),
                "sslmode" => {
                    sslmode = match &*value {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" | "verify-full" => {
                            verify = true;
                            SslMode::Require
                        }
                        other => {
                            return Err(fail(
                                &shown,
                                format!(
                                    "sslmode '{}' is not one of disable, prefer, require, verify-ca, verify-full",
                                    crate::limits::elided(other)
                                ),
                            ));
                        }
                    }
                }
                "sslrootcert" => ca_file = Some(PathBuf::from(&*value)),
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        if schema.is_empty() || schema.len() > 63 {
            return Err(fail(&shown, "schema must be 1 to 63 characters".into()));
        }
        let mut base = url::Url::parse(url).map_err(|e| fail(&shown, e.to_string()))?;
        base.set_query(None);
        if !kept.is_empty() {
            base.query_pairs_mut().extend_pairs(kept);
        }
        let mut config = postgres::Config::from_str(base.as_str())
            .map_err(|e| fail(&shown, format!("not a PostgreSQL URL: {e}")))?;
        config.ssl_mode(sslmode);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("integra");
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let tls = match sslmode {
            SslMode::Disable => None,
            _ => {
                let tls = crate::transport::tls::database_config(ca_file.as_deref(), verify)
                    .map_err(|e| fail(&shown, format!("sslrootcert: {e}")))?;
                Some(MakeRustlsConnect::new(tls))
            }
        };
        Ok(Target {
            config,
            tls,
            schema,
            shown: PathBuf::from(shown),
        })
    }

    /// The schema's name quoted as an SQL identifier.
    pub(crate) fn schema_identifier(&self) -> String {
        format!("\"{}\"", self.schema.replace('"', "\"\""))
    }

    /// Opens a connection.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached or refuses.
    pub(crate) fn connect(&self) -> Result<postgres::Client, StoreError> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        };
        connected.map_err(|e| StoreError::Unavailable {
            database: self.shown.clone(),
            reason: crate::limits::elided(&e.to_string()).to_string(),
        })
    }
}
