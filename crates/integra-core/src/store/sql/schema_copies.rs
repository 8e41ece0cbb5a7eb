//! The implementation of [`SchemaCopyStore`].

use super::{Result, Tx};
use super::{params, sql};
use crate::store::schema_copies::{SchemaCopy, SchemaCopyStore};
use crate::time::Timestamp;

impl SchemaCopyStore for Tx<'_> {
    fn schema_copy(&self, code: &str) -> Result<Option<SchemaCopy>> {
        self.row(sql!(select_schema_copy), params![code], |r| {
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

    fn store_schema_copy(&self, code: &str, copy: &SchemaCopy) -> Result<()> {
        self.write(
            sql!(upsert_schema_copy),
            params![
                code,
                &copy.source,
                &copy.document,
                &copy.etag,
                &copy.last_modified,
                copy.fetched_at.as_millis(),
                copy.expires_at.as_millis(),
            ],
        )?;
        Ok(())
    }

    fn extend_schema_copy(&self, code: &str, until: Timestamp, error: Option<&str>) -> Result<()> {
        self.write(
            sql!(extend_schema_copy),
            params![code, until.as_millis(), error],
        )?;
        Ok(())
    }
}
