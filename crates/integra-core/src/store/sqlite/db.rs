//! [`Tx`]: a connection inside a transaction, and the helpers every named operation uses to
//! run its statement (prepared once per connection, errors labelled with the statement name).

use std::cell::Cell;
use std::path::Path;

use rusqlite::{CachedStatement, Connection, OptionalExtension, Params, Row};

use super::{ConfigCache, Result, StoreError};
use crate::secrets::SecretsKey;

/// A named SQL statement from `store/sqlite/sql/`.
#[derive(Clone, Copy)]
pub(crate) struct Sql {
    pub(crate) name: &'static str,
    pub(crate) text: &'static str,
}

/// The statement in `store/sqlite/sql/<name>.sql`.
macro_rules! sql {
    ($name:ident) => {
        $crate::store::sqlite::db::Sql {
            name: stringify!($name),
            text: include_str!(concat!("sql/", stringify!($name), ".sql")),
        }
    };
}
pub(crate) use sql;

/// A connection inside a transaction: the writer's (read-write) or a reader's (read-only).
/// It implements the store's operations (the traits of `store/`), one file of this folder
/// per area.
pub(crate) struct Tx<'c> {
    conn: &'c Connection,
    pub(super) config: &'c ConfigCache,
    /// The database file, named in errors.
    path: &'c Path,
    /// Why a statement failed for lack of space, when one did.
    full: Cell<Option<&'static str>>,
}

impl<'c> Tx<'c> {
    pub(super) fn new(conn: &'c Connection, config: &'c ConfigCache, path: &'c Path) -> Self {
        Tx {
            conn,
            config,
            path,
            full: Cell::new(None),
        }
    }

    /// The error of statement `statement`.
    pub(super) fn fail(&self, statement: &'static str, e: rusqlite::Error) -> StoreError {
        let error = StoreError::sql(self.path, statement, e);
        if let StoreError::Full { cause, .. } = &error {
            self.full.set(Some(cause));
        }
        error
    }

    /// Why a statement failed for lack of space, when one did.
    pub(super) fn full(&self) -> Option<&'static str> {
        self.full.get()
    }

    fn prepare(&self, sql: Sql) -> Result<CachedStatement<'c>> {
        self.conn
            .prepare_cached(sql.text)
            .map_err(|e| self.fail(sql.name, e))
    }

    /// The row id of the last row this connection inserted.
    pub(super) fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    /// Runs a statement, returning the number of rows it changed.
    pub(super) fn execute(&self, sql: Sql, params: impl Params) -> Result<usize> {
        self.prepare(sql)?
            .execute(params)
            .map_err(|e| self.fail(sql.name, e))
    }

    /// Runs a query expected to return at most one row.
    pub(super) fn row<T>(
        &self,
        sql: Sql,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        self.prepare(sql)?
            .query_row(params, f)
            .optional()
            .map_err(|e| self.fail(sql.name, e))
    }

    /// Runs a query, collecting every row.
    pub(super) fn rows<T>(
        &self,
        sql: Sql,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        match self.rows_until_error(sql, params, f)? {
            (rows, None) => Ok(rows),
            (_, Some(e)) => Err(e),
        }
    }

    /// Runs a query, collecting rows until the first error: the rows read before it, and
    /// the error. For statements whose early rows stay true when a later one fails (SQLite's
    /// integrity check reports damage, then stops at damage it cannot read past).
    pub(super) fn rows_until_error<T>(
        &self,
        sql: Sql,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<(Vec<T>, Option<StoreError>)> {
        let mut stmt = self.prepare(sql)?;
        let rows = stmt
            .query_map(params, |r| f(r))
            .map_err(|e| self.fail(sql.name, e))?;
        let mut read = Vec::new();
        for row in rows {
            match row {
                Ok(value) => read.push(value),
                Err(e) => return Ok((read, Some(self.fail(sql.name, e)))),
            }
        }
        Ok((read, None))
    }

    /// The key secrets are sealed with at rest, if any.
    pub(super) fn secrets_key(&self) -> Option<&SecretsKey> {
        self.config.secrets_key.as_ref()
    }
}

/// Reads a column holding a status text into the status enum.
pub(super) fn status_column<S: std::str::FromStr<Err = crate::status::UnknownStatus>>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<S> {
    let text: String = row.get(index)?;
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
