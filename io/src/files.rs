//! Where a daemon's files live, and reading them.
//!
//! Every daemon takes `--root DIR` (default `/`) and finds all its files under it, so several
//! nodes can run side by side on one machine.

use std::io::{self, Read};
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
}

/// The largest config file read. `/etc/default/pveproxy` is a few hundred bytes; the bound keeps
/// a mistaken path (a log, a device) from being read into memory whole.
pub const CONFIG_LEN_MAX: u64 = 1024 * 1024;

/// A file that could not be read, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    // The cause is part of the message, so it is deliberately not an error source (thiserror
    // makes any field named `source` one): `{:#}` chains would print it twice.
    #[error("cannot read {}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
    #[error("{} is larger than {len_max} bytes: not a config file", path.display())]
    TooLarge { path: PathBuf, len_max: u64 },
}

/// Reads a file that may be missing: `Ok(None)` when it does not exist (Proxmox then uses its
/// defaults); any other failure (permissions, a directory, more than `len_max` bytes) is an
/// error, never "missing".
pub fn read_optional(path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
    let io_error = |cause| ReadError::Io {
        path: path.to_owned(),
        cause,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e)),
    };
    let mut bytes = Vec::new();
    // One byte more than allowed tells "exactly len_max" from "larger".
    file.take(len_max + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > len_max {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            len_max,
        });
    }
    Ok(Some(bytes))
}

/// File access as a seam: the daemons read their config and key material through it, so the
/// simulator can give each node its own files without touching the disk.
pub trait Files: std::fmt::Debug + 'static {
    /// The file's bytes, `Ok(None)` when it does not exist; larger than `len_max` is an error.
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError>;

    /// Whether a regular file exists at `path` (Perl's `-f`, as Proxmox's certificate choice uses).
    fn is_file(&self, path: &Path) -> bool;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
        read_optional(path, len_max)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Files held in memory, for the simulator and tests.
#[derive(Debug, Clone, Default)]
pub struct MemFiles(pub std::collections::BTreeMap<PathBuf, Vec<u8>>);

impl Files for MemFiles {
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
        match self.0.get(path) {
            Some(bytes) if bytes.len() as u64 > len_max => Err(ReadError::TooLarge {
                path: path.to_owned(),
                len_max,
            }),
            bytes => Ok(bytes.cloned()),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.0.contains_key(path)
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
        assert!(matches!(read_optional(&missing, CONFIG_LEN_MAX), Ok(None)));
        let error =
            read_optional(&dir, CONFIG_LEN_MAX).expect_err("a directory is not a config file");
        assert!(error.to_string().starts_with("cannot read "), "{error}");
    }

    #[test]
    fn a_file_over_the_bound_is_refused() {
        let error = read_optional(Path::new("/dev/zero"), 16).expect_err("endless");
        assert_eq!(
            error.to_string(),
            "/dev/zero is larger than 16 bytes: not a config file"
        );
        let exact = read_optional(Path::new("/dev/null"), 0).expect("empty file is fine");
        assert_eq!(exact, Some(Vec::new()));
    }
}
