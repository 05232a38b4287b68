//! The cluster CA and the node certificates, as `pvecm updatecerts` makes them (Proxmox's
//! `PVE::Cluster::Setup::gen_pveca_cert` and `gen_pve_ssl_cert`), with rcgen instead of the
//! `openssl` command:
//!
//! | file (under the shared `/etc/pve`) | what | mode |
//! |---|---|---|
//! | `priv/pve-root-ca.key` | the CA's RSA-4096 key | 0600 |
//! | `pve-root-ca.pem` | the CA: `CN=Proxmox Virtual Environment, OU=<uuid>, O=PVE Cluster Manager CA`, 10 years | 0640 |
//! | `priv/pve-root-ca.srl` | the last serial number the CA gave, hex | 0600 |
//! | `nodes/<node>/pve-ssl.key` | the node's RSA-2048 key | 0640 |
//! | `nodes/<node>/pve-ssl.pem` | `OU=PVE Cluster Node, O=Proxmox Virtual Environment, CN=<node>.localdomain`, 2 years | 0640 |
//!
//! Both certificates start yesterday (Proxmox runs `openssl` under `faketime yesterday`). The
//! node certificate names `127.0.0.1`, `::1`, `localhost`, the node's address, its name and
//! its FQDN, as Proxmox's. Like `pvecm updatecerts`, nothing that exists is replaced, except
//! that a new CA re-signs every node certificate.
//!
//! Difference: the CA also has the key usages keyCertSign and cRLSign (Proxmox's has none), so
//! clients that verify strictly (Python 3.13's default) accept it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use corral_io::files::{Access, write_as};
use corral_io::token_secret::random_uuid;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize, SanType,
};

use super::setup::Node;

/// The CA's key, certificate and serial file, relative to the shared `/etc/pve`.
pub const CA_KEY: &str = "priv/pve-root-ca.key";
pub const CA_CERT: &str = "pve-root-ca.pem";
const CA_SERIAL: &str = "priv/pve-root-ca.srl";

/// Proxmox's `-days 3650` for the CA, `-days 730` for node certificates.
const CA_DAYS: u64 = 3650;
const NODE_DAYS: u64 = 730;
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The domain of the nodes' FQDN (Proxmox takes resolv.conf's `search` domain).
pub const DOMAIN: &str = "localdomain";

/// Makes what is missing of the CA and the node certificates under `pve` (the shared
/// `/etc/pve`, whose `priv/` and `nodes/<node>/` exist).
pub fn ensure(pve: &Path, nodes: &[Node]) -> Result<()> {
    let (issuer, ca_created) = ensure_ca(pve)?;
    for node in nodes {
        ensure_node_certificate(pve, node, &issuer, ca_created)?;
    }
    Ok(())
}

/// The CA to sign with, and whether it was made now.
fn ensure_ca(pve: &Path) -> Result<(Issuer<'static, KeyPair>, bool)> {
    let key_path = pve.join(CA_KEY);
    let cert_path = pve.join(CA_CERT);
    let (key, key_created) = ensure_key(&key_path, RsaKeySize::_4096, Access::Private)?;
    // A CA certificate made for another key would sign nothing pveproxy could use.
    let created = key_created || !cert_path.is_file();
    if created {
        let cert = ca_params(&random_uuid().context("cannot draw random bytes")?)
            .self_signed(&key)
            .context("cannot make the cluster CA certificate")?;
        write_as(&cert_path, cert.pem().as_bytes(), Access::Shared)?;
    }
    let pem = read_text(&cert_path)?;
    let issuer = Issuer::from_ca_cert_pem(&pem, key)
        .with_context(|| format!("{}: not a CA certificate", cert_path.display()))?;
    Ok((issuer, created))
}

fn ca_params(unique: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&[
        (DnType::CommonName, "Proxmox Virtual Environment"),
        (DnType::OrganizationalUnitName, unique),
        (DnType::OrganizationName, "PVE Cluster Manager CA"),
    ]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, CA_DAYS);
    params
}

/// The node's key (kept when it exists) and, when missing or `force`d, its certificate.
fn ensure_node_certificate(
    pve: &Path,
    node: &Node,
    issuer: &Issuer<'static, KeyPair>,
    force: bool,
) -> Result<()> {
    let dir = pve.join("nodes").join(&node.name);
    let (key, key_created) =
        ensure_key(&dir.join("pve-ssl.key"), RsaKeySize::_2048, Access::Shared)?;
    let cert_path = dir.join("pve-ssl.pem");
    if !force && !key_created && cert_path.is_file() {
        return Ok(());
    }
    let mut params = node_params(node)?;
    params.serial_number = Some(next_serial(pve)?.into());
    let cert = params
        .signed_by(&key, issuer)
        .with_context(|| format!("cannot sign the certificate of {}", node.name))?;
    write_as(&cert_path, cert.pem().as_bytes(), Access::Shared)?;
    Ok(())
}

fn node_params(node: &Node) -> Result<CertificateParams> {
    let fqdn = format!("{}.{DOMAIN}", node.name);
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&[
        (DnType::OrganizationalUnitName, "PVE Cluster Node"),
        (DnType::OrganizationName, "Proxmox Virtual Environment"),
        (DnType::CommonName, &fqdn),
    ]);
    params.is_ca = IsCa::ExplicitNoCa;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let dns = |name: &str| -> Result<SanType> {
        Ok(SanType::DnsName(name.to_owned().try_into().with_context(
            || format!("'{name}' cannot be a DNS name"),
        )?))
    };
    // Proxmox: IP:127.0.0.1, IP:::1, DNS:localhost, IP:<address>, DNS:<node>, DNS:<fqdn>.
    let mut names = vec![
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        dns("localhost")?,
    ];
    if node.address != Ipv4Addr::LOCALHOST {
        names.push(SanType::IpAddress(IpAddr::V4(node.address)));
    }
    names.push(dns(&node.name)?);
    names.push(dns(&fqdn)?);
    params.subject_alt_names = names;
    set_validity(&mut params, NODE_DAYS);
    Ok(params)
}

fn distinguished_name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}

/// From yesterday (as `faketime yesterday`) for `days`.
fn set_validity(params: &mut CertificateParams, days: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let start = rcgen::date_time_ymd(1970, 1, 1) + now.saturating_sub(DAY);
    params.not_before = start;
    params.not_after = start + DAY * u32::try_from(days).unwrap_or(u32::MAX);
}

/// The key in `path`, or a new RSA key of `size` written there with `access`; whether it is new.
fn ensure_key(path: &Path, size: RsaKeySize, access: Access) -> Result<(KeyPair, bool)> {
    if path.is_file() {
        let pem = read_text(path)?;
        let key = KeyPair::from_pem(&pem)
            .with_context(|| format!("{}: not a usable private key", path.display()))?;
        return Ok((key, false));
    }
    let key =
        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, size).context("cannot generate an RSA key")?;
    write_as(path, key.serialize_pem().as_bytes(), access)?;
    Ok((key, true))
}

/// The serial number for the next certificate, recorded in `priv/pve-root-ca.srl` as
/// `openssl x509 -CAserial` does (Proxmox starts the file at 0).
fn next_serial(pve: &Path) -> Result<u64> {
    let path: PathBuf = pve.join(CA_SERIAL);
    let last = if path.is_file() {
        let text = read_text(&path)?;
        u64::from_str_radix(text.trim(), 16)
            .with_context(|| format!("{}: not a hexadecimal serial number", path.display()))?
    } else {
        0
    };
    let next = last
        .checked_add(1)
        .context("the CA's serial numbers ran out")?;
    write_as(&path, format!("{next:02X}\n").as_bytes(), Access::Private)?;
    Ok(next)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let uuid = random_uuid().expect("random");
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
    }
}
