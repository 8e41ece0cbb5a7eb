//! Running a named statement on an SQLite connection: prepared once per connection, its
//! [`Value`]s bound, its rows read as [`Column`]s, its errors labelled with its name.

use std::path::Path;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::store::sql::{Column, Row, Value};
use crate::store::{BackendError, Result, StoreError};

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// Runs statement `name` (`text`) on `conn`, returning the number of rows it changed.
pub(crate) fn execute(
    conn: &Connection,
    database: &Path,
    name: &'static str,
    text: &str,
    params: &[Value<'_>],
) -> Result<usize> {
    if text.is_empty() {
        return Ok(0);
    }
    conn.prepare_cached(text)
        .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(params)))
        .map_err(|e| StoreError::sql(database, name, e))
}

/// Runs query `name` (`text`) on `conn`, handing each row to `each`.
pub(crate) fn query(
    conn: &Connection,
    database: &Path,
    name: &'static str,
    text: &str,
    params: &[Value<'_>],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let fail = |e| StoreError::sql(database, name, e);
    let mut statement = conn.prepare_cached(text).map_err(fail)?;
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        each(&Row::Sqlite(row))?;
    }
    Ok(())
}

/// Column `index` of an SQLite row.
pub(crate) fn column<'r>(
    row: &'r rusqlite::Row<'r>,
    index: usize,
) -> Result<Column<'r>, BackendError> {
    Ok(match row.get_ref(index)? {
        ValueRef::Null => Column::Null,
        ValueRef::Integer(v) => Column::Int(v),
        ValueRef::Real(v) => Column::Real(v),
        ValueRef::Text(v) => Column::Text(std::str::from_utf8(v)?),
        ValueRef::Blob(v) => Column::Blob(v),
    })
}
