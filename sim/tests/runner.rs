//! The randomized runner (issue #6, point 5) on a small fixed seed set, and its canaries: a
//! wrong oracle, a partition that never heals, a panic and a leaked connection must each fail
//! with their own kind (and the binary with its own exit code), so the runner can fail.
//!
//! The seeds run shorter phases than the binary's defaults (a 20 s safety phase) to keep the
//! debug build's `cargo test` short; `cargo run -p corral-sim --release -- --seeds 100` runs
//! the full ones. A failing seed prints its summary, the failure and the replay command.

use std::process::Command;
use std::time::Duration;

use corral_sim::runner::{self, Canary, FailureKind, Options};

/// The fixed seed set: between them (with the 20 s safety phase) 2 to 5 nodes, every fault
/// kind, client links faulted or not, a seed without faults (11), and every request kind.
const SEEDS: [u64; 6] = [0, 2, 4, 11, 18, 26];

fn short() -> Options {
    Options {
        safety: Duration::from_secs(20),
        ..Options::default()
    }
}

fn passes(seeds: &[u64]) {
    let options = short();
    for &seed in seeds {
        let report = runner::run_seed(seed, &options);
        if let Some(failure) = &report.failure {
            panic!(
                "{}\n{failure}\nreplay: {}",
                report.summary(),
                runner::replay_command(seed, &options)
            );
        }
        assert!(report.counts.requests > 0, "{}", report.summary());
        assert!(report.converged.is_some(), "{}", report.summary());
        let leftovers = report.leftovers.as_ref().expect("counted");
        assert!(leftovers.check().is_ok(), "{}", report.summary());
    }
}

#[test]
fn the_first_half_of_the_seed_set_passes() {
    passes(&SEEDS[..3]);
}

#[test]
fn the_second_half_of_the_seed_set_passes() {
    passes(&SEEDS[3..]);
}

/// The failure a canary gives on seed 3 (2 nodes, so pve1 and pve2 are all there is).
fn canary(canary: Canary) -> runner::Failure {
    let options = Options {
        safety: Duration::from_secs(5),
        liveness: Duration::from_secs(35),
        canary: Some(canary),
        ..Options::default()
    };
    let report = runner::run_seed(3, &options);
    match report.failure {
        Some(failure) => failure,
        None => panic!("canary {canary:?} passed: {}", report.summary()),
    }
}

#[test]
fn every_canary_fails_with_its_own_kind() {
    let wrong = canary(Canary::WrongNode);
    assert_eq!(wrong.kind, FailureKind::Correctness, "{wrong}");
    assert!(wrong.message.contains("another node's answer"), "{wrong}");
    let stuck = canary(Canary::NoHeal);
    assert_eq!(stuck.kind, FailureKind::Liveness, "{stuck}");
    assert!(stuck.message.contains("liveness bound"), "{stuck}");
    let panicked = canary(Canary::Panic);
    assert_eq!(panicked.kind, FailureKind::Crash, "{panicked}");
    assert!(panicked.message.contains("deliberate panic"), "{panicked}");
    assert!(!panicked.trace_tail.is_empty(), "{panicked}");
    let leak = canary(Canary::Leak);
    assert_eq!(leak.kind, FailureKind::Correctness, "{leak}");
    assert!(leak.message.contains("live 1 "), "{leak}");
}

fn corral_sim(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_corral-sim"))
        .args(args)
        .output()
        .expect("corral-sim runs");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn the_binary_exits_by_failure_kind_and_names_the_replay() {
    let (code, out, err) = corral_sim(&["--seed", "3", "--safety", "5", "--canary", "wrong-node"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.starts_with("seed 3: 2 nodes"), "{out}");
    assert!(
        err.contains(
            "replay: cargo run -p corral-sim --release -- --seed 3 --safety 5 --canary wrong-node"
        ),
        "{err}"
    );
    assert!(err.contains("last events:"), "{err}");
    let (code, _, err) = corral_sim(&["--seeds", "0"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, _, err) = corral_sim(&["--seeds", "x"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, help, _) = corral_sim(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        help.contains("Exit codes:") && help.contains("64  usage"),
        "{help}"
    );
}
