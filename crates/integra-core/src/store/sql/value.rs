//! What statements take and give back, whichever database runs them: [`Value`]s bound as
//! parameters, and [`Row`]s whose columns are read as Rust values ([`FromColumn`]).

use crate::store::{BackendError, StoreError};
use crate::time::Timestamp;

/// A parameter of a statement. Integers of every width, and flags (as 0 or 1), are `Int`.
/// Its `Debug` shows no text or bytes (only their length): the PostgreSQL client logs a
/// statement's parameters at `debug`, and they hold secrets and payloads.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl std::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Int(v) => write!(f, "Int({v})"),
            Value::Text(v) => write!(f, "Text({} bytes)", v.len()),
            Value::Blob(v) => write!(f, "Blob({} bytes)", v.len()),
        }
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<usize> for Value<'_> {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<Timestamp> for Value<'_> {
    fn from(v: Timestamp) -> Self {
        Value::Int(v.as_millis())
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Blob(v)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().into()
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A column of a returned row, as the database gave it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Column<'r> {
    /// SQL `NULL`.
    Null,
    /// An integer (PostgreSQL's booleans as 0 or 1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'r str),
    /// Bytes.
    Blob(&'r [u8]),
}

impl Column<'_> {
    fn kind(self) -> &'static str {
        match self {
            Column::Null => "null",
            Column::Int(_) => "an integer",
            Column::Real(_) => "a number",
            Column::Text(_) => "text",
            Column::Blob(_) => "bytes",
        }
    }
}

/// A row a statement returned: its columns are read by position with [`Row::get`].
pub(crate) enum Row<'r> {
    /// A row of SQLite.
    Sqlite(&'r rusqlite::Row<'r>),
    /// A row of PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `index` as a `T`.
    ///
    /// # Errors
    /// [`RowError`] when there is no such column, or it holds something a `T` cannot be.
    pub(crate) fn get<T: FromColumn>(&self, index: usize) -> Result<T, RowError> {
        let column = match self {
            Row::Sqlite(row) => crate::store::sqlite::column(row, index),
            #[cfg(feature = "postgres")]
            Row::Postgres(row) => crate::store::postgres::column(row, index),
        }
        .map_err(|source| RowError::Column { index, source })?;
        T::from_column(column).map_err(|expected| RowError::Type {
            index,
            expected,
            found: column.kind(),
        })
    }
}

/// A column that could not be read as what the code expected.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RowError {
    /// The database could not give the column.
    #[error("column {index}: {source}")]
    Column {
        /// Its position.
        index: usize,
        /// What the database said.
        source: BackendError,
    },
    /// The column holds another type.
    #[error("column {index} holds {found}, not {expected}")]
    Type {
        /// Its position.
        index: usize,
        /// What the code reads.
        expected: &'static str,
        /// What it holds.
        found: &'static str,
    },
    /// A query sent ahead got no answer: an earlier statement of its round trip failed.
    #[cfg(feature = "postgres")]
    #[error("no answer came: an earlier statement of its transaction failed")]
    Unanswered,
    /// A statement that always returns a row returned none.
    #[error("the statement returned no row")]
    Missing,
    /// The column holds a value the code does not know.
    #[error("column {index}: {reason}")]
    Value {
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
}

impl RowError {
    /// This error, as the failure of statement `statement`.
    pub(crate) fn of(self, statement: &'static str) -> StoreError {
        StoreError::Sql {
            statement,
            source: Box::new(self),
        }
    }
}

/// A Rust type a column can be read as. The error is what the type expects.
pub(crate) trait FromColumn: Sized {
    /// The value of `column`, or what was expected.
    fn from_column(column: Column<'_>) -> Result<Self, &'static str>;
}

impl FromColumn for i64 {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => Ok(v),
            _ => Err("an integer"),
        }
    }
}

impl FromColumn for i32 {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => i32::try_from(v).map_err(|_| "an integer within 32 bits"),
            _ => Err("an integer"),
        }
    }
}

impl FromColumn for u32 {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => u32::try_from(v).map_err(|_| "a count within 32 bits"),
            _ => Err("a count"),
        }
    }
}

impl FromColumn for u64 {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => u64::try_from(v).map_err(|_| "a count not below zero"),
            _ => Err("a count"),
        }
    }
}

impl FromColumn for usize {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => usize::try_from(v).map_err(|_| "a count not below zero"),
            _ => Err("a count"),
        }
    }
}

impl FromColumn for bool {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Int(v) => Ok(v != 0),
            _ => Err("a flag"),
        }
    }
}

impl FromColumn for f64 {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Real(v) => Ok(v),
            #[expect(clippy::cast_precision_loss, reason = "a measure, not an identity")]
            Column::Int(v) => Ok(v as f64),
            _ => Err("a number"),
        }
    }
}

impl FromColumn for String {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Text(v) => Ok(v.to_owned()),
            _ => Err("text"),
        }
    }
}

impl FromColumn for Vec<u8> {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Blob(v) => Ok(v.to_vec()),
            _ => Err("bytes"),
        }
    }
}

impl FromColumn for Timestamp {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        i64::from_column(column)
            .map(Timestamp::from_millis)
            .map_err(|_| "a time")
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_column(column: Column<'_>) -> Result<Self, &'static str> {
        match column {
            Column::Null => Ok(None),
            other => T::from_column(other).map(Some),
        }
    }
}

/// Reads a column holding a status text into the status enum.
pub(crate) fn status_column<S: std::str::FromStr<Err = crate::status::UnknownStatus>>(
    row: &Row<'_>,
    index: usize,
) -> Result<S, RowError> {
    let text: String = row.get(index)?;
    text.parse()
        .map_err(|e: crate::status::UnknownStatus| RowError::Value {
            index,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::Value;

    #[test]
    fn a_parameter_shows_no_text_in_logs() {
        let shown = format!(
            "{:?}",
            [Value::Text("s3cret"), Value::Blob(b"key"), Value::Int(7)]
        );
        assert_eq!(shown, "[Text(6 bytes), Blob(3 bytes), Int(7)]");
    }
}
