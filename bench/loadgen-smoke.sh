#!/usr/bin/env bash
# Smoke test of heliograph-bench (CTest bench_loadgen_smoke, label integration): starts the real
# heliograph-server with the benchmark hub on a free port and runs every scenario at a tiny
# size for both hub protocols. Fails if any run reports an error, zero throughput or a missing
# connection (heliograph-bench --strict).
#
#   loadgen-smoke.sh HELIOGRAPH_SERVER HELIOGRAPH_BENCH
set -euo pipefail

server="$1"
bench="$2"
work="$(mktemp -d)"
server_pid=""

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The server prints "heliograph-server listening on port N" on stdout once it accepts; read
# blocks on the pipe until then (no polling, no sleeps).
coproc SERVER { exec "$server" serve --listen 127.0.0.1:0 --memory --bench-hub --data "$work" 2>"$work/server.log"; }
server_pid=$SERVER_PID
port=""
while IFS= read -r -t 30 line <&"${SERVER[0]}"; do
    if [[ "$line" =~ listening\ on\ port\ ([0-9]+) ]]; then
        port="${BASH_REMATCH[1]}"
        break
    fi
done
if [ -z "$port" ]; then
    echo "heliograph-server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

failed=0
run() { # description, heliograph-bench arguments...
    local what="$1"
    shift
    echo "== $what"
    if ! "$bench" --url "http://127.0.0.1:$port" --server-pid "$server_pid" --quiet --strict \
        --json "$work/result.json" "$@"; then
        echo "FAILED: $what" >&2
        failed=1
    fi
}

for protocol in json messagepack; do
    run "echo $protocol" --scenario echo --protocol "$protocol" --connections 20 \
        --warmup 0.5 --duration 1.5 --inflight 2
    run "fanout $protocol" --scenario fanout --protocol "$protocol" --connections 20 \
        --warmup 0.5 --duration 1.5 --rate 20 --payload 256
    # Pings every 0.3 s so that the keep-alive path runs within the short window.
    run "idle $protocol" --scenario idle --protocol "$protocol" --connections 20 \
        --warmup 0.5 --duration 1.5 --ping-interval 0.3
    run "connect $protocol" --scenario connect --protocol "$protocol" --connections 20 \
        --concurrency 5 --warmup-connections 5
done

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "heliograph-server died during the smoke test:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
if [ "$failed" -ne 0 ]; then
    echo "server log:" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit "$failed"
