//! corral-core: the sans-IO logic of corral.
//!
//! Nothing in this crate reads a clock, opens a file or socket, spawns a task or draws global
//! randomness (enforced by `core/clippy.toml` and a `cargo tree` check in `.ci/run`). Inputs —
//! file contents, peer addresses, `now` — come in as arguments; decisions come out as values.
//!
//! - A stateless decision is a pure function: [`acl::HostAcl::decide`].
//! - Every stateful machine (later issues) has the shape `handle_*(now, input)` in, `poll_*()`
//!   out, and documents on its type how to drive it.
//!
//! Modules:
//! - [`access`]: users, tokens, groups, roles, pools and ACLs (`user.cfg`); permission checks.
//! - [`api`]: the API method table and the routing decision (authenticate, find, check,
//!   forward or run).
//! - [`auth`]: Proxmox-compatible tickets, CSRF tokens and request credentials.
//! - [`cluster`]: the membership (`corosync.conf`), peer health, node status from `/proc`, and
//!   the cluster API views (`/nodes`, `/cluster/status`).
//! - [`acl`]: host-based access control (`ALLOW_FROM`, `DENY_FROM`, `POLICY`) with Proxmox's
//!   Net::IP entry syntax and 4×2 decision table.
//! - [`config`]: `/etc/default/pveproxy` in the shell-assignment syntax Proxmox users write.
//! - [`tls`]: the TLS policy (suites, order, versions) derived from that file.
//! - [`password`]: `pve`-realm password hashes (SHA-crypt `$5$`/`$6$`, libxcrypt-exact).

pub mod access;
pub mod acl;
pub mod api;
pub mod auth;
pub mod cluster;
pub mod config;
mod constant_time;
mod escape;
pub mod http;
pub mod password;
mod perl;
pub mod time;
pub mod tls;
