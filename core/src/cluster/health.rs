//! Which peers are online, judged from periodic health probes.
//!
//! On Proxmox VE, `online` comes from membership of the pmxcfs CPG group (statd reference §1).
//! Until corral has a status broadcast, each node probes its peers itself; [`PeerHealth`]
//! decides when to probe and what the results mean, and the shell does the probing.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::time::Monotonic;

use super::corosync::Membership;

/// What a node's status shows: `online`, `offline` or `unknown` (Proxmox's status enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeState {
    Online,
    Offline,
    Unknown,
}

impl NodeState {
    /// The word the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Online => "online",
            NodeState::Offline => "offline",
            NodeState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Probe this peer now, and report the result with [`PeerHealth::handle_probe_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    pub node: String,
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    Answered,
    Failed,
}

/// How often to probe and how to read the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    /// From the start of one probe of a peer to the start of the next.
    pub interval: Duration,
    /// A probe without a result after this long counts as failed.
    pub timeout: Duration,
    /// Consecutive failures that make a peer offline (0 is read as 1).
    pub failures_for_offline: u32,
    /// A peer whose last answer is this old is offline, whatever else happened.
    pub stale_after: Duration,
}

const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

impl Default for HealthSettings {
    /// Probe every 5 s, give up on a probe after 3 s, offline after 2 failures in a row or
    /// 15 s (three intervals) without an answer.
    fn default() -> Self {
        HealthSettings {
            interval: DEFAULT_INTERVAL,
            timeout: Duration::from_secs(3),
            failures_for_offline: 2,
            stale_after: DEFAULT_INTERVAL.saturating_mul(3),
        }
    }
}

/// What is known of one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Peer {
    /// When the next probe is due; `None` = never (the interval overflowed `Monotonic`).
    next_probe: Option<Monotonic>,
    /// When the probe in flight started.
    in_flight_since: Option<Monotonic>,
    last_answer: Option<Monotonic>,
    consecutive_failures: u32,
}

impl Peer {
    fn new(now: Monotonic) -> Peer {
        Peer {
            next_probe: Some(now),
            in_flight_since: None,
            last_answer: None,
            consecutive_failures: 0,
        }
    }
}

/// Which peers are online, from the results and times of periodic probes.
///
/// A sans-IO machine in quinn-proto's shape: inputs go in through `handle_*(now, …)`, work comes
/// out of `poll_*`. It holds one entry per member of the last membership handed in, and never
/// reads the clock: every `now` is the caller's, and must not go backwards between calls.
///
/// How to drive it:
/// 1. [`handle_membership`](Self::handle_membership) with the membership at start, and again
///    whenever `corosync.conf` changes. New peers are probed at once; removed peers are
///    forgotten (a result that arrives for them later is ignored).
/// 2. Drain [`poll_probe`](Self::poll_probe) until it returns `None`, starting one probe per
///    request. At most one probe per peer is in flight; each peer is probed every `interval`
///    from the start of its previous probe.
/// 3. When a probe ends, [`handle_probe_result`](Self::handle_probe_result) with its outcome,
///    then drain `poll_probe` again.
/// 4. Sleep until [`poll_timeout`](Self::poll_timeout) (or until a result or a membership
///    change arrives), then [`handle_timeout`](Self::handle_timeout) with the time woken, then
///    drain `poll_probe` again. `None` from `poll_timeout` means there is nothing to wait for.
///
/// [`state`](Self::state) and [`quorate`](Self::quorate) answer at the latest `now` handed in.
/// The local node is never probed and always online.
#[derive(Debug, Clone)]
pub struct PeerHealth {
    local: String,
    settings: HealthSettings,
    peers: BTreeMap<String, Peer>,
    /// The latest `now` seen by any `handle_*`/`poll_*` call.
    clock: Option<Monotonic>,
}

impl PeerHealth {
    /// A machine for the node called `local`, with no peers until the first membership.
    /// The settings the machine was made with (a driver bounds each probe by `timeout`).
    pub fn settings(&self) -> &HealthSettings {
        &self.settings
    }

    pub fn new(local: &str, settings: HealthSettings) -> Self {
        PeerHealth {
            local: local.to_owned(),
            settings,
            peers: BTreeMap::new(),
            clock: None,
        }
    }

    /// Takes the current membership: adds its new peers (first probe due at once), forgets
    /// those that left, keeps what is known of the others.
    pub fn handle_membership(&mut self, now: Monotonic, peers: &Membership) {
        self.advance(now);
        let local = self.local.as_str();
        self.peers
            .retain(|name, _| name != local && peers.member(name).is_some());
        for member in &peers.nodes {
            if member.name != self.local {
                self.peers
                    .entry(member.name.clone())
                    .or_insert_with(|| Peer::new(now));
            }
        }
    }

    /// The result of the probe in flight to `node`. Results for nodes that are not peers, or
    /// for a peer with no probe in flight (it timed out already), are ignored.
    pub fn handle_probe_result(&mut self, now: Monotonic, node: &str, outcome: ProbeOutcome) {
        self.advance(now);
        let Some(peer) = self.peers.get_mut(node) else {
            return;
        };
        if peer.in_flight_since.take().is_none() {
            return;
        }
        match outcome {
            ProbeOutcome::Answered => {
                peer.last_answer = Some(now);
                peer.consecutive_failures = 0;
            }
            ProbeOutcome::Failed => {
                peer.consecutive_failures = peer.consecutive_failures.saturating_add(1);
            }
        }
    }

    /// The next probe due at `now`, marked in flight. Call until `None`.
    #[must_use]
    pub fn poll_probe(&mut self, now: Monotonic) -> Option<ProbeRequest> {
        self.advance(now);
        let interval = self.settings.interval;
        let (name, peer) = self
            .peers
            .iter_mut()
            .filter(|(_, peer)| peer.in_flight_since.is_none())
            .filter_map(|(name, peer)| peer.next_probe.map(|due| (due, name, peer)))
            .filter(|(due, _, _)| *due <= now)
            .min_by_key(|(due, _, _)| *due)
            .map(|(_, name, peer)| (name, peer))?;
        peer.in_flight_since = Some(now);
        peer.next_probe = now.checked_add(interval);
        Some(ProbeRequest { node: name.clone() })
    }

    /// When to call again: the earliest of a probe falling due, a probe in flight timing out,
    /// and a peer's last answer going stale. `None` when nothing is pending.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Monotonic> {
        self.peers
            .values()
            .flat_map(|peer| {
                let due = match peer.in_flight_since {
                    Some(since) => since.checked_add(self.settings.timeout),
                    None => peer.next_probe,
                };
                [due, self.stale_at(peer).filter(|at| self.is_future(*at))]
            })
            .flatten()
            .min()
    }

    /// Counts every probe in flight for longer than `timeout` as failed.
    pub fn handle_timeout(&mut self, now: Monotonic) {
        self.advance(now);
        let timeout = self.settings.timeout;
        for peer in self.peers.values_mut() {
            let expired = peer
                .in_flight_since
                .and_then(|since| since.checked_add(timeout))
                .is_some_and(|deadline| deadline <= now);
            if expired {
                peer.in_flight_since = None;
                peer.consecutive_failures = peer.consecutive_failures.saturating_add(1);
            }
        }
    }

    /// What `node`'s status shows now (at the latest `now` handed in). The local node is
    /// online; a peer is unknown until its first result, online after an answer, and offline
    /// after `failures_for_offline` failures in a row (answered before or not) or once its last
    /// answer is `stale_after` old. Nodes that are not members are unknown.
    pub fn state(&self, node: &str) -> NodeState {
        if node == self.local {
            return NodeState::Online;
        }
        let Some(peer) = self.peers.get(node) else {
            return NodeState::Unknown;
        };
        let failures_for_offline = self.settings.failures_for_offline.max(1);
        if peer.consecutive_failures >= failures_for_offline {
            return NodeState::Offline;
        }
        match self.stale_at(peer) {
            None if peer.last_answer.is_none() => NodeState::Unknown,
            Some(stale_at) if !self.is_future(stale_at) => NodeState::Offline,
            _ => NodeState::Online,
        }
    }

    /// Whether the online members hold a majority of `membership`'s votes (online votes × 2 >
    /// total votes). The local node counts as online.
    pub fn quorate(&self, membership: &Membership) -> bool {
        let total: u64 = membership.nodes.iter().map(|m| u64::from(m.votes)).sum();
        let online: u64 = membership
            .nodes
            .iter()
            .filter(|m| self.state(&m.name) == NodeState::Online)
            .map(|m| u64::from(m.votes))
            .sum();
        online * 2 > total
    }

    /// When the peer's last answer goes stale; `None` without an answer (or past `Monotonic`'s
    /// range: never).
    fn stale_at(&self, peer: &Peer) -> Option<Monotonic> {
        peer.last_answer
            .and_then(|at| at.checked_add(self.settings.stale_after))
    }

    /// Whether `at` is still ahead of the latest `now` seen.
    fn is_future(&self, at: Monotonic) -> bool {
        self.clock.is_none_or(|clock| at > clock)
    }

    fn advance(&mut self, now: Monotonic) {
        self.clock = Some(self.clock.map_or(now, |clock| clock.max(now)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::corosync::Member;

    /// An hour into the driver's life (not its origin, so adding `Duration::MAX` overflows);
    /// only offsets from it matter.
    fn t0() -> Monotonic {
        Monotonic(Duration::from_secs(3600))
    }

    fn secs(base: Monotonic, s: f64) -> Monotonic {
        base + Duration::from_secs_f64(s)
    }

    fn membership(names: &[&str]) -> Membership {
        Membership {
            cluster_name: "demo".into(),
            config_version: 1,
            nodes: names
                .iter()
                .zip(1..)
                .map(|(name, nodeid)| Member {
                    name: (*name).into(),
                    nodeid,
                    votes: 1,
                    ring0_addr: format!("10.0.0.{nodeid}"),
                })
                .collect(),
        }
    }

    fn drain(health: &mut PeerHealth, now: Monotonic) -> Vec<String> {
        std::iter::from_fn(|| health.poll_probe(now))
            .map(|request| request.node)
            .collect()
    }

    fn states(health: &PeerHealth, names: &[&str]) -> Vec<&'static str> {
        names.iter().map(|n| health.state(n).as_str()).collect()
    }

    #[test]
    fn new_peers_are_probed_at_once_and_the_local_node_never() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        assert_eq!(health.poll_timeout(), None, "no peers, nothing to wait for");
        health.handle_membership(t, &membership(&["pve1", "pve2", "pve3"]));
        assert_eq!(health.poll_timeout(), Some(t));
        assert_eq!(drain(&mut health, t), ["pve2", "pve3"]);
        assert_eq!(
            drain(&mut health, t),
            Vec::<String>::new(),
            "one in flight each"
        );
        assert_eq!(
            states(&health, &["pve1", "pve2", "pve3"]),
            ["online", "unknown", "unknown"]
        );
        assert_eq!(
            health.poll_timeout(),
            Some(secs(t, 3.0)),
            "the probe timeout"
        );
    }

    #[test]
    fn answers_make_peers_online_and_probes_repeat_every_interval() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        assert_eq!(drain(&mut health, t), ["pve2"]);
        health.handle_probe_result(secs(t, 0.2), "pve2", ProbeOutcome::Answered);
        assert_eq!(health.state("pve2"), NodeState::Online);
        assert_eq!(
            health.poll_timeout(),
            Some(secs(t, 5.0)),
            "interval from the start"
        );
        assert_eq!(drain(&mut health, secs(t, 4.9)), Vec::<String>::new());
        assert_eq!(drain(&mut health, secs(t, 5.0)), ["pve2"]);
        health.handle_probe_result(secs(t, 5.1), "pve2", ProbeOutcome::Answered);
        assert_eq!(health.poll_timeout(), Some(secs(t, 10.0)));
    }

    #[test]
    fn two_failures_in_a_row_make_a_peer_offline_and_an_answer_brings_it_back() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        let _ = drain(&mut health, t);
        health.handle_probe_result(secs(t, 0.1), "pve2", ProbeOutcome::Answered);

        let _ = drain(&mut health, secs(t, 5.0));
        health.handle_probe_result(secs(t, 5.1), "pve2", ProbeOutcome::Failed);
        assert_eq!(
            health.state("pve2"),
            NodeState::Online,
            "one failure is not enough"
        );

        let _ = drain(&mut health, secs(t, 10.0));
        health.handle_probe_result(secs(t, 10.1), "pve2", ProbeOutcome::Failed);
        assert_eq!(health.state("pve2"), NodeState::Offline);

        let _ = drain(&mut health, secs(t, 15.0));
        health.handle_probe_result(secs(t, 15.1), "pve2", ProbeOutcome::Answered);
        assert_eq!(health.state("pve2"), NodeState::Online);
    }

    #[test]
    fn probes_without_a_result_time_out_as_failures() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        let _ = drain(&mut health, t);
        health.handle_timeout(secs(t, 2.9));
        assert_eq!(health.poll_timeout(), Some(secs(t, 3.0)));
        health.handle_timeout(secs(t, 3.0));
        assert_eq!(
            health.state("pve2"),
            NodeState::Unknown,
            "one failure, never answered"
        );
        assert_eq!(health.poll_timeout(), Some(secs(t, 5.0)), "next probe");

        // The late answer to the timed-out probe is ignored.
        health.handle_probe_result(secs(t, 3.5), "pve2", ProbeOutcome::Answered);
        assert_eq!(health.state("pve2"), NodeState::Unknown);

        assert_eq!(drain(&mut health, secs(t, 5.0)), ["pve2"]);
        health.handle_timeout(secs(t, 8.0));
        assert_eq!(
            health.state("pve2"),
            NodeState::Offline,
            "never answered, failed enough"
        );
    }

    #[test]
    fn an_old_last_answer_makes_a_peer_offline() {
        let t = t0();
        let settings = HealthSettings {
            failures_for_offline: 100,
            ..HealthSettings::default()
        };
        let mut health = PeerHealth::new("pve1", settings);
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        let _ = drain(&mut health, t);
        health.handle_probe_result(secs(t, 1.0), "pve2", ProbeOutcome::Answered);
        // The probes keep failing, but not often enough to count.
        for start in [5.0, 10.0] {
            assert_eq!(drain(&mut health, secs(t, start)), ["pve2"]);
            health.handle_probe_result(secs(t, start + 0.5), "pve2", ProbeOutcome::Failed);
        }
        assert_eq!(health.state("pve2"), NodeState::Online);
        assert_eq!(health.poll_timeout(), Some(secs(t, 15.0)), "next probe");
        assert_eq!(drain(&mut health, secs(t, 15.0)), ["pve2"]);
        assert_eq!(
            health.poll_timeout(),
            Some(secs(t, 16.0)),
            "the answer goes stale before the probe times out"
        );
        health.handle_timeout(secs(t, 16.0));
        assert_eq!(health.state("pve2"), NodeState::Offline);
        assert_eq!(
            health.poll_timeout(),
            Some(secs(t, 18.0)),
            "past staleness is not re-armed"
        );
    }

    #[test]
    fn membership_changes_add_and_forget_peers() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, &membership(&["pve1", "pve2", "pve3"]));
        let _ = drain(&mut health, t);
        health.handle_probe_result(secs(t, 0.1), "pve2", ProbeOutcome::Answered);
        health.handle_probe_result(secs(t, 0.1), "pve3", ProbeOutcome::Answered);

        health.handle_membership(secs(t, 1.0), &membership(&["pve1", "pve2", "pve4"]));
        assert_eq!(health.state("pve2"), NodeState::Online, "kept");
        assert_eq!(health.state("pve3"), NodeState::Unknown, "forgotten");
        assert_eq!(health.state("pve4"), NodeState::Unknown, "new");
        assert_eq!(drain(&mut health, secs(t, 1.0)), ["pve4"], "probed at once");
        health.handle_probe_result(secs(t, 1.1), "pve3", ProbeOutcome::Answered);
        assert_eq!(
            health.state("pve3"),
            NodeState::Unknown,
            "not a member any more"
        );

        // pve3 comes back: it starts from scratch.
        health.handle_membership(secs(t, 2.0), &membership(&["pve1", "pve2", "pve3", "pve4"]));
        assert_eq!(health.state("pve3"), NodeState::Unknown);
        assert_eq!(drain(&mut health, secs(t, 2.0)), ["pve3"]);
    }

    #[test]
    fn results_for_strangers_and_probes_not_in_flight_are_ignored() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        health.handle_probe_result(t, "pve2", ProbeOutcome::Answered);
        assert_eq!(
            health.state("pve2"),
            NodeState::Unknown,
            "no probe in flight yet"
        );
        health.handle_probe_result(t, "pve9", ProbeOutcome::Answered);
        health.handle_probe_result(t, "pve1", ProbeOutcome::Failed);
        assert_eq!(states(&health, &["pve1", "pve9"]), ["online", "unknown"]);
    }

    #[test]
    fn quorum_is_a_majority_of_votes_with_the_local_node_online() {
        let t = t0();
        let mut health = PeerHealth::new("pve1", HealthSettings::default());
        let three = membership(&["pve1", "pve2", "pve3"]);
        health.handle_membership(t, &three);
        assert!(!health.quorate(&three), "1 of 3 votes");
        let _ = drain(&mut health, t);
        health.handle_probe_result(secs(t, 0.1), "pve2", ProbeOutcome::Answered);
        assert!(health.quorate(&three), "2 of 3 votes");

        let mut four = membership(&["pve1", "pve2", "pve3", "pve4"]);
        health.handle_membership(secs(t, 0.2), &four);
        assert!(!health.quorate(&four), "2 of 4 is not a majority");
        four.nodes[0].votes = 2;
        assert!(health.quorate(&four), "3 of 5 votes");

        let alone = PeerHealth::new("solo", HealthSettings::default());
        assert!(alone.quorate(&Membership::single("solo")));
    }

    #[test]
    fn huge_durations_mean_never_instead_of_a_panic() {
        let t = t0();
        let settings = HealthSettings {
            interval: Duration::MAX,
            timeout: Duration::MAX,
            failures_for_offline: 0,
            stale_after: Duration::MAX,
        };
        let mut health = PeerHealth::new("pve1", settings);
        health.handle_membership(t, &membership(&["pve1", "pve2"]));
        assert_eq!(drain(&mut health, t), ["pve2"]);
        assert_eq!(health.poll_timeout(), None);
        health.handle_timeout(secs(t, 1e6));
        health.handle_probe_result(secs(t, 1e6), "pve2", ProbeOutcome::Failed);
        assert_eq!(
            health.state("pve2"),
            NodeState::Offline,
            "0 failures is read as 1"
        );
        assert_eq!(health.poll_timeout(), None, "the next probe is never due");
    }

    #[test]
    fn states_display_as_the_api_words() {
        assert_eq!(NodeState::Online.to_string(), "online");
        assert_eq!(NodeState::Offline.to_string(), "offline");
        assert_eq!(NodeState::Unknown.to_string(), "unknown");
    }
}
