//! Pinning another node's certificate, as Proxmox does (MGR `PVE/CertCache.pm`): pveproxy
//! trusts a node's TLS certificate if and only if the SHA-256 fingerprint of the leaf it
//! presents is that of the node's certificate file in `/etc/pve` — no CA, no host name, no
//! validity dates. The handshake's signatures are still checked, so the node holds the key.
//!
//! The file is `/etc/pve/nodes/<node>/pveproxy-ssl.pem` when it exists, else `pve-ssl.pem`
//! (only its first certificate counts). Fingerprints are cached per node; a mismatch re-reads
//! the node's file at most once per [`REFRESH_MIN`] (a renewed certificate is picked up at
//! once), and the whole cache is dropped every [`CLEAR_EVERY`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use corral_core::api::schema::is_node_name;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::certs::KEY_MATERIAL_LEN_MAX;
use crate::files::{Files, ReadError, Root};
use crate::forward::NODES_MAX;
use crate::proxy_settings::node_dir;

/// A node's file is re-read after a mismatch at most this often (Proxmox: once a minute), so
/// a node presenting a wrong certificate cannot make every request read `/etc/pve`.
pub const REFRESH_MIN: Duration = Duration::from_secs(60);
/// The cache is dropped this often (Proxmox: every 30 minutes), so a replaced file is read
/// even when no mismatch asks for it.
pub const CLEAR_EVERY: Duration = Duration::from_secs(30 * 60);

/// The SHA-256 of a certificate's DER.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(openssl::sha::sha256(der))
    }
}

/// Proxmox's (and `openssl x509 -fingerprint`'s) format: uppercase hex pairs joined by `:`.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a PEM file gave no certificate.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    #[error("no PEM certificate in the file")]
    NoCertificate,
    #[error("not valid PEM: {0}")]
    BadPem(String),
}

/// The fingerprint of the first certificate in `pem`, as Proxmox shows it (`AB:CD:…`).
pub fn fingerprint_of_pem(pem: &[u8]) -> Result<String, PemError> {
    first_fingerprint(pem).map(|fingerprint| fingerprint.to_string())
}

fn first_fingerprint(pem: &[u8]) -> Result<Fingerprint, PemError> {
    match CertificateDer::pem_slice_iter(pem).next() {
        None => Err(PemError::NoCertificate),
        Some(Err(e)) => Err(PemError::BadPem(e.to_string())),
        Some(Ok(der)) => Ok(Fingerprint::of_der(&der)),
    }
}

/// Why a node's certificate cannot be pinned; each says which node (and file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    #[error("no certificate for node '{node}' (not a node name)")]
    BadNodeName { node: String },
    #[error("no certificate for node '{node}' ({}: no such file)", path.display())]
    Missing { node: String, path: PathBuf },
    #[error("no certificate for node '{node}' ({cause})")]
    Unreadable { node: String, cause: ReadError },
    #[error("no certificate for node '{node}' ({}: {cause})", path.display())]
    BadPem {
        node: String,
        path: PathBuf,
        cause: PemError,
    },
    /// rustls refused the client settings (it cannot for the default provider; kept typed).
    #[error("cannot set up TLS for node '{node}': {cause}")]
    Tls { node: String, cause: rustls::Error },
}

/// The fingerprint of `node`'s certificate file (what the `ssl_fingerprint` of `GET /nodes`
/// shows), read through `files` under `root`.
pub fn node_fingerprint(files: &dyn Files, root: &Root, node: &str) -> Result<String, PinError> {
    read_pin(files, root, node).map(|fingerprint| fingerprint.to_string())
}

/// `pveproxy-ssl.pem` when it exists (Perl's `-f`, as Proxmox tests it), else `pve-ssl.pem`.
fn cert_path(files: &dyn Files, root: &Root, node: &str) -> PathBuf {
    let dir = node_dir(node);
    let custom = root.path(&format!("{dir}/pveproxy-ssl.pem"));
    if files.is_file(&custom) {
        return custom;
    }
    root.path(&format!("{dir}/pve-ssl.pem"))
}

fn read_pin(files: &dyn Files, root: &Root, node: &str) -> Result<Fingerprint, PinError> {
    // The name becomes a path: only a node name may, never `..` or a `/`.
    if !is_node_name(node) {
        return Err(PinError::BadNodeName {
            node: node.to_owned(),
        });
    }
    let path = cert_path(files, root, node);
    let pem = match files.read(&path, KEY_MATERIAL_LEN_MAX) {
        Ok(Some(pem)) => pem,
        Ok(None) => {
            return Err(PinError::Missing {
                node: node.to_owned(),
                path,
            });
        }
        Err(cause) => {
            return Err(PinError::Unreadable {
                node: node.to_owned(),
                cause,
            });
        }
    };
    first_fingerprint(&pem).map_err(|cause| PinError::BadPem {
        node: node.to_owned(),
        path,
        cause,
    })
}

/// The leaf a node presented is not the pinned one. Carried out of the handshake inside
/// rustls' error, so the caller can tell it from other TLS failures.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the certificate {presented} is not the pinned {pinned}")]
pub(crate) struct Mismatch {
    pub presented: Fingerprint,
    pub pinned: Fingerprint,
}

/// Accepts exactly the leaf whose fingerprint is pinned; verifies the handshake signatures
/// with the provider's algorithms as any verifier must.
#[derive(Debug)]
struct PinnedLeaf {
    pinned: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedLeaf {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = Fingerprint::of_der(end_entity);
        if presented == self.pinned {
            return Ok(ServerCertVerified::assertion());
        }
        let mismatch = Mismatch {
            presented,
            pinned: self.pinned,
        };
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(mismatch)),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client config that trusts only `pinned`: TLS 1.2 and 1.3, aws-lc-rs, HTTP/1.1 by ALPN.
fn pinned_config(
    provider: &Arc<CryptoProvider>,
    time: &Arc<dyn rustls::time_provider::TimeProvider>,
    pinned: Fingerprint,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let verifier = Arc::new(PinnedLeaf {
        pinned,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ClientConfig::builder_with_details(Arc::clone(provider), Arc::clone(time))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Why a pinned handshake failed.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    Mismatch(Mismatch),
    Failed(io::Error),
}

/// TLS over `stream` to `ip`, trusting what `config` pins. rustls sends no SNI for an IP
/// address, as Proxmox connects.
pub(crate) async fn handshake<S>(
    config: Arc<ClientConfig>,
    ip: IpAddr,
    stream: S,
) -> Result<TlsStream<S>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    TlsConnector::from(config)
        .connect(ServerName::IpAddress(ip.into()), stream)
        .await
        .map_err(|e| match mismatch_in(&e) {
            Some(mismatch) => HandshakeError::Mismatch(mismatch),
            None => HandshakeError::Failed(e),
        })
}

/// The [`Mismatch`] [`PinnedLeaf`] failed the handshake with, if that is what failed it
/// (tokio-rustls wraps rustls' error in the io::Error).
fn mismatch_in(error: &io::Error) -> Option<Mismatch> {
    let rustls::Error::InvalidCertificate(CertificateError::Other(other)) =
        error.get_ref()?.downcast_ref::<rustls::Error>()?
    else {
        return None;
    };
    other.0.downcast_ref::<Mismatch>().copied()
}

/// The pinned fingerprints of the other nodes, each with a client config trusting just it.
#[derive(Debug)]
pub(crate) struct PinCache {
    files: Rc<dyn Files>,
    root: Root,
    provider: Arc<CryptoProvider>,
    /// The wall clock rustls reads (session ticket ages): the node's clock, simulated in the
    /// simulator.
    time: Arc<dyn rustls::time_provider::TimeProvider>,
    state: RefCell<PinState>,
}

#[derive(Debug)]
struct PinState {
    pins: HashMap<String, Pin>,
    cleared: Instant,
}

#[derive(Debug)]
struct Pin {
    fingerprint: Fingerprint,
    config: Arc<ClientConfig>,
    /// When a mismatch last re-read the file. Not the first read: as in Proxmox, a renewed
    /// certificate is picked up at its first mismatch.
    refreshed: Option<Instant>,
}

impl PinCache {
    pub(crate) fn new(files: Rc<dyn Files>, root: Root) -> PinCache {
        PinCache {
            files,
            root,
            provider: Arc::new(aws_lc_rs::default_provider()),
            time: Arc::new(rustls::time_provider::DefaultTimeProvider),
            state: RefCell::new(PinState {
                pins: HashMap::new(),
                cleared: Instant::now(),
            }),
        }
    }

    /// The config pinning `node`'s certificate, read from its file unless cached. Failures
    /// are not cached: a certificate that appears is used at once.
    pub(crate) fn config(&self, node: &str) -> Result<Arc<ClientConfig>, PinError> {
        let mut state = self.state.borrow_mut();
        state.clear_when_due();
        if let Some(pin) = state.pins.get(node) {
            return Ok(Arc::clone(&pin.config));
        }
        let fingerprint = read_pin(&*self.files, &self.root, node)?;
        let pin = self.pin(node, fingerprint, None)?;
        let config = Arc::clone(&pin.config);
        state.insert(node, pin);
        Ok(config)
    }

    /// After `failed` met a certificate it does not pin: a config worth one more try, if
    /// there is one. That is the cached config when another request already replaced
    /// `failed`, else the file's when it is due for a re-read and its fingerprint changed.
    pub(crate) fn refresh(
        &self,
        node: &str,
        failed: &Arc<ClientConfig>,
    ) -> Result<Option<Arc<ClientConfig>>, PinError> {
        let now = Instant::now();
        let mut state = self.state.borrow_mut();
        let Some(pin) = state.pins.get_mut(node) else {
            // Cleared meanwhile: the file is read afresh.
            drop(state);
            return self.config(node).map(Some);
        };
        if !Arc::ptr_eq(&pin.config, failed) {
            return Ok(Some(Arc::clone(&pin.config)));
        }
        if pin
            .refreshed
            .is_some_and(|at| now.duration_since(at) < REFRESH_MIN)
        {
            return Ok(None);
        }
        let fingerprint = match read_pin(&*self.files, &self.root, node) {
            Ok(fingerprint) => fingerprint,
            Err(e) => {
                state.pins.remove(node);
                return Err(e);
            }
        };
        if fingerprint == pin.fingerprint {
            tracing::info!(
                "re-read the certificate of node '{node}' after a mismatch: still {fingerprint}"
            );
            pin.refreshed = Some(now);
            return Ok(None);
        }
        let pin = self.pin(node, fingerprint, Some(now))?;
        let config = Arc::clone(&pin.config);
        state.insert(node, pin);
        Ok(Some(config))
    }

    /// rustls reads `clock` instead of the system's.
    pub(crate) fn set_clock(&mut self, clock: Arc<dyn crate::clock::WallClock>) {
        self.time = Arc::new(crate::clock::RustlsTime(clock));
    }

    fn pin(
        &self,
        node: &str,
        fingerprint: Fingerprint,
        refreshed: Option<Instant>,
    ) -> Result<Pin, PinError> {
        let config = pinned_config(&self.provider, &self.time, fingerprint).map_err(|cause| {
            PinError::Tls {
                node: node.to_owned(),
                cause,
            }
        })?;
        Ok(Pin {
            fingerprint,
            config,
            refreshed,
        })
    }

    /// The fingerprint currently pinned for `node`, if any.
    #[cfg(test)]
    fn pinned(&self, node: &str) -> Option<Fingerprint> {
        self.state
            .borrow()
            .pins
            .get(node)
            .map(|pin| pin.fingerprint)
    }
}

impl PinState {
    fn clear_when_due(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.cleared) >= CLEAR_EVERY {
            self.pins.clear();
            self.cleared = now;
        }
    }

    /// Keeps `pin`; a full cache (more nodes than a cluster has) is dropped whole, as the
    /// periodic clear would.
    fn insert(&mut self, node: &str, pin: Pin) {
        if self.pins.len() >= NODES_MAX && !self.pins.contains_key(node) {
            self.pins.clear();
        }
        self.pins.insert(node.to_owned(), pin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::files::MemFs;
    use corral_core::time::UnixTime as Time;

    fn pem_of(name: &str) -> String {
        let key = rcgen::KeyPair::generate().expect("a key");
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        params.self_signed(&key).expect("self-signed").pem()
    }

    fn files_with(node: &str, pem: &str) -> MemFs {
        let files = MemFs::new(Arc::new(ManualClock::new(Time(1_795_555_800))));
        files.insert(format!("/etc/pve/nodes/{node}/pve-ssl.pem"), pem, 0o640);
        files
    }

    fn fingerprint(pem: &str) -> Fingerprint {
        first_fingerprint(pem.as_bytes()).expect("a certificate")
    }

    #[test]
    fn fingerprints_are_uppercase_hex_pairs() {
        let text = Fingerprint([0xab; 32]).to_string();
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text.starts_with("AB:AB:"), "{text}");
        assert!(matches!(
            fingerprint_of_pem(b"nothing"),
            Err(PemError::NoCertificate)
        ));
    }

    #[test]
    fn only_node_names_become_paths() {
        let files = files_with("pve2", &pem_of("pve2"));
        let error = node_fingerprint(&files, &Root::default(), "../pve2").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "no certificate for node '../pve2' (not a node name)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_mismatch_rereads_the_file_at_most_once_a_minute() {
        let (old, new) = (pem_of("pve2"), pem_of("pve2"));
        let files = files_with("pve2", &old);
        let cache = PinCache::new(Rc::new(files.clone()), Root::default());
        let first = cache.config("pve2").expect("pinned");
        // The first mismatch re-reads at once, even right after the first read.
        assert!(cache.refresh("pve2", &first).expect("readable").is_none());
        files.insert("/etc/pve/nodes/pve2/pve-ssl.pem", new.as_str(), 0o640);
        assert!(cache.refresh("pve2", &first).expect("readable").is_none());
        assert_eq!(cache.pinned("pve2"), Some(fingerprint(&old)));
        tokio::time::advance(REFRESH_MIN).await;
        let second = cache.refresh("pve2", &first).expect("readable");
        let second = second.expect("the renewed certificate");
        assert_eq!(cache.pinned("pve2"), Some(fingerprint(&new)));
        // A request that failed with the old config meanwhile gets the new one, no re-read.
        let again = cache.refresh("pve2", &first).expect("readable");
        assert!(again.is_some_and(|config| Arc::ptr_eq(&config, &second)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_dropped_every_30_minutes() {
        let (old, new) = (pem_of("pve2"), pem_of("pve2"));
        let files = files_with("pve2", &old);
        let cache = PinCache::new(Rc::new(files.clone()), Root::default());
        cache.config("pve2").expect("pinned");
        files.insert("/etc/pve/nodes/pve2/pve-ssl.pem", new.as_str(), 0o640);
        tokio::time::advance(CLEAR_EVERY - Duration::from_secs(1)).await;
        cache.config("pve2").expect("pinned");
        assert_eq!(cache.pinned("pve2"), Some(fingerprint(&old)));
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.config("pve2").expect("pinned");
        assert_eq!(cache.pinned("pve2"), Some(fingerprint(&new)));
    }
}
