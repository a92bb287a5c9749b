// SPDX-License-Identifier: MIT
// Who is online in my tenant, with live joins and leaves and connections per user.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

Item {
    id: view
    required property Session session

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing

        RowLayout {
            Layout.fillWidth: true
            Label {
                Layout.fillWidth: true
                objectName: "presenceSummary"
                // Offline, the list is what was known when the connection was lost: said so,
                // and greyed.
                text: (view.session.offline ? qsTr("Offline: last known. ") : "")
                      + qsTr("%1 online in %2 · %3 connections").arg(view.session.presence.count)
                          .arg(view.session.tenant).arg(view.session.presence.connectionCount)
            }
            Button {
                text: qsTr("Refresh")
                enabled: view.session.connection.state === HubConnection.State.Connected
                onClicked: view.session.presence.refresh()
            }
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            ListView {
                id: list
                objectName: "presenceList"
                anchors.fill: parent
                opacity: view.session.offline ? 0.55 : 1
                clip: true
                focus: true
                keyNavigationEnabled: true
                model: view.session.presence
                currentIndex: -1
                visible: count > 0
                ScrollBar.vertical: ScrollBar {}
                delegate: ListRow {
                    id: person
                    required property int index
                    required property string userId
                    required property string displayName
                    required property int connections
                    required property bool isMe
                    width: ListView.view.width
                    onClicked: ListView.view.currentIndex = index
                    Accessible.name: person.displayName
                    contentItem: RowLayout {
                        spacing: Theme.spacing
                        Avatar {
                            Layout.preferredWidth: size
                            Layout.preferredHeight: size
                            name: person.displayName
                            key: person.userId
                        }
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 0
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                text: person.displayName + (person.isMe ? qsTr("  (you)") : "")
                                color: Theme.text
                                font.bold: person.isMe
                            }
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                text: person.userId
                                color: Theme.mutedText
                                font.pointSize: Application.font.pointSize * Theme.smallFont
                            }
                        }
                        Label {
                            text: qsTr("%n connection(s)", "", person.connections)
                            color: Theme.mutedText
                        }
                    }
                }
            }
            StateView {
                anchors.fill: parent
                visible: list.count === 0
                loading: view.session.presence.loading || view.session.connection.state === HubConnection.State.Connecting
                errorText: view.session.presence.error
                empty: list.count === 0
                emptyText: qsTr("Nobody is online.")
                onRetry: view.session.presence.refresh()
            }
        }
    }
}
