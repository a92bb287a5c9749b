#!/bin/sh
# SPDX-License-Identifier: MIT
# The package tests (label package): see CMakeLists.txt next to this file, which sets the HG_*
# variables. Usage: package_test.sh install_and_build | pkgconfig | symbols
#
# Each mode installs the client library of the build tree into a fresh prefix of its own and
# then uses nothing but that prefix (and the system's Qt). Every step says what it does; the
# first failure ends the script with "FAILED: <what>" and a non-zero exit code.
set -eu

mode=${1:?usage: package_test.sh install_and_build|pkgconfig|symbols}
for v in HG_MODE_DIR HG_BUILD_DIR HG_SOURCE_DIR HG_LIBDIR HG_INCLUDEDIR HG_SERVER HG_CMAKE \
    HG_GENERATOR HG_CXX HG_SONAME HG_VERSION; do
    eval "[ -n \"\${$v:-}\" ]" || { echo "FAILED: $v is not set (run through ctest)" >&2; exit 2; }
done

# What is installed: the client-lib directory of the build tree (override for debugging).
install_from=${HG_INSTALL_FROM:-$HG_BUILD_DIR/client-lib}
work=$HG_MODE_DIR/$mode
prefix=$work/prefix
libdir=$prefix/$HG_LIBDIR
includedir=$prefix/$HG_INCLUDEDIR
server_pid=
client_pid=

fail() {
    echo "FAILED: $*" >&2
    exit 1
}
step() {
    echo "--- $*"
}
cleanup() {
    for pid in $client_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_tool() { # variable-value name
    [ -n "$1" ] && [ -x "$1" ] || fail "$2 not found (./dev deps installs it)"
}

# Where a path really is (symlinks and .. resolved).
real() {
    (cd "$1" 2>/dev/null && pwd -P) || echo "$1"
}

install_package() {
    step "cmake --install $install_from --prefix $prefix"
    rm -rf "$work"
    mkdir -p "$work"
    "$HG_CMAKE" --install "$install_from" --prefix "$prefix" >"$work/install.log" 2>&1 \
        || { cat "$work/install.log"; fail "cmake --install"; }
    [ -f "$libdir/cmake/HeliographClient/HeliographClientConfig.cmake" ] \
        || fail "no HeliographClientConfig.cmake in $libdir/cmake/HeliographClient"
    [ -f "$libdir/libHeliographClient.so" ] || fail "no libHeliographClient.so in $libdir"
}

# run <expected exit code> <output file> <command...>: runs it, shows its output, checks the
# exit code.
run() {
    expected=$1
    out=$2
    shift 2
    echo "\$ $*"
    set +e
    "$@" >"$out" 2>"$out.err"
    rc=$?
    set -e
    sed 's/^/    /' "$out" "$out.err"
    [ "$rc" -eq "$expected" ] || fail "exit code $rc instead of $expected: $*"
}

# expect_line <file> <exact line>, expect_match <file> <basic regex>: the output has that line.
expect_line() {
    grep -qxF -- "$2" "$1" || fail "no line '$2' in the output above"
}
expect_match() {
    grep -qx -- "$2" "$1" || fail "no line matching '$2' in the output above"
}

# wait_for <glob pattern>, wait_for_line <exact line>: reads the staying hubclient's lines
# (fd 4) until one matches.
wait_for() {
    while IFS= read -r line <&4; do
        echo "    $line"
        # shellcheck disable=SC2254 # $1 is a pattern
        case $line in
        $1) return 0 ;;
        esac
    done
    cat "$work/client.err" >&2
    fail "hubclient ended before printing '$1'"
}
wait_for_line() {
    while IFS= read -r line <&4; do
        echo "    $line"
        [ "$line" != "$1" ] || return 0
    done
    cat "$work/client.err" >&2
    fail "hubclient ended before printing '$1'"
}

# --- heliograph-server ------------------------------------------------------------------------
# Started on port 0 (or the given port, for a restart); its first stdout line names the port.
# The line is read through a FIFO: no polling, and a server that exits early ends the read.
start_server() { # [port]
    need_tool "$HG_SERVER" heliograph-server
    rm -f "$work/server.fifo"
    mkfifo "$work/server.fifo"
    mkdir -p "$work/server-data"
    "$HG_SERVER" serve --listen "127.0.0.1:${1:-0}" --memory --bench-hub --threads 2 \
        --data "$work/server-data" >"$work/server.fifo" 2>>"$work/server.log" &
    server_pid=$!
    exec 3<"$work/server.fifo"
    if ! IFS= read -r line <&3; then
        cat "$work/server.log" >&2
        fail "heliograph-server exited before listening"
    fi
    exec 3<&-
    case $line in
    *"listening on port "*) port=${line##* } ;;
    *) fail "unexpected first line from heliograph-server: $line" ;;
    esac
    echo "heliograph-server (pid $server_pid) listening on port $port"
}

stop_server() {
    kill -TERM "$server_pid"
    set +e
    wait "$server_pid"
    rc=$?
    set -e
    server_pid=
    [ "$rc" -eq 0 ] || { cat "$work/server.log" >&2; fail "heliograph-server exited with $rc"; }
}

# --- package_install_and_build ----------------------------------------------------------------
mode_install_and_build() {
    install_package

    step "configure examples/ against $prefix only"
    # Nothing from the environment may point CMake elsewhere; the package registries are off.
    unset CMAKE_PREFIX_PATH CMAKE_INCLUDE_PATH CMAKE_LIBRARY_PATH HeliographClient_DIR \
        CPATH CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH PKG_CONFIG_PATH 2>/dev/null || true
    set -- -S "$HG_SOURCE_DIR/examples" -B "$work/examples" -G "$HG_GENERATOR" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_PREFIX_PATH=$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
        "-DCMAKE_CXX_COMPILER=$HG_CXX" \
        -DCMAKE_COMPILE_WARNING_AS_ERROR=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    if [ -n "${HG_CXX_LAUNCHER:-}" ]; then
        set -- "$@" "-DCMAKE_CXX_COMPILER_LAUNCHER=$HG_CXX_LAUNCHER"
    fi
    if [ -n "${HG_SANITIZE:-}" ]; then
        set -- "$@" "-DCMAKE_CXX_FLAGS=-fsanitize=$HG_SANITIZE" \
            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$HG_SANITIZE"
    fi
    "$HG_CMAKE" "$@" >"$work/configure.log" 2>&1 \
        || { cat "$work/configure.log"; fail "configuring examples/"; }

    step "the package came from the prefix, not from the build or source tree"
    found=$(sed -n 's/^HeliographClient_DIR:PATH=//p' "$work/examples/CMakeCache.txt")
    [ "$(real "$found")" = "$(real "$libdir/cmake/HeliographClient")" ] \
        || fail "find_package(HeliographClient) used '$found'"
    echo "HeliographClient_DIR=$found"

    step "build examples/"
    "$HG_CMAKE" --build "$work/examples" >"$work/build.log" 2>&1 \
        || { cat "$work/build.log"; fail "building examples/"; }
    commands=$work/examples/compile_commands.json
    [ -f "$commands" ] || fail "no compile_commands.json"
    for leak in "$HG_SOURCE_DIR/client-lib" "$HG_BUILD_DIR/client-lib" "$HG_BUILD_DIR/lib"; do
        if grep -qF -- "$leak" "$commands"; then
            grep -F -- "$leak" "$commands"
            fail "the examples were compiled with paths into $leak"
        fi
    done
    grep -qF -- "$includedir" "$commands" || fail "the prefix' include directory was not used"
    hubclient=$work/examples/hubclient/hubclient
    [ -x "$hubclient" ] || fail "no hubclient executable"
    loaded=$(ldd "$hubclient" | sed -n 's/^[[:space:]]*libHeliographClient[^ ]* => \([^ ]*\).*/\1/p')
    [ "$(real "$(dirname "$loaded")")" = "$(real "$libdir")" ] \
        || fail "hubclient loads libHeliographClient from '$loaded', not from $libdir"
    echo "hubclient loads $loaded"

    start_server
    bench=http://127.0.0.1:$port/hubs/bench

    step "Echo round trips: every transport with every protocol it carries"
    for combination in json:websockets:WebSockets json:sse:ServerSentEvents \
        json:longpolling:LongPolling messagepack:websockets:WebSockets \
        messagepack:longpolling:LongPolling; do
        protocol=${combination%%:*}
        rest=${combination#*:}
        transport=${rest%%:*}
        shown=${rest#*:}
        text="package test over $protocol/$transport"
        run 0 "$work/echo.out" "$hubclient" --timeout 20 --protocol "$protocol" \
            --transport "$transport" "$bench" Echo "\"$text\""
        expect_match "$work/echo.out" "connected id=.* transport=$shown protocol=$protocol"
        expect_line "$work/echo.out" "result \"$text\""
        expect_line "$work/echo.out" "state Disconnected"
    done

    step "a server-to-client call reaches a --listen handler"
    run 0 "$work/listen.out" "$hubclient" --timeout 20 --protocol messagepack --listen Receive \
        --expect 1 "$bench?user=package" SendToUser package '"to the handler"'
    expect_line "$work/listen.out" 'received Receive ["to the handler"]'
    expect_line "$work/listen.out" "result null"

    step "exit codes: 1 failed invocation, 3 no connection, 4 timeout"
    run 1 "$work/fail.out" "$hubclient" --timeout 20 "$bench" NoSuchMethod
    grep -q "invocation failed (ServerError)" "$work/fail.out.err" || fail "no invocation error shown"
    run 3 "$work/refused.out" "$hubclient" --timeout 20 "http://127.0.0.1:1/hubs/bench" Echo x
    grep -q "^error NegotiationFailed" "$work/refused.out.err" || fail "no connection error shown"
    run 4 "$work/timeout.out" "$hubclient" --timeout 2 --listen Receive --expect 1 "$bench" Echo x
    grep -q "^timed out after 2 s" "$work/timeout.out.err" || fail "no timeout shown"

    step "automatic reconnect: the server restarts under a client that stays"
    rm -f "$work/client.fifo"
    mkfifo "$work/client.fifo"
    "$hubclient" --stay --listen Receive "$bench?user=stay" >"$work/client.fifo" \
        2>"$work/client.err" &
    client_pid=$!
    exec 4<"$work/client.fifo"
    wait_for "connected id=* transport=WebSockets protocol=json"
    run 0 "$work/send.out" "$hubclient" --timeout 20 "$bench" SendToUser stay '"before"'
    wait_for_line 'received Receive ["before"]'
    stop_server # drains: Close with allowReconnect to every connection
    wait_for "reconnecting after *"
    start_server "$port"
    wait_for "reconnected id=*"
    run 0 "$work/send.out" "$hubclient" --timeout 20 "$bench" SendToUser stay '"after"'
    wait_for_line 'received Receive ["after"]'
    kill -INT "$client_pid"
    wait_for_line "state Disconnected"
    set +e
    wait "$client_pid"
    rc=$?
    set -e
    client_pid=
    exec 4<&-
    [ "$rc" -eq 0 ] || { cat "$work/client.err"; fail "hubclient --stay exited with $rc after SIGINT"; }
    stop_server
}

# --- package_pkgconfig ------------------------------------------------------------------------
mode_pkgconfig() {
    install_package
    need_tool "${HG_PKG_CONFIG:-}" pkg-config
    # Only the prefix' .pc file is added; Qt's come from the system as for any user.
    PKG_CONFIG_PATH=$libdir/pkgconfig
    export PKG_CONFIG_PATH
    unset CPATH CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH 2>/dev/null || true

    step "pkg-config HeliographClient points into the prefix"
    "$HG_PKG_CONFIG" --exists --print-errors HeliographClient || fail "pkg-config HeliographClient"
    version=$("$HG_PKG_CONFIG" --modversion HeliographClient)
    [ "$version" = "$HG_VERSION" ] || fail "pkg-config version $version, expected $HG_VERSION"
    pc_prefix=$("$HG_PKG_CONFIG" --variable=prefix HeliographClient)
    pc_includedir=$("$HG_PKG_CONFIG" --variable=includedir HeliographClient)
    pc_libdir=$("$HG_PKG_CONFIG" --variable=libdir HeliographClient)
    echo "prefix=$pc_prefix includedir=$pc_includedir libdir=$pc_libdir"
    [ "$(real "$pc_includedir")" = "$(real "$includedir")" ] && [ "$(real "$pc_libdir")" = "$(real "$libdir")" ] \
        || fail "HeliographClient.pc installed into $prefix points at '$pc_prefix': it is not" \
            "relocatable (its prefix is fixed at configure time; derive it from \${pcfiledir})"
    flags=$("$HG_PKG_CONFIG" --cflags --libs HeliographClient)
    echo "pkg-config --cflags --libs HeliographClient: $flags"

    step "compile examples/pkgconfig/main.cpp with those flags only"
    # -fPIC: Qt is built with reduced relocations and needs position-independent code.
    # shellcheck disable=SC2086 # the flags are a list of words
    "$HG_CXX" -std=c++20 -fPIC -Wall -Wextra -Werror "$HG_SOURCE_DIR/examples/pkgconfig/main.cpp" \
        $flags -o "$work/echo" >"$work/compile.log" 2>&1 \
        || { cat "$work/compile.log"; fail "compiling examples/pkgconfig/main.cpp"; }
    LD_LIBRARY_PATH=$pc_libdir
    export LD_LIBRARY_PATH
    loaded=$(ldd "$work/echo" | sed -n 's/^[[:space:]]*libHeliographClient[^ ]* => \([^ ]*\).*/\1/p')
    [ "$(real "$(dirname "$loaded")")" = "$(real "$libdir")" ] \
        || fail "the program loads libHeliographClient from '$loaded', not from $libdir"

    start_server
    step "run it against heliograph-server"
    for protocol in json messagepack; do
        run 0 "$work/echo.out" "$work/echo" "http://127.0.0.1:$port/hubs/bench" "pkg-config" "$protocol"
        expect_line "$work/echo.out" "Echo over $protocol: pkg-config"
    done
    stop_server
}

# check_library LIB EXPECTED_SONAME: versioned SONAME and symlinks, and only Heliograph's own
# symbols exported.
check_library() {
    lib=$1
    expected_soname=$2
    step "$(basename "$lib"): SONAME carries the version"
    soname=$("$HG_READELF" -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    echo "SONAME $soname"
    [ "$soname" = "$expected_soname" ] || fail "SONAME '$soname', expected $expected_soname"
    [ -f "$libdir/$soname" ] || fail "no $soname in $libdir"
    [ "$(real "$libdir")/$(basename "$(readlink -f "$lib")")" = "$(real "$libdir")/$(basename "$lib").$HG_VERSION" ] \
        || fail "$(basename "$lib") does not lead to $(basename "$lib").$HG_VERSION"

    step "$(basename "$lib"): exported symbols: Heliograph's own, plus std:: instantiations only"
    "$HG_NM" -D --defined-only "$lib" | awk '{ print $NF }' | sort -u >"$work/exported"
    total=$(wc -l <"$work/exported")
    # Itanium mangling puts the entity's qualified name first, after the special prefixes for
    # vtables, typeinfo, thunks, guard variables and function-local statics.
    special='_Z(T[VTIS]|Th[n0-9]+_|Tv[n0-9]+_[n0-9]+_|GV|Z)?N?[rVKRO]*'
    grep -E "^${special}10Heliograph" "$work/exported" >"$work/own" || true
    grep -E "^${special}(St|9__gnu_cxx)" "$work/exported" >"$work/std" || true
    grep -vE "^${special}(10Heliograph|St|9__gnu_cxx)" "$work/exported" >"$work/other" || true
    echo "$total exported: $(wc -l <"$work/own") Heliograph::, $(wc -l <"$work/std") std::, $(wc -l <"$work/other") other"
    if [ -s "$work/std" ]; then
        echo "std:: template instantiations exported (namespace std has default visibility, so"
        echo "-fvisibility=hidden cannot hide them; no msgpack or Qt symbols among them):"
        c++filt <"$work/std" | sed 's/^/    /'
    fi
    if [ -s "$work/other" ]; then
        c++filt <"$work/other" | sed 's/^/    /'
        fail "symbols outside namespace Heliograph are exported (above)"
    fi
    if grep -q msgpack "$work/exported"; then
        grep msgpack "$work/exported" | c++filt | sed 's/^/    /'
        fail "msgpack symbols are exported"
    fi
    [ -s "$work/own" ] || fail "no Heliograph symbol is exported"
}

# --- package_symbols --------------------------------------------------------------------------
mode_symbols() {
    install_package
    need_tool "${HG_NM:-}" nm
    need_tool "${HG_READELF:-}" readelf
    # The client and the protocol library it is built on (both in the HeliographClient package).
    for name in HeliographClient HeliographProtocol; do
        check_library "$libdir/lib$name.so" "lib$name.so.${HG_SONAME##*.so.}"
    done

    step "every installed header compiles on its own"
    need_tool "${HG_PKG_CONFIG:-}" pkg-config
    qt_flags=$("$HG_PKG_CONFIG" --cflags Qt6Core Qt6Network) || fail "pkg-config Qt6Core Qt6Network"
    count=0
    find "$includedir/heliograph" -name '*.h' | sort >"$work/headers"
    while IFS= read -r header; do
        name=${header#"$includedir"/}
        printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$work/header.cpp"
        # shellcheck disable=SC2086
        "$HG_CXX" -std=c++20 -fPIC -fsyntax-only -Wall -Wextra -Wpedantic -Wshadow -Werror \
            -DQT_NO_CAST_FROM_ASCII -DQT_NO_CAST_TO_ASCII -DQT_NO_KEYWORDS \
            -DQT_NO_URL_CAST_FROM_STRING -I"$includedir" $qt_flags "$work/header.cpp" </dev/null \
            >"$work/header.log" 2>&1 || { cat "$work/header.log"; fail "$name does not compile alone"; }
        echo "    $name"
        count=$((count + 1))
    done <"$work/headers"
    [ "$count" -gt 0 ] || fail "no header installed"
}

case $mode in
install_and_build) mode_install_and_build ;;
pkgconfig) mode_pkgconfig ;;
symbols) mode_symbols ;;
*) fail "unknown mode '$mode'" ;;
esac
echo "package test '$mode' passed"
