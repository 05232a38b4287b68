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

use std::time::Duration;

use crate::client::{ApiClient, Reply};
use crate::cluster::{Cluster, Fault};
use crate::fixtures::ADMIN;
use crate::trace::Trace;

const SECOND: Duration = Duration::from_secs(1);
const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];

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
    let at = |secs: u64| Duration::from_secs(secs);
    cluster.at(at(2), Fault::hold("pve1", "pve2"));
    cluster.at(at(3), Fault::release("pve1", "pve2"));
    cluster.at(
        at(4),
        Fault::latency("pve1", "pve3", Duration::from_millis(200)),
    );
    cluster.at(
        at(6),
        Fault::latency("pve1", "pve3", Duration::from_millis(5)),
    );
    // Over 2 s after the probes at 5 s, so no pooled connection crosses the cut.
    cluster.at(ms(7500), Fault::partition("pve2", "pve3"));
    cluster.at(ms(7900), Fault::repair("pve2", "pve3"));
    cluster.at(at(9), Fault::crash("pve2"));
    cluster.at(at(22), Fault::bounce("pve2"));
    cluster.at(at(9), Fault::fail_rate("client2", "pve3", 0.03));
    cluster.at(at(12), Fault::fail_rate("client2", "pve3", 0.0));
    cluster.run()?;
    Ok(cluster.trace())
}

/// Calls whose outcome the faults decide are traced, not checked: the trace is the result.
async fn client1(api: ApiClient) -> turmoil::Result {
    let login = api.login_admin("pve1").await?;
    let get = |via: &'static str, path: String| {
        let (api, login) = (api.clone(), login.clone());
        async move { api.get(via, &path, Some(&login)).await }
    };
    for via in NODES {
        for target in NODES {
            let _ = get(via, format!("/api2/json/nodes/{target}/status")).await;
        }
    }
    // Held from 2 s to 3 s: the call waits for the release.
    api.until(ms(2100)).await;
    let _ = get("pve1", "/api2/json/nodes/pve2/time".into()).await;
    // 200 ms each way from 4 s.
    api.until(4 * SECOND).await;
    let _ = get("pve1", "/api2/json/nodes/pve3/time".into()).await;
    // pve2 | pve3 from 7.5 s to 7.9 s.
    api.until(ms(7600)).await;
    let _ = get("pve2", "/api2/json/nodes/pve3/status".into()).await;
    let _ = get("pve2", "/api2/json/nodes/pve1/status".into()).await;
    // pve2 crashed at 9 s: offline once two probes failed; restarted at 22 s.
    api.until(21 * SECOND).await;
    if let Ok(reply) = get("pve1", "/api2/json/nodes".into()).await {
        note_states(&api, &reply);
    }
    api.until(28 * SECOND).await;
    if let Ok(reply) = get("pve3", "/api2/json/nodes".into()).await {
        note_states(&api, &reply);
    }
    let _ = get("pve1", "/api2/json/nodes/pve2/status".into()).await;
    Ok(())
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

async fn client2(api: ApiClient) -> turmoil::Result {
    api.until(SECOND).await;
    api.login("pve3", ADMIN, "a guess").await?;
    let login = api.login_admin("pve3").await?;
    // The link to pve3 fails at random from 9 s to 12 s: a message lost leaves its call
    // waiting (no resends), so these give up after a second; whichever fail is fine.
    api.until(9 * SECOND).await;
    let impatient = api.clone().with_timeout(SECOND);
    for _ in 0..5 {
        let _ = impatient
            .get("pve3", "/api2/json/cluster/status", Some(&login))
            .await;
    }
    api.until(13 * SECOND).await;
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
