//! The implementation of [`NamedLeaseStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::named_leases::NamedLeaseStore;
use crate::time::Timestamp;

impl NamedLeaseStore for Tx<'_> {
    fn acquire_named_lease(
        &self,
        name: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let taken: Option<String> = self.row(
            sql!(acquire_named_lease),
            params![name, owner, until.as_millis(), now.as_millis()],
            |r| r.get(0),
        )?;
        Ok(taken.is_some())
    }

    fn release_named_lease(&self, name: &str, owner: &str) -> Result<()> {
        self.write(sql!(release_named_lease), params![name, owner])?;
        Ok(())
    }
}
