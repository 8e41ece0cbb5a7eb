//! No SQLite file on a network filesystem. SQLite's WAL keeps its index in shared memory
//! and its locks in the file system: neither reaches across machines through NFS, SMB/CIFS,
//! sshfs and the like, so processes on two servers sharing such a file each see a queue of
//! their own, or damage the file. The store refuses one when it opens it, naming the
//! PostgreSQL store, unless the user says only this machine uses the file
//! ([`EngineOptions::allow_network_filesystem`](crate::EngineOptions::allow_network_filesystem)).
//!
//! The file system comes from `statfs` on the file's directory; FUSE file systems (sshfs,
//! s3fs, …) all share one `statfs` type, so theirs is read from `/proc/self/mountinfo`.
//! Linux only; elsewhere nothing is refused.

use std::path::Path;

/// The network filesystem the file at `path` would be on, by name, if it is one.
#[cfg(target_os = "linux")]
pub(super) fn network_filesystem(path: &Path) -> Option<String> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).ok()?;
    let stat = rustix::fs::statfs(&dir).ok()?;
    #[expect(
        clippy::cast_sign_loss,
        clippy::useless_conversion,
        reason = "f_type's width and sign differ between architectures"
    )]
    let magic = i64::from(stat.f_type) as u64 & 0xFFFF_FFFF;
    classify(magic, || {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        mount_type(&mounts, &dir)
    })
}

/// Elsewhere than Linux, nothing is refused.
#[cfg(not(target_os = "linux"))]
pub(super) fn network_filesystem(_path: &Path) -> Option<String> {
    None
}

/// `statfs`'s type of FUSE file systems, whose own type is in the mount table.
const FUSE: u64 = 0x6573_5546;

/// The network filesystem a `statfs` type names (with `fuse_type` read only for FUSE).
fn classify(magic: u64, fuse_type: impl FnOnce() -> Option<String>) -> Option<String> {
    let name = match magic {
        0x6969 => "NFS",
        0x517B => "SMB",
        0xFF53_4D42 => "SMB/CIFS",
        0xFE53_4D42 => "SMB2",
        0x5346_414F => "AFS",
        0x0102_1997 => "9P",
        0x00C3_6400 => "CephFS",
        0x4750_4653 => "GPFS",
        0x0BD0_0BD0 => "Lustre",
        0x7366_7378 => "BeeGFS",
        FUSE => {
            let fstype = fuse_type()?;
            let subtype = fstype.strip_prefix("fuse.").unwrap_or(&fstype);
            const NETWORK: [&str; 10] = [
                "sshfs",
                "s3fs",
                "glusterfs",
                "gcsfuse",
                "rclone",
                "davfs",
                "cifs",
                "nfs",
                "ceph",
                "juicefs",
            ];
            return NETWORK
                .iter()
                .any(|n| subtype.starts_with(n))
                .then(|| fstype.clone());
        }
        _ => return None,
    };
    Some(name.to_owned())
}

/// The file system type of the mount holding `dir`, from the text of
/// `/proc/self/mountinfo`: the longest mount point that contains it.
fn mount_type(mountinfo: &str, dir: &Path) -> Option<String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let point = before.split(' ').nth(4)?.replace("\\040", " ");
            let fstype = after.split(' ').next()?;
            dir.starts_with(&point)
                .then(|| (point.len(), fstype.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fstype)| fstype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_filesystems_are_named_and_local_ones_are_not() {
        let none = || None;
        assert_eq!(classify(0x6969, none).as_deref(), Some("NFS"));
        assert_eq!(classify(0xFF53_4D42, none).as_deref(), Some("SMB/CIFS"));
        // ext4, xfs, tmpfs, btrfs, overlayfs.
        for local in [0xEF53, 0x5846_5342, 0x0102_1994, 0x9123_683E, 0x794C_7630] {
            assert_eq!(classify(local, none), None);
        }
        let sshfs = || Some("fuse.sshfs".to_owned());
        assert_eq!(classify(FUSE, sshfs).as_deref(), Some("fuse.sshfs"));
        let local_fuse = || Some("fuse.lxcfs".to_owned());
        assert_eq!(classify(FUSE, local_fuse), None);
    }

    #[test]
    fn the_mount_holding_a_directory_is_the_longest_that_contains_it() {
        let mountinfo = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/shared rw,relatime shared:20 - fuse.sshfs host:/srv rw,user_id=0
41 22 0:36 / /mnt/shared\\040files rw - nfs4 host:/x rw
";
        let at = |p: &str| mount_type(mountinfo, Path::new(p));
        assert_eq!(at("/mnt/shared/integra").as_deref(), Some("fuse.sshfs"));
        assert_eq!(at("/mnt/shared files/a").as_deref(), Some("nfs4"));
        assert_eq!(at("/var/lib/integra").as_deref(), Some("ext4"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_temporary_directory_is_no_network_filesystem() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(network_filesystem(&dir.path().join("integra.db")), None);
    }
}
