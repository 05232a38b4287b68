//! The real `pveproxy` process: started as root it serves as `--user`; `pveproxy restart`
//! (SIGHUP) applies a valid new config to new connections and keeps the old one when the new
//! one is invalid; `pveproxy stop` (SIGTERM) ends it with exit 0. Loopback only.
//!
//! Probing uses plain HTTP on the TLS port, which pveproxy answers with a redirect — so no TLS
//! client is needed to see whether a connection is served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, node_root_with_certificate, running_as_root};

const PVEPROXY: &str = env!("CARGO_BIN_EXE_pveproxy");
/// How long the daemon may take to start serving or to stop.
const WAIT_MAX: Duration = Duration::from_secs(20);

/// A node root with a certificate and `config`, readable by `nobody` as /etc/pve is by
/// www-data (root:group 0640).
fn node_root(name: &str, config: &str) -> PathBuf {
    let root = node_root_with_certificate(&format!("daemon-test-{name}"));
    std::fs::create_dir_all(root.join("etc/default")).expect("temp dir is writable");
    write_config(&root, config);
    make_readable_by_everyone(&root);
    root
}

fn write_config(root: &Path, config: &str) {
    let path = root.join("etc/default/pveproxy");
    std::fs::write(&path, config).expect("write config");
    make_readable_by_everyone(&path);
}

/// The test does not know the unprivileged user's group; world-readable stands in for 0640.
fn make_readable_by_everyone(path: &Path) {
    let status = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(path)
        .status()
        .expect("chmod runs");
    assert!(status.success());
}

/// `pveproxy start` for node pve1 under `root` as `nobody`, with `listen_args` choosing where.
fn start_command(root: &Path, listen_args: &[&str]) -> Command {
    let mut command = Command::new(PVEPROXY);
    command.args(["start", "--node", "pve1", "--user", "nobody"]);
    command.args(listen_args).arg("--root").arg(root);
    command
}

fn spawn(mut command: Command) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pveproxy starts")
}

fn start(root: &Path, port: u16) -> Child {
    spawn(start_command(
        root,
        &["--listen", &format!("127.0.0.1:{port}")],
    ))
}

/// A start that must fail: exit 1, and what it said on stderr.
fn failed_start_stderr(root: &Path) -> String {
    let output = start_command(root, &["--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn pveproxy(args: &[&str], root: &Path) -> String {
    let output = Command::new(PVEPROXY)
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a plain-HTTP request sees: the reply's first line, or "" when closed without a reply.
fn probe(port: u16) -> std::io::Result<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /x HTTP/1.1\r\nHost: pve1:8006\r\n\r\n")?;
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&reply);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Waits until `probe` gives `expected` (bounded).
fn wait_for(port: u16, expected: &str) {
    let deadline = Instant::now() + WAIT_MAX;
    let mut last = String::new();
    while Instant::now() < deadline {
        match probe(port) {
            Ok(line) if line == expected => return,
            Ok(line) => last = line,
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("waited for {expected:?}, last saw {last:?}");
}

/// The real and effective uids from /proc.
fn uids(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process exists");
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("a Uid line");
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().expect("numeric uid"))
        .collect()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            return status;
        }
        assert!(Instant::now() < deadline, "pveproxy did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const REDIRECT: &str = "HTTP/1.1 301 Moved Permanently";

#[test]
fn the_daemon_serves_unprivileged_reloads_safely_and_stops_cleanly() {
    let root = node_root("lifecycle", "COMPRESSION=1\n");
    let port = free_port();
    let mut child = start(&root, port);
    wait_for(port, REDIRECT);

    // Never serves as root: started as root, every uid is the unprivileged user's.
    let uids = uids(child.id());
    if running_as_root() {
        assert!(uids.iter().all(|&uid| uid != 0), "uids {uids:?}");
    }
    assert!(pveproxy(&["status"], &root).starts_with("running (pid "));

    // An invalid config: the reload is refused and the old config keeps serving.
    write_config(&root, "POLICY=bogus\nDENY_FROM=all\n");
    assert_eq!(pveproxy(&["restart"], &root), "reloading\n");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(probe(port).expect("still serving"), REDIRECT);

    // A valid one that denies us: new connections are closed without a reply.
    write_config(&root, "DENY_FROM=127.0.0.1\n");
    assert_eq!(pveproxy(&["restart"], &root), "reloading\n");
    wait_for(port, "");

    assert_eq!(pveproxy(&["stop"], &root), "stopped\n");
    assert!(
        wait_exit(&mut child).success(),
        "SIGTERM ends pveproxy with exit 0"
    );
    assert_eq!(pveproxy(&["status"], &root), "stopped\n");
    let log =
        std::fs::read_to_string(root.join("var/log/pveproxy/access.log")).expect("access log");
    assert!(
        log.contains("\"-\" 403 -\n"),
        "the denied connection is logged: {log}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_bad_certificate_stops_the_start_with_a_clear_message() {
    let root = node_root("badkey", "");
    std::fs::write(root.join("etc/pve/nodes/pve1/pve-ssl.key"), "not a key\n").expect("write");
    let stderr = failed_start_stderr(&root);
    assert!(
        stderr.contains("pve-ssl.key: no PEM private key in the file"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn listen_ip_binds_only_that_address() {
    let root = node_root("listen-ip", "LISTEN_IP=127.0.0.1\n");
    let port = free_port();
    let mut child = spawn(start_command(&root, &["--port", &port.to_string()]));
    wait_for(port, REDIRECT);
    // Bound to the IPv4 address alone: the same port on ::1 is not pveproxy's.
    let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
    assert!(
        TcpStream::connect_timeout(&v6, Duration::from_secs(2)).is_err(),
        "::1 is not served"
    );
    assert_eq!(pveproxy(&["stop"], &root), "stopped\n");
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_key_the_unprivileged_user_cannot_read_stops_the_start() {
    if !running_as_root() {
        return; // Without root there is no other user to fail for.
    }
    let root = node_root("unreadable", "");
    let key = root.join("etc/pve/nodes/pve1/pve-ssl.key");
    // root:root 0640 — readable by root and root's group only, as a key mistakenly left.
    let status = Command::new("chmod")
        .arg("640")
        .arg(&key)
        .status()
        .expect("chmod runs");
    assert!(status.success());
    let stderr = failed_start_stderr(&root);
    let expected = format!(
        "cannot read {}: Permission denied (os error 13)\n",
        key.display()
    );
    assert!(stderr.ends_with(&expected), "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}
