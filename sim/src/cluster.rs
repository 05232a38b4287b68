//! A whole simulated cluster on turmoil: N nodes running the production pveproxy and pvedaemon
//! ([`crate::node`]), client hosts making real HTTPS calls ([`ApiClient`]), faults scripted at
//! simulated instants or applied between steps, and the [`Trace`] of it all.
//!
//! ```no_run
//! use std::time::Duration;
//! use corral_sim::cluster::{Cluster, Fault};
//!
//! let mut cluster = Cluster::builder().nodes(3).seed(7).build();
//! cluster.client("client1", |api| async move {
//!     let login = api.login_admin("pve1").await?;
//!     api.get("pve1", "/api2/json/nodes/pve3/status", Some(&login)).await?;
//!     Ok(())
//! });
//! cluster.at(Duration::from_secs(5), Fault::crash("pve3"));
//! cluster.run().unwrap_or_else(|failure| panic!("{failure}"));
//! print!("{}", cluster.trace());
//! ```
//!
//! Hosts: node `pveN` at `10.0.0.N` (its `corosync.conf` `ring0_addr`), clients at `10.0.1.x`
//! unless placed elsewhere ([`Cluster::client_at`]). Everything a run decides comes from the
//! seed: turmoil's latencies and link failures, the order hosts are polled in (with
//! [`Builder::random_order`]), and what a randomized runner draws from
//! [`Cluster::seed`]. Time starts at [`crate::EPOCH_SECS`]. Key material is the committed
//! [`crate::fixtures`].
//!
//! Driving it: add clients and schedule faults, then [`Cluster::run`] (until every client is
//! done) or [`Cluster::run_until`] / [`Cluster::step`]; faults due by the current time are
//! applied before each step. A failure ([`SimFailure`]) names the seed and the command that
//! replays it; so does a panic while the cluster is alive (a failed assertion), unless a
//! failure already said it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use corral_io::access::{COROSYNC_CONF, SHADOW_CFG, TIMEZONE, USER_CFG};
use corral_io::access_log::MemoryLog;
use corral_io::authkey;
use corral_io::files::MemFs;
use corral_io::proxy_settings::CONFIG_PATH;

use crate::client::{ApiClient, node_ip};
use crate::files::NodeFiles;
use crate::fixtures::{self, NODES_MAX};
use crate::node::{self, NodeSpec};
use crate::trace::{HOST_WIDTH, SIM_HOST, Trace};
use crate::{EPOCH_SECS, SimClock};

/// The environment variable that overrides a scenario's seed (for replaying a failure).
pub const SEED_ENV: &str = "CORRAL_SIM_SEED";

/// The seed from [`SEED_ENV`] when set, else `default`; set to anything but a number (or not
/// Unicode), an error rather than a silent `default`: a replay that ran another seed would
/// pass for the wrong reason.
pub fn seed_from_env(default: u64) -> Result<u64, SeedError> {
    match std::env::var(SEED_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(text)) => Err(SeedError(text.to_string_lossy().into())),
        Ok(text) => text.trim().parse().map_err(|_| SeedError(text)),
    }
}

/// [`SEED_ENV`] is set to something that is not a seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError(pub String);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SEED_ENV}={:?} is not a seed (a number from 0 to {}); unset it to run the \
             default seed",
            self.0,
            u64::MAX
        )
    }
}

impl std::error::Error for SeedError {}

/// The default step: messages are delivered at step boundaries, so this is the network's
/// resolution. Each step polls every host, so a finer one costs wall time (5 ms: a minute of
/// simulated cluster takes about a second in a debug build); nothing in corral needs finer.
pub const DEFAULT_TICK: Duration = Duration::from_millis(5);

/// How a cluster is set up.
#[derive(Debug, Clone)]
pub struct Builder {
    nodes: usize,
    seed: u64,
    latency: (Duration, Duration),
    fail_rate: f64,
    tick: Duration,
    duration: Duration,
    random_order: bool,
    pveproxy_config: BTreeMap<String, String>,
    replay: Replay,
}

/// What a failure says replays the run; the seed goes in when the cluster is built, so it is
/// the seed the run has, whatever order the builder's methods were called in.
#[derive(Debug, Clone)]
enum Replay {
    /// The crate's tests, with the seed in [`SEED_ENV`].
    Tests,
    /// Test `name` of `sim/tests/<file>.rs` (all of the file's tests when the name is not
    /// known), with the seed in [`SEED_ENV`].
    Test { file: String, name: Option<String> },
    /// A command given whole.
    Command(String),
}

impl Replay {
    fn command(&self, seed: u64) -> String {
        match self {
            Replay::Tests => format!("{SEED_ENV}={seed} cargo test -p corral-sim"),
            Replay::Test { file, name: None } => {
                format!("{SEED_ENV}={seed} cargo test -p corral-sim --test {file}")
            }
            Replay::Test {
                file,
                name: Some(name),
            } => format!(
                "{SEED_ENV}={seed} cargo test -p corral-sim --test {file} -- {name} --exact"
            ),
            Replay::Command(command) => command.clone(),
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            nodes: 3,
            seed: 0,
            latency: (Duration::from_millis(1), Duration::from_millis(20)),
            fail_rate: 0.0,
            tick: DEFAULT_TICK,
            duration: Duration::from_secs(600),
            random_order: false,
            pveproxy_config: BTreeMap::new(),
            replay: Replay::Tests,
        }
    }
}

impl Builder {
    /// How many nodes (1 to [`NODES_MAX`]; default 3).
    pub fn nodes(mut self, nodes: usize) -> Self {
        assert!(
            (1..=NODES_MAX).contains(&nodes),
            "a simulated cluster has 1 to {NODES_MAX} nodes (one fixture certificate each), not {nodes}"
        );
        self.nodes = nodes;
        self
    }

    /// The seed of every random choice turmoil makes (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Each message takes between `min` and `max` (turmoil's exponential curve; default
    /// 1–20 ms).
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        assert!(min <= max, "latency: min {min:?} above max {max:?}");
        self.latency = (min, max);
        self
    }

    /// The chance per message that its link breaks (turmoil's `fail_rate`; default 0).
    pub fn fail_rate(mut self, rate: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&rate),
            "fail rate {rate} is not a probability"
        );
        self.fail_rate = rate;
        self
    }

    /// The simulation's step (default [`DEFAULT_TICK`]; not zero: time would never pass).
    pub fn tick(mut self, tick: Duration) -> Self {
        assert!(
            !tick.is_zero(),
            "a tick of zero never advances the simulation"
        );
        self.tick = tick;
        self
    }

    /// The simulated time after which a run that has not finished fails (default 10 min).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Poll the hosts in an order drawn from the seed each step, instead of a fixed one.
    pub fn random_order(mut self, random: bool) -> Self {
        self.random_order = random;
        self
    }

    /// Every node's `/etc/default/pveproxy` (default: none, Proxmox's defaults).
    pub fn pveproxy_config(mut self, text: &str) -> Self {
        for index in 0..NODES_MAX {
            self.pveproxy_config
                .insert(fixtures::node_name(index), text.to_owned());
        }
        self
    }

    /// One node's `/etc/default/pveproxy`.
    pub fn pveproxy_config_of(mut self, node: &str, text: &str) -> Self {
        self.pveproxy_config
            .insert(node.to_owned(), text.to_owned());
        self
    }

    /// The command a failure says replays it (default: the crate's tests with the seed).
    pub fn replay_command(mut self, command: impl Into<String>) -> Self {
        self.replay = Replay::Command(command.into());
        self
    }

    /// Replayed by the calling test of `sim/tests/<file>.rs`, with the run's seed in
    /// [`SEED_ENV`]: the test's name is its thread's, as the test harness names it (without
    /// one, all of the file's tests).
    pub fn replay_test(self, file: &str) -> Self {
        let thread = std::thread::current();
        let name = thread.name().filter(|&name| name != "main");
        self.replay_test_named(file, name)
    }

    /// Replayed by test `name` (all tests when `None`) of `sim/tests/<file>.rs`, with the run's
    /// seed in [`SEED_ENV`].
    pub fn replay_test_named(mut self, file: &str, name: Option<&str>) -> Self {
        self.replay = Replay::Test {
            file: file.to_owned(),
            name: name.map(str::to_owned),
        };
        self
    }

    /// The cluster, its nodes started (they run from the first step).
    pub fn build(self) -> Cluster {
        let mut turmoil = turmoil::Builder::new();
        turmoil
            .rng_seed(self.seed)
            .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
            .simulation_duration(self.duration)
            .tick_duration(self.tick)
            .min_message_latency(self.latency.0)
            .max_message_latency(self.latency.1)
            .fail_rate(self.fail_rate);
        if self.random_order {
            turmoil.enable_random_order();
        }
        let replay = self.replay.command(self.seed);
        let mut cluster = Cluster {
            sim: turmoil.build(),
            seed: self.seed,
            replay,
            trace: Trace::default(),
            nodes: Vec::new(),
            hosts: BTreeMap::new(),
            schedule: Vec::new(),
            clients: 0,
            reported: false,
        };
        let shared = shared_files(self.nodes);
        for index in 0..self.nodes {
            let name = fixtures::node_name(index);
            let config = self.pveproxy_config.get(&name).map(String::as_str);
            cluster.add_node(&name, NodeFiles::new(shared.clone(), local_files(config)));
        }
        cluster
    }
}

/// A simulated cluster; see the module's documentation.
pub struct Cluster {
    sim: turmoil::Sim<'static>,
    seed: u64,
    replay: String,
    trace: Trace,
    nodes: Vec<NodeHandle>,
    /// Every host by name: nodes and clients.
    hosts: BTreeMap<String, IpAddr>,
    /// Faults to apply, by time (equal times in the order they were added).
    schedule: Vec<(Duration, Fault)>,
    clients: u8,
    /// A [`SimFailure`] (which names the replay) was handed out.
    reported: bool,
}

/// What the harness keeps of a node across its crashes.
#[derive(Debug, Clone)]
struct NodeHandle {
    name: String,
    files: NodeFiles,
    access_log: MemoryLog,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("seed", &self.seed)
            .field("elapsed", &self.sim.elapsed())
            .field("hosts", &self.hosts)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn add_node(&mut self, name: &str, files: NodeFiles) {
        let ip = node_ip(name).expect("fixture node names are pveN");
        check_host_name(name);
        let spec = NodeSpec {
            name: name.to_owned(),
            files: files.clone(),
            access_log: MemoryLog::default(),
            trace: self.trace.clone(),
        };
        self.nodes.push(NodeHandle {
            name: name.to_owned(),
            files,
            access_log: spec.access_log.clone(),
        });
        self.hosts.insert(name.to_owned(), ip);
        self.sim.host(ip, move || node::run(spec.clone()));
    }

    /// Adds a client host named `name` at the next address of `10.0.1.0/24`, running `body`
    /// with its [`ApiClient`]. A body's error fails the run.
    pub fn client<F, Fut>(&mut self, name: &str, body: F)
    where
        F: FnOnce(ApiClient) -> Fut,
        Fut: Future<Output = turmoil::Result> + 'static,
    {
        self.clients = self
            .clients
            .checked_add(1)
            .filter(|&n| n < 255)
            .expect("at most 254 clients in 10.0.1.0/24");
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 1, self.clients));
        self.client_at(name, ip, body);
    }

    /// Adds a client host named `name` at `ip` (a subnet a node's ACL allows or denies). The
    /// name is the trace's host column: 1 to [`HOST_WIDTH`] characters, no spaces.
    pub fn client_at<F, Fut>(&mut self, name: &str, ip: IpAddr, body: F)
    where
        F: FnOnce(ApiClient) -> Fut,
        Fut: Future<Output = turmoil::Result> + 'static,
    {
        check_host_name(name);
        assert!(
            !self.hosts.contains_key(name) && !self.hosts.values().any(|&a| a == ip),
            "host {name} at {ip}: the name or the address is taken"
        );
        self.hosts.insert(name.to_owned(), ip);
        let api = ApiClient::new(name, self.trace.clone());
        let trace = self.trace.clone();
        let name = name.to_owned();
        let run = body(api);
        self.sim.client(ip, async move {
            let result = run.await;
            match &result {
                Ok(()) => trace.event(&name, "done"),
                Err(e) => trace.event(&name, format_args!("failed: {e}")),
            }
            result
        });
    }

    /// Applies `fault` once the simulated time reaches `at` (before the step that starts
    /// there; at once when that is past).
    pub fn at(&mut self, at: Duration, fault: Fault) {
        self.check(&fault);
        let index = self.schedule.partition_point(|(time, _)| *time <= at);
        self.schedule.insert(index, (at, fault));
    }

    /// Applies `fault` now (between steps), and traces it.
    pub fn apply(&mut self, fault: Fault) {
        self.check(&fault);
        self.trace.push(self.sim.elapsed(), SIM_HOST, &fault);
        let ip = |name: &str| self.hosts[name];
        match &fault {
            Fault::Partition(a, b) => self.sim.partition(ip(a), ip(b)),
            Fault::PartitionOneway { from, to } => self.sim.partition_oneway(ip(from), ip(to)),
            Fault::Repair(a, b) => self.sim.repair(ip(a), ip(b)),
            Fault::RepairOneway { from, to } => self.sim.repair_oneway(ip(from), ip(to)),
            Fault::Hold(a, b) => self.sim.hold(ip(a), ip(b)),
            Fault::Release(a, b) => self.sim.release(ip(a), ip(b)),
            Fault::Latency { a, b, latency } => self.sim.set_link_latency(ip(a), ip(b), *latency),
            Fault::FailRate { a, b, rate } => {
                let (a, b) = (ip(a), ip(b));
                self.sim.set_link_fail_rate(a, b, *rate);
            }
            Fault::Crash(node) => {
                let node = ip(node);
                self.sim.crash(node);
            }
            Fault::Bounce(node) => {
                let node = ip(node);
                self.sim.bounce(node);
            }
        }
    }

    /// A fault naming a host that does not exist, or crashing a client, is a scenario's bug.
    fn check(&self, fault: &Fault) {
        for host in fault.hosts() {
            assert!(
                self.hosts.contains_key(host),
                "{fault}: no host {host} (hosts: {:?})",
                self.hosts.keys().collect::<Vec<_>>()
            );
        }
        if let Fault::Crash(host) | Fault::Bounce(host) = fault {
            assert!(
                self.nodes.iter().any(|node| &node.name == host),
                "{fault}: only nodes crash and restart"
            );
        }
        if let Fault::FailRate { rate, .. } = fault {
            assert!(
                (0.0..=1.0).contains(rate),
                "{fault}: the fail rate {rate} is not a probability"
            );
        }
    }

    /// One step of simulated time, after applying the faults due. True once every client is
    /// done.
    pub fn step(&mut self) -> Result<bool, SimFailure> {
        let now = self.sim.elapsed();
        let due = self.schedule.partition_point(|(at, _)| *at <= now);
        for (_, fault) in self.schedule.drain(..due).collect::<Vec<_>>() {
            self.apply(fault);
        }
        match self.sim.step() {
            Ok(done) => Ok(done),
            Err(error) => {
                self.reported = true;
                Err(self.failure(error.to_string()))
            }
        }
    }

    /// Runs until every client is done.
    pub fn run(&mut self) -> Result<(), SimFailure> {
        while !self.step()? {}
        Ok(())
    }

    /// Runs until the simulated time reaches `at`, whether or not the clients are done.
    pub fn run_until(&mut self, at: Duration) -> Result<(), SimFailure> {
        while self.sim.elapsed() < at {
            self.step()?;
        }
        Ok(())
    }

    /// The simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The command that replays this run.
    pub fn replay(&self) -> &str {
        &self.replay
    }

    /// The trace so far (it keeps growing as the run goes on).
    pub fn trace(&self) -> Trace {
        self.trace.clone()
    }

    /// The names of the nodes, `pve1` first.
    pub fn nodes(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.name.clone()).collect()
    }

    /// Every host's address by name.
    pub fn hosts(&self) -> &BTreeMap<String, IpAddr> {
        &self.hosts
    }

    /// Whether `node`'s daemons run (not crashed).
    pub fn is_running(&mut self, node: &str) -> bool {
        let ip = self.hosts[node];
        self.sim.is_host_running(ip)
    }

    /// `node`'s pveproxy access log so far.
    pub fn access_log(&self, node: &str) -> Vec<String> {
        self.node(node).access_log.0.borrow().clone()
    }

    /// `node`'s files: the shared `/etc/pve` and its own.
    pub fn files(&self, node: &str) -> &NodeFiles {
        &self.node(node).files
    }

    fn node(&self, name: &str) -> &NodeHandle {
        self.nodes
            .iter()
            .find(|node| node.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// The end of the trace, as a failure shows it.
    pub fn trace_tail(&self) -> String {
        self.trace.tail(TAIL_LINES)
    }

    fn failure(&self, error: String) -> SimFailure {
        SimFailure {
            error,
            seed: self.seed,
            at: self.sim.elapsed(),
            replay: self.replay.clone(),
            trace_tail: self.trace_tail(),
        }
    }
}

/// How many trace lines a failure shows.
const TAIL_LINES: usize = 30;

/// A failed assertion while the cluster is alive says how to replay the run too (once: not
/// when a [`SimFailure`], which says it, was handed out).
impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.reported {
            eprintln!(
                "a check failed on the simulation with seed {} (at {}ms); replay: {}\n\
                 last events:\n{}",
                self.seed,
                self.sim.elapsed().as_millis(),
                self.replay,
                self.trace_tail()
            );
        }
    }
}

/// Why a run failed: a host's error or turmoil's (the run did not finish in time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFailure {
    pub error: String,
    pub seed: u64,
    pub at: Duration,
    pub replay: String,
    pub trace_tail: String,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\nsimulation with seed {} failed at {}ms; replay: {}\nlast events:\n{}",
            self.error,
            self.seed,
            self.at.as_millis(),
            self.replay,
            self.trace_tail
        )
    }
}

impl std::error::Error for SimFailure {}

/// A fault between hosts (by name), or of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// No message passes between `a` and `b` either way; messages in flight are lost.
    Partition(String, String),
    /// No message passes from `from` to `to`.
    PartitionOneway {
        from: String,
        to: String,
    },
    Repair(String, String),
    RepairOneway {
        from: String,
        to: String,
    },
    /// Messages between `a` and `b` wait (and are delivered all at once on release).
    Hold(String, String),
    Release(String, String),
    /// Every message between `a` and `b` takes exactly `latency`.
    Latency {
        a: String,
        b: String,
        latency: Duration,
    },
    /// The chance per message that the link between `a` and `b` breaks.
    FailRate {
        a: String,
        b: String,
        rate: f64,
    },
    /// The node's daemons stop at once (its files stay).
    Crash(String),
    /// The node's daemons start again (after a crash: a restart).
    Bounce(String),
}

impl Fault {
    pub fn partition(a: &str, b: &str) -> Fault {
        Fault::Partition(a.to_owned(), b.to_owned())
    }

    pub fn partition_oneway(from: &str, to: &str) -> Fault {
        Fault::PartitionOneway {
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    pub fn repair(a: &str, b: &str) -> Fault {
        Fault::Repair(a.to_owned(), b.to_owned())
    }

    pub fn repair_oneway(from: &str, to: &str) -> Fault {
        Fault::RepairOneway {
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    pub fn hold(a: &str, b: &str) -> Fault {
        Fault::Hold(a.to_owned(), b.to_owned())
    }

    pub fn release(a: &str, b: &str) -> Fault {
        Fault::Release(a.to_owned(), b.to_owned())
    }

    pub fn latency(a: &str, b: &str, latency: Duration) -> Fault {
        Fault::Latency {
            a: a.to_owned(),
            b: b.to_owned(),
            latency,
        }
    }

    pub fn fail_rate(a: &str, b: &str, rate: f64) -> Fault {
        Fault::FailRate {
            a: a.to_owned(),
            b: b.to_owned(),
            rate,
        }
    }

    pub fn crash(node: &str) -> Fault {
        Fault::Crash(node.to_owned())
    }

    pub fn bounce(node: &str) -> Fault {
        Fault::Bounce(node.to_owned())
    }

    /// The hosts the fault names.
    pub fn hosts(&self) -> Vec<&str> {
        match self {
            Fault::Partition(a, b)
            | Fault::Repair(a, b)
            | Fault::Hold(a, b)
            | Fault::Release(a, b)
            | Fault::Latency { a, b, .. }
            | Fault::FailRate { a, b, .. } => vec![a, b],
            Fault::PartitionOneway { from, to } | Fault::RepairOneway { from, to } => {
                vec![from, to]
            }
            Fault::Crash(node) | Fault::Bounce(node) => vec![node],
        }
    }
}

/// How the trace shows it: `partition pve1 <-> pve3`, `partition pve1 -> pve3`, `crash pve3`.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Partition(a, b) => write!(f, "partition {a} <-> {b}"),
            Fault::PartitionOneway { from, to } => write!(f, "partition {from} -> {to}"),
            Fault::Repair(a, b) => write!(f, "repair {a} <-> {b}"),
            Fault::RepairOneway { from, to } => write!(f, "repair {from} -> {to}"),
            Fault::Hold(a, b) => write!(f, "hold {a} <-> {b}"),
            Fault::Release(a, b) => write!(f, "release {a} <-> {b}"),
            Fault::Latency { a, b, latency } => {
                write!(f, "latency {a} <-> {b} {}ms", latency.as_millis())
            }
            Fault::FailRate { a, b, rate } => write!(f, "fail rate {a} <-> {b} {rate}"),
            Fault::Crash(node) => write!(f, "crash {node}"),
            Fault::Bounce(node) => write!(f, "restart {node}"),
        }
    }
}

/// The shared `/etc/pve` of `nodes` nodes: the fixtures and `corosync.conf`, every file
/// modified at the epoch ([`SimClock`]'s time outside a simulation), so no key is due for
/// rotation during a run.
fn shared_files(nodes: usize) -> MemFs {
    let fs = MemFs::new(Arc::new(SimClock));
    fs.insert(USER_CFG, fixtures::USER_CFG, authkey::SHARED_MODE);
    fs.insert(SHADOW_CFG, fixtures::SHADOW_CFG, authkey::PRIVATE_MODE);
    fs.insert(
        COROSYNC_CONF,
        fixtures::corosync_conf(nodes),
        authkey::SHARED_MODE,
    );
    fs.insert(
        authkey::AUTHKEY_PRIVATE,
        fixtures::AUTHKEY_KEY,
        authkey::PRIVATE_MODE,
    );
    fs.insert(
        authkey::AUTHKEY_PUBLIC,
        fixtures::AUTHKEY_PUB,
        authkey::SHARED_MODE,
    );
    fs.insert(authkey::WWW_KEY, fixtures::WWW_KEY, authkey::SHARED_MODE);
    fs.insert(
        "/etc/pve/pve-root-ca.pem",
        fixtures::CA_PEM,
        authkey::SHARED_MODE,
    );
    for index in 0..nodes {
        let name = fixtures::node_name(index);
        let (cert, key) = fixtures::node_cert(index).expect("nodes are at most NODES_MAX");
        let dir = format!("/etc/pve/nodes/{name}");
        fs.insert(format!("{dir}/pve-ssl.pem"), cert, authkey::SHARED_MODE);
        fs.insert(format!("{dir}/pve-ssl.key"), key, authkey::SHARED_MODE);
    }
    fs
}

/// A node's own files: its time zone, and its `/etc/default/pveproxy` when given.
fn local_files(pveproxy_config: Option<&str>) -> MemFs {
    let fs = MemFs::new(Arc::new(SimClock));
    fs.insert(TIMEZONE, "Etc/UTC\n", 0o644);
    if let Some(text) = pveproxy_config {
        fs.insert(CONFIG_PATH, text, 0o644);
    }
    fs
}

/// A host's name is the trace's host column: 1 to [`HOST_WIDTH`] characters, none of them
/// white space or control characters, so every line keeps its columns.
fn check_host_name(name: &str) {
    let length = name.chars().count();
    assert!(
        (1..=HOST_WIDTH).contains(&length)
            && !name.chars().any(|c| c.is_whitespace() || c.is_control()),
        "host name {name:?}: the trace needs 1 to {HOST_WIDTH} characters without spaces"
    );
}
