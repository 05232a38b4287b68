//! A simulated node's files: the cluster's shared `/etc/pve` (pmxcfs) and the node's own disk,
//! as one [`Files`].

use std::path::Path;

use corral_core::time::UnixTime;
use corral_io::files::{Access, Files, LockGuard, MemFs, ReadError, WriteError};

/// The shared cluster file system's mount point.
pub const SHARED_DIR: &str = "/etc/pve";

/// What one node sees: paths under [`SHARED_DIR`] go to the cluster's `MemFs` (a clone shared
/// by every node, locks included), all others to the node's own. Both outlive a crash of the
/// node: they are its disks.
#[derive(Debug, Clone)]
pub struct NodeFiles {
    shared: MemFs,
    local: MemFs,
}

impl NodeFiles {
    pub fn new(shared: MemFs, local: MemFs) -> Self {
        NodeFiles { shared, local }
    }

    /// The `MemFs` that holds `path`.
    pub fn fs_of(&self, path: &Path) -> &MemFs {
        if path.starts_with(SHARED_DIR) {
            &self.shared
        } else {
            &self.local
        }
    }

    /// The cluster's `/etc/pve`.
    pub fn shared(&self) -> &MemFs {
        &self.shared
    }

    /// The node's own files.
    pub fn local(&self) -> &MemFs {
        &self.local
    }
}

impl Files for NodeFiles {
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
        self.fs_of(path).read(path, len_max)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.fs_of(path).is_file(path)
    }

    fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError> {
        self.fs_of(path).modified(path)
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError> {
        self.fs_of(path).write_atomic(path, bytes, access)
    }

    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
        self.fs_of(path).create_dir_all(path, mode)
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        self.fs_of(path).remove_file(path)
    }

    /// The link lives where `link` is (`/etc/localtime` on the node's disk).
    fn symlink(&self, target: &Path, link: &Path) -> Result<(), WriteError> {
        self.fs_of(link).symlink(target, link)
    }

    fn try_lock(&self, path: &Path) -> Result<Option<LockGuard>, WriteError> {
        self.fs_of(path).try_lock(path)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use corral_io::clock::ManualClock;

    use super::*;

    #[test]
    fn etc_pve_is_shared_and_the_rest_is_the_node_s_own() {
        let clock = Arc::new(ManualClock::new(UnixTime(1000)));
        let shared = MemFs::new(clock.clone());
        let pve1 = NodeFiles::new(shared.clone(), MemFs::new(clock.clone()));
        let pve2 = NodeFiles::new(shared, MemFs::new(clock));
        let user_cfg = Path::new("/etc/pve/user.cfg");
        let timezone = Path::new("/etc/timezone");
        pve1.write_atomic(user_cfg, b"u", Access::Shared)
            .expect("write");
        pve1.write_atomic(timezone, b"Europe/Vienna\n", Access::Public)
            .expect("write");
        assert_eq!(pve2.read(user_cfg, 16).expect("read"), Some(b"u".to_vec()));
        assert_eq!(pve2.read(timezone, 16).expect("read"), None);
        assert!(pve1.is_file(timezone) && !pve2.is_file(timezone));
        assert_eq!(pve1.local().paths(), [PathBuf::from("/etc/timezone")]);

        let lock = Path::new("/etc/pve/priv/lock/authkey");
        let held = pve1.try_lock(lock).expect("lock").expect("free");
        assert!(
            pve2.try_lock(lock).expect("try").is_none(),
            "one cluster lock"
        );
        drop(held);
        let local_lock = Path::new("/run/lock/x");
        let _mine = pve1.try_lock(local_lock).expect("lock").expect("free");
        let _theirs = pve2
            .try_lock(local_lock)
            .expect("lock")
            .expect("a lock of its own");

        pve2.symlink(
            Path::new("/usr/share/zoneinfo/UTC"),
            Path::new("/etc/localtime"),
        )
        .expect("link");
        assert!(pve2.local().link(Path::new("/etc/localtime")).is_some());
        assert!(pve1.local().link(Path::new("/etc/localtime")).is_none());
        pve1.remove_file(timezone).expect("remove");
        assert!(!pve1.is_file(timezone));
        assert_eq!(pve1.modified(user_cfg).expect("stat"), Some(UnixTime(1000)));
        pve1.create_dir_all(Path::new("/etc/pve/priv"), 0o700)
            .expect("mkdir");
        assert_eq!(
            pve2.shared().dir_mode(Path::new("/etc/pve/priv")),
            Some(0o700)
        );
    }
}
