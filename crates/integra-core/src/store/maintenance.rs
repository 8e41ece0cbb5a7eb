//! Maintenance queries: leases (renewed by their holder, taken back when they expired because
//! it died or stalled) and finished records past their retention.

use super::Result;
use crate::time::Timestamp;

/// What holds leases: the tables whose rows are claimed by a process for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leased {
    /// Deliveries being sent (`policy_of` is the subscriber).
    Deliveries,
    /// Messages being formed (`policy_of` is the flow).
    Forming,
    /// Incoming messages being processed (`policy_of` is the flow).
    Incoming,
    /// Received exchange messages being handled (`policy_of` is the channel).
    #[cfg(feature = "receiver")]
    ExchangeInbox,
    /// Exchange messages being delivered (`policy_of` is the recipient).
    #[cfg(feature = "receiver")]
    ExchangeOutbox,
}

/// Which queue's finished records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Finished {
    /// Outgoing messages (removed with their deliveries and history).
    Messages,
    /// Incoming messages.
    Incoming,
}

/// A lease that expired: the record, the subscriber or flow whose retry policy applies, and
/// the attempts used.
#[derive(Debug, Clone)]
pub(crate) struct Expired {
    pub(crate) id: i64,
    pub(crate) policy_of: String,
    pub(crate) attempts: u32,
}

#[cfg(test)]
impl Leased {
    /// Every table that holds leases.
    pub(crate) const ALL: &[Leased] = &[
        Leased::Deliveries,
        Leased::Forming,
        Leased::Incoming,
        #[cfg(feature = "receiver")]
        Leased::ExchangeInbox,
        #[cfg(feature = "receiver")]
        Leased::ExchangeOutbox,
    ];

    /// The table whose rows these leases are on.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Leased::Deliveries => "delivery",
            Leased::Forming => "message",
            Leased::Incoming => "incoming",
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => "exchange_inbox",
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => "exchange_outbox",
        }
    }
}

/// Maintenance: leases (renewed, and taken back once expired) and finished records past their
/// retention. Each call runs in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait MaintenanceStore {
    /// Records of `what` whose lease expired by `now`.
    fn expired_leases(&self, what: Leased, now: Timestamp, max: usize) -> Result<Vec<Expired>>;

    /// Extends every lease of `what` that `owner` holds to `until`; how many.
    fn renew_leases(&self, what: Leased, owner: &str, until: Timestamp) -> Result<usize>;

    /// The flows and statuses that hold records of `what`, from the kept counts (no read of
    /// the queue itself).
    fn counted_statuses(&self, what: Finished) -> Result<Vec<(String, String)>>;

    /// Row ids of up to `max` records of `what` of `flow` in finished status `status` last
    /// changed before `before`.
    fn expired_records(
        &self,
        what: Finished,
        flow: &str,
        status: &str,
        before: Timestamp,
        max: usize,
    ) -> Result<Vec<i64>>;

    /// The flows that have rejections by sources.
    fn rejection_flows(&self) -> Result<Vec<String>>;

    /// Removes up to `max` rejections of `flow` older than `before`: how many.
    fn delete_rejections(&self, flow: &str, before: Timestamp, max: usize) -> Result<usize>;

    /// Removes up to `max` sent exchange messages the recipient processed before `before`:
    /// how many.
    fn delete_exchange_outbox_done(&self, before: Timestamp, max: usize) -> Result<usize>;

    /// Removes up to `max` received exchange messages in `status` (handled or quarantined)
    /// last changed before `before`: how many.
    fn delete_exchange_inbox_finished(
        &self,
        status: crate::status::InboxStatus,
        before: Timestamp,
        max: usize,
    ) -> Result<usize>;
}
