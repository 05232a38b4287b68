//! corral-io: the shell around `corral-core`.
//!
//! It reads files, owns sockets and clocks, and feeds what it sees to core decisions. Network,
//! clock and file access are seams (traits), so the same code runs on real sockets and inside the
//! turmoil simulator.

pub mod access;
pub mod access_log;
pub mod api;
pub mod authkey;
mod body;
pub mod certs;
pub mod clock;
pub mod cluster;
pub mod compress;
pub mod files;
pub mod forward;
pub mod host;
pub mod lock;
pub mod login;
pub mod net;
pub mod node;
pub mod offload;
pub mod pam;
pub mod password;
pub mod pinning;
pub mod proxy;
pub mod proxy_settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;
pub mod token_secret;
