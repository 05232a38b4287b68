//! `/etc/pve/domains.cfg`: the authentication realms, in Proxmox's section-config format
//! (pve-common `SectionConfig.pm` `parse_config`, pve-access-control `Auth/Plugin.pm`):
//!
//! ```text
//! pve: pve
//!     comment Proxmox VE authentication server
//!     default 1
//!
//! ldap: corp
//!     base_dn dc=corp,dc=example
//!     tfa type=oath
//! ```
//!
//! A section starts with `<type>: <realm>` and holds indented `<key> <value>` lines (Proxmox
//! indents with a tab) until an empty line; `#` lines are skipped anywhere. The `pam` and `pve`
//! realms always exist, even when the file is missing or omits them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::ids::is_valid_realm;
use super::text::decode_text;
use super::user_cfg::{LineWarning, Parsed};
use crate::api::schema::check_bool;

/// The realm types Proxmox VE 9 has plugins for.
const REALM_TYPES: [&str; 5] = ["ad", "ldap", "openid", "pam", "pve"];

/// The second factor a realm requires (`tfa` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealmTfa {
    /// `type=oath`: TOTP.
    Oath,
    /// `type=yubico`: Yubico OTP.
    Yubico,
}

impl RealmTfa {
    pub fn as_str(self) -> &'static str {
        match self {
            RealmTfa::Oath => "oath",
            RealmTfa::Yubico => "yubico",
        }
    }
}

/// One realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    /// `pam`, `pve`, `ldap`, `ad` or `openid`.
    pub kind: String,
    /// Decoded (the file percent-encodes it).
    pub comment: Option<String>,
    /// The realm the login form preselects; at most one realm has it.
    pub default: bool,
    pub tfa: Option<RealmTfa>,
    /// Every other key as written (server1, base_dn, …), for the plugins that need them.
    ///
    /// Difference: kept unchecked; Proxmox checks each key and value against the realm type's
    /// schema and drops what does not fit, with a warning.
    pub options: BTreeMap<String, String>,
}

impl Realm {
    fn builtin(kind: &str, comment: &str) -> Realm {
        Realm {
            kind: kind.to_owned(),
            comment: Some(comment.to_owned()),
            default: false,
            tfa: None,
            options: BTreeMap::new(),
        }
    }
}

/// The realms of `domains.cfg`, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains {
    realms: BTreeMap<String, Realm>,
}

impl Default for Domains {
    /// The realms of a missing file: `pam` and `pve`.
    fn default() -> Domains {
        let mut domains = Domains {
            realms: BTreeMap::new(),
        };
        domains.add_builtin_realms();
        domains
    }
}

/// A section being read.
struct Section {
    name: String,
    realm: Realm,
    /// False when the header was refused: its lines are skipped silently.
    keep: bool,
    /// Keys already set, to refuse duplicates.
    seen: BTreeSet<String>,
}

impl Domains {
    /// Reads `domains.cfg`; `None` is a missing file. Bad sections and lines are skipped with a
    /// warning; `pam` and `pve` are added when missing (with Proxmox's comments) and always
    /// have their own type.
    pub fn parse(text: Option<&str>) -> Parsed<Domains> {
        let mut parser = DomainsParser::default();
        for (index, line) in text.unwrap_or("").split('\n').enumerate() {
            parser.line(index + 1, line);
        }
        parser.end_section();
        let mut domains = Domains {
            realms: parser.realms,
        };
        domains.add_builtin_realms();
        Parsed {
            config: domains,
            warnings: parser.warnings,
        }
    }

    fn add_builtin_realms(&mut self) {
        for (name, comment) in [
            ("pam", "Linux PAM standard authentication"),
            ("pve", "Proxmox VE authentication server"),
        ] {
            let realm = self
                .realms
                .entry(name.to_owned())
                .or_insert_with(|| Realm::builtin(name, comment));
            name.clone_into(&mut realm.kind);
            if realm.comment.is_none() {
                realm.comment = Some(comment.to_owned());
            }
        }
    }

    /// Every realm, sorted by name.
    pub fn realms(&self) -> &BTreeMap<String, Realm> {
        &self.realms
    }

    pub fn realm(&self, name: &str) -> Option<&Realm> {
        self.realms.get(name)
    }

    /// The data of `GET /access/domains`: `[{realm, type, comment?, default?, tfa?}]`.
    ///
    /// Difference: sorted by realm name. Proxmox lists them in Perl hash order, which differs
    /// from run to run (its GUI sorts them itself).
    pub fn api_index(&self) -> Value {
        let entries = self
            .realms
            .iter()
            .map(|(name, realm)| {
                let mut entry = Map::new();
                entry.insert("realm".to_owned(), Value::from(name.as_str()));
                entry.insert("type".to_owned(), Value::from(realm.kind.as_str()));
                if let Some(comment) = realm.comment.as_deref().filter(|c| !c.is_empty()) {
                    entry.insert("comment".to_owned(), Value::from(comment));
                }
                if realm.default {
                    entry.insert("default".to_owned(), Value::from(1));
                }
                if let Some(tfa) = realm.tfa {
                    entry.insert("tfa".to_owned(), Value::from(tfa.as_str()));
                }
                Value::Object(entry)
            })
            .collect();
        Value::Array(entries)
    }
}

#[derive(Default)]
struct DomainsParser {
    realms: BTreeMap<String, Realm>,
    warnings: Vec<LineWarning>,
    section: Option<Section>,
    line: usize,
    /// The realm holding the default marker, once one does.
    default: Option<String>,
}

impl DomainsParser {
    fn warn(&mut self, message: String) {
        self.warnings.push(LineWarning {
            line: self.line,
            message,
        });
    }

    /// One line: `#` lines are skipped, an empty line ends the section, other lines are a
    /// property inside a section or a header outside one.
    ///
    /// Difference: a line of only whitespace outside a section is skipped silently; Proxmox
    /// warns that it ignores it.
    fn line(&mut self, number: usize, line: &str) {
        self.line = number;
        if line.trim_start().starts_with('#') {
            return;
        }
        if line.is_empty() {
            self.end_section();
            return;
        }
        if self.section.is_some() {
            self.property(line);
        } else if !line.trim().is_empty() {
            self.header(line);
        }
    }

    /// `^(\S+):\s*(\S+)\s*$`.
    fn header(&mut self, line: &str) {
        let parsed = line.split_once(':').and_then(|(kind, name)| {
            let name = name.trim();
            let valid = !kind.is_empty()
                && !kind.contains(char::is_whitespace)
                && !name.is_empty()
                && !name.contains(char::is_whitespace);
            valid.then(|| (kind.to_ascii_lowercase(), name.to_owned()))
        });
        let Some((kind, name)) = parsed else {
            self.warn(format!(
                "ignoring line outside a section: '{}' (a section starts with '<type>: <realm>')",
                line.trim()
            ));
            return;
        };
        let mut keep = true;
        if !is_valid_realm(&name) {
            self.warn(format!(
                "skipping section '{name}': not a valid realm name (a letter, then letters, \
                 digits, '.', '-' or '_')"
            ));
            keep = false;
        } else if !REALM_TYPES.contains(&kind.as_str()) {
            self.warn(format!(
                "skipping section '{name}': unsupported type '{kind}' (known: {})",
                REALM_TYPES.join(", ")
            ));
            keep = false;
        } else if self.realms.contains_key(&name) {
            self.warn(format!(
                "skipping section '{name}': the realm is already defined above"
            ));
            keep = false;
        }
        self.section = Some(Section {
            name,
            realm: Realm {
                kind,
                comment: None,
                default: false,
                tfa: None,
                options: BTreeMap::new(),
            },
            keep,
            seen: BTreeSet::new(),
        });
    }

    /// `^\s+(\S+)(\s+(.*\S))?\s*$`.
    fn property(&mut self, line: &str) {
        let Some(section) = &self.section else {
            return;
        };
        if !section.keep {
            return;
        }
        let name = section.name.clone();
        let indented = line.starts_with(char::is_whitespace);
        let trimmed = line.trim();
        if !indented || trimmed.is_empty() {
            self.warn(format!(
                "section '{name}': ignoring line '{trimmed}' (properties are indented \
                 '<key> <value>' lines; an empty line ends the section)"
            ));
            return;
        }
        let (key, value) = match trimmed.split_once(char::is_whitespace) {
            Some((key, value)) => (key, value.trim()),
            None => (trimmed, ""),
        };
        if let Err(message) = self.set(key, value) {
            self.warn(format!(
                "section '{name}': unable to parse value of '{key}': {message}"
            ));
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let Some(section) = self.section.as_mut() else {
            return Ok(());
        };
        if !section.seen.insert(key.to_owned()) {
            return Err("duplicate attribute".to_owned());
        }
        let realm = &mut section.realm;
        match key {
            "comment" => realm.comment = Some(decode_text(value)),
            "tfa" => realm.tfa = Some(parse_tfa(value)?),
            "default" => realm.default = check_bool(value)?,
            _ => {
                realm.options.insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }

    /// Files a finished section.
    ///
    /// Difference: when several realms say `default 1`, the first in the file keeps it;
    /// Proxmox keeps the first in its hash order.
    fn end_section(&mut self) {
        let Some(mut section) = self.section.take() else {
            return;
        };
        if !section.keep {
            return;
        }
        if section.realm.default {
            if let Some(first) = &self.default {
                let message = format!(
                    "realm '{}' is marked default, but '{first}' already is: only the first \
                     default counts",
                    section.name
                );
                self.warn(message);
                section.realm.default = false;
            } else {
                self.default = Some(section.name.clone());
            }
        }
        self.realms.insert(section.name, section.realm);
    }
}

/// The `tfa` property string: `type=<oath|yubico>[,id=…][,key=…][,url=…][,digits=6-8][,step=≥10]`.
fn parse_tfa(value: &str) -> Result<RealmTfa, String> {
    let mut kind = None;
    for item in value.split(',').filter(|item| !item.is_empty()) {
        let (key, setting) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not '<key>=<value>'"))?;
        match key {
            "type" => {
                kind = Some(match setting {
                    "oath" => RealmTfa::Oath,
                    "yubico" => RealmTfa::Yubico,
                    _ => return Err(format!("type: '{setting}' is not 'oath' or 'yubico'")),
                });
            }
            "id" | "key" | "url" => {}
            "digits" => check_number(key, setting, 6, 8)?,
            "step" => check_number(key, setting, 10, u64::MAX)?,
            _ => return Err(format!("unknown tfa option '{key}'")),
        }
    }
    kind.ok_or_else(|| "the tfa setting has no 'type=oath' or 'type=yubico'".to_owned())
}

fn check_number(key: &str, value: &str, min: u64, max: u64) -> Result<(), String> {
    match value.parse::<u64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(()),
        _ => Err(format!("{key}: '{value}' is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
pam: pam
\tcomment Linux PAM standard authentication

pve: pve
\tcomment Proxmox VE authentication server
\tdefault 1

# a comment line
ldap: corp
\tbase_dn dc=corp,dc=example
\tserver1 ldap.corp.example
\tcomment Corp%3A directory
\ttfa type=oath,digits=6
\tuser_attr uid

ad: win
\tdefault 1
\tdomain win.example
\ttfa type=yubico,id=1,key=k,url=https://api.example
";

    #[test]
    fn reads_realms_with_their_settings() {
        let parsed = Domains::parse(Some(EXAMPLE));
        let domains = &parsed.config;
        let names: Vec<&str> = domains.realms().keys().map(String::as_str).collect();
        assert_eq!(names, ["corp", "pam", "pve", "win"]);
        let corp = domains.realm("corp").expect("defined");
        assert_eq!(corp.kind, "ldap");
        assert_eq!(corp.comment.as_deref(), Some("Corp: directory"));
        assert_eq!(corp.tfa, Some(RealmTfa::Oath));
        assert_eq!(
            corp.options.get("base_dn").map(String::as_str),
            Some("dc=corp,dc=example")
        );
        assert!(domains.realm("pve").is_some_and(|r| r.default));
        // Only the first default counts.
        assert!(domains.realm("win").is_some_and(|r| !r.default));
        let messages: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line 20: realm 'win' is marked default, but 'pve' already is: only the first \
              default counts"
            ]
        );
    }

    #[test]
    fn pam_and_pve_always_exist() {
        for text in [None, Some(""), Some("ldap: corp\n\tbase_dn dc=x\n")] {
            let domains = Domains::parse(text).config;
            assert_eq!(
                domains.realm("pam").and_then(|r| r.comment.as_deref()),
                Some("Linux PAM standard authentication")
            );
            assert_eq!(domains.realm("pve").map(|r| r.kind.as_str()), Some("pve"));
        }
        assert_eq!(Domains::parse(None).config, Domains::default());
        // The built-in realms keep their type whatever the file says.
        let forced = Domains::parse(Some("ldap: pve\n\tcomment mine\n")).config;
        let pve = forced.realm("pve").expect("always there");
        assert_eq!(
            (pve.kind.as_str(), pve.comment.as_deref()),
            ("pve", Some("mine"))
        );
    }

    #[test]
    fn bad_sections_and_lines_are_skipped_with_warnings() {
        let parsed = Domains::parse(Some(
            "foo: bar\n\tkey value\n\nldap: 1bad\n\tx y\n\nstray line\nldap: ok\n\tdefault maybe\n\ttfa type=sms\nnot indented\n\tcomment c\n\tcomment d\n",
        ));
        let messages: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line 1: skipping section 'bar': unsupported type 'foo' (known: ad, ldap, openid, \
                 pam, pve)",
                "line 4: skipping section '1bad': not a valid realm name (a letter, then \
                 letters, digits, '.', '-' or '_')",
                "line 7: ignoring line outside a section: 'stray line' (a section starts with \
                 '<type>: <realm>')",
                "line 9: section 'ok': unable to parse value of 'default': type check \
                 ('boolean') failed - got 'maybe'",
                "line 10: section 'ok': unable to parse value of 'tfa': type: 'sms' is not \
                 'oath' or 'yubico'",
                "line 11: section 'ok': ignoring line 'not indented' (properties are indented \
                 '<key> <value>' lines; an empty line ends the section)",
                "line 13: section 'ok': unable to parse value of 'comment': duplicate attribute",
            ]
        );
        let ok = parsed.config.realm("ok").expect("kept");
        assert_eq!(ok.comment.as_deref(), Some("c"));
        assert!(parsed.config.realm("bar").is_none());
    }

    #[test]
    fn api_index_lists_every_realm() {
        let value = Domains::parse(Some(EXAMPLE)).config.api_index();
        assert_eq!(
            value,
            serde_json::json!([
                {"realm": "corp", "type": "ldap", "comment": "Corp: directory", "tfa": "oath"},
                {"realm": "pam", "type": "pam", "comment": "Linux PAM standard authentication"},
                {"realm": "pve", "type": "pve", "comment": "Proxmox VE authentication server",
                 "default": 1},
                {"realm": "win", "type": "ad", "tfa": "yubico"},
            ])
        );
    }
}
