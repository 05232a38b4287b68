//! The key files behind tickets and CSRF tokens, read and written through the [`Files`] seam.
//!
//! | file | what | mode |
//! |---|---|---|
//! | `/etc/pve/priv/authkey.key` | RSA-2048 private key that signs tickets | 0600 (dir `/etc/pve/priv` 0700) |
//! | `/etc/pve/authkey.pub` | its public key, SPKI PEM | 0640 |
//! | `/etc/pve/authkey.pub.old` | the public key before the last rotation | 0640 |
//! | `/etc/pve/pve-www.key` | the CSRF secret's source: an RSA-2048 private key PEM, as `openssl genrsa` writes it | 0640 |
//!
//! On Proxmox the 0640 files are `root:www-data`, so pveproxy (running as `www-data`) verifies
//! tickets and CSRF tokens while only root (pvedaemon) can sign. pmxcfs sets that ownership by
//! itself; on another file system it is the daemon's concern.
//!
//! Key generation and RSA signing are CPU work of tens of milliseconds: call [`ensure_keys`],
//! [`rotate_if_old`] and [`issue_ticket`] from a blocking thread, not an async task.

use std::path::{Path, PathBuf};

use corral_core::auth::csrf::{CsrfError, CsrfSecret};
use corral_core::auth::keyage::{Quorum, RotationReason, rotation_due};
use corral_core::auth::keys::{KeyError, PublicKeys, SigningKey, VerifyKey};
use corral_core::auth::ticket::{self, SignDigest, TicketError};
use corral_core::time::UnixTime;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;

use crate::files::{Files, ReadError, Root, WriteError};

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
pub const PRIVATE_MODE: u32 = 0o600;
/// Mode of files root writes and the `www-data` group reads.
pub const SHARED_MODE: u32 = 0o640;
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
    #[error(transparent)]
    Ticket(#[from] TicketError),
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
/// are left alone, even an `authkey.pub` without a private key (the next ticket rotates then).
pub fn ensure_keys(files: &dyn Files, root: &Root) -> Result<Created, AuthKeyError> {
    let mut created = Created::default();
    if !files.is_file(&root.path(AUTHKEY_PRIVATE)) {
        let key = generate_signing_key()?;
        write_pair(files, root, &key)?;
        created.authkey = true;
    }
    let www_key = root.path(WWW_KEY);
    if !files.is_file(&www_key) {
        files.write_atomic(&www_key, &generate_www_key()?, SHARED_MODE)?;
        created.www_key = true;
    }
    Ok(created)
}

/// Rotates the ticket key pair when it is due (missing, 24 h old, or dated in the future; see
/// [`rotation_due`]), as Proxmox does lazily before issuing a ticket: the current public key
/// becomes `authkey.pub.old`, then a new `authkey.pub` and `authkey.key` are written. Returns
/// why it rotated, `None` when it did not.
///
/// Proxmox re-checks and rotates under the cluster-wide authkey lock, so two nodes never rotate
/// at once. corral has no cluster lock yet: the caller must make sure only one rotation runs
/// (one pvedaemon per cluster file system).
pub fn rotate_if_old(
    files: &dyn Files,
    root: &Root,
    now: UnixTime,
    quorum: Quorum,
) -> Result<Option<RotationReason>, AuthKeyError> {
    let public = root.path(AUTHKEY_PUBLIC);
    let old_public = root.path(AUTHKEY_PUBLIC_OLD);
    let current = files.modified(&public)?;
    let old = files.modified(&old_public)?;
    let Some(reason) = rotation_due(now, current, old, quorum) else {
        return Ok(None);
    };
    // The current public key, if it is one: a broken file is not worth keeping as the old key
    // (Proxmox also keeps only a key it could read).
    let previous = files
        .read(&public, KEY_FILE_LEN_MAX)?
        .filter(|pem| VerifyKey::from_pem(pem, UnixTime(0)).is_ok());
    let new = generate_signing_key()?;
    if let Some(previous) = &previous {
        files.write_atomic(&old_public, previous, SHARED_MODE)?;
    }
    let new_public = new
        .public_pem()
        .map_err(|cause| key_error(&public, cause))?;
    if let Err(error) = files.write_atomic(&public, &new_public, SHARED_MODE) {
        if let Some(previous) = &previous {
            // Put the old key back, so tickets keep working with the old private key.
            files.write_atomic(&public, previous, SHARED_MODE)?;
        }
        return Err(error.into());
    }
    if let Err(error) = write_private(files, root, &new) {
        // A public key without its private key would accept no ticket it could sign: remove
        // both so the next attempt starts over (as Proxmox does).
        let _ = files.remove_file(&public);
        let _ = files.remove_file(&root.path(AUTHKEY_PRIVATE));
        return Err(error);
    }
    Ok(Some(reason))
}

/// Issues a ticket for `userid`, rotating the key pair first when due (Proxmox's
/// `assemble_ticket` with `get_privkey`).
pub fn issue_ticket(
    files: &dyn Files,
    root: &Root,
    userid: &str,
    now: UnixTime,
    quorum: Quorum,
    digest: SignDigest,
) -> Result<String, AuthKeyError> {
    rotate_if_old(files, root, now, quorum)?;
    let key = load_signing_key(files, root)?;
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
    files.write_atomic(&public, &pem, SHARED_MODE)?;
    Ok(())
}

fn write_private(files: &dyn Files, root: &Root, key: &SigningKey) -> Result<(), AuthKeyError> {
    files.create_dir_all(&root.path(PRIVATE_DIR), PRIVATE_DIR_MODE)?;
    let path = root.path(AUTHKEY_PRIVATE);
    let pem = key.to_pem().map_err(|cause| key_error(&path, cause))?;
    files.write_atomic(&path, &pem, PRIVATE_MODE)?;
    Ok(())
}

fn generate_signing_key() -> Result<SigningKey, AuthKeyError> {
    let rsa = Rsa::generate(KEY_BITS).map_err(AuthKeyError::Generate)?;
    let key = PKey::from_rsa(rsa).map_err(AuthKeyError::Generate)?;
    SigningKey::from_pkey(key).map_err(|cause| key_error(Path::new("(generated key)"), cause))
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
    use std::sync::atomic::{AtomicI64, Ordering};

    use corral_core::auth::ticket::Verified;
    use corral_core::auth::{AUTHKEY_LIFETIME, TICKET_LIFETIME};

    use super::*;
    use crate::clock::WallClock;
    use crate::files::{MemFiles, MemFs};

    /// 2026-11-24T00:00:00Z.
    const START: i64 = 1_795_478_400;

    /// The simulated time: the clock MemFs stamps writes with, moved by the test.
    #[derive(Debug)]
    struct HandClock(AtomicI64);

    impl WallClock for HandClock {
        fn now(&self) -> UnixTime {
            UnixTime(self.0.load(Ordering::Relaxed))
        }

        fn utc_offset_secs(&self, _at: UnixTime) -> i32 {
            0
        }
    }

    struct Node {
        clock: Arc<HandClock>,
        fs: MemFs,
        root: Root,
    }

    impl Node {
        fn new() -> Node {
            let clock = Arc::new(HandClock(AtomicI64::new(START)));
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
            self.clock.0.fetch_add(secs, Ordering::Relaxed);
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
        assert_eq!(node.fs.dir_mode(Path::new(PRIVATE_DIR)), Some(0o700));
        assert_eq!(node.file(AUTHKEY_PUBLIC).mode, 0o640);
        assert_eq!(node.file(WWW_KEY).mode, 0o640);
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

    #[test]
    fn a_fresh_key_is_not_rotated_a_day_old_one_is() {
        let node = Node::new();
        ensure_keys(&node.fs, &node.root).expect("ensure");
        node.advance(AUTHKEY_LIFETIME - 1);
        assert_eq!(
            rotate_if_old(&node.fs, &node.root, node.now(), Quorum::Quorate).expect("check"),
            None
        );
        let first_public = node.file(AUTHKEY_PUBLIC);
        node.advance(1);
        assert_eq!(
            rotate_if_old(&node.fs, &node.root, node.now(), Quorum::NotQuorate).expect("no quorum"),
            None
        );
        assert_eq!(
            rotate_if_old(&node.fs, &node.root, node.now(), Quorum::Quorate).expect("rotate"),
            Some(RotationReason::Expired)
        );
        let old = node.file(AUTHKEY_PUBLIC_OLD);
        assert_eq!(
            old.bytes, first_public.bytes,
            "the previous key is kept verbatim"
        );
        assert_eq!(old.modified, node.now());
        assert_eq!(old.mode, 0o640);
        assert_ne!(node.file(AUTHKEY_PUBLIC).bytes, first_public.bytes);
        assert_eq!(node.file(AUTHKEY_PRIVATE).mode, 0o600);
        // Fresh again.
        assert_eq!(
            rotate_if_old(&node.fs, &node.root, node.now(), Quorum::Quorate).expect("check"),
            None
        );
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
