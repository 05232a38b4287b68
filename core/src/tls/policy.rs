//! From the TLS keys of `/etc/default/pveproxy` to what rustls offers.

use std::fmt;

use thiserror::Error;

use super::cipher_string::{CipherNote, CipherStringError, evaluate_cipher_string};
use super::ciphersuites::{CiphersuiteNote, OPENSSL_DEFAULT_CIPHERSUITES, evaluate_ciphersuites};
use super::suites::{Tls12Suite, Tls13Suite};

/// Proxmox's `CIPHERS` when the key is unset (`PVE::APIServer::AnyEvent`).
///
/// rustls can offer the first six; the four CBC ones are left out (see
/// [`TlsReport::tls12_dropped`]).
pub const PROXMOX_DEFAULT_CIPHERS: &str = "ECDHE-ECDSA-AES256-GCM-SHA384:\
ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:\
ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:\
ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256";

/// The TLS keys of `/etc/default/pveproxy`, as the config parser hands them over.
///
/// `None` and `Some("")` both mean "unset" (an empty value is unset in Proxmox's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsSettings<'a> {
    /// `CIPHERS`: an OpenSSL cipher string for TLS ≤ 1.2.
    pub ciphers: Option<&'a str>,
    /// `CIPHERSUITES`: `:`-separated TLS 1.3 suite names.
    pub ciphersuites: Option<&'a str>,
    /// `DISABLE_TLS_1_2=1`.
    pub disable_tls_1_2: bool,
    /// `DISABLE_TLS_1_3=1`.
    pub disable_tls_1_3: bool,
    /// `HONOR_CIPHER_ORDER` (Proxmox's default is 1); carried into the policy unchanged.
    pub honor_cipher_order: bool,
}

impl Default for TlsSettings<'_> {
    /// Every key unset, as on a fresh Proxmox node (so `honor_cipher_order` is `true`).
    fn default() -> Self {
        TlsSettings {
            ciphers: None,
            ciphersuites: None,
            disable_tls_1_2: false,
            disable_tls_1_3: false,
            honor_cipher_order: true,
        }
    }
}

/// A TLS key of `/etc/default/pveproxy`; displays as its name in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsKey {
    Ciphers,
    Ciphersuites,
    DisableTls12,
    DisableTls13,
}

impl TlsKey {
    /// The key's name in the file, e.g. `CIPHERS`.
    pub const fn name(self) -> &'static str {
        match self {
            TlsKey::Ciphers => "CIPHERS",
            TlsKey::Ciphersuites => "CIPHERSUITES",
            TlsKey::DisableTls12 => "DISABLE_TLS_1_2",
            TlsKey::DisableTls13 => "DISABLE_TLS_1_3",
        }
    }
}

impl fmt::Display for TlsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What rustls is to offer.
///
/// Invariants: `tls12 || tls13`; `tls12 == !tls12_suites.is_empty()`;
/// `tls13 == !tls13_suites.is_empty()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicy {
    /// TLS 1.2 suites in preference order. Suites for ECDSA and RSA certificates both stay: the
    /// certificate decides which apply.
    pub tls12_suites: Vec<Tls12Suite>,
    /// TLS 1.3 suites in preference order.
    pub tls13_suites: Vec<Tls13Suite>,
    pub tls12: bool,
    pub tls13: bool,
    /// Prefer the server's order (rustls `ServerConfig::ignore_client_order`).
    pub honor_cipher_order: bool,
}

/// The policy and everything worth telling the administrator about how it was derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsReport {
    pub policy: TlsPolicy,
    /// Problems with the configured values, in key order (`CIPHERS` first). Nothing here stops
    /// the daemon.
    pub warnings: Vec<TlsWarning>,
    /// The TLS ≤ 1.2 list OpenSSL, and so Proxmox, would use: `CIPHERS` (or Proxmox's default)
    /// evaluated, in order, before keeping what rustls can offer.
    pub openssl_tls12: Vec<&'static str>,
    /// Names of `openssl_tls12` that rustls cannot offer and that were left out (empty when TLS
    /// 1.2 is disabled). For Proxmox's default list these are its four CBC ciphers; that is not
    /// warned about (the administrator did not choose them), but worth showing as information.
    pub tls12_dropped: Vec<&'static str>,
}

/// A problem with one configured value that does not stop the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsWarning {
    pub key: TlsKey,
    pub kind: TlsWarningKind,
}

impl fmt::Display for TlsWarning {
    /// The message without the key: callers print `"{key}: {warning}"` or place it by line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// What a [`TlsWarning`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsWarningKind {
    /// An element of `CIPHERS` OpenSSL ignores or that has no effect here.
    CipherString(CipherNote),
    /// `CIPHERS` selects ciphers rustls cannot offer (CBC, DHE, static RSA, CAMELLIA, ARIA,
    /// CCM, PSK, …); they are left out, the rest is used.
    UnofferableTls12Ciphers {
        names: Vec<&'static str>,
        /// How many ciphers OpenSSL's list has in all.
        selected: usize,
    },
    /// `CIPHERS` is set but `DISABLE_TLS_1_2=1` turns TLS 1.2 off.
    CiphersUnused,
    /// A name in `CIPHERSUITES` OpenSSL ignores, or that rustls cannot offer.
    Ciphersuite(CiphersuiteNote),
    /// `CIPHERSUITES` names no suite rustls can offer, so OpenSSL's default stays.
    Tls13DefaultKept { value: String },
    /// `CIPHERSUITES` is set but `DISABLE_TLS_1_3=1` turns TLS 1.3 off.
    CiphersuitesUnused,
}

impl fmt::Display for TlsWarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsWarningKind::CipherString(note) => note.fmt(f),
            TlsWarningKind::UnofferableTls12Ciphers { names, selected } => {
                // Broad aliases such as HIGH select dozens; the first few make the point.
                const SHOWN_MAX: usize = 8;
                let shown = names
                    .iter()
                    .take(SHOWN_MAX)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = match names.len().saturating_sub(SHOWN_MAX) {
                    0 => String::new(),
                    rest => format!(", and {rest} more"),
                };
                write!(
                    f,
                    "rustls cannot offer {} of the {selected} ciphers this list selects, left \
                     out: {shown}{more} (for TLS 1.2 rustls offers only ECDHE with AES-GCM or \
                     CHACHA20-POLY1305)",
                    names.len(),
                )
            }
            TlsWarningKind::CiphersUnused => {
                f.write_str("has no effect: DISABLE_TLS_1_2=1 turns TLS 1.2 off")
            }
            TlsWarningKind::Ciphersuite(note) => note.fmt(f),
            TlsWarningKind::Tls13DefaultKept { value } => write!(
                f,
                "\"{value}\" names no TLS 1.3 suite rustls can offer; the default \
                 {OPENSSL_DEFAULT_CIPHERSUITES} stays"
            ),
            TlsWarningKind::CiphersuitesUnused => {
                f.write_str("has no effect: DISABLE_TLS_1_3=1 turns TLS 1.3 off")
            }
        }
    }
}

/// A TLS configuration Proxmox would refuse too: its workers would die at start.
///
/// Messages do not name the key; [`TlsError::key`] does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `DISABLE_TLS_1_2=1` and `DISABLE_TLS_1_3=1` together.
    #[error("cannot disable all supported TLS versions (DISABLE_TLS_1_2=1 and DISABLE_TLS_1_3=1)")]
    BothVersionsDisabled,
    /// `CIPHERS` is malformed; OpenSSL refuses it.
    #[error("invalid cipher list \"{value}\": {reason}")]
    InvalidCiphers {
        value: String,
        reason: CipherStringError,
    },
    /// `CIPHERS` selects no cipher at all; OpenSSL refuses it ("no cipher match").
    #[error("\"{value}\" selects no cipher (OpenSSL refuses it too: \"no cipher match\")")]
    NoCipherMatch { value: String },
    /// `CIPHERS` selects ciphers, but none rustls can offer, while TLS 1.2 is on.
    #[error(
        "\"{ciphers}\" leaves no TLS 1.2 cipher rustls can offer (it selects {}); rustls offers \
         only ECDHE with AES-GCM or CHACHA20-POLY1305, e.g. \"ECDHE+AESGCM:ECDHE+CHACHA20\", \
         or set DISABLE_TLS_1_2=1",
        .unsupported.join(":")
    )]
    NoUsableTls12Suite {
        /// The configured value.
        ciphers: String,
        /// What OpenSSL would use, none of which rustls has.
        unsupported: Vec<&'static str>,
    },
}

impl TlsError {
    /// Every [`TlsError::code`], so tests can check that a corpus shows each one.
    pub const CODES: &'static [&'static str] = &[
        "both-versions-disabled",
        "invalid-ciphers",
        "no-cipher-match",
        "no-usable-tls12-suite",
    ];

    /// A short stable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            TlsError::BothVersionsDisabled => "both-versions-disabled",
            TlsError::InvalidCiphers { .. } => "invalid-ciphers",
            TlsError::NoCipherMatch { .. } => "no-cipher-match",
            TlsError::NoUsableTls12Suite { .. } => "no-usable-tls12-suite",
        }
    }

    /// The key at fault (`DISABLE_TLS_1_3` for both versions disabled: the message names both).
    pub fn key(&self) -> TlsKey {
        match self {
            TlsError::BothVersionsDisabled => TlsKey::DisableTls13,
            TlsError::InvalidCiphers { .. }
            | TlsError::NoCipherMatch { .. }
            | TlsError::NoUsableTls12Suite { .. } => TlsKey::Ciphers,
        }
    }
}

impl TlsPolicy {
    /// Derives the policy from the TLS keys, or refuses them where Proxmox would fail too.
    ///
    /// Deterministic, never panics, for any input.
    pub fn from_settings(settings: &TlsSettings<'_>) -> Result<TlsReport, TlsError> {
        if settings.disable_tls_1_2 && settings.disable_tls_1_3 {
            return Err(TlsError::BothVersionsDisabled);
        }
        let mut warnings = Vec::new();
        let tls12 = resolve_tls12(settings.ciphers, !settings.disable_tls_1_2, &mut warnings)?;
        let tls13_suites = resolve_tls13(
            settings.ciphersuites,
            !settings.disable_tls_1_3,
            &mut warnings,
        );
        Ok(TlsReport {
            policy: TlsPolicy {
                tls12: !tls12.suites.is_empty(),
                tls13: !tls13_suites.is_empty(),
                tls12_suites: tls12.suites,
                tls13_suites,
                honor_cipher_order: settings.honor_cipher_order,
            },
            warnings,
            openssl_tls12: tls12.openssl,
            tls12_dropped: tls12.dropped,
        })
    }
}

/// `Some("")` is unset, as in Proxmox's config.
fn configured(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

struct Tls12Outcome {
    suites: Vec<Tls12Suite>,
    openssl: Vec<&'static str>,
    dropped: Vec<&'static str>,
}

/// Evaluates `CIPHERS` (or the default) even with TLS 1.2 off: a value OpenSSL refuses makes
/// Proxmox fail either way, and it should not start failing the day TLS 1.2 is turned back on.
fn resolve_tls12(
    ciphers: Option<&str>,
    enabled: bool,
    warnings: &mut Vec<TlsWarning>,
) -> Result<Tls12Outcome, TlsError> {
    let configured = configured(ciphers);
    let value = configured.unwrap_or(PROXMOX_DEFAULT_CIPHERS);
    let list = evaluate_cipher_string(value).map_err(|reason| TlsError::InvalidCiphers {
        value: value.to_owned(),
        reason,
    })?;
    if list.ciphers.is_empty() {
        return Err(TlsError::NoCipherMatch {
            value: value.to_owned(),
        });
    }
    warnings.extend(list.notes.iter().cloned().map(|note| TlsWarning {
        key: TlsKey::Ciphers,
        kind: TlsWarningKind::CipherString(note),
    }));
    let openssl = list.names();
    if !enabled {
        if configured.is_some() {
            warnings.push(TlsWarning {
                key: TlsKey::Ciphers,
                kind: TlsWarningKind::CiphersUnused,
            });
        }
        return Ok(Tls12Outcome {
            suites: Vec::new(),
            openssl,
            dropped: Vec::new(),
        });
    }
    let (suites, dropped) = keep_offerable(&openssl);
    if suites.is_empty() {
        return Err(TlsError::NoUsableTls12Suite {
            ciphers: value.to_owned(),
            unsupported: dropped,
        });
    }
    if configured.is_some() && !dropped.is_empty() {
        warnings.push(TlsWarning {
            key: TlsKey::Ciphers,
            kind: TlsWarningKind::UnofferableTls12Ciphers {
                names: dropped.clone(),
                selected: openssl.len(),
            },
        });
    }
    Ok(Tls12Outcome {
        suites,
        openssl,
        dropped,
    })
}

/// Splits OpenSSL's list into the rustls suites (in order) and the names rustls lacks.
fn keep_offerable(openssl: &[&'static str]) -> (Vec<Tls12Suite>, Vec<&'static str>) {
    let mut suites = Vec::new();
    let mut dropped = Vec::new();
    for &name in openssl {
        match Tls12Suite::from_openssl_name(name) {
            Some(suite) => suites.push(suite),
            None => dropped.push(name),
        }
    }
    (suites, dropped)
}

/// The TLS 1.3 suites. A value with nothing usable only warns, as in Proxmox.
fn resolve_tls13(
    ciphersuites: Option<&str>,
    enabled: bool,
    warnings: &mut Vec<TlsWarning>,
) -> Vec<Tls13Suite> {
    let default = || {
        if enabled {
            Tls13Suite::ALL.to_vec()
        } else {
            Vec::new()
        }
    };
    let Some(value) = configured(ciphersuites) else {
        return default();
    };
    let list = evaluate_ciphersuites(value);
    warnings.extend(list.notes.into_iter().map(|note| TlsWarning {
        key: TlsKey::Ciphersuites,
        kind: TlsWarningKind::Ciphersuite(note),
    }));
    if !enabled {
        warnings.push(TlsWarning {
            key: TlsKey::Ciphersuites,
            kind: TlsWarningKind::CiphersuitesUnused,
        });
        return Vec::new();
    }
    if list.suites.is_empty() {
        warnings.push(TlsWarning {
            key: TlsKey::Ciphersuites,
            kind: TlsWarningKind::Tls13DefaultKept {
                value: value.to_owned(),
            },
        });
        return default();
    }
    list.suites
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(settings: TlsSettings<'_>) -> TlsReport {
        match TlsPolicy::from_settings(&settings) {
            Ok(report) => report,
            Err(error) => panic!("{settings:?}: {error}"),
        }
    }

    #[test]
    fn defaults_give_six_tls12_and_three_tls13_suites() {
        let report = report(TlsSettings::default());
        assert_eq!(report.policy.tls12_suites, Tls12Suite::ALL);
        assert_eq!(report.policy.tls13_suites, Tls13Suite::ALL);
        assert!(report.policy.tls12 && report.policy.tls13 && report.policy.honor_cipher_order);
        assert!(report.warnings.is_empty());
        assert_eq!(report.openssl_tls12.join(":"), PROXMOX_DEFAULT_CIPHERS);
        assert_eq!(
            report.tls12_dropped,
            [
                "ECDHE-ECDSA-AES256-SHA384",
                "ECDHE-RSA-AES256-SHA384",
                "ECDHE-ECDSA-AES128-SHA256",
                "ECDHE-RSA-AES128-SHA256"
            ]
        );
    }

    #[test]
    fn empty_values_are_unset() {
        let report = report(TlsSettings {
            ciphers: Some(""),
            ciphersuites: Some(""),
            ..TlsSettings::default()
        });
        assert_eq!(report, self::report(TlsSettings::default()));
    }

    #[test]
    fn disabled_version_has_no_suites() {
        let report = report(TlsSettings {
            disable_tls_1_2: true,
            ..TlsSettings::default()
        });
        assert!(!report.policy.tls12 && report.policy.tls12_suites.is_empty());
        assert!(report.tls12_dropped.is_empty());
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn error_keys() {
        assert_eq!(TlsError::BothVersionsDisabled.key(), TlsKey::DisableTls13);
        let error = TlsError::NoCipherMatch { value: "x".into() };
        assert_eq!(error.key().to_string(), "CIPHERS");
        assert!(TlsError::CODES.contains(&error.code()));
    }
}
