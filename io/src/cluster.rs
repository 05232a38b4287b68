//! pveproxy's view of the other nodes of its cluster: where each one is (`corosync.conf`'s
//! `ring0_addr`), whether it answers (core's [`PeerHealth`], fed by periodic probes), and the
//! pinned HTTPS pools that carry calls forwarded to it.
//!
//! Driving it: one [`Peers`] per pveproxy, on the server's thread. [`Peers::run_probes`] runs
//! for the server's lifetime (spawned next to it, aborted with it): it feeds the membership and
//! the probe results into the health machine, starts the probes it asks for, and sleeps until
//! its next deadline. Each probe is bounded by the machine's timeout, so at most one probe per
//! peer is ever in flight.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::cluster::corosync::{Member, Membership};
use corral_core::cluster::health::{HealthSettings, PeerHealth, ProbeOutcome};
use corral_core::http::Reply;
use http::Method;

use crate::clock::MonotonicClock;
use crate::files::{Files, Root};
use crate::forward::{Budget, Forward, NodeClients, SILENCE_MAX};
use crate::net::Connector;

/// What a probe asks for: world-readable on Proxmox and on corral, so a probe needs no
/// credentials and works against either.
pub const PROBE_PATH: &str = "/api2/json/access/domains";

/// How often the probe loop looks at `corosync.conf` for new or removed members when no probe
/// is due sooner.
const MEMBERSHIP_RECHECK: Duration = Duration::from_secs(1);

/// The other nodes, as one pveproxy reaches them.
#[derive(Debug)]
pub struct Peers {
    /// Every node's pveproxy listens on the same port (Proxmox: 8006).
    port: u16,
    connector: Rc<dyn Connector>,
    clients: NodeClients,
    health: RefCell<PeerHealth>,
    /// The health machine's time.
    clock: MonotonicClock,
}

/// Why a node's address is not known.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("not a member of the cluster ({})", crate::access::COROSYNC_CONF)]
    NotMember,
    #[error("no ring0_addr in {}", crate::access::COROSYNC_CONF)]
    NoAddress,
    #[error("hostname lookup '{host}' failed - {cause}")]
    Lookup { host: String, cause: std::io::Error },
}

impl Peers {
    /// `port` is this node's own pveproxy port, which all nodes of a cluster share.
    pub fn new(
        local: &str,
        port: u16,
        connector: Rc<dyn Connector>,
        files: Rc<dyn Files>,
        root: Root,
    ) -> Self {
        Peers {
            port,
            clients: NodeClients::new(Rc::clone(&connector), files, root),
            connector,
            health: RefCell::new(PeerHealth::new(local, HealthSettings::default())),
            clock: MonotonicClock::start(),
        }
    }

    /// TLS to the other nodes reads `clock` for the wall time instead of the system's.
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn crate::clock::WallClock>) -> Self {
        self.clients = self.clients.with_clock(clock);
        self
    }

    /// Runs `f` with the health machine, brought up to date with `membership` first.
    pub fn with_health<T>(&self, membership: &Membership, f: impl FnOnce(&PeerHealth) -> T) -> T {
        let mut health = self.health.borrow_mut();
        health.handle_membership(self.clock.now(), membership);
        f(&health)
    }

    /// The address of `node`'s pveproxy: its `ring0_addr`, looked up when it is a host name
    /// (Proxmox falls back to DNS the same way).
    pub async fn address(
        &self,
        membership: &Membership,
        node: &str,
    ) -> Result<SocketAddr, AddressError> {
        let member = membership.member(node).ok_or(AddressError::NotMember)?;
        let ip = self.ip_of(member).await?;
        Ok(SocketAddr::new(ip, self.port))
    }

    async fn ip_of(&self, member: &Member) -> Result<IpAddr, AddressError> {
        let host = member.ring0_addr.trim();
        if host.is_empty() {
            return Err(AddressError::NoAddress);
        }
        // `[fe80::1]` is how an IPv6 literal may be written in a URL.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse() {
            return Ok(ip);
        }
        // Bounded like every other phase of a forward: a hung resolver must not hold calls.
        let lookup = tokio::time::timeout(SILENCE_MAX, self.connector.resolve(host)).await;
        let cause = match lookup {
            Ok(Ok(ip)) => return Ok(ip),
            Ok(Err(cause)) => cause,
            Err(_) => std::io::Error::new(std::io::ErrorKind::TimedOut, "Connection timed out"),
        };
        Err(AddressError::Lookup {
            host: host.to_owned(),
            cause,
        })
    }

    /// Sends `request` to `node` at `addr` and returns its reply, or Proxmox's transport error.
    pub async fn forward(&self, node: &str, addr: SocketAddr, request: Forward) -> Reply {
        self.clients.send(node, addr, request).await
    }

    /// Probes the other nodes, for as long as the server runs. `membership` is asked each
    /// round (it is cached and re-read within a second of a change of `corosync.conf`).
    pub async fn run_probes(
        self: Rc<Self>,
        membership: impl Fn() -> Result<Rc<Membership>, String> + 'static,
    ) {
        loop {
            let now = self.clock.now();
            let current = membership().ok();
            let next = {
                let mut health = self.health.borrow_mut();
                if let Some(current) = &current {
                    health.handle_membership(now, current);
                }
                health.handle_timeout(now);
                while let Some(probe) = health.poll_probe(now) {
                    if let Some(current) = &current {
                        let peers = Rc::clone(&self);
                        let current = Rc::clone(current);
                        tokio::task::spawn_local(async move {
                            peers.probe(&current, &probe.node).await;
                        });
                    }
                }
                health.poll_timeout()
            };
            let recheck = now + MEMBERSHIP_RECHECK;
            let wake = self
                .clock
                .instant(next.map_or(recheck, |at| at.min(recheck)).max(now));
            tokio::time::sleep_until(wake).await;
        }
    }

    /// One probe of `node`, its outcome fed into the health machine. Bounded by the machine's
    /// timeout: a probe that takes longer has failed already, and is dropped.
    async fn probe(&self, membership: &Membership, node: &str) {
        let timeout = self.health.borrow().settings().timeout;
        let outcome = match tokio::time::timeout(timeout, self.ask(membership, node)).await {
            Ok(outcome) => outcome,
            Err(_) => ProbeOutcome::Failed,
        };
        let mut health = self.health.borrow_mut();
        let before = health.state(node);
        health.handle_probe_result(self.clock.now(), node, outcome);
        let after = health.state(node);
        // Only the changes: a node that is down for an hour is one line, not 720.
        if before != after {
            tracing::info!("node '{node}' is {after} (was {before})");
        }
    }

    async fn ask(&self, membership: &Membership, node: &str) -> ProbeOutcome {
        let Ok(addr) = self.address(membership, node).await else {
            return ProbeOutcome::Failed;
        };
        let request = Forward {
            method: Method::GET,
            target: PROBE_PATH.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            budget: Budget::Anonymous,
        };
        let reply = self.clients.send_quietly(node, addr, request).await;
        // Any HTTP answer means the node's pveproxy runs; 595–599 are the transport's.
        if (595..=599).contains(&reply.status.as_u16()) {
            ProbeOutcome::Failed
        } else {
            ProbeOutcome::Answered
        }
    }
}
