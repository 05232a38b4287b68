//! Access-log lines in Proxmox's format.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §8 (AE `log_request`):
//!
//! ```text
//! ::ffff:192.0.2.7 - root@pam [24/11/2026:22:30:00 +0100] "GET /api2/json/version HTTP/1.1" 200 83
//! ```
//!
//! Difference: Proxmox writes the raw request line, so a request line carrying a `"` or a
//! control character (a bare CR reaches it; hyper refuses most others) can forge fields or a
//! whole second line. corral escapes what would break the line, the way Apache's `%r` does:
//! `"` as `\"`, `\` as `\\`, and every ASCII control character (0x00–0x1f, 0x7f) as `\xHH`.
//! Ordinary request lines are unchanged. The user name is escaped the same way.

use std::fmt::Write as _;
use std::net::IpAddr;

use http::request::Parts;

use super::version_number;
use crate::acl::AddrList;
use crate::time::UnixTime;

/// One access-log line's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry<'a> {
    pub client: IpAddr,
    /// The authenticated user, `-` when none.
    pub user: Option<&'a str>,
    pub time: UnixTime,
    /// The local UTC offset at `time`, for the `+zzzz` field.
    pub utc_offset_secs: i32,
    /// As [`request_line`] gives it; escaped here.
    pub request_line: &'a str,
    pub status: u16,
    /// Body bytes sent (after compression), `-` when there was no body.
    pub bytes: Option<u64>,
}

/// `<ip> - <user|-> [dd/mm/YYYY:HH:MM:SS +zzzz] "<request line>" <status> <bytes|->\n`; an IPv4
/// client is written `::ffff:a.b.c.d`, as Proxmox's dual-stack socket reports it. See the module
/// doc for how the request line is escaped.
pub fn format_line(entry: &AccessLogEntry<'_>) -> String {
    format_line_dated(entry, &entry.time.access_log_date(entry.utc_offset_secs))
}

/// [`format_line`] with the date already formatted (`entry.time` and `entry.utc_offset_secs`
/// are then not read): a busy server formats the date once per second, not once per request.
pub fn format_line_dated(entry: &AccessLogEntry<'_>, date: &str) -> String {
    let mut line = String::with_capacity(96 + entry.request_line.len());
    let _ = write!(line, "{} - ", client_text(entry.client));
    match entry.user {
        Some(user) if !user.is_empty() => push_escaped(&mut line, user),
        _ => line.push('-'),
    }
    let _ = write!(line, " [{date}] \"");
    push_escaped(&mut line, entry.request_line);
    let _ = write!(line, "\" {} ", entry.status);
    match entry.bytes {
        Some(bytes) => {
            let _ = write!(line, "{bytes}");
        }
        None => line.push('-'),
    }
    line.push('\n');
    line
}

/// The request line as logged: "GET /path?query HTTP/1.1" from parts (the target as the client
/// sent it: origin form, or absolute or authority form when it used those).
pub fn request_line(parts: &Parts) -> String {
    format!(
        "{} {} HTTP/{}",
        parts.method,
        parts.uri,
        version_number(parts.version)
    )
}

/// PROXY_REAL_IP_HEADER for the log only: the header's value when it parses as ONE IP address
/// (surrounding whitespace ignored; a list such as `a, b` is not one address) and the peer is
/// allowed (PROXY_REAL_IP_ALLOW_FROM unset = every peer), else the peer.
pub fn client_for_log(peer: IpAddr, header: Option<&[u8]>, allowed: Option<&AddrList>) -> IpAddr {
    let Some(value) = header else {
        return peer;
    };
    if allowed.is_some_and(|list| !list.contains(peer)) {
        return peer;
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

/// The line for a denied connection: request line "-", status 403, bytes "-".
pub fn denied_line(peer: IpAddr, time: UnixTime, utc_offset_secs: i32) -> String {
    format_line(&denied_entry(peer, time, utc_offset_secs))
}

/// The entry [`denied_line`] writes, for callers that format the date themselves
/// ([`format_line_dated`]).
pub fn denied_entry(peer: IpAddr, time: UnixTime, utc_offset_secs: i32) -> AccessLogEntry<'static> {
    AccessLogEntry {
        client: peer,
        user: None,
        time,
        utc_offset_secs,
        request_line: "-",
        status: 403,
        bytes: None,
    }
}

fn client_text(client: IpAddr) -> String {
    match client {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_string(),
        IpAddr::V6(v6) => v6.to_string(),
    }
}

/// Apache-style escaping: `"` and `\` backslashed, ASCII controls as `\xHH`.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use http::{Request, Version};

    use super::*;

    const T: UnixTime = UnixTime(1_795_555_800); // 2026-11-24 21:30:00 UTC

    fn entry<'a>(
        client: IpAddr,
        user: Option<&'a str>,
        line: &'a str,
        bytes: Option<u64>,
    ) -> AccessLogEntry<'a> {
        AccessLogEntry {
            client,
            user,
            time: T,
            utc_offset_secs: 3600,
            request_line: line,
            status: 200,
            bytes,
        }
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn ipv4_client_as_mapped_ipv6() {
        let line = format_line(&entry(
            v4(192, 0, 2, 7),
            Some("root@pam"),
            "GET /api2/json/version HTTP/1.1",
            Some(83),
        ));
        assert_eq!(
            line,
            "::ffff:192.0.2.7 - root@pam [24/11/2026:22:30:00 +0100] \"GET /api2/json/version HTTP/1.1\" 200 83\n"
        );
    }

    #[test]
    fn ipv6_client_no_user_no_bytes() {
        let client = IpAddr::V6("2001:db8::1".parse().expect("literal"));
        let mut e = entry(client, None, "GET / HTTP/1.1", None);
        e.status = 501;
        e.utc_offset_secs = -34_200;
        assert_eq!(
            format_line(&e),
            "2001:db8::1 - - [24/11/2026:12:00:00 -0930] \"GET / HTTP/1.1\" 501 -\n"
        );
        // A mapped address stays as it is.
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert!(format_line(&entry(mapped, None, "-", None)).starts_with("::ffff:10.0.0.1 - - ["));
        // An empty user is no user.
        assert!(
            format_line(&entry(mapped, Some(""), "-", None)).starts_with("::ffff:10.0.0.1 - - [")
        );
        // Zero bytes is a number, not "-".
        assert!(format_line(&entry(mapped, None, "-", Some(0))).ends_with("\" 200 0\n"));
    }

    #[test]
    fn request_line_cannot_forge_a_line_or_field() {
        let forged = "GET /x\" 200 1\n::ffff:6.6.6.6 - root@pam [x] \"GET /\\ HTTP/1.1";
        let line = format_line(&entry(v4(192, 0, 2, 7), Some("a\"b"), forged, Some(1)));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        assert_eq!(
            line,
            "::ffff:192.0.2.7 - a\\\"b [24/11/2026:22:30:00 +0100] \"GET /x\\\" 200 1\\x0a::ffff:6.6.6.6 - root@pam [x] \\\"GET /\\\\ HTTP/1.1\" 200 1\n"
        );
        let controls = format_line(&entry(v4(1, 2, 3, 4), None, "A\r\t\0\x1b\x7fé", None));
        assert!(controls.contains("\"A\\x0d\\x09\\x00\\x1b\\x7fé\""));
    }

    #[test]
    fn denied() {
        assert_eq!(
            denied_line(v4(203, 0, 113, 9), T, 3600),
            "::ffff:203.0.113.9 - - [24/11/2026:22:30:00 +0100] \"-\" 403 -\n"
        );
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            denied_line(v6, T, 0),
            "::1 - - [24/11/2026:21:30:00 +0000] \"-\" 403 -\n"
        );
    }

    #[test]
    fn request_line_from_parts() {
        let parts = |method: &str, uri: &str, version: Version| {
            Request::builder()
                .method(method)
                .uri(uri)
                .version(version)
                .body(())
                .expect("valid")
                .into_parts()
                .0
        };
        assert_eq!(
            request_line(&parts(
                "GET",
                "/api2/json/version?_dc=1&vncticket=x",
                Version::HTTP_11
            )),
            "GET /api2/json/version?_dc=1&vncticket=x HTTP/1.1"
        );
        assert_eq!(
            request_line(&parts("POST", "/", Version::HTTP_10)),
            "POST / HTTP/1.0"
        );
        assert_eq!(
            request_line(&parts("GET", "http://host:8006/x?y", Version::HTTP_11)),
            "GET http://host:8006/x?y HTTP/1.1"
        );
        assert_eq!(
            request_line(&parts("GET", "/", Version::HTTP_2)),
            "GET / HTTP/2.0"
        );
    }

    #[test]
    fn real_ip_header() {
        let peer = v4(10, 0, 0, 1);
        assert_eq!(client_for_log(peer, None, None), peer);
        assert_eq!(
            client_for_log(peer, Some(b"192.0.2.9"), None),
            v4(192, 0, 2, 9)
        );
        assert_eq!(
            client_for_log(peer, Some(b" 192.0.2.9 "), None),
            v4(192, 0, 2, 9)
        );
        assert_eq!(
            client_for_log(peer, Some(b"2001:db8::5"), None),
            IpAddr::V6("2001:db8::5".parse().expect("literal"))
        );
        // Not ONE address: ignored.
        for value in [
            &b"192.0.2.9, 198.51.100.1"[..],
            b"",
            b"unknown",
            b"10.0.0.0/8",
            b"\xff",
        ] {
            assert_eq!(client_for_log(peer, Some(value), None), peer, "{value:?}");
        }
    }

    #[test]
    fn real_ip_only_from_allowed_proxies() {
        let allowed = AddrList::parse("10.0.0.0/8").expect("valid list").list;
        let header = Some(&b"192.0.2.9"[..]);
        assert_eq!(
            client_for_log(v4(10, 1, 2, 3), header, Some(&allowed)),
            v4(192, 0, 2, 9)
        );
        // A dual-stack peer `::ffff:10.1.2.3` is judged as IPv4.
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped());
        assert_eq!(
            client_for_log(mapped, header, Some(&allowed)),
            v4(192, 0, 2, 9)
        );
        let outsider = v4(172, 16, 0, 1);
        assert_eq!(client_for_log(outsider, header, Some(&allowed)), outsider);
    }
}
