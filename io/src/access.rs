//! The access-control files a daemon reads on requests, kept parsed and re-read when they may
//! have changed: `user.cfg`, the ticket keys, the CSRF secret, `domains.cfg`, and (pvedaemon
//! only) `priv/token.cfg`, `priv/shadow.cfg` and `priv/tfa.cfg`.
//!
//! Each file is re-read at most once per [`AccessFiles::ttl`] (default [`CACHE_TTL`]), so an
//! edit (`corral user add`, a key rotation) takes effect within that time without a restart;
//! Proxmox's pmxcfs gives the same effect through its version counter. A file that cannot be
//! read keeps the last good copy and is logged.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use corral_core::access::{Domains, Parsed, Shadow, TfaConfig, TokenSecrets, UserConfig};
use corral_core::auth::csrf::CsrfSecret;
use corral_core::auth::keys::PublicKeys;
use tokio::time::Instant;

use crate::authkey;
use crate::files::{self, CONFIG_LEN_MAX, Files, Root};

/// How stale a parsed file may get.
pub const CACHE_TTL: Duration = Duration::from_secs(1);

/// The files, under the node's root, as Proxmox names them.
pub const USER_CFG: &str = "/etc/pve/user.cfg";
pub const DOMAINS_CFG: &str = "/etc/pve/domains.cfg";
pub const TOKEN_CFG: &str = "/etc/pve/priv/token.cfg";
pub const SHADOW_CFG: &str = "/etc/pve/priv/shadow.cfg";
pub const TFA_CFG: &str = "/etc/pve/priv/tfa.cfg";
pub const TIMEZONE: &str = "/etc/timezone";

/// Why a request could not be authenticated: what the client is told (Proxmox's messages),
/// and the detail that goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    message: &'static str,
    detail: String,
}

impl AuthFailure {
    pub fn new(message: &'static str, detail: impl Into<String>) -> Self {
        AuthFailure {
            message,
            detail: detail.into(),
        }
    }

    /// Proxmox's answer to every credential that does not check out: `authentication
    /// failure`, whatever the reason (which only the log gets).
    pub fn denied(detail: impl Into<String>) -> Self {
        AuthFailure::new("authentication failure", detail)
    }

    /// `No ticket`, `authentication failure`, …: the status line's text.
    pub fn message(&self) -> &'static str {
        self.message
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// One cached, parsed file.
#[derive(Debug)]
struct Cached<T> {
    value: Option<Rc<T>>,
    read_at: Option<Instant>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            value: None,
            read_at: None,
        }
    }
}

impl<T> Cached<T> {
    /// The cached value while fresh; otherwise `load` again (a failed load keeps the old value).
    fn get<E: std::fmt::Display>(
        &mut self,
        ttl: Duration,
        load: impl FnOnce() -> Result<T, E>,
    ) -> Result<Rc<T>, E> {
        let fresh = self.read_at.is_some_and(|at| at.elapsed() < ttl);
        if let (true, Some(value)) = (fresh, &self.value) {
            return Ok(Rc::clone(value));
        }
        match load() {
            Ok(value) => {
                let value = Rc::new(value);
                self.value = Some(Rc::clone(&value));
                self.read_at = Some(Instant::now());
                Ok(value)
            }
            Err(error) => match &self.value {
                Some(old) => {
                    tracing::warn!("keeping the last good copy: {error}");
                    self.read_at = Some(Instant::now());
                    Ok(Rc::clone(old))
                }
                None => Err(error),
            },
        }
    }
}

/// The access files of one node.
#[derive(Debug)]
pub struct AccessFiles {
    files: Rc<dyn Files>,
    root: Root,
    ttl: Duration,
    user: RefCell<Cached<UserConfig>>,
    keys: RefCell<Cached<PublicKeys>>,
    csrf: RefCell<Cached<CsrfSecret>>,
    domains: RefCell<Cached<Domains>>,
    tokens: RefCell<Cached<TokenSecrets>>,
    timezone: RefCell<Cached<String>>,
}

impl AccessFiles {
    pub fn new(files: Rc<dyn Files>, root: Root) -> Self {
        AccessFiles {
            files,
            root,
            ttl: CACHE_TTL,
            user: RefCell::default(),
            keys: RefCell::default(),
            csrf: RefCell::default(),
            domains: RefCell::default(),
            tokens: RefCell::default(),
            timezone: RefCell::default(),
        }
    }

    /// Re-read files at most this often (tests use zero).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn files(&self) -> &dyn Files {
        &*self.files
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    fn read_text(&self, absolute: &str) -> Result<Option<String>, String> {
        let path = self.root.path(absolute);
        files::read_text(&*self.files, &path, CONFIG_LEN_MAX).map_err(|e| e.to_string())
    }

    /// `user.cfg`; a missing file means only root@pam. Malformed lines are logged and skipped.
    pub fn user_config(&self) -> Rc<UserConfig> {
        self.parsed(
            &self.user,
            USER_CFG,
            UserConfig::parse,
            "only root@pam can log in",
        )
    }

    /// A file read into `T` through its parser, its warnings logged with the file's name; when
    /// it cannot be read (and was never read before), what the parser makes of no file, and an
    /// error saying `consequence`.
    fn parsed<T>(
        &self,
        cache: &RefCell<Cached<T>>,
        absolute: &str,
        parse: fn(Option<&str>) -> Parsed<T>,
        consequence: &str,
    ) -> Rc<T> {
        let loaded = cache.borrow_mut().get(self.ttl, || {
            let text = self.read_text(absolute)?;
            let parsed = parse(text.as_deref());
            for warning in &parsed.warnings {
                tracing::warn!("{absolute}: {warning}");
            }
            Ok::<_, String>(parsed.config)
        });
        loaded.unwrap_or_else(|error: String| {
            tracing::error!("{error}; {consequence}");
            Rc::new(parse(None).config)
        })
    }

    pub fn public_keys(&self) -> Result<Rc<PublicKeys>, AuthFailure> {
        self.keys
            .borrow_mut()
            .get(self.ttl, || {
                authkey::load_public_keys(&*self.files, &self.root)
            })
            .map_err(|e| AuthFailure::denied(e.to_string()))
    }

    pub fn csrf_secret(&self) -> Result<Rc<CsrfSecret>, AuthFailure> {
        self.csrf
            .borrow_mut()
            .get(self.ttl, || {
                authkey::load_csrf_secret(&*self.files, &self.root)
            })
            .map_err(|e| AuthFailure::denied(e.to_string()))
    }

    /// `domains.cfg`, with `pam` and `pve` always present.
    pub fn domains(&self) -> Rc<Domains> {
        self.parsed(
            &self.domains,
            DOMAINS_CFG,
            Domains::parse,
            "only the pam and pve realms exist",
        )
    }

    /// `priv/token.cfg` (pvedaemon only: root reads it).
    pub fn token_secrets(&self) -> Result<Rc<TokenSecrets>, String> {
        self.tokens.borrow_mut().get(self.ttl, || {
            let text = self.read_text(TOKEN_CFG)?;
            Ok(TokenSecrets::parse(text.as_deref()))
        })
    }

    /// `priv/shadow.cfg`, read on every login.
    pub fn shadow(&self) -> Result<Shadow, String> {
        let text = self.read_text(SHADOW_CFG)?;
        let parsed = Shadow::parse(text.as_deref());
        for warning in &parsed.warnings {
            tracing::warn!("{SHADOW_CFG}: {warning}");
        }
        Ok(parsed.config)
    }

    /// `priv/tfa.cfg`, read on every login; unreadable or malformed is an error (never "no TFA").
    pub fn tfa(&self) -> Result<TfaConfig, String> {
        let text = self.read_text(TFA_CFG)?;
        TfaConfig::parse(text.as_deref()).map_err(|e| format!("{TFA_CFG}: {e}"))
    }

    /// The host's time zone name (`/etc/timezone`), `UTC` when unset or unreadable.
    pub fn timezone(&self) -> Rc<String> {
        let loaded = self.timezone.borrow_mut().get(self.ttl, || {
            let text = self.read_text(TIMEZONE)?.unwrap_or_default();
            let name = text.trim();
            Ok::<_, String>(if name.is_empty() { "UTC" } else { name }.to_owned())
        });
        loaded.unwrap_or_else(|error| {
            tracing::warn!("{error}; reporting UTC");
            Rc::new("UTC".to_owned())
        })
    }
}
