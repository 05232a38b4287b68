//! `corral-sim`: the randomized runner of simulated corral clusters ([`corral_sim::runner`]),
//! and the simulator's speed under steady load (`--steady`). See `--help`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use corral_sim::fixtures::NODES_MAX;
use corral_sim::runner::{self, Canary, FailureKind, Options, steady};

/// The exit code of a command line that makes no sense (BSD's EX_USAGE).
const USAGE: u8 = 64;

const AFTER_HELP: &str = "\
Each seed draws a swarm profile (2-5 nodes, latency, which fault kinds strike and when, 1-4 \
clients and their request mix), runs a safety phase under the faults (every reply must be the \
fault-free answer, or 595/596/597 or no reply across a faulted path; never another node's \
answer), a liveness phase after healing everything (every node must answer correctly for every \
node within --liveness seconds), and counts the TCP streams left after --quiet idle seconds.

Examples:
  corral-sim --seeds 100            seeds 0..99
  corral-sim --seed 17              seed 17 alone (what a failure's replay line says)
  corral-sim --seed 1000 --seeds 50 seeds 1000..1049
  corral-sim --steady 5 --duration 120
                                    speed: 5 nodes under steady load for 120 simulated seconds

Exit codes:
  0   every seed passed (or the steady run ended)
  1   correctness: a wrong answer, a transport error or no reply where no fault excuses it, or
      streams left behind
  2   liveness: a node gave no correct answer within the bound after the heal
  3   crash: a panic in the simulation, or an error of turmoil (a host's software failed)
  64  usage: the command line makes no sense
The runner stops at the first failing seed and prints its kind, the last trace lines and the \
command that replays it.";

#[derive(Debug, Parser)]
#[command(
    name = "corral-sim",
    about = "Randomized runner of simulated corral clusters (VOPR-style swarm testing)",
    after_help = AFTER_HELP
)]
struct Cli {
    /// The seed to run (alone), or the first of --seeds.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Run N seeds: S, S+1, ... (S is --seed, default 0).
    #[arg(long, value_name = "N")]
    seeds: Option<u64>,
    /// Seconds of the safety phase (faults and client requests).
    #[arg(long, value_name = "SECS", default_value_t = runner::SAFETY.as_secs())]
    safety: u64,
    /// Seconds after the heal within which every node must answer for every node.
    #[arg(long, value_name = "SECS", default_value_t = runner::LIVENESS.as_secs())]
    liveness: u64,
    /// Seconds the cluster idles before the streams left are counted.
    #[arg(long, value_name = "SECS", default_value_t = runner::QUIET.as_secs())]
    quiet: u64,
    /// How long after a fault it still excuses a transport error, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = millis(runner::GRACE))]
    grace_ms: u64,
    /// The simulation's step, in milliseconds (the network's resolution).
    #[arg(long, value_name = "MS", default_value_t = millis(runner::TICK))]
    tick_ms: u64,
    /// A deliberate bug the run must catch: wrong-node (exit 1), no-heal (exit 2), panic
    /// (exit 3), leak (exit 1).
    #[arg(long, value_name = "KIND")]
    canary: Option<Canary>,
    /// Print each seed's whole trace before its summary line.
    #[arg(long)]
    trace: bool,
    /// Instead of seeds: time a fault-free cluster of NODES nodes under steady client load.
    #[arg(long, value_name = "NODES")]
    steady: Option<usize>,
    /// Simulated seconds of the --steady run.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    duration: u64,
    /// Each --steady client's pause after each call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = millis(steady::PAUSE))]
    pause_ms: u64,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(USAGE),
            };
        }
    };
    if let Err(why) = check(&cli) {
        eprintln!("corral-sim: {why} (see --help)");
        return ExitCode::from(USAGE);
    }
    let tick = Duration::from_millis(cli.tick_ms);
    if let Some(nodes) = cli.steady {
        let pause = Duration::from_millis(cli.pause_ms);
        return steady_run(nodes, Duration::from_secs(cli.duration), pause, tick);
    }
    let options = Options {
        safety: Duration::from_secs(cli.safety),
        liveness: Duration::from_secs(cli.liveness),
        quiet: Duration::from_secs(cli.quiet),
        grace: Duration::from_millis(cli.grace_ms),
        tick,
        canary: cli.canary,
        keep_trace: cli.trace,
    };
    let first = cli.seed.unwrap_or(0);
    let count = cli.seeds.unwrap_or(1);
    seeds(first, count, &options)
}

fn check(cli: &Cli) -> Result<(), String> {
    if cli.tick_ms == 0 {
        return Err("--tick-ms must be above 0".to_owned());
    }
    if let Some(nodes) = cli.steady {
        if !(1..=NODES_MAX).contains(&nodes) {
            return Err(format!(
                "--steady takes 1 to {NODES_MAX} nodes, not {nodes}"
            ));
        }
        if cli.seed.is_some() || cli.seeds.is_some() || cli.canary.is_some() {
            return Err("--steady runs no seeds: no --seed, --seeds or --canary".to_owned());
        }
        if cli.duration == 0 {
            return Err("--duration must be above 0".to_owned());
        }
        return Ok(());
    }
    if cli.seeds == Some(0) {
        return Err("--seeds must be above 0".to_owned());
    }
    let first = cli.seed.unwrap_or(0);
    if first.checked_add(cli.seeds.unwrap_or(1)).is_none() {
        return Err("--seed plus --seeds overflows".to_owned());
    }
    if cli.safety == 0 || cli.liveness == 0 {
        return Err("--safety and --liveness must be above 0".to_owned());
    }
    Ok(())
}

fn seeds(first: u64, count: u64, options: &Options) -> ExitCode {
    let wall = Instant::now();
    let mut simulated = Duration::ZERO;
    for seed in first..first + count {
        let report = runner::run_seed(seed, options);
        simulated += report.simulated;
        if let Some(trace) = &report.trace {
            print!("{trace}");
        }
        println!("{}", report.summary());
        if let Some(failure) = &report.failure {
            eprintln!(
                "\nseed {seed} failed: {failure}\nreplay: {}",
                runner::replay_command(seed, options)
            );
            return ExitCode::from(failure.kind.exit_code());
        }
    }
    let wall = wall.elapsed();
    println!(
        "{count} seed{} passed ({first}..={}): {:.0}s simulated in {:.1}s wall ({:.0}x real time)",
        if count == 1 { "" } else { "s" },
        first + count - 1,
        simulated.as_secs_f64(),
        wall.as_secs_f64(),
        simulated.as_secs_f64() / wall.as_secs_f64().max(f64::MIN_POSITIVE)
    );
    ExitCode::SUCCESS
}

fn steady_run(nodes: usize, duration: Duration, pause: Duration, tick: Duration) -> ExitCode {
    match steady::run(nodes, duration, pause, tick) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(FailureKind::Crash.exit_code())
        }
    }
}
