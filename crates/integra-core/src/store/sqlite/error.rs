//! The store's errors as SQLite reports them: which statement failed, and faults of the
//! file itself (read-only, full, corrupt) told apart from the rest.

use std::path::Path;

use crate::store::StoreError;

impl StoreError {
    /// The error of statement `statement` on the database at `path`: a fault of the file
    /// itself (read-only, full, corrupt) when it is one.
    pub(crate) fn sql(path: &Path, statement: &'static str, source: rusqlite::Error) -> Self {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return StoreError::Busy { statement };
        }
        StoreError::file_fault(path, source).unwrap_or_else(|source| StoreError::Sql {
            statement,
            source: Box::new(source),
        })
    }

    /// The error of opening or preparing the database at `path`.
    pub(super) fn open(path: &Path, source: rusqlite::Error) -> Self {
        StoreError::file_fault(path, source).unwrap_or_else(|source| StoreError::Open {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// The fault of the file that `source` reports, or `source` back when it is none.
    fn file_fault(path: &Path, source: rusqlite::Error) -> Result<Self, rusqlite::Error> {
        use rusqlite::ErrorCode;
        let Some(&rusqlite::ffi::Error {
            code,
            extended_code,
        }) = source.sqlite_error()
        else {
            return Err(source);
        };
        let path = path.to_owned();
        Ok(match code {
            ErrorCode::ReadOnly => StoreError::ReadOnly { path },
            ErrorCode::DiskFull => StoreError::Full {
                path,
                cause: "the disk has no space left",
            },
            ErrorCode::SystemIoFailure if extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE => {
                StoreError::Full {
                    path,
                    cause: "a write failed (disk I/O error): the disk is full, the file reached \
                            its size limit, or the device failed",
                }
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt {
                path,
                reason: source.to_string(),
            },
            _ => return Err(source),
        })
    }
}
