//! `corral up` as a newcomer runs it: the real `corral` binary creates a 3-node cluster in a
//! fresh directory and starts the real pveproxy and pvedaemon for each node; the curl command
//! it prints logs in and lists the 3 nodes; Ctrl-C (SIGINT) stops everything and exits 0; a
//! second `corral up` on the directory brings the same cluster back (same password, not
//! printed again, same ports); a third at the same time is refused, and `--nodes 2` on the
//! 3-node directory is refused with a message naming both counts.
//!
//! A `corral up` killed with SIGKILL leaves its daemons running; the next run finds them by
//! their pid files and stops them before it starts the cluster again.
//!
//! As root (CI), pveproxy runs as www-data: the directory is made under the temp dir with mode
//! 0755 parents, which www-data can pass. Also as root only: a directory another user owns, or
//! an ancestor others can write to, is refused, and so is a cluster whose `nodes/pve1/etc` was
//! replaced by a link (to the real /etc). `curl` must be installed.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

#[path = "common/exit.rs"]
mod exit;
use exit::exit_within;

const CORRAL: &str = env!("CARGO_BIN_EXE_corral");
/// How long `corral up` may take to say the cluster is up, and to stop.
const WAIT_MAX: Duration = Duration::from_secs(90);
/// The line `corral up` ends its report with once every node answers.
const READY: &str = "Ctrl-C stops the cluster";
const NODES: usize = 3;

#[test]
fn corral_up_runs_a_cluster_stops_on_ctrl_c_and_brings_it_back() {
    let new = NewCluster::new("run");
    let (dir, port, daemon_port) = (&new.dir, new.port, new.daemon_port);

    // First run: creates the cluster and prints the password once.
    let mut first = Up::start(&new.args(&["--nodes", "3"]));
    let facts = read_cluster_file(dir);
    let password = facts["admin"]["password"].as_str().expect("a password");
    assert_eq!(facts["admin"]["userid"], "admin@pve");
    assert!(password.len() >= 16, "{password}");
    assert!(
        first
            .stdout
            .contains(&format!("  password  {password}  (shown only now")),
        "{}",
        first.stdout
    );
    assert_eq!(facts["port"], port);
    let nodes = facts["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), NODES);
    for (index, node) in nodes.iter().enumerate() {
        let n = index + 1;
        let url = format!("https://127.0.0.{n}:{port}/");
        assert_eq!(node["name"], format!("pve{n}"));
        assert_eq!(node["nodeid"], n);
        assert_eq!(node["address"], format!("127.0.0.{n}"));
        assert_eq!(node["url"], url);
        assert!(
            first.stdout.contains(&format!("  pve{n}   {url}\n")),
            "{}",
            first.stdout
        );
    }
    let printed = first.curl_command();
    assert_eq!(
        facts["curl"], printed,
        "cluster.json has the printed command"
    );
    assert_lists_the_nodes(&run_shell(&printed), &first);

    first.interrupt_and_expect_success();
    assert_ports_closed(port, daemon_port);

    // Second run: the same cluster (ports remembered), the password not printed again.
    let mut second = Up::start(&["--dir", path_str(dir)]);
    assert!(
        !second.stdout.contains(password),
        "the password is printed once only:\n{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains(&format!("  pve1   https://127.0.0.1:{port}/")),
        "{}",
        second.stdout
    );
    let again = read_cluster_file(dir);
    assert_eq!(again["admin"]["password"], password);
    // The printed command reads the password from cluster.json; the stored one has it.
    assert_lists_the_nodes(&run_shell(&second.curl_command()), &second);
    assert_lists_the_nodes(&run_shell(&printed), &second);

    // One corral up per cluster.
    let (status, stderr) = run_corral(&["--dir", path_str(dir)]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another corral up runs the cluster in"),
        "{stderr}"
    );

    second.interrupt_and_expect_success();
    assert_ports_closed(port, daemon_port);

    let (status, stderr) = run_corral(&["--dir", path_str(dir), "--nodes", "2"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "corral up: {} holds a cluster of 3 nodes, not 2: leave out --nodes (or say \
             --nodes 3) to use it, or choose another --dir for a cluster of 2\n",
            dir.display()
        )
    );
}

#[test]
fn the_next_run_stops_what_a_killed_corral_up_left_running() {
    let new = NewCluster::new("leftovers");
    let (dir, port, daemon_port) = (&new.dir, new.port, new.daemon_port);
    let mut first = Up::start(&new.args(&[]));
    let left = Leftovers::read(dir);
    first.kill();
    for (daemon, pid) in &left.0 {
        assert!(
            is_alive(*pid),
            "{daemon} {pid} outlives its killed corral up"
        );
    }

    let mut second = Up::start(&["--dir", path_str(dir)]);
    let line = second
        .stdout
        .lines()
        .find(|line| {
            line.starts_with(
                "Stopping daemons of this cluster left running by an earlier corral up: ",
            )
        })
        .unwrap_or_else(|| panic!("no word of the leftovers:\n{}", second.stdout));
    for (daemon, pid) in &left.0 {
        assert!(line.contains(&format!("{daemon} {pid}")), "{line}");
        assert!(!is_alive(*pid), "{daemon} {pid} was stopped");
    }
    assert_lists_the_nodes(&run_shell(&second.curl_command()), &second);
    second.interrupt_and_expect_success();
    assert_ports_closed(port, daemon_port);

    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: a swapped nodes/pve1/etc is refused only as root, not checked here");
        return;
    }
    // Another user swaps pve1's etc for the real /etc (root's pvedaemon would write the time
    // zone there): the next run refuses before it starts anything.
    let etc = dir.join("nodes/pve1/etc");
    std::fs::rename(&etc, dir.join("nodes/pve1/etc.moved")).expect("move etc");
    std::os::unix::fs::symlink("/etc", &etc).expect("link etc");
    let (status, stderr) = run_corral(&["--dir", path_str(dir)]);
    std::fs::remove_file(&etc).expect("unlink etc");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "corral up: {} (a symbolic link to /etc) is a symbolic link, not the directory \
             corral up made: ",
            etc.display()
        )),
        "{stderr}"
    );
    assert_ports_closed(port, daemon_port);
}

#[test]
fn as_root_a_directory_another_user_can_change_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: the ownership checks are for root only, skipped");
        return;
    }
    let new = NewCluster::new("owner");
    let dir = &new.dir;
    std::fs::create_dir(dir).expect("mkdir");
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("passwd")
        .expect("a user nobody");
    nix::unistd::chown(dir, Some(nobody.uid), Some(nobody.gid)).expect("chown");
    let args = new.args(&[]);
    let (status, stderr) = run_corral(&args);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let dir_text = dir.display();
    assert!(
        stderr.starts_with(&format!(
            "corral up: {dir_text} (owner nobody, mode 0755) is not owned by root: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Fix it with 'chown root:root {dir_text} && chmod go-w {dir_text}'"
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir).expect("readable").count(),
        0,
        "nothing made in {dir_text}"
    );

    // Root's, but in a directory its group may write to.
    nix::unistd::chown(dir, Some(nix::unistd::Uid::from_raw(0)), None).expect("chown");
    std::fs::set_permissions(&new.base.0, std::fs::Permissions::from_mode(0o775)).expect("chmod");
    let (status, stderr) = run_corral(&args);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "corral up: {} (owner root, mode 0775) is writable by others than root: ",
            new.base.0.display()
        )),
        "{stderr}"
    );
}

/// The daemons' pids from their pid files (as they write them under each node's --root);
/// killed on drop, should the test fail before corral up stopped them.
struct Leftovers(Vec<(&'static str, Pid)>);

impl Leftovers {
    fn read(dir: &Path) -> Leftovers {
        let mut pids = Vec::new();
        for n in 1..=NODES {
            for daemon in ["pveproxy", "pvedaemon"] {
                let file = dir.join(format!("nodes/pve{n}/run/{daemon}/{daemon}.pid"));
                let text = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                let pid: i32 = text.trim().parse().expect("a pid");
                pids.push((daemon, Pid::from_raw(pid)));
            }
        }
        Leftovers(pids)
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for (_, pid) in &self.0 {
            if is_alive(*pid) {
                let _ = kill(*pid, Signal::SIGKILL);
            }
        }
    }
}

/// Whether `pid` runs (a zombie, which an orphan can stay in a container, has stopped).
fn is_alive(pid: Pid) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !stat.is_empty() && state != Some('Z')
}

/// The output of the printed curl command: `GET /nodes` with pve1, pve2 and pve3.
fn assert_lists_the_nodes(output: &str, up: &Up) {
    let reply: Value = serde_json::from_str(output)
        .unwrap_or_else(|e| panic!("{e}: curl printed {output:?}\n{}", up.logs()));
    let mut names: Vec<&str> = reply["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no node list: {output}\n{}", up.logs()))
        .iter()
        .filter_map(|node| node["node"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["pve1", "pve2", "pve3"], "{output}");
}

fn assert_ports_closed(port: u16, daemon_port: u16) {
    for n in 1..=NODES {
        let ip = Ipv4Addr::new(127, 0, 0, u8::try_from(n).expect("few nodes"));
        for port in [port, daemon_port] {
            let addr = SocketAddr::from((ip, port));
            assert!(
                TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
                "{addr} still accepts connections after corral up stopped"
            );
        }
    }
}

// --- corral up as a process ---

/// A running `corral up`; interrupted and removed on drop (also when the test fails).
struct Up {
    child: Child,
    /// What it printed until it said the cluster is up.
    stdout: String,
    lines: Receiver<String>,
    stderr: PathBuf,
    dir: PathBuf,
}

impl Up {
    /// Starts `corral up ARGS` and waits until it says the cluster is up.
    fn start(args: &[&str]) -> Up {
        let dir = PathBuf::from(args[1]);
        // Next to the cluster's directory, which holds only what corral up makes.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let stderr = dir.with_extension(format!("stderr-{run}"));
        let mut child = corral_up(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("corral runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut up = Up {
            child,
            stdout: String::new(),
            lines,
            stderr,
            dir,
        };
        up.wait_ready();
        up
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push_str(&line);
                    self.stdout.push('\n');
                    if line.contains(READY) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "corral up ended before the cluster was up ({:?})\n{}\n{}",
                    self.child.wait(),
                    self.stdout,
                    self.logs()
                ),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "corral up did not say the cluster is up within {WAIT_MAX:?}\n{}\n{}",
                    self.stdout,
                    self.logs()
                ),
            }
        }
    }

    /// The curl command it printed (the line after "Log in and list the nodes:").
    fn curl_command(&self) -> String {
        let line = self
            .stdout
            .lines()
            .find(|line| line.starts_with("  T=$(curl "))
            .unwrap_or_else(|| panic!("no curl command in:\n{}", self.stdout));
        line.trim().to_owned()
    }

    /// Ctrl-C: it must stop every daemon and exit 0.
    fn interrupt_and_expect_success(&mut self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        kill(pid, Signal::SIGINT).expect("signal corral up");
        let status = wait_bounded(&mut self.child);
        assert!(
            status.success(),
            "corral up exited {status}\n{}",
            self.logs()
        );
        // The rest of its output, up to the end of the pipe.
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(WAIT_MAX) {
            rest.push(line);
        }
        assert_eq!(rest, ["Stopped."], "{}", self.logs());
    }

    /// SIGKILL: it cannot stop its daemons (they run in their own process groups).
    fn kill(&mut self) {
        self.child.kill().expect("kill corral up");
        self.child.wait().expect("waitable");
    }

    /// Its stderr and the daemons' logs, for failure messages.
    fn logs(&self) -> String {
        let mut text = format!(
            "--- corral up stderr ---\n{}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
        for n in 1..=NODES {
            for daemon in ["pvedaemon", "pveproxy"] {
                let log = self.dir.join(format!("nodes/pve{n}/var/log/{daemon}.log"));
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                text.push_str(&format!("--- {} ---\n{log_text}", log.display()));
            }
        }
        text
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0));
            let _ = kill(pid, Signal::SIGINT);
            let _ = wait_bounded(&mut self.child);
        }
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// `corral up ARGS`, not as `cargo run` would start it (that makes it build the daemons).
fn corral_up(args: &[&str]) -> Command {
    let mut command = Command::new(CORRAL);
    command
        .arg("up")
        .args(args)
        .env_remove("CARGO")
        .stdin(Stdio::null());
    command
}

/// Runs a `corral up` that must end by itself; its status and stderr.
fn run_corral(args: &[&str]) -> (ExitStatus, String) {
    let mut child = corral_up(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("corral runs");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let status = wait_bounded(&mut child);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut text).expect("UTF-8 stderr");
    (status, text)
}

fn wait_bounded(child: &mut Child) -> ExitStatus {
    exit_within(child, WAIT_MAX, Duration::from_millis(50))
        .unwrap_or_else(|| panic!("corral up did not end within {WAIT_MAX:?}"))
}

/// Runs `command` with `sh -c`; its standard output. It must succeed.
fn run_shell(command: &str) -> String {
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .unwrap_or_else(|e| panic!("sh runs: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command}\nfailed ({}): {stderr} (is curl installed?)",
        output.status
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

// --- set-up ---

/// `cluster.json`, which must be 0600.
fn read_cluster_file(dir: &Path) -> Value {
    let path = dir.join("cluster.json");
    let mode = std::fs::metadata(&path).expect("cluster.json").mode() & 0o7777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let text = std::fs::read_to_string(&path).expect("readable");
    serde_json::from_str(&text).expect("JSON")
}

/// Two ports free on 127.0.0.1, .2 and .3 (at the moment of asking).
fn free_ports() -> (u16, u16) {
    let free_everywhere = |port: u16| {
        (1..=NODES).all(|n| {
            let ip = Ipv4Addr::new(127, 0, 0, u8::try_from(n).expect("few nodes"));
            TcpListener::bind((ip, port)).is_ok()
        })
    };
    let mut ports = Vec::new();
    while ports.len() < 2 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback bind");
        let port = listener.local_addr().expect("bound").port();
        drop(listener);
        if free_everywhere(port) && !ports.contains(&port) {
            ports.push(port);
        }
    }
    (ports[0], ports[1])
}

/// A cluster directory (not made yet) in a fresh [`TempBase`], and two ports free for it.
struct NewCluster {
    base: TempBase,
    dir: PathBuf,
    port: u16,
    daemon_port: u16,
    port_arg: String,
    daemon_port_arg: String,
}

impl NewCluster {
    fn new(name: &str) -> NewCluster {
        let base = TempBase::new(name);
        let dir = base.0.join("cluster");
        let (port, daemon_port) = free_ports();
        NewCluster {
            base,
            dir,
            port,
            daemon_port,
            port_arg: port.to_string(),
            daemon_port_arg: daemon_port.to_string(),
        }
    }

    /// `--dir DIR`, then `more`, then `--port PORT --daemon-port DAEMON_PORT`.
    fn args<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["--dir", path_str(&self.dir)];
        args.extend_from_slice(more);
        args.extend([
            "--port",
            &self.port_arg,
            "--daemon-port",
            &self.daemon_port_arg,
        ]);
        args
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp dir")
}

/// `<temp>/corral-up-<pid>-<name>`, 0755 so that www-data (pveproxy as root) passes; removed
/// on drop.
struct TempBase(PathBuf);

impl TempBase {
    fn new(name: &str) -> TempBase {
        let base = std::env::temp_dir().join(format!("corral-up-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("temp dir is writable");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempBase(base)
    }
}

impl Drop for TempBase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
