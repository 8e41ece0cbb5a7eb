//! The implementation of [`SourceStore`].

use super::{Result, Tx};
use super::{params, sql};
#[cfg(feature = "http")]
use crate::store::sources::PollStateRow;
use crate::store::sources::{RejectionRow, SourceLeaseRow, SourceStore};
use crate::time::Timestamp;

impl SourceStore for Tx<'_> {
    fn acquire_source_lease(
        &self,
        flow: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let taken = self.row(
            sql!(acquire_source_lease),
            params![flow, owner, until.as_millis(), now.as_millis()],
            |_| Ok(()),
        )?;
        Ok(taken.is_some())
    }

    fn release_source_lease(&self, flow: &str, owner: &str, now: Timestamp) -> Result<()> {
        self.write(
            sql!(release_source_lease),
            params![flow, owner, now.as_millis()],
        )?;
        Ok(())
    }

    fn set_source_error(
        &self,
        flow: &str,
        owner: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(
            sql!(set_source_error),
            params![flow, owner, error, now.as_millis()],
        )?;
        Ok(())
    }

    fn source_leases(&self) -> Result<Vec<SourceLeaseRow>> {
        self.rows(sql!(select_source_leases), &[], |r| {
            Ok(SourceLeaseRow {
                flow: r.get(0)?,
                owner: r.get(1)?,
                lease_until: Timestamp::from_millis(r.get(2)?),
                last_error: r.get(3)?,
                updated_at: Timestamp::from_millis(r.get(4)?),
            })
        })
    }

    #[cfg(feature = "kafka")]
    fn source_offsets(&self, flow: &str, topic: &str) -> Result<Vec<(i32, i64)>> {
        self.rows(sql!(select_source_offsets), params![flow, topic], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    #[cfg(feature = "kafka")]
    fn advance_source_offset(
        &self,
        flow: &str,
        topic: &str,
        partition: i32,
        from: i64,
        to: i64,
        now: Timestamp,
    ) -> Result<bool> {
        let moved = self.row(
            sql!(advance_source_offset),
            params![flow, topic, partition, from, to, now.as_millis()],
            |_| Ok(()),
        )?;
        Ok(moved.is_some())
    }

    #[cfg(feature = "http")]
    fn poll_state(&self, flow: &str) -> Result<PollStateRow> {
        Ok(self
            .row(sql!(select_poll_state), params![flow], |r| {
                Ok(PollStateRow {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                    cursor: r.get(2)?,
                })
            })?
            .unwrap_or_default())
    }

    #[cfg(feature = "http")]
    fn save_poll_state(&self, flow: &str, state: &PollStateRow, now: Timestamp) -> Result<()> {
        self.write(
            sql!(upsert_poll_state),
            params![
                flow,
                &state.etag,
                &state.last_modified,
                &state.cursor,
                now.as_millis(),
            ],
        )?;
        Ok(())
    }

    fn insert_rejection(
        &self,
        flow: &str,
        source: &str,
        message_id: Option<&str>,
        reason: &str,
        payload: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(
            sql!(insert_rejection),
            params![flow, source, message_id, reason, payload, now.as_millis()],
        )?;
        Ok(())
    }

    fn rejections(&self, flow: &str, limit: usize) -> Result<Vec<RejectionRow>> {
        self.rows(sql!(select_rejections), params![flow, limit], |r| {
            Ok(RejectionRow {
                id: r.get(0)?,
                flow: r.get(1)?,
                source: r.get(2)?,
                message_id: r.get(3)?,
                reason: r.get(4)?,
                payload: r.get(5)?,
                at: Timestamp::from_millis(r.get(6)?),
            })
        })
    }
}
