// SPDX-License-Identifier: MIT
// The admin console view against the real server: an Admin's live tenant row and
// drill-down, the broadcast dialog (nothing happens until it is confirmed; then the feedback
// and the audit log show it), a disconnect that is cancelled, then confirmed, and an Operator's
// drill-down that names the selected tenant's people (issue 14, bug 1); the nodes an Operator
// sees (and an Admin does not).
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

    Component { id: sessionComponent; Session { desktopNotifications: false } }

    function openConsole(tenant) {
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        verify(holder)
        holder.other.signInWithToken(DesktopTestServer.url, DesktopTestServer.token("uma", tenant, ["Viewer"]))
        tryCompare(holder.other.connection, "state", HubConnection.State.Connected, 10000)
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
        compare(findChild(view, "nodeSection").visible, false) // and no servers to look at
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
        compare(holder.other.connection.state, HubConnection.State.Connected)

        dialog.open()
        tryCompare(dialog, "opened", true)
        dialog.accept()
        actionSpy.wait(10000)
        compare(actionSpy.signalArguments[0][1], true)
        tryCompare(holder.other.connection, "state", HubConnection.State.Disconnected, 10000)
        tryCompare(list, "count", 1, 10000)
    }

    // An Operator sees the server's nodes: a single server is one, marked as this node.
    function test_operatorSeesTheNodes() {
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        holder.session.signInWithToken(DesktopTestServer.url, DesktopTestServer.token("otto", "qml-nodes", ["Operator"]))
        tryCompare(holder.view.admin, "state", AdminConsole.Live, 15000)
        const view = holder.view
        const section = findChild(view, "nodeSection")
        tryCompare(view.admin.nodes, "count", 1, 10000)
        tryCompare(section, "visible", true)
        compare(findChild(view, "tenantPicker").visible, true) // the roles came after the session
        const row = findChild(section, "nodeRow")
        verify(row)
        compare(row.self, true)
        compare(row.healthy, true)
        verify(row.Accessible.name.indexOf("(this node)") > 0, row.Accessible.name)
    }

    // What the connection list shows, from the rendered scene: each visible user heading with
    // the rows under it (down to the next heading), as [{heading, rows: [displayName...]}].
    function renderedGroups(list) {
        const items = []
        const content = list.contentItem
        for (let i = 0; i < content.children.length; ++i) {
            const c = content.children[i]
            if (!c.visible)
                continue
            if (c.objectName === "connectionRow") {
                items.push({ y: c.mapToItem(content, 0, c.height / 2).y, row: c.displayName })
                const heading = findChild(c, "userHeading")
                if (heading && heading.visible)
                    items.push({ y: heading.mapToItem(content, 0, 0).y, heading: heading.text })
            } else if (c.objectName === "userHeading") {
                items.push({ y: c.mapToItem(content, 0, 0).y, heading: c.text })
            }
        }
        items.sort((a, b) => a.y - b.y)
        const groups = []
        for (const item of items) {
            if (item.heading !== undefined)
                groups.push({ heading: item.heading, rows: [] })
            else if (groups.length > 0)
                groups[groups.length - 1].rows.push(item.row)
            else
                groups.push({ heading: "(none)", rows: [item.row] })
        }
        return groups
    }

    // Every heading names the person of the rows under it, every row is the tenant's, and
    // every user of the tenant is there once.
    function checkDrillDown(view, tenant, people) {
        const list = findChild(view, "connectionList")
        tryCompare(view.admin, "selectedTenant", tenant)
        tryVerify(() => {
            if (view.admin.connections.count !== people.length)
                return false
            for (let r = 0; r < view.admin.connections.count; ++r) {
                if (people.indexOf(view.admin.connections.get(r).displayName) < 0)
                    return false
            }
            return true
        }, 10000, "the model holds " + tenant + "'s connections")
        waitForRendering(list)
        const groups = renderedGroups(list)
        const seen = []
        for (const g of groups) {
            verify(g.rows.length > 0, "heading " + g.heading + " has rows")
            for (const row of g.rows)
                verify(g.heading.indexOf(row) === 0,
                       tenant + ": row of " + row + " under the heading " + g.heading
                       + " (" + JSON.stringify(groups) + ")")
            seen.push(g.rows[0])
        }
        compare(seen.slice().sort(), people.slice().sort(), tenant + ": " + JSON.stringify(groups))
    }

    // Two tenants whose users share ids and display names (u1 "Pat", u2 "Sam"), and users of
    // their own; people come and go and the Operator switches back and forth.
    function test_operatorDrillDownShowsTheSelectedTenantsPeople() {
        const url = DesktopTestServer.url
        const people = {
            "qml-drill-a": [["u1", "Pat"], ["u2", "Sam"], ["u3", "Alice"], ["u5", "Carol"]],
            "qml-drill-b": [["u1", "Pat"], ["u2", "Sam"], ["u4", "Erin"], ["u6", "Frank"]]
        }
        const sessions = {}
        for (const tenant in people) {
            for (const [user, name] of people[tenant]) {
                const s = createTemporaryObject(sessionComponent, testCase)
                s.signInWithToken(url, DesktopTestServer.namedToken(user, tenant, name, ["Viewer"]))
                sessions[tenant + "/" + user] = s
            }
        }
        for (const key in sessions)
            tryCompare(sessions[key].connection, "state", HubConnection.State.Connected, 10000)
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        holder.session.signInWithToken(url, DesktopTestServer.namedToken("oscar", "qml-ops", "Oscar", ["Operator"]))
        tryCompare(holder.view.admin, "state", AdminConsole.Live, 15000)
        const view = holder.view
        const names = tenant => people[tenant].map(p => p[1])
        const toggle = (tenant, user, name) => {
            const s = sessions[tenant + "/" + user]
            s.signOut()
            checkDrillDown(view, tenant, names(tenant).filter(n => n !== name))
            s.signInWithToken(url, DesktopTestServer.namedToken(user, tenant, name, ["Viewer"]))
            checkDrillDown(view, tenant, names(tenant))
        }

        view.admin.selectedTenant = "qml-drill-a"
        checkDrillDown(view, "qml-drill-a", names("qml-drill-a"))
        toggle("qml-drill-a", "u5", "Carol")
        view.admin.selectedTenant = "qml-drill-b"
        checkDrillDown(view, "qml-drill-b", names("qml-drill-b"))
        toggle("qml-drill-b", "u6", "Frank")
        toggle("qml-drill-b", "u4", "Erin")
        for (let round = 0; round < 3; ++round) {
            view.admin.selectedTenant = "qml-drill-a"
            checkDrillDown(view, "qml-drill-a", names("qml-drill-a"))
            view.admin.selectedTenant = "qml-drill-b"
            checkDrillDown(view, "qml-drill-b", names("qml-drill-b"))
        }

        // The Disconnect button of Erin's row opens a dialog that names Erin, with b's row.
        let erin = -1
        for (let r = 0; r < view.admin.connections.count; ++r) {
            if (view.admin.connections.get(r).displayName === "Erin")
                erin = r
        }
        verify(erin >= 0)
        const list = findChild(view, "connectionList")
        list.positionViewAtIndex(erin, ListView.Contain)
        waitForRendering(list)
        let button = null
        for (let i = 0; i < list.contentItem.children.length; ++i) {
            const c = list.contentItem.children[i]
            if (c.objectName === "connectionRow" && c.visible && c.index === erin)
                button = findChild(c, "disconnectButton")
        }
        verify(button)
        mouseClick(button)
        const dialog = findChild(view, "disconnectDialog")
        tryCompare(dialog, "opened", true)
        compare(dialog.displayName, "Erin")
        compare(dialog.connectionId, view.admin.connections.get(erin).connectionId)
        compare(view.admin.connections.get(erin).userId, "u4")
        dialog.reject()
        tryCompare(dialog, "visible", false)
        compare(actionSpy.count, 0)
    }
}
