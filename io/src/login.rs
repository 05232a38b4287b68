//! `POST /access/ticket` in pvedaemon: password (or ticket) check, ticket and CSRF token.
//!
//! Proxmox's `create_ticket` / `authenticate_user` (pve-access-control `AccessControl.pm`,
//! `API2/AccessControl.pm`): the user must exist, be enabled and not expired; a `password`
//! that is a valid ticket of the same user (or of root@pam) renews it; otherwise the realm's
//! plugin checks the password (`pve`: `priv/shadow.cfg`; `pam`: PAM service
//! `proxmox-ve-auth`). Every failure is one 401 `authentication failure` for the client, and a
//! log line with the client address and the real reason.
//!
//! pvedaemon serves from one thread: the CPU-heavy steps (the password hash, RSA key generation
//! when the key pair is renewed, the ticket's RSA signature) run on blocking threads, with the
//! files read and written on the event loop and only owned data handed over.

use std::net::IpAddr;

use corral_core::access::{Authid, Userid};
use corral_core::api;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket;
use corral_core::http::ApiError;
use corral_core::time::UnixTime;
use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{ApiService, RunContext};
use crate::authkey::AuthKeyError;
use crate::pam;

/// What the login call was asked.
#[derive(Debug)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Proxmox's verify mode: check the credentials and these privileges on this path, issue
    /// nothing.
    pub verify: Option<(String, String)>,
    pub client_ip: IpAddr,
}

impl ApiService {
    /// `POST /access/ticket`, in pvedaemon (the method is protected).
    pub(crate) async fn create_ticket(&self, context: RunContext<'_>) -> Result<Value, ApiError> {
        let text = |name: &str| context.params.get(name).and_then(api::params::as_text);
        let mut username = text("username").unwrap_or_default();
        if let Some(realm) = text("realm") {
            username = format!("{username}@{realm}");
        }
        let verify = text("path").zip(text("privs"));
        let request = LoginRequest {
            username,
            password: text("password").unwrap_or_default(),
            verify,
            client_ip: context.client_ip,
        };
        self.login(request).await
    }

    /// Logs in and answers as Proxmox does; failures are logged with their reason and answered
    /// with a bare 401.
    async fn login(&self, request: LoginRequest) -> Result<Value, ApiError> {
        match self.try_login(&request).await {
            Ok(reply) => {
                tracing::info!(
                    "successful auth for user '{}'",
                    request.username.escape_debug()
                );
                Ok(reply)
            }
            Err(reason) => {
                // The user name and the reason may hold a client's newlines: escaped, so no
                // one can forge a log line.
                tracing::warn!(
                    "authentication failure; rhost={} user={} msg={}",
                    request.client_ip,
                    request.username.escape_debug(),
                    reason.escape_debug()
                );
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "authentication failure\n",
                ))
            }
        }
    }

    async fn try_login(&self, request: &LoginRequest) -> Result<Value, String> {
        let now = self.clock_now();
        let userid = Userid::parse(&request.username).map_err(|e| e.to_string())?;
        let config = self.access().user_config();
        config
            .check_user_enabled(&userid, now)
            .map_err(|e| e.to_string())?;
        let verify_only = request.verify.is_some();
        if !self.renews_ticket(&request.password, &userid, verify_only, now)? {
            self.check_password(&userid, &request.password, request.client_ip)
                .await?;
        }
        let authid = Authid::from(userid.clone());
        if let Some((path, privs)) = &request.verify {
            let privs: Vec<&str> = corral_core::access::split_list(privs).collect();
            if !config.check(&authid, path, &privs, false) {
                return Err(format!("no permission ({path}, {})", privs.join(",")));
            }
            return Ok(json!({ "username": userid.as_str() }));
        }
        let ticket = self
            .issue_ticket(&userid, now)
            .await
            .map_err(|e| format!("cannot issue a ticket: {e}"))?;
        let csrf = self
            .access()
            .csrf_secret()
            .map_err(|e| e.detail().to_owned())?
            .token(userid.as_str(), now)
            .map_err(|e| e.to_string())?;
        Ok(json!({
            "CSRFPreventionToken": csrf,
            "cap": config.compute_api_permission(&authid),
            "ticket": ticket,
            "username": userid.as_str(),
        }))
    }

    /// A ticket for `userid` at `now`, signed where [`Offload`](crate::offload::Offload) says with the key
    /// [`AccessFiles::signing_key`](crate::access::AccessFiles::signing_key) gives (renewing the
    /// pair first when due or broken).
    async fn issue_ticket(&self, userid: &Userid, now: UnixTime) -> Result<String, AuthKeyError> {
        let key = self.access().signing_key(now, Quorum::Quorate).await?;
        let userid = userid.as_str().to_owned();
        let digest = self.settings().sign_digest;
        self.offload()
            .run("ticket signing", move || {
                ticket::sign(&userid, now, &key, digest)
            })
            .await
            .map_err(|e| AuthKeyError::Task(e.0))?
            .map_err(AuthKeyError::from)
    }

    /// Whether `password` is a valid ticket at `now` that may be renewed for `userid` (its
    /// own, or root@pam's; in verify mode its own only, as Proxmox's `verify_auth`); an invalid
    /// ticket is just a wrong password.
    fn renews_ticket(
        &self,
        password: &str,
        userid: &Userid,
        verify_only: bool,
        now: UnixTime,
    ) -> Result<bool, String> {
        if !password.starts_with("PVE:") {
            return Ok(false);
        }
        let verdict = self
            .access()
            .verify_with_reload(|keys| ticket::verify(password, keys, now, Quorum::Quorate))
            .map_err(|e| e.detail().to_owned())?;
        match verdict {
            Ok(verified) if verified.userid == userid.as_str() => Ok(true),
            Ok(verified) if verified.userid == "root@pam" && !verify_only => Ok(true),
            Ok(_) => Err("ticket user mismatch".to_owned()),
            Err(_) => Ok(false),
        }
    }

    /// The realm's plugin checks the password.
    async fn check_password(
        &self,
        userid: &Userid,
        password: &str,
        client_ip: IpAddr,
    ) -> Result<(), String> {
        let access = self.access();
        let realm_name = userid.realm();
        let domains = access.domains_for_login()?;
        let realm = domains
            .realm(realm_name)
            .ok_or_else(|| format!("no such realm '{realm_name}'"))?;
        match realm.kind.as_str() {
            "pve" => {
                let hash = access.shadow()?.hash(userid).map(str::to_owned);
                let password = password.to_owned();
                // SHA-crypt is thousands of hash rounds (up to 999,999,999 with `rounds=`): off
                // the event loop.
                let outcome = self
                    .offload()
                    .run("password check", move || {
                        corral_core::password::verify_entry(&password, hash.as_deref())
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                outcome.map_err(|e| e.to_string())?;
            }
            "pam" => {
                let user = userid.name().to_owned();
                let password = password.to_owned();
                let host = client_ip.to_string();
                // libpam blocks (and pam_unix sleeps ~2 s on failure): off the event loop.
                let outcome = self
                    .offload()
                    .run("PAM", move || {
                        pam::authenticate_from(pam::PAM_SERVICE, &user, &password, Some(&host))
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                outcome.map_err(|e| e.to_string())?;
            }
            other => {
                return Err(format!(
                    "realm type '{other}' (realm '{realm_name}') is not supported by corral yet"
                ));
            }
        }
        if realm.tfa.is_some() {
            return Err(format!(
                "realm '{realm_name}' requires a second factor, which corral cannot check yet"
            ));
        }
        if access.tfa()?.has_second_factor(userid) {
            return Err(format!(
                "user '{userid}' has second factors in tfa.cfg, which corral cannot check yet; \
                 password-only login is refused"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use corral_core::api::Role;
    use corral_core::auth::AUTHKEY_LIFETIME;
    use corral_core::auth::ticket::SignDigest;
    use corral_core::http::api::VersionInfo;

    use super::*;
    use crate::access::{AccessFiles, DOMAINS_CFG, SHADOW_CFG, USER_CFG};
    use crate::api::ApiSettings;
    use crate::authkey::{self, AUTHKEY_PUBLIC_OLD};
    use crate::clock::{ManualClock, WallClock};
    use crate::files::{Files, MemFs, Root};

    /// 2026-11-24T00:00:00Z.
    const START: i64 = 1_795_478_400;
    const PASSWORD: &str = "correct horse battery";

    fn pvedaemon(files: &MemFs, clock: Arc<ManualClock>) -> ApiService {
        pvedaemon_with_ttl(files, clock, crate::access::CACHE_TTL)
    }

    /// pvedaemon re-reading its files at most every `ttl`.
    fn pvedaemon_with_ttl(files: &MemFs, clock: Arc<ManualClock>, ttl: Duration) -> ApiService {
        let settings = ApiSettings {
            role: Role::Daemon,
            node: "pve1".to_owned(),
            version: VersionInfo {
                version: "9.2.11".to_owned(),
                release: "9.2".to_owned(),
                repoid: "test".to_owned(),
            },
            unauthorized_delay: Duration::ZERO,
            sign_digest: SignDigest::Sha256,
        };
        let access = AccessFiles::new(Rc::new(files.clone()), Root::default()).with_ttl(ttl);
        ApiService::new(settings, access, clock, None)
    }

    /// A node at START with its ticket keys, alice@pve in user.cfg and her PASSWORD hashed
    /// with `salt` (crypt's `$5$…$` setting) in shadow.cfg.
    fn node_with_alice(salt: &str) -> (Arc<ManualClock>, MemFs) {
        let clock = Arc::new(ManualClock::new(UnixTime(START)));
        let files = MemFs::new(clock.clone());
        authkey::ensure_keys(&files, &Root::default()).expect("keys");
        files.insert(USER_CFG, "user:alice@pve:1:0:::\n", 0o640);
        let hash = corral_core::password::crypt(PASSWORD, salt).expect("hash");
        files.insert(SHADOW_CFG, format!("alice@pve:{hash}:\n"), 0o600);
        (clock, files)
    }

    /// pvedaemon's runtime: one thread, with timers.
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn request(password: &str) -> LoginRequest {
        LoginRequest {
            username: "alice@pve".to_owned(),
            password: password.to_owned(),
            verify: None,
            client_ip: "192.0.2.7".parse().expect("address"),
        }
    }

    /// Finding D: the first login after 24 h hashes a slow password, makes a new RSA key pair
    /// and signs; meanwhile another task on pvedaemon's only thread keeps running.
    #[test]
    fn a_login_does_not_stall_other_requests_on_the_daemons_thread() {
        // Many rounds: a hash that takes a while to check, as `rounds=` allows.
        let (clock, files) = node_with_alice("$5$rounds=40000$saltsalt$");
        clock.advance(AUTHKEY_LIFETIME);
        let api = pvedaemon(&files, clock.clone());

        let runtime = runtime();
        let (reply, took, longest_stall) = runtime.block_on(async {
            let done = Arc::new(AtomicBool::new(false));
            let ticker = tokio::spawn({
                let done = Arc::clone(&done);
                async move {
                    let mut longest = Duration::ZERO;
                    while !done.load(Ordering::Relaxed) {
                        let before = Instant::now();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        longest = longest.max(before.elapsed());
                    }
                    longest
                }
            });
            // Let the ticker start first.
            tokio::task::yield_now().await;
            let start = Instant::now();
            let reply = api.login(request(PASSWORD)).await;
            let took = start.elapsed();
            done.store(true, Ordering::Relaxed);
            (reply, took, ticker.await.expect("ticker"))
        });
        let reply = reply.expect("logged in");
        assert!(
            files.is_file(std::path::Path::new(AUTHKEY_PUBLIC_OLD)),
            "rotated"
        );
        let keys = api.access().public_keys().expect("keys");
        let ticket = reply["ticket"].as_str().expect("ticket");
        let verified = ticket::verify(ticket, &keys, clock.now(), Quorum::Quorate);
        assert_eq!(verified.expect("valid").userid, "alice@pve");
        assert!(
            longest_stall < took / 2,
            "the event loop stalled {longest_stall:?} during a login of {took:?}"
        );
    }

    #[test]
    fn a_wrong_password_is_checked_off_the_loop_and_refused() {
        let (clock, files) = node_with_alice("$5$saltsalt$");
        let api = pvedaemon(&files, clock);
        let runtime = runtime();
        let error = runtime
            .block_on(api.login(request("wrong")))
            .expect_err("refused");
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        let reply = runtime
            .block_on(api.login(request(PASSWORD)))
            .expect("right password");
        assert_eq!(reply["username"], "alice@pve");
    }

    /// A `domains.cfg` that exists but cannot be read may hide a realm's second-factor
    /// requirement: no password login, rather than the default realms.
    #[test]
    fn an_unreadable_domains_cfg_refuses_password_logins() {
        let (clock, files) = node_with_alice("$5$saltsalt$");
        files.insert(
            DOMAINS_CFG,
            b"pve: pve\n\tcomment B\xe9la\n\ttfa type=totp\n".to_vec(),
            0o640,
        );
        let api = pvedaemon_with_ttl(&files, clock, Duration::ZERO);
        let runtime = runtime();
        let error = runtime
            .block_on(api.login(request(PASSWORD)))
            .expect_err("refused");
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        // Also when a good copy was read before: the edit may have added the requirement.
        files.insert(DOMAINS_CFG, b"pve: pve\n\tcomment fine\n".to_vec(), 0o640);
        runtime
            .block_on(api.login(request(PASSWORD)))
            .expect("a readable file lets the login in");
        files.insert(
            DOMAINS_CFG,
            b"pve: pve\n\ttfa type=totp \xe9\n".to_vec(),
            0o640,
        );
        let error = runtime
            .block_on(api.login(request(PASSWORD)))
            .expect_err("refused again");
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
    }

    /// Finding C in pvedaemon: a ticket renewed (sent as the password) right after the rotation
    /// its login caused is accepted, however long the keys are cached.
    #[test]
    fn a_ticket_from_the_login_that_rotated_renews_at_once() {
        let (clock, files) = node_with_alice("$5$saltsalt$");
        let api = pvedaemon(&files, clock.clone());
        let runtime = runtime();
        // Keys cached before the rotation is due.
        api.access().public_keys().expect("keys");
        clock.advance(AUTHKEY_LIFETIME);
        let reply = runtime
            .block_on(api.login(request(PASSWORD)))
            .expect("login");
        let ticket = reply["ticket"].as_str().expect("ticket").to_owned();
        let renewed = runtime
            .block_on(api.login(request(&ticket)))
            .expect("the fresh ticket renews");
        assert_eq!(renewed["username"], "alice@pve");
    }
}
