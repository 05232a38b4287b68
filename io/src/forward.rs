//! pveproxy's clients for the local pvedaemon (plain HTTP) and for the other nodes' pveproxy
//! (HTTPS, the node's certificate pinned: [`crate::pinning`]): pooled keep-alive HTTP/1.1
//! connections, and Proxmox's status codes for transport failures.
//!
//! | phase that failed | status | reason |
//! |---|---|---|
//! | connecting | 595 | the connect error (`Connection refused`, `Connection timed out`, …) |
//! | TLS (another node), sending, or waiting for the reply head ([`SILENCE_MAX`] of silence) | 596 | the error |
//! | reading the body | 597 | the error |
//! | a reply that is not HTTP | 599 | the parse error |
//!
//! These are AnyEvent::HTTP's codes, which Proxmox relays as status lines with no body. A
//! node whose certificate cannot be pinned, or that presents another one, is 596 too
//! (`no certificate for node 'pve2' (…)`, `certificate fingerprint mismatch for node 'pve2'`);
//! unlike Proxmox, a missing certificate file is reported before any connection is tried.
//!
//! Driving it: one [`DaemonClient`] and one [`NodeClients`] per server (single thread); `send`
//! per request. Each server is reached through one pool: at most `N` requests of each
//! [`Budget`] are in flight at once (further ones wait their turn, within [`SILENCE_MAX`]),
//! each on its own connection, and up to `N` idle connections are kept for [`IDLE_KEEP`] and
//! reused, so a steady load reuses its connections instead of opening new ones. `N` is
//! [`REQUESTS_MAX`] for pvedaemon and [`NODE_REQUESTS_MAX`] for each other node.
//!
//! pvedaemon's connections serve any method; another node's, as in Proxmox, only GET: POST,
//! PUT and DELETE each open a fresh one, used once. A request that never went out on a reused
//! connection the server had closed (and a GET that may have) is retried once on a fresh one,
//! so a restarted node or daemon costs the caller nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::http::Reply;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::body::{self, Incomplete};
use crate::files::{Files, Root};
use crate::net::{BoxStream, Connector};
use crate::pinning::{self, HandshakeError, Mismatch, PinCache, PinError};

/// AnyEvent::HTTP's timeout as Proxmox sets it: 30 s without progress in any phase.
pub const SILENCE_MAX: Duration = Duration::from_secs(30);
/// Requests of each [`Budget`] in flight to the daemon at once, and idle connections kept for
/// reuse: at most three times this many connections are open.
pub const REQUESTS_MAX: usize = 64;
/// [`REQUESTS_MAX`] for each other node. Proxmox's AnyEvent::HTTP opens at most 4 connections
/// per host in each of pveproxy's 3 workers; 16 keeps that order, so a burst of calls for one
/// node cannot pile hundreds of connections onto that node's pveproxy, and the connections to
/// all nodes together stay within reason.
pub const NODE_REQUESTS_MAX: usize = 16;
/// The most nodes with a pool (and a pinned certificate) at once: far more than a cluster
/// has, a bound only against a caller naming endless nodes.
pub const NODES_MAX: usize = 1024;
/// How long an idle connection is kept: well below pvedaemon's and pveproxy's 5 s keep-alive
/// timeout, so a reused connection is practically never one the server is closing at that
/// moment.
pub const IDLE_KEEP: Duration = Duration::from_secs(2);
/// The largest reply relayed (Proxmox has no bound; a broken daemon or node must not exhaust
/// memory).
pub const REPLY_LEN_MAX: usize = 64 * 1024 * 1024;

/// What pvedaemon prefixes its redirects with; pveproxy strips it (AE `proxy_request`).
const DAEMON_URL_PREFIX: &str = "http://localhost:85";

/// Headers that describe one hop, or that pveproxy sets itself on every reply: never relayed.
const NOT_RELAYED: [HeaderName; 8] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    header::DATE,
    header::EXPIRES,
    header::CACHE_CONTROL,
    header::PRAGMA,
    header::SERVER,
];

/// A request to forward, already reduced to what Proxmox forwards.
#[derive(Debug, Clone)]
pub struct Forward {
    pub method: Method,
    /// The original path and query.
    pub target: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub budget: Budget,
}

/// Whose turn a forwarded request waits for. pvedaemon holds a failed login's reply for the
/// 401 delay, so anonymous requests may sit in flight for seconds each: they get their own
/// [`REQUESTS_MAX`], and a flood of them cannot hold up authenticated calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// A call by an authenticated user or token.
    Authenticated,
    /// A login, or a check of a token not yet confirmed.
    Anonymous,
}

/// Who is at the other end of a pool: what differs between pvedaemon and another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Daemon,
    Node,
}

impl Peer {
    /// Whether `method` may go out on a pooled connection (and leave its own for reuse): any
    /// to pvedaemon on loopback; only GET to another node, as Proxmox, so that a
    /// non-idempotent call never meets a connection that a partition or a restart killed.
    fn reuses(self, method: &Method) -> bool {
        match self {
            Peer::Daemon => true,
            Peer::Node => method == Method::GET,
        }
    }

    /// Requests of each [`Budget`] in flight at once, and idle connections kept.
    fn requests_max(self) -> usize {
        match self {
            Peer::Daemon => REQUESTS_MAX,
            Peer::Node => NODE_REQUESTS_MAX,
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Peer::Daemon => "pvedaemon",
            Peer::Node => "another node",
        })
    }
}

/// The connections to one server, bounded: [`Peer::requests_max`] requests of each [`Budget`]
/// in flight, as many idle connections kept.
#[derive(Debug)]
struct Pool {
    addr: SocketAddr,
    peer: Peer,
    /// One permit per authenticated request in flight.
    turns: Semaphore,
    /// One permit per anonymous request in flight.
    anonymous_turns: Semaphore,
    idle: RefCell<Vec<(Connection, Instant)>>,
}

type Connection = SendRequest<Full<Bytes>>;

/// A pool of connections to the local pvedaemon.
#[derive(Debug)]
pub struct DaemonClient {
    pool: Pool,
    connector: Rc<dyn Connector>,
}

/// Pools of connections to the other nodes, one per node, each bounded like
/// [`DaemonClient`]'s (by [`NODE_REQUESTS_MAX`]), at most [`NODES_MAX`] of them.
#[derive(Debug)]
pub struct NodeClients {
    connector: Rc<dyn Connector>,
    pins: PinCache,
    pools: RefCell<HashMap<String, NodePool>>,
}

#[derive(Debug)]
struct NodePool {
    pool: Rc<Pool>,
    /// When a request last took this pool.
    used: Instant,
}

/// Why a forward failed, mapped to Proxmox's status.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    #[error("{0}")]
    Connect(String),
    /// The TLS handshake with another node failed, or its certificate cannot be pinned.
    #[error("{0}")]
    Tls(String),
    /// Another node presented a certificate other than the pinned one.
    #[error("certificate fingerprint mismatch for node '{node}'")]
    Mismatch { node: String, mismatch: Mismatch },
    /// The connection failed before the request went out (a pooled connection the server had
    /// closed): safe to try again on a fresh one, whatever the method.
    #[error("{0}")]
    NotSent(String),
    #[error("{0}")]
    Send(String),
    /// [`SILENCE_MAX`] passed before the reply's head (or the TLS handshake's end): the
    /// server may be working on the request, so it is never sent again.
    #[error("Connection timed out")]
    Silent,
    #[error("{0}")]
    Body(String),
    #[error("{0}")]
    Garbled(String),
}

impl From<PinError> for ForwardError {
    fn from(error: PinError) -> Self {
        ForwardError::Tls(error.to_string())
    }
}

impl ForwardError {
    fn status(&self) -> u16 {
        match self {
            ForwardError::Connect(_) => 595,
            ForwardError::Tls(_)
            | ForwardError::Mismatch { .. }
            | ForwardError::NotSent(_)
            | ForwardError::Send(_)
            | ForwardError::Silent => 596,
            ForwardError::Body(_) => 597,
            ForwardError::Garbled(_) => 599,
        }
    }

    fn reply(&self) -> Reply {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_GATEWAY);
        Reply {
            status,
            reason: reason_text(&self.to_string()),
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
            compressible: false,
        }
    }

    /// What the log says beyond the reply's reason: which certificates did not match.
    fn detail(&self) -> String {
        match self {
            ForwardError::Mismatch { mismatch, .. } => format!(" ({mismatch})"),
            _ => String::new(),
        }
    }
}

/// The reply, or the failure's reply with a warning naming the request and `to` whom.
fn reply_or_warn(
    result: Result<Reply, ForwardError>,
    request: &Forward,
    to: std::fmt::Arguments<'_>,
) -> Reply {
    result.unwrap_or_else(|error| {
        tracing::warn!(
            "forwarding {} {}{to} failed: {error}{}",
            request.method,
            request.target,
            error.detail()
        );
        error.reply()
    })
}

impl DaemonClient {
    pub fn new(addr: SocketAddr, connector: Rc<dyn Connector>) -> Self {
        DaemonClient {
            pool: Pool::new(addr, Peer::Daemon),
            connector,
        }
    }

    /// Forwards a request and returns the daemon's reply as is (never compressed again), or
    /// Proxmox's 595/596/597/599 reply.
    pub async fn send(&self, request: Forward) -> Reply {
        let result = self.pool.send(&request, || self.open()).await;
        reply_or_warn(result, &request, format_args!(""))
    }

    async fn open(&self) -> Result<Connection, ForwardError> {
        let stream = connect(&*self.connector, self.pool.addr).await?;
        start_http1(stream, Peer::Daemon).await
    }
}

impl NodeClients {
    pub fn new(connector: Rc<dyn Connector>, files: Rc<dyn Files>, root: Root) -> Self {
        NodeClients {
            connector,
            pins: PinCache::new(files, root),
            pools: RefCell::default(),
        }
    }

    /// TLS reads `clock` for the wall time (the simulator's, there) instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::WallClock>) -> Self {
        self.pins.set_clock(clock);
        self
    }

    /// Forwards `request` to node `node`'s pveproxy at `addr` over TLS, pinning the node's
    /// certificate; returns its reply as is or Proxmox's 595/596/597/599 reply.
    pub async fn send(&self, node: &str, addr: SocketAddr, request: Forward) -> Reply {
        let result = self.try_send(node, addr, &request).await;
        reply_or_warn(
            result,
            &request,
            format_args!(" to node '{node}' at {addr}"),
        )
    }

    /// [`NodeClients::send`] without the warning on failure: for health probes, which log
    /// only a node's change between online and offline, not every failed probe.
    pub async fn send_quietly(&self, node: &str, addr: SocketAddr, request: Forward) -> Reply {
        match self.try_send(node, addr, &request).await {
            Ok(reply) => reply,
            Err(error) => error.reply(),
        }
    }

    async fn try_send(
        &self,
        node: &str,
        addr: SocketAddr,
        request: &Forward,
    ) -> Result<Reply, ForwardError> {
        let pool = self.pool(node, addr)?;
        pool.send(request, || self.open(node, addr)).await
    }

    /// The node's pool; a new one when the node is new or moved to another address (requests
    /// still on the old one finish there).
    fn pool(&self, node: &str, addr: SocketAddr) -> Result<Rc<Pool>, ForwardError> {
        let now = Instant::now();
        let mut pools = self.pools.borrow_mut();
        if let Some(entry) = pools.get_mut(node)
            && entry.pool.addr == addr
        {
            entry.used = now;
            return Ok(Rc::clone(&entry.pool));
        }
        if pools.len() >= NODES_MAX && !pools.contains_key(node) {
            // A pool no request used for IDLE_KEEP holds no connection worth keeping, so
            // dropping it loses nothing.
            pools.retain(|_, entry| {
                Rc::strong_count(&entry.pool) > 1 || now.duration_since(entry.used) < IDLE_KEEP
            });
            if pools.len() >= NODES_MAX {
                return Err(ForwardError::Connect(format!(
                    "more than {NODES_MAX} nodes in use at once"
                )));
            }
        }
        let pool = Rc::new(Pool::new(addr, Peer::Node));
        let entry = NodePool {
            pool: Rc::clone(&pool),
            used: now,
        };
        pools.insert(node.to_owned(), entry);
        Ok(pool)
    }

    /// A fresh TLS connection to the node. On a mismatch the node may have a renewed
    /// certificate the cache does not know yet: one more try when the cache learns a new one.
    async fn open(&self, node: &str, addr: SocketAddr) -> Result<Connection, ForwardError> {
        let config = self.pins.config(node)?;
        let mismatch = match self.open_with(node, addr, &config).await {
            Err(mismatch @ ForwardError::Mismatch { .. }) => mismatch,
            done => return done,
        };
        match self.pins.refresh(node, &config)? {
            Some(renewed) => self.open_with(node, addr, &renewed).await,
            None => Err(mismatch),
        }
    }

    async fn open_with(
        &self,
        node: &str,
        addr: SocketAddr,
        config: &Arc<ClientConfig>,
    ) -> Result<Connection, ForwardError> {
        let stream = connect(&*self.connector, addr).await?;
        let handshake = pinning::handshake(Arc::clone(config), addr.ip(), stream);
        match tokio::time::timeout(SILENCE_MAX, handshake).await {
            Err(_) => Err(ForwardError::Silent),
            Ok(Ok(tls)) => start_http1(tls, Peer::Node).await,
            Ok(Err(HandshakeError::Mismatch(mismatch))) => Err(ForwardError::Mismatch {
                node: node.to_owned(),
                mismatch,
            }),
            Ok(Err(HandshakeError::Failed(e))) => Err(ForwardError::Tls(io_reason(&e))),
        }
    }
}

impl Pool {
    fn new(addr: SocketAddr, peer: Peer) -> Pool {
        Pool {
            addr,
            peer,
            turns: Semaphore::new(peer.requests_max()),
            anonymous_turns: Semaphore::new(peer.requests_max()),
            idle: RefCell::default(),
        }
    }

    /// Sends `request` on a pooled connection when it may, else on one `open` makes.
    async fn send(
        &self,
        request: &Forward,
        open: impl AsyncFn() -> Result<Connection, ForwardError>,
    ) -> Result<Reply, ForwardError> {
        let _turn = self.turn(request.budget).await?;
        let reuse = self.peer.reuses(&request.method);
        if reuse && let Some(connection) = self.take_idle() {
            match self.exchange(connection, request).await {
                // A keep-alive connection the server closed: the request never went out, or
                // (a GET, safe to repeat) it may have. A silent server is not asked twice.
                Err(ForwardError::NotSent(_)) => {}
                Err(ForwardError::Send(_)) if request.method == Method::GET => {}
                done => return done,
            }
        }
        let connection = open().await?;
        self.exchange(connection, request).await
    }

    /// Waits for a turn of the request's budget, within [`SILENCE_MAX`].
    async fn turn(&self, budget: Budget) -> Result<SemaphorePermit<'_>, ForwardError> {
        let turns = match budget {
            Budget::Authenticated => &self.turns,
            Budget::Anonymous => &self.anonymous_turns,
        };
        tokio::time::timeout(SILENCE_MAX, turns.acquire())
            .await
            .map_err(|_| ForwardError::Connect("Connection timed out".to_owned()))?
            .map_err(|_| ForwardError::Connect("the connection pool is closed".to_owned()))
    }

    /// The most recently used live idle connection (the list is in the order connections
    /// became idle; unusable ones met on the way are dropped).
    fn take_idle(&self) -> Option<Connection> {
        let now = Instant::now();
        let mut idle = self.idle.borrow_mut();
        while let Some((connection, since)) = idle.pop() {
            if is_reusable(&connection, since, now) {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps a connection for reuse, first dropping the ones idle too long (the oldest, at
    /// the front): each request looks at the clock once, not once per idle connection.
    fn put_idle(&self, connection: Connection) {
        let now = Instant::now();
        let mut idle = self.idle.borrow_mut();
        let expired = idle
            .iter()
            .take_while(|(_, since)| now.duration_since(*since) >= IDLE_KEEP)
            .count();
        idle.drain(..expired);
        if idle.len() < self.peer.requests_max() {
            idle.push((connection, now));
        }
    }

    /// One request and its reply on `connection`, kept for reuse afterwards when the peer
    /// reuses connections for the method and the server keeps it open.
    async fn exchange(
        &self,
        mut connection: Connection,
        request: &Forward,
    ) -> Result<Reply, ForwardError> {
        let head = async {
            connection
                .ready()
                .await
                .map_err(|e| ForwardError::NotSent(e.to_string()))?;
            connection
                .send_request(build_request(request, self.addr)?)
                .await
                .map_err(classify_send_error)
        };
        let response = tokio::time::timeout(SILENCE_MAX, head)
            .await
            .map_err(|_| ForwardError::Silent)??;
        // pvedaemon and pveproxy close after every error reply (and may say so on any): such
        // a connection is not worth keeping.
        let reusable = self.peer.reuses(&request.method) && !closes(&response);
        let reply = read_reply(response, self.peer).await?;
        if reusable {
            self.put_idle(connection);
        }
        Ok(reply)
    }
}

/// A TCP connection to `addr`, within [`SILENCE_MAX`]; failures are the connect phase's.
async fn connect(connector: &dyn Connector, addr: SocketAddr) -> Result<BoxStream, ForwardError> {
    match tokio::time::timeout(SILENCE_MAX, connector.connect(addr)).await {
        Err(_) => Err(ForwardError::Connect("Connection timed out".to_owned())),
        Ok(Err(e)) => Err(ForwardError::Connect(io_reason(&e))),
        Ok(Ok(stream)) => Ok(stream),
    }
}

/// HTTP/1.1 over `stream`, its connection driven by a local task until either side drops it.
async fn start_http1<S>(stream: S, peer: Peer) -> Result<Connection, ForwardError>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ForwardError::Send(e.to_string()))?;
    tokio::task::spawn_local(async move {
        if let Err(e) = connection.await {
            tracing::debug!("connection to {peer} ended: {e}");
        }
    });
    Ok(sender)
}

fn is_reusable(connection: &Connection, idle_since: Instant, now: Instant) -> bool {
    now.duration_since(idle_since) < IDLE_KEEP && !connection.is_closed()
}

fn build_request(
    request: &Forward,
    addr: SocketAddr,
) -> Result<Request<Full<Bytes>>, ForwardError> {
    let mut builder = Request::builder()
        .method(request.method.clone())
        .uri(request.target.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.headers.iter().any(|(name, _)| name == header::HOST) {
        builder = builder.header(header::HOST, addr.to_string());
    }
    builder
        .body(Full::new(request.body.clone()))
        .map_err(|e| ForwardError::Send(format!("cannot build the request: {e}")))
}

/// Whether the server closes the connection after this reply.
fn closes(response: &Response<Incoming>) -> bool {
    response
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .any(|value| {
            value.to_str().is_ok_and(|text| {
                text.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"))
            })
        })
}

/// A reply that did not parse is 599; a request hyper never wrote is retryable; anything else
/// before the head arrived is 596.
fn classify_send_error(error: hyper::Error) -> ForwardError {
    if error.is_parse() || error.is_parse_status() {
        ForwardError::Garbled(error.to_string())
    } else if error.is_canceled() {
        ForwardError::NotSent(error.to_string())
    } else {
        ForwardError::Send(error.to_string())
    }
}

async fn read_reply(response: Response<Incoming>, peer: Peer) -> Result<Reply, ForwardError> {
    let (parts, body) = response.into_parts();
    // Each chunk within SILENCE_MAX, at most REPLY_LEN_MAX bytes.
    let body = body::collect(body, SILENCE_MAX, REPLY_LEN_MAX)
        .await
        .map_err(|incomplete| {
            ForwardError::Body(match incomplete {
                Incomplete::TooLarge => "reply too large".to_owned(),
                Incomplete::Stalled => "Connection timed out".to_owned(),
                Incomplete::Transport(e) => e.to_string(),
            })
        })?;
    let reason = parts
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|reason| String::from_utf8_lossy(reason.as_bytes()).into_owned())
        .unwrap_or_else(|| parts.status.canonical_reason().unwrap_or("").to_owned());
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !NOT_RELAYED.contains(name))
        .map(|(name, value)| match peer {
            Peer::Daemon => (name.clone(), strip_daemon_prefix(name, value)),
            Peer::Node => (name.clone(), value.clone()),
        })
        .collect();
    Ok(Reply {
        status: parts.status,
        reason: reason_text(&reason),
        content_type: None,
        headers,
        body,
        compressible: false,
    })
}

/// `Location: http://localhost:85/x` becomes `/x`.
fn strip_daemon_prefix(name: &HeaderName, value: &HeaderValue) -> HeaderValue {
    if name != header::LOCATION {
        return value.clone();
    }
    value
        .to_str()
        .ok()
        .and_then(|text| text.strip_prefix(DAEMON_URL_PREFIX))
        .and_then(|rest| HeaderValue::from_str(rest).ok())
        .unwrap_or_else(|| value.clone())
}

/// An error text fit for a status line: the first line, control characters dropped.
fn reason_text(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    first
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

/// `Connection refused`, as the C library words it, without Rust's "(os error 111)": the
/// reason of a failed forward, and for any other client reporting an IO error alike.
pub fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_have_proxmox_statuses_and_no_body() {
        let refused = ForwardError::Connect("Connection refused".to_owned()).reply();
        assert_eq!(refused.status.as_u16(), 595);
        assert_eq!(refused.reason, "Connection refused");
        assert!(refused.body.is_empty());
        assert_eq!(ForwardError::NotSent(String::new()).status(), 596);
        assert_eq!(ForwardError::Send(String::new()).status(), 596);
        let silent = ForwardError::Silent.reply();
        assert_eq!(silent.status.as_u16(), 596);
        assert_eq!(silent.reason, "Connection timed out");
        assert_eq!(ForwardError::Body(String::new()).status(), 597);
        assert_eq!(ForwardError::Garbled(String::new()).status(), 599);
    }

    #[test]
    fn daemon_redirects_lose_their_prefix() {
        let value = HeaderValue::from_static("http://localhost:85/api2/json/x");
        assert_eq!(
            strip_daemon_prefix(&header::LOCATION, &value),
            "/api2/json/x"
        );
        let other = HeaderValue::from_static("https://elsewhere/x");
        assert_eq!(strip_daemon_prefix(&header::LOCATION, &other), other);
    }

    #[test]
    fn os_errors_read_like_the_c_library() {
        let error = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_reason(&error), "Connection refused");
    }
}
