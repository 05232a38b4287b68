//! The TLS policy derived from `/etc/default/pveproxy`: which suites, in which order, for which
//! protocol versions.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §3. Proxmox hands `CIPHERS`,
//! `CIPHERSUITES`, `HONOR_CIPHER_ORDER`, `DISABLE_TLS_1_2` and `DISABLE_TLS_1_3` to OpenSSL;
//! corral serves TLS with rustls 0.23, which offers nine suites ([`Tls12Suite`], [`Tls13Suite`]).
//! [`TlsPolicy::from_settings`] evaluates the values the way OpenSSL 3.0 does
//! ([`evaluate_cipher_string`], [`evaluate_ciphersuites`]) and keeps, in OpenSSL's order, what
//! rustls can offer.
//!
//! | situation | Proxmox (OpenSSL) | corral |
//! |---|---|---|
//! | `CIPHERS` unset | Proxmox's 10-cipher default | its 6 ECDHE AEAD ciphers; the 4 CBC ones listed in [`TlsReport::tls12_dropped`], no warning |
//! | `CIPHERS` malformed, or selects nothing | workers die | [`TlsError`] |
//! | unknown name in `CIPHERS` | ignored silently | ignored, warning naming it |
//! | TLS 1.3 name in `CIPHERS` | ignored silently | ignored, warning |
//! | `CIPHERS` selects ciphers rustls lacks (CBC, DHE, RSA, CAMELLIA, ARIA, CCM, PSK, …) | used | left out, one warning listing them |
//! | … and nothing rustls has is left, TLS 1.2 on | — | [`TlsError::NoUsableTls12Suite`] |
//! | `@SECLEVEL=n`, `SUITEB…` | security level / Suite B mode | accepted, no effect, warning |
//! | `CIPHERSUITES` with unknown names | ignored silently | ignored, warning |
//! | `CIPHERSUITES` with no known name | warning, OpenSSL default stays | same |
//! | `CIPHERSUITES` with only CCM suites | CCM only | warning, OpenSSL default stays |
//! | TLS 1.2 IANA name in `CIPHERSUITES` | offered first, as TLS 1.2 (an OpenSSL 3.0 quirk) | ignored, warning |
//! | both versions disabled | dies | [`TlsError::BothVersionsDisabled`] |
//! | `CIPHERS`/`CIPHERSUITES` set for a disabled version | no effect | no effect, warning |
//! | empty value (`CIPHERS=`) | unset | unset |
//!
//! `HONOR_CIPHER_ORDER` is carried unchanged into [`TlsPolicy::honor_cipher_order`].

// - `suites`: the nine rustls suites and their OpenSSL, IANA and rustls names;
// - `openssl_table`: OpenSSL 3.0's cipher and alias tables, as data;
// - `cipher_string`: the `CIPHERS` evaluator;
// - `ciphersuites`: the `CIPHERSUITES` evaluator;
// - `policy`: settings in, policy and report out.

mod cipher_string;
mod ciphersuites;
mod openssl_table;
mod policy;
mod suites;

pub use cipher_string::{
    CipherList, CipherNote, CipherStringError, NameHint, OPENSSL_DEFAULT_CIPHER_RULES,
    evaluate_cipher_string,
};
pub use ciphersuites::{
    CiphersuiteList, CiphersuiteNote, OPENSSL_DEFAULT_CIPHERSUITES, evaluate_ciphersuites,
};
pub use openssl_table::{OpensslCipher, openssl_cipher, openssl_ciphers};
pub use policy::{
    PROXMOX_DEFAULT_CIPHERS, TlsError, TlsKey, TlsPolicy, TlsReport, TlsSettings, TlsWarning,
    TlsWarningKind,
};
pub use suites::{Tls12Suite, Tls13Suite};
