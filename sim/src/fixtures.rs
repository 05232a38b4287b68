//! The cluster's key material, fixed and committed under `sim/fixtures/`, so fingerprints,
//! tickets and CSRF tokens are the same on every run: the cluster CA, each node's certificate
//! and key (up to [`NODES_MAX`] nodes, `pveN` at `10.0.0.N`), the ticket key pair, the CSRF
//! key, and `admin@pve` (password [`ADMIN_PASSWORD`]) with the Administrator role on `/`.
//!
//! `cargo test -p corral-sim --test fixtures -- --ignored` makes them anew (then commit them);
//! `sim/tests/fixtures.rs` checks on every run that they fit together.

use corral_core::cluster::corosync::{self, Member, Membership};

/// The most nodes a simulated cluster has (one certificate each).
pub const NODES_MAX: usize = 5;

/// The administrator the clients log in as.
pub const ADMIN: &str = "admin@pve";
/// Its password (its hash is in `shadow.cfg`).
pub const ADMIN_PASSWORD: &str = "corral-sim-admin";

/// The cluster CA (`/etc/pve/pve-root-ca.pem`), which clients trust.
pub const CA_PEM: &str = include_str!("../fixtures/pve-root-ca.pem");
/// `/etc/pve/priv/authkey.key`: signs tickets.
pub const AUTHKEY_KEY: &str = include_str!("../fixtures/authkey.key");
/// `/etc/pve/authkey.pub`: verifies them.
pub const AUTHKEY_PUB: &str = include_str!("../fixtures/authkey.pub");
/// `/etc/pve/pve-www.key`: keys the CSRF tokens.
pub const WWW_KEY: &str = include_str!("../fixtures/pve-www.key");
/// `/etc/pve/user.cfg`.
pub const USER_CFG: &str = include_str!("../fixtures/user.cfg");
/// `/etc/pve/priv/shadow.cfg`.
pub const SHADOW_CFG: &str = include_str!("../fixtures/shadow.cfg");

/// Each node's `pve-ssl.pem` and `pve-ssl.key`, `pve1` first.
const NODE_CERTS: [(&str, &str); NODES_MAX] = [
    (
        include_str!("../fixtures/nodes/pve1/pve-ssl.pem"),
        include_str!("../fixtures/nodes/pve1/pve-ssl.key"),
    ),
    (
        include_str!("../fixtures/nodes/pve2/pve-ssl.pem"),
        include_str!("../fixtures/nodes/pve2/pve-ssl.key"),
    ),
    (
        include_str!("../fixtures/nodes/pve3/pve-ssl.pem"),
        include_str!("../fixtures/nodes/pve3/pve-ssl.key"),
    ),
    (
        include_str!("../fixtures/nodes/pve4/pve-ssl.pem"),
        include_str!("../fixtures/nodes/pve4/pve-ssl.key"),
    ),
    (
        include_str!("../fixtures/nodes/pve5/pve-ssl.pem"),
        include_str!("../fixtures/nodes/pve5/pve-ssl.key"),
    ),
];

/// The certificate and key (PEM) of node `index` (0 for `pve1`); `None` beyond [`NODES_MAX`].
pub fn node_cert(index: usize) -> Option<(&'static str, &'static str)> {
    NODE_CERTS.get(index).copied()
}

/// The name of node `index` (0 for `pve1`).
pub fn node_name(index: usize) -> String {
    format!("pve{}", index + 1)
}

/// `corosync.conf` for `nodes` nodes, as `pvecm` writes it: `pveN` with nodeid N at
/// `10.0.0.N`.
pub fn corosync_conf(nodes: usize) -> String {
    corosync::render(&Membership {
        cluster_name: "sim".to_owned(),
        config_version: 1,
        nodes: (1..=nodes)
            .map(|n| Member {
                name: format!("pve{n}"),
                nodeid: u32::try_from(n).unwrap_or(u32::MAX),
                votes: 1,
                ring0_addr: format!("10.0.0.{n}"),
            })
            .collect(),
    })
}
