//! How one node's two APIs are put together from the seams: pvedaemon's and pveproxy's
//! [`ApiService`], written once for the daemons (`nodes/`) and the simulator (`sim/`), so the
//! simulator runs the very wiring the binaries run, with its own network, clock, files, host
//! and offload.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use corral_core::api::Role;
use corral_core::auth::ticket::SignDigest;
use corral_core::http::api::VersionInfo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;

use crate::access::AccessFiles;
use crate::access_log::{AccessLog, NullLog};
use crate::api::{ApiService, ApiSettings, UNAUTHORIZED_DELAY};
use crate::clock::WallClock;
use crate::cluster::Peers;
use crate::files::{Files, Root};
use crate::forward::DaemonClient;
use crate::host::Host;
use crate::net::{Connector, Listener};
use crate::offload::Offload;
use crate::proxy::{ProxyServer, ProxySettings};

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
    fn pvedaemon_api(&self, settings: ApiSettings) -> ApiService {
        self.api(settings, None)
    }

    /// pveproxy's API: runs the unprotected calls, forwards the protected ones to the
    /// pvedaemon at `daemon` and the calls for other nodes to them, on `port` (this node's
    /// own: a cluster's nodes share it).
    fn pveproxy_api(&self, settings: ApiSettings, daemon: SocketAddr, port: u16) -> ApiService {
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

    /// pvedaemon's server on `listener`: Proxmox's `trusted_env` (no host ACL, no TLS, the
    /// client address from pveproxy) and no access log.
    pub fn pvedaemon_server<L>(&self, listener: L, settings: ApiSettings) -> ProxyServer<L>
    where
        L: Listener,
        L::Stream: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let api = Rc::new(self.pvedaemon_api(settings));
        let trusted = ProxySettings::trusted_daemon();
        ProxyServer::new(
            listener,
            trusted,
            api,
            Arc::clone(&self.clock),
            Rc::new(NullLog),
        )
    }

    /// pveproxy's server on `listener` with `proxy` (from `/etc/default/pveproxy`),
    /// forwarding protected calls to the pvedaemon at `daemon` and calls for other nodes to
    /// them on the listener's port; and the task probing the other nodes, already started:
    /// abort it when the server ends.
    pub fn pveproxy_server<L>(
        &self,
        listener: L,
        proxy: ProxySettings,
        settings: ApiSettings,
        daemon: SocketAddr,
        log: Rc<dyn AccessLog>,
    ) -> std::io::Result<(ProxyServer<L>, JoinHandle<()>)>
    where
        L: Listener,
        L::Stream: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let port = listener.local_addr()?.port();
        let api = Rc::new(self.pveproxy_api(settings, daemon, port));
        let probes = tokio::task::spawn_local(probe_peers(Rc::clone(&api)));
        let server = ProxyServer::new(listener, proxy, api, Arc::clone(&self.clock), log);
        Ok((server, probes))
    }
}

/// A daemon's API settings as Proxmox runs them: the 3 s 401 delay, tickets signed with
/// PKCS#1 v1.5 and SHA-256.
pub fn api_settings(role: Role, node: &str, version: VersionInfo) -> ApiSettings {
    ApiSettings {
        role,
        node: node.to_owned(),
        version,
        unauthorized_delay: UNAUTHORIZED_DELAY,
        sign_digest: SignDigest::Sha256,
    }
}

/// Probes the other nodes for as long as pveproxy serves (spawn it next to the server and
/// abort it with it); returns at once for an API without peers.
async fn probe_peers(api: Rc<ApiService>) {
    let Some(peers) = api.peers().cloned() else {
        return;
    };
    peers.run_probes(move || api.membership()).await;
}
