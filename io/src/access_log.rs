//! Where access-log lines go. Lines are formatted in core (`corral_core::http::access_log`).
//!
//! A slow or failing log write must never delay a request: [`FileLog`] hands lines to a writer
//! thread through a bounded queue and drops (and counts) lines when the queue is full.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Accepts finished log lines (each ending in `\n`). Never blocks.
pub trait AccessLog: std::fmt::Debug {
    fn write(&self, line: String);
}

/// How many lines may wait for the writer thread before new ones are dropped.
pub const QUEUE_LINES_MAX: usize = 4096;

enum Command {
    Line(String),
    Reopen,
}

/// The access-log file, appended by a writer thread.
#[derive(Debug, Clone)]
pub struct FileLog {
    queue: SyncSender<Command>,
    dropped: Arc<AtomicU64>,
}

impl FileLog {
    /// Opens (creating, mode 0640) `path` for appending in the calling thread — so a daemon can
    /// open it while still root — and starts the writer thread.
    pub fn open(path: &Path) -> io::Result<FileLog> {
        let file = open_for_append(path)?;
        let (queue, commands) = sync_channel(QUEUE_LINES_MAX);
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(path, file, commands))?;
        Ok(FileLog {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Reopens the file (after logrotate moved it), in the writer thread.
    pub fn reopen(&self) {
        // Blocking here is fine: reopening happens on SIGHUP, not on a request path.
        let _ = self.queue.send(Command::Reopen);
    }

    /// Lines dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AccessLog for FileLog {
    fn write(&self, line: String) {
        match self.queue.try_send(Command::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn open_for_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

/// The writer thread: one write per line (O_APPEND keeps lines whole), reopen on request. A
/// failing write is reported once per failure streak, and the thread keeps going.
fn write_lines(path: PathBuf, mut file: File, commands: Receiver<Command>) {
    let mut failing = false;
    for command in commands {
        let result = match command {
            Command::Line(line) => file.write_all(line.as_bytes()),
            Command::Reopen if still_open(&path, &file) => Ok(()),
            Command::Reopen => open_for_append(&path).map(|reopened| file = reopened),
        };
        match result {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::error!("access log {}: {e}", path.display());
            }
            Err(_) => {}
        }
    }
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
