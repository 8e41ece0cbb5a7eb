//! Schema migrations on PostgreSQL: numbered SQL files applied in order, tracked in the
//! table `schema_version` of Integra's schema.
//!
//! Every process migrates when it opens the store, and several may open a new database at
//! once: the schema is created, the version read and the migrations applied in one
//! transaction that first takes a transaction-level advisory lock named after the schema.
//! The processes that lose wait for it, then find the new version.

use postgres::Client;

use super::target::Target;
use crate::store::sql::expand;
use crate::store::{Result, StoreError};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_initial", include_str!("migrations/001_initial.sql")),
    (
        "002_subscriber_health",
        include_str!("migrations/002_subscriber_health.sql"),
    ),
];

/// The schema version this build writes.
const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema of `target` up to [`CURRENT_VERSION`], creating it when missing.
pub(super) fn migrate(client: &mut Client, target: &Target) -> Result<()> {
    let fail =
        |statement| move |e: postgres::Error| StoreError::postgres(&target.shown, statement, &e);
    let schema = target.schema_identifier();
    let mut tx = client.transaction().map_err(fail("begin_migration"))?;
    tx.batch_execute("SET LOCAL lock_timeout TO '120s'")
        .map_err(fail("begin_migration"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('integra:migrate:' || $1::text, 0))",
        &[&target.schema],
    )
    .map_err(fail("lock_migration"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; SET LOCAL search_path TO {schema}; \
         CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
    ))
    .map_err(fail("create_schema"))?;
    let found: i64 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .map_err(fail("read_schema_version"))?
        .map_or(Ok(0), |row| row.try_get(0))
        .map_err(fail("read_schema_version"))?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            path: target.shown.clone(),
            found,
            known: CURRENT_VERSION,
        });
    }
    if found < CURRENT_VERSION {
        let start = usize::try_from(found).unwrap_or(0);
        for (name, text) in &MIGRATIONS[start..] {
            tx.batch_execute(&expand(text)).map_err(fail(name))?;
        }
        tx.execute("DELETE FROM schema_version", &[])
            .map_err(fail("write_schema_version"))?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&CURRENT_VERSION],
        )
        .map_err(fail("write_schema_version"))?;
    }
    tx.commit().map_err(fail("commit_migration"))
}
