//! Named leases: a job that one process at a time may run on a store (the exchange's
//! `deliver_messages`, cleanup), held by an owner until a time and taken over once expired.

use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

impl Db<'_> {
    /// Takes lease `name` for `owner` until `until`; false when another holds it.
    pub(crate) fn acquire_named_lease(
        &self,
        name: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let taken: Option<String> = self.row(
            sql!(acquire_named_lease),
            (name, owner, until.as_millis(), now.as_millis()),
            |r| r.get(0),
        )?;
        Ok(taken.is_some())
    }

    /// Gives up lease `name`.
    pub(crate) fn release_named_lease(&self, name: &str, owner: &str) -> Result<()> {
        self.execute(sql!(release_named_lease), (name, owner))?;
        Ok(())
    }
}
