#!/usr/bin/env bash
# Smoke test of the client benchmark's three programs (ctest bench_clients_smoke): each scenario
# at a tiny size, both protocols, against one ASP.NET Core bench hub; every result line must name
# its client, scenario and protocol, count operations (or connections) and report no error.
#
#   smoke.sh --heliograph BIN --dotnet DotnetClientBench.dll --node clientbench.mjs
#            --peer AspNetCoreBenchServer.dll
#
# Exit 77 (skipped) when dotnet, node or a program is missing, unless CI=true: then it fails.
set -euo pipefail

heliograph="" dotnet_dll="" node_script="" peer_dll=""
while [ $# -gt 0 ]; do
    case "$1" in
        --heliograph) heliograph="$2"; shift 2 ;;
        --dotnet) dotnet_dll="$2"; shift 2 ;;
        --node) node_script="$2"; shift 2 ;;
        --peer) peer_dll="$2"; shift 2 ;;
        *) echo "smoke.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

missing() {
    if [ "${CI:-false}" = true ]; then
        echo "FAIL: $* (CI=true: the client benchmark smoke test may not be skipped)" >&2
        exit 1
    fi
    echo "SKIP: $*" >&2
    exit 77
}
command -v dotnet >/dev/null || missing "dotnet not found"
command -v node >/dev/null || missing "node not found"
[ -x "$heliograph" ] || missing "no heliograph-client-bench at '$heliograph'"
[ -f "$dotnet_dll" ] || missing "no DotnetClientBench.dll at '$dotnet_dll'"
[ -f "$node_script" ] && [ -d "$(dirname "$node_script")/node_modules/@microsoft/signalr" ] ||
    missing "no clientbench.mjs with node_modules at '$node_script'"
[ -f "$peer_dll" ] || missing "no AspNetCoreBenchServer.dll at '$peer_dll'"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The hub on a free port; its first line names it.
mkfifo "$work/out"
env DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet "$peer_dll" --urls http://127.0.0.1:0 \
    >"$work/out" 2>"$work/server.log" &
server_pid=$!
exec {fd}<"$work/out"
port=""
while IFS= read -r -t 30 -u "$fd" line; do
    if [[ "$line" =~ listening\ on\ http://127\.0\.0\.1:([0-9]+) ]]; then
        port="${BASH_REMATCH[1]}"
        break
    fi
done
cat <&"$fd" >/dev/null &
exec {fd}<&-
[ -n "$port" ] || { cat "$work/server.log" >&2; echo "FAIL: the ASP.NET Core hub did not start" >&2; exit 1; }
url="http://127.0.0.1:$port/hubs/bench"

# field LINE KEY: a number or string from a flat one-line JSON object
field() {
    sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[-0-9.eE+]*\).*/\1/p" <<<"$1" | tr -d '"'
}

# check NAME CLIENT SCENARIO PROTOCOL COUNT_KEY MINIMUM -- COMMAND...: runs it and prints one
# "ok" or "FAIL" line.
check() {
    local name="$1" client="$2" scenario="$3" protocol="$4" key="$5" minimum="$6" line status=0
    local tmp="$work/${name// /-}"
    shift 7
    timeout 40 "$@" >"$tmp.stdout" 2>"$tmp.stderr" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAIL $name: exit status $status: $(cat "$tmp.stdout" "$tmp.stderr")"
        return
    fi
    line="$(tail -n1 "$tmp.stdout")"
    local why="" count
    [ "$(field "$line" client)" = "$client" ] || why+=" client"
    [ "$(field "$line" scenario)" = "$scenario" ] || why+=" scenario"
    [ "$(field "$line" protocol)" = "$protocol" ] || why+=" protocol"
    [ "$(field "$line" errors)" = 0 ] || why+=" errors"
    count="$(field "$line" "$key")"
    awk -v c="${count:-0}" -v m="$minimum" 'BEGIN { exit !(c >= m) }' || why+=" $key<$minimum"
    if [ -n "$why" ]; then
        echo "FAIL $name ($why ): $line $(cat "$tmp.stderr")"
    else
        echo "ok   $name: $line"
    fi
}

# The hub's code paths JIT-compiled first, so that the jobs below see replies within their window.
for protocol in json messagepack; do
    timeout 40 "$heliograph" --url "$url" --protocol "$protocol" --scenario receive --batch 200 \
        --warmup 0 --duration 0.3 >/dev/null 2>&1 || true
done

# One job per client x protocol, all at once against the one hub (a smoke test, not a
# measurement); each job runs the three scenarios in turn.
short=(--warmup 0.2 --duration 0.3 --payload 16)
jobs=()
for protocol in json messagepack; do
    for client in heliograph dotnet js; do
        case "$client" in
            heliograph) cmd=("$heliograph") ;;
            dotnet) cmd=(env DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet "$dotnet_dll") ;;
            js) cmd=(node --expose-gc "$node_script") ;;
        esac
        common=(--url "$url" --protocol "$protocol")
        {
            check "$client invoke $protocol" "$client" invoke "$protocol" operations 20 -- \
                "${cmd[@]}" "${common[@]}" --scenario invoke --inflight 4 "${short[@]}" \
                --min-operations 20
            check "$client receive $protocol" "$client" receive "$protocol" operations 500 -- \
                "${cmd[@]}" "${common[@]}" --scenario receive --batch 200 "${short[@]}" \
                --min-operations 500
            check "$client memory $protocol" "$client" memory "$protocol" connected 5 -- \
                "${cmd[@]}" "${common[@]}" --scenario memory --connections 5 --concurrency 2 \
                --settle 0.05
        } >"$work/$client-$protocol.result" &
        jobs+=($!)
    done
done
wait "${jobs[@]}"
cat "$work"/*.result
runs="$(cat "$work"/*.result | grep -c -E '^(ok|FAIL) ' || true)"
failures="$(cat "$work"/*.result | grep -c '^FAIL ' || true)"
if [ "$runs" -ne 18 ] || [ "$failures" -ne 0 ]; then
    echo "$failures of 18 runs failed, $((18 - runs)) did not report"
    exit 1
fi
echo "all 18 runs passed"
