//! Proxmox VE authentication tickets (`PVEAuthCookie`).
//!
//! A ticket is `PVE:<userid>:<time>::<signature>`:
//! - `<userid>` with `:` percent-escaped (see [`sign`] for `%`);
//! - `<time>` the issue time as 8 uppercase hex digits (`%08X`);
//! - `<signature>` padded standard base64 of an RSA signature over everything before `::`
//!   (`PVE:<userid>:<time>`).
//!
//! Proxmox signs with Crypt::OpenSSL::RSA's default, which changed between releases (PKCS#1
//! v1.5 with SHA-1 in 0.33, SHA-256 and PSS later), and verifies with the same default. corral
//! verifies all three, so it accepts tickets from any Proxmox release, and signs with
//! [`SignDigest::Sha256`] unless told otherwise.
//!
//! Validity: see [`crate::auth::keyage`]. The current key is tried first, then the old one.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use openssl::hash::MessageDigest;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};

use crate::auth::keyage::{AgeRange, KeyRole, Quorum, age_range};
use crate::auth::keys::{PublicKeys, SigningKey, VerifyKey};
use crate::auth::parse_hex_time;
use crate::escape::{escape_ticket_data, uri_unescape};
use crate::perl;
use crate::time::UnixTime;

/// The prefix of every login ticket.
pub const PREFIX: &str = "PVE";

/// The longest ticket looked at. A real one is about 370 bytes (a 2048-bit signature is 344
/// base64 characters); anything longer is refused before any parsing or cryptography.
pub const TICKET_LEN_MAX: usize = 4096;

/// The prefix of the data of a ticket for a login still waiting for its second factor
/// (`!tfa!<challenge JSON>`).
const TFA_PENDING_PREFIX: &str = "!tfa!";

/// The digest corral signs tickets with. Every Proxmox node verifies with one algorithm only
/// (its Crypt::OpenSSL::RSA default), so a cluster that still has nodes verifying SHA-1 needs
/// [`SignDigest::Sha1`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignDigest {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    ///
    /// Difference: Proxmox with Crypt::OpenSSL::RSA 0.33 signs with SHA-1; corral defaults to
    /// SHA-256, which newer Crypt::OpenSSL::RSA verifies by default.
    #[default]
    Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-1, what Proxmox with Crypt::OpenSSL::RSA 0.33 signs and
    /// verifies.
    Sha1,
}

/// Why a ticket was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("ticket is {len} bytes long, more than the {max} accepted")]
    TooLong { len: usize, max: usize },
    #[error("malformed ticket: {0}")]
    Malformed(&'static str),
    #[error("ticket signature does not match the authentication key")]
    BadSignature,
    #[error("ticket expired: issued {age} s ago, valid for less than {max} s")]
    Expired { age: i64, max: i64 },
    #[error("ticket not valid (yet): its age is {age} s, it must be more than {min} s")]
    NotYetValid { age: i64, min: i64 },
    #[error(
        "the authentication key is overdue for rotation and accepts no ticket (is pvedaemon \
         running?)"
    )]
    KeyTooOld,
    #[error("ticket is for a login still waiting for its second factor")]
    SecondFactorPending,
    #[error("cannot issue a ticket for user id {0:?}: it is empty or contains whitespace")]
    InvalidUserid(String),
    #[error("cannot issue a ticket at time {0}: tickets carry times from 1970 to 2106")]
    TimeOutOfRange(i64),
    #[error("signing the ticket failed: {0}")]
    Sign(#[source] openssl::error::ErrorStack),
}

/// A ticket that passed: whose it is and how old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user id as signed (unescaped). The caller still checks that the user exists, is
    /// enabled and has not expired, as Proxmox's `auth_handler` does.
    pub userid: String,
    /// Seconds since the ticket was issued (negative when issued by a node whose clock is
    /// ahead).
    pub age: i64,
}

/// Issues a ticket for `userid` at `now`.
///
/// Difference: besides `:`, a `%` in the user id is escaped (as `%25`), because Proxmox's
/// verifier unescapes every `%XX`; the ticket reads back as exactly `userid` on corral and
/// on Proxmox. User ids without `%` (all real ones) give exactly Proxmox's ticket text.
pub fn sign(
    userid: &str,
    now: UnixTime,
    key: &SigningKey,
    digest: SignDigest,
) -> Result<String, TicketError> {
    if userid.is_empty() || userid.contains(perl::is_space) {
        return Err(TicketError::InvalidUserid(userid.to_owned()));
    }
    sign_data(&escape_ticket_data(userid), None, now, key, digest)
}

/// Checks a ticket against the node's public keys at `now` and returns its user.
///
/// The current key is tried first; when it refuses the ticket (wrong signature or outside its
/// window), the old key is tried. When both refuse, the error is the most telling one: a time
/// error from a key whose signature matched, else [`TicketError::BadSignature`].
pub fn verify(
    ticket: &str,
    keys: &PublicKeys,
    now: UnixTime,
    quorum: Quorum,
) -> Result<Verified, TicketError> {
    let (data, age) = verify_data(ticket, None, keys, now, quorum)?;
    let Some(data) = data else {
        return Err(TicketError::Malformed("no user id"));
    };
    if is_second_factor_data(&data) {
        return Err(TicketError::SecondFactorPending);
    }
    Ok(Verified { userid: data, age })
}

/// Whether ticket data belongs to an unfinished two-factor login rather than naming a user.
///
/// Difference: Proxmox (until PVE 7) also issued `u2f!<user>!verified` tickets for a completed
/// U2F login; corral treats every `tfa!`/`u2f!` ticket as unfinished. Such tickets live 2 h and
/// are no longer issued, so this refuses only tickets from before an upgrade.
fn is_second_factor_data(data: &str) -> bool {
    data.starts_with(TFA_PENDING_PREFIX) || data.starts_with("tfa!") || data.starts_with("u2f!")
}

/// `assemble_rsa_ticket`: signs `PVE:<data>:<time>` (plus `:<aad>`, the additional data a
/// second-factor ticket is bound to, which is signed but not sent). `data` is already
/// escaped.
fn sign_data(
    data: &str,
    aad: Option<&str>,
    now: UnixTime,
    key: &SigningKey,
    digest: SignDigest,
) -> Result<String, TicketError> {
    let time = u32::try_from(now.0).map_err(|_| TicketError::TimeOutOfRange(now.0))?;
    let plain = format!("{PREFIX}:{data}:{time:08X}");
    let signed = signed_text(&plain, aad);
    let md = match digest {
        SignDigest::Sha256 => MessageDigest::sha256(),
        SignDigest::Sha1 => MessageDigest::sha1(),
    };
    let signature = (|| {
        let mut signer = Signer::new(md, key.pkey())?;
        signer.set_rsa_padding(Padding::PKCS1)?;
        signer.sign_oneshot_to_vec(signed.as_bytes())
    })()
    .map_err(TicketError::Sign)?;
    let ticket = format!("{plain}::{}", STANDARD.encode(signature));
    if ticket.len() > TICKET_LEN_MAX {
        // Never issue a ticket that would be refused as too long.
        return Err(TicketError::TooLong {
            len: ticket.len(),
            max: TICKET_LEN_MAX,
        });
    }
    Ok(ticket)
}

/// `verify_rsa_ticket` with both keys: the unescaped data (`None` for a ticket without) and
/// the ticket's age.
fn verify_data(
    ticket: &str,
    aad: Option<&str>,
    keys: &PublicKeys,
    now: UnixTime,
    quorum: Quorum,
) -> Result<(Option<String>, i64), TicketError> {
    let parsed = Parsed::parse(ticket)?;
    let age = now.0.saturating_sub(i64::from(parsed.time));
    let signed = signed_text(parsed.plain, aad);
    let current = check_with_key(
        &parsed,
        &signed,
        age,
        &keys.current,
        KeyRole::Current,
        now,
        quorum,
    );
    let outcome = match (current, &keys.old) {
        (Ok(()), _) => Ok(()),
        (Err(current_error), Some(old)) => {
            check_with_key(&parsed, &signed, age, old, KeyRole::Rotated, now, quorum)
                .map_err(|old_error| most_telling(current_error, old_error))
        }
        (Err(current_error), None) => Err(current_error),
    };
    outcome?;
    let data = parsed.data.map(decode_data).transpose()?;
    Ok((data, age))
}

/// Of two refusals, the one worth reporting: a signature that matched makes its time error
/// more telling than the other key's "bad signature".
fn most_telling(current: TicketError, old: TicketError) -> TicketError {
    match (&current, &old) {
        (TicketError::BadSignature, TicketError::BadSignature) => current,
        (TicketError::BadSignature, _) => old,
        _ => current,
    }
}

/// One key's verdict: the signature first (as Proxmox), then the key's window.
fn check_with_key(
    parsed: &Parsed<'_>,
    signed: &str,
    age: i64,
    key: &VerifyKey,
    role: KeyRole,
    now: UnixTime,
    quorum: Quorum,
) -> Result<(), TicketError> {
    if !signature_matches(key, signed.as_bytes(), &parsed.signature) {
        return Err(TicketError::BadSignature);
    }
    let range = age_range(now, key.modified(), role, quorum).ok_or(TicketError::KeyTooOld)?;
    check_window(age, range)
}

fn check_window(age: i64, range: AgeRange) -> Result<(), TicketError> {
    if range.contains(age) {
        Ok(())
    } else if age <= range.min {
        Err(TicketError::NotYetValid {
            age,
            min: range.min,
        })
    } else {
        Err(TicketError::Expired {
            age,
            max: range.max,
        })
    }
}

/// Whether `signature` is a valid signature of `signed`: remembered by the key, or checked
/// with RSA (and then remembered).
fn signature_matches(key: &VerifyKey, signed: &[u8], signature: &[u8]) -> bool {
    if key.has_verified(signed, signature) {
        return true;
    }
    let valid = rsa_signature_matches(key, signed, signature);
    if valid {
        key.remember_verified(signed, signature);
    }
    valid
}

/// Whether `signature` is a valid signature of `signed` under any scheme a Proxmox release
/// signs with: PKCS#1 v1.5 with SHA-256 or SHA-1, or PSS with SHA-256 (any salt length).
fn rsa_signature_matches(key: &VerifyKey, signed: &[u8], signature: &[u8]) -> bool {
    let schemes = [
        (MessageDigest::sha256(), Padding::PKCS1),
        (MessageDigest::sha1(), Padding::PKCS1),
        (MessageDigest::sha256(), Padding::PKCS1_PSS),
    ];
    schemes.into_iter().any(|(md, padding)| {
        let verdict = (|| {
            let mut verifier = Verifier::new(md, key.pkey())?;
            verifier.set_rsa_padding(padding)?;
            if padding == Padding::PKCS1_PSS {
                // -2 is RSA_PSS_SALTLEN_AUTO when verifying: take the salt length from the
                // signature, as OpenSSL's default verification does.
                verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(-2))?;
            }
            verifier.verify_oneshot(signature, signed)
        })();
        // An OpenSSL error (e.g. a signature of the wrong length) is a mismatch.
        verdict.unwrap_or(false)
    })
}

/// The text the signature covers: the ticket before `::`, plus `:<aad>` when bound to
/// additional data.
fn signed_text(plain: &str, aad: Option<&str>) -> String {
    match aad {
        Some(aad) => format!("{plain}:{aad}"),
        None => plain.to_owned(),
    }
}

/// Unescapes ticket data; it must be UTF-8 (user ids are).
fn decode_data(escaped: &str) -> Result<String, TicketError> {
    String::from_utf8(uri_unescape(escaped.as_bytes()))
        .map_err(|_| TicketError::Malformed("user id is not UTF-8 after unescaping"))
}

/// A ticket taken apart, not yet verified.
#[derive(Debug)]
struct Parsed<'a> {
    /// Everything before `::`: the signed text (without aad).
    plain: &'a str,
    /// The still-escaped data between the prefix and the time, when present.
    data: Option<&'a str>,
    time: u32,
    signature: Vec<u8>,
}

impl<'a> Parsed<'a> {
    /// Proxmox's two patterns, `^(PVE:\S+)::([^:\s]+)$` and then on the first group
    /// `^PVE:(?:(\S+):)?([A-Z0-9]{8})$`, checked before any cryptography.
    ///
    /// Difference: the time must be 8 hex digits (Proxmox's pattern admits `G`–`Z`, which no
    /// node ever writes), and the signature must be valid base64 (Proxmox's decoder skips
    /// stray characters). Neither can occur in a ticket a node issued.
    fn parse(ticket: &'a str) -> Result<Parsed<'a>, TicketError> {
        if ticket.len() > TICKET_LEN_MAX {
            return Err(TicketError::TooLong {
                len: ticket.len(),
                max: TICKET_LEN_MAX,
            });
        }
        if ticket.contains(perl::is_space) {
            return Err(TicketError::Malformed("contains whitespace"));
        }
        let (plain, signature) = ticket
            .rsplit_once("::")
            .ok_or(TicketError::Malformed("no \"::\" before the signature"))?;
        if signature.is_empty() || signature.contains(':') {
            return Err(TicketError::Malformed("no signature after the last \"::\""));
        }
        let rest = plain
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(TicketError::Malformed("does not start with \"PVE:\""))?;
        let (data, time) = match rest.rsplit_once(':') {
            Some((data, time)) => (Some(data), time),
            None => (None, rest),
        };
        if data.is_some_and(str::is_empty) {
            return Err(TicketError::Malformed("empty user id"));
        }
        let time = parse_hex_time(time).ok_or(TicketError::Malformed(
            "the time is not 8 uppercase hex digits",
        ))?;
        let signature = STANDARD_PAD_INDIFFERENT
            .decode(signature)
            .map_err(|_| TicketError::Malformed("the signature is not base64"))?;
        Ok(Parsed {
            plain,
            data,
            time,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::tests::{KEY_A, KEY_B, PUB_A, PUB_B_PKCS1};
    use crate::auth::{AUTHKEY_LIFETIME, TICKET_LIFETIME};

    /// 2026-11-24T00:00:00Z = 0x6B04D380, the time the fixture tickets were made at.
    const ISSUED: UnixTime = UnixTime(1_795_478_400);
    /// The key was written a while before the fixtures, so the default window applies.
    const KEY_WRITTEN: UnixTime = UnixTime(ISSUED.0 - 3 * 3600);

    const OPENSSL_SHA1: &str = include_str!("testdata/ticket-sha1-a.txt");
    const OPENSSL_SHA256: &str = include_str!("testdata/ticket-sha256-a.txt");
    const OPENSSL_PSS: &str = include_str!("testdata/ticket-pss-a.txt");
    const OPENSSL_ESCAPED: &str = include_str!("testdata/ticket-escaped-a.txt");

    fn signing_a() -> SigningKey {
        SigningKey::from_pem(KEY_A.as_bytes()).expect("fixture key A")
    }

    fn signing_b() -> SigningKey {
        SigningKey::from_pem(KEY_B.as_bytes()).expect("fixture key B")
    }

    fn public(pem: &str, modified: UnixTime) -> VerifyKey {
        VerifyKey::from_pem(pem.as_bytes(), modified).expect("fixture public key")
    }

    /// Key A as the only, current key.
    fn keys_a() -> PublicKeys {
        PublicKeys {
            current: public(PUB_A, KEY_WRITTEN),
            old: None,
        }
    }

    fn at(offset: i64) -> UnixTime {
        UnixTime(ISSUED.0 + offset)
    }

    fn check(ticket: &str, keys: &PublicKeys, now: UnixTime) -> Result<Verified, TicketError> {
        verify(ticket, keys, now, Quorum::Quorate)
    }

    #[test]
    fn accepts_tickets_signed_the_three_ways_proxmox_releases_sign() {
        for ticket in [OPENSSL_SHA1, OPENSSL_SHA256, OPENSSL_PSS] {
            let verified = check(ticket.trim_end(), &keys_a(), at(60)).expect(ticket);
            assert_eq!(
                verified,
                Verified {
                    userid: "root@pam".to_owned(),
                    age: 60
                }
            );
        }
    }

    #[test]
    fn a_colon_in_the_user_id_is_escaped_and_comes_back() {
        let verified = check(OPENSSL_ESCAPED.trim_end(), &keys_a(), at(1)).expect("escaped");
        assert_eq!(verified.userid, "a:b@pve");

        let ticket = sign("a:b@pve", ISSUED, &signing_a(), SignDigest::Sha256).expect("sign");
        assert!(ticket.starts_with("PVE:a%3Ab@pve:6B04D380::"), "{ticket}");
        assert_eq!(
            check(&ticket, &keys_a(), at(1)).expect("own").userid,
            "a:b@pve"
        );
        // A user id with '%' reads back unchanged too.
        let ticket = sign("50%41@pve", ISSUED, &signing_a(), SignDigest::Sha1).expect("sign");
        assert!(ticket.starts_with("PVE:50%2541@pve:"), "{ticket}");
        assert_eq!(
            check(&ticket, &keys_a(), at(1)).expect("own").userid,
            "50%41@pve"
        );
    }

    #[test]
    fn issued_tickets_have_proxmox_shape() {
        for digest in [SignDigest::Sha256, SignDigest::Sha1] {
            let ticket = sign("root@pam", ISSUED, &signing_a(), digest).expect("sign");
            let (plain, signature) = ticket.split_once("::").expect("::");
            assert_eq!(plain, "PVE:root@pam:6B04D380");
            // 2048-bit signature: 256 bytes, 344 base64 characters with one '=' of padding.
            assert_eq!(signature.len(), 344);
            assert!(signature.ends_with('='));
            assert_eq!(
                check(&ticket, &keys_a(), at(0)).expect("verify").userid,
                "root@pam"
            );
        }
        // PKCS#1 v1.5 is deterministic: the same ticket as `openssl dgst -sha1 -sign` made.
        let sha1 = sign("root@pam", ISSUED, &signing_a(), SignDigest::Sha1).expect("sign");
        assert_eq!(sha1, OPENSSL_SHA1.trim_end());
        let sha256 = sign("root@pam", ISSUED, &signing_a(), SignDigest::default()).expect("sign");
        assert_eq!(sha256, OPENSSL_SHA256.trim_end());
        // Times are zero-padded uppercase hex.
        let early = sign("u@pve", UnixTime(0xAB), &signing_a(), SignDigest::Sha256).expect("sign");
        assert!(early.starts_with("PVE:u@pve:000000AB::"), "{early}");
    }

    #[test]
    fn the_default_window_excludes_both_edges() {
        let ticket = OPENSSL_SHA256.trim_end();
        let keys = keys_a();
        assert!(check(ticket, &keys, at(TICKET_LIFETIME - 1)).is_ok());
        assert!(matches!(
            check(ticket, &keys, at(TICKET_LIFETIME)),
            Err(TicketError::Expired {
                age: 7200,
                max: 7200
            })
        ));
        assert!(check(ticket, &keys, at(-299)).is_ok());
        assert!(matches!(
            check(ticket, &keys, at(-300)),
            Err(TicketError::NotYetValid {
                age: -300,
                min: -300
            })
        ));
    }

    #[test]
    fn a_young_key_refuses_tickets_older_than_itself() {
        // Key written 100 s after the ticket: max = key age + 300.
        let keys = PublicKeys {
            current: public(PUB_A, at(100)),
            old: None,
        };
        let ticket = OPENSSL_SHA1.trim_end();
        // now = issue + 500: key age 400, max 700; ticket age 500 → valid.
        assert!(check(ticket, &keys, at(500)).is_ok());
        // now = issue + 1000: key age 900, max 1200; ticket age 1000 → valid.
        assert!(check(ticket, &keys, at(1000)).is_ok());
        // Key written 1000 s after the ticket: at now = issue + 1100 the key is 100 s old,
        // max 400, and the 1100 s old ticket predates the key.
        let keys = PublicKeys {
            current: public(PUB_A, at(1000)),
            old: None,
        };
        assert!(matches!(
            check(ticket, &keys, at(1100)),
            Err(TicketError::Expired {
                age: 1100,
                max: 400
            })
        ));
    }

    #[test]
    fn an_overdue_key_is_clamped_only_with_quorum() {
        let keys = PublicKeys {
            current: public(PUB_A, at(-AUTHKEY_LIFETIME - 1000)),
            old: None,
        };
        let ticket = OPENSSL_SHA1.trim_end();
        // Key age at issue+10: 86400+1010 → min = 1010, ticket age 10 → refused.
        assert!(matches!(
            verify(ticket, &keys, at(10), Quorum::Quorate),
            Err(TicketError::NotYetValid { age: 10, min: 1010 })
        ));
        assert!(verify(ticket, &keys, at(10), Quorum::NotQuorate).is_ok());
        // Far overdue: nothing at all.
        let ancient = PublicKeys {
            current: public(PUB_A, at(-AUTHKEY_LIFETIME - TICKET_LIFETIME - 10)),
            old: None,
        };
        assert!(matches!(
            verify(ticket, &ancient, at(10), Quorum::Quorate),
            Err(TicketError::KeyTooOld)
        ));
    }

    #[test]
    fn the_old_key_accepts_only_tickets_issued_before_the_rotation() {
        // Key A was rotated out at `rotation`, key B is current since then.
        let rotated_at = |rotation: UnixTime| PublicKeys {
            current: public(PUB_B_PKCS1, rotation),
            old: Some(public(PUB_A, rotation)),
        };
        let ticket = OPENSSL_SHA256.trim_end();
        // Rotated 1000 s after the ticket was issued; checked 1500 s after issue:
        // old key age 500, min 200, ticket age 1500 → accepted by the old key.
        let keys = rotated_at(at(1000));
        assert_eq!(check(ticket, &keys, at(1500)).expect("old key").age, 1500);
        // Rotated 1000 s *before* the ticket claims to be issued (a ticket made with the old
        // key after the rotation): old key age 1100 at issue+100, min 800, age 100 → refused.
        let keys = rotated_at(at(-1000));
        assert!(matches!(
            check(ticket, &keys, at(100)),
            Err(TicketError::NotYetValid { age: 100, min: 800 })
        ));
        // New tickets signed with the new key are accepted by the current key.
        let fresh = sign("root@pam", at(1200), &signing_b(), SignDigest::Sha256).expect("sign");
        assert!(check(&fresh, &rotated_at(at(1000)), at(1300)).is_ok());
    }

    #[test]
    fn a_ticket_from_another_key_is_refused() {
        let ticket = sign("root@pam", ISSUED, &signing_b(), SignDigest::Sha256).expect("sign");
        assert!(matches!(
            check(&ticket, &keys_a(), at(1)),
            Err(TicketError::BadSignature)
        ));
        // Also with an unrelated old key.
        let keys = PublicKeys {
            current: public(PUB_A, KEY_WRITTEN),
            old: Some(public(PUB_A, KEY_WRITTEN)),
        };
        assert!(matches!(
            check(&ticket, &keys, at(1)),
            Err(TicketError::BadSignature)
        ));
    }

    #[test]
    fn any_changed_byte_of_user_time_or_signature_is_refused() {
        let ticket = OPENSSL_SHA1.trim_end();
        let keys = keys_a();
        let now = at(60);
        assert!(check(ticket, &keys, now).is_ok());
        let split = ticket.find("::").expect("::");
        for index in 0..ticket.len() {
            for bit in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40] {
                let mut bytes = ticket.as_bytes().to_vec();
                bytes[index] ^= bit;
                let Ok(changed) = String::from_utf8(bytes) else {
                    continue;
                };
                let result = check(&changed, &keys, now);
                // Base64 has slack only in the padding's unused bits; everything before the
                // signature is signed.
                if index < split {
                    assert!(
                        result.is_err(),
                        "flip at {index} (bit {bit:#x}) accepted: {changed}"
                    );
                } else if let Ok(verified) = result {
                    assert_eq!(
                        verified.userid, "root@pam",
                        "flip at {index} changed the user"
                    );
                }
            }
        }
    }

    /// The key remembers a signature it verified, but each check still applies the ticket's
    /// window, and a changed signature still fails, with the same key object.
    #[test]
    fn a_remembered_signature_still_expires_and_forgeries_still_fail() {
        let keys = keys_a();
        let ticket = OPENSSL_SHA256.trim_end();
        assert!(check(ticket, &keys, at(1)).is_ok());
        assert!(check(ticket, &keys, at(2)).is_ok(), "remembered");
        assert!(matches!(
            check(ticket, &keys, at(TICKET_LIFETIME)),
            Err(TicketError::Expired { .. })
        ));
        let (plain, signature) = ticket.split_once("::").expect("::");
        let mut raw = STANDARD.decode(signature).expect("base64");
        raw[100] ^= 0x01;
        let forged = format!("{plain}::{}", STANDARD.encode(&raw));
        assert!(matches!(
            check(&forged, &keys, at(1)),
            Err(TicketError::BadSignature)
        ));
        // Another user's name over the remembered signature.
        let other = ticket.replacen("root@pam", "roox@pam", 1);
        assert!(matches!(
            check(&other, &keys, at(1)),
            Err(TicketError::BadSignature)
        ));
    }

    #[test]
    fn signature_changes_never_verify_except_in_unused_padding_bits() {
        let ticket = OPENSSL_SHA256.trim_end();
        let (plain, signature) = ticket.split_once("::").expect("::");
        let mut raw = STANDARD.decode(signature).expect("base64");
        for index in 0..raw.len() {
            raw[index] ^= 0x01;
            let changed = format!("{plain}::{}", STANDARD.encode(&raw));
            assert!(
                matches!(
                    check(&changed, &keys_a(), at(1)),
                    Err(TicketError::BadSignature)
                ),
                "flipped signature byte {index} accepted"
            );
            raw[index] ^= 0x01;
        }
    }

    #[test]
    fn malformed_tickets_say_what_is_wrong() {
        let signature = OPENSSL_SHA1.trim_end().split_once("::").expect("::").1;
        let cases = [
            ("", "no \"::\" before the signature"),
            ("PVE:root@pam:6B04D380", "no \"::\" before the signature"),
            (
                "PVE:root@pam:6B04D380::",
                "no signature after the last \"::\"",
            ),
            (
                "PVE:root@pam:6B04D380::ab:cd",
                "no signature after the last \"::\"",
            ),
            (
                "PMG:root@pam:6B04D380::AAAA",
                "does not start with \"PVE:\"",
            ),
            (
                "PVEX:root@pam:6B04D380::AAAA",
                "does not start with \"PVE:\"",
            ),
            (
                "PVE:root@pam:6b04d380::AAAA",
                "the time is not 8 uppercase hex digits",
            ),
            (
                "PVE:root@pam:6B04D38::AAAA",
                "the time is not 8 uppercase hex digits",
            ),
            (
                "PVE:root@pam:6B04D3800::AAAA",
                "the time is not 8 uppercase hex digits",
            ),
            (
                "PVE:root@pam:GB04D380::AAAA",
                "the time is not 8 uppercase hex digits",
            ),
            ("PVE::6B04D380::AAAA", "empty user id"),
            ("PVE:root@pam:6B04D380::!!!!", "the signature is not base64"),
            ("PVE:root @pam:6B04D380::AAAA", "contains whitespace"),
        ];
        for (ticket, message) in cases {
            match check(ticket, &keys_a(), ISSUED) {
                Err(TicketError::Malformed(got)) => assert_eq!(got, message, "{ticket:?}"),
                other => panic!("{ticket:?}: expected Malformed({message:?}), got {other:?}"),
            }
        }
        // A ticket without user data is signed correctly but names nobody.
        let bare = format!("PVE:6B04D380::{signature}");
        assert!(matches!(
            check(&bare, &keys_a(), ISSUED),
            Err(TicketError::BadSignature)
        ));
    }

    #[test]
    fn a_ticket_without_user_or_for_a_pending_second_factor_is_refused() {
        // `PVE:<time>::sig` is a valid ticket shape (Proxmox's VNC tickets have no data), but
        // names no user.
        let plain = "PVE:6B04D380";
        let mut signer = Signer::new(MessageDigest::sha256(), signing_a().pkey()).expect("signer");
        let signature = signer.sign_oneshot_to_vec(plain.as_bytes()).expect("sign");
        let bare = format!("{plain}::{}", STANDARD.encode(signature));
        assert!(matches!(
            check(&bare, &keys_a(), at(1)),
            Err(TicketError::Malformed("no user id"))
        ));

        for data in [
            "!tfa!%7B%22challenge%22%7D",
            "tfa!root@pam",
            "u2f!root@pam!verified",
        ] {
            let ticket =
                sign_data(data, None, ISSUED, &signing_a(), SignDigest::Sha256).expect("sign");
            assert!(
                matches!(
                    check(&ticket, &keys_a(), at(1)),
                    Err(TicketError::SecondFactorPending)
                ),
                "{data}"
            );
        }
    }

    #[test]
    fn additional_data_is_signed_but_not_sent() {
        let ticket = sign_data(
            "!tfa!x",
            Some("root@pam"),
            ISSUED,
            &signing_a(),
            SignDigest::Sha256,
        )
        .expect("sign");
        assert!(!ticket.contains("root@pam"));
        let with = verify_data(&ticket, Some("root@pam"), &keys_a(), at(1), Quorum::Quorate);
        assert_eq!(with.expect("bound").0.as_deref(), Some("!tfa!x"));
        for aad in [None, Some("other@pam")] {
            assert!(matches!(
                verify_data(&ticket, aad, &keys_a(), at(1), Quorum::Quorate),
                Err(TicketError::BadSignature)
            ));
        }
    }

    #[test]
    fn overlong_tickets_are_refused_before_anything_else() {
        let long = format!("PVE:{}:6B04D380::AAAA", "u".repeat(TICKET_LEN_MAX));
        assert!(matches!(
            check(&long, &keys_a(), ISSUED),
            Err(TicketError::TooLong {
                max: TICKET_LEN_MAX,
                ..
            })
        ));
        // And never issued.
        let userid = format!("{}@pve", "u".repeat(TICKET_LEN_MAX));
        assert!(sign(&userid, ISSUED, &signing_a(), SignDigest::Sha256).is_err());
    }

    #[test]
    fn refuses_to_issue_what_could_never_verify() {
        for userid in ["", "root @pam", "root@pam\n", "\troot@pam"] {
            assert!(matches!(
                sign(userid, ISSUED, &signing_a(), SignDigest::Sha256),
                Err(TicketError::InvalidUserid(_))
            ));
        }
        for time in [-1, i64::from(u32::MAX) + 1, i64::MIN] {
            assert!(matches!(
                sign("root@pam", UnixTime(time), &signing_a(), SignDigest::Sha256),
                Err(TicketError::TimeOutOfRange(t)) if t == time
            ));
        }
        assert!(
            sign(
                "root@pam",
                UnixTime(i64::from(u32::MAX)),
                &signing_a(),
                SignDigest::Sha1
            )
            .is_ok()
        );
    }

    #[test]
    fn garbage_never_panics() {
        let keys = PublicKeys {
            current: public(PUB_A, KEY_WRITTEN),
            old: Some(public(PUB_B_PKCS1, KEY_WRITTEN)),
        };
        let real = OPENSSL_PSS.trim_end();
        let mut inputs: Vec<String> = vec![
            "::".into(),
            ":::::".into(),
            "PVE:".into(),
            "PVE:::".into(),
            "PVE:%:00000000::=".into(),
            "PVE:%FF%FE:00000000::AAAA".into(),
            "PVE:ü:00000000::AA==".into(),
            "PVE:x:FFFFFFFF::AAAAAAAA".into(),
            format!("PVE:x:00000000::{}", "A".repeat(TICKET_LEN_MAX)),
            "\u{0}\u{1}PVE".into(),
        ];
        // Every prefix and suffix of a real ticket.
        for cut in 0..real.len() {
            inputs.push(real[..cut].to_owned());
            inputs.push(real[cut..].to_owned());
        }
        // A deterministic pseudo-random byte soup (xorshift), kept to valid UTF-8.
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..500 {
            let len = (state % 400) as usize;
            let soup: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    {
                        let alphabet = b" :%PVE=+/A0z\t!";
                        char::from(alphabet[(state % alphabet.len() as u64) as usize])
                    }
                })
                .collect();
            inputs.push(soup);
        }
        for input in &inputs {
            for now in [i64::MIN, -1, 0, ISSUED.0, i64::MAX] {
                for quorum in [Quorum::Quorate, Quorum::NotQuorate] {
                    let _ = verify(input, &keys, UnixTime(now), quorum);
                }
            }
        }
    }
}
