#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the Debian packages and the relocatable tarball from an already built tree (./dev
# package calls this after `./dev build`): nothing is compiled again. docs/packaging.md.
#
#   installers/build-packages.sh BUILD_DIR OUT_DIR
set -eu

build_dir=$(cd "${1:?usage: build-packages.sh BUILD_DIR OUT_DIR}" && pwd)
mkdir -p "${2:?usage: build-packages.sh BUILD_DIR OUT_DIR}"
out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

[ -x "$build_dir/bin/heliograph-server" ] || fail "$build_dir/bin/heliograph-server is not built"
[ -x "$build_dir/bin/heliograph-desktop" ] || fail "$build_dir/bin/heliograph-desktop is not built"

# One version: the project's (CMake) and the Debian changelog's upstream part must agree.
project_version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
[ "${deb_version%-*}" = "$project_version" ] \
    || fail "debian/changelog is at $deb_version, the project at $project_version"

# dpkg-buildpackage wants the debian/ folder inside a source folder and writes next to it.
work=$out/work
stage=$work/heliograph-$project_version
rm -rf "$work" "$out"/*.deb "$out"/*.tar.gz
mkdir -p "$stage"
cp -R "$here/debian" "$stage/debian"

echo "--- dpkg-buildpackage -b (from $build_dir)"
(cd "$stage" && HELIOGRAPH_BUILD_DIR=$build_dir dpkg-buildpackage -b -us -uc --no-pre-clean \
    >"$work/dpkg-buildpackage.log" 2>&1) || {
    tail -n 60 "$work/dpkg-buildpackage.log"
    fail "dpkg-buildpackage (log: $work/dpkg-buildpackage.log)"
}
mv "$work"/*.deb "$out/"

# The relocatable tarball: the same installed tree under one folder, with launchers that find
# the libraries and QML modules next to them (for distributions other than Debian; untested
# beyond starting both programs).
echo "--- tarball"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
name=heliograph-$project_version-linux-$arch
root=$work/tar/$name
mkdir -p "$root"
# The packages' trees (stripped binaries): app, server, library and QML module.
for package in heliograph heliograph-server libheliographclient0.1 qml6-module-heliograph-client; do
    cp -R "$stage/debian/$package/usr/." "$root/"
done
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
mv "$root/lib/$triplet/qt6" "$root/lib/qt6"
rmdir "$root/lib/$triplet"
mkdir -p "$root/libexec"
for program in heliograph-server heliograph-desktop; do
    mv "$root/bin/$program" "$root/libexec/$program"
    sed "s/@PROGRAM@/$program/" "$here/tarball/launcher.sh" >"$root/bin/$program"
    chmod 0755 "$root/bin/$program"
done
cp "$here/debian/heliograph-server.service" "$here/debian/heliograph-server.conf" \
    "$here/tarball/README" "$root/"
tar -C "$work/tar" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"

ls -l "$out"
