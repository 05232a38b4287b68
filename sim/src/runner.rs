//! The randomized runner (issue #6, point 5), after TigerBeetle's VOPR: each seed draws a
//! swarm [`Profile`] (cluster size, network, enabled fault kinds and their faults, clients and
//! their request mix), then runs three phases on a simulated cluster:
//!
//! 1. **Safety** ([`Options::safety`], 60 s): the clients send their requests while the faults
//!    strike. Every outcome is judged by the [`Oracle`] as it arrives: the fault-free answer,
//!    or a transport error (595/596/597, or no reply) across a path a fault touched — never
//!    another node's answer, never anything else.
//! 2. **Liveness** ([`Options::liveness`], 60 s): at the end of the safety phase everything
//!    heals (every faulted link repaired, released, its latency and fail rate reset; every
//!    node running). A fresh client then logs in via every node and asks every node, through
//!    every node, for `GET /nodes/<b>/time`; each pair must give the fault-free answer before
//!    the bound (fresh connections are fine; a stale one times out within `SILENCE_MAX`, 30 s,
//!    so the bound exceeds it). Transport errors are retried every second; a wrong answer is a
//!    correctness failure at once.
//! 3. **Leftovers**: once every client is done, the cluster idles [`Options::quiet`] (40 s:
//!    more than `SILENCE_MAX` plus the 5 s keep-alive timeout, so every forward and
//!    connection a fault left behind has timed out), then turmoil's established TCP streams
//!    are counted on every host, every node is crashed, and the nodes' streams are counted
//!    again: what a crash leaves are turmoil's orphaned sockets of connects that never
//!    completed, not streams anything holds. The rule ([`Leftovers::check`]): beyond its
//!    orphans, no client host holds a stream (a call's connection task owns its stream, so
//!    one left running would show), and each node holds at most [`PROBE_STREAMS_PER_PEER`]
//!    per other node (the connections of the peer probes, one each way). More is a leak: a
//!    correctness failure.
//!
//! A panic anywhere in the simulation (caught per step, and recorded by a panic hook even
//! when tokio swallows it in a spawned task) or an error of turmoil is a crash. Each kind of
//! failure has its exit code ([`FailureKind::exit_code`]), and every failure names the command
//! that replays it ([`replay_command`]).

pub mod oracle;
pub mod profile;
pub mod steady;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Once;
use std::time::{Duration, Instant};

use corral_io::access::TIMEZONE;

use crate::client::{ApiClient, CallError, Login, Reply, outcome_text};
use crate::cluster::{Cluster, Fault};
use crate::host::ZONES;
use crate::trace::now;
use oracle::{CallInfo, Class, Oracle, Request, Window, is_transport};
use profile::{ClientPlan, FaultKind, Profile};

/// How long the faults strike, by default.
pub const SAFETY: Duration = Duration::from_secs(60);
/// How long after the heal every node must answer for every node, by default.
pub const LIVENESS: Duration = Duration::from_secs(60);
/// How long the cluster idles before its streams are counted, by default.
pub const QUIET: Duration = Duration::from_secs(40);
/// How long after a fault ended its effects still excuse a transport error, by default: a
/// restarted node takes a moment to listen again, and a pooled connection is reused for up to
/// `IDLE_KEEP` (2 s).
pub const GRACE: Duration = Duration::from_secs(2);
/// The streams a node may hold per other node when idle: the probe connection it keeps to
/// the other node and the one it accepted from it (measured: never more on a node of an idle
/// cluster, over 800 seeds).
pub const PROBE_STREAMS_PER_PEER: usize = 2;
/// How long the liveness client waits between tries of a pair.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// The runner's step, by default: twice [`DEFAULT_TICK`]. Each step polls every host, so
/// the step is most of an idle cluster's cost (a 10 ms step runs seeds about a third faster
/// than 5 ms); the runner's latencies and timeouts are tens of milliseconds and more.
pub const TICK: Duration = Duration::from_millis(10);
/// The hosts the runner adds besides the safety clients.
const LIVE_HOST: &str = "live";
const CHECK_HOST: &str = "check";

/// How the runner runs each seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub safety: Duration,
    pub liveness: Duration,
    pub quiet: Duration,
    pub grace: Duration,
    pub tick: Duration,
    pub canary: Option<Canary>,
    /// Keep the whole trace in the report ([`SeedReport::trace`]).
    pub keep_trace: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            safety: SAFETY,
            liveness: LIVENESS,
            quiet: QUIET,
            grace: GRACE,
            tick: TICK,
            canary: None,
            keep_trace: false,
        }
    }
}

/// A deliberate bug, to show the runner catches each kind of failure (a canary must fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canary {
    /// The oracle believes pve1 has pve2's zone: pve1's true answers look like another
    /// node's (a correctness failure, at the latest in the liveness phase).
    WrongNode,
    /// pve1 and pve2 stay partitioned after the heal (a liveness failure).
    NoHeal,
    /// The liveness client panics (a crash).
    Panic,
    /// The liveness client leaves a task holding a connection to pve1 (a leak: a correctness
    /// failure after the quiet period).
    Leak,
}

impl Canary {
    pub const NAMES: [&str; 4] = ["wrong-node", "no-heal", "panic", "leak"];

    pub fn name(self) -> &'static str {
        match self {
            Canary::WrongNode => Canary::NAMES[0],
            Canary::NoHeal => Canary::NAMES[1],
            Canary::Panic => Canary::NAMES[2],
            Canary::Leak => Canary::NAMES[3],
        }
    }
}

impl FromStr for Canary {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "wrong-node" => Ok(Canary::WrongNode),
            "no-heal" => Ok(Canary::NoHeal),
            "panic" => Ok(Canary::Panic),
            "leak" => Ok(Canary::Leak),
            _ => Err(format!(
                "no canary '{text}' (one of {})",
                Canary::NAMES.join(", ")
            )),
        }
    }
}

/// What kind of failure a seed found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// A wrong answer, a transport error without a fault on its path, or a leak.
    Correctness,
    /// A node did not answer correctly within the bound after the heal.
    Liveness,
    /// A panic, or an error of turmoil (a host's software failed).
    Crash,
}

impl FailureKind {
    /// The runner's exit code: 1 correctness, 2 liveness, 3 crash.
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Correctness => 1,
            FailureKind::Liveness => 2,
            FailureKind::Crash => 3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Correctness => "correctness",
            FailureKind::Liveness => "liveness",
            FailureKind::Crash => "crash",
        }
    }
}

/// A seed's failure: its kind, what happened, when (simulated time), and the trace's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub at: Duration,
    pub trace_tail: String,
}

impl Failure {
    /// A failure of `kind` at `cluster`'s time, with the end of its trace.
    fn now(cluster: &Cluster, kind: FailureKind, message: String) -> Failure {
        Failure {
            kind,
            message,
            at: cluster.elapsed(),
            trace_tail: cluster.trace_tail(),
        }
    }
}

/// How the requests of a seed came out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Safety-phase requests judged.
    pub requests: u32,
    pub correct: u32,
    /// 595/596/597 across a faulted path.
    pub transport: u32,
    /// No reply across a faulted path.
    pub no_reply: u32,
    /// Requests of the liveness phase (tries included).
    pub liveness: u32,
}

/// A host's established TCP streams (turmoil's count) after the quiet period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStreams {
    /// What turmoil counts on the host.
    pub counted: usize,
    /// How many of them may be turmoil's orphans (see [`Leftovers`]).
    pub orphans: usize,
    /// How many streams the host may hold when idle.
    pub allowed: usize,
}

impl HostStreams {
    /// The streams beyond the orphans and the allowance.
    pub fn leaked(&self) -> usize {
        self.counted
            .saturating_sub(self.orphans)
            .saturating_sub(self.allowed)
    }
}

/// The streams left on each host after the quiet period, and the leak rule.
///
/// turmoil 0.7.2 registers a stream's socket when a connect starts and removes it only when
/// the stream is dropped; a connect that fails (refused across a partition) or is given up
/// (its SYN lost, its timeout passed) never made a stream, so its socket stays counted for
/// good. Those orphans are told apart from streams something still holds:
///
/// - on a node, by crashing every node once the streams are counted: a crash drops every task
///   and every stream it holds, so what turmoil still counts then are the orphans;
/// - on a client (which cannot crash), by its calls that failed in the connect or timed out:
///   each may have left one.
///
/// The rule: beyond its orphans, a client holds no stream (its calls' connection tasks are
/// over), and a node at most [`PROBE_STREAMS_PER_PEER`] per other node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    pub streams: BTreeMap<String, HostStreams>,
}

impl Leftovers {
    pub fn check(&self) -> Result<(), String> {
        let leaks: Vec<String> = self
            .streams
            .iter()
            .filter(|(_, streams)| streams.leaked() > 0)
            .map(|(host, streams)| {
                format!(
                    "{host} {} (orphans {}, allowed {})",
                    streams.counted, streams.orphans, streams.allowed
                )
            })
            .collect();
        if leaks.is_empty() {
            return Ok(());
        }
        Err(format!(
            "streams left behind after the quiet period: {}",
            leaks.join(", ")
        ))
    }

    /// The streams beyond the orphans, on all hosts.
    pub fn held(&self) -> usize {
        self.streams
            .values()
            .map(|streams| streams.counted.saturating_sub(streams.orphans))
            .sum()
    }

    /// The orphans, on all hosts.
    pub fn orphans(&self) -> usize {
        self.streams.values().map(|streams| streams.orphans).sum()
    }
}

/// What one seed did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub seed: u64,
    pub profile: Profile,
    pub counts: Counts,
    /// How long after the heal the last pair answered correctly.
    pub converged: Option<Duration>,
    pub leftovers: Option<Leftovers>,
    pub simulated: Duration,
    pub wall: Duration,
    pub failure: Option<Failure>,
    /// The whole trace, with [`Options::keep_trace`].
    pub trace: Option<String>,
}

impl SeedReport {
    /// The seed's line: its profile, its requests and how they came out, the liveness phase,
    /// the streams left, and the time taken.
    pub fn summary(&self) -> String {
        let counts = &self.counts;
        let converged = match self.converged {
            Some(took) => format!("healed in {:.1}s", took.as_secs_f64()),
            None => "not healed".to_owned(),
        };
        let streams = match &self.leftovers {
            Some(leftovers) => format!(
                "{} streams held, {} orphans",
                leftovers.held(),
                leftovers.orphans()
            ),
            None => "streams not counted".to_owned(),
        };
        let outcome = match &self.failure {
            Some(failure) => format!("FAILED ({})", failure.kind.name()),
            None => "ok".to_owned(),
        };
        format!(
            "seed {}: {}; {} requests: {} correct, {} 59x, {} no reply; {} ({} tries); {}; \
             {:.0}s simulated in {:.2}s: {outcome}",
            self.seed,
            self.profile,
            counts.requests,
            counts.correct,
            counts.transport,
            counts.no_reply,
            converged,
            counts.liveness,
            streams,
            self.simulated.as_secs_f64(),
            self.wall.as_secs_f64(),
        )
    }
}

/// The command that replays `seed` with `options`.
pub fn replay_command(seed: u64, options: &Options) -> String {
    let defaults = Options::default();
    let mut command = format!("cargo run -p corral-sim --release -- --seed {seed}");
    let secs = |d: Duration| d.as_secs();
    if options.safety != defaults.safety {
        command += &format!(" --safety {}", secs(options.safety));
    }
    if options.liveness != defaults.liveness {
        command += &format!(" --liveness {}", secs(options.liveness));
    }
    if options.quiet != defaults.quiet {
        command += &format!(" --quiet {}", secs(options.quiet));
    }
    if options.grace != defaults.grace {
        command += &format!(" --grace-ms {}", options.grace.as_millis());
    }
    if options.tick != defaults.tick {
        command += &format!(" --tick-ms {}", options.tick.as_millis());
    }
    if let Some(canary) = options.canary {
        command += &format!(" --canary {}", canary.name());
    }
    command
}

/// Runs one seed: its three phases, until the first failure.
pub fn run_seed(seed: u64, options: &Options) -> SeedReport {
    let wall = Instant::now();
    let profile = Profile::draw(seed, options.safety);
    let mut report = SeedReport {
        seed,
        profile: profile.clone(),
        counts: Counts::default(),
        converged: None,
        leftovers: None,
        simulated: Duration::ZERO,
        wall: Duration::ZERO,
        failure: None,
        trace: None,
    };
    let capture = PanicCapture::arm();
    let built = panic::catch_unwind(AssertUnwindSafe(|| setup(&profile, options)));
    let (mut cluster, shared) = match built {
        Ok(built) => built,
        Err(payload) => {
            report.failure = Some(Failure {
                kind: FailureKind::Crash,
                message: format!("setting up the cluster panicked: {}", panic_text(&*payload)),
                at: Duration::ZERO,
                trace_tail: String::new(),
            });
            report.wall = wall.elapsed();
            return report;
        }
    };
    let mut failure = drive(&mut cluster, &shared, options);
    let panics = capture.take();
    if let Some(first) = panics.first()
        && failure
            .as_ref()
            .is_none_or(|f| f.kind != FailureKind::Crash)
    {
        let message = format!(
            "{} panic(s) in the simulation; the first: {first}",
            panics.len()
        );
        failure = Some(Failure::now(&cluster, FailureKind::Crash, message));
    }
    report.counts = *shared.counts.borrow();
    report.converged = shared.converged.get();
    report.leftovers = shared.leftovers.borrow().clone();
    report.simulated = cluster.elapsed();
    report.failure = failure;
    if options.keep_trace {
        report.trace = Some(cluster.trace().to_string());
    }
    // A cluster a panic left half-way may panic again as it goes; that changes nothing.
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(cluster)));
    report.wall = wall.elapsed();
    report
}

/// What the simulated hosts share with the runner (one thread: `Rc`, `Cell`).
struct Shared {
    oracle: Oracle,
    /// Each node's real zone (what `PUT /time` sets).
    zones: BTreeMap<String, String>,
    nodes: Vec<String>,
    counts: RefCell<Counts>,
    /// The first failure found inside the simulation, and when.
    failure: RefCell<Option<(FailureKind, String, Duration)>>,
    /// Clients (safety and liveness) that are done.
    done: Cell<usize>,
    converged: Cell<Option<Duration>>,
    /// Per client host, its calls that failed in the connect or timed out (each may have left
    /// an orphan: see [`Leftovers`]).
    unfinished_connects: RefCell<BTreeMap<String, usize>>,
    /// The checker counted the streams; the runner is to crash every node.
    counted: Cell<bool>,
    /// The runner crashed every node; the checker is to count the orphans.
    crashed: Cell<bool>,
    leftovers: RefCell<Option<Leftovers>>,
}

impl Shared {
    fn fail(&self, kind: FailureKind, message: String) {
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some((kind, message, now()));
        }
    }

    /// Notes a call that failed before the connect completed, or timed out.
    fn note_outcome(&self, client: &str, outcome: &Result<Reply, CallError>) {
        if let Err(CallError::Connect(_) | CallError::TimedOut(_)) = outcome {
            *self
                .unfinished_connects
                .borrow_mut()
                .entry(client.to_owned())
                .or_default() += 1;
        }
    }

    fn zone(&self, node: &str) -> &str {
        self.zones
            .get(node)
            .map(String::as_str)
            .unwrap_or("Etc/UTC")
    }
}

/// The cluster with its zones, clients and faults, and what its hosts share.
fn setup(profile: &Profile, options: &Options) -> (Cluster, Rc<Shared>) {
    let safety = options.safety;
    let deadline = safety + options.liveness;
    let slack = crate::client::CALL_TIMEOUT + Duration::from_secs(60);
    let mut cluster = Cluster::builder()
        .nodes(profile.nodes.len())
        .seed(profile.seed)
        .latency(profile.latency.0, profile.latency.1)
        .random_order(profile.random_order)
        .tick(options.tick)
        .duration(deadline + options.quiet + slack)
        .replay_command(replay_command(profile.seed, options))
        .build();
    let zones = set_zones(&cluster, &profile.nodes);
    let mut believed = zones.clone();
    if options.canary == Some(Canary::WrongNode) {
        believed.insert("pve1".to_owned(), zones["pve2"].clone());
    }
    let windows = profile
        .faults
        .iter()
        .map(|event| Window::of(&event.fault, event.start, event.end))
        .collect();
    let shared = Rc::new(Shared {
        oracle: Oracle::new(profile.nodes.clone(), believed, windows, options.grace),
        zones,
        nodes: profile.nodes.clone(),
        counts: RefCell::default(),
        failure: RefCell::default(),
        done: Cell::new(0),
        converged: Cell::new(None),
        unfinished_connects: RefCell::default(),
        counted: Cell::new(false),
        crashed: Cell::new(false),
        leftovers: RefCell::default(),
    });
    for plan in &profile.clients {
        let (plan, shared) = (plan.clone(), Rc::clone(&shared));
        cluster.client(&plan.name.clone(), move |api| {
            safety_client(api, plan, shared, safety)
        });
    }
    let live = Rc::clone(&shared);
    let canary = options.canary;
    cluster.client(LIVE_HOST, move |api| {
        live_client(api, live, (safety, deadline), canary)
    });
    let hosts = cluster.hosts().clone();
    let check = Rc::clone(&shared);
    let clients = profile.clients.len() + 1;
    let quiet = options.quiet;
    cluster.client(CHECK_HOST, move |_| checker(check, clients, quiet, hosts));
    schedule(&mut cluster, profile, options);
    (cluster, shared)
}

/// Gives every node its own zone ([`ZONES`], in order): the field that tells who answered.
/// Written before the run, the file is dated at the simulation's start, as the fixtures are.
fn set_zones(cluster: &Cluster, nodes: &[String]) -> BTreeMap<String, String> {
    nodes
        .iter()
        .zip(ZONES)
        .map(|(node, zone)| {
            let local = cluster.files(node).local();
            local.insert(TIMEZONE, format!("{zone}\n"), 0o644);
            (node.clone(), zone.to_owned())
        })
        .collect()
}

/// The seed's faults and their undoing, then the heal at the end of the safety phase
/// (scheduled after the undoing of faults that end at the same instant), then the no-heal
/// canary's partition.
fn schedule(cluster: &mut Cluster, profile: &Profile, options: &Options) {
    for event in &profile.faults {
        cluster.at(event.start, event.fault.clone());
        cluster.at(event.end, event.undo.clone());
    }
    for fault in heal(profile) {
        cluster.at(options.safety, fault);
    }
    if options.canary == Some(Canary::NoHeal) {
        cluster.at(options.safety, Fault::partition("pve1", "pve2"));
    }
}

/// Everything that heals the links the seed's faults touched: held messages released, the
/// link repaired both ways, its latency and fail rate back. (Every crash's restart is already
/// scheduled within the safety phase; the runner checks that every node runs after it.)
fn heal(profile: &Profile) -> Vec<Fault> {
    let mut links: BTreeMap<(String, String), (bool, bool)> = BTreeMap::new();
    for event in &profile.faults {
        if let [a, b] = event.fault.hosts()[..] {
            let pair = if a < b { (a, b) } else { (b, a) };
            let flags = links
                .entry((pair.0.to_owned(), pair.1.to_owned()))
                .or_default();
            flags.0 |= event.kind == FaultKind::Latency;
            flags.1 |= event.kind == FaultKind::FailRate;
        }
    }
    let mut faults = Vec::new();
    for ((a, b), (slowed, failing)) in links {
        faults.push(Fault::release(&a, &b));
        faults.push(Fault::repair(&a, &b));
        if slowed {
            faults.push(Fault::latency(&a, &b, profile.healed_latency()));
        }
        if failing {
            faults.push(Fault::fail_rate(&a, &b, 0.0));
        }
    }
    faults
}

/// Steps the cluster until every client is done or a failure shows; panics are caught per
/// step.
fn drive(cluster: &mut Cluster, shared: &Shared, options: &Options) -> Option<Failure> {
    let mut restarted = false;
    loop {
        if !restarted && cluster.elapsed() > options.safety {
            // A node still down after the safety phase would be the schedule's bug; restart it
            // all the same, so the liveness phase is about the nodes, not the schedule.
            for node in cluster.nodes() {
                if !cluster.is_running(&node) {
                    cluster.apply(Fault::bounce(&node));
                }
            }
            restarted = true;
        }
        if shared.counted.get() && !shared.crashed.get() {
            // The streams are counted: crash every node, so the checker sees turmoil's
            // orphans (see `Leftovers`).
            for node in cluster.nodes() {
                cluster.apply(Fault::crash(&node));
            }
            shared.crashed.set(true);
        }
        let stepped = panic::catch_unwind(AssertUnwindSafe(|| cluster.step()));
        let found = shared.failure.borrow_mut().take();
        if let Some((kind, message, at)) = found {
            return Some(Failure {
                at,
                ..Failure::now(cluster, kind, message)
            });
        }
        match stepped {
            Ok(Ok(true)) => return None,
            Ok(Ok(false)) => {}
            Ok(Err(failure)) => {
                return Some(Failure {
                    kind: FailureKind::Crash,
                    message: format!("the simulation failed: {}", failure.error),
                    at: failure.at,
                    trace_tail: failure.trace_tail,
                });
            }
            Err(payload) => {
                let message = format!("panic: {}", panic_text(&*payload));
                return Some(Failure::now(cluster, FailureKind::Crash, message));
            }
        }
    }
}

/// A safety-phase client: its planned requests, each judged as its outcome arrives, until the
/// safety phase ends. Without a ticket (at first, or when every login so far failed) a
/// request that needs one is replaced by a login via the same node.
async fn safety_client(
    api: ApiClient,
    plan: ClientPlan,
    shared: Rc<Shared>,
    safety: Duration,
) -> turmoil::Result {
    let mut login: Option<Login> = None;
    for step in plan.steps {
        tokio::time::sleep(step.pause).await;
        if now() >= safety {
            break;
        }
        let request = match (&login, step.request.needs_ticket()) {
            (None, true) => Request::Login,
            _ => step.request,
        };
        let zone = match &request {
            Request::SetTime(target) | Request::SetTimeNoCsrf(target) => shared.zone(target),
            _ => "",
        };
        let call = request.call(login.as_ref(), zone);
        let started = now();
        let outcome = api.send(&step.via, call).await;
        shared.note_outcome(&plan.name, &outcome);
        let info = CallInfo {
            client: &plan.name,
            via: &step.via,
            request: &request,
            started,
            ended: now(),
        };
        let judged = shared.oracle.judge(&info, &outcome);
        let mut counts = shared.counts.borrow_mut();
        counts.requests += 1;
        match judged {
            Ok(Class::Correct) => counts.correct += 1,
            Ok(Class::Transport(_)) => counts.transport += 1,
            Ok(Class::NoReply) => counts.no_reply += 1,
            Err(why) => {
                drop(counts);
                shared.fail(FailureKind::Correctness, describe(&info, &outcome, &why));
                return Ok(());
            }
        }
        drop(counts);
        if let (Request::Login, Ok(reply)) = (&request, &outcome)
            && let Some(fresh) = Login::from_reply(reply)
        {
            login = Some(fresh);
        }
    }
    shared.done.set(shared.done.get() + 1);
    Ok(())
}

/// The liveness client: from the heal at `start`, a login via every node and
/// `GET /nodes/<b>/time` for every `b` via every node, all correct by `deadline`.
async fn live_client(
    api: ApiClient,
    shared: Rc<Shared>,
    (start, deadline): (Duration, Duration),
    canary: Option<Canary>,
) -> turmoil::Result {
    api.until(start).await;
    assert!(
        canary != Some(Canary::Panic),
        "canary: a deliberate panic in the liveness client"
    );
    let tasks: Vec<_> = shared
        .nodes
        .iter()
        .map(|via| {
            let (api, shared, via) = (api.clone(), Rc::clone(&shared), via.clone());
            tokio::task::spawn_local(async move { live_via(&api, &shared, &via, deadline).await })
        })
        .collect();
    let mut converged = true;
    for task in tasks {
        converged &= task.await.unwrap_or(false);
    }
    if converged {
        shared.converged.set(Some(now().saturating_sub(start)));
    }
    if canary == Some(Canary::Leak) {
        let pve1 = std::net::SocketAddr::new(
            crate::client::node_ip("pve1").ok_or("no pve1")?,
            crate::client::PVEPROXY_PORT,
        );
        let stream = turmoil::net::TcpStream::connect(pve1).await?;
        tokio::task::spawn_local(async move {
            let _held = stream;
            std::future::pending::<()>().await;
        });
    }
    shared.done.set(shared.done.get() + 1);
    Ok(())
}

/// Via one node: a login, then every node's time, each tried until correct or `deadline`.
async fn live_via(api: &ApiClient, shared: &Shared, via: &str, deadline: Duration) -> bool {
    let Some(reply) = live_try(api, shared, via, &Request::Login, None, deadline).await else {
        return false;
    };
    let Some(login) = Login::from_reply(&reply) else {
        return false;
    };
    for target in &shared.nodes {
        let request = Request::NodeTime(target.clone());
        if live_try(api, shared, via, &request, Some(&login), deadline)
            .await
            .is_none()
        {
            return false;
        }
    }
    true
}

/// Tries `request` via `via` until it gets the fault-free answer (returned); a transport
/// error is tried again after [`RETRY_PAUSE`], a wrong answer fails the seed at once, and so
/// does `deadline` (a liveness failure).
async fn live_try(
    api: &ApiClient,
    shared: &Shared,
    via: &str,
    request: &Request,
    login: Option<&Login>,
    deadline: Duration,
) -> Option<Reply> {
    let mut last = String::from("no try");
    loop {
        let left = deadline.saturating_sub(now());
        if left.is_zero() {
            shared.fail(
                FailureKind::Liveness,
                format!(
                    "{request} via {via} got no correct answer by {}ms, the liveness bound; the \
                     last try: {last}",
                    deadline.as_millis()
                ),
            );
            return None;
        }
        let started = now();
        let outcome = api
            .clone()
            .with_timeout(left)
            .send(via, request.call(login, ""))
            .await;
        shared.counts.borrow_mut().liveness += 1;
        shared.note_outcome(LIVE_HOST, &outcome);
        match &outcome {
            Ok(reply) if !is_transport(reply.status) => {
                return match shared.oracle.expect(via, request, started, now(), reply) {
                    Ok(()) => Some(reply.clone()),
                    Err(why) => {
                        let info = CallInfo {
                            client: LIVE_HOST,
                            via,
                            request,
                            started,
                            ended: now(),
                        };
                        shared.fail(FailureKind::Correctness, describe(&info, &outcome, &why));
                        None
                    }
                };
            }
            Ok(reply) => last = format!("{} {}", reply.status, reply.reason),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// Waits until the `clients` (safety and liveness) are done, lets the cluster idle `quiet`,
/// counts every host's established streams, has the runner crash every node, counts the
/// nodes' orphans, and applies [`Leftovers::check`].
async fn checker(
    shared: Rc<Shared>,
    clients: usize,
    quiet: Duration,
    hosts: BTreeMap<String, IpAddr>,
) -> turmoil::Result {
    while shared.done.get() < clients {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(quiet).await;
    let count = |ip: IpAddr| turmoil::established_tcp_stream_count_on(ip);
    let counted: BTreeMap<&String, usize> =
        hosts.iter().map(|(name, ip)| (name, count(*ip))).collect();
    shared.counted.set(true);
    while !shared.crashed.get() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let peers = shared.nodes.len().saturating_sub(1);
    let unfinished = shared.unfinished_connects.borrow();
    let streams = hosts
        .iter()
        .map(|(name, ip)| {
            let is_node = shared.nodes.contains(name);
            let streams = HostStreams {
                counted: counted[name],
                orphans: if is_node {
                    count(*ip)
                } else {
                    unfinished.get(name).copied().unwrap_or(0)
                },
                allowed: if is_node {
                    PROBE_STREAMS_PER_PEER * peers
                } else {
                    0
                },
            };
            (name.clone(), streams)
        })
        .collect();
    drop(unfinished);
    let leftovers = Leftovers { streams };
    if let Err(why) = leftovers.check() {
        shared.fail(FailureKind::Correctness, why);
    }
    *shared.leftovers.borrow_mut() = Some(leftovers);
    Ok(())
}

/// `client2: GET /nodes/pve3/time via pve1 at 12345ms (took 20ms) -> 200 OK: <why>`.
fn describe(info: &CallInfo<'_>, outcome: &Result<Reply, CallError>, why: &str) -> String {
    format!(
        "{}: {} via {} at {}ms (took {}ms) -> {}: {why}",
        info.client,
        info.request,
        info.via,
        info.started.as_millis(),
        info.ended.saturating_sub(info.started).as_millis(),
        outcome_text(outcome)
    )
}

/// A panic's message.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(not a text)".to_owned()
    }
}

thread_local! {
    /// The panics on this thread while a seed runs (`None`: not capturing).
    static PANICS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Captures the panics of this thread, including those tokio catches in a spawned task (which
/// would otherwise pass unnoticed), instead of printing them; other threads' panics go to the
/// previous hook as before.
struct PanicCapture;

impl PanicCapture {
    fn arm() -> PanicCapture {
        HOOK.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                let captured = PANICS.with(|panics| match panics.try_borrow_mut() {
                    Ok(mut panics) => match panics.as_mut() {
                        Some(list) => {
                            list.push(info.to_string().replace('\n', " "));
                            true
                        }
                        None => false,
                    },
                    Err(_) => false,
                });
                if !captured {
                    previous(info);
                }
            }));
        });
        PANICS.with(|panics| *panics.borrow_mut() = Some(Vec::new()));
        PanicCapture
    }

    fn take(self) -> Vec<String> {
        PANICS.with(|panics| panics.borrow_mut().take().unwrap_or_default())
    }
}

impl Drop for PanicCapture {
    fn drop(&mut self) {
        PANICS.with(|panics| {
            if let Ok(mut panics) = panics.try_borrow_mut() {
                *panics = None;
            }
        });
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failure at {}ms: {}\nlast events:\n{}",
            self.kind.name(),
            self.at.as_millis(),
            self.message,
            self.trace_tail
        )
    }
}
