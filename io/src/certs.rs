//! Loading the TLS certificate and key pveproxy serves.
//!
//! Which pair is decided in core (`corral_core::http::cert::choose_certificate`, as Proxmox:
//! the custom `pveproxy-ssl.*` pair when both files exist, else `pve-ssl.*`). Here the files are
//! read and checked: unlike Proxmox, which starts and then fails every handshake, a missing or
//! unreadable file, an encrypted key, or a key that does not match its certificate stops the
//! daemon from starting (or a reload from applying) with a message naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use corral_core::http::cert::CertPaths;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::files::{Files, ReadError};

/// Certificates and keys are a few KiB; the bound only stops a wrong path being read whole.
pub const KEY_MATERIAL_LEN_MAX: u64 = 1024 * 1024;

/// Why the certificate or key cannot be used, naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}: no such file", path.display())]
    Missing { path: PathBuf },
    #[error("{}: no PEM certificate in the file", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: not valid PEM: {detail}", path.display())]
    BadPem { path: PathBuf, detail: String },
    #[error("{}: the key is encrypted; passphrase-protected keys are not supported (as in Proxmox VE)", path.display())]
    EncryptedKey { path: PathBuf },
    #[error("{}: no PEM private key in the file", path.display())]
    NoKey { path: PathBuf },
    #[error("{}: the key cannot be used: {detail}", path.display())]
    BadKey { path: PathBuf, detail: String },
    #[error("{} does not match the certificate {}", key.display(), cert.display())]
    Mismatch { cert: PathBuf, key: PathBuf },
}

/// Reads and checks the pair `paths` names (absolute paths, resolved under `root` by `resolve`).
pub fn load_certified_key(
    files: &dyn Files,
    resolve: &dyn Fn(&str) -> PathBuf,
    paths: &CertPaths,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, CertError> {
    let cert_path = resolve(&paths.cert);
    let key_path = resolve(&paths.key);
    let chain = read_chain(files, &cert_path)?;
    let key = read_key(files, &key_path)?;
    match CertifiedKey::from_der(chain, key, provider) {
        Ok(certified) => Ok(Arc::new(certified)),
        Err(rustls::Error::InconsistentKeys(_)) => Err(CertError::Mismatch {
            cert: cert_path,
            key: key_path,
        }),
        Err(e) => Err(CertError::BadKey {
            path: key_path,
            detail: e.to_string(),
        }),
    }
}

fn read_file(files: &dyn Files, path: &Path) -> Result<Vec<u8>, CertError> {
    files
        .read(path, KEY_MATERIAL_LEN_MAX)?
        .ok_or_else(|| CertError::Missing {
            path: path.to_owned(),
        })
}

/// The whole chain, leaf first, as Proxmox sends it.
fn read_chain(files: &dyn Files, path: &Path) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let bytes = read_file(files, path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::BadPem {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(CertError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(chain)
}

fn read_key(files: &dyn Files, path: &Path) -> Result<PrivateKeyDer<'static>, CertError> {
    let bytes = read_file(files, path)?;
    if is_encrypted_key(&bytes) {
        return Err(CertError::EncryptedKey {
            path: path.to_owned(),
        });
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => CertError::NoKey {
            path: path.to_owned(),
        },
        e => CertError::BadPem {
            path: path.to_owned(),
            detail: e.to_string(),
        },
    })
}

/// PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional key with `Proc-Type: 4,ENCRYPTED`.
fn is_encrypted_key(pem: &[u8]) -> bool {
    let contains = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    contains(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || contains(b"Proc-Type: 4,ENCRYPTED")
}

/// Serves one certificate to every client (pveproxy has no SNI-based choice).
#[derive(Debug)]
pub struct FixedCert(pub Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}
