//! The implementation of [`SpaceStore`].

use super::sql;
use super::{Result, Tx};
use crate::store::space::{SpaceStore, StoreSpace};

impl SpaceStore for Tx<'_> {
    fn space(&self) -> Result<StoreSpace> {
        self.row(sql!(select_space), &[], |r| {
            Ok(StoreSpace {
                file_bytes: r.get(0)?,
                free_bytes: r.get(1)?,
                gives_back: r.get::<i64>(2)? == 2,
            })
        })
        .map(Option::unwrap_or_default)
    }

    fn give_back_free_pages(&self) -> Result<(u64, StoreSpace)> {
        let before = self.space()?.free_bytes;
        // The pragma steps like a query (it works as its rows are read).
        self.rows(sql!(give_back_free_pages), &[], |_| Ok(()))?;
        let after = self.space()?;
        Ok((before.saturating_sub(after.free_bytes), after))
    }

    #[cfg(feature = "receiver")]
    fn probe_write(&self) -> Result<()> {
        self.write(sql!(probe_write), &[])?;
        Ok(())
    }
}
