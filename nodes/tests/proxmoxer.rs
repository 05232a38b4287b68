//! A real client against the real daemons: the Python package `proxmoxer` (2.x) logs in to
//! `pveproxy` with a user's password (pveproxy forwards the login to `pvedaemon`), reads
//! `/version` and `/access/permissions`, does the same with an API token, and gets proxmoxer's
//! `AuthenticationError` for a wrong password.
//!
//! The node is set up as the README's "Running pveproxy and pvedaemon by hand" does, with the
//! `corral` commands a newcomer uses. proxmoxer comes from a virtualenv under `target/`
//! (`target/proxmoxer-venv`), which `.ci/run` prepares and this test creates when it is
//! missing; without python3 or PyPI the test fails and says what is missing.

mod common;

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, node_root_with_certificate, running_as_root};
use serde_json::Value;

const PVEPROXY: &str = env!("CARGO_BIN_EXE_pveproxy");
const PVEDAEMON: &str = env!("CARGO_BIN_EXE_pvedaemon");
const CORRAL: &str = env!("CARGO_BIN_EXE_corral");
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proxmoxer_client.py");
/// How long a daemon may take to listen.
const WAIT_MAX: Duration = Duration::from_secs(20);
/// What `.ci/run` and this test install into the virtualenv.
const PIP_PACKAGES: [&str; 2] = ["proxmoxer>=2,<3", "requests"];

const USER: &str = "alice@pve";
const PASSWORD: &str = "correct horse battery";
const TOKEN_NAME: &str = "automation";

#[test]
fn proxmoxer_logs_in_reads_version_and_permissions_and_uses_an_api_token() {
    let python = proxmoxer_python();
    let node = Node::start();
    let seen = run_client(&python, &node);
    let context = format!("proxmoxer saw {seen:#}\n{}", node.logs());

    assert!(
        seen["proxmoxer"]
            .as_str()
            .is_some_and(|v| v.starts_with("2.")),
        "{context}"
    );
    let password = &seen["password"];
    assert_is_the_version(&password["version"], &context);
    assert_is_an_auditor(&password["permissions"], &context);
    // privsep 0: the token has the user's privileges.
    let token = &seen["token"];
    assert_eq!(token["version"], password["version"], "{context}");
    assert_eq!(token["permissions"], password["permissions"], "{context}");

    let wrong = &seen["wrong_password"];
    assert_eq!(wrong["error"], "AuthenticationError", "{context}");
    let message = wrong["message"].as_str().unwrap_or_default();
    assert!(message.contains("code: 401"), "{context}");

    // Both password logins were decided by pvedaemon, which logs them as Proxmox does.
    let daemon_log = node.log_of("pvedaemon");
    assert!(
        daemon_log.contains("successful auth for user 'alice@pve'"),
        "{context}"
    );
    assert!(
        daemon_log.contains("authentication failure; rhost=127.0.0.1 user=alice@pve"),
        "{context}"
    );
}

/// `/version` as clients parse it: `{"version":"9.x.y","release":"9.x","repoid":"…"}`.
fn assert_is_the_version(version: &Value, context: &str) {
    assert_eq!(
        version["version"],
        corral_nodes::daemon::PVE_VERSION,
        "{context}"
    );
    assert_eq!(
        version["release"],
        corral_nodes::daemon::PVE_RELEASE,
        "{context}"
    );
    let repoid = version["repoid"].as_str().unwrap_or_default();
    assert!(repoid.starts_with("corral-"), "{context}");
}

/// PVEAuditor on `/`: every privilege there is an audit one, Sys.Audit among them.
fn assert_is_an_auditor(permissions: &Value, context: &str) {
    let root = permissions["/"].as_object().expect(context);
    assert_eq!(root.get("Sys.Audit"), Some(&Value::from(1)), "{context}");
    assert!(
        root.keys().all(|privilege| privilege.ends_with(".Audit")),
        "{context}"
    );
}

/// Runs the Python client against the node's pveproxy; what it printed, as JSON.
fn run_client(python: &Path, node: &Node) -> Value {
    let output = Command::new(python)
        .arg(CLIENT)
        .env("CORRAL_PORT", node.proxy_port.to_string())
        .env("CORRAL_USER", USER)
        .env("CORRAL_PASSWORD", PASSWORD)
        .env("CORRAL_TOKEN_NAME", TOKEN_NAME)
        .env("CORRAL_TOKEN_VALUE", &node.token_secret)
        .output()
        .expect("the virtualenv's python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{CLIENT} failed ({}):\n{stderr}\n{}",
        output.status,
        node.logs()
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

// --- the node: a root with alice's credentials, pvedaemon and pveproxy ---

/// A node root with both daemons running; dropping it stops them and removes the root.
struct Node {
    root: PathBuf,
    proxy_port: u16,
    token_secret: String,
    daemons: Vec<Daemon>,
}

impl Node {
    fn start() -> Node {
        let root = node_root_with_certificate("proxmoxer");
        let token_secret = add_credentials(&root);
        let mut node = Node {
            root,
            proxy_port: free_port(),
            token_secret,
            daemons: Vec::new(),
        };
        // pvedaemon first: it creates the ticket and CSRF keys that pveproxy reads.
        let daemon_port = free_port();
        let daemon_addr = format!("127.0.0.1:{daemon_port}");
        node.spawn(
            "pvedaemon",
            PVEDAEMON,
            &["--listen", &daemon_addr, "--unauthorized-delay-ms", "50"],
            daemon_port,
        );
        if running_as_root() {
            share_with_www_data(&node.root);
        }
        let proxy_addr = format!("127.0.0.1:{}", node.proxy_port);
        node.spawn(
            "pveproxy",
            PVEPROXY,
            &["--listen", &proxy_addr, "--daemon", &daemon_addr],
            node.proxy_port,
        );
        node
    }

    /// Starts `program start --root R --node pve1 ARGS` and waits until it listens on `port`.
    fn spawn(&mut self, name: &'static str, program: &str, args: &[&str], port: u16) {
        let log = self.root.join(format!("{name}.stderr"));
        let child = Command::new(program)
            .args(["start", "--node", "pve1"])
            .args(args)
            .arg("--root")
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        self.daemons.push(Daemon { name, child, log });
        let daemon = self.daemons.last_mut().expect("just pushed");
        daemon.wait_listening(port);
    }

    /// Both daemons' stderr, for failure messages.
    fn logs(&self) -> String {
        self.daemons.iter().map(Daemon::log).collect()
    }

    /// What the daemon called `name` wrote to stderr.
    fn log_of(&self, name: &str) -> String {
        let daemon = self.daemons.iter().find(|d| d.name == name);
        daemon.map(Daemon::log).expect("a daemon of that name")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.daemons.clear();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A daemon process, killed on drop (also when the test panics).
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Waits (bounded) until `port` accepts connections; fails at once if the daemon exits.
    fn wait_listening(&mut self, port: u16) {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                panic!(
                    "{} exited ({status}) instead of listening\n{}",
                    self.name,
                    self.log()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {addr} within {WAIT_MAX:?}\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("--- {} stderr ---\n{text}", self.name)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// alice@pve with a password, PVEAuditor on `/`, and a token without privilege separation;
/// returns the token's secret.
fn add_credentials(root: &Path) -> String {
    corral(
        root,
        &["user", "add", USER, "--password"],
        &format!("{PASSWORD}\n"),
    );
    corral(
        root,
        &["acl", "set", "/", "--user", USER, "--role", "PVEAuditor"],
        "",
    );
    let printed = corral(
        root,
        &[
            "token",
            "add",
            USER,
            TOKEN_NAME,
            "--privsep",
            "0",
            "--output-format",
            "json",
        ],
        "",
    );
    let token: Value = serde_json::from_str(&printed).expect("token add prints JSON");
    token["value"].as_str().expect("the secret").to_owned()
}

/// Runs `corral ARGS --root ROOT` with `stdin`; what it printed. It must succeed.
fn corral(root: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(CORRAL)
        .args(args)
        .arg("--root")
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("corral runs");
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().expect("corral finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "corral {args:?}: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// As the README: `/etc` readable by group www-data (pveproxy's user), `/etc/pve/priv` root's.
fn share_with_www_data(root: &Path) {
    let etc = root.join("etc");
    let priv_dir = root.join("etc/pve/priv");
    run_ok(Command::new("chgrp").args(["-R", "www-data"]).arg(&etc));
    run_ok(Command::new("chmod").args(["-R", "g+rX"]).arg(&etc));
    run_ok(Command::new("chmod").args(["-R", "go-rwx"]).arg(&priv_dir));
}

fn run_ok(command: &mut Command) {
    let status = command.status().expect("runs");
    assert!(status.success(), "{command:?}: {status}");
}

// --- proxmoxer: a virtualenv under target/ ---

/// The virtualenv's python, with proxmoxer 2.x importable: made ready here when `.ci/run` has
/// not done it already.
fn proxmoxer_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .join("proxmoxer-venv");
    let python = venv.join("bin/python");
    if has_proxmoxer(&python) {
        return python;
    }
    if !runs(Command::new(&python).arg("--version")) {
        create_venv(&venv);
    }
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(PIP_PACKAGES)
        .output()
        .expect("the virtualenv's python runs");
    assert!(
        pip.status.success(),
        "cannot install proxmoxer from PyPI into {}: {}",
        venv.display(),
        String::from_utf8_lossy(&pip.stderr)
    );
    assert!(
        has_proxmoxer(&python),
        "proxmoxer 2.x is not importable in {} after pip install",
        venv.display()
    );
    python
}

fn create_venv(venv: &Path) {
    let output = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is needed for the proxmoxer test and cannot run ({e}); \
                 on Debian: apt-get install python3 python3-venv (.ci/run does)"
            )
        });
    assert!(
        output.status.success(),
        "python3 -m venv {} failed (on Debian it needs python3-venv): {}",
        venv.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn has_proxmoxer(python: &Path) -> bool {
    runs(Command::new(python).args([
        "-c",
        "import proxmoxer, requests, sys; sys.exit(not proxmoxer.__version__.startswith('2.'))",
    ]))
}

/// Whether `command` runs and exits 0 (its output discarded).
fn runs(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
