//! What pveproxy's HTTP layer decides to answer: status line, headers, body, as core renders
//! them. Requests go through core's decisions in io's order (limits, routing, render), and the
//! headers io derives from core are shown too (common headers at a fixed time, Content-Type,
//! Content-Length, Connection: close for statuses that close). Not shown, because io adds them
//! per connection: `Vary: Accept-Encoding`, compression, and the keep-alive limits — those are
//! covered on real sockets by `io/tests/proxy_loopback.rs`.
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p
//! corral-snapshots --test http_replies` and `git diff`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use corral_core::http::access_log::{self, AccessLogEntry};
use corral_core::http::api::answer;
use corral_core::http::http::{Method, Request, StatusCode, Version, header};
use corral_core::http::{
    ApiError, Format, Reply, VersionInfo, check_head, closes_connection, common_headers,
    plain_http_redirect, render,
};
use corral_core::time::UnixTime;

/// 2026-11-24 21:30:00 UTC.
const NOW: UnixTime = UnixTime(1_795_555_800);

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

/// One request through core's decisions, as io makes them.
fn serve(method: &str, target: &str, headers: &[(&str, &str)], version: Version) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(target)
        .version(version);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let (parts, ()) = builder.body(()).expect("a valid test request").into_parts();
    if let Err(rejection) = check_head(&parts) {
        return rejection.reply();
    }
    answer(&parts.method, parts.uri.path(), "pve1", &version_info())
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
    let shown = exchange("GET", "/api2/json/version", &[]);
    insta::assert_snapshot!(shown);
}

#[test]
fn version_extjs() {
    let shown = exchange("GET", "/api2/extjs/version", &[]);
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
        exchange("GET", "/api2/json/nope", &[]),
        exchange("POST", "/api2/json/version", &[]),
        exchange("GET", "/api2/extjs/nope", &[]),
        exchange("GET", "/api2/", &[]),
        exchange("GET", "/api2/JSON/version", &[]),
        exchange("GET", "/api2/xml/version", &[]),
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
