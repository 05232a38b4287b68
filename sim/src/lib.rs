//! corral-sim: whole corral nodes on turmoil's simulated network.
//!
//! This crate provides the simulator's side of corral-io's seams — [`TurmoilNet`] for the
//! network and [`SimClock`] for the wall clock — so the production server code runs unchanged on
//! simulated sockets and time. The cluster harness (many nodes, faults, seeds, invariants) is
//! built on these in a later issue.

use std::io;
use std::net::{IpAddr, SocketAddr};

use corral_core::time::UnixTime;
use corral_io::clock::WallClock;
use corral_io::net::{BoxStream, Connector, Listener, LocalFuture, Network, no_address};

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
            let stream = turmoil::net::TcpStream::connect(addr).await?;
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
#[derive(Debug, Clone, Copy, Default)]
pub struct SimClock;

impl WallClock for SimClock {
    fn now(&self) -> UnixTime {
        // Outside a simulation there is no simulated time; the epoch start is the honest answer.
        let since_epoch = turmoil::since_epoch().unwrap_or_default();
        UnixTime(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX))
    }

    fn utc_offset_secs(&self, _at: UnixTime) -> i32 {
        0
    }
}
