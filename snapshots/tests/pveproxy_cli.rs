//! What `pveproxy check-config` and `pveproxy check-access` print, over a corpus of config files
//! in `tests/configs/` (good and bad: every key, every error class, every warning).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p
//! corral-snapshots` and `git diff`).

use std::path::Path;

use corral_core::config::display::printable;

/// Runs `pveproxy ARGS…` in-process and renders what a terminal would show.
fn pveproxy(args: &[&str]) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("pveproxy").chain(args.iter().copied());
    let code = corral_nodes::pveproxy::run(argv, &mut out, &mut err);
    // Arguments may hold control characters on purpose; the snapshot shows them escaped.
    let mut shown = format!("$ pveproxy {}\n", printable(&args.join(" ")));
    shown.push_str(&String::from_utf8_lossy(&out));
    for line in String::from_utf8_lossy(&err).lines() {
        shown.push_str(&format!("stderr: {line}\n"));
    }
    shown.push_str(&format!("[exit {code}]\n"));
    shown
}

/// The corpus path as the user would type it, relative to the crate (the tests' working dir).
fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .expect("corpus files lie in the crate")
        .display()
        .to_string()
}

#[test]
fn check_config_over_the_corpus() {
    insta::glob!("configs/*", |path| {
        let path = relative(path);
        insta::assert_snapshot!(pveproxy(&["check-config", "--config", &path]));
    });
}

#[test]
fn check_config_without_a_file_uses_proxmox_defaults() {
    insta::assert_snapshot!(pveproxy(&[
        "check-config",
        "--config",
        "tests/configs/does-not-exist"
    ]));
}

#[test]
fn check_config_finds_the_file_under_root() {
    insta::assert_snapshot!(pveproxy(&["check-config", "--root", "tests/roots/node1"]));
}

#[test]
fn check_config_on_an_unreadable_path() {
    // A directory where the file should be: an error, never "missing, so defaults".
    insta::assert_snapshot!(pveproxy(&["check-config", "--config", "tests/configs"]));
}

#[test]
fn check_access_the_docs_example() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/docs-example",
        "10.0.0.1",
        "10.0.0.5",
        "10.0.0.6",
        "192.168.3.255",
        "192.168.4.0",
        "::ffff:10.0.0.3",
        "2001:db8::1",
    ]));
}

#[test]
fn check_access_allow_from_alone() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/allow-from-alone",
        "192.168.7.7",
        "203.0.113.9",
    ]));
}

#[test]
fn check_access_policy_deny() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/policy-deny",
        "10.20.30.40",
        "2001:db8:ffff::1",
        "2001:db9::1",
        "203.0.113.9",
    ]));
}

#[test]
fn check_access_ipv6_prefixes_never_match_ipv4_clients() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/v6-overlaps-mapped",
        "::1",
        "::ffff:192.0.2.1",
        "192.0.2.1",
        "2001:db8::5",
        "fe80::1%eth0",
    ]));
}

#[test]
fn check_access_every_entry_form() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/entry-forms",
        "10.0.0.1",
        "172.31.255.255",
        "10.2.0.0",
        "10.2.0.1",
        "192.168.1.20",
        "192.168.1.21",
        "192.168.2.10",
        "192.168.2.11",
        "fe80::80",
        "10.9.9.9",
    ]));
}

#[test]
fn check_access_shows_a_zone_id_escaped() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/docs-example",
        "fe80::1%eth0\u{202e}",
    ]));
}

#[test]
fn check_access_defaults_allow_everyone() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/does-not-exist",
        "203.0.113.9",
        "2001:db8::1",
    ]));
}

#[test]
fn check_access_refuses_a_bad_address() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/docs-example",
        "10.0.0.1",
        "pve1.example.com",
        "10.0.0.256",
        "10.0.0.1\x1b[2K",
    ]));
}

#[test]
fn check_access_refuses_a_bad_config() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/host-bits",
        "192.168.1.5",
    ]));
}

#[test]
fn usage_errors() {
    insta::assert_snapshot!(pveproxy(&[
        "check-access",
        "--config",
        "tests/configs/empty"
    ]));
    insta::assert_snapshot!(pveproxy(&["frobnicate"]));
}

#[test]
fn help() {
    insta::assert_snapshot!(pveproxy(&["--help"]));
    insta::assert_snapshot!(pveproxy(&["check-access", "--help"]));
}
