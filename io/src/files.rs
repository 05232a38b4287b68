//! Where a daemon's files live, and reading and writing them.
//!
//! Every daemon takes `--root DIR` (default `/`) and finds all its files under it, so several
//! nodes can run side by side on one machine.
//!
//! [`Files`] is the seam: [`RealFiles`] is the file system, [`MemFiles`] a read-only snapshot
//! for tests, [`MemFs`] a writable in-memory file system (modes and modification times
//! included) that clones share, as nodes share `/etc/pve`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use corral_core::time::UnixTime;

use crate::clock::WallClock;

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
    #[error("{}: line {line}: not UTF-8 text; fix or remove the line first", path.display())]
    NotUtf8 { path: PathBuf, line: usize },
}

/// A text file that may be missing, through `files`: its bytes as UTF-8, or an error naming the
/// first line that is not.
pub fn read_text(
    files: &dyn Files,
    path: &Path,
    len_max: u64,
) -> Result<Option<String>, ReadError> {
    let Some(bytes) = files.read(path, len_max)? else {
        return Ok(None);
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        ReadError::NotUtf8 {
            path: path.to_owned(),
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
        }
    })
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

/// A file or directory that could not be written, naming it and the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    // As in ReadError, the cause is part of the message and deliberately not a source.
    #[error("cannot {action} {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        /// The step, phrased to read "cannot <action> <path>".
        action: &'static str,
        cause: io::Error,
    },
}

impl WriteError {
    fn new(path: &Path, action: &'static str, cause: io::Error) -> WriteError {
        WriteError::Io {
            path: path.to_owned(),
            action,
            cause,
        }
    }
}

/// The modification time of `path` as Unix seconds, `Ok(None)` when it does not exist.
pub fn modified_optional(path: &Path) -> Result<Option<UnixTime>, ReadError> {
    match fs::metadata(path) {
        Ok(metadata) => Ok(Some(UnixTime(metadata.mtime()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(cause) => Err(ReadError::Io {
            path: path.to_owned(),
            cause,
        }),
    }
}

/// Replaces `path` with `bytes` so that readers see either the old or the new contents, never
/// a mix, and the new contents survive a crash once this returns.
///
/// The bytes go to a new temporary file in the same directory, created exclusively (`O_EXCL`)
/// with permissions no wider than `mode` from the first instant (then set to exactly `mode`,
/// which the umask may have narrowed), written, synced, renamed over `path`, and the directory
/// synced. The file belongs to the writing process's user and group: ownership (e.g.
/// `root:www-data` for 0640 files under `/etc/pve`) is the daemon's concern, and pmxcfs sets it
/// by itself.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let name = path.file_name().ok_or_else(|| {
        WriteError::new(
            path,
            "write",
            io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (temp_path, file) = create_temp(dir, name, mode)
        .map_err(|cause| WriteError::new(path, "create a temporary file for", cause))?;
    let written = fill_and_sync(file, bytes, mode)
        .and_then(|()| fs::rename(&temp_path, path).map_err(|e| ("replace", e)));
    if let Err((action, cause)) = written {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&temp_path);
        return Err(WriteError::new(path, action, cause));
    }
    sync_dir(dir).map_err(|cause| WriteError::new(path, "sync the directory of", cause))
}

/// Makes a fresh, exclusively created file next to the target: `.<name>.tmp.<pid>.<n>`.
fn create_temp(dir: &Path, name: &std::ffi::OsStr, mode: u32) -> io::Result<(PathBuf, File)> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut last_error = None;
    // A leftover from a crashed writer with the same pid and number is skipped, not reused.
    for _ in 0..16 {
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp.{}.{n}", std::process::id()));
        let temp_path = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode & 0o7777)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no temporary name left")))
}

/// Sets the exact mode, writes and syncs; the error names the step.
fn fill_and_sync(mut file: File, bytes: &[u8], mode: u32) -> Result<(), (&'static str, io::Error)> {
    let current = file.metadata().map_err(|e| ("set the mode of", e))?.mode() & 0o7777;
    if current != mode & 0o7777 {
        // Only ever widens up to `mode`: the umask can only have removed bits.
        file.set_permissions(Permissions::from_mode(mode & 0o7777))
            .map_err(|e| ("set the mode of", e))?;
    }
    file.write_all(bytes).map_err(|e| ("write", e))?;
    file.sync_all().map_err(|e| ("sync", e))
}

/// fsync on the directory, so the rename itself is durable. File systems that cannot sync a
/// directory (some FUSE ones) say so with EINVAL; that is not an error for us.
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|dir| dir.sync_all()) {
        Err(e)
            if e.kind() == io::ErrorKind::InvalidInput
                || e.kind() == io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Creates `path` and any missing parents with `mode` (as `mkdir -p -m`). An existing directory
/// is fine and keeps its mode.
pub fn create_dir_all(path: &Path, mode: u32) -> Result<(), WriteError> {
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode & 0o7777)
        .create(path)
        .and_then(|()| fs::set_permissions(path, Permissions::from_mode(mode & 0o7777)))
        .map_err(|cause| WriteError::new(path, "create the directory", cause))
}

/// Removes a file; one that does not exist is fine.
pub fn remove_file(path: &Path) -> Result<(), WriteError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(WriteError::new(path, "remove", e)),
        _ => Ok(()),
    }
}

/// File access as a seam: the daemons read their config and key material through it (and
/// pvedaemon writes key files), so the simulator can give each node its own files without
/// touching the disk.
pub trait Files: std::fmt::Debug + 'static {
    /// The file's bytes, `Ok(None)` when it does not exist; larger than `len_max` is an error.
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError>;

    /// Whether a regular file exists at `path` (Perl's `-f`, as Proxmox's certificate choice uses).
    fn is_file(&self, path: &Path) -> bool;

    /// The file's modification time, `Ok(None)` when it does not exist. Ticket keys are
    /// judged by it.
    fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError>;

    /// Replaces the file atomically with `bytes` and permission bits `mode` (see
    /// [`write_atomic`]).
    fn write_atomic(&self, path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError>;

    /// Creates a directory and its missing parents with `mode`; an existing one is fine.
    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError>;

    /// Removes a file; a missing one is fine.
    fn remove_file(&self, path: &Path) -> Result<(), WriteError>;
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

    fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError> {
        modified_optional(path)
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
        write_atomic(path, bytes, mode)
    }

    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
        create_dir_all(path, mode)
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        remove_file(path)
    }
}

/// Files held in memory, for the simulator and tests: a read-only snapshot, filled through its
/// public map. It knows no modification times and takes no writes (both are errors); use
/// [`MemFs`] for key files and anything that writes.
#[derive(Debug, Clone, Default)]
pub struct MemFiles(pub BTreeMap<PathBuf, Vec<u8>>);

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

    fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError> {
        if !self.0.contains_key(path) {
            return Ok(None);
        }
        Err(ReadError::Io {
            path: path.to_owned(),
            cause: io::Error::new(
                io::ErrorKind::Unsupported,
                "MemFiles keeps no modification times (use MemFs)",
            ),
        })
    }

    fn write_atomic(&self, path: &Path, _bytes: &[u8], _mode: u32) -> Result<(), WriteError> {
        Err(read_only(path, "write"))
    }

    fn create_dir_all(&self, path: &Path, _mode: u32) -> Result<(), WriteError> {
        Err(read_only(path, "create the directory"))
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        Err(read_only(path, "remove"))
    }
}

fn read_only(path: &Path, action: &'static str) -> WriteError {
    WriteError::new(
        path,
        action,
        io::Error::new(
            io::ErrorKind::ReadOnlyFilesystem,
            "MemFiles is read-only (use MemFs)",
        ),
    )
}

/// One file in a [`MemFs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemFile {
    pub bytes: Vec<u8>,
    /// Permission bits, e.g. `0o640`.
    pub mode: u32,
    pub modified: UnixTime,
}

/// A writable in-memory file system for the simulator and tests. Clones share the same files,
/// as the nodes of a cluster share `/etc/pve`; writes are stamped with the clock's time.
///
/// Directories are not modelled beyond remembering the modes [`Files::create_dir_all`] gave
/// them: a file can be written anywhere.
#[derive(Debug, Clone)]
pub struct MemFs {
    state: Arc<Mutex<MemFsState>>,
    clock: Arc<dyn WallClock>,
}

#[derive(Debug, Default)]
struct MemFsState {
    files: BTreeMap<PathBuf, MemFile>,
    dirs: BTreeMap<PathBuf, u32>,
}

impl MemFs {
    /// An empty file system whose writes are stamped with `clock`'s time.
    pub fn new(clock: Arc<dyn WallClock>) -> MemFs {
        MemFs {
            state: Arc::default(),
            clock,
        }
    }

    /// A file system holding a snapshot's files, mode 0644, modified now.
    pub fn from_files(files: &MemFiles, clock: Arc<dyn WallClock>) -> MemFs {
        let fs = MemFs::new(clock);
        for (path, bytes) in &files.0 {
            fs.insert(path, bytes.clone(), 0o644);
        }
        fs
    }

    /// A copy of all files and directories that shares nothing with `self` from now on (a
    /// clone shares): each test server gets its own node files from one prepared set.
    pub fn detached(&self) -> MemFs {
        let state = self.lock();
        MemFs {
            state: Arc::new(Mutex::new(MemFsState {
                files: state.files.clone(),
                dirs: state.dirs.clone(),
            })),
            clock: Arc::clone(&self.clock),
        }
    }

    /// Puts a file in place (no atomicity needed in memory), modified now.
    pub fn insert(&self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>, mode: u32) {
        let file = MemFile {
            bytes: bytes.into(),
            mode,
            modified: self.clock.now(),
        };
        self.lock().files.insert(path.into(), file);
    }

    /// Sets a file's modification time (as `touch -d`); false when there is no such file.
    pub fn set_modified(&self, path: &Path, modified: UnixTime) -> bool {
        match self.lock().files.get_mut(path) {
            Some(file) => {
                file.modified = modified;
                true
            }
            None => false,
        }
    }

    /// A copy of one file, with its mode and time.
    pub fn file(&self, path: &Path) -> Option<MemFile> {
        self.lock().files.get(path).cloned()
    }

    /// The mode a directory was created with, when it was.
    pub fn dir_mode(&self, path: &Path) -> Option<u32> {
        self.lock().dirs.get(path).copied()
    }

    /// The paths of all files, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.lock().files.keys().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, MemFsState> {
        // No operation leaves the maps half-changed, so a panic elsewhere poisons nothing real.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Files for MemFs {
    fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
        match self.lock().files.get(path) {
            Some(file) if file.bytes.len() as u64 > len_max => Err(ReadError::TooLarge {
                path: path.to_owned(),
                len_max,
            }),
            file => Ok(file.map(|file| file.bytes.clone())),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.lock().files.contains_key(path)
    }

    fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError> {
        Ok(self.lock().files.get(path).map(|file| file.modified))
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
        self.insert(path, bytes, mode & 0o7777);
        Ok(())
    }

    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
        self.lock()
            .dirs
            .entry(path.to_owned())
            .or_insert(mode & 0o7777);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        self.lock().files.remove(path);
        Ok(())
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

    /// A fresh directory under the system's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("corral-files-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").mode() & 0o7777
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_writes_create_and_replace_with_the_exact_mode_and_leave_nothing_behind() {
        let dir = TempDir::new("atomic");
        let key = dir.0.join("authkey.key");
        write_atomic(&key, b"first", 0o600).expect("create");
        assert_eq!(fs::read(&key).expect("read"), b"first");
        assert_eq!(mode_of(&key), 0o600);
        write_atomic(&key, b"second", 0o600).expect("replace");
        assert_eq!(fs::read(&key).expect("read"), b"second");
        // Group-writable survives a umask that would remove it (022 is the usual one).
        let shared = dir.0.join("shared");
        write_atomic(&shared, b"x", 0o660).expect("create");
        assert_eq!(mode_of(&shared), 0o660);
        // Replacing changes the mode too: the new file is a new inode.
        write_atomic(&shared, b"y", 0o640).expect("replace");
        assert_eq!(mode_of(&shared), 0o640);
        assert_eq!(names_in(&dir.0), ["authkey.key", "shared"]);
    }

    #[test]
    fn a_failed_write_names_the_file_and_the_step() {
        let dir = TempDir::new("fail");
        let missing = dir.0.join("no-such-dir/authkey.pub");
        let error = write_atomic(&missing, b"x", 0o640).expect_err("no directory");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot create a temporary file for {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        // Replacing a directory fails at the rename; the temporary file is cleaned up.
        let occupied = dir.0.join("occupied");
        fs::create_dir(&occupied).expect("dir");
        fs::write(occupied.join("inside"), b"").expect("file");
        let error = write_atomic(&occupied, b"x", 0o640).expect_err("a directory is in the way");
        assert!(error.to_string().starts_with("cannot replace "), "{error}");
        assert_eq!(names_in(&dir.0), ["occupied"]);
    }

    #[test]
    fn directories_files_and_times_on_disk() {
        let dir = TempDir::new("dirs");
        let priv_dir = dir.0.join("etc/pve/priv");
        create_dir_all(&priv_dir, 0o700).expect("mkdir -p");
        assert_eq!(mode_of(&priv_dir), 0o700);
        create_dir_all(&priv_dir, 0o755).expect("existing is fine");
        assert_eq!(
            mode_of(&priv_dir),
            0o700,
            "an existing directory keeps its mode"
        );

        let file = priv_dir.join("f");
        assert_eq!(modified_optional(&file).expect("stat"), None);
        RealFiles.write_atomic(&file, b"x", 0o600).expect("write");
        let mtime = RealFiles.modified(&file).expect("stat").expect("exists");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64;
        assert!((now - mtime.0).abs() < 60, "mtime {mtime:?} vs now {now}");
        RealFiles.remove_file(&file).expect("remove");
        RealFiles
            .remove_file(&file)
            .expect("removing a missing file is fine");
        assert!(!RealFiles.is_file(&file));
    }

    #[test]
    fn mem_files_stay_a_read_only_snapshot() {
        let mut files = MemFiles::default();
        files
            .0
            .insert("/etc/pve/authkey.pub".into(), b"key".to_vec());
        let path = Path::new("/etc/pve/authkey.pub");
        assert_eq!(
            files.modified(Path::new("/missing")).expect("missing"),
            None
        );
        let error = files.modified(path).expect_err("no times");
        assert!(error.to_string().contains("use MemFs"), "{error}");
        let error = files
            .write_atomic(path, b"x", 0o640)
            .expect_err("read-only");
        assert_eq!(
            error.to_string(),
            "cannot write /etc/pve/authkey.pub: MemFiles is read-only (use MemFs)"
        );
        assert!(files.create_dir_all(Path::new("/d"), 0o700).is_err());
        assert!(files.remove_file(path).is_err());
    }

    /// A clock the test moves by hand.
    #[derive(Debug, Default)]
    struct HandClock(std::sync::atomic::AtomicI64);

    impl WallClock for HandClock {
        fn now(&self) -> UnixTime {
            UnixTime(self.0.load(Ordering::Relaxed))
        }

        fn utc_offset_secs(&self, _at: UnixTime) -> i32 {
            0
        }
    }

    #[test]
    fn mem_fs_clones_share_files_stamped_with_the_clock() {
        let clock = Arc::new(HandClock::default());
        clock.0.store(1000, Ordering::Relaxed);
        let node1 = MemFs::new(clock.clone());
        let node2 = node1.clone();
        let path = Path::new("/etc/pve/authkey.pub");
        node1.write_atomic(path, b"key", 0o640).expect("write");
        clock.0.store(2000, Ordering::Relaxed);
        assert_eq!(node2.read(path, 16).expect("read"), Some(b"key".to_vec()));
        assert_eq!(node2.modified(path).expect("stat"), Some(UnixTime(1000)));
        assert_eq!(
            node2.file(path),
            Some(MemFile {
                bytes: b"key".to_vec(),
                mode: 0o640,
                modified: UnixTime(1000)
            })
        );
        assert!(node2.set_modified(path, UnixTime(5)));
        assert_eq!(node1.modified(path).expect("stat"), Some(UnixTime(5)));
        assert!(!node2.set_modified(Path::new("/missing"), UnixTime(5)));
        assert!(matches!(
            node1.read(path, 2),
            Err(ReadError::TooLarge { .. })
        ));

        node1
            .create_dir_all(Path::new("/etc/pve/priv"), 0o700)
            .expect("mkdir");
        assert_eq!(node2.dir_mode(Path::new("/etc/pve/priv")), Some(0o700));
        node2.remove_file(path).expect("remove");
        assert!(!node1.is_file(path));
        assert_eq!(node1.modified(path).expect("stat"), None);

        let mut snapshot = MemFiles::default();
        snapshot.0.insert("/a".into(), b"a".to_vec());
        let fs = MemFs::from_files(&snapshot, clock);
        assert_eq!(fs.paths(), [PathBuf::from("/a")]);
        assert_eq!(
            fs.modified(Path::new("/a")).expect("stat"),
            Some(UnixTime(2000))
        );
    }
}
