// SPDX-License-Identifier: MIT
// The admin console (roles Admin and Operator): live tenants, the server's health, charts of
// the last 15 minutes, the selected tenant's connections and groups, live events and the
// audit log, and the actions (each confirmed first, each audited by the server).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

Item {
    id: view
    objectName: "adminView"
    required property Session session
    /// The console itself; the dashboard keeps it running while the user looks elsewhere.
    property AdminConsole admin: AdminConsole { session: view.session }
    readonly property bool live: admin.state === AdminConsole.Live || admin.state === AdminConsole.Reconnecting
    /// The section below the charts: "connections", "groups", "events" or "audit".
    property string section: "connections"

    function formatRate(v) { return v < 10 ? v.toFixed(1) : Math.round(v).toString() }
    function formatUptime(s) {
        if (s === undefined)
            return "–"
        const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60)
        return d > 0 ? qsTr("%1 d %2 h").arg(d).arg(h) : h > 0 ? qsTr("%1 h %2 min").arg(h).arg(m)
                                                             : qsTr("%1 min %2 s").arg(m).arg(Math.floor(s % 60))
    }
    function formatTime(t) { return t ? Qt.formatTime(t, "hh:mm:ss") : "" }

    Connections {
        target: view.admin
        function onActionFinished(action, ok, message) {
            feedback.ok = ok
            feedback.text = message
            feedbackTimer.restart()
        }
    }

    StateView {
        anchors.fill: parent
        visible: !view.live
        loading: view.admin.state === AdminConsole.Connecting
        errorText: view.admin.errorString
        empty: view.admin.state === AdminConsole.Inactive
        emptyText: qsTr("The admin console is not connected.")
        retryText: qsTr("Reconnect")
        onRetry: { view.admin.active = false; view.admin.active = true }
    }

    ColumnLayout {
        objectName: "adminConsole"
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing
        visible: view.live

        // --- the server's health and the scope ------------------------------------------
        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing * 2
            Rectangle {
                width: 10; height: 10; radius: 5
                color: view.admin.state === AdminConsole.Live ? Theme.ok : Theme.warning
            }
            Label {
                objectName: "adminHealth"
                Layout.fillWidth: true
                elide: Text.ElideRight
                text: {
                    const h = view.admin.health
                    if (h.version === undefined)
                        return view.admin.state === AdminConsole.Reconnecting ? qsTr("Reconnecting…") : qsTr("Waiting for the first snapshot…")
                    return qsTr("Server %1 · up %2 · %3 connections · %4 MiB · storage %5%6")
                        .arg(h.version).arg(view.formatUptime(h.uptimeSeconds)).arg(h.connections)
                        .arg((h.rssBytes / 1048576).toFixed(0))
                        .arg(h.storageOk ? qsTr("ok") : qsTr("FAILING"))
                        .arg(view.admin.state === AdminConsole.Reconnecting ? qsTr(" · reconnecting") : "")
                }
                color: view.admin.health.storageOk === false ? Theme.error : Theme.text /* Qt 6.4's qmllint types a QVariantMap without its keys */ // qmllint disable type
            }
            Label { text: view.admin.allTenants ? qsTr("Tenant") : qsTr("Tenant %1").arg(view.admin.selectedTenant) }
            ComboBox {
                objectName: "tenantPicker"
                visible: view.admin.allTenants
                model: view.admin.tenants
                textRole: "tenant"
                implicitWidth: 160
                displayText: view.admin.selectedTenant !== "" ? view.admin.selectedTenant : qsTr("No tenant")
                onActivated: index => view.admin.selectedTenant = view.admin.tenants.get(index).tenant
            }
            Button {
                objectName: "broadcastButton"
                text: qsTr("Broadcast alert…")
                enabled: view.admin.selectedTenant !== "" && view.admin.state === AdminConsole.Live
                onClicked: broadcastDialog.open()
            }
        }

        Label {
            id: feedback
            objectName: "actionFeedback"
            property bool ok: true
            Layout.fillWidth: true
            visible: text !== ""
            wrapMode: Text.WordWrap
            color: ok ? Theme.ok : Theme.error
            Timer { id: feedbackTimer; interval: 8000; onTriggered: feedback.text = "" }
        }

        // --- live tenants -----------------------------------------------------------------
        Frame {
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(tenantList.contentHeight, 4 * 30 + 30) + topPadding + bottomPadding
            padding: 1
            ListView {
                id: tenantList
                objectName: "tenantList"
                anchors.fill: parent
                clip: true
                model: view.admin.tenants
                activeFocusOnTab: true
                keyNavigationEnabled: true
                // Up/Down move, Enter or Space opens the tenant in the drill-down and charts.
                Keys.onReturnPressed: view.admin.selectedTenant = view.admin.tenants.get(currentIndex).tenant /* Qt 6.4's qmllint types a QVariantMap without its keys */ // qmllint disable type
                Keys.onSpacePressed: view.admin.selectedTenant = view.admin.tenants.get(currentIndex).tenant /* Qt 6.4's qmllint types a QVariantMap without its keys */ // qmllint disable type
                headerPositioning: ListView.OverlayHeader
                ScrollBar.vertical: ScrollBar {}
                header: Rectangle {
                    width: ListView.view ? ListView.view.width : 0
                    height: 30
                    z: 2
                    color: Theme.surface
                    TenantRow {
                        anchors.fill: parent
                        header: true
                        cells: [qsTr("Tenant"), qsTr("Connections"), qsTr("Online users"), qsTr("In /s"), qsTr("Out /s"), qsTr("Documents")]
                    }
                }
                delegate: ListRow {
                    id: tenantRow
                    required property int index
                    required property string tenant
                    required property int connections
                    required property int onlineUsers
                    required property double messagesIn
                    required property double messagesOut
                    required property int activeDocuments
                    readonly property AdminConsole admin: view.admin /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                    function formatRate(v) { return view.formatRate(v) } /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                    width: ListView.view.width
                    height: 30
                    padding: 0
                    selected: tenant === admin.selectedTenant
                    focusRing: ListView.isCurrentItem && ListView.view.activeFocus
                    onClicked: {
                        ListView.view.currentIndex = index
                        tenantRow.admin.selectedTenant = tenantRow.tenant
                    }
                    Accessible.name: qsTr("Tenant %1, %2 connections").arg(tenant).arg(connections)
                    contentItem: TenantRow {
                        cells: [tenantRow.tenant, tenantRow.connections, tenantRow.onlineUsers,
                                tenantRow.formatRate(tenantRow.messagesIn),
                                tenantRow.formatRate(tenantRow.messagesOut), tenantRow.activeDocuments]
                    }
                }
                Label {
                    anchors.centerIn: parent
                    visible: tenantList.count === 0
                    color: Theme.mutedText
                    text: qsTr("No tenant has connections right now.")
                }
            }
        }

        // --- the cluster's nodes (Operators only; one for a single server) ------------------
        Flow {
            objectName: "nodeSection"
            Layout.fillWidth: true
            visible: view.admin.allTenants && nodeRepeater.count > 0
            spacing: Theme.spacing * 2
            Label { text: qsTr("Nodes"); font.bold: true; color: Theme.mutedText }
            Repeater {
                id: nodeRepeater
                model: view.admin.nodes
                delegate: RowLayout {
                    id: nodeRow
                    objectName: "nodeRow"
                    required property string name
                    required property int connections
                    required property int uptimeSeconds
                    required property bool healthy
                    required property bool self
                    function formatUptime(s) { return view.formatUptime(s) } /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                    spacing: Theme.spacing / 2
                    Accessible.role: Accessible.StaticText
                    Accessible.name: (nodeRow.self ? qsTr("Node %1 (this node), %2, %3 connections, up %4")
                                                   : qsTr("Node %1, %2, %3 connections, up %4"))
                                     .arg(nodeRow.name).arg(nodeRow.healthy ? qsTr("healthy") : qsTr("not healthy"))
                                     .arg(nodeRow.connections).arg(nodeRow.formatUptime(nodeRow.uptimeSeconds))
                    Rectangle {
                        width: 8; height: 8; radius: 4
                        color: nodeRow.healthy ? Theme.ok : Theme.error
                    }
                    Label {
                        text: nodeRow.self ? qsTr("%1 (this node)").arg(nodeRow.name) : nodeRow.name
                        font.bold: nodeRow.self
                        color: nodeRow.healthy ? Theme.text : Theme.error
                    }
                    Label {
                        text: qsTr("%n connection(s) · up %1", "", nodeRow.connections).arg(nodeRow.formatUptime(nodeRow.uptimeSeconds))
                        color: Theme.mutedText
                    }
                }
            }
        }

        // --- charts of the last 15 minutes -------------------------------------------------
        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: false
            Layout.preferredHeight: 160
            Layout.maximumHeight: 160
            spacing: Theme.spacing
            ChartCard {
                objectName: "ratesChart"
                Layout.fillWidth: true
                Layout.fillHeight: true
                title: qsTr("Messages per second · %1").arg(view.admin.selectedTenant || qsTr("all tenants"))
                history: view.admin.history
                tenant: view.admin.selectedTenant
                metrics: ["messagesIn", "messagesOut"]
                names: [qsTr("in"), qsTr("out")]
                colors: [Theme.accent, Theme.ok]
            }
            ChartCard {
                objectName: "connectionsChart"
                Layout.fillWidth: true
                Layout.fillHeight: true
                title: qsTr("Connections and users · %1").arg(view.admin.selectedTenant || qsTr("all tenants"))
                history: view.admin.history
                tenant: view.admin.selectedTenant
                metrics: ["connections", "onlineUsers"]
                names: [qsTr("connections"), qsTr("users")]
                colors: [Theme.accent, Theme.warning]
            }
        }

        // --- the drill-down, events and the audit log -------------------------------------
        TabBar {
            id: sectionBar
            objectName: "adminSections"
            Layout.fillWidth: true
            readonly property var sections: ["connections", "groups", "events", "audit"]
            currentIndex: Math.max(0, sections.indexOf(view.section))
            onCurrentIndexChanged: view.section = sections[currentIndex]
            TabButton { text: qsTr("Connections (%1 users, %2)").arg(view.admin.userCount).arg(view.admin.connections.count) }
            TabButton { text: qsTr("Groups (%1 · %2 documents)").arg(view.admin.groups.count).arg(view.admin.activeDocuments) }
            TabButton { text: qsTr("Events") }
            TabButton { text: qsTr("Audit log (%1)").arg(view.admin.auditLog.count) }
        }

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: sectionBar.currentIndex

            // Connections, by user.
            Item {
                ListView {
                    id: connectionList
                    objectName: "connectionList"
                    anchors.fill: parent
                    clip: true
                    focus: true
                    keyNavigationEnabled: true
                    model: view.admin.connections
                    currentIndex: -1
                    visible: count > 0
                    ScrollBar.vertical: ScrollBar {}
                    // Each user's heading is part of the user's first row (firstOfUser), so it
                    // always names the people of the rows under it.
                    delegate: Column {
                        id: connectionRow
                        objectName: "connectionRow"
                        required property int index
                        required property string userId
                        required property string displayName
                        required property string connectionId
                        required property string transport
                        required property string protocol
                        required property string client
                        required property var connectedSince
                        required property string remoteAddress
                        required property bool firstOfUser
                        readonly property Dialog notifyPrompt: notifyDialog /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                        readonly property Dialog disconnectPrompt: disconnectDialog /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                        width: ListView.view.width
                        Label {
                            objectName: "userHeading"
                            visible: connectionRow.firstOfUser
                            width: parent.width
                            topPadding: Theme.spacing
                            leftPadding: Theme.spacing
                            font.bold: true
                            elide: Text.ElideRight
                            text: connectionRow.displayName
                        }
                        ListRow {
                            width: parent.width
                            selected: connectionRow.ListView.isCurrentItem
                            focusRing: selected && connectionRow.ListView.view.activeFocus
                            onClicked: connectionRow.ListView.view.currentIndex = connectionRow.index
                            Accessible.name: qsTr("Connection %1 of %2").arg(connectionRow.connectionId).arg(connectionRow.displayName)
                            contentItem: RowLayout {
                                spacing: Theme.spacing
                                ColumnLayout {
                                    Layout.fillWidth: true
                                    spacing: 0
                                    Label {
                                        Layout.fillWidth: true
                                        elide: Text.ElideRight
                                        text: qsTr("%1 · %2 · %3").arg(connectionRow.transport).arg(connectionRow.protocol)
                                                  .arg(connectionRow.client || qsTr("unknown client"))
                                    }
                                    Label {
                                        Layout.fillWidth: true
                                        elide: Text.ElideRight
                                        color: Theme.mutedText
                                        font.pointSize: Application.font.pointSize * Theme.smallFont
                                        text: qsTr("%1 · %2 · since %3 · from %4").arg(connectionRow.userId).arg(connectionRow.connectionId)
                                                  .arg(Qt.formatDateTime(connectionRow.connectedSince, "yyyy-MM-dd hh:mm:ss"))
                                                  .arg(connectionRow.remoteAddress)
                                    }
                                }
                                Button {
                                    text: qsTr("Notify…")
                                    flat: true
                                    onClicked: {
                                        const dialog = connectionRow.notifyPrompt
                                        dialog.userId = connectionRow.userId
                                        dialog.displayName = connectionRow.displayName
                                        dialog.open()
                                    }
                                }
                                Button {
                                    objectName: "disconnectButton"
                                    text: qsTr("Disconnect…")
                                    flat: true
                                    onClicked: {
                                        const dialog = connectionRow.disconnectPrompt
                                        dialog.connectionId = connectionRow.connectionId
                                        dialog.displayName = connectionRow.displayName
                                        dialog.open()
                                    }
                                }
                            }
                        }
                    }
                }
                StateView {
                    anchors.fill: parent
                    visible: connectionList.count === 0
                    loading: view.admin.detailsLoading
                    errorText: view.admin.detailsError
                    empty: true
                    emptyText: view.admin.selectedTenant === "" ? qsTr("Choose a tenant.")
                                                              : qsTr("Nobody is connected to %1.").arg(view.admin.selectedTenant)
                    onRetry: view.admin.refreshDetails()
                }
            }

            // Groups and their sizes.
            Item {
                ListView {
                    id: groupList
                    objectName: "groupList"
                    anchors.fill: parent
                    clip: true
                    model: view.admin.groups
                    currentIndex: -1
                    visible: count > 0
                    ScrollBar.vertical: ScrollBar {}
                    delegate: ListRow {
                        id: groupRow
                        required property int index
                        required property string name
                        required property int members
                        width: ListView.view.width
                        onClicked: ListView.view.currentIndex = index
                        contentItem: RowLayout {
                            Label { Layout.fillWidth: true; text: groupRow.name; elide: Text.ElideRight; color: Theme.text }
                            Label { text: qsTr("%n member(s)", "", groupRow.members); color: Theme.mutedText }
                        }
                    }
                }
                StateView {
                    anchors.fill: parent
                    visible: groupList.count === 0
                    empty: true
                    emptyText: qsTr("No groups in this tenant.")
                }
            }

            // Live events.
            LogList {
                objectName: "eventList"
                model: view.admin.events
                emptyText: qsTr("No events since the console connected.")
                delegate: ListRow {
                    id: eventRow
                    required property int index
                    required property var at
                    required property string kind
                    required property string tenant
                    required property string who
                    required property string details
                    function formatTime(t) { return view.formatTime(t) } /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                    width: ListView.view.width
                    onClicked: ListView.view.currentIndex = index
                    contentItem: RowLayout {
                        spacing: Theme.spacing
                        Label { text: eventRow.formatTime(eventRow.at); color: Theme.mutedText; font.family: "monospace" }
                        Label { text: eventRow.tenant; color: Theme.mutedText; Layout.preferredWidth: 80; elide: Text.ElideRight }
                        Label { text: eventRow.kind; font.bold: eventRow.kind === "action"; Layout.preferredWidth: 140 }
                        Label { Layout.fillWidth: true; elide: Text.ElideRight; text: eventRow.details !== "" ? eventRow.who + " · " + eventRow.details : eventRow.who }
                    }
                }
            }

            // The audit log.
            LogList {
                objectName: "auditList"
                model: view.admin.auditLog
                errorText: view.admin.auditError
                emptyText: qsTr("Nothing in the audit log of %1 for the last 24 hours.").arg(view.admin.selectedTenant)
                delegate: ListRow {
                    id: auditRow
                    required property int index
                    required property var at
                    required property string actor
                    required property string auditAction
                    required property string details
                    width: ListView.view.width
                    onClicked: ListView.view.currentIndex = index
                    contentItem: RowLayout {
                        spacing: Theme.spacing
                        Label { text: Qt.formatDateTime(auditRow.at, "MM-dd hh:mm:ss"); color: Theme.mutedText; font.family: "monospace" }
                        Label { text: auditRow.actor; Layout.preferredWidth: 90; elide: Text.ElideRight }
                        Label { text: auditRow.auditAction; font.bold: true; Layout.preferredWidth: 190; elide: Text.ElideRight }
                        Label { Layout.fillWidth: true; elide: Text.ElideRight; text: auditRow.details; color: Theme.mutedText }
                    }
                }
            }
        }
    }

    // --- the actions: each one is confirmed, and the server audits it first --------------
    Dialog {
        id: broadcastDialog
        objectName: "broadcastDialog"
        anchors.centerIn: parent
        width: Math.min(440, view.width - 2 * Theme.padding)
        modal: true
        title: qsTr("Broadcast an alert to %1").arg(view.admin.selectedTenant)
        standardButtons: Dialog.Cancel | Dialog.Ok
        onAboutToShow: alertText.text = ""
        Component.onCompleted: standardButton(Dialog.Ok).text = qsTr("Broadcast")
        onAccepted: view.admin.broadcastAlert(view.admin.selectedTenant, alertText.text)
        ColumnLayout {
            width: parent.width
            Label {
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                text: qsTr("Every connected user of %1 sees this alert at once. The action is written to the tenant's audit log.").arg(view.admin.selectedTenant)
            }
            TextField {
                id: alertText
                objectName: "alertText"
                Layout.fillWidth: true
                placeholderText: qsTr("Message")
                focus: true
            }
        }
        onOpened: broadcastDialog.standardButton(Dialog.Ok).enabled = Qt.binding(() => alertText.text.trim() !== "")
    }

    Dialog {
        id: notifyDialog
        property string userId
        property string displayName
        anchors.centerIn: parent
        width: Math.min(440, view.width - 2 * Theme.padding)
        modal: true
        title: qsTr("Send a notification to %1").arg(displayName)
        standardButtons: Dialog.Cancel | Dialog.Ok
        onAboutToShow: { notifyTitle.text = ""; notifyBody.text = "" }
        Component.onCompleted: standardButton(Dialog.Ok).text = qsTr("Send")
        onOpened: notifyDialog.standardButton(Dialog.Ok).enabled = Qt.binding(() => notifyTitle.text.trim() !== "")
        onAccepted: view.admin.sendNotification(view.admin.selectedTenant, userId, notifyTitle.text,
                                                notifyBody.text, notifyType.currentText)
        GridLayout {
            width: parent.width
            columns: 2
            Label { text: qsTr("Title") }
            TextField { id: notifyTitle; Layout.fillWidth: true; focus: true }
            Label { text: qsTr("Text") }
            TextField { id: notifyBody; Layout.fillWidth: true }
            Label { text: qsTr("Type") }
            ComboBox { id: notifyType; Layout.fillWidth: true; model: ["info", "warning", "alert"] }
            Label {
                Layout.columnSpan: 2
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                color: Theme.mutedText
                text: qsTr("Stored and delivered like any notification (replayed if %1 is offline); written to the audit log.").arg(notifyDialog.displayName)
            }
        }
    }

    Dialog {
        id: disconnectDialog
        objectName: "disconnectDialog"
        property string connectionId
        property string displayName
        anchors.centerIn: parent
        width: Math.min(440, view.width - 2 * Theme.padding)
        modal: true
        title: qsTr("Disconnect %1?").arg(displayName)
        standardButtons: Dialog.Cancel | Dialog.Ok
        Component.onCompleted: standardButton(Dialog.Ok).text = qsTr("Disconnect")
        onAccepted: view.admin.disconnectConnection(view.admin.selectedTenant, connectionId)
        ColumnLayout {
            width: parent.width
            Label {
            Layout.fillWidth: true
            wrapMode: Text.WordWrap
            text: qsTr("Connection %1 of %2 is closed and does not reconnect by itself. The action is written to the audit log of %3.")
                      .arg(disconnectDialog.connectionId).arg(disconnectDialog.displayName).arg(view.admin.selectedTenant)
            }
        }
    }

    // One row of the tenant table (the header too).
    component TenantRow: RowLayout {
        id: cellRow
        property var cells: []
        property bool header: false
        spacing: 0
        Repeater {
            model: parent.cells.length
            Label {
                required property int index
                readonly property TenantRow row: cellRow /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                Layout.fillWidth: true
                Layout.preferredWidth: index === 0 ? 3 : 2
                leftPadding: Theme.spacing
                rightPadding: Theme.spacing
                horizontalAlignment: index === 0 ? Text.AlignLeft : Text.AlignRight
                font.bold: row.header
                color: row.header ? Theme.mutedText : Theme.text
                elide: Text.ElideRight
                text: row.cells[index]
            }
        }
    }

    // A titled chart with a legend of the newest values.
    component ChartCard: Frame {
        id: card
        property alias title: cardTitle.text
        property alias history: chart.history
        property alias tenant: chart.tenant
        property alias metrics: chart.metrics
        property alias colors: chart.colors
        property var names: []
        readonly property alias latest: chart.latest
        function formatRate(v) { return view.formatRate(v) } /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
        padding: Theme.spacing
        ColumnLayout {
            anchors.fill: parent
            spacing: 2
            RowLayout {
                Layout.fillWidth: true
                Label { id: cardTitle; Layout.fillWidth: true; elide: Text.ElideRight; font.bold: true }
                Repeater {
                    model: card.names.length
                    Label {
                        required property int index
                        readonly property ChartCard owner: card /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                        color: owner.colors[index]
                        text: "● %1 %2".arg(owner.names[index]).arg(owner.formatRate(owner.latest[index] || 0))
                    }
                }
            }
            LineChart {
                id: chart
                Layout.fillWidth: true
                Layout.fillHeight: true
                gridColor: Theme.separator
                textColor: Theme.mutedText
            }
        }
    }

    // A log list with its empty and error states.
    component LogList: Item {
        property alias model: logView.model
        property alias delegate: logView.delegate
        property string emptyText
        property string errorText
        ListView {
            id: logView
            anchors.fill: parent
            clip: true
            currentIndex: -1
            visible: count > 0
            ScrollBar.vertical: ScrollBar {}
        }
        StateView {
            anchors.fill: parent
            visible: logView.count === 0 || parent.errorText !== ""
            errorText: parent.errorText
            empty: true
            emptyText: parent.emptyText
        }
    }
}
