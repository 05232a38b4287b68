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

# The WRK_* settings, SERVER_CPU and CLIENT_CPU, the node and the user, and the set-up shared
# with bench/forward.sh.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

corral_port="${CORRAL_PORT:-18006}"
nginx_port="${NGINX_PORT:-18443}"
daemon_port="${DAEMON_PORT:-18085}"
path="/api2/json/version"

# ---------------------------------------------------------------------------------------------
# 1. Tools: install what is missing (apt-get update only then), build corral.

install_missing wrk:wrk nginx:nginx-light taskset:util-linux openssl:openssl curl:curl
build_corral
ports_free "$corral_port" "$nginx_port" "$daemon_port"

# ---------------------------------------------------------------------------------------------
# 2. One temporary root, one certificate for both servers; a user and a pvedaemon for the login.

make_tmp corral-bench
make_root
mkdir -p "$tmp/nginx"

# A user allowed to read /version (any user is) and the pvedaemon that checks its password at
# the login; pvedaemon creates the ticket keys pveproxy verifies tickets with.
add_user
start_pvedaemon "$daemon_port" "for the login only"

# pveproxy and nginx run as nobody.
run_as nobody

# ---------------------------------------------------------------------------------------------
# 3. nginx: private config, one worker, the same TLS settings and reply.

# Proxmox's default CIPHERS, the six AEAD suites rustls offers (the four CBC ones are left out
# by corral, see core/src/tls/policy.rs); TLS 1.3 suites at OpenSSL's default, as Proxmox.
ciphers="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
body='{"data":{"release":"9.2","repoid":"corral-0.1.0","version":"9.2.11"}}'

nginx_log="$tmp/nginx/access.log"
nginx_conf "$tmp/nginx" <<EOF
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
EOF
start_nginx "$tmp/nginx" "the benchmark config" "starting nginx on 127.0.0.1:$nginx_port (CPU $server_cpu)"

# ---------------------------------------------------------------------------------------------
# 4. corral's pveproxy.

say "starting corral pveproxy on 127.0.0.1:$corral_port (CPU $server_cpu)"
start_pveproxy "$corral_port" "$daemon_port" >"$tmp/pveproxy.out" 2>&1
corral_pid=$started
corral_log="$root/var/log/pveproxy/access.log"

url() { echo "https://127.0.0.1:$1$path"; }

wait_up nginx "$nginx_port" "$nginx_pid" "$tmp/nginx/error.log" "$path"
wait_pveproxy pveproxy "$corral_port" "$corral_pid" "$tmp/pveproxy.out"

# Log in (pveproxy forwards the login to pvedaemon); the ticket goes with every request.
log_in "$corral_port"

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

wrk_timeout=$(( $(seconds "$duration") + 30 ))
hz="$(getconf CLK_TCK)"

run_wrk() { # port duration output
    timeout "$wrk_timeout" taskset -c "$client_cpu" \
        wrk -t"$threads" -c"$connections" -d"$2" --latency -H "$cookie" "$(url "$1")" >"$3" 2>&1 \
        || { cat "$3" >&2; die "wrk failed against port $1"; }
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

rows=()        # one tab-separated row per measured run
declare -A sum # per server: sum of req/s and p99 over rounds
measure() { # name port pid-to-account access-log round
    local name="$1" port="$2" pid="$3" log="$4" round="$5" out="$tmp/$1.$5.wrk"
    local lines0 p0 w0 s0 t0 p1 w1 s1 t1 rps p99 n non2xx errors lines
    lines0="$(log_lines "$log")"
    say "$name: wrk -t$threads -c$connections -d$duration --latency (round $round/$rounds)"
    p0="$(proc_ticks "$pid")"; children_secs; w0="$children"; s0="$(sys_ticks)"; t0="$(date +%s.%N)"
    run_wrk "$port" "$duration" "$out"
    p1="$(proc_ticks "$pid")"; children_secs; w1="$children"; s1="$(sys_ticks)"; t1="$(date +%s.%N)"
    lines=$(( $(log_lines "$log") - lines0 ))
    IFS=$'\t' read -r rps _ _ p99 n non2xx errors < <(parse_wrk "$out") \
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
find_nginx_worker
for round in $(seq "$rounds"); do
    measure corral "$corral_port" "$corral_pid" "$corral_log" "$round"
    measure nginx "$nginx_port" "$nginx_worker" "$nginx_log" "$round"
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
    "nginx worker $(rss_mib "$nginx_worker") MiB (peak $(hwm_mib "$nginx_worker") MiB), master $(rss_mib "$nginx_pid") MiB"
echo "access-log lines in all (warm-ups and checks included): corral $(log_lines "$corral_log"), nginx $(log_lines "$nginx_log")"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name round _ _ n _ lines _ <<<"$row"
    if [ "$lines" -lt "$n" ]; then
        echo "WARNING: $name round $round: $lines log lines for $n requests, $(( n - lines )) missing (dropped?)"
    fi
done
echo "corral's dropped access-log lines: not exposed by pveproxy; 'log+' against 'requests' shows any loss"
report_warnings pveproxy "$tmp/pveproxy.out"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name round _ _ _ _ _ _ _ _ other steal <<<"$row"
    if busy "$name round $round" "$other" "$steal"; then break; fi
done
