//! Where a daemon's files live, and reading and writing them.
//!
//! Every daemon takes `--root DIR` (default `/`) and finds all its files under it, so several
//! nodes can run side by side on one machine.
//!
//! [`Files`] is the seam: [`RealFiles`] is the file system, [`MemFiles`] a read-only snapshot
//! for tests, [`MemFs`] a writable in-memory file system (modes and modification times
//! included) that clones share, as nodes share `/etc/pve`.
//!
//! Files under `/etc/pve` are written as pmxcfs shows them ([`Access`]): shared files root:www-data
//! 0640 (pveproxy runs as `www-data` and reads them), private ones 0600, directories 0755 but
//! `priv/` 0700.
//!
//! Writers of shared files take a lock first ([`Files::try_lock`], used through
//! [`crate::lock`]): an OS file lock on [`RealFiles`], so processes and nodes sharing one
//! directory exclude each other; an in-memory one on [`MemFs`], shared by its clones.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions, Permissions, TryLockError};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt, fchown};
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

/// A line-based text file decoded line by line (see [`read_lines`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineText {
    /// The file's text; in each line that is not UTF-8 the bad bytes are U+FFFD.
    pub text: String,
    /// The numbers (from 1) of the lines that were not UTF-8, in order.
    pub not_utf8: Vec<usize>,
}

/// A line-based text file that may be missing, through `files`, decoded line by line: in a
/// line that is not UTF-8 the bad bytes become U+FFFD and the line is listed in
/// [`LineText::not_utf8`]. A stray byte in a comment then costs nothing, one in a name makes
/// that line malformed for its parser: never more than that line. (Skipping such lines
/// instead could drop a `group:` or `acl:` line, lifting a restriction.)
pub fn read_lines(
    files: &dyn Files,
    path: &Path,
    len_max: u64,
) -> Result<Option<LineText>, ReadError> {
    let Some(bytes) = files.read(path, len_max)? else {
        return Ok(None);
    };
    Ok(Some(decode_lines(bytes)))
}

fn decode_lines(bytes: Vec<u8>) -> LineText {
    // The common case costs one check and no copy.
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => {
            return LineText {
                text,
                not_utf8: Vec::new(),
            };
        }
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(bytes.len());
    let mut not_utf8 = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if index > 0 {
            text.push('\n');
        }
        let decoded = String::from_utf8_lossy(line);
        if matches!(decoded, std::borrow::Cow::Owned(_)) {
            not_utf8.push(index + 1);
        }
        text.push_str(&decoded);
    }
    LineText { text, not_utf8 }
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

/// Who may read a file under `/etc/pve`, as pmxcfs shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only its owner (root): mode 0600, as everything in `priv/`.
    Private,
    /// Its owner writes, group `www-data` (pveproxy) reads: mode 0640, group [`SHARED_GROUP`]
    /// when written by root and the group exists. A process that is not root (a development
    /// setup) keeps its own group: its files are its own, and its pveproxy runs as itself.
    Shared,
    /// Everyone reads: mode 0644, as the node's own `/etc/timezone`.
    Public,
}

impl Access {
    /// The permission bits.
    pub const fn mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Shared => 0o640,
            Access::Public => 0o644,
        }
    }
}

/// The group pveproxy runs as, which reads the shared files.
pub const SHARED_GROUP: &str = "www-data";

/// Mode of directories created on the way to the one asked for (pmxcfs shows `/etc/pve` and its
/// directories 0755; only `priv/` is 0700).
pub const PARENT_DIR_MODE: u32 = 0o755;

/// Where groups are looked up. io has no binding to libc's `getgrnam` (unsafe code is
/// forbidden), and `www-data` is a base-passwd system group, always listed here on Debian and
/// Proxmox VE.
const GROUP_FILE: &str = "/etc/group";

/// [`write_atomic`] with `access`'s mode, and for [`Access::Shared`] written by root the group
/// [`SHARED_GROUP`], set on the temporary file before the rename: pveproxy can read the file
/// from the first instant it exists under its name.
pub fn write_as(path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError> {
    write_with(path, bytes, access.mode(), access == Access::Shared)
}

/// Replaces `path` with `bytes` so that readers see either the old or the new contents, never
/// a mix, and the new contents survive a crash once this returns.
///
/// The bytes go to a new temporary file in the same directory, created exclusively (`O_EXCL`)
/// with permissions no wider than `mode` from the first instant (then set to exactly `mode`,
/// which the umask may have narrowed), written, synced, renamed over `path`, and the directory
/// synced. The file belongs to the writing process's user and group; files under `/etc/pve`
/// are written with [`write_as`], which also sets the group pveproxy reads them with.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    write_with(path, bytes, mode, false)
}

fn write_with(path: &Path, bytes: &[u8], mode: u32, shared: bool) -> Result<(), WriteError> {
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
    let written = share_if(shared, &file)
        .and_then(|()| fill_and_sync(file, bytes, mode))
        .and_then(|()| fs::rename(&temp_path, path).map_err(|e| ("replace", e)));
    if let Err((action, cause)) = written {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&temp_path);
        return Err(WriteError::new(path, action, cause));
    }
    sync_dir(dir).map_err(|cause| WriteError::new(path, "sync the directory of", cause))
}

/// Gives a freshly created file to [`SHARED_GROUP`] when asked and written by root (the file's
/// owner tells: it is whoever created it) and the group exists.
fn share_if(shared: bool, file: &File) -> Result<(), (&'static str, io::Error)> {
    const ACTION: &str = "set group www-data on";
    if !shared {
        return Ok(());
    }
    let metadata = file.metadata().map_err(|e| (ACTION, e))?;
    if metadata.uid() != 0 {
        return Ok(());
    }
    let Some(gid) = group_id(SHARED_GROUP).map_err(|e| (ACTION, e))? else {
        // Root writes a file pveproxy must read, and there is no www-data to give it to.
        tracing::warn!(
            "no group {SHARED_GROUP} in {GROUP_FILE}: a shared file stays in root's group, \
             which pveproxy cannot read unless it runs as root"
        );
        return Ok(());
    };
    // pmxcfs shows every file as root:www-data already; nothing to change there.
    if metadata.gid() == gid {
        return Ok(());
    }
    fchown(file, None, Some(gid)).map_err(|e| (ACTION, e))
}

/// The id of group `name` in [`GROUP_FILE`], `None` when it is not listed (or there is no such
/// file).
fn group_id(name: &str) -> io::Result<Option<u32>> {
    let bytes = read_optional(Path::new(GROUP_FILE), CONFIG_LEN_MAX).map_err(|e| {
        let kind = match &e {
            ReadError::Io { cause, .. } => cause.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        // The message names the group file, not the file being written.
        io::Error::new(kind, e.to_string())
    })?;
    Ok(bytes.and_then(|bytes| group_id_in(&bytes, name)))
}

/// The id of group `name` in the text of a group file (`name:password:gid:members` lines).
fn group_id_in(group_file: &[u8], name: &str) -> Option<u32> {
    group_file.split(|&b| b == b'\n').find_map(|line| {
        let mut fields = line.split(|&b| b == b':');
        if fields.next()? != name.as_bytes() {
            return None;
        }
        let gid = fields.nth(1)?;
        std::str::from_utf8(gid).ok()?.trim().parse().ok()
    })
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

/// Creates `path` with `mode`, and any missing parents with [`PARENT_DIR_MODE`] (as `mkdir -p`
/// then `chmod MODE` on the last one: `mkdir -p -m` would give `/etc/pve` the mode of
/// `priv/`). Each mode is set exactly, whatever the umask. An existing directory is fine and
/// keeps its mode.
pub fn create_dir_all(path: &Path, mode: u32) -> Result<(), WriteError> {
    // Bounded by the path's depth.
    let missing: Vec<&Path> = path
        .ancestors()
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.is_dir())
        .collect();
    for dir in missing.into_iter().rev() {
        let dir_mode = if dir == path { mode } else { PARENT_DIR_MODE } & 0o7777;
        match fs::DirBuilder::new().mode(dir_mode).create(dir) {
            Ok(()) => fs::set_permissions(dir, Permissions::from_mode(dir_mode))
                .map_err(|cause| WriteError::new(dir, "set the mode of the directory", cause))?,
            // Another process made it in the meantime: theirs to keep.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(cause) => return Err(WriteError::new(dir, "create the directory", cause)),
        }
    }
    Ok(())
}

/// What [`secure_private_dir`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateDir {
    /// It did not exist; it was created 0700.
    Created,
    /// It existed with the mode it needs.
    Kept,
    /// It was open to its group or others (the mode it had); it is 0700 now.
    Tightened { was: u32 },
}

/// Why a private directory cannot be trusted or made.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("cannot check {}: {cause}", path.display())]
    Stat { path: PathBuf, cause: io::Error },
    #[error("{} is not a directory; move it away so a private directory can be made there", path.display())]
    NotADirectory { path: PathBuf },
    #[error(
        "{} belongs to uid {owner}, not to uid {expected} (this process): its owner could \
         replace the keys in it; give it to uid {expected} with mode 0700 (chown/chmod) or remove it",
        path.display()
    )]
    ForeignOwner {
        path: PathBuf,
        owner: u32,
        expected: u32,
    },
}

/// Makes sure `path` is a directory only `owner` (the calling process's effective user) can
/// enter, as `/etc/pve/priv` must be: created 0700 when missing; chmod 0700 when it is open to
/// its group or others (the caller warns with [`PrivateDir::Tightened`]); refused when it
/// belongs to someone else, who could swap the signing key or password hashes in it.
pub fn secure_private_dir(path: &Path, owner: u32) -> Result<PrivateDir, PrivateDirError> {
    const MODE: u32 = 0o700;
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir_all(path, MODE)?;
            return Ok(PrivateDir::Created);
        }
        Err(cause) => {
            return Err(PrivateDirError::Stat {
                path: path.to_owned(),
                cause,
            });
        }
    };
    if !metadata.is_dir() {
        return Err(PrivateDirError::NotADirectory {
            path: path.to_owned(),
        });
    }
    if metadata.uid() != owner {
        return Err(PrivateDirError::ForeignOwner {
            path: path.to_owned(),
            owner: metadata.uid(),
            expected: owner,
        });
    }
    let was = metadata.mode() & 0o7777;
    if was & 0o077 == 0 {
        return Ok(PrivateDir::Kept);
    }
    fs::set_permissions(path, Permissions::from_mode(MODE))
        .map_err(|cause| WriteError::new(path, "set the mode of the directory", cause))?;
    Ok(PrivateDir::Tightened { was })
}

/// Makes `link` a symbolic link to `target`, replacing what was there atomically: the new link
/// is made under a temporary name in the same directory and renamed over `link`, so `link`
/// always resolves to the old target or the new one.
pub fn symlink(target: &Path, link: &Path) -> Result<(), WriteError> {
    let temporary = link.with_file_name(format!(
        ".{}.tmp.{}",
        link.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)
        .map_err(|cause| WriteError::new(link, "make the link", cause))?;
    fs::rename(&temporary, link).map_err(|cause| {
        let _ = fs::remove_file(&temporary);
        WriteError::new(link, "replace the link", cause)
    })
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

    /// Replaces the file atomically with `bytes`, readable as `access` says (see [`write_as`]).
    fn write_atomic(&self, path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError>;

    /// Creates a directory with `mode` and its missing parents with [`PARENT_DIR_MODE`]; an
    /// existing one is fine (see [`create_dir_all`]).
    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError>;

    /// Removes a file; a missing one is fine.
    fn remove_file(&self, path: &Path) -> Result<(), WriteError>;

    /// Makes `link` a symbolic link to `target`, atomically replacing what was there (see
    /// [`symlink`]). Only the real file system has links; the others refuse.
    fn symlink(&self, target: &Path, link: &Path) -> Result<(), WriteError> {
        let _ = target;
        Err(WriteError::new(
            link,
            "make the link",
            io::Error::new(io::ErrorKind::Unsupported, "these files have no links"),
        ))
    }

    /// Takes the exclusive lock named by the lock file `path` when no one holds it: `Ok(None)`
    /// when someone does (it does not wait; [`crate::lock`] retries, bounded by a timeout).
    /// The lock is held until the guard is dropped. Its directory must exist.
    ///
    /// [`RealFiles`] creates the file (0600) and locks it with the OS (`flock`), so any
    /// process on any node sharing the directory is excluded, and a crashed holder releases
    /// it; the file is never removed. [`MemFs`] keeps its locks in memory, shared by its
    /// clones. This default excludes the holders within this process only (a table of paths,
    /// nothing on disk): enough for a read-only snapshot or a test double, but a wrapper around
    /// another `Files` should forward to it.
    fn try_lock(&self, path: &Path) -> Result<Option<LockGuard>, WriteError> {
        Ok(ProcessLock::try_take(path))
    }
}

/// A lock taken with [`Files::try_lock`]: released when dropped (or when the process ends).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    /// Whatever holds the lock and releases it on drop (an open, locked file; an entry in a
    /// table).
    _held: Box<dyn Send>,
}

impl LockGuard {
    /// A guard holding `held`, whose drop releases the lock (for [`Files`] implementations).
    pub fn new(held: impl Send + 'static) -> LockGuard {
        LockGuard {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Takes the OS lock (`flock`, exclusive, not waiting) on the lock file `path`, creating it
/// (0600) when missing: `Ok(None)` when another open file holds it, in this process or any
/// other (see [`Files::try_lock`]).
pub fn try_lock_file(path: &Path) -> Result<Option<LockGuard>, WriteError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|cause| WriteError::new(path, "open the lock file", cause))?;
    match file.try_lock() {
        // Closing the file (dropping the guard) releases the lock.
        Ok(()) => Ok(Some(LockGuard::new(file))),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(cause)) => Err(WriteError::new(path, "lock", cause)),
    }
}

/// The locks [`Files::try_lock`]'s default hands out: paths held in this process.
static PROCESS_LOCKS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// One entry of [`PROCESS_LOCKS`], removed on drop.
struct ProcessLock(PathBuf);

impl ProcessLock {
    fn try_take(path: &Path) -> Option<LockGuard> {
        let mut held = PROCESS_LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(path.to_owned())
            .then(|| LockGuard::new(ProcessLock(path.to_owned())))
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        PROCESS_LOCKS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
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

    fn write_atomic(&self, path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError> {
        write_as(path, bytes, access)
    }

    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
        create_dir_all(path, mode)
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        remove_file(path)
    }

    fn symlink(&self, target: &Path, link: &Path) -> Result<(), WriteError> {
        symlink(target, link)
    }

    fn try_lock(&self, path: &Path) -> Result<Option<LockGuard>, WriteError> {
        try_lock_file(path)
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

    fn write_atomic(&self, path: &Path, _bytes: &[u8], _: Access) -> Result<(), WriteError> {
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
    /// The group a real write would give it ([`SHARED_GROUP`] for [`Access::Shared`] files);
    /// `None` when it keeps the writer's.
    pub group: Option<&'static str>,
}

/// A writable in-memory file system for the simulator and tests. Clones share the same files,
/// as the nodes of a cluster share `/etc/pve`; writes are stamped with the clock's time.
///
/// Clones share their locks too ([`Files::try_lock`]): two nodes over one `MemFs` exclude each
/// other as two over one real directory do. Locks are not files here (they show in no listing).
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
    /// The lock files held ([`Files::try_lock`]).
    locks: BTreeSet<PathBuf>,
    /// Symbolic links: link → target ([`Files::symlink`]).
    links: BTreeMap<PathBuf, PathBuf>,
}

/// A lock held in a [`MemFs`], released on drop.
struct MemLock {
    state: Arc<Mutex<MemFsState>>,
    path: PathBuf,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .locks
            .remove(&self.path);
    }
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
    /// clone shares): each test server gets its own node files from one prepared set. No lock
    /// is held in the copy: it is another `/etc/pve`.
    pub fn detached(&self) -> MemFs {
        let state = self.lock();
        MemFs {
            state: Arc::new(Mutex::new(MemFsState {
                files: state.files.clone(),
                dirs: state.dirs.clone(),
                locks: BTreeSet::new(),
                links: state.links.clone(),
            })),
            clock: Arc::clone(&self.clock),
        }
    }

    /// Puts a file in place (no atomicity needed in memory), modified now, in the writer's
    /// group.
    pub fn insert(&self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>, mode: u32) {
        self.put(path.into(), bytes.into(), mode, None);
    }

    fn put(&self, path: PathBuf, bytes: Vec<u8>, mode: u32, group: Option<&'static str>) {
        let file = MemFile {
            bytes,
            mode,
            modified: self.clock.now(),
            group,
        };
        self.lock().files.insert(path, file);
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

    /// Where a symbolic link points, when `path` is one.
    pub fn link(&self, path: &Path) -> Option<PathBuf> {
        self.lock().links.get(path).cloned()
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

    fn write_atomic(&self, path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError> {
        let group = (access == Access::Shared).then_some(SHARED_GROUP);
        self.put(path.to_owned(), bytes.to_vec(), access.mode(), group);
        Ok(())
    }

    fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
        let mut state = self.lock();
        for parent in path.ancestors().skip(1) {
            if !parent.as_os_str().is_empty() && parent != Path::new("/") {
                state
                    .dirs
                    .entry(parent.to_owned())
                    .or_insert(PARENT_DIR_MODE);
            }
        }
        state.dirs.entry(path.to_owned()).or_insert(mode & 0o7777);
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
        self.lock().files.remove(path);
        Ok(())
    }

    fn symlink(&self, target: &Path, link: &Path) -> Result<(), WriteError> {
        let mut state = self.lock();
        state.files.remove(link);
        state.links.insert(link.to_owned(), target.to_owned());
        Ok(())
    }

    fn try_lock(&self, path: &Path) -> Result<Option<LockGuard>, WriteError> {
        if !self.lock().locks.insert(path.to_owned()) {
            return Ok(None);
        }
        Ok(Some(LockGuard::new(MemLock {
            state: Arc::clone(&self.state),
            path: path.to_owned(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

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
        // Only the directory asked for is private: pveproxy must get through /etc/pve.
        assert_eq!(mode_of(&dir.0.join("etc/pve")), 0o755);
        assert_eq!(mode_of(&dir.0.join("etc")), 0o755);
        create_dir_all(&priv_dir, 0o755).expect("existing is fine");
        assert_eq!(
            mode_of(&priv_dir),
            0o700,
            "an existing directory keeps its mode"
        );

        let file = priv_dir.join("f");
        assert_eq!(modified_optional(&file).expect("stat"), None);
        RealFiles
            .write_atomic(&file, b"x", Access::Private)
            .expect("write");
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
    fn shared_files_are_group_www_data_from_the_first_instant_when_root_writes_them() {
        let dir = TempDir::new("shared");
        let shared = dir.0.join("authkey.pub");
        write_as(&shared, b"public", Access::Shared).expect("write");
        let metadata = fs::metadata(&shared).expect("metadata");
        assert_eq!(metadata.mode() & 0o7777, 0o640);
        let www_data = group_id(SHARED_GROUP).expect("/etc/group");
        let dir_gid = fs::metadata(&dir.0).expect("dir").gid();
        match www_data {
            // Root (as pvedaemon in production, and this test in CI) shares with pveproxy.
            Some(gid) if metadata.uid() == 0 => assert_eq!(metadata.gid(), gid),
            // Anyone else keeps their own group: a development setup.
            _ => assert_eq!(metadata.gid(), dir_gid),
        }
        // Replacing keeps sharing it; nothing is left behind.
        write_as(&shared, b"rotated", Access::Shared).expect("replace");
        assert_eq!(
            fs::metadata(&shared).expect("metadata").gid(),
            metadata.gid()
        );
        let private = dir.0.join("authkey.key");
        write_as(&private, b"secret", Access::Private).expect("write");
        let metadata = fs::metadata(&private).expect("metadata");
        assert_eq!(metadata.mode() & 0o7777, 0o600);
        assert_eq!(
            metadata.gid(),
            dir_gid,
            "a private file is never given away"
        );
        assert_eq!(names_in(&dir.0), ["authkey.key", "authkey.pub"]);
    }

    #[test]
    fn groups_are_found_by_name_in_a_group_file() {
        let group_file = b"root:x:0:\nwww-data:x:33:\nwww:x:1000:alice,bob\nbroken:x:\n";
        assert_eq!(group_id_in(group_file, "www-data"), Some(33));
        assert_eq!(group_id_in(group_file, "www"), Some(1000));
        assert_eq!(group_id_in(group_file, "root"), Some(0));
        assert_eq!(group_id_in(group_file, "www-dat"), None);
        assert_eq!(group_id_in(group_file, "broken"), None);
        assert_eq!(group_id_in(b"", "www-data"), None);
    }

    #[test]
    fn a_private_dir_is_made_tightened_or_refused() {
        let dir = TempDir::new("private");
        let priv_dir = dir.0.join("etc/pve/priv");
        // Our uid: the owner of what we just made.
        let us = fs::metadata(&dir.0).expect("dir").uid();
        assert_eq!(
            secure_private_dir(&priv_dir, us).expect("create"),
            PrivateDir::Created
        );
        assert_eq!(mode_of(&priv_dir), 0o700);
        assert_eq!(mode_of(&dir.0.join("etc/pve")), 0o755);
        assert_eq!(
            secure_private_dir(&priv_dir, us).expect("check"),
            PrivateDir::Kept
        );

        fs::set_permissions(&priv_dir, Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            secure_private_dir(&priv_dir, us).expect("tighten"),
            PrivateDir::Tightened { was: 0o755 }
        );
        assert_eq!(mode_of(&priv_dir), 0o700);

        let error = secure_private_dir(&priv_dir, us + 1).expect_err("someone else's");
        assert_eq!(
            error.to_string(),
            format!(
                "{} belongs to uid {us}, not to uid {} (this process): its owner could replace \
                 the keys in it; give it to uid {} with mode 0700 (chown/chmod) or remove it",
                priv_dir.display(),
                us + 1,
                us + 1
            )
        );
        let file = dir.0.join("etc/pve/user.cfg");
        fs::write(&file, b"").expect("file");
        let error = secure_private_dir(&file, us).expect_err("a file");
        assert!(
            error.to_string().ends_with(
                "is not a directory; move it away so a private directory can be made there"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_costs_that_line_only() {
        let mut files = MemFiles::default();
        let path = Path::new("/etc/pve/user.cfg");
        files.0.insert(
            path.into(),
            b"user:root@pam:1:0:::\nuser:b\xffd@pve:1:0:::\nuser:alice@pve:1:0:::\n".to_vec(),
        );
        let lines = read_lines(&files, path, CONFIG_LEN_MAX)
            .expect("read")
            .expect("exists");
        assert_eq!(
            lines,
            LineText {
                text: "user:root@pam:1:0:::\nuser:b\u{fffd}d@pve:1:0:::\nuser:alice@pve:1:0:::\n"
                    .to_owned(),
                not_utf8: vec![2],
            }
        );
        // Valid text is passed through as is; a missing file is none.
        files.0.insert(path.into(), b"a\n\xc3\xa9\n".to_vec());
        let lines = read_lines(&files, path, CONFIG_LEN_MAX).expect("read");
        assert_eq!(
            lines,
            Some(LineText {
                text: "a\n\u{e9}\n".to_owned(),
                not_utf8: Vec::new()
            })
        );
        assert_eq!(
            read_lines(&files, Path::new("/missing"), CONFIG_LEN_MAX).expect("missing"),
            None
        );
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
            .write_atomic(path, b"x", Access::Shared)
            .expect_err("read-only");
        assert_eq!(
            error.to_string(),
            "cannot write /etc/pve/authkey.pub: MemFiles is read-only (use MemFs)"
        );
        assert!(files.create_dir_all(Path::new("/d"), 0o700).is_err());
        assert!(files.remove_file(path).is_err());
    }

    #[test]
    fn a_lock_file_excludes_a_second_holder_until_dropped_and_stays() {
        let dir = TempDir::new("lock");
        let path = dir.0.join("file-user_cfg");
        let held = RealFiles.try_lock(&path).expect("lock").expect("free");
        assert_eq!(mode_of(&path), 0o600);
        // Another open file (as another process or node would have) is refused, not blocked.
        assert!(RealFiles.try_lock(&path).expect("try").is_none());
        assert!(try_lock_file(&path).expect("try").is_none());
        drop(held);
        let again = RealFiles.try_lock(&path).expect("lock").expect("released");
        drop(again);
        assert_eq!(names_in(&dir.0), ["file-user_cfg"], "never removed");
        let error = RealFiles
            .try_lock(&dir.0.join("missing/authkey"))
            .expect_err("no directory");
        assert!(
            error.to_string().starts_with("cannot open the lock file "),
            "{error}"
        );
    }

    #[test]
    fn mem_fs_locks_are_shared_by_clones_not_by_detached_copies() {
        let clock = Arc::new(ManualClock::new(UnixTime(1000)));
        let node1 = MemFs::new(clock);
        let node2 = node1.clone();
        let path = Path::new("/etc/pve/priv/lock/authkey");
        let held = node1.try_lock(path).expect("lock").expect("free");
        assert!(
            node2.try_lock(path).expect("try").is_none(),
            "a clone waits"
        );
        assert!(
            node1.try_lock(path).expect("try").is_none(),
            "so does its holder"
        );
        let other = Path::new("/etc/pve/priv/lock/file-user_cfg");
        let _other = node2
            .try_lock(other)
            .expect("lock")
            .expect("another lock is free");
        // Another /etc/pve altogether.
        let detached = node1.detached();
        let _separate = detached.try_lock(path).expect("lock").expect("not shared");
        drop(held);
        let _again = node2.try_lock(path).expect("lock").expect("released");
        assert!(node1.paths().is_empty(), "locks are no files");
    }

    #[test]
    fn the_default_lock_excludes_within_the_process() {
        let files = MemFiles::default();
        let path = Path::new("/corral-files-test/priv/lock/default");
        let held = files.try_lock(path).expect("lock").expect("free");
        assert!(
            MemFiles::default().try_lock(path).expect("try").is_none(),
            "any holder in this process"
        );
        drop(held);
        let _again = files.try_lock(path).expect("lock").expect("released");
    }

    #[test]
    fn mem_fs_clones_share_files_stamped_with_the_clock() {
        let clock = Arc::new(ManualClock::new(UnixTime(1000)));
        let node1 = MemFs::new(clock.clone());
        let node2 = node1.clone();
        let path = Path::new("/etc/pve/authkey.pub");
        node1
            .write_atomic(path, b"key", Access::Shared)
            .expect("write");
        clock.set(UnixTime(2000));
        assert_eq!(node2.read(path, 16).expect("read"), Some(b"key".to_vec()));
        assert_eq!(node2.modified(path).expect("stat"), Some(UnixTime(1000)));
        assert_eq!(
            node2.file(path),
            Some(MemFile {
                bytes: b"key".to_vec(),
                mode: 0o640,
                modified: UnixTime(1000),
                group: Some("www-data"),
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
        assert_eq!(
            node2.dir_mode(Path::new("/etc/pve")),
            Some(0o755),
            "parents are made 0755, as pmxcfs shows /etc/pve"
        );
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
