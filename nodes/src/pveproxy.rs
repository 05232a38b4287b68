//! `pveproxy` command line: the daemon (`start`, `stop`, `restart`, `status`) and the commands
//! that read `/etc/default/pveproxy` without starting anything (`check-config`, `check-access`).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::daemon::{self, Control, RootArgs};
use crate::report;

/// The commands that read `/etc/default/pveproxy` without starting anything. The `corral`
/// development tool offers them too.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read /etc/default/pveproxy and print the effective settings, then every warning and
    /// error with its line. Exit 0 when the file is usable, 1 when it has errors.
    CheckConfig(ConfigArgs),
    /// Print for each address whether the host ACL (ALLOW_FROM, DENY_FROM, POLICY) allows it,
    /// and why. Exit 0; 2 when an address is not an IP address; 1 when the file has errors.
    CheckAccess {
        #[command(flatten)]
        config: ConfigArgs,
        /// IPv4 or IPv6 addresses, as a client would connect from.
        #[arg(required = true, value_name = "ADDR")]
        addrs: Vec<String>,
    },
}

/// Where the config file is.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Directory under which all of the node's files live.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The file to read [default: <root>/etc/default/pveproxy].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Parser)]
#[command(
    name = "pveproxy",
    version,
    about = "corral's pveproxy: the Proxmox VE API proxy daemon (HTTPS on port 8006)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Config(ConfigCommand),
    /// Start the daemon in the foreground (systemd Type=notify); it runs until SIGTERM.
    Start(daemon::DaemonArgs),
    /// Stop the running daemon (SIGTERM; in-flight requests get 10 s to finish).
    Stop(RootArgs),
    /// Reload the running daemon (SIGHUP): re-read /etc/default/pveproxy and the certificate,
    /// reopen the access log, keep open connections.
    Restart(RootArgs),
    /// Print whether the daemon is running.
    Status(RootArgs),
}

/// Runs `pveproxy` with `args` (including the program name) and returns the exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {
            command: Command::Config(command),
        }) => run_config_command(command, out, err),
        Ok(Cli { command }) => run_daemon_command(command, out, err).unwrap_or_else(|e| {
            let _ = writeln!(err, "pveproxy: {e:#}");
            1
        }),
        Err(e) => report::clap_error(e, out, err),
    }
}

fn run_daemon_command(
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    match command {
        Command::Config(command) => Ok(run_config_command(command, out, err)),
        Command::Start(args) => {
            daemon::init_logging();
            daemon::start(&args)?;
            Ok(0)
        }
        Command::Stop(args) => {
            daemon::control(daemon::PVEPROXY, Control::Stop, &args.root, out, err)
        }
        Command::Restart(args) => {
            daemon::control(daemon::PVEPROXY, Control::Restart, &args.root, out, err)
        }
        Command::Status(args) => {
            daemon::control(daemon::PVEPROXY, Control::Status, &args.root, out, err)
        }
    }
}

/// Runs one of the config commands; shared with `corral`.
pub fn run_config_command(command: ConfigCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match command {
        ConfigCommand::CheckConfig(args) => report::check_config(&args, out, err),
        ConfigCommand::CheckAccess { config, addrs } => {
            report::check_access(&config, &addrs, out, err)
        }
    };
    result.unwrap_or_else(|e| {
        // Only output failures (a closed pipe) get here; say so if stderr still works.
        let _ = writeln!(err, "pveproxy: {e:#}");
        1
    })
}
