//! `POST /access/ticket` in pvedaemon: password (or ticket) check, ticket and CSRF token.
//!
//! Proxmox's `create_ticket` / `authenticate_user` (pve-access-control `AccessControl.pm`,
//! `API2/AccessControl.pm`): the user must exist, be enabled and not expired; a `password`
//! that is a valid ticket of the same user (or of root@pam) renews it; otherwise the realm's
//! plugin checks the password (`pve`: `priv/shadow.cfg`; `pam`: PAM service
//! `proxmox-ve-auth`). Every failure is one 401 `authentication failure` for the client, and a
//! log line with the client address and the real reason.

use std::net::IpAddr;

use corral_core::access::{Authid, Userid};
use corral_core::api;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket;
use corral_core::http::ApiError;
use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{ApiService, RunContext};
use crate::authkey;
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
        if !self.renews_ticket(&request.password, &userid, verify_only)? {
            self.check_password(&userid, &request.password, request.client_ip)
                .await?;
        }
        let authid = Authid::parse(userid.as_str()).map_err(|e| e.to_string())?;
        if let Some((path, privs)) = &request.verify {
            let privs: Vec<&str> = corral_core::access::split_list(privs).collect();
            if !config.check(&authid, path, &privs, false) {
                return Err(format!("no permission ({path}, {})", privs.join(",")));
            }
            return Ok(json!({ "username": userid.as_str() }));
        }
        let access = self.access();
        let ticket = authkey::issue_ticket(
            access.files(),
            access.root(),
            userid.as_str(),
            now,
            Quorum::Quorate,
            self.settings().sign_digest,
        )
        .map_err(|e| format!("cannot issue a ticket: {e}"))?;
        let csrf = access
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

    /// Whether `password` is a valid ticket that may be renewed for `userid` (its own, or
    /// root@pam's; in verify mode its own only, as Proxmox's `verify_auth`); an invalid ticket
    /// is just a wrong password.
    fn renews_ticket(
        &self,
        password: &str,
        userid: &Userid,
        verify_only: bool,
    ) -> Result<bool, String> {
        if !password.starts_with("PVE:") {
            return Ok(false);
        }
        let keys = self
            .access()
            .public_keys()
            .map_err(|e| e.detail().to_owned())?;
        match ticket::verify(password, &keys, self.clock_now(), Quorum::Quorate) {
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
        let domains = access.domains();
        let realm = domains
            .realm(realm_name)
            .ok_or_else(|| format!("no such realm '{realm_name}'"))?;
        match realm.kind.as_str() {
            "pve" => {
                let shadow = access.shadow()?;
                corral_core::password::verify_entry(password, shadow.hash(userid))
                    .map_err(|e| e.to_string())?;
            }
            "pam" => {
                let user = userid.name().to_owned();
                let password = password.to_owned();
                let host = client_ip.to_string();
                // libpam blocks (and pam_unix sleeps ~2 s on failure): off the event loop.
                let outcome = tokio::task::spawn_blocking(move || {
                    pam::authenticate_from(pam::PAM_SERVICE, &user, &password, Some(&host))
                })
                .await
                .map_err(|e| format!("PAM task failed: {e}"))?;
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
