//! pveproxy's front door over real loopback sockets, seen from a real TLS client.
//!
//! Settings are built the way the daemon builds them: `proxy_settings::load` reads
//! `/etc/default/pveproxy` and the node's certificate files (made with rcgen at test time) from a
//! `MemFiles`. The server runs in a `LocalSet` on a current-thread runtime, bound to
//! `127.0.0.1:0`; the client is tokio-rustls plus a small raw HTTP/1.1 reader, so the tests see
//! the exact bytes a client sees (status line, reason phrase, headers, body, EOF).
//!
//! The API behind it is the production `ApiService` (pveproxy's role, no pvedaemon) over a
//! `MemFs` holding the ticket key pair and `pve-www.key`, made once for the whole file; requests
//! authenticate with a ticket for root@pam issued at [`NOW`], as Proxmox's clients send it.
//!
//! Wall time comes from a fixed clock, so `Date`, `Expires` and access-log dates are exact. The
//! real multi-second waits are the 5 s idle tests and the 3 s delay of a 401, which run side by
//! side.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use corral_core::api::Role;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket::SignDigest;
use corral_core::http::api::VersionInfo;
use corral_core::time::UnixTime;
use corral_io::access::AccessFiles;
use corral_io::access_log::MemoryLog;
use corral_io::api::{ApiService, ApiSettings, UNAUTHORIZED_DELAY};
use corral_io::authkey;
use corral_io::clock::{ManualClock, WallClock};
use corral_io::files::{MemFiles, MemFs, Root};
use corral_io::net::{Network, TokioNet};
use corral_io::proxy::{ProxyHandle, ProxyServer, ProxySettings};
use corral_io::proxy_settings::{self, LoadError, Loaded};
use corral_io::testing::flip_signature_bit;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CipherSuite, ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

mod common;
use common::run;

const NODE: &str = "pve1";

/// Tue, 24 Nov 2026 21:30:00 GMT; the log shows it at +0100.
const NOW: i64 = 1_795_555_800;
const HTTP_DATE: &str = "Tue, 24 Nov 2026 21:30:00 GMT";
const LOG_DATE: &str = "[24/11/2026:22:30:00 +0100]";

const VERSION_PATH: &str = "/api2/json/version";
const VERSION_BODY: &str = r#"{"data":{"release":"9.2","repoid":"c0ffee42","version":"9.2.11"}}"#;
/// Answered without credentials.
const DOMAINS_PATH: &str = "/api2/json/access/domains";

/// The user the test ticket is for.
const USER: &str = "root@pam";

/// The 401 delay of test servers: short, but long enough to measure. One test uses Proxmox's
/// real 3 s ([`UNAUTHORIZED_DELAY`]).
const TEST_DELAY: Duration = Duration::from_millis(500);

/// How long a read may take before the test calls it a hang (no reply, no close).
const READ_TIMEOUT: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// Runtime, clock, server

/// Always [`NOW`], one hour east of UTC.
fn clock() -> Arc<dyn WallClock> {
    Arc::new(ManualClock::new(UnixTime(NOW)).with_utc_offset(3600))
}

/// What pvedaemon creates at start (the ticket key pair and `pve-www.key`), with a ticket and a
/// CSRF token for [`USER`] at [`NOW`]. RSA key generation is slow in debug builds, so it is done
/// once for the whole file; every server gets copies of the same files.
struct Keys {
    /// The node's files: copy with [`MemFs::detached`].
    files: MemFs,
    ticket: String,
    csrf_token: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let fs = MemFs::new(clock());
        let root = Root::default();
        authkey::ensure_keys(&fs, &root).expect("the key files are made");
        let now = UnixTime(NOW);
        let ticket =
            authkey::issue_ticket(&fs, &root, USER, now, Quorum::Quorate, SignDigest::Sha256)
                .expect("a ticket");
        let csrf_token = authkey::load_csrf_secret(&fs, &root)
            .expect("the CSRF secret")
            .token(USER, now)
            .expect("a CSRF token");
        Keys {
            files: fs,
            ticket,
            csrf_token,
        }
    })
}

/// pveproxy's API over the node's key files (no pvedaemon: protected calls would be 500).
fn api_service(delay: Duration) -> Rc<ApiService> {
    let fs = keys().files.detached();
    let settings = ApiSettings {
        role: Role::Proxy,
        node: NODE.to_owned(),
        version: VersionInfo {
            version: "9.2.11".to_owned(),
            release: "9.2".to_owned(),
            repoid: "c0ffee42".to_owned(),
        },
        unauthorized_delay: delay,
        sign_digest: SignDigest::Sha256,
    };
    let access = AccessFiles::new(Rc::new(fs), Root::default()).with_ttl(Duration::ZERO);
    Rc::new(ApiService::new(settings, access, clock(), None))
}

/// A running server: its address, its handle, its access log and its `run()` task.
struct Server {
    addr: SocketAddr,
    handle: ProxyHandle,
    log: MemoryLog,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    fn log_lines(&self) -> Vec<String> {
        self.log.0.borrow().clone()
    }
}

/// Starts a server on `127.0.0.1:0`. Call inside [`run`].
async fn start(settings: ProxySettings) -> Server {
    start_with_delay(settings, TEST_DELAY).await
}

/// Starts a server whose 401s wait `delay`.
async fn start_with_delay(settings: ProxySettings, delay: Duration) -> Server {
    let addr = "127.0.0.1:0".parse().expect("an address");
    start_on(addr, settings, delay)
        .await
        .expect("bind 127.0.0.1:0")
}

async fn start_on(
    addr: SocketAddr,
    settings: ProxySettings,
    delay: Duration,
) -> io::Result<Server> {
    let listener = TokioNet.bind(addr).await?;
    let log = MemoryLog::default();
    let api = api_service(delay);
    let server = ProxyServer::new(listener, settings, api, clock(), Rc::new(log.clone()));
    let addr = server.local_addr()?;
    let handle = server.handle();
    let task = tokio::task::spawn_local(server.run());
    Ok(Server {
        addr,
        handle,
        log,
        task,
    })
}

// ---------------------------------------------------------------------------------------------
// Certificates and the node's files

/// A certificate (PEM, possibly a chain) with its key, and the leaf's DER to recognise it.
struct Cert {
    leaf: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

/// An ECDSA P-256 certificate for `localhost` with subject CN `cn`.
fn cert(cn: &str) -> Cert {
    let key = KeyPair::generate().expect("a key");
    let cert = leaf_params(cn).self_signed(&key).expect("self-signed");
    Cert {
        leaf: cert.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn leaf_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params
}

/// A leaf signed by an intermediate CA; `cert_pem` holds the leaf then the intermediate. Also
/// returns the intermediate's DER.
fn chained_cert(cn: &str) -> (Cert, CertificateDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "corral test intermediate");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("a key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("the intermediate");
    let key = KeyPair::generate().expect("a key");
    let leaf = leaf_params(cn).signed_by(&key, &ca).expect("the leaf");
    let cert = Cert {
        leaf: leaf.der().clone(),
        cert_pem: format!("{}{}", leaf.pem(), ca.pem()),
        key_pem: key.serialize_pem(),
    };
    (cert, ca.der().clone())
}

/// The files of one node: `/etc/default/pveproxy` and whatever is put under
/// `/etc/pve/nodes/<NODE>/`.
struct Files(MemFiles);

impl Files {
    fn new(config: &str) -> Files {
        let mut files = MemFiles::default();
        files.0.insert(
            PathBuf::from(proxy_settings::CONFIG_PATH),
            config.as_bytes().to_vec(),
        );
        Files(files)
    }

    /// `name` relative to the node's directory, or absolute.
    fn put(mut self, name: &str, bytes: &str) -> Files {
        let path = if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            PathBuf::from(format!("{}/{name}", proxy_settings::node_dir(NODE)))
        };
        self.0.0.insert(path, bytes.as_bytes().to_vec());
        self
    }

    /// `pve-ssl.pem` + `pve-ssl.key`.
    fn default_pair(self, cert: &Cert) -> Files {
        self.put("pve-ssl.pem", &cert.cert_pem)
            .put("pve-ssl.key", &cert.key_pem)
    }

    fn load(&self) -> Result<Loaded, LoadError> {
        proxy_settings::load(&self.0, &Root::default(), NODE, clock())
    }

    fn settings(&self) -> ProxySettings {
        self.load().expect("settings load").settings
    }
}

/// Settings from `config` with a fresh default certificate.
fn settings_with(config: &str) -> ProxySettings {
    Files::new(config)
        .default_pair(&cert("pve1 default"))
        .settings()
}

// ---------------------------------------------------------------------------------------------
// TLS client

/// Accepts any certificate (the tests compare the served chain themselves) but checks the
/// handshake signatures, so the server really holds the key.
#[derive(Debug)]
struct AnyCert(CryptoProvider);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

const BOTH: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
const TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
const TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// A client offering `versions`; with `prefer_chacha` its suites put ChaCha20 first and
/// AES-256 last (the opposite of Proxmox's order), else rustls' default order.
fn client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    prefer_chacha: bool,
) -> Arc<ClientConfig> {
    let mut provider = aws_lc_rs::default_provider();
    if prefer_chacha {
        provider.cipher_suites.sort_by_key(|suite| {
            let name = format!("{:?}", suite.suite());
            (!name.contains("CHACHA20"), name.contains("AES_256"))
        });
    }
    let verifier = Arc::new(AnyCert(provider.clone()));
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("client versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Arc::new(config)
}

async fn tls_connect_with(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("a server name");
    let handshake = TlsConnector::from(config).connect(name, tcp);
    tokio::time::timeout(READ_TIMEOUT, handshake)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake hangs"))?
}

/// A TLS stream from a default client (both versions, rustls' order).
async fn tls_stream(addr: SocketAddr) -> TlsStream<TcpStream> {
    tls_connect_with(addr, client_config(BOTH, false))
        .await
        .expect("TLS handshake")
}

/// A TLS connection with a default client.
async fn tls_connect(addr: SocketAddr) -> Conn<TlsStream<TcpStream>> {
    Conn::new(tls_stream(addr).await)
}

fn leaf_of(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    chain_of(stream).remove(0)
}

fn chain_of(stream: &TlsStream<TcpStream>) -> Vec<CertificateDer<'static>> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("the server sent certificates")
        .to_vec()
}

fn negotiated(stream: &TlsStream<TcpStream>) -> (ProtocolVersion, CipherSuite) {
    let connection = stream.get_ref().1;
    let version = connection.protocol_version().expect("a version");
    let suite = connection.negotiated_cipher_suite().expect("a suite");
    (version, suite.suite())
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client

#[derive(Debug)]
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The one value of `name` (case-insensitive); panics when it appears more than once.
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next();
        assert!(values.next().is_none(), "{name} appears twice: {self:?}");
        first
    }

    fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// One client connection: raw bytes out, responses parsed from what comes back.
struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    eof: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(stream: S) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
        self.stream.flush().await.expect("flush");
    }

    /// Reads more bytes; `false` at EOF (an unexpected EOF or reset counts: the peer is gone).
    async fn fill(&mut self, timeout: Duration) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16 * 1024];
        let read = tokio::time::timeout(timeout, self.stream.read(&mut chunk))
            .await
            .expect("the server neither answered nor closed in time");
        match read {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if is_closed(&e) => {
                self.eof = true;
                false
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// The next response; `head_request` means there is no body whatever Content-Length says.
    async fn response(&mut self, head_request: bool) -> Response {
        self.response_within(head_request, READ_TIMEOUT).await
    }

    /// The next response, whose head may take up to `timeout` to begin arriving.
    async fn response_within(&mut self, head_request: bool, timeout: Duration) -> Response {
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            assert!(
                self.fill(timeout).await,
                "connection closed before a response head; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("an ASCII head");
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a header line");
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        let mut response = Response {
            status,
            reason,
            headers,
            body: Vec::new(),
        };
        let length = response
            .header("content-length")
            .map(|v| v.parse::<usize>().expect("a numeric Content-Length"));
        match (head_request, length) {
            (true, _) => {}
            (false, Some(length)) => {
                while self.buf.len() < length {
                    assert!(self.fill(READ_TIMEOUT).await, "body cut short");
                }
                response.body = self.buf.drain(..length).collect();
            }
            (false, None) => {
                while self.fill(READ_TIMEOUT).await {}
                response.body = std::mem::take(&mut self.buf);
            }
        }
        response
    }

    async fn request(&mut self, raw: &str) -> Response {
        self.send(raw.as_bytes()).await;
        self.response(raw.starts_with("HEAD ")).await
    }

    /// Whether the server closes the connection (within `timeout`) without sending anything
    /// more. Panics if bytes arrive or nothing happens in time.
    async fn closes_within(&mut self, timeout: Duration) -> bool {
        let closed = !self.fill(timeout).await;
        assert!(
            self.buf.is_empty(),
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        closed
    }

    async fn assert_closed(&mut self) {
        assert!(self.closes_within(READ_TIMEOUT).await, "still open");
    }
}

fn is_closed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The ticket cookie as a browser sends it (`:` percent-escaped), with its line end.
fn cookie_line() -> String {
    let ticket = keys().ticket.replace(':', "%3A");
    format!("Cookie: PVEAuthCookie={ticket}\r\n")
}

/// A GET authenticated with the ticket.
fn get(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{}\r\n",
        cookie_line()
    )
}

/// A GET without credentials.
fn get_anonymous(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// The head of a POST with the ticket and, when given, a `CSRFPreventionToken`.
fn post_head(path: &str, csrf_token: Option<&str>, content_length: usize) -> String {
    let csrf = csrf_token
        .map(|token| format!("CSRFPreventionToken: {token}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\n{}{csrf}\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {content_length}\r\n\r\n",
        cookie_line()
    )
}

/// The access-log line of a connection the host ACL refused at accept (no request line).
fn denied_log_line() -> String {
    log_line("-", 403, "-")
}

/// The access-log line of a request from 127.0.0.1 at [`NOW`], anonymous.
fn log_line(request_line: &str, status: u16, bytes: &str) -> String {
    log_line_as("-", request_line, status, bytes)
}

/// The access-log line of a request by `user` (`-` when none) from 127.0.0.1 at [`NOW`].
fn log_line_as(user: &str, request_line: &str, status: u16, bytes: &str) -> String {
    format!("::ffff:127.0.0.1 - {user} {LOG_DATE} \"{request_line}\" {status} {bytes}\n")
}

// ---------------------------------------------------------------------------------------------
// 1. ACL at accept

#[test]
fn denied_peer_sees_the_connection_closed_without_a_byte_and_is_logged_403() {
    run(async {
        let server = start(settings_with("DENY_FROM=127.0.0.1\n")).await;

        // A client that sends nothing gets an immediate close: not one byte.
        plain(server.addr).await.assert_closed().await;

        // A TLS client gets no alert (an alert would be InvalidData), just a closed socket.
        let error = tls_connect_with(server.addr, client_config(BOTH, false))
            .await
            .expect_err("no handshake with a denied peer");
        assert!(is_closed(&error), "{error:?}");

        let denied = denied_log_line();
        assert_eq!(server.log_lines(), [denied.clone(), denied]);
    });
}

#[test]
fn allowed_peer_gets_the_version_json() {
    run(async {
        // The documented example: everything denied but the allowed host (which matches both
        // lists, so POLICY=allow decides).
        let config = "ALLOW_FROM=\"127.0.0.1\"\nDENY_FROM=\"all\"\nPOLICY=\"allow\"\n";
        let server = start(settings_with(config)).await;
        let mut conn = tls_connect(server.addr).await;
        let response = conn.request(&get(VERSION_PATH)).await;
        assert_eq!((response.status, response.reason.as_str()), (200, "OK"));
        assert_eq!(response.body_text(), VERSION_BODY);
        assert_eq!(
            response.header("content-type"),
            Some("application/json;charset=UTF-8")
        );
        // The log names the user the ticket authenticated.
        let line = log_line_as(
            USER,
            "GET /api2/json/version HTTP/1.1",
            200,
            &VERSION_BODY.len().to_string(),
        );
        assert_eq!(server.log_lines(), [line]);
    });
}

#[test]
fn dual_stack_listener_applies_the_acl_to_ipv4_mapped_peers() {
    run(async {
        let settings = settings_with("DENY_FROM=127.0.0.1\n");
        let addr = "[::]:0".parse().expect("an address");
        let Ok(server) = start_on(addr, settings, TEST_DELAY).await else {
            eprintln!("no IPv6 here: skipping the dual-stack check");
            return;
        };
        let v4 = SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
        let Ok(tcp) = TcpStream::connect(v4).await else {
            eprintln!("[::] is IPv6-only here (bindv6only=1): skipping");
            return;
        };
        Conn::new(tcp).assert_closed().await;
        // The peer arrives as ::ffff:127.0.0.1 and is still matched by the IPv4 entry.
        assert_eq!(server.log_lines(), [denied_log_line()]);
    });
}

// ---------------------------------------------------------------------------------------------
// 2.–3. Cipher order and versions

async fn negotiate(
    addr: SocketAddr,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> io::Result<(ProtocolVersion, CipherSuite)> {
    let stream = tls_connect_with(addr, client_config(versions, true)).await?;
    let negotiated = negotiated(&stream);
    // The connection serves, too.
    let response = Conn::new(stream)
        .request(&get_anonymous(DOMAINS_PATH))
        .await;
    assert_eq!(response.status, 200);
    Ok(negotiated)
}

#[test]
fn honored_cipher_order_picks_the_servers_first_suite() {
    run(async {
        // HONOR_CIPHER_ORDER defaults to 1.
        for config in ["", "HONOR_CIPHER_ORDER=1\n"] {
            let server = start(settings_with(config)).await;
            assert_eq!(
                negotiate(server.addr, BOTH).await.expect("TLS 1.3"),
                (
                    ProtocolVersion::TLSv1_3,
                    CipherSuite::TLS13_AES_256_GCM_SHA384
                ),
                "{config:?}"
            );
            assert_eq!(
                negotiate(server.addr, TLS12_ONLY).await.expect("TLS 1.2"),
                (
                    ProtocolVersion::TLSv1_2,
                    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                ),
                "{config:?}"
            );
        }
    });
}

#[test]
fn unhonored_cipher_order_lets_the_client_choose() {
    run(async {
        let server = start(settings_with("HONOR_CIPHER_ORDER=0\n")).await;
        assert_eq!(
            negotiate(server.addr, BOTH).await.expect("TLS 1.3"),
            (
                ProtocolVersion::TLSv1_3,
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            )
        );
        assert_eq!(
            negotiate(server.addr, TLS12_ONLY).await.expect("TLS 1.2"),
            (
                ProtocolVersion::TLSv1_2,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            )
        );
    });
}

/// The handshake failed because the server refused the only version offered.
fn assert_protocol_version_alert<T>(result: io::Result<T>) {
    let error = result.err().expect("the handshake must fail");
    let alert = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    assert_eq!(
        alert,
        Some(&rustls::Error::AlertReceived(
            rustls::AlertDescription::ProtocolVersion
        )),
        "{error:?}"
    );
}

#[test]
fn disable_tls_1_2_refuses_tls12_only_clients() {
    run(async {
        let server = start(settings_with("DISABLE_TLS_1_2=1\n")).await;
        let refused = tls_connect_with(server.addr, client_config(TLS12_ONLY, false)).await;
        assert_protocol_version_alert(refused);
        let (version, _) = negotiate(server.addr, TLS13_ONLY).await.expect("TLS 1.3");
        assert_eq!(version, ProtocolVersion::TLSv1_3);
        let (version, _) = negotiate(server.addr, BOTH).await.expect("TLS 1.3");
        assert_eq!(version, ProtocolVersion::TLSv1_3);
    });
}

#[test]
fn disable_tls_1_3_refuses_tls13_only_clients() {
    run(async {
        let server = start(settings_with("DISABLE_TLS_1_3=1\n")).await;
        let refused = tls_connect_with(server.addr, client_config(TLS13_ONLY, false)).await;
        assert_protocol_version_alert(refused);
        let (version, _) = negotiate(server.addr, TLS12_ONLY).await.expect("TLS 1.2");
        assert_eq!(version, ProtocolVersion::TLSv1_2);
        let (version, _) = negotiate(server.addr, BOTH).await.expect("TLS 1.2");
        assert_eq!(version, ProtocolVersion::TLSv1_2);
    });
}

// ---------------------------------------------------------------------------------------------
// 4. Certificate files

/// The leaf certificate a client is served with these files.
async fn served_leaf(files: &Files) -> CertificateDer<'static> {
    let server = start(files.settings()).await;
    let stream = tls_stream(server.addr).await;
    let leaf = leaf_of(&stream);
    let response = Conn::new(stream)
        .request(&get_anonymous(DOMAINS_PATH))
        .await;
    assert_eq!(response.status, 200);
    leaf
}

#[test]
fn only_the_default_pair_serves_pve_ssl() {
    run(async {
        let default = cert("pve-ssl");
        let files = Files::new("").default_pair(&default);
        assert!(!files.load().expect("loads").cert.custom);
        assert_eq!(served_leaf(&files).await, default.leaf);
    });
}

#[test]
fn custom_pair_is_served_when_pem_and_key_exist() {
    run(async {
        let default = cert("pve-ssl");
        let custom = cert("pveproxy-ssl");
        let files = Files::new("")
            .default_pair(&default)
            .put("pveproxy-ssl.pem", &custom.cert_pem)
            .put("pveproxy-ssl.key", &custom.key_pem);
        assert!(files.load().expect("loads").cert.custom);
        assert_eq!(served_leaf(&files).await, custom.leaf);
    });
}

#[test]
fn custom_pem_without_its_key_serves_the_default() {
    run(async {
        let default = cert("pve-ssl");
        let custom = cert("pveproxy-ssl");
        let files = Files::new("")
            .default_pair(&default)
            .put("pveproxy-ssl.pem", &custom.cert_pem);
        assert_eq!(served_leaf(&files).await, default.leaf);
    });
}

#[test]
fn tls_key_file_names_the_custom_key() {
    run(async {
        let default = cert("pve-ssl");
        let custom = cert("pveproxy-ssl");
        let other_key = format!("{}/other.key", proxy_settings::node_dir(NODE));
        let config = format!("TLS_KEY_FILE={other_key}\n");
        let files = Files::new(&config)
            .default_pair(&default)
            .put("pveproxy-ssl.pem", &custom.cert_pem)
            .put(&other_key, &custom.key_pem);
        let loaded = files.load().expect("loads");
        assert_eq!(loaded.cert.key, other_key);
        assert_eq!(served_leaf(&files).await, custom.leaf);

        // With TLS_KEY_FILE naming a missing file, pveproxy-ssl.key does not count: default.
        let missing = format!(
            "TLS_KEY_FILE={}/missing.key\n",
            proxy_settings::node_dir(NODE)
        );
        let files = Files::new(&missing)
            .default_pair(&default)
            .put("pveproxy-ssl.pem", &custom.cert_pem)
            .put("pveproxy-ssl.key", &custom.key_pem);
        assert_eq!(served_leaf(&files).await, default.leaf);
    });
}

#[test]
fn the_whole_chain_is_sent() {
    run(async {
        let (custom, intermediate) = chained_cert("pveproxy-ssl chained");
        let files = Files::new("")
            .default_pair(&cert("pve-ssl"))
            .put("pveproxy-ssl.pem", &custom.cert_pem)
            .put("pveproxy-ssl.key", &custom.key_pem);
        let server = start(files.settings()).await;
        for versions in [TLS13_ONLY, TLS12_ONLY] {
            let stream = tls_connect_with(server.addr, client_config(versions, false))
                .await
                .expect("TLS handshake");
            assert_eq!(
                chain_of(&stream),
                [custom.leaf.clone(), intermediate.clone()]
            );
        }
    });
}

fn load_error(files: &Files) -> String {
    files
        .load()
        .expect_err("the settings must not load")
        .to_string()
}

#[test]
fn a_key_not_matching_its_certificate_is_a_load_error() {
    run(async {
        let one = cert("one");
        let two = cert("two");
        let files = Files::new("")
            .put("pve-ssl.pem", &one.cert_pem)
            .put("pve-ssl.key", &two.key_pem);
        let error = load_error(&files);
        assert!(error.contains("does not match"), "{error}");
        assert!(error.contains("/etc/pve/nodes/pve1/pve-ssl.key"), "{error}");
        assert!(error.contains("/etc/pve/nodes/pve1/pve-ssl.pem"), "{error}");

        // The custom pair is checked the same way (no silent fallback to the default).
        let files = Files::new("")
            .default_pair(&one)
            .put("pveproxy-ssl.pem", &one.cert_pem)
            .put("pveproxy-ssl.key", &two.key_pem);
        let error = load_error(&files);
        assert!(error.contains("does not match"), "{error}");
        assert!(error.contains("pveproxy-ssl.key"), "{error}");
    });
}

#[test]
fn a_missing_default_key_is_a_load_error_naming_the_file() {
    let files = Files::new("").put("pve-ssl.pem", &cert("pve-ssl").cert_pem);
    let error = load_error(&files);
    assert_eq!(error, "/etc/pve/nodes/pve1/pve-ssl.key: no such file");
    let files = Files::new("").put("pve-ssl.key", &cert("pve-ssl").key_pem);
    let error = load_error(&files);
    assert_eq!(error, "/etc/pve/nodes/pve1/pve-ssl.pem: no such file");
}

#[test]
fn an_encrypted_key_is_a_load_error() {
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
                     MIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIAAAAAAAAAAACAggA\n\
                     -----END ENCRYPTED PRIVATE KEY-----\n";
    let files = Files::new("")
        .put("pve-ssl.pem", &cert("pve-ssl").cert_pem)
        .put("pve-ssl.key", encrypted);
    let error = load_error(&files);
    assert!(error.contains("encrypted"), "{error}");
    assert!(error.contains("/etc/pve/nodes/pve1/pve-ssl.key"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// 5. Plain HTTP on the TLS port

async fn plain(addr: SocketAddr) -> Conn<TcpStream> {
    Conn::new(TcpStream::connect(addr).await.expect("TCP connect"))
}

#[test]
fn plain_http_get_is_redirected_301_and_closed() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = plain(server.addr).await;
        let response = conn
            .request("GET /x?y HTTP/1.1\r\nHost: h:8006\r\n\r\n")
            .await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (301, "Moved Permanently")
        );
        assert_eq!(response.header("location"), Some("https://h:8006/x?y"));
        assert_eq!(response.header("connection"), Some("close"));
        assert!(response.body.is_empty());
        conn.assert_closed().await;
    });
}

#[test]
fn plain_http_post_is_redirected_308() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = plain(server.addr).await;
        let request = "POST /api2/json/access/ticket HTTP/1.1\r\nHost: pve1.example:8006\r\n\
                       Content-Length: 0\r\n\r\n";
        let response = conn.request(request).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (308, "Permanent Redirect")
        );
        assert_eq!(
            response.header("location"),
            Some("https://pve1.example:8006/api2/json/access/ticket")
        );
        conn.assert_closed().await;
    });
}

#[test]
fn plain_http_without_host_is_closed_without_a_reply() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = plain(server.addr).await;
        conn.send(b"GET /x HTTP/1.1\r\n\r\n").await;
        // At once: well before the 5 s header timeout.
        assert!(conn.closes_within(Duration::from_secs(2)).await);
    });
}

// ---------------------------------------------------------------------------------------------
// 6. Limits

/// Sends `raw` on a fresh TLS connection; the reply must close the connection (>= 400).
async fn rejected(addr: SocketAddr, raw: &str) -> Response {
    let mut conn = tls_connect(addr).await;
    let response = conn.request(raw).await;
    assert!(response.status >= 400, "{response:?}");
    assert_eq!(response.header("connection"), Some("close"), "{response:?}");
    conn.assert_closed().await;
    response
}

#[test]
fn head_is_501() {
    run(async {
        let server = start(settings_with("")).await;
        let response = rejected(
            server.addr,
            "HEAD /api2/json/version HTTP/1.1\r\nHost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "method 'HEAD' not available")
        );
    });
}

#[test]
fn chunked_request_body_is_501() {
    run(async {
        let server = start(settings_with("")).await;
        let request = "POST /api2/json/version HTTP/1.1\r\nHost: localhost\r\n\
                       Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let response = rejected(server.addr, request).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "chunked transfer encoding not supported")
        );
        assert_eq!(
            response.body_text(),
            "chunked transfer encoding not supported\n"
        );
    });
}

#[test]
fn body_over_512_kib_is_501_too_large_and_512_kib_is_read() {
    run(async {
        let server = start(settings_with("")).await;
        // Authenticated, CSRF token included: only the handler lookup is left to refuse it.
        let head = |length: usize| post_head(VERSION_PATH, Some(&keys().csrf_token), length);

        // One byte over: refused from the head, before any body byte is sent.
        let response = rejected(server.addr, &head(524_289)).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "for data too large")
        );

        // Exactly 512 KiB: read whole, authenticated, then routed (POST /version has no
        // handler).
        let mut conn = tls_connect(server.addr).await;
        conn.send(head(524_288).as_bytes()).await;
        conn.send(&vec![b'a'; 524_288]).await;
        let response = conn.response(false).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "Method 'POST /version' not implemented")
        );
        conn.assert_closed().await;
    });
}

#[test]
fn more_than_64_header_lines_is_431() {
    run(async {
        let server = start(settings_with("")).await;
        // Host plus `extra` more lines.
        let request = |extra: usize| {
            let mut raw = format!("GET {DOMAINS_PATH} HTTP/1.1\r\nHost: localhost\r\n");
            for i in 0..extra {
                raw.push_str(&format!("X-Line-{i}: {i}\r\n"));
            }
            raw.push_str("\r\n");
            raw
        };
        let mut conn = tls_connect(server.addr).await;
        assert_eq!(conn.request(&request(63)).await.status, 200);
        let response = rejected(server.addr, &request(64)).await;
        assert_eq!(response.status, 431);
    });
}

#[test]
fn a_request_head_over_8_kib_is_431() {
    run(async {
        let server = start(settings_with("")).await;
        // A head of exactly `total` bytes, request line and final empty line included.
        let request = |total: usize| {
            let start = format!("GET {DOMAINS_PATH} HTTP/1.1\r\nHost: localhost\r\nX-Big: ");
            let filler = total - start.len() - "\r\n\r\n".len();
            format!("{start}{}\r\n\r\n", "b".repeat(filler))
        };
        assert_eq!(request(8192).len(), 8192);
        let mut conn = tls_connect(server.addr).await;
        assert_eq!(conn.request(&request(8192)).await.status, 200);
        let response = rejected(server.addr, &request(8193)).await;
        assert_eq!(response.status, 431);
        // One single header line over 8 KiB.
        let response = rejected(server.addr, &request(9000)).await;
        assert_eq!(response.status, 431);
    });
}

#[test]
fn unknown_api_path_is_501_not_implemented() {
    run(async {
        let server = start(settings_with("")).await;
        // Handlers are looked up after authentication (without credentials this is a 401, see
        // below), so the request carries the ticket.
        let response = rejected(server.addr, &get("/api2/json/nope")).await;
        // The path below /api2/json, as Proxmox's rest_handler words it.
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "Method 'GET /nope' not implemented")
        );
        assert_eq!(
            response.body_text(),
            r#"{"data":null,"message":"Method 'GET /nope' not implemented"}"#
        );
        let line = log_line_as(
            USER,
            "GET /api2/json/nope HTTP/1.1",
            501,
            &response.body.len().to_string(),
        );
        assert_eq!(server.log_lines(), [line]);
    });
}

#[test]
fn success_keeps_the_connection_and_an_error_closes_it() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        for _ in 0..3 {
            let response = conn.request(&get(VERSION_PATH)).await;
            assert_eq!(response.status, 200);
            assert_eq!(response.header("connection"), None);
        }
        let response = conn.request(&get("/api2/json/nope")).await;
        assert_eq!(response.status, 501);
        assert_eq!(response.header("connection"), Some("close"));
        conn.assert_closed().await;
    });
}

/// The server closes `conn` about 5 s (Proxmox's idle timeout) from now, without sending more.
async fn assert_closed_after_the_idle_timeout(conn: &mut Conn<TlsStream<TcpStream>>) {
    let since = tokio::time::Instant::now();
    assert!(
        conn.closes_within(Duration::from_secs(8)).await,
        "still open"
    );
    let waited = since.elapsed();
    assert!(
        waited >= Duration::from_millis(4900) && waited < Duration::from_millis(6500),
        "closed after {waited:?}"
    );
}

/// Runs alongside the other 5 s tests.
#[test]
fn idle_keep_alive_connection_is_closed_after_5_s() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        assert_eq!(conn.request(&get(VERSION_PATH)).await.status, 200);
        assert_closed_after_the_idle_timeout(&mut conn).await;
    });
}

/// Plain HTTP on the TLS port is checked like any request before the redirect: HEAD gets 501.
#[test]
fn plain_http_head_is_refused_before_any_redirect() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = plain(server.addr).await;
        let reply = conn
            .request("HEAD /x HTTP/1.1\r\nHost: h:8006\r\n\r\n")
            .await;
        assert_eq!(reply.status, 501);
        assert_eq!(reply.reason, "method 'HEAD' not available");
    });
}

/// A connection admitted under settings a reload replaced is served for the reload grace
/// (5 s, as Proxmox's old workers), then closed after its next reply: a peer the new ACL denies
/// keeps nothing open for long. Runs alongside the other 5 s tests.
#[test]
fn a_reload_ends_keep_alive_connections_admitted_under_the_old_settings() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        let first = conn.request(&get(VERSION_PATH)).await;
        assert_eq!(first.status, 200);
        assert_eq!(
            first.header("connection"),
            None,
            "kept alive before the reload"
        );
        let reloaded = tokio::time::Instant::now();
        server.handle.reload(settings_with("DENY_FROM=127.0.0.1\n"));
        // Well inside the grace, the connection is served and kept; one request a second also
        // keeps it from the 5 s idle timeout.
        for _ in 0..4 {
            let reply = conn.request(&get(VERSION_PATH)).await;
            assert_eq!((reply.status, reply.header("connection")), (200, None));
            tokio::time::sleep(Duration::from_millis(900)).await;
        }
        let grace = corral_io::proxy::RELOAD_GRACE;
        tokio::time::sleep_until(reloaded + grace + Duration::from_millis(200)).await;
        let last = conn.request(&get(VERSION_PATH)).await;
        assert_eq!(last.status, 200);
        assert_eq!(last.header("connection"), Some("close"));
        assert!(
            conn.closes_within(Duration::from_secs(2)).await,
            "closed after that reply"
        );
    });
}

/// Proxmox serves at most 100 requests on one keep-alive connection.
#[test]
fn a_keep_alive_connection_serves_at_most_100_requests() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        for n in 1..100 {
            let reply = conn.request(&get(VERSION_PATH)).await;
            assert_eq!(reply.header("connection"), None, "request {n}");
        }
        let hundredth = conn.request(&get(VERSION_PATH)).await;
        assert_eq!(hundredth.header("connection"), Some("close"));
        assert!(conn.closes_within(Duration::from_secs(2)).await);
    });
}

/// A client that sends requests but never reads the replies: once the server's writes block,
/// it gives up after the idle timeout instead of holding the connection for ever (Proxmox's
/// inactivity timeout covers writes too). Runs alongside the other 5 s tests.
#[test]
fn a_client_that_never_reads_is_dropped_after_5_s() {
    run(async {
        let server = start(settings_with("")).await;
        let stream = tls_stream(server.addr).await;
        let (mut reader, mut writer) = tokio::io::split(stream);
        // Far more replies (~30 MB) than the socket buffers between the two can hold.
        const REQUESTS: usize = 100_000;
        let request = get_anonymous(DOMAINS_PATH);
        let writing = tokio::task::spawn_local(async move {
            for _ in 0..REQUESTS {
                if writer.write_all(request.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        tokio::time::sleep(Duration::from_secs(7)).await;
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => replies.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        writing.abort();
        assert!(
            drained.is_ok(),
            "the server kept the stalled connection open"
        );
        let served = replies
            .windows(15)
            .filter(|w| w == b"HTTP/1.1 200 OK")
            .count();
        assert!(
            served < REQUESTS,
            "the server gave up before serving everything ({served})"
        );
    });
}

/// Proxmox's idle timer also runs while a request body is read, so a client announcing a body
/// and never sending it is dropped after 5 s (it runs alongside the idle keep-alive test, so the
/// file still waits about 5 s in all).
#[test]
fn a_stalled_request_body_is_closed_after_5_s() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        conn.send(
            b"POST /api2/json/version HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n12345",
        )
        .await;
        assert_closed_after_the_idle_timeout(&mut conn).await;
    });
}

// ---------------------------------------------------------------------------------------------
// 7. Compression

/// A path whose 501 JSON body is exactly `len` bytes:
/// `{"data":null,"message":"Method 'GET /aaa…' not implemented"}` is 55 bytes plus the path
/// below /api2/json. (Handlers are looked up after authentication: the request carries the
/// ticket.)
fn path_for_body_len(len: usize) -> (String, String) {
    let rel = format!("/{}", "a".repeat(len - 56));
    let body = format!(r#"{{"data":null,"message":"Method 'GET {rel}' not implemented"}}"#);
    assert_eq!(body.len(), len);
    (format!("/api2/json{rel}"), body)
}

async fn fetch_with_encoding(
    server: &Server,
    path: &str,
    accept_encoding: Option<&str>,
) -> Response {
    let accept = accept_encoding
        .map(|value| format!("Accept-Encoding: {value}\r\n"))
        .unwrap_or_default();
    let cookie = cookie_line();
    let raw = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{cookie}{accept}\r\n");
    let response = rejected(server.addr, &raw).await;
    assert_eq!(response.status, 501);
    response
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut out)
        .expect("valid gzip");
    out
}

fn inflate_zlib(bytes: &[u8]) -> String {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::ZlibDecoder::new(bytes), &mut out)
        .expect("valid zlib");
    out
}

#[test]
fn a_1024_byte_body_is_not_compressed() {
    run(async {
        let server = start(settings_with("")).await;
        let (path, body) = path_for_body_len(1024);
        let response = fetch_with_encoding(&server, &path, Some("gzip, deflate")).await;
        assert_eq!(response.header("content-encoding"), None);
        assert_eq!(response.body_text(), body);
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
    });
}

#[test]
fn a_1025_byte_body_is_gzipped() {
    run(async {
        let server = start(settings_with("")).await;
        let (path, body) = path_for_body_len(1025);
        let response = fetch_with_encoding(&server, &path, Some("gzip, deflate, br")).await;
        assert_eq!(response.header("content-encoding"), Some("gzip"));
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
        assert!(response.body.len() < 1025, "{}", response.body.len());
        assert_eq!(gunzip(&response.body), body);
        // The log counts the bytes sent, after compression.
        let line = log_line_as(
            USER,
            &format!("GET {path} HTTP/1.1"),
            501,
            &response.body.len().to_string(),
        );
        assert_eq!(server.log_lines(), [line]);

        // Without Accept-Encoding, not compressed.
        let response = fetch_with_encoding(&server, &path, None).await;
        assert_eq!(response.header("content-encoding"), None);
        assert_eq!(response.body_text(), body);
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
    });
}

#[test]
fn deflate_only_gets_zlib_wrapped_deflate() {
    run(async {
        let server = start(settings_with("")).await;
        let (path, body) = path_for_body_len(1025);
        let response = fetch_with_encoding(&server, &path, Some("deflate")).await;
        assert_eq!(response.header("content-encoding"), Some("deflate"));
        // A zlib header (CM=8), not a raw deflate stream.
        assert_eq!(response.body[0] & 0x0f, 8, "{:02x?}", &response.body[..2]);
        assert_eq!(inflate_zlib(&response.body), body);
    });
}

#[test]
fn gzip_with_q_0_still_gets_gzip() {
    run(async {
        let server = start(settings_with("")).await;
        let (path, body) = path_for_body_len(1025);
        let response = fetch_with_encoding(&server, &path, Some("gzip;q=0")).await;
        assert_eq!(response.header("content-encoding"), Some("gzip"));
        assert_eq!(gunzip(&response.body), body);
    });
}

#[test]
fn compression_0_never_compresses() {
    run(async {
        let server = start(settings_with("COMPRESSION=0\n")).await;
        for len in [1025, 4000] {
            let (path, body) = path_for_body_len(len);
            for accept in ["gzip", "deflate", "gzip, deflate"] {
                let response = fetch_with_encoding(&server, &path, Some(accept)).await;
                assert_eq!(response.header("content-encoding"), None, "{accept}");
                assert_eq!(response.header("vary"), None, "{accept}");
                assert_eq!(response.body_text(), body);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// 8. Reload

#[test]
fn reload_keeps_open_connections_and_serves_the_new_certificate_to_new_ones() {
    run(async {
        let old = cert("before reload");
        let new = cert("after reload");
        let server = start(Files::new("").default_pair(&old).settings()).await;

        let stream = tls_stream(server.addr).await;
        assert_eq!(leaf_of(&stream), old.leaf);
        let mut open = Conn::new(stream);
        assert_eq!(open.request(&get(VERSION_PATH)).await.status, 200);

        server
            .handle
            .reload(Files::new("").default_pair(&new).settings());

        // The established connection keeps serving...
        let response = open.request(&get(VERSION_PATH)).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body_text(), VERSION_BODY);
        // ...and a new one gets the new certificate.
        let stream = tls_stream(server.addr).await;
        assert_eq!(leaf_of(&stream), new.leaf);
        assert_eq!(
            Conn::new(stream).request(&get(VERSION_PATH)).await.status,
            200
        );
        // And the old one still does.
        assert_eq!(open.request(&get(VERSION_PATH)).await.status, 200);
    });
}

#[test]
fn reload_applies_the_acl_to_new_connections_only() {
    run(async {
        let server = start(settings_with("")).await;
        let mut open = tls_connect(server.addr).await;
        assert_eq!(open.request(&get(VERSION_PATH)).await.status, 200);

        server.handle.reload(settings_with("DENY_FROM=127.0.0.1\n"));

        assert_eq!(open.request(&get(VERSION_PATH)).await.status, 200);
        plain(server.addr).await.assert_closed().await;
        let lines = server.log_lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[2], denied_log_line());
    });
}

#[test]
fn an_invalid_config_does_not_load_and_the_served_settings_stay() {
    run(async {
        let good = cert("good");
        let server = start(Files::new("").default_pair(&good).settings()).await;
        let before = server.handle.settings();

        let bad = Files::new("POLICY=maybe\n").default_pair(&cert("never served"));
        let error = load_error(&bad);
        assert!(error.contains("/etc/default/pveproxy"), "{error}");
        assert!(error.contains("POLICY"), "{error}");

        assert!(Rc::ptr_eq(&before, &server.handle.settings()));
        let stream = tls_stream(server.addr).await;
        assert_eq!(leaf_of(&stream), good.leaf);
    });
}

// ---------------------------------------------------------------------------------------------
// 9. Graceful shutdown

#[test]
fn shutdown_finishes_the_request_in_flight_closes_idle_ones_and_stops() {
    run(async {
        let server = start(settings_with("")).await;

        let mut idle = tls_connect(server.addr).await;
        assert_eq!(idle.request(&get(VERSION_PATH)).await.status, 200);

        // A request whose body is half sent: in flight. It authenticates (ticket and CSRF
        // token), so the reply is the handler lookup's.
        let mut busy = tls_connect(server.addr).await;
        let head = post_head(VERSION_PATH, Some(&keys().csrf_token), 10);
        busy.send(format!("{head}12345").as_bytes()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;

        server.handle.shutdown();

        idle.assert_closed().await;
        busy.send(b"67890").await;
        let response = busy.response(false).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "Method 'POST /version' not implemented")
        );
        busy.assert_closed().await;

        tokio::time::timeout(READ_TIMEOUT, server.task)
            .await
            .expect("run() returns once the connections are done")
            .expect("run() does not panic");
        let refused = TcpStream::connect(server.addr)
            .await
            .expect_err("nothing listens any more");
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
}

// ---------------------------------------------------------------------------------------------
// 10. Common headers

#[test]
fn common_headers_and_the_log_date_come_from_the_wall_clock() {
    run(async {
        let server = start(settings_with("")).await;
        let requests = [
            (get(VERSION_PATH), 200),
            (get("/api2/json/nope"), 501),
            (get_anonymous(VERSION_PATH), 401),
        ];
        for (request, status) in requests {
            // Errors close the connection.
            let mut conn = tls_connect(server.addr).await;
            let response = conn.request(&request).await;
            assert_eq!(response.status, status);
            assert_eq!(response.header("server"), Some("pve-api-daemon/3.0"));
            assert_eq!(response.header("cache-control"), Some("max-age=0"));
            assert_eq!(response.header("pragma"), Some("no-cache"));
            assert_eq!(response.header("date"), Some(HTTP_DATE));
            assert_eq!(response.header("expires"), Some(HTTP_DATE));
        }
        let lines = server.log_lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(
            lines[0],
            log_line_as(
                USER,
                "GET /api2/json/version HTTP/1.1",
                200,
                &VERSION_BODY.len().to_string()
            )
        );
        assert!(lines[1].starts_with(&format!("::ffff:127.0.0.1 - {USER} {LOG_DATE} ")));
        assert!(lines[2].starts_with(&format!("::ffff:127.0.0.1 - - {LOG_DATE} ")));
    });
}

#[test]
fn the_index_page_names_the_node() {
    run(async {
        let server = start(settings_with("")).await;
        // No credentials needed.
        let response = tls_connect(server.addr)
            .await
            .request(&get_anonymous("/"))
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(response.body_text().contains("<h1>pve1</h1>"));
    });
}

// ---------------------------------------------------------------------------------------------
// 11. Authentication

/// Sends `raw` on a fresh connection and returns the reply with how long it took from the
/// moment the request was sent.
async fn timed_reply(addr: SocketAddr, raw: &str) -> (Response, Duration) {
    let mut conn = tls_connect(addr).await;
    let sent = tokio::time::Instant::now();
    conn.send(raw.as_bytes()).await;
    let response = conn.response_within(false, Duration::from_secs(6)).await;
    let took = sent.elapsed();
    if response.status >= 400 {
        assert_eq!(response.header("connection"), Some("close"), "{response:?}");
        conn.assert_closed().await;
    }
    (response, took)
}

#[test]
fn a_call_without_credentials_is_401_no_ticket_after_the_delay() {
    run(async {
        let server = start(settings_with("")).await;
        let (response, took) = timed_reply(server.addr, &get_anonymous(VERSION_PATH)).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (401, "No ticket")
        );
        // Proxmox answers a failed authentication with a plain error, whatever the format.
        assert_eq!(response.body_text(), "No ticket\n");
        assert_eq!(response.header("content-type"), None);
        assert!(
            took >= TEST_DELAY && took < TEST_DELAY + Duration::from_secs(2),
            "answered after {took:?}"
        );
        // A path with no handler is not revealed before authentication either.
        let (response, took) = timed_reply(server.addr, &get_anonymous("/api2/json/nope")).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (401, "No ticket")
        );
        assert!(took >= TEST_DELAY, "answered after {took:?}");
        assert_eq!(
            server.log_lines(),
            [
                log_line("GET /api2/json/version HTTP/1.1", 401, "10"),
                log_line("GET /api2/json/nope HTTP/1.1", 401, "10"),
            ]
        );
    });
}

#[test]
fn a_valid_ticket_gets_the_version_and_the_log_names_the_user() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        let sent = tokio::time::Instant::now();
        let response = conn.request(&get(VERSION_PATH)).await;
        assert_eq!((response.status, response.reason.as_str()), (200, "OK"));
        assert_eq!(response.body_text(), VERSION_BODY);
        assert!(sent.elapsed() < TEST_DELAY, "a success is not delayed");
        // The ticket as written, without escaping its colons, works as well (same connection:
        // a success keeps it open).
        let raw = format!(
            "GET {VERSION_PATH} HTTP/1.1\r\nHost: localhost\r\nCookie: PVEAuthCookie={}\r\n\r\n",
            keys().ticket
        );
        let response = conn.request(&raw).await;
        assert_eq!(response.status, 200);
        let line = log_line_as(
            USER,
            "GET /api2/json/version HTTP/1.1",
            200,
            &VERSION_BODY.len().to_string(),
        );
        assert_eq!(server.log_lines(), [line.clone(), line]);
    });
}

#[test]
fn the_login_calls_need_no_credentials() {
    run(async {
        let server = start(settings_with("")).await;
        let mut conn = tls_connect(server.addr).await;
        let sent = tokio::time::Instant::now();
        let domains = conn.request(&get_anonymous(DOMAINS_PATH)).await;
        assert_eq!(domains.status, 200, "{domains:?}");
        let body = domains.body_text();
        assert!(body.starts_with(r#"{"data":["#), "{body}");
        for realm in [r#""realm":"pam""#, r#""realm":"pve""#] {
            assert!(body.contains(realm), "{realm} in {body}");
        }
        let ticket_page = conn
            .request(&get_anonymous("/api2/json/access/ticket"))
            .await;
        assert_eq!(ticket_page.status, 200);
        assert_eq!(ticket_page.body_text(), r#"{"data":null}"#);
        assert!(sent.elapsed() < TEST_DELAY, "nothing was delayed");
        let lines = server.log_lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.contains(" - - ")), "{lines:?}");
    });
}

/// The 401 delay holds up only the refused request: with Proxmox's real 3 s, an authenticated
/// request on another connection is answered while the refused one still waits.
#[test]
fn a_401_delay_holds_up_no_other_request() {
    run(async {
        let server = start_with_delay(settings_with(""), UNAUTHORIZED_DELAY).await;
        let mut refused = tls_connect(server.addr).await;
        let mut served = tls_connect(server.addr).await;
        let started = tokio::time::Instant::now();
        refused.send(get_anonymous(VERSION_PATH).as_bytes()).await;
        // Let the server take up the refused request first.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..3 {
            let response = served.request(&get(VERSION_PATH)).await;
            assert_eq!(response.status, 200);
        }
        let served_after = started.elapsed();
        let response = refused
            .response_within(false, UNAUTHORIZED_DELAY + Duration::from_secs(3))
            .await;
        let refused_after = started.elapsed();
        assert_eq!(
            (response.status, response.reason.as_str()),
            (401, "No ticket")
        );
        assert!(
            served_after < Duration::from_secs(1),
            "the parallel request took {served_after:?}"
        );
        assert!(
            refused_after >= UNAUTHORIZED_DELAY && refused_after < Duration::from_secs(5),
            "the 401 came after {refused_after:?}"
        );
        refused.assert_closed().await;
        // The connection that was served is still usable.
        assert_eq!(served.request(&get(VERSION_PATH)).await.status, 200);
    });
}

#[test]
fn a_post_with_a_ticket_needs_a_valid_csrf_token() {
    run(async {
        let server = start(settings_with("")).await;
        let path = "/api2/json/access/permissions";
        let token = keys().csrf_token.clone();
        // The same token's signature changed in its last character.
        let wrong = {
            let mut wrong = token.clone();
            let last = wrong.pop().expect("a non-empty token");
            wrong.push(if last == 'A' { 'B' } else { 'A' });
            wrong
        };
        for csrf in [None, Some(wrong.as_str()), Some("0:0"), Some("")] {
            let (response, took) = timed_reply(server.addr, &post_head(path, csrf, 0)).await;
            assert_eq!(
                (response.status, response.reason.as_str()),
                (401, "Permission denied - invalid csrf token"),
                "{csrf:?}"
            );
            assert!(took >= TEST_DELAY, "{csrf:?} answered after {took:?}");
        }
        // The token is checked before the handler is looked up.
        let (response, _) = timed_reply(server.addr, &post_head("/api2/json/nope", None, 0)).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (401, "Permission denied - invalid csrf token")
        );
        // With the right token, the call gets as far as the handler lookup (there is no POST
        // on that path), undelayed.
        let (response, took) = timed_reply(server.addr, &post_head(path, Some(&token), 0)).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "Method 'POST /access/permissions' not implemented")
        );
        assert!(took < TEST_DELAY, "answered after {took:?}");
        let lines = server.log_lines();
        assert_eq!(lines.len(), 6, "{lines:?}");
        let refused = "\"POST /api2/json/access/permissions HTTP/1.1\" 401 ";
        assert!(lines[0].starts_with(&format!("::ffff:127.0.0.1 - - {LOG_DATE} ")));
        assert!(lines[0].contains(refused), "{lines:?}");
        assert!(
            lines[5].starts_with(&format!("::ffff:127.0.0.1 - {USER} {LOG_DATE} ")),
            "{lines:?}"
        );
    });
}

/// The ticket with one bit of its signature flipped (one base64 digit changed in its lowest
/// bit).
fn forged_ticket() -> String {
    flip_signature_bit(&keys().ticket)
}

#[test]
fn a_forged_ticket_is_401() {
    run(async {
        let server = start(settings_with("")).await;
        let ticket = &keys().ticket;
        let forged = forged_ticket();
        assert_ne!(&forged, ticket);
        // Another user in the signed data, the signature kept.
        let other_user = ticket.replacen("root@pam", "roox@pam", 1);
        for forged in [forged, other_user] {
            let raw = format!(
                "GET {VERSION_PATH} HTTP/1.1\r\nHost: localhost\r\nCookie: PVEAuthCookie={}\r\n\r\n",
                forged.replace(':', "%3A")
            );
            let (response, took) = timed_reply(server.addr, &raw).await;
            assert_eq!(
                (response.status, response.reason.as_str()),
                (401, "authentication failure"),
                "{forged}"
            );
            assert!(took >= TEST_DELAY, "answered after {took:?}");
        }
        let refused = log_line("GET /api2/json/version HTTP/1.1", 401, "23");
        assert_eq!(server.log_lines(), [refused.clone(), refused]);
    });
}

/// Proxmox's order: authentication comes before the format's lookup and before the body is
/// parsed, so an anonymous caller learns nothing from either, and waits; an authenticated one
/// gets the plain 501 Proxmox gives for both.
#[test]
fn authentication_comes_before_the_format_and_the_body() {
    run(async {
        let server = start(settings_with("")).await;
        let bad_json = |cookie: &str| {
            format!(
                "POST /api2/json/access/permissions HTTP/1.1\r\nHost: localhost\r\n{cookie}\
                 CSRFPreventionToken: {}\r\nContent-Type: application/json\r\n\
                 Content-Length: 5\r\n\r\n{{nop}}",
                keys().csrf_token
            )
        };
        for raw in [get_anonymous("/api2/xml/version"), bad_json("")] {
            let (response, took) = timed_reply(server.addr, &raw).await;
            assert_eq!(
                (response.status, response.reason.as_str()),
                (401, "No ticket"),
                "{raw}"
            );
            assert!(took >= TEST_DELAY, "answered after {took:?}");
        }
        let (response, took) = timed_reply(server.addr, &get("/api2/xml/version")).await;
        assert_eq!(
            (response.status, response.reason.as_str()),
            (501, "no formatter for uri /version, xml")
        );
        assert!(took < TEST_DELAY, "answered after {took:?}");
        let (response, took) = timed_reply(server.addr, &bad_json(&cookie_line())).await;
        assert_eq!(response.status, 501, "{response:?}");
        assert!(
            response
                .reason
                .starts_with("the JSON body is not valid JSON"),
            "{response:?}"
        );
        assert_eq!(response.header("content-type"), None);
        assert!(took < TEST_DELAY, "answered after {took:?}");
    });
}
