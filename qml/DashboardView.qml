// SPDX-License-Identifier: MIT
// The dashboard: a header (who, sign out), the navigation (notifications, presence,
// documents, and the admin console's place for Admin and Operator), the views and the status
// bar. Ctrl+1..4 switch views.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

ThemeRoot {
    id: dashboard
    required property Session session
    property string currentView: "notifications"
    readonly property var views: session.canAdminister ? ["notifications", "presence", "documents", "admin"]
                                                       : ["notifications", "presence", "documents"]
    readonly property int currentIndex: Math.max(0, views.indexOf(currentView))
    // The views shrink when an Admin or Operator signs out: leave the admin console then.
    // (One way only: the tab bar follows currentIndex and its buttons call show(), so the
    // two never write each other's bindings.)
    onViewsChanged: if (views.indexOf(currentView) < 0) currentView = "notifications"

    /// The user picked a theme ("system", "light" or "dark"); Main.qml keeps it.
    signal themeChosen(string mode)
    onThemeChosen: mode => { if (!themeKept) Theme.mode = mode }
    /// Whether someone (Main.qml) keeps the choice and sets Theme.mode from it.
    property bool themeKept: false

    function show(name) {
        if (views.indexOf(name) >= 0)
            currentView = name
    }

    Shortcut { sequence: "Ctrl+1"; onActivated: dashboard.show("notifications") }
    Shortcut { sequence: "Ctrl+2"; onActivated: dashboard.show("presence") }
    Shortcut { sequence: "Ctrl+3"; onActivated: dashboard.show("documents") }
    Shortcut { sequence: "Ctrl+4"; onActivated: dashboard.show("admin") }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        Pane {
            Layout.fillWidth: true
            padding: Theme.spacing
            leftPadding: Theme.padding
            rightPadding: Theme.padding
            background: Rectangle { color: Theme.surface }
            RowLayout {
                anchors.fill: parent
                spacing: Theme.spacing
                Label {
                    text: "Heliograph"
                    font.bold: true
                    font.pointSize: Application.font.pointSize * 1.2
                }
                Label {
                    Layout.fillWidth: true
                    color: Theme.mutedText
                    elide: Text.ElideRight
                    text: qsTr("%1 · %2 · %3").arg(dashboard.session.userName).arg(dashboard.session.tenant)
                              .arg([...dashboard.session.roles].join(", "))
                }
                Label { text: qsTr("Theme"); color: Theme.mutedText }
                ComboBox {
                    id: themeBox
                    objectName: "themeBox"
                    Accessible.name: qsTr("Theme")
                    readonly property var modes: ["system", "light", "dark"]
                    model: [qsTr("System"), qsTr("Light"), qsTr("Dark")]
                    currentIndex: Math.max(0, modes.indexOf(Theme.mode))
                    onActivated: index => dashboard.themeChosen(modes[index])
                }
                Button {
                    objectName: "signOutButton"
                    text: qsTr("Sign out")
                    flat: true
                    onClicked: dashboard.session.signOut()
                }
            }
        }

        Rectangle {
            objectName: "systemAlert"
            Layout.fillWidth: true
            visible: dashboard.session.systemAlert !== ""
            implicitHeight: alertRow.implicitHeight + Theme.spacing * 2
            color: Qt.rgba(Theme.warning.r, Theme.warning.g, Theme.warning.b, 0.2)
            RowLayout {
                id: alertRow
                anchors.fill: parent
                anchors.margins: Theme.spacing
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.WordWrap
                    text: qsTr("System alert: %1").arg(dashboard.session.systemAlert)
                }
                Button { text: qsTr("Dismiss"); flat: true; onClicked: dashboard.session.dismissSystemAlert() }
            }
        }

        // Offline: said at the top, with the next attempt and a way not to wait for it.
        Rectangle {
            objectName: "offlineBanner"
            Layout.fillWidth: true
            visible: dashboard.session.offline
            implicitHeight: offlineRow.implicitHeight + Theme.spacing * 2
            color: Qt.rgba(Theme.error.r, Theme.error.g, Theme.error.b, 0.15)
            RowLayout {
                id: offlineRow
                anchors.fill: parent
                anchors.margins: Theme.spacing
                Label {
                    objectName: "offlineText"
                    Layout.fillWidth: true
                    wrapMode: Text.WordWrap
                    color: Theme.text
                    text: dashboard.session.connection.state === HubConnection.State.Reconnecting
                          ? (dashboard.session.reconnectCountdown > 0
                             ? qsTr("You are offline. Trying again in %n second(s); what you miss meanwhile comes when the connection is back.", "", dashboard.session.reconnectCountdown)
                             : qsTr("You are offline. Reconnecting…"))
                          : qsTr("You are offline: %1").arg(dashboard.session.connection.errorString !== ""
                                                              ? dashboard.session.connection.errorString
                                                              : qsTr("the connection ended."))
                }
                Button {
                    objectName: "retryNowButton"
                    text: qsTr("Retry now")
                    onClicked: dashboard.session.retryNow()
                }
            }
        }

        TabBar {
            id: tabs
            objectName: "navigation"
            Layout.fillWidth: true
            currentIndex: dashboard.currentIndex
            TabButton {
                text: dashboard.session.notifications.unreadCount > 0
                      ? qsTr("Notifications (%1)").arg(dashboard.session.notifications.unreadCount)
                      : qsTr("Notifications")
                onClicked: dashboard.show("notifications")
            }
            TabButton {
                text: qsTr("Presence (%1)").arg(dashboard.session.presence.count)
                onClicked: dashboard.show("presence")
            }
            TabButton { text: qsTr("Documents"); onClicked: dashboard.show("documents") }
            TabButton {
                objectName: "adminTab"
                onClicked: dashboard.show("admin")
                text: qsTr("Admin console")
                visible: dashboard.session.canAdminister
                width: visible ? implicitWidth : 0
            }
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: dashboard.currentIndex
            NotificationsView { session: dashboard.session }
            PresenceView { session: dashboard.session }
            DocumentsView { session: dashboard.session }
            Loader {
                objectName: "adminLoader"
                active: dashboard.session.canAdminister
                sourceComponent: AdminConsoleView { session: dashboard.session } /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
            }
        }

        ConnectionStatusBar {
            objectName: "statusBar"
            Layout.fillWidth: true
            session: dashboard.session
        }
    }
}
