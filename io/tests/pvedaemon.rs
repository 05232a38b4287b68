//! pvedaemon's API, and pveproxy forwarding protected calls to it, as a client sees them:
//!
//! 1. pvedaemon alone (its [`ApiService`] called directly, any peer address): PVEClientIP is
//!    believed from loopback peers only; API tokens with privilege separation on and off; a
//!    token on an `allowtoken=0` method; pvedaemon never proxies further.
//! 2. pveproxy → a real pvedaemon server on loopback: login with a form or a JSON body,
//!    protected calls with the ticket, tokens checked by pvedaemon, the client address carried.
//! 3. pveproxy → a scripted fake daemon on loopback: exactly what is forwarded, the reply
//!    relayed as is, and Proxmox's 595/596/597/599 for each way the transport can fail.
//!
//! The ticket keys are core's test keys (`core/src/auth/testdata`), so no RSA key is generated.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::api::Role;
use corral_core::auth::csrf::CsrfSecret;
use corral_core::auth::keys::SigningKey;
use corral_core::auth::ticket::{self, SignDigest};
use corral_core::http::Reply;
use corral_core::http::api::VersionInfo;
use corral_core::http::http::{Request, request::Parts};
use corral_core::password::{Salt, hash_sha256};
use corral_core::time::UnixTime;
use corral_io::access::{AccessFiles, SHADOW_CFG, TOKEN_CFG, USER_CFG};
use corral_io::access_log::NullLog;
use corral_io::api::{ApiReply, ApiRequest, ApiService, ApiSettings};
use corral_io::authkey::{AUTHKEY_PRIVATE, AUTHKEY_PUBLIC, PRIVATE_MODE, SHARED_MODE, WWW_KEY};
use corral_io::clock::{ManualClock, WallClock};
use corral_io::files::{MemFs, Root};
use corral_io::forward::{DaemonClient, REQUESTS_MAX, SILENCE_MAX};
use corral_io::net::{Network, TokioNet};
use corral_io::proxy::{ProxyServer, ProxySettings};
use corral_io::testing::logged;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::{header, run, status};

const NODE: &str = "pve1";
/// 2026-11-24 21:30:00 UTC.
const NOW: UnixTime = UnixTime(1_795_555_800);

const AUTHKEY: &[u8] = include_bytes!("../../core/src/auth/testdata/key-a.pem");
const AUTHKEY_PUB: &[u8] = include_bytes!("../../core/src/auth/testdata/key-a.pub");
const WWW_KEY_FILE: &[u8] = include_bytes!("../../core/src/auth/testdata/key-b.pem");

const ALICE: &str = "alice@pve";
const ALICE_PASSWORD: &str = "correct horse battery";
/// alice may audit everything; her `narrow` token (privilege separation on) has PVESysAdmin
/// on the node only, which her own rights cut down to auditing; `full` (privsep off) has all
/// of hers; `empty` (privsep on) has nothing of its own.
const USER_CFG_TEXT: &str = "\
user:root@pam:1:0:::::
user:alice@pve:1:0:Alice::::
token:alice@pve!full:0:0::
token:alice@pve!narrow:0:1::
token:alice@pve!empty:0:1::
acl:1:/:alice@pve:PVEAuditor:
acl:1:/nodes/pve1:alice@pve!narrow:PVESysAdmin:
";
const FULL_TOKEN: &str = "alice@pve!full";
const NARROW_TOKEN: &str = "alice@pve!narrow";
const EMPTY_TOKEN: &str = "alice@pve!empty";
const TOKEN_SECRET: &str = "5a9e2e4c-33c1-4d5e-9f2a-0e6b7c8d9f10";

// ---------------------------------------------------------------------------------------------
// The node's files and the two services

/// Always [`NOW`], in UTC.
fn clock() -> Arc<dyn WallClock> {
    Arc::new(ManualClock::new(NOW))
}

/// `/etc/pve` as pvedaemon leaves it: keys, users, tokens, alice's password.
fn node_files() -> MemFs {
    let files = MemFs::new(clock());
    files.insert(AUTHKEY_PRIVATE, AUTHKEY, PRIVATE_MODE);
    files.insert(AUTHKEY_PUBLIC, AUTHKEY_PUB, SHARED_MODE);
    files.insert(WWW_KEY, WWW_KEY_FILE, SHARED_MODE);
    files.insert(USER_CFG, USER_CFG_TEXT, SHARED_MODE);
    let tokens: String = [FULL_TOKEN, NARROW_TOKEN, EMPTY_TOKEN]
        .iter()
        .map(|token| format!("{token} {TOKEN_SECRET}\n"))
        .collect();
    files.insert(TOKEN_CFG, tokens, PRIVATE_MODE);
    let salt = Salt::new("testsalt").expect("a valid salt");
    let hash = hash_sha256(ALICE_PASSWORD, &salt).expect("a short password");
    files.insert(SHADOW_CFG, format!("{ALICE}:{hash}:\n"), PRIVATE_MODE);
    files
}

fn settings(role: Role) -> ApiSettings {
    ApiSettings {
        role,
        node: NODE.to_owned(),
        version: VersionInfo {
            version: "9.1.1".to_owned(),
            release: "9.1".to_owned(),
            repoid: "42d4b0f1".to_owned(),
        },
        unauthorized_delay: Duration::ZERO,
        sign_digest: SignDigest::Sha256,
    }
}

fn service(role: Role, files: &MemFs, daemon: Option<DaemonClient>) -> ApiService {
    let access = AccessFiles::new(Rc::new(files.clone()), Root::default()).with_ttl(Duration::ZERO);
    ApiService::new(settings(role), access, clock(), daemon)
}

fn pvedaemon(files: &MemFs) -> ApiService {
    service(Role::Daemon, files, None)
}

fn pveproxy(files: &MemFs, daemon: SocketAddr) -> ApiService {
    let client = DaemonClient::new(daemon, Rc::new(TokioNet));
    service(Role::Proxy, files, Some(client))
}

/// A ticket of `userid` at [`NOW`], as a cookie value.
fn ticket_of(userid: &str) -> String {
    let key = SigningKey::from_pem(AUTHKEY).expect("test key A");
    ticket::sign(userid, NOW, &key, SignDigest::Sha256).expect("a ticket")
}

fn csrf_token_of(userid: &str) -> String {
    let secret = CsrfSecret::from_key_file(WWW_KEY_FILE).expect("test key B");
    secret.token(userid, NOW).expect("a CSRF token")
}

fn token_header(tokenid: &str, secret: &str) -> (&'static str, String) {
    ("authorization", format!("PVEAPIToken={tokenid}={secret}"))
}

fn cookie_header(userid: &str) -> (&'static str, String) {
    ("cookie", format!("PVEAuthCookie={}", ticket_of(userid)))
}

// ---------------------------------------------------------------------------------------------
// Requests, replies and the log

fn parts(method: &str, target: &str, headers: &[(&str, String)]) -> Parts {
    let mut builder = Request::builder().method(method).uri(target);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let (parts, ()) = builder.body(()).expect("a valid request").into_parts();
    parts
}

/// One request from `peer`, answered by `api`: the reply and whether it waits for the 401
/// delay.
async fn answer(
    api: &ApiService,
    peer: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &str,
) -> ApiReply {
    let parts = parts(method, target, headers);
    let request = ApiRequest {
        parts: &parts,
        body: Bytes::copy_from_slice(body.as_bytes()),
        peer,
        compression: true,
    };
    api.handle(request).await
}

/// The reply to one request from `peer`.
async fn ask(
    api: &ApiService,
    peer: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Reply {
    answer(api, peer, method, target, headers, body).await.reply
}

fn loopback_peer() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 41_000))
}

fn remote_peer() -> SocketAddr {
    SocketAddr::from(([198, 51, 100, 7], 41_000))
}

fn data(reply: &Reply) -> Value {
    assert_eq!(reply.status.as_u16(), 200, "{reply:?}");
    let body: Value = serde_json::from_slice(&reply.body).expect("a JSON body");
    body["data"].clone()
}

const LOGIN: &str = "/api2/json/access/ticket";
const PERMISSIONS: &str = "/api2/json/access/permissions";
const NODE_TIME: &str = "/api2/json/nodes/pve1/time";
/// Proxmox's 403 for an API token on a method that takes none (its status line).
const TOKEN_REFUSED: (u16, &str) = (
    403,
    "Permission check failed (URI '/access/ticket' not available with API token, need proper \
     ticket.",
);

fn form_header() -> (&'static str, String) {
    (
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    )
}

fn wrong_login_body() -> String {
    format!("username={ALICE}&password=wrong")
}

/// alice's login with a wrong password, from `peer`.
async fn failed_login(api: &ApiService, peer: SocketAddr) -> Reply {
    let headers = [form_header()];
    ask(api, peer, "POST", LOGIN, &headers, &wrong_login_body()).await
}

// ---------------------------------------------------------------------------------------------
// 1. pvedaemon alone

/// Only pveproxy on the same host can vouch for a client's address; anyone else who can reach
/// pvedaemon is logged as who they are.
#[test]
fn pvedaemon_believes_pveclientip_from_loopback_peers_only() {
    let api = pvedaemon(&node_files());
    let login = |peer: SocketAddr, claimed: &str| {
        let headers = [form_header(), ("pveclientip", claimed.to_owned())];
        run(ask(
            &api,
            peer,
            "POST",
            LOGIN,
            &headers,
            &wrong_login_body(),
        ))
    };
    let mapped_loopback: SocketAddr = "[::ffff:127.0.0.1]:41000".parse().expect("an address");
    let (replies, log) = logged(|| {
        [
            login(remote_peer(), "127.0.0.1"),
            login(loopback_peer(), "203.0.113.9"),
            login(mapped_loopback, "2001:db8::5"),
        ]
    });
    for reply in &replies {
        assert_eq!(status(reply), (401, "authentication failure"));
    }
    let rhosts: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split("rhost=").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    assert_eq!(
        rhosts,
        ["198.51.100.7", "203.0.113.9", "2001:db8::5"],
        "{log}"
    );
}

/// extjs answers a failed login with 200 and `success: 0`; it waits all the same.
#[test]
fn a_failed_login_waits_in_every_format() {
    let api = pvedaemon(&node_files());
    for path in ["/api2/json/access/ticket", "/api2/extjs/access/ticket"] {
        let headers = [form_header()];
        let reply = run(answer(
            &api,
            loopback_peer(),
            "POST",
            path,
            &headers,
            &wrong_login_body(),
        ));
        assert!(reply.delayed, "{path}: {:?}", reply.reply);
    }
    let headers = [form_header()];
    let body = format!(
        "username={ALICE}&password={}",
        ALICE_PASSWORD.replace(' ', "+")
    );
    let reply = run(answer(
        &api,
        loopback_peer(),
        "POST",
        "/api2/extjs/access/ticket",
        &headers,
        &body,
    ));
    assert!(!reply.delayed, "a success is not delayed");
}

fn permissions_of(api: &ApiService, tokenid: &str) -> Value {
    let headers = [token_header(tokenid, TOKEN_SECRET)];
    data(&run(ask(
        api,
        loopback_peer(),
        "GET",
        PERMISSIONS,
        &headers,
        "",
    )))
}

#[test]
fn a_token_without_privilege_separation_has_its_users_privileges() {
    let api = pvedaemon(&node_files());
    let permissions = permissions_of(&api, FULL_TOKEN);
    assert_eq!(permissions["/"]["Sys.Audit"], 1, "{permissions}");
    assert_eq!(permissions["/"]["VM.Audit"], 1, "{permissions}");
    assert_eq!(permissions["/"].get("Sys.Modify"), None, "{permissions}");
}

#[test]
fn a_token_with_privilege_separation_has_its_own_acl_cut_to_its_users() {
    let api = pvedaemon(&node_files());
    let permissions = permissions_of(&api, NARROW_TOKEN);
    assert_eq!(permissions.get("/"), None, "{permissions}");
    let node = &permissions["/nodes/pve1"];
    assert_eq!(node["Sys.Audit"], 1, "{permissions}");
    // PVESysAdmin grants Sys.Modify, which alice herself does not have.
    assert_eq!(node.get("Sys.Modify"), None, "{permissions}");
    assert_eq!(node.get("Sys.Console"), None, "{permissions}");

    let time = |tokenid: &str| {
        let headers = [token_header(tokenid, TOKEN_SECRET)];
        run(ask(&api, loopback_peer(), "GET", NODE_TIME, &headers, ""))
    };
    assert_eq!(data(&time(NARROW_TOKEN))["time"], NOW.0);
    let refused = time(EMPTY_TOKEN);
    assert_eq!(
        status(&refused),
        (403, "Permission check failed (/nodes/pve1, Sys.Audit)")
    );
}

#[test]
fn a_wrong_token_secret_is_401() {
    let api = pvedaemon(&node_files());
    let headers = [token_header(FULL_TOKEN, "not-the-secret")];
    let reply = run(ask(&api, loopback_peer(), "GET", PERMISSIONS, &headers, ""));
    assert_eq!(status(&reply), (401, "authentication failure"));
}

/// pveproxy's token check: answered at once, also when refused (pveproxy makes its client
/// wait); only to loopback peers.
#[test]
fn pvedaemon_answers_token_checks_at_once_to_loopback_peers_only() {
    let api = pvedaemon(&node_files());
    let check = |peer: SocketAddr, secret: &str| {
        let headers = [token_header(FULL_TOKEN, secret)];
        run(answer(
            &api,
            peer,
            "GET",
            "/corral/token-check",
            &headers,
            "",
        ))
    };
    let good = check(loopback_peer(), TOKEN_SECRET);
    assert_eq!(good.reply.status.as_u16(), 200);
    let bad = check(loopback_peer(), "guessed");
    assert_eq!(status(&bad.reply), (401, "authentication failure"));
    assert!(!bad.delayed);
    let remote = check(remote_peer(), TOKEN_SECRET);
    assert_eq!(remote.reply.status.as_u16(), 403);
}

#[test]
fn a_token_cannot_log_in() {
    let api = pvedaemon(&node_files());
    let headers = [form_header(), token_header(FULL_TOKEN, TOKEN_SECRET)];
    let body = format!("username={ALICE}&password={ALICE_PASSWORD}");
    let reply = run(ask(&api, loopback_peer(), "POST", LOGIN, &headers, &body));
    assert_eq!(status(&reply), TOKEN_REFUSED);
}

#[test]
fn pvedaemon_does_not_proxy_to_another_node() {
    let api = pvedaemon(&node_files());
    let headers = [cookie_header("root@pam")];
    let reply = run(ask(
        &api,
        loopback_peer(),
        "GET",
        "/api2/json/nodes/pve2/time",
        &headers,
        "",
    ));
    assert_eq!(status(&reply), (500, "proxy not allowed"));
}

// ---------------------------------------------------------------------------------------------
// 2. pveproxy → pvedaemon on loopback

/// Starts pvedaemon's server (plain HTTP) on a free loopback port. Call inside [`run`].
async fn start_pvedaemon(files: &MemFs) -> SocketAddr {
    let listener = TokioNet
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("bind 127.0.0.1:0");
    let api = Rc::new(pvedaemon(files));
    let settings = ProxySettings::trusted_daemon();
    let server = ProxyServer::new(listener, settings, api, clock(), Rc::new(NullLog));
    let addr = server.local_addr().expect("bound");
    tokio::task::spawn_local(server.run());
    addr
}

#[test]
fn login_through_pveproxy_with_a_form_or_json_body_then_a_protected_call() {
    let files = node_files();
    run(async {
        let daemon = start_pvedaemon(&files).await;
        let proxy = pveproxy(&files, daemon);
        let form = format!(
            "username={ALICE}&password={}",
            ALICE_PASSWORD.replace(' ', "+")
        );
        let json = serde_json::json!({"username": ALICE, "password": ALICE_PASSWORD}).to_string();
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", form),
            ("application/json", json),
        ] {
            let headers = [("content-type", content_type.to_owned())];
            let reply = ask(&proxy, remote_peer(), "POST", LOGIN, &headers, &body).await;
            let login = data(&reply);
            assert_eq!(login["username"], ALICE, "{content_type}");
            let ticket = login["ticket"].as_str().expect("a ticket").to_owned();
            assert!(ticket.starts_with("PVE:alice@pve:"), "{ticket}");
            assert!(login["CSRFPreventionToken"].is_string(), "{login}");

            // The new ticket works for a protected call, which pveproxy forwards.
            let headers = [("cookie", format!("PVEAuthCookie={ticket}"))];
            let reply = ask(&proxy, remote_peer(), "GET", NODE_TIME, &headers, "").await;
            let time = data(&reply);
            assert_eq!(time["time"], NOW.0);
            assert_eq!(time["timezone"], "UTC");
        }
    });
}

#[test]
fn pveproxy_has_pvedaemon_check_tokens_and_honours_privilege_separation() {
    let files = node_files();
    run(async {
        let daemon = start_pvedaemon(&files).await;
        let proxy = pveproxy(&files, daemon);
        let permissions = |tokenid: &'static str, secret: &'static str| {
            let headers = [token_header(tokenid, secret)];
            let proxy = &proxy;
            async move { ask(proxy, remote_peer(), "GET", PERMISSIONS, &headers, "").await }
        };
        let full = data(&permissions(FULL_TOKEN, TOKEN_SECRET).await);
        assert_eq!(full["/"]["Sys.Audit"], 1, "{full}");
        let narrow = data(&permissions(NARROW_TOKEN, TOKEN_SECRET).await);
        assert_eq!(narrow.get("/"), None, "{narrow}");
        assert_eq!(narrow["/nodes/pve1"]["Sys.Audit"], 1, "{narrow}");
        assert_eq!(narrow["/nodes/pve1"].get("Sys.Modify"), None, "{narrow}");
        let wrong = permissions(FULL_TOKEN, "guessed").await;
        assert_eq!(status(&wrong), (401, "authentication failure"));

        // allowtoken=0 is refused by pveproxy itself, before anything is forwarded.
        let headers = [form_header(), token_header(FULL_TOKEN, TOKEN_SECRET)];
        let body = format!("username={ALICE}&password=x");
        let reply = ask(&proxy, remote_peer(), "POST", LOGIN, &headers, &body).await;
        assert_eq!(status(&reply), TOKEN_REFUSED);
    });
}

#[test]
fn pvedaemon_logs_the_client_address_pveproxy_forwards() {
    let files = node_files();
    let ((), log) = logged(|| {
        run(async {
            let daemon = start_pvedaemon(&files).await;
            let proxy = pveproxy(&files, daemon);
            let client = SocketAddr::from(([203, 0, 113, 77], 50_123));
            let reply = failed_login(&proxy, client).await;
            assert_eq!(status(&reply), (401, "authentication failure"));
        })
    });
    assert!(
        log.contains("authentication failure; rhost=203.0.113.77 user=alice@pve"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. pveproxy → a scripted fake daemon

/// Perl URI::Escape's `uri_escape`: all but `A-Za-z0-9-_.~` as `%XX`.
fn uri_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A request as the fake daemon received it, and on which of its connections (counted from 0).
#[derive(Debug, Clone)]
struct Received {
    head: String,
    body: String,
    connection: usize,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }
}

/// Reads one request (head and Content-Length body); `None` when the peer closed first.
async fn read_request(stream: &mut TcpStream, connection: usize) -> Option<Received> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut received = Received {
        head,
        body: String::new(),
        connection,
    };
    let length: usize = received
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    received.body = String::from_utf8_lossy(&body).into_owned();
    Some(received)
}

/// How the fake daemon answers each request on a connection.
#[derive(Debug, Clone, Copy)]
enum Script {
    /// These bytes, then wait for the next request.
    Answer(&'static [u8]),
    /// These bytes, then close.
    AnswerAndClose(&'static [u8]),
    /// Answer the first request on each connection with these bytes; then read requests
    /// and never answer (the connection stays open).
    AnswerOnceThenSilence(&'static [u8]),
    /// These bytes, a POST's only after this long (as pvedaemon holds a failed login's 401).
    SlowPosts(&'static [u8], Duration),
}

/// pveproxy forwarding to a fake daemon on a free loopback port that answers with `script`;
/// what the daemon received goes to the returned list. Call inside [`run`].
async fn pveproxy_before_fake_daemon(script: Script) -> (ApiService, Rc<RefCell<Vec<Received>>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound");
    let received = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&received);
    tokio::task::spawn_local(async move {
        let mut accepted = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Rc::clone(&log);
            let connection = accepted;
            accepted += 1;
            tokio::task::spawn_local(async move {
                let mut answered = 0;
                while let Some(request) = read_request(&mut stream, connection).await {
                    log.borrow_mut().push(request.clone());
                    answered += 1;
                    match script {
                        Script::Answer(bytes) => {
                            let _ = stream.write_all(bytes).await;
                        }
                        Script::AnswerAndClose(bytes) => {
                            let _ = stream.write_all(bytes).await;
                            return;
                        }
                        Script::AnswerOnceThenSilence(bytes) if answered == 1 => {
                            let _ = stream.write_all(bytes).await;
                        }
                        Script::AnswerOnceThenSilence(_) => {
                            std::future::pending::<()>().await;
                        }
                        Script::SlowPosts(bytes, delay) => {
                            if request.request_line().starts_with("POST") {
                                tokio::time::sleep(delay).await;
                            }
                            let _ = stream.write_all(bytes).await;
                        }
                    }
                }
            });
        }
    });
    (pveproxy(&node_files(), addr), received)
}

const DAEMON_OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n\
Content-Length: 11\r\n\r\n{\"data\":1}\n";

async fn forwarded_time(proxy: &ApiService) -> Reply {
    let headers = [cookie_header("root@pam")];
    ask(proxy, remote_peer(), "GET", NODE_TIME, &headers, "").await
}

#[test]
fn pveproxy_forwards_only_proxmoxs_headers_and_keeps_the_body_encoding() {
    run(async {
        let (proxy, received) = pveproxy_before_fake_daemon(Script::Answer(DAEMON_OK)).await;
        let csrf = csrf_token_of("root@pam");
        let mut headers = vec![
            cookie_header("root@pam"),
            ("csrfpreventiontoken", csrf.clone()),
            ("host", "pve1.example:8006".to_owned()),
            ("accept-encoding", "br, gzip;q=0.5".to_owned()),
            ("user-agent", "curl/8".to_owned()),
            ("x-forwarded-for", "10.9.9.9".to_owned()),
        ];
        let get = ask(&proxy, remote_peer(), "GET", NODE_TIME, &headers, "").await;
        assert_eq!(get.body, b"{\"data\":1}\n");
        headers.push(("content-type", "application/json".to_owned()));
        let json = r#"{"username":"alice@pve","password":"p w"}"#;
        ask(&proxy, remote_peer(), "POST", LOGIN, &headers, json).await;
        headers.pop();
        headers.push(form_header());
        ask(
            &proxy,
            remote_peer(),
            "POST",
            LOGIN,
            &headers,
            "username=alice%40pve&password=p+w",
        )
        .await;

        let received = received.borrow();
        assert_eq!(received.len(), 3, "{received:?}");
        let first = &received[0];
        assert_eq!(
            first.request_line(),
            "GET /api2/json/nodes/pve1/time HTTP/1.1"
        );
        assert_eq!(first.header("pvedisableproxy"), Some("true"));
        assert_eq!(first.header("pveclientip"), Some("198.51.100.7"));
        // Percent-escaped, as Proxmox's create_auth_cookie writes it.
        let cookie = format!("PVEAuthCookie={}", uri_escape(&ticket_of("root@pam")));
        assert_eq!(first.header("cookie"), Some(cookie.as_str()));
        assert_eq!(first.header("csrfpreventiontoken"), Some(csrf.as_str()));
        assert_eq!(first.header("host"), Some("pve1.example:8006"));
        assert_eq!(first.header("accept-encoding"), Some("gzip"));
        for dropped in ["user-agent", "x-forwarded-for"] {
            assert_eq!(first.header(dropped), None, "{dropped} in {}", first.head);
        }
        let json_login = &received[1];
        assert_eq!(json_login.header("content-type"), Some("application/json"));
        let body: Value = serde_json::from_str(&json_login.body).expect("JSON stays JSON");
        assert_eq!(
            body,
            serde_json::json!({"username": "alice@pve", "password": "p w"})
        );
        let form_login = &received[2];
        assert_eq!(
            form_login.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(
            form_login.body.contains("password=p"),
            "{}",
            form_login.body
        );
        assert!(
            !form_login.body.starts_with('{'),
            "form stays form: {}",
            form_login.body
        );
    });
}

#[test]
fn the_daemons_reply_is_relayed_as_is_with_its_location_prefix_stripped() {
    const REDIRECT: &[u8] = b"HTTP/1.1 302 Found it\r\nLocation: http://localhost:85/api2/json/x\r\n\
Content-Encoding: gzip\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00";
    run(async {
        let (proxy, _) = pveproxy_before_fake_daemon(Script::Answer(REDIRECT)).await;
        let reply = forwarded_time(&proxy).await;
        assert_eq!(status(&reply), (302, "Found it"));
        assert_eq!(header(&reply, "location"), Some("/api2/json/x"));
        assert_eq!(header(&reply, "content-encoding"), Some("gzip"));
        assert_eq!(reply.body, b"\x1f\x8b\x08\x00");
        assert!(
            !reply.compressible,
            "a relayed reply is never compressed again"
        );
    });
}

/// pvedaemon closes after each error reply (`Connection: close`): the next call, a POST too
/// (which is never sent twice), goes out on a fresh connection and is answered.
#[test]
fn a_connection_the_daemon_closes_is_not_reused() {
    const CLOSING: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\n\
{\"data\":1}\n";
    run(async {
        let (proxy, received) = pveproxy_before_fake_daemon(Script::AnswerAndClose(CLOSING)).await;
        assert_eq!(forwarded_time(&proxy).await.status.as_u16(), 200);
        let login = failed_login(&proxy, remote_peer()).await;
        assert_eq!(login.status.as_u16(), 200, "{login:?}");
        assert_eq!(forwarded_time(&proxy).await.status.as_u16(), 200);
        assert_eq!(received.borrow().len(), 3);
    });
}

/// 50 clients at once, twice: the second wave reuses the first wave's connections.
#[test]
fn concurrent_forwards_reuse_their_connections() {
    const CLIENTS: usize = 50;
    run(async {
        let (proxy, received) = pveproxy_before_fake_daemon(Script::Answer(DAEMON_OK)).await;
        let proxy = Rc::new(proxy);
        for _ in 0..2 {
            let mut wave = tokio::task::JoinSet::new();
            for _ in 0..CLIENTS {
                let proxy = Rc::clone(&proxy);
                wave.spawn_local(async move { forwarded_time(&proxy).await.status.as_u16() });
            }
            while let Some(status) = wave.join_next().await {
                assert_eq!(status.expect("no panic"), 200);
            }
        }
        let received = received.borrow();
        assert_eq!(received.len(), 2 * CLIENTS);
        let connections: std::collections::BTreeSet<usize> =
            received.iter().map(|r| r.connection).collect();
        assert!(
            connections.len() <= CLIENTS,
            "{} connections for two waves of {CLIENTS}",
            connections.len()
        );
    });
}

/// Anonymous logins that pvedaemon holds for the 401 delay, more of them than may be in
/// flight, do not hold up an authenticated call: each kind waits for its own turns.
#[test]
fn a_flood_of_failing_logins_does_not_hold_up_authenticated_calls() {
    const HELD: Duration = Duration::from_secs(2);
    run(async {
        let (proxy, _) = pveproxy_before_fake_daemon(Script::SlowPosts(DAEMON_OK, HELD)).await;
        let proxy = Rc::new(proxy);
        let mut logins = tokio::task::JoinSet::new();
        for _ in 0..REQUESTS_MAX + 6 {
            let proxy = Rc::clone(&proxy);
            logins.spawn_local(async move { failed_login(&proxy, remote_peer()).await });
        }
        // Let the logins take every turn there is for them.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let asked = tokio::time::Instant::now();
        assert_eq!(forwarded_time(&proxy).await.status.as_u16(), 200);
        let took = asked.elapsed();
        assert!(took < HELD / 2, "the authenticated call waited {took:?}");
        logins.abort_all();
    });
}

/// A port nothing listens on. Call inside [`run`].
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound")
}

/// While pvedaemon is away, a valid token is not reported revoked.
#[test]
fn a_token_pvedaemon_cannot_check_is_500_not_401() {
    run(async {
        let proxy = pveproxy(&node_files(), closed_port().await);
        let headers = [token_header(FULL_TOKEN, TOKEN_SECRET)];
        let reply = answer(
            &proxy,
            remote_peer(),
            "GET",
            "/api2/json/version",
            &headers,
            "",
        )
        .await;
        assert_eq!(
            status(&reply.reply),
            (
                500,
                "unable to check the API token - pvedaemon not reachable"
            )
        );
        assert!(!reply.delayed);
    });
}

#[test]
fn a_daemon_that_is_not_listening_is_595() {
    run(async {
        let proxy = pveproxy(&node_files(), closed_port().await);
        let reply = forwarded_time(&proxy).await;
        assert_eq!(status(&reply), (595, "Connection refused"));
        assert!(reply.body.is_empty());
    });
}

#[test]
fn a_daemon_that_closes_without_answering_is_596() {
    run(async {
        let (proxy, received) = pveproxy_before_fake_daemon(Script::AnswerAndClose(b"")).await;
        let reply = forwarded_time(&proxy).await;
        assert_eq!(reply.status.as_u16(), 596, "{reply:?}");
        assert!(reply.body.is_empty());
        assert_eq!(received.borrow().len(), 1, "the request arrived");
    });
}

/// 30 s without the reply's head: 596, and a GET that timed out is not sent again. The clock is
/// paused once a pooled connection is up, so the 30 s pass at once.
#[test]
fn a_daemon_silent_for_30_s_is_596() {
    run(async {
        let (proxy, received) =
            pveproxy_before_fake_daemon(Script::AnswerOnceThenSilence(DAEMON_OK)).await;
        assert_eq!(forwarded_time(&proxy).await.status.as_u16(), 200);
        tokio::time::pause();
        let asked = tokio::time::Instant::now();
        let reply = forwarded_time(&proxy).await;
        assert_eq!(status(&reply), (596, "Connection timed out"));
        assert!(
            asked.elapsed() >= SILENCE_MAX,
            "after {:?}",
            asked.elapsed()
        );
        assert_eq!(received.borrow().len(), 2, "each request arrived once");
    });
}

#[test]
fn a_reply_cut_off_in_its_body_is_597() {
    const CUT: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"data\":";
    run(async {
        let (proxy, _) = pveproxy_before_fake_daemon(Script::AnswerAndClose(CUT)).await;
        let reply = forwarded_time(&proxy).await;
        assert_eq!(reply.status.as_u16(), 597, "{reply:?}");
        assert!(reply.body.is_empty());
    });
}

#[test]
fn a_reply_that_is_not_http_is_599() {
    run(async {
        let (proxy, _) =
            pveproxy_before_fake_daemon(Script::AnswerAndClose(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"))
                .await;
        let reply = forwarded_time(&proxy).await;
        assert_eq!(reply.status.as_u16(), 599, "{reply:?}");
        assert!(reply.body.is_empty());
    });
}
