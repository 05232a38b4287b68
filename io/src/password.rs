//! New `pve`-realm password hashes: core's SHA-256 crypt with a salt drawn here, because core
//! draws no randomness.
//!
//! Proxmox's `encrypt_pw` takes its 8 salt characters from the base64 SHA-1 of time, a counter
//! and the pid (`+` replaced by `X`): predictable, but only ever a salt. corral draws them from
//! OpenSSL's CSPRNG instead, over crypt's whole alphabet `[./0-9A-Za-z]`; the hash format
//! (`$5$<8 chars>$<43 chars>`, 5000 rounds) is the same, so Proxmox verifies corral's hashes
//! and the other way round.

use corral_core::password::{CRYPT_ALPHABET, PasswordTooLong, Salt, SaltError, hash_sha256};

/// Salt length Proxmox uses.
pub const SALT_LEN: usize = 8;

/// Why no hash was made.
#[derive(Debug, thiserror::Error)]
pub enum NewHashError {
    /// OpenSSL's random generator failed (not seeded, …).
    #[error("cannot draw a random salt: {0}")]
    Random(#[from] openssl::error::ErrorStack),
    /// The password is too long for crypt (512 bytes or more).
    #[error(transparent)]
    TooLong(#[from] PasswordTooLong),
    /// The drawn salt was refused (cannot happen: it is built from the alphabet; kept typed
    /// rather than a panic).
    #[error("drawn salt refused: {0}")]
    Salt(#[from] SaltError),
}

/// A SHA-256 crypt hash of `password` with a fresh random 8-character salt, ready for
/// `shadow.cfg` (Proxmox's `encrypt_pw`).
pub fn new_hash(password: &str) -> Result<String, NewHashError> {
    let salt = random_salt()?;
    Ok(hash_sha256(password, &salt)?)
}

/// 8 random characters of crypt's alphabet. Each comes from the low 6 bits of a random byte:
/// 256 is a multiple of 64, so every character is equally likely.
pub fn random_salt() -> Result<Salt, NewHashError> {
    let mut bytes = [0u8; SALT_LEN];
    openssl::rand::rand_bytes(&mut bytes)?;
    let text: String = bytes
        .iter()
        .map(|&b| char::from(CRYPT_ALPHABET[usize::from(b & 0x3f)]))
        .collect();
    Ok(Salt::new(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::password::verify;
    use std::process::Command;

    #[test]
    fn new_hash_has_proxmox_shape_and_verifies() {
        let hash = new_hash("secret").expect("hash");
        assert_eq!(hash.len(), 3 + SALT_LEN + 1 + 43, "{hash}");
        assert!(hash.starts_with("$5$"));
        let salt = &hash[3..3 + SALT_LEN];
        assert!(Salt::new(salt).is_ok(), "{salt}");
        assert_eq!(&hash[3 + SALT_LEN..3 + SALT_LEN + 1], "$");
        assert_eq!(verify("secret", &hash), Ok(()));
        assert!(verify("Secret", &hash).is_err());
    }

    #[test]
    fn salts_differ() {
        let a = random_salt().expect("salt");
        let b = random_salt().expect("salt");
        // 48 random bits each: equal only by a 2^-48 accident.
        assert_ne!(a, b);
    }

    #[test]
    fn too_long_password_is_an_error() {
        assert!(matches!(
            new_hash(&"x".repeat(512)),
            Err(NewHashError::TooLong(PasswordTooLong { len: 512 }))
        ));
    }

    /// Cross-check with the `openssl passwd` binary: the hash it makes for our salt is ours,
    /// and ours verifies against its SHA-512 output too. Skipped when no `openssl` is installed.
    #[test]
    fn matches_openssl_passwd() {
        let salt = random_salt().expect("salt");
        let Some(ours) = openssl_passwd("-5", salt.as_str(), "pässwörd 1") else {
            eprintln!("skipped: no openssl binary");
            return;
        };
        assert_eq!(
            hash_sha256("pässwörd 1", &salt).as_deref(),
            Ok(ours.as_str())
        );
        if let Some(sha512) = openssl_passwd("-6", salt.as_str(), "pässwörd 1") {
            assert_eq!(verify("pässwörd 1", &sha512), Ok(()));
            assert!(verify("pässwörd 2", &sha512).is_err());
        }
    }

    /// `openssl passwd <algo> -salt <salt> <password>`, or `None` when it cannot run.
    fn openssl_passwd(algo: &str, salt: &str, password: &str) -> Option<String> {
        let out = Command::new("openssl")
            .args(["passwd", algo, "-salt", salt, password])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }
}
