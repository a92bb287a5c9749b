#!/usr/bin/env bash
# Heliograph::HubConnection against the official .NET and JavaScript (Node) SignalR clients, in
# one run, against the same ASP.NET Core bench hub (bench/aspnetcore). Builds nothing. Every round
# starts the hub on a free port (pinned to SERVER_CPU) and runs each client (pinned to CLIENT_CPU)
# for every scenario x protocol, the clients' order rotating from round to round; the table shows
# the median of the rounds and the ratios ours / .NET and ours / JS.
#
#   run-clients.sh --heliograph heliograph-client-bench --dotnet DotnetClientBench.dll
#                  --node clientbench.mjs --peer AspNetCoreBenchServer.dll
#                  [--out FILE.md] [--work DIR]
#
# Sizes and lengths come from the environment (defaults in brackets):
#   ROUNDS [3]        rounds (one fresh hub each; the median is reported)
#   PROTOCOLS [json messagepack]     CLIENTS [heliograph dotnet js]
#   SCENARIOS [invoke1 invoke32 receive memory]: invokeN = Echo with N calls in flight
#   DURATION [5]  WARMUP [2]         measured and warm-up seconds (invoke, receive)
#   PAYLOAD [64]                     bytes of the string payload (Echo, Receive)
#   BATCH [2000]                     Receive messages per Flood call (two calls in flight)
#   CONNECTIONS [1000] CONCURRENCY [50] SETTLE [2]   memory: connections, connects at once,
#                                    idle seconds before each RSS reading
#   SERVER_CPU [0]  CLIENT_CPU [1]   cores for taskset (empty: no pinning)
set -euo pipefail

ROUNDS="${ROUNDS:-3}"
PROTOCOLS="${PROTOCOLS:-json messagepack}"
CLIENTS="${CLIENTS:-heliograph dotnet js}"
SCENARIOS="${SCENARIOS:-invoke1 invoke32 receive memory}"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-2}"
PAYLOAD="${PAYLOAD:-64}"
BATCH="${BATCH:-2000}"
CONNECTIONS="${CONNECTIONS:-1000}"
CONCURRENCY="${CONCURRENCY:-50}"
SETTLE="${SETTLE:-2}"
SERVER_CPU="${SERVER_CPU-0}"
CLIENT_CPU="${CLIENT_CPU-1}"

die() { printf 'run-clients.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '\033[1;34m--\033[0m %s\n' "$*" >&2; }

heliograph="" dotnet_dll="" node_script="" peer_dll="" out="" work=""
while [ $# -gt 0 ]; do
    case "$1" in
        --heliograph) heliograph="$2"; shift 2 ;;
        --dotnet) dotnet_dll="$2"; shift 2 ;;
        --node) node_script="$2"; shift 2 ;;
        --peer) peer_dll="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ -x "$heliograph" ] || die "--heliograph: no heliograph-client-bench at '$heliograph'"
[ -f "$dotnet_dll" ] || die "--dotnet: no DotnetClientBench.dll at '$dotnet_dll'"
[ -f "$node_script" ] || die "--node: no clientbench.mjs at '$node_script'"
[ -f "$peer_dll" ] || die "--peer: no AspNetCoreBenchServer.dll at '$peer_dll'"
command -v dotnet >/dev/null || die "dotnet is needed (the hub and the .NET client)"
command -v node >/dev/null || die "node is needed (the JavaScript client)"
[ "$ROUNDS" -ge 1 ] 2>/dev/null || die "ROUNDS must be a positive number"
out="${out:-$(dirname "$heliograph")/../clients.md}"
work="${work:-$(dirname "$out")/clients}"
mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.log

pin_server=() pin_client=()
if [ -n "$SERVER_CPU" ] && command -v taskset >/dev/null; then pin_server=(taskset -c "$SERVER_CPU"); fi
if [ -n "$CLIENT_CPU" ] && command -v taskset >/dev/null; then pin_client=(taskset -c "$CLIENT_CPU"); fi
read -r -a clients <<<"$CLIENTS"

# --- the hub ------------------------------------------------------------------------------------

server_pid="" server_port="" drain_pid=""

# stop_server, launch_server, median, fmt, ratio
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
trap stop_server EXIT

# start_server LOGPREFIX: the hub on a free port.
start_server() {
    launch_server "the hub" "$1" "${pin_server[@]}" env DOTNET_CLI_TELEMETRY_OPTOUT=1 \
        DOTNET_NOLOGO=1 dotnet "$peer_dll" --urls http://127.0.0.1:0
}

# --- the runs -----------------------------------------------------------------------------------

# command_for CLIENT -> global array `cmd`
command_for() {
    case "$1" in
        heliograph) cmd=("$heliograph") ;;
        dotnet) cmd=(env DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$dotnet_dll") ;;
        js) cmd=(node --expose-gc "$node_script") ;;
        *) die "unknown client $1" ;;
    esac
}

# args_for SCENARIO PROTOCOL -> global array `args` (without --url)
args_for() {
    local scenario="$1" protocol="$2"
    args=(--protocol "$protocol")
    case "$scenario" in
        invoke*) args+=(--scenario invoke --inflight "${scenario#invoke}" --payload "$PAYLOAD"
                        --duration "$DURATION" --warmup "$WARMUP") ;;
        receive) args+=(--scenario receive --batch "$BATCH" --payload "$PAYLOAD"
                        --duration "$DURATION" --warmup "$WARMUP") ;;
        memory) args+=(--scenario memory --connections "$CONNECTIONS" --concurrency "$CONCURRENCY"
                       --settle "$SETTLE") ;;
        *) die "unknown scenario $scenario" ;;
    esac
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
configs=()
for scenario in $SCENARIOS; do
    for protocol in $PROTOCOLS; do configs+=("$scenario:$protocol"); done
done
total=$(( ${#configs[@]} * ROUNDS * ${#clients[@]} ))
count=0
for round in $(seq 1 "$ROUNDS"); do
    # This round's order: the client list rotated by round - 1.
    order=()
    for i in "${!clients[@]}"; do
        order+=("${clients[$(( (i + round - 1) % ${#clients[@]} ))]}")
    done
    start_server "$work/server-$round"
    url="http://127.0.0.1:$server_port/hubs/bench"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario protocol <<<"$config"
        args_for "$scenario" "$protocol"
        for client in "${order[@]}"; do
            count=$((count + 1))
            name="$scenario-$protocol-$client-$round"
            log "[$count/$total] round $round: $client $scenario $protocol"
            command_for "$client"
            if ! timeout 300 "${pin_client[@]}" "${cmd[@]}" --url "$url" "${args[@]}" \
                >"$work/$name.out" 2>"$work/$name.log"; then
                log "$client failed (see $work/$name.log)"
            fi
            grep '^{' "$work/$name.out" | tail -n1 >"$work/$name.json" || true
            sed 's/^/    /' "$work/$name.json" "$work/$name.log" >&2
        done
    done
    stop_server
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table ----------------------------------------------------------------------------------

# jnum FILE KEY: a number from a one-line JSON result; empty if absent.
jnum() {
    [ -s "$1" ] || return 0
    sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" "$1" | head -n1
}

# values CLIENT KEY [SCALE]: KEY of every round of the current configuration
values() {
    local r v
    for r in $(seq 1 "$ROUNDS"); do
        v="$(jnum "$work/$scenario-$protocol-$1-$r.json" "$2")"
        [ -n "$v" ] && awk -v v="$v" -v s="${3:-1}" 'BEGIN {print v * s}'
    done
    return 0
}

# row LABEL KEY DECIMALS BETTER [SCALE]
row() {
    local label="$1" key="$2" decimals="$3" better="$4" scale="${5:-1}" ours net js
    ours="$(median $(values heliograph "$key" "$scale"))"
    net="$(median $(values dotnet "$key" "$scale"))"
    js="$(median $(values js "$key" "$scale"))"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$scenario_label" "$protocol" \
        "$label" "$(fmt "$ours" "$decimals")" "$(fmt "$net" "$decimals")" "$(fmt "$js" "$decimals")" \
        "$(ratio "$ours" "$net")" "$(ratio "$ours" "$js")" "$better"
}

label_for() {
    case "$1" in
        invoke1) echo "invoke, 1 in flight" ;;
        invoke*) echo "invoke, ${1#invoke} in flight" ;;
        *) echo "$1" ;;
    esac
}

sum_errors() {
    values "$1" errors | awk '{s += $1} END {print s + 0}'
}

failed_runs() {
    local r n=0
    for r in $(seq 1 "$ROUNDS"); do
        [ -s "$work/$scenario-$protocol-$1-$r.json" ] || n=$((n + 1))
    done
    echo "$n"
}

runtime() { dotnet --list-runtimes 2>/dev/null | awk -v n="$1" '$1 == n {v = $2} END {print v}'; }
signalr_js="$(sed -n 's/.*"@microsoft\/signalr": *"\([^"]*\)".*/\1/p' "$(dirname "$node_script")/package.json" | head -n1)"
signalr_net="$(sed -n 's/.*Include="Microsoft.AspNetCore.SignalR.Client" Version="\([^"]*\)".*/\1/p' \
    "$(dirname "$0")/clientbench/dotnet/ClientBench.csproj" 2>/dev/null | head -n1)"
qt_version="$(qtpaths6 --qt-query QT_VERSION 2>/dev/null || qmake6 -query QT_VERSION 2>/dev/null || true)"
cpu_model="$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)"
os_name="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"

mkdir -p "$(dirname "$out")"
{
    echo "### Latest run: Heliograph client vs the official .NET and JavaScript clients"
    echo
    echo "$started_at. $os_name, kernel $(uname -r), $(nproc) cores ($cpu_model), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM."
    echo "heliograph-client-bench (Release, Qt ${qt_version:-?}); Microsoft.AspNetCore.SignalR.Client ${signalr_net:-?}"
    echo "on .NET $(runtime Microsoft.NETCore.App) (Release, workstation GC); @microsoft/signalr ${signalr_js:-?} on Node $(node --version)."
    echo "Hub: bench/aspnetcore on ASP.NET Core $(runtime Microsoft.AspNetCore.App)."
    echo "Load average ${load_start} at the start, ${load_end} at the end (the machine is shared)."
    echo
    echo "$ROUNDS round(s), each with a freshly started hub${SERVER_CPU:+ pinned to core $SERVER_CPU} and every client${CLIENT_CPU:+ pinned to core $CLIENT_CPU}"
    echo "in turn, the order rotating per round; values are medians of the rounds. Payload: a"
    echo "$PAYLOAD-character string. invoke and receive: $WARMUP s warm-up, then $DURATION s measured."
    echo "CPU per operation = the client process's CPU time (all threads) in the measured window"
    echo "divided by the operations in it. memory: $CONNECTIONS connections ($CONCURRENCY connecting at a time) added to"
    echo "a process with one idle connection, RSS growth / $CONNECTIONS; each reading after $SETTLE s idle and,"
    echo "for .NET and Node, a forced full GC (their best case). \"better\" says which direction wins."
    echo
    echo "| scenario | protocol | metric | Heliograph | .NET | JS (Node) | ours/.NET | ours/JS | better |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---|"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario protocol <<<"$config"
        scenario_label="$(label_for "$scenario")"
        case "$scenario" in
            invoke*)
                row "round trips/s" perSec 0 higher
                row "client CPU per call (µs)" cpuUsPerOp 1 lower ;;
            receive)
                row "messages/s" perSec 0 higher
                row "client CPU per message (µs)" cpuUsPerOp 2 lower ;;
            memory)
                row "RSS per connection (KB)" kbPerConnection 1 lower
                row "RSS, one idle connection (MB)" rssIdleKb 1 lower 0.0009765625 ;;
        esac
    done
    echo
    echo "Errors (failed calls, wrong payloads, connections not up) summed over the rounds; runs"
    echo "without a result line in brackets:"
    echo
    echo "| scenario | protocol | Heliograph | .NET | JS (Node) |"
    echo "|---|---|---:|---:|---:|"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario protocol <<<"$config"
        printf '| %s | %s |' "$(label_for "$scenario")" "$protocol"
        for client in heliograph dotnet js; do
            f="$(failed_runs "$client")"
            printf ' %s%s |' "$(sum_errors "$client")" "$([ "$f" -gt 0 ] && echo " ($f failed)")"
        done
        echo
    done
    echo
    echo "Commands (PORT: the hub's):"
    echo
    echo '```sh'
    echo "${pin_server[*]:+${pin_server[*]} }dotnet $peer_dll --urls http://127.0.0.1:0"
    for config in "${configs[@]}"; do
        IFS=: read -r scenario protocol <<<"$config"
        args_for "$scenario" "$protocol"
        for client in "${clients[@]}"; do
            command_for "$client"
            line="${cmd[*]}"
            echo "${pin_client[*]:+${pin_client[*]} }${line#env DOTNET_CLI_TELEMETRY_OPTOUT=1 } --url http://127.0.0.1:PORT/hubs/bench ${args[*]}"
        done
    done
    echo '```'
    echo
    echo "Per-run output: $work/"
} >"$out"
log "table written to $out"
cat "$out"
