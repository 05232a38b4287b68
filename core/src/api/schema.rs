//! Parameter declarations and their verification, as Proxmox's JSONSchema `validate` reports it:
//! every failing parameter gets a message, and the call fails with 400 "Parameter verification
//! failed." and the `errors` map.

use std::collections::BTreeMap;

use serde_json::Value;

use super::params::{Params, as_text};
use crate::access::{Authid, is_valid_realm};
use crate::http::ApiError;

/// What a parameter must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text up to `max_len` characters, optionally of a named format.
    String {
        max_len: Option<usize>,
        format: Option<Format>,
    },
    /// Proxmox's boolean: 1/0, true/false, yes/no, on/off (any case).
    Boolean,
    /// An integer in `min..=max`.
    Integer { min: Option<i64>, max: Option<i64> },
}

/// Named string formats (Proxmox's `format => 'pve-node'` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `pve-node`: a host name label, `[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?`.
    Node,
    /// `pve-realm`: `[A-Za-z][A-Za-z0-9\.\-_]+`.
    Realm,
    /// `pve-userid` or a token id (`user@realm!token`).
    Authid,
    /// `pve-priv-list`: privilege names separated by `,`, `;` or spaces.
    PrivList,
    /// A time zone name as `/usr/share/zoneinfo` holds it (`Europe/Vienna`, `Etc/GMT+1`).
    /// Proxmox declares no format and only checks the file exists; corral refuses names that
    /// are not zone names (`..`, a leading `/`) before the name is joined to a path.
    Timezone,
}

/// One declared parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub optional: bool,
}

impl Param {
    pub const fn required(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            optional: false,
        }
    }

    pub const fn optional(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            optional: true,
        }
    }
}

pub const TEXT: Kind = Kind::String {
    max_len: None,
    format: None,
};
pub const NODE: Kind = Kind::String {
    max_len: None,
    format: Some(Format::Node),
};

/// Checks `params` against the declaration: unknown parameters, missing required ones and
/// malformed values are all reported at once, each under its name.
pub fn verify(params: &Params, declared: &[Param]) -> Result<(), ApiError> {
    let mut errors = BTreeMap::new();
    for (name, value) in params {
        match declared.iter().find(|param| param.name == name) {
            None => {
                errors.insert(
                    name.clone(),
                    "property is not defined in schema and the schema does not allow additional properties"
                        .to_owned(),
                );
            }
            Some(param) => {
                if let Err(message) = check_value(param.kind, value) {
                    errors.insert(name.clone(), message);
                }
            }
        }
    }
    for param in declared.iter().filter(|param| !param.optional) {
        if !params.contains_key(param.name) {
            errors.insert(
                param.name.to_owned(),
                "property is missing and it is not optional".to_owned(),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::parameters(errors))
    }
}

fn check_value(kind: Kind, value: &Value) -> Result<(), String> {
    let text = as_text(value).ok_or_else(|| "type check ('string') failed".to_owned())?;
    match kind {
        Kind::String { max_len, format } => {
            let len = text.chars().count();
            if let Some(max) = max_len.filter(|&max| len > max) {
                return Err(format!("value may only be {max} characters long"));
            }
            match format {
                Some(format) if !format.accepts(&text) => Err(format!(
                    "value does not look like a valid {}",
                    format.noun()
                )),
                _ => Ok(()),
            }
        }
        Kind::Boolean => check_bool(&text).map(|_| ()),
        Kind::Integer { min, max } => {
            let number: i64 = text
                .parse()
                .map_err(|_| format!("type check ('integer') failed - got '{text}'"))?;
            if let Some(min) = min.filter(|&min| number < min) {
                return Err(format!("value must have a minimum value of {min}"));
            }
            if let Some(max) = max.filter(|&max| number > max) {
                return Err(format!("value must have a maximum value of {max}"));
            }
            Ok(())
        }
    }
}

/// Proxmox's boolean spellings.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// [`parse_bool`] with JSONSchema's message for anything else (also what section-config files
/// such as `domains.cfg` report).
pub(crate) fn check_bool(text: &str) -> Result<bool, String> {
    parse_bool(text).ok_or_else(|| format!("type check ('boolean') failed - got '{text}'"))
}

impl Format {
    fn accepts(self, text: &str) -> bool {
        match self {
            Format::Node => is_node_name(text),
            Format::Realm => is_valid_realm(text),
            Format::Authid => Authid::parse(text).is_ok(),
            Format::PrivList => text
                .split([',', ';', ' ', '\t'])
                .filter(|p| !p.is_empty())
                .all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')),
            Format::Timezone => is_timezone_name(text),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Format::Node => "node name",
            Format::Realm => "realm name",
            Format::Authid => "user or token id",
            Format::PrivList => "privilege list",
            Format::Timezone => "time zone name",
        }
    }
}

/// `Area/Location` names: segments of letters, digits, `_`, `+` and `-`, none empty and none a
/// `.` or `..`, so the name stays inside the zone directory it is looked up in.
pub fn is_timezone_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
        })
}

/// Proxmox's `pve-node` format: a host name label, `[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?`.
pub fn is_node_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_names_stay_inside_the_zone_directory() {
        for good in [
            "UTC",
            "Europe/Vienna",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+1",
        ] {
            assert!(is_timezone_name(good), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../../etc/shadow",
            "Europe/../x",
            "Europe//Vienna",
            "A B",
        ] {
            assert!(!is_timezone_name(bad), "{bad}");
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect()
    }

    const DECLARED: &[Param] = &[
        Param::required("node", NODE),
        Param::optional(
            "name",
            Kind::String {
                max_len: Some(3),
                format: None,
            },
        ),
        Param::optional("flag", Kind::Boolean),
        Param::optional(
            "count",
            Kind::Integer {
                min: Some(1),
                max: Some(10),
            },
        ),
        Param::optional(
            "userid",
            Kind::String {
                max_len: None,
                format: Some(Format::Authid),
            },
        ),
    ];

    #[test]
    fn good_parameters_pass() {
        let ok = params(&[
            ("node", "pve-1"),
            ("name", "abc"),
            ("flag", "Yes"),
            ("count", "10"),
            ("userid", "a@pve!t1"),
        ]);
        assert_eq!(verify(&ok, DECLARED), Ok(()));
    }

    #[test]
    fn every_failure_is_reported_under_its_name() {
        let bad = params(&[
            ("name", "abcd"),
            ("flag", "maybe"),
            ("count", "0"),
            ("userid", "nobody"),
            ("extra", "1"),
        ]);
        let error = verify(&bad, DECLARED).expect_err("bad");
        assert_eq!(error.status.as_u16(), 400);
        let shown: Vec<(&str, &str)> = error
            .errors
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("count", "value must have a minimum value of 1"),
                (
                    "extra",
                    "property is not defined in schema and the schema does not allow additional properties"
                ),
                ("flag", "type check ('boolean') failed - got 'maybe'"),
                ("name", "value may only be 3 characters long"),
                ("node", "property is missing and it is not optional"),
                (
                    "userid",
                    "value does not look like a valid user or token id"
                ),
            ]
        );
    }

    #[test]
    fn node_names() {
        for good in ["a", "pve1", "a-b"] {
            assert!(is_node_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a.b", "a b"] {
            assert!(!is_node_name(bad), "{bad}");
        }
    }
}
