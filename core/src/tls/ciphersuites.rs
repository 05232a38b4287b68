//! An evaluator for `CIPHERSUITES` (TLS 1.3), following OpenSSL 3.0's `SSL_CTX_set_ciphersuites`.
//!
//! OpenSSL splits the value on `:`, trims C whitespace around each name, skips empty and unknown
//! names silently, and refuses the value only when no name is known. Known are the five TLS 1.3
//! suites OpenSSL implements; rustls offers three of them (not the CCM ones).
//!
//! Differences, on purpose: unknown names come back as notes; TLS 1.2 IANA names, which OpenSSL
//! 3.0 wrongly accepts here (and then offers *first*, ahead of the `CIPHERS` list), are skipped
//! with a note; a name given twice counts once.

use std::fmt;

use super::cipher_string::TLS13_OPENSSL_NAMES;
use super::openssl_table;
use super::suites::Tls13Suite;

/// OpenSSL's TLS 1.3 default, used by Proxmox since it leaves `CIPHERSUITES` unset.
pub const OPENSSL_DEFAULT_CIPHERSUITES: &str =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/// The result of evaluating a `CIPHERSUITES` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiphersuiteList {
    /// The known TLS 1.3 names, in order, without repeats: what OpenSSL would use, unless it is
    /// empty (OpenSSL then refuses the value and keeps its default).
    pub openssl: Vec<&'static str>,
    /// The part of `openssl` rustls can offer, in order.
    pub suites: Vec<Tls13Suite>,
    /// Remarks on names OpenSSL ignores or rustls cannot offer, in value order.
    pub notes: Vec<CiphersuiteNote>,
}

/// A remark on one name in `CIPHERSUITES`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CiphersuiteNote {
    /// Not a TLS 1.3 suite name OpenSSL knows; OpenSSL skips it.
    UnknownName { name: String },
    /// A TLS 1.2 cipher (by its OpenSSL or IANA name): those are set with `CIPHERS`.
    Tls12Name {
        name: String,
        openssl_name: &'static str,
    },
    /// Valid TLS 1.3 suites that rustls cannot offer (the AES-CCM ones).
    NotOfferable { names: Vec<&'static str> },
}

impl fmt::Display for CiphersuiteNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CiphersuiteNote::UnknownName { name } => write!(
                f,
                "unknown TLS 1.3 suite \"{name}\", ignored (OpenSSL ignores it too); known are {}",
                TLS13_OPENSSL_NAMES.join(", ")
            ),
            CiphersuiteNote::Tls12Name { name, openssl_name } => {
                write!(
                    f,
                    "\"{name}\" is a TLS 1.2 cipher, ignored here; TLS 1.2 ciphers are set with \
                     CIPHERS"
                )?;
                if name != openssl_name {
                    write!(f, ", as \"{openssl_name}\"")?;
                }
                Ok(())
            }
            CiphersuiteNote::NotOfferable { names } => write!(
                f,
                "{} cannot be offered (rustls implements no AES-CCM suite), left out",
                names.join(", ")
            ),
        }
    }
}

/// Evaluates a `CIPHERSUITES` value as OpenSSL 3.0 does. Never panics.
pub fn evaluate_ciphersuites(value: &str) -> CiphersuiteList {
    let mut list = CiphersuiteList {
        openssl: Vec::new(),
        suites: Vec::new(),
        notes: Vec::new(),
    };
    let mut not_offerable = Vec::new();
    for name in value
        .split(':')
        .map(trim_c_space)
        .filter(|name| !name.is_empty())
    {
        if let Some(&known) = TLS13_OPENSSL_NAMES.iter().find(|known| **known == name) {
            if list.openssl.contains(&known) {
                continue;
            }
            list.openssl.push(known);
            match Tls13Suite::from_openssl_name(known) {
                Some(suite) => list.suites.push(suite),
                None => not_offerable.push(known),
            }
        } else {
            list.notes.push(note_for_unknown(name));
        }
    }
    if !not_offerable.is_empty() {
        list.notes.push(CiphersuiteNote::NotOfferable {
            names: not_offerable,
        });
    }
    list
}

fn note_for_unknown(name: &str) -> CiphersuiteNote {
    let tls12 = openssl_table::openssl_cipher(name)
        .map(|cipher| cipher.name())
        .or_else(|| openssl_table::openssl_name_of_iana(name));
    match tls12 {
        Some(openssl_name) => CiphersuiteNote::Tls12Name {
            name: name.to_owned(),
            openssl_name,
        },
        None => CiphersuiteNote::UnknownName {
            name: name.to_owned(),
        },
    }
}

/// Trims what C's `isspace` calls space (which includes vertical tab, unlike Rust's ASCII
/// whitespace), as OpenSSL's `CONF_parse_list` does.
fn trim_c_space(name: &str) -> &str {
    name.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_string_gives_the_three_suites_in_order() {
        let list = evaluate_ciphersuites(OPENSSL_DEFAULT_CIPHERSUITES);
        assert_eq!(list.suites, Tls13Suite::ALL);
        assert!(list.notes.is_empty());
    }

    #[test]
    fn order_is_kept_and_repeats_and_spaces_dropped() {
        let list = evaluate_ciphersuites(
            " TLS_AES_128_GCM_SHA256 ::TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256\x0b",
        );
        assert_eq!(
            list.suites,
            [
                Tls13Suite::Aes128GcmSha256,
                Tls13Suite::Chacha20Poly1305Sha256
            ]
        );
        assert!(list.notes.is_empty());
    }

    #[test]
    fn ccm_is_known_but_not_offerable() {
        let list = evaluate_ciphersuites("TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256");
        assert_eq!(
            list.openssl,
            ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"]
        );
        assert!(list.suites.is_empty());
        assert_eq!(
            list.notes,
            [CiphersuiteNote::NotOfferable {
                names: vec!["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"]
            }]
        );
    }

    #[test]
    fn unknown_and_tls12_names_are_noted() {
        let list = evaluate_ciphersuites(
            "tls_aes_128_gcm_sha256:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:AES128-SHA",
        );
        assert!(list.openssl.is_empty());
        assert_eq!(
            list.notes,
            [
                CiphersuiteNote::UnknownName {
                    name: "tls_aes_128_gcm_sha256".into()
                },
                CiphersuiteNote::Tls12Name {
                    name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                    openssl_name: "ECDHE-RSA-AES128-GCM-SHA256"
                },
                CiphersuiteNote::Tls12Name {
                    name: "AES128-SHA".into(),
                    openssl_name: "AES128-SHA"
                },
            ]
        );
    }
}
