//! Fetched copies of external schemas: the last good document with its validators (ETag,
//! Last-Modified), its expiry, and the latest refresh error.

use super::db::sql;
use super::{Db, Result};
use crate::time::Timestamp;

/// A stored copy of an external schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SchemaCopy {
    pub(crate) source: String,
    pub(crate) document: String,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    pub(crate) fetched_at: Timestamp,
    pub(crate) expires_at: Timestamp,
    pub(crate) last_error: Option<String>,
}

impl Db<'_> {
    /// The stored copy of external schema `code`.
    pub(crate) fn schema_copy(&self, code: &str) -> Result<Option<SchemaCopy>> {
        self.row(sql!(select_schema_copy), [code], |r| {
            Ok(SchemaCopy {
                source: r.get(0)?,
                document: r.get(1)?,
                etag: r.get(2)?,
                last_modified: r.get(3)?,
                fetched_at: Timestamp::from_millis(r.get(4)?),
                expires_at: Timestamp::from_millis(r.get(5)?),
                last_error: r.get(6)?,
            })
        })
    }

    /// Stores a freshly fetched copy.
    pub(crate) fn store_schema_copy(&self, code: &str, copy: &SchemaCopy) -> Result<()> {
        self.execute(
            sql!(upsert_schema_copy),
            (
                code,
                &copy.source,
                &copy.document,
                &copy.etag,
                &copy.last_modified,
                copy.fetched_at.as_millis(),
                copy.expires_at.as_millis(),
            ),
        )?;
        Ok(())
    }

    /// Keeps the stored copy until `until`, recording why a refresh failed (None: it was
    /// confirmed current).
    pub(crate) fn extend_schema_copy(
        &self,
        code: &str,
        until: Timestamp,
        error: Option<&str>,
    ) -> Result<()> {
        self.execute(sql!(extend_schema_copy), (code, until.as_millis(), error))?;
        Ok(())
    }
}
