# shellcheck shell=bash
# What bench/forward.sh and bench/pveproxy.sh share, sourced by both after their `set -euo
# pipefail` (it runs nothing itself but `cd` to the workspace): the common settings (WRK_THREADS,
# WRK_CONNECTIONS, WRK_DURATION, WRK_WARMUP, WRK_ROUNDS, SERVER_CPU, CLIENT_CPU; the node and the
# user), say/die, wrk durations in seconds, installing missing tools, building and locating
# corral's binaries, port checks, the temporary directory and the clean-up at exit (it stops
# every process started with `serve`), the node root with its certificate, the bench user,
# starting pvedaemon, pveproxy and a private nginx and waiting for them, the login, the CPU-time
# readings from /proc, parsing wrk's output and the warnings of the report.
# Each function says what it takes and which globals it sets.

# Both scripts write these; shellcheck cannot see that from here.
# shellcheck disable=SC2034

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit
# The script that sourced this one, as its messages name it.
bench_script="bench/$(basename "${BASH_SOURCE[1]:-$0}")"

threads="${WRK_THREADS:-1}"
connections="${WRK_CONNECTIONS:-50}"
duration="${WRK_DURATION:-15s}"
warmup="${WRK_WARMUP:-3s}"
rounds="${WRK_ROUNDS:-1}"
server_cpu="${SERVER_CPU:-1}"
client_cpu="${CLIENT_CPU:-0}"
node="bench"
user="bench@pve"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$bench_script" "$*" >&2; exit 1; }

# wrk durations ("15s", "1m", "500" = seconds) in whole seconds, for the timeouts.
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
# Tools and binaries.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else die "need root (or passwordless sudo) to run: $*"
    fi
}

# install_missing COMMAND:PACKAGE...: installs (apt-get update only then) the packages whose
# command is missing (nginx also counts as there in /usr/sbin); sets nginx_bin.
install_missing() {
    local tool missing=()
    for tool in "$@"; do
        command -v "${tool%%:*}" >/dev/null && continue
        [ "${tool%%:*}" = nginx ] && [ -x /usr/sbin/nginx ] && continue
        missing+=("${tool#*:}")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        # Package scripts must not start the system nginx (it would listen on *:80): without a
        # policy-rc.d, put a temporary one in place that forbids starting services.
        local made_policy=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
            made_policy=1
        fi
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        if [ -n "$made_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
    fi
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
}

# Builds corral (unless BENCH_NO_BUILD is set); sets pveproxy, pvedaemon and corral to the
# binaries.
build_corral() {
    if [ -z "${BENCH_NO_BUILD:-}" ]; then
        say "building corral (release)"
        cargo build --release --quiet --bin pveproxy --bin pvedaemon --bin corral
    fi
    local target_dir="${CARGO_TARGET_DIR:-$repo/target}" bin
    pveproxy="$target_dir/release/pveproxy"
    pvedaemon="$target_dir/release/pvedaemon"
    corral="$target_dir/release/corral"
    for bin in "$pveproxy" "$pvedaemon" "$corral"; do
        [ -x "$bin" ] || die "no $bin (build it: cargo build --release --bin pveproxy --bin pvedaemon --bin corral)"
    done
}

# listening PORT: whether something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ports_free() { # port...
    local port
    for port in "$@"; do
        if listening "$port"; then die "127.0.0.1:$port is already in use"; fi
    done
}

# ---------------------------------------------------------------------------------------------
# The temporary directory and the processes: all go at exit.

bench_pids=() # started with serve, in order
cleanup() {
    local status=$? i pid
    set +e
    for (( i = ${#bench_pids[@]} - 1; i >= 0; i-- )); do
        pid="${bench_pids[i]}"
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

# make_tmp NAME: sets tmp to a new /tmp/NAME.XXXXXX, which cleanup removes at exit (unless
# BENCH_KEEP is set) after stopping what serve started, the last started first.
make_tmp() {
    tmp="$(mktemp -d "/tmp/$1.XXXXXX")"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# serve COMMAND...: runs it in the background on SERVER_CPU (redirect the call), for cleanup to
# stop; sets started to its pid.
serve() {
    taskset -c "$server_cpu" "$@" &
    started=$!
    bench_pids+=("$started")
}

# ---------------------------------------------------------------------------------------------
# The node root, the user, the daemons.

# Sets root to $tmp/root and pve_local to its node directory, with a self-signed ECDSA P-256
# certificate for the node and /etc/default/pveproxy empty (every key at Proxmox's default).
make_root() {
    root="$tmp/root"
    pve_local="$root/etc/pve/nodes/$node"
    mkdir -p "$pve_local" "$root/etc/default"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$pve_local/pve-ssl.key" -out "$pve_local/pve-ssl.pem" \
        -days 30 -subj "/CN=$node" 2>/dev/null
    : > "$root/etc/default/pveproxy"
}

# Adds $user to the root, with a random password; sets password.
add_user() {
    password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    # Not a terminal: `corral user add --password` reads the password from standard input.
    printf '%s\n' "$password" | "$corral" user add "$user" --password --root "$root" >/dev/null \
        || die "corral user add failed"
}

# start_pvedaemon PORT [NOTE]: pvedaemon on 127.0.0.1:PORT (output in $tmp/pvedaemon.out), once
# it listens; NOTE goes into the message. Sets daemon_pid.
start_pvedaemon() {
    local i
    say "starting pvedaemon on 127.0.0.1:$1 (CPU $server_cpu${2:+; $2})"
    serve "$pvedaemon" start --root "$root" --node "$node" --listen "127.0.0.1:$1" \
        >"$tmp/pvedaemon.out" 2>&1
    daemon_pid=$started
    # pvedaemon creates the ticket keys and the CSRF key, then listens.
    for i in $(seq 100); do
        if listening "$1"; then break; fi
        kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon exited at start-up"; }
        [ "$i" -lt 100 ] || { cat "$tmp/pvedaemon.out" >&2; die "pvedaemon does not listen on 127.0.0.1:$1"; }
        sleep 0.1
    done
}

# run_as USER: sets run_user and run_group, the user pveproxy (and nginx) run as. Started as
# root, pveproxy drops to --user before reading config and keys (as Proxmox with www-data): let
# that user read them, root:<its group> 0640 like /etc/pve, /etc/pve/priv root's alone.
run_as() {
    run_user="$1"
    run_group="$(id -gn "$run_user")"
    if [ "$(id -u)" -eq 0 ]; then
        chgrp -R "$run_group" "$tmp"
        chmod -R g+rX,o-rwx "$tmp"
        chmod -R go-rwx "$root/etc/pve/priv"
    fi
}

# start_pveproxy PORT DAEMON-PORT: pveproxy on 127.0.0.1:PORT as $run_user, forwarding to the
# daemon on 127.0.0.1:DAEMON-PORT (redirect the call for its output); sets started to its pid.
start_pveproxy() {
    serve "$pveproxy" start --root "$root" --node "$node" --listen "127.0.0.1:$1" \
        --daemon "127.0.0.1:$2" --user "$run_user"
}

# wait_up NAME PORT PID LOG PATH [SCHEME]: until GET SCHEME://127.0.0.1:PORT/PATH (https unless
# told) answers; shows LOG and dies if PID exits or after 10 s.
wait_up() {
    local i
    for i in $(seq 100); do
        if curl -sk --max-time 2 -o /dev/null "${6:-https}://127.0.0.1:$2$5"; then return 0; fi
        kill -0 "$3" 2>/dev/null || { cat "$4" >&2; die "$1 exited at start-up"; }
        sleep 0.1
    done
    cat "$4" >&2
    die "$1 does not answer on 127.0.0.1:$2"
}

# wait_pveproxy NAME PORT PID LOG: wait_up on /access/domains, which needs no credentials (a
# request without any elsewhere would wait 3 s for its 401).
wait_pveproxy() { wait_up "$1" "$2" "$3" "$4" /api2/json/access/domains; }

# log_in PORT: logs $user in through the pveproxy on 127.0.0.1:PORT (which forwards the login to
# pvedaemon); sets ticket and cookie, the header that carries it.
log_in() {
    local login
    login="$(curl -sk --max-time 10 --data-urlencode "username=$user" \
        --data-urlencode "password=$password" "https://127.0.0.1:$1/api2/json/access/ticket")"
    ticket="$(printf '%s' "$login" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')"
    [ -n "$ticket" ] || { cat "$tmp/pveproxy.out" "$tmp/pvedaemon.out" >&2; die "login failed: $login"; }
    cookie="Cookie: PVEAuthCookie=$ticket"
}

# nginx_conf DIR: writes DIR/nginx.conf for a private nginx (one worker, in the foreground; pid
# file, error log and temporary files in DIR; as $run_user when root) around the body of its
# http block, read from standard input.
nginx_conf() {
    {
        cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
$( [ "$(id -u)" -eq 0 ] && echo "user $run_user $run_group;" )

events {
    worker_connections 4096;
}

http {
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;

EOF
        cat
        echo "}"
    } >"$1/nginx.conf"
}

# start_nginx DIR WHAT MESSAGE: checks DIR/nginx.conf (dies "nginx rejects WHAT" if bad), says
# MESSAGE and starts nginx with it, its errors in DIR/error.log; sets nginx_pid.
start_nginx() {
    "$nginx_bin" -t -q -e "$1/error.log" -p "$1" -c "$1/nginx.conf" \
        || die "nginx rejects $2 ($1/nginx.conf)"
    say "$3"
    # (-e names where nginx writes its errors, as the redirection does: nothing reads the file.)
    # shellcheck disable=SC2094
    serve "$nginx_bin" -e "$1/error.log" -p "$1" -c "$1/nginx.conf" 2>>"$1/error.log"
    nginx_pid=$started
}

# Sets nginx_worker to the worker process of the nginx $nginx_pid.
find_nginx_worker() {
    nginx_worker="$(ps -o pid= --ppid "$nginx_pid" | head -n1 | tr -d ' ')"
    [ -n "$nginx_worker" ] || die "no nginx worker process"
}

# ---------------------------------------------------------------------------------------------
# Measuring and reporting.

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

# parse_wrk OUTPUT: requests/s, mean, p50 and p99 in ms, completed requests, non-2xx replies and
# socket errors ("none" if none) from wrk --latency, tab-separated; fails if some are missing.
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

# report_warnings NAME LOG: a line with how many warnings a daemon logged and the most common.
report_warnings() {
    local warnings
    warnings="$(grep -c ' WARN ' "$2" || true)"
    if [ "$warnings" -gt 0 ]; then
        echo "$1 logged $warnings warning(s), e.g.: $(grep ' WARN ' "$2" \
            | sed -E 's/^[0-9T:.Z-]+ +//' | sort | uniq -c | sort -rn | head -n1 | sed -E 's/^ +//' | cut -c1-160)"
    fi
}

# busy WHAT OTHER STEAL: warns (and succeeds) if other work (OTHER %, STEAL % of a CPU) took
# enough CPU during the run WHAT to make the figures noisy.
busy() {
    [ "$2" -gt 10 ] || [ "$3" -gt 5 ] || return 1
    echo "WARNING: the machine was busy with other work during the runs ($1: other $2%," \
        "steal $3% of a CPU): the figures are noisy; rerun on an idle machine"
}
