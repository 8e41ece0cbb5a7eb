//! What inbound sources keep in the database: the lease that lets one process at a time run
//! a flow's source, Kafka offsets (moved in the same transaction as the records read), poll
//! state (validators and cursor), and the messages a source rejected.

use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

/// Who runs a flow's source, and how it last went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceLeaseRow {
    pub(crate) flow: String,
    pub(crate) owner: String,
    pub(crate) lease_until: Timestamp,
    pub(crate) last_error: Option<String>,
    pub(crate) updated_at: Timestamp,
}

/// What a poll carries to the next one.
#[cfg(feature = "http")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PollStateRow {
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    pub(crate) cursor: Option<String>,
}

/// A message a source rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RejectionRow {
    pub(crate) id: i64,
    pub(crate) flow: String,
    pub(crate) source: String,
    pub(crate) message_id: Option<String>,
    pub(crate) reason: String,
    pub(crate) payload: String,
    pub(crate) at: Timestamp,
}

impl Db<'_> {
    /// Takes or extends `owner`'s lease on `flow`'s source until `until`; false when another
    /// owner holds an unexpired lease.
    pub(crate) fn acquire_source_lease(
        &self,
        flow: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let taken = self.row(
            sql!(acquire_source_lease),
            (flow, owner, until.as_millis(), now.as_millis()),
            |_| Ok(()),
        )?;
        Ok(taken.is_some())
    }

    /// Gives up `owner`'s lease on `flow`'s source.
    pub(crate) fn release_source_lease(
        &self,
        flow: &str,
        owner: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(sql!(release_source_lease), (flow, owner, now.as_millis()))?;
        Ok(())
    }

    /// Records the error of `owner`'s run of `flow`'s source (`None` once it works again).
    pub(crate) fn set_source_error(
        &self,
        flow: &str,
        owner: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            sql!(set_source_error),
            (flow, owner, error, now.as_millis()),
        )?;
        Ok(())
    }

    /// Every source lease.
    pub(crate) fn source_leases(&self) -> Result<Vec<SourceLeaseRow>> {
        self.rows(sql!(select_source_leases), [], |r| {
            Ok(SourceLeaseRow {
                flow: r.get(0)?,
                owner: r.get(1)?,
                lease_until: Timestamp::from_millis(r.get(2)?),
                last_error: r.get(3)?,
                updated_at: Timestamp::from_millis(r.get(4)?),
            })
        })
    }

    /// The stored next offsets of `flow`'s partitions of `topic`.
    #[cfg(feature = "kafka")]
    pub(crate) fn source_offsets(&self, flow: &str, topic: &str) -> Result<Vec<(i32, i64)>> {
        self.rows(sql!(select_source_offsets), (flow, topic), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Moves a partition's offset from `from` to `to`; false (nothing changed) when the
    /// stored offset is not `from`, because another reader moved it.
    #[cfg(feature = "kafka")]
    pub(crate) fn advance_source_offset(
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
            (flow, topic, partition, from, to, now.as_millis()),
            |_| Ok(()),
        )?;
        Ok(moved.is_some())
    }

    /// What the last poll of `flow` left.
    #[cfg(feature = "http")]
    pub(crate) fn poll_state(&self, flow: &str) -> Result<PollStateRow> {
        Ok(self
            .row(sql!(select_poll_state), [flow], |r| {
                Ok(PollStateRow {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                    cursor: r.get(2)?,
                })
            })?
            .unwrap_or_default())
    }

    /// Stores what this poll of `flow` leaves for the next.
    #[cfg(feature = "http")]
    pub(crate) fn save_poll_state(
        &self,
        flow: &str,
        state: &PollStateRow,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            sql!(upsert_poll_state),
            (
                flow,
                &state.etag,
                &state.last_modified,
                &state.cursor,
                now.as_millis(),
            ),
        )?;
        Ok(())
    }

    /// Records a message `source` received for `flow` and rejected.
    #[cfg_attr(
        not(any(
            feature = "http",
            feature = "amqp",
            feature = "kafka",
            feature = "mqtt"
        )),
        allow(dead_code, reason = "only sources reject, and this build has none")
    )]
    pub(crate) fn insert_rejection(
        &self,
        flow: &str,
        source: &str,
        message_id: Option<&str>,
        reason: &str,
        payload: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            sql!(insert_rejection),
            (flow, source, message_id, reason, payload, now.as_millis()),
        )?;
        Ok(())
    }

    /// The latest `limit` rejections of `flow`, newest first.
    pub(crate) fn rejections(&self, flow: &str, limit: usize) -> Result<Vec<RejectionRow>> {
        self.rows(sql!(select_rejections), (flow, limit), |r| {
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
