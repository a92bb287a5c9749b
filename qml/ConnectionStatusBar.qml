// SPDX-License-Identifier: MIT
// The status bar: connection state, transport and protocol, round-trip time, the reconnect
// countdown, and "N missed notifications replayed" after a (re)connect.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

Pane {
    id: bar
    required property Session session
    padding: Theme.spacing / 2
    leftPadding: Theme.padding
    rightPadding: Theme.padding
    background: Rectangle {
        color: Theme.surface
        Rectangle { width: parent.width; height: 1; color: Theme.separator }
    }

    readonly property var stateNames: [qsTr("Disconnected"), qsTr("Connecting…"), qsTr("Connected"),
                                       qsTr("Reconnecting…"), qsTr("Disconnecting…")]
    readonly property color stateColor: session.connectionState === Session.Connected ? Theme.ok
                                        : session.connectionState === Session.Disconnected ? Theme.error
                                        : Theme.warning

    RowLayout {
        anchors.fill: parent
        spacing: Theme.padding

        Rectangle {
            width: 10; height: 10; radius: 5
            color: bar.stateColor
        }
        Label {
            objectName: "connectionStateLabel"
            text: bar.stateNames[bar.session.connectionState]
                  + (bar.session.connectionState === Session.Reconnecting && bar.session.reconnectCountdown >= 0
                     ? qsTr(" (retry in %1 s)").arg(bar.session.reconnectCountdown) : "")
        }
        Label {
            visible: bar.session.transportName !== ""
            color: Theme.mutedText
            text: bar.session.transportName + " · " + bar.session.protocolName
        }
        Label {
            visible: bar.session.roundTripTime >= 0
            color: Theme.mutedText
            text: qsTr("RTT %1 ms").arg(bar.session.roundTripTime)
        }
        Label {
            visible: bar.session.queuedMessages > 0
            color: Theme.warning
            text: qsTr("%1 queued").arg(bar.session.queuedMessages)
        }
        Item { Layout.fillWidth: true }
        Label {
            objectName: "replayedLabel"
            visible: bar.session.replayedSinceConnect > 0
            color: Theme.accent
            text: qsTr("%n missed notification(s) replayed", "", bar.session.replayedSinceConnect)
        }
        Label {
            visible: !bar.session.recovered
            color: Theme.error
            text: qsTr("Some notifications could not be recovered")
        }
        Label {
            visible: bar.session.connectionState === Session.Disconnected && bar.session.connectionError !== ""
            color: Theme.error
            elide: Text.ElideRight
            Layout.maximumWidth: 320
            text: bar.session.connectionError
        }
    }
}
