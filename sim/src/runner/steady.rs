//! The simulator's speed (issue #6, point 6): a fault-free cluster under steady client load,
//! timed on the wall clock. One client per node; each logs in, then until the end calls
//! `GET /nodes/<b>/status` and `GET /nodes/<b>/time` in turn, through every node in turn for
//! every node in turn (so most calls are forwarded, and half reach a pvedaemon), pausing
//! a while after each ([`PAUSE`] by default). Every call is a fresh HTTPS connection from the client, as
//! [`ApiClient`] makes them; the forwarded hop uses pveproxy's pooled connections.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::client::ApiClient;
use crate::cluster::{Cluster, SimFailure};
use crate::trace::now;

/// The pause of each client after each call, by default: with one client per node, a 5-node
/// cluster gets about 10 calls per simulated second (a browser tab of Proxmox's GUI polls a
/// few calls every few seconds).
pub const PAUSE: Duration = Duration::from_millis(500);

/// What a steady run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SteadyReport {
    pub nodes: usize,
    pub clients: usize,
    pub tick: Duration,
    /// Each client's pause after each call.
    pub pause: Duration,
    pub simulated: Duration,
    pub wall: Duration,
    /// Calls that answered 200.
    pub answered: u64,
    /// Calls that did not (a fault-free cluster should have none).
    pub failed: u64,
}

impl SteadyReport {
    /// Simulated seconds per wall-clock second.
    pub fn speed(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

impl fmt::Display for SteadyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let simulated = self.simulated.as_secs_f64();
        write!(
            f,
            "steady load: {} nodes, {} clients pausing {}ms after each call, tick {}ms: {:.0}s \
             simulated in {:.2}s wall = {:.0}x real time; {} calls answered ({:.1}/s \
             simulated), {} failed",
            self.nodes,
            self.clients,
            self.pause.as_millis(),
            self.tick.as_millis(),
            simulated,
            self.wall.as_secs_f64(),
            self.speed(),
            self.answered,
            self.answered as f64 / simulated.max(f64::MIN_POSITIVE),
            self.failed
        )
    }
}

/// Runs `nodes` nodes under steady load for `duration` of simulated time, each client pausing
/// `pause` after each call.
pub fn run(
    nodes: usize,
    duration: Duration,
    pause: Duration,
    tick: Duration,
) -> Result<SteadyReport, SimFailure> {
    let wall = Instant::now();
    let mut cluster = Cluster::builder()
        .nodes(nodes)
        .seed(0)
        .tick(tick)
        .duration(duration + Duration::from_secs(120))
        .replay_command(format!(
            "cargo run -p corral-sim --release -- --steady {nodes} --duration {} --pause-ms {}",
            duration.as_secs(),
            pause.as_millis()
        ))
        .build();
    let names = cluster.nodes();
    let answered = Rc::new(Cell::new(0_u64));
    let failed = Rc::new(Cell::new(0_u64));
    for (index, home) in names.iter().enumerate() {
        let (names, home) = (names.clone(), home.clone());
        let (answered, failed) = (Rc::clone(&answered), Rc::clone(&failed));
        cluster.client(&format!("load{}", index + 1), move |api| async move {
            let counts = Counts { answered, failed };
            load(api, &names, &home, index, (duration, pause), &counts).await
        });
    }
    cluster.run()?;
    Ok(SteadyReport {
        nodes,
        clients: names.len(),
        tick,
        pause,
        simulated: cluster.elapsed(),
        wall: wall.elapsed(),
        answered: answered.get(),
        failed: failed.get(),
    })
}

struct Counts {
    answered: Rc<Cell<u64>>,
    failed: Rc<Cell<u64>>,
}

async fn load(
    api: ApiClient,
    nodes: &[String],
    home: &str,
    index: usize,
    (duration, pause): (Duration, Duration),
    counts: &Counts,
) -> turmoil::Result {
    let login = api.login_admin(home).await?;
    let mut round = index;
    while now() < duration {
        let via = &nodes[round % nodes.len()];
        let target = &nodes[(round / nodes.len()) % nodes.len()];
        let call = if round.is_multiple_of(2) {
            "status"
        } else {
            "time"
        };
        let path = format!("/api2/json/nodes/{target}/{call}");
        let counter = match api.get(via, &path, Some(&login)).await {
            Ok(reply) if reply.status == 200 => &counts.answered,
            _ => &counts.failed,
        };
        counter.set(counter.get() + 1);
        round += 1;
        tokio::time::sleep(pause).await;
    }
    Ok(())
}
