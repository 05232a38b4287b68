//! `corral user|token|acl …`: the credential commands of Proxmox's `pveum`, editing the access
//! files under `--root` directly (Proxmox's `pveum` goes through the API code and pmxcfs).
//!
//! - `user add USERID [--password] …` (`pveum user add`): a `user:` line in `user.cfg`; with
//!   `--password` (`@pve` users only) a `$5$` hash in `priv/shadow.cfg`.
//! - `user passwd USERID` (`pveum passwd`): the `@pve` password of an existing user.
//! - `token add USERID TOKENID …` (`pveum user token add`): a `token:` line in `user.cfg` and
//!   `<tokenid> <secret>` in `priv/token.cfg`; the secret is printed once.
//! - `acl set PATH --user/--token/--group … --role …` (`pveum acl modify`).
//!
//! Each command takes the cluster lock of the file it changes (as Proxmox through pmxcfs, see
//! [`corral_io::lock`]: `file-user_cfg` for `user.cfg`, and within it `file-priv_shadow_cfg` or
//! `file-priv_token_cfg` for the secrets), reads the files under it, makes its change through
//! `corral_core::access` (which checks it as Proxmox's API does), and replaces the files
//! atomically before letting go: commands run at once, on one node or on several sharing
//! `/etc/pve`, all land. A lock another writer holds for 10 s fails the command with Proxmox's
//! `cfs-lock '…' error: got lock request timeout`, nothing changed. Files are written with
//! `user.cfg` mode 0640 (group
//! `www-data` from the first instant when run as root and the group exists, as pmxcfs shows
//! it, so pveproxy can read it), `/etc/pve` 0755 when it has to be made, `priv/` 0700 (made so,
//! or tightened with a warning; refused when it belongs to another user), the files in it 0600.
//! Everything is checked before anything is written and before a password is asked for; the
//! password is asked for before the lock is taken (no one waits on a typist), and the change
//! checked again under it.
//!
//! Differences from `pveum`:
//! - `--password` is a flag: the password is asked for (twice, without echo, on a terminal) or
//!   read as the first line of standard input, never taken from the command line (where `ps`
//!   shows it). Piped input as `pveum passwd` reads it (the password twice) works too: only
//!   the first line is used.
//! - A new password must have 8 to 64 characters (Proxmox's `passwd`; its `user add` takes 5).
//! - `@pam` passwords are the host's: corral refuses and points to `passwd` (Proxmox runs
//!   `usermod` on the local node).
//! - The locks are OS locks on the files `/etc/pve/priv/lock/<name>` (pmxcfs's lock directory;
//!   it makes them directories there), released at once if a command dies.
//! - Successful commands say what they changed; `pveum` prints nothing but the token table.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::RootArgs;
use anyhow::{Context, Result, bail};
use clap::{ArgAction, ArgGroup, Args, Subcommand, ValueEnum};
use corral_core::access::{
    AclMember, Domains, NewUser, Parsed, Shadow, Token, TokenSecrets, Tokenid, UserConfig, Userid,
    normalize_path, split_list,
};
use corral_io::access::{DOMAINS_CFG, SHADOW_CFG, TOKEN_CFG, USER_CFG};
use corral_io::authkey::PRIVATE_DIR;
use corral_io::files::{
    Access, CONFIG_LEN_MAX, PARENT_DIR_MODE, PrivateDir, RealFiles, Root, secure_private_dir,
    write_as,
};
use corral_io::lock::{self, LOCK_TIMEOUT};

/// Shortest new password: Proxmox's `passwd` (`change_password`) minimum.
pub const PASSWORD_LEN_MIN: usize = 8;
/// Longest new password Proxmox accepts, in characters.
pub const PASSWORD_LEN_MAX: usize = 64;

/// `corral user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to /etc/pve/user.cfg (pveum user add). With --password (@pve users only),
    /// ask for its password and store the hash in /etc/pve/priv/shadow.cfg.
    Add(UserAddArgs),
    /// Set or change the password of an existing @pve user (pveum passwd): asked twice on a
    /// terminal, else the first line of standard input.
    Passwd(UserPasswdArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user, as name@realm (e.g. alice@pve).
    #[arg(value_name = "USERID")]
    pub userid: String,
    /// Ask for the user's password (twice on a terminal, never echoed; otherwise the first line
    /// of standard input). Only for @pve users.
    #[arg(long)]
    pub password: bool,
    /// A free-text comment.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// The user's email address.
    #[arg(long, value_name = "E")]
    pub email: Option<String>,
    /// First name.
    #[arg(long, value_name = "F")]
    pub firstname: Option<String>,
    /// Last name.
    #[arg(long, value_name = "L")]
    pub lastname: Option<String>,
    /// Account expiration, seconds since 1970; 0 = never.
    #[arg(
        long,
        value_name = "EPOCH",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub expire: i64,
    /// Enable the account (1, the default) or not (0).
    #[arg(long, value_name = "0|1", default_value = "1", value_parser = parse_flag, action = ArgAction::Set)]
    pub enable: bool,
    /// Existing groups to add the user to, separated by ',' (as Proxmox's --groups).
    #[arg(long, value_name = "LIST")]
    pub groups: Option<String>,
    #[command(flatten)]
    pub root: RootArgs,
}

#[derive(Debug, Args)]
pub struct UserPasswdArgs {
    /// The user, as name@pve.
    #[arg(value_name = "USERID")]
    pub userid: String,
    #[command(flatten)]
    pub root: RootArgs,
}

/// `corral token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Add an API token to an existing user (pveum user token add) and print its secret, which
    /// is shown only this once.
    Add(TokenAddArgs),
}

#[derive(Debug, Args)]
pub struct TokenAddArgs {
    /// The token's user, as name@realm.
    #[arg(value_name = "USERID")]
    pub userid: String,
    /// The token's name (letters, digits, '.', '-', '_'; starting with a letter).
    #[arg(value_name = "TOKENID")]
    pub tokenid: String,
    /// Privilege separation: 1 (the default) = only the token's own ACL entries (within the
    /// user's privileges); 0 = all of the user's privileges.
    #[arg(long, value_name = "0|1", default_value = "1", value_parser = parse_flag, action = ArgAction::Set)]
    pub privsep: bool,
    /// Token expiration, seconds since 1970; 0 = never [default: 0; the user's own expiration
    /// applies anyway].
    #[arg(long, value_name = "EPOCH", allow_negative_numbers = true)]
    pub expire: Option<i64>,
    /// A free-text comment.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// How to print the new token (as pveum's --output-format).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    #[command(flatten)]
    pub root: RootArgs,
}

/// pveum's `--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A bordered table.
    Text,
    /// One line of JSON.
    Json,
    /// Indented JSON.
    JsonPretty,
}

/// `corral acl …`
#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Grant a role on a path (pveum acl modify): to users, API tokens and/or groups.
    Set(AclSetArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("member").required(true).multiple(true)))]
pub struct AclSetArgs {
    /// The ACL path, e.g. /, /vms/100, /storage/local, /pool/dev.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Users (name@realm); several separated by ','.
    #[arg(long, alias = "users", value_name = "ID", group = "member")]
    pub user: Vec<String>,
    /// API tokens (name@realm!token); several separated by ','.
    #[arg(long, alias = "tokens", value_name = "ID", group = "member")]
    pub token: Vec<String>,
    /// Groups (their names, without '@'); several separated by ','.
    #[arg(long, alias = "groups", value_name = "ID", group = "member")]
    pub group: Vec<String>,
    /// Roles (built-in, e.g. PVEAuditor, or custom); several separated by ','.
    #[arg(long, alias = "roles", value_name = "ROLE", required = true)]
    pub role: Vec<String>,
    /// Whether the role also applies below PATH: 1 (the default) or 0.
    #[arg(long, value_name = "0|1", default_value = "1", value_parser = parse_flag, action = ArgAction::Set)]
    pub propagate: bool,
    #[command(flatten)]
    pub root: RootArgs,
}

/// A boolean as Proxmox's CLI takes it: 1/0, yes/no, on/off, true/false.
fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "on" | "true" => Ok(true),
        "0" | "no" | "off" | "false" => Ok(false),
        _ => Err(format!("'{text}' is not 0 or 1")),
    }
}

/// Where a new password comes from: the seam between the commands and the terminal.
pub enum PasswordInput<'a> {
    /// A terminal: `prompt` shows its text and reads one answer without echo. The password is
    /// asked for twice and both must match.
    Terminal(&'a mut dyn FnMut(&str) -> io::Result<String>),
    /// Not a terminal (a pipe, a file): the first line is the password.
    Lines(&'a mut dyn BufRead),
}

impl fmt::Debug for PasswordInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordInput::Terminal(_) => "PasswordInput::Terminal",
            PasswordInput::Lines(_) => "PasswordInput::Lines",
        })
    }
}

/// Reads a new password as Proxmox's `get_confirmed_password` (`Enter new password: `,
/// `Retype new password: `), checks its length, and returns it.
pub fn read_new_password(input: PasswordInput<'_>) -> Result<String> {
    let password = match input {
        PasswordInput::Terminal(prompt) => {
            let read = |prompt: &mut dyn FnMut(&str) -> io::Result<String>, text: &str| {
                prompt(text).context("cannot read the password from the terminal")
            };
            let first = read(prompt, "Enter new password: ")?;
            let second = read(prompt, "Retype new password: ")?;
            if first != second {
                bail!("passwords do not match");
            }
            first
        }
        PasswordInput::Lines(lines) => {
            let mut line = String::new();
            let read = lines
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            if read == 0 {
                bail!("no password on standard input (it is empty)");
            }
            // The line break, and a carriage return before it (a file from Windows), are not
            // part of the password.
            let end = line.strip_suffix('\n').unwrap_or(&line);
            end.strip_suffix('\r').unwrap_or(end).to_owned()
        }
    };
    check_new_password(&password)?;
    Ok(password)
}

/// Proxmox's length limits for a new password, counted in characters.
fn check_new_password(password: &str) -> Result<()> {
    let len = password.chars().count();
    if len < PASSWORD_LEN_MIN {
        bail!("the password is too short: it needs at least {PASSWORD_LEN_MIN} characters");
    }
    if len > PASSWORD_LEN_MAX {
        bail!("the password is too long: at most {PASSWORD_LEN_MAX} characters");
    }
    Ok(())
}

/// The real password source: the terminal when standard input is one (prompts and answers go
/// through `/dev/tty`, without echo), else the first line of standard input.
pub fn read_password_from_stdin() -> Result<String> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        let mut prompt = |text: &str| rpassword::prompt_password(text);
        read_new_password(PasswordInput::Terminal(&mut prompt))
    } else {
        read_new_password(PasswordInput::Lines(&mut stdin.lock()))
    }
}

thread_local! {
    /// How long the commands on this thread wait for a lock ([`with_lock_timeout`]).
    static LOCK_WAIT: Cell<Duration> = const { Cell::new(LOCK_TIMEOUT) };
}

/// Runs `f` with the commands it runs on this thread waiting at most `timeout` for a lock
/// another writer holds, instead of Proxmox's 10 s ([`LOCK_TIMEOUT`]): for tests, which need
/// not wait that long to see a command give up.
pub fn with_lock_timeout<T>(timeout: Duration, f: impl FnOnce() -> T) -> T {
    /// Puts the previous timeout back, also when `f` panics.
    struct Restore(Duration);
    impl Drop for Restore {
        fn drop(&mut self) {
            LOCK_WAIT.set(self.0);
        }
    }
    let _restore = Restore(LOCK_WAIT.replace(timeout));
    f()
}

/// Runs `corral user …`; `password` is asked for a new password when one is needed.
pub fn run_user_command(
    command: UserCommand,
    password: &mut dyn FnMut() -> Result<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let result = match command {
        UserCommand::Add(args) => user_add(&args, password, out, err),
        UserCommand::Passwd(args) => user_passwd(&args, password, out, err),
    };
    finish(result, err)
}

/// Runs `corral token …`.
pub fn run_token_command(command: TokenCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match command {
        TokenCommand::Add(args) => token_add(&args, out, err),
    };
    finish(result, err)
}

/// Runs `corral acl …`.
pub fn run_acl_command(command: AclCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match command {
        AclCommand::Set(args) => acl_set(&args, out, err),
    };
    finish(result, err)
}

/// Exit 0, or print the error with its causes and exit 1.
fn finish(result: Result<()>, err: &mut dyn Write) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "corral: {e:#}");
            1
        }
    }
}

/// The access files of one node, by path.
struct AccessPaths {
    root: Root,
    lock_timeout: Duration,
    user_cfg: PathBuf,
    shadow_cfg: PathBuf,
    token_cfg: PathBuf,
    domains_cfg: PathBuf,
    pve_dir: PathBuf,
    priv_dir: PathBuf,
}

impl AccessPaths {
    fn new(root: &Path) -> AccessPaths {
        let root = Root::new(root);
        AccessPaths {
            lock_timeout: LOCK_WAIT.get(),
            user_cfg: root.path(USER_CFG),
            shadow_cfg: root.path(SHADOW_CFG),
            token_cfg: root.path(TOKEN_CFG),
            domains_cfg: root.path(DOMAINS_CFG),
            pve_dir: root.path("/etc/pve"),
            priv_dir: root.path(PRIVATE_DIR),
            root,
        }
    }

    /// Runs `f` (given `err`) holding the cluster lock `name`, waiting for it at most the lock
    /// timeout. The lock lives in `priv/`, which is made sure of first (see
    /// [`AccessPaths::secure_priv_dir`]).
    fn locked<T>(
        &self,
        name: &str,
        err: &mut dyn Write,
        f: impl FnOnce(&mut dyn Write) -> Result<T>,
    ) -> Result<T> {
        self.secure_priv_dir(err)?;
        lock::with_lock_blocking(&RealFiles, &self.root, name, self.lock_timeout, || f(err))?
    }

    /// `priv/` must be ours and closed to everyone else before anything is written into it:
    /// made 0700, or closed with a warning, or refused when it belongs to another user.
    fn secure_priv_dir(&self, err: &mut dyn Write) -> Result<()> {
        let euid = nix::unistd::geteuid().as_raw();
        if let PrivateDir::Tightened { was } = secure_private_dir(&self.priv_dir, euid)? {
            writeln!(
                err,
                "corral: warning: {} was mode {was:04o}, open to other users; it is 0700 now",
                self.priv_dir.display()
            )?;
        }
        Ok(())
    }

    /// `user.cfg`, its warnings printed (each names the file and line).
    fn read_user_cfg(&self, err: &mut dyn Write) -> Result<UserConfig> {
        let text = read_text(&self.user_cfg)?;
        let parsed = UserConfig::parse(text.as_deref());
        report_warnings(&self.user_cfg, &parsed, err)?;
        Ok(parsed.config)
    }

    fn read_shadow(&self, err: &mut dyn Write) -> Result<Shadow> {
        let text = read_text(&self.shadow_cfg)?;
        let parsed = Shadow::parse(text.as_deref());
        report_warnings(&self.shadow_cfg, &parsed, err)?;
        Ok(parsed.config)
    }

    fn read_token_secrets(&self) -> Result<TokenSecrets> {
        let text = read_text(&self.token_cfg)?;
        Ok(TokenSecrets::parse(text.as_deref()))
    }

    /// `user.cfg`, shared with pveproxy (see [`Access::Shared`]).
    fn write_user_cfg(&self, config: &UserConfig) -> Result<()> {
        // pmxcfs shows `/etc/pve` 0755, as the directories on the way to it.
        corral_io::files::create_dir_all(&self.pve_dir, PARENT_DIR_MODE)?;
        write_as(&self.user_cfg, config.render().as_bytes(), Access::Shared)?;
        Ok(())
    }

    /// A file in `priv/`, which must be ours and closed to everyone else first.
    fn write_private(&self, path: &Path, text: &str, err: &mut dyn Write) -> Result<()> {
        self.secure_priv_dir(err)?;
        write_as(path, text.as_bytes(), Access::Private)?;
        Ok(())
    }
}

/// A file's text; `None` when it does not exist. Not UTF-8 is an error naming the line.
fn read_text(path: &Path) -> Result<Option<String>> {
    Ok(corral_io::files::read_text(
        &RealFiles,
        path,
        CONFIG_LEN_MAX,
    )?)
}

/// Prints what was skipped or worth knowing on reading; the file is written back from what was
/// read, so skipped lines are dropped (as Proxmox drops them on its next write).
fn report_warnings<T>(path: &Path, parsed: &Parsed<T>, err: &mut dyn Write) -> Result<()> {
    for warning in &parsed.warnings {
        writeln!(err, "corral: warning: {}: {warning}", path.display())?;
    }
    Ok(())
}

fn parse_userid(text: &str) -> Result<Userid> {
    Ok(Userid::parse(text)?)
}

/// Why corral cannot set this user's password, if it cannot: only the `pve` realm keeps its
/// passwords in `shadow.cfg`.
fn password_refusal(userid: &Userid) -> Option<String> {
    match userid.realm() {
        "pve" => None,
        "pam" => Some(format!(
            "{userid} is a pam user: its password is the host's; set it with 'passwd {}' on the \
             host",
            userid.name()
        )),
        realm => Some(format!(
            "{userid} is in realm '{realm}', which checks passwords itself (LDAP, AD, OpenID…); \
             corral sets passwords of @pve users only"
        )),
    }
}

/// Sets a user's password hash in `priv/shadow.cfg`, read and written under its lock (Proxmox's
/// `store_password` under `lock_shadow_config`).
fn store_hash(files: &AccessPaths, userid: &Userid, hash: &str, err: &mut dyn Write) -> Result<()> {
    files.locked(lock::SHADOW_CFG, err, |err| {
        let mut shadow = files.read_shadow(err)?;
        shadow.set(userid, hash)?;
        files.write_private(&files.shadow_cfg, &shadow.render(), err)
    })
}

fn user_add(
    args: &UserAddArgs,
    password: &mut dyn FnMut() -> Result<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let userid = parse_userid(&args.userid)?;
    if args.password
        && let Some(refusal) = password_refusal(&userid)
    {
        bail!("{refusal}; add the user without --password");
    }
    let files = AccessPaths::new(&args.root.root);
    let new = NewUser {
        enable: args.enable,
        expire: args.expire,
        firstname: args.firstname.clone(),
        lastname: args.lastname.clone(),
        email: args.email.clone(),
        comment: args.comment.clone(),
        groups: args
            .groups
            .as_deref()
            .map(|list| split_list(list).map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    let add = |config: &mut UserConfig| {
        config
            .add_user(&userid, new.clone())
            .with_context(|| format!("cannot add the user to {}", files.user_cfg.display()))
    };
    // The password is asked for only once everything else is known to be fine, and before the
    // lock is taken; the file is checked again under the lock (the warnings are told then).
    let hash = if args.password {
        add(&mut files.read_user_cfg(&mut io::sink())?)?;
        note_unknown_realm(&files, &userid, err)?;
        Some(corral_io::password::new_hash(&password()?)?)
    } else {
        None
    };
    files.locked(lock::USER_CFG, err, |err| {
        let mut config = files.read_user_cfg(err)?;
        add(&mut config)?;
        // The password first, as Proxmox: a user is never listed without the password it was
        // added with.
        match &hash {
            Some(hash) => store_hash(&files, &userid, hash, err)?,
            None => note_unknown_realm(&files, &userid, err)?,
        }
        files.write_user_cfg(&config)
    })?;
    writeln!(out, "added user {userid} to {}", files.user_cfg.display())?;
    if hash.is_some() {
        writeln!(out, "set its password in {}", files.shadow_cfg.display())?;
    }
    Ok(())
}

/// A user of a realm that `domains.cfg` does not define cannot log in: say so, but add it
/// (Proxmox does not check either).
fn note_unknown_realm(files: &AccessPaths, userid: &Userid, err: &mut dyn Write) -> Result<()> {
    let domains = match read_text(&files.domains_cfg) {
        Ok(text) => Domains::parse(text.as_deref()).config,
        Err(e) => {
            writeln!(err, "corral: warning: {e:#}")?;
            return Ok(());
        }
    };
    if domains.realm(userid.realm()).is_none() {
        writeln!(
            err,
            "corral: note: realm '{}' is not defined in {}: {userid} cannot log in until it is",
            userid.realm(),
            files.domains_cfg.display()
        )?;
    }
    Ok(())
}

fn user_passwd(
    args: &UserPasswdArgs,
    password: &mut dyn FnMut() -> Result<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let userid = parse_userid(&args.userid)?;
    if let Some(refusal) = password_refusal(&userid) {
        bail!("{refusal}");
    }
    let files = AccessPaths::new(&args.root.root);
    // As Proxmox's `passwd`: the user must exist; only the password file is locked.
    let config = files.read_user_cfg(err)?;
    if config.user(&userid).is_none() {
        bail!(
            "user '{userid}' does not exist in {} (add it with 'corral user add {userid} \
             --password')",
            files.user_cfg.display()
        );
    }
    let hash = corral_io::password::new_hash(&password()?)?;
    store_hash(&files, &userid, &hash, err)?;
    writeln!(
        out,
        "changed the password of {userid} in {}",
        files.shadow_cfg.display()
    )?;
    Ok(())
}

fn token_add(args: &TokenAddArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let userid = parse_userid(&args.userid)?;
    let tokenid = Tokenid::new(userid, &args.tokenid)?;
    let files = AccessPaths::new(&args.root.root);
    let new = Token {
        expire: args.expire.unwrap_or(0),
        privsep: args.privsep,
        comment: args.comment.clone(),
    };
    let secret =
        corral_io::token_secret::new_token_secret().context("cannot draw a random token secret")?;
    // As Proxmox: `user.cfg` locked around all of it, the secrets file within.
    let config = files.locked(lock::USER_CFG, err, |err| {
        let mut config = files.read_user_cfg(err)?;
        config
            .add_token(&tokenid, new)
            .with_context(|| format!("cannot add the token to {}", files.user_cfg.display()))?;
        // The secret first, as Proxmox: a token is never listed without its secret.
        files.locked(lock::TOKEN_CFG, err, |err| {
            let mut secrets = files.read_token_secrets()?;
            secrets.set(&tokenid, &secret);
            files.write_private(&files.token_cfg, &secrets.render(), err)
        })?;
        files.write_user_cfg(&config)?;
        Ok(config)
    })?;

    let mut info = serde_json::Map::new();
    if let Some(comment) = config.token(&tokenid).and_then(|t| t.comment.clone()) {
        info.insert("comment".into(), comment.into());
    }
    if let Some(expire) = args.expire {
        info.insert("expire".into(), expire.into());
    }
    info.insert("privsep".into(), u8::from(args.privsep).into());
    let mut result = serde_json::Map::new();
    result.insert("full-tokenid".into(), tokenid.to_string().into());
    result.insert("info".into(), info.into());
    result.insert("value".into(), secret.into());
    let result = serde_json::Value::Object(result);
    match args.output_format {
        OutputFormat::Text => write!(out, "{}", key_value_table(&result))?,
        OutputFormat::Json => writeln!(out, "{result}")?,
        OutputFormat::JsonPretty => writeln!(out, "{result:#}")?,
    }
    writeln!(
        err,
        "corral: the token's secret ('value') is shown only this once: store it now. Use it as \
         'Authorization: PVEAPIToken={tokenid}=<value>'."
    )?;
    Ok(())
}

/// pveum's text table of an object: one row per key, nested values as JSON.
fn key_value_table(object: &serde_json::Value) -> String {
    let rows: Vec<(String, String)> = object
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(key, value)| {
                    let value = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let width = |texts: &mut dyn Iterator<Item = &str>| {
        texts.map(|text| text.chars().count()).max().unwrap_or(0)
    };
    let key_width = width(&mut rows.iter().map(|(k, _)| k.as_str()).chain(["key"]));
    let value_width = width(&mut rows.iter().map(|(_, v)| v.as_str()).chain(["value"]));
    let rule = |left: &str, fill: &str, middle: &str, right: &str| {
        format!(
            "{left}{}{middle}{}{right}\n",
            fill.repeat(key_width + 2),
            fill.repeat(value_width + 2)
        )
    };
    let row = |key: &str, value: &str| {
        format!(
            "│ {key}{} │ {value}{} │\n",
            " ".repeat(key_width - key.chars().count()),
            " ".repeat(value_width - value.chars().count())
        )
    };
    let mut table = rule("┌", "─", "┬", "┐");
    table.push_str(&row("key", "value"));
    table.push_str(&rule("╞", "═", "╪", "╡"));
    for (index, (key, value)) in rows.iter().enumerate() {
        if index > 0 {
            table.push_str(&rule("├", "─", "┼", "┤"));
        }
        table.push_str(&row(key, value));
    }
    table.push_str(&rule("└", "─", "┴", "┘"));
    table
}

fn acl_set(args: &AclSetArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let mut members = Vec::new();
    for user in args.user.iter().flat_map(|list| split_list(list)) {
        members.push(AclMember::User(parse_userid(user)?));
    }
    for token in args.token.iter().flat_map(|list| split_list(list)) {
        members.push(AclMember::Token(Tokenid::parse(token)?));
    }
    for group in args.group.iter().flat_map(|list| split_list(list)) {
        // `@name` is how acl: lines write groups; accept it too.
        let group = group.strip_prefix('@').unwrap_or(group);
        members.push(AclMember::Group(group.to_owned()));
    }
    let roles: Vec<&str> = args.role.iter().flat_map(|list| split_list(list)).collect();
    let files = AccessPaths::new(&args.root.root);
    files.locked(lock::USER_CFG, err, |err| {
        let mut config = files.read_user_cfg(err)?;
        config
            .set_acl(&args.path, &members, &roles, args.propagate)
            .with_context(|| format!("cannot set the ACL in {}", files.user_cfg.display()))?;
        files.write_user_cfg(&config)
    })?;
    let names: Vec<String> = members
        .iter()
        .map(|member| match member {
            AclMember::User(user) => user.to_string(),
            AclMember::Token(token) => token.to_string(),
            AclMember::Group(group) => format!("@{group}"),
        })
        .collect();
    writeln!(
        out,
        "granted {} on {} to {} (propagate {}) in {}",
        roles.join(","),
        normalize_path(&args.path).unwrap_or_else(|| args.path.clone()),
        names.join(","),
        u8::from(args.propagate),
        files.user_cfg.display()
    )?;
    Ok(())
}
