//! pveproxy's front door: accept, host ACL, TLS (or a redirect for plain HTTP), HTTP/1.1 with
//! Proxmox's limits, replies, compression and the access log.
//!
//! The server is generic over the [`Network`] seam and reads wall time only from a
//! [`WallClock`], so the same code serves real sockets and turmoil's simulated ones. It runs on
//! one thread (a tokio `LocalSet`): state is shared with `Rc`, and the per-connection tasks are
//! `spawn_local`ed.
//!
//! Driving it: [`ProxyServer::new`] with a bound listener and [`ProxySettings`], keep the
//! [`ProxyHandle`] from [`ProxyServer::handle`], then `run().await` inside a `LocalSet`. Call
//! [`ProxyHandle::reload`] with freshly loaded settings (SIGHUP) and [`ProxyHandle::shutdown`]
//! (SIGTERM); `run` returns once in-flight requests finished or [`SHUTDOWN_GRACE`] passed.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use corral_core::acl::{Access, AddrList, HostAcl};
use corral_core::http::access_log::{self, AccessLogEntry};
use corral_core::http::compress::choose_encoding;
use corral_core::http::limits::check_head;
use corral_core::http::redirect::plain_http_redirect;
use corral_core::http::{self as core_http, Reply};
use corral_core::time::UnixTime;
use http::header::{self, HeaderValue};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};

use crate::access_log::AccessLog;
use crate::api::{ApiRequest, ApiService};
use crate::body::{self, Incomplete};
use crate::clock::WallClock;
use crate::compress::encode;
use crate::net::Listener;

/// Proxmox's 3 workers × 500 connections each.
pub const CONNECTIONS_MAX: usize = 1500;

/// How long in-flight requests may take to finish after SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// After an accept error (e.g. out of file descriptors), wait before the next accept.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// One generation of configuration; a reload swaps in a new one for new connections, while
/// established connections keep the generation they started with.
#[derive(Debug)]
pub struct ProxySettings {
    pub acl: HostAcl,
    /// `None`: plain HTTP, as pvedaemon serves on 127.0.0.1:85.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub compression: bool,
    pub real_ip_header: Option<http::HeaderName>,
    pub real_ip_allow_from: Option<AddrList>,
}

impl ProxySettings {
    /// pvedaemon's server, Proxmox's `trusted_env`: no host ACL, no TLS, no real-IP header.
    /// Compression on, as Proxmox's server defaults it: pveproxy asks for it (Accept-Encoding)
    /// only when its COMPRESSION is on, and relays the compressed reply as is.
    pub fn trusted_daemon() -> Self {
        ProxySettings {
            acl: HostAcl::default(),
            tls: None,
            compression: true,
            real_ip_header: None,
            real_ip_allow_from: None,
        }
    }
}

/// Everything a connection needs, shared by all of them.
#[derive(Debug)]
struct Shared {
    settings: RefCell<Rc<ProxySettings>>,
    api: Rc<ApiService>,
    clock: Arc<dyn WallClock>,
    log: Rc<dyn AccessLog>,
    shutdown: watch::Sender<bool>,
    /// `None` until the first request.
    dates: RefCell<Option<Rc<Dates>>>,
    /// When the settings were last replaced (monotonic, so virtual in the simulator).
    reloaded_at: std::cell::Cell<Option<tokio::time::Instant>>,
}

/// The date texts of one second: they change once a second, requests come thousands of times.
#[derive(Debug)]
struct Dates {
    second: UnixTime,
    utc_offset_secs: i32,
    /// Cache-Control, Date, Pragma, Server, Expires.
    common_headers: Vec<(http::HeaderName, HeaderValue)>,
    /// `dd/mm/YYYY:HH:MM:SS +zzzz` in the local time zone.
    log_date: String,
}

impl Shared {
    /// The date texts for now, formatted at most once per second.
    fn dates(&self) -> Rc<Dates> {
        let now = self.clock.now();
        let mut cached = self.dates.borrow_mut();
        match &*cached {
            Some(dates) if dates.second == now => Rc::clone(dates),
            _ => {
                let offset = self.clock.utc_offset_secs(now);
                let dates = Rc::new(Dates {
                    second: now,
                    utc_offset_secs: offset,
                    common_headers: core_http::common_headers(now),
                    log_date: now.access_log_date(offset),
                });
                *cached = Some(Rc::clone(&dates));
                dates
            }
        }
    }
}

/// Controls a running [`ProxyServer`] from outside (signal handlers).
#[derive(Debug, Clone)]
pub struct ProxyHandle(Rc<Shared>);

impl ProxyHandle {
    /// New connections use `settings` from now on; established ones keep theirs for
    /// [`RELOAD_GRACE`], then close after their next reply.
    pub fn reload(&self, settings: ProxySettings) {
        *self.0.settings.borrow_mut() = Rc::new(settings);
        self.0.reloaded_at.set(Some(tokio::time::Instant::now()));
    }

    /// The settings new connections get.
    pub fn settings(&self) -> Rc<ProxySettings> {
        Rc::clone(&self.0.settings.borrow())
    }

    /// Stops accepting; in-flight requests finish, idle keep-alive connections close.
    pub fn shutdown(&self) {
        self.0.shutdown.send_replace(true);
    }
}

/// The accept loop and its connections.
#[derive(Debug)]
pub struct ProxyServer<L: Listener> {
    listener: L,
    shared: Rc<Shared>,
    /// One permit per open connection.
    connections: Arc<Semaphore>,
    connection_limit: usize,
}

impl<L> ProxyServer<L>
where
    L: Listener,
    L::Stream: AsyncRead + AsyncWrite + Unpin + 'static,
{
    pub fn new(
        listener: L,
        settings: ProxySettings,
        api: Rc<ApiService>,
        clock: Arc<dyn WallClock>,
        log: Rc<dyn AccessLog>,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        let settings = RefCell::new(Rc::new(settings));
        let shared = Rc::new(Shared {
            settings,
            api,
            clock,
            log,
            shutdown,
            dates: RefCell::default(),
            reloaded_at: std::cell::Cell::new(None),
        });
        let connections = Arc::new(Semaphore::new(CONNECTIONS_MAX));
        ProxyServer {
            listener,
            shared,
            connections,
            connection_limit: CONNECTIONS_MAX,
        }
    }

    /// At most `limit` connections at once (default [`CONNECTIONS_MAX`]); beyond it accepting
    /// pauses until one ends.
    pub fn with_connection_limit(mut self, limit: usize) -> Self {
        self.connections = Arc::new(Semaphore::new(limit));
        self.connection_limit = limit;
        self
    }

    pub fn handle(&self) -> ProxyHandle {
        ProxyHandle(Rc::clone(&self.shared))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts until shutdown, then waits (at most [`SHUTDOWN_GRACE`]) for connections to end.
    /// Must run inside a `tokio::task::LocalSet`.
    pub async fn run(self) {
        let mut shutdown = self.shared.shutdown.subscribe();
        loop {
            // At the limit, accepting pauses until a connection ends.
            let permit = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                permit = Arc::clone(&self.connections).acquire_owned() => permit,
            };
            let Ok(permit) = permit else { break };
            let accepted = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => self.admit(stream, peer, permit),
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            }
        }
        self.drain().await;
    }

    /// The host ACL, before TLS and before reading a byte: a denied peer is closed silently and
    /// logged with 403, as Proxmox does.
    fn admit(
        &self,
        stream: L::Stream,
        peer: SocketAddr,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) {
        let settings = Rc::clone(&self.shared.settings.borrow());
        if settings.acl.decide(peer.ip()) == Access::Deny {
            let dates = self.shared.dates();
            let entry = access_log::denied_entry(peer.ip(), dates.second, dates.utc_offset_secs);
            let line = access_log::format_line_dated(&entry, &dates.log_date);
            self.shared.log.write(line);
            drop(stream);
            return;
        }
        let shared = Rc::clone(&self.shared);
        tokio::task::spawn_local(async move {
            serve_connection(stream, peer, settings, shared).await;
            drop(permit);
        });
    }

    async fn drain(&self) {
        let all = u32::try_from(self.connection_limit).unwrap_or(u32::MAX);
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, self.connections.acquire_many(all));
        if finished.await.is_err() {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
}

/// Reads the first byte to tell TLS from plain HTTP (Proxmox's TLS autostart), then serves.
async fn serve_connection<S>(
    mut stream: S,
    peer: SocketAddr,
    settings: Rc<ProxySettings>,
    shared: Rc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let context = RequestContext::new(peer, settings, shared);
    let Some(tls) = context.settings.tls.clone() else {
        // The API over plain HTTP (pvedaemon on loopback).
        serve_api(WriteTimeout::new(stream), context).await;
        return;
    };
    let mut first = [0u8; 1];
    let read = tokio::time::timeout(core_http::IDLE_TIMEOUT, stream.read(&mut first)).await;
    let Ok(Ok(1)) = read else { return };
    let stream = Prefixed {
        first: Some(first[0]),
        inner: WriteTimeout::new(stream),
    };
    if !core_http::looks_like_tls(first[0]) {
        serve_plain_redirect(stream, context).await;
        return;
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let handshake = tokio::time::timeout(core_http::IDLE_TIMEOUT, acceptor.accept(stream)).await;
    let Ok(Ok(tls)) = handshake else { return };
    serve_api(tls, context).await;
}

/// The API on an established stream: TLS, or plain HTTP for pvedaemon.
async fn serve_api<S>(stream: S, context: Rc<RequestContext>)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let shared = Rc::clone(&context.shared);
    let service = service_fn(move |request| handle_request(request, Rc::clone(&context)));
    serve_http(TokioIo::new(stream), service, &shared).await;
}

/// Plain HTTP on the TLS port: a redirect to https when the request names its Host, else the
/// connection closes at once.
async fn serve_plain_redirect<S>(stream: S, context: Rc<RequestContext>)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let shared = Rc::clone(&context.shared);
    let service = service_fn(move |request: Request<Incoming>| {
        let response = redirect(request, &context);
        // No Host: an error makes hyper drop the connection without a reply.
        async move { response.ok_or(NoHost) }
    });
    serve_http(TokioIo::new(stream), service, &shared).await;
}

/// The redirect for a plain-HTTP request (or the request's rejection), logged like any reply;
/// `None` without a Host.
fn redirect(request: Request<Incoming>, context: &RequestContext) -> Option<Response<Full<Bytes>>> {
    let (parts, _body) = request.into_parts();
    let host = parts.headers.get(header::HOST).map(HeaderValue::as_bytes);
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // Proxmox checks the request (method, transfer encoding, …) before it decides to redirect.
    let reply = match check_head(&parts) {
        Err(rejection) => rejection.reply(),
        Ok(()) => plain_http_redirect(&parts.method, host, target)?,
    };
    let dates = context.shared.dates();
    let status = reply.status;
    let response = build_response(reply, &dates, None, false);
    log_request(
        context,
        &parts,
        status,
        &dates,
        Some(response_len(&response)),
        None,
    );
    Some(response)
}

#[derive(Debug, thiserror::Error)]
#[error("plain HTTP request without a Host header")]
struct NoHost;

/// hyper with Proxmox's limits: 64 header lines, 8 KiB of header, 5 s to send a request head
/// (which is also the keep-alive idle timeout). No automatic `Date`: it would read the real clock.
async fn serve_http<I, S>(io: I, service: S, shared: &Rc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = Full<Bytes>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(core_http::IDLE_TIMEOUT)
        .max_headers(core_http::HEADER_LINES_MAX)
        .max_header_size(core_http::HEADER_BYTES_MAX)
        .auto_date_header(false)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut shutdown = shared.shutdown.subscribe();
    tokio::select! {
        biased;
        _ = connection.as_mut() => return,
        _ = shutdown.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// What a request handler knows about its connection.
#[derive(Debug)]
struct RequestContext {
    peer: SocketAddr,
    settings: Rc<ProxySettings>,
    shared: Rc<Shared>,
    /// Requests answered on this connection so far.
    served: std::cell::Cell<u32>,
}

/// Proxmox serves at most this many requests on one keep-alive connection.
pub const KEEP_ALIVE_REQUESTS_MAX: u32 = 100;

/// How long connections admitted before a reload keep being served (Proxmox sends its old
/// workers TERM about 5 s after a reload).
pub const RELOAD_GRACE: Duration = Duration::from_secs(5);

impl RequestContext {
    fn new(peer: SocketAddr, settings: Rc<ProxySettings>, shared: Rc<Shared>) -> Rc<Self> {
        Rc::new(RequestContext {
            peer,
            settings,
            shared,
            served: std::cell::Cell::new(0),
        })
    }

    /// Whether the reply now being sent must be the connection's last: the keep-alive budget is
    /// spent, or a reload replaced the settings the connection was admitted under (Proxmox's old
    /// workers stop after a reload, so a newly denied peer keeps no connection alive).
    fn last_on_connection(&self) -> bool {
        let served = self.served.get().saturating_add(1);
        self.served.set(served);
        served >= KEEP_ALIVE_REQUESTS_MAX || self.outlived_a_reload()
    }

    /// Proxmox's old workers keep serving for about [`RELOAD_GRACE`] after a reload, then stop:
    /// a connection admitted under replaced settings stays usable that long, then closes.
    fn outlived_a_reload(&self) -> bool {
        let replaced = !Rc::ptr_eq(&self.settings, &self.shared.settings.borrow());
        let reloaded_at = self.shared.reloaded_at.get();
        replaced && reloaded_at.is_some_and(|at| at.elapsed() >= RELOAD_GRACE)
    }
}

async fn handle_request(
    request: Request<Incoming>,
    context: Rc<RequestContext>,
) -> Result<Response<Full<Bytes>>, Aborted> {
    let started = tokio::time::Instant::now();
    let (parts, body) = request.into_parts();
    let mut user = None;
    let reply = match check_head(&parts) {
        Err(rejection) => rejection.reply(),
        Ok(()) => match read_body(body).await {
            Ok(body) => {
                let api = Rc::clone(&context.shared.api);
                let request = ApiRequest {
                    parts: &parts,
                    body,
                    peer: context.peer,
                    compression: context.settings.compression,
                };
                let answer = api.handle(request).await;
                if answer.delayed {
                    // Only this request waits; the connection's task holds no one else up.
                    let delay = api.settings().unauthorized_delay;
                    tokio::time::sleep_until(started + delay).await;
                }
                user = answer.user;
                answer.reply
            }
            Err(Incomplete::TooLarge) => {
                core_http::generic_error(http::StatusCode::NOT_IMPLEMENTED, "for data too large")
            }
            Err(aborted) => {
                // Proxmox logs an aborted request as 500.
                let dates = context.shared.dates();
                let status = http::StatusCode::INTERNAL_SERVER_ERROR;
                log_request(&context, &parts, status, &dates, None, None);
                return Err(Aborted(aborted));
            }
        },
    };
    let dates = context.shared.dates();
    let accept_encoding = parts
        .headers
        .get(header::ACCEPT_ENCODING)
        .map(HeaderValue::as_bytes);
    let encoding = choose_encoding(
        accept_encoding,
        reply.body.len(),
        context.settings.compression,
        reply.compressible,
    );
    let status = reply.status;
    let mut response = build_response(reply, &dates, encoding, context.settings.compression);
    if context.last_on_connection() {
        let close = HeaderValue::from_static("close");
        response.headers_mut().insert(header::CONNECTION, close);
    }
    log_request(
        &context,
        &parts,
        status,
        &dates,
        Some(response_len(&response)),
        user.as_deref(),
    );
    Ok(response)
}

/// The body, at most [`core_http::BODY_LEN_MAX`] bytes (Content-Length was checked already;
/// this also bounds a client that sends more than it announced). Each chunk must arrive within
/// the idle timeout: Proxmox's 5 s timer runs until the request is complete, and without it a
/// client that stops mid-body would hold its connection slot forever.
async fn read_body(body: Incoming) -> Result<Bytes, Incomplete> {
    let limit = usize::try_from(core_http::BODY_LEN_MAX).unwrap_or(usize::MAX);
    // The per-chunk timeout alone would let a client trickle a byte every few seconds for
    // weeks; a whole body (at most 512 KiB) gets this long.
    let body = body::collect(body, core_http::IDLE_TIMEOUT, limit);
    match tokio::time::timeout(BODY_TIME_MAX, body).await {
        Ok(read) => read.map(Bytes::from),
        Err(_) => Err(Incomplete::Stalled),
    }
}

/// How long a whole request body may take to arrive (512 KiB at under 9 KB/s).
pub const BODY_TIME_MAX: Duration = Duration::from_secs(60);

/// A request the client broke off; hyper closes the connection without a reply.
#[derive(Debug)]
struct Aborted(Incomplete);

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request aborted: ")?;
        match &self.0 {
            Incomplete::TooLarge => f.write_str("for data too large"),
            Incomplete::Stalled => write!(
                f,
                "the body stalled (a chunk took over {:?}, or all of it over {:?})",
                core_http::IDLE_TIMEOUT,
                BODY_TIME_MAX
            ),
            Incomplete::Transport(e) => write!(f, "the client broke off the body: {e}"),
        }
    }
}

impl std::error::Error for Aborted {}

/// Status, reason, Proxmox's common headers, the body (compressed when chosen) and
/// `Connection: close` for every status >= 400.
fn build_response(
    reply: Reply,
    dates: &Dates,
    encoding: Option<core_http::compress::Encoding>,
    compression_enabled: bool,
) -> Response<Full<Bytes>> {
    let body = match encoding {
        Some(encoding) => encode(encoding, &reply.body),
        None => reply.body,
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = reply.status;
    if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(reply.reason.into_bytes()) {
        response.extensions_mut().insert(reason);
    }
    let headers = response.headers_mut();
    for (name, value) in &dates.common_headers {
        headers.append(name, value.clone());
    }
    if let Some(content_type) = reply.content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    for (name, value) in reply.headers {
        headers.append(name, value);
    }
    if let Some(encoding) = encoding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.header_value()),
        );
    }
    // The body's encoding depends on Accept-Encoding whenever it could be compressed (Proxmox
    // omits this header; caches need it).
    if reply.compressible && compression_enabled {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if core_http::closes_connection(reply.status) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn response_len(response: &Response<Full<Bytes>>) -> u64 {
    use hyper::body::Body;
    response.body().size_hint().exact().unwrap_or(0)
}

fn log_request(
    context: &RequestContext,
    parts: &http::request::Parts,
    status: http::StatusCode,
    dates: &Dates,
    bytes: Option<u64>,
    user: Option<&str>,
) {
    let settings = &context.settings;
    let header = settings
        .real_ip_header
        .as_ref()
        .and_then(|name| parts.headers.get(name))
        .map(HeaderValue::as_bytes);
    let client = access_log::client_for_log(
        context.peer.ip(),
        header,
        settings.real_ip_allow_from.as_ref(),
    );
    let request_line = access_log::request_line(parts);
    let entry = AccessLogEntry {
        client,
        user,
        // Already in `log_date`; kept so the entry is complete.
        time: dates.second,
        utc_offset_secs: dates.utc_offset_secs,
        request_line: &request_line,
        status: status.as_u16(),
        bytes,
    };
    let line = access_log::format_line_dated(&entry, &dates.log_date);
    context.shared.log.write(line);
}

/// Fails a write or flush that makes no progress for [`core_http::IDLE_TIMEOUT`]: a client that
/// stops reading its replies would otherwise hold its connection, and a connection slot, for
/// ever (Proxmox's 5 s inactivity timeout covers writes too). Reads are bounded elsewhere (the
/// header read timeout and the per-chunk body timeout).
struct WriteTimeout<S> {
    inner: S,
    /// Armed while a write is pending; disarmed by any progress.
    stalled_since: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteTimeout<S> {
    fn new(inner: S) -> Self {
        WriteTimeout {
            inner,
            stalled_since: None,
        }
    }

    /// Called when the inner write is pending: `Ready(Err)` once it has been for too long.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let deadline = self
            .stalled_since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(core_http::IDLE_TIMEOUT)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let message = "the client read nothing for the idle timeout";
                Poll::Ready(std::io::Error::new(std::io::ErrorKind::TimedOut, message))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(
        &mut self,
        result: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match result {
            Poll::Pending => self.poll_stall(cx).map(Err),
            done => {
                self.stalled_since = None;
                done
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.progress(result, cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.progress(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.progress(result, cx)
    }
}

/// A stream with one already-read byte put back in front.
struct Prefixed<S> {
    first: Option<u8>,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(byte) = self.first.filter(|_| buf.remaining() > 0) {
            self.first = None;
            buf.put_slice(&[byte]);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
