//! Where access-log lines go. Lines are formatted in core (`corral_core::http::access_log`).
//!
//! A slow or failing log write must never delay a request. [`FileLog`] appends each line to a
//! bounded in-memory buffer — no system call, no thread wake-up on the request path — and a
//! writer thread drains the buffer into the file with one `write` every [`FLUSH_INTERVAL`]
//! (backing off to [`IDLE_FLUSH_INTERVAL`] while idle).
//! When the buffer is full (the disk stalls), lines are dropped and counted.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Accepts finished log lines (each ending in `\n`). Never blocks.
pub trait AccessLog: std::fmt::Debug {
    fn write(&self, line: String);
}

/// No access log: pvedaemon has none (Proxmox logs the request in pveproxy only).
#[derive(Debug, Clone, Copy, Default)]
pub struct NullLog;

impl AccessLog for NullLog {
    fn write(&self, _line: String) {}
}

/// How many bytes may wait for the writer before new lines are dropped (several seconds of
/// lines at full speed).
pub const PENDING_BYTES_MAX: usize = 4 * 1024 * 1024;

/// How often the writer thread moves buffered lines to the file while requests come in.
/// Batching is what keeps logging off the request path (a per-line hand-off would wake the
/// writer, two context switches, for every request); small batches keep each write short, so it
/// never stalls the event loop sharing its core for long (at 50 ms, ~400 KB writes showed up in
/// the benchmark's p99).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(5);

/// The writer backs off to this interval while there is nothing to write, so an idle daemon
/// wakes only ten times a second.
pub const IDLE_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// The access-log file, appended by a writer thread.
#[derive(Debug, Clone)]
pub struct FileLog(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    /// Lines not yet written. Held only to append or to swap out the batch.
    pending: Mutex<Vec<u8>>,
    /// Held while writing, so a flush from another thread never interleaves with the writer's.
    file: Mutex<File>,
    reopen: AtomicBool,
    dropped: AtomicU64,
    failing: AtomicBool,
}

impl FileLog {
    /// Opens (creating, mode 0640) `path` for appending in the calling thread — so a daemon can
    /// open it while still root — and starts the writer thread.
    pub fn open(path: &Path) -> io::Result<FileLog> {
        Self::open_with_flush_interval(path, FLUSH_INTERVAL)
    }

    /// [`FileLog::open`], then gives the file to `owner` (uid, gid) — through the open
    /// descriptor, never the path, so a symlink planted where the log should be cannot redirect
    /// root's ownership change (the open itself refuses to follow a symlink).
    pub fn open_owned(path: &Path, owner: Option<(u32, u32)>) -> io::Result<FileLog> {
        let log = Self::open(path)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&*lock(&log.0.file), Some(uid), Some(gid))?;
        }
        Ok(log)
    }

    /// [`FileLog::open`] with another interval between the writer thread's flushes (it backs
    /// off to at most [`IDLE_FLUSH_INTERVAL`], or `busy_interval` if longer, while idle).
    pub fn open_with_flush_interval(path: &Path, busy_interval: Duration) -> io::Result<FileLog> {
        let file = open_for_append(path)?;
        let shared = Arc::new(Shared {
            path: path.to_owned(),
            pending: Mutex::new(Vec::new()),
            file: Mutex::new(file),
            reopen: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        });
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let idle_interval = IDLE_FLUSH_INTERVAL.max(busy_interval);
                let mut interval = busy_interval;
                loop {
                    std::thread::sleep(interval);
                    interval = if writer.flush() {
                        busy_interval
                    } else {
                        (interval * 2).min(idle_interval)
                    };
                }
            })?;
        Ok(FileLog(shared))
    }

    /// Reopens the file at the next flush if logrotate moved it.
    pub fn reopen(&self) {
        self.0.reopen.store(true, Ordering::Relaxed);
    }

    /// Writes everything buffered now (at shutdown; the writer thread does it periodically).
    pub fn flush(&self) {
        let _wrote = self.0.flush();
    }

    /// Lines dropped because the file could not keep up.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

impl AccessLog for FileLog {
    fn write(&self, line: String) {
        let mut pending = lock(&self.0.pending);
        if pending.len() + line.len() > PENDING_BYTES_MAX {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.extend_from_slice(line.as_bytes());
    }
}

impl Shared {
    /// Moves the buffered lines to the file in one write (O_APPEND keeps them whole). A failing
    /// write is reported once per failure streak; its lines are lost, later ones are tried.
    /// Returns whether there were lines to write.
    fn flush(&self) -> bool {
        let batch = std::mem::take(&mut *lock(&self.pending));
        let mut file = lock(&self.file);
        let reopened =
            if self.reopen.swap(false, Ordering::Relaxed) && !still_open(&self.path, &file) {
                open_for_append(&self.path)
                    .map(|reopened| *file = reopened)
                    .inspect_err(|_| {
                        // Keep trying at the next flush: the new file may appear or become writable.
                        self.reopen.store(true, Ordering::Relaxed);
                    })
            } else {
                Ok(())
            };
        let result = reopened.and_then(|()| {
            if batch.is_empty() {
                Ok(())
            } else {
                file.write_all(&batch)
            }
        });
        match result {
            Ok(()) => self.failing.store(false, Ordering::Relaxed),
            Err(e) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::error!("access log {}: {e}", self.path.display());
            }
            Err(_) => {}
        }
        !batch.is_empty()
    }
}

/// A poisoned lock only means another thread panicked mid-append; the bytes are still a buffer.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appends to the regular file at `path`, creating it 0640. A symlink is refused (`O_NOFOLLOW`):
/// the log's directory belongs to the unprivileged user, who must not be able to point root's
/// open at another file.
fn open_for_append(path: &Path) -> io::Result<File> {
    const O_NOFOLLOW: i32 = 0o400_000; // Linux's value on every architecture corral builds for.
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(O_NOFOLLOW)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        let message = format!("{} is not a regular file", path.display());
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    Ok(file)
}

/// Whether `path` still names the file we hold. Reopening is only needed after logrotate moved
/// it away; the file itself is root:www-data 0640, which the unprivileged daemon could not open
/// again — but the descriptor it opened as root stays writable.
fn still_open(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(named), Ok(held)) => named.dev() == held.dev() && named.ino() == held.ino(),
        _ => false,
    }
}

/// Lines kept in memory, for the simulator and tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog(pub Rc<RefCell<Vec<String>>>);

impl AccessLog for MemoryLog {
    fn write(&self, line: String) {
        self.0.borrow_mut().push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log whose writer thread never flushes during a test: flushes happen when the test says.
    fn temp_log(name: &str) -> (PathBuf, FileLog) {
        let dir =
            std::env::temp_dir().join(format!("corral-access-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("access.log");
        let hour = Duration::from_secs(3600);
        let log = FileLog::open_with_flush_interval(&path, hour).expect("opens");
        (path, log)
    }

    #[test]
    fn lines_reach_the_file_in_order_after_a_flush() {
        let (path, log) = temp_log("order");
        for n in 0..1000 {
            log.write(format!("line {n}\n"));
        }
        log.flush();
        let text = std::fs::read_to_string(&path).expect("readable");
        let expected: String = (0..1000).map(|n| format!("line {n}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(log.dropped(), 0);
    }

    #[test]
    fn reopen_follows_a_rotated_file() {
        let (path, log) = temp_log("rotate");
        log.write("before\n".into());
        log.flush();
        std::fs::rename(&path, path.with_extension("log.1")).expect("rotate");
        log.reopen();
        log.write("after\n".into());
        log.flush();
        assert_eq!(
            std::fs::read_to_string(path.with_extension("log.1")).expect("old"),
            "before\n"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("new"), "after\n");
    }

    #[test]
    fn a_symlink_in_place_of_the_log_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("corral-access-log-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let target = dir.join("secret");
        std::fs::write(&target, "root's\n").expect("write");
        let link = dir.join("access.log");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(
            FileLog::open_owned(&link, Some((0, 0))).is_err(),
            "a planted symlink is not followed"
        );
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "root's\n");
    }

    #[test]
    fn a_failed_reopen_is_retried() {
        let (path, log) = temp_log("retry");
        std::fs::rename(&path, path.with_extension("log.1")).expect("rotate");
        std::fs::create_dir(&path).expect("a directory blocks the new file");
        log.reopen();
        log.write("while blocked\n".into());
        log.flush();
        std::fs::remove_dir(&path).expect("unblock");
        log.write("new\n".into());
        log.flush();
        assert_eq!(std::fs::read_to_string(&path).expect("new file"), "new\n");
    }

    #[test]
    fn a_full_buffer_drops_and_counts_instead_of_blocking() {
        let (_path, log) = temp_log("full");
        let line = "x".repeat(1024) + "\n";
        let fit = PENDING_BYTES_MAX / line.len();
        for _ in 0..fit + 100 {
            log.write(line.clone());
        }
        assert_eq!(
            log.dropped(),
            100,
            "lines past the bound are dropped, not queued"
        );
    }
}
