//! A tour of a three-node cluster through every kind of fault, for one seed: what CI runs in
//! two processes to compare their traces byte for byte (`sim-trace SEED`), and what the
//! determinism test runs twice in one process.
//!
//! Two clients: `client1` logs in and calls every node through every node, then through a
//! held link (released a second later), a slow one, a partition (repaired), and a crash and
//! restart of pve2 (watching `GET /nodes` see it go offline and come back); `client2` guesses
//! a password (401 after 3 s) and then calls pve3 over a link that fails at random for a
//! while. The seed decides the latencies, the order hosts run in each step, and which of
//! client2's messages break its link.
//!
//! The faults' times are the constants below, so a test can check what the trace says
//! against them (`tests/determinism.rs`).

use std::ops::Range;
use std::time::Duration;

use crate::client::{ApiClient, Reply};
use crate::cluster::{Cluster, Fault};
use crate::fixtures::ADMIN;
use crate::trace::Trace;

const SECOND: Duration = Duration::from_secs(1);
const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];

/// pve1 <-> pve2 is held (messages wait, delivered at the end); client1's call for pve2 via
/// pve1 starts at [`HELD_CALL`].
pub const HELD: Range<Duration> = Duration::from_secs(2)..Duration::from_secs(3);
pub const HELD_CALL: Duration = Duration::from_millis(2100);

/// Every message between pve1 and pve3 takes [`SLOW_LATENCY`]; client1's call for pve3 via
/// pve1 starts as the link slows.
pub const SLOW: Range<Duration> = Duration::from_secs(4)..Duration::from_secs(6);
pub const SLOW_LATENCY: Duration = Duration::from_millis(200);
/// The link's latency once it is fast again.
const FAST_LATENCY: Duration = Duration::from_millis(5);

/// pve2 | pve3: over 2 s after the probes at 5 s, so no pooled connection crosses the cut.
pub const CUT: Range<Duration> = Duration::from_millis(7500)..Duration::from_millis(7900);
const CUT_CALLS: Duration = Duration::from_millis(7600);

/// pve2 is down.
pub const CRASHED: Range<Duration> = Duration::from_secs(9)..Duration::from_secs(22);

/// The link between client2 and pve3 breaks with [`FAIL_RATE`] per message; client2 calls
/// pve3 in it, and once more after it, at [`AFTER_FAILING`].
pub const FAILING: Range<Duration> = Duration::from_secs(9)..Duration::from_secs(12);
pub const FAIL_RATE: f64 = 0.03;
pub const AFTER_FAILING: Duration = Duration::from_secs(13);

/// Runs the tour with `seed`; the trace, or the failure (which names the seed and `replay`).
pub fn run(seed: u64, replay: &str) -> Result<Trace, crate::cluster::SimFailure> {
    let mut cluster = Cluster::builder()
        .nodes(3)
        .seed(seed)
        .random_order(true)
        .replay_command(replay)
        .build();
    cluster.client("client1", client1);
    cluster.client("client2", client2);
    cluster.at(HELD.start, Fault::hold("pve1", "pve2"));
    cluster.at(HELD.end, Fault::release("pve1", "pve2"));
    cluster.at(SLOW.start, Fault::latency("pve1", "pve3", SLOW_LATENCY));
    cluster.at(SLOW.end, Fault::latency("pve1", "pve3", FAST_LATENCY));
    cluster.at(CUT.start, Fault::partition("pve2", "pve3"));
    cluster.at(CUT.end, Fault::repair("pve2", "pve3"));
    cluster.at(CRASHED.start, Fault::crash("pve2"));
    cluster.at(CRASHED.end, Fault::bounce("pve2"));
    cluster.at(
        FAILING.start,
        Fault::fail_rate("client2", "pve3", FAIL_RATE),
    );
    cluster.at(FAILING.end, Fault::fail_rate("client2", "pve3", 0.0));
    cluster.run()?;
    Ok(cluster.trace())
}

/// Calls whose outcome the faults decide are traced, not checked: the trace is the result.
async fn client1(api: ApiClient) -> turmoil::Result {
    let login = api.login_admin("pve1").await?;
    let get = async |via: &str, path: &str| api.get(via, path, Some(&login)).await;
    for via in NODES {
        for target in NODES {
            let _ = get(via, &format!("/api2/json/nodes/{target}/status")).await;
        }
    }
    // Held: the call waits for the release.
    api.until(HELD_CALL).await;
    let _ = get("pve1", "/api2/json/nodes/pve2/time").await;
    // Slow each way.
    api.until(SLOW.start).await;
    let _ = get("pve1", "/api2/json/nodes/pve3/time").await;
    // pve2 | pve3.
    api.until(CUT_CALLS).await;
    let _ = get("pve2", "/api2/json/nodes/pve3/status").await;
    let _ = get("pve2", "/api2/json/nodes/pve1/status").await;
    // pve2 crashed: offline once two probes failed, by 21 s; restarted at 22 s.
    api.until(21 * SECOND).await;
    if let Ok(reply) = get("pve1", "/api2/json/nodes").await {
        note_states(&api, &reply);
    }
    api.until(28 * SECOND).await;
    if let Ok(reply) = get("pve3", "/api2/json/nodes").await {
        note_states(&api, &reply);
    }
    let _ = get("pve1", "/api2/json/nodes/pve2/status").await;
    Ok(())
}

async fn client2(api: ApiClient) -> turmoil::Result {
    api.until(SECOND).await;
    api.login("pve3", ADMIN, "a guess").await?;
    let login = api.login_admin("pve3").await?;
    // The link to pve3 fails at random: a message lost leaves its call waiting (no resends),
    // so these give up after a second; whichever fail is fine.
    api.until(FAILING.start).await;
    let impatient = api.clone().with_timeout(SECOND);
    for _ in 0..5 {
        let _ = impatient
            .get("pve3", "/api2/json/cluster/status", Some(&login))
            .await;
    }
    api.until(AFTER_FAILING).await;
    let _ = api.get("pve3", "/api2/json/version", Some(&login)).await;
    Ok(())
}

/// Writes each node's state from a `GET /nodes` reply to the trace.
fn note_states(api: &ApiClient, reply: &Reply) {
    let data = reply.data();
    let states: Vec<String> = data
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|entry| {
                    let node = entry["node"].as_str().unwrap_or("?");
                    let state = entry["status"].as_str().unwrap_or("?");
                    format!("{node} {state}")
                })
                .collect()
        })
        .unwrap_or_default();
    api.note(format_args!("sees {}", states.join(", ")));
}
