//! Giving free space back: after a cleanup, the pages it freed beyond a reserve for new
//! records go back to the file system, 64 KB per transaction (about a millisecond), resting
//! after each as cleanup does (`maintenance::rest_after`), so callers are never held up for
//! long.

use std::time::Instant;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{Commit, StoreSpace};

/// Free space always kept for new records, bytes: giving it back only to grow the file
/// again costs more than keeping it.
const RESERVE: u64 = 8 << 20;

/// The free space kept in a file of `file_bytes`: [`RESERVE`], or a sixteenth of the file
/// when that is more.
fn kept(space: &StoreSpace) -> u64 {
    RESERVE.max(space.file_bytes / 16)
}

impl Core {
    /// Gives free pages beyond the reserve back to the file system, when the file can
    /// (see [`StoreSpace::gives_back`]): how many bytes.
    pub(crate) fn give_back_space(&self) -> Result<u64> {
        let mut space = self.store.read(|db| Ok::<_, Error>(db.space()?))?;
        let mut given = 0;
        while space.gives_back && space.free_bytes > kept(&space) {
            let ((freed, after), took) = self.store.write(Commit::Lazy, |db| {
                let started = Instant::now();
                let given = db.give_back_free_pages()?;
                Ok::<_, Error>((given, started.elapsed()))
            })?;
            if freed == 0 {
                break;
            }
            given += freed;
            space = after;
            super::rest_after(&self.store, took);
        }
        Ok(given)
    }
}
