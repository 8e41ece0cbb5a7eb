//! External-ID mapping: (system, object type, local key) ↔ external id, unique both ways
//! within a system and object type.

use super::Result;
use crate::time::Timestamp;

/// The external id is already mapped to another local key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalIdConflict {
    pub(crate) taken_by: String,
}

/// External ids: `(system, object type, local key) ↔ external id`, unique both ways. Each call runs
/// in the transaction of the [`Db`](super::Db) it is called on.
pub(crate) trait ExternalIdStore {
    /// Maps (system, object type, local key) to `external_id`, replacing the key's previous
    /// mapping. Refused when `external_id` already belongs to another local key.
    fn set_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
        external_id: &str,
        now: Timestamp,
    ) -> Result<Result<(), ExternalIdConflict>>;

    /// The external id mapped to (system, object type, local key).
    fn external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<Option<String>>;

    /// The local key mapped to (system, object type, external id).
    fn local_key(
        &self,
        system: &str,
        object_type: &str,
        external_id: &str,
    ) -> Result<Option<String>>;

    /// Removes the mapping of (system, object type, local key); true when there was one.
    fn remove_external_id(&self, system: &str, object_type: &str, local_key: &str) -> Result<bool>;
}
