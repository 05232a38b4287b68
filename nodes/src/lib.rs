//! The corral daemons' command lines. The binaries in `src/bin/` are thin wrappers around
//! [`pveproxy::run`] and [`corral::run`], which take their arguments and output streams as
//! parameters so tests can drive them without spawning processes.

pub mod corral;
pub mod daemon;
pub mod pvedaemon;
pub mod pveproxy;
mod report;
pub mod up;
pub mod usercli;
