//! pveproxy's client for the local pvedaemon: pooled keep-alive HTTP/1.1 connections, and
//! Proxmox's status codes for transport failures.
//!
//! | phase that failed | status | reason |
//! |---|---|---|
//! | connecting | 595 | the connect error (`Connection refused`, `Connection timed out`, …) |
//! | sending, or waiting for the reply head ([`SILENCE_MAX`] of silence) | 596 | the error |
//! | reading the body | 597 | the error |
//! | a reply that is not HTTP | 599 | the parse error |
//!
//! These are AnyEvent::HTTP's codes, which Proxmox relays as status lines with no body.
//!
//! Driving it: one [`DaemonClient`] per server (single thread); [`DaemonClient::send`] per
//! request. At most [`REQUESTS_MAX`] requests of each [`Budget`] are in flight at once
//! (further ones wait their turn, within [`SILENCE_MAX`]), each on its own connection; up to
//! as many idle connections are kept for [`IDLE_KEEP`] and reused, so a steady load reuses its
//! connections instead of opening new ones. A request that never went out on a reused
//! connection the daemon had closed (and a GET that may have) is retried once on a fresh one.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::http::Reply;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::body::{self, Incomplete};
use crate::net::Connector;

/// AnyEvent::HTTP's timeout as Proxmox sets it: 30 s without progress in any phase.
pub const SILENCE_MAX: Duration = Duration::from_secs(30);
/// Requests of each [`Budget`] in flight to the daemon at once, and idle connections kept for
/// reuse: at most three times this many connections are open.
pub const REQUESTS_MAX: usize = 64;
/// How long an idle connection is kept: well below pvedaemon's 5 s keep-alive timeout, so a
/// reused connection is practically never one the daemon is closing at that moment.
pub const IDLE_KEEP: Duration = Duration::from_secs(2);
/// The largest reply relayed (Proxmox has no bound; a broken daemon must not exhaust memory).
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

/// A pool of connections to one daemon.
#[derive(Debug)]
pub struct DaemonClient {
    addr: SocketAddr,
    connector: Rc<dyn Connector>,
    /// One permit per authenticated request in flight.
    turns: Semaphore,
    /// One permit per anonymous request in flight.
    anonymous_turns: Semaphore,
    idle: RefCell<Vec<(Connection, Instant)>>,
}

type Connection = SendRequest<Full<Bytes>>;

/// Why a forward failed, mapped to Proxmox's status.
#[derive(Debug, thiserror::Error)]
enum ForwardError {
    #[error("{0}")]
    Connect(String),
    /// The connection failed before the request went out (a pooled connection the daemon had
    /// closed): safe to try again on a fresh one, whatever the method.
    #[error("{0}")]
    NotSent(String),
    #[error("{0}")]
    Send(String),
    /// [`SILENCE_MAX`] passed before the reply's head: the daemon may be working on the
    /// request, so it is never sent again.
    #[error("Connection timed out")]
    Silent,
    #[error("{0}")]
    Body(String),
    #[error("{0}")]
    Garbled(String),
}

impl ForwardError {
    fn status(&self) -> u16 {
        match self {
            ForwardError::Connect(_) => 595,
            ForwardError::NotSent(_) | ForwardError::Send(_) | ForwardError::Silent => 596,
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
}

impl DaemonClient {
    pub fn new(addr: SocketAddr, connector: Rc<dyn Connector>) -> Self {
        DaemonClient {
            addr,
            connector,
            turns: Semaphore::new(REQUESTS_MAX),
            anonymous_turns: Semaphore::new(REQUESTS_MAX),
            idle: RefCell::default(),
        }
    }

    /// Forwards a request and returns the daemon's reply as is (never compressed again), or
    /// Proxmox's 595/596/597/599 reply.
    pub async fn send(&self, request: Forward) -> Reply {
        match self.try_send(&request).await {
            Ok(reply) => reply,
            Err(error) => {
                tracing::warn!(
                    "forwarding {} {} failed: {error}",
                    request.method,
                    request.target
                );
                error.reply()
            }
        }
    }

    async fn try_send(&self, request: &Forward) -> Result<Reply, ForwardError> {
        let turns = match request.budget {
            Budget::Authenticated => &self.turns,
            Budget::Anonymous => &self.anonymous_turns,
        };
        let _turn = tokio::time::timeout(SILENCE_MAX, turns.acquire())
            .await
            .map_err(|_| ForwardError::Connect("Connection timed out".to_owned()))?
            .map_err(|_| ForwardError::Connect("the connection pool is closed".to_owned()))?;
        if let Some(connection) = self.take_idle() {
            match self.exchange(connection, request).await {
                // A keep-alive connection the daemon closed: the request never went out, or
                // (a GET, safe to repeat) it may have. A silent daemon is not asked twice.
                Err(ForwardError::NotSent(_)) => {}
                Err(ForwardError::Send(_)) if request.method == Method::GET => {}
                done => return done,
            }
        }
        let connection = self.connect().await?;
        self.exchange(connection, request).await
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
        if idle.len() < REQUESTS_MAX {
            idle.push((connection, now));
        }
    }

    async fn connect(&self) -> Result<Connection, ForwardError> {
        let connecting = self.connector.connect(self.addr);
        let stream = match tokio::time::timeout(SILENCE_MAX, connecting).await {
            Err(_) => return Err(ForwardError::Connect("Connection timed out".to_owned())),
            Ok(Err(e)) => return Err(ForwardError::Connect(io_reason(&e))),
            Ok(Ok(stream)) => stream,
        };
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ForwardError::Send(e.to_string()))?;
        tokio::task::spawn_local(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection to pvedaemon ended: {e}");
            }
        });
        Ok(sender)
    }

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
        // pvedaemon closes after every error reply (and may say so on any): such a connection
        // is not worth keeping.
        let reusable = !closes(&response);
        let reply = read_reply(response).await?;
        if reusable {
            self.put_idle(connection);
        }
        Ok(reply)
    }
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

/// Whether the daemon closes the connection after this reply.
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

async fn read_reply(response: Response<Incoming>) -> Result<Reply, ForwardError> {
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
        .map(|(name, value)| (name.clone(), strip_daemon_prefix(name, value)))
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

/// `Connection refused`, as the C library words it, without Rust's "(os error 111)".
fn io_reason(error: &std::io::Error) -> String {
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
