//! `/etc/default/pveproxy`: the keys pveproxy and spiceproxy read, typed, with Proxmox's
//! defaults and every problem reported with its line.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §1–§3 (Proxmox's `read_proxy_config`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use crate::acl::{AddrList, HostAcl, ListError, ListWarning, Policy, PolicyError};
use crate::config::display::printable;
use crate::config::shell::{self, ShellError, Sources};
use crate::tls::{TlsError, TlsKey, TlsPolicy, TlsReport, TlsSettings, TlsWarning};

/// The keys Proxmox's `read_proxy_config` knows, in the order `check-config` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    ListenIp,
    AllowFrom,
    DenyFrom,
    Policy,
    Ciphers,
    Ciphersuites,
    Dhparams,
    TlsKeyFile,
    HonorCipherOrder,
    Compression,
    DisableTls12,
    DisableTls13,
    ProxyRealIpHeader,
    ProxyRealIpAllowFrom,
    MaxWorkers,
}

impl Key {
    pub const ALL: [Key; 15] = [
        Key::ListenIp,
        Key::AllowFrom,
        Key::DenyFrom,
        Key::Policy,
        Key::Ciphers,
        Key::Ciphersuites,
        Key::Dhparams,
        Key::TlsKeyFile,
        Key::HonorCipherOrder,
        Key::Compression,
        Key::DisableTls12,
        Key::DisableTls13,
        Key::ProxyRealIpHeader,
        Key::ProxyRealIpAllowFrom,
        Key::MaxWorkers,
    ];

    /// The name as written in the file.
    pub fn name(self) -> &'static str {
        match self {
            Key::ListenIp => "LISTEN_IP",
            Key::AllowFrom => "ALLOW_FROM",
            Key::DenyFrom => "DENY_FROM",
            Key::Policy => "POLICY",
            Key::Ciphers => "CIPHERS",
            Key::Ciphersuites => "CIPHERSUITES",
            Key::Dhparams => "DHPARAMS",
            Key::TlsKeyFile => "TLS_KEY_FILE",
            Key::HonorCipherOrder => "HONOR_CIPHER_ORDER",
            Key::Compression => "COMPRESSION",
            Key::DisableTls12 => "DISABLE_TLS_1_2",
            Key::DisableTls13 => "DISABLE_TLS_1_3",
            Key::ProxyRealIpHeader => "PROXY_REAL_IP_HEADER",
            Key::ProxyRealIpAllowFrom => "PROXY_REAL_IP_ALLOW_FROM",
            Key::MaxWorkers => "MAX_WORKERS",
        }
    }

    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.name() == name)
    }

    /// The known key a misspelt or miscased name most likely meant.
    fn closest_to(name: &str) -> Option<Key> {
        let upper = name.to_ascii_uppercase();
        Key::ALL
            .into_iter()
            .map(|key| (edit_distance(&upper, key.name()), key))
            .filter(|&(distance, _)| distance <= 2)
            .min()
            .map(|(_, key)| key)
    }
}

impl From<TlsKey> for Key {
    fn from(key: TlsKey) -> Key {
        match key {
            TlsKey::Ciphers => Key::Ciphers,
            TlsKey::Ciphersuites => Key::Ciphersuites,
            TlsKey::DisableTls12 => Key::DisableTls12,
            TlsKey::DisableTls13 => Key::DisableTls13,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `LISTEN_IP`: Proxmox passes it verbatim to the socket as the local host, so an address
/// (IPv6 with an optional zone such as `fe80::1%vmbr0`) or a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenIp {
    Addr { ip: IpAddr, zone: Option<String> },
    Host(String),
}

impl fmt::Display for ListenIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenIp::Addr {
                ip,
                zone: Some(zone),
            } => write!(f, "{ip}%{zone}"),
            ListenIp::Addr { ip, zone: None } => write!(f, "{ip}"),
            ListenIp::Host(host) => f.write_str(host),
        }
    }
}

/// Proxmox's default number of workers, used when `MAX_WORKERS` is unset or invalid.
pub const DEFAULT_MAX_WORKERS: u8 = 3;

/// The effective settings of `/etc/default/pveproxy`. `Default` is Proxmox's defaults (the file
/// missing or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// `None`: listen on `[::]` dual-stack, falling back to `0.0.0.0`.
    pub listen_ip: Option<ListenIp>,
    /// `ALLOW_FROM`, `DENY_FROM` and `POLICY`.
    pub acl: HostAcl,
    /// `CIPHERS` as written; `None` means Proxmox's default list.
    pub ciphers: Option<String>,
    /// `CIPHERSUITES` as written; `None` means OpenSSL's default TLS 1.3 suites.
    pub ciphersuites: Option<String>,
    /// `DHPARAMS`: accepted, not used (no finite-field DHE suite is offered).
    pub dhparams: Option<String>,
    /// `TLS_KEY_FILE`: the custom certificate's key instead of `pveproxy-ssl.key`.
    pub tls_key_file: Option<String>,
    pub honor_cipher_order: bool,
    pub compression: bool,
    pub disable_tls_1_2: bool,
    pub disable_tls_1_3: bool,
    /// What the TLS keys above amount to.
    pub tls: TlsReport,
    pub proxy_real_ip_header: Option<String>,
    /// `None`: every peer may set the real-IP header (as Proxmox).
    pub proxy_real_ip_allow_from: Option<AddrList>,
    /// `MAX_WORKERS` when valid; corral serves from one process and only reports it.
    pub max_workers: Option<u8>,
    /// The line each key was last set on.
    pub lines: BTreeMap<Key, usize>,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        let settings = TlsSettings::default();
        ProxyConfig {
            listen_ip: None,
            acl: HostAcl::default(),
            ciphers: None,
            ciphersuites: None,
            dhparams: None,
            tls_key_file: None,
            honor_cipher_order: true,
            compression: true,
            disable_tls_1_2: false,
            disable_tls_1_3: false,
            tls: TlsPolicy::from_settings(&settings)
                .expect("Proxmox's default TLS settings always give a usable policy"),
            proxy_real_ip_header: None,
            proxy_real_ip_allow_from: None,
            max_workers: None,
            lines: BTreeMap::new(),
        }
    }
}

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file cannot be used.
    Error,
    /// Usable, but probably not what was meant.
    Warning,
    /// Information: a setting that corral accepts but does not need.
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// One problem found in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    #[error(transparent)]
    Shell(#[from] ShellError),
    #[error("{key}: {error}")]
    BadEntry { key: Key, error: ListError },
    #[error("{key}: {warning}")]
    EntryWarning { key: Key, warning: ListWarning },
    #[error("POLICY: {error}")]
    BadPolicy { error: PolicyError },
    #[error("{key}: unknown value '{}' - use 0 or 1", printable(.value))]
    BadBoolean { key: Key, value: String },
    #[error("LISTEN_IP: '{}' {reason}", printable(.value))]
    BadListenIp { value: String, reason: &'static str },
    #[error("{key}: '{}' is not an absolute path", printable(.value))]
    RelativePath { key: Key, value: String },
    #[error("PROXY_REAL_IP_HEADER: '{}' is not an HTTP header name", printable(.value))]
    BadHeaderName { value: String },
    #[error("{}: {error}", error.key())]
    Tls { error: TlsError },
    #[error("{}: {warning}", warning.key)]
    TlsWarning { warning: TlsWarning },
    #[error("unknown key {name}, ignored (as Proxmox){}", suggestion.map(|k| format!("; did you mean {k}?")).unwrap_or_default())]
    UnknownKey {
        name: String,
        suggestion: Option<Key>,
    },
    #[error("{key} is set again here; the value from line {line} is overridden")]
    Reassigned { key: Key, line: usize },
    #[error("Windows line endings on {count} line(s); the carriage returns are ignored")]
    CarriageReturns { count: usize },
    #[error(
        "ALLOW_FROM alone restricts nothing: with POLICY=allow every host not in DENY_FROM is \
         allowed; add DENY_FROM=\"all\" or POLICY=\"deny\""
    )]
    AllowFromRestrictsNothing,
    #[error(
        "ALLOW_FROM: entry {position} '{}' overlaps DENY_FROM; with POLICY=deny, hosts in \
         both lists are denied",
        printable(.entry)
    )]
    AllowCancelledByDeny { position: usize, entry: String },
    #[error("PROXY_REAL_IP_ALLOW_FROM has no effect without PROXY_REAL_IP_HEADER")]
    RealIpAllowWithoutHeader,
    #[error(
        "MAX_WORKERS: '{}' must be an integer between 1 and 127; ignored (as Proxmox)",
        printable(.value)
    )]
    BadMaxWorkers { value: String },
    #[error("MAX_WORKERS={value} does not apply: corral serves every connection from one process")]
    MaxWorkersNotApplicable { value: u8 },
    #[error("DHPARAMS does not apply: corral offers no finite-field DHE cipher suites")]
    DhparamsNotApplicable,
}

impl Problem {
    /// Every [`Problem::code`], so tests can check that a corpus shows each one.
    pub const CODES: &'static [&'static str] = &[
        "shell",
        "bad-entry",
        "entry-warning",
        "bad-policy",
        "bad-boolean",
        "bad-listen-ip",
        "relative-path",
        "bad-header-name",
        "tls",
        "tls-warning",
        "unknown-key",
        "reassigned",
        "carriage-returns",
        "allow-from-restricts-nothing",
        "allow-cancelled-by-deny",
        "real-ip-allow-without-header",
        "bad-max-workers",
        "max-workers-not-applicable",
        "dhparams-not-applicable",
    ];

    /// A short stable name for the kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Shell(_) => "shell",
            Problem::BadEntry { .. } => "bad-entry",
            Problem::EntryWarning { .. } => "entry-warning",
            Problem::BadPolicy { .. } => "bad-policy",
            Problem::BadBoolean { .. } => "bad-boolean",
            Problem::BadListenIp { .. } => "bad-listen-ip",
            Problem::RelativePath { .. } => "relative-path",
            Problem::BadHeaderName { .. } => "bad-header-name",
            Problem::Tls { .. } => "tls",
            Problem::TlsWarning { .. } => "tls-warning",
            Problem::UnknownKey { .. } => "unknown-key",
            Problem::Reassigned { .. } => "reassigned",
            Problem::CarriageReturns { .. } => "carriage-returns",
            Problem::AllowFromRestrictsNothing => "allow-from-restricts-nothing",
            Problem::AllowCancelledByDeny { .. } => "allow-cancelled-by-deny",
            Problem::RealIpAllowWithoutHeader => "real-ip-allow-without-header",
            Problem::BadMaxWorkers { .. } => "bad-max-workers",
            Problem::MaxWorkersNotApplicable { .. } => "max-workers-not-applicable",
            Problem::DhparamsNotApplicable => "dhparams-not-applicable",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Problem::Shell(_)
            | Problem::BadEntry { .. }
            | Problem::BadPolicy { .. }
            | Problem::BadBoolean { .. }
            | Problem::BadListenIp { .. }
            | Problem::RelativePath { .. }
            | Problem::BadHeaderName { .. }
            | Problem::Tls { .. } => Severity::Error,
            Problem::EntryWarning { .. }
            | Problem::TlsWarning { .. }
            | Problem::UnknownKey { .. }
            | Problem::Reassigned { .. }
            | Problem::CarriageReturns { .. }
            | Problem::AllowFromRestrictsNothing
            | Problem::AllowCancelledByDeny { .. }
            | Problem::RealIpAllowWithoutHeader
            | Problem::BadMaxWorkers { .. } => Severity::Warning,
            Problem::MaxWorkersNotApplicable { .. } | Problem::DhparamsNotApplicable => {
                Severity::Note
            }
        }
    }
}

/// A problem and the line it is on (`None` for whole-file findings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: Option<usize>,
    pub problem: Problem,
    /// For a problem with a value that `$VAR` or `+=` built from other lines than `line` (the
    /// final assignment's): all the lines it came from, so the user can find the bad part.
    pub built_from: Option<Sources>,
}

impl Diagnostic {
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }

    /// The problem, and where its value was built when that was on other lines.
    pub fn message(&self) -> String {
        match &self.built_from {
            Some(sources) => format!("{} (value built from {sources})", self.problem),
            None => self.problem.to_string(),
        }
    }

    /// `path:LINE: severity: message`, as compilers print, so editors can jump to it. Anything
    /// that could act on a terminal (in the path or the message) is escaped.
    pub fn located(&self, path: &str) -> String {
        let severity = self.severity();
        let message = self.message();
        let line = match self.line {
            Some(line) => format!("{path}:{line}: {severity}: {message}"),
            None => format!("{path}: {severity}: {message}"),
        };
        printable(&line).into_owned()
    }
}

/// The result of reading the file: the config when it is usable, and everything worth saying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigReport {
    /// `None` when any diagnostic is an error: a broken file is never half-applied.
    pub config: Option<ProxyConfig>,
    /// In line order; whole-file findings last.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigReport {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
    }
}

/// Reads `/etc/default/pveproxy` from its bytes. Never panics.
pub fn parse(bytes: &[u8]) -> ConfigReport {
    let file = shell::read(bytes);
    let mut builder = Builder::default();
    for (line, error) in file.errors {
        builder.report(Some(line), Problem::Shell(error));
    }
    if let Some(&first) = file.crlf_lines.first() {
        let count = file.crlf_lines.len();
        builder.report(Some(first), Problem::CarriageReturns { count });
    }
    let last = builder.check_names(&file.assignments);
    for (key, assignment) in last {
        // Proxmox: an empty value means unset.
        if !assignment.value.is_empty() {
            builder.config.lines.insert(key, assignment.line);
            builder.sources.insert(key, assignment.sources.clone());
            builder.set(key, &assignment.value, assignment.line);
        }
    }
    builder.finish()
}

#[derive(Default)]
struct Builder {
    config: ProxyConfig,
    diagnostics: Vec<Diagnostic>,
    /// The lines each key's value was built from.
    sources: BTreeMap<Key, Sources>,
}

impl Builder {
    /// Warns about unknown names and plain reassignments; returns each key's last assignment.
    fn check_names<'a>(
        &mut self,
        assignments: &'a [shell::Assignment],
    ) -> BTreeMap<Key, &'a shell::Assignment> {
        // A helper variable used by another variable's `$NAME` is not a typo; a variable that
        // only builds on itself (`ALOW_FROM+=x`) is no helper.
        let helpers: BTreeSet<&str> = assignments
            .iter()
            .flat_map(|a| a.uses.iter().filter(move |used| **used != a.name))
            .map(String::as_str)
            .collect();
        let mut warned: BTreeSet<&str> = BTreeSet::new();
        let mut last: BTreeMap<Key, &shell::Assignment> = BTreeMap::new();
        for assignment in assignments {
            let name = assignment.name.as_str();
            let Some(key) = Key::from_name(name) else {
                // One warning per name, at its first assignment.
                if !helpers.contains(name) && warned.insert(name) {
                    let suggestion = Key::closest_to(name);
                    let name = name.to_owned();
                    let problem = Problem::UnknownKey { name, suggestion };
                    self.report(Some(assignment.line), problem);
                }
                continue;
            };
            let overridden = last.insert(key, assignment);
            // `A=x` then `A="$A,y"` builds a value up; only a plain overwrite is suspicious.
            let builds_up = assignment.uses.contains(&assignment.name);
            if let Some(previous) = overridden.filter(|_| !builds_up) {
                let line = previous.line;
                self.report(Some(assignment.line), Problem::Reassigned { key, line });
            }
        }
        last
    }

    fn line_of(&self, key: Key) -> Option<usize> {
        self.config.lines.get(&key).copied()
    }

    fn report(&mut self, line: Option<usize>, problem: Problem) {
        let built_from = None;
        self.diagnostics.push(Diagnostic {
            line,
            problem,
            built_from,
        });
    }

    /// Reports a problem with `key`'s value, naming the lines it was built from when those are
    /// not just `line`: an entry that came from `$NET` is wrong where NET was set.
    fn report_value(&mut self, key: Key, line: Option<usize>, problem: Problem) {
        let built_from = self
            .sources
            .get(&key)
            .filter(|sources| line.is_none_or(|line| sources.beyond(line)))
            .cloned();
        self.diagnostics.push(Diagnostic {
            line,
            problem,
            built_from,
        });
    }

    fn set(&mut self, key: Key, value: &str, line: usize) {
        let line = Some(line);
        let owned = || Some(value.to_owned());
        match key {
            Key::ListenIp => match parse_listen_ip(value) {
                Ok(ip) => self.config.listen_ip = Some(ip),
                Err(reason) => {
                    let value = value.to_owned();
                    self.report_value(key, line, Problem::BadListenIp { value, reason });
                }
            },
            Key::AllowFrom => self.config.acl.allow = self.list(key, value, line),
            Key::DenyFrom => self.config.acl.deny = self.list(key, value, line),
            Key::ProxyRealIpAllowFrom => {
                self.config.proxy_real_ip_allow_from = Some(self.list(key, value, line));
            }
            Key::Policy => match Policy::parse(value) {
                Ok(policy) => self.config.acl.policy = policy,
                Err(error) => self.report_value(key, line, Problem::BadPolicy { error }),
            },
            Key::Ciphers => self.config.ciphers = owned(),
            Key::Ciphersuites => self.config.ciphersuites = owned(),
            Key::Dhparams => {
                self.config.dhparams = self.absolute_path(key, value, line);
                if self.config.dhparams.is_some() {
                    self.report(line, Problem::DhparamsNotApplicable);
                }
            }
            Key::TlsKeyFile => self.config.tls_key_file = self.absolute_path(key, value, line),
            Key::HonorCipherOrder => self.boolean(key, value, line, |c| &mut c.honor_cipher_order),
            Key::Compression => self.boolean(key, value, line, |c| &mut c.compression),
            Key::DisableTls12 => self.boolean(key, value, line, |c| &mut c.disable_tls_1_2),
            Key::DisableTls13 => self.boolean(key, value, line, |c| &mut c.disable_tls_1_3),
            Key::ProxyRealIpHeader if is_header_name(value) => {
                self.config.proxy_real_ip_header = owned()
            }
            Key::ProxyRealIpHeader => {
                let value = value.to_owned();
                self.report_value(key, line, Problem::BadHeaderName { value });
            }
            Key::MaxWorkers => self.max_workers(value, line),
        }
    }

    /// Proxmox: `^\d+$`, then 1..=127; anything else warns and the default applies.
    fn max_workers(&mut self, value: &str, line: Option<usize>) {
        match parse_max_workers(value) {
            Some(n) => {
                self.config.max_workers = Some(n);
                self.report(line, Problem::MaxWorkersNotApplicable { value: n });
            }
            None => {
                // Ignored, as Proxmox does: the default applies, so no line to show.
                self.config.lines.remove(&Key::MaxWorkers);
                let value = value.to_owned();
                self.report_value(Key::MaxWorkers, line, Problem::BadMaxWorkers { value });
            }
        }
    }

    fn list(&mut self, key: Key, value: &str, line: Option<usize>) -> AddrList {
        match AddrList::parse(value) {
            Ok(parsed) => {
                for warning in parsed.warnings {
                    self.report_value(key, line, Problem::EntryWarning { key, warning });
                }
                parsed.list
            }
            Err(errors) => {
                for error in errors {
                    self.report_value(key, line, Problem::BadEntry { key, error });
                }
                AddrList::default()
            }
        }
    }

    fn boolean(
        &mut self,
        key: Key,
        value: &str,
        line: Option<usize>,
        field: fn(&mut ProxyConfig) -> &mut bool,
    ) {
        match value {
            "0" => *field(&mut self.config) = false,
            "1" => *field(&mut self.config) = true,
            _ => {
                let value = value.to_owned();
                self.report_value(key, line, Problem::BadBoolean { key, value });
            }
        }
    }

    fn absolute_path(&mut self, key: Key, value: &str, line: Option<usize>) -> Option<String> {
        if value.starts_with('/') {
            return Some(value.to_owned());
        }
        let value = value.to_owned();
        self.report_value(key, line, Problem::RelativePath { key, value });
        None
    }

    /// Cross-key checks and the TLS policy, once every key is known.
    fn finish(mut self) -> ConfigReport {
        self.derive_tls();
        if self.has_errors() {
            // A key that failed to read looks unset; advice built on that would mislead.
            return self.into_report();
        }
        let config = &self.config;
        let allow_from_alone = !config.acl.allow.is_empty()
            && config.acl.deny.is_empty()
            && config.acl.policy == Policy::Allow;
        let real_ip_allow_alone =
            config.proxy_real_ip_allow_from.is_some() && config.proxy_real_ip_header.is_none();
        if allow_from_alone {
            let line = self.line_of(Key::AllowFrom);
            self.report(line, Problem::AllowFromRestrictsNothing);
        }
        for (position, entry) in allow_entries_cancelled_by_deny(&self.config.acl) {
            let line = self.line_of(Key::AllowFrom);
            let problem = Problem::AllowCancelledByDeny { position, entry };
            self.report_value(Key::AllowFrom, line, problem);
        }
        if real_ip_allow_alone {
            let line = self.line_of(Key::ProxyRealIpAllowFrom);
            self.report(line, Problem::RealIpAllowWithoutHeader);
        }
        self.into_report()
    }

    fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
    }

    fn into_report(mut self) -> ConfigReport {
        // Stable: line order, whole-file findings last, severity and insertion order within a line.
        self.diagnostics
            .sort_by_key(|d| (d.line.is_none(), d.line, d.severity()));
        let usable = !self.has_errors();
        ConfigReport {
            config: usable.then_some(self.config),
            diagnostics: self.diagnostics,
        }
    }

    fn derive_tls(&mut self) {
        let config = &self.config;
        let settings = TlsSettings {
            ciphers: config.ciphers.as_deref(),
            ciphersuites: config.ciphersuites.as_deref(),
            disable_tls_1_2: config.disable_tls_1_2,
            disable_tls_1_3: config.disable_tls_1_3,
            honor_cipher_order: config.honor_cipher_order,
        };
        match TlsPolicy::from_settings(&settings) {
            Ok(report) => {
                for warning in &report.warnings {
                    let key = Key::from(warning.key);
                    let warning = warning.clone();
                    self.report_value(key, self.line_of(key), Problem::TlsWarning { warning });
                }
                self.config.tls = report;
            }
            Err(error) => {
                let key = Key::from(error.key());
                self.report_value(key, self.line_of(key), Problem::Tls { error });
            }
        }
    }
}

/// With POLICY=deny a host in both lists is denied, so an ALLOW_FROM entry that overlaps
/// DENY_FROM (e.g. `DENY_FROM=all`) is partly or wholly cancelled: almost never what was meant.
/// O(n log m) for n allow and m deny entries.
fn allow_entries_cancelled_by_deny(acl: &HostAcl) -> Vec<(usize, String)> {
    if acl.policy != Policy::Deny {
        return Vec::new();
    }
    let mut cancelled: Vec<(usize, String)> = Vec::new();
    for allow in acl.allow.entries() {
        // `all` gives two entries with one position: name it once.
        let named = cancelled.last().is_some_and(|(p, _)| *p == allow.position);
        if !named && acl.deny.overlaps(allow.range) {
            cancelled.push((allow.position, allow.text.clone()));
        }
    }
    cancelled
}

/// `MAX_WORKERS` as Proxmox reads it: ASCII digits only (`^\d+$`, so no sign and no spaces;
/// leading zeros are fine), then 1 to 127.
fn parse_max_workers(value: &str) -> Option<u8> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most three significant digits can be in range; longer ones need no parsing.
    let significant = value.trim_start_matches('0');
    let n: u16 = match significant.len() {
        0 => 0,
        1..=3 => significant.parse().ok()?,
        _ => return None,
    };
    u8::try_from(n).ok().filter(|n| (1..=127).contains(n))
}

/// An address (IPv6 with an optional `%zone`) or a host name; never `addr:port` or `[addr]`.
fn parse_listen_ip(value: &str) -> Result<ListenIp, &'static str> {
    if value.starts_with('[') {
        return Err("is bracketed; write the address without [ ]");
    }
    let (addr, zone) = match value.split_once('%') {
        Some((addr, zone)) => (addr, Some(zone)),
        None => (value, None),
    };
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return match (ip, zone) {
            (_, None) => Ok(ListenIp::Addr { ip, zone: None }),
            (IpAddr::V4(_), Some(_)) => Err("has a zone id, which only IPv6 addresses take"),
            (IpAddr::V6(_), Some(zone)) if is_zone(zone) => Ok(ListenIp::Addr {
                ip,
                zone: Some(zone.to_owned()),
            }),
            (IpAddr::V6(_), Some(_)) => Err("has an invalid zone id"),
        };
    }
    if value.contains(':') {
        return Err("is not an address (LISTEN_IP takes no port; pveproxy always listens on 8006)");
    }
    if value
        .split('.')
        .all(|part| part.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("is not a valid IPv4 address");
    }
    if is_host_name(value) {
        return Ok(ListenIp::Host(value.to_owned()));
    }
    Err("is neither an IP address nor a host name")
}

fn is_zone(zone: &str) -> bool {
    !zone.is_empty()
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn is_host_name(value: &str) -> bool {
    value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// RFC 9110 token characters.
fn is_header_name(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Levenshtein distance, for "did you mean"; names are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::acl::{Access, AddrRange};

    fn config(text: &str) -> ProxyConfig {
        let report = parse(text.as_bytes());
        report
            .config
            .unwrap_or_else(|| panic!("{text:?} is not usable: {:?}", report.diagnostics))
    }

    fn codes(text: &str) -> Vec<(Option<usize>, &'static str)> {
        parse(text.as_bytes())
            .diagnostics
            .iter()
            .map(|d| (d.line, d.problem.code()))
            .collect()
    }

    #[test]
    fn a_missing_or_empty_file_means_proxmox_defaults() {
        let defaults = ProxyConfig::default();
        assert_eq!(config(""), defaults);
        assert_eq!(defaults.acl.policy, Policy::Allow);
        assert!(defaults.honor_cipher_order && defaults.compression);
        assert!(!defaults.disable_tls_1_2 && !defaults.disable_tls_1_3);
        assert!(defaults.tls.policy.tls12 && defaults.tls.policy.tls13);
        assert_eq!(defaults.tls.policy.tls12_suites.len(), 6);
    }

    #[test]
    fn an_empty_value_means_unset() {
        assert_eq!(
            config("POLICY=\"\"\nCOMPRESSION=\nALLOW_FROM=''\n"),
            ProxyConfig::default()
        );
    }

    #[test]
    fn the_acl_is_read_from_the_three_keys() {
        let peer = |ip: [u8; 4]| IpAddr::V4(Ipv4Addr::from(ip));
        let restrictive = config("ALLOW_FROM=10.0.0.0/8\nPOLICY=deny\n");
        assert_eq!(restrictive.acl.decide(peer([10, 1, 2, 3])), Access::Allow);
        assert_eq!(restrictive.acl.decide(peer([11, 1, 2, 3])), Access::Deny);
        // Matching both lists defers to POLICY: with deny, DENY_FROM=all locks everyone out.
        let locked = config("ALLOW_FROM=10.0.0.0/8\nDENY_FROM=all\nPOLICY=deny\n");
        assert_eq!(locked.acl.decide(peer([10, 1, 2, 3])), Access::Deny);
        assert_eq!(
            codes("ALLOW_FROM=10.0.0.0/8\nDENY_FROM=all\nPOLICY=deny\n"),
            [(Some(1), "allow-cancelled-by-deny")]
        );
        assert_eq!(
            codes("ALLOW_FROM=10.0.0.0/8\nDENY_FROM=11.0.0.0/8\nPOLICY=deny\n"),
            []
        );
    }

    #[test]
    fn booleans_are_exactly_0_or_1() {
        assert!(!config("COMPRESSION=0").compression);
        assert!(config("DISABLE_TLS_1_3=1").disable_tls_1_3);
        for bad in ["yes", "true", "01", " 1", "on"] {
            assert_eq!(
                codes(&format!("COMPRESSION='{bad}'")),
                [(Some(1), "bad-boolean")],
                "{bad}"
            );
        }
    }

    #[test]
    fn a_file_with_errors_is_never_half_applied() {
        let report = parse(b"POLICY=deny\nCOMPRESSION=maybe\n");
        assert_eq!(report.config, None);
        assert_eq!(report.errors().count(), 1);
    }

    #[test]
    fn unknown_keys_warn_with_a_suggestion_unless_used_as_helpers() {
        let report = parse(b"DENY_FORM=all\nNET=10.0.0.0/8\nALLOW_FROM=$NET\nDENY_FROM=all\n");
        let problems: Vec<&Problem> = report.diagnostics.iter().map(|d| &d.problem).collect();
        let suggestion = Some(Key::DenyFrom);
        assert_eq!(
            problems,
            [&Problem::UnknownKey {
                name: "DENY_FORM".into(),
                suggestion
            }]
        );
    }

    #[test]
    fn a_misspelt_key_that_builds_on_itself_is_still_unknown() {
        for text in [
            "ALOW_FROM+=10.0.0.1\n",
            "ALOW_FROM=10.0.0.1\nALOW_FROM=\"$ALOW_FROM,10.0.0.2\"\n",
        ] {
            assert_eq!(codes(text), [(Some(1), "unknown-key")], "{text}");
        }
        // Used by another variable, it is a helper.
        assert_eq!(codes("NET=10.0.0.1\nNET+=/32\nDENY_FROM=$NET\n"), []);
    }

    #[test]
    fn a_bad_entry_names_the_lines_its_value_came_from() {
        let report = parse(b"NET=10.0.0.1/33\n# x\nDENY_FROM=\"$NET\"\n\nDENY_FROM+=,10.0.0.2\n");
        let shown: Vec<String> = report.diagnostics.iter().map(|d| d.located("f")).collect();
        assert_eq!(
            shown,
            [
                "f:5: error: DENY_FROM: entry 1 '10.0.0.1/33': prefix /33 is longer than the 32 \
              bits of an IPv4 address (value built from lines 1, 3 and 5)"
            ]
        );
        // A value written on its own line says nothing more.
        let report = parse(b"POLICY=maybe\n");
        assert_eq!(report.diagnostics[0].built_from, None);
    }

    #[test]
    fn values_are_shown_with_control_characters_escaped() {
        let report = parse(b"POLICY=\"\x1b[2Kdeny\"\nDENY_FROM=\"\xe2\x80\xae10.0.0.1\"\n");
        let shown: Vec<String> = report.diagnostics.iter().map(|d| d.located("f")).collect();
        assert_eq!(
            shown,
            [
                "f:1: error: POLICY: unknown policy '\\x1b[2Kdeny': use 'allow' or 'deny'",
                "f:2: error: DENY_FROM: entry 1 '\\u{202e}10.0.0.1': '\\u{202e}10.0.0.1' is \
                 not an IP address: '\\u{202e}' is not allowed: an IPv4 address is digits and \
                 dots, an IPv6 address hex digits and colons (host names are not resolved)",
            ]
        );
        // The path is escaped too.
        let line = parse(b"POLICY=x\n").diagnostics[0].located("a\x07b");
        assert!(line.starts_with("a\\x07b:1: error:"), "{line}");
    }

    #[test]
    fn policy_errors_hint_at_lowercase() {
        let report = parse(b"POLICY=Deny\n");
        assert_eq!(
            report.diagnostics[0].problem.to_string(),
            "POLICY: unknown policy 'Deny': use 'allow' or 'deny' (in lowercase)"
        );
    }

    #[test]
    fn large_lists_are_checked_in_n_log_n() {
        // 100,000 allow entries against 100,000 deny entries: pairwise would be 1e10 checks.
        let v4 = |first: u32, last: u32| AddrRange::V4 {
            first: first.into(),
            last: last.into(),
        };
        let allow = (0..100_000u32).map(|i| v4(i * 4, i * 4 + 1));
        let deny = (0..100_000u32).map(|i| v4(i * 4 + 2, i * 4 + 3));
        let mut acl = HostAcl {
            allow: AddrList::from_ranges(allow.chain([v4(9, 9), v4(401, 402)])),
            deny: AddrList::from_ranges(deny),
            policy: Policy::Deny,
        };
        let cancelled = allow_entries_cancelled_by_deny(&acl);
        assert_eq!(
            cancelled,
            [(100_002, "0.0.1.145-0.0.1.146".to_owned())],
            "only the entry reaching into a deny range"
        );
        acl.policy = Policy::Allow;
        assert_eq!(allow_entries_cancelled_by_deny(&acl), []);
        // 20,000 unknown names: one warning each, found in a set.
        let text: String = (0..20_000).map(|i| format!("X{i}=1\n")).collect();
        assert_eq!(parse(text.as_bytes()).diagnostics.len(), 20_000);
    }

    #[test]
    fn building_a_value_up_is_not_a_reassignment() {
        assert_eq!(
            codes("DENY_FROM=all\nALLOW_FROM=10.0.0.1\nALLOW_FROM=\"$ALLOW_FROM,10.0.0.2\""),
            []
        );
        let reassigned = codes("DENY_FROM=all\nALLOW_FROM=10.0.0.1\nALLOW_FROM=10.0.0.2");
        assert_eq!(reassigned, [(Some(3), "reassigned")]);
    }

    #[test]
    fn listen_ip_takes_an_address_a_zone_or_a_host_name() {
        let listen = |text: &str| parse_listen_ip(text).map(|ip| ip.to_string());
        assert_eq!(listen("::"), Ok("::".into()));
        assert_eq!(listen("fe80::1%vmbr0"), Ok("fe80::1%vmbr0".into()));
        assert_eq!(listen("pve1"), Ok("pve1".into()));
        assert!(listen("10.0.0.1%eth0").is_err());
        assert!(listen("10.0.0.256").is_err());
        assert!(listen("[::1]").is_err());
        assert!(listen("0.0.0.0:8006").is_err());
        assert!(listen("-bad-.example").is_err());
    }

    #[test]
    fn max_workers_is_validated_but_never_fatal() {
        assert_eq!(config("MAX_WORKERS=127").max_workers, Some(127));
        assert_eq!(config("MAX_WORKERS=0005").max_workers, Some(5));
        let zeros = "0".repeat(10_000);
        assert_eq!(
            config(&format!("MAX_WORKERS={zeros}9")).max_workers,
            Some(9)
        );
        // Proxmox accepts only `^\d+$`: no sign, no spaces, no other digits.
        for bad in [
            "0",
            "128",
            "-1",
            "three",
            "+5",
            "' 5'",
            "'5 '",
            "٣",
            "1000",
            "99999999999",
        ] {
            let report = parse(format!("MAX_WORKERS={bad}").as_bytes());
            assert_eq!(report.config.map(|c| c.max_workers), Some(None), "{bad}");
        }
    }

    #[test]
    fn tls_problems_point_at_the_key_s_line() {
        let both = codes("\nDISABLE_TLS_1_2=1\nDISABLE_TLS_1_3=1\n");
        assert_eq!(both, [(Some(3), "tls")]);
        let unknown = codes("# x\nCIPHERS=ECDHE-RSA-AES128-GCM-SHA256:BOGUS\n");
        assert_eq!(unknown, [(Some(2), "tls-warning")]);
    }

    #[test]
    fn every_problem_code_is_listed() {
        let samples = [
            Problem::DhparamsNotApplicable,
            Problem::AllowFromRestrictsNothing,
            Problem::RealIpAllowWithoutHeader,
            Problem::CarriageReturns { count: 1 },
        ];
        for problem in samples {
            assert!(Problem::CODES.contains(&problem.code()));
        }
        let unique: std::collections::BTreeSet<_> = Problem::CODES.iter().collect();
        assert_eq!(unique.len(), Problem::CODES.len());
    }

    #[test]
    fn misspellings_find_the_closest_key() {
        assert_eq!(Key::closest_to("allow_from"), Some(Key::AllowFrom));
        assert_eq!(Key::closest_to("CIPHER"), Some(Key::Ciphers));
        assert_eq!(Key::closest_to("COMPLETELY_ELSE"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
