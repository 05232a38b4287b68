//! What pveproxy's HTTP layer decides to answer: status line, headers, body. Requests go
//! through core's head checks (as `io/src/proxy.rs` makes them) and then io's own API service
//! (routing, parameters, authentication with the ticket and CSRF checks, the routing decision,
//! the handler, render), and the headers io derives from the reply are shown too (common
//! headers at a fixed time, Content-Type, Content-Length, Connection: close for statuses that
//! close). Not shown, because io adds them per connection: `Vary: Accept-Encoding`,
//! compression, the 401 delay and the keep-alive limits — those are covered on real sockets by
//! `io/tests/proxy_loopback.rs`.
//!
//! Tickets are signed with core's test key A (`core/src/auth/testdata`), CSRF tokens derived
//! from key B; the transcripts show them as placeholders such as `<ticket of root@pam>`. Only
//! root@pam exists (no `user.cfg`).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p
//! corral-snapshots --test http_replies` and `git diff`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use corral_core::api::Role;
use corral_core::auth::csrf::CsrfSecret;
use corral_core::auth::keys::SigningKey;
use corral_core::auth::ticket::{self, SignDigest};
use corral_core::http::access_log::{self, AccessLogEntry};
use corral_core::http::http::{Method, Request, StatusCode, Version, header};
use corral_core::http::{
    ApiError, Format, Reply, VersionInfo, check_head, closes_connection, common_headers,
    plain_http_redirect, render,
};
use corral_core::time::UnixTime;
use corral_io::access::AccessFiles;
use corral_io::api::{ApiRequest, ApiService, ApiSettings, UNAUTHORIZED_DELAY};
use corral_io::authkey::{
    AUTHKEY_PRIVATE, AUTHKEY_PUBLIC, PRIVATE_MODE, SHARED_MODE, WWW_KEY as WWW_KEY_PATH,
};
use corral_io::clock::{ManualClock, WallClock};
use corral_io::files::{MemFs, Root};
use corral_io::testing::flip_signature_bit;

/// 2026-11-24 21:30:00 UTC.
const NOW: UnixTime = UnixTime(1_795_555_800);

/// The ticket key pair (`authkey.key`, `authkey.pub`) and the file the CSRF secret comes from
/// (`pve-www.key`): core's test keys, made once with the openssl command line.
const AUTHKEY: &[u8] = include_bytes!("../../core/src/auth/testdata/key-a.pem");
const AUTHKEY_PUB: &[u8] = include_bytes!("../../core/src/auth/testdata/key-a.pub");
const WWW_KEY: &[u8] = include_bytes!("../../core/src/auth/testdata/key-b.pem");

/// Placeholders a transcript shows; the request carries what they stand for.
const TICKET: &str = "<ticket of root@pam>";
const FORGED_TICKET: &str = "<ticket of root@pam, one signature bit flipped>";
const CSRF_TOKEN: &str = "<CSRF token of root@pam>";

/// What the placeholders stand for: the ticket and the forged one `:`-escaped, as a cookie
/// carries them.
struct RootCredentials {
    ticket: String,
    forged: String,
    csrf_token: String,
}

fn root_credentials() -> &'static RootCredentials {
    static MADE: OnceLock<RootCredentials> = OnceLock::new();
    MADE.get_or_init(|| {
        let key = SigningKey::from_pem(AUTHKEY).expect("test key A");
        let ticket =
            ticket::sign("root@pam", NOW, &key, SignDigest::Sha256).expect("a ticket for root");
        let forged = flip_signature_bit(&ticket);
        let csrf_token = csrf_secret().token("root@pam", NOW).expect("a CSRF token");
        RootCredentials {
            ticket: ticket.replace(':', "%3A"),
            forged: forged.replace(':', "%3A"),
            csrf_token,
        }
    })
}

fn csrf_secret() -> CsrfSecret {
    CsrfSecret::from_key_file(WWW_KEY).expect("test key B")
}

/// A header value as sent: placeholders replaced.
fn resolve(value: &str) -> String {
    let made = root_credentials();
    value
        .replace(FORGED_TICKET, &made.forged)
        .replace(TICKET, &made.ticket)
        .replace(CSRF_TOKEN, &made.csrf_token)
}

/// The cookie header of a logged-in client.
const COOKIE: (&str, &str) = ("cookie", "PVEAuthCookie=<ticket of root@pam>");
/// A cookie with a forged ticket.
const FORGED_COOKIE: (&str, &str) = (
    "cookie",
    "PVEAuthCookie=<ticket of root@pam, one signature bit flipped>",
);
/// The CSRF header of a logged-in client.
const CSRF: (&str, &str) = ("csrfpreventiontoken", CSRF_TOKEN);

fn version_info() -> VersionInfo {
    VersionInfo {
        version: "9.0.3".to_owned(),
        release: "9.0".to_owned(),
        repoid: "025a9b6e".to_owned(),
    }
}

/// A reply written out as HTTP/1.1 (header names as hyper writes them).
fn wire(reply: &Reply) -> String {
    let mut out = format!("HTTP/1.1 {} {}\n", reply.status.as_u16(), reply.reason);
    let mut headers: Vec<(String, String)> = common_headers(NOW)
        .iter()
        .chain(reply.headers.iter())
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(content_type) = reply.content_type {
        headers.push(("content-type".to_owned(), content_type.to_owned()));
    }
    headers.push(("content-length".to_owned(), reply.body.len().to_string()));
    let has_connection = reply
        .headers
        .iter()
        .any(|(name, _)| name == header::CONNECTION);
    if closes_connection(reply.status) && !has_connection {
        headers.push(("connection".to_owned(), "close".to_owned()));
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    out.push_str(&String::from_utf8_lossy(&reply.body));
    if !out.ends_with('\n') {
        out.push_str("\n[no newline at end of body]\n");
    }
    out
}

/// One request (without a body) as pveproxy answers it: core's head checks, as
/// `io/src/proxy.rs` makes them, then io's own API service (authentication, the routing
/// decision, the handlers) over the node's key files in memory.
fn serve(method: &str, target: &str, headers: &[(&str, &str)], version: Version) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(target)
        .version(version);
    for (name, value) in headers {
        builder = builder.header(*name, resolve(value));
    }
    let (parts, ()) = builder.body(()).expect("a valid test request").into_parts();
    if let Err(rejection) = check_head(&parts) {
        return rejection.reply();
    }
    let request = ApiRequest {
        parts: &parts,
        body: Bytes::new(),
        peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 50_000)),
        compression: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(api_service().handle(request)).reply
}

/// pveproxy's API (no pvedaemon) for node `pve1`, with the test keys as the node's key files
/// and no `user.cfg` (only root@pam exists).
fn api_service() -> ApiService {
    let clock: Arc<dyn WallClock> = Arc::new(ManualClock::new(NOW));
    let files = MemFs::new(Arc::clone(&clock));
    files.insert(Path::new(AUTHKEY_PRIVATE), AUTHKEY, PRIVATE_MODE);
    files.insert(Path::new(AUTHKEY_PUBLIC), AUTHKEY_PUB, SHARED_MODE);
    files.insert(Path::new(WWW_KEY_PATH), WWW_KEY, SHARED_MODE);
    let settings = ApiSettings {
        role: Role::Proxy,
        node: "pve1".to_owned(),
        version: version_info(),
        unauthorized_delay: UNAUTHORIZED_DELAY,
        sign_digest: SignDigest::Sha256,
    };
    let access = AccessFiles::new(Rc::new(files), Root::default());
    ApiService::new(settings, access, clock, None)
}

/// The request as a client writes it, then the reply.
fn exchange(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    exchange_version(method, target, headers, Version::HTTP_11)
}

fn exchange_version(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    version: Version,
) -> String {
    let version_text = if version == Version::HTTP_2 {
        "HTTP/2.0"
    } else {
        "HTTP/1.1"
    };
    let mut out = format!("> {method} {target} {version_text}\n");
    for (name, value) in headers {
        out.push_str(&format!("> {name}: {value}\n"));
    }
    out.push_str(&wire(&serve(method, target, headers, version)));
    out
}

/// A handler error rendered in a format (for errors no request can produce yet).
fn rendered(label: &str, format: Format, error: &ApiError) -> String {
    format!(
        "# {label}, {} format\n{}",
        format.name(),
        wire(&render(format, Err(error.clone())))
    )
}

fn sections(parts: &[String]) -> String {
    parts.join("\n")
}

#[test]
fn version_json() {
    let shown = exchange("GET", "/api2/json/version", &[COOKIE]);
    insta::assert_snapshot!(shown);
}

#[test]
fn version_extjs() {
    let shown = exchange("GET", "/api2/extjs/version", &[COOKIE]);
    insta::assert_snapshot!(shown);
}

/// The calls a client makes before it has a ticket.
#[test]
fn login_calls_need_no_credentials() {
    let shown = sections(&[
        exchange("GET", "/api2/json/access/domains", &[]),
        exchange("GET", "/api2/json/access/ticket", &[]),
    ]);
    insta::assert_snapshot!(shown);
}

/// Authentication comes before the handler lookup; its failures are generic errors in every
/// format (io holds them back for 3 s).
#[test]
fn error_401() {
    let shown = sections(&[
        exchange("GET", "/api2/xml/version", &[]),
        exchange("GET", "/api2/json/version", &[]),
        exchange("GET", "/api2/extjs/version", &[]),
        exchange("GET", "/api2/json/nope", &[]),
        exchange("GET", "/api2/json/version", &[FORGED_COOKIE]),
        exchange("POST", "/api2/json/access/permissions", &[COOKIE]),
        exchange(
            "POST",
            "/api2/json/access/permissions",
            &[COOKIE, ("csrfpreventiontoken", "6A2F8A18:forged")],
        ),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn index_page_names_the_node() {
    let shown = exchange("GET", "/", &[]);
    insta::assert_snapshot!(shown);
}

#[test]
fn error_501() {
    let shown = sections(&[
        exchange("GET", "/api2/json/nope", &[COOKIE]),
        exchange("POST", "/api2/json/version", &[COOKIE, CSRF]),
        exchange("GET", "/api2/extjs/nope", &[COOKIE]),
        exchange("GET", "/api2/", &[]),
        exchange("GET", "/api2/JSON/version", &[]),
        exchange("GET", "/api2/xml/version", &[COOKIE]),
        exchange("HEAD", "/api2/json/version", &[]),
        exchange(
            "POST",
            "/api2/json/version",
            &[("transfer-encoding", "chunked")],
        ),
        exchange(
            "PUT",
            "/api2/json/version",
            &[("transfer-encoding", "gzip")],
        ),
        exchange("GET", "/api2/json/version", &[("content-length", "2")]),
        exchange(
            "POST",
            "/api2/json/access/ticket",
            &[("content-length", "524289")],
        ),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn error_500() {
    let error = ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "unable to get remote IP address for node 'pve9'\n",
    );
    let shown = sections(&[
        rendered("a handler's die", Format::Json, &error),
        rendered("a handler's die", Format::Extjs, &error),
        exchange("GET", "/pve2/js/pvemanagerlib.js", &[]),
        exchange("POST", "/", &[]),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn error_400() {
    let errors = BTreeMap::from([
        (
            "vmid".to_owned(),
            "value must have a minimum value of 100".to_owned(),
        ),
        (
            "node".to_owned(),
            "invalid format - value does not look like a valid node name".to_owned(),
        ),
    ]);
    let error = ApiError::parameters(errors);
    let shown = sections(&[
        rendered("parameter verification", Format::Json, &error),
        rendered("parameter verification", Format::Extjs, &error),
        exchange("GET", "/api2/json/version?verbose=1", &[COOKIE]),
        exchange("GET", "user@evil.example:8006", &[]),
        exchange("GET", "/x%0D%0ASet-Cookie:%20a=b", &[]),
        rendered(
            "a message with a CR in its first line",
            Format::Json,
            &ApiError::new(StatusCode::FORBIDDEN, "denied\r\nSet-Cookie: a=b"),
        ),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn error_506() {
    let error = ApiError::new(
        StatusCode::VARIANT_ALSO_NEGOTIATES,
        "upload 'Content-Type 'text/plain' not implemented",
    );
    let shown = sections(&[
        rendered("a 506 from a handler", Format::Json, &error),
        rendered("a 506 from a handler", Format::Extjs, &error),
        exchange(
            "POST",
            "/api2/json/access/ticket",
            &[("content-length", "11"), ("content-type", "text/plain")],
        ),
        exchange_version("GET", "/api2/json/version", &[], Version::HTTP_2),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn plain_http_redirects() {
    let show = |method: Method, host: &str, target: &str| {
        let reply =
            plain_http_redirect(&method, Some(host.as_bytes()), target).expect("a redirect");
        format!(
            "> {method} {target} HTTP/1.1\n> host: {host}\n{}",
            wire(&reply)
        )
    };
    let shown = sections(&[
        show(Method::GET, "pve1.example.com:8006", "/"),
        show(
            Method::POST,
            "192.0.2.10:8006",
            "/api2/json/access/ticket?x=1",
        ),
    ]);
    insta::assert_snapshot!(shown);
}

#[test]
fn access_log_lines() {
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    let v6: IpAddr = "2001:db8::42".parse().expect("literal");
    let line = |client, user, request_line, status, bytes, offset| {
        access_log::format_line(&AccessLogEntry {
            client,
            user,
            time: NOW,
            utc_offset_secs: offset,
            request_line,
            status,
            bytes,
        })
    };
    let lines = [
        line(
            v4,
            Some("root@pam"),
            "GET /api2/json/version HTTP/1.1",
            200,
            Some(83),
            3600,
        ),
        line(
            v6,
            Some("monitor@pve!grafana"),
            "GET /api2/json/nodes/pve1/status?_dc=1 HTTP/1.1",
            200,
            Some(1274),
            -34_200,
        ),
        line(v4, None, "HEAD / HTTP/1.1", 501, Some(28), 0),
        line(
            v6,
            None,
            "GET /x\"\r\n::ffff:6.6.6.6 - root@pam HTTP/1.1",
            500,
            None,
            0,
        ),
        access_log::denied_line(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)), NOW, 3600),
    ];
    let shown = lines.concat();
    insta::assert_snapshot!(shown);
}
