//! The implementation of [`InspectStore`].

use super::json_list;
use super::{Result, Tx};
use super::{Row, RowError, params, sql, status_column};
use crate::status::{DeliveryStatus, HistoryStatus, IncomingStatus, MessageStatus};
use crate::store::inspect::{
    DeliveryRow, HistoryRow, IncomingFullRow, IncomingHistoryRow, IncomingListQuery,
    IncomingListRow, InspectStore, ListQuery, MessageRow, RedriveQuery,
};
use crate::time::Timestamp;

fn ts(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn message_row(r: &Row<'_>) -> Result<MessageRow, RowError> {
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
        not_before: r.get::<Option<i64>>(11)?.map(ts),
        last_error: r.get(12)?,
        created_at: ts(r.get(13)?),
        updated_at: ts(r.get(14)?),
    })
}

impl Tx<'_> {
    /// Runs a re-drive selection: its parameters are statuses (JSON), flow, subscriber, id,
    /// created from, created to.
    fn redrive_rows<T>(
        &self,
        sql: super::Sql,
        q: &RedriveQuery<'_>,
        f: impl FnMut(&super::Row<'_>) -> std::result::Result<T, super::RowError>,
    ) -> Result<Vec<T>> {
        let statuses = json_list(&q.statuses);
        let params = params![
            &statuses,
            q.flow,
            q.subscriber,
            q.id,
            q.created_from.map(Timestamp::as_millis),
            q.created_to.map(Timestamp::as_millis),
        ];
        self.rows(sql, params, f)
    }
}

impl InspectStore for Tx<'_> {
    fn message(&self, uuid: &str) -> Result<Option<MessageRow>> {
        self.row(sql!(select_message), params![uuid], message_row)
    }

    fn deliveries_of(&self, id: i64) -> Result<Vec<DeliveryRow>> {
        self.rows(sql!(select_message_deliveries), params![id], |r| {
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
        self.rows(sql!(select_message_history), params![id], |r| {
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
            params![
                q.flow,
                q.status.map(MessageStatus::as_str),
                q.subscriber,
                q.delivery_status.map(DeliveryStatus::as_str),
                q.created_from.map(Timestamp::as_millis),
                q.created_to.map(Timestamp::as_millis),
                q.before_seq,
                q.limit,
            ],
            message_row,
        )
    }

    fn redrive_deliveries(
        &self,
        q: &RedriveQuery<'_>,
    ) -> Result<Vec<(i64, i64, String, DeliveryStatus)>> {
        self.redrive_rows(sql!(select_redrive_deliveries), q, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, status_column(r, 3)?))
        })
    }

    fn redrive_messages(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, MessageStatus)>> {
        self.redrive_rows(sql!(select_redrive_messages), q, |r| {
            Ok((r.get(0)?, status_column(r, 1)?))
        })
    }

    fn redrive_incoming(&self, q: &RedriveQuery<'_>) -> Result<Vec<(i64, IncomingStatus)>> {
        self.redrive_rows(sql!(select_redrive_incoming), q, |r| {
            Ok((r.get(0)?, status_column(r, 1)?))
        })
    }

    fn reset_delivery(&self, id: i64, from: DeliveryStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(
            sql!(redrive_delivery),
            params![id, from.as_str(), now.as_millis()],
        )? == 1)
    }

    fn reset_message(&self, id: i64, from: MessageStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(
            sql!(redrive_message),
            params![id, from.as_str(), now.as_millis()],
        )? == 1)
    }

    fn reset_incoming(&self, id: i64, from: IncomingStatus, now: Timestamp) -> Result<bool> {
        Ok(self.execute(
            sql!(redrive_incoming),
            params![id, from.as_str(), now.as_millis()],
        )? == 1)
    }

    fn list_incoming(&self, q: &IncomingListQuery<'_>) -> Result<Vec<IncomingListRow>> {
        self.rows(
            sql!(list_incoming),
            params![
                q.flow,
                q.status.map(IncomingStatus::as_str),
                q.created_from.map(Timestamp::as_millis),
                q.created_to.map(Timestamp::as_millis),
                q.before_seq,
                q.limit,
            ],
            |r| {
                Ok(IncomingListRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    flow: r.get(2)?,
                    message_id: r.get(3)?,
                    status: status_column(r, 4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                    created_at: ts(r.get(7)?),
                    updated_at: ts(r.get(8)?),
                })
            },
        )
    }

    fn incoming(&self, uuid: &str) -> Result<Option<IncomingFullRow>> {
        self.row(sql!(select_incoming), params![uuid], |r| {
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
        self.rows(sql!(select_incoming_history), params![id], |r| {
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
        self.write(sql!(delete_messages_history), params![&ids])?;
        self.write(sql!(delete_messages_deliveries), params![&ids])?;
        self.execute(sql!(delete_messages), params![&ids])
    }

    fn delete_incoming(&self, ids: &[i64]) -> Result<usize> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
        self.write(sql!(delete_incoming_history), params![&ids])?;
        self.execute(sql!(delete_incoming), params![&ids])
    }
}
