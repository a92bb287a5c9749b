// SPDX-License-Identifier: MIT
// The first-run screen: server URL, username and password, and the saved server profiles.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

ThemeRoot {
    id: view
    required property Session session
    required property ProfileModel profiles
    readonly property bool busy: session.status === Session.SigningIn

    function submit() {
        if (view.busy)
            return
        view.session.signIn(urlField.text.trim(), userField.text.trim(), passwordField.text)
        passwordField.clear()
    }

    Component.onCompleted: {
        if (profiles.count > 0) {
            const p = profiles.get(0)
            urlField.text = p.url
            userField.text = p.username
            passwordField.forceActiveFocus()
        } else {
            urlField.forceActiveFocus()
        }
    }

    Pane {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.padding, 440)
        padding: Theme.padding * 2
        background: Rectangle { color: Theme.card; radius: Theme.radius; border.color: Theme.separator }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.spacing

            Label {
                text: qsTr("Sign in to Heliograph")
                font.bold: true
                font.pointSize: Qt.application.font.pointSize * 1.4
            }
            ComboBox {
                id: profileBox
                objectName: "profileBox"
                Layout.fillWidth: true
                visible: view.profiles.count > 0
                model: view.profiles
                textRole: "name"
                Accessible.name: qsTr("Saved servers")
                onActivated: index => {
                    const p = view.profiles.get(index)
                    urlField.text = p.url
                    userField.text = p.username
                    passwordField.forceActiveFocus()
                }
            }
            Label { text: qsTr("Server URL") }
            TextField {
                id: urlField
                objectName: "urlField"
                Layout.fillWidth: true
                placeholderText: "http://127.0.0.1:5000"
                text: "http://127.0.0.1:5000"
                selectByMouse: true
                KeyNavigation.tab: userField
                onAccepted: userField.forceActiveFocus()
            }
            Label { text: qsTr("Username") }
            TextField {
                id: userField
                objectName: "userField"
                Layout.fillWidth: true
                selectByMouse: true
                KeyNavigation.tab: passwordField
                onAccepted: passwordField.forceActiveFocus()
            }
            Label { text: qsTr("Password") }
            TextField {
                id: passwordField
                objectName: "passwordField"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                KeyNavigation.tab: signInButton
                onAccepted: view.submit()
            }
            Label {
                objectName: "signInError"
                Layout.fillWidth: true
                visible: text !== ""
                wrapMode: Text.WordWrap
                color: Theme.error
                text: view.session.errorString
            }
            Label {
                Layout.fillWidth: true
                visible: text !== ""
                wrapMode: Text.WordWrap
                color: Theme.warning
                text: view.session.keychainMessage
            }
            RowLayout {
                Layout.fillWidth: true
                BusyIndicator {
                    running: view.busy
                    visible: running
                    implicitHeight: signInButton.implicitHeight
                    implicitWidth: implicitHeight
                }
                Item { Layout.fillWidth: true }
                Button {
                    id: signInButton
                    objectName: "signInButton"
                    text: view.busy ? qsTr("Signing in…") : qsTr("Sign in")
                    highlighted: true
                    enabled: !view.busy && urlField.text !== "" && userField.text !== "" && passwordField.text !== ""
                    onClicked: view.submit()
                    Keys.onReturnPressed: view.submit()
                }
            }
        }
    }
}
