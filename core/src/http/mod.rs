//! The HTTP-layer decisions pveproxy makes, as pure functions: the io crate parses with hyper,
//! asks these functions, and writes what they return.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §3 (plain HTTP, certificates), §4
//! (compression), §5 (limits, keep-alive), §6 (response format) and §8 (access log).
//!
//! A request goes through, in order:
//! 1. [`limits::check_head`]: Proxmox's request limits, a [`limits::Rejection`] when broken;
//! 2. [`api::route`]: `/`, `/api2/<format>/<path>` or a static path, a [`api::RouteError`] when
//!    nothing answers;
//! 3. for API calls, authentication and [`crate::api::decide`], then a handler, then
//!    [`api::render`] in the request's [`api::Format`].
//!
//! What comes out is a [`Reply`]; io adds [`common_headers`], compresses when
//! [`compress::choose_encoding`] says so, sets `Content-Length`, and closes the connection when
//! [`closes_connection`] says so. [`access_log`] formats the log line.
//!
//! Where corral deliberately differs from Proxmox, the item says so under "Difference".

use std::collections::BTreeMap;
use std::time::Duration;

use http::header::{self, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::time::UnixTime;

pub mod access_log;
pub mod api;
pub mod cert;
pub mod compress;
pub mod limits;
pub mod redirect;

/// The `http` crate these signatures are written in, re-exported so callers (and the snapshot
/// tests) build requests with the very same types.
pub use ::http;

pub use api::{
    Format, RouteError, Target, VersionInfo, generic_error, index_page, render, route, version_data,
};
pub use cert::{CertPaths, choose_certificate};
pub use compress::{Encoding, choose_encoding};
pub use limits::{Rejection, check_head};
pub use redirect::plain_http_redirect;

/// Largest request body accepted (Proxmox's `$limit_max_post`, 512 KiB since fix #6230).
pub const BODY_LEN_MAX: u64 = 512 * 1024;
/// Most header lines in a request head (Proxmox's `$limit_max_headers`).
pub const HEADER_LINES_MAX: usize = 64;
/// Most bytes in a request head (Proxmox's `$limit_max_header_size`).
pub const HEADER_BYTES_MAX: usize = 8 * 1024;
/// How long an idle keep-alive connection is kept (Proxmox's `timeout`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The `Server` header Proxmox sends.
pub const SERVER: &str = "pve-api-daemon/3.0";

/// An error as Proxmox's API formatter reports it: a status, a message (its first line becomes
/// the reason phrase) and, for parameter errors, a message per parameter.
///
/// Messages are rendered verbatim. Proxmox's handler errors come from `die "…\n"` and so usually
/// end in a newline, which shows in the JSON `message`; its own "not implemented" message has
/// none. Constructors here follow whichever Proxmox does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
        }
    }

    /// 501 "Method 'GET /x' not implemented": what Proxmox answers when no handler matches
    /// (never 404). `path` is the path below `/api2/<format>`.
    pub fn not_implemented(method: &Method, path: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("Method '{method} {path}' not implemented"),
        )
    }

    /// 403 "Permission check failed (`what`)", as Proxmox's `raise_perm_exc` words it.
    pub fn permission_denied(what: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Permission check failed ({what})\n"),
        )
    }

    /// 400 "Parameter verification failed." with a message per parameter, as Proxmox's
    /// `raise_param_exc` reports it.
    pub fn parameters(errors: BTreeMap<String, String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: "Parameter verification failed.\n".to_owned(),
            errors,
        }
    }
}

/// A finished reply for io to send (io adds common headers, compression, Content-Length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    /// The reason phrase to put on the status line. Always valid there: no CR, LF or other
    /// control character except tab (hyper's `ReasonPhrase` accepts it as is).
    pub reason: String,
    pub content_type: Option<&'static str>,
    /// Extra headers, e.g. `Location`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
    /// Whether io may compress the body (Proxmox's `nocomp` inverted).
    pub compressible: bool,
}

/// Headers on every response: Cache-Control: max-age=0, Pragma: no-cache, Expires = Date = now,
/// Server. In the order Proxmox's HTTP::Headers prints them (general, response, entity).
pub fn common_headers(now: UnixTime) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (header::CACHE_CONTROL, HeaderValue::from_static("max-age=0")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
        (header::SERVER, HeaderValue::from_static(SERVER)),
    ];
    // An IMF-fixdate is plain ASCII, so this always succeeds; never panic regardless.
    if let Ok(date) = HeaderValue::try_from(now.http_date()) {
        headers.insert(1, (header::DATE, date.clone()));
        headers.push((header::EXPIRES, date));
    }
    headers
}

/// Whether the connection must close after this reply: every status >= 400 closes (Proxmox).
pub fn closes_connection(status: StatusCode) -> bool {
    status.as_u16() >= 400
}

/// TLS autostart: a TLS connection begins with a handshake record (0x16).
pub fn looks_like_tls(first_byte: u8) -> bool {
    first_byte == 0x16
}

/// The reason phrase Proxmox puts on the status line for `message`: its first line, or the
/// status's canonical reason when that line is empty. `None` when the line cannot stand on a
/// status line — Proxmox turns a CR into a plain 400 there; corral does the same for every other
/// control character but tab (Difference: Proxmox would send those raw).
fn reason_phrase(status: StatusCode, message: &str) -> Option<String> {
    let first = message.split('\n').next().unwrap_or_default();
    if first.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return None;
    }
    if first.is_empty() {
        return Some(canonical_reason(status).to_owned());
    }
    Some(first.to_owned())
}

/// The protocol version as the request line writes it after `HTTP/` (`?` for one `http` may
/// add later).
fn version_number(version: Version) -> &'static str {
    if version == Version::HTTP_09 {
        "0.9"
    } else if version == Version::HTTP_10 {
        "1.0"
    } else if version == Version::HTTP_11 {
        "1.1"
    } else if version == Version::HTTP_2 {
        "2.0"
    } else if version == Version::HTTP_3 {
        "3.0"
    } else {
        "?"
    }
}

fn canonical_reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_headers_carry_date_twice_and_no_cache() {
        let headers = common_headers(UnixTime(1_795_555_800));
        let shown: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().expect("ascii")))
            .collect();
        assert_eq!(
            shown,
            [
                ("cache-control", "max-age=0"),
                ("date", "Tue, 24 Nov 2026 21:30:00 GMT"),
                ("pragma", "no-cache"),
                ("server", "pve-api-daemon/3.0"),
                ("expires", "Tue, 24 Nov 2026 21:30:00 GMT"),
            ]
        );
    }

    #[test]
    fn every_status_from_400_closes() {
        assert!(!closes_connection(StatusCode::OK));
        assert!(!closes_connection(StatusCode::MOVED_PERMANENTLY));
        assert!(!closes_connection(StatusCode::PERMANENT_REDIRECT));
        assert!(!closes_connection(
            StatusCode::from_u16(399).expect("valid")
        ));
        assert!(closes_connection(StatusCode::BAD_REQUEST));
        assert!(closes_connection(StatusCode::UNAUTHORIZED));
        assert!(closes_connection(StatusCode::NOT_IMPLEMENTED));
        assert!(closes_connection(StatusCode::from_u16(596).expect("valid")));
    }

    #[test]
    fn tls_starts_with_a_handshake_record() {
        assert!(looks_like_tls(0x16));
        assert!(!looks_like_tls(b'G'));
        assert!(!looks_like_tls(b'P'));
        assert!(!looks_like_tls(0x80)); // SSLv2-style hello: not accepted
    }

    #[test]
    fn reason_is_the_first_line() {
        let s = StatusCode::NOT_IMPLEMENTED;
        assert_eq!(reason_phrase(s, "a\nb").as_deref(), Some("a"));
        assert_eq!(reason_phrase(s, "a\n").as_deref(), Some("a"));
        assert_eq!(reason_phrase(s, "").as_deref(), Some("Not Implemented"));
        assert_eq!(reason_phrase(s, "\nb").as_deref(), Some("Not Implemented"));
        assert_eq!(reason_phrase(s, "tab\there").as_deref(), Some("tab\there"));
        assert_eq!(reason_phrase(s, "ünïcode").as_deref(), Some("ünïcode"));
        assert_eq!(reason_phrase(s, "cr\r\nlf"), None);
        assert_eq!(reason_phrase(s, "nul\0"), None);
        assert_eq!(reason_phrase(s, "del\x7f"), None);
        // A CR after the first line does not matter: only the first line is sent.
        assert_eq!(reason_phrase(s, "ok\nthen\r").as_deref(), Some("ok"));
    }

    #[test]
    fn api_error_constructors() {
        let e = ApiError::not_implemented(&Method::GET, "/x");
        assert_eq!(e.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(e.message, "Method 'GET /x' not implemented");
        assert!(e.errors.is_empty());
        assert_eq!(
            e.to_string(),
            "501 Not Implemented: Method 'GET /x' not implemented"
        );
        let errors = BTreeMap::from([("vmid".to_owned(), "invalid format".to_owned())]);
        let p = ApiError::parameters(errors.clone());
        assert_eq!(p.status, StatusCode::BAD_REQUEST);
        assert_eq!(p.message, "Parameter verification failed.\n");
        assert_eq!(p.errors, errors);
    }
}
