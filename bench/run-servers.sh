#!/usr/bin/env bash
# heliograph-server against ASP.NET Core SignalR under the same load (heliograph-bench), in one
# run: for every scenario x protocol the two servers take turns (ours, theirs, ours, theirs, ...),
# each run on a freshly started server pinned to one core while the load generator is pinned to
# the other; the table shows the median of the rounds and the ratio ours / theirs.
#
#   run-servers.sh --server HELIOGRAPH_SERVER --bench HELIOGRAPH_BENCH --peer PEER.dll
#                  [--out FILE.md] [--work DIR]
#
# Sizes and lengths come from the environment (defaults in brackets):
#   ROUNDS [2]               runs per server and configuration (the median is reported)
#   PROTOCOLS [json messagepack]      SCENARIOS [echo fanout fanoutmax idle connect]
#   DURATION [10]  WARMUP [3]         measured and warm-up seconds (echo, fanout)
#   ECHO_CONNECTIONS [100]   ECHO_INFLIGHT [1]   PAYLOAD [256]
#   FANOUT_CONNECTIONS [1000 5000]    FANOUT_RATE [10]
#   FANOUTMAX_CONNECTIONS [1000]      FANOUTMAX_RATE [600]  fan-out far above 10/s: the ceiling
#   IDLE_CONNECTIONS [10000] IDLE_DURATION [20]  (longer than the 15 s ping interval)
#   CONNECT_CONNECTIONS [2000]        CONNECT_CONCURRENCY [100]
#   CONNECT_WARMUP [200]     connections opened (and kept) before the measured ones
#   SERVER_CPU [0]  BENCH_CPU [1]     cores for taskset (empty: no pinning)
#   THEIRS [aspnetcore]      the other side: aspnetcore (--peer), or redis: heliograph-server
#                            itself with --redis to a redis-server this script starts (pinned to
#                            the server's core), to measure what the backplane costs one node
set -euo pipefail

ROUNDS="${ROUNDS:-2}"
PROTOCOLS="${PROTOCOLS:-json messagepack}"
SCENARIOS="${SCENARIOS:-echo fanout fanoutmax idle connect}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
PAYLOAD="${PAYLOAD:-256}"
ECHO_CONNECTIONS="${ECHO_CONNECTIONS:-100}"
ECHO_INFLIGHT="${ECHO_INFLIGHT:-1}"
FANOUT_CONNECTIONS="${FANOUT_CONNECTIONS:-1000 5000}"
FANOUT_RATE="${FANOUT_RATE:-10}"
FANOUTMAX_CONNECTIONS="${FANOUTMAX_CONNECTIONS:-1000}"
FANOUTMAX_RATE="${FANOUTMAX_RATE:-600}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
IDLE_DURATION="${IDLE_DURATION:-20}"
CONNECT_CONNECTIONS="${CONNECT_CONNECTIONS:-2000}"
CONNECT_CONCURRENCY="${CONNECT_CONCURRENCY:-100}"
CONNECT_WARMUP="${CONNECT_WARMUP:-200}"
SERVER_CPU="${SERVER_CPU-0}"
BENCH_CPU="${BENCH_CPU-1}"
THEIRS="${THEIRS:-aspnetcore}"

die() { printf 'run-servers.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '\033[1;34m--\033[0m %s\n' "$*" >&2; }

server_bin="" bench_bin="" peer_dll="" out="" work=""
while [ $# -gt 0 ]; do
    case "$1" in
        --server) server_bin="$2"; shift 2 ;;
        --bench) bench_bin="$2"; shift 2 ;;
        --peer) peer_dll="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ -x "$server_bin" ] || die "--server: no heliograph-server at '$server_bin'"
[ -x "$bench_bin" ] || die "--bench: no heliograph-bench at '$bench_bin'"
case "$THEIRS" in
    aspnetcore)
        [ -f "$peer_dll" ] || die "--peer: no AspNetCoreBenchServer.dll at '$peer_dll'"
        command -v dotnet >/dev/null || die "dotnet is needed to run the ASP.NET Core peer"
        theirs_label="ASP.NET Core" ;;
    redis)
        command -v redis-server >/dev/null || die "THEIRS=redis needs redis-server"
        theirs_label="heliograph-server --redis" ;;
    *) die "THEIRS must be aspnetcore or redis" ;;
esac
[ "$ROUNDS" -ge 1 ] 2>/dev/null || die "ROUNDS must be a positive number"
out="${out:-$(dirname "$bench_bin")/../servers.md}"
work="${work:-$(dirname "$out")/servers}"
mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.log

pin_server=() pin_bench=()
if [ -n "$SERVER_CPU" ] && command -v taskset >/dev/null; then pin_server=(taskset -c "$SERVER_CPU"); fi
if [ -n "$BENCH_CPU" ] && command -v taskset >/dev/null; then pin_bench=(taskset -c "$BENCH_CPU"); fi

# --- one server ---------------------------------------------------------------------------------

server_pid="" server_port="" drain_pid=""

# stop_server, launch_server, median, fmt, ratio
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
redis_pid=""
stop_all() {
    stop_server
    if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
}
trap stop_all EXIT
if [ "$THEIRS" = redis ]; then
    redis_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${pin_server[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        >"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 100); do
        grep -q "Ready to accept connections" "$work/redis.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "Ready to accept connections" "$work/redis.log" || die "redis-server did not start"
fi

# start_server ours|theirs LOGPREFIX: a fresh server on a free port (port 0).
start_server() {
    local which="$1" prefix="$2"
    if [ "$which" = ours ]; then
        rm -rf "$work/data"
        launch_server "$which server" "$prefix" "${pin_server[@]}" "$server_bin" serve \
            --listen 127.0.0.1:0 --memory --bench-hub --data "$work/data"
    elif [ "$THEIRS" = redis ]; then
        rm -rf "$work/data"
        launch_server "$which server" "$prefix" "${pin_server[@]}" "$server_bin" serve \
            --listen 127.0.0.1:0 --memory --bench-hub --data "$work/data" \
            --redis "redis://127.0.0.1:$redis_port" --node-name bench
    else
        launch_server "$which server" "$prefix" "${pin_server[@]}" env \
            DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet "$peer_dll" --urls http://127.0.0.1:0
    fi
}

# --- the runs -----------------------------------------------------------------------------------

# args_for SCENARIO CONNECTIONS PROTOCOL -> the heliograph-bench arguments (global array `args`)
args_for() {
    local scenario="$1" n="$2" protocol="$3"
    args=(--scenario "${scenario/fanoutmax/fanout}" --protocol "$protocol" --connections "$n" --payload "$PAYLOAD")
    case "$scenario" in
        echo) args+=(--duration "$DURATION" --warmup "$WARMUP" --inflight "$ECHO_INFLIGHT") ;;
        fanout) args+=(--duration "$DURATION" --warmup "$WARMUP" --rate "$FANOUT_RATE") ;;
        fanoutmax) args+=(--duration "$DURATION" --warmup "$WARMUP" --rate "$FANOUTMAX_RATE") ;;
        idle) args+=(--duration "$IDLE_DURATION" --warmup "$WARMUP") ;;
        connect) args+=(--concurrency "$CONNECT_CONCURRENCY" --warmup-connections "$CONNECT_WARMUP") ;;
    esac
}

sizes_for() {
    case "$1" in
        echo) echo "$ECHO_CONNECTIONS" ;;
        fanout) echo "$FANOUT_CONNECTIONS" ;;
        fanoutmax) echo "$FANOUTMAX_CONNECTIONS" ;;
        idle) echo "$IDLE_CONNECTIONS" ;;
        connect) echo "$CONNECT_CONNECTIONS" ;;
        *) die "unknown scenario $1" ;;
    esac
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
configs=()
for scenario in $SCENARIOS; do
    for n in $(sizes_for "$scenario"); do
        for protocol in $PROTOCOLS; do
            configs+=("$scenario:$n:$protocol")
        done
    done
done
total=$(( ${#configs[@]} * ROUNDS * 2 ))
count=0
for config in "${configs[@]}"; do
    IFS=: read -r scenario n protocol <<<"$config"
    args_for "$scenario" "$n" "$protocol"
    for round in $(seq 1 "$ROUNDS"); do
        for which in ours theirs; do
            count=$((count + 1))
            name="$scenario-$n-$protocol-$which-$round"
            log "[$count/$total] $scenario $protocol, $n connections: $which, round $round"
            start_server "$which" "$work/$name"
            if ! "${pin_bench[@]}" "$bench_bin" --url "http://127.0.0.1:$server_port" \
                --server-pid "$server_pid" --quiet --json "$work/$name.json" "${args[@]}" \
                >"$work/$name.bench.log" 2>&1; then
                log "heliograph-bench failed (see $work/$name.bench.log)"
            fi
            sed 's/^/    /' "$work/$name.bench.log" >&2
            stop_server
        done
    done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table ----------------------------------------------------------------------------------

# jnum FILE KEY: a number from the generator's JSON (one key per line); empty if absent.
jnum() {
    [ -f "$1" ] || return 0
    sed -n "s/^ *\"$2\": *\([-0-9.eE+]*\),\{0,1\}$/\1/p" "$1" | head -n1
}

# values WHICH KEY: the KEY of every round of the current configuration
values() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        jnum "$work/$scenario-$n-$protocol-$1-$r.json" "$2"
    done
}

sum_key() { values "$1" "$2" | awk '{s += $1} END {print s + 0}'; }

# row LABEL KEY DECIMALS BETTER [SCALE]
row() {
    local label="$1" key="$2" decimals="$3" better="$4" scale="${5:-1}" a b
    a="$(median $(values ours "$key"))"
    b="$(median $(values theirs "$key"))"
    if [ -n "$a" ]; then a="$(awk -v v="$a" -v s="$scale" 'BEGIN {print v * s}')"; fi
    if [ -n "$b" ]; then b="$(awk -v v="$b" -v s="$scale" 'BEGIN {print v * s}')"; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$scenario" "$protocol" "$(fmt "$n" 0)" \
        "$label" "$(fmt "$a" "$decimals")" "$(fmt "$b" "$decimals")" "$(ratio "$a" "$b")" "$better"
}

dotnet_runtime="$(dotnet --list-runtimes 2>/dev/null | awk '/Microsoft.AspNetCore.App/ {v = $2} END {print v}')"
qt_version="$(sed -n 's/^ *"qtVersion": *"\(.*\)",\{0,1\}$/\1/p' "$(ls "$work"/*.json | head -n1)" 2>/dev/null | head -n1)"
cpu_model="$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)"
os_name="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"

mkdir -p "$(dirname "$out")"
{
    echo "### Latest run: heliograph-server vs $theirs_label"
    echo
    echo "$started_at. $os_name, kernel $(uname -r), $(nproc) cores ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM."
    echo "heliograph-server $("$server_bin" --version 2>/dev/null | awk '{print $NF}') (Release, Qt ${qt_version:-?});"
    if [ "$THEIRS" = redis ]; then
        echo "The same binary with \`--redis\` to $(redis-server --version | awk '{print $3}') on loopback (pinned with the server)."
    else
        echo "ASP.NET Core $dotnet_runtime (bench/aspnetcore, Release, server GC, JSON + MessagePack protocols)."
    fi
    echo "Load average ${load_start} at the start, ${load_end} at the end (the machine is shared)."
    echo
    echo "Each configuration ran $ROUNDS time(s) per server, alternating ours and theirs, each run on a"
    echo "freshly started server${SERVER_CPU:+ pinned to core $SERVER_CPU} with heliograph-bench${BENCH_CPU:+ pinned to core $BENCH_CPU}."
    echo "Values are medians of the rounds; ratio = heliograph-server / $theirs_label. \"better\" says"
    echo "which direction wins: for latency, CPU and memory a ratio below 1 favours heliograph-server."
    echo "Latency: echo = invocation round trip, fan-out = broadcast send to delivery, from the"
    echo "timestamp in the payload; server CPU = CPU seconds per second over the measured window."
    echo
    echo "| scenario | protocol | connections | metric | heliograph-server | $theirs_label | ratio | better |"
    echo "|---|---|---:|---|---:|---:|---:|---|"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario n protocol <<<"$config"
        case "$scenario" in
            echo)
                row "round trips/s" roundTripsPerSec 0 higher
                row "latency p50 (µs)" latencyP50Us 0 lower
                row "latency p99 (µs)" latencyP99Us 0 lower
                row "server CPU (cores)" serverCpu 2 "-" ;;
            fanout|fanoutmax)
                row "deliveries/s" deliveriesPerSec 0 higher
                row "latency p50 (µs)" latencyP50Us 0 lower
                row "latency p99 (µs)" latencyP99Us 0 lower
                row "latency p99.9 (µs)" latencyP999Us 0 lower
                row "server CPU (cores)" serverCpu 2 lower ;;
            idle)
                row "RSS per connection (KB)" rssPerConnectionBytes 1 lower 0.0009765625
                row "RSS at the end (MB)" serverRssEndKb 1 lower 0.0009765625
                row "server CPU (cores)" serverCpu 3 lower ;;
            connect)
                row "connections/s" connectsPerSec 0 higher
                row "setup p99 (µs)" setupP99Us 0 lower
                row "server CPU (cores)" serverCpu 2 "-" ;;
        esac
    done
    echo
    echo "Errors (failed connections, error completions, closes, protocol errors, timeouts) summed"
    echo "over the rounds, and the load generator's own CPU (its core saturates at 1.00):"
    echo
    echo "| scenario | protocol | connections | errors ours | errors theirs | generator CPU ours | generator CPU theirs |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario n protocol <<<"$config"
        gen_ours="$(values ours generatorCpu | sort -g | tail -n1)"
        gen_theirs="$(values theirs generatorCpu | sort -g | tail -n1)"
        missing_ours=$(( ROUNDS - $(values ours errors | wc -l) ))
        missing_theirs=$(( ROUNDS - $(values theirs errors | wc -l) ))
        printf '| %s | %s | %s | %s%s | %s%s | %s | %s |\n' "$scenario" "$protocol" "$(fmt "$n" 0)" \
            "$(sum_key ours errors)" "$([ "$missing_ours" -gt 0 ] && echo " ($missing_ours runs failed)")" \
            "$(sum_key theirs errors)" "$([ "$missing_theirs" -gt 0 ] && echo " ($missing_theirs runs failed)")" \
            "$(fmt "$gen_ours" 2)" "$(fmt "$gen_theirs" 2)"
    done
    echo
    echo "Commands (PORT and PID of the freshly started server):"
    echo
    echo '```sh'
    echo "${pin_server[*]:+${pin_server[*]} }$server_bin serve --listen 127.0.0.1:0 --memory --bench-hub --data DIR"
    if [ "$THEIRS" = redis ]; then
        echo "${pin_server[*]:+${pin_server[*]} }redis-server --port REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no"
        echo "${pin_server[*]:+${pin_server[*]} }$server_bin serve --listen 127.0.0.1:0 --memory --bench-hub --data DIR --redis redis://127.0.0.1:REDIS_PORT --node-name bench"
    else
        echo "${pin_server[*]:+${pin_server[*]} }dotnet $peer_dll --urls http://127.0.0.1:0"
    fi
    for config in "${configs[@]}"; do
        IFS=: read -r scenario n protocol <<<"$config"
        args_for "$scenario" "$n" "$protocol"
        echo "${pin_bench[*]:+${pin_bench[*]} }$bench_bin --url http://127.0.0.1:PORT --server-pid PID ${args[*]}"
    done
    echo '```'
    echo
    echo "Per-run output: $work/"
} >"$out"
log "table written to $out"
cat "$out"
