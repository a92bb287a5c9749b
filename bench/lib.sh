# shellcheck shell=bash
# Helpers shared by the benchmark scripts (run-servers.sh, run-clients.sh): starting and
# stopping the server under test, medians, number formatting and ratios. Source it after
# setting `work` (the scratch folder) and defining die().

server_pid="" server_port="" drain_pid=""

# stop_server: SIGTERM (both our server and ASP.NET Core drain on it), 30 s, then SIGKILL.
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        if ! timeout 30 tail --pid="$server_pid" -f /dev/null; then
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$drain_pid" ]; then wait "$drain_pid" 2>/dev/null || true; fi
    server_pid="" server_port="" drain_pid=""
}

# launch_server NAME LOGPREFIX COMMAND...: starts COMMAND (which binds port 0) and waits, on a
# pipe, for the line that names its port: "listening on port N" (ours) or "listening on
# http://127.0.0.1:N" (ASP.NET Core). Its stdout goes on being drained into LOGPREFIX.stdout.log,
# so that it never blocks on a full pipe.
launch_server() {
    local name="$1" prefix="$2" fifo="$work/stdout.fifo" line fd
    shift 2
    rm -f "$fifo"
    mkfifo "$fifo"
    "$@" >"$fifo" 2>"$prefix.stderr.log" &
    server_pid=$!
    exec {fd}<"$fifo"
    while IFS= read -r -t 60 -u "$fd" line; do
        printf '%s\n' "$line" >>"$prefix.stdout.log"
        if [[ "$line" =~ listening\ on\ (port\ |http://127\.0\.0\.1:)([0-9]+) ]]; then
            server_port="${BASH_REMATCH[2]}"
            break
        fi
    done
    cat <&"$fd" >>"$prefix.stdout.log" &
    drain_pid=$!
    exec {fd}<&-
    rm -f "$fifo"
    [ -n "$server_port" ] || { cat "$prefix.stderr.log" >&2; die "$name did not start"; }
}

# median of the arguments (empty if none)
median() {
    printf '%s\n' "$@" | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) exit
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fmt VALUE DECIMALS: thousands separators, or "n/a"
fmt() {
    [ -n "$1" ] || { echo "n/a"; return; }
    awk -v v="$1" -v d="$2" 'BEGIN {
        s = sprintf("%." d "f", v); neg = (substr(s, 1, 1) == "-"); if (neg) s = substr(s, 2)
        i = index(s, "."); ip = i ? substr(s, 1, i - 1) : s; fp = i ? substr(s, i) : ""
        while (length(ip) > 3) { r = "," substr(ip, length(ip) - 2) r; ip = substr(ip, 1, length(ip) - 3) }
        print (neg ? "-" : "") ip r fp }'
}

# ratio A B: "A/Bx" with two decimals, or "n/a"
ratio() {
    if [ -z "$1" ] || [ -z "$2" ]; then echo "n/a"; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx\n", a / b }'
}
