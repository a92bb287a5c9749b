// SPDX-License-Identifier: MIT
// The loading, empty and error states every view shows in place of its content.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Item {
    id: root
    property bool loading: false
    property string errorText: ""
    property string emptyText: ""
    property bool empty: false
    property string retryText: qsTr("Retry")
    signal retry()

    readonly property bool active: loading || errorText !== "" || empty
    visible: active

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.padding, 420)
        spacing: Theme.spacing

        BusyIndicator {
            Layout.alignment: Qt.AlignHCenter
            running: root.loading && root.errorText === ""
            visible: running
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            color: root.errorText !== "" ? Theme.error : Theme.mutedText
            text: root.errorText !== "" ? root.errorText
                  : root.loading ? qsTr("Loading…") : root.emptyText
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            visible: root.errorText !== ""
            text: root.retryText
            onClicked: root.retry()
        }
    }
}
