//! The nine cipher suites rustls 0.23 (aws-lc-rs or ring provider) can offer, with the names
//! OpenSSL, IANA and rustls give them.

use std::fmt;

/// A TLS 1.2 suite rustls can offer: ECDHE key exchange with an AEAD cipher.
///
/// Declared (and so ordered by `Ord`) in the order of Proxmox's default `CIPHERS` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tls12Suite {
    EcdheEcdsaAes256GcmSha384,
    EcdheRsaAes256GcmSha384,
    EcdheEcdsaChacha20Poly1305Sha256,
    EcdheRsaChacha20Poly1305Sha256,
    EcdheEcdsaAes128GcmSha256,
    EcdheRsaAes128GcmSha256,
}

impl Tls12Suite {
    /// Every suite, in Proxmox's default preference order.
    pub const ALL: [Tls12Suite; 6] = [
        Tls12Suite::EcdheEcdsaAes256GcmSha384,
        Tls12Suite::EcdheRsaAes256GcmSha384,
        Tls12Suite::EcdheEcdsaChacha20Poly1305Sha256,
        Tls12Suite::EcdheRsaChacha20Poly1305Sha256,
        Tls12Suite::EcdheEcdsaAes128GcmSha256,
        Tls12Suite::EcdheRsaAes128GcmSha256,
    ];

    /// The OpenSSL name, as written in `CIPHERS` (e.g. `ECDHE-RSA-AES128-GCM-SHA256`).
    pub const fn openssl_name(self) -> &'static str {
        match self {
            Tls12Suite::EcdheEcdsaAes256GcmSha384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
            Tls12Suite::EcdheRsaAes256GcmSha384 => "ECDHE-RSA-AES256-GCM-SHA384",
            Tls12Suite::EcdheEcdsaChacha20Poly1305Sha256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
            Tls12Suite::EcdheRsaChacha20Poly1305Sha256 => "ECDHE-RSA-CHACHA20-POLY1305",
            Tls12Suite::EcdheEcdsaAes128GcmSha256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
            Tls12Suite::EcdheRsaAes128GcmSha256 => "ECDHE-RSA-AES128-GCM-SHA256",
        }
    }

    /// The IANA name (e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub const fn iana_name(self) -> &'static str {
        match self {
            Tls12Suite::EcdheEcdsaAes256GcmSha384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            Tls12Suite::EcdheRsaAes256GcmSha384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            Tls12Suite::EcdheEcdsaChacha20Poly1305Sha256 => {
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
            }
            Tls12Suite::EcdheRsaChacha20Poly1305Sha256 => {
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
            }
            Tls12Suite::EcdheEcdsaAes128GcmSha256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            Tls12Suite::EcdheRsaAes128GcmSha256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        }
    }

    /// The Debug name of rustls's `CipherSuite` variant; for TLS 1.2 it is the IANA name.
    pub const fn rustls_name(self) -> &'static str {
        self.iana_name()
    }

    /// The suite with this OpenSSL name, if rustls can offer it.
    pub fn from_openssl_name(name: &str) -> Option<Tls12Suite> {
        Tls12Suite::ALL
            .into_iter()
            .find(|suite| suite.openssl_name() == name)
    }
}

impl fmt::Display for Tls12Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openssl_name())
    }
}

/// A TLS 1.3 suite rustls can offer.
///
/// Declared (and so ordered by `Ord`) in the order of OpenSSL's default `CIPHERSUITES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tls13Suite {
    Aes256GcmSha384,
    Chacha20Poly1305Sha256,
    Aes128GcmSha256,
}

impl Tls13Suite {
    /// Every suite, in OpenSSL's default preference order (which is Proxmox's, since Proxmox
    /// leaves `CIPHERSUITES` unset).
    pub const ALL: [Tls13Suite; 3] = [
        Tls13Suite::Aes256GcmSha384,
        Tls13Suite::Chacha20Poly1305Sha256,
        Tls13Suite::Aes128GcmSha256,
    ];

    /// The name written in `CIPHERSUITES`. For TLS 1.3 OpenSSL uses the IANA name.
    pub const fn openssl_name(self) -> &'static str {
        self.iana_name()
    }

    /// The IANA name (e.g. `TLS_AES_256_GCM_SHA384`).
    pub const fn iana_name(self) -> &'static str {
        match self {
            Tls13Suite::Aes256GcmSha384 => "TLS_AES_256_GCM_SHA384",
            Tls13Suite::Chacha20Poly1305Sha256 => "TLS_CHACHA20_POLY1305_SHA256",
            Tls13Suite::Aes128GcmSha256 => "TLS_AES_128_GCM_SHA256",
        }
    }

    /// The Debug name of rustls's `CipherSuite` variant, which for TLS 1.3 differs from the IANA
    /// name: rustls writes `TLS13_` where IANA writes `TLS_`.
    pub const fn rustls_name(self) -> &'static str {
        match self {
            Tls13Suite::Aes256GcmSha384 => "TLS13_AES_256_GCM_SHA384",
            Tls13Suite::Chacha20Poly1305Sha256 => "TLS13_CHACHA20_POLY1305_SHA256",
            Tls13Suite::Aes128GcmSha256 => "TLS13_AES_128_GCM_SHA256",
        }
    }

    /// The suite with this OpenSSL (= IANA) name, if rustls can offer it.
    pub fn from_openssl_name(name: &str) -> Option<Tls13Suite> {
        Tls13Suite::ALL
            .into_iter()
            .find(|suite| suite.openssl_name() == name)
    }
}

impl fmt::Display for Tls13Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openssl_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_names_round_trip() {
        for suite in Tls12Suite::ALL {
            assert_eq!(
                Tls12Suite::from_openssl_name(suite.openssl_name()),
                Some(suite)
            );
        }
        for suite in Tls13Suite::ALL {
            assert_eq!(
                Tls13Suite::from_openssl_name(suite.openssl_name()),
                Some(suite)
            );
        }
        assert_eq!(
            Tls12Suite::from_openssl_name("ECDHE-RSA-AES128-SHA256"),
            None
        );
        assert_eq!(
            Tls13Suite::from_openssl_name("TLS_AES_128_CCM_SHA256"),
            None
        );
    }

    #[test]
    fn all_is_sorted_by_declaration_order() {
        assert!(Tls12Suite::ALL.is_sorted());
        assert!(Tls13Suite::ALL.is_sorted());
    }

    #[test]
    fn rustls_names_differ_from_iana_only_for_tls13() {
        for suite in Tls12Suite::ALL {
            assert_eq!(suite.rustls_name(), suite.iana_name());
        }
        for suite in Tls13Suite::ALL {
            assert_eq!(
                suite.rustls_name().replacen("TLS13_", "TLS_", 1),
                suite.iana_name()
            );
        }
    }
}
