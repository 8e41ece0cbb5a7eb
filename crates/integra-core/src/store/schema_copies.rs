//! Fetched copies of external schemas: the last good document with its validators (ETag,
//! Last-Modified), its expiry, and the latest refresh error.

use super::Result;
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

/// Copies of external schemas, kept with their validators. Each call runs in the transaction of the
/// [`Db`](super::Db) it is called on.
pub(crate) trait SchemaCopyStore {
    /// The stored copy of external schema `code`.
    fn schema_copy(&self, code: &str) -> Result<Option<SchemaCopy>>;

    /// Stores a freshly fetched copy.
    fn store_schema_copy(&self, code: &str, copy: &SchemaCopy) -> Result<()>;

    /// Keeps the stored copy until `until`, recording why a refresh failed (None: it was
    /// confirmed current).
    fn extend_schema_copy(&self, code: &str, until: Timestamp, error: Option<&str>) -> Result<()>;
}
