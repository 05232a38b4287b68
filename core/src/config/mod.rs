//! Configuration files, read from their bytes (the caller opens the file).
//!
//! - [`shell`]: the `KEY=value` shell-assignment syntax of `/etc/default/*` files.
//! - [`proxy`]: `/etc/default/pveproxy`, typed, with Proxmox's defaults.
//! - [`display`]: showing values in messages without letting them act on the terminal.

pub mod display;
pub mod proxy;
pub mod shell;

pub use proxy::{ConfigReport, Diagnostic, Key, ListenIp, Problem, ProxyConfig, Severity};
