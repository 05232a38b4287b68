//! `/etc/default/pveproxy` TLS settings, through core's policy and io's rustls mapping, decide
//! what a real rustls handshake negotiates (in memory: no sockets needed for this).

use std::sync::Arc;

use corral_core::tls::{TlsPolicy, TlsSettings};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{
    CipherSuite, ClientConfig, ClientConnection, ConnectionCommon, ProtocolVersion, RootCertStore,
    ServerConnection,
};

/// Every key unset, as on a fresh Proxmox node.
fn settings() -> TlsSettings<'static> {
    TlsSettings::default()
}

fn policy(settings: TlsSettings<'_>) -> TlsPolicy {
    TlsPolicy::from_settings(&settings)
        .expect("valid settings")
        .policy
}

/// An ECDSA P-256 certificate for `localhost` (rcgen's default key type).
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("rcgen makes a certificate");
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    (certified.cert.der().clone(), key.into())
}

/// A client that prefers ChaCha20 (the opposite of Proxmox's AES-256-first order), offering
/// `versions`.
fn client(
    cert: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> ClientConnection {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        let name = format!("{:?}", suite.suite());
        (!name.contains("CHACHA20"), name.contains("AES_256"))
    });
    let mut roots = RootCertStore::empty();
    roots
        .add(cert.clone())
        .expect("the certificate is a valid trust anchor");
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("client versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = "localhost".try_into().expect("valid server name");
    ClientConnection::new(Arc::new(config), name).expect("client connection")
}

fn server(
    policy: &TlsPolicy,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> ServerConnection {
    let config = corral_io::tls::server_config_builder(
        policy,
        Arc::new(rustls::time_provider::DefaultTimeProvider),
    )
    .expect("policy maps onto rustls")
    .with_single_cert(vec![cert], key)
    .expect("certificate and key match");
    let config = corral_io::tls::finish(policy, config);
    ServerConnection::new(Arc::new(config)).expect("server connection")
}

/// Shuttles records between the two until both finish the handshake; `Err` if either fails.
fn handshake(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..20 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
        transfer(&mut **client, &mut **server)?;
        transfer(&mut **server, &mut **client)?;
    }
    panic!("handshake did not finish in 20 round trips");
}

fn transfer<A, B>(
    from: &mut ConnectionCommon<A>,
    to: &mut ConnectionCommon<B>,
) -> Result<(), rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf)
            .expect("writing to a Vec cannot fail");
    }
    let mut bytes = buf.as_slice();
    while !bytes.is_empty() {
        to.read_tls(&mut bytes)
            .expect("reading from a slice cannot fail");
        to.process_new_packets()?;
    }
    Ok(())
}

fn negotiate(
    policy: &TlsPolicy,
    client_versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<(ProtocolVersion, CipherSuite), rustls::Error> {
    let (cert, key) = certificate();
    let mut client = client(&cert, client_versions);
    let mut server = server(policy, cert, key);
    handshake(&mut client, &mut server)?;
    let version = server.protocol_version().expect("negotiated");
    let suite = server
        .negotiated_cipher_suite()
        .expect("negotiated")
        .suite();
    Ok((version, suite))
}

const BOTH: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
const TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
const TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

#[test]
fn honor_cipher_order_picks_the_servers_first_suite() {
    let result = negotiate(&policy(settings()), BOTH);
    assert_eq!(
        result,
        Ok((
            ProtocolVersion::TLSv1_3,
            CipherSuite::TLS13_AES_256_GCM_SHA384
        ))
    );
    let result = negotiate(&policy(settings()), TLS12_ONLY);
    let expected = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    assert_eq!(result, Ok((ProtocolVersion::TLSv1_2, expected)));
}

#[test]
fn without_honor_cipher_order_the_client_chooses() {
    let policy = policy(TlsSettings {
        honor_cipher_order: false,
        ..settings()
    });
    let result = negotiate(&policy, BOTH);
    assert_eq!(
        result,
        Ok((
            ProtocolVersion::TLSv1_3,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        ))
    );
    let result = negotiate(&policy, TLS12_ONLY);
    let expected = CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    assert_eq!(result, Ok((ProtocolVersion::TLSv1_2, expected)));
}

#[test]
fn ciphers_restrict_and_order_tls12_suites() {
    let ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";
    let policy = policy(TlsSettings {
        ciphers: Some(ciphers),
        ..settings()
    });
    let expected = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    assert_eq!(
        negotiate(&policy, TLS12_ONLY),
        Ok((ProtocolVersion::TLSv1_2, expected))
    );
}

#[test]
fn ciphersuites_restrict_tls13_suites() {
    let policy = policy(TlsSettings {
        ciphersuites: Some("TLS_AES_128_GCM_SHA256"),
        ..settings()
    });
    let expected = CipherSuite::TLS13_AES_128_GCM_SHA256;
    assert_eq!(
        negotiate(&policy, BOTH),
        Ok((ProtocolVersion::TLSv1_3, expected))
    );
}

#[test]
fn a_disabled_version_is_not_negotiated() {
    let no_tls13 = policy(TlsSettings {
        disable_tls_1_3: true,
        ..settings()
    });
    assert_eq!(
        negotiate(&no_tls13, BOTH).map(|(v, _)| v),
        Ok(ProtocolVersion::TLSv1_2)
    );
    assert!(
        negotiate(&no_tls13, TLS13_ONLY).is_err(),
        "a TLS 1.3-only client must fail"
    );
    let no_tls12 = policy(TlsSettings {
        disable_tls_1_2: true,
        ..settings()
    });
    assert!(
        negotiate(&no_tls12, TLS12_ONLY).is_err(),
        "a TLS 1.2-only client must fail"
    );
}

#[test]
fn the_provider_offers_exactly_the_policys_suites() {
    let policy = policy(TlsSettings {
        disable_tls_1_3: true,
        ..settings()
    });
    let provider: CryptoProvider = corral_io::tls::crypto_provider(&policy);
    let names: Vec<String> = provider
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect();
    let expected: Vec<&str> = policy
        .tls12_suites
        .iter()
        .map(|s| s.rustls_name())
        .collect();
    assert_eq!(names, expected);
}
