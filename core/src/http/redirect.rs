//! Plain HTTP on the TLS port: redirect to HTTPS.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §3 "Plain HTTP on 8006" (AE
//! `ensure_tls_connection`). io sniffs the first byte ([`super::looks_like_tls`]); when it is
//! not a TLS handshake it reads one plain request head and sends what
//! [`plain_http_redirect`] returns.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use super::{Reply, canonical_reason};

/// With a Host header: 301 for GET, 308 otherwise, `Location: https://<Host><target>`, and
/// `Connection: close` (the connection ends after the reply). `target` is the request target
/// as sent (path and query); one that does not start with `/` is replaced by `/`.
///
/// Without Host: `None`, and io closes at once. Difference: Proxmox sends nothing and lets the
/// connection time out.
///
/// A Host value that is not a plain `host[:port]` (a name, an IPv4 address or a bracketed IPv6
/// address, then an optional numeric port) also gives `None`: CR, LF, spaces, `/`, `@` and the
/// like must never reach a `Location`. Difference: Proxmox copies any Host value.
pub fn plain_http_redirect(method: &Method, host: Option<&[u8]>, target: &str) -> Option<Reply> {
    let host = valid_host(host?)?;
    let target = if target.starts_with('/') { target } else { "/" };
    let location = HeaderValue::try_from(format!("https://{host}{target}")).ok()?;
    let status = if *method == Method::GET {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Some(Reply {
        status,
        reason: canonical_reason(status).to_owned(),
        content_type: None,
        headers: vec![
            (header::LOCATION, location),
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
        body: Vec::new(),
        compressible: false,
    })
}

/// The Host value as text when it is `name[:port]` or `[v6][:port]`.
fn valid_host(raw: &[u8]) -> Option<&str> {
    let host = std::str::from_utf8(raw).ok()?;
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let inside_ok = !inside.is_empty()
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !inside_ok {
            return None;
        }
        (None, after)
    } else {
        let end = host.find(':').unwrap_or(host.len());
        (Some(&host[..end]), &host[end..])
    };
    if let Some(name) = name {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !name_ok {
            return None;
        }
    }
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    port_ok.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(reply: &Reply) -> &str {
        reply
            .headers
            .iter()
            .find(|(name, _)| name == header::LOCATION)
            .and_then(|(_, value)| value.to_str().ok())
            .expect("a Location header")
    }

    #[test]
    fn get_is_301() {
        let reply = plain_http_redirect(
            &Method::GET,
            Some(b"pve1.example:8006"),
            "/api2/json/version?x=1",
        )
        .expect("a redirect");
        assert_eq!(reply.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(reply.reason, "Moved Permanently");
        assert_eq!(
            location(&reply),
            "https://pve1.example:8006/api2/json/version?x=1"
        );
        assert!(
            reply
                .headers
                .contains(&(header::CONNECTION, HeaderValue::from_static("close")))
        );
        assert!(reply.body.is_empty());
    }

    #[test]
    fn other_methods_are_308() {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ] {
            let reply =
                plain_http_redirect(&method, Some(b"10.0.0.1:8006"), "/").expect("a redirect");
            assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT, "{method}");
            assert_eq!(reply.reason, "Permanent Redirect");
            assert_eq!(location(&reply), "https://10.0.0.1:8006/");
        }
    }

    #[test]
    fn without_host_nothing() {
        assert_eq!(plain_http_redirect(&Method::GET, None, "/"), None);
    }

    #[test]
    fn hosts_accepted() {
        for host in [
            "pve",
            "pve1.example.com",
            "pve:8006",
            "192.0.2.1",
            "[2001:db8::1]",
            "[2001:db8::1]:8006",
            "[::ffff:1.2.3.4]:1",
            "under_score",
        ] {
            let reply = plain_http_redirect(&Method::GET, Some(host.as_bytes()), "/x");
            assert_eq!(
                reply.map(|r| location(&r).to_owned()),
                Some(format!("https://{host}/x"))
            );
        }
    }

    #[test]
    fn hosts_refused() {
        for host in [
            &b""[..],
            b"evil.example/path",
            b"a b",
            b"a\r\nSet-Cookie: x=1",
            b"user@host",
            b"host:",
            b"host:80:80",
            b"host:123456",
            b"host:8a",
            b"[]",
            b"[2001:db8::1",
            b"[zz::1]",
            b"[::1]x",
            b":8006",
            b"host?q",
            b"host#f",
            b"h\xffst",
            b"h\\st",
        ] {
            assert_eq!(
                plain_http_redirect(&Method::GET, Some(host), "/"),
                None,
                "{host:?}"
            );
        }
    }

    #[test]
    fn odd_targets_go_to_the_root() {
        let reply = plain_http_redirect(&Method::OPTIONS, Some(b"pve"), "*").expect("a redirect");
        assert_eq!(location(&reply), "https://pve/");
        let reply = plain_http_redirect(&Method::GET, Some(b"pve"), "").expect("a redirect");
        assert_eq!(location(&reply), "https://pve/");
        // A target with bytes a header cannot hold gives no redirect rather than a broken one.
        assert_eq!(
            plain_http_redirect(&Method::GET, Some(b"pve"), "/\r\n"),
            None
        );
    }
}
