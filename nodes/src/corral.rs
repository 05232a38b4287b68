//! `corral`: the development tool. `cargo run --release -- …` runs it.
//!
//! It offers pveproxy's config commands and the credential commands of Proxmox's `pveum`
//! (`user add`, `user passwd`, `token add`, `acl set`; see [`crate::usercli`]), and
//! `corral up`, which runs a development cluster on this machine (see [`crate::up`]).

use std::ffi::OsString;
use std::io::Write;

use clap::{Parser, Subcommand};

use crate::pveproxy::{ConfigCommand, run_config_command};
use crate::report;
use crate::up::{self, UpArgs};
use crate::usercli::{self, AclCommand, TokenCommand, UserCommand};

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
    /// Users in /etc/pve/user.cfg and their @pve passwords (as pveum user add, pveum passwd).
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens (as pveum user token add).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Access control lists (as pveum acl modify).
    #[command(subcommand)]
    Acl(AclCommand),
    /// Create (first time) and run a development cluster of N nodes on 127.0.0.1…N until
    /// Ctrl-C; prints the URLs, the admin's credentials and a curl command to try.
    Up(UpArgs),
}

/// Runs `corral` with `args` (including the program name) and returns the exit code. A new
/// password is read from standard input (see [`usercli::read_password_from_stdin`]).
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with_password(args, &mut usercli::read_password_from_stdin, out, err)
}

/// [`run`], with new passwords taken from `password` (called only when a command needs one).
pub fn run_with_password<I, T>(
    args: I,
    password: &mut dyn FnMut() -> anyhow::Result<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli { command }) => match command {
            Command::Config(command) => run_config_command(command, out, err),
            Command::User(command) => usercli::run_user_command(command, password, out, err),
            Command::Token(command) => usercli::run_token_command(command, out, err),
            Command::Acl(command) => usercli::run_acl_command(command, out, err),
            Command::Up(args) => up::run(&args, out, err),
        },
        Err(e) => report::clap_error(e, out, err),
    }
}
