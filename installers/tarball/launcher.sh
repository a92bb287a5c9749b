#!/bin/sh
# Starts @PROGRAM@ from wherever this folder was unpacked: the libraries and QML modules next
# to it come first. Qt itself comes from the system (Qt 6.4 or newer).
here=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
QML_IMPORT_PATH=$here/lib/qt6/qml${QML_IMPORT_PATH:+:$QML_IMPORT_PATH}
XDG_DATA_DIRS=$here/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}
export LD_LIBRARY_PATH QML_IMPORT_PATH XDG_DATA_DIRS
exec "$here/libexec/@PROGRAM@" "$@"
