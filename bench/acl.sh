#!/usr/bin/env bash
# Host-ACL decision speed: corral's HostAcl::decide against the naive linear reference
# (proptests/benches/acl_decide.rs), at 10, 1,000 and 100,000 entries per list.
#
# Runs the criterion benchmark, then prints, per size, nanoseconds per decision for both and the
# ratio naive/corral, from criterion's mean estimates. Targets at 100,000 entries: corral at
# least 100x faster than the naive scan, and at most 100 ns per decision.
#
# Usage: bash bench/acl.sh        (from anywhere in the workspace; about a minute)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo bench -p corral-proptests --bench acl_decide

target_dir="${CARGO_TARGET_DIR:-$root/target}"
criterion_dir="$target_dir/criterion"

python3 - "$criterion_dir" <<'PY'
import json, pathlib, sys

criterion = pathlib.Path(sys.argv[1])
sizes = [10, 1_000, 100_000]

def per_decision(group, function):
    """Mean nanoseconds per decision: criterion's mean per iteration over the peers per iteration."""
    base = criterion / group / function / "new"
    mean = json.loads((base / "estimates.json").read_text())["mean"]["point_estimate"]
    throughput = json.loads((base / "benchmark.json").read_text()).get("throughput") or {}
    peers = throughput.get("Elements", 1)
    return mean / peers

print()
print(f"{'entries/list':>12}  {'corral ns/decision':>18}  {'naive ns/decision':>17}  {'naive/corral':>12}")
failed = []
for size in sizes:
    group = f"acl_decide_{size}"
    corral = per_decision(group, "corral")
    naive = per_decision(group, "naive")
    ratio = naive / corral
    print(f"{size:>12,}  {corral:>18.1f}  {naive:>17.1f}  {ratio:>11.0f}x")
    if size == 100_000:
        if ratio < 100:
            failed.append(f"ratio {ratio:.0f}x below the 100x target")
        if corral > 100:
            failed.append(f"{corral:.1f} ns per decision above the 100 ns target")
for failure in failed:
    print(f"target missed at 100,000 entries: {failure}")
PY
