//! The implementation of [`ExternalIdStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::external_ids::{ExternalIdConflict, ExternalIdStore};
use crate::time::Timestamp;

impl ExternalIdStore for Tx<'_> {
    fn set_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
        external_id: &str,
        now: Timestamp,
    ) -> Result<Result<(), ExternalIdConflict>> {
        if let Some(owner) = self.local_key(system, object_type, external_id)?
            && owner != local_key
        {
            return Ok(Err(ExternalIdConflict { taken_by: owner }));
        }
        self.write(
            sql!(upsert_external_id),
            params![system, object_type, local_key, external_id, now.as_millis()],
        )?;
        Ok(Ok(()))
    }

    fn external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<Option<String>> {
        self.row(
            sql!(select_external_id),
            params![system, object_type, local_key],
            |r| r.get(0),
        )
    }

    fn local_key(
        &self,
        system: &str,
        object_type: &str,
        external_id: &str,
    ) -> Result<Option<String>> {
        self.row(
            sql!(select_local_key),
            params![system, object_type, external_id],
            |r| r.get(0),
        )
    }

    fn remove_external_id(&self, system: &str, object_type: &str, local_key: &str) -> Result<bool> {
        Ok(self.execute(
            sql!(delete_external_id),
            params![system, object_type, local_key],
        )? == 1)
    }
}
