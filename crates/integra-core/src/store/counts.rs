//! The queues' depth without scanning them: row counts by flow, subscriber and status, kept
//! by triggers in the same transaction as every change (migration 003), and the oldest
//! pending row of a flow, found through partial indexes.

use std::collections::BTreeMap;

use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

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

    /// The queue's name in `queue_count.kind`.
    pub(crate) const fn kind(self) -> &'static str {
        match self {
            Counted::Messages => "message",
            Counted::Deliveries => "delivery",
            Counted::Incoming => "incoming",
        }
    }

    fn from_kind(kind: &str) -> Option<Self> {
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

/// Counts of records by status text, per queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusCounts {
    pub(crate) messages: BTreeMap<String, u64>,
    pub(crate) deliveries: BTreeMap<String, u64>,
    pub(crate) incoming: BTreeMap<String, u64>,
}

impl Db<'_> {
    /// Every non-zero count.
    pub(crate) fn queue_counts(&self) -> Result<Vec<QueueCount>> {
        let rows = self.rows(sql!(select_queue_counts), [], |r| {
            Ok((
                r.get::<_, String>(0)?,
                QueueCount {
                    queue: Counted::Messages,
                    flow: r.get(1)?,
                    subscriber: r.get(2)?,
                    status: r.get(3)?,
                    n: r.get(4)?,
                },
            ))
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, count)| {
                Some(QueueCount {
                    queue: Counted::from_kind(&kind)?,
                    ..count
                })
            })
            .collect())
    }

    /// Counts by status, summed over flows and subscribers.
    pub(crate) fn status_counts(&self) -> Result<StatusCounts> {
        let mut counts = StatusCounts::default();
        for c in self.queue_counts()? {
            let by_status = match c.queue {
                Counted::Messages => &mut counts.messages,
                Counted::Deliveries => &mut counts.deliveries,
                Counted::Incoming => &mut counts.incoming,
            };
            *by_status.entry(c.status).or_default() += c.n;
        }
        Ok(counts)
    }

    /// When the oldest row of `flow` still pending in `queue` was created: waiting to be
    /// formed, to be sent, or to be processed.
    pub(crate) fn oldest_pending(&self, queue: Counted, flow: &str) -> Result<Option<Timestamp>> {
        let statement = match queue {
            Counted::Messages => sql!(oldest_pending_message),
            Counted::Deliveries => sql!(oldest_pending_delivery),
            Counted::Incoming => sql!(oldest_pending_incoming),
        };
        Ok(self
            .row(statement, [flow], |r| r.get::<_, Option<i64>>(0))?
            .flatten()
            .map(Timestamp::from_millis))
    }
}
