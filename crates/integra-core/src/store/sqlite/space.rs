//! The SQLite implementation of [`SpaceStore`].

use super::db::sql;
#[cfg(feature = "receiver")]
use super::{Commit, Store, StoreError};
use super::{Result, Tx};
use crate::store::space::{SpaceStore, StoreSpace};

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

impl SpaceStore for Tx<'_> {
    fn space(&self) -> Result<StoreSpace> {
        self.row(sql!(select_space), [], |r| {
            Ok(StoreSpace {
                file_bytes: r.get(0)?,
                free_bytes: r.get(1)?,
                gives_back: r.get::<_, i64>(2)? == 2,
            })
        })
        .map(Option::unwrap_or_default)
    }

    fn give_back_free_pages(&self) -> Result<(u64, StoreSpace)> {
        let before = self.space()?.free_bytes;
        // The pragma steps like a query (it works as its rows are read).
        self.rows(sql!(give_back_free_pages), [], |_| Ok(()))?;
        let after = self.space()?;
        Ok((before.saturating_sub(after.free_bytes), after))
    }

    #[cfg(feature = "receiver")]
    fn probe_write(&self) -> Result<()> {
        self.execute(sql!(probe_write), [])?;
        Ok(())
    }
}
