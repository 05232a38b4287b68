//! `corral`: the development tool. `cargo run --release -- …` runs it.
//!
//! Now it offers pveproxy's config commands; the local-cluster launcher (`corral up`) arrives with
//! the daemons it launches.

use std::ffi::OsString;
use std::io::Write;

use clap::{Parser, Subcommand};

use crate::pveproxy::{ConfigCommand, run_config_command};
use crate::report;

#[derive(Debug, Parser)]
#[command(
    name = "corral",
    version,
    about = "corral: Proxmox VE's node services in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Config(ConfigCommand),
}

/// Runs `corral` with `args` (including the program name) and returns the exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {
            command: Command::Config(command),
        }) => run_config_command(command, out, err),
        Err(e) => report::clap_error(e, out, err),
    }
}
