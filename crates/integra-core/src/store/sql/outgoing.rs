//! The implementation of [`OutgoingStore`].

use super::{Later, Row, RowError, json_list, params, sql, status_column};
use super::{Result, Tx};
use crate::status::{DeliveryStatus, MessageStatus};
use crate::store::outgoing::{
    ClaimedDeliveryRow, ClaimedFormingRow, MessageState, NewDelivery, NewMessage, OutgoingStore,
};
use crate::time::Timestamp;

fn message_state(r: &Row<'_>) -> Result<MessageState, RowError> {
    Ok(MessageState {
        id: r.get(0)?,
        uuid: r.get(1)?,
        flow: r.get(2)?,
        status: status_column(r, 3)?,
        object_key: r.get(4)?,
        ordering_key: r.get(5)?,
        not_before: r.get::<Option<i64>>(6)?.map(Timestamp::from_millis),
        attempts: r.get(7)?,
        updated_at: Timestamp::from_millis(r.get(8)?),
    })
}

impl OutgoingStore for Tx<'_> {
    fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64> {
        if let Some(key) = m.ordering_key {
            self.serialize("message", m.flow, key)?;
        }
        self.one(
            sql!(insert_message),
            params![
                m.uuid,
                m.flow,
                m.status.as_str(),
                m.object_key,
                m.ordering_key,
                m.allow_duplicate,
                m.source,
                m.next_attempt_at.as_millis(),
                m.not_before.map(Timestamp::as_millis),
                m.now.as_millis(),
            ],
            |r| r.get(0),
        )
    }

    fn find_waiting_message(&self, flow: &str, object_key: &str) -> Result<Option<(i64, String)>> {
        // What is found is then either updated or registered anew: one at a time per key.
        self.serialize("object", flow, object_key)?;
        self.row(sql!(find_waiting_message), params![flow, object_key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn update_waiting_source(&self, id: i64, source: &str, now: Timestamp) -> Result<bool> {
        Ok(self.execute(
            sql!(update_waiting_source),
            params![id, source, now.as_millis()],
        )? == 1)
    }

    fn insert_delivery(&self, d: &NewDelivery<'_>) -> Result<()> {
        self.write(
            sql!(insert_delivery),
            params![
                d.message_id,
                d.subscriber,
                d.flow,
                d.ordering_key,
                d.status.as_str(),
                d.next_attempt_at.as_millis(),
                d.now.as_millis(),
            ],
        )?;
        Ok(())
    }

    fn insert_message_history(
        &self,
        message_id: i64,
        subscriber: Option<&str>,
        at: Timestamp,
        status: &str,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()> {
        self.write(
            sql!(insert_message_history),
            params![
                message_id,
                subscriber,
                at.as_millis(),
                status,
                attempt,
                detail,
            ],
        )?;
        Ok(())
    }

    fn claim_forming(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        flows: &[&str],
        max: usize,
    ) -> Result<Vec<ClaimedFormingRow>> {
        let flows = json_list(flows);
        self.rows(
            sql!(claim_forming),
            params![owner, lease_until.as_millis(), now.as_millis(), &flows, max],
            |r| {
                Ok(ClaimedFormingRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    flow: r.get(2)?,
                    source: r.get(3)?,
                    object_key: r.get(4)?,
                    attempts: r.get(5)?,
                })
            },
        )
    }

    fn release_forming(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize> {
        self.execute(
            sql!(release_forming),
            params![&json_list(ids), owner, now.as_millis()],
        )
    }

    fn bump_forming_attempts(&self, id: i64) -> Result<()> {
        self.write(sql!(bump_forming_attempts), params![id])?;
        Ok(())
    }

    fn message_state(&self, uuid: &str) -> Result<Option<MessageState>> {
        self.row(sql!(select_message_state), params![uuid], message_state)
    }

    fn message_state_by_id(&self, id: i64) -> Result<Option<MessageState>> {
        self.row(sql!(select_message_state_by_id), params![id], message_state)
    }

    fn set_message_formed(
        &self,
        id: i64,
        payload: Option<&str>,
        hash: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(set_message_formed),
            params![id, payload, hash, now.as_millis()],
        )? == 1)
    }

    fn transition_message(
        &self,
        id: i64,
        from: MessageStatus,
        to: MessageStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(transition_message),
            params![
                id,
                from.as_str(),
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ],
        )? == 1)
    }

    fn claim_deliveries(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        subscribers: &[&str],
        max: usize,
    ) -> Result<Vec<ClaimedDeliveryRow>> {
        let claimed = self.rows(
            sql!(claim_deliveries),
            params![
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                &json_list(subscribers),
                max,
            ],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<i64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<u32>(3)?,
                ))
            },
        )?;
        let mut out = Vec::with_capacity(claimed.len());
        for (id, message_id, subscriber, attempts) in claimed {
            let row = self.row(sql!(select_claimed_message), params![message_id], |r| {
                Ok(ClaimedDeliveryRow {
                    id,
                    message_id,
                    subscriber: subscriber.clone(),
                    attempts,
                    uuid: r.get(0)?,
                    flow: r.get(1)?,
                    payload: r.get(2)?,
                    object_key: r.get(3)?,
                    ordering_key: r.get(4)?,
                    payload_hash: r.get(5)?,
                    allow_duplicate: r.get(6)?,
                })
            })?;
            out.extend(row);
        }
        Ok(out)
    }

    fn delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.row(
            sql!(select_delivered_hash),
            params![flow, subscriber, object_key],
            |r| r.get(0),
        )
    }

    fn record_delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        self.write(
            sql!(upsert_delivered_hash),
            params![flow, subscriber, object_key, hash, now.as_millis()],
        )?;
        Ok(())
    }

    fn transition_delivery(
        &self,
        id: i64,
        from: DeliveryStatus,
        to: DeliveryStatus,
        owner: Option<&str>,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Later<'_, (i64, String, u32)>> {
        self.row_later(
            sql!(transition_delivery),
            params![
                id,
                from.as_str(),
                to.as_str(),
                owner,
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    fn finish_message(&self, id: i64, now: Timestamp) -> Result<Later<'_, (MessageStatus, u32)>> {
        self.row_later(sql!(finish_message), params![id, now.as_millis()], |r| {
            Ok((status_column(r, 0)?, r.get(1)?))
        })
    }

    fn next_delivery_due(&self, subscribers: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(
                sql!(next_delivery_due),
                params![&json_list(subscribers)],
                |r| r.get::<Option<i64>>(0),
            )?
            .flatten()
            .map(Timestamp::from_millis))
    }

    fn next_forming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_forming_due), params![&json_list(flows)], |r| {
                r.get::<Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }
}
