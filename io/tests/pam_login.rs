//! The `pam` realm against the real libpam and `pam_unix`, with throwaway system users.
//!
//! Runs only as root (it adds users, writes `/etc/pam.d/` and `pam_unix` reads `/etc/shadow`);
//! as another user every test prints a skip message and passes. CI runs as root.
//!
//! Every failed attempt costs about 2 s: `pam_unix` delays failures unless the stack says
//! `nodelay`, and Debian's `common-auth` does not.
//!
//! The tests share `/etc/passwd` and `/etc/pam.d/proxmox-ve-auth`, so they take a lock and run
//! one at a time; guards undo every change on drop, also when an assertion fails.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use corral_io::pam::{
    PAM_SERVICE, PAM_SERVICE_FILE, PAM_SERVICE_PATH, PamError, authenticate, authenticate_from,
};

const PASSWORD: &str = "Corral pam test pässword 1";

/// Serialises the tests of this file (shared user database and service file).
static LOCK: Mutex<()> = Mutex::new(());

/// Makes user names unique within this process.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The test lock, or `None` (after printing why) when not running as root.
fn root_or_skip(test: &str) -> Option<MutexGuard<'static, ()>> {
    match effective_uid() {
        Some(0) => Some(LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
        uid => {
            eprintln!("skipped {test}: needs root (effective uid {uid:?}); CI runs it as root");
            None
        }
    }
}

/// The effective uid from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Runs a command, panicking with its output when it fails (test setup only).
fn run(program: &str, args: &[&str], stdin: Option<&str>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A system user that exists while the guard lives: no home, no login shell, a password.
struct TestUser {
    name: String,
}

impl TestUser {
    fn create(password: &str) -> TestUser {
        let name = format!(
            "corral-pamtest-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run(
            "useradd",
            &["--no-create-home", "--shell", "/usr/sbin/nologin", &name],
            None,
        );
        // From here on the guard removes the user, also if chpasswd fails.
        let user = TestUser { name };
        run(
            "chpasswd",
            &[],
            Some(&format!("{}:{password}\n", user.name)),
        );
        user
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let status = Command::new("userdel").arg(&self.name).status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "warning: could not delete test user {}: {status:?}",
                self.name
            );
        }
    }
}

/// A file under `/etc/pam.d/` that exists while the guard lives; removed on drop only if the
/// guard created it.
struct ServiceFile {
    path: PathBuf,
    created: bool,
}

impl ServiceFile {
    /// Writes `content` to `path` unless the file already exists (then it is left alone).
    fn ensure(path: &Path, content: &str) -> ServiceFile {
        let created = !path.exists();
        if created {
            fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        ServiceFile {
            path: path.to_owned(),
            created,
        }
    }
}

impl Drop for ServiceFile {
    fn drop(&mut self) {
        if self.created
            && let Err(e) = fs::remove_file(&self.path)
        {
            eprintln!("warning: could not remove {}: {e}", self.path.display());
        }
    }
}

fn proxmox_service() -> ServiceFile {
    ServiceFile::ensure(Path::new(PAM_SERVICE_PATH), PAM_SERVICE_FILE)
}

#[test]
fn right_password_accepted_wrong_refused() {
    let Some(_lock) = root_or_skip("right_password_accepted_wrong_refused") else {
        return;
    };
    let _service = proxmox_service();
    let user = TestUser::create(PASSWORD);

    assert_eq!(authenticate(PAM_SERVICE, &user.name, PASSWORD), Ok(()));
    assert_eq!(
        authenticate_from(PAM_SERVICE, &user.name, PASSWORD, Some("::ffff:192.0.2.7")),
        Ok(())
    );

    let err = authenticate(PAM_SERVICE, &user.name, "wrong password").expect_err("refused");
    assert_eq!(
        err,
        PamError::AuthenticationFailed {
            stage: "pam_authenticate",
            message: "Authentication failure".to_owned()
        }
    );
    // What Proxmox logs after `msg=`: pam_strerror's text.
    assert_eq!(err.to_string(), "Authentication failure");
}

#[test]
fn unknown_user_refused() {
    let Some(_lock) = root_or_skip("unknown_user_refused") else {
        return;
    };
    let _service = proxmox_service();
    let name = format!("corral-pamtest-nouser-{}", std::process::id());
    // Debian's common-auth jumps over pam_deny only on success, so an unknown user ends in
    // pam_deny's AUTH_ERR, indistinguishable from a wrong password (as it should be).
    assert!(matches!(
        authenticate(PAM_SERVICE, &name, PASSWORD),
        Err(PamError::AuthenticationFailed { .. })
    ));
}

/// Account management runs after authentication: a right password for an expired account is
/// refused. Through Debian's `common-account` (`pam_unix` with `default=ignore`, then
/// `pam_deny`) the refusal is a plain authentication failure from `pam_acct_mgmt`; only "new
/// password required" passes through (`new_authtok_reqd=done`).
#[test]
fn account_management_refuses_expired_account_and_password() {
    let Some(_lock) = root_or_skip("account_management_refuses_expired_account_and_password")
    else {
        return;
    };
    let _service = proxmox_service();

    // Account expired on 1970-01-02.
    let user = TestUser::create(PASSWORD);
    run("chage", &["--expiredate", "1", &user.name], None);
    assert_eq!(
        authenticate(PAM_SERVICE, &user.name, PASSWORD),
        Err(PamError::AuthenticationFailed {
            stage: "pam_acct_mgmt",
            message: "Authentication failure".to_owned()
        })
    );

    // Password last changed "never": it must be changed before the next login.
    let user = TestUser::create(PASSWORD);
    run("chage", &["--lastday", "0", &user.name], None);
    let err = authenticate(PAM_SERVICE, &user.name, PASSWORD).expect_err("expired password");
    assert!(matches!(err, PamError::PasswordExpired { .. }), "{err:?}");
}

/// With `pam_unix` straight in the account stack, its own codes reach the caller.
#[test]
fn pam_unix_account_codes_are_typed() {
    let Some(_lock) = root_or_skip("pam_unix_account_codes_are_typed") else {
        return;
    };
    let service = format!("corral-pamtest-unix-{}", std::process::id());
    let _file = ServiceFile::ensure(
        &Path::new("/etc/pam.d").join(&service),
        "auth\trequired\tpam_unix.so\naccount\trequired\tpam_unix.so\n",
    );
    let user = TestUser::create(PASSWORD);
    assert_eq!(authenticate(&service, &user.name, PASSWORD), Ok(()));
    run("chage", &["--expiredate", "1", &user.name], None);
    let err = authenticate(&service, &user.name, PASSWORD).expect_err("expired account");
    assert!(matches!(err, PamError::AccountExpired { .. }), "{err:?}");
}

/// A service name with no file of its own: libpam falls back to `/etc/pam.d/other`. On Debian
/// that file includes the `common-*` stacks, so the missing service is not an error at all: the
/// login behaves exactly as with [`PAM_SERVICE_FILE`]. (This is also what happens on a stock
/// Proxmox VE host for `proxmox-ve-auth`.)
#[test]
fn absent_service_falls_back_to_other() {
    let Some(_lock) = root_or_skip("absent_service_falls_back_to_other") else {
        return;
    };
    let service = format!("corral-pamtest-absent-{}", std::process::id());
    assert!(!Path::new("/etc/pam.d").join(&service).exists());
    let other = fs::read_to_string("/etc/pam.d/other").unwrap_or_default();
    let user = TestUser::create(PASSWORD);

    let right = authenticate(&service, &user.name, PASSWORD);
    let wrong = authenticate(&service, &user.name, "wrong password");
    if other.contains("common-auth") && other.contains("common-account") {
        assert_eq!(right, Ok(()));
        assert!(
            matches!(wrong, Err(PamError::AuthenticationFailed { .. })),
            "{wrong:?}"
        );
    } else {
        // Without a Debian-style `other` (e.g. pam_deny/pam_warn), nothing gets through.
        assert!(right.is_err(), "{right:?}");
        assert!(wrong.is_err(), "{wrong:?}");
    }
}

/// A service whose stack names a module libpam cannot load: PAM cannot work, and the error
/// says so, distinct from a refused password.
#[test]
fn broken_service_is_reported_as_pam_unavailable() {
    let Some(_lock) = root_or_skip("broken_service_is_reported_as_pam_unavailable") else {
        return;
    };
    let service = format!("corral-pamtest-broken-{}", std::process::id());
    let _file = ServiceFile::ensure(
        &Path::new("/etc/pam.d").join(&service),
        "auth\trequired\tpam_corral_no_such_module.so\n\
         account\trequired\tpam_corral_no_such_module.so\n",
    );
    let user = TestUser::create(PASSWORD);

    let err = authenticate(&service, &user.name, PASSWORD).expect_err("broken stack");
    assert!(matches!(err, PamError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("PAM is not available: "), "{text}");
    assert!(text.contains(&service), "{text}");
}
