//! The cluster-wide API replies, built from the membership and what [`PeerHealth`] says of the
//! peers: `GET /nodes` (pve-manager `PVE/API2/Nodes.pm` `index`, `API2Tools::extract_node_stats`)
//! and `GET /cluster/status` (`PVE/API2/Cluster.pm` `status`), as the statd reference §2
//! describes them.
//!
//! Permission filtering happens here only where Proxmox does it inside the handler: node stats
//! need Sys.Audit on `/nodes/<node>` (`can_audit`). The method's own check (`user => 'all'`
//! for `/nodes`, Sys.Audit on `/` for `/cluster/status`) is the router's.

use serde_json::{Map, Value, json};

use super::corosync::{Member, Membership};
use super::health::{NodeState, PeerHealth};

/// What the views read: the membership, this node's name, and the peers' health.
#[derive(Debug, Clone, Copy)]
pub struct PeerView<'a> {
    pub membership: &'a Membership,
    pub local: &'a str,
    pub health: &'a PeerHealth,
}

impl PeerView<'_> {
    /// Proxmox's node status: the local node is online; a member is online or offline as its
    /// health says, else unknown.
    pub fn state(&self, node: &str) -> NodeState {
        if node == self.local {
            NodeState::Online
        } else {
            self.health.state(node)
        }
    }
}

/// A node's usage figures (from its status reports), shown with Sys.Audit on `/nodes/<node>`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NodeStats {
    /// Seconds.
    pub uptime: u64,
    /// Fraction 0..1 of all CPUs.
    pub cpu: f64,
    pub maxcpu: u32,
    /// Bytes.
    pub mem: u64,
    pub maxmem: u64,
    /// Bytes of the root file system.
    pub disk: u64,
    pub maxdisk: u64,
}

/// `GET /nodes`: one entry per member, sorted by name: `node`, `status`, `ssl_fingerprint`
/// (`null` when `fingerprint` has none, as Proxmox's failed `eval`), `level` (no subscription:
/// `""`), `id` `node/<n>` and `type` `node`; plus `uptime`, `cpu`, `maxcpu`, `mem`, `maxmem`,
/// `disk`, `maxdisk` when `stats(node)` has figures and `can_audit(node)` (Sys.Audit on
/// `/nodes/<node>`).
pub fn nodes_index(
    view: &PeerView,
    fingerprint: &dyn Fn(&str) -> Option<String>,
    stats: &dyn Fn(&str) -> Option<NodeStats>,
    can_audit: &dyn Fn(&str) -> bool,
) -> Vec<Value> {
    view.membership
        .nodes
        .iter()
        .map(|member| {
            let name = member.name.as_str();
            let mut entry = object(json!({
                "id": format!("node/{name}"),
                "type": "node",
                "node": name,
                "status": view.state(name).as_str(),
                "ssl_fingerprint": fingerprint(name),
                "level": "",
            }));
            // Asked only for callers who may see them: reading them costs `/proc` reads.
            if let Some(stats) = can_audit(name).then(|| stats(name)).flatten() {
                add_stats(&mut entry, &stats);
            }
            Value::Object(entry)
        })
        .collect()
}

fn add_stats(entry: &mut Map<String, Value>, stats: &NodeStats) {
    entry.extend(object(json!({
        "uptime": stats.uptime,
        "cpu": stats.cpu,
        "maxcpu": stats.maxcpu,
        "mem": stats.mem,
        "maxmem": stats.maxmem,
        "disk": stats.disk,
        "maxdisk": stats.maxdisk,
    })));
}

/// `GET /cluster/status`. In a cluster: `{type: "cluster", id: "cluster", name, nodes,
/// version, quorate}` (`quorate` 0/1, from [`PeerHealth::quorate`]), then per member in name
/// order `{type: "node", id: "node/<n>", name, nodeid, ip, online, local, level: ""}` (0/1
/// integers; `ip` left out when `address(node)` has none). Without a cluster, one node entry
/// for the local node with nodeid 0, online 1, local 1.
pub fn cluster_status(view: &PeerView, address: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    let membership = view.membership;
    if !membership.is_cluster() {
        let alone = Member {
            name: view.local.to_owned(),
            nodeid: 0,
            votes: 1,
            ring0_addr: String::new(),
        };
        return vec![node_status_entry(view, &alone, address)];
    }
    let summary = json!({
        "type": "cluster",
        "id": "cluster",
        "name": membership.cluster_name,
        "nodes": membership.nodes.len(),
        "version": membership.config_version,
        "quorate": u8::from(view.health.quorate(membership)),
    });
    std::iter::once(summary)
        .chain(
            membership
                .nodes
                .iter()
                .map(|member| node_status_entry(view, member, address)),
        )
        .collect()
}

fn node_status_entry(
    view: &PeerView,
    member: &Member,
    address: &dyn Fn(&str) -> Option<String>,
) -> Value {
    let name = member.name.as_str();
    let mut entry = object(json!({
        "type": "node",
        "id": format!("node/{name}"),
        "name": name,
        "nodeid": member.nodeid,
        "online": u8::from(view.state(name) == NodeState::Online),
        "local": u8::from(name == view.local),
        "level": "",
    }));
    if let Some(ip) = address(name) {
        entry.insert("ip".into(), Value::String(ip));
    }
    Value::Object(entry)
}

/// The map of a `json!({…})` literal (always an object).
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::corosync::parse;
    use crate::cluster::health::{HealthSettings, ProbeOutcome};
    use crate::time::Monotonic;

    const CONF: &str = "\
nodelist {
  node {
    name: pve2
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 192.168.1.12
  }
  node {
    name: pve1
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 192.168.1.11
  }
  node {
    name: pve3
    nodeid: 3
    quorum_votes: 1
    ring0_addr: 192.168.1.13
  }
}

totem {
  cluster_name: demo
  config_version: 5
}
";

    /// pve1's view: pve2 answered, pve3 failed twice.
    fn health(membership: &Membership) -> PeerHealth {
        let t = Monotonic::ZERO;
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, membership);
        while health.poll_probe(t).is_some() {}
        health.handle_probe_result(t, "pve2", ProbeOutcome::Answered);
        health.handle_probe_result(t, "pve3", ProbeOutcome::Failed);
        let later = t + HealthSettings::default().interval;
        while health.poll_probe(later).is_some() {}
        health.handle_probe_result(later, "pve2", ProbeOutcome::Answered);
        health.handle_probe_result(later, "pve3", ProbeOutcome::Failed);
        health
    }

    fn address(membership: &Membership) -> impl Fn(&str) -> Option<String> + '_ {
        |node| membership.member(node).map(|m| m.ring0_addr.clone())
    }

    #[test]
    fn nodes_index_shows_every_member_with_stats_only_where_audited() {
        let membership = parse(CONF).expect("reads");
        let health = health(&membership);
        let view = PeerView {
            membership: &membership,
            local: "pve1",
            health: &health,
        };
        let fingerprint = |node: &str| (node != "pve3").then(|| format!("AA:BB:{node}"));
        let stats = |node: &str| {
            (node != "pve3").then_some(NodeStats {
                uptime: 3600,
                cpu: 0.5,
                maxcpu: 8,
                mem: 4 << 30,
                maxmem: 16 << 30,
                disk: 10 << 30,
                maxdisk: 100 << 30,
            })
        };
        let can_audit = |node: &str| node != "pve2";
        let index = nodes_index(&view, &fingerprint, &stats, &can_audit);
        assert_eq!(
            index,
            [
                json!({
                    "id": "node/pve1", "type": "node", "node": "pve1", "status": "online",
                    "ssl_fingerprint": "AA:BB:pve1", "level": "",
                    "uptime": 3600, "cpu": 0.5, "maxcpu": 8,
                    "mem": 4u64 << 30, "maxmem": 16u64 << 30,
                    "disk": 10u64 << 30, "maxdisk": 100u64 << 30,
                }),
                json!({
                    "id": "node/pve2", "type": "node", "node": "pve2", "status": "online",
                    "ssl_fingerprint": "AA:BB:pve2", "level": "",
                }),
                json!({
                    "id": "node/pve3", "type": "node", "node": "pve3", "status": "offline",
                    "ssl_fingerprint": null, "level": "",
                }),
            ]
        );
    }

    #[test]
    fn a_peer_never_heard_of_is_unknown() {
        let membership = parse(CONF).expect("reads");
        let health = PeerHealth::new("pve1", HealthSettings::default());
        let view = PeerView {
            membership: &membership,
            local: "pve1",
            health: &health,
        };
        let index = nodes_index(&view, &|_| None, &|_| None, &|_| true);
        let statuses: Vec<&str> = index
            .iter()
            .map(|e| e["status"].as_str().expect("a string"))
            .collect();
        assert_eq!(statuses, ["online", "unknown", "unknown"]);
    }

    #[test]
    fn cluster_status_in_a_cluster() {
        let membership = parse(CONF).expect("reads");
        let health = health(&membership);
        let view = PeerView {
            membership: &membership,
            local: "pve1",
            health: &health,
        };
        let address = address(&membership);
        let status = cluster_status(&view, &|node| {
            (node != "pve3").then(|| address(node)).flatten()
        });
        assert_eq!(
            status,
            [
                json!({
                    "type": "cluster", "id": "cluster", "name": "demo",
                    "nodes": 3, "version": 5, "quorate": 1,
                }),
                json!({
                    "type": "node", "id": "node/pve1", "name": "pve1", "nodeid": 1,
                    "ip": "192.168.1.11", "online": 1, "local": 1, "level": "",
                }),
                json!({
                    "type": "node", "id": "node/pve2", "name": "pve2", "nodeid": 2,
                    "ip": "192.168.1.12", "online": 1, "local": 0, "level": "",
                }),
                json!({
                    "type": "node", "id": "node/pve3", "name": "pve3", "nodeid": 3,
                    "online": 0, "local": 0, "level": "",
                }),
            ]
        );
    }

    #[test]
    fn cluster_status_without_quorum() {
        let membership = parse(CONF).expect("reads");
        let health = PeerHealth::new("pve2", HealthSettings::default());
        let view = PeerView {
            membership: &membership,
            local: "pve2",
            health: &health,
        };
        let status = cluster_status(&view, &|_| None);
        assert_eq!(status[0]["quorate"], json!(0));
        let online: Vec<&Value> = status[1..].iter().map(|e| &e["online"]).collect();
        assert_eq!(online, [&json!(0), &json!(1), &json!(0)]);
    }

    #[test]
    fn cluster_status_of_a_single_node() {
        let membership = Membership::single("solo");
        let health = PeerHealth::new("solo", HealthSettings::default());
        let view = PeerView {
            membership: &membership,
            local: "solo",
            health: &health,
        };
        assert_eq!(
            cluster_status(&view, &|_| Some("10.0.0.5".into())),
            [json!({
                "type": "node", "id": "node/solo", "name": "solo", "nodeid": 0,
                "ip": "10.0.0.5", "online": 1, "local": 1, "level": "",
            })]
        );
        assert_eq!(
            nodes_index(&view, &|_| None, &|_| None, &|_| true),
            [json!({
                "id": "node/solo", "type": "node", "node": "solo", "status": "online",
                "ssl_fingerprint": null, "level": "",
            })]
        );
    }
}
