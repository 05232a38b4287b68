//! The same seed gives the same run, byte for byte: the tour of a cluster through every kind
//! of fault ([`corral_sim::tour`]) twice in one process gives one trace, and that trace is the
//! snapshot (`snapshots/determinism__tour_seed_42.snap`), which CI also compares against a run
//! in another process (`cargo run -p corral-sim --bin sim-trace -- 42`). Another seed gives
//! another run. And the tour's faults do what they say, by its trace.

use std::ops::Range;
use std::time::Duration;

use corral_sim::tour;

const SEED: u64 = 42;

fn trace(seed: u64) -> String {
    let replay = format!("cargo run -p corral-sim --bin sim-trace -- {seed}");
    tour::run(seed, &replay)
        .unwrap_or_else(|failure| panic!("{failure}"))
        .to_string()
}

#[test]
fn the_same_seed_gives_the_same_trace_and_another_seed_another() {
    let first = trace(SEED);
    let second = trace(SEED);
    assert!(
        first == second,
        "two runs of seed {SEED} differ:\n--- first\n{first}--- second\n{second}"
    );
    insta::assert_snapshot!("tour_seed_42", first);
    let other = trace(SEED + 1);
    assert_ne!(first, other, "seed {} ran exactly as seed {SEED}", SEED + 1);
}

/// A call as its trace line tells it:
/// `{end}ms {client} {method} {path} via {node} -> {outcome} [{took}ms]`.
#[derive(Debug)]
struct Traced {
    client: String,
    /// `GET /api2/json/... via pve1`.
    call: String,
    /// `200 OK`, or `failed: ...`.
    outcome: String,
    end: Duration,
    took: Duration,
}

impl Traced {
    fn start(&self) -> Duration {
        self.end - self.took
    }

    fn is_ok(&self) -> bool {
        self.outcome == "200 OK"
    }

    fn starts_in(&self, window: &Range<Duration>) -> bool {
        window.contains(&self.start())
    }
}

fn calls(trace: &str) -> Vec<Traced> {
    let millis = |text: &str| {
        text.trim()
            .strip_suffix("ms")
            .and_then(|n| n.parse().ok())
            .map(Duration::from_millis)
    };
    trace
        .lines()
        .filter_map(|line| {
            let (end, rest) = line.trim_start().split_once(' ')?;
            let (client, event) = rest.trim_start().split_once(' ')?;
            let (call, result) = event.trim_start().split_once(" -> ")?;
            let (outcome, took) = result.rsplit_once(" [")?;
            Some(Traced {
                client: client.to_owned(),
                call: call.to_owned(),
                outcome: outcome.to_owned(),
                end: millis(end)?,
                took: millis(took.strip_suffix(']')?)?,
            })
        })
        .collect()
}

/// The one call of `client` that is `call`.
fn only<'a>(calls: &'a [Traced], client: &str, call: &str, trace: &str) -> &'a Traced {
    let found: Vec<&Traced> = calls
        .iter()
        .filter(|c| c.client == client && c.call == call)
        .collect();
    match found[..] {
        [one] => one,
        _ => panic!("{client}: expected one {call}, found {found:?} in\n{trace}"),
    }
}

#[test]
fn the_tour_s_faults_do_what_they_say() {
    let trace = trace(SEED);
    let calls = calls(&trace);
    assert!(calls.len() > 20, "the trace's calls: {calls:?}\n{trace}");

    // Held: the call waits for the release, and then gets through.
    let held = only(
        &calls,
        "client1",
        "GET /api2/json/nodes/pve2/time via pve1",
        &trace,
    );
    assert!(
        held.start() >= tour::HELD.start && held.end >= tour::HELD.end && held.is_ok(),
        "held from {:?} to {:?}: {held:?}",
        tour::HELD.start,
        tour::HELD.end
    );

    // Slow: a call over the link takes at least a message there and one back.
    let slow = only(
        &calls,
        "client1",
        "GET /api2/json/nodes/pve3/time via pve1",
        &trace,
    );
    assert!(
        slow.starts_in(&tour::SLOW) && slow.took >= 2 * tour::SLOW_LATENCY && slow.is_ok(),
        "{:?} each way: {slow:?}",
        tour::SLOW_LATENCY
    );

    // Failing: of client2's calls to pve3 while its link fails at random, at least one fails
    // (with this seed); every call after the window succeeds.
    let failing: Vec<&Traced> = calls
        .iter()
        .filter(|c| c.client == "client2" && c.starts_in(&tour::FAILING))
        .collect();
    assert_eq!(failing.len(), 5, "{failing:?}");
    assert!(
        failing.iter().any(|c| !c.is_ok()),
        "the link fails at {} per message, yet no call failed: {failing:?}",
        tour::FAIL_RATE
    );
    let after: Vec<&Traced> = calls
        .iter()
        .filter(|c| c.client == "client2" && c.start() >= tour::FAILING.end)
        .collect();
    assert!(
        !after.is_empty() && after.iter().all(|c| c.is_ok()),
        "after {:?}: {after:?}",
        tour::FAILING.end
    );
    assert!(
        after.iter().all(|c| c.start() >= tour::AFTER_FAILING),
        "{after:?}"
    );
}
