//! Whole clusters on turmoil (issue #6, point 4): three nodes running the production pveproxy
//! and pvedaemon, clients calling them over HTTPS with the admin's real credentials, and
//! faults — what a user sees, as nodes/tests/cluster.rs checks it over real loopback:
//!
//! - any node forwards to any node, and every node sees the others online;
//! - a crashed node gives 595 and serves again after a restart;
//! - a partition gives 595/596 only across the cut (one-way too) and heals with fresh
//!   connections;
//! - the proxy loop is refused;
//! - the host ACL by the client's simulated address: a denied subnet is closed before TLS;
//! - a ticket issued on pve1 works on pve2 and pve3;
//! - CSRF is enforced through a hop;
//! - the 401 delay of one client does not delay another.
//!
//! Each test's seed is fixed (`CORRAL_SIM_SEED` overrides it, as a failure's replay line
//! says); with the fixed seed, a few also snapshot their trace (`snapshots/`; review with
//! `cargo insta review`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use corral_core::auth::csrf::DENIED_MESSAGE;
use corral_sim::client::{Call, CallError, Reply};
use corral_sim::cluster::{Builder, Cluster, Fault, SEED_ENV, seed_from_env};
use corral_sim::fixtures::{ADMIN, ADMIN_PASSWORD};

const NODES: [&str; 3] = ["pve1", "pve2", "pve3"];
const SECOND: Duration = Duration::from_secs(1);

/// A cluster builder for test `name`, with `seed` unless `CORRAL_SIM_SEED` says otherwise, and
/// whether the trace is the fixed seed's (the one the snapshot shows).
fn builder(name: &str, seed: u64) -> (Builder, bool) {
    let chosen = seed_from_env(seed);
    let builder = Cluster::builder()
        .nodes(3)
        .seed(chosen)
        .replay_test("cluster", name);
    (builder, chosen == seed && std::env::var(SEED_ENV).is_err())
}

/// What the clients saw, by label.
#[derive(Debug, Clone, Default)]
struct Seen(Rc<RefCell<BTreeMap<String, Result<Reply, CallError>>>>);

impl Seen {
    fn put(&self, label: impl Into<String>, outcome: &Result<Reply, CallError>) {
        self.0.borrow_mut().insert(label.into(), outcome.clone());
    }

    fn reply(&self, label: &str) -> Reply {
        match self.0.borrow().get(label) {
            Some(Ok(reply)) => reply.clone(),
            Some(Err(error)) => panic!("{label}: expected a reply, the call failed: {error}"),
            None => panic!("{label}: the client never got there"),
        }
    }

    fn error(&self, label: &str) -> CallError {
        match self.0.borrow().get(label) {
            Some(Err(error)) => error.clone(),
            Some(Ok(reply)) => panic!("{label}: expected the call to fail, got {reply}"),
            None => panic!("{label}: the client never got there"),
        }
    }

    fn status(&self, label: &str) -> u16 {
        self.reply(label).status
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
    let (builder, _) = builder(
        "any_node_forwards_to_any_node_and_sees_the_others_online",
        1,
    );
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

    for via in NODES {
        for target in NODES {
            let status = expect(&seen, &format!("{via} {target} status"), 200).data();
            assert!(
                status["uptime"] == 86400
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

#[test]
fn a_crashed_node_gives_595_and_serves_again_after_restart() {
    let name = "a_crashed_node_gives_595_and_serves_again_after_restart";
    let (builder, snapshot) = builder(name, 2);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let status = "/api2/json/nodes/pve3/status";
        out.put("before", &api.get("pve1", status, Some(&login)).await);
        // pve3 crashes at 5 s: a silent machine, so the connect times out (30 s).
        api.until(6 * SECOND).await;
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
        // Restarted at 40 s.
        api.until(41 * SECOND).await;
        out.put(
            "restarted via pve1",
            &api.get("pve1", status, Some(&login)).await,
        );
        out.put(
            "restarted via pve2",
            &api.get("pve2", "/api2/json/nodes/pve3/time", Some(&login))
                .await,
        );
        api.until(47 * SECOND).await;
        out.put(
            "nodes after restart",
            &api.get("pve2", "/api2/json/nodes", Some(&login)).await,
        );
        Ok(())
    });
    cluster.at(5 * SECOND, Fault::crash("pve3"));
    cluster.at(40 * SECOND, Fault::bounce("pve3"));
    run(&mut cluster);

    expect(&seen, "before", 200);
    let crashed = expect(&seen, "crashed via pve1", 595);
    assert_eq!(crashed.reason, "Connection timed out", "{crashed}");
    assert!(crashed.took >= 30 * SECOND, "{:?}", crashed.took);
    expect(&seen, "pve1 itself", 200);
    let nodes = expect(&seen, "nodes while crashed", 200);
    assert_eq!(node_state(&nodes, "pve3"), "offline", "{nodes}");
    assert_eq!(node_state(&nodes, "pve1"), "online", "{nodes}");
    expect(&seen, "restarted via pve1", 200);
    expect(&seen, "restarted via pve2", 200);
    let nodes = expect(&seen, "nodes after restart", 200);
    assert_eq!(node_state(&nodes, "pve3"), "online", "{nodes}");
    let starts = cluster
        .trace()
        .lines()
        .into_iter()
        .filter(|line| line.contains("pve3     pvedaemon and pveproxy started"))
        .count();
    assert_eq!(starts, 2, "pve3 started, crashed and started again");
    if snapshot {
        insta::assert_snapshot!("crash_and_restart", cluster.trace().to_string());
    }
}

#[test]
fn a_partition_gives_595_or_596_only_across_the_cut_and_heals_with_fresh_connections() {
    let name = "a_partition_gives_595_or_596_only_across_the_cut_and_heals_with_fresh_connections";
    let (builder, snapshot) = builder(name, 3);
    let mut cluster = builder.build();
    let seen = Seen::default();
    let out = seen.clone();
    cluster.client("client1", |api| async move {
        let login = api.login_admin("pve1").await?;
        let pve3 = "/api2/json/nodes/pve3/status";
        out.put("before", &api.get("pve1", pve3, Some(&login)).await);
        // pve1 | pve3 at 5 s.
        api.until(6 * SECOND).await;
        out.put("across", &api.get("pve1", pve3, Some(&login)).await);
        out.put(
            "pve1 to pve2",
            &api.get("pve1", "/api2/json/nodes/pve2/status", Some(&login))
                .await,
        );
        out.put("pve2 to pve3", &api.get("pve2", pve3, Some(&login)).await);
        // Repaired at 10 s.
        api.until(11 * SECOND).await;
        out.put("healed", &api.get("pve1", pve3, Some(&login)).await);
        // pve3's replies to pve1 are lost from 15 s: the connect passes, TLS never ends.
        api.until(16 * SECOND).await;
        out.put("one way", &api.get("pve1", pve3, Some(&login)).await);
        out.put(
            "other way",
            &api.get("pve3", "/api2/json/nodes/pve1/status", Some(&login))
                .await,
        );
        // Repaired at 50 s.
        api.until(51 * SECOND).await;
        out.put("healed again", &api.get("pve1", pve3, Some(&login)).await);
        Ok(())
    });
    cluster.at(5 * SECOND, Fault::partition("pve1", "pve3"));
    cluster.at(10 * SECOND, Fault::repair("pve1", "pve3"));
    cluster.at(15 * SECOND, Fault::partition_oneway("pve3", "pve1"));
    cluster.at(50 * SECOND, Fault::repair_oneway("pve3", "pve1"));
    run(&mut cluster);

    expect(&seen, "before", 200);
    let across = seen.status("across");
    assert!(matches!(across, 595 | 596), "{}", seen.reply("across"));
    expect(&seen, "pve1 to pve2", 200);
    expect(&seen, "pve2 to pve3", 200);
    expect(&seen, "healed", 200);
    let one_way = expect(&seen, "one way", 596);
    assert_eq!(one_way.reason, "Connection timed out", "{one_way}");
    let other_way = seen.status("other way");
    assert!(
        matches!(other_way, 595 | 596),
        "{}",
        seen.reply("other way")
    );
    expect(&seen, "healed again", 200);
    if snapshot {
        insta::assert_snapshot!("partition_and_repair", cluster.trace().to_string());
    }
}

#[test]
fn the_proxy_loop_is_refused() {
    let (builder, _) = builder("the_proxy_loop_is_refused", 4);
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
    let (builder, _) = builder(
        "the_host_acl_closes_a_denied_subnet_before_tls_and_serves_the_allowed_one",
        5,
    );
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
    let (builder, _) = builder("a_ticket_issued_on_pve1_works_on_pve2_and_pve3", 6);
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
    let name = "csrf_is_enforced_through_a_hop";
    let (builder, snapshot) = builder(name, 7);
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
    let (builder, _) = builder("the_401_delay_of_one_client_does_not_delay_another", 8);
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
