//! corral-sim: whole corral nodes on turmoil's simulated network.
//!
//! This crate provides the simulator's side of corral-io's seams — [`TurmoilNet`] for the
//! network and [`SimClock`] for the wall clock, [`files::NodeFiles`] and [`host::FixedHost`] —
//! so the production server code runs unchanged on simulated sockets and time, and on them
//! [`cluster::Cluster`]: whole clusters of nodes running pveproxy and pvedaemon
//! ([`node`]), HTTPS clients with real credentials ([`client`]), scripted faults, and a
//! deterministic [`trace::Trace`] of every run.
//!
//! Determinism: time starts at [`EPOCH_SECS`]; wall time (HTTP dates, tickets, CSRF tokens,
//! rustls' certificate checks on both ends) is [`SimClock`]'s; turmoil's RNG (latencies, link
//! failures, host order) is seeded; key material is fixed ([`fixtures`]); hashing and signing
//! run inline (`Offload::Inline`), not on threads; corral-io's `select!`s are all `biased`, so
//! tokio's unseeded select RNG (seeded only under `--cfg tokio_unstable`) is never asked. TLS
//! still draws real randomness (key shares, nonces), which changes bytes but no outcome.
//! Checked by `tests/determinism.rs` (one seed twice in a process, against a snapshot) and
//! by running `sim-trace SEED` in two processes.

pub mod client;
pub mod cluster;
pub mod files;
pub mod fixtures;
pub mod host;
pub mod node;
pub mod runner;
pub mod tour;
pub mod trace;

use std::io;
use std::net::{IpAddr, SocketAddr};

use corral_core::time::UnixTime;
use corral_io::clock::WallClock;
use corral_io::net::{BoxStream, Connector, Listener, LocalFuture, Network, no_address};

/// 2026-11-24T00:00:00Z: every simulation starts at this instant (turmoil's epoch), so dates,
/// ticket times and certificate checks are the same on every run.
pub const EPOCH_SECS: u64 = 1_795_478_400;

/// turmoil's simulated TCP. turmoil 0.7 binds only wildcard or loopback addresses, so a
/// simulated node binds `0.0.0.0`; its peers still see its host address.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurmoilNet;

impl Network for TurmoilNet {
    type Stream = turmoil::net::TcpStream;
    type Listener = TurmoilListener;

    async fn bind(&self, addr: SocketAddr) -> io::Result<TurmoilListener> {
        turmoil::net::TcpListener::bind(addr)
            .await
            .map(TurmoilListener)
    }
}

impl Connector for TurmoilNet {
    fn connect(&self, addr: SocketAddr) -> LocalFuture<io::Result<BoxStream>> {
        Box::pin(async move {
            let stream = turmoil::net::TcpStream::connect(addr)
                .await
                .map_err(os_like)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    /// turmoil's own DNS: the simulation's host names. `turmoil::net::lookup_host` answers
    /// NotFound for a name that is not a host (where `turmoil::lookup` would register it), and
    /// outside a simulation there is no DNS to ask (turmoil would panic).
    fn resolve(&self, host: &str) -> LocalFuture<io::Result<IpAddr>> {
        let host = host.to_owned();
        Box::pin(async move {
            if !turmoil::in_simulation() {
                return Err(no_address(&host));
            }
            let mut addrs = turmoil::net::lookup_host((host.as_str(), 0)).await?;
            addrs
                .next()
                .map(|addr| addr.ip())
                .ok_or_else(|| no_address(&host))
        })
    }
}

/// turmoil's refused connect says only the address; the system says `Connection refused`, and
/// that is what pveproxy relays as the reason of its 595.
pub(crate) fn os_like(error: io::Error) -> io::Error {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => {
            io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused")
        }
        _ => error,
    }
}

/// A simulated listening socket.
pub struct TurmoilListener(pub turmoil::net::TcpListener);

impl std::fmt::Debug for TurmoilListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TurmoilListener")
            .field(&self.0.local_addr().ok())
            .finish()
    }
}

impl Listener for TurmoilListener {
    type Stream = turmoil::net::TcpStream;

    async fn accept(&self) -> io::Result<(turmoil::net::TcpStream, SocketAddr)> {
        self.0.accept().await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// The simulation's wall clock: the builder's fixed epoch plus simulated time, in UTC, so dates
/// in replies and logs are the same on every run of a seed.
///
/// Outside a simulation's host (building the cluster, or between steps, where a harness writes
/// files) there is no simulated time to read, and the answer is [`EPOCH_SECS`], the
/// simulation's start: a file written there is dated like the fixtures, never 1970 (which
/// would make a key look decades old and due for rotation).
#[derive(Debug, Clone, Copy, Default)]
pub struct SimClock;

impl WallClock for SimClock {
    fn now(&self) -> UnixTime {
        let since_epoch =
            turmoil::since_epoch().unwrap_or(std::time::Duration::from_secs(EPOCH_SECS));
        UnixTime(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX))
    }

    fn utc_offset_secs(&self, _at: UnixTime) -> i32 {
        0
    }
}
