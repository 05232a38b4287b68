//! The API behind both daemons: credentials, authentication, core's routing decision, the
//! handlers, and forwarding protected calls from pveproxy to pvedaemon.
//!
//! One [`ApiService`] per server, on the server's thread. [`ApiService::handle`] takes a request
//! whose head passed the limits and whose body was read, and returns the reply, the user to log,
//! and whether the reply must wait for the 401 delay.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::access::{Authid, Tokenid, UserConfig, Userid};
use corral_core::api::{self, BodyEncoding, Call, Caller, Decision, Handler, Params, Role};
use corral_core::auth::credentials::Credentials;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket;
use corral_core::cluster::corosync::Membership;
use corral_core::cluster::health::{HealthSettings, PeerHealth};
use corral_core::cluster::views::PeerView;
use corral_core::http::api::{
    Format, RouteError, Target, VersionInfo, generic_error, index_page, render, route,
};
use corral_core::http::compress::{Encoding, accepted_encoding};
use corral_core::http::{ApiError, Reply};
use corral_core::time::UnixTime;
use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use crate::access::{AccessFiles, AuthFailure};
use crate::clock::WallClock;
use crate::cluster::Peers;
use crate::forward::{Budget, DaemonClient, Forward};
use crate::host::{Host, NodeStatusReader, RealHost};
use crate::offload::Offload;

/// How long a 401 waits, from the request's start (Proxmox: 3 s), so guessing is slow; other
/// requests are not held up.
pub const UNAUTHORIZED_DELAY: Duration = Duration::from_secs(3);

/// The path on which pvedaemon checks an API token for pveproxy (which cannot read the secrets).
/// Outside `/api2`, so no Proxmox client can reach it by accident; answered to loopback peers only.
pub const TOKEN_CHECK_PATH: &str = "/corral/token-check";

/// How long pveproxy trusts a token pvedaemon confirmed.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(10);
/// Most confirmed tokens remembered.
pub const TOKEN_CACHE_MAX: usize = 1024;

/// Headers Proxmox's forwarding uses.
const PVE_CLIENT_IP: HeaderName = HeaderName::from_static("pveclientip");
const PVE_DISABLE_PROXY: HeaderName = HeaderName::from_static("pvedisableproxy");
const CSRF_HEADER: HeaderName = HeaderName::from_static("csrfpreventiontoken");

/// What the API needs to know about its server.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub role: Role,
    pub node: String,
    pub version: VersionInfo,
    pub unauthorized_delay: Duration,
    /// How pvedaemon signs new tickets (PKCS#1 v1.5 with SHA-256 unless a cluster still has
    /// Proxmox nodes that verify SHA-1 only).
    pub sign_digest: ticket::SignDigest,
}

/// A reply with what the server does around it.
#[derive(Debug)]
pub struct ApiReply {
    pub reply: Reply,
    /// The authenticated user or token, for the access log.
    pub user: Option<String>,
    /// Hold the reply until the 401 delay since the request's start has passed.
    pub delayed: bool,
}

impl ApiReply {
    fn plain(reply: Reply) -> Self {
        let delayed = reply.status == StatusCode::UNAUTHORIZED;
        ApiReply {
            reply,
            user: None,
            delayed,
        }
    }
}

/// The API of one daemon.
#[derive(Debug)]
pub struct ApiService {
    settings: ApiSettings,
    access: AccessFiles,
    clock: Arc<dyn WallClock>,
    /// pveproxy only: the local pvedaemon.
    daemon: Option<DaemonClient>,
    /// pveproxy only: the other nodes.
    peers: Option<Rc<Peers>>,
    /// The machine's figures for the node's status.
    status: NodeStatusReader,
    /// Where hashing, signing and key generation run.
    offload: Offload,
    tokens: RefCell<TokenCache>,
}

/// One request, as the API sees it.
#[derive(Debug)]
pub struct ApiRequest<'a> {
    pub parts: &'a Parts,
    pub body: Bytes,
    pub peer: SocketAddr,
    /// Whether the connection's settings let replies be compressed (COMPRESSION): decides the
    /// Accept-Encoding forwarded to pvedaemon.
    pub compression: bool,
}

impl ApiService {
    pub fn new(
        settings: ApiSettings,
        access: AccessFiles,
        clock: Arc<dyn WallClock>,
        daemon: Option<DaemonClient>,
    ) -> Self {
        ApiService {
            settings,
            access,
            clock,
            daemon,
            peers: None,
            status: NodeStatusReader::new(Box::new(RealHost)),
            offload: Offload::default(),
            tokens: RefCell::default(),
        }
    }

    /// pveproxy: forward calls for other nodes through `peers`, and take their health from it.
    pub fn with_peers(mut self, peers: Rc<Peers>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// Read the node's status from `host` instead of this machine (the simulator).
    pub fn with_host(mut self, host: Box<dyn Host>) -> Self {
        self.status = NodeStatusReader::new(host);
        self
    }

    /// Run hashing, signing and key generation as `offload` says (the simulator: inline).
    pub fn with_offload(mut self, offload: Offload) -> Self {
        self.offload = offload;
        self.access.set_offload(offload);
        self
    }

    pub(crate) fn offload(&self) -> Offload {
        self.offload
    }

    /// The other nodes, when this is pveproxy with a cluster.
    pub fn peers(&self) -> Option<&Rc<Peers>> {
        self.peers.as_ref()
    }

    /// The cluster's members (cached `corosync.conf`; this node alone without one).
    pub fn membership(&self) -> Result<Rc<Membership>, String> {
        self.access.membership(&self.settings.node)
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.settings
    }

    pub(crate) fn access(&self) -> &AccessFiles {
        &self.access
    }

    pub(crate) fn clock_now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Answers a request that passed the head checks.
    pub async fn handle(&self, request: ApiRequest<'_>) -> ApiReply {
        let parts = request.parts;
        if self.settings.role == Role::Daemon && parts.uri.path() == TOKEN_CHECK_PATH {
            return ApiReply {
                reply: self.answer_token_check(&request),
                user: None,
                delayed: false,
            };
        }
        match route(&parts.method, parts.uri.path()) {
            Ok(Target::Index) => ApiReply::plain(index_page(&self.settings.node)),
            Ok(Target::Api { format, path }) => self.handle_api(&request, format, &path).await,
            Err(error) => ApiReply::plain(error.reply()),
        }
    }

    /// Proxmox's order: authenticate, then the format (501 "no formatter"), then the
    /// parameters (501 with the parser's error), then core's decision.
    async fn handle_api(
        &self,
        request: &ApiRequest<'_>,
        format: Result<Format, RouteError>,
        path: &str,
    ) -> ApiReply {
        let parts = request.parts;
        let client_ip = self.client_ip(request);
        let credentials = Credentials::from_headers(&parts.headers);
        let authid = if api::needs_auth(&parts.method, path) {
            match self.authenticate(parts, &credentials).await {
                Ok(authid) => Some(authid),
                Err(NotAuthenticated::Refused(failure)) => return unauthorized(failure, client_ip),
                Err(NotAuthenticated::CannotCheck(detail)) => return cannot_check(&detail),
            }
        } else {
            None
        };
        let early = |reply: Reply| ApiReply {
            reply,
            user: authid.clone(),
            delayed: false,
        };
        let format = match format {
            Ok(format) => format,
            Err(error) => return early(error.reply()),
        };
        let params = match extract_params(parts, &request.body) {
            Ok(params) => params,
            Err(error) => return early(generic_error(error.status, &error.message)),
        };
        let user = self.access.user_config();
        let call = Call {
            method: &parts.method,
            path,
            params: &params,
            caller: Caller {
                authid: authid.as_deref(),
                token: matches!(
                    credentials,
                    Credentials::Token { .. } | Credentials::InvalidToken
                ),
            },
            node: &self.settings.node,
            role: self.settings.role,
            forwarded: parts.headers.contains_key(PVE_DISABLE_PROXY),
        };
        let decision = api::decide(&call, &*user);
        let (reply, delayed) = match decision {
            Decision::Refuse(error) => (render(format, Err(error)), false),
            // A relayed 401 already waited in pvedaemon.
            Decision::ToDaemon => {
                let reply = self
                    .forward_to_daemon(request, &credentials, &params, budget_of(authid.as_deref()))
                    .await;
                (reply, false)
            }
            Decision::ToNode(node) => match self
                .forward_to_node(request, &credentials, &params, &node)
                .await
            {
                Ok(reply) => (reply, false),
                Err(error) => (render(format, Err(error)), false),
            },
            Decision::Run { method, params } => {
                let result = match api::schema::verify(&params, method.params) {
                    Ok(()) => {
                        let context = RunContext {
                            authid: authid.as_deref(),
                            client_ip,
                            params: &params,
                        };
                        self.run(method.handler, context).await
                    }
                    Err(error) => Err(error),
                };
                // Decided before rendering, as Proxmox does: extjs answers a failed login
                // with 200, and it must wait all the same.
                let unauthorized =
                    matches!(&result, Err(error) if error.status == StatusCode::UNAUTHORIZED);
                (render(format, result), unauthorized)
            }
        };
        ApiReply {
            reply,
            user: authid,
            delayed,
        }
    }

    /// The peer, or for pvedaemon the address pveproxy vouches for in `PVEClientIP` — taken
    /// only from a loopback peer (any other peer could claim any address).
    fn client_ip(&self, request: &ApiRequest<'_>) -> IpAddr {
        let peer = request.peer.ip();
        if self.settings.role != Role::Daemon || !is_loopback(peer) {
            return peer;
        }
        request
            .parts
            .headers
            .get(PVE_CLIENT_IP)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(peer)
    }
}

/// A 401 for a failed authentication, logged as Proxmox logs it. Proxmox answers it as a
/// generic error, in no format.
fn unauthorized(failure: AuthFailure, client_ip: IpAddr) -> ApiReply {
    // The detail may quote a client's text (a token id): escaped, so no one can forge a line.
    tracing::info!(
        "authentication failure; rhost={client_ip} msg={}",
        failure.detail().escape_debug()
    );
    ApiReply {
        reply: generic_error(StatusCode::UNAUTHORIZED, failure.message()),
        user: None,
        delayed: true,
    }
}

/// The forwarding budget of a call: anonymous ones (logins) wait apart, as pvedaemon may hold
/// each for the 401 delay.
fn budget_of(authid: Option<&str>) -> Budget {
    if authid.is_some() {
        Budget::Authenticated
    } else {
        Budget::Anonymous
    }
}

/// Why a request is not authenticated.
#[derive(Debug)]
enum NotAuthenticated {
    /// The credentials do not check out: 401 after the delay.
    Refused(AuthFailure),
    /// pveproxy could not ask pvedaemon about a token (it is restarting, say).
    CannotCheck(String),
}

impl From<AuthFailure> for NotAuthenticated {
    fn from(failure: AuthFailure) -> Self {
        NotAuthenticated::Refused(failure)
    }
}

/// A 500, not a 401, when a token could not be checked: a client must not take a valid token
/// for a revoked one while pvedaemon restarts. Not delayed: nothing was refused.
fn cannot_check(detail: &str) -> ApiReply {
    tracing::warn!("cannot check an API token: {}", detail.escape_debug());
    ApiReply::plain(generic_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "unable to check the API token - pvedaemon not reachable",
    ))
}

/// Loopback, also as an IPv4-mapped IPv6 address (a dual-stack socket's view of 127.0.0.1).
fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// The query and body parameters. A body that does not parse is a 501 with no format, as
/// Proxmox answers any error its `handle_api2_request` did not expect.
fn extract_params(parts: &Parts, body: &[u8]) -> Result<Params, ApiError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes);
    let encoding = BodyEncoding::from_content_type(content_type);
    api::params::extract(parts.uri.query(), body, encoding)
        .map_err(|e| ApiError::new(StatusCode::NOT_IMPLEMENTED, format!("{e}\n")))
}

/// What a handler is told about its call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunContext<'a> {
    pub(crate) authid: Option<&'a str>,
    pub(crate) client_ip: IpAddr,
    pub(crate) params: &'a Params,
}

/// API tokens pvedaemon confirmed recently: (token id, SHA-256 of the secret) → valid until.
#[derive(Debug, Default)]
struct TokenCache(BTreeMap<(String, [u8; 32]), Instant>);

impl TokenCache {
    fn confirmed(&mut self, tokenid: &str, secret: &str) -> bool {
        let key = (tokenid.to_owned(), secret_digest(secret));
        match self.0.get(&key) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                self.0.remove(&key);
                false
            }
            None => false,
        }
    }

    fn remember(&mut self, tokenid: &str, secret: &str) {
        let now = Instant::now();
        if self.0.len() >= TOKEN_CACHE_MAX {
            self.0.retain(|_, until| *until > now);
        }
        if self.0.len() >= TOKEN_CACHE_MAX {
            // Still full of live entries: forget the one that expires first.
            if let Some(oldest) = self
                .0
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| k.clone())
            {
                self.0.remove(&oldest);
            }
        }
        let key = (tokenid.to_owned(), secret_digest(secret));
        self.0.insert(key, now + TOKEN_CACHE_TTL);
    }
}

fn secret_digest(secret: &str) -> [u8; 32] {
    openssl::sha::sha256(secret.as_bytes())
}

impl ApiService {
    async fn forward_to_daemon(
        &self,
        request: &ApiRequest<'_>,
        credentials: &Credentials,
        params: &Params,
        budget: Budget,
    ) -> Reply {
        let Some(daemon) = &self.daemon else {
            return generic_error(StatusCode::INTERNAL_SERVER_ERROR, "proxy not allowed");
        };
        daemon
            .send(forward_request(request, credentials, params, budget))
            .await
    }

    /// A `proxyto` call for another node, sent to that node's pveproxy as Proxmox sends it
    /// (the same headers and body as to pvedaemon). Its reply is relayed as is.
    async fn forward_to_node(
        &self,
        request: &ApiRequest<'_>,
        credentials: &Credentials,
        params: &Params,
        node: &str,
    ) -> Result<Reply, ApiError> {
        let no_address = |why: String| {
            server_error(format!(
                "unable to get remote IP address for node '{node}': {why}"
            ))
        };
        let Some(peers) = &self.peers else {
            return Err(no_address(
                "this daemon does not forward to other nodes".to_owned(),
            ));
        };
        let membership = self.membership().map_err(no_address)?;
        let addr = peers
            .address(&membership, node)
            .await
            .map_err(|e| no_address(e.to_string()))?;
        let forward = forward_request(request, credentials, params, Budget::Authenticated);
        Ok(peers.forward(node, addr, forward).await)
    }

    async fn run(&self, handler: Handler, context: RunContext<'_>) -> Result<Value, ApiError> {
        match handler {
            Handler::Version => Ok(corral_core::http::api::version_data(&self.settings.version)),
            Handler::TicketPage => Ok(Value::Null),
            Handler::Domains => Ok(self.access.domains().api_index()),
            Handler::Permissions => self.permissions(context),
            Handler::NodeTime => Ok(self.node_time()),
            Handler::SetTimezone => self.set_timezone(context),
            Handler::Nodes => self.nodes_index(context),
            Handler::NodeStatus => self.node_status(),
            Handler::ClusterStatus => self.cluster_status(),
            Handler::CreateTicket => self.create_ticket(context).await,
        }
    }

    /// `GET /nodes/{node}/time`: `{localtime, time, timezone}` (Proxmox `PVE::API2::Nodes`).
    fn node_time(&self) -> Value {
        let now = self.clock.now();
        let offset = self.clock.utc_offset_secs(now);
        let timezone = self.access.timezone();
        serde_json::json!({
            "localtime": now.0 + i64::from(offset),
            "time": now.0,
            "timezone": timezone.as_str(),
        })
    }
}

impl ApiService {
    /// `PUT /nodes/{node}/time` (Proxmox `PVE::API2::Nodes` `set_timezone`, INotify's
    /// `write_etc_timezone`): the zone must exist in the system's zone database; then
    /// `/etc/timezone` names it and `/etc/localtime` links to it.
    fn set_timezone(&self, context: RunContext<'_>) -> Result<Value, ApiError> {
        let zone = context
            .params
            .get("timezone")
            .and_then(api::params::as_text)
            .unwrap_or_default();
        if !self.status.has_zone(&zone) {
            let errors = BTreeMap::from([(
                "timezone".to_owned(),
                format!("No such timezone (no {}/{zone})", crate::host::ZONEINFO_DIR),
            )]);
            return Err(ApiError::parameters(errors));
        }
        let files = self.access.files();
        let root = self.access.root();
        let write_failed = |e: crate::files::WriteError| server_error(e.to_string());
        // The link first: if it cannot be made, `/etc/timezone` still names the zone in use.
        let target = format!("{}/{zone}", crate::host::ZONEINFO_DIR);
        files
            .symlink(target.as_ref(), &root.path(LOCALTIME))
            .map_err(write_failed)?;
        files
            .write_atomic(
                &root.path(crate::access::TIMEZONE),
                format!("{zone}\n").as_bytes(),
                crate::files::Access::Public,
            )
            .map_err(write_failed)?;
        self.access.forget_timezone();
        tracing::info!("time zone set to {zone}");
        Ok(Value::Null)
    }
}

/// The link to the zone in use.
const LOCALTIME: &str = "/etc/localtime";

/// The request as Proxmox forwards it: only these headers, the body re-encoded from the
/// parameters in the encoding the client used.
fn forward_request(
    request: &ApiRequest<'_>,
    credentials: &Credentials,
    params: &Params,
    budget: Budget,
) -> Forward {
    let parts = request.parts;
    let mut headers = vec![(PVE_DISABLE_PROXY, HeaderValue::from_static("true"))];
    if let Ok(ip) = HeaderValue::from_str(&request.peer.ip().to_string()) {
        headers.push((PVE_CLIENT_IP, ip));
    }
    headers.extend(credentials.forward_header());
    if let Some(token) = parts.headers.get(CSRF_HEADER) {
        headers.push((CSRF_HEADER, token.clone()));
    }
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.push((header::HOST, host.clone()));
    }
    if let Some(encoding) = normalised_accept_encoding(parts, request.compression) {
        headers.push((header::ACCEPT_ENCODING, HeaderValue::from_static(encoding)));
    }
    let body = if parts.method == Method::POST || parts.method == Method::PUT {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes);
        let encoding = BodyEncoding::from_content_type(content_type);
        headers.push((
            header::CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        ));
        Bytes::from(api::params::encode(params, encoding))
    } else {
        Bytes::new()
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    Forward {
        method: parts.method.clone(),
        target,
        headers,
        body,
        budget,
    }
}

/// `gzip` or `deflate` when the client takes it and compression is on; nothing otherwise.
fn normalised_accept_encoding(parts: &Parts, compression: bool) -> Option<&'static str> {
    if !compression {
        return None;
    }
    let accepted = parts.headers.get(header::ACCEPT_ENCODING)?.as_bytes();
    accepted_encoding(accepted).map(Encoding::header_value)
}

// ---------------------------------------------------------------------------------------------
// Authentication

impl ApiService {
    /// Proxmox's `auth_handler`: a ticket (then, for non-GET calls in pveproxy, the CSRF
    /// token), else an API token; the user must exist, be enabled and not expired.
    async fn authenticate(
        &self,
        parts: &Parts,
        credentials: &Credentials,
    ) -> Result<String, NotAuthenticated> {
        let now = self.clock.now();
        match credentials {
            Credentials::None => Err(AuthFailure::new("No ticket", "no ticket").into()),
            Credentials::InvalidToken => Err(AuthFailure::denied("no tokenid specified").into()),
            Credentials::Ticket(text) => {
                let userid = self.verify_ticket(text, now)?;
                if self.needs_csrf(&parts.method) {
                    self.verify_csrf(parts, &userid, now)?;
                }
                Ok(userid)
            }
            Credentials::Token { tokenid, secret } => match self.settings.role {
                Role::Daemon => Ok(self.verify_token(tokenid, secret, now)?),
                Role::Proxy => self.verify_token_remotely(tokenid, secret).await,
            },
        }
    }

    fn verify_ticket(&self, text: &str, now: UnixTime) -> Result<String, AuthFailure> {
        let invalid = AuthFailure::denied;
        // Through the reload check: a ticket from a key pair pvedaemon made in the last second
        // is accepted at once.
        let verified = self
            .access
            .verify_with_reload(|keys| ticket::verify(text, keys, now, Quorum::Quorate))?
            .map_err(|e| invalid(format!("invalid ticket: {e}")))?;
        let userid = Userid::parse(&verified.userid).map_err(|e| invalid(e.to_string()))?;
        self.access
            .user_config()
            .check_user_enabled(&userid, now)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(verified.userid)
    }

    /// pvedaemon runs as root and Proxmox skips the check there; API tokens never need it.
    fn needs_csrf(&self, method: &Method) -> bool {
        self.settings.role == Role::Proxy && *method != Method::GET
    }

    fn verify_csrf(&self, parts: &Parts, userid: &str, now: UnixTime) -> Result<(), AuthFailure> {
        let invalid =
            |detail: String| AuthFailure::new(corral_core::auth::csrf::DENIED_MESSAGE, detail);
        let secret = self.access.csrf_secret()?;
        let token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| invalid("no CSRFPreventionToken header".to_owned()))?;
        secret
            .verify(userid, token, now)
            .map_err(|e| invalid(e.to_string()))
    }

    /// pvedaemon's check of a token against `priv/token.cfg` and `user.cfg`.
    fn verify_token(
        &self,
        tokenid: &str,
        secret: &str,
        now: UnixTime,
    ) -> Result<String, AuthFailure> {
        let invalid = AuthFailure::denied;
        let token = Tokenid::parse(tokenid).map_err(|e| invalid(e.to_string()))?;
        self.access
            .user_config()
            .check_token(&token, now)
            .map_err(|e| invalid(e.to_string()))?;
        let secrets = self.access.token_secrets().map_err(invalid)?;
        if !secrets.verify(&token, secret) {
            return Err(invalid(format!("invalid token value for '{tokenid}'")));
        }
        Ok(tokenid.to_owned())
    }

    /// pveproxy cannot read token secrets: it asks pvedaemon, and remembers a yes for
    /// [`TOKEN_CACHE_TTL`].
    async fn verify_token_remotely(
        &self,
        tokenid: &str,
        secret: &str,
    ) -> Result<String, NotAuthenticated> {
        if self.tokens.borrow_mut().confirmed(tokenid, secret) {
            return Ok(tokenid.to_owned());
        }
        let Some(daemon) = &self.daemon else {
            return Err(NotAuthenticated::CannotCheck(
                "no pvedaemon to check tokens".to_owned(),
            ));
        };
        let credentials = Credentials::Token {
            tokenid: tokenid.to_owned(),
            secret: secret.to_owned(),
        };
        let forward = Forward {
            method: Method::GET,
            target: TOKEN_CHECK_PATH.to_owned(),
            headers: credentials.forward_header().into_iter().collect(),
            body: Bytes::new(),
            budget: Budget::Anonymous,
        };
        let reply = daemon.send(forward).await;
        let answer = format!("{} {}", reply.status.as_u16(), reply.reason);
        if reply.status == StatusCode::OK {
            self.tokens.borrow_mut().remember(tokenid, secret);
            Ok(tokenid.to_owned())
        } else if reply.status.is_server_error() {
            // 5xx, and the transport's 595/596/597/599: no answer about the token.
            Err(NotAuthenticated::CannotCheck(format!(
                "pvedaemon answered {answer}"
            )))
        } else {
            Err(AuthFailure::denied(format!("pvedaemon refused the token ({answer})")).into())
        }
    }

    /// [`TOKEN_CHECK_PATH`]: 200 when the token checks out, 401 otherwise; loopback peers only.
    /// The 401 does not wait here: pveproxy makes its client wait, and holding the answer would
    /// hold one of pveproxy's connections to pvedaemon for the delay. A local user who asks
    /// directly gains nothing: a secret is a random UUID (122 bits), beyond guessing.
    fn answer_token_check(&self, request: &ApiRequest<'_>) -> Reply {
        if !is_loopback(request.peer.ip()) {
            return generic_error(
                StatusCode::FORBIDDEN,
                "token checks only for the local pveproxy",
            );
        }
        let now = self.clock.now();
        match Credentials::from_headers(&request.parts.headers) {
            Credentials::Token { tokenid, secret } => {
                match self.verify_token(&tokenid, &secret, now) {
                    Ok(_) => generic_error(StatusCode::OK, "OK"),
                    Err(failure) => {
                        tracing::info!("API token refused: {}", failure.detail().escape_debug());
                        generic_error(StatusCode::UNAUTHORIZED, failure.message())
                    }
                }
            }
            _ => generic_error(StatusCode::UNAUTHORIZED, "no token"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers that need the user configuration

impl ApiService {
    /// `GET /access/permissions` (pve-access-control `AccessControl.pm`): the caller's own
    /// permissions, or another user's/token's with Sys.Audit on `/access` (a user may always see
    /// its own tokens'); with `path`, that path only.
    fn permissions(&self, context: RunContext<'_>) -> Result<Value, ApiError> {
        let caller = context.authid.unwrap_or_default();
        let config = self.access.user_config();
        let caller_id = parse_authid(caller)?;
        let target = match context.params.get("userid").and_then(api::params::as_text) {
            Some(other) => {
                let other_id = parse_authid(&other)?;
                let own_token = other_id.user() == caller_id.user() && !caller_id.is_token();
                if other != caller && !own_token {
                    check_or_403(&config, &caller_id, "/access", "Sys.Audit")?;
                }
                other_id
            }
            None => caller_id,
        };
        let data = match context.params.get("path").and_then(api::params::as_text) {
            Some(path) => {
                let perms = config.permissions(&target, &path);
                serde_json::json!({ path: bool_map(perms) })
            }
            None => {
                let all = config.effective_permissions(&target);
                Value::Object(
                    all.into_iter()
                        .map(|(path, perms)| (path, bool_map(perms)))
                        .collect(),
                )
            }
        };
        Ok(data)
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster views

impl ApiService {
    /// Runs `f` with the membership and the peers' health (probed by pveproxy; pvedaemon knows
    /// only itself to be online).
    fn with_view<T>(&self, f: impl FnOnce(&PeerView<'_>) -> T) -> Result<T, ApiError> {
        let membership = self.membership().map_err(server_error)?;
        let local = self.settings.node.as_str();
        let view = |health: &PeerHealth| {
            f(&PeerView {
                membership: &membership,
                local,
                health,
            })
        };
        Ok(match &self.peers {
            Some(peers) => peers.with_health(&membership, view),
            // Without probes (pvedaemon) nothing is known of the other nodes.
            None => view(&PeerHealth::new(local, HealthSettings::default())),
        })
    }

    /// `GET /nodes`: every member, whether it is online, its certificate's fingerprint, and
    /// (with Sys.Audit on the node) this node's own figures; other nodes' figures come with
    /// pvestatd's broadcast.
    fn nodes_index(&self, context: RunContext<'_>) -> Result<Value, ApiError> {
        let config = self.access.user_config();
        let caller = context.authid.and_then(|id| Authid::parse(id).ok());
        let local = self.settings.node.as_str();
        let fingerprint = |node: &str| {
            crate::pinning::node_fingerprint(self.access.files(), self.access.root(), node).ok()
        };
        let stats = |node: &str| {
            if node != local {
                return None;
            }
            self.status
                .stats()
                .map_err(|e| tracing::warn!("node figures: {e}"))
                .ok()
        };
        let can_audit = |node: &str| {
            caller.as_ref().is_some_and(|who| {
                config.check(who, &format!("/nodes/{node}"), &["Sys.Audit"], false)
            })
        };
        let nodes = self.with_view(|view| {
            corral_core::cluster::views::nodes_index(view, &fingerprint, &stats, &can_audit)
        })?;
        Ok(Value::Array(nodes))
    }

    /// `GET /cluster/status`: the cluster (name, size, config version, quorum) and each member.
    fn cluster_status(&self) -> Result<Value, ApiError> {
        let entries = self.with_view(|view| {
            let address = |node: &str| {
                // An address, as Proxmox shows; a host name in `ring0_addr` is left out.
                let member = view.membership.member(node)?;
                let addr = member.ring0_addr.trim();
                let bare = addr.trim_start_matches('[').trim_end_matches(']');
                bare.parse::<IpAddr>().ok().map(|ip| ip.to_string())
            };
            corral_core::cluster::views::cluster_status(view, &address)
        })?;
        Ok(Value::Array(entries))
    }

    /// `GET /nodes/{node}/status` (here: the call was forwarded to this node if it named
    /// another).
    fn node_status(&self) -> Result<Value, ApiError> {
        let version = &self.settings.version;
        let pveversion = format!("pve-manager/{}/{}", version.version, version.repoid);
        self.status
            .status(&pveversion)
            .map_err(|e| server_error(e.to_string()))
    }
}

fn server_error(message: String) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{message}\n"))
}

/// Proxmox prints each privilege's propagate flag as 1 or 0.
fn bool_map(perms: BTreeMap<String, bool>) -> Value {
    Value::Object(
        perms
            .into_iter()
            .map(|(name, propagate)| (name, Value::from(u8::from(propagate))))
            .collect(),
    )
}

fn parse_authid(text: &str) -> Result<Authid, ApiError> {
    Authid::parse(text).map_err(|e| {
        let errors = BTreeMap::from([("userid".to_owned(), e.to_string())]);
        ApiError::parameters(errors)
    })
}

fn check_or_403(
    config: &UserConfig,
    who: &Authid,
    path: &str,
    privilege: &str,
) -> Result<(), ApiError> {
    if config.check(who, path, &[privilege], false) {
        Ok(())
    } else {
        Err(ApiError::permission_denied(&format!("{path}, {privilege}")))
    }
}
