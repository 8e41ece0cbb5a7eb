//! The implementation of [`MaintenanceStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::Counted;
use crate::store::maintenance::{Expired, Finished, Leased, MaintenanceStore};
use crate::time::Timestamp;

impl MaintenanceStore for Tx<'_> {
    fn expired_leases(&self, what: Leased, now: Timestamp, max: usize) -> Result<Vec<Expired>> {
        let sql = match what {
            Leased::Deliveries => sql!(select_expired_delivery_leases),
            Leased::Forming => sql!(select_expired_forming_leases),
            Leased::Incoming => sql!(select_expired_incoming_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => sql!(select_expired_inbox_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => sql!(select_expired_outbox_leases),
        };
        self.rows(sql, params![now.as_millis(), max], |r| {
            Ok(Expired {
                id: r.get(0)?,
                policy_of: r.get(1)?,
                attempts: r.get(2)?,
            })
        })
    }

    fn renew_leases(&self, what: Leased, owner: &str, until: Timestamp) -> Result<usize> {
        let sql = match what {
            Leased::Deliveries => sql!(renew_delivery_leases),
            Leased::Forming => sql!(renew_forming_leases),
            Leased::Incoming => sql!(renew_incoming_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeInbox => sql!(renew_inbox_leases),
            #[cfg(feature = "receiver")]
            Leased::ExchangeOutbox => sql!(renew_outbox_leases),
        };
        self.execute(sql, params![owner, until.as_millis()])
    }

    fn counted_statuses(&self, what: Finished) -> Result<Vec<(String, String)>> {
        let kind = match what {
            Finished::Messages => Counted::Messages,
            Finished::Incoming => Counted::Incoming,
        }
        .kind();
        self.rows(sql!(select_counted_statuses), params![kind], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn expired_records(
        &self,
        what: Finished,
        flow: &str,
        status: &str,
        before: Timestamp,
        max: usize,
    ) -> Result<Vec<i64>> {
        let statement = match what {
            Finished::Messages => sql!(select_expired_messages),
            Finished::Incoming => sql!(select_expired_incoming),
        };
        self.rows(
            statement,
            params![flow, status, before.as_millis(), max],
            |r| r.get(0),
        )
    }

    fn rejection_flows(&self) -> Result<Vec<String>> {
        self.rows(sql!(select_rejection_flows), &[], |r| r.get(0))
    }

    fn delete_rejections(&self, flow: &str, before: Timestamp, max: usize) -> Result<usize> {
        self.execute(
            sql!(delete_rejections),
            params![flow, before.as_millis(), max],
        )
    }

    fn delete_exchange_outbox_done(&self, before: Timestamp, max: usize) -> Result<usize> {
        self.execute(
            sql!(delete_exchange_outbox_done),
            params![before.as_millis(), max],
        )
    }

    fn delete_exchange_inbox_finished(
        &self,
        status: crate::status::InboxStatus,
        before: Timestamp,
        max: usize,
    ) -> Result<usize> {
        self.execute(
            sql!(delete_exchange_inbox_finished),
            params![status.as_str(), before.as_millis(), max],
        )
    }
}
