#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages (labels package and debian): see CMakeLists.txt next to this file, which
# sets the HG_* variables. Usage: debian_test.sh build | lint | root | server | desktop | dev |
# lifecycle
#
#   build      installers/build-packages.sh: the packages of build/default into HG_PACKAGES
#   lint       lintian (no error, no warning: the rest is overridden with a reason), the desktop
#              entry, the AppStream metainfo, the systemd unit and the man pages as installed
#   root       a clean Debian 12 root (debootstrap minbase, cached under HG_CACHE and copied):
#              apt installs the packages there without recommends; the user, the secret,
#              the conffile
#   server     heliograph-server started from the installed unit's ExecStart=, as its User=,
#              with its EnvironmentFile=: /ready, Microsoft's JavaScript client on the hub, a
#              push delivered to it, SIGTERM ends it with 0
#   desktop    heliograph-desktop under Xvfb shows its sign-in window; with LANGUAGE=de in German
#   dev        examples/ built in the root against libheliograph-client-dev (CMake) and run
#              against the installed server
#   lifecycle  upgrade (to a rebuilt 0.1.0-2) keeps data, secret and configuration; remove keeps
#              them; purge deletes them
# Everything after `root` uses that root and only what the packages installed in it. Needs root
# privileges (chroot, mounts in a private mount namespace). The first failure ends the script
# with "FAILED: <what>".
set -eu

mode=${1:?usage: debian_test.sh build|lint|root|server|desktop|dev|lifecycle}
for v in HG_MODE_DIR HG_BUILD_DIR HG_SOURCE_DIR HG_PACKAGES HG_CACHE HG_NODE_MODULES HG_VERSION; do
    eval "[ -n \"\${$v:-}\" ]" || { echo "FAILED: $v is not set (run through ctest)" >&2; exit 2; }
done

root=$HG_MODE_DIR/root
work=$HG_MODE_DIR/$mode
pids=

fail() {
    echo "FAILED: $*" >&2
    exit 1
}
step() {
    echo "--- $*"
}
cleanup() {
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || fail "the Debian package tests need root (chroot and mounts)"

# in_root COMMAND...: runs COMMAND in the clean root, with /proc, /dev and /sys mounted in a
# mount namespace of its own (gone when the command ends). The network is the host's.
in_root() {
    ${exec_it:-} unshare --mount --propagation private sh -c '
        r=$1; shift
        mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && mount --rbind /sys "$r/sys" \
            && mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm" || exit 125
        if [ -d "$r/var/cache/apt/archives" ] && [ -d "$HG_CACHE/archives" ]; then
            mount --bind "$HG_CACHE/archives" "$r/var/cache/apt/archives" || exit 125
        fi
        exec chroot "$r" "$@"' sh "$root" "$@"
}
# as_user USER COMMAND...: in the root, as USER (its uid, gid and groups), a clean environment.
as_user() {
    user=$1
    shift
    in_root setpriv --reuid="$user" --regid="$user" --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# bg_as_user USER COMMAND... &: as_user, with the background job's process becoming the command
# (so $! is the program's pid: signals reach it).
bg_as_user() {
    exec_it=exec
    as_user "$@"
}
debs() {
    set -- "$HG_PACKAGES"/*.deb
    [ -f "$1" ] || fail "no packages in $HG_PACKAGES (the package_deb_build test makes them)"
    echo "$@"
}
in_root_paths() { # FOLDER: the .deb files in the root's FOLDER, as paths inside the root
    for f in "$root$1"/*.deb; do echo "$1/${f##*/}"; done
}
apt_in_root() {
    in_root env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 -o APT::Color=0 \
        -o Dpkg::Options::=--force-unsafe-io "$@"
}
# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND (every 0.2 s) until it succeeds.
wait_until() {
    deadline=$(($(date +%s) + $1))
    what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what (no success within the deadline)"
        sleep 0.2
    done
}
need_root_made() {
    [ -f "$root/.heliograph-installed" ] || fail "no installed root (the package_deb_root test makes it)"
}

# --- build ------------------------------------------------------------------------------------
mode_build() {
    "$HG_SOURCE_DIR/installers/build-packages.sh" "$HG_BUILD_DIR" "$HG_PACKAGES"
    for p in heliograph heliograph-server libheliographclient0.1 libheliograph-client-dev \
        qml6-module-heliograph-client; do
        [ -f "$HG_PACKAGES/${p}_${HG_VERSION}-1_$(dpkg --print-architecture).deb" ] || fail "no $p package"
    done
    step "the tarball: unpacked elsewhere, both programs start from it"
    rm -rf "$work" && mkdir -p "$work"
    tarball=$HG_PACKAGES/heliograph-$HG_VERSION-linux-$(dpkg --print-architecture).tar.gz
    [ -f "$tarball" ] || fail "no $tarball"
    tar -C "$work" -xzf "$tarball"
    top=$work/heliograph-$HG_VERSION-linux-$(dpkg --print-architecture)
    for program in heliograph-server heliograph-desktop; do
        env -u LD_LIBRARY_PATH "$top/bin/$program" --version >"$work/$program.out" 2>&1 \
            || { cat "$work/$program.out"; fail "$program --version from the tarball"; }
        grep -q "$HG_VERSION" "$work/$program.out" || fail "$program --version: $(cat "$work/$program.out")"
        echo "$program: $(cat "$work/$program.out")"
    done
    # The launcher's libraries are the tarball's, not the build tree's or the system's.
    LD_LIBRARY_PATH=$top/lib ldd "$top/libexec/heliograph-server" | grep -q "=> $top/lib/libHeliograph" \
        || fail "the tarball's server does not load the tarball's library"
}

# --- lint -------------------------------------------------------------------------------------
mode_lint() {
    rm -rf "$work" && mkdir -p "$work/tree"
    step "lintian: no errors, no warnings (overrides carry their reasons)"
    # shellcheck disable=SC2046
    lintian --fail-on error,warning --pedantic --display-info --allow-root $(debs) | tee "$work/lintian.log" \
        || fail "lintian"
    grep -E '^[EW]:' "$work/lintian.log" && fail "lintian reported the errors or warnings above"

    for deb in $(debs); do
        dpkg-deb -x "$deb" "$work/tree"
        step "$(basename "$deb"): no secret inside"
        if dpkg-deb -c "$deb" | grep -i 'secret'; then
            fail "$(basename "$deb") ships a secret"
        fi
    done
    tree=$work/tree
    step "desktop-file-validate"
    desktop-file-validate "$tree/usr/share/applications/heliograph-desktop.desktop" || fail "desktop entry"
    grep -qx 'Icon=heliograph' "$tree/usr/share/applications/heliograph-desktop.desktop" || fail "no Icon="
    for size in 16 24 32 48 64 128 256 512; do
        [ -f "$tree/usr/share/icons/hicolor/${size}x$size/apps/heliograph.png" ] || fail "no ${size}px icon"
    done
    [ -f "$tree/usr/share/icons/hicolor/scalable/apps/heliograph.svg" ] || fail "no scalable icon"
    step "appstreamcli validate --no-net"
    appstreamcli validate --no-net "$tree/usr/share/metainfo/io.github.heliograph.Heliograph.metainfo.xml" \
        || fail "metainfo"
    step "man pages: no groff warnings, every serve setting documented"
    for page in heliograph-server heliograph-desktop; do
        zcat "$tree/usr/share/man/man1/$page.1.gz" >"$work/$page.1"
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$work/$page.1" >"$work/$page.txt" 2>"$work/$page.err" \
            || fail "man $page"
        [ ! -s "$work/$page.err" ] || { cat "$work/$page.err"; fail "man $page: warnings"; }
    done
    # Every setting `serve --help` lists (lines "  --name ...") has an entry in the man page.
    "$tree/usr/bin/heliograph-server" serve --help 2>&1 | sed -n 's/^  --\([a-z][a-z0-9-]*\).*/\1/p' \
        | sort -u >"$work/settings"
    [ "$(wc -l <"$work/settings")" -ge 40 ] || fail "serve --help lists only $(wc -l <"$work/settings") settings"
    while IFS= read -r setting; do
        grep -qE "^\.(BI?|TP) $(echo "$setting" | sed 's/-/\\\\-/g')( |\$)" "$work/heliograph-server.1" \
            || fail "heliograph-server(1) does not document the setting $setting"
    done <"$work/settings"
    echo "$(wc -l <"$work/settings") settings documented"

    step "systemd-analyze verify of the installed unit"
    unit=$tree/lib/systemd/system/heliograph-server.service
    [ -f "$unit" ] || fail "no unit"
    # On the host (the clean root has no systemd), with ExecStart= pointing into the package's
    # tree and the package's man page on the MANPATH (verify checks Documentation=man:).
    sed "s|/usr/bin/heliograph-server|$tree/usr/bin/heliograph-server|" "$unit" \
        >"$work/heliograph-server.service"
    MANPATH=$tree/usr/share/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
        "$work/heliograph-server.service" >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "verify"; }
    cat "$work/verify.log"
    [ ! -s "$work/verify.log" ] || fail "systemd-analyze verify reported the above"
    step "systemd-analyze security: exposure"
    systemd-analyze security --offline=true "$work/heliograph-server.service" \
        >"$work/security.log" 2>&1 || true
    tail -n 1 "$work/security.log"
    exposure=$(sed -n 's/.*Overall exposure level for heliograph-server.service: \([0-9.]*\).*/\1/p' \
        "$work/security.log")
    [ -n "$exposure" ] || { cat "$work/security.log"; fail "no exposure level"; }
    awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || { cat "$work/security.log"; fail "exposure $exposure > 2.0"; }
}

# --- root -------------------------------------------------------------------------------------
# The cache: debootstrap --variant=minbase bookworm, plus the tools the tests bring (compiler,
# CMake, pkg-config for the dev test). Never any of the packages' own dependencies: those come
# from apt, in each fresh copy.
make_cache() {
    cached=$HG_CACHE/bookworm-root
    [ -f "$cached/.complete" ] && return 0
    step "debootstrap --variant=minbase bookworm (once, cached in $cached)"
    rm -rf "$cached.tmp"
    mkdir -p "$HG_CACHE/archives/partial"
    debootstrap --variant=minbase --cache-dir="$HG_CACHE/archives" bookworm "$cached.tmp" \
        http://deb.debian.org/debian >"$HG_CACHE/debootstrap.log" 2>&1 \
        || { tail -n 20 "$HG_CACHE/debootstrap.log"; fail "debootstrap"; }
    cp /etc/resolv.conf "$cached.tmp/etc/resolv.conf"
    saved_root=$root
    root=$cached.tmp
    apt_in_root update -qq || fail "apt-get update in the cache"
    apt_in_root install -y -qq --no-install-recommends g++ make cmake pkg-config \
        >"$HG_CACHE/tools.log" 2>&1 || { tail -n 20 "$HG_CACHE/tools.log"; fail "tools in the cache"; }
    root=$saved_root
    touch "$cached.tmp/.complete"
    mv "$cached.tmp" "$cached"
}

mode_root() {
    make_cache
    step "a fresh copy of the clean root: $root"
    rm -rf "$root"
    cp -a "$HG_CACHE/bookworm-root" "$root"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mkdir -p "$root/tmp/debs"
    # shellcheck disable=SC2046
    cp $(debs) "$root/tmp/debs/"
    for p in heliograph heliograph-server libheliograph-client-dev qml6-module-heliograph-client; do
        if in_root dpkg-query -W "$p" >/dev/null 2>&1; then fail "$p is in the clean root already"; fi
    done
    in_root dpkg-query -W qt6-base-dev libqt6core6 >/dev/null 2>&1 && fail "Qt is in the clean root already"

    step "apt-get install (no recommends) of every package"
    # The cache's package lists first (no download of them); fresh ones if the mirror moved on.
    # shellcheck disable=SC2046
    if ! apt_in_root install -y -q --no-install-recommends $(in_root_paths /tmp/debs) \
        >"$HG_MODE_DIR/install.log" 2>&1; then
        tail -n 5 "$HG_MODE_DIR/install.log"
        echo "(again, after apt-get update)"
        apt_in_root update -qq || fail "apt-get update"
        # shellcheck disable=SC2046
        apt_in_root install -y -q --no-install-recommends $(in_root_paths /tmp/debs) \
            >"$HG_MODE_DIR/install.log" 2>&1 || { tail -n 40 "$HG_MODE_DIR/install.log"; fail "apt-get install"; }
    fi
    grep -E '^(Setting up|Unpacking) (heliograph|libheliograph|qml6-module-heliograph)' "$HG_MODE_DIR/install.log"

    step "the system user, the data folder, the secret made at install time"
    in_root getent passwd heliograph || fail "no heliograph user"
    shell=$(in_root getent passwd heliograph | cut -d: -f7)
    [ "$shell" = /usr/sbin/nologin ] || fail "the heliograph user has the shell $shell"
    in_root stat -c '%U:%G %a %n' /var/lib/heliograph /var/lib/heliograph/jwt-hs256.secret
    [ "$(in_root stat -c '%U %a' /var/lib/heliograph)" = "heliograph 700" ] || fail "data folder"
    [ "$(in_root stat -c '%U %a' /var/lib/heliograph/jwt-hs256.secret)" = "heliograph 600" ] || fail "secret"
    [ "$(wc -c <"$root/var/lib/heliograph/jwt-hs256.secret")" -ge 43 ] || fail "secret too short"
    step "/etc/heliograph/heliograph-server.conf is a conffile"
    in_root dpkg-query -W -f '${Conffiles}\n' heliograph-server | tee "$HG_MODE_DIR/conffiles"
    grep -q '/etc/heliograph/heliograph-server.conf' "$HG_MODE_DIR/conffiles" || fail "not a conffile"
    step "the service is enabled for the next boot"
    [ -L "$root/etc/systemd/system/multi-user.target.wants/heliograph-server.service" ] || fail "not enabled"
    touch "$root/.heliograph-installed"
}

# --- server -----------------------------------------------------------------------------------
unit_value() { # KEY: the value of KEY= in the installed unit
    sed -n "s/^$1=//p" "$root/lib/systemd/system/heliograph-server.service" | tail -n 1
}
# Starts the server as the unit does: its ExecStart=, User= and EnvironmentFile=.
start_unit_server() {
    user=$(unit_value User)
    exec_start=$(unit_value ExecStart)
    env_file=$(unit_value EnvironmentFile)
    echo "User=$user ExecStart=$exec_start EnvironmentFile=$env_file"
    [ "$user" = heliograph ] || fail "the unit runs as '$user'"
    # The configuration's own lines (comments and empty lines dropped), as systemd reads them.
    # shellcheck disable=SC2046
    set -- $(grep -v '^[[:space:]]*#' "$root$env_file" | grep '=')
    rm -f "$work/server.fifo"
    mkfifo "$work/server.fifo"
    # shellcheck disable=SC2086 # ExecStart= is a list of words
    bg_as_user "$user" "$@" $exec_start >"$work/server.fifo" 2>"$work/server.log" &
    server_pid=$!
    pids="$pids $server_pid"
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
    uid=$(awk '/^Uid:/ { print $2 }' "/proc/$server_pid/status")
    [ "$uid" = "$(in_root id -u "$user")" ] || fail "the server runs as uid $uid, not as $user"
    [ "$(readlink "/proc/$server_pid/exe")" = "$root/usr/bin/heliograph-server" ] \
        || fail "pid $server_pid is $(readlink "/proc/$server_pid/exe"), not the installed server"
}
stop_unit_server() {
    kill -TERM "$server_pid"
    set +e
    wait "$server_pid"
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || { cat "$work/server.log" >&2; fail "heliograph-server exited with $rc on SIGTERM"; }
    echo "stopped by SIGTERM, exit code 0"
}
# Listen on a free port: the configuration is changed like an administrator would.
listen_on_free_port() {
    sed -i 's/^HELIOGRAPH_LISTEN=.*/HELIOGRAPH_LISTEN=127.0.0.1:0/' "$root/etc/heliograph/heliograph-server.conf"
}

mode_server() {
    need_root_made
    rm -rf "$work" && mkdir -p "$work"
    listen_on_free_port
    step "heliograph-server as the unit starts it"
    start_unit_server
    base=http://127.0.0.1:$port
    wait_until 20 "GET /ready answers 200" curl -fsS "$base/ready"
    curl -fsS "$base/ready" && echo

    step "tokens from the installed secret (heliograph-server token, as heliograph)"
    editor=$(as_user heliograph heliograph-server token --user ann --tenant acme --role Editor \
        --data /var/lib/heliograph) || fail "token"
    admin=$(as_user heliograph heliograph-server token --user root --tenant acme --role Admin \
        --data /var/lib/heliograph) || fail "admin token"

    step "Microsoft's JavaScript client on /hubs/notifications, every transport"
    NODE_PATH=$HG_NODE_MODULES node "$HG_SOURCE_DIR/tests/package/deb_client.mjs" "$base" "$editor" "$admin" \
        || fail "the JavaScript client"

    step "SIGTERM"
    stop_unit_server
}

# --- desktop ----------------------------------------------------------------------------------
mode_desktop() {
    need_root_made
    rm -rf "$work" && mkdir -p "$work"
    command -v Xvfb >/dev/null || fail "Xvfb not found (package xvfb)"
    command -v xwininfo >/dev/null || fail "xwininfo not found (package x11-utils)"
    step "Xvfb (on the host; the root reaches it through its abstract socket)"
    rm -f "$work/display"
    Xvfb -displayfd 1 -screen 0 1280x900x24 -nolisten tcp >"$work/display" 2>"$work/xvfb.log" &
    pids="$pids $!"
    wait_until 20 "Xvfb started" test -s "$work/display"
    display=:$(cat "$work/display")
    echo "DISPLAY=$display"
    in_root useradd -m -s /bin/sh tester 2>/dev/null || true

    for language in en de; do
        case $language in
        en) title='Sign in' ;;
        de) title='Anmelden' ;;
        esac
        step "heliograph-desktop, LANGUAGE=$language: the sign-in window"
        bg_as_user tester HOME=/home/tester DISPLAY="$display" LANGUAGE="$language" \
            QT_QUICK_BACKEND=software heliograph-desktop >"$work/desktop-$language.log" 2>&1 &
        app_pid=$!
        pids="$pids $app_pid"
        found() {
            kill -0 "$app_pid" 2>/dev/null || { cat "$work/desktop-$language.log"; fail "heliograph-desktop exited"; }
            xwininfo -display "$display" -root -tree >"$work/tree-$language.txt" 2>&1
            grep -q "\"$title — Heliograph\"" "$work/tree-$language.txt"
        }
        # Qt adds the application's display name to the window's title.
        wait_until 30 "a window titled '$title — Heliograph'" found
        grep "Heliograph" "$work/tree-$language.txt" | head -n 3
        if [ "$language" = de ]; then
            grep -q 'Sign in' "$work/tree-de.txt" && fail "English title with LANGUAGE=de"
        fi
        kill -TERM "$app_pid"
        wait "$app_pid" || true
    done
}

# --- dev --------------------------------------------------------------------------------------
mode_dev() {
    need_root_made
    rm -rf "$work" && mkdir -p "$work"
    step "examples/ configured and built in the root against the installed -dev package"
    rm -rf "$root/tmp/examples"
    cp -R "$HG_SOURCE_DIR/examples" "$root/tmp/examples"
    in_root sh -c 'cd /tmp/examples && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_COMPILE_WARNING_AS_ERROR=ON && cmake --build build -j2' >"$work/build.log" 2>&1 \
        || { tail -n 40 "$work/build.log"; fail "building examples/ against libheliograph-client-dev"; }
    found=$(sed -n 's/^HeliographClient_DIR:PATH=//p' "$root/tmp/examples/build/CMakeCache.txt")
    echo "HeliographClient_DIR=$found"
    case $found in /usr/lib/*) ;; *) fail "HeliographClient came from '$found'" ;; esac
    step "pkg-config HeliographClient"
    in_root pkg-config --modversion HeliographClient | grep -qx "$HG_VERSION" || fail "pkg-config"

    step "hubclient against the installed server (benchmark hub, in memory)"
    rm -f "$work/server.fifo"
    mkfifo "$work/server.fifo"
    bg_as_user heliograph heliograph-server serve --listen 127.0.0.1:0 --memory --bench-hub \
        --data /tmp/dev-data >"$work/server.fifo" 2>"$work/server.log" &
    server_pid=$!
    pids="$pids $server_pid"
    exec 3<"$work/server.fifo"
    IFS= read -r line <&3 || { cat "$work/server.log"; fail "server did not start"; }
    exec 3<&-
    port=${line##* }
    in_root /tmp/examples/build/hubclient/hubclient --timeout 20 --protocol messagepack \
        "http://127.0.0.1:$port/hubs/bench" Echo '"from the package"' | tee "$work/echo.out"
    grep -qx 'result "from the package"' "$work/echo.out" || fail "no Echo result"
    kill -TERM "$server_pid"
    wait "$server_pid" || fail "server exit code"
}

# --- lifecycle --------------------------------------------------------------------------------
mode_lifecycle() {
    need_root_made
    rm -rf "$work" && mkdir -p "$work/next"
    conf=/etc/heliograph/heliograph-server.conf
    step "state before the upgrade: a user, a changed configuration"
    listen_on_free_port
    echo "HELIOGRAPH_RETENTION_HOURS=48" >>"$root$conf"
    printf '%s\n' 'long enough password' | as_user heliograph heliograph-server user add \
        --data /var/lib/heliograph --username keeper --tenant acme --role Viewer --password-stdin \
        || fail "user add"
    sha256sum "$root$conf" "$root/var/lib/heliograph/jwt-hs256.secret" | sed "s|$root||" >"$work/before"
    uid=$(in_root id -u heliograph)

    step "upgrade to $HG_VERSION-2 (the same packages, rebuilt with the next Debian revision)"
    for deb in $(debs); do
        rm -rf "$work/unpacked"
        dpkg-deb -R "$deb" "$work/unpacked"
        sed -i "s/$HG_VERSION-1/$HG_VERSION-2/g" "$work/unpacked/DEBIAN/control"
        dpkg-deb -b --root-owner-group "$work/unpacked" "$work/next/" >/dev/null
    done
    rm -rf "$root/tmp/next"
    cp -R "$work/next" "$root/tmp/next"
    # shellcheck disable=SC2046
    apt_in_root install -y -q --no-install-recommends $(in_root_paths /tmp/next) >"$work/upgrade.log" 2>&1 \
        || { tail -n 30 "$work/upgrade.log"; fail "upgrade"; }
    grep -E "^Unpacking heliograph-server .*over \($HG_VERSION-1\)" "$work/upgrade.log" || fail "not an upgrade"
    [ "$(in_root dpkg-query -W -f '${Version}' heliograph-server)" = "$HG_VERSION-2" ] || fail "version"
    (cd "$root" && sed 's|  /|  ./|' "$work/before" | sha256sum -c) || fail "configuration or secret changed"
    [ "$(in_root id -u heliograph)" = "$uid" ] || fail "the user's id changed"
    as_user heliograph heliograph-server user list --data /var/lib/heliograph | tee "$work/users"
    grep -q keeper "$work/users" || fail "the users' database was lost"
    step "the upgraded server starts from the kept configuration"
    start_unit_server
    wait_until 20 "GET /ready after the upgrade" curl -fsS "http://127.0.0.1:$port/ready"
    stop_unit_server

    step "remove keeps data and configuration"
    apt_in_root remove -y -q heliograph-server >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "remove"; }
    [ ! -e "$root/usr/bin/heliograph-server" ] || fail "the binary is still there"
    [ -f "$root$conf" ] || fail "remove deleted the configuration"
    [ -f "$root/var/lib/heliograph/jwt-hs256.secret" ] || fail "remove deleted the secret"
    [ -f "$root/var/lib/heliograph/heliograph.db" ] || fail "remove deleted the database"

    step "purge deletes them"
    apt_in_root purge -y -q heliograph-server >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
    [ ! -e "$root/etc/heliograph" ] || fail "purge left /etc/heliograph"
    [ ! -e "$root/var/lib/heliograph" ] || fail "purge left /var/lib/heliograph"
    status=$(in_root dpkg-query -W -f '${Status}' heliograph-server 2>/dev/null || true)
    echo "heliograph-server: ${status:-unknown to dpkg}"
    case $status in "" | *" not-installed") ;; *) fail "heliograph-server is still known to dpkg: $status" ;; esac
    step "the rest removes cleanly too"
    apt_in_root purge -y -q heliograph libheliograph-client-dev qml6-module-heliograph-client \
        libheliographclient0.1 >"$work/purge-all.log" 2>&1 || { cat "$work/purge-all.log"; fail "purge all"; }
    rm -f "$root/.heliograph-installed"
    # The root (about 1 GB) is not needed any more; package_deb_root makes the next one.
    rm -rf "$root"
}

case $mode in
build) mode_build ;;
lint) mode_lint ;;
root) mode_root ;;
server) mode_server ;;
desktop) mode_desktop ;;
dev) mode_dev ;;
lifecycle) mode_lifecycle ;;
*) fail "unknown mode '$mode'" ;;
esac
echo "Debian package test '$mode' passed"
