// SPDX-License-Identifier: MIT
// A round avatar with a person's initials ("Alice Smith" → "AS"), its colour picked from the
// theme by the person's id, so the same person looks the same everywhere.
import QtQuick
import QtQuick.Controls

Rectangle {
    id: avatar
    objectName: "avatar"
    property string name
    property string key: name
    property int size: 32
    readonly property string initials: {
        const words = name.replace(/\(.*\)/g, "").trim().split(/\s+/).filter(w => w.length > 0)
        if (words.length === 0)
            return "?"
        const first = words[0].charAt(0)
        return (words.length > 1 ? first + words[words.length - 1].charAt(0) : first).toUpperCase()
    }
    implicitWidth: size
    implicitHeight: size
    radius: size / 2
    color: Theme.avatarColor(key)
    Accessible.ignored: true
    Label {
        anchors.centerIn: parent
        text: avatar.initials
        color: Theme.avatarText
        font.bold: true
        font.pixelSize: avatar.size * 0.4
    }
}
