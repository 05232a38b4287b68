//! CSRF prevention tokens (`CSRFPreventionToken` header), as Proxmox VE makes them.
//!
//! The secret comes from `/etc/pve/pve-www.key`: the unpadded base64 of HMAC-SHA256 keyed with
//! the file's whole contents over an empty message. (Perl's `hmac_sha256_base64($contents)`
//! takes its *last* argument as the key, so the one argument is the key, not the message.)
//!
//! A token is `<time as %08X>:<signature>`, the signature being the unpadded base64 of
//! HMAC-SHA256 keyed with the secret's base64 text over `<time>:<userid>`. It is bound to the
//! user, not to a ticket, and valid while −300 s < age < 7200 s.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use crate::auth::keyage::AgeRange;
use crate::auth::parse_hex_time;
use crate::constant_time;
use crate::perl;
use crate::time::UnixTime;

/// What Proxmox answers (with 401) when the token does not check out.
pub const DENIED_MESSAGE: &str = "Permission denied - invalid csrf token";

/// Why a CSRF token was refused or no secret could be made.
#[derive(Debug, thiserror::Error)]
pub enum CsrfError {
    #[error("malformed CSRF token: expected 8 uppercase hex digits, ':', and a signature")]
    Malformed,
    #[error("CSRF token signature does not match (wrong user, or another cluster's key)")]
    BadSignature,
    #[error("CSRF token expired: issued {age} s ago, valid for less than {max} s")]
    Expired { age: i64, max: i64 },
    #[error("CSRF token not valid yet: issued {} s in the future", -age)]
    NotYetValid { age: i64 },
    #[error("cannot make a CSRF token at time {0}: tokens carry times from 1970 to 2106")]
    TimeOutOfRange(i64),
    #[error("the CSRF key file (pve-www.key) is empty")]
    EmptyKey,
    #[error("HMAC-SHA256 failed: {0}")]
    Hmac(#[source] openssl::error::ErrorStack),
}

/// The secret CSRF tokens are made and checked with, derived from `pve-www.key`.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfSecret(String);

impl CsrfSecret {
    /// Derives the secret from the whole contents of `/etc/pve/pve-www.key`, trailing newline
    /// included.
    ///
    /// Difference: an empty key file is refused. Proxmox would derive a secret everyone can
    /// compute, which makes every token forgeable.
    pub fn from_key_file(contents: &[u8]) -> Result<CsrfSecret, CsrfError> {
        if contents.is_empty() {
            return Err(CsrfError::EmptyKey);
        }
        Ok(CsrfSecret(
            STANDARD_NO_PAD.encode(hmac_sha256(contents, b"")?),
        ))
    }

    /// The secret's base64 text (it is also what SPICE proxy tickets are keyed with).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A token for `userid`, issued at `now`.
    pub fn token(&self, userid: &str, now: UnixTime) -> Result<String, CsrfError> {
        let time = u32::try_from(now.0).map_err(|_| CsrfError::TimeOutOfRange(now.0))?;
        let time = format!("{time:08X}");
        let signature = self.signature(&time, userid)?;
        Ok(format!("{time}:{signature}"))
    }

    /// Checks a token presented by `userid` at `now`.
    ///
    /// Difference: Proxmox VE 6 and older made 27-character SHA-1 tokens, which Proxmox still
    /// checks with a legacy secret; corral does not. Those tokens live 2 h and no current node
    /// makes them.
    pub fn verify(&self, userid: &str, token: &str, now: UnixTime) -> Result<(), CsrfError> {
        let (time_text, time, signature) = split_token(token).ok_or(CsrfError::Malformed)?;
        let expected = self.signature(time_text, userid)?;
        if !constant_time::eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(CsrfError::BadSignature);
        }
        let age = now.0.saturating_sub(i64::from(time));
        let window = AgeRange::DEFAULT;
        if window.contains(age) {
            Ok(())
        } else if age <= window.min {
            Err(CsrfError::NotYetValid { age })
        } else {
            Err(CsrfError::Expired {
                age,
                max: window.max,
            })
        }
    }

    fn signature(&self, time: &str, userid: &str) -> Result<String, CsrfError> {
        let message = format!("{time}:{userid}");
        let mac = hmac_sha256(self.0.as_bytes(), message.as_bytes())?;
        Ok(STANDARD_NO_PAD.encode(mac))
    }
}

impl std::fmt::Debug for CsrfSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfSecret(..)")
    }
}

/// Proxmox's pattern `^([A-Z0-9]{8}):(\S+)$`, narrowed to hex digits for the time.
///
/// Difference: Proxmox's pattern admits `G`–`Z` in the time, which no node writes.
/// The time comes back as written and as its value.
fn split_token(token: &str) -> Option<(&str, u32, &str)> {
    let (time_text, signature) = token.split_once(':')?;
    let time = parse_hex_time(time_text)?;
    let signature_ok = !signature.is_empty() && !signature.contains(perl::is_space);
    signature_ok.then_some((time_text, time, signature))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<Vec<u8>, CsrfError> {
    let key = PKey::hmac(key).map_err(CsrfError::Hmac)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(CsrfError::Hmac)?;
    signer.sign_oneshot_to_vec(message).map_err(CsrfError::Hmac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_795_478_400);

    fn secret() -> CsrfSecret {
        CsrfSecret::from_key_file(b"abc\n").expect("secret")
    }

    #[test]
    fn the_secret_is_keyed_with_the_file_contents_as_perl_does() {
        // Perl: Digest::SHA::hmac_sha256_base64("abc\n").
        assert_eq!(
            secret().as_str(),
            "AaCdrxXhDfdGv7h5BeF1/S0noorsENJzK2KTTVvmo08"
        );
    }

    #[test]
    fn token_matches_an_independent_hmac() {
        // `printf '6B04D380:root@pam' | openssl dgst -sha256 -hmac
        //  AaCdrxXhDfdGv7h5BeF1/S0noorsENJzK2KTTVvmo08 -binary | base64 | tr -d =`
        let token = secret().token("root@pam", NOW).expect("token");
        assert_eq!(
            token,
            "6B04D380:Des91r2s5944yDkDqvnW/7RFezo4BhAUBqKcGsYiCKI"
        );
    }

    #[test]
    fn a_fresh_token_of_the_same_user_passes() {
        let token = secret().token("root@pam", NOW).expect("token");
        assert!(secret().verify("root@pam", &token, NOW).is_ok());
        assert!(
            secret()
                .verify("root@pam", &token, UnixTime(NOW.0 + 7199))
                .is_ok()
        );
        assert!(
            secret()
                .verify("root@pam", &token, UnixTime(NOW.0 - 299))
                .is_ok()
        );
    }

    #[test]
    fn another_users_token_or_another_key_is_refused() {
        let token = secret().token("root@pam", NOW).expect("token");
        assert!(matches!(
            secret().verify("admin@pve", &token, NOW),
            Err(CsrfError::BadSignature)
        ));
        let other = CsrfSecret::from_key_file(b"abd\n").expect("secret");
        assert!(matches!(
            other.verify("root@pam", &token, NOW),
            Err(CsrfError::BadSignature)
        ));
        // The same signature with another time.
        let moved = token.replacen("6B04D380", "6B04D381", 1);
        assert!(matches!(
            secret().verify("root@pam", &moved, NOW),
            Err(CsrfError::BadSignature)
        ));
    }

    #[test]
    fn expired_and_future_tokens_are_refused_edges_included() {
        let token = secret().token("root@pam", NOW).expect("token");
        assert!(matches!(
            secret().verify("root@pam", &token, UnixTime(NOW.0 + 7200)),
            Err(CsrfError::Expired {
                age: 7200,
                max: 7200
            })
        ));
        assert!(matches!(
            secret().verify("root@pam", &token, UnixTime(NOW.0 - 300)),
            Err(CsrfError::NotYetValid { age: -300 })
        ));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = secret().token("root@pam", NOW).expect("token");
        let signature = good.split_once(':').expect(":").1;
        for token in [
            String::new(),
            "6B04D380".into(),
            "6B04D380:".into(),
            format!("6b04d380:{signature}"),
            format!("6B04D38:{signature}"),
            format!("06B04D380:{signature}"),
            format!("ZZZZZZZZ:{signature}"),
            format!("6B04D380:{signature} "),
            format!(" 6B04D380:{signature}"),
        ] {
            assert!(
                matches!(
                    secret().verify("root@pam", &token, NOW),
                    Err(CsrfError::Malformed)
                ),
                "{token:?}"
            );
        }
        // A shorter or longer signature is a mismatch, not a panic in the comparison.
        for token in [
            format!("6B04D380:{}", &signature[1..]),
            format!("{good}A"),
            format!("{good}="),
        ] {
            assert!(matches!(
                secret().verify("root@pam", &token, NOW),
                Err(CsrfError::BadSignature)
            ));
        }
    }

    #[test]
    fn empty_key_and_out_of_range_times_are_errors() {
        assert!(matches!(
            CsrfSecret::from_key_file(b""),
            Err(CsrfError::EmptyKey)
        ));
        assert!(matches!(
            secret().token("root@pam", UnixTime(-1)),
            Err(CsrfError::TimeOutOfRange(-1))
        ));
        assert!(
            secret()
                .verify("root@pam", "00000000:x", UnixTime(i64::MIN))
                .is_err()
        );
        assert_eq!(format!("{:?}", secret()), "CsrfSecret(..)");
    }
}
