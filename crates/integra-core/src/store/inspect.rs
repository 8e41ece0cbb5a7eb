//! Inspection and operator actions: status of one message with its deliveries and history,
//! listing by filter, counts by status, re-drive by filter, deletion.

use super::db::{sql, status_column};
use super::outgoing::json_list;
use super::{Db, Result};
use crate::queue::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::time::Timestamp;

/// One outgoing message as stored.
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) allow_duplicate: bool,
    pub(crate) source: String,
    pub(crate) payload: Option<String>,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// One delivery as stored.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryRow {
    pub(crate) subscriber: String,
    pub(crate) status: DeliveryStatus,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// One outgoing history row. `status` is a message status when `subscriber` is None, else a
/// delivery status.
#[derive(Debug, Clone)]
pub(crate) struct HistoryRow {
    pub(crate) subscriber: Option<String>,
    pub(crate) at: Timestamp,
    pub(crate) status: String,
    pub(crate) attempt: u32,
    pub(crate) detail: Option<String>,
}

/// One incoming history row.
#[derive(Debug, Clone)]
pub(crate) struct IncomingHistoryRow {
    pub(crate) at: Timestamp,
    pub(crate) status: IncomingStatus,
    pub(crate) attempt: u32,
    pub(crate) detail: Option<String>,
}

/// An incoming message as stored.
#[derive(Debug, Clone)]
pub(crate) struct IncomingFullRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) message_id: String,
    pub(crate) status: IncomingStatus,
    pub(crate) payload: String,
    pub(crate) content_type: String,
    pub(crate) headers: String,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
}

/// Filters of a message listing; None matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery<'a> {
    pub(crate) flow: Option<&'a str>,
    pub(crate) status: Option<MessageStatus>,
    pub(crate) subscriber: Option<&'a str>,
    pub(crate) delivery_status: Option<DeliveryStatus>,
    pub(crate) created_from: Option<Timestamp>,
    pub(crate) created_to: Option<Timestamp>,
    pub(crate) before_seq: Option<i64>,
    pub(crate) limit: usize,
}

/// Filters of a re-drive; None matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct RedriveQuery<'a> {
    pub(crate) statuses: Vec<&'a str>,
    pub(crate) flow: Option<&'a str>,
    pub(crate) subscriber: Option<&'a str>,
    pub(crate) id: Option<&'a str>,
    pub(crate) created_from: Option<Timestamp>,
    pub(crate) created_to: Option<Timestamp>,
}

/// The parameters of the re-drive selections: statuses (JSON), flow, subscriber, id,
/// created from, created to.
type RedriveParams<'q> = (
    String,
    Option<&'q str>,
    Option<&'q str>,
    Option<&'q str>,
    Option<i64>,
    Option<i64>,
);

fn ts(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        flow: r.get(2)?,
        status: status_column(r, 3)?,
        object_key: r.get(4)?,
        ordering_key: r.get(5)?,
        allow_duplicate: r.get(6)?,
        source: r.get(7)?,
        payload: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt_at: ts(r.get(10)?),
        not_before: r.get::<_, Option<i64>>(11)?.map(ts),
        last_error: r.get(12)?,
        created_at: ts(r.get(13)?),
        updated_at: ts(r.get(14)?),
    })
}

impl Db<'_> {
    /// The outgoing message with this public id.
    pub(crate) fn message(&self, uuid: &str) -> Result<Option<MessageRow>> {
        self.row(sql!(select_message), [uuid], message_row)
    }

    /// The deliveries of message row `id`, in creation order.
    pub(crate) fn deliveries_of(&self, id: i64) -> Result<Vec<DeliveryRow>> {
        self.rows(sql!(select_message_deliveries), [id], |r| {
            Ok(DeliveryRow {
                subscriber: r.get(0)?,
                status: status_column(r, 1)?,
                attempts: r.get(2)?,
                next_attempt_at: ts(r.get(3)?),
                last_error: r.get(4)?,
                created_at: ts(r.get(5)?),
                updated_at: ts(r.get(6)?),
            })
        })
    }

    /// The history of message row `id`, oldest first.
    pub(crate) fn history_of(&self, id: i64) -> Result<Vec<HistoryRow>> {
        self.rows(sql!(select_message_history), [id], |r| {
            Ok(HistoryRow {
                subscriber: r.get(0)?,
                at: ts(r.get(1)?),
                status: r.get(2)?,
                attempt: r.get(3)?,
                detail: r.get(4)?,
            })
        })
    }

    /// Messages matching `q`, newest first.
    pub(crate) fn list_messages(&self, q: &ListQuery<'_>) -> Result<Vec<MessageRow>> {
        self.rows(
            sql!(list_messages),
            (
                q.flow,
                q.status.map(MessageStatus::as_str),
                q.subscriber,
                q.delivery_status.map(DeliveryStatus::as_str),
                q.created_from.map(Timestamp::as_millis),
                q.created_to.map(Timestamp::as_millis),
                q.before_seq,
                q.limit,
            ),
            message_row,
        )
    }

    fn redrive_params<'q>(q: &'q RedriveQuery<'q>) -> RedriveParams<'q> {
        (
            json_list(&q.statuses),
            q.flow,
            q.subscriber,
            q.id,
            q.created_from.map(Timestamp::as_millis),
            q.created_to.map(Timestamp::as_millis),
        )
    }

    /// (delivery id, message row id, subscriber, status) of deliveries matching `q`.
    pub(crate) fn redrive_deliveries(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, i64, String, DeliveryStatus)>> {
        self.rows(
            sql!(select_redrive_deliveries),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, status_column(r, 3)?)),
        )
    }

    /// (message row id, status) of messages matching `q` (its subscriber is ignored).
    pub(crate) fn redrive_messages(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, MessageStatus)>> {
        self.rows(
            sql!(select_redrive_messages),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, status_column(r, 1)?)),
        )
    }

    /// (row id, status) of incoming messages matching `q` (its subscriber is ignored).
    pub(crate) fn redrive_incoming(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, IncomingStatus)>> {
        self.rows(
            sql!(select_redrive_incoming),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, status_column(r, 1)?)),
        )
    }

    /// Resets a delivery in `from` to New with no attempts, due `now`.
    pub(crate) fn reset_delivery(
        &self,
        id: i64,
        from: DeliveryStatus,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(sql!(redrive_delivery), (id, from.as_str(), now.as_millis()))? == 1)
    }

    /// Resets a message in `from` to New with no attempts, due `now`.
    pub(crate) fn reset_message(
        &self,
        id: i64,
        from: MessageStatus,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(sql!(redrive_message), (id, from.as_str(), now.as_millis()))? == 1)
    }

    /// Resets an incoming message in `from` to New with no attempts, due `now`.
    pub(crate) fn reset_incoming(
        &self,
        id: i64,
        from: IncomingStatus,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(sql!(redrive_incoming), (id, from.as_str(), now.as_millis()))? == 1)
    }

    /// The incoming message with this public id.
    pub(crate) fn incoming(&self, uuid: &str) -> Result<Option<IncomingFullRow>> {
        self.row(sql!(select_incoming), [uuid], |r| {
            Ok(IncomingFullRow {
                id: r.get(0)?,
                uuid: r.get(1)?,
                flow: r.get(2)?,
                message_id: r.get(3)?,
                status: status_column(r, 4)?,
                payload: r.get(5)?,
                content_type: r.get(6)?,
                headers: r.get(7)?,
                attempts: r.get(8)?,
                next_attempt_at: ts(r.get(9)?),
                last_error: r.get(10)?,
                created_at: ts(r.get(11)?),
                updated_at: ts(r.get(12)?),
            })
        })
    }

    /// The history of incoming row `id`, oldest first.
    pub(crate) fn incoming_history_of(&self, id: i64) -> Result<Vec<IncomingHistoryRow>> {
        self.rows(sql!(select_incoming_history), [id], |r| {
            Ok(IncomingHistoryRow {
                at: ts(r.get(0)?),
                status: status_column(r, 1)?,
                attempt: r.get(2)?,
                detail: r.get(3)?,
            })
        })
    }

    /// Deletes outgoing messages (row ids) with their deliveries and history.
    pub(crate) fn delete_messages(&self, ids: &[i64]) -> Result<usize> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        self.execute(sql!(delete_messages_history), [&ids])?;
        self.execute(sql!(delete_messages_deliveries), [&ids])?;
        self.execute(sql!(delete_messages), [&ids])
    }

    /// Deletes incoming messages (row ids) with their history.
    pub(crate) fn delete_incoming(&self, ids: &[i64]) -> Result<usize> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        self.execute(sql!(delete_incoming_history), [&ids])?;
        self.execute(sql!(delete_incoming), [&ids])
    }
}
