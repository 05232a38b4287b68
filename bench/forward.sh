#!/usr/bin/env bash
# The cost of pveproxy forwarding a protected call to pvedaemon, against a call pveproxy answers
# itself: `GET /api2/json/nodes/bench/time` (protected: pveproxy relays it to pvedaemon over a
# pooled keep-alive HTTP connection) against `GET /api2/json/version` (answered by pveproxy),
# both over HTTPS keep-alive, in one run. The two replies are about the same size (~70-byte JSON
# bodies; the script prints both sizes).
#
# Both requests carry the same ticket cookie (`PVEAuthCookie`, from a login with curl at the
# start) of a user with PVEAuditor on / (Sys.Audit, which /nodes/{node}/time needs). A ticket,
# not an API token: a token would add pveproxy's token check with pvedaemon to one side. Every
# request verifies the ticket's RSA signature in pveproxy, and the forwarded one verifies it
# again in pvedaemon (as Proxmox does), so the forwarded call carries one extra RSA-2048
# verification on top of the extra HTTP hop.
#
# pveproxy and pvedaemon both run on CPU 1 (one worker each; pvedaemon has no TLS), wrk on
# CPU 0: the forwarded call's whole cost, both processes, shows in the throughput. wrk runs
# twice per call: with many connections (throughput, and latency under load, which is mostly
# queueing) and with one connection (latency of a single request without queueing). Each
# keep-alive connection from wrk is closed after 100 requests (Proxmox's limit) for both calls.
#
# Prints, per call: req/s, mean/p50/p99 latency, the CPU time per request of pveproxy and of
# pvedaemon (from /proc, the figure least disturbed by other load), the CPU used by everything
# else on the machine, and the TCP connections opened during the run (from /proc/net/snmp,
# machine-wide: wrk's reconnects plus, for the forwarded call, pveproxy's connections to
# pvedaemon). Then the ratios forwarded/local for CPU per request and latency and local/forwarded
# for throughput. Target (issue 4): the forwarded call costs <= 1.3x the local one.
# Other work on the machine (a build, tests) skews req/s and latency a lot: the script warns
# when it saw some; WRK_ROUNDS=3 alternates the calls and averages.
#
# Usage: bash bench/forward.sh      (from anywhere in the workspace; root or sudo for apt-get
# if wrk is missing; under a minute once corral is built)
#
# Environment (defaults in brackets):
#   WRK_THREADS [1]  WRK_CONNECTIONS [50]  WRK_DURATION [15s]  WRK_WARMUP [3s]  WRK_ROUNDS [1]
#   WRK_SINGLE_DURATION [5s] (the one-connection runs; 0 skips them)
#   PROXY_PORT [18016]  DAEMON_PORT [18095]  SERVER_CPU [1]  CLIENT_CPU [0]
#   BENCH_NO_BUILD=1 uses the binaries in target/release as they are (no cargo build).
#   BENCH_KEEP=1 keeps the temporary directory (root, logs, wrk output) for inspection.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

threads="${WRK_THREADS:-1}"
connections="${WRK_CONNECTIONS:-50}"
duration="${WRK_DURATION:-15s}"
warmup="${WRK_WARMUP:-3s}"
single_duration="${WRK_SINGLE_DURATION:-5s}"
rounds="${WRK_ROUNDS:-1}"
proxy_port="${PROXY_PORT:-18016}"
daemon_port="${DAEMON_PORT:-18095}"
server_cpu="${SERVER_CPU:-1}"
client_cpu="${CLIENT_CPU:-0}"
node="bench"
user="bench@pve"
local_path="/api2/json/version"
forwarded_path="/api2/json/nodes/$node/time"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/forward.sh: %s\n' "$*" >&2; exit 1; }

# wrk durations ("15s", "1m", "500" = seconds) in whole seconds, for the timeouts below.
seconds() {
    local d="$1"
    case "$d" in
        *ms) echo 1 ;;
        *s) echo "${d%s}" ;;
        *m) echo $(( ${d%m} * 60 )) ;;
        *h) echo $(( ${d%h} * 3600 )) ;;
        *) echo "$d" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# 1. Tools: install what is missing (apt-get update only then), build corral.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else die "need root (or passwordless sudo) to run: $*"
    fi
}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v ss >/dev/null || missing+=(iproute2)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -z "${BENCH_NO_BUILD:-}" ]; then
    say "building corral (release)"
    cargo build --release --quiet --bin pveproxy --bin pvedaemon --bin corral
fi
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
pveproxy="$target_dir/release/pveproxy"
pvedaemon="$target_dir/release/pvedaemon"
corral="$target_dir/release/corral"
for bin in "$pveproxy" "$pvedaemon" "$corral"; do
    [ -x "$bin" ] || die "no $bin (build it: cargo build --release --bin pveproxy --bin pvedaemon --bin corral)"
done

for port in "$proxy_port" "$daemon_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use"
    fi
done

# ---------------------------------------------------------------------------------------------
# 2. One temporary root: certificate, a user with PVEAuditor on /, then the two daemons (as in
#    README.md, "Running pveproxy and pvedaemon by hand").

tmp="$(mktemp -d /tmp/corral-bench-forward.XXXXXX)"
proxy_pid=""
daemon_pid=""
cleanup() {
    local status=$?
    set +e
    for pid in $proxy_pid $daemon_pid; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    if [ -n "${BENCH_KEEP:-}" ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

root="$tmp/root"
pve_local="$root/etc/pve/nodes/$node"
mkdir -p "$pve_local" "$root/etc/default"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pve_local/pve-ssl.key" -out "$pve_local/pve-ssl.pem" \
    -days 30 -subj "/CN=$node" 2>/dev/null
: > "$root/etc/default/pveproxy"   # every key at Proxmox's default

password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# Not a terminal: `corral user add --password` reads the password from standard input.
printf '%s\n' "$password" | "$corral" user add "$user" --password --root "$root" >/dev/null \
    || die "corral user add failed"
"$corral" acl set / --user "$user" --role PVEAuditor --root "$root" >/dev/null \
    || die "corral acl set failed"

say "starting pvedaemon on 127.0.0.1:$daemon_port (CPU $server_cpu)"
taskset -c "$server_cpu" "$pvedaemon" start --root "$root" --node "$node" \
    --listen "127.0.0.1:$daemon_port" >"$tmp/pvedaemon.out" 2>&1 &
daemon_pid=$!
# pvedaemon creates the ticket keys and the CSRF key, then listens.
for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$daemon_port") 2>/dev/null; then break; fi
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon exited at start-up"; }
    [ "$i" -lt 100 ] || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon does not listen on 127.0.0.1:$daemon_port"; }
    sleep 0.1
done

# Started as root, pveproxy drops to --user before reading config and keys (as Proxmox with
# www-data): /etc/pve root:<its group> 0640, /etc/pve/priv root's alone.
run_user=www-data
id "$run_user" >/dev/null 2>&1 || run_user=nobody
if [ "$(id -u)" -eq 0 ]; then
    chgrp -R "$(id -gn "$run_user")" "$tmp"
    chmod -R g+rX,o-rwx "$tmp"
    chmod -R go-rwx "$root/etc/pve/priv"
fi

say "starting pveproxy on 127.0.0.1:$proxy_port (CPU $server_cpu), forwarding to pvedaemon"
taskset -c "$server_cpu" "$pveproxy" start --root "$root" --node "$node" \
    --listen "127.0.0.1:$proxy_port" --daemon "127.0.0.1:$daemon_port" --user "$run_user" \
    >"$tmp/pveproxy.out" 2>&1 &
proxy_pid=$!

url() { echo "https://127.0.0.1:$proxy_port$1"; }
# /access/domains needs no credentials (a request without any would wait 3 s for its 401).
for i in $(seq 100); do
    if curl -sk --max-time 2 -o /dev/null "$(url /api2/json/access/domains)"; then break; fi
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$tmp/pveproxy.out" >&2; die "pveproxy exited at start-up"; }
    [ "$i" -lt 100 ] || { cat "$tmp/pveproxy.out" >&2; die "pveproxy does not answer on 127.0.0.1:$proxy_port"; }
    sleep 0.1
done

# ---------------------------------------------------------------------------------------------
# 3. Log in (the login itself is forwarded to pvedaemon), check both calls.

login="$(curl -sk --max-time 10 --data-urlencode "username=$user" \
    --data-urlencode "password=$password" "$(url /api2/json/access/ticket)")"
ticket="$(printf '%s' "$login" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')"
[ -n "$ticket" ] || { cat "$tmp/pveproxy.out" "$tmp/pvedaemon.out" >&2; die "login failed: $login"; }
cookie="Cookie: PVEAuthCookie=$ticket"

# "<status> <header bytes> <body bytes>" of one request with the ticket.
probe() { curl -sk --max-time 5 -H "$cookie" -o "$tmp/probe.body" \
    -w '%{http_code} %{size_header} %{size_download}' "$(url "$1")"; }
declare -A size
for call in local forwarded; do
    path_var="${call}_path"
    read -r status header body <<<"$(probe "${!path_var}")"
    [ "$status" = 200 ] || die "GET ${!path_var} answers $status: $(cat "$tmp/probe.body")"
    size[$call]="header $header B + body $body B"
    say "GET ${!path_var}: $status, ${size[$call]}: $(cat "$tmp/probe.body")"
done

# ---------------------------------------------------------------------------------------------
# 4. Warm up each call, then measure (WRK_ROUNDS > 1 alternates the calls).

wrk_timeout=$(( $(seconds "$duration") + 30 ))
hz="$(getconf CLK_TCK)"

run_wrk() { # path connections duration output
    timeout "$wrk_timeout" taskset -c "$client_cpu" \
        wrk -t"$(( threads < $2 ? threads : $2 ))" -c"$2" -d"$3" --latency -H "$cookie" \
        "$(url "$1")" >"$4" 2>&1 \
        || { cat "$4" >&2; die "wrk failed on $1"; }
}

# CPU time of a process (all its threads), in clock ticks.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# All CPUs: busy ticks (user nice system irq softirq) and steal ticks.
sys_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat; }
# TCP connections this machine opened (connect) so far.
active_opens() { awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
# Established connections from pveproxy to pvedaemon now.
daemon_conns() { ss -Htn state established "( dport = :$daemon_port )" | wc -l; }
# CPU seconds used by this shell's finished children (wrk), from `times`, into $children.
# (Not through $(…): a subshell has children of its own.)
children_secs() {
    times >"$tmp/times"
    children="$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$tmp/times")"
}

# Requests/s, mean, p50 and p99 in ms, completed requests, non-2xx replies and socket errors.
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /h$/)  return substr(v, 1, length(v) - 1) * 3600000
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "Latency" && $2 != "Distribution" { mean = ms($2) }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        / requests in / { n = $1 }
        /Socket errors:/ { sub(/^ *Socket errors: */, ""); errors = $0 }
        /Non-2xx/ { non2xx = $NF }
        END {
            if (rps == "" || mean == "" || p50 == "" || p99 == "" || n == "") exit 1
            if (errors == "") errors = "none"
            if (non2xx == "") non2xx = 0
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rps, mean, p50, p99, n, non2xx, errors
        }' "$1"
}

rows=()         # one tab-separated row per measured run
declare -A sum  # per call and connection count: sums over rounds
measure() { # call connections duration round
    local call="$1" conns="$2" dur="$3" round="$4" out="$tmp/$1.$2.$4.wrk" path_var="$1_path"
    local path="${!path_var}"
    local pp0 dp0 w0 s0 o0 t0 pp1 dp1 w1 s1 o1 t1 wrk_pid pooled
    local rps mean p50 p99 n non2xx errors
    say "$call: GET $path, wrk -c$conns -d$dur --latency (round $round/$rounds)"
    pp0="$(proc_ticks "$proxy_pid")"; dp0="$(proc_ticks "$daemon_pid")"; children_secs; w0="$children"
    s0="$(sys_ticks)"; o0="$(active_opens)"; t0="$(date +%s.%N)"
    run_wrk "$path" "$conns" "$dur" "$out" &
    wrk_pid=$!
    # Halfway through: how many connections pveproxy holds to pvedaemon.
    sleep "$(awk -v d="$(seconds "$dur")" 'BEGIN { print d / 2 }')"
    pooled="$(daemon_conns)"
    wait "$wrk_pid" || die "wrk failed on $path"
    pp1="$(proc_ticks "$proxy_pid")"; dp1="$(proc_ticks "$daemon_pid")"; children_secs; w1="$children"
    s1="$(sys_ticks)"; o1="$(active_opens)"; t1="$(date +%s.%N)"
    IFS=$'\t' read -r rps mean p50 p99 n non2xx errors < <(parse_wrk "$out") \
        || { cat "$out" >&2; die "cannot read wrk's output for $call"; }
    [ "$errors" = none ] || say "WARNING: $call: wrk socket errors: $errors"
    [ "$non2xx" = 0 ] || say "WARNING: $call: $non2xx non-2xx replies"
    rows+=("$(awk -v call="$call" -v conns="$conns" -v round="$round" -v rps="$rps" -v mean="$mean" \
        -v p50="$p50" -v p99="$p99" -v n="$n" -v non2xx="$non2xx" -v pp0="$pp0" -v pp1="$pp1" \
        -v dp0="$dp0" -v dp1="$dp1" -v w0="$w0" -v w1="$w1" -v s0="$s0" -v s1="$s1" -v o0="$o0" \
        -v o1="$o1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v pooled="$pooled" 'BEGIN {
            wall = t1 - t0
            split(s0, a, " "); split(s1, b, " ")
            proxy = (pp1 - pp0) / hz; daemon = (dp1 - dp0) / hz; client = w1 - w0
            other = (b[1] - a[1]) / hz - proxy - daemon - client
            if (other < 0) other = 0
            printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%d\t%d\n",
                call, conns, round, rps, mean, p50, p99, n, non2xx,
                1e6 * proxy / n, 1e6 * daemon / n, 1e6 * (proxy + daemon) / n,
                100 * client / wall, 100 * other / wall, 100 * (b[2] - a[2]) / hz / wall,
                o1 - o0, pooled
        }')")
    local key="$call.$conns" row="${rows[-1]}"
    sum[$key]="$(awk -v a="${sum[$key]:-0 0 0 0 0}" -v row="$row" 'BEGIN {
        split(a, s, " "); split(row, r, "\t")
        printf "%s %s %s %s %s", s[1] + r[4], s[2] + r[5], s[3] + r[6], s[4] + r[7], s[5] + r[12]
    }')"
}

say "local: warm-up $warmup"; run_wrk "$local_path" "$connections" "$warmup" "$tmp/local.warmup"
say "forwarded: warm-up $warmup"; run_wrk "$forwarded_path" "$connections" "$warmup" "$tmp/forwarded.warmup"
loads=("$connections:$duration")
if [ "$(seconds "$single_duration")" != 0 ] && [ "$connections" != 1 ]; then
    loads+=("1:$single_duration")
fi
for load in "${loads[@]}"; do
    for round in $(seq "$rounds"); do
        measure local "${load%%:*}" "${load#*:}" "$round"
        measure forwarded "${load%%:*}" "${load#*:}" "$round"
    done
done
for pid in "$proxy_pid" "$daemon_pid"; do
    kill -0 "$pid" 2>/dev/null \
        || { cat "$tmp/pveproxy.out" "$tmp/pvedaemon.out" >&2; die "a daemon died during the run"; }
done

# ---------------------------------------------------------------------------------------------
# 5. Report.

echo
echo "HTTPS (TLS 1.3, HTTP/1.1 keep-alive), ticket cookie of $user (PVEAuditor on /)"
echo "  local:     GET $local_path, answered by pveproxy (${size[local]})"
echo "  forwarded: GET $forwarded_path, pveproxy -> pvedaemon (${size[forwarded]})"
echo "pveproxy and pvedaemon on CPU $server_cpu, wrk (-t$threads) on CPU $client_cpu ($(nproc) CPUs);" \
    "warm-up $warmup each; $rounds round(s)"
echo
printf '%-9s %5s %5s %7s %8s %7s %7s %8s %7s %7s %7s %7s %7s %6s %5s %7s %6s\n' \
    call conns round req/s "mean ms" "p50 ms" "p99 ms" requests non-2xx \
    "proxy" "daemon" "total" "wrk" other steal "tcp+" pooled
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round rps mean p50 p99 n non2xx pus dus tus wrkcpu other steal opens pooled <<<"$row"
    [ "$call" = forwarded ] || pooled="-"
    printf '%-9s %5s %5s %7s %8s %7s %7s %8s %7s %7s %7s %7s %6s%% %5s%% %4s%% %7s %6s\n' \
        "$call" "$conns" "$round" "$rps" "$mean" "$p50" "$p99" "$n" "$non2xx" \
        "$pus" "$dus" "$tus" "$wrkcpu" "$other" "$steal" "$opens" "$pooled"
done
echo
echo "  proxy/daemon/total: CPU time (all threads) of pveproxy, pvedaemon and both, in us per"
echo "  request; wrk: its CPU, % of one CPU; other: CPU used by everything else on the machine"
echo "  (should be ~0); steal: taken by the hypervisor; tcp+: TCP connections opened on the machine"
echo "  during the run (wrk reconnects every 100 requests: about requests/100 + conns; the rest of"
echo "  a forwarded run's are pveproxy's to pvedaemon); pooled: pveproxy -> pvedaemon connections"
echo "  established halfway through."
echo
awk -v many="${sum[local.$connections]}/${sum[forwarded.$connections]}" \
    -v one="${sum[local.1]:-}/${sum[forwarded.1]:-}" -v conns="$connections" -v rounds="$rounds" 'BEGIN {
    what = rounds > 1 ? " (means over the rounds)" : ""
    verdict_max = 1.3
    split(many, m, "/"); split(m[1], l, " "); split(m[2], f, " ")
    printf "forwarded/local (target: the forwarded call costs <= %.1fx the local one)%s\n", verdict_max, what
    line("CPU per request (pveproxy + pvedaemon)", f[5] / l[5])
    line("1/throughput: local/forwarded req/s, " conns " conns", l[1] / f[1])
    line("mean latency, " conns " conns", f[2] / l[2])
    line("p50 latency,  " conns " conns", f[3] / l[3])
    line("p99 latency,  " conns " conns", f[4] / l[4])
    if (one != "/") {
        split(one, o, "/"); split(o[1], l, " "); split(o[2], f, " ")
        line("mean latency, 1 conn", f[2] / l[2])
        line("p50 latency,  1 conn", f[3] / l[3])
        line("p99 latency,  1 conn", f[4] / l[4])
        printf "  added by forwarding, 1 conn: %.0f us mean, %.0f us p50 (local %.0f us mean)\n",
            1000 * (f[2] - l[2]) / rounds, 1000 * (f[3] - l[3]) / rounds, 1000 * l[2] / rounds
    }
}
function line(what, ratio) {
    printf "  %-44s %5.2f   %s\n", what, ratio, ratio <= verdict_max ? "met" : "MISSED"
}'
echo
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round _ _ _ _ n _ _ _ _ _ _ _ opens _ <<<"$row"
    if [ "$call" = forwarded ]; then
        echo "forwarded, $conns conn(s), round $round: about $(( opens - n / 100 - conns )) new connection(s)" \
            "pveproxy -> pvedaemon for $n requests (tcp+ minus wrk's estimated share)"
    fi
done
for log in pveproxy pvedaemon; do
    warnings="$(grep -c ' WARN ' "$tmp/$log.out" || true)"
    if [ "$warnings" -gt 0 ]; then
        echo "$log logged $warnings warning(s), e.g.: $(grep ' WARN ' "$tmp/$log.out" \
            | sed -E 's/^[0-9T:.Z-]+ +//' | sort | uniq -c | sort -rn | head -n1 | sed -E 's/^ +//' | cut -c1-160)"
    fi
done
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round _ _ _ _ _ _ _ _ _ _ other steal _ _ <<<"$row"
    if [ "$other" -gt 10 ] || [ "$steal" -gt 5 ]; then
        echo "WARNING: the machine was busy with other work during the runs ($call, $conns conn(s)," \
            "round $round: other ${other}%, steal ${steal}% of a CPU): the figures are noisy; rerun on an idle machine"
        break
    fi
done
