#!/usr/bin/env bash
# The cost of pveproxy forwarding a protected call to pvedaemon, against a call pveproxy answers
# itself: `GET /api2/json/nodes/bench/time` (protected: pveproxy relays it to pvedaemon over a
# pooled keep-alive HTTP connection) against `GET /api2/json/version` (answered by pveproxy),
# both over HTTPS keep-alive, in one run. The two replies are about the same size (~70-byte JSON
# bodies; the script prints both sizes).
#
# A third call, "stand-in", shows the floor of forwarding: the same `GET /nodes/bench/time`
# through a second pveproxy process (same binary, root, settings, CPU and user) whose --daemon
# is not pvedaemon but an nginx (one worker, plain HTTP on 127.0.0.1, keepalive_requests 100
# like pvedaemon, access_log off) that answers every request with the reply pvedaemon gave for
# that call at the start: the same status, body (same JSON shape and length; its timestamps
# frozen), `Content-Type: application/json;charset=UTF-8` and the other headers pveproxy relays
# (Vary). The headers pveproxy drops and sets itself differ a little on the wire (nginx sends
# Server, Date, Content-Length and Connection; pvedaemon no Connection but also Cache-Control,
# Pragma and Expires: nginx's head is a few dozen bytes shorter). The script checks that the
# client gets replies of the same header and body size through both pveproxies. nginx costs
# next to nothing per request, so that row is what forwarding costs with an (almost) free
# daemon: pveproxy's side of the loopback hop (its HTTP client, the TCP send and receive in the
# kernel) plus the stand-in's small share. Hence two more ratios: stand-in/local, the floor no
# daemon can get under (if it is above the target, a faster pvedaemon alone cannot meet it),
# and forwarded/stand-in, what pvedaemon itself adds. BENCH_STAND_IN=0 leaves the stand-in out
# (and does not need nginx; nginx-light is installed if missing, as bench/pveproxy.sh does).
#
# All requests carry the same ticket cookie (`PVEAuthCookie`, from a login with curl at the
# start, through the real pvedaemon) of a user with PVEAuditor on / (Sys.Audit, which
# /nodes/{node}/time needs). A ticket, not an API token: a token would add pveproxy's token
# check with pvedaemon to one side. Every request verifies the ticket's RSA signature in
# pveproxy, and the forwarded one verifies it again in pvedaemon (as Proxmox does), so the
# forwarded call carries one extra RSA-2048 verification on top of the extra HTTP hop. The
# stand-in's pveproxy verifies it as the other does; nginx behind it checks nothing.
#
# pveproxy, pvedaemon and the stand-in's pveproxy and nginx all run on CPU 1 (one worker each;
# no TLS behind pveproxy), wrk on CPU 0: the forwarded call's whole cost, both processes, shows
# in the throughput. Only the processes of the call being measured are busy; the others idle.
# wrk runs twice per call: with many connections (throughput, and latency under load, which is
# mostly queueing) and with one connection (latency of a single request without queueing). Each
# keep-alive connection from wrk is closed after 100 requests (Proxmox's limit) for all calls.
#
# Prints, per call: req/s, mean/p50/p99 latency, the CPU time per request of pveproxy and of
# the daemon behind it (pvedaemon; for the stand-in row, the nginx worker) from /proc (the
# figure least disturbed by other load), the CPU used by everything else on the machine, and
# the TCP connections opened during the run (from /proc/net/snmp, machine-wide: wrk's reconnects
# plus, for the forwarded calls, pveproxy's connections to its daemon). Then the ratios
# forwarded/local for CPU per request and latency and local/forwarded for throughput (target,
# issue 4: the forwarded call costs <= 1.3x the local one), the same for stand-in/local and
# forwarded/stand-in, and the CPU per request of each process side by side.
# Other work on the machine (a build, tests) skews req/s and latency a lot: the script warns
# when it saw some; WRK_ROUNDS=3 alternates the calls and averages.
#
# Usage: bash bench/forward.sh      (from anywhere in the workspace; root or sudo for apt-get
# if wrk or nginx is missing, installed as bench/pveproxy.sh does; about 75 s once corral is
# built, 50 s with BENCH_STAND_IN=0)
#
# Environment (defaults in brackets):
#   WRK_THREADS [1]  WRK_CONNECTIONS [50]  WRK_DURATION [15s]  WRK_WARMUP [3s]  WRK_ROUNDS [1]
#   WRK_SINGLE_DURATION [5s] (the one-connection runs; 0 skips them)
#   PROXY_PORT [18016]  DAEMON_PORT [18095]  SERVER_CPU [1]  CLIENT_CPU [0]
#   BENCH_STAND_IN [1] (0 leaves out the stand-in call)
#   STAND_IN_PROXY_PORT [18017] (its pveproxy)  STAND_IN_PORT [18096] (its nginx)
#   BENCH_NO_BUILD=1 uses the binaries in target/release as they are (no cargo build).
#   BENCH_KEEP=1 keeps the temporary directory (root, logs, wrk output) for inspection.
set -euo pipefail

# The WRK_* settings but WRK_SINGLE_DURATION, SERVER_CPU and CLIENT_CPU, the node and the user,
# and the set-up shared with bench/pveproxy.sh.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

single_duration="${WRK_SINGLE_DURATION:-5s}"
proxy_port="${PROXY_PORT:-18016}"
daemon_port="${DAEMON_PORT:-18095}"
stand_in="${BENCH_STAND_IN:-1}"
stand_in_proxy_port="${STAND_IN_PROXY_PORT:-18017}"
stand_in_port="${STAND_IN_PORT:-18096}"
local_path="/api2/json/version"
forwarded_path="/api2/json/nodes/$node/time"
calls=(local forwarded)
[ "$stand_in" = 0 ] || calls+=(stand-in)
# Per call: the path, the port of the pveproxy that takes it, and the port of its daemon.
declare -A call_path=([local]="$local_path" [forwarded]="$forwarded_path" [stand-in]="$forwarded_path")
declare -A call_port=([local]="$proxy_port" [forwarded]="$proxy_port" [stand-in]="$stand_in_proxy_port")
declare -A call_daemon_port=([local]="$daemon_port" [forwarded]="$daemon_port" [stand-in]="$stand_in_port")

# ---------------------------------------------------------------------------------------------
# 1. Tools: install what is missing (apt-get update only then), build corral.

tools=(wrk:wrk taskset:util-linux openssl:openssl curl:curl ss:iproute2)
[ "$stand_in" = 0 ] || tools+=(nginx:nginx-light)
install_missing "${tools[@]}"
build_corral

ports=("$proxy_port" "$daemon_port")
[ "$stand_in" = 0 ] || ports+=("$stand_in_proxy_port" "$stand_in_port")
ports_free "${ports[@]}"

# ---------------------------------------------------------------------------------------------
# 2. One temporary root: certificate, a user with PVEAuditor on /, then the two daemons (as in
#    README.md, "Running pveproxy and pvedaemon by hand"). The stand-in comes after the login.

make_tmp corral-bench-forward
stand_in_proxy_pid=""
nginx_pid=""

make_root
add_user
"$corral" acl set / --user "$user" --role PVEAuditor --root "$root" >/dev/null \
    || die "corral acl set failed"

start_pvedaemon "$daemon_port"

# pveproxy runs as www-data (as on Proxmox), or nobody where there is no www-data.
run_user=www-data
id "$run_user" >/dev/null 2>&1 || run_user=nobody
run_as "$run_user"

say "starting pveproxy on 127.0.0.1:$proxy_port (CPU $server_cpu), forwarding to pvedaemon"
start_pveproxy "$proxy_port" "$daemon_port" >"$tmp/pveproxy.out" 2>&1
proxy_pid=$started
wait_pveproxy pveproxy "$proxy_port" "$proxy_pid" "$tmp/pveproxy.out"

url() { echo "https://127.0.0.1:${2:-$proxy_port}$1"; } # path [port]

# ---------------------------------------------------------------------------------------------
# 3. Log in (the login itself is forwarded to pvedaemon), check the calls.

log_in "$proxy_port"

# "<status> <header bytes> <body bytes>" of one request with the ticket.
probe() { # call
    curl -sk --max-time 5 -H "$cookie" -o "$tmp/probe.body" \
        -w '%{http_code} %{size_header} %{size_download}' "$(url "${call_path[$1]}" "${call_port[$1]}")"
}
declare -A size header_bytes body_bytes
check_call() { # call
    local status header body
    read -r status header body <<<"$(probe "$1")"
    [ "$status" = 200 ] || die "$1: GET ${call_path[$1]} answers $status: $(cat "$tmp/probe.body")"
    size[$1]="header $header B + body $body B"
    header_bytes[$1]="$header"; body_bytes[$1]="$body"
    say "$1: GET ${call_path[$1]}: $status, ${size[$1]}: $(cat "$tmp/probe.body")"
}
check_call local
check_call forwarded

# ---------------------------------------------------------------------------------------------
# 3b. The stand-in: pvedaemon's reply to the forwarded call, asked for directly as pveproxy
#     forwards it, served by nginx; a second pveproxy forwards to that nginx.

if [ "$stand_in" != 0 ]; then
    curl -s --max-time 5 -D "$tmp/daemon.head" -o "$tmp/daemon.body" \
        -H "PVEDisableProxy: true" -H "PVEClientIP: 127.0.0.1" -H "$cookie" \
        -H "Host: 127.0.0.1:$stand_in_proxy_port" "http://127.0.0.1:$daemon_port$forwarded_path" \
        || die "cannot ask pvedaemon for GET $forwarded_path directly"
    tr -d '\r' <"$tmp/daemon.head" >"$tmp/daemon.head.txt"
    daemon_status="$(awk 'NR == 1 { print $2 }' "$tmp/daemon.head.txt")"
    [ "$daemon_status" = 200 ] || die "pvedaemon answers GET $forwarded_path with $(head -n1 "$tmp/daemon.head.txt")"
    daemon_type="$(awk -F': *' 'tolower($1) == "content-type" { print $2 }' "$tmp/daemon.head.txt")"
    [ "$daemon_type" = "application/json;charset=UTF-8" ] \
        || die "pvedaemon's reply has Content-Type '$daemon_type', expected application/json;charset=UTF-8"
    stand_in_body="$(cat "$tmp/daemon.body")"
    # nginx's `return 200 '...'` takes it verbatim unless it has single quotes, backslashes, $
    # (variables) or control characters (a trailing newline $(...) would drop, too).
    not_verbatim='[[:cntrl:]'"'"'\$]'
    [ "${#stand_in_body}" = "$(wc -c <"$tmp/daemon.body")" ] \
        && ! [[ "$stand_in_body" =~ $not_verbatim ]] \
        || die "cannot serve pvedaemon's reply body from nginx as is: $stand_in_body"
    # The headers pveproxy relays (it drops Connection, Transfer-Encoding, Content-Length, Date,
    # Expires, Cache-Control, Pragma and Server and sets its own; io/src/forward.rs NOT_RELAYED),
    # Content-Type aside: nginx sets it with default_type.
    stand_in_headers="$(awk -F': *' 'NR > 1 && NF {
        name = tolower($1)
        if (name ~ /^(connection|transfer-encoding|content-length|date|expires|cache-control|pragma|server|content-type)$/) next
        value = substr($0, index($0, ":") + 1); sub(/^ +/, "", value)
        if (value ~ /["$\\]/) { print "bad " name > "/dev/stderr"; exit 1 }
        printf "            add_header %s \"%s\";\n", name, value
    }' "$tmp/daemon.head.txt")" || die "cannot copy pvedaemon's reply headers to nginx: $(cat "$tmp/daemon.head.txt")"
    say "stand-in reply (pvedaemon's, frozen): 200, Content-Type $daemon_type," \
        "relayed headers: $(printf '%s\n' "$stand_in_headers" | sed -nE 's/^ *add_header ([^ ]+) "(.*)";$/\1: \2/p' | awk 'NR > 1 { printf ", " } { printf "%s", $0 }'), body $stand_in_body"

    mkdir -p "$tmp/stand-in"
    nginx_conf "$tmp/stand-in" <<EOF
    access_log off;
    server_tokens off;
    # As pvedaemon: at most 100 requests per keep-alive connection, idle ones closed after 5 s.
    keepalive_requests 100;
    keepalive_timeout 5s;

    server {
        listen 127.0.0.1:$stand_in_port;

        # Every request: pvedaemon's reply to GET $forwarded_path.
        location / {
            default_type "application/json;charset=UTF-8";
$stand_in_headers
            return 200 '$stand_in_body';
        }
    }
EOF
    start_nginx "$tmp/stand-in" "the stand-in's config" \
        "starting the stand-in: nginx on 127.0.0.1:$stand_in_port (CPU $server_cpu)"
    wait_up nginx "$stand_in_port" "$nginx_pid" "$tmp/stand-in/error.log" / http
    find_nginx_worker

    say "starting the stand-in's pveproxy on 127.0.0.1:$stand_in_proxy_port (CPU $server_cpu), forwarding to nginx"
    start_pveproxy "$stand_in_proxy_port" "$stand_in_port" >"$tmp/pveproxy-stand-in.out" 2>&1
    stand_in_proxy_pid=$started
    wait_pveproxy "the stand-in's pveproxy" "$stand_in_proxy_port" "$stand_in_proxy_pid" "$tmp/pveproxy-stand-in.out"
    check_call stand-in
    [ "${body_bytes[stand-in]}" = "${body_bytes[forwarded]}" ] \
        || die "the stand-in's reply body has ${body_bytes[stand-in]} B, pvedaemon's ${body_bytes[forwarded]} B"
    [ "${header_bytes[stand-in]}" = "${header_bytes[forwarded]}" ] \
        || say "WARNING: the stand-in's reply header has ${header_bytes[stand-in]} B, pvedaemon's ${header_bytes[forwarded]} B"
fi
# Per call: the pveproxy that takes it and the daemon behind it (local: pvedaemon, idle).
declare -A call_proxy_pid=([local]="$proxy_pid" [forwarded]="$proxy_pid" [stand-in]="$stand_in_proxy_pid")
declare -A call_daemon_pid=([local]="$daemon_pid" [forwarded]="$daemon_pid" [stand-in]="${nginx_worker:-}")

# ---------------------------------------------------------------------------------------------
# 4. Warm up each call, then measure (WRK_ROUNDS > 1 alternates the calls).

wrk_timeout=$(( $(seconds "$duration") + 30 ))
hz="$(getconf CLK_TCK)"

run_wrk() { # call connections duration output
    timeout "$wrk_timeout" taskset -c "$client_cpu" \
        wrk -t"$(( threads < $2 ? threads : $2 ))" -c"$2" -d"$3" --latency -H "$cookie" \
        "$(url "${call_path[$1]}" "${call_port[$1]}")" >"$4" 2>&1 \
        || { cat "$4" >&2; die "wrk failed on $1 (GET ${call_path[$1]})"; }
}

# TCP connections this machine opened (connect) so far.
active_opens() { awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
# Established connections from a pveproxy to its daemon (port) now.
daemon_conns() { ss -Htn state established "( dport = :$1 )" | wc -l; }

rows=()         # one tab-separated row per measured run
declare -A sum  # per call and connection count: sums over rounds
measure() { # call connections duration round
    local call="$1" conns="$2" dur="$3" round="$4" out="$tmp/$1.$2.$4.wrk"
    local path="${call_path[$1]}" proxy="${call_proxy_pid[$1]}" daemon="${call_daemon_pid[$1]}"
    local pp0 dp0 w0 s0 o0 t0 pp1 dp1 w1 s1 o1 t1 wrk_pid pooled
    local rps mean p50 p99 n non2xx errors
    say "$call: GET $path, wrk -c$conns -d$dur --latency (round $round/$rounds)"
    pp0="$(proc_ticks "$proxy")"; dp0="$(proc_ticks "$daemon")"; children_secs; w0="$children"
    s0="$(sys_ticks)"; o0="$(active_opens)"; t0="$(date +%s.%N)"
    run_wrk "$call" "$conns" "$dur" "$out" &
    wrk_pid=$!
    # Halfway through: how many connections pveproxy holds to its daemon.
    sleep "$(awk -v d="$(seconds "$dur")" 'BEGIN { print d / 2 }')"
    pooled="$(daemon_conns "${call_daemon_port[$call]}")"
    wait "$wrk_pid" || die "wrk failed on $path"
    pp1="$(proc_ticks "$proxy")"; dp1="$(proc_ticks "$daemon")"; children_secs; w1="$children"
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
    # req/s, mean, p50, p99, CPU us/request: both, pveproxy, daemon.
    sum[$key]="$(awk -v a="${sum[$key]:-0 0 0 0 0 0 0}" -v row="$row" 'BEGIN {
        split(a, s, " "); split(row, r, "\t")
        printf "%s %s %s %s %s %s %s", s[1] + r[4], s[2] + r[5], s[3] + r[6], s[4] + r[7], s[5] + r[12],
            s[6] + r[10], s[7] + r[11]
    }')"
}

for call in "${calls[@]}"; do
    say "$call: warm-up $warmup"; run_wrk "$call" "$connections" "$warmup" "$tmp/$call.warmup"
done
loads=("$connections:$duration")
if [ "$(seconds "$single_duration")" != 0 ] && [ "$connections" != 1 ]; then
    loads+=("1:$single_duration")
fi
for load in "${loads[@]}"; do
    for round in $(seq "$rounds"); do
        for call in "${calls[@]}"; do
            measure "$call" "${load%%:*}" "${load#*:}" "$round"
        done
    done
done
for pid in "$proxy_pid" "$daemon_pid" $stand_in_proxy_pid $nginx_pid; do
    kill -0 "$pid" 2>/dev/null \
        || { cat "$tmp"/pve*.out "$tmp"/stand-in/error.log >&2 2>/dev/null; die "a daemon died during the run"; }
done

# ---------------------------------------------------------------------------------------------
# 5. Report.

echo
echo "HTTPS (TLS 1.3, HTTP/1.1 keep-alive), ticket cookie of $user (PVEAuditor on /)"
echo "  local:     GET $local_path, answered by pveproxy (${size[local]})"
echo "  forwarded: GET $forwarded_path, pveproxy -> pvedaemon (${size[forwarded]})"
if [ "$stand_in" != 0 ]; then
    echo "  stand-in:  GET $forwarded_path, a second pveproxy -> nginx (1 worker, plain HTTP) replying" \
        "with pvedaemon's reply (${size[stand-in]})"
    echo "pveproxy, pvedaemon, the stand-in's pveproxy and nginx on CPU $server_cpu," \
        "wrk (-t$threads) on CPU $client_cpu ($(nproc) CPUs); warm-up $warmup each; $rounds round(s)"
else
    echo "pveproxy and pvedaemon on CPU $server_cpu, wrk (-t$threads) on CPU $client_cpu ($(nproc) CPUs);" \
        "warm-up $warmup each; $rounds round(s)"
fi
echo
printf '%-9s %5s %5s %7s %8s %7s %7s %8s %7s %7s %7s %7s %7s %6s %5s %7s %6s\n' \
    call conns round req/s "mean ms" "p50 ms" "p99 ms" requests non-2xx \
    "proxy" "daemon" "total" "wrk" other steal "tcp+" pooled
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round rps mean p50 p99 n non2xx pus dus tus wrkcpu other steal opens pooled <<<"$row"
    [ "$call" != local ] || pooled="-"
    printf '%-9s %5s %5s %7s %8s %7s %7s %8s %7s %7s %7s %7s %6s%% %5s%% %4s%% %7s %6s\n' \
        "$call" "$conns" "$round" "$rps" "$mean" "$p50" "$p99" "$n" "$non2xx" \
        "$pus" "$dus" "$tus" "$wrkcpu" "$other" "$steal" "$opens" "$pooled"
done
echo
echo "  proxy/daemon/total: CPU time (all threads) of pveproxy, the daemon behind it (pvedaemon;"
echo "  for stand-in, the nginx worker) and both, in us per request; wrk: its CPU, % of one CPU;"
echo "  other: CPU used by everything else on the machine (should be ~0); steal: taken by the"
echo "  hypervisor; tcp+: TCP connections opened on the machine during the run (wrk reconnects every"
echo "  100 requests: about requests/100 + conns; the rest of a forwarded or stand-in run's are"
echo "  pveproxy's to its daemon); pooled: pveproxy -> daemon connections established halfway through."
echo
awk -v lm="${sum[local.$connections]}" -v fm="${sum[forwarded.$connections]}" \
    -v sm="${sum[stand-in.$connections]:-}" -v l1="${sum[local.1]:-}" -v f1="${sum[forwarded.1]:-}" \
    -v s1="${sum[stand-in.1]:-}" -v conns="$connections" -v rounds="$rounds" 'BEGIN {
    # Each: req/s, mean, p50, p99 (ms), CPU us/request of both, of pveproxy, of the daemon;
    # summed over the rounds.
    split(lm, L, " "); split(fm, F, " "); split(sm, S, " ")
    split(l1, L1, " "); split(f1, F1, " "); split(s1, S1, " ")
    what = rounds > 1 ? " (means over the rounds)" : ""
    target = 1.3
    printf "forwarded/local (target: the forwarded call costs <= %.1fx the local one)%s\n", target, what
    ratios(L, F, L1, F1, l1 != "", "pveproxy + pvedaemon", 1)
    if (sm != "") {
        printf "stand-in/local: the floor, forwarding to a daemon that costs next to nothing%s\n", what
        ratios(L, S, L1, S1, s1 != "", "pveproxy + nginx", 2)
        printf "forwarded/stand-in: what pvedaemon adds over that daemon%s\n", what
        ratios(S, F, S1, F1, s1 != "", "pveproxy + daemon", 0)
    }
    printf "CPU per request in us (%s conns): pveproxy + daemon = total\n", conns
    cpu("local", L, "(pvedaemon idle)")
    cpu("forwarded", F, "(pvedaemon)")
    if (sm != "") cpu("stand-in", S, "(nginx)")
    printf "  pveproxy CPU/request spent on forwarding (minus local): %.1f us to pvedaemon", (F[6] - L[6]) / rounds
    if (sm != "") printf ", %.1f us to the stand-in", (S[6] - L[6]) / rounds
    printf "\n"
    if (l1 != "") {
        printf "  added by forwarding, 1 conn: %.0f us mean, %.0f us p50 (local %.0f us mean)\n",
            1000 * (F1[2] - L1[2]) / rounds, 1000 * (F1[3] - L1[3]) / rounds, 1000 * L1[2] / rounds
        if (s1 != "")
            printf "  added by forwarding to the stand-in, 1 conn: %.0f us mean, %.0f us p50\n",
                1000 * (S1[2] - L1[2]) / rounds, 1000 * (S1[3] - L1[3]) / rounds
    }
    if (sm != "") {
        floor = L[1] / S[1]
        if (floor > target)
            printf "the floor (stand-in/local, throughput) is %.2f, above %.1f: no daemon, however fast,\n" \
                "  brings the forwarded call within the target; pveproxy'"'"'s side of the hop (plus the\n" \
                "  stand-in'"'"'s small share) already costs more than that\n", floor, target
        else
            printf "the floor (stand-in/local, throughput) is %.2f, within %.1f: the rest of the gap is\n" \
                "  pvedaemon'"'"'s\n", floor, target
    }
}
# Ratios of call b against call a (CPU, latency: b/a; throughput: a/b), many and one connection.
# verdict 1: met/MISSED against the target; 2: whether the ratio is above the target; 0: none.
function ratios(a, b, a1, b1, single, cpu_what, verdict) {
    line("CPU per request (" cpu_what ")", b[5] / a[5], verdict)
    line("1/throughput: req/s ratio, " conns " conns", a[1] / b[1], verdict)
    line("mean latency, " conns " conns", b[2] / a[2], verdict)
    line("p50 latency,  " conns " conns", b[3] / a[3], verdict)
    line("p99 latency,  " conns " conns", b[4] / a[4], verdict)
    if (single) {
        line("mean latency, 1 conn", b1[2] / a1[2], verdict)
        line("p50 latency,  1 conn", b1[3] / a1[3], verdict)
        line("p99 latency,  1 conn", b1[4] / a1[4], verdict)
    }
}
function line(what, ratio, verdict) {
    note = ""
    if (verdict == 1) note = ratio <= target ? "met" : "MISSED"
    if (verdict == 2) note = ratio <= target ? "within the target" : "above the target"
    printf "  %-44s %5.2f   %s\n", what, ratio, note
}
function cpu(name, c, daemon) {
    printf "  %-10s %6.1f + %5.1f = %6.1f  %s\n", name, c[6] / rounds, c[7] / rounds, c[5] / rounds, daemon
}'
echo
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round _ _ _ _ n _ _ _ _ _ _ _ opens _ <<<"$row"
    case "$call" in
        forwarded) to=pvedaemon ;;
        stand-in) to="the stand-in" ;;
        *) continue ;;
    esac
    echo "$call, $conns conn(s), round $round: about $(( opens - n / 100 - conns )) new connection(s)" \
        "pveproxy -> $to for $n requests (tcp+ minus wrk's estimated share)"
done
for log in pveproxy pvedaemon pveproxy-stand-in; do
    [ -e "$tmp/$log.out" ] || continue
    report_warnings "$log" "$tmp/$log.out"
done
if [ -s "$tmp/stand-in/error.log" ] 2>/dev/null; then
    echo "the stand-in's nginx logged $(wc -l <"$tmp/stand-in/error.log") line(s), e.g.: $(head -n1 "$tmp/stand-in/error.log" | cut -c1-160)"
fi
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round _ _ _ _ _ _ _ _ _ _ other steal _ _ <<<"$row"
    if busy "$call, $conns conn(s), round $round" "$other" "$steal"; then break; fi
done
