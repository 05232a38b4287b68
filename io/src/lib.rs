//! corral-io: the shell around `corral-core`.
//!
//! It reads files, owns sockets and clocks, and feeds what it sees to core decisions. Network,
//! clock and file access are seams (traits), so the same code runs on real sockets and inside the
//! turmoil simulator.

pub mod files;
pub mod tls;
