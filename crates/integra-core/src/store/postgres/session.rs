//! One PostgreSQL connection of the store ([`Session`]): its statements prepared once,
//! statements whose outcome nobody waits for sent together with the next one somebody does
//! (pipelined: a transaction's writes cost one round trip, not one each), [`Value`]s bound to
//! whatever type PostgreSQL inferred for each parameter, rows read as [`Column`]s, and
//! errors told apart (lost connection, conflicts to retry, full disk).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::path::Path;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, Client, NoTls, Statement};

use super::target::Target;
use crate::store::sql::{Column, Row, Value};
use crate::store::{BackendError, Result, StoreError};

/// Polls the connection: what the server sends besides answers (notices, the end of the
/// connection).
type Messages = Box<
    dyn FnMut(
            &mut Context<'_>,
        ) -> Poll<Option<std::result::Result<AsyncMessage, tokio_postgres::Error>>>
        + Send,
>;

/// A live connection: the client, the runtime of its own that drives it, and the
/// connection's messages, polled while a call waits (that is what moves the connection).
struct Link {
    runtime: tokio::runtime::Runtime,
    client: Client,
    messages: Messages,
}

/// How to poll `connection`.
fn messages<S, T>(mut connection: tokio_postgres::Connection<S, T>) -> Messages
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    Box::new(move |cx| connection.poll_message(cx))
}

impl Link {
    /// Connects to `target` and runs the session's settings.
    fn open(target: &Target, shard: u8) -> Result<Link> {
        let unavailable = |reason: &str| StoreError::unavailable(&target.shown, reason);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unavailable(&format!("cannot start the client's runtime: {e}")))?;
        let connected = match &target.tls {
            Some(tls) => runtime
                .block_on(target.config.connect(tls.clone()))
                .map(|(client, connection)| (client, messages(connection))),
            None => runtime
                .block_on(target.config.connect(NoTls))
                .map(|(client, connection)| (client, messages(connection))),
        };
        let (client, messages) = connected.map_err(|e| unavailable(&with_causes(&e)))?;
        let mut link = Link {
            runtime,
            client,
            messages,
        };
        let settings = setup(target, shard);
        link.drive(&target.shown, |client| async move {
            client
                .batch_execute(&settings)
                .await
                .map_err(|e| StoreError::postgres(&target.shown, "session_setup", &e))
        })?;
        Ok(link)
    }

    /// Runs the call `call` makes on the client to its end, moving the connection
    /// meanwhile; a connection that ends first fails it.
    fn drive<'a, T, F>(
        &'a mut self,
        database: &Path,
        call: impl FnOnce(&'a Client) -> F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>> + 'a,
    {
        let Link {
            runtime,
            client,
            messages,
        } = self;
        drive(runtime, messages, database, call(client))
    }
}

/// Runs `call` to its end on `runtime`, moving the connection (`messages`) meanwhile; a
/// connection that ends first fails it.
fn drive<T>(
    runtime: &tokio::runtime::Runtime,
    messages: &mut Messages,
    database: &Path,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    let mut call = pin!(call);
    runtime.block_on(std::future::poll_fn(|cx| {
        loop {
            match messages(cx) {
                Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                    log::info!("PostgreSQL: {}", crate::limits::elided(notice.message()));
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(StoreError::unavailable(database, &with_causes(&e))));
                }
                Poll::Ready(None) => {
                    return match call.as_mut().poll(cx) {
                        Poll::Pending => Poll::Ready(Err(StoreError::unavailable(
                            database,
                            "the connection was closed",
                        ))),
                        done => done,
                    };
                }
                Poll::Pending => break,
            }
        }
        call.as_mut().poll(cx)
    }))
}

/// A parameter kept until its statement is sent.
enum Param {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Param {
    fn value(&self) -> Value<'_> {
        match self {
            Param::Null => Value::Null,
            Param::Int(v) => Value::Int(*v),
            Param::Text(v) => Value::Text(v),
            Param::Blob(v) => Value::Blob(v),
        }
    }
}

impl From<&Value<'_>> for Param {
    fn from(v: &Value<'_>) -> Self {
        match *v {
            Value::Null => Param::Null,
            Value::Int(v) => Param::Int(v),
            Value::Text(v) => Param::Text(v.to_owned()),
            Value::Blob(v) => Param::Blob(v.to_owned()),
        }
    }
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value().fmt(f)
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        self.value().to_sql(ty, out)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One statement of a round trip.
struct Step {
    /// Its name: what its errors name.
    name: &'static str,
    what: What,
    /// Where its rows are kept until read, for a query sent ahead ([`Session::query_later`]).
    ticket: Option<u64>,
}

enum What {
    /// Transaction control (`BEGIN`, `SAVEPOINT job`, `COMMIT`, …): simple protocol.
    Control(&'static str),
    /// A prepared statement; `rows`: whether its rows are wanted, or only how many it changed.
    Statement {
        text: &'static str,
        params: Vec<Param>,
        rows: bool,
    },
}

/// A statement on its way: written to the connection when first polled.
type Call<'a> = Pin<Box<dyn Future<Output = Result<Reply>> + 'a>>;

/// What a statement of a round trip answered.
enum Reply {
    Done,
    Changed(u64),
    Rows(Vec<tokio_postgres::Row>),
}

impl Step {
    fn statement(name: &'static str, text: &'static str, params: &[Value<'_>], rows: bool) -> Step {
        Step {
            name,
            what: What::Statement {
                text,
                params: params.iter().map(Param::from).collect(),
                rows,
            },
            ticket: None,
        }
    }

    fn control(name: &'static str, sql: &'static str) -> Step {
        Step {
            name,
            what: What::Control(sql),
            ticket: None,
        }
    }

    /// Whether it begins a transaction.
    fn begins(&self) -> bool {
        matches!(self.what, What::Control(sql) if sql.starts_with("BEGIN"))
    }

    /// Whether it commits one.
    fn commits(&self) -> bool {
        matches!(self.what, What::Control(sql) if sql.starts_with("COMMIT"))
    }

    /// Its call on `client` (`statement`: its prepared statement).
    fn call<'a>(
        &'a self,
        client: &'a Client,
        statement: Option<&'a Statement>,
        database: &'a Path,
    ) -> Call<'a> {
        let failed = move |e: tokio_postgres::Error| StoreError::postgres(database, self.name, &e);
        Box::pin(async move {
            match (&self.what, statement) {
                (What::Control(sql), _) => client.batch_execute(sql).await.map(|()| Reply::Done),
                (What::Statement { params, rows, .. }, Some(statement)) => {
                    let bound: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
                    if *rows {
                        client.query(statement, &bound).await.map(Reply::Rows)
                    } else {
                        client.execute(statement, &bound).await.map(Reply::Changed)
                    }
                }
                (What::Statement { .. }, None) => Ok(Reply::Done),
            }
            .map_err(failed)
        })
    }
}

/// One connection, with its prepared statements and the statements queued for its next
/// round trip.
///
/// The client drives its connection with a runtime of its own, which cannot run on a thread
/// of another tokio runtime (the receiver's, the brokers'): called from one, a session does
/// its work, and drops its client, on a short-lived thread of its own.
pub(crate) struct Session {
    target: Target,
    shard: u8,
    /// The connection; `None` once lost beyond repair or while the session is dropped.
    link: RefCell<Option<Link>>,
    statements: RefCell<HashMap<&'static str, Statement>>,
    /// Statements whose outcome nobody waits for yet: sent with the next round trip.
    queued: RefCell<Vec<Step>>,
    /// The rows of queries sent ahead, by ticket, until read.
    answers: RefCell<HashMap<u64, Vec<tokio_postgres::Row>>>,
    /// The latest ticket given.
    tickets: Cell<u64>,
    /// Whether a transaction is open.
    in_transaction: Cell<bool>,
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
        let link = Link::open(target, shard)?;
        Ok(Session {
            target: target.clone(),
            shard,
            link: RefCell::new(Some(link)),
            statements: RefCell::new(HashMap::new()),
            queued: RefCell::new(Vec::new()),
            answers: RefCell::new(HashMap::new()),
            tickets: Cell::new(0),
            in_transaction: Cell::new(false),
        })
    }

    /// The database, as errors name it.
    pub(crate) fn shown(&self) -> &Path {
        &self.target.shown
    }

    /// Whether the connection was lost.
    pub(crate) fn is_closed(&self) -> bool {
        self.link
            .borrow()
            .as_ref()
            .is_none_or(|link| link.client.is_closed())
    }

    /// Opens the connection again (its prepared statements are gone with the old one).
    fn reconnect(&self) -> Result<()> {
        self.statements.borrow_mut().clear();
        let old = self.link.borrow_mut().take();
        drop_link(old);
        *self.link.borrow_mut() = Some(Link::open(&self.target, self.shard)?);
        Ok(())
    }

    /// Runs `f` on the connection (on a thread of its own when called from a tokio
    /// runtime's thread).
    fn run<T: Send>(&self, f: impl FnOnce(&mut Link) -> Result<T> + Send) -> Result<T> {
        let mut slot = self.link.borrow_mut();
        let Some(link) = slot.as_mut() else {
            return Err(StoreError::unavailable(
                self.shown(),
                "the connection is closed",
            ));
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                std::thread::Builder::new()
                    .name("integra-postgres".into())
                    .spawn_scoped(scope, || f(link))
                    .map(|thread| thread.join())
            })
            .map_err(|e| {
                StoreError::unavailable(
                    self.shown(),
                    &format!("cannot start a thread for the call: {e}"),
                )
            })?
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        } else {
            f(link)
        }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    /// Queues `BEGIN …` (`sql`): it reaches the server with the transaction's first
    /// statement that waits for an answer. A connection found lost is opened again first.
    pub(crate) fn begin(&self, sql: &'static str) -> Result<()> {
        if self.is_closed() {
            self.reconnect()?;
        }
        self.answers.borrow_mut().clear();
        self.queue("begin", sql);
        Ok(())
    }

    /// Queues transaction-control statement `sql` (`SAVEPOINT job`, `RELEASE job`, …) named
    /// `statement` for the next round trip.
    pub(crate) fn queue(&self, statement: &'static str, sql: &'static str) {
        let step = self.controlling(statement, sql);
        self.queued.borrow_mut().push(step);
    }

    /// Runs transaction-control statement `sql` (`BEGIN`, `COMMIT`, …) named `statement`,
    /// with whatever is queued, now.
    pub(crate) fn control(&self, statement: &'static str, sql: &'static str) -> Result<()> {
        let step = self.controlling(statement, sql);
        self.round_trip(Some(step)).map(drop)
    }

    /// The step of control statement `sql`, the transaction noted open or closed by it.
    fn controlling(&self, statement: &'static str, sql: &'static str) -> Step {
        let step = Step::control(statement, sql);
        if step.begins() {
            self.in_transaction.set(true);
        } else if step.commits() {
            self.in_transaction.set(false);
        }
        step
    }

    /// Rolls the open transaction back; what was queued for it is dropped unsent, and a
    /// transaction none of whose statements reached the server needs no `ROLLBACK` at all.
    pub(crate) fn rollback(&self) -> Result<()> {
        let queued = std::mem::take(&mut *self.queued.borrow_mut());
        self.answers.borrow_mut().clear();
        self.in_transaction.set(false);
        if queued.first().is_some_and(Step::begins) {
            return Ok(());
        }
        self.round_trip(Some(Step::control("rollback", "ROLLBACK")))
            .map(drop)
    }

    /// Sends what is queued and waits for its outcome.
    pub(crate) fn settle(&self) -> Result<()> {
        self.round_trip(None).map(drop)
    }

    /// Sends what is queued, then `last`, in one round trip, and returns `last`'s answer (or
    /// the first error). A transaction none of whose statements had reached the server, and
    /// whose `COMMIT` is not among them, starts over on a new connection when this one turns
    /// out lost: nothing of it was done (the server rolls back what a lost connection left
    /// open).
    fn round_trip(&self, last: Option<Step>) -> Result<Reply> {
        let mut steps = std::mem::take(&mut *self.queued.borrow_mut());
        steps.extend(last);
        if steps.is_empty() {
            return Ok(Reply::Done);
        }
        let restartable = steps[0].begins() && !steps.iter().any(Step::commits);
        let mut replies = match self.send(&steps) {
            Err(StoreError::Unavailable { .. }) if restartable => {
                self.reconnect()?;
                self.send(&steps)
            }
            Err(e @ StoreError::Unavailable { .. }) => {
                // Lost: the next transaction opens it again.
                drop_link(self.link.borrow_mut().take());
                Err(e)
            }
            done => done,
        }?;
        for (step, reply) in steps.iter().zip(replies.iter_mut()) {
            if let (Some(ticket), Reply::Rows(rows)) = (step.ticket, reply) {
                self.answers
                    .borrow_mut()
                    .insert(ticket, std::mem::take(rows));
            }
        }
        Ok(replies.pop().unwrap_or(Reply::Done))
    }

    /// Sends `steps` in one round trip: every statement is written before the first answer
    /// is awaited, and the server answers them in order.
    fn send(&self, steps: &[Step]) -> Result<Vec<Reply>> {
        let statements = steps
            .iter()
            .map(|step| match step.what {
                What::Statement { text, .. } => self.prepared(step.name, text).map(Some),
                What::Control(_) => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let database = self.shown();
        self.run(|link| {
            link.drive(database, |client| {
                let calls = steps
                    .iter()
                    .zip(&statements)
                    .map(|(step, statement)| step.call(client, statement.as_ref(), database))
                    .collect();
                in_order(calls)
            })
        })
    }

    /// Statement `name`, prepared on first use.
    fn prepared(&self, name: &'static str, text: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(name) {
            return Ok(statement.clone());
        }
        let database = self.shown();
        let statement = self.run(|link| {
            link.drive(database, |client| async move {
                client
                    .prepare(text)
                    .await
                    .map_err(|e| StoreError::postgres(database, name, &e))
            })
        })?;
        self.statements.borrow_mut().insert(name, statement.clone());
        Ok(statement)
    }

    /// Runs statement `name` (`text`) now, returning the number of rows it changed.
    pub(crate) fn execute(
        &self,
        name: &'static str,
        text: &'static str,
        params: &[Value<'_>],
    ) -> Result<usize> {
        if text.is_empty() {
            return Ok(0);
        }
        match self.round_trip(Some(Step::statement(name, text, params, false)))? {
            Reply::Changed(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Ok(0),
        }
    }

    /// Runs statement `name` (`text`), whose outcome nobody waits for: inside a
    /// transaction it goes with the next round trip, and fails that one if it fails.
    pub(crate) fn write(
        &self,
        name: &'static str,
        text: &'static str,
        params: &[Value<'_>],
    ) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if !self.in_transaction.get() {
            return self.execute(name, text, params).map(drop);
        }
        self.queued
            .borrow_mut()
            .push(Step::statement(name, text, params, false));
        Ok(())
    }

    /// Sends query `name` (`text`) ahead, inside a transaction: it goes with the next round
    /// trip, and [`answer`](Self::answer) reads its rows by the ticket returned.
    pub(crate) fn query_later(
        &self,
        name: &'static str,
        text: &'static str,
        params: &[Value<'_>],
    ) -> u64 {
        let ticket = self.tickets.get() + 1;
        self.tickets.set(ticket);
        let mut step = Step::statement(name, text, params, true);
        step.ticket = Some(ticket);
        self.queued.borrow_mut().push(step);
        ticket
    }

    /// The rows of the query sent ahead with `ticket` (waiting for its round trip if it
    /// has not happened yet); `None` once read, or when its round trip failed.
    pub(crate) fn answer(&self, ticket: u64) -> Result<Option<Vec<tokio_postgres::Row>>> {
        let waiting = !self.answers.borrow().contains_key(&ticket)
            && self
                .queued
                .borrow()
                .iter()
                .any(|s| s.ticket == Some(ticket));
        if waiting {
            self.settle()?;
        }
        Ok(self.answers.borrow_mut().remove(&ticket))
    }

    /// Runs query `name` (`text`), handing each row to `each`.
    pub(crate) fn query(
        &self,
        name: &'static str,
        text: &'static str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if let Reply::Rows(rows) =
            self.round_trip(Some(Step::statement(name, text, params, true)))?
        {
            for row in &rows {
                each(&Row::Postgres(row))?;
            }
        }
        Ok(())
    }
}

/// The answers of `calls`, or the first error: each call is polled first (which writes it
/// to the connection) in the order given, so the server runs them in that order.
async fn in_order(mut calls: Vec<Call<'_>>) -> Result<Vec<Reply>> {
    let mut replies: Vec<Option<Reply>> = calls.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (call, reply) in calls.iter_mut().zip(replies.iter_mut()) {
            if reply.is_none() {
                match call.as_mut().poll(cx) {
                    Poll::Ready(Ok(answer)) => *reply = Some(answer),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
        }
        if replies.iter().all(Option::is_some) {
            Poll::Ready(Ok(replies.iter_mut().filter_map(Option::take).collect()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Drops `link` (closing the client runs its runtime: not on a thread of another one).
fn drop_link(link: Option<Link>) {
    if let Some(link) = link
        && tokio::runtime::Handle::try_current().is_ok()
    {
        let _ = std::thread::Builder::new()
            .name("integra-postgres-close".into())
            .spawn(move || drop(link));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        drop_link(self.link.get_mut().take());
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("database", &self.shown())
            .finish_non_exhaustive()
    }
}

/// Column `index` of a PostgreSQL row.
pub(crate) fn column(
    row: &tokio_postgres::Row,
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
    /// The database shown as `database` cannot be reached, for `reason` (cut to a bounded
    /// length).
    pub(crate) fn unavailable(database: &Path, reason: &str) -> Self {
        StoreError::Unavailable {
            database: database.to_owned(),
            reason: crate::limits::elided(reason).to_string(),
        }
    }

    /// The error of statement `statement` on the database shown as `database`: a lost
    /// connection, a conflict worth retrying and a full disk told apart from the rest.
    pub(crate) fn postgres(
        database: &Path,
        statement: &'static str,
        e: &tokio_postgres::Error,
    ) -> Self {
        let Some(db) = e.as_db_error() else {
            let reason = with_causes(e);
            return if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
                StoreError::unavailable(database, &reason)
            } else {
                StoreError::Sql {
                    statement,
                    source: Box::new(PostgresError(crate::limits::elided(&reason).to_string())),
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
            StoreError::unavailable(database, db.message())
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
