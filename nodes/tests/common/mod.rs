//! Set-up the process tests share (`daemon.rs`, `proxmoxer.rs`).

use std::net::TcpListener;
use std::path::PathBuf;

/// A fresh node root `<temp>/corral-<name>-<pid>` with node pve1's certificate and key, as
/// `pvecm updatecerts` makes them.
pub fn node_root_with_certificate(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("corral-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let node_dir = root.join("etc/pve/nodes/pve1");
    std::fs::create_dir_all(&node_dir).expect("temp dir is writable");
    let certified = rcgen::generate_simple_self_signed(vec!["pve1".to_owned()]).expect("rcgen");
    std::fs::write(node_dir.join("pve-ssl.pem"), certified.cert.pem()).expect("write cert");
    let key = certified.signing_key.serialize_pem();
    std::fs::write(node_dir.join("pve-ssl.key"), key).expect("write key");
    root
}

/// A loopback port nothing listens on (the moment this returns).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback bind");
    listener.local_addr().expect("bound").port()
}

pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
