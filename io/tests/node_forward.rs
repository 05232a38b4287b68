//! pveproxy forwarding a call to another node's pveproxy ([`NodeClients`]), as that node sees
//! it: small HTTPS servers on loopback stand in for the node, with certificates made by rcgen
//! at test time; the node's certificate files are in a `MemFs`, as `/etc/pve` would hold them.
//!
//! Covered: the reply relayed as is; the certificate pinned by its file's fingerprint
//! (`pveproxy-ssl.pem` before `pve-ssl.pem`), a renewed one picked up, anything else refused
//! before a request goes out; Proxmox's 595/596 for each failure; pooled GETs, a restarted
//! node's dead connections replaced unseen, and POSTs never sent twice.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use corral_core::http::Reply;
use corral_core::time::UnixTime;
use corral_io::clock::ManualClock;
use corral_io::files::{MemFs, Root};
use corral_io::forward::{Budget, Forward, NODE_REQUESTS_MAX, NodeClients};
use corral_io::net::{BoxStream, Connector, LocalFuture, TokioNet};
use corral_io::pinning::{REFRESH_MIN, fingerprint_of_pem, node_fingerprint};
use corral_io::testing::logged;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{CertificateParams, KeyPair};
use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

mod common;
use common::{header, run, status};

const NODE: &str = "pve2";
const PVE_SSL: &str = "/etc/pve/nodes/pve2/pve-ssl.pem";
const PVEPROXY_SSL: &str = "/etc/pve/nodes/pve2/pveproxy-ssl.pem";
const TIME: &str = "/api2/json/nodes/pve2/time";

// ---------------------------------------------------------------------------------------------
// Certificates and the node's files

/// A self-signed certificate as `pvecm updatecerts` would leave one (its PEM) and its key.
struct Cert {
    pem: String,
    der: CertificateDer<'static>,
    key_pem: String,
}

fn cert() -> Cert {
    let key = KeyPair::generate().expect("a key");
    let params = CertificateParams::new(vec![NODE.to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("self-signed");
    Cert {
        pem: cert.pem(),
        der: cert.der().clone(),
        key_pem: key.serialize_pem(),
    }
}

/// `/etc/pve` holding `files` (absolute path, PEM).
fn pve_files(files: &[(&str, &Cert)]) -> MemFs {
    let fs = MemFs::new(Arc::new(ManualClock::new(UnixTime(1_795_555_800))));
    for (path, cert) in files {
        fs.insert(*path, cert.pem.as_str(), 0o640);
    }
    fs
}

fn clients(files: &MemFs) -> NodeClients {
    NodeClients::new(Rc::new(TokioNet), Rc::new(files.clone()), Root::default())
}

/// A certificate, and `/etc/pve` pinning it as the node's `pve-ssl.pem`.
fn pinned() -> (Cert, MemFs) {
    let cert = cert();
    let files = pve_files(&[(PVE_SSL, &cert)]);
    (cert, files)
}

/// A node answering with the certificate its `pve-ssl.pem` pins, and clients to reach it.
/// Call inside [`run`].
async fn pinned_node() -> (Cert, NodeClients, NodeServer) {
    let (cert, files) = pinned();
    let clients = clients(&files);
    let node = NodeServer::start(&cert, 0, Behaviour::Answer).await;
    (cert, clients, node)
}

// ---------------------------------------------------------------------------------------------
// The other node: an HTTPS server on loopback

/// A request as the node received it, on which of its connections (counted from 0), and what
/// the TLS client said in its hello.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Bytes,
    connection: usize,
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
}

/// How the node answers every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Answer,
    /// Answer after this long, so that requests overlap.
    AnswerAfter(Duration),
    /// Read the request, then drop the connection without a reply.
    HangUp,
}

const BODY: &[u8] = b"{\"data\":1}\n";

/// The node's reply: a status and reason of its own, a `Location` only pvedaemon's prefix
/// would be stripped from, and hyper's own `Date`.
fn node_reply() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    *response.status_mut() = StatusCode::CREATED;
    response
        .extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(b"Made it"));
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_static("http://localhost:85/api2/json/x"),
    );
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert("x-node", HeaderValue::from_static(NODE));
    response
}

struct NodeServer {
    addr: SocketAddr,
    received: Rc<RefCell<Vec<Received>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl NodeServer {
    /// Serves `cert` on `port` of 127.0.0.1 (0: any free one). Call inside [`run`].
    async fn start(cert: &Cert, port: u16, behaviour: Behaviour) -> NodeServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("bound");
        let acceptor = TlsAcceptor::from(server_config(cert));
        let received = Rc::new(RefCell::new(Vec::new()));
        let log = Rc::clone(&received);
        let accepting = tokio::task::spawn_local(async move {
            // Dropped with this task when the server stops: every connection ends with it.
            let mut connections = JoinSet::new();
            let mut accepted = 0;
            while let Ok((stream, _)) = listener.accept().await {
                let serving = serve(acceptor.clone(), stream, accepted, behaviour, &log);
                connections.spawn_local(serving);
                accepted += 1;
            }
        });
        NodeServer {
            addr,
            received,
            accepting,
        }
    }

    /// Stops and starts again on the same port, serving `cert` as `behaviour` says.
    async fn restart(self, cert: &Cert, behaviour: Behaviour) -> NodeServer {
        let port = self.stop().await;
        NodeServer::start(cert, port, behaviour).await
    }

    /// Stops listening and drops every connection, as a restarted pveproxy does.
    async fn stop(self) -> u16 {
        self.accepting.abort();
        let _ = self.accepting.await;
        // Let the aborted connection tasks go (their sockets close as they are dropped).
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        self.addr.port()
    }

    fn received(&self) -> Vec<Received> {
        self.received.borrow().clone()
    }
}

fn server_config(cert: &Cert) -> Arc<ServerConfig> {
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("a key");
    let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], key)
        .expect("a certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// One connection: TLS, then HTTP/1.1 requests answered as `behaviour` says.
fn serve(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    connection: usize,
    behaviour: Behaviour,
    log: &Rc<RefCell<Vec<Received>>>,
) -> impl Future<Output = ()> + 'static {
    let log = Rc::clone(log);
    async move {
        let Ok(tls) = acceptor.accept(stream).await else {
            return;
        };
        let (_, session) = tls.get_ref();
        let sni = session.server_name().map(str::to_owned);
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let log = Rc::clone(&log);
            let (sni, alpn) = (sni.clone(), alpn.clone());
            async move {
                let (parts, body) = request.into_parts();
                let body = body.collect().await?.to_bytes();
                log.borrow_mut().push(Received {
                    method: parts.method,
                    target: parts.uri.to_string(),
                    headers: parts.headers,
                    body,
                    connection,
                    sni,
                    alpn,
                });
                match behaviour {
                    Behaviour::Answer => {}
                    Behaviour::AnswerAfter(delay) => tokio::time::sleep(delay).await,
                    Behaviour::HangUp => return Err(HangUp.into()),
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(node_reply())
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tls), service)
            .await;
    }
}

/// What the service fails with to make hyper drop the connection unanswered.
#[derive(Debug)]
struct HangUp;

impl std::fmt::Display for HangUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hanging up")
    }
}

impl std::error::Error for HangUp {}

// ---------------------------------------------------------------------------------------------
// Requests and replies

/// A request as pveproxy prepares it for another node: the client's `Host`, and what Proxmox
/// adds.
fn forward(method: Method, body: &'static str) -> Forward {
    let mut headers = vec![
        (header::HOST, HeaderValue::from_static("pve1.example:8006")),
        (
            HeaderName::from_static("pvedisableproxy"),
            HeaderValue::from_static("true"),
        ),
    ];
    if !body.is_empty() {
        headers.push((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        ));
    }
    Forward {
        method,
        target: TIME.to_owned(),
        headers,
        body: Bytes::from_static(body.as_bytes()),
        budget: Budget::Authenticated,
    }
}

fn get() -> Forward {
    forward(Method::GET, "")
}

fn post() -> Forward {
    forward(Method::POST, "timezone=Europe%2FVienna")
}

fn assert_answered(reply: &Reply) {
    assert_eq!(status(reply), (201, "Made it"), "{reply:?}");
    assert_eq!(reply.body, BODY);
}

fn connections(received: &[Received]) -> BTreeSet<usize> {
    received.iter().map(|r| r.connection).collect()
}

// ---------------------------------------------------------------------------------------------
// Relaying

#[test]
fn the_request_reaches_the_node_and_its_reply_is_relayed_as_is() {
    run(async {
        let (_, clients, node) = pinned_node().await;

        let reply = clients.send(NODE, node.addr, post()).await;
        assert_answered(&reply);
        // The node's own headers pass, pvedaemon's Location prefix is not stripped here; the
        // hop's headers (hyper's Date, Content-Length) are not relayed.
        assert_eq!(
            header(&reply, "location"),
            Some("http://localhost:85/api2/json/x")
        );
        assert_eq!(header(&reply, "content-encoding"), Some("gzip"));
        assert_eq!(header(&reply, "x-node"), Some(NODE));
        assert_eq!(header(&reply, "date"), None);
        assert_eq!(header(&reply, "content-length"), None);
        assert!(!reply.compressible, "never compressed again");

        let received = node.received();
        assert_eq!(received.len(), 1);
        let request = &received[0];
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.target, TIME);
        assert_eq!(request.headers["host"], "pve1.example:8006");
        assert_eq!(request.headers["pvedisableproxy"], "true");
        assert_eq!(request.body, "timezone=Europe%2FVienna");
        assert_eq!(request.sni, None, "no SNI for an IP address");
        assert_eq!(request.alpn.as_deref(), Some(&b"http/1.1"[..]));
    });
}

#[test]
fn a_node_that_moved_is_reached_at_its_new_address() {
    run(async {
        let (cert, files) = pinned();
        let old = NodeServer::start(&cert, 0, Behaviour::Answer).await;
        let new = NodeServer::start(&cert, 0, Behaviour::Answer).await;
        let clients = clients(&files);
        assert_answered(&clients.send(NODE, old.addr, get()).await);
        assert_answered(&clients.send(NODE, new.addr, get()).await);
        assert_eq!(old.received().len(), 1);
        assert_eq!(new.received().len(), 1);
    });
}

// ---------------------------------------------------------------------------------------------
// Pinning

#[test]
fn another_certificate_is_596_and_the_request_never_reaches_the_node() {
    let (reply, log) = logged(|| {
        run(async {
            let (pinned, presented) = (cert(), cert());
            let files = pve_files(&[(PVE_SSL, &pinned)]);
            let node = NodeServer::start(&presented, 0, Behaviour::Answer).await;
            let reply = clients(&files).send(NODE, node.addr, get()).await;
            assert!(node.received().is_empty(), "{:?}", node.received());
            reply
        })
    });
    assert_eq!(
        status(&reply),
        (596, "certificate fingerprint mismatch for node 'pve2'")
    );
    assert!(reply.body.is_empty());
    assert!(
        log.lines().any(|line| line.contains("WARN")
            && line.contains("to node 'pve2'")
            && line.contains("certificate fingerprint mismatch")),
        "{log}"
    );
}

/// `pvecm updatecerts` writes the new certificate and restarts pveproxy: the first mismatch
/// re-reads the file and the request goes through.
#[test]
fn a_renewed_certificate_is_picked_up_at_its_first_mismatch() {
    run(async {
        let (old, new) = (cert(), cert());
        let files = pve_files(&[(PVE_SSL, &old)]);
        let clients = clients(&files);
        let node = NodeServer::start(&old, 0, Behaviour::Answer).await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);

        files.insert(PVE_SSL, new.pem.as_str(), 0o640);
        let node = node.restart(&new, Behaviour::Answer).await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_eq!(node.received().len(), 1);
    });
}

/// A node presenting a certificate its file does not have is refused; once the file has it,
/// the next mismatch after a minute re-reads the file (not sooner, so a wrong node cannot make
/// every request read `/etc/pve`).
#[test]
fn a_replaced_file_is_read_again_at_most_once_a_minute() {
    run(async {
        let (old, new) = (cert(), cert());
        let files = pve_files(&[(PVE_SSL, &old)]);
        let clients = clients(&files);
        let node = NodeServer::start(&new, 0, Behaviour::Answer).await;
        assert_eq!(clients.send(NODE, node.addr, get()).await.status, 596);

        files.insert(PVE_SSL, new.pem.as_str(), 0o640);
        assert_eq!(clients.send(NODE, node.addr, get()).await.status, 596);
        assert!(node.received().is_empty());

        // A minute passes (the clock runs on, paused only to jump).
        tokio::time::pause();
        tokio::time::advance(REFRESH_MIN).await;
        tokio::time::resume();
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_eq!(node.received().len(), 1);
    });
}

#[test]
fn pveproxy_ssl_pem_takes_precedence_over_pve_ssl_pem() {
    run(async {
        let (default, custom) = (cert(), cert());
        let files = pve_files(&[(PVE_SSL, &default), (PVEPROXY_SSL, &custom)]);
        let fingerprint = node_fingerprint(&files, &Root::default(), NODE).expect("readable");
        assert_eq!(
            fingerprint,
            fingerprint_of_pem(custom.pem.as_bytes()).expect("a certificate")
        );

        let serving_custom = NodeServer::start(&custom, 0, Behaviour::Answer).await;
        let serving_default = NodeServer::start(&default, 0, Behaviour::Answer).await;
        let clients = clients(&files);
        assert_answered(&clients.send(NODE, serving_custom.addr, get()).await);
        let reply = clients.send(NODE, serving_default.addr, get()).await;
        assert_eq!(reply.status, 596, "{reply:?}");
    });
}

#[test]
fn a_node_without_a_certificate_file_is_596() {
    run(async {
        let cert = cert();
        let node = NodeServer::start(&cert, 0, Behaviour::Answer).await;
        let reply = clients(&pve_files(&[])).send(NODE, node.addr, get()).await;
        assert_eq!(
            status(&reply),
            (
                596,
                "no certificate for node 'pve2' (/etc/pve/nodes/pve2/pve-ssl.pem: no such file)"
            )
        );
        assert!(node.received().is_empty());
    });
}

/// A certificate `openssl req` made; its fingerprint as `openssl x509 -noout -fingerprint
/// -sha256` prints it.
const FIXED_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBfjCCASOgAwIBAgIUEm1c/Lp7zzL1KA3H/x3lJr3h79QwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJcHZlLWZpeGVkMB4XDTI2MTEyNTAxNDYxOFoXDTM2MTEyMjAx
NDYxOFowFDESMBAGA1UEAwwJcHZlLWZpeGVkMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE9+pxUfI9SWXM0Tg6xR3dGwRu1V4gpOqyC9IF1z/yvcDxEQeAqTwMbmN4
nBitQILSZrrSHrT5cinFCOr/BkSWjqNTMFEwHQYDVR0OBBYEFCEg3e9JM2G79+Sh
BnrYaP6mqEHtMB8GA1UdIwQYMBaAFCEg3e9JM2G79+ShBnrYaP6mqEHtMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAOG/yLuRmy7EdXEs/UHGcMRS
D3MAleXW3cqqZ148BQVKAiEAv5Ho1wpzLFGhrwRyLNqIFIP1S0zCFBZ0haOf0pRc
ysE=
-----END CERTIFICATE-----
";
const FIXED_FINGERPRINT: &str = "49:6E:DF:68:DA:76:37:62:E5:42:E8:B0:F9:50:E0:D1:\
C2:DA:FF:C4:77:08:FC:83:33:0C:B6:B9:DD:B8:2D:C3";

#[test]
fn fingerprints_read_as_openssl_and_proxmox_print_them() {
    assert_eq!(
        fingerprint_of_pem(FIXED_PEM.as_bytes()).expect("a certificate"),
        FIXED_FINGERPRINT
    );
    // A fresh certificate against the openssl command, where there is one.
    let cert = cert();
    let path = std::env::temp_dir().join(format!("corral-node-forward-{}.pem", std::process::id()));
    std::fs::write(&path, &cert.pem).expect("a temporary file");
    let output = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let Ok(output) = output else {
        return;
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    let (_, openssl) = printed.trim().split_once('=').expect("… Fingerprint=AB:…");
    assert_eq!(
        fingerprint_of_pem(cert.pem.as_bytes()).expect("a certificate"),
        openssl
    );
}

// ---------------------------------------------------------------------------------------------
// Connections

#[test]
fn a_node_that_is_not_listening_is_595() {
    run(async {
        let (_, clients, node) = pinned_node().await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        let port = node.stop().await;
        // The pooled connection is dead; a fresh one is refused.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let reply = clients.send(NODE, addr, get()).await;
        assert_eq!(status(&reply), (595, "Connection refused"));
        assert!(reply.body.is_empty());
    });
}

/// A restart (or a partition) kills the pooled keep-alive connections: the next GET goes out
/// on a fresh one without the caller seeing an error, and is answered once.
#[test]
fn a_restarted_node_is_reached_again_without_an_error() {
    run(async {
        let (cert, clients, node) = pinned_node().await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_eq!(connections(&node.received()).len(), 1, "the GETs share one");

        let node = node.restart(&cert, Behaviour::Answer).await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_eq!(node.received().len(), 1);
    });
}

/// A POST never takes a pooled connection (which may have died unseen) and never leaves its
/// own for reuse; one the node drops unanswered is 596, not a second try.
#[test]
fn a_post_is_never_sent_twice() {
    run(async {
        let (cert, clients, node) = pinned_node().await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        assert_answered(&clients.send(NODE, node.addr, post()).await);
        assert_answered(&clients.send(NODE, node.addr, post()).await);
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        let received = node.received();
        let of = |i: usize| received[i].connection;
        assert_eq!((of(0), of(3)), (0, 0), "GETs share the pooled connection");
        assert_eq!((of(1), of(2)), (1, 2), "each POST has a fresh one");

        let node = node.restart(&cert, Behaviour::HangUp).await;
        let reply = clients.send(NODE, node.addr, post()).await;
        assert_eq!(reply.status, 596, "{reply:?}");
        let received = node.received();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0].method, Method::POST);
    });
}

/// Far more concurrent GETs than may be in flight, twice: they wait their turns and share at
/// most NODE_REQUESTS_MAX connections.
#[test]
fn concurrent_gets_share_a_bounded_number_of_connections() {
    const CLIENTS: usize = 50;
    run(async {
        let (cert, files) = pinned();
        let clients = Rc::new(clients(&files));
        let delay = Behaviour::AnswerAfter(Duration::from_millis(20));
        let node = NodeServer::start(&cert, 0, delay).await;
        for _ in 0..2 {
            let mut wave = JoinSet::new();
            for _ in 0..CLIENTS {
                let clients = Rc::clone(&clients);
                let addr = node.addr;
                wave.spawn_local(async move { clients.send(NODE, addr, get()).await });
            }
            while let Some(reply) = wave.join_next().await {
                assert_answered(&reply.expect("no panic"));
            }
        }
        let received = node.received();
        assert_eq!(received.len(), 2 * CLIENTS);
        let used = connections(&received).len();
        assert!(
            (2..=NODE_REQUESTS_MAX).contains(&used),
            "{used} connections for {} GETs",
            2 * CLIENTS
        );
    });
}

/// Real connections that the test can cut all at once, as a partition does: each then fails
/// every read and write with a reset, but wakes nobody, so the client notices only when it
/// uses one.
#[derive(Debug, Default)]
struct Partitionable {
    /// Connections made before the current generation are cut.
    generation: Rc<Cell<u64>>,
}

impl Partitionable {
    fn cut_all(&self) {
        self.generation.set(self.generation.get() + 1);
    }
}

impl Connector for Partitionable {
    fn connect(&self, addr: SocketAddr) -> LocalFuture<io::Result<BoxStream>> {
        let generation = Rc::clone(&self.generation);
        Box::pin(async move {
            let stream = TcpStream::connect(addr).await?;
            let born = generation.get();
            Ok(Box::new(Cuttable {
                stream,
                born,
                generation,
            }) as BoxStream)
        })
    }

    fn resolve(&self, host: &str) -> LocalFuture<io::Result<IpAddr>> {
        TokioNet.resolve(host)
    }
}

struct Cuttable {
    stream: TcpStream,
    born: u64,
    generation: Rc<Cell<u64>>,
}

impl Cuttable {
    fn cut(&self) -> Option<io::Error> {
        (self.generation.get() > self.born).then(|| io::Error::from(io::ErrorKind::ConnectionReset))
    }
}

impl AsyncRead for Cuttable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.cut() {
            Some(error) => Poll::Ready(Err(error)),
            None => Pin::new(&mut self.stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Cuttable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.cut() {
            Some(error) => Poll::Ready(Err(error)),
            None => Pin::new(&mut self.stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.cut() {
            Some(error) => Poll::Ready(Err(error)),
            None => Pin::new(&mut self.stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A pooled connection that died without a sign (the client finds out only by using it): the
/// GET goes out again on a fresh connection, and the caller sees the node's reply.
#[test]
fn a_pooled_connection_that_died_unseen_is_replaced() {
    run(async {
        let (cert, files) = pinned();
        let network = Rc::new(Partitionable::default());
        let clients = NodeClients::new(
            Rc::clone(&network) as Rc<dyn Connector>,
            Rc::new(files.clone()),
            Root::default(),
        );
        let node = NodeServer::start(&cert, 0, Behaviour::Answer).await;
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        network.cut_all();
        assert_answered(&clients.send(NODE, node.addr, get()).await);
        let received = node.received();
        assert_eq!(received.len(), 2, "{received:?}");
        assert_eq!(connections(&received).len(), 2, "on a fresh connection");
    });
}

/// corosync.conf may name a node's host rather than its address.
#[test]
fn host_names_resolve_to_an_address() {
    run(async {
        let ip = TokioNet.resolve("localhost").await.expect("localhost");
        assert!(ip.is_loopback(), "{ip}");
    });
}
