//! Answers that come with a transaction's next round trip ([`Later`]).

use std::marker::PhantomData;

#[cfg(feature = "postgres")]
use super::Conn;
use super::{Result, Row, RowError, Sql, Tx, Value};

/// The answer of a query sent ahead, read with [`Later::take`]. PostgreSQL sends a
/// transaction's statements without waiting for each answer (see `store/postgres/session.rs`):
/// queries asked one after another and read afterwards share one round trip. SQLite runs
/// every statement at once: its answer is there already.
pub(crate) struct Later<'c, T> {
    answer: Answer<'c, T>,
}

enum Answer<'c, T> {
    /// Answered already (the marker: only an answer sent ahead borrows its session).
    Ready(Option<T>, PhantomData<&'c ()>),
    /// Sent ahead on a PostgreSQL session; its rows are kept there under `ticket`.
    #[cfg(feature = "postgres")]
    Sent {
        session: &'c crate::store::postgres::Session,
        ticket: u64,
        name: &'static str,
        read: fn(&Row<'_>) -> std::result::Result<T, RowError>,
    },
}

impl<T> Later<'_, T> {
    /// The first row of the answer, read (waiting for the round trip that carries it, if it
    /// has not happened yet).
    ///
    /// # Errors
    /// What the round trip failed with; a query whose answer was lost with an earlier
    /// statement's failure fails naming that.
    pub(crate) fn take(self) -> Result<Option<T>> {
        match self.answer {
            Answer::Ready(answer, _) => Ok(answer),
            #[cfg(feature = "postgres")]
            Answer::Sent {
                session,
                ticket,
                name,
                read,
            } => {
                let rows = session
                    .answer(ticket)?
                    .ok_or_else(|| RowError::Unanswered.of(name))?;
                rows.first()
                    .map(|row| read(&Row::Postgres(row)).map_err(|e| e.of(name)))
                    .transpose()
            }
        }
    }
}

impl<'c> Tx<'c> {
    /// Runs a query expected to return at most one row, whose answer is read later: on
    /// PostgreSQL, inside a transaction, it goes with the next round trip.
    pub(crate) fn row_later<T>(
        &self,
        sql: Sql,
        params: &[Value<'_>],
        read: fn(&Row<'_>) -> std::result::Result<T, RowError>,
    ) -> Result<Later<'c, T>> {
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(session) = self.conn
            && session.in_transaction()
        {
            return Ok(Later {
                answer: Answer::Sent {
                    session,
                    ticket: session.query_later(sql.name, sql.postgres, params),
                    name: sql.name,
                    read,
                },
            });
        }
        Ok(Later {
            answer: Answer::Ready(self.row(sql, params, read)?, PhantomData),
        })
    }
}
