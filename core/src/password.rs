//! Password hashes of the `pve` realm (`/etc/pve/priv/shadow.cfg`).
//!
//! Proxmox's `PVE::Auth::PVE::authenticate_user` checks a password with Perl's `crypt`:
//! `crypt(utf8(pw), stored) eq stored`. On Debian `crypt` is libxcrypt, so the stored string is
//! at once the algorithm, its parameters, the salt and the expected result. [`crypt`] re-does
//! what libxcrypt does for the two SHA-crypt schemes — same parsing of the setting, same
//! refusals, same output string — and [`verify`] compares that output with the stored string in
//! constant time. So a hash verifies here exactly when it verifies on Proxmox VE.
//!
//! New hashes are SHA-256 crypt with 5000 rounds and no `rounds=` field (`$5$<salt>$<hash>`),
//! as pve-common's `encrypt_pw` writes them: [`hash_sha256`]. The salt is an argument because
//! core draws no randomness; `corral_io::password::new_hash` draws it.
//!
//! Differences from Proxmox VE (which inherits every scheme libxcrypt knows):
//! - Only `$5$` (SHA-256 crypt) and `$6$` (SHA-512 crypt) are verified. Other schemes —
//!   yescrypt `$y$`, MD5-crypt `$1$`, bcrypt `$2b$`, DES, … — are refused with
//!   [`PasswordError::UnsupportedScheme`] naming the scheme, where Proxmox would check them.
//!   Proxmox itself only ever writes `$5$` into `shadow.cfg`, so only hand-edited entries are
//!   affected.
//!
//! Quirks kept on purpose because a user could notice them:
//! - The password is what C sees: cut at the first NUL byte; 512 bytes or more never match
//!   (libxcrypt's `CRYPT_MAX_PASSPHRASE_SIZE`).
//! - Perl's truthiness: the password `""` and the password `"0"` are both "no password".
//! - libxcrypt (not glibc's old crypt) rules: `rounds=` outside 1000..=999999999 or with a
//!   leading zero is refused, not clamped; the salt is cut at 16 characters; a setting holding a
//!   control, space, non-ASCII or one of `!*:;\` characters is refused. A refused stored hash
//!   never matches, so the user sees "invalid credentials", as on Proxmox.

use std::fmt;

use crate::constant_time;
use crate::perl;

/// The 64 characters of crypt's base-64 alphabet, in value order (`.` is 0, `z` is 63).
pub const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Rounds used when a setting carries no `rounds=` field (the SHA-crypt default).
pub const DEFAULT_ROUNDS: u32 = 5_000;
/// Fewest rounds libxcrypt accepts in a `rounds=` field.
pub const MIN_ROUNDS: u32 = 1_000;
/// Most rounds libxcrypt accepts in a `rounds=` field.
pub const MAX_ROUNDS: u32 = 999_999_999;
/// libxcrypt refuses passwords of this many bytes or more (`CRYPT_MAX_PASSPHRASE_SIZE`).
pub const MAX_PASSWORD_BYTES: usize = 512;

/// Why a `pve`-realm password was not accepted. The texts are Proxmox's `die` messages, which
/// end up in the `authentication failure; … msg=` log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The password is empty (or `"0"`, false in Perl): refused before any lookup.
    #[error("no password")]
    NoPassword,
    /// The user has no entry in `shadow.cfg`.
    #[error("no password set")]
    NoPasswordSet,
    /// The password does not match the stored hash, or the stored hash is malformed.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The stored hash uses a scheme corral does not implement (difference from Proxmox).
    #[error(
        "unsupported password hash scheme {scheme}: corral verifies only $5$ (SHA-256 crypt) \
         and $6$ (SHA-512 crypt)"
    )]
    UnsupportedScheme {
        /// The scheme, e.g. `$y$ (yescrypt)` or `traditional DES`.
        scheme: String,
    },
}

/// A password libxcrypt would refuse to hash: [`MAX_PASSWORD_BYTES`] or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password is too long: {len} bytes, crypt takes at most 511")]
pub struct PasswordTooLong {
    /// Length in bytes (after the cut at the first NUL byte).
    pub len: usize,
}

/// Why [`crypt`] produced no hash (libxcrypt would return its `*0` failure token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    /// The setting names a scheme other than `$5$`/`$6$`.
    #[error("unsupported password hash scheme {scheme}")]
    UnsupportedScheme {
        /// The scheme, e.g. `$1$ (MD5-crypt)`.
        scheme: String,
    },
    /// The password is too long for crypt.
    #[error(transparent)]
    PasswordTooLong(#[from] PasswordTooLong),
    /// The setting is not one libxcrypt accepts.
    #[error("invalid crypt setting: {reason}")]
    InvalidSetting {
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why a salt for a new hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaltError {
    /// The salt is empty.
    #[error("salt is empty")]
    Empty,
    /// SHA-crypt uses at most 16 salt characters; a longer salt would be cut silently.
    #[error("salt is {len} characters long, SHA-crypt uses at most 16")]
    TooLong {
        /// Length in characters.
        len: usize,
    },
    /// A character outside crypt's alphabet `[./0-9A-Za-z]`.
    #[error("salt character {character:?} at position {position} is not one of [./0-9A-Za-z]")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 0-based character position.
        position: usize,
    },
}

/// A salt for a new SHA-crypt hash: 1 to 16 characters of [`CRYPT_ALPHABET`]. Proxmox uses 8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salt(String);

impl Salt {
    /// Longest salt SHA-crypt uses.
    pub const MAX_LEN: usize = 16;

    /// Validates a salt. Stricter than libxcrypt (which takes any printable character but
    /// `$!*:;\`) so that every hash corral writes is valid for every crypt implementation.
    pub fn new(salt: &str) -> Result<Self, SaltError> {
        if salt.is_empty() {
            return Err(SaltError::Empty);
        }
        let len = salt.chars().count();
        if len > Self::MAX_LEN {
            return Err(SaltError::TooLong { len });
        }
        if let Some((position, character)) = salt
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii() || !CRYPT_ALPHABET.contains(&(*c as u8)))
        {
            return Err(SaltError::InvalidCharacter {
                character,
                position,
            });
        }
        Ok(Salt(salt.to_owned()))
    }

    /// The salt text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether Proxmox treats `password` as absent: `die "no password\n" if !$password;` is true
/// for `""` and also for `"0"` (Perl truthiness), so the password `0` can never log in.
pub fn is_missing(password: &str) -> bool {
    perl::is_false(password)
}

/// Checks a password against a `shadow.cfg` entry in the order Proxmox's `authenticate_user`
/// does: no password, then no entry ("no password set"), then the hash.
pub fn verify_entry(password: &str, stored_hash: Option<&str>) -> Result<(), PasswordError> {
    if is_missing(password) {
        return Err(PasswordError::NoPassword);
    }
    match stored_hash {
        Some(stored) => verify(password, stored),
        None => Err(PasswordError::NoPasswordSet),
    }
}

/// Checks `password` against a stored crypt hash: `crypt(password, stored) == stored`, compared
/// in constant time. A stored hash crypt refuses never matches (invalid credentials), except an
/// unsupported scheme, which is reported as such so the operator learns why.
pub fn verify(password: &str, stored_hash: &str) -> Result<(), PasswordError> {
    if is_missing(password) {
        return Err(PasswordError::NoPassword);
    }
    let computed = match crypt(password, stored_hash) {
        Ok(computed) => computed,
        Err(CryptError::UnsupportedScheme { scheme }) => {
            return Err(PasswordError::UnsupportedScheme { scheme });
        }
        Err(CryptError::PasswordTooLong(_) | CryptError::InvalidSetting { .. }) => {
            return Err(PasswordError::InvalidCredentials);
        }
    };
    if constant_time::eq(computed.as_bytes(), stored_hash.as_bytes()) {
        Ok(())
    } else {
        Err(PasswordError::InvalidCredentials)
    }
}

/// A new SHA-256 crypt hash `$5$<salt>$<43 chars>` with the default 5000 rounds, as Proxmox's
/// `encrypt_pw` writes it (`crypt(pw, "$5$<salt>$")`).
pub fn hash_sha256(password: &str, salt: &Salt) -> Result<String, PasswordTooLong> {
    let password = c_password(password)?;
    let setting = ShaSetting {
        variant: ShaVariant::Sha256,
        rounds: None,
        salt: salt.as_str(),
    };
    Ok(setting.hash(password, sha_crypt::Params::RECOMMENDED))
}

/// libxcrypt's `crypt(password, setting)` for the `$5$` and `$6$` schemes: the full hash string
/// (`$5$[rounds=N$]<salt>$<hash>`), computed from the setting's prefix; anything after the salt
/// is ignored, so a complete stored hash is a valid setting.
pub fn crypt(password: &str, setting: &str) -> Result<String, CryptError> {
    let variant = scheme_of(setting)?;
    let password = c_password(password)?;
    let parsed = ShaSetting::parse(variant, setting)?;
    let params = match parsed.rounds {
        Some(rounds) => sha_crypt::Params::new(rounds).map_err(|_| CryptError::InvalidSetting {
            reason: "rounds out of range",
        })?,
        None => sha_crypt::Params::RECOMMENDED,
    };
    Ok(parsed.hash(password, params))
}

/// The two SHA-crypt variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShaVariant {
    Sha256,
    Sha512,
}

impl ShaVariant {
    fn prefix(self) -> &'static str {
        match self {
            ShaVariant::Sha256 => "$5$",
            ShaVariant::Sha512 => "$6$",
        }
    }
}

/// A parsed SHA-crypt setting: what libxcrypt reads before it computes anything.
#[derive(Debug)]
struct ShaSetting<'a> {
    variant: ShaVariant,
    /// `Some` when the setting has a `rounds=` field, which the output then repeats.
    rounds: Option<u32>,
    /// At most 16 characters.
    salt: &'a str,
}

impl<'a> ShaSetting<'a> {
    /// libxcrypt's `crypt_sha256crypt_rn`/`crypt_sha512crypt_rn` parsing, after the generic
    /// character check of its `do_crypt`.
    fn parse(variant: ShaVariant, setting: &'a str) -> Result<Self, CryptError> {
        if setting.bytes().any(is_bad_setting_byte) {
            return Err(CryptError::InvalidSetting {
                reason: "setting holds a character crypt refuses",
            });
        }
        let rest = setting
            .strip_prefix(variant.prefix())
            .ok_or(CryptError::InvalidSetting {
                reason: "missing scheme prefix",
            })?;
        let (rounds, rest) = match rest.strip_prefix("rounds=") {
            Some(after) => {
                let (rounds, rest) = parse_rounds(after)?;
                (Some(rounds), rest)
            }
            None => (None, rest),
        };
        let salt_end = rest.find('$').unwrap_or(rest.len());
        // All bytes are ASCII here (checked above), so any byte index is a char boundary.
        let salt = &rest[..salt_end.min(Salt::MAX_LEN)];
        Ok(ShaSetting {
            variant,
            rounds,
            salt,
        })
    }

    /// The complete hash string for `password` (already cut and length-checked).
    fn hash(&self, password: &[u8], params: sha_crypt::Params) -> String {
        let mut out = String::with_capacity(128);
        out.push_str(self.variant.prefix());
        if let Some(rounds) = self.rounds {
            out.push_str("rounds=");
            out.push_str(&rounds.to_string());
            out.push('$');
        }
        out.push_str(self.salt);
        out.push('$');
        let salt = self.salt.as_bytes();
        match self.variant {
            ShaVariant::Sha256 => {
                let digest = sha_crypt::sha256_crypt(password, salt, params);
                encode_digest(&mut out, &digest, &SHA256_ORDER);
            }
            ShaVariant::Sha512 => {
                let digest = sha_crypt::sha512_crypt(password, salt, params);
                encode_digest(&mut out, &digest, &SHA512_ORDER);
            }
        }
        out
    }
}

/// The `rounds=` value: a decimal without leading zero, in range, followed by `$`. Returns the
/// rounds and what follows the `$`.
fn parse_rounds(after: &str) -> Result<(u32, &str), CryptError> {
    const BAD: CryptError = CryptError::InvalidSetting {
        reason: "rounds= needs a decimal from 1000 to 999999999 without leading zero, then $",
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = after.split_at(digits);
    let rest = rest.strip_prefix('$').ok_or(BAD)?;
    if number.starts_with('0') || number.is_empty() || digits > 9 {
        return Err(BAD);
    }
    let rounds: u32 = number.parse().map_err(|_| BAD)?;
    if !(MIN_ROUNDS..=MAX_ROUNDS).contains(&rounds) {
        return Err(BAD);
    }
    Ok((rounds, rest))
}

/// libxcrypt's `check_badsalt_chars`: no control, space, DEL or non-ASCII byte and none of
/// `!*:;\` anywhere in the setting.
fn is_bad_setting_byte(byte: u8) -> bool {
    byte <= 0x20 || byte >= 0x7f || b"!*:;\\".contains(&byte)
}

/// The scheme of a setting: `$5$`/`$6$`, or an error naming the unsupported scheme (or saying
/// the setting is no crypt setting at all).
fn scheme_of(setting: &str) -> Result<ShaVariant, CryptError> {
    if setting.starts_with("$5$") {
        return Ok(ShaVariant::Sha256);
    }
    if setting.starts_with("$6$") {
        return Ok(ShaVariant::Sha512);
    }
    let scheme = if let Some(rest) = setting.strip_prefix('$') {
        let Some(end) = rest.find('$') else {
            return Err(CryptError::InvalidSetting {
                reason: "no scheme: `$` without a closing `$`",
            });
        };
        let id = &rest[..end];
        format!("${id}$ ({})", scheme_name(id))
    } else if setting.starts_with('_') {
        "_ (BSDi extended DES)".to_owned()
    } else if setting.len() >= 2 && setting.bytes().take(2).all(|b| CRYPT_ALPHABET.contains(&b)) {
        "traditional DES".to_owned()
    } else {
        return Err(CryptError::InvalidSetting {
            reason: "not a crypt hash",
        });
    };
    Err(CryptError::UnsupportedScheme { scheme })
}

/// A readable name for a `$id$` prefix, for the unsupported-scheme message.
fn scheme_name(id: &str) -> &'static str {
    match id {
        "1" => "MD5-crypt",
        "2a" | "2b" | "2x" | "2y" => "bcrypt",
        "3" => "NT hash",
        "7" => "scrypt",
        "y" => "yescrypt",
        "gy" => "gost-yescrypt",
        "md5" => "Sun MD5",
        "sha1" => "SHA-1 crypt",
        _ => "unknown scheme",
    }
}

/// The password bytes C's `crypt` sees: cut at the first NUL, at most 511 bytes.
fn c_password(password: &str) -> Result<&[u8], PasswordTooLong> {
    let bytes = password.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    if end >= MAX_PASSWORD_BYTES {
        return Err(PasswordTooLong { len: end });
    }
    Ok(&bytes[..end])
}

/// Byte triples `(b2, b1, b0)` of the SHA-256 crypt digest in output order (glibc's
/// `b64_from_24bit` calls), then the 2 left-over bytes.
const SHA256_ORDER: [[usize; 3]; 10] = [
    [0, 10, 20],
    [21, 1, 11],
    [12, 22, 2],
    [3, 13, 23],
    [24, 4, 14],
    [15, 25, 5],
    [6, 16, 26],
    [27, 7, 17],
    [18, 28, 8],
    [9, 19, 29],
];

/// Byte triples of the SHA-512 crypt digest in output order, then the 1 left-over byte.
const SHA512_ORDER: [[usize; 3]; 21] = [
    [0, 21, 42],
    [22, 43, 1],
    [44, 2, 23],
    [3, 24, 45],
    [25, 46, 4],
    [47, 5, 26],
    [6, 27, 48],
    [28, 49, 7],
    [50, 8, 29],
    [9, 30, 51],
    [31, 52, 10],
    [53, 11, 32],
    [12, 33, 54],
    [34, 55, 13],
    [56, 14, 35],
    [15, 36, 57],
    [37, 58, 16],
    [59, 17, 38],
    [18, 39, 60],
    [40, 61, 19],
    [62, 20, 41],
];

/// Appends crypt's base-64 of a digest: each triple as 4 characters, least significant 6 bits
/// first, then the bytes no triple covers (1 or 2) as a shorter group.
fn encode_digest(out: &mut String, digest: &[u8], order: &[[usize; 3]]) {
    for &[b2, b1, b0] in order {
        let word =
            (u32::from(digest[b2]) << 16) | (u32::from(digest[b1]) << 8) | u32::from(digest[b0]);
        push_b64(out, word, 4);
    }
    let tail = match digest.len() {
        // SHA-256: (0, d[31], d[30]) as 3 characters.
        32 => ((u32::from(digest[31]) << 8) | u32::from(digest[30]), 3),
        // SHA-512: (0, 0, d[63]) as 2 characters.
        _ => (u32::from(digest[digest.len() - 1]), 2),
    };
    push_b64(out, tail.0, tail.1);
}

/// `count` characters of `word`, 6 bits each, low bits first.
fn push_b64(out: &mut String, mut word: u32, count: usize) {
    for _ in 0..count {
        out.push(char::from(CRYPT_ALPHABET[(word & 0x3f) as usize]));
        word >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test vectors from Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" spec, checked
    /// against Debian 12's libxcrypt 4.4.33 through Perl's `crypt`.
    const DREPPER_SHA256: &[(&str, &str, &str)] = &[
        (
            "$5$saltstring",
            "Hello world!",
            "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        ),
        (
            "$5$rounds=5000$toolongsaltstring",
            "This is just a test",
            "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5",
        ),
        (
            "$5$rounds=1400$anotherlongsaltstring",
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1",
        ),
        (
            "$5$rounds=77777$short",
            "we have a short salt string but not a short password",
            "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
        ),
        (
            "$5$rounds=123456$asaltof16chars..",
            "a short string",
            "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD",
        ),
    ];

    const DREPPER_SHA512: &[(&str, &str, &str)] = &[
        (
            "$6$saltstring",
            "Hello world!",
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        ),
        (
            "$6$rounds=5000$toolongsaltstring",
            "This is just a test",
            "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
        ),
        (
            "$6$rounds=1400$anotherlongsaltstring",
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
        ),
        (
            "$6$rounds=77777$short",
            "we have a short salt string but not a short password",
            "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0",
        ),
    ];

    /// `openssl passwd -5 -salt abcdefgh secret` and `-6` (OpenSSL 3.0.19).
    const OPENSSL_SHA256: &str = "$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.";
    const OPENSSL_SHA512: &str = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";

    fn salt(s: &str) -> Salt {
        Salt::new(s).expect("valid test salt")
    }

    /// Each vector hashed, verified and refused with a wrong password. (The vectors with
    /// 77777 and 123456 rounds take seconds in a debug build; the two tests run in parallel.)
    fn check_vectors(vectors: &[(&str, &str, &str)]) {
        for &(setting, password, expected) in vectors {
            assert_eq!(
                crypt(password, setting).as_deref(),
                Ok(expected),
                "{setting}"
            );
            assert_eq!(verify(password, expected), Ok(()), "{setting}");
            assert_eq!(
                verify("wrong password", expected),
                Err(PasswordError::InvalidCredentials)
            );
        }
    }

    #[test]
    fn drepper_sha256_vectors() {
        check_vectors(DREPPER_SHA256);
    }

    #[test]
    fn drepper_sha512_vectors() {
        check_vectors(DREPPER_SHA512);
    }

    #[test]
    fn openssl_passwd_vectors() {
        assert_eq!(verify("secret", OPENSSL_SHA256), Ok(()));
        assert_eq!(verify("secret", OPENSSL_SHA512), Ok(()));
        assert_eq!(
            hash_sha256("secret", &salt("abcdefgh")).as_deref(),
            Ok(OPENSSL_SHA256)
        );
        assert_eq!(
            verify("Secret", OPENSSL_SHA256),
            Err(PasswordError::InvalidCredentials)
        );
    }

    #[test]
    fn rounds_field_is_kept_even_at_the_default() {
        // libxcrypt: perl -e 'print crypt("secret", q{$5$rounds=1000$abcdefgh})'
        let h = "$5$rounds=1000$abcdefgh$XIppta5rT8zJUu4vAOKQXrwq9uY4Ijlz6VjyOmkx5i4";
        assert_eq!(crypt("secret", "$5$rounds=1000$abcdefgh").as_deref(), Ok(h));
        assert_eq!(verify("secret", h), Ok(()));
        let h6 = "$6$rounds=1000$abcdefgh$nhYjN017qxiYztzyUpZtPnUQcnLy62KsunSLHNeLahp2EHPlAKmFFlrjEwSXGo2kgY5hR2.peKEg2VGUqIJJu1";
        assert_eq!(verify("secret", h6), Ok(()));
        // An explicit rounds=5000 computes the same digest as no field, but the output
        // repeats the field, so the two stored strings are different hashes.
        let explicit = crypt("x", "$5$rounds=5000$abc$").expect("valid setting");
        let implicit = crypt("x", "$5$abc$").expect("valid setting");
        assert_eq!(
            explicit.strip_prefix("$5$rounds=5000$"),
            implicit.strip_prefix("$5$")
        );
        assert_eq!(verify("x", &explicit), Ok(()));
        assert_eq!(verify("x", &implicit), Ok(()));
    }

    #[test]
    fn utf8_and_nul_as_perl_passes_them() {
        // perl (UTF-8 source, no `use utf8`): crypt("pässwörd", q{$5$Ab/.9zZq$})
        let h = "$5$Ab/.9zZq$AmAZ4.jpaQ.wb8KAd/vRMMbdZohL1Pwxc6/F.myO5X5";
        assert_eq!(verify("pässwörd", h), Ok(()));
        // C sees the password up to the first NUL.
        assert_eq!(verify("secret\0tail", OPENSSL_SHA256), Ok(()));
    }

    #[test]
    fn password_length_limit_of_libxcrypt() {
        // perl -e 'print crypt("a" x 511, q{$5$abc$})'
        let h = "$5$abc$gbKKF1UCt56U2wmbpQZXxjCZSGjAvE3fklHKuzHGBz1";
        assert_eq!(verify(&"a".repeat(511), h), Ok(()));
        assert_eq!(
            crypt(&"a".repeat(512), "$5$abc$"),
            Err(CryptError::PasswordTooLong(PasswordTooLong { len: 512 }))
        );
        assert_eq!(
            hash_sha256(&"a".repeat(600), &salt("abc")),
            Err(PasswordTooLong { len: 600 })
        );
    }

    #[test]
    fn settings_libxcrypt_refuses() {
        for setting in [
            "$5$rounds=10$roundstoolow",
            "$6$rounds=10$roundstoolow",
            "$5$rounds=05000$abc",
            "$5$rounds=$abc",
            "$5$rounds=1000abc",
            "$5$rounds=+1000$a",
            "$5$rounds=5000",
            "$5$rounds=1000000000$a",
            "$5$rounds=99999999999999999999999$a",
            "$5$sa!t",
            "$5$sa:t$",
            "$5$éé$",
            "$5$abc$h sh",
            "$5$abc$h*sh",
        ] {
            assert!(
                matches!(crypt("x", setting), Err(CryptError::InvalidSetting { .. })),
                "{setting}"
            );
            assert_eq!(
                verify("x", setting),
                Err(PasswordError::InvalidCredentials),
                "{setting}"
            );
        }
    }

    #[test]
    fn settings_libxcrypt_accepts() {
        // Outputs from libxcrypt 4.4.33 for the password "Hello world!".
        for (setting, expected) in [
            ("$5$", "$5$$mAwMsDaqjtxAtGqstEIf7OBR15rgcx.jSKGM94IKRj/"),
            ("$5$$", "$5$$mAwMsDaqjtxAtGqstEIf7OBR15rgcx.jSKGM94IKRj/"),
            (
                "$5$saltstring$garbage",
                "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
            ),
            (
                "$5$ROUNDS=1000$a",
                "$5$ROUNDS=1000$pdd5X1M3weh3yWW6OurgLOlyaW1.kHfm5CIB7gGKYIC",
            ),
            (
                "$5$rounds=1000$$",
                "$5$rounds=1000$$fWmcdVBSaDEbEh4RwpOdDkQebHtrfIZQw4iQn4m1.W4",
            ),
        ] {
            assert_eq!(
                crypt("Hello world!", setting).as_deref(),
                Ok(expected),
                "{setting}"
            );
        }
    }

    #[test]
    fn stored_hash_must_equal_the_output_exactly() {
        // A salt longer than 16 characters is cut in the output, so the stored string with
        // the long salt never equals it: such an entry never verifies (as on Proxmox).
        let long = "$5$rounds=5000$toolongsaltstring$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5";
        assert_eq!(
            verify("This is just a test", long),
            Err(PasswordError::InvalidCredentials)
        );
        // A truncated or extended hash does not match either.
        assert_eq!(
            verify("secret", &OPENSSL_SHA256[..OPENSSL_SHA256.len() - 1]),
            Err(PasswordError::InvalidCredentials)
        );
        assert_eq!(
            verify("secret", &format!("{OPENSSL_SHA256}x")),
            Err(PasswordError::InvalidCredentials)
        );
    }

    #[test]
    fn unsupported_schemes_are_named() {
        for (stored, scheme) in [
            ("$y$j9T$abc$def", "$y$ (yescrypt)"),
            ("$1$abc$.FiamM1s4pFo0QKAk4pqS.", "$1$ (MD5-crypt)"),
            (
                "$2b$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz12345",
                "$2b$ (bcrypt)",
            ),
            ("$9$abc$", "$9$ (unknown scheme)"),
            ("abMbH7WsHr7wQ", "traditional DES"),
            ("_J9..abcdefghijk", "_ (BSDi extended DES)"),
        ] {
            let err = verify("Hello world!", stored).expect_err(stored);
            assert_eq!(
                err,
                PasswordError::UnsupportedScheme {
                    scheme: scheme.to_owned()
                }
            );
            assert!(err.to_string().contains(scheme), "{err}");
            assert!(err.to_string().contains("unsupported"), "{err}");
        }
    }

    #[test]
    fn non_hashes_are_invalid_credentials() {
        for stored in ["!", "*", "x", "", "$5abc", "!$5$abc$def"] {
            assert_eq!(
                verify("secret", stored),
                Err(PasswordError::InvalidCredentials),
                "{stored:?}"
            );
        }
    }

    #[test]
    fn proxmox_messages_and_order() {
        assert_eq!(PasswordError::NoPassword.to_string(), "no password");
        assert_eq!(PasswordError::NoPasswordSet.to_string(), "no password set");
        assert_eq!(
            PasswordError::InvalidCredentials.to_string(),
            "invalid credentials"
        );
        assert_eq!(verify_entry("", None), Err(PasswordError::NoPassword));
        assert_eq!(
            verify_entry("0", Some(OPENSSL_SHA256)),
            Err(PasswordError::NoPassword)
        );
        assert_eq!(
            verify_entry("secret", None),
            Err(PasswordError::NoPasswordSet)
        );
        assert_eq!(verify_entry("secret", Some(OPENSSL_SHA256)), Ok(()));
        assert_eq!(
            verify_entry("nope", Some(OPENSSL_SHA256)),
            Err(PasswordError::InvalidCredentials)
        );
        // "0" is absent even when it is the hashed password.
        let zero = hash_sha256("0", &salt("abcdefgh")).expect("short password");
        assert_eq!(verify("0", &zero), Err(PasswordError::NoPassword));
        assert!(is_missing("") && is_missing("0"));
        assert!(!is_missing("00") && !is_missing(" "));
    }

    #[test]
    fn hash_sha256_round_trips() {
        for (password, s) in [("secret", "abcdefgh"), ("pässwörd", "./09AZaz"), ("x", "a")] {
            let hash = hash_sha256(password, &salt(s)).expect("short password");
            assert!(hash.starts_with(&format!("$5${s}$")), "{hash}");
            assert_eq!(hash.len(), 3 + s.len() + 1 + 43);
            assert_eq!(verify(password, &hash), Ok(()));
            assert_eq!(crypt(password, &hash).as_deref(), Ok(hash.as_str()));
        }
    }

    #[test]
    fn salt_validation() {
        assert_eq!(
            Salt::new("abcdefgh").map(|s| s.to_string()).as_deref(),
            Ok("abcdefgh")
        );
        assert!(Salt::new("./0123456789ABCD").is_ok());
        assert_eq!(Salt::new(""), Err(SaltError::Empty));
        assert_eq!(
            Salt::new("abcdefghijklmnopq"),
            Err(SaltError::TooLong { len: 17 })
        );
        assert_eq!(
            Salt::new("ab+d"),
            Err(SaltError::InvalidCharacter {
                character: '+',
                position: 2
            })
        );
        assert_eq!(
            Salt::new("a$"),
            Err(SaltError::InvalidCharacter {
                character: '$',
                position: 1
            })
        );
        assert!(matches!(
            Salt::new("é"),
            Err(SaltError::InvalidCharacter {
                character: 'é', ..
            })
        ));
    }
}
