//! Whole clusters on turmoil (issue #6, point 4): three nodes running the production pveproxy
//! and pvedaemon, clients calling them over HTTPS with the admin's real credentials, and
//! faults — what a user sees, as nodes/tests/cluster.rs checks it over real loopback:
//!
//! - any node forwards to any node (the target's access log shows the forwarding node's
//!   call), and every node sees the others online;
//! - a crashed node gives 595 and serves again after a restart, also to a node that kept a
//!   connection to it from before;
//! - a partition gives 595/596 only across the cut (one-way too), also on a connection kept
//!   from before the cut, and heals with fresh connections;
//! - the proxy loop is refused;
//! - the host ACL by the client's simulated address: a denied subnet is closed before TLS;
//! - a ticket issued on pve1 works on pve2 and pve3;
//! - CSRF is enforced through a hop;
//! - the 401 delay of one client does not delay another.
//!
//! Each test's seed is fixed (`CORRAL_SIM_SEED` overrides it, as a failure's replay line
//! says); with that seed, set or not, a few also snapshot their trace (`snapshots/`; review
//! with `cargo insta review`). pveproxy keeps an idle connection to another node for 2 s, so
//! the faults come within 2 s of a call over the link they cut.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use corral_core::auth::csrf::DENIED_MESSAGE;
use corral_sim::client::{Call, CallError, Reply, node_number};
use corral_sim::cluster::{Builder, Cluster, Fault, seed_from_env};
use corral_sim::fixtures::{ADMIN, ADMIN_PASSWORD};

const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];
const SECOND: Duration = Duration::from_secs(1);

/// A cluster builder for the calling test, with `seed` unless `CORRAL_SIM_SEED` says otherwise,
/// and whether the run is the default seed's (the one the snapshot shows, so that replaying a
/// snapshot's failure with the seed the failure printed checks the snapshot again).
fn builder(seed: u64) -> (Builder, bool) {
    let chosen = seed_from_env(seed).unwrap_or_else(|error| panic!("{error}"));
    let builder = Cluster::builder()
        .nodes(3)
        .seed(chosen)
        .replay_test("cluster");
    (builder, chosen == seed)
}

/// A call's outcome, and when it ended (simulated time).
type Outcome = (Duration, Result<Reply, CallError>);

/// What the clients saw, by label.
#[derive(Debug, Clone, Default)]
struct Seen(Rc<RefCell<BTreeMap<String, Outcome>>>);

impl Seen {
    /// Records a call's outcome as it ends (inside the simulation).
    fn put(&self, label: impl Into<String>, outcome: &Result<Reply, CallError>) {
        let ended = corral_sim::trace::now();
        self.0
            .borrow_mut()
            .insert(label.into(), (ended, outcome.clone()));
    }

    fn outcome(&self, label: &str) -> Outcome {
        self.0
            .borrow()
            .get(label)
            .cloned()
            .unwrap_or_else(|| panic!("{label}: the client never got there"))
    }

    fn reply(&self, label: &str) -> Reply {
        match self.outcome(label).1 {
            Ok(reply) => reply,
            Err(error) => panic!("{label}: expected a reply, the call failed: {error}"),
        }
    }

    fn error(&self, label: &str) -> CallError {
        match self.outcome(label).1 {
            Err(error) => error,
            Ok(reply) => panic!("{label}: expected the call to fail, got {reply}"),
        }
    }

    /// When the call ended, in simulated time.
    fn ended(&self, label: &str) -> Duration {
        self.outcome(label).0
    }

    /// When the call started, in simulated time.
    fn started(&self, label: &str) -> Duration {
        self.ended(label) - self.reply(label).took
    }
}

fn expect(seen: &Seen, label: &str, status: u16) -> Reply {
    let reply = seen.reply(label);
    assert_eq!(
        reply.status, status,
        "{label}: expected {status}, got {reply}"
    );
    reply
}

/// A reply with `status` and `reason` (a transport failure's status line, as pveproxy relays
/// it).
fn expect_failure(seen: &Seen, label: &str, status: u16, reason: &str) -> Reply {
    let reply = expect(seen, label, status);
    assert_eq!(
        reply.reason, reason,
        "{label}: expected {status} {reason}, got {reply}"
    );
    reply
}

/// The lines of `node`'s access log for `GET path` from host `from` (a node or a client).
fn logged(cluster: &Cluster, node: &str, from: &str, path: &str) -> Vec<String> {
    let from = cluster.hosts()[from].to_string();
    let request = format!("\"GET {path} HTTP/1.1\" ");
    cluster
        .access_log(node)
        .into_iter()
        .filter(|line| {
            let peer = line.split(' ').next().unwrap_or_default();
            peer.trim_start_matches("::ffff:") == from && line.contains(&request)
        })
        .collect()
}

/// The status an access log line gives.
fn logged_status(line: &str) -> &str {
    line.split("HTTP/1.1\" ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default()
}

/// The state `GET /nodes` gave `node`.
fn node_state(reply: &Reply, node: &str) -> String {
    let data = reply.data();
    let entry = data
        .as_array()
        .and_then(|nodes| nodes.iter().find(|entry| entry["node"] == node))
        .unwrap_or_else(|| panic!("GET /nodes: no entry for {node}: {reply}"));
    entry["status"].as_str().unwrap_or_default().to_owned()
}

fn run(cluster: &mut Cluster) {
    cluster.run().unwrap_or_else(|failure| panic!("{failure}"));
}

#[test]
fn any_node_forwards_to_any_node_and_sees_the_others_online() {
    let (builder, _) = builder(1);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        for via in NODES {
            for target in NODES {
                // The status is pveproxy's own call; the time is pvedaemon's (protected).
                for call in ["status", "time"] {
                    let path = format!("/api2/json/nodes/{target}/{call}");
                    out.put(
                        format!("{via} {target} {call}"),
                        &api.get(via, &path, Some(&login)).await,
                    );
                }
            }
        }
        // The probes run every 5 s.
        api.until(6 * SECOND).await;
        for via in NODES {
            out.put(
                format!("{via} nodes"),
                &api.get(via, "/api2/json/nodes", Some(&login)).await,
            );
        }
        Ok(())
    });
    run(&mut cluster);

    // Each answer came from the target: its pveproxy logged the call once, from the client
    // when it was asked directly, else from the node that forwarded it (10.0.0.a); no other
    // node saw the call from a node. Every node logged each of the client's calls to it.
    for target in NODES {
        for call in ["status", "time"] {
            let path = format!("/api2/json/nodes/{target}/{call}");
            for node in NODES {
                let from_client = logged(&cluster, node, "client1", &path);
                assert!(
                    from_client.len() == 1 && logged_status(&from_client[0]) == "200",
                    "{node} logs the client's {path} once: {from_client:?}"
                );
                for via in NODES {
                    let forwarded = logged(&cluster, node, via, &path);
                    let expected = usize::from(node == target && via != target);
                    assert!(
                        forwarded.len() == expected
                            && forwarded.iter().all(|line| logged_status(line) == "200"),
                        "{node} logs {path} from {via} {expected} time(s): {forwarded:?}"
                    );
                }
            }
        }
    }
    for via in NODES {
        for target in NODES {
            let status = expect(&seen, &format!("{via} {target} status"), 200).data();
            let number = node_number(target).expect("a node named pveN");
            assert!(
                status["uptime"] == corral_sim::host::uptime_of_node(number.into())
                    && status["pveversion"] == "pve-manager/9.2.11/corral-sim",
                "{target}'s status via {via}: {status}"
            );
            let time = expect(&seen, &format!("{via} {target} time"), 200).data();
            let epoch = i64::try_from(corral_sim::EPOCH_SECS).expect("fits");
            let at = time["time"].as_i64().unwrap_or_default();
            assert!(
                (epoch..epoch + 5).contains(&at) && time["timezone"] == "Etc/UTC",
                "{target}'s time via {via}: expected the simulated clock, got {time}"
            );
        }
        let nodes = expect(&seen, &format!("{via} nodes"), 200);
        for node in NODES {
            assert_eq!(
                node_state(&nodes, node),
                "online",
                "GET /nodes on {via}: {nodes}"
            );
        }
    }
}

/// How long pveproxy keeps an idle connection to another node for reuse (corral-io's
/// `forward::IDLE_KEEP`): a call within this of the last one on a link may reuse its connection.
const IDLE_KEEP: Duration = Duration::from_secs(2);

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn a_crashed_node_gives_595_and_serves_again_after_restart() {
    let (builder, snapshot) = builder(2);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let status = "/api2/json/nodes/pve3/status";
        // pve1 keeps this call's connection to pve3 for reuse.
        out.put("before", &api.get("pve1", status, Some(&login)).await);
        // pve3 crashes at 1 s: a silent machine, so the connect times out (30 s).
        api.until(ms(1100)).await;
        out.put(
            "crashed via pve1",
            &api.get("pve1", status, Some(&login)).await,
        );
        out.put(
            "pve1 itself",
            &api.get("pve1", "/api2/json/nodes/pve1/status", Some(&login))
                .await,
        );
        out.put(
            "nodes while crashed",
            &api.get("pve2", "/api2/json/nodes", Some(&login)).await,
        );
        // Restarted at 32 s.
        api.until(ms(32_100)).await;
        out.put(
            "restarted via pve1",
            &api.get("pve1", status, Some(&login)).await,
        );
        out.put(
            "restarted via pve2",
            &api.get("pve2", "/api2/json/nodes/pve3/time", Some(&login))
                .await,
        );
        // Crashed at 32.5 s and restarted at 33 s: pve1's connection from the last call went
        // to the pve3 that crashed.
        api.until(ms(33_100)).await;
        out.put(
            "rebooted via pve1",
            &api.get("pve1", status, Some(&login)).await,
        );
        api.until(40 * SECOND).await;
        out.put(
            "nodes after restart",
            &api.get("pve2", "/api2/json/nodes", Some(&login)).await,
        );
        Ok(())
    });
    cluster.at(SECOND, Fault::crash("pve3"));
    cluster.at(32 * SECOND, Fault::bounce("pve3"));
    cluster.at(ms(32_500), Fault::crash("pve3"));
    cluster.at(33 * SECOND, Fault::bounce("pve3"));
    run(&mut cluster);

    expect(&seen, "before", 200);
    // The kept connection died with pve3; a new one finds no one there.
    let crashed = expect_failure(&seen, "crashed via pve1", 595, "Connection timed out");
    assert!(crashed.took >= 30 * SECOND, "{:?}", crashed.took);
    expect(&seen, "pve1 itself", 200);
    let nodes = expect(&seen, "nodes while crashed", 200);
    assert_eq!(node_state(&nodes, "pve3"), "offline", "{nodes}");
    assert_eq!(node_state(&nodes, "pve1"), "online", "{nodes}");
    expect(&seen, "restarted via pve1", 200);
    expect(&seen, "restarted via pve2", 200);
    // Within IDLE_KEEP of the last call to the pve3 that crashed: served on a fresh
    // connection, logged once by the pve3 that runs now.
    assert!(
        seen.started("rebooted via pve1") - seen.ended("restarted via pve1") < IDLE_KEEP,
        "the call comes while the old connection would still be kept"
    );
    expect(&seen, "rebooted via pve1", 200);
    let path = "/api2/json/nodes/pve3/status";
    let statuses: Vec<&str> = logged(&cluster, "pve3", "pve1", path)
        .iter()
        .map(|line| logged_status(line))
        .map(|status| if status == "200" { "200" } else { "other" })
        .collect();
    assert_eq!(
        statuses,
        ["200"; 3],
        "pve3 answered before, restarted and rebooted once each: {:#?}",
        cluster.access_log("pve3")
    );
    let nodes = expect(&seen, "nodes after restart", 200);
    assert_eq!(node_state(&nodes, "pve3"), "online", "{nodes}");
    let starts = cluster
        .trace()
        .lines()
        .into_iter()
        .filter(|line| line.contains("pve3     pvedaemon and pveproxy started"))
        .count();
    assert_eq!(
        starts, 3,
        "pve3 started, and started again after each crash"
    );
    if snapshot {
        insta::assert_snapshot!("crash_and_restart", cluster.trace().to_string());
    }
}

#[test]
fn a_partition_gives_595_or_596_only_across_the_cut_and_heals_with_fresh_connections() {
    let (builder, snapshot) = builder(3);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let pve3 = "/api2/json/nodes/pve3/status";
        // pve1 keeps this call's connection to pve3 for reuse.
        out.put("before", &api.get("pve1", pve3, Some(&login)).await);
        // pve1 | pve3 at 1 s: the kept connection's request is lost.
        api.until(ms(1100)).await;
        out.put("across", &api.get("pve1", pve3, Some(&login)).await);
        out.put("across, fresh", &api.get("pve1", pve3, Some(&login)).await);
        out.put(
            "pve1 to pve2",
            &api.get("pve1", "/api2/json/nodes/pve2/status", Some(&login))
                .await,
        );
        out.put("pve2 to pve3", &api.get("pve2", pve3, Some(&login)).await);
        // Repaired at 32 s.
        api.until(ms(32_100)).await;
        out.put("healed", &api.get("pve1", pve3, Some(&login)).await);
        // pve3's messages to pve1 are lost from 33 s: the request on the connection kept from
        // the last call reaches pve3, its reply never comes back; a new connection's TLS
        // never ends; pve3 cannot connect to pve1.
        api.until(ms(33_100)).await;
        out.put("one way", &api.get("pve1", pve3, Some(&login)).await);
        out.put("one way, fresh", &api.get("pve1", pve3, Some(&login)).await);
        out.put(
            "other way",
            &api.get("pve3", "/api2/json/nodes/pve1/status", Some(&login))
                .await,
        );
        // Repaired at 94 s.
        api.until(ms(94_100)).await;
        out.put("healed again", &api.get("pve1", pve3, Some(&login)).await);
        Ok(())
    });
    cluster.at(SECOND, Fault::partition("pve1", "pve3"));
    cluster.at(32 * SECOND, Fault::repair("pve1", "pve3"));
    cluster.at(33 * SECOND, Fault::partition_oneway("pve3", "pve1"));
    cluster.at(94 * SECOND, Fault::repair_oneway("pve3", "pve1"));
    run(&mut cluster);

    let pve3 = "/api2/json/nodes/pve3/status";
    let answered = |cluster: &Cluster| logged(cluster, "pve3", "pve1", pve3).len();
    expect(&seen, "before", 200);
    let across = expect_failure(&seen, "across", 596, "Connection timed out");
    assert!(across.took >= 30 * SECOND, "{across}: {:?}", across.took);
    expect_failure(&seen, "across, fresh", 595, "Connection refused");
    expect(&seen, "pve1 to pve2", 200);
    expect(&seen, "pve2 to pve3", 200);
    // Within IDLE_KEEP of the lost request: the connection it was lost on is not reused.
    assert!(seen.started("healed") - seen.ended("across, fresh") < IDLE_KEEP);
    expect(&seen, "healed", 200);
    let one_way = expect_failure(&seen, "one way", 596, "Connection timed out");
    assert!(one_way.took >= 30 * SECOND, "{one_way}: {:?}", one_way.took);
    expect_failure(&seen, "one way, fresh", 596, "Connection timed out");
    expect_failure(&seen, "other way", 595, "Connection refused");
    assert!(seen.started("healed again") - seen.ended("one way, fresh") < IDLE_KEEP);
    expect(&seen, "healed again", 200);
    // pve3 answered before, healed, the one-way call on the kept connection (its reply
    // lost) and healed again: not the requests the two-way cut lost.
    assert_eq!(answered(&cluster), 4, "{:#?}", cluster.access_log("pve3"));
    if snapshot {
        insta::assert_snapshot!("partition_and_repair", cluster.trace().to_string());
    }
}

#[test]
fn the_proxy_loop_is_refused() {
    let (builder, _) = builder(4);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let forwarded = |path: &str| {
            Call::get(path)
                .ticket(&login)
                .header("PVEDisableProxy", "true")
        };
        out.put(
            "loop",
            &api.send("pve2", forwarded("/api2/json/nodes/pve3/status"))
                .await,
        );
        out.put(
            "own",
            &api.send("pve2", forwarded("/api2/json/nodes/pve2/status"))
                .await,
        );
        Ok(())
    });
    run(&mut cluster);
    let refused = expect(&seen, "loop", 500);
    assert_eq!(refused.reason, "proxy loop detected", "{refused}");
    expect(&seen, "own", 200);
}

#[test]
fn the_host_acl_closes_a_denied_subnet_before_tls_and_serves_the_allowed_one() {
    let (builder, _) = builder(5);
    // The nodes' own subnet and the management one; nothing else.
    let config = "ALLOW_FROM=\"10.0.0.0/24,10.0.1.0/24\"\nDENY_FROM=\"all\"\n";
    let mut cluster = builder.pveproxy_config(config).build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("admin", |api| async move {
        let login = api.login_admin("pve1").await?;
        out.put(
            "allowed",
            &api.get("pve1", "/api2/json/nodes/pve2/status", Some(&login))
                .await,
        );
        api.until(6 * SECOND).await;
        out.put(
            "nodes",
            &api.get("pve1", "/api2/json/nodes", Some(&login)).await,
        );
        Ok(())
    });
    let denied: IpAddr = "10.0.2.5".parse().expect("literal");
    let out = seen.clone();
    cluster.client_at("outsider", denied, |api| async move {
        let (reply, _) = match api.login("pve1", ADMIN, ADMIN_PASSWORD).await {
            Ok((reply, login)) => (Ok(reply), login),
            Err(error) => (Err(error), None),
        };
        out.put("denied", &reply);
        Ok(())
    });
    run(&mut cluster);

    expect(&seen, "allowed", 200);
    // The nodes reach each other through the ACL.
    let nodes = expect(&seen, "nodes", 200);
    for node in NODES {
        assert_eq!(node_state(&nodes, node), "online", "{nodes}");
    }
    let error = seen.error("denied");
    assert!(
        matches!(error, CallError::Tls(_)),
        "closed before TLS: {error}"
    );
    let log = cluster.access_log("pve1");
    assert!(
        log.iter()
            .any(|line| line.contains("10.0.2.5 - - [") && line.ends_with("\"-\" 403 -\n")),
        "the denied connection is logged with 403: {log:?}"
    );
}

#[test]
fn a_ticket_issued_on_pve1_works_on_pve2_and_pve3() {
    let (builder, _) = builder(6);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        out.put(
            "anonymous",
            &api.get("pve2", "/api2/json/version", None).await,
        );
        for node in NODES {
            out.put(
                node,
                &api.get(node, "/api2/json/access/permissions", Some(&login))
                    .await,
            );
        }
        // A ticket renews a ticket, on another node.
        let renewed = api.login("pve3", ADMIN, &login.ticket).await?;
        out.put("renewed", &Ok(renewed.0));
        Ok(())
    });
    run(&mut cluster);

    let anonymous = expect(&seen, "anonymous", 401);
    assert_eq!(anonymous.reason, "No ticket", "{anonymous}");
    for node in NODES {
        let permissions = expect(&seen, node, 200).data();
        assert_eq!(permissions["/"]["Sys.Audit"], 1, "{node}: {permissions}");
    }
    let renewed = expect(&seen, "renewed", 200).data();
    assert_eq!(renewed["username"], ADMIN, "{renewed}");
}

#[test]
fn csrf_is_enforced_through_a_hop() {
    let (builder, snapshot) = builder(7);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let path = "/api2/json/nodes/pve2/time";
        let zone = [("timezone", "Europe/Vienna")];
        let no_token = Call::put(path).ticket(&login).form(&zone);
        out.put("without token", &api.send("pve1", no_token).await);
        out.put("unchanged", &api.get("pve3", path, Some(&login)).await);
        let with_token = Call::put(path).ticket_and_csrf(&login).form(&zone);
        out.put("with token", &api.send("pve1", with_token).await);
        out.put("changed", &api.get("pve3", path, Some(&login)).await);
        out.put(
            "pve1's own",
            &api.get("pve1", "/api2/json/nodes/pve1/time", Some(&login))
                .await,
        );
        let unknown = Call::put(path)
            .ticket_and_csrf(&login)
            .form(&[("timezone", "Mars/Olympus_Mons")]);
        out.put("unknown zone", &api.send("pve1", unknown).await);
        Ok(())
    });
    run(&mut cluster);

    let refused = expect(&seen, "without token", 401);
    assert_eq!(refused.reason, DENIED_MESSAGE, "{refused}");
    assert!(
        refused.took >= 3 * SECOND,
        "the 401 waits 3 s: {:?}",
        refused.took
    );
    assert_eq!(
        expect(&seen, "unchanged", 200).data()["timezone"],
        "Etc/UTC"
    );
    expect(&seen, "with token", 200);
    assert_eq!(
        expect(&seen, "changed", 200).data()["timezone"],
        "Europe/Vienna"
    );
    assert_eq!(
        expect(&seen, "pve1's own", 200).data()["timezone"],
        "Etc/UTC"
    );
    expect(&seen, "unknown zone", 400);
    // pve2's own disk changed; pve1's did not.
    let pve2 = cluster.files("pve2").local();
    let timezone = std::path::Path::new("/etc/timezone");
    assert_eq!(
        pve2.file(timezone).map(|file| file.bytes),
        Some(b"Europe/Vienna\n".to_vec())
    );
    assert_eq!(
        pve2.link(std::path::Path::new("/etc/localtime")),
        Some("/usr/share/zoneinfo/Europe/Vienna".into())
    );
    let pve1 = cluster.files("pve1").local();
    assert_eq!(
        pve1.file(timezone).map(|file| file.bytes),
        Some(b"Etc/UTC\n".to_vec())
    );
    if snapshot {
        insta::assert_snapshot!("csrf_through_a_hop", cluster.trace().to_string());
    }
}

#[test]
fn the_401_delay_of_one_client_does_not_delay_another() {
    let (builder, _) = builder(8);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("guesser", |api| async move {
        let (reply, _) = api.login("pve1", ADMIN, "wrong password").await?;
        out.put("guess", &Ok(reply));
        Ok(())
    });
    let out = seen.clone();
    cluster.client("worker", |api| async move {
        let login = api.login_admin("pve1").await?;
        for n in 0..5 {
            let path = format!("/api2/json/nodes/pve{}/status", n % 3 + 1);
            out.put(
                format!("call {n}"),
                &api.get("pve1", &path, Some(&login)).await,
            );
        }
        Ok(())
    });
    run(&mut cluster);

    let guess = expect(&seen, "guess", 401);
    assert_eq!(guess.reason, "authentication failure", "{guess}");
    assert!(
        (3 * SECOND..4 * SECOND).contains(&guess.took),
        "the wrong password waits 3 s: {:?}",
        guess.took
    );
    let mut worked = Duration::ZERO;
    for n in 0..5 {
        let reply = expect(&seen, &format!("call {n}"), 200);
        assert!(reply.took < SECOND, "call {n} took {:?}", reply.took);
        worked += reply.took;
    }
    assert!(
        worked < 3 * SECOND,
        "all five calls before the guess's 401: {worked:?}"
    );
    // In the trace, the worker is done before the guesser.
    let lines = cluster.trace().lines();
    let done = |client: &str| {
        lines
            .iter()
            .position(|line| line.contains(&format!(" {client:<8} done")))
            .unwrap_or_else(|| panic!("{client} never finished"))
    };
    assert!(done("worker") < done("guesser"), "{}", cluster.trace());
}

#[test]
fn files_written_outside_the_simulation_are_dated_at_its_start() {
    let (builder, _) = builder(9);
    let mut cluster = builder.build();
    let epoch =
        corral_core::time::UnixTime(i64::try_from(corral_sim::EPOCH_SECS).expect("the epoch fits"));
    let key = Path::new("/etc/pve/authkey.pub");
    let dated = |cluster: &Cluster, path: &Path| {
        cluster
            .files("pve1")
            .fs_of(path)
            .file(path)
            .map(|file| file.modified)
    };
    // The fixtures, as the cluster was built.
    assert_eq!(dated(&cluster, key), Some(epoch));
    assert_eq!(dated(&cluster, Path::new("/etc/timezone")), Some(epoch));
    // A harness's write between steps: at the start too, not 1970 (which would make a key
    // decades old).
    cluster.run_until(SECOND).unwrap_or_else(|f| panic!("{f}"));
    let written = Path::new("/etc/pve/written-between-steps");
    cluster.files("pve1").shared().insert(written, "x", 0o640);
    assert_eq!(dated(&cluster, written), Some(epoch));
}

#[test]
fn a_failure_s_replay_names_the_calling_test_and_the_seed_the_run_has() {
    // The seed set after the replay, as a scenario may.
    let cluster = Cluster::builder()
        .nodes(1)
        .replay_test("cluster")
        .seed(17)
        .build();
    assert_eq!(
        cluster.replay(),
        "CORRAL_SIM_SEED=17 cargo test -p corral-sim --test cluster -- \
         a_failure_s_replay_names_the_calling_test_and_the_seed_the_run_has --exact"
    );
    let named = Cluster::builder()
        .nodes(1)
        .replay_test_named("cluster", None)
        .seed(18)
        .build();
    assert_eq!(
        named.replay(),
        "CORRAL_SIM_SEED=18 cargo test -p corral-sim --test cluster"
    );
}

#[test]
#[should_panic(expected = "host name \"dashboard\": the trace needs 1 to 8 characters")]
fn a_host_name_wider_than_the_trace_s_column_is_refused() {
    let mut cluster = Cluster::builder().nodes(1).build();
    cluster.client("dashboard", |_| async { Ok(()) });
}

#[test]
#[should_panic(expected = "a tick of zero never advances the simulation")]
fn a_tick_of_zero_is_refused() {
    let _ = Cluster::builder().tick(Duration::ZERO);
}

#[test]
#[should_panic(expected = "fail rate pve1 <-> pve2 1.5: the fail rate 1.5 is not a probability")]
fn a_scheduled_fail_rate_must_be_a_probability() {
    let mut cluster = Cluster::builder().nodes(2).build();
    cluster.at(SECOND, Fault::fail_rate("pve1", "pve2", 1.5));
}
