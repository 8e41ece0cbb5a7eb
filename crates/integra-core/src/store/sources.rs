//! What inbound sources keep in the database: the lease that lets one process at a time run
//! a flow's source, Kafka offsets (moved in the same transaction as the records read), poll
//! state (validators and cursor), and the messages a source rejected.

use super::Result;
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

/// Sources: who holds each, its offsets and poll state, and the messages it refused. Each call runs
/// in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait SourceStore {
    /// Takes or extends `owner`'s lease on `flow`'s source until `until`; false when another
    /// owner holds an unexpired lease.
    fn acquire_source_lease(
        &self,
        flow: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;

    /// Gives up `owner`'s lease on `flow`'s source.
    fn release_source_lease(&self, flow: &str, owner: &str, now: Timestamp) -> Result<()>;

    /// Records the error of `owner`'s run of `flow`'s source (`None` once it works again).
    fn set_source_error(
        &self,
        flow: &str,
        owner: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;

    /// Every source lease.
    fn source_leases(&self) -> Result<Vec<SourceLeaseRow>>;

    /// The stored next offsets of `flow`'s partitions of `topic`.
    #[cfg(feature = "kafka")]
    fn source_offsets(&self, flow: &str, topic: &str) -> Result<Vec<(i32, i64)>>;

    /// Moves a partition's offset from `from` to `to`; false (nothing changed) when the
    /// stored offset is not `from`, because another reader moved it.
    #[cfg(feature = "kafka")]
    fn advance_source_offset(
        &self,
        flow: &str,
        topic: &str,
        partition: i32,
        from: i64,
        to: i64,
        now: Timestamp,
    ) -> Result<bool>;

    /// What the last poll of `flow` left.
    #[cfg(feature = "http")]
    fn poll_state(&self, flow: &str) -> Result<PollStateRow>;

    /// Stores what this poll of `flow` leaves for the next.
    #[cfg(feature = "http")]
    fn save_poll_state(&self, flow: &str, state: &PollStateRow, now: Timestamp) -> Result<()>;

    /// Records a message `source` received for `flow` and rejected.
    #[cfg_attr(
        not(feature = "network"),
        allow(dead_code, reason = "only sources reject, and this build has none")
    )]
    fn insert_rejection(
        &self,
        flow: &str,
        source: &str,
        message_id: Option<&str>,
        reason: &str,
        payload: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// The latest `limit` rejections of `flow`, newest first.
    fn rejections(&self, flow: &str, limit: usize) -> Result<Vec<RejectionRow>>;
}
