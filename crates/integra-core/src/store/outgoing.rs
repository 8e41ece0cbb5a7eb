//! Outgoing queue operations: messages, their deliveries, their history, and the hashes of
//! what was last delivered.

use super::db::{sql, status_column};
use super::{Db, Result};
use crate::queue::status::{DeliveryStatus, MessageStatus};
use crate::time::Timestamp;

/// A message to insert.
pub(crate) struct NewMessage<'a> {
    pub(crate) uuid: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<&'a str>,
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) allow_duplicate: bool,
    pub(crate) source: &'a str,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) now: Timestamp,
}

/// A delivery to insert.
pub(crate) struct NewDelivery<'a> {
    pub(crate) message_id: i64,
    pub(crate) subscriber: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) ordering_key: Option<&'a str>,
    pub(crate) status: DeliveryStatus,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) now: Timestamp,
}

/// What a transition of a message needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct MessageState {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) status: MessageStatus,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) attempts: u32,
    /// Its last change: while it is Forming, when it was claimed (nothing writes a claimed
    /// message but the lease renewal, which leaves this).
    pub(crate) updated_at: Timestamp,
}

/// A message claimed for forming.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedFormingRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) source: String,
    pub(crate) object_key: Option<String>,
    pub(crate) attempts: u32,
}

/// A delivery claimed for sending, with what its transport needs.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedDeliveryRow {
    pub(crate) id: i64,
    pub(crate) message_id: i64,
    pub(crate) subscriber: String,
    pub(crate) attempts: u32,
    pub(crate) uuid: String,
    pub(crate) flow: String,
    pub(crate) payload: String,
    pub(crate) object_key: Option<String>,
    pub(crate) ordering_key: Option<String>,
    pub(crate) payload_hash: Option<Vec<u8>>,
    pub(crate) allow_duplicate: bool,
}

fn message_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageState> {
    Ok(MessageState {
        id: r.get(0)?,
        uuid: r.get(1)?,
        flow: r.get(2)?,
        status: status_column(r, 3)?,
        object_key: r.get(4)?,
        ordering_key: r.get(5)?,
        not_before: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_millis),
        attempts: r.get(7)?,
        updated_at: Timestamp::from_millis(r.get(8)?),
    })
}

impl Db<'_> {
    /// Inserts a message; returns its row id (the registration order).
    pub(crate) fn insert_message(&self, m: &NewMessage<'_>) -> Result<i64> {
        self.execute(
            sql!(insert_message),
            (
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
            ),
        )?;
        Ok(self.last_insert_rowid())
    }

    /// The oldest message of `flow` for `object_key` that still waits to be formed.
    pub(crate) fn find_waiting_message(
        &self,
        flow: &str,
        object_key: &str,
    ) -> Result<Option<(i64, String)>> {
        self.row(sql!(find_waiting_message), (flow, object_key), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Replaces the source of a message that still waits to be formed.
    pub(crate) fn update_waiting_source(
        &self,
        id: i64,
        source: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(sql!(update_waiting_source), (id, source, now.as_millis()))? == 1)
    }

    /// Inserts a delivery.
    pub(crate) fn insert_delivery(&self, d: &NewDelivery<'_>) -> Result<()> {
        self.execute(
            sql!(insert_delivery),
            (
                d.message_id,
                d.subscriber,
                d.flow,
                d.ordering_key,
                d.status.as_str(),
                d.next_attempt_at.as_millis(),
                d.now.as_millis(),
            ),
        )?;
        Ok(())
    }

    /// Appends a history row: a message transition (`subscriber` None) or a delivery's.
    pub(crate) fn insert_message_history(
        &self,
        message_id: i64,
        subscriber: Option<&str>,
        at: Timestamp,
        status: &str,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()> {
        self.execute(
            sql!(insert_message_history),
            (
                message_id,
                subscriber,
                at.as_millis(),
                status,
                attempt,
                detail,
            ),
        )?;
        Ok(())
    }

    /// Claims up to `max` messages of `flows` due for forming, under a lease.
    pub(crate) fn claim_forming(
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
            (owner, lease_until.as_millis(), now.as_millis(), flows, max),
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

    /// Gives messages claimed for forming by `owner` back, as they were before the claim.
    /// Returns how many.
    pub(crate) fn release_forming(
        &self,
        ids: &[&str],
        owner: &str,
        now: Timestamp,
    ) -> Result<usize> {
        self.execute(
            sql!(release_forming),
            (json_list(ids), owner, now.as_millis()),
        )
    }

    /// Counts a forming attempt made outside a claim (the validation of a pass-through
    /// source at registration).
    pub(crate) fn bump_forming_attempts(&self, id: i64) -> Result<()> {
        self.execute(sql!(bump_forming_attempts), [id])?;
        Ok(())
    }

    /// The message with this public id.
    pub(crate) fn message_state(&self, uuid: &str) -> Result<Option<MessageState>> {
        self.row(sql!(select_message_state), [uuid], message_state)
    }

    /// The message with this row id.
    pub(crate) fn message_state_by_id(&self, id: i64) -> Result<Option<MessageState>> {
        self.row(sql!(select_message_state_by_id), [id], message_state)
    }

    /// Stores the formed payload of a message being formed and moves it to Ready. `payload`
    /// None means the source is the payload.
    pub(crate) fn set_message_formed(
        &self,
        id: i64,
        payload: Option<&str>,
        hash: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(set_message_formed),
            (id, payload, hash, now.as_millis()),
        )? == 1)
    }

    /// Moves a message from `from` to `to`. Returns false when it was not in `from`.
    pub(crate) fn transition_message(
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
            (
                id,
                from.as_str(),
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ),
        )? == 1)
    }

    /// Claims up to `max` due deliveries to `subscribers`, under a lease.
    pub(crate) fn claim_deliveries(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        subscribers: &[&str],
        max: usize,
    ) -> Result<Vec<ClaimedDeliveryRow>> {
        let claimed = self.rows(
            sql!(claim_deliveries),
            (
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                json_list(subscribers),
                max,
            ),
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                ))
            },
        )?;
        let mut out = Vec::with_capacity(claimed.len());
        for (id, message_id, subscriber, attempts) in claimed {
            let row = self.row(sql!(select_claimed_message), [message_id], |r| {
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

    /// The hash of the payload last delivered to `subscriber` for (`flow`, `object_key`).
    pub(crate) fn delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.row(
            sql!(select_delivered_hash),
            (flow, subscriber, object_key),
            |r| r.get(0),
        )
    }

    /// Records the hash of a payload just delivered.
    pub(crate) fn record_delivered_hash(
        &self,
        flow: &str,
        subscriber: &str,
        object_key: &str,
        hash: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            sql!(upsert_delivered_hash),
            (flow, subscriber, object_key, hash, now.as_millis()),
        )?;
        Ok(())
    }

    /// Moves a delivery from `from` to `to`; when `owner` is given, only while it still holds
    /// the lease. Returns (message row id, subscriber, attempts) when it moved.
    #[expect(
        clippy::too_many_arguments,
        reason = "one parameter per column the statement sets"
    )]
    pub(crate) fn transition_delivery(
        &self,
        id: i64,
        from: DeliveryStatus,
        to: DeliveryStatus,
        owner: Option<&str>,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<(i64, String, u32)>> {
        self.row(
            sql!(transition_delivery),
            (
                id,
                from.as_str(),
                to.as_str(),
                owner,
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
            ),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Ends a dispatched message whose deliveries have all finished; returns its new status.
    pub(crate) fn finish_message(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<(MessageStatus, u32)>> {
        self.row(sql!(finish_message), (id, now.as_millis()), |r| {
            Ok((status_column(r, 0)?, r.get(1)?))
        })
    }

    /// When the earliest delivery to one of `subscribers` falls due.
    pub(crate) fn next_delivery_due(&self, subscribers: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_delivery_due), [json_list(subscribers)], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    /// When the earliest message of `flows` falls due for forming.
    pub(crate) fn next_forming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_forming_due), [json_list(flows)], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }
}

/// A JSON array of strings, for `json_each` parameters.
pub(super) fn json_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}
