//! The store's operations written once, as named statements that run on either database.
//!
//! Every operation of the store's traits is implemented here, on [`Tx`]: it names its
//! statement with [`sql!`], binds [`Value`]s and reads each returned [`Row`] into the
//! store's row types. The text of a statement lives in one file per database:
//! `store/sqlite/sql/<name>.sql` and `store/postgres/sql/<name>.sql`, the same name, the
//! same parameters in the same order and the same columns back. [`Tx`] runs the text of
//! the database its connection belongs to; what is left for each database is how it
//! connects, migrates, commits and reports its errors (`store/sqlite/`, `store/postgres/`).
//!
//! A statement whose text is empty in one dialect is not run there: a PostgreSQL lock that
//! SQLite's single writer makes unnecessary (`sql!(name, postgres only)`).

mod config;
mod counts;
#[cfg(feature = "receiver")]
mod exchange;
mod external_ids;
mod health;
mod incoming;
mod inspect;
mod integrity;
mod later;
mod maintenance;
mod named_leases;
mod outgoing;
mod schema;
mod schema_copies;
mod sources;
mod space;
mod value;

use std::cell::Cell;

use super::{Result, StoreError};
use crate::secrets::SecretsKey;
use crate::store::ConfigCache;

pub(crate) use later::Later;
pub(crate) use schema::expand;
pub(crate) use value::{Column, Row, RowError, Value, status_column};

/// A named statement, in each dialect.
#[derive(Clone, Copy)]
pub(crate) struct Sql {
    /// Its name: the name of its files, and how errors refer to it.
    pub(crate) name: &'static str,
    /// The text SQLite runs.
    pub(crate) sqlite: &'static str,
    /// The text PostgreSQL runs.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: &'static str,
}

/// The statement in `store/sqlite/sql/<name>.sql` and `store/postgres/sql/<name>.sql`;
/// `sql!(name, postgres only)`: a statement only PostgreSQL runs (a lock that SQLite's
/// single writer makes needless), in `store/postgres/sql/<name>.sql`.
#[cfg(feature = "postgres")]
macro_rules! sql {
    ($name:ident) => {
        $crate::store::sql::Sql {
            name: stringify!($name),
            sqlite: include_str!(concat!("../sqlite/sql/", stringify!($name), ".sql")),
            postgres: include_str!(concat!("../postgres/sql/", stringify!($name), ".sql")),
        }
    };
    ($name:ident, postgres only) => {
        $crate::store::sql::Sql {
            name: stringify!($name),
            sqlite: "",
            postgres: include_str!(concat!("../postgres/sql/", stringify!($name), ".sql")),
        }
    };
}

/// The statement in `store/sqlite/sql/<name>.sql`; `sql!(name, postgres only)`: a statement
/// this build (without PostgreSQL) never runs.
#[cfg(not(feature = "postgres"))]
macro_rules! sql {
    ($name:ident) => {
        $crate::store::sql::Sql {
            name: stringify!($name),
            sqlite: include_str!(concat!("../sqlite/sql/", stringify!($name), ".sql")),
        }
    };
    ($name:ident, postgres only) => {
        $crate::store::sql::Sql {
            name: stringify!($name),
            sqlite: "",
        }
    };
}
pub(crate) use sql;

/// A statement's parameters, each turned into a [`Value`].
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($value)),*][..]
    };
}
pub(crate) use params;

/// The connection a transaction runs on.
pub(crate) enum Conn<'c> {
    /// An SQLite connection.
    Sqlite(&'c rusqlite::Connection),
    /// A PostgreSQL session.
    #[cfg(feature = "postgres")]
    Postgres(&'c crate::store::postgres::Session),
}

/// A connection inside a transaction: the writer's (read-write) or a reader's (read-only).
/// It implements the store's operations (the traits of `store/`), one file of this folder
/// per area.
pub(crate) struct Tx<'c> {
    conn: Conn<'c>,
    pub(crate) config: &'c ConfigCache,
    /// The database, as errors name it (a path, or a URL without its password).
    database: &'c std::path::Path,
    /// Why a statement failed for lack of space, when one did.
    full: Cell<Option<&'static str>>,
}

impl<'c> Tx<'c> {
    /// A transaction on `conn`, already begun.
    pub(crate) fn new(
        conn: Conn<'c>,
        config: &'c ConfigCache,
        database: &'c std::path::Path,
    ) -> Self {
        Tx {
            conn,
            config,
            database,
            full: Cell::new(None),
        }
    }

    /// Why a statement failed for lack of space, when one did.
    pub(crate) fn full(&self) -> Option<&'static str> {
        self.full.get()
    }

    /// Remembers why a statement failed, when it was for lack of space.
    fn noted(&self, error: StoreError) -> StoreError {
        if let StoreError::Full { cause, .. } = &error {
            self.full.set(Some(cause));
        }
        error
    }

    /// Runs a statement, returning the number of rows it changed.
    pub(crate) fn execute(&self, sql: Sql, params: &[Value<'_>]) -> Result<usize> {
        let done = match self.conn {
            Conn::Sqlite(conn) => {
                crate::store::sqlite::execute(conn, self.database, sql.name, sql.sqlite, params)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(session) => session.execute(sql.name, sql.postgres, params),
        };
        done.map_err(|e| self.noted(e))
    }

    /// Runs a statement whose outcome nobody waits for (how many rows it changed): on
    /// PostgreSQL it goes with the transaction's next round trip, and fails that one if it
    /// fails.
    pub(crate) fn write(&self, sql: Sql, params: &[Value<'_>]) -> Result<()> {
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(session) = self.conn {
            return session
                .write(sql.name, sql.postgres, params)
                .map_err(|e| self.noted(e));
        }
        self.execute(sql, params).map(drop)
    }

    /// Waits for what [`write`](Self::write) sent ahead to be done (PostgreSQL: one round
    /// trip; SQLite runs every statement at once).
    pub(crate) fn settle(&self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(_) => Ok(()),
            #[cfg(feature = "postgres")]
            Conn::Postgres(session) => session.settle().map_err(|e| self.noted(e)),
        }
    }

    /// Runs a query, handing each row to `each` until it fails; the rows read before a
    /// failure stay handed.
    fn each_row(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let done = match self.conn {
            Conn::Sqlite(conn) => {
                let text = sql.sqlite;
                crate::store::sqlite::query(conn, self.database, sql.name, text, params, each)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(session) => session.query(sql.name, sql.postgres, params, each),
        };
        done.map_err(|e| self.noted(e))
    }

    /// Runs a query expected to return at most one row.
    pub(crate) fn row<T>(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> std::result::Result<T, RowError>,
    ) -> Result<Option<T>> {
        let mut first = None;
        self.each_row(sql, params, &mut |row| {
            if first.is_none() {
                first = Some(f(row).map_err(|e| e.of(sql.name))?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// Runs a query that returns one row (an `INSERT … RETURNING`, say).
    pub(crate) fn one<T>(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        f: impl FnMut(&Row<'_>) -> std::result::Result<T, RowError>,
    ) -> Result<T> {
        self.row(sql, params, f)?
            .ok_or_else(|| RowError::Missing.of(sql.name))
    }

    /// Runs a query, collecting every row.
    pub(crate) fn rows<T>(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        f: impl FnMut(&Row<'_>) -> std::result::Result<T, RowError>,
    ) -> Result<Vec<T>> {
        match self.rows_until_error(sql, params, f)? {
            (rows, None) => Ok(rows),
            (_, Some(e)) => Err(e),
        }
    }

    /// Runs a query, collecting rows until the first error: the rows read before it, and
    /// the error. For statements whose early rows stay true when a later one fails (SQLite's
    /// integrity check reports damage, then stops at damage it cannot read past).
    pub(crate) fn rows_until_error<T>(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> std::result::Result<T, RowError>,
    ) -> Result<(Vec<T>, Option<StoreError>)> {
        let mut read = Vec::new();
        let outcome = self.each_row(sql, params, &mut |row| {
            read.push(f(row).map_err(|e| e.of(sql.name))?);
            Ok(())
        });
        match outcome {
            Ok(()) => Ok((read, None)),
            Err(e) if read.is_empty() => Err(e),
            Err(e) => Ok((read, Some(e))),
        }
    }

    /// Makes the writes of this transaction that share `key` of `kind` within `scope` wait
    /// for those of other transactions to commit (`lock_ordering_key.sql`): what SQLite's
    /// single writer does for every write, PostgreSQL needs for writes whose order or
    /// uniqueness other processes rely on.
    pub(crate) fn serialize(&self, kind: &str, scope: &str, key: &str) -> Result<()> {
        self.write(
            sql!(lock_ordering_key, postgres only),
            params![kind, scope, key],
        )
    }

    /// The database's clock now (PostgreSQL's; see `store/postgres/clock.rs`).
    #[cfg(feature = "postgres")]
    pub(crate) fn database_time(&self) -> Result<crate::time::Timestamp> {
        self.one(sql!(select_database_time, postgres only), &[], |r| r.get(0))
    }

    /// The key secrets are sealed with at rest, if any.
    pub(crate) fn secrets_key(&self) -> Option<&SecretsKey> {
        self.config.secrets_key.as_ref()
    }
}

/// A JSON array of strings: how a list is passed to a statement (SQLite reads it with
/// `json_each`, PostgreSQL with `json_array_elements_text`).
pub(crate) fn json_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}
