//! A call's parameters: the query string and the body merged, as Proxmox's `extract_params`
//! does, and encoded again for forwarding (`proxy_request`).
//!
//! - The body is `application/x-www-form-urlencoded` (or untyped) or `application/json`
//!   (a JSON object); [`super::super::http::limits`] already refused other types.
//! - Query parameters override body ones; `_dc` (ExtJS's cache buster) is dropped.
//! - Form keys and values: `+` is a space, `%XX` a byte, `&` and `;` separate pairs; a key
//!   given twice keeps both values joined with NUL, as Perl's CGI-style decoding does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::escape::{uri_escape, uri_unescape_lossy};
use crate::http::limits::media_type;

/// Parameters by name. Form values are JSON strings; JSON bodies keep their types.
pub type Params = BTreeMap<String, Value>;

/// How a body was (and, when forwarded, is again) encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    Form,
    Json,
}

impl BodyEncoding {
    /// From the request's `Content-Type` (already checked to be one of the two, or absent).
    pub fn from_content_type(content_type: Option<&[u8]>) -> BodyEncoding {
        let content_type = String::from_utf8_lossy(content_type.unwrap_or_default());
        if media_type(&content_type).eq_ignore_ascii_case("application/json") {
            BodyEncoding::Json
        } else {
            BodyEncoding::Form
        }
    }

    /// The `Content-Type` to send a body of this encoding with.
    pub fn content_type(self) -> &'static str {
        match self {
            BodyEncoding::Form => "application/x-www-form-urlencoded",
            BodyEncoding::Json => "application/json",
        }
    }
}

/// A body that is not what its Content-Type says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the JSON body is not valid JSON: {0}")]
    BadJson(String),
    #[error("the JSON body must be an object of parameters")]
    JsonNotObject,
}

/// The parameters of a request: the body's (for POST and PUT) with the query's on top, `_dc`
/// removed.
pub fn extract(
    query: Option<&str>,
    body: &[u8],
    encoding: BodyEncoding,
) -> Result<Params, ParamsError> {
    let mut params = match encoding {
        _ if body.is_empty() => Params::new(),
        BodyEncoding::Form => decode_form(body),
        BodyEncoding::Json => decode_json(body)?,
    };
    if let Some(query) = query {
        params.extend(decode_form(query.as_bytes()));
    }
    params.remove("_dc");
    Ok(params)
}

fn decode_json(body: &[u8]) -> Result<Params, ParamsError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
        Ok(_) => Err(ParamsError::JsonNotObject),
        Err(e) => Err(ParamsError::BadJson(e.to_string())),
    }
}

/// `k=v&k2=v2` (or `;`) decoded; a key without `=` has the empty value.
pub fn decode_form(data: &[u8]) -> Params {
    let mut params = Params::new();
    for pair in data.split(|&b| b == b'&' || b == b';') {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let key = form_unescape(key);
        let value = form_unescape(value);
        let joined = match params.get(&key) {
            Some(Value::String(old)) => format!("{old}\0{value}"),
            _ => value,
        };
        params.insert(key, Value::String(joined));
    }
    params
}

/// `+` → space, then `%XX` → byte (so `%2B` stays a plus); the bytes read as UTF-8, invalid
/// sequences replaced.
fn form_unescape(raw: &[u8]) -> String {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    uri_unescape_lossy(spaced)
}

/// The parameters as a body of `encoding`, for forwarding. Form values that are not strings
/// are written as their JSON text (numbers, booleans), as Perl would stringify them.
pub fn encode(params: &Params, encoding: BodyEncoding) -> Vec<u8> {
    match encoding {
        BodyEncoding::Json => {
            let object: serde_json::Map<String, Value> =
                params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            Value::Object(object).to_string().into_bytes()
        }
        BodyEncoding::Form => {
            let pairs: Vec<String> = params
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{}={}", uri_escape(key), uri_escape(&text))
                })
                .collect();
            pairs.join("&").into_bytes()
        }
    }
}

/// A parameter's value as text: strings as they are, numbers and booleans as JSON prints them;
/// `None` for null, arrays and objects.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn form_bodies_decode_like_perl() {
        let params = decode_form(b"a=1&b=x+y;c=%41%zz&d&a=2");
        assert_eq!(params["a"], s("1\u{0}2"));
        assert_eq!(params["b"], s("x y"));
        assert_eq!(params["c"], s("A%zz"));
        assert_eq!(params["d"], s(""));
    }

    #[test]
    fn the_query_overrides_the_body_and_dc_is_dropped() {
        let params = extract(Some("a=q&_dc=123"), b"a=b&c=d", BodyEncoding::Form).expect("ok");
        assert_eq!(
            params,
            Params::from([("a".into(), s("q")), ("c".into(), s("d"))])
        );
    }

    #[test]
    fn json_bodies_keep_types_and_must_be_objects() {
        let params = extract(None, br#"{"n":1,"b":true}"#, BodyEncoding::Json).expect("ok");
        assert_eq!(params["n"], Value::from(1));
        assert_eq!(
            extract(None, b"[1]", BodyEncoding::Json),
            Err(ParamsError::JsonNotObject)
        );
        assert!(matches!(
            extract(None, b"{", BodyEncoding::Json),
            Err(ParamsError::BadJson(_))
        ));
    }

    #[test]
    fn encoding_round_trips() {
        let params = Params::from([
            ("user name".into(), s("ä&=+ x")),
            ("n".into(), Value::from(5)),
        ]);
        let form = encode(&params, BodyEncoding::Form);
        assert_eq!(form, b"n=5&user%20name=%C3%A4%26%3D%2B%20x".to_vec());
        let back = decode_form(&form);
        assert_eq!(back["user name"], s("ä&=+ x"));
        let json = encode(&params, BodyEncoding::Json);
        assert_eq!(
            extract(None, &json, BodyEncoding::Json).expect("ok"),
            params
        );
    }

    #[test]
    fn content_types() {
        let of = |v: &str| BodyEncoding::from_content_type(Some(v.as_bytes()));
        assert_eq!(of("application/json; charset=utf-8"), BodyEncoding::Json);
        assert_eq!(of("Application/JSON"), BodyEncoding::Json);
        assert_eq!(of("application/x-www-form-urlencoded"), BodyEncoding::Form);
        assert_eq!(BodyEncoding::from_content_type(None), BodyEncoding::Form);
    }
}
