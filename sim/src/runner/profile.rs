//! What a seed draws, as TigerBeetle's VOPR draws its `options_swarm`: the cluster's size and
//! network, which kinds of fault are enabled and how many strike when, how many clients there
//! are, how fast each one calls, and the mix of requests. Swarm testing: a seed enables only
//! some fault kinds and request kinds, so across seeds every combination, and the absence of
//! each, gets its turn. Everything comes from one ChaCha8 stream seeded with the seed, so a
//! seed draws the same profile on every machine and every run.

use std::fmt;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::oracle::{KIND_NAMES, KINDS, Request};
use crate::cluster::Fault;
use crate::fixtures::{self, NODES_MAX};

/// The smallest cluster drawn: forwarding needs two nodes.
pub const NODES_MIN: usize = 2;
/// The most safety-phase clients.
pub const CLIENTS_MAX: usize = 4;
/// The most fault events in one seed's safety phase.
pub const FAULTS_MAX: usize = 12;
/// A client's requests are bounded (a fast client in a long phase stops here).
pub const STEPS_MAX: usize = 2_000;
/// The longest pause a client makes between requests (each client draws its own bound).
const PAUSE_MS_MAX: u64 = 3_000;
/// A slow link's fixed latency (each message, each way).
const SLOW_LINK_MS: (u64, u64) = (50, 1_000);
/// A failing link's chance per message to break.
const FAIL_RATE: (f64, f64) = (0.005, 0.1);
/// How long a fault lasts: short, medium or long, drawn with equal chance.
const FAULT_MS: [(u64, u64); 3] = [(200, 3_000), (3_000, 15_000), (15_000, 40_000)];
/// The chance that a link fault strikes a client's link rather than two nodes', when the seed
/// lets faults touch client links at all.
const CLIENT_LINK_CHANCE: f64 = 0.3;

/// A kind of fault the swarm may enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Partition,
    OneWay,
    Hold,
    Latency,
    FailRate,
    Crash,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Partition,
        FaultKind::OneWay,
        FaultKind::Hold,
        FaultKind::Latency,
        FaultKind::FailRate,
        FaultKind::Crash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::OneWay => "one-way",
            FaultKind::Hold => "hold",
            FaultKind::Latency => "latency",
            FaultKind::FailRate => "fail-rate",
            FaultKind::Crash => "crash",
        }
    }
}

/// One fault: `fault` applied at `start`, `undo` at `end` (both within the safety phase).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultEvent {
    pub kind: FaultKind,
    pub start: Duration,
    pub end: Duration,
    pub fault: Fault,
    pub undo: Fault,
}

/// One request of a client: after `pause`, `request` sent to node `via`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub pause: Duration,
    pub via: String,
    pub request: Request,
}

/// A safety-phase client: its name (a host of the simulation) and its requests, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPlan {
    pub name: String,
    pub steps: Vec<Step>,
}

/// Everything a seed decides before the simulation starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub seed: u64,
    pub nodes: Vec<String>,
    /// Whether turmoil polls the hosts in a seeded random order each step.
    pub random_order: bool,
    /// Every link's latency range (turmoil's exponential curve between the two).
    pub latency: (Duration, Duration),
    /// The fault kinds enabled (the faults drawn are of these kinds only).
    pub kinds: Vec<FaultKind>,
    /// Whether link faults may strike a client's link to a node.
    pub client_links: bool,
    pub faults: Vec<FaultEvent>,
    /// Each request kind's weight, in [`KIND_NAMES`] order.
    pub mix: [u32; KINDS],
    pub clients: Vec<ClientPlan>,
}

impl Profile {
    /// The profile of `seed` for a safety phase of `safety`.
    pub fn draw(seed: u64, safety: Duration) -> Profile {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let node_count = rng.random_range(NODES_MIN..=NODES_MAX);
        let nodes: Vec<String> = (0..node_count).map(fixtures::node_name).collect();
        let random_order = rng.random_bool(0.5);
        let latency_min = rng.random_range(0..=5);
        let latency_max = latency_min + rng.random_range(1..=100);
        let kinds: Vec<FaultKind> = FaultKind::ALL
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let client_links = rng.random_bool(0.5);
        let client_count = rng.random_range(1..=CLIENTS_MAX);
        let client_names: Vec<String> = (1..=client_count).map(|n| format!("client{n}")).collect();
        let fault_count = if kinds.is_empty() {
            0
        } else {
            rng.random_range(1..=FAULTS_MAX)
        };
        let world = World {
            nodes: &nodes,
            clients: &client_names,
            kinds: &kinds,
            client_links,
            safety,
            base_latency: Duration::from_millis((latency_min + latency_max) / 2),
        };
        let mut faults: Vec<FaultEvent> = (0..fault_count).map(|_| world.fault(&mut rng)).collect();
        faults.sort_by_key(|event| event.start);
        let mix = draw_mix(&mut rng);
        let clients = client_names
            .iter()
            .map(|name| ClientPlan {
                name: name.clone(),
                steps: draw_steps(&mut rng, &nodes, &mix, safety),
            })
            .collect();
        Profile {
            seed,
            nodes,
            random_order,
            latency: (
                Duration::from_millis(latency_min),
                Duration::from_millis(latency_max),
            ),
            kinds,
            client_links,
            faults,
            mix,
            clients,
        }
    }

    /// The latency a slowed link gets back when it heals: the middle of the seed's range, as
    /// a fixed value (turmoil sets one link's latency, not its range).
    pub fn healed_latency(&self) -> Duration {
        (self.latency.0 + self.latency.1) / 2
    }
}

/// `4 nodes, latency 2-57ms, random order, faults partition,crash x5 (client links too),
/// 3 clients, mix time:3 status:1`.
impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} nodes, latency {}-{}ms{}, ",
            self.nodes.len(),
            self.latency.0.as_millis(),
            self.latency.1.as_millis(),
            if self.random_order {
                ", random order"
            } else {
                ""
            }
        )?;
        if self.faults.is_empty() {
            write!(f, "no faults")?;
        } else {
            let kinds: Vec<&str> = self.kinds.iter().map(|kind| kind.name()).collect();
            write!(f, "faults {} x{}", kinds.join(","), self.faults.len())?;
            if self.client_links {
                write!(f, " (client links too)")?;
            }
        }
        let mix: Vec<String> = KIND_NAMES
            .iter()
            .zip(self.mix)
            .filter(|(_, weight)| *weight > 0)
            .map(|(name, weight)| format!("{name}:{weight}"))
            .collect();
        write!(f, ", {} clients, mix {}", self.clients.len(), mix.join(" "))
    }
}

/// What fault drawing needs to know.
struct World<'a> {
    nodes: &'a [String],
    clients: &'a [String],
    kinds: &'a [FaultKind],
    client_links: bool,
    safety: Duration,
    base_latency: Duration,
}

impl World<'_> {
    fn fault(&self, rng: &mut ChaCha8Rng) -> FaultEvent {
        assert!(!self.kinds.is_empty(), "a fault needs an enabled kind");
        let kind = self.kinds[rng.random_range(0..self.kinds.len())];
        let safety_ms = u64::try_from(self.safety.as_millis()).unwrap_or(u64::MAX);
        let start = rng.random_range(0..safety_ms.max(1));
        let (short, long) = FAULT_MS[rng.random_range(0..FAULT_MS.len())];
        let end = (start + rng.random_range(short..=long)).min(safety_ms);
        let (fault, undo) = match kind {
            FaultKind::Crash => {
                let node = pick(rng, self.nodes);
                (Fault::crash(node), Fault::bounce(node))
            }
            _ => {
                let (a, b) = self.link(rng);
                match kind {
                    FaultKind::Partition => (Fault::partition(a, b), Fault::repair(a, b)),
                    FaultKind::OneWay => {
                        (Fault::partition_oneway(a, b), Fault::repair_oneway(a, b))
                    }
                    FaultKind::Hold => (Fault::hold(a, b), Fault::release(a, b)),
                    FaultKind::Latency => {
                        let ms = rng.random_range(SLOW_LINK_MS.0..=SLOW_LINK_MS.1);
                        (
                            Fault::latency(a, b, Duration::from_millis(ms)),
                            Fault::latency(a, b, self.base_latency),
                        )
                    }
                    _ => {
                        let rate = rng.random_range(FAIL_RATE.0..=FAIL_RATE.1);
                        (Fault::fail_rate(a, b, rate), Fault::fail_rate(a, b, 0.0))
                    }
                }
            }
        };
        FaultEvent {
            kind,
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
            fault,
            undo,
        }
    }

    /// Two nodes, or (sometimes, when the seed allows) a client and a node, in random order.
    fn link<'a>(&'a self, rng: &mut ChaCha8Rng) -> (&'a str, &'a str) {
        let a = pick(rng, self.nodes);
        let client_link = self.client_links && rng.random_bool(CLIENT_LINK_CHANCE);
        let b = if client_link {
            pick(rng, self.clients)
        } else {
            let others: Vec<&String> = self.nodes.iter().filter(|node| *node != a).collect();
            others[rng.random_range(0..others.len())].as_str()
        };
        if rng.random_bool(0.5) { (a, b) } else { (b, a) }
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, names: &'a [String]) -> &'a str {
    names[rng.random_range(0..names.len())].as_str()
}

/// Each request kind's weight, 0 to 4, half of them 0 (at least one kind is left).
fn draw_mix(rng: &mut ChaCha8Rng) -> [u32; KINDS] {
    let mut mix = [0; KINDS];
    for weight in &mut mix {
        if rng.random_bool(0.5) {
            *weight = rng.random_range(1..=4);
        }
    }
    if mix.iter().all(|&weight| weight == 0) {
        mix[rng.random_range(0..KINDS)] = 1;
    }
    mix
}

/// A client's requests: each after a pause up to the client's own bound, until the pauses
/// fill the safety phase.
fn draw_steps(
    rng: &mut ChaCha8Rng,
    nodes: &[String],
    mix: &[u32; KINDS],
    safety: Duration,
) -> Vec<Step> {
    let pause_max = rng.random_range(100..=PAUSE_MS_MAX);
    let total: u32 = mix.iter().sum();
    let mut steps = Vec::new();
    let mut planned = Duration::ZERO;
    while planned < safety && steps.len() < STEPS_MAX {
        let pause = Duration::from_millis(rng.random_range(0..=pause_max));
        planned += pause;
        let mut draw = rng.random_range(0..total);
        let kind = mix
            .iter()
            .position(|&weight| {
                let hit = draw < weight;
                draw = draw.saturating_sub(weight);
                hit
            })
            .unwrap_or(0);
        let target = pick(rng, nodes);
        let via = pick(rng, nodes).to_owned();
        steps.push(Step {
            pause,
            via,
            request: Request::of_kind(kind, target),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_draws_the_same_profile_and_faults_stay_in_the_safety_phase() {
        let safety = Duration::from_secs(60);
        for seed in 0..50 {
            let profile = Profile::draw(seed, safety);
            assert_eq!(profile, Profile::draw(seed, safety), "seed {seed}");
            assert!((NODES_MIN..=NODES_MAX).contains(&profile.nodes.len()));
            assert!((1..=CLIENTS_MAX).contains(&profile.clients.len()));
            assert!(profile.mix.iter().any(|&weight| weight > 0));
            for event in &profile.faults {
                assert!(profile.kinds.contains(&event.kind), "{event:?}");
                assert!(event.start <= event.end && event.end <= safety, "{event:?}");
                for host in event.fault.hosts() {
                    let client = profile.clients.iter().any(|c| c.name == host);
                    assert!(profile.nodes.iter().any(|n| n == host) || client);
                    assert!(!client || profile.client_links, "{event:?}");
                }
            }
        }
        assert_ne!(Profile::draw(1, safety), Profile::draw(2, safety));
    }
}
