//! What `check-config` and `check-access` print.

use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use corral_core::acl::Explanation;
use corral_core::config::display::{is_printable, printable};
use corral_core::config::{ConfigReport, Diagnostic, Key, ProxyConfig, Severity, proxy};
use corral_io::files::{CONFIG_LEN_MAX, Root, read_optional};

use crate::pveproxy::ConfigArgs;

/// The config file as read: its path, whether it exists, and what it says.
struct Loaded {
    path: PathBuf,
    found: bool,
    report: ConfigReport,
}

/// Reads the file; says on `err` when it does not exist, so an answer based on Proxmox's
/// defaults is never mistaken for one about the file.
fn load(args: &ConfigArgs, err: &mut dyn Write) -> Result<Option<Loaded>> {
    let path = match &args.config {
        Some(path) => path.clone(),
        None => Root::new(&args.root).path("/etc/default/pveproxy"),
    };
    let bytes = match read_optional(&path, CONFIG_LEN_MAX) {
        Ok(bytes) => bytes,
        Err(e) => {
            writeln!(err, "pveproxy: {}", printable(&e.to_string()))?;
            return Ok(None);
        }
    };
    let found = bytes.is_some();
    if !found {
        let shown = printable_path(&path);
        writeln!(
            err,
            "pveproxy: note: {shown} does not exist; Proxmox's defaults apply"
        )?;
    }
    let report = proxy::parse(bytes.as_deref().unwrap_or_default());
    Ok(Some(Loaded {
        path,
        found,
        report,
    }))
}

/// The path as text, with anything that could act on a terminal escaped.
fn printable_path(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// `check-config`: effective settings, then diagnostics, then a summary. Exit 0 or 1.
pub fn check_config(args: &ConfigArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let Some(loaded) = load(args, err)? else {
        return Ok(1);
    };
    if let Some(config) = &loaded.report.config {
        write!(out, "{}", effective_settings(&loaded, config))?;
    }
    write_diagnostics(&loaded, out)?;
    writeln!(out, "{}", summary(&loaded))?;
    Ok(if loaded.report.config.is_some() { 0 } else { 1 })
}

/// `check-access`: one line per address. Exit 0; 2 for a bad address; 1 for a bad config.
pub fn check_access(
    args: &ConfigArgs,
    addrs: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let mut peers = Vec::with_capacity(addrs.len());
    let mut bad = false;
    for addr in addrs {
        match parse_peer(addr) {
            Some(ip) => peers.push((addr, ip)),
            None => {
                let shown = printable(addr);
                writeln!(err, "pveproxy: '{shown}' is not an IPv4 or IPv6 address")?;
                bad = true;
            }
        }
    }
    if bad {
        return Ok(2);
    }
    let Some(loaded) = load(args, err)? else {
        return Ok(1);
    };
    let Some(config) = &loaded.report.config else {
        write_diagnostics(&loaded, out)?;
        writeln!(out, "{}", summary(&loaded))?;
        return Ok(1);
    };
    for (addr, ip) in peers {
        writeln!(out, "{}", access_line(addr, &config.acl.explain(ip)))?;
    }
    Ok(0)
}

/// An address as a client connects from; a zone id (`fe80::1%eth0`) plays no part in the ACL.
fn parse_peer(text: &str) -> Option<IpAddr> {
    let addr = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    addr.parse()
        .ok()
        .filter(|ip| text == addr || matches!(ip, IpAddr::V6(_)))
}

/// `ADDR allow|deny  why  [row: …]`, noting when the address is judged as another.
fn access_line(addr: &str, explanation: &Explanation<'_>) -> String {
    let judged = explanation.peer.to_string();
    // A zone id (`fe80::1%…`) is the user's text.
    let addr = printable(addr);
    if judged == addr {
        format!("{addr} {explanation}")
    } else {
        format!("{addr} {explanation}  (judged as {judged})")
    }
}

fn effective_settings(loaded: &Loaded, config: &ProxyConfig) -> String {
    let mut text = String::new();
    let origin = if loaded.found {
        ""
    } else {
        " (file not found: Proxmox's defaults)"
    };
    let _ = writeln!(
        text,
        "# effective settings of {}{origin}",
        printable_path(&loaded.path)
    );
    for key in Key::ALL {
        let (value, comment) = setting(config, key);
        let comment = match config.lines.get(&key) {
            Some(line) => format!("line {line}"),
            None => comment,
        };
        let assignment = format!("{key}={}", shell_quote(&value));
        let _ = writeln!(text, "{assignment:<44} # {comment}");
    }
    let _ = writeln!(text, "{}", tls_summary(config));
    text
}

/// A key's effective value and what its default means.
fn setting(config: &ProxyConfig, key: Key) -> (String, String) {
    let flag = |on: bool| String::from(if on { "1" } else { "0" });
    let opt = |value: &Option<String>| value.clone().unwrap_or_default();
    let default = |text: &str| text.to_owned();
    match key {
        Key::ListenIp => (
            config
                .listen_ip
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            default("default: [::] dual-stack, 0.0.0.0 when IPv6 is off"),
        ),
        // How corral understood a list: one range per entry in the user's order (`all`, one
        // range of each family, stays `all`).
        Key::AllowFrom => (config.acl.allow.render(), default("default: no entries")),
        Key::DenyFrom => (config.acl.deny.render(), default("default: no entries")),
        Key::Policy => (config.acl.policy.to_string(), default("default")),
        Key::Ciphers => (opt(&config.ciphers), default("default: Proxmox's list")),
        Key::Ciphersuites => (
            opt(&config.ciphersuites),
            default("default: OpenSSL's TLS 1.3 suites"),
        ),
        Key::Dhparams => (
            opt(&config.dhparams),
            default("default: none (not used by corral)"),
        ),
        Key::TlsKeyFile => (
            opt(&config.tls_key_file),
            default("default: /etc/pve/local/pveproxy-ssl.key"),
        ),
        Key::HonorCipherOrder => (flag(config.honor_cipher_order), default("default")),
        Key::Compression => (flag(config.compression), default("default")),
        Key::DisableTls12 => (flag(config.disable_tls_1_2), default("default")),
        Key::DisableTls13 => (flag(config.disable_tls_1_3), default("default")),
        Key::ProxyRealIpHeader => (
            opt(&config.proxy_real_ip_header),
            default("default: the access log shows the peer address"),
        ),
        Key::ProxyRealIpAllowFrom => (
            config
                .proxy_real_ip_allow_from
                .as_ref()
                .map(|list| list.render())
                .unwrap_or_default(),
            default("default: every peer may set the real-IP header"),
        ),
        Key::MaxWorkers => (
            config
                .max_workers
                .map(|n| n.to_string())
                .unwrap_or_default(),
            format!(
                "default: {} in Proxmox; corral uses one process",
                proxy::DEFAULT_MAX_WORKERS
            ),
        ),
    }
}

fn tls_summary(config: &ProxyConfig) -> String {
    let report = &config.tls;
    let policy = &report.policy;
    let mut versions = Vec::new();
    if policy.tls12 {
        versions.push("TLS 1.2");
    }
    if policy.tls13 {
        versions.push("TLS 1.3");
    }
    let order = if policy.honor_cipher_order {
        "the server's"
    } else {
        "the client's"
    };
    let mut text = format!("# TLS: {}; cipher order: {order}", versions.join(" and "));
    let names = |names: Vec<&str>| {
        if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.join(" ")
        }
    };
    if policy.tls13 {
        let suites = policy
            .tls13_suites
            .iter()
            .map(|s| s.openssl_name())
            .collect();
        let _ = write!(text, "\n# TLS 1.3 suites: {}", names(suites));
    }
    if policy.tls12 {
        let suites = policy
            .tls12_suites
            .iter()
            .map(|s| s.openssl_name())
            .collect();
        let _ = write!(text, "\n# TLS 1.2 suites: {}", names(suites));
        // For a CIPHERS the user wrote, a warning names what was left out.
        if config.ciphers.is_none() && !report.tls12_dropped.is_empty() {
            let dropped = report.tls12_dropped.clone();
            let _ = write!(
                text,
                "\n# in Proxmox's list, not offered (CBC: rustls has none): {}",
                names(dropped)
            );
        }
    }
    text
}

fn write_diagnostics(loaded: &Loaded, out: &mut dyn Write) -> std::io::Result<()> {
    for diagnostic in &loaded.report.diagnostics {
        writeln!(out, "{}", diagnostic_line(loaded, diagnostic))?;
    }
    Ok(())
}

fn diagnostic_line(loaded: &Loaded, diagnostic: &Diagnostic) -> String {
    diagnostic.located(&loaded.path.display().to_string())
}

fn summary(loaded: &Loaded) -> String {
    let count = |severity: Severity| {
        loaded
            .report
            .diagnostics
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let counts = format!(
        "{}, {}, {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Note), "note")
    );
    let verdict = if loaded.report.config.is_some() {
        "usable"
    } else {
        "NOT usable"
    };
    format!("{}: {verdict} ({counts})", printable_path(&loaded.path))
}

/// Quotes a value so the printed line is a bash assignment of exactly that value.
fn shell_quote(value: &str) -> String {
    const SPECIAL_IN_DOUBLE_QUOTES: [char; 4] = ['"', '$', '`', '\\'];
    if !value.chars().all(is_printable) {
        return ansi_c_quote(value);
    }
    if !value.contains(SPECIAL_IN_DOUBLE_QUOTES) {
        return format!("\"{value}\"");
    }
    if !value.contains('\'') {
        return format!("'{value}'");
    }
    let mut quoted = String::from("\"");
    for c in value.chars() {
        if SPECIAL_IN_DOUBLE_QUOTES.contains(&c) {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// bash's `$'…'` quoting, for a value holding characters that must not reach the terminal raw
/// (an escape sequence, a byte-order mark…): each is written as an escape bash reads back.
fn ansi_c_quote(value: &str) -> String {
    let mut quoted = String::from("$'");
    for c in value.chars() {
        match c {
            '\\' | '\'' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '\t' => quoted.push_str("\\t"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            c if is_printable(c) => quoted.push(c),
            c if c.is_ascii() => {
                let _ = write!(quoted, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) <= 0xffff => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(quoted, "\\U{:08x}", u32::from(c));
            }
        }
    }
    quoted.push('\'');
    quoted
}

/// Prints a clap parse error (or `--help`/`--version`) where it belongs; returns its exit code.
pub fn clap_error(e: clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let rendered = e.render().to_string();
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    let stream: &mut dyn Write = if e.use_stderr() { err } else { out };
    let _ = stream.write_all(rendered.as_bytes());
    code
}
