// SPDX-License-Identifier: MIT
// The admin console view against the real server: an Admin's live tenant row and
// drill-down, the broadcast dialog (nothing happens until it is confirmed; then the feedback
// and the audit log show it), and a disconnect that is cancelled, then confirmed.
import QtQuick
import QtQuick.Controls
import QtTest
import Heliograph.Desktop
import HeliographDesktopTest

TestCase {
    id: testCase
    name: "AdminConsole"
    when: windowShown
    width: 1100
    height: 760

    Component {
        id: holderComponent
        Item {
            anchors.fill: parent
            property alias view: adminView
            property alias session: session
            property alias other: other
            AdminConsoleView { id: adminView; anchors.fill: parent; session: session }
            Session { id: session; desktopNotifications: false }
            Session { id: other; desktopNotifications: false }
        }
    }

    SignalSpy { id: actionSpy; signalName: "actionFinished" }

    function openConsole(tenant) {
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        verify(holder)
        holder.other.signInWithToken(DesktopTestServer.url, DesktopTestServer.token("uma", tenant, ["Viewer"]))
        tryCompare(holder.other, "connectionState", Session.Connected, 10000)
        holder.session.signInWithToken(DesktopTestServer.url, DesktopTestServer.token("ada", tenant, ["Admin"]))
        tryCompare(holder.view.admin, "state", AdminConsole.Live, 15000)
        actionSpy.target = holder.view.admin
        actionSpy.clear()
        return holder
    }

    function test_liveTenantAndDrillDown() {
        const holder = openConsole("qml-adm1")
        const view = holder.view
        const tenants = findChild(view, "tenantList")
        tryCompare(tenants, "count", 1, 10000)
        tryVerify(() => view.admin.tenants.get(0).connections === 2, 10000)
        tryCompare(findChild(view, "connectionList"), "count", 2, 10000)
        verify(findChild(view, "adminHealth").text.indexOf("Server ") === 0)
        compare(findChild(view, "tenantPicker").visible, false) // an Admin has one tenant
        tryVerify(() => view.admin.history.count >= 2, 10000)

        // The keyboard: the tenant list takes focus, Enter selects the current row.
        view.admin.selectedTenant = "somewhere-else"
        tenants.forceActiveFocus()
        tenants.currentIndex = 0
        keyClick(Qt.Key_Return)
        compare(view.admin.selectedTenant, "qml-adm1")
    }

    function test_broadcastOnlyOnceConfirmed() {
        const holder = openConsole("qml-adm2")
        const view = holder.view
        const dialog = findChild(view, "broadcastDialog")
        mouseClick(findChild(view, "broadcastButton"))
        tryCompare(dialog, "opened", true)
        const field = findChild(view, "alertText")
        field.forceActiveFocus()
        keyClick(Qt.Key_H)
        keyClick(Qt.Key_I)
        compare(field.text, "hi")
        dialog.reject()
        tryCompare(dialog, "visible", false)
        compare(actionSpy.count, 0)
        compare(holder.other.systemAlert, "")

        mouseClick(findChild(view, "broadcastButton"))
        tryCompare(dialog, "opened", true)
        compare(field.text, "") // a fresh dialog
        field.text = "Rolling restart in 5 minutes"
        dialog.accept()
        actionSpy.wait(10000)
        compare(actionSpy.signalArguments[0][1], true)
        tryCompare(holder.other, "systemAlert", "Rolling restart in 5 minutes", 10000)
        tryVerify(() => findChild(view, "actionFeedback").text === "Alert sent to qml-adm2.", 5000)
        tryCompare(view.admin.auditLog, "count", 1, 10000)
        compare(view.admin.auditLog.get(0).auditAction, "admin.BroadcastAlert")
    }

    function test_disconnectCancelledThenConfirmed() {
        const holder = openConsole("qml-adm3")
        const view = holder.view
        const list = findChild(view, "connectionList")
        tryCompare(list, "count", 2, 10000)
        const row = view.admin.connections.get(0).userId === "uma" ? 0 : 1
        const target = view.admin.connections.get(row)
        const dialog = findChild(view, "disconnectDialog")
        dialog.connectionId = target.connectionId
        dialog.displayName = target.displayName
        dialog.open()
        tryCompare(dialog, "opened", true)
        dialog.reject()
        tryCompare(dialog, "visible", false)
        compare(actionSpy.count, 0)
        compare(holder.other.connectionState, Session.Connected)

        dialog.open()
        tryCompare(dialog, "opened", true)
        dialog.accept()
        actionSpy.wait(10000)
        compare(actionSpy.signalArguments[0][1], true)
        tryCompare(holder.other, "connectionState", Session.Disconnected, 10000)
        tryCompare(list, "count", 1, 10000)
    }
}
