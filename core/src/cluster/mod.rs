//! The cluster as a node sees it: who the members are (`/etc/pve/corosync.conf`), which of them
//! answer, what this node reports about itself, and the API replies built from that.
//!
//! Reference: `../shared/reference/statd-spice-permissions.md` §1 (pvestatd) and §2 (the
//! cluster-wide API views).
//!
//! - [`corosync`]: the membership, parsed from `corosync.conf` as `PVE::Corosync::parse_conf`
//!   reads it (or a cluster of one without the file).
//! - [`health`]: [`PeerHealth`], a state machine that says which peers are online from the
//!   results and times of periodic probes.
//! - [`procfs`]: parsers of the Linux `/proc` texts behind `GET /nodes/{node}/status`, the
//!   [`CpuUsage`] machine, and the reply itself.
//! - [`views`]: `GET /nodes` and `GET /cluster/status`.
//!
//! Time: the machines take [`Monotonic`](crate::time::Monotonic) points (time since their
//! driver's origin) and only compare them and add durations; core never reads a clock.

pub mod corosync;
pub mod health;
pub mod procfs;
pub mod views;

pub use corosync::{CorosyncError, Member, Membership};
pub use health::{HealthSettings, NodeState, PeerHealth, ProbeOutcome, ProbeRequest};
pub use procfs::{CpuLoad, CpuUsage, NodeStatusInput, ProcError, node_status};
pub use views::{NodeStats, PeerView, cluster_status, nodes_index};
