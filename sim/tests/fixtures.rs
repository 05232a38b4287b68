//! The committed key material under `sim/fixtures/`: checked on every run to fit together
//! (node certificates signed by the CA, valid over the simulation's epoch, naming the node's
//! address; the ticket keys a pair; the admin's password hash), and made anew by the ignored
//! test (`cargo test -p corral-sim --test fixtures -- --ignored`, then commit the files).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use corral_core::access::{Shadow, Userid};
use corral_core::auth::keys::{PublicKeys, SigningKey, VerifyKey};
use corral_core::time::UnixTime;
use corral_io::authkey;
use corral_io::clock::ManualClock;
use corral_io::files::{Files, MemFs, Root};
use corral_sim::EPOCH_SECS;
use corral_sim::fixtures::{self, ADMIN, ADMIN_PASSWORD, NODES_MAX};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, SanType,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime as PkiTime};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn node_certificates_are_the_ca_s_valid_at_the_epoch_for_the_node_s_address() {
    let ca = CertificateDer::from_pem_slice(fixtures::CA_PEM.as_bytes()).expect("the CA is PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("a usable CA");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .expect("a verifier");
    // A day into the simulation, and two weeks.
    for offset in [0, 24 * 3600, 14 * 24 * 3600] {
        let at = PkiTime::since_unix_epoch(Duration::from_secs(EPOCH_SECS + offset));
        for index in 0..NODES_MAX {
            let (pem, key) = fixtures::node_cert(index).expect("a certificate");
            let cert = CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM");
            let ip: std::net::IpAddr = format!("10.0.0.{}", index + 1).parse().expect("literal");
            let name = ServerName::IpAddress(ip.into());
            verifier
                .verify_server_cert(&cert, &[], &name, &[], at)
                .unwrap_or_else(|e| panic!("pve{}'s certificate: {e}", index + 1));
            assert!(KeyPair::from_pem(key).is_ok(), "pve{}'s key", index + 1);
        }
    }
}

#[test]
fn the_ticket_keys_are_a_pair_and_the_admin_password_matches_its_hash() {
    let signing = SigningKey::from_pem(fixtures::AUTHKEY_KEY.as_bytes()).expect("the signing key");
    let now = UnixTime(i64::try_from(EPOCH_SECS).expect("fits"));
    let public = PublicKeys {
        current: VerifyKey::from_pem(fixtures::AUTHKEY_PUB.as_bytes(), now).expect("the key"),
        old: None,
    };
    let ticket = corral_core::auth::ticket::sign(
        ADMIN,
        now,
        &signing,
        corral_core::auth::ticket::SignDigest::Sha256,
    )
    .expect("signed");
    let verified = corral_core::auth::ticket::verify(
        &ticket,
        &public,
        now,
        corral_core::auth::keyage::Quorum::Quorate,
    )
    .expect("the pair verifies its own ticket");
    assert_eq!(verified.userid, ADMIN);

    let shadow = Shadow::parse(Some(fixtures::SHADOW_CFG)).config;
    let admin = Userid::parse(ADMIN).expect("a user id");
    corral_core::password::verify_entry(ADMIN_PASSWORD, shadow.hash(&admin))
        .expect("the admin's password matches shadow.cfg");
    assert!(fixtures::USER_CFG.contains("acl:1:/:admin@pve:Administrator:"));
}

/// Makes every fixture anew (RSA keys: slow in a debug build). Run it only to replace them,
/// then commit the files; the tests above check what it made.
#[test]
#[ignore = "regenerates the committed fixtures"]
fn regenerate_fixtures() {
    let dir = fixtures_dir();
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("mkdir");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };

    // The CA and the node certificates, as `pvecm updatecerts` makes them (see
    // nodes/src/up/certs.rs), from 2026-01-01 on: valid over the simulation's epoch.
    let ca_key = rsa_key();
    let mut ca = CertificateParams::default();
    ca.distinguished_name = name(&[
        (DnType::CommonName, "Proxmox Virtual Environment"),
        (DnType::OrganizationalUnitName, "corral-sim"),
        (DnType::OrganizationName, "PVE Cluster Manager CA"),
    ]);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = rcgen::date_time_ymd(2026, 1, 1);
    ca.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let ca_cert = ca.self_signed(&ca_key).expect("the CA");
    write("pve-root-ca.pem", &ca_cert.pem());
    let issuer = Issuer::new(ca, ca_key);
    for index in 0..NODES_MAX {
        let node = fixtures::node_name(index);
        let key = rsa_key();
        let mut params = CertificateParams::default();
        let fqdn = format!("{node}.localdomain");
        params.distinguished_name = name(&[
            (DnType::OrganizationalUnitName, "PVE Cluster Node"),
            (DnType::OrganizationName, "Proxmox Virtual Environment"),
            (DnType::CommonName, &fqdn),
        ]);
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some((index as u64 + 1).into());
        let ip = |text: &str| SanType::IpAddress(text.parse().expect("literal"));
        let dns = |text: &str| SanType::DnsName(text.to_owned().try_into().expect("a DNS name"));
        params.subject_alt_names = vec![
            ip("127.0.0.1"),
            ip("::1"),
            dns("localhost"),
            ip(&format!("10.0.0.{}", index + 1)),
            dns(&node),
            dns(&fqdn),
        ];
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2028, 1, 1);
        let cert = params.signed_by(&key, &issuer).expect("signed");
        write(&format!("nodes/{node}/pve-ssl.pem"), &cert.pem());
        write(&format!("nodes/{node}/pve-ssl.key"), &key.serialize_pem());
    }

    // The ticket and CSRF keys, exactly as pvedaemon makes them.
    let fs = MemFs::new(Arc::new(ManualClock::new(UnixTime(0))));
    let root = Root::default();
    authkey::ensure_keys(&fs, &root).expect("the keys");
    let read = |path: &str| {
        let bytes = fs
            .read(Path::new(path), 1 << 20)
            .expect("read")
            .expect("made");
        String::from_utf8(bytes).expect("PEM")
    };
    write("authkey.key", &read(authkey::AUTHKEY_PRIVATE));
    write("authkey.pub", &read(authkey::AUTHKEY_PUBLIC));
    write("pve-www.key", &read(authkey::WWW_KEY));

    write(
        "user.cfg",
        "user:root@pam:1:0:::::\nuser:admin@pve:1:0::::made by corral-sim::\n\n\
         acl:1:/:admin@pve:Administrator:\n",
    );
    let hash = corral_io::password::new_hash(ADMIN_PASSWORD).expect("a hash");
    write("shadow.cfg", &format!("{ADMIN}:{hash}:\n"));
}

fn rsa_key() -> KeyPair {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).expect("an RSA key")
}

fn name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}
