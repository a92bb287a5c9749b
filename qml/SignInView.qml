// SPDX-License-Identifier: MIT
// The first-run screen: server address, username and password, and the saved server profiles.
// Forgiving: `host:port` and a pasted hub URL are understood (Session.serverUrlFromText), the
// password stays after a network or address error (only a refused password is cleared), a
// sign-in that takes long can be cancelled, and Enter signs in from any field once all are
// filled.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

ThemeRoot {
    id: view
    required property Session session
    required property ProfileModel profiles
    readonly property bool busy: session.status === Session.SigningIn

    readonly property bool complete: urlField.text.trim() !== "" && userField.text.trim() !== "" && passwordField.text !== ""

    function submit() {
        if (view.busy)
            return
        view.session.signIn(view.session.serverUrlFromText(urlField.text), userField.text.trim(), passwordField.text)
    }

    Shortcut {
        sequence: StandardKey.Cancel /* Qt 6.4's qmllint cannot look up enums of the value type StandardKey (QKeySequence) */ // qmllint disable unqualified
        enabled: view.busy
        onActivated: view.session.cancelSignIn()
    }

    Connections {
        target: view.session
        function onCredentialsRejected() {
            passwordField.clear()
            passwordField.forceActiveFocus()
        }
        function onStatusChanged() {
            if (view.session.status === Session.SignedIn)
                passwordField.clear()
        }
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
                font.pointSize: Application.font.pointSize * 1.4
            }
            Label {
                visible: profileBox.visible
                text: qsTr("Saved server")
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
            Label { text: qsTr("Server address") }
            TextField {
                id: urlField
                objectName: "urlField"
                Layout.fillWidth: true
                placeholderText: qsTr("e.g. heliograph.example.com or 127.0.0.1:5000")
                text: "http://127.0.0.1:5000"
                selectByMouse: true
                enabled: !view.busy
                Accessible.name: qsTr("Server address")
                KeyNavigation.tab: userField
                onAccepted: view.complete ? view.submit() : userField.forceActiveFocus()
            }
            Label { text: qsTr("Username") }
            TextField {
                id: userField
                objectName: "userField"
                Layout.fillWidth: true
                placeholderText: qsTr("Your username, e.g. alice")
                selectByMouse: true
                enabled: !view.busy
                Accessible.name: qsTr("Username")
                KeyNavigation.tab: passwordField
                onAccepted: view.complete ? view.submit() : passwordField.forceActiveFocus()
            }
            Label { text: qsTr("Password") }
            TextField {
                id: passwordField
                objectName: "passwordField"
                Layout.fillWidth: true
                placeholderText: qsTr("Your password")
                echoMode: TextInput.Password
                enabled: !view.busy
                Accessible.name: qsTr("Password")
                KeyNavigation.tab: signInButton
                onAccepted: if (view.complete) view.submit()
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
                objectName: "keychainMessage"
                Layout.fillWidth: true
                visible: text !== ""
                wrapMode: Text.WordWrap
                color: Theme.warning
                text: view.session.auth.keychainMessage
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
                    objectName: "cancelSignInButton"
                    visible: view.busy
                    text: qsTr("Cancel")
                    onClicked: view.session.cancelSignIn()
                }
                Button {
                    id: signInButton
                    objectName: "signInButton"
                    text: view.busy ? qsTr("Signing in…") : qsTr("Sign in")
                    highlighted: true
                    enabled: !view.busy && view.complete
                    onClicked: view.submit()
                    Keys.onReturnPressed: view.submit()
                }
            }
        }
    }
}
