//! Cluster-wide write locks on `/etc/pve`, as pmxcfs's (`PVE::Cluster::cfs_lock_file`,
//! `cfs_lock_authkey`).
//!
//! The files under `/etc/pve` are shared by all nodes of a cluster (pmxcfs replicates them on
//! Proxmox VE; in development one shared directory serves). Readers pick changes up by
//! themselves ([`crate::access`]); writers hold the lock named for what they change across the
//! whole read-modify-write, so two writers (processes or nodes) never interleave and no change
//! is lost:
//!
//! | lock | guards | Proxmox |
//! |---|---|---|
//! | [`USER_CFG`] `file-user_cfg` | `user.cfg` (users, groups, tokens, ACLs) | `lock_user_config` |
//! | [`SHADOW_CFG`] `file-priv_shadow_cfg` | `priv/shadow.cfg` | `lock_shadow_config` (`store_password`) |
//! | [`TOKEN_CFG`] `file-priv_token_cfg` | `priv/token.cfg` | `PVE::TokenConfig::generate_token` |
//! | [`AUTHKEY`] `authkey` | the ticket key pair, `pve-www.key` | `cfs_lock_authkey` |
//!
//! The names are `cfs_lock_file`'s ([`file_lock_name`]). Where both are needed, `file-user_cfg`
//! is taken first and a `file-priv_*` lock inside it, never the other way round (as Proxmox's
//! `user add` and `token add` nest them), so two writers cannot deadlock.
//!
//! A lock is the file `/etc/pve/priv/lock/<name>` (pmxcfs's lock directory) locked through
//! [`Files::try_lock`]: an OS lock on a real directory, so every process on every node sharing
//! it is excluded, and a holder that dies releases it at once (pmxcfs frees a lock after 120 s).
//! The file stays. A writer waits at most [`LOCK_TIMEOUT`] (Proxmox's 10 s), trying again
//! every [`RETRY_INTERVAL`], then fails with Proxmox's message (`cfs-lock 'file-user_cfg'
//! error: got lock request timeout`), naming the lock file, having changed nothing.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use crate::authkey::{PRIVATE_DIR, PRIVATE_DIR_MODE};
use crate::files::{Files, LockGuard, Root, WriteError};

/// pmxcfs's lock directory.
pub const LOCK_DIR: &str = "/etc/pve/priv/lock";
/// Mode of [`LOCK_DIR`] when it has to be made (as everything in `priv/`).
pub const LOCK_DIR_MODE: u32 = 0o700;

/// How long a writer waits for a lock another one holds: `cfs_lock`'s default.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a waiting writer tries again.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(10);

/// `user.cfg` (Proxmox's `lock_user_config`).
pub const USER_CFG: &str = "file-user_cfg";
/// `priv/shadow.cfg`: the `@pve` password hashes (Proxmox's `lock_shadow_config`).
pub const SHADOW_CFG: &str = "file-priv_shadow_cfg";
/// `priv/token.cfg`: the API token secrets (as Proxmox's `PVE::TokenConfig` takes it).
pub const TOKEN_CFG: &str = "file-priv_token_cfg";
/// The ticket key pair (`cfs_lock_authkey`); corral also creates `pve-www.key` under it.
pub const AUTHKEY: &str = "authkey";

/// The lock `cfs_lock_file` takes for `file`, named relative to `/etc/pve` (`user.cfg`,
/// `priv/shadow.cfg`; a leading `/etc/pve/` is dropped): `file-` and the name with `.` and `/`
/// as `_`.
pub fn file_lock_name(file: &str) -> String {
    let relative = file.strip_prefix("/etc/pve/").unwrap_or(file);
    format!("file-{}", relative.replace(['.', '/'], "_"))
}

/// A lock that could not be taken. Nothing was done under it.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another writer held it for the whole timeout.
    #[error(
        "cfs-lock '{name}' error: got lock request timeout ({} still held by another writer \
         after {timeout:?})",
        path.display()
    )]
    Timeout {
        name: String,
        path: PathBuf,
        timeout: Duration,
    },
    /// Its directory or file could not be made or locked.
    #[error("cfs-lock '{name}' error: {cause}")]
    Io { name: String, cause: WriteError },
    #[error("'{0}' is not a lock name (a file name in {LOCK_DIR})")]
    BadName(String),
}

/// The lock file of lock `name` under `root`.
pub fn lock_path(root: &Root, name: &str) -> PathBuf {
    root.path(LOCK_DIR).join(name)
}

/// Runs `f` holding lock `name` under `root`, for a command line tool or start-up code: waits
/// (sleeping the thread, [`RETRY_INTERVAL`] at a time) while another writer holds it, for at
/// most `timeout` ([`LOCK_TIMEOUT`] as Proxmox), then fails with [`LockError::Timeout`]
/// without running `f`. Makes `/etc/pve/priv` (0700) and [`LOCK_DIR`] when missing. The lock
/// is released when `f` returns (or panics).
///
/// `f` must read what it changes itself, after the lock is taken: what was read before may be
/// stale by then. Never call it on an async runtime's thread while the lock may be contended;
/// use [`with_lock`] there.
pub fn with_lock_blocking<T>(
    files: &dyn Files,
    root: &Root,
    name: &str,
    timeout: Duration,
    f: impl FnOnce() -> T,
) -> Result<T, LockError> {
    let path = prepare(files, root, name)?;
    let start = std::time::Instant::now();
    let mut waiting = false;
    let _guard = loop {
        match attempt(files, name, &path, start.elapsed(), timeout, &mut waiting)? {
            Attempt::Taken(guard) => break guard,
            Attempt::Wait(pause) => std::thread::sleep(pause),
        }
    };
    Ok(f())
}

/// [`with_lock_blocking`] for a daemon: waits with `tokio::time::sleep`, so the event loop
/// serves others meanwhile (and paused test time moves on), and runs the future `f` makes
/// holding the lock, across its awaits. Must run on a tokio runtime with time enabled.
pub async fn with_lock<T, F, Fut>(
    files: &dyn Files,
    root: &Root,
    name: &str,
    timeout: Duration,
    f: F,
) -> Result<T, LockError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let path = prepare(files, root, name)?;
    let start = tokio::time::Instant::now();
    let mut waiting = false;
    let _guard = loop {
        match attempt(files, name, &path, start.elapsed(), timeout, &mut waiting)? {
            Attempt::Taken(guard) => break guard,
            Attempt::Wait(pause) => tokio::time::sleep(pause).await,
        }
    };
    Ok(f().await)
}

/// What one try at a lock came to.
enum Attempt {
    Taken(LockGuard),
    /// Held by another writer: try again after this long.
    Wait(Duration),
}

/// One try at the lock at `path`, `waited` into a wait of at most `timeout`: the lock, the
/// pause before the next try ([`RETRY_INTERVAL`], or what is left), or the timeout error. The
/// callers' loops differ only in how they pause.
fn attempt(
    files: &dyn Files,
    name: &str,
    path: &std::path::Path,
    waited: Duration,
    timeout: Duration,
    waiting: &mut bool,
) -> Result<Attempt, LockError> {
    if let Some(guard) = try_take(files, name, path)? {
        return Ok(Attempt::Taken(guard));
    }
    if waited >= timeout {
        return Err(timed_out(name, path.to_owned(), timeout));
    }
    log_waiting(name, waiting);
    Ok(Attempt::Wait(RETRY_INTERVAL.min(timeout - waited)))
}

/// Checks the name and makes the lock directory; the lock file's path.
fn prepare(files: &dyn Files, root: &Root, name: &str) -> Result<PathBuf, LockError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(LockError::BadName(name.to_owned()));
    }
    let io = |cause| LockError::Io {
        name: name.to_owned(),
        cause,
    };
    // `priv/` first: making the lock directory alone would make `priv/` 0755.
    files
        .create_dir_all(&root.path(PRIVATE_DIR), PRIVATE_DIR_MODE)
        .map_err(io)?;
    files
        .create_dir_all(&root.path(LOCK_DIR), LOCK_DIR_MODE)
        .map_err(io)?;
    Ok(lock_path(root, name))
}

fn try_take(
    files: &dyn Files,
    name: &str,
    path: &std::path::Path,
) -> Result<Option<LockGuard>, LockError> {
    files.try_lock(path).map_err(|cause| LockError::Io {
        name: name.to_owned(),
        cause,
    })
}

fn timed_out(name: &str, path: PathBuf, timeout: Duration) -> LockError {
    LockError::Timeout {
        name: name.to_owned(),
        path,
        timeout,
    }
}

/// Proxmox's "trying to acquire cfs lock" line, once per wait.
fn log_waiting(name: &str, waiting: &mut bool) {
    if !*waiting {
        *waiting = true;
        tracing::info!("trying to acquire cfs lock '{name}' ...");
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::Path;
    use std::rc::Rc;
    use std::sync::Arc;

    use corral_core::auth::AUTHKEY_LIFETIME;
    use corral_core::auth::keyage::Quorum;
    use corral_core::time::UnixTime;

    use super::*;
    use crate::access::AccessFiles;
    use crate::authkey::{self, AUTHKEY_PRIVATE, AUTHKEY_PUBLIC, AUTHKEY_PUBLIC_OLD};
    use crate::clock::{ManualClock, WallClock};
    use crate::files::{MemFile, MemFs};

    /// 2026-11-24T00:00:00Z.
    const START: i64 = 1_795_478_400;

    fn paused_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime")
    }

    fn mem_fs() -> (Arc<ManualClock>, MemFs) {
        let clock = Arc::new(ManualClock::new(UnixTime(START)));
        (clock.clone(), MemFs::new(clock))
    }

    /// Every file with its contents, mode and time.
    fn snapshot(fs: &MemFs) -> Vec<(PathBuf, Option<MemFile>)> {
        fs.paths()
            .into_iter()
            .map(|path| {
                let file = fs.file(&path);
                (path, file)
            })
            .collect()
    }

    #[test]
    fn lock_names_are_cfs_lock_files() {
        assert_eq!(file_lock_name("user.cfg"), USER_CFG);
        assert_eq!(file_lock_name("priv/shadow.cfg"), SHADOW_CFG);
        assert_eq!(file_lock_name("/etc/pve/priv/token.cfg"), TOKEN_CFG);
        assert_eq!(
            lock_path(&Root::new("/srv/node1"), AUTHKEY),
            Path::new("/srv/node1/etc/pve/priv/lock/authkey")
        );
    }

    #[test]
    fn the_lock_directory_is_made_private() {
        let (_, fs) = mem_fs();
        let ran = with_lock_blocking(&fs, &Root::default(), USER_CFG, LOCK_TIMEOUT, || 7);
        assert_eq!(ran.expect("free"), 7);
        assert_eq!(fs.dir_mode(Path::new("/etc/pve/priv")), Some(0o700));
        assert_eq!(fs.dir_mode(Path::new(LOCK_DIR)), Some(0o700));
        assert_eq!(fs.dir_mode(Path::new("/etc/pve")), Some(0o755));
        for bad in ["", ".", "..", "a/b"] {
            let error = with_lock_blocking(&fs, &Root::default(), bad, LOCK_TIMEOUT, || ())
                .expect_err("not a name");
            assert!(matches!(error, LockError::BadName(_)), "{error}");
        }
    }

    /// The other node's lock is held: the blocking writer waits the whole (short) timeout,
    /// then fails with Proxmox's message naming the lock file, without running its code.
    #[test]
    fn a_held_lock_times_out_with_proxmox_message_and_runs_nothing() {
        let (_, node1) = mem_fs();
        let node2 = node1.clone();
        let root = Root::default();
        let held = node1
            .try_lock(&lock_path(&root, USER_CFG))
            .expect("lock")
            .expect("free");
        let timeout = Duration::from_millis(100);
        let start = std::time::Instant::now();
        let error = with_lock_blocking(&node2, &root, USER_CFG, timeout, || {
            panic!("ran without the lock")
        })
        .expect_err("held");
        assert!(start.elapsed() >= timeout);
        assert_eq!(
            error.to_string(),
            "cfs-lock 'file-user_cfg' error: got lock request timeout \
             (/etc/pve/priv/lock/file-user_cfg still held by another writer after 100ms)"
        );
        drop(held);
        assert!(with_lock_blocking(&node2, &root, USER_CFG, timeout, || ()).is_ok());
    }

    /// Two "nodes" (threads over clones of one MemFs) each add 1 to a shared counter file
    /// 50 times: with the lock no increment is lost.
    #[test]
    fn blocking_writers_never_lose_an_update() {
        let (_, fs) = mem_fs();
        let counter = Path::new("/etc/pve/counter");
        let root = Root::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let fs = fs.clone();
                let root = root.clone();
                scope.spawn(move || {
                    for _ in 0..50 {
                        with_lock_blocking(&fs, &root, "counter", LOCK_TIMEOUT, || {
                            let n: u32 = fs
                                .read(counter, 16)
                                .expect("read")
                                .map(|b| String::from_utf8(b).expect("text").parse().expect("n"))
                                .unwrap_or(0);
                            std::thread::yield_now();
                            fs.write_atomic(
                                counter,
                                (n + 1).to_string().as_bytes(),
                                crate::files::Access::Shared,
                            )
                            .expect("write");
                        })
                        .expect("lock");
                    }
                });
            }
        });
        assert_eq!(fs.read(counter, 16).expect("read"), Some(b"200".to_vec()));
    }

    /// The async writer waits on the event loop (another task runs meanwhile), gets the lock
    /// when it is released, and times out by tokio's (here paused) clock.
    #[test]
    fn the_async_lock_waits_without_blocking_the_event_loop() {
        let (_, fs) = mem_fs();
        let root = Root::default();
        paused_runtime().block_on(async {
            let held = fs
                .try_lock(&lock_path(&root, AUTHKEY))
                .expect("lock")
                .expect("free");
            let ticks = Rc::new(Cell::new(0));
            let local = tokio::task::LocalSet::new();
            let counter = Rc::clone(&ticks);
            local.spawn_local(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    counter.set(counter.get() + 1);
                }
            });
            let start = tokio::time::Instant::now();
            let error = local
                .run_until(with_lock(&fs, &root, AUTHKEY, LOCK_TIMEOUT, || async {
                    panic!("ran without the lock")
                }))
                .await
                .expect_err("held");
            assert_eq!(start.elapsed(), LOCK_TIMEOUT);
            assert!(ticks.get() >= 9, "the event loop ran: {}", ticks.get());
            assert!(
                error
                    .to_string()
                    .starts_with("cfs-lock 'authkey' error: got lock request timeout"),
                "{error}"
            );
            // Released half-way through the wait: taken then.
            let release = async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(held);
            };
            let start = tokio::time::Instant::now();
            let (_, got) = tokio::join!(
                release,
                with_lock(&fs, &root, AUTHKEY, LOCK_TIMEOUT, || async {
                    tokio::time::Instant::now()
                })
            );
            let waited = got.expect("released") - start;
            assert!(
                waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
                "{waited:?}"
            );
        });
    }

    /// Two pvedaemons (nodes) over one shared /etc/pve find the key pair due at the same
    /// instant: one rotates, the other re-reads under the lock and signs with the new key.
    #[test]
    fn two_pvedaemons_sharing_etc_pve_rotate_once() {
        let (clock, fs) = mem_fs();
        let root = Root::default();
        authkey::ensure_keys(&fs, &root).expect("keys");
        let first_public = fs.file(Path::new(AUTHKEY_PUBLIC)).expect("pub").bytes;
        let node1 = AccessFiles::new(Rc::new(fs.clone()), root.clone());
        let node2 = AccessFiles::new(Rc::new(fs.clone()), root.clone());
        clock.advance(AUTHKEY_LIFETIME);
        let now = clock.now();
        let (key1, key2) = paused_runtime().block_on(async {
            tokio::join!(
                node1.signing_key(now, Quorum::Quorate),
                node2.signing_key(now, Quorum::Quorate)
            )
        });
        let public = |key: corral_core::auth::keys::SigningKey| key.public_pem().expect("pem");
        let (key1, key2) = (public(key1.expect("node1")), public(key2.expect("node2")));
        assert_eq!(key1, key2, "both sign with the one new key");
        assert_ne!(key1, first_public, "rotated");
        assert_eq!(fs.file(Path::new(AUTHKEY_PUBLIC)).expect("pub").bytes, key1);
        assert_eq!(
            fs.file(Path::new(AUTHKEY_PUBLIC_OLD)).expect("old").bytes,
            first_public,
            "rotated once: the old key is the one that signed the tickets in use"
        );
    }

    /// A key pair due while another node holds the authkey lock past the timeout: the login
    /// fails with an error naming the lock, and nothing is written.
    #[test]
    fn a_rotation_that_cannot_get_the_lock_fails_and_writes_nothing() {
        let (clock, fs) = mem_fs();
        let root = Root::default();
        authkey::ensure_keys(&fs, &root).expect("keys");
        clock.advance(AUTHKEY_LIFETIME);
        let before = snapshot(&fs);
        let _other_node = fs
            .try_lock(&lock_path(&root, AUTHKEY))
            .expect("lock")
            .expect("free");
        let daemon = AccessFiles::new(Rc::new(fs.clone()), root.clone());
        let error = paused_runtime()
            .block_on(daemon.signing_key(clock.now(), Quorum::Quorate))
            .expect_err("lock held");
        assert_eq!(
            error.to_string(),
            "cfs-lock 'authkey' error: got lock request timeout \
             (/etc/pve/priv/lock/authkey still held by another writer after 10s)"
        );
        assert_eq!(snapshot(&fs), before, "nothing written");
        assert!(fs.file(Path::new(AUTHKEY_PRIVATE)).is_some());
    }
}
