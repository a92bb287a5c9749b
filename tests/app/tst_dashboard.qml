// SPDX-License-Identifier: MIT
// The dashboard's views with a session signed in (token) against the real server: the admin
// console's place only for Admin/Operator, live notifications with filter and mark read, the
// presence list, joining a document and sending a patch, the status bar, Ctrl+1..3.
import QtQuick
import QtTest
import Heliograph.Desktop
import HeliographDesktopTest

TestCase {
    id: testCase
    name: "Dashboard"
    when: windowShown
    width: 1000
    height: 700

    // The view before its session, so that the view goes first when the holder is destroyed.
    // TestCase itself is not visible: the holder goes into the window's content item.
    Component {
        id: holderComponent
        Item {
            anchors.fill: parent
            property alias view: dashboard
            property alias session: session
            DashboardView { id: dashboard; anchors.fill: parent; session: session }
            Session { id: session; desktopNotifications: false }
        }
    }

    function signedIn(user, tenant, roles) {
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        verify(holder)
        const session = holder.session
        session.signInWithToken(DesktopTestServer.url, DesktopTestServer.token(user, tenant, roles))
        compare(session.status, Session.SignedIn)
        tryCompare(session, "connectionState", Session.Connected, 10000)
        return holder.view
    }

    function test_adminConsoleOnlyForAdminsAndOperators() {
        let view = signedIn("vera", "qml-t1", ["Viewer"])
        compare(findChild(view, "adminTab").visible, false)
        compare(view.views.length, 3)
        view.show("admin")
        compare(view.currentView, "notifications")
        view = signedIn("opal", "qml-t1", ["Operator"])
        compare(findChild(view, "adminTab").visible, true)
        view.show("admin")
        compare(view.currentView, "admin")
    }

    function test_notificationsLiveFilterAndMarkRead() {
        const view = signedIn("nico", "qml-t2", ["Viewer"])
        const list = findChild(view, "notificationList")
        verify(DesktopTestServer.push("qml-t2", "nico", "Deploy done", "deploy"))
        verify(DesktopTestServer.push("qml-t2", "nico", "Hello", "info"))
        tryCompare(list, "count", 2, 10000)
        compare(findChild(view, "unreadLabel").text, "2 unread")
        compare(view.session.notifications.types, ["deploy", "info"])
        view.session.notifications.typeFilter = "deploy"
        compare(list.count, 1)
        // Keyboard: focus the list, pick the row, Enter marks it read.
        list.forceActiveFocus()
        list.currentIndex = 0
        keyClick(Qt.Key_Return)
        compare(view.session.notifications.unreadCount, 1)
        view.session.notifications.typeFilter = ""
        mouseClick(findChild(view, "markAllRead"))
        compare(view.session.notifications.unreadCount, 0)
        compare(findChild(view, "unreadLabel").text, "0 unread")
    }

    function test_presenceAndDocuments() {
        const view = signedIn("pete", "qml-t3", ["Editor"])
        keySequence("Ctrl+2")
        compare(view.currentView, "presence")
        tryCompare(findChild(view, "presenceList"), "count", 1, 10000)
        keySequence("Ctrl+3")
        compare(view.currentView, "documents")
        const field = findChild(view, "documentField")
        field.text = "qml-doc"
        mouseClick(findChild(view, "joinButton"))
        tryCompare(view.session.document, "documentId", "qml-doc")
        tryCompare(view.session.document, "loading", false, 10000)
        const patch = findChild(view, "patchField")
        patch.forceActiveFocus()
        patch.text = '{"op":"append","text":"hi"}'
        keyClick(Qt.Key_Return)
        tryCompare(findChild(view, "patchList"), "count", 1, 10000)
        compare(view.session.document.version, 1)
        compare(findChild(view, "gapBanner").visible, false)
    }

    function test_statusBar() {
        const view = signedIn("stan", "qml-t4", ["Viewer"])
        const state = findChild(view, "connectionStateLabel")
        compare(state.text, "Connected")
        compare(findChild(view, "replayedLabel").visible, false)
        view.session.signOut()
        compare(state.text, "Disconnected")
    }
}
