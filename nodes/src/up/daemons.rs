//! Running the nodes' daemons: the binaries, start-up (pvedaemon, then pveproxy, each until it
//! answers), watching them, and stopping them (pveproxy first, SIGTERM, then SIGKILL after
//! [`STOP_WAIT`]).
//!
//! Each daemon runs in its own process group, so a Ctrl-C in the terminal reaches only
//! `corral up`, which then stops them in order. Their output is appended to
//! `DIR/nodes/<node>/var/log/<daemon>.log`. A daemon that dies while the cluster runs is
//! reported with the end of its log; the others keep running (a node can be stopped on purpose,
//! e.g. to watch how the others behave), until Ctrl-C or until none is left.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use corral_io::files::Root;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rustls::pki_types::ServerName;

use super::setup::{Layout, Node};
use crate::daemon::{self, DaemonId, STOP_WAIT};
use crate::pvedaemon;

/// How long all daemons of one kind may take to answer.
const START_WAIT: Duration = Duration::from_secs(30);
/// How often a waiting loop looks again.
const POLL: Duration = Duration::from_millis(50);
/// Lines of a daemon's log shown when it fails.
const LOG_TAIL_LINES: usize = 15;

/// The two daemons of a node, in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pvedaemon,
    Pveproxy,
}

impl Kind {
    pub fn name(self) -> &'static str {
        self.id().name
    }

    /// How its control commands find it (its pid file).
    fn id(self) -> DaemonId {
        match self {
            Kind::Pvedaemon => pvedaemon::PVEDAEMON,
            Kind::Pveproxy => daemon::PVEPROXY,
        }
    }
}

/// The daemon binaries, next to the running `corral`.
#[derive(Debug)]
pub struct Binaries {
    pveproxy: PathBuf,
    pvedaemon: PathBuf,
}

impl Binaries {
    /// Finds them next to this executable. Started by `cargo run`, which builds only `corral`,
    /// it first builds them with the same profile (a no-op when they are up to date), so they
    /// are never missing or older than `corral`.
    pub fn locate(err: &mut dyn Write) -> Result<Binaries> {
        let exe = std::env::current_exe().context("cannot find the corral executable")?;
        let dir = exe
            .parent()
            .context("the corral executable has no directory")?;
        if let Some(manifest) = cargo_run_manifest() {
            build_daemons(&manifest, dir, err)?;
        }
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                bail!(
                    "{name} is not in {} next to corral; build the daemons with \
                     'cargo build --release -p corral-nodes' (cargo run builds only corral)",
                    dir.display()
                )
            }
        };
        Ok(Binaries {
            pveproxy: find("pveproxy")?,
            pvedaemon: find("pvedaemon")?,
        })
    }

    fn path(&self, kind: Kind) -> &Path {
        match kind {
            Kind::Pvedaemon => &self.pvedaemon,
            Kind::Pveproxy => &self.pveproxy,
        }
    }
}

/// This package's manifest, when `cargo run` started this process.
fn cargo_run_manifest() -> Option<PathBuf> {
    std::env::var_os("CARGO")?;
    if std::env::var_os("CARGO_PKG_NAME")? != env!("CARGO_PKG_NAME") {
        return None;
    }
    std::env::var_os("CARGO_MANIFEST_PATH").map(PathBuf::from)
}

/// `cargo build` of pveproxy and pvedaemon with the profile `exe_dir` belongs to.
fn build_daemons(manifest: &Path, exe_dir: &Path, err: &mut dyn Write) -> Result<()> {
    let cargo = std::env::var_os("CARGO").context("CARGO is not set")?;
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest)
        .args(["--bin", "pveproxy", "--bin", "pvedaemon"]);
    match exe_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
        None => {}
    }
    writeln!(
        err,
        "corral up: building pveproxy and pvedaemon too (cargo run builds only corral)"
    )?;
    let status = command.status().context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build of pveproxy and pvedaemon failed ({status})");
    }
    Ok(())
}

/// SIGINT, SIGTERM and SIGHUP arrive on the returned channel instead of ending the process,
/// also when they were ignored (as `&` in a script makes SIGINT). A thread of its own with a
/// small tokio runtime receives them; the daemons get the default dispositions back at exec.
pub fn catch_stop_signals() -> Result<Receiver<Signal>> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let (installed, wait_installed) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || forward_signals(&sender, &installed))
        .context("cannot start the signal thread")?;
    wait_installed
        .recv()
        .context("the signal thread ended")?
        .context("cannot handle the stop signals")?;
    Ok(receiver)
}

fn forward_signals(
    sender: &std::sync::mpsc::Sender<Signal>,
    installed: &std::sync::mpsc::SyncSender<std::io::Result<()>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = installed.send(Err(error));
            return;
        }
    };
    runtime.block_on(async {
        let streams = (|| {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
                signal(SignalKind::hangup())?,
            ))
        })();
        let (mut interrupt, mut terminate, mut hangup) = match streams {
            Ok(streams) => {
                let _ = installed.send(Ok(()));
                streams
            }
            Err(error) => {
                let _ = installed.send(Err(error));
                return;
            }
        };
        loop {
            let received = tokio::select! {
                _ = interrupt.recv() => Signal::SIGINT,
                _ = terminate.recv() => Signal::SIGTERM,
                _ = hangup.recv() => Signal::SIGHUP,
            };
            if sender.send(received).is_err() {
                return;
            }
        }
    });
}

/// Daemons of this cluster still running without their `corral up` (it was killed): found by
/// the pid file each writes under its node's `--root`, stopped as a Ctrl-C would have
/// (pveproxy first; SIGTERM, then SIGKILL after [`STOP_WAIT`], as `pveproxy stop`).
pub fn stop_leftovers(layout: &Layout, nodes: &[Node], out: &mut dyn Write) -> Result<()> {
    let mut found = Vec::new();
    for kind in [Kind::Pveproxy, Kind::Pvedaemon] {
        for node in nodes {
            let root = layout.node_root(node);
            if let Some(pid) = daemon::running_pid(&Root::new(&root), kind.id().pid_file)
                && runs_as(pid, kind, &root)
            {
                found.push((kind, pid));
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found
        .iter()
        .map(|(kind, pid)| format!("{} {pid}", kind.name()))
        .collect();
    writeln!(
        out,
        "Stopping daemons of this cluster left running by an earlier corral up: {}",
        list.join(", ")
    )?;
    out.flush()?;
    for (kind, pid) in found {
        // Gone in the meantime is as good as stopped.
        if let Err(e) = daemon::stop(kind.id(), pid)
            && daemon::is_alive(pid)
        {
            return Err(e);
        }
    }
    Ok(())
}

/// Whether `pid` is `kind` started with `--root root`. A pid file can outlive its process (a
/// crash, a reboot: these run directories are not cleared) and name another program by then;
/// and as root, pveproxy's pid file is in a directory of www-data's. So a pid file alone never
/// gets a process signalled.
fn runs_as(pid: Pid, kind: Kind, root: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let program = args
        .first()
        .and_then(|arg| Path::new(std::ffi::OsStr::from_bytes(arg)).file_name());
    let same_root = |arg: &[u8]| {
        let arg = Path::new(std::ffi::OsStr::from_bytes(arg));
        arg == root
            || matches!(
                (arg.canonicalize(), root.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            )
    };
    program == Some(std::ffi::OsStr::new(kind.name()))
        && args
            .windows(2)
            .any(|pair| pair[0] == b"--root" && same_root(pair[1]))
}

/// Fails unless every address the daemons will listen on is free.
pub fn check_ports_free(nodes: &[Node], port: u16, daemon_port: u16) -> Result<()> {
    for node in nodes {
        for (port, kind, option) in [
            (daemon_port, Kind::Pvedaemon, "--daemon-port"),
            (port, Kind::Pveproxy, "--port"),
        ] {
            let addr = SocketAddr::from((node.address, port));
            if let Err(e) = TcpListener::bind(addr) {
                let hint = if port < 1024 && !nix::unistd::geteuid().is_root() {
                    "Ports below 1024 need root"
                } else {
                    "Another program listens there"
                };
                bail!(
                    "cannot use {addr} for the {} of {}: {e}. {hint}; choose another port with \
                     {option}",
                    kind.name(),
                    node.name
                );
            }
        }
    }
    Ok(())
}

/// Where and how the cluster's daemons run.
#[derive(Debug)]
pub struct Plan<'a> {
    pub layout: &'a Layout,
    pub nodes: &'a [Node],
    pub port: u16,
    pub daemon_port: u16,
    pub binaries: &'a Binaries,
}

impl Plan<'_> {
    fn daemon_addr(&self, node: &Node) -> SocketAddr {
        SocketAddr::from((node.address, self.daemon_port))
    }

    fn proxy_addr(&self, node: &Node) -> SocketAddr {
        SocketAddr::from((node.address, self.port))
    }
}

/// A started daemon.
#[derive(Debug)]
struct Daemon {
    kind: Kind,
    node: String,
    addr: SocketAddr,
    child: Child,
    log: PathBuf,
    /// Where this run's output starts in the log.
    log_start: u64,
    /// Set once it has exited (and been reaped).
    exited: Option<ExitStatus>,
}

impl Daemon {
    fn label(&self) -> String {
        format!("{} of {}", self.kind.name(), self.node)
    }

    /// Whether it still runs; reaps it when it has exited.
    fn running(&mut self) -> bool {
        if self.exited.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exited = Some(status);
        }
        self.exited.is_none()
    }

    /// The end of what this run wrote to the log, indented, with the log's path.
    fn log_tail(&self) -> String {
        let text = read_from(&self.log, self.log_start).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
        let mut shown = format!("  --- the end of {} ---\n", self.log.display());
        for line in tail {
            shown.push_str(&format!("  {line}\n"));
        }
        shown
    }
}

/// At most the last 64 KiB from `start`.
fn read_from(path: &Path, start: u64) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let from = start.max(len.saturating_sub(64 * 1024));
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// How the cluster's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Stopped by a signal (Ctrl-C): exit 0.
    Stopped,
    /// A daemon failed to start, or none is left: exit 1.
    Failed,
}

/// The running cluster.
#[derive(Debug)]
pub struct Cluster<'a> {
    plan: Plan<'a>,
    daemons: Vec<Daemon>,
}

/// Why start-up did not finish.
enum Interrupt {
    Signal,
    Failed(String),
}

impl<'a> Cluster<'a> {
    pub fn new(plan: Plan<'a>) -> Cluster<'a> {
        Cluster {
            plan,
            daemons: Vec::new(),
        }
    }

    /// Starts every pvedaemon, waits until they listen, then every pveproxy, waiting until
    /// each answers HTTPS with a certificate of the cluster CA. On failure or a stop signal,
    /// stops what was started.
    pub fn start(
        &mut self,
        signals: &Receiver<Signal>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<Option<Ending>> {
        let probe = Probe::new(&self.plan.layout.ca_cert())?;
        let started = self
            .start_kind(Kind::Pvedaemon, signals, &|addr| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
            .and_then(|()| self.start_kind(Kind::Pveproxy, signals, &|addr| probe.check(addr)));
        match started {
            Ok(()) => Ok(None),
            Err(Interrupt::Signal) => {
                writeln!(out, "Interrupted; stopping what was started.")?;
                self.stop(signals)?;
                Ok(Some(Ending::Stopped))
            }
            Err(Interrupt::Failed(message)) => {
                writeln!(err, "corral up: {message}")?;
                self.stop(signals)?;
                Ok(Some(Ending::Failed))
            }
        }
    }

    fn start_kind(
        &mut self,
        kind: Kind,
        signals: &Receiver<Signal>,
        ready: &dyn Fn(SocketAddr) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), Interrupt> {
        let first = self.daemons.len();
        for node in self.plan.nodes {
            let daemon = self
                .spawn(kind, node)
                .map_err(|e| Interrupt::Failed(format!("{e:#}")))?;
            self.daemons.push(daemon);
        }
        let deadline = Instant::now() + START_WAIT;
        let mut waiting: Vec<usize> = (first..self.daemons.len()).collect();
        let mut last_error = vec![String::new(); self.daemons.len()];
        loop {
            if signals.try_recv().is_ok() {
                return Err(Interrupt::Signal);
            }
            let mut still = Vec::new();
            for index in waiting {
                let daemon = &mut self.daemons[index];
                if !daemon.running() {
                    let status = daemon.exited.map(|s| s.to_string()).unwrap_or_default();
                    return Err(Interrupt::Failed(format!(
                        "{} stopped at start-up ({status})\n{}",
                        daemon.label(),
                        daemon.log_tail()
                    )));
                }
                match ready(daemon.addr) {
                    Ok(()) => {}
                    Err(error) => {
                        last_error[index] = error;
                        still.push(index);
                    }
                }
            }
            waiting = still;
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let daemon = &self.daemons[waiting[0]];
                return Err(Interrupt::Failed(format!(
                    "{} did not answer on {} within {} s (last try: {})\n{}",
                    daemon.label(),
                    daemon.addr,
                    START_WAIT.as_secs(),
                    last_error[waiting[0]],
                    daemon.log_tail()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    fn spawn(&self, kind: Kind, node: &Node) -> Result<Daemon> {
        let layout = self.plan.layout;
        let log_path = layout.log(node, kind.name());
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let now = corral_core::time::UnixTime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        writeln!(
            log,
            "--- corral up starts {} ({}) ---",
            kind.name(),
            now.http_date()
        )
        .with_context(|| format!("cannot write {}", log_path.display()))?;
        let addr = match kind {
            Kind::Pvedaemon => self.plan.daemon_addr(node),
            Kind::Pveproxy => self.plan.proxy_addr(node),
        };
        let mut command = Command::new(self.plan.binaries.path(kind));
        command
            .arg("start")
            .arg("--root")
            .arg(layout.node_root(node))
            .args(["--node", &node.name, "--listen", &addr.to_string()]);
        if kind == Kind::Pveproxy {
            command.args(["--daemon", &self.plan.daemon_addr(node).to_string()]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("cannot share the log file")?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.plan.binaries.path(kind).display()))?;
        Ok(Daemon {
            kind,
            node: node.name.clone(),
            addr,
            child,
            log: log_path,
            log_start,
            exited: None,
        })
    }

    /// Runs until a stop signal (then stops everything) or until no daemon is left; reports
    /// each daemon that exits on its own.
    pub fn watch(&mut self, signals: &Receiver<Signal>, err: &mut dyn Write) -> Result<Ending> {
        loop {
            match signals.recv_timeout(Duration::from_millis(200)) {
                Ok(_) | Err(RecvTimeoutError::Disconnected) => {
                    self.stop(signals)?;
                    return Ok(Ending::Stopped);
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            for daemon in &mut self.daemons {
                let was_running = daemon.exited.is_none();
                if was_running && !daemon.running() {
                    let status = daemon.exited.map(|s| s.to_string()).unwrap_or_default();
                    writeln!(
                        err,
                        "corral up: {} stopped ({status}); the other daemons keep running\n{}",
                        daemon.label(),
                        daemon.log_tail()
                    )?;
                }
            }
            if self.daemons.iter().all(|daemon| daemon.exited.is_some()) {
                writeln!(err, "corral up: no daemon is left running")?;
                return Ok(Ending::Failed);
            }
        }
    }

    /// pveproxy first, then pvedaemon: SIGTERM, then SIGKILL after [`STOP_WAIT`] (at once on
    /// another stop signal).
    pub fn stop(&mut self, signals: &Receiver<Signal>) -> Result<()> {
        for kind in [Kind::Pveproxy, Kind::Pvedaemon] {
            let mut stopping: Vec<&mut Daemon> = Vec::new();
            for daemon in &mut self.daemons {
                if daemon.kind == kind && daemon.running() {
                    stopping.push(daemon);
                }
            }
            for daemon in &stopping {
                let _ = kill(pid_of(&daemon.child), Signal::SIGTERM);
            }
            let deadline = Instant::now() + STOP_WAIT;
            loop {
                stopping.retain_mut(|daemon| daemon.running());
                if stopping.is_empty() {
                    break;
                }
                if Instant::now() > deadline || signals.try_recv().is_ok() {
                    for daemon in &mut stopping {
                        let _ = daemon.child.kill();
                        daemon.exited = daemon.child.wait().ok();
                    }
                    break;
                }
                std::thread::sleep(POLL);
            }
        }
        Ok(())
    }
}

impl Drop for Cluster<'_> {
    /// Nothing outlives `corral up`, also when it fails on the way.
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            if daemon.running() {
                let _ = daemon.child.kill();
                let _ = daemon.child.wait();
            }
        }
    }
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
}

/// Whether a pveproxy answers: a TLS handshake that verifies its certificate against the
/// cluster CA for its address, then `GET /api2/json/access/domains` (open to all) with 200.
struct Probe {
    config: Arc<rustls::ClientConfig>,
}

impl Probe {
    fn new(ca_cert: &Path) -> Result<Probe> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_cert)
            .with_context(|| format!("cannot read {}", ca_cert.display()))?
        {
            let cert = cert.with_context(|| format!("{}: bad PEM", ca_cert.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("{}: not a usable CA", ca_cert.display()))?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("no TLS versions")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Probe {
            config: Arc::new(config),
        })
    }

    fn check(&self, addr: SocketAddr) -> std::result::Result<(), String> {
        self.try_check(addr).map_err(|e| format!("{e:#}"))
    }

    fn try_check(&self, addr: SocketAddr) -> Result<()> {
        let socket = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        socket.set_read_timeout(Some(Duration::from_secs(2)))?;
        socket.set_write_timeout(Some(Duration::from_secs(2)))?;
        let name = ServerName::IpAddress(addr.ip().into());
        let connection = rustls::ClientConnection::new(Arc::clone(&self.config), name)?;
        let mut tls = rustls::StreamOwned::new(connection, socket);
        write!(
            tls,
            "GET /api2/json/access/domains HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut status = [0u8; 12];
        tls.read_exact(&mut status)?;
        if &status[..9] != b"HTTP/1.1 " || &status[9..] != b"200" {
            bail!("answered {}", String::from_utf8_lossy(&status));
        }
        tls.conn.send_close_notify();
        let _ = tls.flush();
        Ok(())
    }
}
