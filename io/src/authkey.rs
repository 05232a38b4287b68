//! The key files behind tickets and CSRF tokens, read and written through the [`Files`] seam.
//!
//! | file | what | mode |
//! |---|---|---|
//! | `/etc/pve/priv/authkey.key` | RSA-2048 private key that signs tickets | 0600 (dir `/etc/pve/priv` 0700) |
//! | `/etc/pve/authkey.pub` | its public key, SPKI PEM | 0640, group `www-data` |
//! | `/etc/pve/authkey.pub.old` | the public key before the last rotation | 0640, group `www-data` |
//! | `/etc/pve/pve-www.key` | the CSRF secret's source: an RSA-2048 private key PEM, as `openssl genrsa` writes it | 0640, group `www-data` |
//!
//! On Proxmox the 0640 files are `root:www-data`, so pveproxy (running as `www-data`) verifies
//! tickets and CSRF tokens while only root (pvedaemon) can sign. pmxcfs shows that ownership by
//! itself; elsewhere every write gives them the group ([`Access::Shared`]), so a rotation never
//! leaves pveproxy with a key it cannot read.
//!
//! Creating and rotating the key pair happens under the cluster-wide `authkey` lock
//! ([`lock::AUTHKEY`]), with the files read again once it is held, so two pvedaemons sharing
//! `/etc/pve` (two nodes) never rotate twice or interleave their writes.
//!
//! Key generation (up to hundreds of milliseconds) and RSA signing are CPU work. The async
//! daemon reads and writes the files on its event loop and generates and signs on a blocking
//! thread ([`KeyPairState`], [`generate_signing_key`], `AccessFiles::signing_key`);
//! [`ensure_keys`], [`renew_if_needed`] and [`issue_ticket`] do all of it in one call, for
//! start-up and tests.

use std::fmt;
use std::path::{Path, PathBuf};

use corral_core::auth::csrf::{CsrfError, CsrfSecret};
use corral_core::auth::keyage::{Quorum, RotationReason, rotation_due};
use corral_core::auth::keys::{KeyError, PublicKeys, SigningKey, VerifyKey};
use corral_core::auth::ticket::{self, SignDigest, TicketError};
use corral_core::time::UnixTime;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;

use crate::files::{Access, Files, ReadError, Root, WriteError};
use crate::lock::{self, LockError};

/// The ticket signing key.
pub const AUTHKEY_PRIVATE: &str = "/etc/pve/priv/authkey.key";
/// The ticket verification key.
pub const AUTHKEY_PUBLIC: &str = "/etc/pve/authkey.pub";
/// The verification key before the last rotation.
pub const AUTHKEY_PUBLIC_OLD: &str = "/etc/pve/authkey.pub.old";
/// The file the CSRF secret is derived from.
pub const WWW_KEY: &str = "/etc/pve/pve-www.key";
/// The directory of root-only cluster files.
pub const PRIVATE_DIR: &str = "/etc/pve/priv";

/// Mode of files only root may read (`authkey.key`).
pub const PRIVATE_MODE: u32 = Access::Private.mode();
/// Mode of files root writes and the `www-data` group reads.
pub const SHARED_MODE: u32 = Access::Shared.mode();
/// Mode of `/etc/pve/priv`.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Size of generated RSA keys, as Proxmox (`openssl genrsa 2048`, `generate_key(2048)`).
pub const KEY_BITS: u32 = 2048;

/// The largest key file read: a 2048-bit PEM key is under 2 KiB, a 16384-bit one under 13 KiB.
pub const KEY_FILE_LEN_MAX: u64 = 64 * 1024;

/// A key file that could not be read, parsed, made or written.
#[derive(Debug, thiserror::Error)]
pub enum AuthKeyError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{} does not exist (pvedaemon creates it at start)", path.display())]
    Missing { path: PathBuf },
    // The cause is part of the message, deliberately not a source (see files::ReadError).
    #[error("{}: {cause}", path.display())]
    Key { path: PathBuf, cause: KeyError },
    #[error("{}: {cause}", path.display())]
    Csrf { path: PathBuf, cause: CsrfError },
    #[error("cannot generate an RSA key: {0}")]
    Generate(#[source] openssl::error::ErrorStack),
    #[error("the {0} task on a blocking thread failed")]
    Task(&'static str),
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// The `authkey` lock was not free within the timeout (another node is writing the keys).
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// What [`ensure_keys`] had to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Created {
    /// The ticket key pair (`authkey.key` and `authkey.pub`).
    pub authkey: bool,
    /// `pve-www.key`.
    pub www_key: bool,
}

/// Creates the ticket key pair when `authkey.key` is missing, and `pve-www.key` when missing,
/// as pvedaemon does at start (Proxmox's `gen_auth_key` and `gen_pve_www_key`). Existing files
/// are left alone, even an `authkey.pub` that does not match `authkey.key` (the next ticket
/// renews the pair then, see [`KeyPairState`]).
///
/// Anything missing is made under the `authkey` lock (as `gen_auth_key`; Proxmox makes
/// `pve-www.key` without one), checked again once the lock is held: nodes starting together
/// make each file once. Waits for the lock on the calling thread (start-up).
pub fn ensure_keys(files: &dyn Files, root: &Root) -> Result<Created, AuthKeyError> {
    let www_key = root.path(WWW_KEY);
    if files.is_file(&root.path(AUTHKEY_PRIVATE)) && files.is_file(&www_key) {
        return Ok(Created::default());
    }
    lock::with_lock_blocking(files, root, lock::AUTHKEY, lock::LOCK_TIMEOUT, || {
        let mut created = Created::default();
        if !files.is_file(&root.path(AUTHKEY_PRIVATE)) {
            let key = generate_signing_key()?;
            write_pair(files, root, &key)?;
            created.authkey = true;
        }
        if !files.is_file(&www_key) {
            files.write_atomic(&www_key, &generate_www_key()?, Access::Shared)?;
            created.www_key = true;
        }
        Ok(created)
    })?
}

/// Why the ticket key pair must be replaced before the next ticket is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalReason {
    /// Rotation is due ([`rotation_due`]): no public key, 24 h old, or dated in the future.
    Rotation(RotationReason),
    /// `authkey.key` is missing or not a usable key (the cause): nothing could sign.
    NoSigningKey(String),
    /// `authkey.key` does not belong to `authkey.pub` (a rotation interrupted between its two
    /// writes, or a file replaced by hand): no node would accept what it signs.
    Mismatch,
}

impl fmt::Display for RenewalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenewalReason::Rotation(RotationReason::Missing) => {
                write!(f, "{AUTHKEY_PUBLIC} does not exist")
            }
            RenewalReason::Rotation(RotationReason::Expired) => {
                write!(f, "the key pair is 24 hours old")
            }
            RenewalReason::Rotation(RotationReason::FromTheFuture) => {
                write!(f, "{AUTHKEY_PUBLIC} is dated in the future")
            }
            RenewalReason::NoSigningKey(cause) => write!(f, "{AUTHKEY_PRIVATE}: {cause}"),
            RenewalReason::Mismatch => write!(
                f,
                "{AUTHKEY_PRIVATE} does not belong to {AUTHKEY_PUBLIC}, so nothing it signs \
                 would be accepted"
            ),
        }
    }
}

/// The ticket key pair as the files hold it: read with two stats, two small reads and PEM
/// parsing, nothing CPU-heavy, so the event loop may do it.
#[derive(Debug)]
pub enum KeyPairState {
    /// `authkey.key` signs, and `authkey.pub` verifies what it signs.
    Ready(SigningKey),
    /// A new pair is needed first.
    Renew(Renewal),
}

impl KeyPairState {
    /// Reads the pair and decides, as Proxmox's `check_authkey` before each ticket, and also
    /// checks that the private key belongs to the public key.
    pub fn read(
        files: &dyn Files,
        root: &Root,
        now: UnixTime,
        quorum: Quorum,
    ) -> Result<KeyPairState, AuthKeyError> {
        let public_path = root.path(AUTHKEY_PUBLIC);
        let due = rotation_due(
            now,
            files.modified(&public_path)?,
            files.modified(&root.path(AUTHKEY_PUBLIC_OLD))?,
            quorum,
        );
        // A broken public key is worth neither keeping nor comparing (Proxmox also keeps only a
        // key it could read).
        let public = files
            .read(&public_path, KEY_FILE_LEN_MAX)?
            .filter(|pem| VerifyKey::from_pem(pem, UnixTime(0)).is_ok());
        let signing = read_signing_key(files, root)?;
        let signing_public = match &signing {
            Ok(key) => Some(
                key.public_pem()
                    .map_err(|cause| key_error(&root.path(AUTHKEY_PRIVATE), cause))?,
            ),
            Err(_) => None,
        };
        let matches = public
            .as_deref()
            .zip(signing_public.as_deref())
            .is_some_and(|(public, signing)| same_public_key(public, signing));
        let reason = match (due, signing) {
            (Some(reason), _) => RenewalReason::Rotation(reason),
            (None, Err(cause)) => RenewalReason::NoSigningKey(cause),
            (None, Ok(key)) if matches => return Ok(KeyPairState::Ready(key)),
            (None, Ok(_)) => RenewalReason::Mismatch,
        };
        // Keep what verifies the tickets issued lately: those were signed with authkey.key,
        // whatever authkey.pub says (it is kept verbatim when they agree).
        let keep_as_old = if matches {
            public
        } else {
            signing_public.or(public)
        };
        Ok(KeyPairState::Renew(Renewal {
            reason,
            keep_as_old,
        }))
    }
}

/// A key pair renewal to make: [`Renewal::install`] a key from [`generate_signing_key`].
#[derive(Debug)]
pub struct Renewal {
    reason: RenewalReason,
    /// The public key for `authkey.pub.old`, PEM.
    keep_as_old: Option<Vec<u8>>,
}

impl Renewal {
    pub fn reason(&self) -> &RenewalReason {
        &self.reason
    }

    /// Writes the new pair as Proxmox's `rotate_authkey`: the public key of the tickets issued
    /// lately becomes `authkey.pub.old`, then the new `authkey.pub`, then `authkey.key`.
    ///
    /// The caller holds the `authkey` lock ([`lock::AUTHKEY`]) and made this renewal with
    /// [`KeyPairState::read`] after taking it (as Proxmox re-checks under the lock), so no other
    /// process or node renews meanwhile ([`renew_if_needed`], `AccessFiles::signing_key`).
    pub fn install(
        &self,
        files: &dyn Files,
        root: &Root,
        new: &SigningKey,
    ) -> Result<(), AuthKeyError> {
        let public = root.path(AUTHKEY_PUBLIC);
        if let Some(previous) = &self.keep_as_old {
            files.write_atomic(&root.path(AUTHKEY_PUBLIC_OLD), previous, Access::Shared)?;
        }
        let new_public = new
            .public_pem()
            .map_err(|cause| key_error(&public, cause))?;
        if let Err(error) = files.write_atomic(&public, &new_public, Access::Shared) {
            if let Some(previous) = &self.keep_as_old {
                // Put the old key back, so tickets keep working with the old private key.
                files.write_atomic(&public, previous, Access::Shared)?;
            }
            return Err(error.into());
        }
        if let Err(error) = write_private(files, root, new) {
            // A public key without its private key would accept no ticket it could sign: remove
            // both so the next attempt starts over (as Proxmox does).
            let _ = files.remove_file(&public);
            let _ = files.remove_file(&root.path(AUTHKEY_PRIVATE));
            return Err(error);
        }
        Ok(())
    }
}

/// The key to sign with, renewing the pair first when it is due or broken (see
/// [`KeyPairState::read`]), all on the calling thread; returns why it renewed, if it did.
///
/// A renewal takes the `authkey` lock (waiting for it on this thread, at most
/// [`lock::LOCK_TIMEOUT`]) and reads the pair again under it: when another process or node
/// renewed it meanwhile, its key is used.
pub fn renew_if_needed(
    files: &dyn Files,
    root: &Root,
    now: UnixTime,
    quorum: Quorum,
) -> Result<(SigningKey, Option<RenewalReason>), AuthKeyError> {
    if let KeyPairState::Ready(key) = KeyPairState::read(files, root, now, quorum)? {
        return Ok((key, None));
    }
    lock::with_lock_blocking(files, root, lock::AUTHKEY, lock::LOCK_TIMEOUT, || {
        match KeyPairState::read(files, root, now, quorum)? {
            KeyPairState::Ready(key) => Ok((key, None)),
            KeyPairState::Renew(renewal) => {
                let new = generate_signing_key()?;
                renewal.install(files, root, &new)?;
                Ok((new, Some(renewal.reason)))
            }
        }
    })?
}

/// Issues a ticket for `userid`, renewing the key pair first when due or broken (Proxmox's
/// `assemble_ticket` with `get_privkey`), all on the calling thread.
pub fn issue_ticket(
    files: &dyn Files,
    root: &Root,
    userid: &str,
    now: UnixTime,
    quorum: Quorum,
    digest: SignDigest,
) -> Result<String, AuthKeyError> {
    let (key, _) = renew_if_needed(files, root, now, quorum)?;
    Ok(ticket::sign(userid, now, &key, digest)?)
}

/// The public keys tickets are verified with: `authkey.pub` (required) and
/// `authkey.pub.old` (when present and readable), each with its modification time.
///
/// A broken `authkey.pub.old` is skipped with a warning (as Proxmox skips a key it cannot
/// read): tickets of the current key keep working.
pub fn load_public_keys(files: &dyn Files, root: &Root) -> Result<PublicKeys, AuthKeyError> {
    let public = root.path(AUTHKEY_PUBLIC);
    let current = read_verify_key(files, &public)?.ok_or(AuthKeyError::Missing { path: public })?;
    let old = match read_verify_key(files, &root.path(AUTHKEY_PUBLIC_OLD)) {
        Ok(old) => old,
        Err(error) => {
            tracing::warn!("ignoring the old ticket key: {error}");
            None
        }
    };
    Ok(PublicKeys { current, old })
}

/// The key tickets are signed with (`authkey.key`).
pub fn load_signing_key(files: &dyn Files, root: &Root) -> Result<SigningKey, AuthKeyError> {
    let path = root.path(AUTHKEY_PRIVATE);
    let pem = read_required(files, &path)?;
    SigningKey::from_pem(&pem).map_err(|cause| key_error(&path, cause))
}

/// The CSRF secret, derived from `pve-www.key`.
pub fn load_csrf_secret(files: &dyn Files, root: &Root) -> Result<CsrfSecret, AuthKeyError> {
    let path = root.path(WWW_KEY);
    let contents = read_required(files, &path)?;
    CsrfSecret::from_key_file(&contents).map_err(|cause| AuthKeyError::Csrf { path, cause })
}

/// A fresh RSA-2048 key pair: CPU work of up to hundreds of milliseconds, for a blocking
/// thread.
pub fn generate_signing_key() -> Result<SigningKey, AuthKeyError> {
    let rsa = Rsa::generate(KEY_BITS).map_err(AuthKeyError::Generate)?;
    let key = PKey::from_rsa(rsa).map_err(AuthKeyError::Generate)?;
    SigningKey::from_pkey(key).map_err(|cause| key_error(Path::new("(generated key)"), cause))
}

/// `authkey.key` when it is a usable key, else why not (missing, not a key). A file that
/// cannot be read (permissions, I/O) is an error: that is no reason to replace the keys.
fn read_signing_key(
    files: &dyn Files,
    root: &Root,
) -> Result<Result<SigningKey, String>, AuthKeyError> {
    let path = root.path(AUTHKEY_PRIVATE);
    let Some(pem) = files.read(&path, KEY_FILE_LEN_MAX)? else {
        return Ok(Err("does not exist".to_owned()));
    };
    Ok(SigningKey::from_pem(&pem).map_err(|cause| cause.to_string()))
}

/// Whether two public key PEMs hold the same key, whatever their PEM form (SPKI or PKCS#1).
fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    let spki = |pem: &[u8]| {
        VerifyKey::from_pem(pem, UnixTime(0))
            .and_then(|key| key.to_pem())
            .ok()
    };
    spki(a).is_some_and(|a| Some(a) == spki(b))
}

/// A public key with the modification time of its file, `None` when the file is missing.
///
/// The time is read before and after the contents; when they differ (a rotation wrote the file
/// in between), it reads again, so the key and its time always belong together.
fn read_verify_key(files: &dyn Files, path: &Path) -> Result<Option<VerifyKey>, AuthKeyError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Some(before) = files.modified(path)? else {
            return Ok(None);
        };
        let Some(pem) = files.read(path, KEY_FILE_LEN_MAX)? else {
            return Ok(None);
        };
        let after = files.modified(path)?;
        if after == Some(before) || attempts == 3 {
            let key = VerifyKey::from_pem(&pem, before).map_err(|cause| key_error(path, cause))?;
            return Ok(Some(key));
        }
    }
}

fn read_required(files: &dyn Files, path: &Path) -> Result<Vec<u8>, AuthKeyError> {
    files
        .read(path, KEY_FILE_LEN_MAX)?
        .ok_or_else(|| AuthKeyError::Missing {
            path: path.to_owned(),
        })
}

/// Writes a new pair as Proxmox's `gen_auth_key`: private key first, then the public key.
fn write_pair(files: &dyn Files, root: &Root, key: &SigningKey) -> Result<(), AuthKeyError> {
    write_private(files, root, key)?;
    let public = root.path(AUTHKEY_PUBLIC);
    let pem = key
        .public_pem()
        .map_err(|cause| key_error(&public, cause))?;
    files.write_atomic(&public, &pem, Access::Shared)?;
    Ok(())
}

fn write_private(files: &dyn Files, root: &Root, key: &SigningKey) -> Result<(), AuthKeyError> {
    files.create_dir_all(&root.path(PRIVATE_DIR), PRIVATE_DIR_MODE)?;
    let path = root.path(AUTHKEY_PRIVATE);
    let pem = key.to_pem().map_err(|cause| key_error(&path, cause))?;
    files.write_atomic(&path, &pem, Access::Private)?;
    Ok(())
}

/// `pve-www.key` as Proxmox makes it: a fresh RSA private key in PEM (PKCS#8, what `openssl
/// genrsa` writes). Only its bytes matter: they key the CSRF secret.
fn generate_www_key() -> Result<Vec<u8>, AuthKeyError> {
    let key = generate_signing_key()?;
    key.to_pem()
        .map_err(|cause| key_error(Path::new(WWW_KEY), cause))
}

fn key_error(path: &Path, cause: KeyError) -> AuthKeyError {
    AuthKeyError::Key {
        path: path.to_owned(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use corral_core::auth::ticket::Verified;
    use corral_core::auth::{AUTHKEY_LIFETIME, TICKET_LIFETIME};

    use super::*;
    use crate::clock::{ManualClock, WallClock};
    use crate::files::{MemFiles, MemFs};

    /// 2026-11-24T00:00:00Z.
    const START: i64 = 1_795_478_400;

    struct Node {
        clock: Arc<ManualClock>,
        fs: MemFs,
        root: Root,
    }

    impl Node {
        fn new() -> Node {
            let clock = Arc::new(ManualClock::new(UnixTime(START)));
            Node {
                fs: MemFs::new(clock.clone()),
                clock,
                root: Root::default(),
            }
        }

        fn now(&self) -> UnixTime {
            self.clock.now()
        }

        fn advance(&self, secs: i64) {
            self.clock.advance(secs);
        }

        fn file(&self, path: &str) -> crate::files::MemFile {
            self.fs.file(Path::new(path)).expect(path)
        }

        fn issue(&self, userid: &str) -> String {
            issue_ticket(
                &self.fs,
                &self.root,
                userid,
                self.now(),
                Quorum::Quorate,
                SignDigest::Sha256,
            )
            .expect("issue")
        }

        fn verify(&self, ticket: &str) -> Result<Verified, TicketError> {
            let keys = load_public_keys(&self.fs, &self.root).expect("keys");
            ticket::verify(ticket, &keys, self.now(), Quorum::Quorate)
        }
    }

    #[test]
    fn ensure_keys_creates_what_pvedaemon_needs_with_proxmox_modes_once() {
        let node = Node::new();
        let created = ensure_keys(&node.fs, &node.root).expect("ensure");
        assert_eq!(
            created,
            Created {
                authkey: true,
                www_key: true
            }
        );
        assert_eq!(node.file(AUTHKEY_PRIVATE).mode, 0o600);
        assert_eq!(node.file(AUTHKEY_PRIVATE).group, None);
        assert_eq!(node.fs.dir_mode(Path::new(PRIVATE_DIR)), Some(0o700));
        assert_eq!(node.fs.dir_mode(Path::new("/etc/pve")), Some(0o755));
        // pveproxy (group www-data) reads these.
        for shared in [AUTHKEY_PUBLIC, WWW_KEY] {
            assert_eq!(node.file(shared).mode, 0o640, "{shared}");
            assert_eq!(node.file(shared).group, Some("www-data"), "{shared}");
        }
        assert!(
            node.file(AUTHKEY_PUBLIC)
                .bytes
                .starts_with(b"-----BEGIN PUBLIC KEY-----\n")
        );
        assert!(
            node.file(AUTHKEY_PRIVATE)
                .bytes
                .starts_with(b"-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            node.file(WWW_KEY)
                .bytes
                .starts_with(b"-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(node.fs.file(Path::new(AUTHKEY_PUBLIC_OLD)).is_none());

        let before = node
            .fs
            .paths()
            .into_iter()
            .map(|p| node.fs.file(&p))
            .collect::<Vec<_>>();
        node.advance(10);
        assert_eq!(
            ensure_keys(&node.fs, &node.root).expect("again"),
            Created::default()
        );
        let after = node
            .fs
            .paths()
            .into_iter()
            .map(|p| node.fs.file(&p))
            .collect::<Vec<_>>();
        assert_eq!(before, after, "existing keys are left alone");

        // The keys work together.
        load_csrf_secret(&node.fs, &node.root).expect("csrf secret");
        node.advance(10);
        let ticket = node.issue("root@pam");
        assert_eq!(node.verify(&ticket).expect("valid").userid, "root@pam");
    }

    impl Node {
        /// Why the pair was renewed, `None` when it was not.
        fn renew(&self, quorum: Quorum) -> Option<RenewalReason> {
            renew_if_needed(&self.fs, &self.root, self.now(), quorum)
                .expect("renew")
                .1
        }
    }

    #[test]
    fn a_fresh_key_is_not_rotated_a_day_old_one_is() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        node.advance(AUTHKEY_LIFETIME - 1);
        assert_eq!(node.renew(Quorum::Quorate), None);
        let first_public = node.file(AUTHKEY_PUBLIC);
        node.advance(1);
        assert_eq!(node.renew(Quorum::NotQuorate), None);
        assert_eq!(
            node.renew(Quorum::Quorate),
            Some(RenewalReason::Rotation(RotationReason::Expired))
        );
        let old = node.file(AUTHKEY_PUBLIC_OLD);
        assert_eq!(
            old.bytes, first_public.bytes,
            "the previous key is kept verbatim"
        );
        assert_eq!(old.modified, node.now());
        assert_eq!((old.mode, old.group), (0o640, Some("www-data")));
        let new_public = node.file(AUTHKEY_PUBLIC);
        assert_ne!(new_public.bytes, first_public.bytes);
        assert_eq!(
            (new_public.mode, new_public.group),
            (0o640, Some("www-data")),
            "pveproxy can read the rotated key"
        );
        let private = node.file(AUTHKEY_PRIVATE);
        assert_eq!((private.mode, private.group), (0o600, None));
        // Fresh again.
        assert_eq!(node.renew(Quorum::Quorate), None);
    }

    #[test]
    fn a_signing_key_that_does_not_belong_to_authkey_pub_is_replaced() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        node.advance(60);
        let before = node.issue("alice@pve");
        let signing_public = node.file(AUTHKEY_PUBLIC).bytes;
        // As if a rotation stopped between writing authkey.pub and authkey.key.
        let stray = generate_signing_key().expect("key");
        node.fs.insert(
            AUTHKEY_PUBLIC,
            stray.public_pem().expect("pem"),
            SHARED_MODE,
        );
        node.advance(600);
        let after = node.issue("bob@pve");
        // The node signs with a key that authkey.pub verifies again…
        assert_eq!(node.verify(&after).expect("accepted").userid, "bob@pve");
        let signing = load_signing_key(&node.fs, &node.root).expect("key");
        assert_eq!(
            signing.public_pem().expect("pem"),
            node.file(AUTHKEY_PUBLIC).bytes
        );
        // …and the tickets signed before the repair stay valid through authkey.pub.old, which
        // holds the key that signed them (not the stray authkey.pub).
        assert_eq!(node.file(AUTHKEY_PUBLIC_OLD).bytes, signing_public);
        assert_eq!(
            node.verify(&before).expect("still valid").userid,
            "alice@pve"
        );
        assert_eq!(node.renew(Quorum::Quorate), None, "repaired once");
    }

    #[test]
    fn a_missing_or_broken_signing_key_is_replaced_keeping_the_public_key_as_old() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        let first_public = node.file(AUTHKEY_PUBLIC).bytes;
        node.fs.remove_file(Path::new(AUTHKEY_PRIVATE)).expect("rm");
        node.advance(60);
        let reason = node.renew(Quorum::Quorate).expect("renewed");
        assert_eq!(
            reason.to_string(),
            "/etc/pve/priv/authkey.key: does not exist"
        );
        assert_eq!(node.file(AUTHKEY_PUBLIC_OLD).bytes, first_public);
        node.fs
            .insert(AUTHKEY_PRIVATE, b"garbage".to_vec(), PRIVATE_MODE);
        node.advance(60);
        let reason = node.renew(Quorum::Quorate).expect("renewed");
        assert!(
            reason
                .to_string()
                .starts_with("/etc/pve/priv/authkey.key: not an unencrypted PEM private key"),
            "{reason}"
        );
        let ticket = node.issue("alice@pve");
        assert_eq!(node.verify(&ticket).expect("valid").userid, "alice@pve");
    }

    #[test]
    fn tickets_survive_a_rotation_but_the_old_key_signs_nothing_new() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        node.advance(AUTHKEY_LIFETIME - 600);
        let before = node.issue("alice@pve");
        let old_private = load_signing_key(&node.fs, &node.root).expect("old key");
        node.advance(600);
        // Issuing rotates lazily.
        let after = node.issue("bob@pve");
        assert!(node.fs.file(Path::new(AUTHKEY_PUBLIC_OLD)).is_some());
        node.advance(400);
        assert_eq!(node.verify(&before).expect("old key accepts it").age, 1000);
        assert_eq!(node.verify(&after).expect("new key").userid, "bob@pve");
        // A ticket made with the old private key after the rotation is refused.
        let forged = ticket::sign("mallory@pve", node.now(), &old_private, SignDigest::Sha256)
            .expect("sign");
        assert!(matches!(
            node.verify(&forged),
            Err(TicketError::NotYetValid { .. })
        ));
        // The pre-rotation ticket still expires on time.
        node.advance(TICKET_LIFETIME - 1000);
        assert!(matches!(
            node.verify(&before),
            Err(TicketError::Expired { .. })
        ));
    }

    #[test]
    fn loading_reports_missing_and_broken_files_by_name() {
        let node = Node::new();
        let error = load_public_keys(&node.fs, &node.root).expect_err("missing");
        assert_eq!(
            error.to_string(),
            "/etc/pve/authkey.pub does not exist (pvedaemon creates it at start)"
        );
        assert!(matches!(
            load_signing_key(&node.fs, &node.root),
            Err(AuthKeyError::Missing { .. })
        ));
        assert!(matches!(
            load_csrf_secret(&node.fs, &node.root),
            Err(AuthKeyError::Missing { .. })
        ));

        node.fs.insert(AUTHKEY_PUBLIC, b"garbage".to_vec(), 0o640);
        let error = load_public_keys(&node.fs, &node.root).expect_err("broken");
        assert!(
            error
                .to_string()
                .starts_with("/etc/pve/authkey.pub: not a PEM public key"),
            "{error}"
        );
        node.fs.insert(WWW_KEY, Vec::new(), 0o640);
        assert_eq!(
            load_csrf_secret(&node.fs, &node.root)
                .expect_err("empty")
                .to_string(),
            "/etc/pve/pve-www.key: the CSRF key file (pve-www.key) is empty"
        );

        // A broken old key is skipped; the current one still works.
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        node.fs
            .insert(AUTHKEY_PUBLIC_OLD, b"garbage".to_vec(), 0o640);
        let keys = load_public_keys(&node.fs, &node.root).expect("current is enough");
        assert!(keys.old.is_none());
        assert_eq!(keys.current.modified(), UnixTime(START));
    }

    /// Two nodes starting at once over one shared /etc/pve: the keys are made once.
    #[test]
    fn nodes_starting_together_make_the_keys_once() {
        let node = Node::new();
        let created: Vec<Created> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..2)
                .map(|_| {
                    let fs = node.fs.clone();
                    scope.spawn(move || ensure_keys(&fs, &Root::default()).expect("ensure"))
                })
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().expect("ran"))
                .collect()
        });
        assert_eq!(
            created.iter().filter(|c| c.authkey).count(),
            1,
            "{created:?}"
        );
        assert_eq!(
            created.iter().filter(|c| c.www_key).count(),
            1,
            "{created:?}"
        );
        assert_eq!(
            node.fs.dir_mode(Path::new("/etc/pve/priv/lock")),
            Some(0o700)
        );
    }

    /// Two nodes finding the pair due at the same instant, on their own threads: one rotates,
    /// the other signs with its new key.
    #[test]
    fn nodes_renewing_together_rotate_once() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        let first_public = node.file(AUTHKEY_PUBLIC).bytes;
        node.advance(AUTHKEY_LIFETIME);
        let now = node.now();
        let renewed: Vec<(Vec<u8>, bool)> = std::thread::scope(|scope| {
            let renewals: Vec<_> = (0..3)
                .map(|_| {
                    let fs = node.fs.clone();
                    scope.spawn(move || {
                        let (key, reason) =
                            renew_if_needed(&fs, &Root::default(), now, Quorum::Quorate)
                                .expect("renew");
                        (key.public_pem().expect("pem"), reason.is_some())
                    })
                })
                .collect();
            renewals
                .into_iter()
                .map(|r| r.join().expect("ran"))
                .collect()
        });
        assert_eq!(renewed.iter().filter(|(_, rotated)| *rotated).count(), 1);
        let new_public = node.file(AUTHKEY_PUBLIC).bytes;
        assert!(renewed.iter().all(|(key, _)| *key == new_public));
        assert_eq!(node.file(AUTHKEY_PUBLIC_OLD).bytes, first_public);
    }

    #[test]
    fn a_read_only_snapshot_cannot_hold_keys() {
        let error = ensure_keys(&MemFiles::default(), &Root::default()).expect_err("read-only");
        assert!(
            error.to_string().contains("MemFiles is read-only"),
            "{error}"
        );
    }

    #[test]
    fn keys_live_under_the_root() {
        let node = Node::new();
        let root = Root::new("/srv/node1");
        ensure_keys(&node.fs, &root).expect("ensure");
        assert!(
            node.fs
                .file(Path::new("/srv/node1/etc/pve/priv/authkey.key"))
                .is_some()
        );
        assert!(node.fs.file(Path::new(AUTHKEY_PRIVATE)).is_none());
        load_public_keys(&node.fs, &root).expect("keys under the root");
    }
}
