//! A simulated API client: real HTTPS (rustls, verifying the node against the cluster CA on
//! the simulated clock) and HTTP/1.1 (hyper) over turmoil's TCP, to a node's pveproxy on port
//! 8006, with Proxmox's credentials (the `PVEAuthCookie` ticket, the `CSRFPreventionToken`
//! header). Every call opens a fresh connection and is written to the trace when it ends.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::api::params::{self, BodyEncoding, Params};
use corral_io::clock::RustlsTime;
use corral_io::forward::io_reason;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::time::Instant;

use crate::SimClock;
use crate::fixtures;
use crate::trace::Trace;

/// pveproxy's port on every node.
pub const PVEPROXY_PORT: u16 = 8006;

/// How long a client waits for a whole call: longer than pveproxy's 30 s forwarding timeout,
/// so a node's own 595/596 answers arrive first.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(45);

/// Node `pveN`'s number: `N` (from 1).
pub fn node_number(node: &str) -> Option<u8> {
    let n: u8 = node.strip_prefix("pve")?.parse().ok()?;
    (n > 0).then_some(n)
}

/// Node `pveN`'s address: `10.0.0.N`.
pub fn node_ip(node: &str) -> Option<IpAddr> {
    node_number(node).map(|n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
}

/// One API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path and query, e.g. `/api2/json/nodes/pve2/status`.
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A form body (`application/x-www-form-urlencoded`).
    pub form: Option<String>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            headers: Vec::new(),
            form: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Call::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Call::new(Method::POST, path)
    }

    pub fn put(path: impl Into<String>) -> Self {
        Call::new(Method::PUT, path)
    }

    /// Adds a header (a name or value that is not valid HTTP is a bug in the scenario).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// The ticket, as the `PVEAuthCookie` cookie.
    pub fn ticket(self, login: &Login) -> Self {
        let cookie = format!("PVEAuthCookie={}", login.ticket.replace(':', "%3A"));
        self.header("Cookie", &cookie)
    }

    /// The ticket and its CSRF token: what a browser sends on every call but GET.
    pub fn ticket_and_csrf(self, login: &Login) -> Self {
        let csrf = login.csrf.clone();
        self.ticket(login).header("CSRFPreventionToken", &csrf)
    }

    /// A form body of `(name, value)` pairs in their order, each encoded as pveproxy encodes
    /// a forwarded form (`corral_core::api::params::encode`).
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded: Vec<String> = fields
            .iter()
            .map(|&(name, value)| {
                let pair = Params::from([(name.to_owned(), Value::from(value))]);
                String::from_utf8_lossy(&params::encode(&pair, BodyEncoding::Form)).into_owned()
            })
            .collect();
        self.form = Some(encoded.join("&"));
        self
    }
}

/// A reply as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,
    /// Simulated time from the connect to the reply's end.
    pub took: Duration,
}

impl Reply {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body's `data`.
    pub fn data(&self) -> Value {
        self.json()["data"].clone()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.status,
            self.reason,
            String::from_utf8_lossy(&self.body)
        )
    }
}

/// A call that got no HTTP reply, by the phase that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    Connect(String),
    Tls(String),
    Http(String),
    /// No reply within the client's timeout ([`CALL_TIMEOUT`] unless set otherwise).
    TimedOut(Duration),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Connect(e) => write!(f, "connect: {e}"),
            CallError::Tls(e) => write!(f, "tls: {e}"),
            CallError::Http(e) => write!(f, "http: {e}"),
            CallError::TimedOut(after) => write!(f, "no reply within {}ms", after.as_millis()),
        }
    }
}

impl std::error::Error for CallError {}

/// What a login gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub ticket: String,
    pub csrf: String,
}

impl Login {
    /// The credentials a login's reply gives: a 200 with the username, the ticket and the
    /// CSRF token.
    pub fn from_reply(reply: &Reply) -> Option<Login> {
        if reply.status != 200 {
            return None;
        }
        let data = reply.data();
        let text = |key: &str| data[key].as_str().map(str::to_owned);
        Some(Login {
            username: text("username")?,
            ticket: text("ticket")?,
            csrf: text("CSRFPreventionToken")?,
        })
    }
}

/// A client host's handle: calls any node, as the named client, and traces each call.
#[derive(Clone)]
pub struct ApiClient {
    name: String,
    tls: tokio_rustls::TlsConnector,
    trace: Trace,
    timeout: Duration,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client named `name` (in the trace), trusting the cluster CA.
    pub fn new(name: &str, trace: Trace) -> Self {
        ApiClient {
            name: name.to_owned(),
            tls: connector(),
            trace,
            timeout: CALL_TIMEOUT,
        }
    }

    /// The same client, giving up on a call after `timeout` (turmoil's TCP does not resend:
    /// a message a failing link lost leaves the call waiting).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The trace this client writes to (a scenario may add its own lines).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Writes `event` to the trace as this client, now.
    pub fn note(&self, event: impl fmt::Display) {
        self.trace.event(&self.name, event);
    }

    /// Waits until the simulation's time reaches `at` (at once when it has).
    pub async fn until(&self, at: Duration) {
        let now = crate::trace::now();
        tokio::time::sleep(at.saturating_sub(now)).await;
    }

    /// Sends `call` to node `via`'s pveproxy and traces the outcome.
    pub async fn send(&self, via: &str, call: Call) -> Result<Reply, CallError> {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(self.timeout, self.exchange(via, &call)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(CallError::TimedOut(self.timeout)),
        };
        let took = started.elapsed();
        let outcome = outcome.map(|(status, reason, body)| Reply {
            status,
            reason,
            body,
            took,
        });
        self.note(format_args!(
            "{} {} via {via} -> {} [{}ms]",
            call.method,
            call.path,
            outcome_text(&outcome),
            took.as_millis()
        ));
        outcome
    }

    /// `GET path` via `via`, with `login`'s ticket when given.
    pub async fn get(
        &self,
        via: &str,
        path: &str,
        login: Option<&Login>,
    ) -> Result<Reply, CallError> {
        let call = Call::get(path);
        let call = match login {
            Some(login) => call.ticket(login),
            None => call,
        };
        self.send(via, call).await
    }

    /// `POST /access/ticket` via `via`: the reply, and the ticket when it gave one.
    pub async fn login(
        &self,
        via: &str,
        username: &str,
        password: &str,
    ) -> Result<(Reply, Option<Login>), CallError> {
        let call = Call::post("/api2/json/access/ticket")
            .form(&[("username", username), ("password", password)]);
        let reply = self.send(via, call).await?;
        let login = Login::from_reply(&reply);
        Ok((reply, login))
    }

    /// Logs in as the fixtures' administrator via `via`.
    pub async fn login_admin(&self, via: &str) -> Result<Login, CallError> {
        let (reply, login) = self
            .login(via, fixtures::ADMIN, fixtures::ADMIN_PASSWORD)
            .await?;
        login.ok_or_else(|| CallError::Http(format!("the admin's login was refused: {reply}")))
    }

    async fn exchange(&self, via: &str, call: &Call) -> Result<(u16, String, Vec<u8>), CallError> {
        let ip = node_ip(via).ok_or_else(|| CallError::Connect(format!("no node '{via}'")))?;
        let addr = SocketAddr::new(ip, PVEPROXY_PORT);
        let tcp = turmoil::net::TcpStream::connect(addr)
            .await
            .map_err(|e| CallError::Connect(io_reason(&crate::os_like(e))))?;
        let tls = self
            .tls
            .connect(ServerName::IpAddress(ip.into()), tcp)
            .await
            .map_err(|e| CallError::Tls(io_reason(&e)))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        // The connection ends with the call (how is the reply's business); a call that fails,
        // or is dropped when it times out, takes its connection along.
        let connection = AbortOnDrop(Some(tokio::task::spawn_local(async move {
            let _ = connection.await;
        })));
        let request = build(call, addr)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        let status = response.status();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|reason| String::from_utf8_lossy(reason.as_bytes()).into_owned())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CallError::Http(e.to_string()))?
            .to_bytes();
        // The whole reply is in: the connection closes by itself (`Connection: close`).
        connection.detach();
        Ok((status.as_u16(), reason, body.to_vec()))
    }
}

/// A call's outcome as the trace tells it: `200 OK`, or `failed: <why>`.
pub fn outcome_text(outcome: &Result<Reply, CallError>) -> String {
    match outcome {
        Ok(reply) => format!("{} {}", reply.status, reply.reason),
        Err(error) => format!("failed: {error}"),
    }
}

/// A task aborted when this is dropped, unless detached first.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    fn detach(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

fn build(call: &Call, addr: SocketAddr) -> Result<Request<Full<Bytes>>, CallError> {
    let mut builder = Request::builder()
        .method(call.method.clone())
        .uri(call.path.as_str())
        .header(header::HOST, addr.to_string())
        .header(header::CONNECTION, "close");
    for (name, value) in &call.headers {
        builder = builder.header(name, value);
    }
    let body = match &call.form {
        Some(form) => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Bytes::from(form.clone())
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .map_err(|e| CallError::Http(format!("cannot build the request: {e}")))
}

/// A TLS client trusting the cluster CA, on the simulated clock.
fn connector() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(fixtures::CA_PEM.as_bytes())
        .expect("the fixture CA is PEM (checked by tests/fixtures.rs)");
    roots
        .add(ca)
        .expect("the fixture CA is a trust anchor (checked by tests/fixtures.rs)");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let time = Arc::new(RustlsTime(Arc::new(SimClock)));
    let config = rustls::ClientConfig::builder_with_details(provider, time)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_at_10_0_0_n_and_forms_are_encoded() {
        assert_eq!(node_ip("pve3"), Some("10.0.0.3".parse().expect("literal")));
        assert_eq!(node_ip("pve0"), None);
        assert_eq!(node_ip("client1"), None);
        let call =
            Call::put("/x").form(&[("timezone", "Europe/Vienna"), ("a b", "c"), ("a b", "ä")]);
        assert_eq!(
            call.form.as_deref(),
            Some("timezone=Europe%2FVienna&a%20b=c&a%20b=%C3%A4")
        );
    }
}
