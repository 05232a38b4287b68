//! pvedaemon: the privileged API daemon. Plain HTTP on 127.0.0.1:85 (`--listen` to move it for
//! development and tests), runs as root, serves the protected API methods that pveproxy
//! forwards. It takes `PVEClientIP` only from loopback peers, verifies every ticket, token and
//! permission again itself, and never forwards further (500 `proxy not allowed`).
//!
//! At start it creates what is missing of the ticket keys (`/etc/pve/priv/authkey.key`,
//! `/etc/pve/authkey.pub`) and the CSRF key (`/etc/pve/pve-www.key`), as Proxmox's
//! `pvecm updatecerts` / first ticket do.

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use corral_core::acl::HostAcl;
use corral_core::api::Role;
use corral_core::auth::ticket::SignDigest;
use corral_io::access::AccessFiles;
use corral_io::access_log::NullLog;
use corral_io::api::{ApiService, ApiSettings, UNAUTHORIZED_DELAY};
use corral_io::authkey;
use corral_io::clock::{SystemClock, WallClock};
use corral_io::files::{RealFiles, Root};
use corral_io::net::{Network, TokioNet};
use corral_io::proxy::{ProxyServer, ProxySettings};

use crate::daemon::{self, Control, DAEMON_ADDR, DaemonId, RootArgs};
use crate::report;

const PVEDAEMON: DaemonId = DaemonId {
    name: "pvedaemon",
    pid_file: "/run/pvedaemon/pvedaemon.pid",
};

#[derive(Debug, Parser)]
#[command(
    name = "pvedaemon",
    about = "corral's privileged API daemon (Proxmox VE pvedaemon)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve in the foreground until SIGTERM (systemd Type=notify).
    Start(StartArgs),
    /// Stop the running daemon.
    Stop(RootArgs),
    /// Reload the running daemon (SIGHUP).
    Restart(RootArgs),
    /// Whether the daemon runs (exit 0) or not (exit 3).
    Status(RootArgs),
}

#[derive(Debug, Args)]
struct StartArgs {
    #[command(flatten)]
    root: RootArgs,
    /// Listen here (Proxmox: always 127.0.0.1:85).
    #[arg(long, value_name = "ADDR:PORT", default_value_t = DAEMON_ADDR)]
    listen: SocketAddr,
    /// This node's name [default: the short host name].
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Sign new tickets with PKCS#1 v1.5 + SHA-1 instead of SHA-256, for clusters that still
    /// run Proxmox VE nodes whose Crypt::OpenSSL::RSA verifies SHA-1 only.
    #[arg(long)]
    sign_sha1: bool,
    /// How long a 401 reply waits, in milliseconds (Proxmox: 3000).
    #[arg(long, value_name = "MS", default_value_t = UNAUTHORIZED_DELAY.as_millis() as u64, hide = true)]
    unauthorized_delay_ms: u64,
}

/// Runs `pvedaemon` with `args` (including the program name) and returns the exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return report::clap_error(error, out, err),
    };
    run_command(cli.command, out, err).unwrap_or_else(|error| {
        let _ = writeln!(err, "pvedaemon: {error:#}");
        1
    })
}

fn run_command(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    match command {
        Command::Start(args) => {
            crate::pveproxy::init_logging();
            start(&args)?;
            Ok(0)
        }
        Command::Stop(args) => daemon::control(PVEDAEMON, Control::Stop, &args.root, out, err),
        Command::Restart(args) => {
            daemon::control(PVEDAEMON, Control::Restart, &args.root, out, err)
        }
        Command::Status(args) => daemon::control(PVEDAEMON, Control::Status, &args.root, out, err),
    }
}

fn start(args: &StartArgs) -> Result<()> {
    let node = args.node.clone().unwrap_or_else(daemon::default_node_name);
    daemon::check_node_name(&node)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, serve(args, node));
    drop(local);
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn serve(args: &StartArgs, node: String) -> Result<()> {
    let root = Root::new(&args.root.root);
    let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
    let created =
        authkey::ensure_keys(&RealFiles, &root).context("cannot create the ticket keys")?;
    if created.authkey {
        tracing::info!(
            "created the ticket key pair (/etc/pve/priv/authkey.key, /etc/pve/authkey.pub)"
        );
    }
    if created.www_key {
        tracing::info!("created the CSRF key /etc/pve/pve-www.key");
    }
    let listener = TokioNet
        .bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let settings = ApiSettings {
        role: Role::Daemon,
        node: node.clone(),
        version: daemon::version(),
        unauthorized_delay: Duration::from_millis(args.unauthorized_delay_ms),
        sign_digest: if args.sign_sha1 {
            SignDigest::Sha1
        } else {
            SignDigest::Sha256
        },
    };
    let access = AccessFiles::new(Rc::new(RealFiles), root.clone());
    let api = Rc::new(ApiService::new(settings, access, Arc::clone(&clock), None));
    // Proxmox's trusted_env: no host ACL, no TLS, no access log. Compression on, as Proxmox's
    // server defaults it: pveproxy asks for it (Accept-Encoding) only when its COMPRESSION is
    // on, and relays the compressed reply as is.
    let server_settings = ProxySettings {
        acl: HostAcl::default(),
        tls: None,
        compression: true,
        real_ip_header: None,
        real_ip_allow_from: None,
    };
    let server = ProxyServer::new(listener, server_settings, api, clock, Rc::new(NullLog));
    let handle = server.handle();
    daemon::write_pid_file(&root, PVEDAEMON)?;
    tracing::info!("pvedaemon listening on {} as node {node}", args.listen);
    let signals = tokio::task::spawn_local(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot handle signals");
            return;
        };
        loop {
            tokio::select! {
                biased;
                _ = term.recv() => break,
                _ = int.recv() => break,
                // The access files are re-read within a second of a change; nothing to reload.
                _ = hup.recv() => tracing::info!("reload: user.cfg and the keys are re-read on change"),
            }
        }
        handle.shutdown();
    });
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    server.run().await;
    signals.abort();
    let _ = std::fs::remove_file(root.path(PVEDAEMON.pid_file));
    tracing::info!("pvedaemon stopped");
    Ok(())
}
