//! Proxmox's request limits, checked on the request head before any body is read.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §5 "Request limits"; the checks run
//! in the order Proxmox's `push_request_header` / `unshift_read_header` run them, with its
//! messages:
//!
//! | rule | status | message |
//! |---|---|---|
//! | not HTTP/1.0 or 1.1 | 506 | `http protocol version 2.0 not supported` |
//! | `@` before the first `/` of the target | 400 | `invalid url` |
//! | method other than GET, POST, PUT, DELETE | 501 | `method 'HEAD' not available` |
//! | `Transfer-Encoding: chunked` | 501 | `chunked transfer encoding not supported` |
//! | any other `Transfer-Encoding` | 501 | `Unknown transfer encoding 'gzip'` |
//! | a body on anything but POST/PUT | 501 | `Unexpected content for method 'GET'` |
//! | `Content-Length` > [`BODY_LEN_MAX`] | 501 | `for data too large` |
//! | a body typed other than urlencoded or JSON | 506 | `upload 'Content-Type 'text/plain' not implemented` |
//!
//! The header-count and header-size limits are hyper's (configured by io from
//! [`HEADER_LINES_MAX`](super::HEADER_LINES_MAX) / [`HEADER_BYTES_MAX`](super::HEADER_BYTES_MAX)):
//! it answers 431 where Proxmox sends nothing and lets the connection time out.

use http::header::{self, HeaderMap};
use http::request::Parts;
use http::{Method, StatusCode, Version};

use super::{BODY_LEN_MAX, Reply, generic_error, version_number};

/// Proxmox answers protocol and content-type problems with a bare 506 (not 505 or 415); the
/// reason phrase is the message, so its registered name ("Variant Also Negotiates") never shows.
const PROXMOX_506: StatusCode = StatusCode::VARIANT_ALSO_NEGOTIATES;

/// A "generic error" (AE `error`): message on the status line, body repeats it, no Content-Type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct Rejection {
    pub status: StatusCode,
    pub message: String,
}

impl Rejection {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
        }
    }

    /// The reply to send; the connection closes after it (every rejection is >= 400).
    pub fn reply(&self) -> Reply {
        generic_error(self.status, &self.message)
    }
}

/// Checks a request head (hyper already refused > 64 header lines / > 8 KiB with 431). Proxmox's
/// rules, in Proxmox's order; see the module table for every status and message.
///
/// Difference: the content type is compared case-insensitively (media types are, per RFC 9110);
/// Proxmox compares it case-sensitively and refuses `Application/JSON` with 506.
pub fn check_head(parts: &Parts) -> Result<(), Rejection> {
    check_version(parts.version)?;
    check_target(&parts.uri)?;
    check_method(&parts.method)?;
    check_transfer_encoding(&parts.headers)?;
    check_body(&parts.method, &parts.headers)
}

fn check_version(version: Version) -> Result<(), Rejection> {
    if version == Version::HTTP_10 || version == Version::HTTP_11 {
        return Ok(());
    }
    Err(Rejection::new(
        PROXMOX_506,
        format!(
            "http protocol version {} not supported",
            version_number(version)
        ),
    ))
}

/// An `@` before the first `/` could make a proxy further on read the start of the target as
/// user info of an authority (Proxmox's check, `m|^[^/]*@|`).
fn check_target(uri: &http::Uri) -> Result<(), Rejection> {
    let target = uri.to_string();
    let before_slash = target.split('/').next().unwrap_or_default();
    if before_slash.contains('@') {
        return Err(Rejection::new(StatusCode::BAD_REQUEST, "invalid url"));
    }
    Ok(())
}

fn check_method(method: &Method) -> Result<(), Rejection> {
    if [Method::GET, Method::POST, Method::PUT, Method::DELETE].contains(method) {
        return Ok(());
    }
    Err(Rejection::new(
        StatusCode::NOT_IMPLEMENTED,
        format!("method '{method}' not available"),
    ))
}

fn check_transfer_encoding(headers: &HeaderMap) -> Result<(), Rejection> {
    let Some(value) = joined(headers, &header::TRANSFER_ENCODING) else {
        return Ok(());
    };
    if value.eq_ignore_ascii_case("chunked") {
        return Err(Rejection::new(
            StatusCode::NOT_IMPLEMENTED,
            "chunked transfer encoding not supported",
        ));
    }
    Err(Rejection::new(
        StatusCode::NOT_IMPLEMENTED,
        format!("Unknown transfer encoding '{value}'"),
    ))
}

/// A body is a `Content-Length` above zero (any `Transfer-Encoding` was refused before).
fn check_body(method: &Method, headers: &HeaderMap) -> Result<(), Rejection> {
    let length = match headers.get(header::CONTENT_LENGTH) {
        None => return Ok(()),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            // hyper refuses these before we see them; answer sensibly regardless.
            .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "invalid Content-Length"))?,
    };
    if length == 0 {
        return Ok(());
    }
    if *method != Method::POST && *method != Method::PUT {
        return Err(Rejection::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("Unexpected content for method '{method}'"),
        ));
    }
    if length > BODY_LEN_MAX {
        return Err(Rejection::new(
            StatusCode::NOT_IMPLEMENTED,
            "for data too large",
        ));
    }
    check_content_type(headers)
}

/// None, `application/x-www-form-urlencoded` or `application/json`, parameters allowed.
/// (Multipart uploads to the storage upload endpoint come with a later issue.)
fn check_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let Some(value) = joined(headers, &header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media_type = media_type(&value);
    let accepted = media_type.is_empty()
        || media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        || media_type.eq_ignore_ascii_case("application/json");
    if accepted {
        return Ok(());
    }
    Err(Rejection::new(
        PROXMOX_506,
        // Proxmox's wording, stray quote included.
        format!("upload 'Content-Type '{value}' not implemented"),
    ))
}

/// Proxmox's `parse_content_type`: the media type is the part before the first `;` or `,`,
/// trimmed (compare it case-insensitively).
pub(crate) fn media_type(content_type: &str) -> &str {
    content_type
        .split([';', ','])
        .next()
        .unwrap_or_default()
        .trim()
}

/// Every value of a header joined with ", " (as Perl's HTTP::Headers returns it), bytes that
/// are not UTF-8 replaced; `None` when the header is absent.
fn joined(headers: &HeaderMap, name: &header::HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Vec<String> = values
        .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
        .collect();
    Some(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use http::Request;

    use super::*;

    fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> Parts {
        head_version(method, target, Version::HTTP_11, headers)
    }

    fn head_version(
        method: &str,
        target: &str,
        version: Version,
        headers: &[(&str, &str)],
    ) -> Parts {
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .version(version);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("valid test request").into_parts().0
    }

    fn rejected(parts: &Parts) -> (u16, String) {
        let rejection = check_head(parts).expect_err("should be rejected");
        (rejection.status.as_u16(), rejection.message)
    }

    fn r(status: u16, message: &str) -> (u16, String) {
        (status, message.to_owned())
    }

    #[test]
    fn plain_requests_pass() {
        assert_eq!(check_head(&head("GET", "/api2/json/version", &[])), Ok(()));
        assert_eq!(check_head(&head("DELETE", "/x", &[])), Ok(()));
        assert_eq!(
            check_head(&head_version("GET", "/", Version::HTTP_10, &[])),
            Ok(())
        );
    }

    #[test]
    fn only_http_1_0_and_1_1() {
        for (version, text) in [
            (Version::HTTP_09, "0.9"),
            (Version::HTTP_2, "2.0"),
            (Version::HTTP_3, "3.0"),
        ] {
            assert_eq!(
                rejected(&head_version("GET", "/", version, &[])),
                r(506, &format!("http protocol version {text} not supported"))
            );
        }
    }

    #[test]
    fn at_sign_before_first_slash() {
        assert_eq!(
            rejected(&head("GET", "user@evil.example:80", &[])),
            r(400, "invalid url")
        );
        // After the first slash it is just part of the path.
        assert_eq!(check_head(&head("GET", "/a@b", &[])), Ok(()));
        // Absolute form: the first slash is the scheme's, so Proxmox lets this through too.
        assert_eq!(check_head(&head("GET", "http://user@host/x", &[])), Ok(()));
    }

    #[test]
    fn only_four_methods() {
        for method in ["HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PROPFIND"] {
            let target = if method == "CONNECT" { "host:443" } else { "/" };
            assert_eq!(
                rejected(&head(method, target, &[])),
                r(501, &format!("method '{method}' not available"))
            );
        }
        for method in ["GET", "POST", "PUT", "DELETE"] {
            assert_eq!(check_head(&head(method, "/", &[])), Ok(()));
        }
    }

    #[test]
    fn any_transfer_encoding() {
        assert_eq!(
            rejected(&head("POST", "/", &[("transfer-encoding", "chunked")])),
            r(501, "chunked transfer encoding not supported")
        );
        assert_eq!(
            rejected(&head("POST", "/", &[("transfer-encoding", "Chunked")])),
            r(501, "chunked transfer encoding not supported")
        );
        assert_eq!(
            rejected(&head(
                "POST",
                "/",
                &[("transfer-encoding", "gzip, chunked")]
            )),
            r(501, "Unknown transfer encoding 'gzip, chunked'")
        );
        assert_eq!(
            rejected(&head(
                "GET",
                "/",
                &[
                    ("transfer-encoding", "gzip"),
                    ("transfer-encoding", "chunked")
                ]
            )),
            r(501, "Unknown transfer encoding 'gzip, chunked'")
        );
    }

    #[test]
    fn body_length_at_the_edge() {
        let at = BODY_LEN_MAX.to_string();
        let over = (BODY_LEN_MAX + 1).to_string();
        assert_eq!(at, "524288");
        assert_eq!(
            check_head(&head("POST", "/", &[("content-length", &at)])),
            Ok(())
        );
        assert_eq!(
            check_head(&head("PUT", "/", &[("content-length", &at)])),
            Ok(())
        );
        assert_eq!(
            rejected(&head("POST", "/", &[("content-length", &over)])),
            r(501, "for data too large")
        );
        assert_eq!(
            rejected(&head(
                "POST",
                "/",
                &[("content-length", "18446744073709551615")]
            )),
            r(501, "for data too large")
        );
    }

    #[test]
    fn no_body_on_get_or_delete() {
        assert_eq!(
            rejected(&head("GET", "/", &[("content-length", "1")])),
            r(501, "Unexpected content for method 'GET'")
        );
        assert_eq!(
            rejected(&head("DELETE", "/", &[("content-length", "10")])),
            r(501, "Unexpected content for method 'DELETE'")
        );
        // Content-Length: 0 is no body.
        assert_eq!(
            check_head(&head("GET", "/", &[("content-length", "0")])),
            Ok(())
        );
        // The method rule comes before the size rule, as in Proxmox.
        assert_eq!(
            rejected(&head("GET", "/", &[("content-length", "999999999")])),
            r(501, "Unexpected content for method 'GET'")
        );
    }

    #[test]
    fn content_types() {
        let ok = [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("application/x-www-form-urlencoded;charset=UTF-8"),
            Some("Application/JSON"),
            Some(""),
        ];
        for content_type in ok {
            let mut headers = vec![("content-length", "2")];
            headers.extend(content_type.map(|ct| ("content-type", ct)));
            assert_eq!(
                check_head(&head("POST", "/", &headers)),
                Ok(()),
                "{content_type:?}"
            );
        }
        assert_eq!(
            rejected(&head(
                "POST",
                "/",
                &[("content-length", "2"), ("content-type", "text/plain")]
            )),
            r(506, "upload 'Content-Type 'text/plain' not implemented")
        );
        assert_eq!(
            rejected(&head(
                "PUT",
                "/",
                &[
                    ("content-length", "2"),
                    ("content-type", "multipart/form-data; boundary=x")
                ]
            )),
            r(
                506,
                "upload 'Content-Type 'multipart/form-data; boundary=x' not implemented"
            )
        );
        // Without a body the content type does not matter.
        assert_eq!(
            check_head(&head("POST", "/", &[("content-type", "text/plain")])),
            Ok(())
        );
        assert_eq!(
            check_head(&head(
                "POST",
                "/",
                &[("content-length", "0"), ("content-type", "text/plain")]
            )),
            Ok(())
        );
    }

    #[test]
    fn odd_bytes_never_panic() {
        let mut parts = head("POST", "/", &[("content-length", "5")]);
        parts.headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_bytes(b"text/\xff\xfe").expect("obs-text is allowed"),
        );
        assert_eq!(
            rejected(&parts),
            r(
                506,
                "upload 'Content-Type 'text/\u{fffd}\u{fffd}' not implemented"
            )
        );
        let bad_length = head("POST", "/", &[("content-length", "12abc")]);
        assert_eq!(rejected(&bad_length), r(400, "invalid Content-Length"));
        let negative = head("POST", "/", &[("content-length", "-1")]);
        assert_eq!(rejected(&negative), r(400, "invalid Content-Length"));
    }

    #[test]
    fn rejection_reply_is_a_generic_error() {
        let rejection = check_head(&head("HEAD", "/", &[])).expect_err("HEAD is refused");
        let reply = rejection.reply();
        assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(reply.reason, "method 'HEAD' not available");
        assert_eq!(reply.content_type, None);
        assert_eq!(reply.body, b"method 'HEAD' not available\n");
        assert!(super::super::closes_connection(reply.status));
    }
}
