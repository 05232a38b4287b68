#!/usr/bin/env bash
# pveproxy's HTTPS front door against nginx: `GET /api2/json/version` over TLS keep-alive.
#
# Both servers use the same ECDSA P-256 certificate, TLS 1.2 + 1.3 with Proxmox's default
# cipher preference (the six ECDHE AEAD suites, server order), HTTP/1.1 keep-alive, one
# worker each, and write an access log in Proxmox's format. nginx returns the very same JSON
# body with the same content type and cache headers. The servers run on CPU 1, wrk on CPU 0.
#
# Both close a keep-alive connection after 100 requests (Proxmox's limit), so both pay the same
# TLS handshakes. The only differences on the wire: nginx sends `Server: nginx` and `Connection: keep-alive`,
# pveproxy `Server: pve-api-daemon/3.0`.
#
# /version needs an authenticated user (as on Proxmox VE; without credentials pveproxy answers
# 401 after 3 s): the script creates a user, starts a pvedaemon for the login (which pveproxy
# forwards to it; it is idle afterwards), logs in with curl and sends the ticket cookie
# (`Cookie: PVEAuthCookie=…`) with every request, to both servers so the requests are identical.
# nginx ignores it; pveproxy verifies the ticket's RSA-2048 signature on every request (as
# Proxmox does), roughly 20 us of CPU that nginx does not spend.
#
# Prints req/s and p99 latency for both, the ratios corral/nginx, each server's CPU time per
# request (the figure least disturbed by other load), the CPU used by wrk and by everything else
# on the machine during each run, resident memory after the runs, and access-log line counts.
# Targets (issue 3): corral req/s >= nginx req/s, corral p99 <= nginx p99.
# Other work on the machine (a build, tests) skews req/s and p99 a lot: the script warns when it
# saw some; WRK_ROUNDS=3 alternates the servers and averages.
#
# Usage: bash bench/pveproxy.sh      (from anywhere in the workspace; root or sudo for apt-get
# if wrk/nginx are missing; under a minute once corral is built)
#
# Environment (defaults in brackets):
#   WRK_THREADS [1]  WRK_CONNECTIONS [50]  WRK_DURATION [15s]  WRK_WARMUP [3s]  WRK_ROUNDS [1]
#   CORRAL_PORT [18006]  NGINX_PORT [18443]  DAEMON_PORT [18085]  SERVER_CPU [1]  CLIENT_CPU [0]
#   BENCH_NO_BUILD=1 uses the binaries in target/release as they are (no cargo build).
#   BENCH_KEEP=1 keeps the temporary directory (configs, logs, wrk output) for inspection.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

threads="${WRK_THREADS:-1}"
connections="${WRK_CONNECTIONS:-50}"
duration="${WRK_DURATION:-15s}"
warmup="${WRK_WARMUP:-3s}"
corral_port="${CORRAL_PORT:-18006}"
nginx_port="${NGINX_PORT:-18443}"
daemon_port="${DAEMON_PORT:-18085}"
server_cpu="${SERVER_CPU:-1}"
client_cpu="${CLIENT_CPU:-0}"
path="/api2/json/version"
node="bench"
user="bench@pve"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/pveproxy.sh: %s\n' "$*" >&2; exit 1; }

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
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
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

for port in "$corral_port" "$nginx_port" "$daemon_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use"
    fi
done

# ---------------------------------------------------------------------------------------------
# 2. One temporary root, one certificate for both servers; a user and a pvedaemon for the login.

tmp="$(mktemp -d /tmp/corral-bench.XXXXXX)"
corral_pid=""
nginx_pid=""
daemon_pid=""
cleanup() {
    local status=$?
    set +e
    for pid in $corral_pid $nginx_pid $daemon_pid; do
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
mkdir -p "$pve_local" "$root/etc/default" "$tmp/nginx"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pve_local/pve-ssl.key" -out "$pve_local/pve-ssl.pem" \
    -days 30 -subj "/CN=$node" 2>/dev/null
: > "$root/etc/default/pveproxy"   # every key at Proxmox's default

# A user allowed to read /version (any user is) and the pvedaemon that checks its password at
# the login; pvedaemon creates the ticket keys pveproxy verifies tickets with.
password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" | "$corral" user add "$user" --password --root "$root" >/dev/null \
    || die "corral user add failed"
say "starting pvedaemon on 127.0.0.1:$daemon_port (CPU $server_cpu; for the login only)"
taskset -c "$server_cpu" "$pvedaemon" start --root "$root" --node "$node" \
    --listen "127.0.0.1:$daemon_port" >"$tmp/pvedaemon.out" 2>&1 &
daemon_pid=$!
for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$daemon_port") 2>/dev/null; then break; fi
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon exited at start-up"; }
    [ "$i" -lt 100 ] || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon does not listen on 127.0.0.1:$daemon_port"; }
    sleep 0.1
done

# Started as root, pveproxy drops to --user before reading config and keys (as Proxmox with
# www-data): let that user read them, root:<its group> 0640 like /etc/pve, /etc/pve/priv
# root's alone.
run_user=nobody
run_group="$(id -gn "$run_user")"
if [ "$(id -u)" -eq 0 ]; then
    chgrp -R "$run_group" "$tmp"
    chmod -R g+rX,o-rwx "$tmp"
    chmod -R go-rwx "$root/etc/pve/priv"
fi

# ---------------------------------------------------------------------------------------------
# 3. nginx: private config, one worker, the same TLS settings and reply.

# Proxmox's default CIPHERS, the six AEAD suites rustls offers (the four CBC ones are left out
# by corral, see core/src/tls/policy.rs); TLS 1.3 suites at OpenSSL's default, as Proxmox.
ciphers="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
body='{"data":{"release":"9.2","repoid":"corral-0.1.0","version":"9.2.11"}}'

nginx_log="$tmp/nginx/access.log"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
$( [ "$(id -u)" -eq 0 ] && echo "user $run_user $run_group;" )

events {
    worker_connections 4096;
}

http {
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;

    # Proxmox's access-log line: ::ffff:<ip> - <user|-> [dd/mm/YYYY:HH:MM:SS +zzzz] "<request>" <status> <bytes>
    map \$time_iso8601 \$pve_time {
        "~^(?<y>\\d+)-(?<mo>\\d+)-(?<d>\\d+)T(?<hms>[\\d:]+)(?<zh>[+-]\\d\\d):(?<zm>\\d\\d)\$" "\$d/\$mo/\$y:\$hms \$zh\$zm";
        default "\$time_local";
    }
    log_format pve '::ffff:\$remote_addr - \$remote_user [\$pve_time] "\$request" \$status \$body_bytes_sent';
    access_log $nginx_log pve;

    server_tokens off;
    # As Proxmox and corral: at most 100 requests per keep-alive connection, then a new one.
    keepalive_requests 100;
    keepalive_timeout 5s;

    server {
        listen 127.0.0.1:$nginx_port ssl;
        ssl_certificate $pve_local/pve-ssl.pem;
        ssl_certificate_key $pve_local/pve-ssl.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $ciphers;
        ssl_prefer_server_ciphers on;

        location = $path {
            default_type "application/json;charset=UTF-8";
            # "Expires: <now>" and "Cache-Control: max-age=0", as pveproxy; Vary as corral adds.
            expires 0;
            add_header Pragma "no-cache";
            add_header Vary "Accept-Encoding";
            return 200 '$body';
        }
    }
}
EOF
"$nginx_bin" -t -q -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
    || die "nginx rejects the benchmark config ($tmp/nginx/nginx.conf)"

say "starting nginx on 127.0.0.1:$nginx_port (CPU $server_cpu)"
taskset -c "$server_cpu" "$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" \
    -c "$tmp/nginx/nginx.conf" 2>>"$tmp/nginx/error.log" &
nginx_pid=$!

# ---------------------------------------------------------------------------------------------
# 4. corral's pveproxy.

say "starting corral pveproxy on 127.0.0.1:$corral_port (CPU $server_cpu)"
taskset -c "$server_cpu" "$pveproxy" start --root "$root" --listen "127.0.0.1:$corral_port" \
    --node "$node" --user "$run_user" --daemon "127.0.0.1:$daemon_port" >"$tmp/pveproxy.out" 2>&1 &
corral_pid=$!
corral_log="$root/var/log/pveproxy/access.log"

url() { echo "https://127.0.0.1:$1$path"; }

wait_up() { # name port pid logfile path
    local i
    for i in $(seq 100); do
        if curl -sk --max-time 2 -o /dev/null "https://127.0.0.1:$2$5"; then return 0; fi
        kill -0 "$3" 2>/dev/null || { cat "$4" >&2; die "$1 exited at start-up"; }
        sleep 0.1
    done
    cat "$4" >&2
    die "$1 does not answer on 127.0.0.1:$2"
}
wait_up nginx "$nginx_port" "$nginx_pid" "$tmp/nginx/error.log" "$path"
# (/access/domains needs no credentials; /version without them would wait 3 s for its 401.)
wait_up pveproxy "$corral_port" "$corral_pid" "$tmp/pveproxy.out" /api2/json/access/domains

# Log in (pveproxy forwards the login to pvedaemon); the ticket goes with every request.
login="$(curl -sk --max-time 10 --data-urlencode "username=$user" \
    --data-urlencode "password=$password" "https://127.0.0.1:$corral_port/api2/json/access/ticket")"
ticket="$(printf '%s' "$login" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')"
[ -n "$ticket" ] || { cat "$tmp/pveproxy.out" "$tmp/pvedaemon.out" >&2; die "login failed: $login"; }
cookie="Cookie: PVEAuthCookie=$ticket"

# The same body, byte for byte.
corral_body="$(curl -sk --max-time 5 -H "$cookie" "$(url "$corral_port")")"
nginx_body="$(curl -sk --max-time 5 -H "$cookie" "$(url "$nginx_port")")"
[ "$corral_body" = "$body" ] || die "pveproxy answers '$corral_body', expected '$body'"
[ "$nginx_body" = "$body" ] || die "nginx answers '$nginx_body', expected '$body'"
for port in "$corral_port" "$nginx_port"; do
    say "$(url "$port"): $(curl -sk --max-time 5 -H "$cookie" -D - -o /dev/null "$(url "$port")" \
        | tr -d '\r' | awk 'NR == 1 { s = $0; next } NF { s = s ", " $0 } END { print s }')"
    say "  TLS as wrk's OpenSSL gets it: $(echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" 2>/dev/null \
        | awk '/^New, / { sub(/^New, /, ""); print }')"
done

# ---------------------------------------------------------------------------------------------
# 5. Warm up each server, then measure (WRK_ROUNDS > 1 alternates corral and nginx).

rounds="${WRK_ROUNDS:-1}"
wrk_timeout=$(( $(seconds "$duration") + 30 ))
hz="$(getconf CLK_TCK)"

run_wrk() { # port duration output
    timeout "$wrk_timeout" taskset -c "$client_cpu" \
        wrk -t"$threads" -c"$connections" -d"$2" --latency -H "$cookie" "$(url "$1")" >"$3" 2>&1 \
        || { cat "$3" >&2; die "wrk failed against port $1"; }
}

# CPU time of a process (all its threads), in clock ticks.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# All CPUs: busy ticks (user nice system irq softirq) and steal ticks.
sys_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat; }
# CPU seconds used by this shell's finished children (wrk), from `times`, into $children.
# (Not through $(…): a subshell has children of its own.)
children_secs() {
    times >"$tmp/times"
    children="$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$tmp/times")"
}

# Lines in a log, once the count has been stable for 0.2 s (corral writes from a thread).
log_lines() {
    local before after
    after="$(wc -l <"$1")"
    for _ in $(seq 50); do
        before="$after"; sleep 0.2; after="$(wc -l <"$1")"
        [ "$before" = "$after" ] && break
    done
    echo "$after"
}

nginx_worker() { ps -o pid= --ppid "$nginx_pid" | head -n1 | tr -d ' '; }

# Requests/s, p99 in ms, completed requests, non-2xx replies and socket errors from wrk.
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
        $1 == "99%" { p99 = ms($2) }
        / requests in / { n = $1 }
        /Socket errors:/ { sub(/^ *Socket errors: */, ""); errors = $0 }
        /Non-2xx/ { non2xx = $NF }
        END {
            if (rps == "" || p99 == "" || n == "") exit 1
            if (errors == "") errors = "none"
            if (non2xx == "") non2xx = 0
            printf "%s\t%s\t%s\t%s\t%s\n", rps, p99, n, non2xx, errors
        }' "$1"
}

rows=()        # one tab-separated row per measured run
declare -A sum # per server: sum of req/s and p99 over rounds
measure() { # name port pid-to-account access-log round
    local name="$1" port="$2" pid="$3" log="$4" round="$5" out="$tmp/$1.$5.wrk"
    local lines0 p0 w0 s0 t0 p1 w1 s1 t1 rps p99 n non2xx errors lines secs
    lines0="$(log_lines "$log")"
    say "$name: wrk -t$threads -c$connections -d$duration --latency (round $round/$rounds)"
    p0="$(proc_ticks "$pid")"; children_secs; w0="$children"; s0="$(sys_ticks)"; t0="$(date +%s.%N)"
    run_wrk "$port" "$duration" "$out"
    p1="$(proc_ticks "$pid")"; children_secs; w1="$children"; s1="$(sys_ticks)"; t1="$(date +%s.%N)"
    lines=$(( $(log_lines "$log") - lines0 ))
    IFS=$'\t' read -r rps p99 n non2xx errors < <(parse_wrk "$out") \
        || { cat "$out" >&2; die "cannot read wrk's output for $name"; }
    [ "$errors" = none ] || say "WARNING: $name: wrk socket errors: $errors"
    [ "$non2xx" = 0 ] || say "WARNING: $name: $non2xx non-2xx replies"
    rows+=("$(awk -v name="$name" -v round="$round" -v rps="$rps" -v p99="$p99" -v n="$n" \
        -v non2xx="$non2xx" -v lines="$lines" -v p0="$p0" -v p1="$p1" -v w0="$w0" -v w1="$w1" \
        -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN {
            wall = t1 - t0
            split(s0, a, " "); split(s1, b, " ")
            server = (p1 - p0) / hz; client = w1 - w0
            other = (b[1] - a[1]) / hz - server - client
            if (other < 0) other = 0
            printf "%s\t%s\t%.0f\t%.2f\t%d\t%d\t%d\t%.0f\t%.1f\t%.0f\t%.0f\t%.0f\n", name, round, rps, p99,
                n, non2xx, lines, 100 * server / wall, 1e6 * server / n, 100 * client / wall,
                100 * other / wall, 100 * (b[2] - a[2]) / hz / wall
        }')")
    sum[$name.rps]="$(awk -v a="${sum[$name.rps]:-0}" -v b="$rps" 'BEGIN { print a + b }')"
    sum[$name.p99]="$(awk -v a="${sum[$name.p99]:-0}" -v b="$p99" 'BEGIN { print a + b }')"
}

say "corral: warm-up $warmup"; run_wrk "$corral_port" "$warmup" "$tmp/corral.warmup"
say "nginx: warm-up $warmup"; run_wrk "$nginx_port" "$warmup" "$tmp/nginx.warmup"
worker="$(nginx_worker)"
[ -n "$worker" ] || die "no nginx worker process"
for round in $(seq "$rounds"); do
    measure corral "$corral_port" "$corral_pid" "$corral_log" "$round"
    measure nginx "$nginx_port" "$worker" "$nginx_log" "$round"
done
kill -0 "$corral_pid" 2>/dev/null || { cat "$tmp/pveproxy.out" >&2; die "pveproxy died during the run"; }

# ---------------------------------------------------------------------------------------------
# 6. Report.

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo
echo "GET $path over HTTPS (TLS 1.3, HTTP/1.1 keep-alive), ticket cookie to both: wrk -t$threads -c$connections -d$duration --latency"
echo "servers on CPU $server_cpu, wrk on CPU $client_cpu ($(nproc) CPUs); warm-up $warmup each; $rounds round(s)"
echo
printf '%-7s %5s %9s %8s %9s %7s %9s %7s %7s %7s %7s %6s\n' \
    server round req/s "p99 ms" requests non-2xx "log+" "srv CPU" "us/req" "wrk CPU" "other" steal
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name round rps p99 n non2xx lines srv usreq wrkcpu other steal <<<"$row"
    printf '%-7s %5s %9s %8s %9s %7s %9s %6s%% %7s %6s%% %6s%% %5s%%\n' \
        "$name" "$round" "$rps" "$p99" "$n" "$non2xx" "$lines" "$srv" "$usreq" "$wrkcpu" "$other" "$steal"
done
echo
echo "  log+: access-log lines added during the run (wrk counts only replies received before it"
echo "  stopped, so up to $connections more is expected); srv CPU / us/req: the server process's CPU"
echo "  time (all threads) over the run, as % of one CPU and per request; other: CPU used by"
echo "  everything else on the machine (should be ~0); steal: taken by the hypervisor."
echo
awk -v cr="${sum[corral.rps]}" -v nr="${sum[nginx.rps]}" -v cp="${sum[corral.p99]}" \
    -v np="${sum[nginx.p99]}" -v rounds="$rounds" 'BEGIN {
    what = rounds > 1 ? " (means over the rounds)" : ""
    printf "corral/nginx req/s: %.2f   target >= 1.00: %s%s\n", cr / nr, (cr >= nr ? "met" : "MISSED"), what
    printf "corral/nginx p99:   %.2f   target <= 1.00: %s%s\n", cp / np, (cp <= np ? "met" : "MISSED"), what
}'
echo
echo "resident memory after the run: pveproxy $(rss_mib "$corral_pid") MiB (peak $(hwm_mib "$corral_pid") MiB);" \
    "nginx worker $(rss_mib "$worker") MiB (peak $(hwm_mib "$worker") MiB), master $(rss_mib "$nginx_pid") MiB"
echo "access-log lines in all (warm-ups and checks included): corral $(log_lines "$corral_log"), nginx $(log_lines "$nginx_log")"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name round _ _ n _ lines _ <<<"$row"
    if [ "$lines" -lt "$n" ]; then
        echo "WARNING: $name round $round: $lines log lines for $n requests, $(( n - lines )) missing (dropped?)"
    fi
done
echo "corral's dropped access-log lines: not exposed by pveproxy; 'log+' against 'requests' shows any loss"
warnings="$(grep -c ' WARN ' "$tmp/pveproxy.out" || true)"
if [ "$warnings" -gt 0 ]; then
    echo "pveproxy logged $warnings warning(s), e.g.: $(grep ' WARN ' "$tmp/pveproxy.out" \
        | sed -E 's/^[0-9T:.Z-]+ +//' | sort | uniq -c | sort -rn | head -n1 | sed -E 's/^ +//' | cut -c1-160)"
fi
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name round _ _ _ _ _ _ _ _ other steal <<<"$row"
    if [ "$other" -gt 10 ] || [ "$steal" -gt 5 ]; then
        echo "WARNING: the machine was busy with other work during the runs ($name round $round:" \
            "other ${other}%, steal ${steal}% of a CPU): the figures are noisy; rerun on an idle machine"
        break
    fi
done
