//! `sim-trace [SEED]`: runs the tour of a simulated cluster ([`corral_sim::tour`]) with SEED
//! (default 42) and prints its trace. Two runs of one seed print the same bytes: CI runs it in
//! two processes and compares. On a failure it prints the seed and the command that replays
//! it, and exits 1.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let seed = match arg.as_deref().map(str::parse::<u64>) {
        None => 42,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("usage: sim-trace [SEED]   (SEED: a number; default 42)");
            return ExitCode::from(2);
        }
    };
    let replay = format!("cargo run -p corral-sim --bin sim-trace -- {seed}");
    match corral_sim::tour::run(seed, &replay) {
        Ok(trace) => {
            let mut out = std::io::stdout().lock();
            if write!(out, "{trace}").and_then(|()| out.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::FAILURE
        }
    }
}
