//! Space on SQLite: whether the file can be written now.

use super::{Commit, Result, Store, StoreError};

#[cfg(feature = "receiver")]
impl Store {
    /// Whether the database can be written: [`StoreError::Full`] while the latest write
    /// failed for lack of space (for [`SPACE_RECHECK`](crate::store::SPACE_RECHECK) after
    /// it, unless a write commits meanwhile); otherwise the outcome of a probe write.
    ///
    /// # Errors
    /// [`StoreError::Full`]; whatever the probe write fails with (read-only, busy).
    pub(crate) fn check_writable(&self) -> Result<()> {
        if let Some(cause) = self.writer.space().recent() {
            return Err(StoreError::Full {
                path: self.path.clone(),
                cause,
            });
        }
        self.write(Commit::Lazy, |db| db.probe_write())
    }
}
