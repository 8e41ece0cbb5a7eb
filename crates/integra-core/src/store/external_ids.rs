//! External-ID mapping: (system, object type, local key) ↔ external id, unique both ways
//! within a system and object type.

use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

/// The external id is already mapped to another local key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalIdConflict {
    pub(crate) taken_by: String,
}

impl Db<'_> {
    /// Maps (system, object type, local key) to `external_id`, replacing the key's previous
    /// mapping. Refused when `external_id` already belongs to another local key.
    pub(crate) fn set_external_id(
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
        self.execute(
            sql!(upsert_external_id),
            (system, object_type, local_key, external_id, now.as_millis()),
        )?;
        Ok(Ok(()))
    }

    /// The external id mapped to (system, object type, local key).
    pub(crate) fn external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<Option<String>> {
        self.row(
            sql!(select_external_id),
            (system, object_type, local_key),
            |r| r.get(0),
        )
    }

    /// The local key mapped to (system, object type, external id).
    pub(crate) fn local_key(
        &self,
        system: &str,
        object_type: &str,
        external_id: &str,
    ) -> Result<Option<String>> {
        self.row(
            sql!(select_local_key),
            (system, object_type, external_id),
            |r| r.get(0),
        )
    }

    /// Removes the mapping of (system, object type, local key); true when there was one.
    pub(crate) fn remove_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<bool> {
        Ok(self.execute(sql!(delete_external_id), (system, object_type, local_key))? == 1)
    }
}
