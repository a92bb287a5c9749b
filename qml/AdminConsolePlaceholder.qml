// SPDX-License-Identifier: MIT
// The admin console's place in the navigation (roles Admin and Operator). The console itself
// (live tenants and actions on them) comes with the admin hub; this page only says so.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Item {
    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.padding, 460)
        spacing: Theme.spacing
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            font.bold: true
            font.pointSize: Qt.application.font.pointSize * 1.3
            text: qsTr("Admin console")
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            color: Theme.mutedText
            text: qsTr("Live tenants and the actions on them will appear here once the server's admin hub is available.")
        }
    }
}
