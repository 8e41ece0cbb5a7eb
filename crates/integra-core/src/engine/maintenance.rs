//! Maintenance: cleanup by retention and the integrity check.

use crate::engine::Engine;
use crate::error::Result;
use crate::maintenance::cleanup::{CleanupReport, cleanup};
use crate::maintenance::integrity::{self, IntegrityMode, IntegrityReport};

/// Maintenance: cleanup by retention and the integrity check.
impl Engine {
    /// Removes finished records past their retention, in small paced transactions (see
    /// [the module's docs](crate::maintenance::cleanup)), then gives the freed space back.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database fails; what was removed before stays
    /// removed.
    pub fn cleanup(&self) -> Result<CleanupReport> {
        cleanup(&self.core)
    }
}

impl Engine {
    /// Checks the database: SQLite's check of the file (quick or full, per `mode`) and Integra's
    /// invariants (see [the module's docs](crate::maintenance::integrity)). It reads one snapshot
    /// and blocks no writer, so it may run while this and other processes work on the file.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the database cannot be read at all (damage where
    /// a check reads is reported as a problem instead).
    pub fn check_integrity(&self, mode: IntegrityMode) -> Result<IntegrityReport> {
        integrity::check(&self.core, mode)
    }
}
