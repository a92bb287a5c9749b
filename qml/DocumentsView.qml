// SPDX-License-Identifier: MIT
// Documents: join one, see the patches of others as they land (author, version), send
// patches, catch up on join, and a banner when a version gap was detected.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

Item {
    id: view
    required property Session session
    readonly property DocumentModel document: session.document

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            TextField {
                id: documentField
                objectName: "documentField"
                Layout.fillWidth: true
                placeholderText: qsTr("Document name, e.g. welcome")
                text: view.document.documentId !== "" ? view.document.documentId : "welcome"
                selectByMouse: true
                onAccepted: view.document.join(text)
            }
            Button {
                objectName: "joinButton"
                text: qsTr("Join")
                enabled: view.session.connection.state === HubConnection.State.Connected && documentField.text !== ""
                onClicked: view.document.join(documentField.text)
            }
            Button {
                text: qsTr("Leave")
                enabled: view.document.documentId !== ""
                onClicked: view.document.leave()
            }
        }

        Label {
            visible: view.document.documentId !== ""
            text: qsTr("%1 · version %2 · %n patch(es)", "", view.document.count)
                      .arg(view.document.documentId).arg(view.document.version)
            font.bold: true
        }

        Rectangle {
            objectName: "gapBanner"
            Layout.fillWidth: true
            visible: view.document.gapDetected
            implicitHeight: gapLabel.implicitHeight + Theme.spacing * 2
            radius: Theme.radius
            color: Qt.rgba(Theme.warning.r, Theme.warning.g, Theme.warning.b, 0.18)
            Label {
                id: gapLabel
                anchors.fill: parent
                anchors.margins: Theme.spacing
                wrapMode: Text.WordWrap
                text: qsTr("Version gap detected (%1), caught up from the server. Gaps so far: %2")
                          .arg(view.document.gapText).arg(view.document.gapCount)
            }
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            ListView {
                id: list
                objectName: "patchList"
                anchors.fill: parent
                clip: true
                focus: true
                keyNavigationEnabled: true
                model: view.document
                currentIndex: -1
                visible: count > 0
                ScrollBar.vertical: ScrollBar {}
                // Oldest first, and the newest patch in sight while the user is at the end.
                // (Positioning in onCountChanged ran before the new row was laid out, which
                // left the view one patch behind.)
                readonly property bool nearEnd: contentY + height >= originY + contentHeight - 48
                property bool followEnd: true
                function toEnd() { positionViewAtEnd() }
                Connections {
                    target: view.document
                    function onRowsAboutToBeInserted() { list.followEnd = list.count === 0 || list.nearEnd }
                    function onRowsInserted() {
                        if (list.followEnd)
                            Qt.callLater(list.toEnd) /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                    }
                }
                delegate: ListRow {
                    id: patchRow
                    required property int index
                    required property var version
                    required property string author
                    required property string patch
                    required property bool mine
                    width: ListView.view.width
                    onClicked: ListView.view.currentIndex = index
                    Accessible.name: qsTr("Version %1 by %2: %3").arg(version).arg(mine ? qsTr("you") : author).arg(patch)
                    contentItem: RowLayout {
                        spacing: Theme.spacing
                        Label {
                            text: "v" + patchRow.version
                            color: Theme.text
                            font.bold: true
                            Layout.preferredWidth: 56
                        }
                        Label {
                            objectName: "patchAuthor"
                            text: patchRow.mine ? qsTr("you") : patchRow.author
                            color: patchRow.mine ? Theme.accent : Theme.text
                            font.bold: patchRow.mine
                            Layout.preferredWidth: 110
                            elide: Text.ElideRight
                        }
                        Label {
                            Layout.fillWidth: true
                            text: patchRow.patch
                            font.family: "monospace"
                            elide: Text.ElideRight
                            color: Theme.mutedText
                        }
                    }
                }
            }
            StateView {
                anchors.fill: parent
                visible: list.count === 0
                loading: view.document.loading
                errorText: view.document.errorString
                empty: list.count === 0
                emptyText: view.document.documentId === ""
                           ? qsTr("Join a document to see its edits live.")
                           : qsTr("No edits yet: send the first patch.")
                onRetry: view.document.documentId !== "" ? view.document.catchUp() : view.document.join(documentField.text)
            }
        }

        Label {
            Layout.fillWidth: true
            visible: view.document.errorString !== "" && list.count > 0
            color: Theme.error
            wrapMode: Text.WordWrap
            text: view.document.errorString
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            TextField {
                id: patchField
                objectName: "patchField"
                Layout.fillWidth: true
                enabled: view.document.documentId !== "" && view.session.canEdit
                placeholderText: view.session.canEdit ? qsTr("Patch JSON, e.g. {\"op\":\"append\",\"text\":\"hello\"}")
                                                      : qsTr("Your role can read documents but not edit them")
                selectByMouse: true
                onAccepted: sendButton.clicked()
            }
            Button {
                id: sendButton
                objectName: "sendButton"
                text: qsTr("Send")
                enabled: patchField.enabled && patchField.text !== ""
                         && view.session.connection.state === HubConnection.State.Connected
                onClicked: {
                    view.document.sendPatch(patchField.text)
                    patchField.clear()
                }
            }
        }
    }
}
