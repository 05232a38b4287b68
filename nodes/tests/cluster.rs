//! A cluster over real loopback (issue #5, point 5): `corral up` makes and starts a 3-node
//! cluster exactly as a user would, and the test talks HTTPS to the nodes' pveproxy processes,
//! checking what a client sees (status codes, reason lines, JSON data):
//!
//! 1. a ticket issued on pve1 works on pve2 and pve3;
//! 2. any node forwards to any node (the unprotected `/nodes/{node}/status`, run by the target's
//!    pveproxy, and the protected `/nodes/{node}/time`, run by the target's pvedaemon after the
//!    hop); `/nodes` and `/cluster/status` show every node online with its certificate's
//!    fingerprint;
//! 3. CSRF is enforced through a hop (`PUT /nodes/pve2/time` via pve1);
//! 4. the proxy loop is refused (`PVEDisableProxy` with another node's path);
//! 5. an unknown node is refused with its name;
//! 6. a stopped node gives 595, goes offline, and serves again after a restart (also when the
//!    restart comes right after a request through another node);
//! 7. a node presenting a certificate other than its pinned one is refused with 596, and
//!    served again once the real node is back.
//!
//! All steps run in sequence on one cluster (one `corral up`), which is stopped with SIGINT at
//! the end and must exit 0. As root (CI), pveproxy serves as www-data: the test's directory is
//! under the system temp dir, and made traversable for everyone.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

#[path = "common/exit.rs"]
mod exit;
use exit::exit_within;

const CORRAL: &str = env!("CARGO_BIN_EXE_corral");
const PVEPROXY: &str = env!("CARGO_BIN_EXE_pveproxy");

const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];
/// How long `corral up` may take to make the cluster (RSA keys in a debug build) and start it.
const UP_WAIT: Duration = Duration::from_secs(60);
/// How long a node may take to be seen online or offline: probes every 5 s, offline after two
/// failures in a row.
const HEALTH_WAIT: Duration = Duration::from_secs(20);
/// How long a daemon may take to start answering or to stop.
const DAEMON_WAIT: Duration = Duration::from_secs(20);
/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(100);
/// What [`Cluster::restarted`] calls the pveproxy with another node's certificate.
const IMPOSTOR: &str = "impostor";
/// What the test sets pve2's time zone to.
const TIMEZONE: &str = "Europe/Vienna";

#[test]
fn a_corral_up_cluster_forwards_between_any_nodes_and_refuses_what_proxmox_refuses() {
    let started = Instant::now();
    // What each step took, shown with --nocapture or on failure.
    let lap = |step: &str| eprintln!("{:>7.1?}  {step}", started.elapsed());
    let mut cluster = Cluster::up();
    lap("corral up: the cluster is up");
    let login = a_ticket_issued_on_pve1_works_on_pve2_and_pve3(&cluster);
    lap("1. a ticket issued on pve1 works on pve2 and pve3");
    any_node_forwards_to_any_node(&cluster, &login);
    lap("2. any node forwards to any node");
    every_node_lists_the_cluster_online_with_fingerprints(&cluster, &login);
    lap("2. every node lists the cluster online with fingerprints");
    csrf_is_enforced_through_a_hop(&cluster, &login);
    lap("3. CSRF is enforced through a hop");
    the_proxy_loop_is_refused(&cluster, &login);
    lap("4. the proxy loop is refused");
    an_unknown_node_is_refused_by_name(&cluster, &login);
    lap("5. an unknown node is refused by name");
    a_stopped_node_gives_595_and_serves_again_after_restart(&mut cluster, &login);
    lap("6. a stopped node gives 595 and serves again after restart");
    a_node_presenting_another_certificate_is_refused_with_596(&mut cluster, &login);
    lap("7. a node presenting another certificate is refused with 596");
    cluster.stop();
    lap("corral up stopped with SIGINT, exit 0");
}

// --- the scenarios ---

/// 1. Log in on pve1; the ticket opens pve2 and pve3 too (they share the cluster's key).
fn a_ticket_issued_on_pve1_works_on_pve2_and_pve3(cluster: &Cluster) -> Login {
    let form = format!(
        "username={}&password={}",
        form_encode(&cluster.userid),
        form_encode(&cluster.password)
    );
    let reply = cluster.call("pve1", "POST", "/api2/json/access/ticket", &[], Some(&form));
    expect_status(
        &reply,
        200,
        "POST /access/ticket on pve1 with the admin's password from cluster.json: a ticket",
    );
    let data = reply.data();
    assert_eq!(
        data["username"], cluster.userid,
        "the login on pve1: expected the ticket to be for {}, got {reply}",
        cluster.userid
    );
    let ticket = data["ticket"].as_str().unwrap_or_default();
    let csrf = data["CSRFPreventionToken"].as_str().unwrap_or_default();
    assert!(
        ticket.starts_with(&format!("PVE:{}:", cluster.userid)) && !csrf.is_empty(),
        "the login on pve1: expected a PVE ticket for {} and a CSRFPreventionToken, got {reply}",
        cluster.userid
    );
    let login = Login {
        ticket: ticket.to_owned(),
        csrf: csrf.to_owned(),
    };

    let anonymous = cluster.call("pve2", "GET", "/api2/json/version", &[], None);
    expect_status(
        &anonymous,
        401,
        "GET /version on pve2 without a ticket: refused",
    );
    for node in NODES {
        let reply = cluster.get(node, "/api2/json/version", &login);
        expect_status(
            &reply,
            200,
            &format!("GET /version on {node} with the ticket pve1 issued: the version"),
        );
        assert!(
            reply.data()["version"].is_string(),
            "GET /version on {node}: expected data.version, got {reply}"
        );
    }
    login
}

/// 2. Via every node, for every node: the status (unprotected, run by the target's pveproxy)
///    and the time (protected, run by the target's pvedaemon).
fn any_node_forwards_to_any_node(cluster: &Cluster, login: &Login) {
    for via in NODES {
        for target in NODES {
            let path = format!("/api2/json/nodes/{target}/status");
            let reply = cluster.get(via, &path, login);
            expect_status(
                &reply,
                200,
                &format!("GET {path} via {via}: {target}'s status"),
            );
            let data = reply.data();
            let pveversion = data["pveversion"].as_str().unwrap_or_default();
            assert!(
                data["uptime"].is_u64() && pveversion.starts_with("pve-manager/"),
                "GET {path} via {via}: expected data.uptime and data.pveversion \
                 (pve-manager/…), got {reply}"
            );

            let path = format!("/api2/json/nodes/{target}/time");
            let reply = cluster.get(via, &path, login);
            expect_status(
                &reply,
                200,
                &format!("GET {path} via {via}: {target}'s time"),
            );
            let time = reply.data()["time"].as_i64().unwrap_or_default();
            assert!(
                (time - unix_now()).abs() < 60,
                "GET {path} via {via}: expected data.time to be now ({}), got {reply}",
                unix_now()
            );
        }
    }
}

/// 2. `/nodes` and `/cluster/status` on every node: all three nodes, online (once the probes
///    have run), each with the fingerprint of its certificate file, the asked node local.
fn every_node_lists_the_cluster_online_with_fingerprints(cluster: &Cluster, login: &Login) {
    let fingerprints: Vec<String> = NODES
        .iter()
        .map(|node| cluster.fingerprint_of_file(node, "pve-ssl.pem"))
        .collect();
    for via in NODES {
        cluster.wait_for_state(via, &NODES, "online", login);
        let reply = cluster.get(via, "/api2/json/nodes", login);
        expect_status(&reply, 200, &format!("GET /nodes on {via}: the nodes"));
        for (node, fingerprint) in NODES.iter().zip(&fingerprints) {
            let entry = entry_of(&reply, "node", node).unwrap_or_else(|| {
                panic!("GET /nodes on {via}: expected an entry for {node}, got {reply}")
            });
            assert_eq!(
                entry["ssl_fingerprint"].as_str(),
                Some(fingerprint.as_str()),
                "GET /nodes on {via}: expected {node}'s ssl_fingerprint to be that of \
                 pve/nodes/{node}/pve-ssl.pem, got {reply}"
            );
            assert_eq!(
                entry["status"], "online",
                "GET /nodes on {via}: expected {node} online, got {reply}"
            );
        }
        let count = reply.data().as_array().map_or(0, Vec::len);
        assert_eq!(
            count, 3,
            "GET /nodes on {via}: expected exactly 3 nodes, got {reply}"
        );

        let reply = cluster.get(via, "/api2/json/cluster/status", login);
        expect_status(&reply, 200, &format!("GET /cluster/status on {via}"));
        let data = reply.data();
        let entries = data.as_array().cloned().unwrap_or_default();
        let summary = entries.iter().find(|entry| entry["type"] == "cluster");
        let summary = summary.unwrap_or_else(|| {
            panic!("GET /cluster/status on {via}: expected a cluster entry, got {reply}")
        });
        assert!(
            summary["name"] == "corral" && summary["nodes"] == 3 && summary["quorate"] == 1,
            "GET /cluster/status on {via}: expected the cluster entry name corral, nodes 3, \
             quorate 1, got {reply}"
        );
        assert_eq!(
            entries.len(),
            4,
            "GET /cluster/status on {via}: expected the cluster entry and 3 node entries, got \
             {reply}"
        );
        for (index, node) in NODES.iter().enumerate() {
            let entry = entry_of(&reply, "name", node).unwrap_or_else(|| {
                panic!("GET /cluster/status on {via}: expected an entry for {node}, got {reply}")
            });
            let nodeid = index + 1;
            let local = u8::from(*node == via);
            assert!(
                entry["type"] == "node"
                    && entry["nodeid"] == nodeid
                    && entry["ip"] == format!("127.0.0.{nodeid}")
                    && entry["online"] == 1
                    && entry["local"] == local,
                "GET /cluster/status on {via}: expected {node} as nodeid {nodeid}, ip \
                 127.0.0.{nodeid}, online 1, local {local}, got {reply}"
            );
        }
    }
}

/// 3. `PUT /nodes/pve2/time` via pve1: refused without the CSRF token, done with it.
fn csrf_is_enforced_through_a_hop(cluster: &Cluster, login: &Login) {
    let pve1_zone = cluster.timezone("pve1", "pve1", login);
    let before = cluster.timezone("pve3", "pve2", login);
    assert_ne!(
        before, TIMEZONE,
        "before the PUT: expected pve2's time zone not to be {TIMEZONE} yet"
    );
    let path = "/api2/json/nodes/pve2/time";
    let form = format!("timezone={}", form_encode(TIMEZONE));
    let reply = cluster.call("pve1", "PUT", path, &[login.cookie()], Some(&form));
    expect_status(
        &reply,
        401,
        &format!("PUT {path} via pve1 with the ticket but without a CSRFPreventionToken: refused"),
    );
    assert_eq!(
        reply.reason,
        corral_core::auth::csrf::DENIED_MESSAGE,
        "PUT {path} via pve1 without a CSRFPreventionToken: expected the reason line \
         '{}', got {reply}",
        corral_core::auth::csrf::DENIED_MESSAGE
    );
    let unchanged = cluster.timezone("pve3", "pve2", login);
    assert_eq!(
        unchanged, before,
        "after the refused PUT: expected pve2's time zone unchanged"
    );

    let reply = cluster.call(
        "pve1",
        "PUT",
        path,
        &[login.cookie(), login.csrf()],
        Some(&form),
    );
    expect_status(
        &reply,
        200,
        &format!("PUT {path} via pve1 with the ticket and its CSRFPreventionToken: done"),
    );
    let after = cluster.timezone("pve3", "pve2", login);
    assert_eq!(
        after, TIMEZONE,
        "GET /nodes/pve2/time via pve3 after the PUT via pve1: expected the new time zone"
    );
    let own = cluster.timezone("pve1", "pve1", login);
    assert_eq!(
        own, pve1_zone,
        "GET /nodes/pve1/time on pve1 after the PUT for pve2: expected pve1's time zone \
         unchanged (the PUT ran on pve2)"
    );
}

/// 4. A request that was forwarded once (`PVEDisableProxy`) is not forwarded again.
fn the_proxy_loop_is_refused(cluster: &Cluster, login: &Login) {
    let disable = ("PVEDisableProxy", "true".to_owned());
    let path = "/api2/json/nodes/pve3/status";
    let reply = cluster.call(
        "pve2",
        "GET",
        path,
        &[login.cookie(), disable.clone()],
        None,
    );
    expect_status(
        &reply,
        500,
        &format!("GET {path} sent to pve2 with PVEDisableProxy: true: refused"),
    );
    assert_eq!(
        reply.reason, "proxy loop detected",
        "GET {path} sent to pve2 with PVEDisableProxy: expected the reason line 'proxy loop \
         detected', got {reply}"
    );
    let path = "/api2/json/nodes/pve2/status";
    let reply = cluster.call("pve2", "GET", path, &[login.cookie(), disable], None);
    expect_status(
        &reply,
        200,
        &format!("GET {path} sent to pve2 itself with PVEDisableProxy: true: its status"),
    );
}

/// 5. A node that is not a member: 500 naming it.
fn an_unknown_node_is_refused_by_name(cluster: &Cluster, login: &Login) {
    let path = "/api2/json/nodes/nosuchnode/status";
    let reply = cluster.get("pve1", path, login);
    expect_status(&reply, 500, &format!("GET {path} via pve1: refused"));
    let expected = "unable to get remote IP address for node 'nosuchnode'";
    assert!(
        reply.reason.starts_with(expected),
        "GET {path} via pve1: expected the reason line to start with \"{expected}\", got \
         {reply}"
    );
}

/// 6. pve3's pveproxy stopped: 595 via the others, offline after the probes; started again
///    (as `corral up` starts it): served at the first request, online again. Then a restart
///    right after a request via pve1: the next request via pve1 is served too. (The graceful
///    stop closes pve1's idle connection; one that dies unseen under a request is
///    io/tests/node_forward.rs's to check.)
fn a_stopped_node_gives_595_and_serves_again_after_restart(cluster: &mut Cluster, login: &Login) {
    let path = "/api2/json/nodes/pve3/status";
    let warm = cluster.get("pve1", path, login);
    expect_status(&warm, 200, &format!("GET {path} via pve1 before the stop"));

    cluster.stop_pveproxy("pve3");
    for via in ["pve1", "pve2"] {
        let reply = cluster.get(via, path, login);
        expect_status(
            &reply,
            595,
            &format!("GET {path} via {via} with pve3's pveproxy stopped: no connection"),
        );
        assert_eq!(
            reply.reason, "Connection refused",
            "GET {path} via {via} with pve3's pveproxy stopped: expected the reason line \
             'Connection refused', got {reply}"
        );
    }
    cluster.wait_for_state("pve1", &["pve3"], "offline", login);
    let status = cluster.get("pve1", "/api2/json/cluster/status", login);
    let entry = entry_of(&status, "name", "pve3");
    assert_eq!(
        entry.map(|entry| entry["online"].clone()),
        Some(Value::from(0)),
        "GET /cluster/status on pve1 with pve3 offline: expected pve3 online 0, got {status}"
    );

    cluster.start_pveproxy("pve3");
    for via in ["pve1", "pve2"] {
        let reply = cluster.get(via, path, login);
        expect_status(
            &reply,
            200,
            &format!("GET {path} via {via}, the first after pve3's pveproxy is back: its status"),
        );
    }
    cluster.wait_for_state("pve1", &["pve3"], "online", login);

    // A request via pve1, then pve3's pveproxy stopped (closing pve1's idle connection, if it
    // kept one) and started again.
    let warm = cluster.get("pve1", path, login);
    expect_status(
        &warm,
        200,
        &format!("GET {path} via pve1 before the restart"),
    );
    cluster.stop_pveproxy("pve3");
    cluster.start_pveproxy("pve3");
    let reply = cluster.get("pve1", path, login);
    expect_status(
        &reply,
        200,
        &format!(
            "GET {path} via pve1, the first after pve3's pveproxy restarted right after pve1's \
             previous request: its status"
        ),
    );
}

/// 7. pve2's address answered by a pveproxy with another node's certificate (pve3's, made by
///    the same CA): the others refuse it (596), pve2's certificate file unchanged; with the
///    real pve2 back, served again. (Changing the file instead would not be seen: the others
///    have pinned pve2's certificate already, and re-read the file only when pve2 presents
///    another one — Proxmox's CertCache does the same.)
fn a_node_presenting_another_certificate_is_refused_with_596(cluster: &mut Cluster, login: &Login) {
    let path = "/api2/json/nodes/pve2/status";
    let warm = cluster.get("pve1", path, login);
    expect_status(&warm, 200, &format!("GET {path} via pve1 before the swap"));

    cluster.stop_pveproxy("pve2");
    cluster.start_impostor("pve2", "pve3");
    for via in ["pve1", "pve3"] {
        let reply = cluster.get(via, path, login);
        expect_status(
            &reply,
            596,
            &format!(
                "GET {path} via {via} with pve3's certificate presented on pve2's address: refused"
            ),
        );
        assert_eq!(
            reply.reason, "certificate fingerprint mismatch for node 'pve2'",
            "GET {path} via {via} with another certificate on pve2's address: expected the \
             reason line \"certificate fingerprint mismatch for node 'pve2'\", got {reply}"
        );
    }
    let nodes = cluster.get("pve1", "/api2/json/nodes", login);
    let pinned = cluster.fingerprint_of_file("pve2", "pve-ssl.pem");
    assert_eq!(
        entry_of(&nodes, "node", "pve2")
            .and_then(|entry| entry["ssl_fingerprint"].as_str().map(str::to_owned)),
        Some(pinned),
        "GET /nodes on pve1 during the swap: expected pve2's ssl_fingerprint still that of its \
         file, got {nodes}"
    );
    cluster.stop_impostor();

    cluster.start_pveproxy("pve2");
    for via in ["pve1", "pve3"] {
        let reply = cluster.get(via, path, login);
        expect_status(
            &reply,
            200,
            &format!("GET {path} via {via} with the real pve2 back: its status"),
        );
    }
}

// --- the cluster ---

/// A ticket and its CSRF token.
struct Login {
    ticket: String,
    csrf: String,
}

impl Login {
    fn cookie(&self) -> (&'static str, String) {
        ("Cookie", format!("PVEAuthCookie={}", self.ticket))
    }

    fn csrf(&self) -> (&'static str, String) {
        ("CSRFPreventionToken", self.csrf.clone())
    }
}

/// The cluster `corral up` runs; dropping it stops everything (and keeps the directory when
/// the test failed).
struct Cluster {
    /// The test's directory: the cluster's, `corral up`'s output, the impostor's root.
    base: PathBuf,
    /// The cluster's directory (`--dir`).
    dir: PathBuf,
    up: Option<Child>,
    port: u16,
    daemon_port: u16,
    userid: String,
    password: String,
    https: Https,
    /// pveproxy processes this test started (restarted nodes, by node; the impostor as
    /// [`IMPOSTOR`]).
    restarted: Vec<(String, Child)>,
}

impl Cluster {
    /// `corral up --dir … --nodes 3 --port P --daemon-port D`, until it says the cluster is
    /// up; the rest from `cluster.json`.
    fn up() -> Cluster {
        let base = std::env::temp_dir().join(format!("corral-cluster-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).expect("the temp dir is writable");
        // As root, pveproxy (www-data) must get through it.
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).expect("chmod");
        let dir = base.join("cluster");
        let (port, daemon_port) = free_ports();
        let out = fs::File::create(base.join("up.out")).expect("create up.out");
        let err = fs::File::create(base.join("up.err")).expect("create up.err");
        let child = Command::new(CORRAL)
            // As a user starts it, not as `cargo run` (which makes corral build the daemons).
            .env_remove("CARGO")
            .arg("up")
            .arg("--dir")
            .arg(&dir)
            .args(["--nodes", "3"])
            .args(["--port", &port.to_string()])
            .args(["--daemon-port", &daemon_port.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("corral up starts");
        let mut cluster = Cluster {
            base,
            dir,
            up: Some(child),
            port,
            daemon_port,
            userid: String::new(),
            password: String::new(),
            https: Https::unusable(),
            restarted: Vec::new(),
        };
        cluster.wait_until_up();
        cluster.read_cluster_file();
        cluster
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + UP_WAIT;
        loop {
            let out = fs::read_to_string(self.base.join("up.out")).unwrap_or_default();
            if out.contains("Cluster \"corral\" is up: 3 nodes") {
                return;
            }
            let up = self.up.as_mut().expect("corral up was started");
            if let Some(status) = up.try_wait().expect("waitable") {
                self.up = None;
                panic!(
                    "corral up exited ({status}) instead of saying \"Cluster \"corral\" is up: 3 \
                     nodes\"\n{}",
                    self.up_output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "corral up did not say the cluster is up within {UP_WAIT:?}\n{}",
                self.up_output()
            );
            std::thread::sleep(POLL);
        }
    }

    /// `cluster.json`: the nodes' URLs, the admin's credentials, the CA.
    fn read_cluster_file(&mut self) {
        let path = self.dir.join("cluster.json");
        let text = fs::read_to_string(&path).expect("corral up wrote cluster.json");
        let file: Value = serde_json::from_str(&text).expect("cluster.json is JSON");
        let urls: Vec<&str> = file["nodes"]
            .as_array()
            .map(|nodes| nodes.iter().filter_map(|n| n["url"].as_str()).collect())
            .unwrap_or_default();
        let names: Vec<&str> = file["nodes"]
            .as_array()
            .map(|nodes| nodes.iter().filter_map(|n| n["name"].as_str()).collect())
            .unwrap_or_default();
        let expected: Vec<String> = (1..=3)
            .map(|n| format!("https://127.0.0.{n}:{}/", self.port))
            .collect();
        assert!(
            names == NODES && urls == expected && file["daemon_port"] == self.daemon_port,
            "cluster.json: expected nodes {NODES:?} at {expected:?} and daemon_port {}, got \
             {text}",
            self.daemon_port
        );
        self.userid = file["admin"]["userid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.password = file["admin"]["password"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            self.userid == "admin@pve" && !self.password.is_empty(),
            "cluster.json: expected the admin admin@pve with a password, got {text}"
        );
        let ca = file["ca"].as_str().expect("cluster.json names the CA");
        self.https = Https::trusting(Path::new(ca));
    }

    /// Where `node`'s pveproxy listens.
    fn addr(&self, node: &str) -> SocketAddr {
        SocketAddr::from((node_ip(node), self.port))
    }

    fn node_root(&self, node: &str) -> PathBuf {
        self.dir.join("nodes").join(node)
    }

    /// `method path` sent to `node`'s pveproxy with `headers` and a form body.
    fn call(
        &self,
        node: &str,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        form: Option<&str>,
    ) -> Reply {
        let addr = self.addr(node);
        self.https
            .send(addr, addr.ip(), method, path, headers, form)
            .unwrap_or_else(|e| {
                panic!("{method} {path} on {node} ({addr}): expected a reply, got none: {e}")
            })
    }

    /// `GET path` on `node` with the ticket.
    fn get(&self, node: &str, path: &str, login: &Login) -> Reply {
        self.call(node, "GET", path, &[login.cookie()], None)
    }

    /// `node`'s time zone, as `GET /nodes/{node}/time` via `via` gives it.
    fn timezone(&self, via: &str, node: &str, login: &Login) -> String {
        let path = format!("/api2/json/nodes/{node}/time");
        let reply = self.get(via, &path, login);
        expect_status(&reply, 200, &format!("GET {path} via {via}: {node}'s time"));
        let zone = reply.data()["timezone"].as_str().map(str::to_owned);
        zone.unwrap_or_else(|| panic!("GET {path} via {via}: expected data.timezone, got {reply}"))
    }

    /// Waits until `GET /nodes` on `via` shows each of `nodes` with `status`.
    fn wait_for_state(&self, via: &str, nodes: &[&str], status: &str, login: &Login) {
        let deadline = Instant::now() + HEALTH_WAIT;
        loop {
            let reply = self.get(via, "/api2/json/nodes", login);
            let all = reply.status == 200
                && nodes.iter().all(|node| {
                    entry_of(&reply, "node", node).is_some_and(|entry| entry["status"] == status)
                });
            if all {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "GET /nodes on {via}: expected {nodes:?} {status} within {HEALTH_WAIT:?}, got \
                 {reply}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// The fingerprint of `pve/nodes/<node>/<file>`, as Proxmox shows it.
    fn fingerprint_of_file(&self, node: &str, file: &str) -> String {
        let path = self.dir.join("pve/nodes").join(node).join(file);
        let pem = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        corral_io::pinning::fingerprint_of_pem(&pem)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `pveproxy stop --root DIR/nodes/<node>`, which returns once it is gone.
    fn stop_pveproxy(&mut self, node: &str) {
        let output = Command::new(PVEPROXY)
            .arg("stop")
            .arg("--root")
            .arg(self.node_root(node))
            .output()
            .expect("pveproxy stop runs");
        assert!(
            output.status.success(),
            "pveproxy stop --root …/nodes/{node}: expected exit 0, got {} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(index) = self.restarted.iter().position(|(name, _)| name == node) {
            let (_, mut child) = self.restarted.remove(index);
            wait_exit(&mut child, &format!("the restarted pveproxy of {node}"));
        }
        let addr = self.addr(node);
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
            "after pveproxy stop of {node}: expected nothing listening on {addr}"
        );
    }

    /// Starts `node`'s pveproxy as `corral up` does (same arguments, output appended to the
    /// same log) and waits until it answers HTTPS with the node's certificate.
    fn start_pveproxy(&mut self, node: &str) {
        let log = self.node_root(node).join("var/log/pveproxy.log");
        let child = self.spawn_pveproxy(&self.node_root(node), node, node, &log);
        self.restarted.push((node.to_owned(), child));
        self.wait_answering(
            node,
            node_ip(node),
            &format!("the restarted pveproxy of {node}"),
        );
    }

    /// A pveproxy of node `identity` (its certificate) listening on `node`'s address, with a
    /// root of its own that shares the cluster's `/etc/pve`.
    fn start_impostor(&mut self, node: &str, identity: &str) {
        let root = self.base.join("impostor");
        fs::create_dir_all(root.join("etc")).expect("create the impostor's root");
        for dir in [&root, &root.join("etc")] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::os::unix::fs::symlink(self.dir.join("pve"), root.join("etc/pve"))
            .expect("link the impostor's /etc/pve");
        let log = self.base.join("impostor.log");
        let mut child = self.spawn_pveproxy(&root, node, identity, &log);
        // It presents `identity`'s certificate: valid for that node's address, not `node`'s.
        let label = format!("the pveproxy with {identity}'s certificate on {node}'s address");
        let deadline = Instant::now() + DAEMON_WAIT;
        loop {
            let reply = self.https.send(
                self.addr(node),
                IpAddr::V4(node_ip(identity)),
                "GET",
                "/api2/json/access/domains",
                &[],
                None,
            );
            if reply.as_ref().is_ok_and(|reply| reply.status == 200) {
                self.restarted.push((IMPOSTOR.to_owned(), child));
                return;
            }
            if let Some(status) = child.try_wait().expect("waitable") {
                panic!(
                    "{label} exited ({status}); expected it to serve\n{}",
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{label}: expected it to answer with {identity}'s certificate within \
                 {DAEMON_WAIT:?}; last try: {reply:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    fn stop_impostor(&mut self) {
        let index = self.restarted.iter().position(|(name, _)| name == IMPOSTOR);
        let (_, mut child) = self.restarted.remove(index.expect("the impostor runs"));
        terminate(&mut child, "the impostor pveproxy");
    }

    /// `pveproxy start --root ROOT --node IDENTITY --listen <node's address> --daemon
    /// <identity's pvedaemon>`.
    fn spawn_pveproxy(&self, root: &Path, node: &str, identity: &str, log: &Path) -> Child {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let daemon = SocketAddr::from((node_ip(identity), self.daemon_port));
        Command::new(PVEPROXY)
            .arg("start")
            .arg("--root")
            .arg(root)
            .args(["--node", identity])
            .args(["--listen", &self.addr(node).to_string()])
            .args(["--daemon", &daemon.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("share the log"))
            .stderr(log)
            .spawn()
            .expect("pveproxy starts")
    }

    /// Waits until `node`'s address answers `GET /access/domains` over HTTPS with a
    /// certificate valid for `name`.
    fn wait_answering(&mut self, node: &str, name: Ipv4Addr, label: &str) {
        let deadline = Instant::now() + DAEMON_WAIT;
        loop {
            let reply = self.https.send(
                self.addr(node),
                IpAddr::V4(name),
                "GET",
                "/api2/json/access/domains",
                &[],
                None,
            );
            if reply.as_ref().is_ok_and(|reply| reply.status == 200) {
                return;
            }
            if let Some((_, child)) = self.restarted.iter_mut().find(|(name, _)| name == node)
                && let Some(status) = child.try_wait().expect("waitable")
            {
                panic!("{label} exited ({status}); expected it to serve");
            }
            assert!(
                Instant::now() < deadline,
                "{label}: expected it to answer HTTPS within {DAEMON_WAIT:?}; last try: {reply:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// The daemons this test started stopped, then `corral up` with SIGINT (Ctrl-C): it must
    /// stop its daemons and exit 0, leaving every address free.
    fn stop(mut self) {
        for (node, mut child) in std::mem::take(&mut self.restarted) {
            terminate(&mut child, &format!("the restarted pveproxy of {node}"));
        }
        let mut up = self.up.take().expect("corral up runs");
        let pid = Pid::from_raw(i32::try_from(up.id()).expect("pid"));
        kill(pid, Signal::SIGINT).expect("signal corral up");
        let status = wait_exit(&mut up, "corral up after SIGINT");
        assert_eq!(
            status.code(),
            Some(0),
            "corral up after SIGINT: expected exit 0, got {status}\n{}",
            self.up_output()
        );
        let out = fs::read_to_string(self.base.join("up.out")).unwrap_or_default();
        assert!(
            out.trim_end().ends_with("Stopped."),
            "corral up after SIGINT: expected it to end with \"Stopped.\"\n{}",
            self.up_output()
        );
        for node in NODES {
            for port in [self.port, self.daemon_port] {
                let addr = SocketAddr::from((node_ip(node), port));
                assert!(
                    TcpListener::bind(addr).is_ok(),
                    "after corral up stopped: expected {addr} free (no daemon of {node} left)"
                );
            }
        }
    }

    fn up_output(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.base.join(name)).unwrap_or_default();
        format!(
            "--- corral up's stdout ---\n{}--- corral up's stderr ---\n{}",
            read("up.out"),
            read("up.err")
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mut up) = self.up.take() {
            // SIGINT, so corral up stops its daemons (they run in their own process groups).
            let pid = Pid::from_raw(i32::try_from(up.id()).unwrap_or(i32::MAX));
            let _ = kill(pid, Signal::SIGINT);
            let deadline = Instant::now() + DAEMON_WAIT * 2;
            while up.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            let _ = up.kill();
            let _ = up.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "the cluster's files and logs are kept in {} (nodes/<node>/var/log/)",
                self.base.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.base);
        }
    }
}

/// Node pveN listens on 127.0.0.N.
fn node_ip(node: &str) -> Ipv4Addr {
    let n: u8 = node
        .strip_prefix("pve")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{node} is not pveN"));
    Ipv4Addr::new(127, 0, 0, n)
}

/// Two different ports free on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (the moment this returns).
fn free_ports() -> (u16, u16) {
    let free_everywhere = |port: u16| {
        NODES
            .iter()
            .all(|node| TcpListener::bind((node_ip(node), port)).is_ok())
    };
    for _ in 0..100 {
        let first = TcpListener::bind("127.0.0.1:0").expect("loopback bind");
        let second = TcpListener::bind("127.0.0.1:0").expect("loopback bind");
        let ports = (
            first.local_addr().expect("bound").port(),
            second.local_addr().expect("bound").port(),
        );
        drop((first, second));
        if free_everywhere(ports.0) && free_everywhere(ports.1) {
            return ports;
        }
    }
    panic!("no two ports free on 127.0.0.1–3 in 100 tries");
}

/// SIGTERM (as `pveproxy stop`), then the exit within [`DAEMON_WAIT`].
fn terminate(child: &mut Child, label: &str) {
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let _ = kill(pid, Signal::SIGTERM);
    wait_exit(child, label);
}

fn wait_exit(child: &mut Child, label: &str) -> ExitStatus {
    exit_within(child, DAEMON_WAIT, POLL)
        .unwrap_or_else(|| panic!("{label}: expected it to exit within {DAEMON_WAIT:?}"))
}

fn unix_now() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    now.map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

// --- HTTPS ---

/// A reply as the client sees it.
#[derive(Debug)]
struct Reply {
    status: u16,
    reason: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("expected a JSON body, got one that is not ({e}): {self}"))
    }

    fn data(&self) -> Value {
        self.json()["data"].clone()
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.status,
            self.reason,
            String::from_utf8_lossy(&self.body)
        )
    }
}

fn expect_status(reply: &Reply, status: u16, what: &str) {
    assert_eq!(
        reply.status, status,
        "{what}: expected status {status}, got {reply}"
    );
}

/// The entry of a list reply whose `key` is `value`.
fn entry_of(reply: &Reply, key: &str, value: &str) -> Option<Value> {
    let data = serde_json::from_slice::<Value>(&reply.body).ok()?["data"].clone();
    let entries = data.as_array()?;
    entries.iter().find(|entry| entry[key] == value).cloned()
}

/// One HTTP/1.1 request per connection, over TLS verified against the cluster CA.
struct Https {
    config: Arc<rustls::ClientConfig>,
}

impl Https {
    /// Before `cluster.json` is read: trusts nothing.
    fn unusable() -> Https {
        Https::with_roots(rustls::RootCertStore::empty())
    }

    fn trusting(ca: &Path) -> Https {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).expect("the CA file") {
            roots
                .add(cert.expect("the CA is PEM"))
                .expect("a usable CA");
        }
        Https::with_roots(roots)
    }

    fn with_roots(roots: rustls::RootCertStore) -> Https {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Https {
            config: Arc::new(config),
        }
    }

    /// Sends the request to `addr`, checking the certificate is the CA's for `name`.
    fn send(
        &self,
        addr: SocketAddr,
        name: IpAddr,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        form: Option<&str>,
    ) -> std::io::Result<Reply> {
        let socket = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        socket.set_read_timeout(Some(Duration::from_secs(20)))?;
        socket.set_write_timeout(Some(Duration::from_secs(5)))?;
        let connection = rustls::ClientConnection::new(
            Arc::clone(&self.config),
            ServerName::IpAddress(name.into()),
        )
        .map_err(std::io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(connection, socket);
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = form.unwrap_or_default();
        if form.is_some() {
            request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        tls.write_all(request.as_bytes())?;
        tls.flush()?;
        let mut raw = Vec::new();
        match tls.read_to_end(&mut raw) {
            Ok(_) => {}
            // A close without close_notify: what arrived is the reply.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(e),
        }
        parse_reply(&raw)
    }
}

fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of the head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let version = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad("not HTTP/1"));
    }
    let status = words
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status code"))?;
    let reason = words.next().unwrap_or_default().to_owned();
    let chunked = lines.any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let mut body = raw[end + 4..].to_vec();
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Reply {
        status,
        reason,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
