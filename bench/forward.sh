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
stand_in="${BENCH_STAND_IN:-1}"
stand_in_proxy_port="${STAND_IN_PROXY_PORT:-18017}"
stand_in_port="${STAND_IN_PORT:-18096}"
node="bench"
user="bench@pve"
local_path="/api2/json/version"
forwarded_path="/api2/json/nodes/$node/time"
calls=(local forwarded)
[ "$stand_in" = 0 ] || calls+=(stand-in)
# Per call: the path, the port of the pveproxy that takes it, and the port of its daemon.
declare -A call_path=([local]="$local_path" [forwarded]="$forwarded_path" [stand-in]="$forwarded_path")
declare -A call_port=([local]="$proxy_port" [forwarded]="$proxy_port" [stand-in]="$stand_in_proxy_port")
declare -A call_daemon_port=([local]="$daemon_port" [forwarded]="$daemon_port" [stand-in]="$stand_in_port")

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
if [ "$stand_in" != 0 ]; then
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    # Package scripts must not start the system nginx (it would listen on *:80): without a
    # policy-rc.d, put a temporary one in place that forbids starting services.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
        made_policy=1
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    if [ -n "$made_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

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

ports=("$proxy_port" "$daemon_port")
[ "$stand_in" = 0 ] || ports+=("$stand_in_proxy_port" "$stand_in_port")
for port in "${ports[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use"
    fi
done

# ---------------------------------------------------------------------------------------------
# 2. One temporary root: certificate, a user with PVEAuditor on /, then the two daemons (as in
#    README.md, "Running pveproxy and pvedaemon by hand"). The stand-in comes after the login.

tmp="$(mktemp -d /tmp/corral-bench-forward.XXXXXX)"
proxy_pid=""
daemon_pid=""
stand_in_proxy_pid=""
nginx_pid=""
cleanup() {
    local status=$?
    set +e
    for pid in $stand_in_proxy_pid $nginx_pid $proxy_pid $daemon_pid; do
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

url() { echo "https://127.0.0.1:${2:-$proxy_port}$1"; } # path [port]
# /access/domains needs no credentials (a request without any would wait 3 s for its 401).
for i in $(seq 100); do
    if curl -sk --max-time 2 -o /dev/null "$(url /api2/json/access/domains)"; then break; fi
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$tmp/pveproxy.out" >&2; die "pveproxy exited at start-up"; }
    [ "$i" -lt 100 ] || { cat "$tmp/pveproxy.out" >&2; die "pveproxy does not answer on 127.0.0.1:$proxy_port"; }
    sleep 0.1
done

# ---------------------------------------------------------------------------------------------
# 3. Log in (the login itself is forwarded to pvedaemon), check the calls.

login="$(curl -sk --max-time 10 --data-urlencode "username=$user" \
    --data-urlencode "password=$password" "$(url /api2/json/access/ticket)")"
ticket="$(printf '%s' "$login" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')"
[ -n "$ticket" ] || { cat "$tmp/pveproxy.out" "$tmp/pvedaemon.out" >&2; die "login failed: $login"; }
cookie="Cookie: PVEAuthCookie=$ticket"

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
    cat >"$tmp/stand-in/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $tmp/stand-in/nginx.pid;
error_log $tmp/stand-in/error.log warn;
$( [ "$(id -u)" -eq 0 ] && echo "user $run_user $(id -gn "$run_user");" )

events {
    worker_connections 4096;
}

http {
    client_body_temp_path $tmp/stand-in/body;
    proxy_temp_path $tmp/stand-in/proxy;
    fastcgi_temp_path $tmp/stand-in/fastcgi;
    uwsgi_temp_path $tmp/stand-in/uwsgi;
    scgi_temp_path $tmp/stand-in/scgi;

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
}
EOF
    "$nginx_bin" -t -q -e "$tmp/stand-in/error.log" -p "$tmp/stand-in" -c "$tmp/stand-in/nginx.conf" \
        || die "nginx rejects the stand-in's config ($tmp/stand-in/nginx.conf)"
    say "starting the stand-in: nginx on 127.0.0.1:$stand_in_port (CPU $server_cpu)"
    taskset -c "$server_cpu" "$nginx_bin" -e "$tmp/stand-in/error.log" -p "$tmp/stand-in" \
        -c "$tmp/stand-in/nginx.conf" 2>>"$tmp/stand-in/error.log" &
    nginx_pid=$!
    for i in $(seq 100); do
        if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$stand_in_port/"; then break; fi
        kill -0 "$nginx_pid" 2>/dev/null || { cat "$tmp/stand-in/error.log" >&2; die "nginx exited at start-up"; }
        [ "$i" -lt 100 ] || { cat "$tmp/stand-in/error.log" >&2; die "nginx does not answer on 127.0.0.1:$stand_in_port"; }
        sleep 0.1
    done
    nginx_worker="$(ps -o pid= --ppid "$nginx_pid" | head -n1 | tr -d ' ')"
    [ -n "$nginx_worker" ] || die "no nginx worker process"

    say "starting the stand-in's pveproxy on 127.0.0.1:$stand_in_proxy_port (CPU $server_cpu), forwarding to nginx"
    taskset -c "$server_cpu" "$pveproxy" start --root "$root" --node "$node" \
        --listen "127.0.0.1:$stand_in_proxy_port" --daemon "127.0.0.1:$stand_in_port" --user "$run_user" \
        >"$tmp/pveproxy-stand-in.out" 2>&1 &
    stand_in_proxy_pid=$!
    for i in $(seq 100); do
        if curl -sk --max-time 2 -o /dev/null "$(url /api2/json/access/domains "$stand_in_proxy_port")"; then break; fi
        kill -0 "$stand_in_proxy_pid" 2>/dev/null \
            || { cat "$tmp/pveproxy-stand-in.out" >&2; die "the stand-in's pveproxy exited at start-up"; }
        [ "$i" -lt 100 ] || { cat "$tmp/pveproxy-stand-in.out" >&2; die "the stand-in's pveproxy does not answer on 127.0.0.1:$stand_in_proxy_port"; }
        sleep 0.1
    done
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

# CPU time of a process (all its threads), in clock ticks.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# All CPUs: busy ticks (user nice system irq softirq) and steal ticks.
sys_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat; }
# TCP connections this machine opened (connect) so far.
active_opens() { awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
# Established connections from a pveproxy to its daemon (port) now.
daemon_conns() { ss -Htn state established "( dport = :$1 )" | wc -l; }
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
    warnings="$(grep -c ' WARN ' "$tmp/$log.out" || true)"
    if [ "$warnings" -gt 0 ]; then
        echo "$log logged $warnings warning(s), e.g.: $(grep ' WARN ' "$tmp/$log.out" \
            | sed -E 's/^[0-9T:.Z-]+ +//' | sort | uniq -c | sort -rn | head -n1 | sed -E 's/^ +//' | cut -c1-160)"
    fi
done
if [ -s "$tmp/stand-in/error.log" ] 2>/dev/null; then
    echo "the stand-in's nginx logged $(wc -l <"$tmp/stand-in/error.log") line(s), e.g.: $(head -n1 "$tmp/stand-in/error.log" | cut -c1-160)"
fi
for row in "${rows[@]}"; do
    IFS=$'\t' read -r call conns round _ _ _ _ _ _ _ _ _ _ other steal _ _ <<<"$row"
    if [ "$other" -gt 10 ] || [ "$steal" -gt 5 ]; then
        echo "WARNING: the machine was busy with other work during the runs ($call, $conns conn(s)," \
            "round $round: other ${other}%, steal ${steal}% of a CPU): the figures are noisy; rerun on an idle machine"
        break
    fi
done
