//! pvedaemon: the privileged API daemon. Plain HTTP on 127.0.0.1:85 (`--listen` to move it for
//! development and tests), runs as root, serves the protected API methods that pveproxy
//! forwards. It takes `PVEClientIP` only from loopback peers, verifies every ticket, token and
//! permission again itself, and never forwards further (500 `proxy not allowed`).
//!
//! At start it makes sure `/etc/pve/priv` is its own and closed to everyone else (0700), then
//! creates what is missing of the ticket keys (`/etc/pve/priv/authkey.key`,
//! `/etc/pve/authkey.pub`) and the CSRF key (`/etc/pve/pve-www.key`), as Proxmox's
//! `pvecm updatecerts` / first ticket do. The shared key files get group `www-data` when it
//! runs as root, so pveproxy can read them, also after every daily rotation.

use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use corral_core::api::Role;
use corral_core::auth::ticket::SignDigest;
use corral_io::api::UNAUTHORIZED_DELAY;
use corral_io::authkey;
use corral_io::clock::{SystemClock, WallClock};
use corral_io::files::{PrivateDir, RealFiles, Root, secure_private_dir};
use corral_io::net::{Network, TokioNet};

use crate::daemon::{self, Control, DAEMON_ADDR, DaemonId, RootArgs};
use crate::report;

pub(crate) const PVEDAEMON: DaemonId = DaemonId {
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
            daemon::init_logging();
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
    let node = daemon::node_name(args.node.as_deref())?;
    daemon::run_local(
        // Logins hand password hashing, key generation, signing and PAM to blocking threads;
        // PAM may sleep seconds on a failure. Enough threads that sleeping PAM calls do not
        // hold up the others, few enough for a small host (tokio's default is 512).
        tokio::runtime::Builder::new_current_thread().max_blocking_threads(BLOCKING_THREADS_MAX),
        serve(args, node),
    )
}

/// Most blocking threads (logins' CPU work and PAM) at once; more wait their turn.
const BLOCKING_THREADS_MAX: usize = 32;

/// `/etc/pve/priv` holds the signing key, password hashes and token secrets: it must be ours
/// and 0700 before anything is written into it.
fn secure_priv_dir(root: &Root) -> Result<()> {
    let path = root.path(authkey::PRIVATE_DIR);
    let euid = nix::unistd::geteuid().as_raw();
    match secure_private_dir(&path, euid).context("refusing to start")? {
        PrivateDir::Tightened { was } => tracing::warn!(
            "{} was mode {was:04o}, open to other users; it is 0700 now (check that no one \
             copied the keys in it)",
            path.display()
        ),
        PrivateDir::Created | PrivateDir::Kept => {}
    }
    Ok(())
}

async fn serve(args: &StartArgs, node: String) -> Result<()> {
    let root = Root::new(&args.root.root);
    let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
    secure_priv_dir(&root)?;
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
    let mut settings = corral_io::node::api_settings(Role::Daemon, &node, daemon::version());
    settings.unauthorized_delay = Duration::from_millis(args.unauthorized_delay_ms);
    if args.sign_sha1 {
        settings.sign_digest = SignDigest::Sha1;
    }
    let server = daemon::real_env(&root, &clock).pvedaemon_server(listener, settings);
    let handle = server.handle();
    daemon::write_pid_file(&root, PVEDAEMON)?;
    tracing::info!("pvedaemon listening on {} as node {node}", args.listen);
    let signals = tokio::task::spawn_local(async move {
        // The access files are re-read within a second of a change; nothing to reload.
        let on_hangup = || tracing::info!("reload: user.cfg and the keys are re-read on change");
        match daemon::until_stopped(on_hangup).await {
            Ok(()) => handle.shutdown(),
            Err(_) => tracing::error!("cannot handle signals"),
        }
    });
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    server.run().await;
    signals.abort();
    let _ = std::fs::remove_file(root.path(PVEDAEMON.pid_file));
    tracing::info!("pvedaemon stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::PathBuf;

    use corral_io::testing::logged;

    use super::*;

    /// A fresh node root, removed on drop.
    struct TempRoot(PathBuf);

    impl TempRoot {
        fn new(name: &str) -> TempRoot {
            let dir = std::env::temp_dir()
                .join(format!("corral-pvedaemon-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("etc/pve/priv")).expect("temp dir");
            TempRoot(dir)
        }

        fn priv_dir(&self) -> PathBuf {
            self.0.join("etc/pve/priv")
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn mode_of(path: &std::path::Path) -> u32 {
        fs::metadata(path).expect("metadata").mode() & 0o7777
    }

    #[test]
    fn an_open_priv_dir_is_closed_at_start() {
        let root = TempRoot::new("open");
        fs::set_permissions(root.priv_dir(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let (_, log) = logged(|| secure_priv_dir(&Root::new(&root.0)).expect("ours"));
        assert_eq!(mode_of(&root.priv_dir()), 0o700);
        assert!(
            log.starts_with(" WARN")
                && log.contains(&format!(
                    "{} was mode 0755, open to other users; it is 0700 now",
                    root.priv_dir().display()
                )),
            "{log}"
        );
        // Missing: made 0700, its parents 0755 (pveproxy must reach /etc/pve).
        fs::remove_dir_all(root.0.join("etc")).expect("rm");
        secure_priv_dir(&Root::new(&root.0)).expect("made");
        assert_eq!(mode_of(&root.priv_dir()), 0o700);
        assert_eq!(mode_of(&root.0.join("etc/pve")), 0o755);
    }

    #[test]
    fn a_priv_dir_of_another_user_stops_the_start() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("SKIPPED: only root can give a directory to another user");
            return;
        }
        let root = TempRoot::new("foreign");
        let nobody = nix::unistd::Uid::from_raw(65534);
        nix::unistd::chown(&root.priv_dir(), Some(nobody), None).expect("chown");
        let error = secure_priv_dir(&Root::new(&root.0)).expect_err("refused");
        assert_eq!(
            format!("{error:#}"),
            format!(
                "refusing to start: {} belongs to uid 65534, not to uid 0 (this process): its \
                 owner could replace the keys in it; give it to uid 0 with mode 0700 \
                 (chown/chmod) or remove it",
                root.priv_dir().display()
            )
        );
        assert_eq!(fs::metadata(root.priv_dir()).expect("dir").uid(), 65534);
    }
}
