//! Rotation of the log file, by renaming: `file.<keep-1>` becomes `file.<keep>` (the oldest
//! is overwritten), … `file.1` becomes `file.2`, and `file` becomes `file.1`; with `keep` 0
//! the file is deleted. The rolling appender calls it, the file closed, once the file passed
//! its size, and opens a new one after. A file that is not there is skipped: another process
//! on the same log rotated it already. (log4rs's own fixed-window roller does the same, but
//! prints to standard output when a rename fails: a C program's output is not ours.)

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use log4rs::append::rolling_file::policy::compound::roll::Roll;

/// The renames that rotate a log keeping `keep` old files.
#[derive(Debug)]
pub(super) struct Shift {
    keep: u32,
}

impl Shift {
    pub(super) fn new(keep: u32) -> Self {
        Shift { keep }
    }
}

impl Roll for Shift {
    fn roll(&self, file: &Path) -> anyhow::Result<()> {
        if self.keep == 0 {
            return Ok(skip_missing(std::fs::remove_file(file))?);
        }
        for n in (1..self.keep).rev() {
            skip_missing(std::fs::rename(numbered(file, n), numbered(file, n + 1)))?;
        }
        Ok(skip_missing(std::fs::rename(file, numbered(file, 1)))?)
    }
}

/// `file.<n>`.
fn numbered(file: &Path, n: u32) -> PathBuf {
    let mut name = OsString::from(file.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Success when the file to move or delete was not there.
fn skip_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    fn read(path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    #[test]
    fn each_file_moves_up_one_and_the_oldest_goes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("integra.log");
        let shift = Shift::new(2);
        write(&file, "first");
        shift.roll(&file).unwrap();
        assert_eq!(read(&numbered(&file, 1)).as_deref(), Some("first"));
        assert_eq!(read(&file), None);
        write(&file, "second");
        shift.roll(&file).unwrap();
        write(&file, "third");
        shift.roll(&file).unwrap();
        assert_eq!(read(&numbered(&file, 1)).as_deref(), Some("third"));
        assert_eq!(read(&numbered(&file, 2)).as_deref(), Some("second"));
        assert_eq!(read(&numbered(&file, 3)), None);
        // Another process rotated it already: nothing to move is no failure.
        shift.roll(&file).unwrap();
        assert_eq!(read(&numbered(&file, 2)).as_deref(), Some("third"));
    }

    #[test]
    fn keeping_none_deletes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("integra.log");
        write(&file, "only");
        Shift::new(0).roll(&file).unwrap();
        assert_eq!(read(&file), None);
        assert_eq!(read(&numbered(&file, 1)), None);
        Shift::new(0).roll(&file).unwrap();
    }
}
