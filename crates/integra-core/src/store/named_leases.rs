//! Named leases: a job that one process at a time may run on a store (the exchange's
//! `deliver_messages`, cleanup), held by an owner until a time and taken over once expired.

use super::Result;
use crate::time::Timestamp;

/// Named leases: one holder at a time of a job on the store. Each call runs in the transaction of
/// the [`Db`](super::Db) it is called on.
pub(crate) trait NamedLeaseStore {
    /// Takes lease `name` for `owner` until `until`; false when another holds it.
    fn acquire_named_lease(
        &self,
        name: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;

    /// Gives up lease `name`.
    fn release_named_lease(&self, name: &str, owner: &str) -> Result<()>;
}
