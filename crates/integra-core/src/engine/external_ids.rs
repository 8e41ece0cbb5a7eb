//! External ids: this system's objects and their ids in other systems.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::limits::MAX_ID_CHARS;
use crate::store::Commit;

/// An argument of the external id operations: 1 to [`MAX_ID_CHARS`] characters.
fn check(name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() || value.chars().count() > MAX_ID_CHARS {
        return Err(Error::InvalidArgument {
            name,
            reason: format!("must be 1 to {MAX_ID_CHARS} characters"),
        });
    }
    Ok(())
}

/// External ids: this system's objects and their ids in other systems.
impl Engine {
    /// Maps (system, object type, local key) to `external_id`, replacing the key's previous
    /// external id.
    ///
    /// # Errors
    /// [`Error::ExternalIdTaken`] when the external id belongs to another local key of the
    /// same system and type; [`Error::InvalidArgument`] for an empty or overlong part.
    pub fn set_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
        external_id: &str,
    ) -> Result<()> {
        for (name, v) in [
            ("system", system),
            ("object type", object_type),
            ("local key", local_key),
            ("external id", external_id),
        ] {
            check(name, v)?;
        }
        let now = self.core.now();
        let (system, object_type, local_key, external_id) = (
            system.to_owned(),
            object_type.to_owned(),
            local_key.to_owned(),
            external_id.to_owned(),
        );
        self.core.store.write(Commit::Durable, move |db| {
            db.set_external_id(&system, &object_type, &local_key, &external_id, now)?
                .map_err(|conflict| Error::ExternalIdTaken {
                    system,
                    object_type,
                    external_id,
                    taken_by: conflict.taken_by,
                })
        })
    }

    /// The external id of (system, object type, local key).
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<Option<String>> {
        self.core
            .store
            .read(|db| Ok(db.external_id(system, object_type, local_key)?))
    }

    /// The local key whose external id in (system, object type) is `external_id`.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn find_by_external_id(
        &self,
        system: &str,
        object_type: &str,
        external_id: &str,
    ) -> Result<Option<String>> {
        self.core
            .store
            .read(|db| Ok(db.local_key(system, object_type, external_id)?))
    }

    /// Removes the mapping of (system, object type, local key); false when there was none.
    ///
    /// # Errors
    /// [`Error::Store`] when the database fails.
    pub fn remove_external_id(
        &self,
        system: &str,
        object_type: &str,
        local_key: &str,
    ) -> Result<bool> {
        let (system, object_type, local_key) = (
            system.to_owned(),
            object_type.to_owned(),
            local_key.to_owned(),
        );
        self.core.store.write(Commit::Durable, move |db| {
            Ok::<_, Error>(db.remove_external_id(&system, &object_type, &local_key)?)
        })
    }
}
