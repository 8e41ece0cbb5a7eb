//! The SQLite implementation of [`InspectStore`].

use super::db::{sql, status_column};
use super::outgoing::json_list;
use super::{Result, Tx};
use crate::status::{DeliveryStatus, HistoryStatus, IncomingStatus, MessageStatus};
use crate::store::inspect::{
    DeliveryRow, HistoryRow, IncomingFullRow, IncomingHistoryRow, InspectStore, ListQuery,
    MessageRow, RedriveQuery,
};
use crate::time::Timestamp;

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

impl Tx<'_> {
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
}

impl InspectStore for Tx<'_> {
    fn message(&self, uuid: &str) -> Result<Option<MessageRow>> {
        self.row(sql!(select_message), [uuid], message_row)
    }

    fn deliveries_of(&self, id: i64) -> Result<Vec<DeliveryRow>> {
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

    fn history_of(&self, id: i64) -> Result<Vec<HistoryRow>> {
        self.rows(sql!(select_message_history), [id], |r| {
            let subscriber: Option<String> = r.get(0)?;
            let status = match subscriber {
                Some(_) => HistoryStatus::Delivery(status_column(r, 2)?),
                None => HistoryStatus::Message(status_column(r, 2)?),
            };
            Ok(HistoryRow {
                subscriber,
                at: ts(r.get(1)?),
                status,
                attempt: r.get(3)?,
                detail: r.get(4)?,
            })
        })
    }

    fn list_messages(&self, q: &ListQuery<'_>) -> Result<Vec<MessageRow>> {
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

    fn redrive_deliveries(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, i64, String, DeliveryStatus)>> {
        self.rows(
            sql!(select_redrive_deliveries),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, status_column(r, 3)?)),
        )
    }

    fn redrive_messages(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, MessageStatus)>> {
        self.rows(
            sql!(select_redrive_messages),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, status_column(r, 1)?)),
        )
    }

    fn redrive_incoming(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, IncomingStatus)>> {
        self.rows(
            sql!(select_redrive_incoming),
            Self::redrive_params(q),
            |r| Ok((r.get(0)?, status_column(r, 1)?)),
        )
    }

    fn reset_delivery(&self, id: i64, from: DeliveryStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(sql!(redrive_delivery), (id, from.as_str(), now.as_millis()))? == 1)
    }

    fn reset_message(&self, id: i64, from: MessageStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(sql!(redrive_message), (id, from.as_str(), now.as_millis()))? == 1)
    }

    fn reset_incoming(&self, id: i64, from: IncomingStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(sql!(redrive_incoming), (id, from.as_str(), now.as_millis()))? == 1)
    }

    fn incoming(&self, uuid: &str) -> Result<Option<IncomingFullRow>> {
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

    fn incoming_history_of(&self, id: i64) -> Result<Vec<IncomingHistoryRow>> {
        self.rows(sql!(select_incoming_history), [id], |r| {
            Ok(IncomingHistoryRow {
                at: ts(r.get(0)?),
                status: status_column(r, 1)?,
                attempt: r.get(2)?,
                detail: r.get(3)?,
            })
        })
    }

    fn delete_messages(&self, ids: &[i64]) -> Result<usize> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        self.execute(sql!(delete_messages_history), [&ids])?;
        self.execute(sql!(delete_messages_deliveries), [&ids])?;
        self.execute(sql!(delete_messages), [&ids])
    }

    fn delete_incoming(&self, ids: &[i64]) -> Result<usize> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        self.execute(sql!(delete_incoming_history), [&ids])?;
        self.execute(sql!(delete_incoming), [&ids])
    }
}
