//! The TLS policy of `/etc/default/pveproxy` (see `corral_core::tls`) as rustls configuration.
//!
//! Core decides which suites, in which order, over which versions; this module only maps those
//! decisions onto rustls 0.23 with the aws-lc-rs provider.

use std::sync::Arc;

use corral_core::tls::{Tls12Suite, Tls13Suite, TlsPolicy};
use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite};
use rustls::server::WantsServerCert;
use rustls::time_provider::TimeProvider;
use rustls::{ConfigBuilder, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

/// rustls refused the policy (it cannot, for a policy core accepted; kept typed all the same).
#[derive(Debug, thiserror::Error)]
#[error("rustls refused the TLS settings: {0}")]
pub struct TlsConfigError(#[from] rustls::Error);

fn tls12_suite(suite: Tls12Suite) -> SupportedCipherSuite {
    match suite {
        Tls12Suite::EcdheEcdsaAes256GcmSha384 => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        }
        Tls12Suite::EcdheRsaAes256GcmSha384 => cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        Tls12Suite::EcdheEcdsaChacha20Poly1305Sha256 => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        Tls12Suite::EcdheRsaChacha20Poly1305Sha256 => {
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        Tls12Suite::EcdheEcdsaAes128GcmSha256 => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        }
        Tls12Suite::EcdheRsaAes128GcmSha256 => cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    }
}

fn tls13_suite(suite: Tls13Suite) -> SupportedCipherSuite {
    match suite {
        Tls13Suite::Aes256GcmSha384 => cipher_suite::TLS13_AES_256_GCM_SHA384,
        Tls13Suite::Chacha20Poly1305Sha256 => cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        Tls13Suite::Aes128GcmSha256 => cipher_suite::TLS13_AES_128_GCM_SHA256,
    }
}

/// The aws-lc-rs provider restricted to the policy's suites, in its preference order (TLS 1.3
/// suites first: a version is negotiated before a suite, so their relative order is moot).
pub fn crypto_provider(policy: &TlsPolicy) -> CryptoProvider {
    let mut cipher_suites = Vec::new();
    if policy.tls13 {
        cipher_suites.extend(policy.tls13_suites.iter().copied().map(tls13_suite));
    }
    if policy.tls12 {
        cipher_suites.extend(policy.tls12_suites.iter().copied().map(tls12_suite));
    }
    CryptoProvider {
        cipher_suites,
        ..aws_lc_rs::default_provider()
    }
}

/// The protocol versions the policy enables.
pub fn protocol_versions(policy: &TlsPolicy) -> Vec<&'static SupportedProtocolVersion> {
    let mut versions = Vec::new();
    if policy.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if policy.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    versions
}

/// A `ServerConfig` builder with the policy's suites and versions, wall-clock time from `time`,
/// and no client certificates; the caller adds the certificate (or a resolver) and sets
/// `ignore_client_order` from [`TlsPolicy::honor_cipher_order`] via [`finish`].
pub fn server_config_builder(
    policy: &TlsPolicy,
    time: Arc<dyn TimeProvider>,
) -> Result<ConfigBuilder<ServerConfig, WantsServerCert>, TlsConfigError> {
    let builder = ServerConfig::builder_with_details(Arc::new(crypto_provider(policy)), time)
        .with_protocol_versions(&protocol_versions(policy))?;
    Ok(builder.with_no_client_auth())
}

/// The complete config pveproxy serves: the policy, the certificate, our clock, HTTP/1.1 only.
pub fn server_config(
    policy: &TlsPolicy,
    certified: Arc<rustls::sign::CertifiedKey>,
    time: Arc<dyn TimeProvider>,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let config = server_config_builder(policy, time)?
        .with_cert_resolver(Arc::new(crate::certs::FixedCert(certified)));
    // No ALPN, as Proxmox: clients speak HTTP/1.1.
    Ok(Arc::new(finish(policy, config)))
}

/// Applies what the policy says beyond suites and versions to a built config.
pub fn finish(policy: &TlsPolicy, mut config: ServerConfig) -> ServerConfig {
    // HONOR_CIPHER_ORDER=1 is OpenSSL's SSL_OP_CIPHER_SERVER_PREFERENCE.
    config.ignore_client_order = policy.honor_cipher_order;
    config
}
