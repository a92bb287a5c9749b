#!/bin/sh
# SPDX-License-Identifier: MIT
# package_translations_complete: every user-visible string of the desktop app (qsTr/tr in qml/
# and app/) has a finished German translation in resources/translations/heliograph_de.ts.
# lupdate runs on a copy, so the source tree is not touched.
#   translations_test.sh LUPDATE SOURCE_DIR WORK_DIR
set -eu
lupdate=$1 source_dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cp "$source_dir/resources/translations/heliograph_de.ts" "$work/heliograph_de.ts"
(cd "$source_dir" && "$lupdate" -locations none -no-obsolete qml app -ts "$work/heliograph_de.ts") \
    >"$work/lupdate.log" 2>&1 || { cat "$work/lupdate.log"; echo "FAILED: lupdate" >&2; exit 1; }
grep 'Found' "$work/lupdate.log"
if grep -q 'type="unfinished"' "$work/heliograph_de.ts"; then
    echo "Untranslated (run the update_translations target, then translate them):" >&2
    awk '/<source>/ { s = $0 } /type="unfinished"/ { print s }' "$work/heliograph_de.ts" >&2
    echo "FAILED: the German translation is not complete" >&2
    exit 1
fi
echo "the German translation is complete"
