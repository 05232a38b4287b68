//! One simulated Proxmox VE node: pvedaemon and pveproxy, wired from corral-io's pieces as
//! the real binaries wire them (`corral_io::node::NodeEnv`, shared with `nodes/`), with the
//! simulator's seams: [`TurmoilNet`] for sockets, [`SimClock`] for wall time (rustls included),
//! [`NodeFiles`] over `MemFs`, [`FixedHost`] for `/proc`, and password hashing and ticket
//! signing inline rather than on threads.
//!
//! What differs from the binaries, and why: no privilege drop, pid files or signal handlers
//! (nothing to drop or signal in a simulation); pvedaemon's `/etc/pve/priv` ownership check is
//! the real file system's (a `MemFs` has no owners); the access log is kept in memory.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use corral_core::api::Role;
use corral_core::http::api::VersionInfo;
use corral_io::access_log::MemoryLog;
use corral_io::authkey;
use corral_io::clock::WallClock;
use corral_io::files::{Files, Root};
use corral_io::net::Network;
use corral_io::node::{self, NodeEnv};
use corral_io::offload::Offload;
use corral_io::proxy_settings;

use crate::client::PVEPROXY_PORT;
use crate::files::NodeFiles;
use crate::host::FixedHost;
use crate::trace::Trace;
use crate::{SimClock, TurmoilNet};

/// pvedaemon's address, as Proxmox fixes it: turmoil binds and connects loopback within a host.
pub const DAEMON_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 85);

/// pveproxy's address: turmoil 0.7 binds only wildcard or loopback addresses; peers still see
/// the host's own address.
pub const PVEPROXY_ADDR: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PVEPROXY_PORT);

/// What the simulated nodes say they are.
pub fn version() -> VersionInfo {
    VersionInfo {
        version: "9.2.11".to_owned(),
        release: "9.2".to_owned(),
        repoid: "corral-sim".to_owned(),
    }
}

/// Everything one node needs, kept across its crashes (its disks and its log).
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub name: String,
    pub files: NodeFiles,
    pub access_log: MemoryLog,
    pub trace: Trace,
}

/// Runs the node until the simulation ends or crashes it: pvedaemon on [`DAEMON_ADDR`] in the
/// background, pveproxy (and its peer probes) on [`PVEPROXY_ADDR`].
pub async fn run(spec: NodeSpec) -> turmoil::Result {
    let clock: Arc<dyn WallClock> = Arc::new(SimClock);
    let files: Rc<dyn Files> = Rc::new(spec.files.clone());
    // `pveN`: its machine differs from the others' (see FixedHost).
    let number = crate::client::node_number(&spec.name).map_or(0, usize::from);
    let env = NodeEnv {
        files: Rc::clone(&files),
        root: Root::default(),
        clock: Arc::clone(&clock),
        net: Rc::new(TurmoilNet),
        host: Rc::new(move || Box::new(FixedHost::of_node(number))),
        offload: Offload::Inline,
    };

    // pvedaemon (nodes/src/pvedaemon.rs `serve`).
    authkey::ensure_keys(&*files, &env.root).map_err(|e| format!("{}: {e}", spec.name))?;
    let listener = TurmoilNet.bind(DAEMON_ADDR).await?;
    let daemon = env.pvedaemon_server(
        listener,
        node::api_settings(Role::Daemon, &spec.name, version()),
    );
    tokio::task::spawn_local(daemon.run());

    // pveproxy (nodes/src/daemon.rs `serve`).
    let loaded = proxy_settings::load(&*files, &env.root, &spec.name, Arc::clone(&clock))
        .map_err(|e| format!("{}: {e}", spec.name))?;
    let listener = TurmoilNet.bind(PVEPROXY_ADDR).await?;
    let settings = node::api_settings(Role::Proxy, &spec.name, version());
    let log = Rc::new(spec.access_log.clone());
    let (server, probes) =
        env.pveproxy_server(listener, loaded.settings, settings, DAEMON_ADDR, log)?;
    spec.trace
        .event(&spec.name, "pvedaemon and pveproxy started");
    server.run().await;
    probes.abort();
    Ok(())
}
