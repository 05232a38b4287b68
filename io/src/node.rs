//! How one node's two APIs are put together from the seams: pvedaemon's and pveproxy's
//! [`ApiService`], written once for the daemons (`nodes/`) and the simulator (`sim/`), so the
//! simulator runs the very wiring the binaries run, with its own network, clock, files, host
//! and offload.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use crate::access::AccessFiles;
use crate::api::{ApiService, ApiSettings};
use crate::clock::WallClock;
use crate::cluster::Peers;
use crate::files::{Files, Root};
use crate::forward::DaemonClient;
use crate::host::Host;
use crate::net::Connector;
use crate::offload::Offload;

/// The seams a node's daemons run on.
#[derive(Clone)]
pub struct NodeEnv {
    pub files: Rc<dyn Files>,
    pub root: Root,
    pub clock: Arc<dyn WallClock>,
    pub net: Rc<dyn Connector>,
    /// Makes the machine's figures (one reader per API, each with its own CPU sampler).
    pub host: Rc<dyn Fn() -> Box<dyn Host>>,
    pub offload: Offload,
}

impl std::fmt::Debug for NodeEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeEnv")
            .field("root", &self.root)
            .field("offload", &self.offload)
            .finish_non_exhaustive()
    }
}

impl NodeEnv {
    fn api(&self, settings: ApiSettings, daemon: Option<DaemonClient>) -> ApiService {
        let access = AccessFiles::new(Rc::clone(&self.files), self.root.clone());
        ApiService::new(settings, access, Arc::clone(&self.clock), daemon)
            .with_host((self.host)())
            .with_offload(self.offload)
    }

    /// pvedaemon's API: runs every call itself, forwards nothing.
    pub fn pvedaemon_api(&self, settings: ApiSettings) -> ApiService {
        self.api(settings, None)
    }

    /// pveproxy's API: runs the unprotected calls, forwards the protected ones to the
    /// pvedaemon at `daemon` and the calls for other nodes to them, on `port` (this node's
    /// own: a cluster's nodes share it).
    pub fn pveproxy_api(&self, settings: ApiSettings, daemon: SocketAddr, port: u16) -> ApiService {
        let client = DaemonClient::new(daemon, Rc::clone(&self.net));
        let peers = Peers::new(
            &settings.node,
            port,
            Rc::clone(&self.net),
            Rc::clone(&self.files),
            self.root.clone(),
        )
        .with_clock(Arc::clone(&self.clock));
        self.api(settings, Some(client)).with_peers(Rc::new(peers))
    }
}

/// Probes the other nodes for as long as pveproxy serves (spawn it next to the server and
/// abort it with it); returns at once for an API without peers.
pub async fn probe_peers(api: Rc<ApiService>) {
    let Some(peers) = api.peers().cloned() else {
        return;
    };
    peers.run_probes(move || api.membership()).await;
}
