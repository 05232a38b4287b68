//! Loading one generation of pveproxy settings: `/etc/default/pveproxy`, the certificate pair,
//! and the TLS config built from both. Start-up and every reload (SIGHUP) go through [`load`];
//! a reload that fails keeps the previous generation serving.

use std::sync::Arc;

use corral_core::config::{ConfigReport, ProxyConfig, Severity, proxy};
use corral_core::http::cert::{CertPaths, choose_certificate};

use crate::certs::{CertError, load_certified_key};
use crate::clock::{RustlsTime, WallClock};
use crate::files::{CONFIG_LEN_MAX, Files, ReadError, Root};
use crate::proxy::ProxySettings;
use crate::tls::{self, TlsConfigError};

/// Where pveproxy's config file lives, under the node's root.
pub const CONFIG_PATH: &str = "/etc/default/pveproxy";

/// A loaded generation, with what was said about the file and which certificate was chosen.
#[derive(Debug)]
pub struct Loaded {
    pub settings: ProxySettings,
    pub config: ProxyConfig,
    pub report: ConfigReport,
    pub cert: CertPaths,
}

/// Why settings could not be loaded; each names the file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path} is not usable:\n{errors}")]
    Config { path: String, errors: String },
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

/// `/etc/pve/local`, which pmxcfs links to this node's directory; corral resolves it itself, so
/// several nodes can share one `/etc/pve`.
pub fn node_dir(node: &str) -> String {
    format!("/etc/pve/nodes/{node}")
}

/// Reads the config and key material of `node` under `root`.
pub fn load(
    files: &dyn Files,
    root: &Root,
    node: &str,
    clock: Arc<dyn WallClock>,
) -> Result<Loaded, LoadError> {
    let config_path = root.path(CONFIG_PATH);
    let bytes = files
        .read(&config_path, CONFIG_LEN_MAX)?
        .unwrap_or_default();
    let report = proxy::parse(&bytes);
    let Some(config) = report.config.clone() else {
        let path = config_path.display().to_string();
        return Err(LoadError::Config {
            path: path.clone(),
            errors: error_lines(&path, &report),
        });
    };
    let resolve = |path: &str| root.path(path);
    let is_file = |path: &str| files.is_file(&resolve(path));
    let cert = choose_certificate(&node_dir(node), config.tls_key_file.as_deref(), &is_file);
    let policy = &config.tls.policy;
    let certified = load_certified_key(files, &resolve, &cert, &tls::crypto_provider(policy))?;
    let tls = tls::server_config(policy, certified, Arc::new(RustlsTime(clock)))?;
    let settings = ProxySettings {
        acl: config.acl.clone(),
        tls: Some(tls),
        compression: config.compression,
        real_ip_header: config
            .proxy_real_ip_header
            .as_deref()
            .and_then(|name| http::HeaderName::from_bytes(name.as_bytes()).ok()),
        real_ip_allow_from: config.proxy_real_ip_allow_from.clone(),
    };
    Ok(Loaded {
        settings,
        config,
        report,
        cert,
    })
}

/// `path:LINE: error: message` for each error, as `pveproxy check-config` prints them.
fn error_lines(path: &str, report: &ConfigReport) -> String {
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error);
    errors
        .map(|d| d.located(path))
        .collect::<Vec<_>>()
        .join("\n")
}
