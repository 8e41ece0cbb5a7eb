//! The implementation of [`IncomingStore`].

use super::json_list;
use super::{Result, Tx};
use super::{params, sql, status_column};
use crate::status::IncomingStatus;
use crate::store::incoming::{IncomingRow, IncomingState, IncomingStore, NewIncoming};
use crate::time::Timestamp;

impl IncomingStore for Tx<'_> {
    fn insert_incoming(&self, m: &NewIncoming<'_>) -> Result<Option<i64>> {
        if let Some(key) = m.ordering_key {
            self.serialize("incoming", m.flow, key)?;
        }
        self.row(
            sql!(insert_incoming),
            params![
                m.uuid,
                m.flow,
                m.message_id,
                m.payload,
                m.content_type,
                m.headers,
                m.ordering_key,
                m.now.as_millis(),
            ],
            |r| r.get(0),
        )
    }

    fn incoming_uuid(&self, flow: &str, message_id: &str) -> Result<Option<String>> {
        self.row(sql!(select_incoming_uuid), params![flow, message_id], |r| {
            r.get(0)
        })
    }

    fn release_incoming(&self, ids: &[&str], owner: &str, now: Timestamp) -> Result<usize> {
        self.execute(
            sql!(release_incoming),
            params![&json_list(ids), owner, now.as_millis()],
        )
    }

    fn claim_incoming(
        &self,
        owner: &str,
        lease_until: Timestamp,
        now: Timestamp,
        flows: &[&str],
        max: usize,
    ) -> Result<Vec<IncomingRow>> {
        self.rows(
            sql!(claim_incoming),
            params![
                owner,
                lease_until.as_millis(),
                now.as_millis(),
                &json_list(flows),
                max,
            ],
            |r| {
                Ok(IncomingRow {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    flow: r.get(2)?,
                    message_id: r.get(3)?,
                    payload: r.get(4)?,
                    content_type: r.get(5)?,
                    headers: r.get(6)?,
                    attempts: r.get(7)?,
                })
            },
        )
    }

    fn incoming_state(&self, uuid: &str) -> Result<Option<IncomingState>> {
        self.row(sql!(select_incoming_state), params![uuid], |r| {
            Ok(IncomingState {
                id: r.get(0)?,
                flow: r.get(1)?,
                status: status_column(r, 2)?,
                attempts: r.get(3)?,
                updated_at: Timestamp::from_millis(r.get(4)?),
            })
        })
    }

    fn transition_incoming(
        &self,
        id: i64,
        from: IncomingStatus,
        to: IncomingStatus,
        error: Option<&str>,
        next_attempt_at: Option<Timestamp>,
        owner: Option<&str>,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self.execute(
            sql!(transition_incoming),
            params![
                id,
                from.as_str(),
                to.as_str(),
                error,
                next_attempt_at.map(Timestamp::as_millis),
                now.as_millis(),
                owner,
            ],
        )? == 1)
    }

    fn next_incoming_due(&self, flows: &[&str]) -> Result<Option<Timestamp>> {
        Ok(self
            .row(sql!(next_incoming_due), params![&json_list(flows)], |r| {
                r.get::<Option<i64>>(0)
            })?
            .flatten()
            .map(Timestamp::from_millis))
    }

    fn insert_incoming_history(
        &self,
        id: i64,
        at: Timestamp,
        status: IncomingStatus,
        attempt: u32,
        detail: Option<&str>,
    ) -> Result<()> {
        self.write(
            sql!(insert_incoming_history),
            params![id, at.as_millis(), status.as_str(), attempt, detail],
        )?;
        Ok(())
    }
}
