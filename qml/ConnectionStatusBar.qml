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

    readonly property HubConnection connection: session.connection
    readonly property color stateColor: connection.state === HubConnection.State.Connected ? Theme.ok
                                        : connection.state === HubConnection.State.Disconnected ? Theme.error
                                        : Theme.warning

    function stateName(state: int): string {
        switch (state) {
        case HubConnection.State.Connecting: return qsTr("Connecting…")
        case HubConnection.State.Connected: return qsTr("Connected")
        case HubConnection.State.Reconnecting: return qsTr("Reconnecting…")
        case HubConnection.State.Disconnecting: return qsTr("Disconnecting…")
        default: return qsTr("Disconnected")
        }
    }

    RowLayout {
        anchors.fill: parent
        spacing: Theme.padding

        Rectangle {
            width: 10; height: 10; radius: 5
            color: bar.stateColor
        }
        Label {
            objectName: "connectionStateLabel"
            text: bar.stateName(bar.connection.state)
                  + (bar.connection.state === HubConnection.State.Reconnecting && bar.session.reconnectCountdown >= 0
                     ? qsTr(" (retry in %1 s)").arg(bar.session.reconnectCountdown) : "")
        }
        Label {
            visible: bar.connection.transport !== HubConnection.Transport.None
            color: Theme.mutedText
            text: bar.connection.transportName + " · " + bar.connection.protocolName
        }
        Label {
            // No stale figure offline: only while connected.
            visible: bar.connection.state === HubConnection.State.Connected && bar.connection.roundTripTime >= 0
            color: Theme.mutedText
            text: qsTr("RTT %1 ms").arg(bar.connection.roundTripTime)
        }
        Label {
            visible: bar.connection.queuedMessages > 0
            color: Theme.warning
            text: qsTr("%1 queued").arg(bar.connection.queuedMessages)
        }
        Item { Layout.fillWidth: true }
        Label {
            objectName: "replayedLabel"
            visible: bar.session.replayedSinceConnect > 0
            color: Theme.accent
            text: qsTr("%n missed notification(s) replayed", "", bar.session.replayedSinceConnect)
        }
        Label {
            visible: !bar.connection.recovered
            color: Theme.error
            text: qsTr("Some notifications could not be recovered")
        }
        Label {
            visible: bar.connection.state === HubConnection.State.Disconnected && bar.connection.errorString !== ""
            color: Theme.error
            elide: Text.ElideRight
            Layout.maximumWidth: 320
            text: bar.connection.errorString
        }
    }
}
