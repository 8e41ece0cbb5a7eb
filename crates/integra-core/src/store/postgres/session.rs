//! One PostgreSQL connection of the store ([`Session`]): its statements prepared once,
//! [`Value`]s bound to whatever type PostgreSQL inferred for each parameter, rows read as
//! [`Column`]s, and errors told apart (lost connection, conflicts to retry, full disk).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::PathBuf;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};

use super::target::Target;
use crate::store::sql::{Column, Row, Value};
use crate::store::{BackendError, Result, StoreError};

/// One connection, with its prepared statements.
///
/// The client drives its connection with a runtime of its own, which cannot run on a thread
/// of another tokio runtime (the receiver's, the brokers'): called from one, a session does
/// its work, and drops its client, on a short-lived thread of its own.
pub(crate) struct Session {
    /// The client; `None` only while the session is dropped.
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<&'static str, Statement>>,
    /// Whether a transaction is open.
    in_transaction: Cell<bool>,
    /// The database, as errors name it.
    pub(crate) shown: PathBuf,
}

/// Connection settings every session runs first: Integra's schema, the counts' shard of
/// this connection, and limits that keep a stuck session from holding locks.
fn setup(target: &Target, shard: u8) -> String {
    format!(
        "SET search_path TO {schema}; SET integra.shard TO '{shard}'; \
         SET idle_in_transaction_session_timeout TO '5min'; SET lock_timeout TO '60s'",
        schema = target.schema_identifier(),
    )
}

impl Session {
    /// Connects to `target`, counting this connection's changes in `shard`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached.
    pub(crate) fn connect(target: &Target, shard: u8) -> Result<Session> {
        let mut client = target.connect()?;
        client
            .batch_execute(&setup(target, shard))
            .map_err(|e| StoreError::postgres(&target.shown, "session_setup", &e))?;
        Ok(Session {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            shown: target.shown.clone(),
        })
    }

    /// Whether the connection was lost.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.borrow().as_ref().is_none_or(Client::is_closed)
    }

    /// Runs `f` on the client (on a thread of its own when called from a tokio runtime's
    /// thread); its error as the failure of statement `statement`.
    fn run<T: Send>(
        &self,
        statement: &'static str,
        f: impl FnOnce(&mut Client) -> std::result::Result<T, postgres::Error> + Send,
    ) -> Result<T> {
        let mut slot = self.client.borrow_mut();
        let Some(client) = slot.as_mut() else {
            return Err(StoreError::Unavailable {
                database: self.shown.clone(),
                reason: "the connection is closed".to_owned(),
            });
        };
        let outcome = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("integra-postgres".into())
                    .spawn_scoped(scope, || f(client))
                    .map(|thread| thread.join())
            })
            .map_err(|e| StoreError::Unavailable {
                database: self.shown.clone(),
                reason: format!("cannot start a thread for the call: {e}"),
            })?
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        } else {
            f(client)
        };
        outcome.map_err(|e| StoreError::postgres(&self.shown, statement, &e))
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    /// Runs transaction-control statements (`BEGIN`, `SAVEPOINT job`, `COMMIT`, …) named
    /// `statement`, in one round trip.
    pub(crate) fn control(&self, statement: &'static str, sql: &str) -> Result<()> {
        let upper = sql.trim_start().as_bytes();
        if upper.starts_with(b"BEGIN") {
            self.in_transaction.set(true);
        } else if upper.starts_with(b"COMMIT") || upper == b"ROLLBACK" {
            self.in_transaction.set(false);
        }
        self.run(statement, |client| client.batch_execute(sql))
    }

    /// Statement `name`, prepared on first use.
    fn prepared(&self, name: &'static str, text: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(name) {
            return Ok(statement.clone());
        }
        let statement = self.run(name, |client| client.prepare(text))?;
        self.statements.borrow_mut().insert(name, statement.clone());
        Ok(statement)
    }

    /// Runs statement `name` (`text`), returning the number of rows it changed.
    pub(crate) fn execute(
        &self,
        name: &'static str,
        text: &str,
        params: &[Value<'_>],
    ) -> Result<usize> {
        if text.is_empty() {
            return Ok(0);
        }
        let statement = self.prepared(name, text)?;
        let bound: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        let changed = self.run(name, |client| client.execute(&statement, &bound))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Runs query `name` (`text`), handing each row to `each`.
    pub(crate) fn query(
        &self,
        name: &'static str,
        text: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let statement = self.prepared(name, text)?;
        let bound: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
        let rows = self.run(name, |client| client.query(&statement, &bound))?;
        for row in &rows {
            each(&Row::Postgres(row))?;
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the client runs its runtime: not on a thread of another one.
        if let Some(client) = self.client.get_mut().take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("integra-postgres-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// Column `index` of a PostgreSQL row.
pub(crate) fn column(
    row: &postgres::Row,
    index: usize,
) -> std::result::Result<Column<'_>, BackendError> {
    let Some(ty) = row.columns().get(index).map(|c| c.type_().clone()) else {
        return Err(format!("no column {index}").into());
    };
    Ok(match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)?
            .map_or(Column::Null, Column::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)?
            .map_or(Column::Null, |v| Column::Int(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)?
            .map_or(Column::Null, |v| Column::Int(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)?
            .map_or(Column::Null, |v| Column::Int(i64::from(v))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(index)?
            .map_or(Column::Null, Column::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(index)?
            .map_or(Column::Null, |v| Column::Real(f64::from(v))),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(index)?
            .map_or(Column::Null, Column::Blob),
        _ => row
            .try_get::<_, Option<&str>>(index)?
            .map_or(Column::Null, Column::Text),
    })
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "a number where the statement wants one"
                )]
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound to a parameter of type {ty}").into()),
            },
            Value::Text(v) if v.contains('\0') => {
                Err("the text holds U+0000 (NUL), which PostgreSQL cannot store".into())
            }
            Value::Text(v) => match *ty {
                Type::JSON => {
                    out.extend_from_slice(v.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(v.as_bytes());
                    Ok(IsNull::No)
                }
                _ => v.to_sql(ty, out),
            },
            Value::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl StoreError {
    /// The error of statement `statement` on the database shown as `database`: a lost
    /// connection, a conflict worth retrying and a full disk told apart from the rest.
    pub(crate) fn postgres(
        database: &std::path::Path,
        statement: &'static str,
        e: &postgres::Error,
    ) -> Self {
        let Some(db) = e.as_db_error() else {
            let reason = crate::limits::elided(&with_causes(e)).to_string();
            return if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
                StoreError::Unavailable {
                    database: database.to_owned(),
                    reason,
                }
            } else {
                StoreError::Sql {
                    statement,
                    source: Box::new(PostgresError(reason)),
                }
            };
        };
        let code = db.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::LOCK_NOT_AVAILABLE
        {
            StoreError::Busy { statement }
        } else if *code == SqlState::DISK_FULL {
            StoreError::Full {
                path: database.to_owned(),
                cause: "the database server has no space left",
            }
        } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            StoreError::ReadOnly {
                path: database.to_owned(),
            }
        } else if code.code().starts_with("08") || code.code().starts_with("57") {
            StoreError::Unavailable {
                database: database.to_owned(),
                reason: crate::limits::elided(db.message()).to_string(),
            }
        } else {
            StoreError::Sql {
                statement,
                source: Box::new(PostgresError(format!(
                    "{} ({})",
                    crate::limits::elided(db.message()),
                    code.code()
                ))),
            }
        }
    }
}

/// `e` and what caused it, down the chain: the client's errors say "error performing TLS
/// handshake" and leave why (an unknown issuer, say) to their source.
pub(crate) fn with_causes(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

/// What PostgreSQL said about a statement.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PostgresError(String);
