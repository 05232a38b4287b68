//! The network, as a seam: real tokio sockets in production, turmoil's simulated ones in
//! `corral-sim`. The server is generic over [`Network`], so the very same accept loop, TLS and
//! HTTP code runs on both.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncWrite};

/// Binds listening sockets.
pub trait Network: 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;
    type Listener: Listener<Stream = Self::Stream>;

    fn bind(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>>;
}

/// A bound, listening socket.
pub trait Listener: 'static {
    type Stream;

    /// The next connection and its peer address.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>>;

    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// Real sockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioNet;

impl Network for TokioNet {
    type Stream = tokio::net::TcpStream;
    type Listener = TokioListener;

    async fn bind(&self, addr: SocketAddr) -> io::Result<TokioListener> {
        // std/tokio leave IPV6_V6ONLY to the system default (net.ipv6.bindv6only, normally 0),
        // so `[::]` is dual-stack exactly as Proxmox's IO::Socket::IP socket is.
        tokio::net::TcpListener::bind(addr).await.map(TokioListener)
    }
}

/// A tokio listener; accepted streams get TCP_NODELAY, as Proxmox sets it.
#[derive(Debug)]
pub struct TokioListener(pub tokio::net::TcpListener);

impl Listener for TokioListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&self) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
        let (stream, peer) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((stream, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A connected byte stream, whatever network it runs on.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + 'static> Stream for T {}

/// An outgoing connection, boxed so the forwarding client need not be generic.
pub type BoxStream = Box<dyn Stream>;

/// A future on the server's single thread.
pub type LocalFuture<T> = std::pin::Pin<Box<dyn Future<Output = T>>>;

/// Opens outgoing connections (pveproxy to pvedaemon and to the other nodes).
pub trait Connector: std::fmt::Debug + 'static {
    fn connect(&self, addr: SocketAddr) -> LocalFuture<io::Result<BoxStream>>;

    /// The first address of a host name: corosync.conf's `ring0_addr` may name a host rather
    /// than an address, and Proxmox then falls back to DNS.
    fn resolve(&self, host: &str) -> LocalFuture<io::Result<IpAddr>>;
}

/// The error for a name that resolved to no address at all.
pub fn no_address(host: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no address for host '{host}'"),
    )
}

impl Connector for TokioNet {
    fn connect(&self, addr: SocketAddr) -> LocalFuture<io::Result<BoxStream>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn resolve(&self, host: &str) -> LocalFuture<io::Result<IpAddr>> {
        let host = host.to_owned();
        Box::pin(async move {
            let mut addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            addrs
                .next()
                .map(|addr| addr.ip())
                .ok_or_else(|| no_address(&host))
        })
    }
}

/// The address a bind failed on, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {cause}")]
pub struct BindError {
    pub addr: SocketAddr,
    // In the message already; not named `source` (which thiserror would make the error's
    // source), so `{:#}` does not repeat it.
    pub cause: io::Error,
}

/// Binds `port` the way Proxmox does without `LISTEN_IP`: `[::]` (dual-stack), falling back to
/// `0.0.0.0` only when the system has no IPv6 (`ipv6.disable=1`).
pub async fn bind_default<N: Network>(net: &N, port: u16) -> Result<N::Listener, BindError> {
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    match net.bind(v6).await {
        Ok(listener) => Ok(listener),
        Err(e) if ipv6_unavailable(&e) => {
            let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            net.bind(v4)
                .await
                .map_err(|cause| BindError { addr: v4, cause })
        }
        Err(cause) => Err(BindError { addr: v6, cause }),
    }
}

/// EAFNOSUPPORT / EADDRNOTAVAIL: the kernel has no IPv6, as opposed to a port in use.
fn ipv6_unavailable(error: &io::Error) -> bool {
    const EAFNOSUPPORT: i32 = 97;
    const EADDRNOTAVAIL: i32 = 99;
    matches!(error.raw_os_error(), Some(EAFNOSUPPORT | EADDRNOTAVAIL))
        || error.kind() == io::ErrorKind::AddrNotAvailable
        || error.kind() == io::ErrorKind::Unsupported
}
