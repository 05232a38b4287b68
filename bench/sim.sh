#!/usr/bin/env bash
# The cluster simulator's speed (issue #6, point 6), from a release build of corral-sim:
#
# 1. simulated seconds per wall-clock second of a 5-node cluster under steady client load
#    (`corral-sim --steady 5 --duration 120`: one client per node, each calling
#    `GET /nodes/<b>/status` or `/time` through every node in turn, a fresh HTTPS connection
#    per call, pausing SIM_PAUSE_MS after each), at the runner's step (10 ms) and at the
#    scenario tests' (5 ms), and how the speed falls with the load (pauses of 100 ms to 100 s);
# 2. the wall time of SIM_SEEDS (100) seeds of the randomized runner
#    (`corral-sim --seeds 100`), and what each seed cost on average.
#
# The target is at least 100x real time. Settings: SIM_DURATION (120 simulated seconds),
# SIM_PAUSE_MS (500), SIM_SEEDS (100). Needs only cargo; the build takes a few minutes the
# first time.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

duration="${SIM_DURATION:-120}"
pause="${SIM_PAUSE_MS:-500}"
seeds="${SIM_SEEDS:-100}"

say() { printf '==> %s\n' "$*" >&2; }

say "building corral-sim (release)"
cargo build --release -p corral-sim --bin corral-sim >&2
sim="$repo/target/release/corral-sim"

say "steady load: 5 nodes, ${duration} simulated seconds"
steady_10="$("$sim" --steady 5 --duration "$duration" --pause-ms "$pause" --tick-ms 10)"
steady_5="$("$sim" --steady 5 --duration "$duration" --pause-ms "$pause" --tick-ms 5)"
load_curve=""
for p in 100 250 1000 100000; do
    load_curve+="  $("$sim" --steady 5 --duration "$duration" --pause-ms "$p")"$'\n'
done

say "the runner: ${seeds} seeds"
start=$(date +%s.%N)
last="$("$sim" --seeds "$seeds" | tail -n 1)"
end=$(date +%s.%N)
wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
per_seed=$(awk -v w="$wall" -v n="$seeds" 'BEGIN { printf "%.2f", w / n }')

cat <<EOF
corral-sim speed (release build; $(nproc) CPUs, one used)

(a) 5-node cluster under steady client load, ${duration} simulated seconds:
  ${steady_10}
  ${steady_5}
  the same at other loads (10 ms step):
${load_curve}
(b) ${seeds} seeds of the randomized runner: ${wall} s wall (${per_seed} s per seed)
  ${last}
EOF
