//! The database file: created readable by its owner only, and its identity: whether the
//! file at the database's path is still the file the engine opened.
//!
//! SQLite creates a database with mode 0644 and gives its `-wal` and `-shm` files the
//! database's mode; the file holds the configuration's secrets and every message, so the
//! store creates it first, empty, with mode 0600 (an empty file is an empty database). A
//! file that exists keeps the mode its owner gave it.
//!
//! An open SQLite file lives on after it is deleted or replaced at its path (moved away,
//! a backup restored over it): the engine would go on acknowledging work into a file no
//! other process can reach, while another process creates a fresh one at the path. So the
//! store notes the file's identity (device and inode) when it opens it, and compares the
//! path's with it before every write transaction (one `stat`, about a microsecond, shared by
//! a group commit), before it opens another read connection, and in the health and
//! integrity checks.

use std::path::{Path, PathBuf};

use super::{Result, StoreError};

/// Creates the database file at `path`, empty and readable by its owner only, unless a
/// file is there. Failures are left to SQLite's open, which names them.
pub(crate) fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = options.open(path);
}

/// Which file is at a path: its device and inode where the system has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    #[cfg(unix)]
    device: u64,
    #[cfg(unix)]
    inode: u64,
}

impl Identity {
    fn of(path: &Path) -> std::io::Result<Identity> {
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Identity {
                device: meta.dev(),
                inode: meta.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            // Windows refuses to delete a file SQLite holds open; only its presence is
            // checked there.
            let _ = meta;
            Ok(Identity {})
        }
    }
}

/// The file a store opened, to compare with what is at its path now.
#[derive(Clone, Debug)]
pub(crate) struct OpenedFile {
    path: PathBuf,
    identity: Identity,
}

impl OpenedFile {
    /// Notes the identity of the file at `path`, which the store has just opened.
    pub(crate) fn note(path: &Path) -> Result<OpenedFile> {
        let identity = Identity::of(path).map_err(|source| StoreError::Examine {
            path: path.to_owned(),
            source,
        })?;
        Ok(OpenedFile {
            path: path.to_owned(),
            identity,
        })
    }

    /// The path the file was opened at.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Checks that the file at the path is still the one opened.
    ///
    /// # Errors
    /// [`StoreError::Replaced`] when it was deleted or replaced.
    pub(crate) fn check(&self) -> Result<()> {
        let how = match Identity::of(&self.path) {
            Ok(now) if now == self.identity => return Ok(()),
            Ok(_) => "was replaced by another file",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "was deleted",
            // A path that cannot be examined (a directory's permissions changed) is left to
            // the statements, which report what SQLite finds.
            Err(_) => return Ok(()),
        };
        Err(StoreError::Replaced {
            path: self.path.clone(),
            how,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_told_apart_from_the_one_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        std::fs::write(&path, "x").unwrap();
        let opened = OpenedFile::note(&path).unwrap();
        assert!(opened.check().is_ok());
        std::fs::rename(&path, dir.path().join("b.db")).unwrap();
        let err = opened.check().unwrap_err();
        assert!(err.to_string().contains("was deleted"), "{err}");
        std::fs::write(&path, "y").unwrap();
        let err = opened.check().unwrap_err();
        assert!(
            err.to_string().contains("was replaced by another file"),
            "{err}"
        );
    }
}
