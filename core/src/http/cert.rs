//! Which certificate pveproxy serves.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §3 "Certificate choice" (PP `init`).
//! Checked once per start or reload; what io does with an unreadable or mismatched pair is its
//! business (corral refuses to start; Proxmox crash-loops its workers).

/// The certificate chain and key files to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    pub cert: String,
    pub key: String,
    /// Whether this is the custom (`pveproxy-ssl.*`) pair rather than the cluster-issued one.
    pub custom: bool,
}

/// Proxmox: `<node_dir>/pveproxy-ssl.pem` with TLS_KEY_FILE (if set) else
/// `<node_dir>/pveproxy-ssl.key` when BOTH exist, else `<node_dir>/pve-ssl.pem` +
/// `<node_dir>/pve-ssl.key` (TLS_KEY_FILE never moves the default key). `exists` is asked by the
/// caller's IO; core does none. An empty TLS_KEY_FILE counts as unset.
pub fn choose_certificate(
    node_dir: &str,
    tls_key_file: Option<&str>,
    exists: &dyn Fn(&str) -> bool,
) -> CertPaths {
    let dir = node_dir.trim_end_matches('/');
    let custom_cert = format!("{dir}/pveproxy-ssl.pem");
    let custom_key = match tls_key_file {
        Some(path) if !path.is_empty() => path.to_owned(),
        _ => format!("{dir}/pveproxy-ssl.key"),
    };
    if exists(&custom_cert) && exists(&custom_key) {
        return CertPaths {
            cert: custom_cert,
            key: custom_key,
            custom: true,
        };
    }
    CertPaths {
        cert: format!("{dir}/pve-ssl.pem"),
        key: format!("{dir}/pve-ssl.key"),
        custom: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "/etc/pve/nodes/pve1";

    fn choose(present: &[&str], tls_key_file: Option<&str>) -> CertPaths {
        let exists = |path: &str| {
            present
                .iter()
                .any(|p| format!("{DIR}/{p}") == path || *p == path)
        };
        choose_certificate(DIR, tls_key_file, &exists)
    }

    fn default_pair() -> CertPaths {
        CertPaths {
            cert: format!("{DIR}/pve-ssl.pem"),
            key: format!("{DIR}/pve-ssl.key"),
            custom: false,
        }
    }

    #[test]
    fn custom_pair_only_when_both_exist() {
        let custom = CertPaths {
            cert: format!("{DIR}/pveproxy-ssl.pem"),
            key: format!("{DIR}/pveproxy-ssl.key"),
            custom: true,
        };
        assert_eq!(
            choose(&["pveproxy-ssl.pem", "pveproxy-ssl.key"], None),
            custom
        );
        assert_eq!(choose(&["pveproxy-ssl.pem"], None), default_pair());
        assert_eq!(choose(&["pveproxy-ssl.key"], None), default_pair());
        assert_eq!(choose(&[], None), default_pair());
        // The default pair is chosen whether or not its files exist: io reports them missing.
        assert_eq!(
            choose(&["pve-ssl.pem", "pve-ssl.key"], None),
            default_pair()
        );
    }

    #[test]
    fn tls_key_file_moves_the_custom_key() {
        let key = "/etc/pveproxy/custom.key";
        let custom = CertPaths {
            cert: format!("{DIR}/pveproxy-ssl.pem"),
            key: key.to_owned(),
            custom: true,
        };
        assert_eq!(choose(&["pveproxy-ssl.pem", key], Some(key)), custom);
        // The usual key file no longer counts.
        assert_eq!(
            choose(&["pveproxy-ssl.pem", "pveproxy-ssl.key"], Some(key)),
            default_pair()
        );
        assert_eq!(choose(&[key], Some(key)), default_pair());
        // An empty value is unset.
        assert!(choose(&["pveproxy-ssl.pem", "pveproxy-ssl.key"], Some("")).custom);
    }

    #[test]
    fn trailing_slash_in_node_dir() {
        let paths = choose_certificate("/etc/pve/local/", None, &|_| false);
        assert_eq!(paths.cert, "/etc/pve/local/pve-ssl.pem");
        assert_eq!(paths.key, "/etc/pve/local/pve-ssl.key");
    }
}
