//! The `pam` realm: Linux user passwords checked through libpam.
//!
//! Proxmox's `PVE::Auth::PAM::authenticate_user` starts a PAM transaction for service
//! [`PAM_SERVICE`] with the user name (the part of `user@pam` before `@pam`, nothing else
//! stripped), answers every conversation message with the password, sets `PAM_RHOST` to the
//! client address when it knows it, then runs `pam_authenticate` and `pam_acct_mgmt` (account
//! management: expired accounts, expired passwords, `pam_access` rules, …). Either failing is
//! the login failing, with `pam_strerror`'s text as the message. [`authenticate`] does the same.
//!
//! **Blocking**: libpam blocks (reading `/etc/shadow`, asking LDAP/SSSD, and `pam_unix`'s ~2 s
//! delay after a failed attempt unless the stack sets `nodelay`). Call it from a blocking
//! thread (`tokio::task::spawn_blocking`), never on an async worker.
//!
//! `pam_unix` reads `/etc/shadow` only as root; pvedaemon runs as root on Proxmox VE, and so
//! must whatever calls this.
//!
//! Service file: Proxmox VE ships no `/etc/pam.d/proxmox-ve-auth` as far as we know, so libpam
//! falls back to `/etc/pam.d/other`, which on Debian includes `common-auth`, `common-account`,
//! `common-password` and `common-session`. [`PAM_SERVICE_FILE`] is the part of that the realm
//! uses (auth and account), for installs that want the service spelt out.

use std::ffi::{CStr, CString};

use pam_client::{ConversationHandler, ErrorCode, Flag};

/// The PAM service Proxmox's PAM realm uses (`/etc/pam.d/proxmox-ve-auth`).
pub const PAM_SERVICE: &str = "proxmox-ve-auth";

/// Where [`PAM_SERVICE_FILE`] goes.
pub const PAM_SERVICE_PATH: &str = "/etc/pam.d/proxmox-ve-auth";

/// A minimal `/etc/pam.d/proxmox-ve-auth` for Debian: the `auth` and `account` stacks every
/// login service shares, i.e. what the fallback `/etc/pam.d/other` gives those two stages.
/// The realm never changes passwords or opens sessions through PAM, so nothing else is needed.
pub const PAM_SERVICE_FILE: &str = "\
# PAM configuration for the Proxmox VE `pam` realm (service proxmox-ve-auth), used by corral.
# Authentication and account checks only: the realm opens no sessions and changes no passwords.
auth\tinclude\tcommon-auth
account\tinclude\tcommon-account
";

/// Why a PAM login failed. The messages of the first variants are `pam_strerror`'s text, as
/// Proxmox logs them (`authentication failure; rhost=… user=… msg=Authentication failure`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PamError {
    /// Empty password, or `"0"` (false in Perl): refused before PAM is asked, like Proxmox.
    #[error("no password")]
    NoPassword,
    /// A user name or password PAM cannot take (empty user name, NUL byte).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// `"user name"`, `"password"` or `"remote host"`.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Wrong password, unknown user, too many tries: the ordinary refusal.
    #[error("{message}")]
    AuthenticationFailed {
        /// `pam_authenticate`, or `pam_acct_mgmt` when the account stack refused: Debian's
        /// `common-account` turns `pam_unix`'s "account expired" into `pam_deny`'s plain
        /// authentication failure, so an expired account lands here, not in
        /// [`PamError::AccountExpired`].
        stage: &'static str,
        /// `pam_strerror`'s text, e.g. "Authentication failure".
        message: String,
    },
    /// The password was right but the account has expired (`ACCT_EXPIRED`), with a stack that
    /// passes that code on (Debian's `common-account` does not, see above).
    #[error("{message}")]
    AccountExpired {
        /// `pam_strerror`'s text, e.g. "User account has expired".
        message: String,
    },
    /// The password was right but has expired and must be changed (`NEW_AUTHTOK_REQD`,
    /// `AUTHTOK_EXPIRED`). Proxmox offers no way to change it at login either.
    #[error("{message}")]
    PasswordExpired {
        /// `pam_strerror`'s text, e.g. "Authentication token is no longer valid; new one
        /// required".
        message: String,
    },
    /// The account stack refused the login (`PERM_DENIED`), e.g. a `pam_access` rule.
    #[error("{message}")]
    PermissionDenied {
        /// `pam_strerror`'s text, e.g. "Permission denied".
        message: String,
    },
    /// PAM itself does not work: no usable service configuration, a module that cannot be
    /// loaded, a system error. An operator must fix the host; no password will get through.
    #[error("PAM is not available: {stage} for service {service}: {message}")]
    Unavailable {
        /// The failing call, e.g. `pam_authenticate`.
        stage: &'static str,
        /// The PAM service name.
        service: String,
        /// `pam_strerror`'s text, e.g. "Module is unknown".
        message: String,
    },
    /// Any other PAM error (conversation failure, …).
    #[error("{stage} failed: {message}")]
    Other {
        /// The failing call.
        stage: &'static str,
        /// `pam_strerror`'s text.
        message: String,
    },
}

/// Checks `user`'s `password` with PAM service `service`, as Proxmox's PAM realm does.
/// Blocking: see the module documentation.
pub fn authenticate(service: &str, user: &str, password: &str) -> Result<(), PamError> {
    authenticate_from(service, user, password, None)
}

/// [`authenticate`] with the client address as `PAM_RHOST` (Proxmox sets it when it knows the
/// address; `pam_unix` logs it as `rhost=`, which fail2ban rules match on).
pub fn authenticate_from(
    service: &str,
    user: &str,
    password: &str,
    remote_host: Option<&str>,
) -> Result<(), PamError> {
    if corral_core::password::is_missing(password) {
        return Err(PamError::NoPassword);
    }
    let conversation = PasswordConversation::new(password)?;
    check_user(user)?;
    if let Some(host) = remote_host {
        c_string(host, "remote host")?;
    }

    let mut context = pam_client::Context::new(service, Some(user), conversation)
        .map_err(|e| classify("pam_start", service, &e))?;
    if remote_host.is_some() {
        context
            .set_rhost(remote_host)
            .map_err(|e| classify("pam_set_item", service, &e))?;
    }
    context
        .authenticate(Flag::NONE)
        .map_err(|e| classify("pam_authenticate", service, &e))?;
    context
        .acct_mgmt(Flag::NONE)
        .map_err(|e| classify("pam_acct_mgmt", service, &e))?;
    Ok(())
}

/// Refuses user names PAM cannot take or would prompt for: empty, or with a NUL byte.
fn check_user(user: &str) -> Result<(), PamError> {
    if user.is_empty() {
        return Err(PamError::InvalidInput {
            what: "user name",
            reason: "is empty",
        });
    }
    c_string(user, "user name").map(drop)
}

/// `text` as a C string, or the typed error naming `what` when it holds a NUL byte.
fn c_string(text: &str, what: &'static str) -> Result<CString, PamError> {
    CString::new(text).map_err(|_| PamError::InvalidInput {
        what,
        reason: "contains a NUL byte",
    })
}

/// Sorts a PAM error into the typed error: refusal, account problem, PAM broken. The message
/// is `pam_strerror`'s text (pam-client shows the numeric code when libpam gave none).
fn classify(stage: &'static str, service: &str, error: &pam_client::Error) -> PamError {
    classify_code(stage, service, error.code(), error.to_string())
}

/// [`classify`] on the parts, so the sorting is testable without libpam.
fn classify_code(stage: &'static str, service: &str, code: ErrorCode, message: String) -> PamError {
    match code {
        ErrorCode::AUTH_ERR
        | ErrorCode::USER_UNKNOWN
        | ErrorCode::MAXTRIES
        | ErrorCode::CRED_INSUFFICIENT
        | ErrorCode::AUTHTOK_ERR => PamError::AuthenticationFailed { stage, message },
        ErrorCode::ACCT_EXPIRED => PamError::AccountExpired { message },
        ErrorCode::NEW_AUTHTOK_REQD | ErrorCode::AUTHTOK_EXPIRED => {
            PamError::PasswordExpired { message }
        }
        ErrorCode::PERM_DENIED => PamError::PermissionDenied { message },
        ErrorCode::OPEN_ERR
        | ErrorCode::SYMBOL_ERR
        | ErrorCode::SERVICE_ERR
        | ErrorCode::SYSTEM_ERR
        | ErrorCode::BUF_ERR
        | ErrorCode::ABORT
        | ErrorCode::MODULE_UNKNOWN
        | ErrorCode::AUTHINFO_UNAVAIL => PamError::Unavailable {
            stage,
            service: service.to_owned(),
            message,
        },
        _ => PamError::Other { stage, message },
    }
}

/// Answers every PAM prompt with the password, as Proxmox's conversation function does (it
/// pushes the password for every message, whatever its type). Informational and error messages
/// from modules (e.g. "You are required to change your password immediately") go to the debug
/// log; Proxmox drops them.
#[derive(Debug)]
struct PasswordConversation {
    password: CString,
}

impl PasswordConversation {
    fn new(password: &str) -> Result<Self, PamError> {
        Ok(PasswordConversation {
            password: c_string(password, "password")?,
        })
    }
}

impl ConversationHandler for PasswordConversation {
    fn prompt_echo_on(&mut self, _prompt: &CStr) -> Result<CString, ErrorCode> {
        Ok(self.password.clone())
    }

    fn prompt_echo_off(&mut self, _prompt: &CStr) -> Result<CString, ErrorCode> {
        Ok(self.password.clone())
    }

    fn text_info(&mut self, msg: &CStr) {
        tracing::debug!(message = %msg.to_string_lossy(), "PAM info");
    }

    fn error_msg(&mut self, msg: &CStr) {
        tracing::debug!(message = %msg.to_string_lossy(), "PAM error message");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_password_is_refused_before_pam() {
        // A service name that cannot exist: PAM is never started for these.
        for password in ["", "0"] {
            assert_eq!(
                authenticate("corral-never-started", "root", password),
                Err(PamError::NoPassword)
            );
        }
        assert_eq!(PamError::NoPassword.to_string(), "no password");
    }

    #[test]
    fn inputs_pam_cannot_take_are_refused() {
        assert_eq!(
            authenticate(PAM_SERVICE, "", "secret"),
            Err(PamError::InvalidInput {
                what: "user name",
                reason: "is empty"
            })
        );
        assert_eq!(
            authenticate(PAM_SERVICE, "ro\0ot", "secret"),
            Err(PamError::InvalidInput {
                what: "user name",
                reason: "contains a NUL byte"
            })
        );
        let err = authenticate(PAM_SERVICE, "root", "sec\0ret").expect_err("NUL in password");
        assert_eq!(err.to_string(), "invalid password: contains a NUL byte");
        assert!(matches!(
            authenticate_from(PAM_SERVICE, "root", "secret", Some("a\0b")),
            Err(PamError::InvalidInput {
                what: "remote host",
                ..
            })
        ));
    }

    #[test]
    fn error_codes_are_classified() {
        let c = |code| classify_code("pam_authenticate", PAM_SERVICE, code, "msg".to_owned());
        assert!(matches!(
            c(ErrorCode::AUTH_ERR),
            PamError::AuthenticationFailed { .. }
        ));
        assert!(matches!(
            c(ErrorCode::USER_UNKNOWN),
            PamError::AuthenticationFailed { .. }
        ));
        assert!(matches!(
            c(ErrorCode::ACCT_EXPIRED),
            PamError::AccountExpired { .. }
        ));
        assert!(matches!(
            c(ErrorCode::NEW_AUTHTOK_REQD),
            PamError::PasswordExpired { .. }
        ));
        assert!(matches!(
            c(ErrorCode::PERM_DENIED),
            PamError::PermissionDenied { .. }
        ));
        assert!(matches!(c(ErrorCode::CONV_ERR), PamError::Other { .. }));
        assert_eq!(
            c(ErrorCode::MODULE_UNKNOWN).to_string(),
            "PAM is not available: pam_authenticate for service proxmox-ve-auth: msg"
        );
        // Refusals print pam_strerror's text alone, as Proxmox's `die "$err\n"`.
        assert_eq!(c(ErrorCode::AUTH_ERR).to_string(), "msg");
    }

    #[test]
    fn service_file_covers_auth_and_account_only() {
        let stages: Vec<&str> = PAM_SERVICE_FILE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(stages, ["auth", "account"]);
        assert!(PAM_SERVICE_PATH.ends_with(PAM_SERVICE));
    }

    #[test]
    fn conversation_answers_every_prompt_with_the_password() {
        let mut conv = PasswordConversation::new("secret").expect("no NUL");
        let prompt = c"Password: ";
        assert_eq!(conv.prompt_echo_off(prompt).as_deref(), Ok(c"secret"));
        assert_eq!(conv.prompt_echo_on(prompt).as_deref(), Ok(c"secret"));
        conv.text_info(c"info");
        conv.error_msg(c"error");
    }
}
