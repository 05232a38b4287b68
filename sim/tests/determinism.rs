//! The same seed gives the same run, byte for byte: the tour of a cluster through every kind
//! of fault ([`corral_sim::tour`]) twice in one process gives one trace, and that trace is the
//! snapshot (`snapshots/determinism__tour_seed_42.snap`), which CI also compares against a run
//! in another process (`cargo run -p corral-sim --bin sim-trace -- 42`). Another seed gives
//! another run.

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
