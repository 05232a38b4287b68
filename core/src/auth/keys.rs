//! The RSA key pair tickets are signed with.
//!
//! Proxmox keeps the private key in `/etc/pve/priv/authkey.key` (readable by root only: only
//! pvedaemon issues tickets) and the public key in `/etc/pve/authkey.pub` (readable by
//! `www-data`: pveproxy verifies). After a rotation the previous public key stays in
//! `/etc/pve/authkey.pub.old`, so tickets issued just before the rotation stay valid.
//! Each public key comes with its file's modification time, which narrows the tickets it
//! accepts (see [`crate::auth::keyage`]).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::Rsa;

use crate::time::UnixTime;

/// A key that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "not a PEM public key (expected \"BEGIN PUBLIC KEY\" or \"BEGIN RSA PUBLIC KEY\"): {0}"
    )]
    PublicPem(#[source] openssl::error::ErrorStack),
    #[error(
        "not an unencrypted PEM private key (expected \"BEGIN PRIVATE KEY\" or \"BEGIN RSA \
         PRIVATE KEY\"): {0}"
    )]
    PrivatePem(#[source] openssl::error::ErrorStack),
    #[error("the key is not an RSA key: tickets are RSA signatures")]
    NotRsa,
    #[error("cannot encode the key as PEM: {0}")]
    Encode(#[source] openssl::error::ErrorStack),
}

/// How many verified signatures a key remembers; when full, it forgets them all (a sweep that
/// costs one RSA check per live ticket).
pub const VERIFIED_SIGNATURES_MAX: usize = 4096;

/// A public key that verifies tickets, with the modification time of the file it came from.
///
/// It remembers the signatures it verified (a digest of the signed text and the signature):
/// whether a signature matches never changes for a given key, and an RSA check costs more than
/// the rest of a request. The ticket's age is still checked every time; a new key (a rotation
/// or a re-read file) starts with nothing remembered. Clones share the memory.
#[derive(Clone)]
pub struct VerifyKey {
    key: PKey<Public>,
    modified: UnixTime,
    verified: Arc<Mutex<BTreeSet<[u8; 32]>>>,
}

impl VerifyKey {
    /// Reads an RSA public key in SPKI (`BEGIN PUBLIC KEY`, what Proxmox writes) or PKCS#1
    /// (`BEGIN RSA PUBLIC KEY`) PEM. `modified` is the key file's modification time.
    pub fn from_pem(pem: &[u8], modified: UnixTime) -> Result<VerifyKey, KeyError> {
        let key = match PKey::public_key_from_pem(pem) {
            Ok(key) => key,
            Err(spki_error) => Rsa::public_key_from_pem_pkcs1(pem)
                .and_then(PKey::from_rsa)
                .map_err(|_| KeyError::PublicPem(spki_error))?,
        };
        if key.id() != Id::RSA {
            return Err(KeyError::NotRsa);
        }
        Ok(VerifyKey {
            key,
            modified,
            verified: Arc::default(),
        })
    }

    /// When the key file was last written: the key's age narrows which tickets it accepts.
    pub fn modified(&self) -> UnixTime {
        self.modified
    }

    /// The key as SPKI PEM (`BEGIN PUBLIC KEY`), as Proxmox writes `authkey.pub` and
    /// `authkey.pub.old`.
    pub fn to_pem(&self) -> Result<Vec<u8>, KeyError> {
        self.key.public_key_to_pem().map_err(KeyError::Encode)
    }

    pub(crate) fn pkey(&self) -> &PKey<Public> {
        &self.key
    }

    /// Whether this key verified `signature` over `signed` before.
    pub(crate) fn has_verified(&self, signed: &[u8], signature: &[u8]) -> bool {
        let digest = signature_digest(signed, signature);
        self.memory().contains(&digest)
    }

    /// Remembers a signature this key just verified.
    pub(crate) fn remember_verified(&self, signed: &[u8], signature: &[u8]) {
        let digest = signature_digest(signed, signature);
        let mut verified = self.memory();
        if verified.len() >= VERIFIED_SIGNATURES_MAX {
            verified.clear();
        }
        verified.insert(digest);
    }

    /// Takes over `previous`'s memory of verified signatures when both are the same key (the
    /// file was read again but not changed): a re-read does not cost every user an RSA check.
    pub fn keep_memory_of(&mut self, previous: &VerifyKey) {
        if self.key.public_eq(&previous.key) {
            self.verified = Arc::clone(&previous.verified);
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, BTreeSet<[u8; 32]>> {
        // A panic elsewhere while holding the lock leaves a set that is still valid.
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// SHA-256 over the signed text's length, the text and the signature: no two pairs collide by
/// moving bytes between the two.
fn signature_digest(signed: &[u8], signature: &[u8]) -> [u8; 32] {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&(signed.len() as u64).to_be_bytes());
    hasher.update(signed);
    hasher.update(signature);
    hasher.finish()
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKey")
            .field("bits", &self.key.bits())
            .field("modified", &self.modified)
            .finish()
    }
}

/// The public keys a node verifies tickets with: the current one and, after a rotation, the
/// previous one.
#[derive(Debug, Clone)]
pub struct PublicKeys {
    /// `/etc/pve/authkey.pub`.
    pub current: VerifyKey,
    /// `/etc/pve/authkey.pub.old`, when present.
    pub old: Option<VerifyKey>,
}

impl PublicKeys {
    /// Each key takes over the memory of verified signatures of the same key in `previous`
    /// (see [`VerifyKey::keep_memory_of`]): after a rotation `current` becomes `old` and keeps
    /// what it verified.
    pub fn keep_memory_of(&mut self, previous: &PublicKeys) {
        let earlier: Vec<&VerifyKey> = std::iter::once(&previous.current)
            .chain(previous.old.as_ref())
            .collect();
        for key in std::iter::once(&mut self.current).chain(self.old.as_mut()) {
            for before in &earlier {
                key.keep_memory_of(before);
            }
        }
    }
}

/// The private key tickets are signed with (`/etc/pve/priv/authkey.key`).
#[derive(Clone)]
pub struct SigningKey {
    key: PKey<Private>,
}

impl SigningKey {
    /// Reads an unencrypted RSA private key in PKCS#8 (`BEGIN PRIVATE KEY`, what `openssl
    /// genrsa` writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`, what Proxmox writes on rotation)
    /// PEM. An encrypted key is refused rather than prompting for a passphrase.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, KeyError> {
        // A callback that supplies no passphrase: without one OpenSSL would ask on the
        // terminal, which a daemon must never do.
        let no_passphrase = |_: &mut [u8]| Ok(0);
        let key = PKey::private_key_from_pem_callback(pem, no_passphrase)
            .map_err(KeyError::PrivatePem)?;
        SigningKey::from_pkey(key)
    }

    /// Wraps a key made elsewhere (key generation lives in the IO shell).
    pub fn from_pkey(key: PKey<Private>) -> Result<SigningKey, KeyError> {
        if key.id() != Id::RSA {
            return Err(KeyError::NotRsa);
        }
        Ok(SigningKey { key })
    }

    /// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), for `authkey.key`.
    pub fn to_pem(&self) -> Result<Vec<u8>, KeyError> {
        self.key
            .private_key_to_pem_pkcs8()
            .map_err(KeyError::Encode)
    }

    /// The matching public key as SPKI PEM, for `authkey.pub`.
    pub fn public_pem(&self) -> Result<Vec<u8>, KeyError> {
        self.key.public_key_to_pem().map_err(KeyError::Encode)
    }

    pub(crate) fn pkey(&self) -> &PKey<Private> {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        f.debug_struct("SigningKey")
            .field("bits", &self.key.bits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const KEY_A: &str = include_str!("testdata/key-a.pem");
    pub(crate) const PUB_A: &str = include_str!("testdata/key-a.pub");
    pub(crate) const KEY_B: &str = include_str!("testdata/key-b.pem");
    pub(crate) const PUB_B_PKCS1: &str = include_str!("testdata/key-b-pkcs1.pub");

    #[test]
    fn a_key_read_again_remembers_what_it_verified_and_another_key_does_not() {
        let first = VerifyKey::from_pem(PUB_A.as_bytes(), UnixTime(1)).expect("key A");
        first.remember_verified(b"PVE:alice@pve:6942A0B8", b"signature");
        let mut again = VerifyKey::from_pem(PUB_A.as_bytes(), UnixTime(1)).expect("key A");
        assert!(!again.has_verified(b"PVE:alice@pve:6942A0B8", b"signature"));
        again.keep_memory_of(&first);
        assert!(again.has_verified(b"PVE:alice@pve:6942A0B8", b"signature"));
        let mut other = VerifyKey::from_pem(PUB_B_PKCS1.as_bytes(), UnixTime(1)).expect("key B");
        other.keep_memory_of(&first);
        assert!(!other.has_verified(b"PVE:alice@pve:6942A0B8", b"signature"));
    }

    #[test]
    fn after_a_rotation_the_old_key_keeps_its_memory() {
        let before = PublicKeys {
            current: VerifyKey::from_pem(PUB_A.as_bytes(), UnixTime(1)).expect("key A"),
            old: None,
        };
        before.current.remember_verified(b"ticket", b"sig");
        let mut after = PublicKeys {
            current: VerifyKey::from_pem(PUB_B_PKCS1.as_bytes(), UnixTime(2)).expect("key B"),
            old: Some(VerifyKey::from_pem(PUB_A.as_bytes(), UnixTime(1)).expect("key A")),
        };
        after.keep_memory_of(&before);
        assert!(!after.current.has_verified(b"ticket", b"sig"));
        assert!(
            after
                .old
                .as_ref()
                .is_some_and(|old| old.has_verified(b"ticket", b"sig"))
        );
    }
    /// A P-256 key pair (`openssl ecparam -genkey`): a valid key of the wrong kind.
    const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIvbg//5Jo7nYVidZvSzLCnluBzG7
8zxwQzjANLsSCfciwoyFVupOqPl7MRuzscv/TLTHSzaOLfBRZ1kATVtZNg==
-----END PUBLIC KEY-----
";
    const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbo0XRxG56hmLHXAE
Y6rAx0Jp3N1qG4QgxLL30xj6DdChRANCAAQi9uD//kmjudhWJ1m9LMsKeW4HMbvz
PHBDOMA0uxIJ9yLCjIVW6k6o+XsxG7Oxy/9MtMdLNo4t8FFnWQBNW1k2
-----END PRIVATE KEY-----
";

    #[test]
    fn reads_both_public_and_both_private_pem_forms() {
        let spki = VerifyKey::from_pem(PUB_A.as_bytes(), UnixTime(5)).expect("SPKI");
        assert_eq!(spki.modified(), UnixTime(5));
        let pkcs1 = VerifyKey::from_pem(PUB_B_PKCS1.as_bytes(), UnixTime(0)).expect("PKCS#1");
        assert_eq!(pkcs1.pkey().bits(), 2048);

        let pkcs8 = SigningKey::from_pem(KEY_A.as_bytes()).expect("PKCS#8");
        let traditional = SigningKey::from_pem(KEY_B.as_bytes()).expect("PKCS#1 private");
        // The derived public key is what `authkey.pub` holds.
        assert_eq!(pkcs8.public_pem().expect("pem"), PUB_A.as_bytes());
        let b_public = VerifyKey::from_pem(&traditional.public_pem().expect("pem"), UnixTime(0))
            .expect("derived");
        assert!(b_public.pkey().public_eq(pkcs1.pkey()));
        // Written back in SPKI form, as Proxmox writes authkey.pub.old.
        assert!(
            pkcs1
                .to_pem()
                .expect("pem")
                .starts_with(b"-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn refuses_what_is_not_an_rsa_key() {
        for garbage in [
            &b""[..],
            b"hello",
            b"-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----\n",
        ] {
            assert!(matches!(
                VerifyKey::from_pem(garbage, UnixTime(0)),
                Err(KeyError::PublicPem(_))
            ));
            assert!(matches!(
                SigningKey::from_pem(garbage),
                Err(KeyError::PrivatePem(_))
            ));
        }
        // A private key where a public one belongs, and the other way round.
        assert!(VerifyKey::from_pem(KEY_A.as_bytes(), UnixTime(0)).is_err());
        assert!(SigningKey::from_pem(PUB_A.as_bytes()).is_err());
        assert!(matches!(
            VerifyKey::from_pem(EC_PUBLIC.as_bytes(), UnixTime(0)),
            Err(KeyError::NotRsa)
        ));
        assert!(matches!(
            SigningKey::from_pem(EC_PRIVATE.as_bytes()),
            Err(KeyError::NotRsa)
        ));
    }

    #[test]
    fn an_encrypted_private_key_is_refused_without_prompting() {
        let encrypted = include_bytes!("testdata/key-a-encrypted.pem");
        assert!(matches!(
            SigningKey::from_pem(encrypted),
            Err(KeyError::PrivatePem(_))
        ));
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let key = SigningKey::from_pem(KEY_A.as_bytes()).expect("key");
        assert_eq!(format!("{key:?}"), "SigningKey { bits: 2048, .. }");
    }
}
