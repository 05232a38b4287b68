//! Running pveproxy as a daemon: `start` (in the foreground, for systemd `Type=notify`), and
//! `stop` / `restart` / `status` through the pid file.
//!
//! Privileges, as Proxmox: started as root, pveproxy binds its port and opens the access log,
//! then becomes `www-data` (or `--user`) for good, before it reads the config or key material —
//! so a reload never needs a privilege the daemon gave up. The first read of the config (for
//! `LISTEN_IP`) already happens with the unprivileged user's effective ids, so a file that user
//! cannot read is a start-up error, not a reload surprise. It never serves as root.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use corral_core::api::Role;
use corral_core::config::{ConfigReport, ListenIp};
use corral_core::http::api::VersionInfo;
use corral_io::access_log::FileLog;
use corral_io::clock::{SystemClock, WallClock};
use corral_io::files::{RealFiles, Root, write_atomic};
use corral_io::host::RealHost;
use corral_io::net::{Listener, Network, TokioListener, TokioNet, bind_default};
use corral_io::node::{self, NodeEnv};
use corral_io::offload::Offload;
use corral_io::proxy::ProxyHandle;
use corral_io::proxy_settings::{self, Loaded};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User};

/// `pveproxy start`: where the daemon's files are, where it listens, and who it runs as.
#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub root: RootArgs,
    /// Listen on this address instead of LISTEN_IP / [::]:8006.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// The port to listen on with LISTEN_IP or the default [::] (ignored with --listen).
    #[arg(long, value_name = "PORT", default_value_t = PORT)]
    pub port: u16,
    /// The user to run as when started as root.
    #[arg(long, value_name = "NAME", default_value = "www-data")]
    pub user: String,
    /// This node's name (its files are /etc/pve/nodes/<node>) [default: the short host name].
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Where the local pvedaemon listens.
    #[arg(long, value_name = "ADDR:PORT", default_value_t = DAEMON_ADDR)]
    pub daemon: SocketAddr,
}

/// pvedaemon's address, as Proxmox fixes it.
pub const DAEMON_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 85);

/// The `--root` of every daemon command.
#[derive(Debug, clap::Args)]
pub struct RootArgs {
    /// Directory under which all of the node's files live.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

/// pveproxy's port.
pub const PORT: u16 = 8006;

const ACCESS_LOG: &str = "/var/log/pveproxy/access.log";
const PID_FILE: &str = "/run/pveproxy/pveproxy.pid";
/// `pveproxy stop` waits this long for the daemon to exit (Proxmox: 15 s, then KILL).
pub(crate) const STOP_WAIT: Duration = Duration::from_secs(15);

/// The short host name, Proxmox's default node name.
pub fn default_node_name() -> String {
    let host = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned());
    let host = host.unwrap_or_else(|_| "localhost".to_owned());
    host.split('.').next().unwrap_or("localhost").to_owned()
}

/// A daemon's `--node`, else the short host name; checked either way.
pub(crate) fn node_name(node: Option<&str>) -> Result<String> {
    let node = node.map_or_else(default_node_name, str::to_owned);
    check_node_name(&node)?;
    Ok(node)
}

/// A node name is a host-name label; it becomes a path component (`/etc/pve/nodes/<node>`).
pub(crate) fn check_node_name(node: &str) -> Result<()> {
    if node.len() > 63 || !corral_core::api::schema::is_node_name(node) {
        bail!("--node '{node}' is not a valid node name (letters, digits and '-')");
    }
    Ok(())
}

/// The Proxmox VE release whose API corral serves. Clients (the web UI, proxmoxer, Terraform
/// providers) choose behaviour by `version`, so it names what we are compatible with; `repoid`,
/// a build id in Proxmox, says which corral build answers.
pub const PVE_VERSION: &str = "9.2.11";
pub const PVE_RELEASE: &str = "9.2";

pub(crate) fn version() -> VersionInfo {
    VersionInfo {
        version: PVE_VERSION.to_owned(),
        release: PVE_RELEASE.to_owned(),
        repoid: format!("corral-{}", env!("CARGO_PKG_VERSION")),
    }
}

/// `pveproxy start`: serves until SIGTERM. Returns once stopped.
pub fn start(args: &DaemonArgs) -> Result<()> {
    let node = node_name(args.node.as_deref())?;
    run_local(
        &mut tokio::runtime::Builder::new_current_thread(),
        serve(args, &node),
    )
}

/// Daemon messages go to stderr (the journal under systemd); RUST_LOG adjusts the level.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // rustls warns for every client that sends an IP address as SNI — as browsers do for
        // https://<ip>:8006, the usual way to reach a Proxmox node.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rustls=error"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a daemon's `serve` to its end on `runtime` (a current-thread builder), inside a
/// `LocalSet`: the servers `spawn_local` their connections.
pub(crate) fn run_local(
    runtime: &mut tokio::runtime::Builder,
    serve: impl std::future::Future<Output = Result<()>>,
) -> Result<()> {
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, serve);
    // Everything has finished or been given up on; don't wait for idle runtime threads.
    drop(local);
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn serve(args: &DaemonArgs, node: &str) -> Result<()> {
    let root = Root::new(&args.root.root);
    let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
    let account = Account::for_daemon(&args.user)?;
    // The config names the listen address; read it with the unprivileged user's rights.
    let loaded = account.as_effective(|| load(&root, node, &clock))??;
    let listener = bind(args, &loaded).await?;
    let log = open_access_log(&root, account.as_ref())?;
    create_run_dir(&root, account.as_ref())?;
    account.drop_for_good()?;
    write_pid_file(&root, PVEPROXY)?;
    let addr = listener
        .local_addr()
        .context("the listening socket has no address")?;
    let settings = node::api_settings(Role::Proxy, node, version());
    let (server, probes) = real_env(&root, &clock)
        .pveproxy_server(
            listener,
            loaded.settings,
            settings,
            args.daemon,
            Rc::new(log.clone()),
        )
        .context("the listening socket has no address")?;
    let handle = server.handle();
    tracing::info!(
        "pveproxy listening on {addr} as node {node} (certificate {})",
        loaded.cert.cert
    );
    log_diagnostics(&loaded.report);
    let signals = tokio::task::spawn_local(handle_signals(
        handle,
        root.clone(),
        node.to_owned(),
        loaded.config.listen_ip,
        clock,
        log.clone(),
    ));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    server.run().await;
    signals.abort();
    probes.abort();
    log.flush();
    if log.dropped() > 0 {
        tracing::warn!(
            "{} access-log lines were dropped: the disk could not keep up",
            log.dropped()
        );
    }
    let _ = std::fs::remove_file(root.path(PVEPROXY.pid_file));
    tracing::info!("pveproxy stopped");
    Ok(())
}

/// The real machine's seams: its files under `root`, sockets, blocking threads.
pub(crate) fn real_env(root: &Root, clock: &Arc<dyn WallClock>) -> NodeEnv {
    NodeEnv {
        files: Rc::new(RealFiles),
        root: root.clone(),
        clock: Arc::clone(clock),
        net: Rc::new(TokioNet),
        host: Rc::new(|| Box::new(RealHost)),
        offload: Offload::Threads,
    }
}

fn load(root: &Root, node: &str, clock: &Arc<dyn WallClock>) -> Result<Loaded> {
    proxy_settings::load(&RealFiles, root, node, Arc::clone(clock)).map_err(anyhow::Error::from)
}

/// The config's warnings and notes (a loaded config has no errors), at start and on reload.
fn log_diagnostics(report: &ConfigReport) {
    for diagnostic in &report.diagnostics {
        tracing::warn!("{}", diagnostic.located(proxy_settings::CONFIG_PATH));
    }
}

/// `--listen` wins; else LISTEN_IP; else `[::]` with the IPv4 fallback.
async fn bind(args: &DaemonArgs, loaded: &Loaded) -> Result<TokioListener> {
    if let Some(addr) = args.listen {
        return TokioNet
            .bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"));
    }
    match &loaded.config.listen_ip {
        None => Ok(bind_default(&TokioNet, args.port).await?),
        Some(listen_ip) => {
            let addr = resolve_listen_ip(listen_ip, args.port).await?;
            TokioNet
                .bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (LISTEN_IP)"))
        }
    }
}

/// LISTEN_IP as a socket address: a zone id becomes the interface's scope id; a host name is
/// looked up (its first address), as IO::Socket::IP does.
async fn resolve_listen_ip(listen_ip: &ListenIp, port: u16) -> Result<SocketAddr> {
    match listen_ip {
        ListenIp::Addr { ip, zone: None } => Ok(SocketAddr::new(*ip, port)),
        ListenIp::Addr {
            ip: IpAddr::V6(ip),
            zone: Some(zone),
        } => {
            let scope = nix::net::if_::if_nametoindex(zone.as_str())
                .with_context(|| format!("LISTEN_IP: no network interface '{zone}'"))?;
            Ok(SocketAddr::V6(std::net::SocketAddrV6::new(
                *ip, port, 0, scope,
            )))
        }
        ListenIp::Addr { ip, zone: Some(_) } => bail!("LISTEN_IP: {ip} cannot have a zone id"),
        ListenIp::Host(host) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .with_context(|| format!("LISTEN_IP: cannot resolve '{host}'"))?
            .next()
            .with_context(|| format!("LISTEN_IP: '{host}' has no address")),
    }
}

fn open_access_log(root: &Root, owner: Option<&User>) -> Result<FileLog> {
    let path = root.path(ACCESS_LOG);
    let dir = path
        .parent()
        .context("the access log path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // root:www-data 0640, set on the open file, never through the path.
    let file_owner = owner.map(|user| (0, user.gid.as_raw()));
    let log = FileLog::open_owned(&path, file_owner)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if let Some(user) = owner {
        // The directory belongs to the daemon's user, so the file logrotate moves away can be
        // created anew on reopen (opens refuse symlinks, so this gives no power over root).
        nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
            .with_context(|| format!("cannot set the owner of {}", dir.display()))?;
    }
    Ok(log)
}

/// `/run/pveproxy`, made by root for the daemon's user (as Proxmox's `bin/pveproxy` does), so
/// the pid file can be written after the privilege drop.
fn create_run_dir(root: &Root, owner: Option<&User>) -> Result<()> {
    let path = root.path(PVEPROXY.pid_file);
    let dir = path.parent().context("the pid file path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(user) = owner {
        nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
            .with_context(|| format!("cannot set the owner of {}", dir.display()))?;
    }
    Ok(())
}

/// Writes this process's pid to `daemon`'s pid file (atomically: `stop` never reads half a
/// pid), creating its directory when missing.
pub(crate) fn write_pid_file(root: &Root, daemon: DaemonId) -> Result<()> {
    let path = root.path(daemon.pid_file);
    let dir = path.parent().context("the pid file path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pid = format!("{}\n", std::process::id());
    write_atomic(&path, pid.as_bytes(), PID_FILE_MODE)?;
    Ok(())
}

/// Pid files are readable by all, as usual.
const PID_FILE_MODE: u32 = 0o644;

/// SIGHUP reloads (and reopens the access log), SIGTERM and SIGINT stop.
async fn handle_signals(
    handle: ProxyHandle,
    root: Root,
    node: String,
    listen_ip: Option<ListenIp>,
    clock: Arc<dyn WallClock>,
    log: FileLog,
) {
    let stopped = until_stopped(|| {
        log.reopen();
        reload(&handle, &root, &node, &clock, listen_ip.as_ref());
    })
    .await;
    if stopped.is_err() {
        tracing::error!("cannot install signal handlers; stop pveproxy with SIGKILL");
        return;
    }
    tracing::info!("stopping: finishing in-flight requests");
    handle.shutdown();
}

/// Waits for SIGTERM or SIGINT, calling `on_hangup` at each SIGHUP; an error when the signal
/// handlers cannot be installed.
pub(crate) async fn until_stopped(mut on_hangup: impl FnMut()) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            biased;
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
            _ = hangup.recv() => on_hangup(),
        }
    }
}

/// Applies a new generation; an invalid one leaves the old one serving (Proxmox would stop).
fn reload(
    handle: &ProxyHandle,
    root: &Root,
    node: &str,
    clock: &Arc<dyn WallClock>,
    listen_ip: Option<&ListenIp>,
) {
    match load(root, node, clock) {
        Ok(loaded) => {
            if loaded.config.listen_ip.as_ref() != listen_ip {
                tracing::warn!(
                    "LISTEN_IP changed: it takes effect only after a restart (systemctl restart pveproxy)"
                );
            }
            log_diagnostics(&loaded.report);
            handle.reload(loaded.settings);
            tracing::info!(
                "reloaded configuration and certificate {}",
                loaded.cert.cert
            );
        }
        Err(e) => tracing::error!("reload failed, still serving the previous configuration: {e:#}"),
    }
}

/// The unprivileged account a root-started daemon becomes; `None` when not started as root.
struct Account(Option<User>);

impl Account {
    fn for_daemon(name: &str) -> Result<Account> {
        if !Uid::effective().is_root() {
            return Ok(Account(None));
        }
        let user = User::from_name(name)
            .with_context(|| format!("cannot look up user '{name}'"))?
            .with_context(|| format!("no user '{name}' (pass --user NAME)"))?;
        if user.uid.is_root() {
            bail!("--user {name} is root: pveproxy never serves as root");
        }
        Ok(Account(Some(user)))
    }

    fn as_ref(&self) -> Option<&User> {
        self.0.as_ref()
    }

    /// Runs `f` with the account's effective ids and supplementary groups — exactly the rights
    /// it will have after [`Account::drop_for_good`] — then returns to root's.
    fn as_effective<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let Some(user) = &self.0 else { return Ok(f()) };
        let root_groups =
            nix::unistd::getgroups().context("cannot read the supplementary groups")?;
        let root_gid = nix::unistd::getegid();
        nix::unistd::setgroups(&self.groups()?).context("cannot set supplementary groups")?;
        nix::unistd::setegid(user.gid).context("cannot switch the effective group")?;
        nix::unistd::seteuid(user.uid).context("cannot switch the effective user")?;
        let result = f();
        nix::unistd::seteuid(Uid::from_raw(0)).context("cannot switch back to root")?;
        nix::unistd::setegid(root_gid).context("cannot switch back to root's group")?;
        nix::unistd::setgroups(&root_groups).context("cannot restore root's groups")?;
        Ok(result)
    }

    /// The account's supplementary groups, as `initgroups` will set them.
    fn groups(&self) -> Result<Vec<Gid>> {
        let Some(user) = &self.0 else {
            return Ok(Vec::new());
        };
        let name =
            std::ffi::CString::new(user.name.as_str()).context("user name has a NUL byte")?;
        nix::unistd::getgrouplist(&name, user.gid).context("cannot list the user's groups")
    }

    /// Becomes the account for good: groups, gid, uid; then checks root cannot be regained.
    fn drop_for_good(&self) -> Result<()> {
        let Some(user) = &self.0 else { return Ok(()) };
        let name =
            std::ffi::CString::new(user.name.as_str()).context("user name has a NUL byte")?;
        nix::unistd::initgroups(&name, user.gid).context("cannot set supplementary groups")?;
        nix::unistd::setgid(user.gid).context("cannot set the group id")?;
        nix::unistd::setuid(user.uid).context("cannot set the user id")?;
        if nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
            bail!("dropping privileges failed: root could be regained");
        }
        Ok(())
    }
}

/// The running daemon's pid, if its pid file names a live process.
pub(crate) fn running_pid(root: &Root, pid_file: &str) -> Option<Pid> {
    let text = std::fs::read_to_string(root.path(pid_file)).ok()?;
    let pid = Pid::from_raw(text.trim().parse().ok()?);
    is_alive(pid).then_some(pid)
}

/// Whether `pid` runs. A process that exited but was not yet reaped by its parent (a zombie)
/// still answers signal 0; it has stopped all the same.
pub(crate) fn is_alive(pid: Pid) -> bool {
    if kill(pid, None).is_err() {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the parenthesised command name, which may itself contain ") ".
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    state != Some('Z')
}

/// One of the daemons, as its control commands (`stop`, `restart`, `status`) find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaemonId {
    pub name: &'static str,
    /// Under the node's root.
    pub pid_file: &'static str,
}

pub const PVEPROXY: DaemonId = DaemonId {
    name: "pveproxy",
    pid_file: PID_FILE,
};

/// A daemon control command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// SIGTERM, then wait for the process to go (Proxmox kills after 15 s).
    Stop,
    /// A reload (SIGHUP), as systemd's ExecReload does.
    Restart,
    /// Whether it runs (LSB exit code 3 when not).
    Status,
}

/// Runs a control command for `daemon` and returns the exit code.
pub fn control(
    daemon: DaemonId,
    command: Control,
    root: &Path,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<u8> {
    let root = Root::new(root);
    let running = running_pid(&root, daemon.pid_file);
    match (command, running) {
        (Control::Stop, None) => {
            writeln!(out, "not running")?;
            Ok(0)
        }
        (Control::Stop, Some(pid)) => {
            stop(daemon, pid)?;
            writeln!(out, "stopped")?;
            Ok(0)
        }
        (Control::Restart, Some(pid)) => {
            kill(pid, Signal::SIGHUP)
                .with_context(|| format!("cannot signal {} (pid {pid})", daemon.name))?;
            writeln!(out, "reloading")?;
            Ok(0)
        }
        (Control::Restart, None) => {
            writeln!(err, "{}: not running", daemon.name)?;
            Ok(1)
        }
        (Control::Status, Some(pid)) => {
            writeln!(out, "running (pid {pid})")?;
            Ok(0)
        }
        (Control::Status, None) => {
            writeln!(out, "stopped")?;
            // LSB: 3 = program is not running.
            Ok(3)
        }
    }
}

/// Stops `daemon`, running as `pid`: SIGTERM, then SIGKILL when it is still there after
/// [`STOP_WAIT`]. Returns once it is gone (or killed).
pub(crate) fn stop(daemon: DaemonId, pid: Pid) -> Result<()> {
    let name = daemon.name;
    kill(pid, Signal::SIGTERM).with_context(|| format!("cannot signal {name} (pid {pid})"))?;
    let deadline = std::time::Instant::now() + STOP_WAIT;
    while is_alive(pid) {
        if std::time::Instant::now() > deadline {
            kill(pid, Signal::SIGKILL)
                .with_context(|| format!("cannot kill {name} (pid {pid})"))?;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn listen_ip_zones_become_scope_ids_and_host_names_resolve() {
        let loopback = ListenIp::Addr {
            ip: "fe80::1".parse().expect("literal"),
            zone: Some("lo".into()),
        };
        let SocketAddr::V6(addr) = resolve_listen_ip(&loopback, PORT).await.expect("lo exists")
        else {
            panic!("an IPv6 address");
        };
        assert_eq!(
            (addr.port(), addr.scope_id()),
            (PORT, 1),
            "lo is interface 1"
        );
        let missing = ListenIp::Addr {
            ip: "fe80::1".parse().expect("literal"),
            zone: Some("nope0".into()),
        };
        let error = resolve_listen_ip(&missing, PORT)
            .await
            .expect_err("no such interface");
        assert_eq!(error.to_string(), "LISTEN_IP: no network interface 'nope0'");
        let host = ListenIp::Host("localhost".into());
        assert!(
            resolve_listen_ip(&host, PORT)
                .await
                .expect("resolves")
                .ip()
                .is_loopback()
        );
    }

    #[test]
    fn node_names_are_host_name_labels() {
        assert!(check_node_name("pve1").is_ok());
        assert!(check_node_name("node-2").is_ok());
        for bad in ["", "../etc", "a/b", "-x", "with space", "é"] {
            assert!(check_node_name(bad).is_err(), "{bad:?}");
        }
    }
}
