//! `corral user|token|acl`: the commands run through `corral::run` / `run_with_password` (and
//! once as the built binary) against a temporary root, and the files they write.

use std::fs;
use std::io::{self, Cursor, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use corral_core::access::{TokenSecrets, Tokenid};
use corral_core::password::verify;
use corral_io::files::{Files, LockGuard, RealFiles};
use corral_nodes::corral;
use corral_nodes::usercli::{PasswordInput, read_new_password};

/// A fresh directory, removed on drop.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new(name: &str) -> TempRoot {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("corral-usercli-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        TempRoot(dir)
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.0.join(absolute.trim_start_matches('/'))
    }

    fn read(&self, absolute: &str) -> String {
        fs::read_to_string(self.path(absolute)).expect("file written")
    }

    /// Seeds a file, making its directory.
    fn write(&self, absolute: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(absolute);
        fs::create_dir_all(path.parent().expect("a directory")).expect("dir");
        fs::write(path, contents).expect("seed");
    }

    fn root_arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const USER_CFG: &str = "/etc/pve/user.cfg";
const SHADOW_CFG: &str = "/etc/pve/priv/shadow.cfg";
const TOKEN_CFG: &str = "/etc/pve/priv/token.cfg";
const LOCK_DIR: &str = "/etc/pve/priv/lock";

/// `corral acl set`: alice may audit everything.
const ALICE_AUDITS_ALL: &[&str] = &[
    "acl",
    "set",
    "/",
    "--user",
    "alice@pve",
    "--role",
    "PVEAuditor",
];

/// What a command printed and returned.
#[derive(Debug)]
struct Outcome {
    code: u8,
    out: String,
    err: String,
}

/// Runs `corral ARGS --root ROOT`; a command that asks for a password fails the test.
fn corral(root: &TempRoot, args: &[&str]) -> Outcome {
    corral_with_password(root, args, None)
}

/// Runs `corral ARGS --root ROOT` with `password` as the new password, when one is asked for.
fn corral_with_password(root: &TempRoot, args: &[&str], password: Option<&str>) -> Outcome {
    let mut full = vec!["corral".to_owned()];
    full.extend(args.iter().map(|arg| (*arg).to_owned()));
    full.push("--root".to_owned());
    full.push(root.root_arg());
    let mut source = || match password {
        Some(password) => read_new_password(PasswordInput::Lines(&mut Cursor::new(format!(
            "{password}\n"
        )))),
        None => panic!("{args:?} asked for a password"),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = corral::run_with_password(full, &mut source, &mut out, &mut err);
    Outcome {
        code,
        out: String::from_utf8(out).expect("UTF-8 output"),
        err: String::from_utf8(err).expect("UTF-8 errors"),
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").mode() & 0o7777
}

/// The group a file written by this process must have: `www-data` when running as root and
/// the group exists (as pmxcfs shows `/etc/pve`), else the process's own group.
fn expected_shared_gid() -> u32 {
    let own = nix::unistd::getegid().as_raw();
    if !nix::unistd::geteuid().is_root() {
        return own;
    }
    match nix::unistd::Group::from_name("www-data") {
        Ok(Some(group)) => group.gid.as_raw(),
        _ => own,
    }
}

fn assert_modes(root: &TempRoot) {
    // pveproxy (www-data) must get through every directory on the way to user.cfg.
    for dir in ["/etc", "/etc/pve"] {
        assert_eq!(mode_of(&root.path(dir)), 0o755, "{dir}");
    }
    let user_cfg = root.path(USER_CFG);
    assert_eq!(mode_of(&user_cfg), 0o640);
    assert_eq!(
        fs::metadata(&user_cfg).expect("metadata").gid(),
        expected_shared_gid()
    );
    let priv_dir = root.path("/etc/pve/priv");
    if priv_dir.exists() {
        assert_eq!(mode_of(&priv_dir), 0o700);
        for entry in fs::read_dir(&priv_dir).expect("priv dir") {
            let path = entry.expect("entry").path();
            if path == root.path(LOCK_DIR) {
                continue;
            }
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }
    // The cluster locks: pmxcfs's lock directory, its files root's alone.
    let lock_dir = root.path(LOCK_DIR);
    if lock_dir.exists() {
        assert_eq!(mode_of(&lock_dir), 0o700);
        for entry in fs::read_dir(&lock_dir).expect("lock dir") {
            let path = entry.expect("entry").path();
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }
}

/// `priv/lock`, made as corral makes it (`priv/` 0700), for a test to hold a lock in.
fn make_lock_dir(root: &TempRoot) {
    for dir in ["/etc/pve/priv", LOCK_DIR] {
        fs::create_dir_all(root.path(dir)).expect("dir");
        fs::set_permissions(root.path(dir), fs::Permissions::from_mode(0o700)).expect("chmod");
    }
}

/// Holds the cluster lock whose file is `lock_file`, as another writer would.
fn hold(lock_file: &Path) -> LockGuard {
    RealFiles.try_lock(lock_file).expect("lock").expect("free")
}

/// A root with alice in `user.cfg`, whose lock (`file-user_cfg`) another writer holds: the
/// root, the lock's file and the held lock.
fn user_cfg_held_elsewhere(name: &str) -> (TempRoot, PathBuf, LockGuard) {
    let root = TempRoot::new(name);
    root.write(USER_CFG, "user:alice@pve:1:0::::::\n");
    make_lock_dir(&root);
    let lock_file = root.path(&format!("{LOCK_DIR}/file-user_cfg"));
    let held = hold(&lock_file);
    (root, lock_file, held)
}

/// The names in a directory, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn shadow_hash(root: &TempRoot, userid: &str) -> String {
    let shadow = root.read(SHADOW_CFG);
    let line = shadow
        .lines()
        .find(|line| line.starts_with(&format!("{userid}:")))
        .unwrap_or_else(|| panic!("no {userid} in {shadow}"));
    let hash = line
        .strip_prefix(&format!("{userid}:"))
        .and_then(|rest| rest.strip_suffix(':'))
        .expect("<userid>:<hash>:");
    assert!(hash.starts_with("$5$"), "{hash}");
    hash.to_owned()
}

// --- the password seam ---

#[test]
fn piped_password_is_the_first_line() {
    let mut input = Cursor::new("correct horse\nsecond line ignored\n");
    let password = read_new_password(PasswordInput::Lines(&mut input)).expect("password");
    assert_eq!(password, "correct horse");
    // pveum passwd reads the password twice when piped; the same input works here.
    let mut twice = Cursor::new("sesame-open\nsesame-open\n");
    assert_eq!(
        read_new_password(PasswordInput::Lines(&mut twice)).expect("password"),
        "sesame-open"
    );
    // No final line break, and a Windows line end.
    let mut bare = Cursor::new("no-newline-pw");
    assert_eq!(
        read_new_password(PasswordInput::Lines(&mut bare)).expect("password"),
        "no-newline-pw"
    );
    let mut crlf = Cursor::new("windows-pw\r\n");
    assert_eq!(
        read_new_password(PasswordInput::Lines(&mut crlf)).expect("password"),
        "windows-pw"
    );
}

#[test]
fn piped_password_errors() {
    let error = |input: &str| {
        let mut input = Cursor::new(input.to_owned());
        format!(
            "{:#}",
            read_new_password(PasswordInput::Lines(&mut input)).expect_err("refused")
        )
    };
    assert_eq!(error(""), "no password on standard input (it is empty)");
    assert_eq!(
        error("short\n"),
        "the password is too short: it needs at least 8 characters"
    );
    assert_eq!(
        error(&format!("{}\n", "x".repeat(65))),
        "the password is too long: at most 64 characters"
    );
    // Characters, not bytes: 8 two-byte characters are enough.
    let mut umlauts = Cursor::new("ääääääää\n");
    assert!(read_new_password(PasswordInput::Lines(&mut umlauts)).is_ok());
}

#[test]
fn terminal_password_is_asked_twice_and_must_match() {
    let mut prompts = Vec::new();
    let mut answers = vec!["s3cret-pw".to_owned(), "s3cret-pw".to_owned()].into_iter();
    let mut prompt = |text: &str| {
        prompts.push(text.to_owned());
        answers.next().ok_or_else(|| io::Error::other("no more"))
    };
    let password = read_new_password(PasswordInput::Terminal(&mut prompt)).expect("password");
    assert_eq!(password, "s3cret-pw");
    assert_eq!(prompts, ["Enter new password: ", "Retype new password: "]);

    let mut answers = vec!["s3cret-pw".to_owned(), "s3cret-pX".to_owned()].into_iter();
    let mut prompt = |_: &str| answers.next().ok_or_else(|| io::Error::other("no more"));
    let error = read_new_password(PasswordInput::Terminal(&mut prompt)).expect_err("mismatch");
    assert_eq!(error.to_string(), "passwords do not match");

    let mut prompt = |_: &str| -> io::Result<String> {
        Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of file"))
    };
    let error = read_new_password(PasswordInput::Terminal(&mut prompt)).expect_err("eof");
    assert_eq!(
        format!("{error:#}"),
        "cannot read the password from the terminal: end of file"
    );
}

// --- user add / user passwd ---

#[test]
fn user_add_with_password_writes_user_cfg_and_a_verifying_shadow_entry() {
    let root = TempRoot::new("user-add");
    let run = corral_with_password(
        &root,
        &[
            "user",
            "add",
            "alice@pve",
            "--password",
            "--comment",
            "Ops: on call 100%",
            "--email",
            "alice@example.com",
            "--firstname",
            "Alice",
            "--lastname",
            "Äberg",
        ],
        Some("correct horse"),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.out.contains("added user alice@pve"), "{}", run.out);
    assert_eq!(run.err, "");
    assert_eq!(
        root.read(USER_CFG),
        "user:alice@pve:1:0:Alice:%C3%84berg:alice@example.com:Ops%3A on call 100%25::\n\
         user:root@pam:1:0::::::\n\n\n\n\n"
    );
    let hash = shadow_hash(&root, "alice@pve");
    assert_eq!(verify("correct horse", &hash), Ok(()));
    assert!(verify("correct horsE", &hash).is_err());
    assert_eq!(root.read(SHADOW_CFG).lines().count(), 1);
    assert_modes(&root);
}

#[test]
fn an_open_priv_dir_is_closed_before_a_password_is_stored_in_it() {
    let root = TempRoot::new("open-priv");
    let priv_dir = root.path("/etc/pve/priv");
    fs::create_dir_all(&priv_dir).expect("dir");
    fs::set_permissions(&priv_dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    let run = corral_with_password(
        &root,
        &["user", "add", "alice@pve", "--password"],
        Some("correct horse"),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.err,
        format!(
            "corral: warning: {} was mode 0755, open to other users; it is 0700 now\n",
            priv_dir.display()
        )
    );
    assert_modes(&root);
}

#[test]
fn a_priv_dir_of_another_user_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: only root can give a directory to another user");
        return;
    }
    let root = TempRoot::new("foreign-priv");
    let priv_dir = root.path("/etc/pve/priv");
    fs::create_dir_all(&priv_dir).expect("dir");
    nix::unistd::chown(&priv_dir, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
    let run = corral_with_password(
        &root,
        &["user", "add", "alice@pve", "--password"],
        Some("correct horse"),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.err.contains(&format!(
            "{} belongs to uid 65534, not to uid 0 (this process)",
            priv_dir.display()
        )),
        "{}",
        run.err
    );
    assert!(!root.path(SHADOW_CFG).exists());
    assert!(!root.path(USER_CFG).exists(), "nothing is written");
}

#[test]
fn user_add_without_password_writes_no_shadow_and_keeps_other_users() {
    let root = TempRoot::new("user-add-plain");
    root.write(
        USER_CFG,
        "user:root@pam:1:0::::::\nuser:bob@pve:1:0::::::\n\ngroup:admins:bob@pve::\n",
    );
    let run = corral(
        &root,
        &[
            "user",
            "add",
            "carol@pam",
            "--expire",
            "1700000000",
            "--enable",
            "0",
            "--groups",
            "admins",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        root.read(USER_CFG),
        "user:bob@pve:1:0::::::\nuser:carol@pam:0:1700000000::::::\nuser:root@pam:1:0::::::\n\n\
         group:admins:bob@pve,carol@pam::\n\n\n\n"
    );
    assert!(!root.path(SHADOW_CFG).exists());
    // Only the lock of user.cfg is in priv/.
    assert_eq!(names_in(&root.path("/etc/pve/priv")), ["lock"]);
    assert_eq!(names_in(&root.path(LOCK_DIR)), ["file-user_cfg"]);
    assert_modes(&root);
}

#[test]
fn duplicate_user_is_refused_before_any_password_is_asked() {
    let root = TempRoot::new("user-dup");
    assert_eq!(corral(&root, &["user", "add", "alice@pve"]).code, 0);
    let before = root.read(USER_CFG);
    // `corral` panics if a password is asked for.
    let run = corral(&root, &["user", "add", "alice@pve", "--password"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        format!(
            "corral: cannot add the user to {}: user 'alice@pve' already exists\n",
            root.path(USER_CFG).display()
        )
    );
    let run = corral(&root, &["user", "add", "root@pam"]);
    assert!(
        run.err.contains("user 'root@pam' already exists"),
        "{run:?}"
    );
    assert_eq!(root.read(USER_CFG), before);
    assert!(!root.path(SHADOW_CFG).exists());
}

#[test]
fn bad_user_ids_and_fields_are_refused() {
    let root = TempRoot::new("user-bad");
    let run = corral(&root, &["user", "add", "alice"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("has no '@realm' part"), "{}", run.err);
    let run = corral(
        &root,
        &["user", "add", "alice@pve", "--email", "not an email"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("invalid email address 'not an email'"),
        "{}",
        run.err
    );
    let run = corral(&root, &["user", "add", "alice@pve", "--groups", "nope"]);
    assert!(
        run.err.contains("group 'nope' does not exist"),
        "{}",
        run.err
    );
    let run = corral(&root, &["user", "add", "alice@pve", "--expire", "-1"]);
    assert!(run.err.contains("expire must be 0"), "{}", run.err);
    assert!(!root.path(USER_CFG).exists());
}

#[test]
fn passwords_of_pam_and_other_realms_are_refused() {
    let root = TempRoot::new("user-pam");
    let run = corral(&root, &["user", "add", "dave@pam", "--password"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        "corral: dave@pam is a pam user: its password is the host's; set it with 'passwd dave' \
         on the host; add the user without --password\n"
    );
    let run = corral(&root, &["user", "passwd", "root@pam"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("set it with 'passwd root' on the host"));
    let run = corral(&root, &["user", "add", "erin@ldap1", "--password"]);
    assert!(
        run.err.contains("corral sets passwords of @pve users only"),
        "{}",
        run.err
    );
    assert!(!root.path(USER_CFG).exists());
    // Without a password, a user of an undefined realm is added, with a note.
    let run = corral(&root, &["user", "add", "erin@ldap1"]);
    assert_eq!(run.code, 0);
    assert!(
        run.err.contains("realm 'ldap1' is not defined in") && run.err.contains("cannot log in"),
        "{}",
        run.err
    );
}

#[test]
fn passwd_sets_and_changes_the_password_of_an_existing_pve_user() {
    let root = TempRoot::new("passwd");
    assert_eq!(corral(&root, &["user", "add", "alice@pve"]).code, 0);
    assert_eq!(corral(&root, &["user", "add", "bob@pve"]).code, 0);
    let run = corral_with_password(&root, &["user", "passwd", "alice@pve"], Some("first-pw!"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.out.contains("changed the password of alice@pve"));
    let run = corral_with_password(&root, &["user", "passwd", "bob@pve"], Some("bobs-pass"));
    assert_eq!(run.code, 0, "{run:?}");
    let first = shadow_hash(&root, "alice@pve");
    assert_eq!(verify("first-pw!", &first), Ok(()));
    let run = corral_with_password(&root, &["user", "passwd", "alice@pve"], Some("second-pw"));
    assert_eq!(run.code, 0, "{run:?}");
    let second = shadow_hash(&root, "alice@pve");
    assert_eq!(verify("second-pw", &second), Ok(()));
    assert!(verify("first-pw!", &second).is_err());
    // Bob's entry is untouched; lines are sorted by user id.
    assert_eq!(verify("bobs-pass", &shadow_hash(&root, "bob@pve")), Ok(()));
    let shadow = root.read(SHADOW_CFG);
    let users: Vec<&str> = shadow
        .lines()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(users, ["alice@pve", "bob@pve"]);
    assert_modes(&root);
}

#[test]
fn passwd_of_an_unknown_user_is_refused() {
    let root = TempRoot::new("passwd-unknown");
    let run = corral(&root, &["user", "passwd", "nobody@pve"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        format!(
            "corral: user 'nobody@pve' does not exist in {} (add it with 'corral user add \
             nobody@pve --password')\n",
            root.path(USER_CFG).display()
        )
    );
    assert!(!root.path(SHADOW_CFG).exists());
}

#[test]
fn a_bad_password_writes_nothing() {
    let root = TempRoot::new("bad-password");
    let run = corral_with_password(
        &root,
        &["user", "add", "alice@pve", "--password"],
        Some("short"),
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        "corral: the password is too short: it needs at least 8 characters\n"
    );
    assert!(!root.path(USER_CFG).exists());
    assert!(!root.path(SHADOW_CFG).exists());
}

#[test]
fn the_built_binary_reads_the_password_from_piped_stdin() {
    let root = TempRoot::new("binary");
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["user", "add", "piped@pve", "--password", "--root"])
        .arg(&root.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corral");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from a pipe 42\n")
        .expect("write password");
    let output = child.wait_with_output().expect("corral ran");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let hash = shadow_hash(&root, "piped@pve");
    assert_eq!(verify("from a pipe 42", &hash), Ok(()));
    assert!(
        root.read(USER_CFG)
            .starts_with("user:piped@pve:1:0::::::\n")
    );
    assert_modes(&root);

    // And `user passwd` with nothing on stdin says so.
    let output = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["user", "passwd", "piped@pve", "--root"])
        .arg(&root.0)
        .stdin(Stdio::null())
        .output()
        .expect("corral ran");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "corral: no password on standard input (it is empty)\n"
    );
    assert_eq!(shadow_hash(&root, "piped@pve"), hash);
}

// --- token add ---

#[test]
fn token_add_writes_the_secret_and_prints_it_once() {
    let root = TempRoot::new("token");
    assert_eq!(corral(&root, &["user", "add", "alice@pve"]).code, 0);
    let run = corral(
        &root,
        &[
            "token",
            "add",
            "alice@pve",
            "automation",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let printed: serde_json::Value = serde_json::from_str(&run.out).expect("JSON");
    assert_eq!(printed["full-tokenid"], "alice@pve!automation");
    assert_eq!(printed["info"], serde_json::json!({"privsep": 1}));
    let secret = printed["value"].as_str().expect("secret").to_owned();
    assert!(run.err.contains("shown only this once"), "{}", run.err);

    // token.cfg: `<tokenid> <secret>`, a lowercase version 4 UUID.
    assert_eq!(
        root.read(TOKEN_CFG),
        format!("alice@pve!automation {secret}\n")
    );
    let groups: Vec<&str> = secret.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(
        secret
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert!(groups[2].starts_with('4'), "{secret}");
    assert!(groups[3].starts_with(['8', '9', 'a', 'b']), "{secret}");
    let secrets = TokenSecrets::parse(Some(&root.read(TOKEN_CFG)));
    let tokenid = Tokenid::parse("alice@pve!automation").expect("token id");
    assert!(secrets.verify(&tokenid, &secret));

    // user.cfg: the token line follows its user; privsep defaults to 1.
    assert!(
        root.read(USER_CFG)
            .starts_with("user:alice@pve:1:0::::::\ntoken:alice@pve!automation:0:1::\n"),
        "{}",
        root.read(USER_CFG)
    );

    // A second token: the text table, privsep 0, expire, comment; the first secret stays.
    let run = corral(
        &root,
        &[
            "token",
            "add",
            "alice@pve",
            "ci",
            "--privsep",
            "0",
            "--expire",
            "2000000000",
            "--comment",
            "CI: nightly",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 9, "{}", run.out);
    assert!(lines[1].starts_with("│ key ") && lines[1].contains("│ value "));
    assert!(
        lines[3].contains("│ full-tokenid │ alice@pve!ci "),
        "{}",
        run.out
    );
    assert!(
        lines[5].contains(
            r#"│ info         │ {"comment":"CI: nightly","expire":2000000000,"privsep":0}"#
        ),
        "{}",
        run.out
    );
    let second = lines[7]
        .trim_start_matches("│ value        │ ")
        .trim_end_matches(" │")
        .trim();
    assert_eq!(second.len(), 36, "{}", run.out);
    assert_eq!(
        root.read(TOKEN_CFG),
        format!("alice@pve!automation {secret}\nalice@pve!ci {second}\n")
    );
    assert!(
        root.read(USER_CFG)
            .contains("token:alice@pve!ci:2000000000:0:CI%3A nightly:\n")
    );
    assert_modes(&root);
}

#[test]
fn token_add_refuses_unknown_users_duplicates_and_bad_names() {
    let root = TempRoot::new("token-errors");
    let run = corral(&root, &["token", "add", "ghost@pve", "tok"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        format!(
            "corral: cannot add the token to {}: user 'ghost@pve' does not exist\n",
            root.path(USER_CFG).display()
        )
    );
    assert!(!root.path(TOKEN_CFG).exists());

    assert_eq!(corral(&root, &["user", "add", "alice@pve"]).code, 0);
    assert_eq!(corral(&root, &["token", "add", "alice@pve", "tok"]).code, 0);
    let (user_cfg, token_cfg) = (root.read(USER_CFG), root.read(TOKEN_CFG));
    let run = corral(&root, &["token", "add", "alice@pve", "tok"]);
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("token 'alice@pve!tok' already exists"),
        "{}",
        run.err
    );
    assert_eq!(root.read(USER_CFG), user_cfg);
    assert_eq!(
        root.read(TOKEN_CFG),
        token_cfg,
        "the secret is not replaced"
    );

    let run = corral(&root, &["token", "add", "alice@pve", "1bad"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("token name '1bad'"), "{}", run.err);
    let run = corral(
        &root,
        &["token", "add", "alice@pve", "tok2", "--privsep", "2"],
    );
    assert_eq!(run.code, 2, "clap refuses it: {run:?}");
}

// --- acl set ---

#[test]
fn acl_set_writes_acl_lines_for_users_tokens_and_groups() {
    let root = TempRoot::new("acl");
    root.write(
        USER_CFG,
        "user:alice@pve:1:0::::::\ngroup:ops:alice@pve::\n",
    );
    assert_eq!(corral(&root, &["token", "add", "alice@pve", "ci"]).code, 0);

    let run = corral(&root, ALICE_AUDITS_ALL);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.out
            .starts_with("granted PVEAuditor on / to alice@pve (propagate 1) in "),
        "{}",
        run.out
    );
    let run = corral(
        &root,
        &[
            "acl",
            "set",
            "vms//100/",
            "--token",
            "alice@pve!ci",
            "--role",
            "PVEVMUser",
            "--propagate",
            "0",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.out.contains(" on /vms/100 "), "{}", run.out);
    // pveum's plural spellings, and a group.
    let run = corral(
        &root,
        &[
            "acl",
            "set",
            "/storage/local",
            "--groups",
            "ops",
            "--roles",
            "PVEDatastoreUser",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");

    let text = root.read(USER_CFG);
    let acl: Vec<&str> = text.lines().filter(|l| l.starts_with("acl:")).collect();
    assert_eq!(
        acl,
        [
            "acl:1:/:alice@pve:PVEAuditor:",
            "acl:1:/storage/local:@ops:PVEDatastoreUser:",
            "acl:0:/vms/100:alice@pve!ci:PVEVMUser:",
        ]
    );
    assert_modes(&root);
}

#[test]
fn acl_set_errors_name_the_problem_and_change_nothing() {
    let root = TempRoot::new("acl-errors");
    assert_eq!(corral(&root, &["user", "add", "alice@pve"]).code, 0);
    let before = root.read(USER_CFG);
    let user_cfg = root.path(USER_CFG).display().to_string();
    let error = |args: &[&str]| {
        let run = corral(&root, args);
        assert_eq!(run.code, 1, "{run:?}");
        run.err
    };
    assert_eq!(
        error(&[
            "acl",
            "set",
            "/",
            "--user",
            "alice@pve",
            "--role",
            "NoSuchRole"
        ]),
        format!("corral: cannot set the ACL in {user_cfg}: role 'NoSuchRole' does not exist\n")
    );
    let bad_path = error(&[
        "acl",
        "set",
        "/nope",
        "--user",
        "alice@pve",
        "--role",
        "PVEAuditor",
    ]);
    assert!(
        bad_path.starts_with(&format!(
            "corral: cannot set the ACL in {user_cfg}: invalid ACL path '/nope': permissions \
             can be set on '/'"
        )),
        "{bad_path}"
    );
    assert_eq!(
        error(&[
            "acl",
            "set",
            "/",
            "--user",
            "ghost@pve",
            "--role",
            "PVEAuditor"
        ]),
        format!("corral: cannot set the ACL in {user_cfg}: user 'ghost@pve' does not exist\n")
    );
    assert!(
        error(&[
            "acl",
            "set",
            "/",
            "--token",
            "alice@pve!none",
            "--role",
            "PVEAuditor"
        ])
        .contains("no such token 'none' for user 'alice@pve'")
    );
    assert!(
        error(&[
            "acl",
            "set",
            "/",
            "--group",
            "nobody",
            "--role",
            "PVEAuditor"
        ])
        .contains("group 'nobody' does not exist")
    );
    assert!(
        error(&[
            "acl",
            "set",
            "/",
            "--user",
            "root@pam",
            "--role",
            "PVEAuditor"
        ])
        .contains("ACL entries for root@pam are never saved")
    );
    assert_eq!(root.read(USER_CFG), before);

    // Missing member or role: clap's usage errors (exit 2).
    assert_eq!(
        corral(&root, &["acl", "set", "/", "--role", "PVEAuditor"]).code,
        2
    );
    assert_eq!(
        corral(&root, &["acl", "set", "/", "--user", "alice@pve"]).code,
        2
    );
}

// --- reading existing files ---

#[test]
fn skipped_lines_are_reported_with_file_and_line() {
    let root = TempRoot::new("warnings");
    root.write(
        USER_CFG,
        "user:alice@pve:1:0::::::\nthis is not a line of user.cfg\n",
    );
    let run = corral(&root, &["user", "add", "bob@pve"]);
    assert_eq!(run.code, 0, "{run:?}");
    let prefix = format!(
        "corral: warning: {}: line 2: ",
        root.path(USER_CFG).display()
    );
    assert!(run.err.starts_with(&prefix), "{}", run.err);
    assert!(root.read(USER_CFG).contains("user:alice@pve:1:0::::::\n"));

    root.write(USER_CFG, b"user:alice@pve:1:0::::::\n\xff\n");
    let run = corral(&root, &["user", "add", "carol@pve"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        format!(
            "corral: {}: line 2: not UTF-8 text; fix or remove the line first\n",
            root.path(USER_CFG).display()
        )
    );
}

#[test]
fn the_config_commands_still_work() {
    let root = TempRoot::new("config");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = corral::run(
        [
            "corral",
            "check-access",
            "--root",
            &root.root_arg(),
            "10.0.0.1",
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).starts_with("10.0.0.1 allow"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = corral::run(["corral", "--help"], &mut out, &mut err);
    assert_eq!(code, 0);
    let help = String::from_utf8_lossy(&out);
    for command in ["check-config", "check-access", "user", "token", "acl"] {
        assert!(help.contains(&format!("  {command} ")), "{help}");
    }
}

// --- several writers at once (the cluster locks) ---

/// Concurrent `corral user add` (as on several nodes sharing /etc/pve): every user lands, none
/// is lost to another command's write.
#[test]
fn commands_run_at_once_all_land() {
    let root = TempRoot::new("concurrent");
    const N: usize = 12;
    std::thread::scope(|scope| {
        for n in 0..N {
            let root = &root;
            scope.spawn(move || {
                let user = format!("user{n}@pve");
                let run = if n % 3 == 0 {
                    corral_with_password(
                        root,
                        &["user", "add", &user, "--password"],
                        Some("correct horse"),
                    )
                } else {
                    corral(root, &["user", "add", &user])
                };
                assert_eq!(run.code, 0, "{run:?}");
            });
        }
    });
    let user_cfg = root.read(USER_CFG);
    for n in 0..N {
        assert!(
            user_cfg.contains(&format!("user:user{n}@pve:1:0:")),
            "user{n} lost: {user_cfg}"
        );
        if n % 3 == 0 {
            assert_eq!(
                verify(
                    "correct horse",
                    &shadow_hash(&root, &format!("user{n}@pve"))
                ),
                Ok(())
            );
        }
    }
    assert_eq!(root.read(SHADOW_CFG).lines().count(), N.div_ceil(3));

    // Tokens and ACLs too: both files of a token, every ACL line.
    let values: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..N)
            .map(|n| {
                let root = &root;
                scope.spawn(move || {
                    let (user, token) = (format!("user{n}@pve"), format!("t{n}"));
                    let run = corral(
                        root,
                        &["token", "add", &user, &token, "--output-format", "json"],
                    );
                    assert_eq!(run.code, 0, "{run:?}");
                    let path = format!("/vms/{}", 100 + n);
                    let acl = corral(
                        root,
                        &["acl", "set", &path, "--user", &user, "--role", "PVEVMUser"],
                    );
                    assert_eq!(acl.code, 0, "{acl:?}");
                    let printed: serde_json::Value = serde_json::from_str(&run.out).expect("JSON");
                    printed["value"].as_str().expect("the secret").to_owned()
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("ran"))
            .collect()
    });
    let user_cfg = root.read(USER_CFG);
    let secrets = TokenSecrets::parse(Some(&root.read(TOKEN_CFG)));
    for (n, value) in values.iter().enumerate() {
        assert!(
            user_cfg.contains(&format!("token:user{n}@pve!t{n}:")),
            "{user_cfg}"
        );
        assert!(
            user_cfg.contains(&format!("acl:1:/vms/{}:user{n}@pve:PVEVMUser:", 100 + n)),
            "{user_cfg}"
        );
        let token = Tokenid::parse(&format!("user{n}@pve!t{n}")).expect("token id");
        assert!(secrets.verify(&token, value), "t{n}'s secret was lost");
    }
    assert_modes(&root);
}

/// The same across processes (the built binary, as another node would run it).
#[test]
fn processes_run_at_once_all_land() {
    let root = TempRoot::new("processes");
    const N: usize = 8;
    let children: Vec<_> = (0..N)
        .map(|n| {
            Command::new(env!("CARGO_BIN_EXE_corral"))
                .args(["user", "add", &format!("proc{n}@pve"), "--root"])
                .arg(&root.0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn corral")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("corral ran");
        assert!(output.status.success(), "{output:?}");
    }
    let user_cfg = root.read(USER_CFG);
    for n in 0..N {
        assert!(
            user_cfg.contains(&format!("user:proc{n}@pve:1:0:")),
            "{user_cfg}"
        );
    }
}

/// Another writer (here this test, in another process's place) holds `file-user_cfg`: the
/// command waits for it, and goes ahead as soon as it is released.
#[test]
fn a_command_waits_for_a_lock_held_elsewhere() {
    let (root, _, held) = user_cfg_held_elsewhere("lock-wait");
    let start = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(ALICE_AUDITS_ALL)
        .arg("--root")
        .arg(&root.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corral");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(child.try_wait().expect("wait").is_none(), "it waits");
    assert_eq!(root.read(USER_CFG), "user:alice@pve:1:0::::::\n");
    drop(held);
    let output = child.wait_with_output().expect("corral ran");
    assert!(output.status.success(), "{output:?}");
    assert!(start.elapsed() >= std::time::Duration::from_millis(500));
    assert!(
        root.read(USER_CFG)
            .contains("acl:1:/:alice@pve:PVEAuditor:")
    );
}

/// Held past the timeout (shortened here from Proxmox's 10 s): the command fails with
/// Proxmox's message naming the lock and its file, and changes nothing.
#[test]
fn a_lock_held_past_the_timeout_fails_the_command_and_changes_nothing() {
    use corral_nodes::usercli::with_lock_timeout;
    let (root, lock_file, held) = user_cfg_held_elsewhere("lock-timeout");
    let timeout = std::time::Duration::from_millis(300);
    let expected = format!(
        "corral: cfs-lock 'file-user_cfg' error: got lock request timeout ({} still held by \
         another writer after 300ms)\n",
        lock_file.display()
    );
    let commands: [&[&str]; 3] = [
        ALICE_AUDITS_ALL,
        &["token", "add", "alice@pve", "ci"],
        &["user", "add", "bob@pve"],
    ];
    for args in commands {
        let start = std::time::Instant::now();
        let run = with_lock_timeout(timeout, || corral(&root, args));
        assert!(start.elapsed() >= timeout, "{args:?} waited");
        assert_eq!(run.code, 1, "{args:?}");
        assert_eq!(run.err, expected, "{args:?}");
        assert_eq!(run.out, "", "{args:?}: no secret printed");
    }
    // The password is asked for first; then the same.
    let run = with_lock_timeout(timeout, || {
        corral_with_password(
            &root,
            &["user", "add", "carol@pve", "--password"],
            Some("correct horse"),
        )
    });
    assert_eq!(run.code, 1);
    assert_eq!(run.err, expected);
    assert_eq!(
        root.read(USER_CFG),
        "user:alice@pve:1:0::::::\n",
        "unchanged"
    );
    assert!(!root.path(TOKEN_CFG).exists());
    assert!(!root.path(SHADOW_CFG).exists());

    // `passwd` takes the lock of the password file only.
    let shadow_lock = root.path(&format!("{LOCK_DIR}/file-priv_shadow_cfg"));
    let held_shadow = hold(&shadow_lock);
    drop(held);
    let run = with_lock_timeout(timeout, || {
        corral_with_password(
            &root,
            &["user", "passwd", "alice@pve"],
            Some("correct horse"),
        )
    });
    assert_eq!(run.code, 1);
    assert!(
        run.err
            .starts_with("corral: cfs-lock 'file-priv_shadow_cfg' error: got lock request timeout"),
        "{}",
        run.err
    );
    assert!(!root.path(SHADOW_CFG).exists());
    drop(held_shadow);
    let run = corral_with_password(
        &root,
        &["user", "passwd", "alice@pve"],
        Some("correct horse"),
    );
    assert_eq!(run.code, 0, "{run:?}");
}
