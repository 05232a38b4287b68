//! The access-control files a daemon reads on requests, kept parsed and re-read when they may
//! have changed: `user.cfg`, the ticket keys, the CSRF secret, `domains.cfg`, and (pvedaemon
//! only) `priv/token.cfg`, `priv/shadow.cfg` and `priv/tfa.cfg`; and the cluster's membership,
//! `corosync.conf`.
//!
//! Each file is re-read at most once per [`AccessFiles::ttl`] (default [`CACHE_TTL`]), so an
//! edit (`corral user add`, a key rotation) takes effect within that time without a restart;
//! Proxmox's pmxcfs gives the same effect through its version counter. A file that cannot be
//! read keeps the last good copy and is logged, once per TTL. Two exceptions make a key
//! rotation take effect at once: pvedaemon drops its keys when it renews them
//! ([`AccessFiles::signing_key`]), and a ticket whose signature matches no cached key is checked
//! again with the keys on disk when `authkey.pub` changed ([`AccessFiles::verify_with_reload`]).
//!
//! In the line-based files (`user.cfg`, `priv/shadow.cfg`, `priv/token.cfg`) the bad bytes of a
//! line that is not UTF-8 are read as U+FFFD, with a warning naming the line: a stray byte in a
//! comment costs nothing, one in a name makes that line malformed (skipped, as any other).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use corral_core::access::{Domains, Parsed, Shadow, TfaConfig, TokenSecrets, UserConfig};
use corral_core::auth::csrf::CsrfSecret;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::keys::{PublicKeys, SigningKey};
use corral_core::auth::ticket::TicketError;
use corral_core::cluster::corosync::{self, Membership};
use corral_core::time::UnixTime;
use tokio::time::Instant;

use crate::authkey::{self, AuthKeyError, KeyPairState};
use crate::files::{self, CONFIG_LEN_MAX, Files, Root};
use crate::offload::Offload;

/// What an unreadable `domains.cfg` means, logged with its error.
const DOMAINS_UNREADABLE: &str =
    "the realms listed are pam and pve; password logins are refused until it can be read";

/// How stale a parsed file may get.
pub const CACHE_TTL: Duration = Duration::from_secs(1);

/// The files, under the node's root, as Proxmox names them.
pub const USER_CFG: &str = "/etc/pve/user.cfg";
pub const DOMAINS_CFG: &str = "/etc/pve/domains.cfg";
pub const TOKEN_CFG: &str = "/etc/pve/priv/token.cfg";
pub const SHADOW_CFG: &str = "/etc/pve/priv/shadow.cfg";
pub const TFA_CFG: &str = "/etc/pve/priv/tfa.cfg";
pub const TIMEZONE: &str = "/etc/timezone";
/// The cluster's members; without it the node is a cluster of one.
pub const COROSYNC_CONF: &str = "/etc/pve/corosync.conf";

/// Most lines that are not UTF-8 named one by one in the log per read of a file; the rest are
/// counted, so a binary file cannot flood the log.
const NOT_UTF8_LINES_LOGGED: usize = 10;

/// Why a request could not be authenticated: what the client is told (Proxmox's messages),
/// and the detail that goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    message: &'static str,
    detail: String,
}

impl AuthFailure {
    pub fn new(message: &'static str, detail: impl Into<String>) -> Self {
        AuthFailure {
            message,
            detail: detail.into(),
        }
    }

    /// Proxmox's answer to every credential that does not check out: `authentication
    /// failure`, whatever the reason (which only the log gets).
    pub fn denied(detail: impl Into<String>) -> Self {
        AuthFailure::new("authentication failure", detail)
    }

    /// `No ticket`, `authentication failure`, …: the status line's text.
    pub fn message(&self) -> &'static str {
        self.message
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// One cached, parsed file.
#[derive(Debug)]
struct Cached<T> {
    value: Option<Rc<T>>,
    /// Why the last read failed, also while a good copy is kept; without one, the answer until
    /// the next read.
    failing: Option<String>,
    /// When the file was last read, successfully or not.
    read_at: Option<Instant>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            value: None,
            failing: None,
            read_at: None,
        }
    }
}

impl<T> Cached<T> {
    /// The cached value (or error) while fresh; otherwise `load` again. A failed load keeps the
    /// old value; without one its error is the answer until the TTL passes. Failures are logged
    /// here, once per read, with `consequence` (what having no copy means).
    fn get(
        &mut self,
        ttl: Duration,
        consequence: &str,
        load: impl FnOnce() -> Result<T, String>,
    ) -> Result<Rc<T>, String> {
        if self.read_at.is_some_and(|at| at.elapsed() < ttl) {
            if let Some(value) = &self.value {
                return Ok(Rc::clone(value));
            }
            if let Some(error) = &self.failing {
                return Err(error.clone());
            }
        }
        self.read_at = Some(Instant::now());
        match load() {
            Ok(value) => {
                let value = Rc::new(value);
                self.value = Some(Rc::clone(&value));
                self.failing = None;
                Ok(value)
            }
            Err(error) => {
                self.failing = Some(error.clone());
                match &self.value {
                    Some(old) => {
                        tracing::warn!("{error}; keeping the last good copy");
                        Ok(Rc::clone(old))
                    }
                    None => {
                        tracing::error!("{error}; {consequence}");
                        Err(error)
                    }
                }
            }
        }
    }

    /// Read again on the next [`Cached::get`], whatever the TTL.
    fn forget(&mut self) {
        self.read_at = None;
    }
}

/// The access files of one node.
#[derive(Debug)]
pub struct AccessFiles {
    files: Rc<dyn Files>,
    root: Root,
    ttl: Duration,
    user: RefCell<Cached<UserConfig>>,
    keys: RefCell<Cached<PublicKeys>>,
    csrf: RefCell<Cached<CsrfSecret>>,
    domains: RefCell<Cached<Domains>>,
    tokens: RefCell<Cached<TokenSecrets>>,
    timezone: RefCell<Cached<String>>,
    membership: RefCell<Cached<Membership>>,
    /// Held while the ticket key pair is renewed, so two logins never write it at once.
    renewing: tokio::sync::Mutex<()>,
    /// The warnings last logged for each file: a file is re-read every [`CACHE_TTL`], and its
    /// unchanged warnings are not logged again each time.
    reported: RefCell<BTreeMap<String, Vec<String>>>,
    /// When a ticket last made [`AccessFiles::verify_with_reload`] read the keys again.
    key_recheck_at: std::cell::Cell<Option<Instant>>,
    /// Where key generation runs.
    offload: std::cell::Cell<Offload>,
}

impl AccessFiles {
    pub fn new(files: Rc<dyn Files>, root: Root) -> Self {
        AccessFiles {
            files,
            root,
            ttl: CACHE_TTL,
            user: RefCell::default(),
            keys: RefCell::default(),
            csrf: RefCell::default(),
            domains: RefCell::default(),
            tokens: RefCell::default(),
            timezone: RefCell::default(),
            membership: RefCell::default(),
            renewing: tokio::sync::Mutex::new(()),
            reported: RefCell::default(),
            key_recheck_at: std::cell::Cell::new(None),
            offload: std::cell::Cell::new(Offload::default()),
        }
    }

    /// Generate keys as `offload` says (set by [`crate::api::ApiService::with_offload`]).
    pub(crate) fn set_offload(&self, offload: Offload) {
        self.offload.set(offload);
    }

    /// The files, for what reads `/etc/pve` outside this cache (node certificates).
    pub(crate) fn files(&self) -> &dyn Files {
        &*self.files
    }

    pub(crate) fn root(&self) -> &Root {
        &self.root
    }

    /// Re-read files at most this often (tests use zero).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn read_text(&self, absolute: &str) -> Result<Option<String>, String> {
        let path = self.root.path(absolute);
        files::read_text(&*self.files, &path, CONFIG_LEN_MAX).map_err(|e| e.to_string())
    }

    /// A line-based file's text; in each line that is not UTF-8 the bad bytes become U+FFFD
    /// (logged), so a stray byte in a comment costs nothing and one in a name makes only that
    /// line malformed.
    fn read_lines(&self, absolute: &str) -> Result<Option<String>, String> {
        let path = self.root.path(absolute);
        let Some(lines) =
            files::read_lines(&*self.files, &path, CONFIG_LEN_MAX).map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let mut warnings: Vec<String> = lines
            .not_utf8
            .iter()
            .take(NOT_UTF8_LINES_LOGGED)
            .map(|line| format!("line {line}: not UTF-8 text; read with U+FFFD for the bad bytes"))
            .collect();
        let more = lines.not_utf8.len().saturating_sub(NOT_UTF8_LINES_LOGGED);
        if more > 0 {
            warnings.push(format!("{more} more lines are not UTF-8 text"));
        }
        self.report(&format!("{absolute} (encoding)"), absolute, warnings);
        Ok(Some(lines.text))
    }

    /// `user.cfg`; a missing file means only root@pam. Malformed lines are logged and skipped.
    pub fn user_config(&self) -> Rc<UserConfig> {
        self.parsed(
            &self.user,
            USER_CFG,
            Self::read_lines,
            UserConfig::parse,
            "only root@pam can log in",
        )
    }

    /// A file read (by `read`) into `T` through its parser, its warnings logged with the file's
    /// name; when it cannot be read (and was never read before), what the parser makes of no
    /// file, and an error logged saying `consequence`.
    fn parsed<T>(
        &self,
        cache: &RefCell<Cached<T>>,
        absolute: &str,
        read: fn(&Self, &str) -> Result<Option<String>, String>,
        parse: fn(Option<&str>) -> Parsed<T>,
        consequence: &str,
    ) -> Rc<T> {
        self.parsed_or_error(cache, absolute, read, parse, consequence)
            .unwrap_or_else(|_| Rc::new(parse(None).config))
    }

    /// [`AccessFiles::parsed`], but a file that cannot be read (and was never read before) is
    /// the error, not what the parser makes of no file.
    fn parsed_or_error<T>(
        &self,
        cache: &RefCell<Cached<T>>,
        absolute: &str,
        read: fn(&Self, &str) -> Result<Option<String>, String>,
        parse: fn(Option<&str>) -> Parsed<T>,
        consequence: &str,
    ) -> Result<Rc<T>, String> {
        cache.borrow_mut().get(self.ttl, consequence, || {
            let text = read(self, absolute)?;
            let parsed = parse(text.as_deref());
            let warnings = parsed.warnings.iter().map(ToString::to_string).collect();
            self.report(absolute, absolute, warnings);
            Ok(parsed.config)
        })
    }

    /// Logs `warnings` about `file` unless they are the ones last logged under `key`.
    fn report(&self, key: &str, file: &str, warnings: Vec<String>) {
        let mut reported = self.reported.borrow_mut();
        if reported.get(key) == Some(&warnings) {
            return;
        }
        for warning in &warnings {
            tracing::warn!("{file}: {warning}");
        }
        reported.insert(key.to_owned(), warnings);
    }

    /// The public keys tickets are verified with, as cached. Verify tickets through
    /// [`AccessFiles::verify_with_reload`], which also sees a rotation younger than the cache.
    pub fn public_keys(&self) -> Result<Rc<PublicKeys>, AuthFailure> {
        let mut cache = self.keys.borrow_mut();
        let previous = cache.value.clone();
        cache
            .get(self.ttl, "no ticket can be verified", || {
                let mut keys = authkey::load_public_keys(&*self.files, &self.root)
                    .map_err(|e| e.to_string())?;
                // Read again every TTL: the signatures already verified stay remembered.
                if let Some(previous) = &previous {
                    keys.keep_memory_of(previous);
                }
                Ok(keys)
            })
            .map_err(AuthFailure::denied)
    }

    /// Runs `verify` (a ticket check) with the public keys. When the signature matches no cached
    /// key and `authkey.pub` has another modification time on disk than the cached key (one
    /// stat), the keys were rotated since they were read: they are read again and `verify` runs
    /// once more. So the first tickets of a new key pass at once, on this daemon and on any
    /// other reading the same files, while a flood of forged tickets costs one stat each.
    ///
    /// The outer error: the keys cannot be read at all; the inner one: the ticket's verdict.
    pub fn verify_with_reload<T>(
        &self,
        verify: impl Fn(&PublicKeys) -> Result<T, TicketError>,
    ) -> Result<Result<T, TicketError>, AuthFailure> {
        let keys = self.public_keys()?;
        let verdict = verify(&keys);
        if !matches!(verdict, Err(TicketError::BadSignature))
            || !self.key_recheck_allowed()
            || !self.keys_changed_on_disk(&keys)
        {
            return Ok(verdict);
        }
        self.key_recheck_at.set(Some(Instant::now()));
        self.forget_public_keys();
        let keys = self.public_keys()?;
        Ok(verify(&keys))
    }

    /// At most one re-read per TTL: while `authkey.pub` is missing or broken its time never
    /// matches the cached key's, and anonymous forged tickets must not make every request read
    /// (and log) it.
    fn key_recheck_allowed(&self) -> bool {
        self.key_recheck_at
            .get()
            .is_none_or(|at| at.elapsed() >= self.ttl)
    }

    /// Whether `authkey.pub` on disk is not the file `keys` were read from. A file that cannot
    /// be checked counts as unchanged: reading it would fail too.
    fn keys_changed_on_disk(&self, keys: &PublicKeys) -> bool {
        let path = self.root.path(authkey::AUTHKEY_PUBLIC);
        self.files
            .modified(&path)
            .is_ok_and(|modified| modified != Some(keys.current.modified()))
    }

    /// Reads the public keys again on their next use: they were just renewed.
    pub fn forget_public_keys(&self) {
        self.keys.borrow_mut().forget();
    }

    /// The key to sign a ticket issued at `now` with (pvedaemon), renewing the key pair first
    /// when it is due or broken (see [`KeyPairState::read`]). The files are read and written on
    /// the calling (event-loop) thread; only the CPU-heavy key generation runs on a blocking
    /// thread.
    ///
    /// Renewals are serialised: within this process a login that finds one due waits for the
    /// one under way, and across processes and nodes sharing `/etc/pve` the renewal holds the
    /// cluster lock `authkey` ([`crate::lock`]) and reads the pair again once it has it (as
    /// Proxmox's `rotate_authkey`), so two never rotate twice or interleave their writes. The
    /// waiters are bounded by the server's connection limit and the lock's timeout.
    pub async fn signing_key(
        &self,
        now: UnixTime,
        quorum: Quorum,
    ) -> Result<SigningKey, AuthKeyError> {
        use crate::lock::{AUTHKEY, LOCK_TIMEOUT, with_lock};
        if let KeyPairState::Ready(key) = self.key_pair_state(now, quorum)? {
            return Ok(key);
        }
        // Logins of this process wait here for the one renewing, then check again, rather than
        // all polling the cluster lock.
        let _renewing = self.renewing.lock().await;
        if let KeyPairState::Ready(key) = self.key_pair_state(now, quorum)? {
            return Ok(key);
        }
        // Another pvedaemon sharing /etc/pve (another node) may be renewing too: the cluster
        // lock, and a fresh look at the files once it is held (Proxmox's `rotate_authkey`).
        let renew = || async {
            let renewal = match self.key_pair_state(now, quorum)? {
                KeyPairState::Ready(key) => {
                    // Renewed elsewhere while this one waited: its keys are new to the cache.
                    self.forget_public_keys();
                    return Ok(key);
                }
                KeyPairState::Renew(renewal) => renewal,
            };
            let new = self
                .offload
                .get()
                .run("key generation", authkey::generate_signing_key)
                .await
                .map_err(|e| AuthKeyError::Task(e.0))??;
            let installed = renewal.install(&*self.files, &self.root, &new);
            // Whatever was written (all of it, or part before a failure) must be seen now: a
            // client that logs in and calls at once must not meet the old keys.
            self.forget_public_keys();
            installed?;
            tracing::info!("made a new ticket key pair: {}", renewal.reason());
            Ok::<_, AuthKeyError>(new)
        };
        with_lock(&*self.files, &self.root, AUTHKEY, LOCK_TIMEOUT, renew).await?
    }

    fn key_pair_state(&self, now: UnixTime, quorum: Quorum) -> Result<KeyPairState, AuthKeyError> {
        KeyPairState::read(&*self.files, &self.root, now, quorum)
    }

    pub fn csrf_secret(&self) -> Result<Rc<CsrfSecret>, AuthFailure> {
        self.csrf
            .borrow_mut()
            .get(self.ttl, "no CSRF token can be checked", || {
                authkey::load_csrf_secret(&*self.files, &self.root).map_err(|e| e.to_string())
            })
            .map_err(AuthFailure::denied)
    }

    /// `domains.cfg`, with `pam` and `pve` always present.
    ///
    /// Read whole (a line that is not UTF-8 makes it unreadable): a skipped line inside a realm
    /// could drop its `tfa` requirement.
    pub fn domains(&self) -> Rc<Domains> {
        self.parsed(
            &self.domains,
            DOMAINS_CFG,
            Self::read_text,
            Domains::parse,
            DOMAINS_UNREADABLE,
        )
    }

    /// `domains.cfg` for a login: a file that exists but cannot be read now is an error, not
    /// the default realms nor the last good copy, since the file may just have been given a
    /// second-factor requirement.
    pub fn domains_for_login(&self) -> Result<Rc<Domains>, String> {
        let domains = self.parsed_or_error(
            &self.domains,
            DOMAINS_CFG,
            Self::read_text,
            Domains::parse,
            DOMAINS_UNREADABLE,
        )?;
        match &self.domains.borrow().failing {
            Some(error) => Err(format!("{error}; password logins are refused")),
            None => Ok(domains),
        }
    }

    /// `priv/token.cfg` (pvedaemon only: root reads it).
    pub fn token_secrets(&self) -> Result<Rc<TokenSecrets>, String> {
        self.tokens
            .borrow_mut()
            .get(self.ttl, "no API token can be checked", || {
                let text = self.read_lines(TOKEN_CFG)?;
                Ok(TokenSecrets::parse(text.as_deref()))
            })
    }

    /// `priv/shadow.cfg`, read on every login.
    pub fn shadow(&self) -> Result<Shadow, String> {
        let text = self.read_lines(SHADOW_CFG)?;
        let parsed = Shadow::parse(text.as_deref());
        let warnings = parsed.warnings.iter().map(ToString::to_string).collect();
        // Read on every login, which anyone can attempt: unchanged warnings are logged once.
        self.report(SHADOW_CFG, SHADOW_CFG, warnings);
        Ok(parsed.config)
    }

    /// `priv/tfa.cfg`, read on every login; unreadable or malformed is an error (never "no TFA").
    pub fn tfa(&self) -> Result<TfaConfig, String> {
        let text = self.read_text(TFA_CFG)?;
        TfaConfig::parse(text.as_deref()).map_err(|e| format!("{TFA_CFG}: {e}"))
    }

    /// The cluster's members from `corosync.conf`, `local` alone when there is none. A file that
    /// does not parse is never half-read: the last good copy stays in use (logged), and without
    /// one the error (naming the file and line) is the answer.
    pub fn membership(&self, local: &str) -> Result<Rc<Membership>, String> {
        self.membership.borrow_mut().get(
            self.ttl,
            "no other node can be reached and the cluster views fail",
            || match self.read_text(COROSYNC_CONF)? {
                Some(text) => corosync::parse(&text).map_err(|e| format!("{COROSYNC_CONF}: {e}")),
                None => Ok(Membership::single(local)),
            },
        )
    }

    /// Read `/etc/timezone` again on the next call (it was just written).
    pub(crate) fn forget_timezone(&self) {
        self.timezone.borrow_mut().forget();
    }

    /// The host's time zone name (`/etc/timezone`), `UTC` when unset or unreadable.
    pub fn timezone(&self) -> Rc<String> {
        let loaded = self
            .timezone
            .borrow_mut()
            .get(self.ttl, "reporting UTC", || {
                let text = self.read_text(TIMEZONE)?.unwrap_or_default();
                let name = text.trim();
                Ok(if name.is_empty() { "UTC" } else { name }.to_owned())
            });
        loaded.unwrap_or_else(|_| Rc::new("UTC".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use corral_core::access::Userid;
    use corral_core::auth::AUTHKEY_LIFETIME;
    use corral_core::auth::ticket::{self, SignDigest, Verified};

    use super::*;
    use crate::authkey::{AUTHKEY_PUBLIC, AUTHKEY_PUBLIC_OLD};
    use crate::clock::{ManualClock, WallClock};
    use crate::files::{Access, MemFs, ReadError, WriteError};
    use crate::testing::logged;

    /// 2026-11-24T00:00:00Z.
    const START: i64 = 1_795_478_400;
    const HOUR: Duration = Duration::from_secs(3600);

    /// A MemFs that counts what is done to each file, and can make one file unreadable.
    #[derive(Debug)]
    struct Counting {
        fs: MemFs,
        reads: Mutex<BTreeMap<PathBuf, usize>>,
        writes: Mutex<BTreeMap<PathBuf, usize>>,
        unreadable: Option<PathBuf>,
    }

    impl Counting {
        fn new(fs: MemFs) -> Counting {
            Counting {
                fs,
                reads: Mutex::default(),
                writes: Mutex::default(),
                unreadable: None,
            }
        }

        fn reads(&self, path: &str) -> usize {
            let reads = self.reads.lock().expect("not poisoned");
            reads.get(Path::new(path)).copied().unwrap_or(0)
        }

        fn writes(&self, path: &str) -> usize {
            let writes = self.writes.lock().expect("not poisoned");
            writes.get(Path::new(path)).copied().unwrap_or(0)
        }
    }

    impl Files for Counting {
        fn read(&self, path: &Path, len_max: u64) -> Result<Option<Vec<u8>>, ReadError> {
            *self
                .reads
                .lock()
                .expect("not poisoned")
                .entry(path.to_owned())
                .or_default() += 1;
            if self.unreadable.as_deref() == Some(path) {
                return Err(ReadError::Io {
                    path: path.to_owned(),
                    cause: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                });
            }
            self.fs.read(path, len_max)
        }

        fn is_file(&self, path: &Path) -> bool {
            self.fs.is_file(path)
        }

        fn modified(&self, path: &Path) -> Result<Option<UnixTime>, ReadError> {
            self.fs.modified(path)
        }

        fn write_atomic(
            &self,
            path: &Path,
            bytes: &[u8],
            access: Access,
        ) -> Result<(), WriteError> {
            *self
                .writes
                .lock()
                .expect("not poisoned")
                .entry(path.to_owned())
                .or_default() += 1;
            self.fs.write_atomic(path, bytes, access)
        }

        fn create_dir_all(&self, path: &Path, mode: u32) -> Result<(), WriteError> {
            self.fs.create_dir_all(path, mode)
        }

        fn remove_file(&self, path: &Path) -> Result<(), WriteError> {
            self.fs.remove_file(path)
        }
    }

    struct Node {
        clock: Arc<ManualClock>,
        fs: MemFs,
    }

    impl Node {
        /// A node whose ticket keys pvedaemon made at START.
        fn with_keys() -> Node {
            let clock = Arc::new(ManualClock::new(UnixTime(START)));
            let fs = MemFs::new(clock.clone());
            authkey::ensure_keys(&fs, &Root::default()).expect("keys");
            Node { clock, fs }
        }

        fn now(&self) -> UnixTime {
            self.clock.now()
        }

        fn advance(&self, secs: i64) {
            self.clock.advance(secs);
        }

        /// The files as one daemon sees them, cached for an hour (so only what this module
        /// adds to the TTL can make a change visible).
        fn daemon(&self) -> (Rc<Counting>, AccessFiles) {
            let files = Rc::new(Counting::new(self.fs.clone()));
            let access = AccessFiles::new(files.clone(), Root::default()).with_ttl(HOUR);
            (files, access)
        }

        /// pvedaemon issuing a ticket at the current time (renewing the keys when due).
        fn issue(&self, daemon: &AccessFiles, userid: &str) -> String {
            let key = block_on(daemon.signing_key(self.now(), Quorum::Quorate)).expect("key");
            ticket::sign(userid, self.now(), &key, SignDigest::Sha256).expect("sign")
        }

        fn verify(&self, daemon: &AccessFiles, text: &str) -> Result<Verified, TicketError> {
            let now = self.now();
            daemon
                .verify_with_reload(|keys| ticket::verify(text, keys, now, Quorum::Quorate))
                .expect("keys readable")
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    fn userid(text: &str) -> Userid {
        Userid::parse(text).expect("user id")
    }

    /// A Latin-1 byte (here in comments) costs nothing: the group still restricts its member,
    /// the other lines load, and the log names the line.
    #[test]
    fn a_user_cfg_line_that_is_not_utf8_still_counts() {
        let node = Node::with_keys();
        node.fs.insert(
            USER_CFG,
            b"user:root@pam:1:0:::\nuser:alice@pve:1:0:B\xe9la:::\n\
              group:ops:alice@pve:Op\xe9rateurs:\n\
              acl:1:/:alice@pve:PVEAuditor:\nacl:1:/vms/101:@ops:NoAccess:\n"
                .to_vec(),
            0o640,
        );
        let (_, access) = node.daemon();
        let (config, log) = logged(|| access.user_config());
        assert!(config.user(&userid("root@pam")).is_some());
        let alice = corral_core::access::Authid::parse("alice@pve").expect("id");
        assert!(config.check(&alice, "/", &["Sys.Audit"], false), "{log}");
        assert!(
            !config.check(&alice, "/vms/101", &["VM.Audit"], false),
            "the group's NoAccess still applies: {log}"
        );
        for line in [2, 3] {
            let warning = format!(
                "/etc/pve/user.cfg: line {line}: not UTF-8 text; read with U+FFFD for the bad bytes"
            );
            assert!(log.contains(&warning), "{log}");
        }
        assert!(!log.contains("only root@pam"), "{log}");
    }

    /// The file is re-read every TTL: the same warnings are not logged again each time, new
    /// ones are.
    #[test]
    fn the_same_warnings_are_logged_once() {
        let node = Node::with_keys();
        node.fs.insert(
            USER_CFG,
            b"user:alice@pve:1:0:::
bogus line
user:b\xe9la@pve:1:0:::\n"
                .to_vec(),
            0o640,
        );
        let access =
            AccessFiles::new(Rc::new(node.fs.clone()), Root::default()).with_ttl(Duration::ZERO);
        let (_, log) = logged(|| {
            access.user_config();
            access.user_config();
        });
        assert_eq!(log.matches("line 2:").count(), 1, "{log}");
        assert_eq!(log.matches("line 3: not UTF-8").count(), 1, "{log}");
        node.fs.insert(
            USER_CFG,
            b"user:alice@pve:1:0:::
other junk
"
            .to_vec(),
            0o640,
        );
        let (_, log) = logged(|| {
            access.user_config();
            access.user_config();
        });
        assert_eq!(log.matches("line 2:").count(), 1, "{log}");
    }

    #[test]
    fn shadow_and_token_files_skip_a_line_that_is_not_utf8_too() {
        let node = Node::with_keys();
        let token = corral_core::access::Tokenid::parse("alice@pve!tok").expect("token");
        node.fs.insert(
            TOKEN_CFG,
            b"bob@pve!xyz s\xff\nalice@pve!tok secret\n".to_vec(),
            0o600,
        );
        node.fs.insert(
            SHADOW_CFG,
            b"b\xffb@pve:$5$x$y:\nalice@pve:$5$salt$hash:\n".to_vec(),
            0o600,
        );
        let (_, access) = node.daemon();
        let ((secrets, shadow), log) = logged(|| {
            (
                access.token_secrets().expect("tokens"),
                access.shadow().expect("shadow"),
            )
        });
        assert!(secrets.verify(&token, "secret"));
        assert_eq!(shadow.hash(&userid("alice@pve")), Some("$5$salt$hash"));
        assert!(
            log.contains("/etc/pve/priv/token.cfg: line 1: not UTF-8"),
            "{log}"
        );
        assert!(
            log.contains("/etc/pve/priv/shadow.cfg: line 1: not UTF-8"),
            "{log}"
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_is_tried_and_logged_once_per_ttl() {
        let node = Node::with_keys();
        let mut files = Counting::new(node.fs.clone());
        files.unreadable = Some(PathBuf::from(USER_CFG));
        let files = Rc::new(files);
        let access = AccessFiles::new(files.clone(), Root::default()).with_ttl(HOUR);
        let (configs, log) = logged(|| (0..5).map(|_| access.user_config()).collect::<Vec<_>>());
        assert!(
            configs
                .iter()
                .all(|c| c.user(&userid("root@pam")).is_some())
        );
        assert_eq!(files.reads(USER_CFG), 1, "read once within the TTL");
        assert_eq!(log.matches("only root@pam can log in").count(), 1, "{log}");

        // With a TTL of zero every use tries again.
        let access = AccessFiles::new(files.clone(), Root::default()).with_ttl(Duration::ZERO);
        for _ in 0..3 {
            access.user_config();
        }
        assert_eq!(files.reads(USER_CFG), 4);
    }

    #[test]
    fn a_missing_key_is_an_error_remembered_for_the_ttl() {
        let node = Node::with_keys();
        node.fs.remove_file(Path::new(AUTHKEY_PUBLIC)).expect("rm");
        let (files, access) = node.daemon();
        for _ in 0..3 {
            let failure = access.public_keys().expect_err("no key");
            assert_eq!(
                failure.detail(),
                "/etc/pve/authkey.pub does not exist (pvedaemon creates it at start)"
            );
        }
        assert_eq!(files.reads(AUTHKEY_PUBLIC), 0, "missing: nothing to read");
        assert_eq!(files.reads(AUTHKEY_PUBLIC_OLD), 0);
    }

    /// Finding C: pvedaemon rotates at the first login after 24 h; the client calls at once,
    /// through pveproxy (another process whose keys were cached a moment ago) or pvedaemon.
    #[test]
    fn the_first_ticket_after_a_rotation_is_accepted_at_once_everywhere() {
        let node = Node::with_keys();
        let (_, pvedaemon) = node.daemon();
        let (proxy_files, pveproxy) = node.daemon();
        node.advance(AUTHKEY_LIFETIME - 10);
        let before = node.issue(&pvedaemon, "alice@pve");
        // Both daemons have the keys cached (for an hour, in this test).
        assert_eq!(
            node.verify(&pveproxy, &before).expect("valid").userid,
            "alice@pve"
        );
        assert_eq!(
            node.verify(&pvedaemon, &before).expect("valid").userid,
            "alice@pve"
        );
        let reads_before = proxy_files.reads(AUTHKEY_PUBLIC);

        node.advance(10);
        let after = node.issue(&pvedaemon, "bob@pve");
        assert!(node.fs.is_file(Path::new(AUTHKEY_PUBLIC_OLD)), "rotated");
        // The cached keys alone would refuse it…
        let stale = pveproxy.public_keys().expect("cached");
        assert!(matches!(
            ticket::verify(&after, &stale, node.now(), Quorum::Quorate),
            Err(TicketError::BadSignature)
        ));
        // …but pveproxy sees authkey.pub changed and reads it again, once.
        assert_eq!(
            node.verify(&pveproxy, &after).expect("valid").userid,
            "bob@pve"
        );
        assert_eq!(proxy_files.reads(AUTHKEY_PUBLIC), reads_before + 1);
        assert_eq!(
            node.verify(&pveproxy, &after).expect("valid").userid,
            "bob@pve"
        );
        assert_eq!(proxy_files.reads(AUTHKEY_PUBLIC), reads_before + 1);
        // pvedaemon dropped its keys when it rotated: no stat needed.
        assert_eq!(
            node.verify(&pvedaemon, &after).expect("valid").userid,
            "bob@pve"
        );
        // Tickets from before the rotation still work on both.
        assert_eq!(
            node.verify(&pveproxy, &before).expect("valid").userid,
            "alice@pve"
        );
        assert_eq!(
            node.verify(&pvedaemon, &before).expect("valid").userid,
            "alice@pve"
        );
    }

    #[test]
    fn forged_tickets_cost_no_key_reads_while_the_keys_are_unchanged() {
        let node = Node::with_keys();
        let (files, pveproxy) = node.daemon();
        node.advance(60);
        let stranger = authkey::generate_signing_key().expect("key");
        let forged =
            ticket::sign("root@pam", node.now(), &stranger, SignDigest::Sha256).expect("sign");
        for _ in 0..5 {
            assert!(matches!(
                node.verify(&pveproxy, &forged),
                Err(TicketError::BadSignature)
            ));
        }
        assert_eq!(files.reads(AUTHKEY_PUBLIC), 1, "the first (cold) read only");
    }

    /// A broken `authkey.pub` never matches the cached key's time: forged tickets make the keys
    /// be read again at most once per TTL (here an hour), not on every request.
    #[test]
    fn forged_tickets_cost_one_key_read_per_ttl_while_authkey_pub_is_broken() {
        let node = Node::with_keys();
        let (files, pveproxy) = node.daemon();
        node.advance(60);
        let stranger = authkey::generate_signing_key().expect("key");
        let forged =
            ticket::sign("root@pam", node.now(), &stranger, SignDigest::Sha256).expect("sign");
        assert!(node.verify(&pveproxy, &forged).is_err());
        node.fs.insert(AUTHKEY_PUBLIC, "not a key", 0o640);
        for _ in 0..5 {
            assert!(matches!(
                node.verify(&pveproxy, &forged),
                Err(TicketError::BadSignature)
            ));
        }
        assert_eq!(
            files.reads(AUTHKEY_PUBLIC),
            2,
            "the cold read and one re-read"
        );
    }

    /// Finding E: logins that find a rotation due at the same moment rotate once.
    #[test]
    fn concurrent_logins_rotate_the_key_pair_once() {
        let node = Node::with_keys();
        let first_public = node.fs.file(Path::new(AUTHKEY_PUBLIC)).expect("pub").bytes;
        let (files, pvedaemon) = node.daemon();
        node.advance(AUTHKEY_LIFETIME);
        let now = node.now();
        let login = || pvedaemon.signing_key(now, Quorum::Quorate);
        let (a, b, c) = block_on(async { tokio::join!(login(), login(), login()) });
        let public = |key: SigningKey| key.public_pem().expect("pem");
        let a = public(a.expect("a"));
        assert_eq!(a, public(b.expect("b")));
        assert_eq!(a, public(c.expect("c")));
        assert_eq!(files.writes(AUTHKEY_PUBLIC), 1);
        assert_eq!(files.writes(AUTHKEY_PUBLIC_OLD), 1);
        assert_eq!(files.writes(authkey::AUTHKEY_PRIVATE), 1);
        assert_eq!(
            node.fs.file(Path::new(AUTHKEY_PUBLIC)).expect("pub").bytes,
            a
        );
        assert_eq!(
            node.fs
                .file(Path::new(AUTHKEY_PUBLIC_OLD))
                .expect("old")
                .bytes,
            first_public,
            "the old key is the one that signed the tickets still in use"
        );
    }

    /// Finding E: a pair left inconsistent (authkey.pub replaced, authkey.key not) is repaired
    /// by the next login instead of issuing tickets nobody accepts.
    #[test]
    fn a_login_repairs_a_key_pair_that_does_not_match() {
        let node = Node::with_keys();
        let (_, pvedaemon) = node.daemon();
        let stray = authkey::generate_signing_key().expect("key");
        node.fs.insert(
            AUTHKEY_PUBLIC,
            stray.public_pem().expect("pem"),
            authkey::SHARED_MODE,
        );
        node.advance(60);
        let (ticket, log) = logged(|| node.issue(&pvedaemon, "alice@pve"));
        assert!(
            log.contains("made a new ticket key pair: /etc/pve/priv/authkey.key does not belong to /etc/pve/authkey.pub"),
            "{log}"
        );
        let (_, pveproxy) = node.daemon();
        assert_eq!(
            node.verify(&pveproxy, &ticket).expect("valid").userid,
            "alice@pve"
        );
    }
}
