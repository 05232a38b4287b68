//! Where a daemon's files live, and reading them.
//!
//! Every daemon takes `--root DIR` (default `/`) and finds all its files under it, so several
//! nodes can run side by side on one machine.

use std::io;
use std::path::{Path, PathBuf};

/// The directory all of a node's absolute paths are resolved under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(PathBuf);

impl Default for Root {
    fn default() -> Self {
        Root(PathBuf::from("/"))
    }
}

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root(dir.into())
    }

    /// `absolute` (as Proxmox names it, e.g. `/etc/default/pveproxy`) under this root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        self.0.join(absolute.trim_start_matches('/'))
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

/// A file that could not be read, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Reads a file that may be missing: `Ok(None)` when it does not exist (Proxmox then uses its
/// defaults); any other failure (permissions, a directory, …) is an error, never "missing".
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReadError {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_resolve_under_the_root() {
        let root = Root::new("/tmp/node1");
        assert_eq!(
            root.path("/etc/default/pveproxy"),
            Path::new("/tmp/node1/etc/default/pveproxy")
        );
        assert_eq!(Root::default().path("/etc/pve"), Path::new("/etc/pve"));
    }

    #[test]
    fn a_missing_file_is_none_but_a_directory_is_an_error() {
        let dir = std::env::temp_dir();
        let missing = dir.join("corral-io-test-definitely-missing-file");
        assert!(matches!(read_optional(&missing), Ok(None)));
        let error = read_optional(&dir).expect_err("a directory is not a config file");
        assert!(error.to_string().starts_with("cannot read "), "{error}");
    }
}
