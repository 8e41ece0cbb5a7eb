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

use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::StoreError;

/// The schema Integra's tables live in when the URL names none.
const DEFAULT_SCHEMA: &str = "integra";

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL database to connect to.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: tokio_postgres::Config,
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
        let parsed = url::Url::parse(url)
            .map_err(|e| fail("postgres://…", format!("not a valid URL: {e}")))?;
        let shown = shown_url(&parsed);
        let mut schema = DEFAULT_SCHEMA.to_owned();
        let mut sslmode = SslMode::Prefer;
        let mut verify = false;
        let mut ca_file = None;
        let mut kept = Vec::new();
        for (key, value) in parsed.query_pairs() {
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
        let mut base = parsed.clone();
        base.set_query(None);
        if !kept.is_empty() {
            base.query_pairs_mut().extend_pairs(kept);
        }
        let mut config = tokio_postgres::Config::from_str(base.as_str())
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
        let config = postgres::Config::from(self.config.clone());
        let connected = match &self.tls {
            Some(tls) => config.connect(tls.clone()),
            None => config.connect(postgres::NoTls),
        };
        connected
            .map_err(|e| StoreError::unavailable(&self.shown, &super::session::with_causes(&e)))
    }
}

/// `url` as errors, logs and statuses show it: its password (in the authority or as a
/// parameter) as `***`, and its schema named even when it is the default one, so that two
/// schemas on one server are two databases.
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "password" { "***".into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    shown.set_query(None);
    {
        let mut query = shown.query_pairs_mut();
        query.extend_pairs(&pairs);
        if !pairs.iter().any(|(k, _)| k == "schema") {
            query.append_pair("schema", DEFAULT_SCHEMA);
        }
    }
    crate::limits::elided(shown.as_str()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_shown_without_its_password_and_with_its_schema() {
        let shown = |url: &str| shown_url(&url::Url::parse(url).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(
            shown("postgres://integra:s3cret@db:5432/erp?sslmode=require"),
            "postgres://integra:***@db:5432/erp?sslmode=require&schema=integra"
        );
        assert_eq!(
            shown("postgresql://db/erp?password=s3cret&schema=shop"),
            "postgresql://db/erp?password=***&schema=shop"
        );
    }

    #[test]
    fn a_bad_url_is_refused_naming_what_is_wrong_without_the_password() {
        let refused = |url: &str| match Target::parse(url) {
            Ok(_) => panic!("{url} was taken"),
            Err(e) => e.to_string(),
        };
        let e = refused("postgres://u:s3cret@db/erp?sslmode=sometimes");
        assert!(
            e.contains("sslmode 'sometimes'") && !e.contains("s3cret"),
            "{e}"
        );
        let e = refused("postgres://u:s3cret@db/erp?schema=");
        assert!(e.contains("schema must be") && !e.contains("s3cret"), "{e}");
        let e = refused("postgres://u:s3cret@db/erp?frobnicate=1");
        assert!(
            e.contains("not a PostgreSQL URL") && !e.contains("s3cret"),
            "{e}"
        );
    }
}
