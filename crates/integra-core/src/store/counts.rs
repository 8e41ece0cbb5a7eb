//! The queues' depth without scanning them: row counts by flow, subscriber and status, kept
//! by triggers in the same transaction as every change (migration 003), and the oldest
//! pending row of a flow, found through partial indexes.

use super::Result;
use crate::status::{DeliveryStatus, IncomingStatus, MessageStatus};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// Which queue a count is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Counted {
    /// Outgoing messages.
    Messages,
    /// Deliveries (message × subscriber).
    Deliveries,
    /// Incoming messages.
    Incoming,
}

impl Counted {
    /// Every queue counted.
    pub(crate) const ALL: [Counted; 3] =
        [Counted::Messages, Counted::Deliveries, Counted::Incoming];

    /// The statuses in which a row of this queue waits for work.
    pub(crate) fn pending(self) -> [&'static str; 2] {
        match self {
            Counted::Messages => [
                MessageStatus::New.as_str(),
                MessageStatus::FormingError.as_str(),
            ],
            Counted::Deliveries => [
                DeliveryStatus::New.as_str(),
                DeliveryStatus::SendError.as_str(),
            ],
            Counted::Incoming => [IncomingStatus::New.as_str(), IncomingStatus::Error.as_str()],
        }
    }

    /// The queue's name in `queue_count.kind`.
    pub(crate) const fn kind(self) -> &'static str {
        match self {
            Counted::Messages => "message",
            Counted::Deliveries => "delivery",
            Counted::Incoming => "incoming",
        }
    }

    pub(crate) fn from_kind(kind: &str) -> Option<Self> {
        Counted::ALL.into_iter().find(|c| c.kind() == kind)
    }
}

/// How many rows of a queue are in one status, for one flow (and subscriber).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueCount {
    pub(crate) queue: Counted,
    pub(crate) flow: String,
    /// The subscriber, for deliveries; empty otherwise.
    pub(crate) subscriber: String,
    pub(crate) status: String,
    pub(crate) n: u64,
}

/// Counts of records by status, per queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusCounts {
    pub(crate) messages: BTreeMap<MessageStatus, u64>,
    pub(crate) deliveries: BTreeMap<DeliveryStatus, u64>,
    pub(crate) incoming: BTreeMap<IncomingStatus, u64>,
}

/// The counts kept per queue, flow and status, and the oldest pending record. Each call runs in the
/// transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait CountStore {
    /// Every non-zero count.
    fn queue_counts(&self) -> Result<Vec<QueueCount>>;

    /// Counts by status, summed over flows and subscribers.
    fn status_counts(&self) -> Result<StatusCounts>;

    /// When the oldest row of `flow` still pending in `queue` was created: waiting to be
    /// formed, to be sent, or to be processed.
    fn oldest_pending(&self, queue: Counted, flow: &str) -> Result<Option<Timestamp>>;
}
