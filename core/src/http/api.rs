//! Routing and Proxmox's response formats.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §5 (routing) and §6 (formats), and
//! pve-http-server's `Formatter/Standard.pm` and `AnyEvent.pm` (`handle_request`,
//! `handle_api2_request`, `response`, `error`).
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | [`Target::Index`] |
//! | `/api2…` without a `[a-z][a-z0-9]+` format segment | 501 `no such uri` (generic) |
//! | `/api2/<format>/…`, format other than json/extjs | 501 `no formatter for uri /version, xml` (generic) |
//! | `/api2/<format>/<path>` with no handler | 501 `Method 'GET /path' not implemented` (in the format) |
//! | any other path | 500 `no such file '/path'` (generic) |
//!
//! Paths are percent-decoded first, as Proxmox does (`uri_unescape`).
//!
//! Difference: Proxmox also has the `htmljs`, `html` (API viewer), `spiceconfig` and `png`
//! formats and serves static files (`/pve2/…`, `/novnc/…`, …); corral answers those as it
//! answers any unknown format or file, until an issue brings them.

use http::{Method, StatusCode};
use serde_json::Value;

use super::{ApiError, Reply, canonical_reason, reason_phrase};
use crate::escape::uri_unescape_lossy;

/// Where the API lives (Proxmox's `base_uri`).
const API_BASE: &str = "/api2";
const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// An API response format, the `<format>` in `/api2/<format>/<path>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `{"data":…}`, errors with their real status.
    Json,
    /// ExtJS's envelope: always 200, with `success`.
    Extjs,
}

impl Format {
    /// The format as written in the URL.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Extjs => "extjs",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "extjs" => Some(Format::Extjs),
            _ => None,
        }
    }
}

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `GET /`: the index page.
    Index,
    /// An API call to `path` (below `/api2/<format>`, percent-decoded), to be rendered in
    /// `format`; [`crate::api::decide`] finds its method. `format` is the 501 "no formatter for
    /// uri" error when corral cannot render the format named: Proxmox authenticates such a call
    /// first and answers that error only to a caller who passed.
    Api {
        format: Result<Format, RouteError>,
        path: String,
    },
}

/// Why a request has no target: render `error` in `format`, or as a generic error when there
/// is none (the request never named a format Proxmox knows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct RouteError {
    pub format: Option<Format>,
    pub error: ApiError,
}

impl RouteError {
    /// The reply for this error, in its format or generic.
    pub fn reply(&self) -> Reply {
        match self.format {
            Some(format) => render(format, Err(self.error.clone())),
            None => generic_error(self.error.status, &self.error.message),
        }
    }
}

/// Routes a request: `/` (GET) -> Index; `/api2/<format>/<path>` with format `[a-z][a-z0-9]+`;
/// missing format -> 501 "no such uri"; unknown format -> an API target whose format is 501
/// "no formatter for uri" (answered after authentication). Whether a
/// handler exists is [`crate::api::decide`]'s question (501 "Method 'GET /x' not implemented",
/// never 404), asked after authentication as Proxmox does. Other paths: 500 "no such file"
/// (generic error), as Proxmox answers for static files it does not have.
///
/// `path` is the request target's path, still percent-encoded, without the query.
pub fn route(method: &Method, path: &str) -> Result<Target, RouteError> {
    let path = uri_unescape_lossy(path);
    if path.starts_with(API_BASE) {
        return route_api(&path);
    }
    if *method == Method::GET && path == "/" {
        return Ok(Target::Index);
    }
    Err(RouteError {
        format: None,
        error: ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no such file '{path}'\n"),
        ),
    })
}

fn route_api(path: &str) -> Result<Target, RouteError> {
    let generic = |message: String| RouteError {
        format: None,
        error: ApiError::new(StatusCode::NOT_IMPLEMENTED, message),
    };
    let Some((format_name, rel)) = split_api_path(path) else {
        return Err(generic("no such uri".to_owned()));
    };
    let format = Format::from_name(format_name)
        .ok_or_else(|| generic(format!("no formatter for uri {rel}, {format_name}")));
    Ok(Target::Api {
        format,
        path: rel.to_owned(),
    })
}

/// Proxmox's `split_abs_uri`, `m/^\/api2\/+([a-z][a-z0-9]+)(\/.*)?$/`: the format and the path
/// below it (`/` when empty). `None` when the format segment is missing or malformed.
fn split_api_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(API_BASE)?.strip_prefix('/')?;
    let rest = rest.trim_start_matches('/');
    let (format, rel) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut chars = format.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = format.len() >= 2 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    // Perl's `.` does not match a newline.
    if !first_ok || !rest_ok || rel.contains('\n') {
        return None;
    }
    Some((format, if rel.is_empty() { "/" } else { rel }))
}

/// Renders a handler result in a format, as Proxmox's `Formatter/Standard.pm`:
///
/// | | json | extjs |
/// |---|---|---|
/// | ok | 200 `{"data":…}` | 200 `{"data":…,"success":1}` |
/// | error | real status, reason = first line of message, `{"data":null,"message":"…"}` | 200 `{"data":null,"message":"…","status":501,"success":0}` |
///
/// Errors add `"errors":{param:msg}` when there are any. Keys are sorted (Perl's JSON prints
/// them in hash order, which varies; sorted is one of those orders and stable). An empty message
/// is replaced by the status's reason, as Proxmox does. A reason phrase that cannot go on a
/// status line (a CR in the first line) turns the reply into a plain 400, as Proxmox does.
pub fn render(format: Format, result: Result<Value, ApiError>) -> Reply {
    let (status, body) = match (&result, format) {
        (Ok(data), Format::Json) => (StatusCode::OK, envelope([("data", data.clone())])),
        (Ok(data), Format::Extjs) => (
            StatusCode::OK,
            envelope([("data", data.clone()), ("success", Value::from(1))]),
        ),
        (Err(error), Format::Json) => (error.status, error_envelope(error, [])),
        (Err(error), Format::Extjs) => (
            StatusCode::OK,
            error_envelope(
                error,
                [
                    ("status", Value::from(error.status.as_u16())),
                    ("success", Value::from(0)),
                ],
            ),
        ),
    };
    let reason = match (&result, format) {
        (Err(error), Format::Json) => reason_phrase(status, &error.message),
        _ => Some(canonical_reason(status).to_owned()),
    };
    let Some(reason) = reason else {
        return bad_request();
    };
    Reply {
        status,
        reason,
        content_type: Some(JSON_CONTENT_TYPE),
        headers: Vec::new(),
        body: body.into_bytes(),
        compressible: true,
    }
}

/// `{"data":null,"errors":…,"message":…}` plus `extra` (keys sorting after `message`).
fn error_envelope<const N: usize>(error: &ApiError, extra: [(&'static str, Value); N]) -> String {
    let mut fields = vec![("data", Value::Null)];
    if !error.errors.is_empty() {
        let errors: serde_json::Map<String, Value> = error
            .errors
            .iter()
            .map(|(param, message)| (param.clone(), Value::String(message.clone())))
            .collect();
        fields.push(("errors", Value::Object(errors)));
    }
    fields.push(("message", Value::String(message_or_reason(error))));
    fields.extend(extra);
    envelope(fields)
}

/// A JSON object with its fields in the order given (callers give them sorted). Written by hand
/// so the order holds whatever serde_json features other crates turn on.
fn envelope(fields: impl IntoIterator<Item = (&'static str, Value)>) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

/// Proxmox: `"$res->{message}" || status_message($res->{status})`.
fn message_or_reason(error: &ApiError) -> String {
    if error.message.is_empty() {
        canonical_reason(error.status).to_owned()
    } else {
        error.message.clone()
    }
}

/// The reply Proxmox substitutes when a reason phrase would break the status line.
fn bad_request() -> Reply {
    generic_error(StatusCode::BAD_REQUEST, "Bad Request")
}

/// What `GET /api2/<format>/version` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: String,
    pub release: String,
    pub repoid: String,
}

/// `{"release":…,"repoid":…,"version":…}`, the data of `GET /version`.
pub fn version_data(info: &VersionInfo) -> Value {
    let fields = [
        ("release", &info.release),
        ("repoid", &info.repoid),
        ("version", &info.version),
    ];
    Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Value::String(value.clone())))
            .collect(),
    )
}

/// `GET /`: a small, valid HTML5 page naming the node (its name HTML-escaped),
/// `text/html; charset=utf-8`.
///
/// Difference: Proxmox serves its web interface here; corral has none yet.
pub fn index_page(node: &str) -> Reply {
    let node = escape_html(node);
    let body = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <title>{node} - Proxmox Virtual Environment</title>\n\
         </head>\n\
         <body>\n\
         <h1>{node}</h1>\n\
         <p>This node is served by corral. The API is at <a href=\"/api2/json/version\">/api2/json</a>.</p>\n\
         </body>\n\
         </html>\n"
    );
    Reply {
        status: StatusCode::OK,
        reason: canonical_reason(StatusCode::OK).to_owned(),
        content_type: Some(HTML_CONTENT_TYPE),
        headers: Vec::new(),
        body: body.into_bytes(),
        compressible: true,
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Generic error reply for RouteError without a format / Rejection: the status line carries the
/// message's first line, the body repeats the whole message (ending in a newline), no
/// Content-Type. A first line that cannot go on a status line gives a plain 400 instead, as
/// Proxmox does.
pub fn generic_error(status: StatusCode, message: &str) -> Reply {
    let Some(reason) = reason_phrase(status, message) else {
        return bad_request();
    };
    let mut body = if message.is_empty() {
        reason.clone()
    } else {
        message.to_owned()
    };
    if !body.ends_with('\n') {
        body.push('\n');
    }
    Reply {
        status,
        reason,
        content_type: None,
        headers: Vec::new(),
        body: body.into_bytes(),
        compressible: true,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn routed(method: Method, path: &str) -> Result<Target, (Option<Format>, u16, String)> {
        route(&method, path).map_err(|e| (e.format, e.error.status.as_u16(), e.error.message))
    }

    fn api(format: Format, path: &str) -> Result<Target, (Option<Format>, u16, String)> {
        Ok(Target::Api {
            format: Ok(format),
            path: path.to_owned(),
        })
    }

    fn err(
        format: Option<Format>,
        status: u16,
        message: &str,
    ) -> Result<Target, (Option<Format>, u16, String)> {
        Err((format, status, message.to_owned()))
    }

    fn body(reply: &Reply) -> &str {
        std::str::from_utf8(&reply.body).expect("utf-8 body")
    }

    #[test]
    fn index_and_version() {
        assert_eq!(routed(Method::GET, "/"), Ok(Target::Index));
        assert_eq!(
            routed(Method::GET, "/api2/json/version"),
            api(Format::Json, "/version")
        );
        assert_eq!(
            routed(Method::GET, "/api2/extjs/version"),
            api(Format::Extjs, "/version")
        );
        // Empty segments are skipped later, as Proxmox's find_handler does.
        assert_eq!(
            routed(Method::GET, "/api2//json//version/"),
            api(Format::Json, "//version/")
        );
        // Percent-encoding is decoded before routing.
        assert_eq!(
            routed(Method::GET, "/api2/json/%76ersion"),
            api(Format::Json, "/version")
        );
    }

    #[test]
    fn missing_or_malformed_format_is_no_such_uri() {
        for path in [
            "/api2",
            "/api2/",
            "/api2//",
            "/api2/JSON/version",
            "/api2/j/version",
            "/api2/1json/version",
            "/api2/js-on/version",
            "/api2x/json/version",
            "/api2json",
        ] {
            assert_eq!(
                routed(Method::GET, path),
                err(None, 501, "no such uri"),
                "{path}"
            );
        }
    }

    /// The path still routes (authentication comes first); the format carries the 501.
    #[test]
    fn unknown_format_has_no_formatter() {
        for (path, rel, message) in [
            (
                "/api2/xml/version",
                "/version",
                "no formatter for uri /version, xml",
            ),
            ("/api2/html", "/", "no formatter for uri /, html"),
        ] {
            let Ok(Target::Api {
                format: Err(error),
                path: routed_rel,
            }) = route(&Method::GET, path)
            else {
                panic!("{path} should route with a format error");
            };
            assert_eq!(routed_rel, rel);
            assert_eq!(error.format, None);
            assert_eq!(error.error.status.as_u16(), 501);
            assert_eq!(error.error.message, message);
        }
    }

    #[test]
    fn other_paths_are_no_such_file() {
        assert_eq!(
            routed(Method::GET, "/favicon.ico"),
            err(None, 500, "no such file '/favicon.ico'\n")
        );
        assert_eq!(
            routed(Method::POST, "/"),
            err(None, 500, "no such file '/'\n")
        );
        assert_eq!(
            routed(Method::GET, "/a%20b"),
            err(None, 500, "no such file '/a b'\n")
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(uri_unescape_lossy("/a%2Fb%2fc"), "/a/b/c");
        assert_eq!(uri_unescape_lossy("/%"), "/%");
        assert_eq!(uri_unescape_lossy("/%4"), "/%4");
        assert_eq!(uri_unescape_lossy("/%zz%41"), "/%zzA");
        assert_eq!(uri_unescape_lossy("/%C3%A9"), "/é");
        assert_eq!(uri_unescape_lossy("/%FF"), "/\u{fffd}");
    }

    #[test]
    fn a_cr_in_a_path_gives_a_plain_400() {
        let error = route(&Method::GET, "/x%0D%0Ay").expect_err("no such file");
        let reply = error.reply();
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.reason, "Bad Request");
        assert_eq!(body(&reply), "Bad Request\n");
        // A bare LF just ends the first line.
        let reply = route(&Method::GET, "/x%0Ay")
            .expect_err("no such file")
            .reply();
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.reason, "no such file '/x");
        assert_eq!(body(&reply), "no such file '/x\ny'\n");
    }

    fn version() -> Value {
        version_data(&VersionInfo {
            version: "9.0.3".to_owned(),
            release: "9.0".to_owned(),
            repoid: "025a9b6e".to_owned(),
        })
    }

    #[test]
    fn json_success() {
        let reply = render(Format::Json, Ok(version()));
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.reason, "OK");
        assert_eq!(reply.content_type, Some("application/json;charset=UTF-8"));
        assert_eq!(
            body(&reply),
            r#"{"data":{"release":"9.0","repoid":"025a9b6e","version":"9.0.3"}}"#
        );
        assert!(reply.compressible);
    }

    #[test]
    fn extjs_success() {
        let reply = render(Format::Extjs, Ok(version()));
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            body(&reply),
            r#"{"data":{"release":"9.0","repoid":"025a9b6e","version":"9.0.3"},"success":1}"#
        );
    }

    #[test]
    fn json_error_keeps_status_and_first_line() {
        let error = ApiError::new(StatusCode::FORBIDDEN, "Permission check failed\nmore\n");
        let reply = render(Format::Json, Err(error));
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.reason, "Permission check failed");
        assert_eq!(
            body(&reply),
            r#"{"data":null,"message":"Permission check failed\nmore\n"}"#
        );
    }

    #[test]
    fn extjs_error_is_200_with_status_and_success_0() {
        let reply = render(
            Format::Extjs,
            Err(ApiError::not_implemented(&Method::GET, "/nope")),
        );
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.reason, "OK");
        assert_eq!(
            body(&reply),
            r#"{"data":null,"message":"Method 'GET /nope' not implemented","status":501,"success":0}"#
        );
    }

    #[test]
    fn parameter_errors_carry_the_errors_map() {
        let errors = BTreeMap::from([
            ("vmid".to_owned(), "value must be at least 100".to_owned()),
            ("node".to_owned(), "invalid format".to_owned()),
        ]);
        let json = render(Format::Json, Err(ApiError::parameters(errors.clone())));
        assert_eq!(json.status, StatusCode::BAD_REQUEST);
        assert_eq!(json.reason, "Parameter verification failed.");
        assert_eq!(
            body(&json),
            r#"{"data":null,"errors":{"node":"invalid format","vmid":"value must be at least 100"},"message":"Parameter verification failed.\n"}"#
        );
        let extjs = render(Format::Extjs, Err(ApiError::parameters(errors)));
        assert_eq!(
            body(&extjs),
            r#"{"data":null,"errors":{"node":"invalid format","vmid":"value must be at least 100"},"message":"Parameter verification failed.\n","status":400,"success":0}"#
        );
    }

    #[test]
    fn empty_message_becomes_the_status_reason() {
        let reply = render(
            Format::Json,
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "")),
        );
        assert_eq!(reply.reason, "Unauthorized");
        assert_eq!(body(&reply), r#"{"data":null,"message":"Unauthorized"}"#);
    }

    #[test]
    fn cr_in_reason_turns_json_into_plain_400_but_not_extjs() {
        let error = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "bad\r\nthing");
        let reply = render(Format::Json, Err(error.clone()));
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.reason, "Bad Request");
        assert_eq!(reply.content_type, None);
        let reply = render(Format::Extjs, Err(error));
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            body(&reply),
            r#"{"data":null,"message":"bad\r\nthing","status":500,"success":0}"#
        );
    }

    #[test]
    fn generic_errors() {
        let reply = generic_error(StatusCode::NOT_IMPLEMENTED, "no such uri");
        assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(reply.reason, "no such uri");
        assert_eq!(reply.content_type, None);
        assert!(reply.headers.is_empty());
        assert_eq!(body(&reply), "no such uri\n");
        let reply = generic_error(StatusCode::INTERNAL_SERVER_ERROR, "");
        assert_eq!(reply.reason, "Internal Server Error");
        assert_eq!(body(&reply), "Internal Server Error\n");
    }

    #[test]
    fn route_error_replies() {
        let none = route(&Method::GET, "/api2").expect_err("no such uri");
        assert_eq!(
            none.reply(),
            generic_error(StatusCode::NOT_IMPLEMENTED, "no such uri")
        );
        let json = RouteError {
            format: Some(Format::Json),
            error: ApiError::not_implemented(&Method::GET, "/nope"),
        };
        assert_eq!(json.reply(), render(Format::Json, Err(json.error.clone())));
    }

    #[test]
    fn index_page_escapes_the_node_name() {
        let reply = index_page("pve1");
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type, Some("text/html; charset=utf-8"));
        let page = body(&reply);
        assert!(page.starts_with("<!DOCTYPE html>\n"));
        assert!(page.contains("<title>pve1 - Proxmox Virtual Environment</title>"));
        assert!(page.contains("<h1>pve1</h1>"));
        let evil = index_page("<script>alert('x')</script>&\"");
        let page = body(&evil);
        assert!(!page.contains("<script>"));
        assert!(
            page.contains("<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</h1>")
        );
    }

    #[test]
    fn format_names_round_trip() {
        for format in [Format::Json, Format::Extjs] {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("JSON"), None);
    }
}
