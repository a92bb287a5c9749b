// SPDX-License-Identifier: MIT
// Notifications: a live list, newest first, with unread counts, mark read, a filter by type
// and a badge on the ones replayed after an outage. The history comes from the server
// (Session.loadOlderNotifications): a page at sign-in, the next one when the list is scrolled
// to its end. A picked row opens its detail beside the list, where it can be marked unread.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Heliograph.Desktop

Item {
    id: view
    required property Session session
    readonly property NotificationFilterModel model: session.notifications

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.padding
        spacing: Theme.spacing

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            ComboBox {
                id: typeFilter
                objectName: "typeFilter"
                Accessible.name: qsTr("Filter by type")
                model: [qsTr("All types"), ...view.model.types]
                onActivated: index => view.model.typeFilter = index === 0 ? "" : view.model.types[index - 1]
            }
            CheckBox {
                objectName: "unreadOnly"
                text: qsTr("Unread only")
                checked: view.model.unreadOnly
                onToggled: view.model.unreadOnly = checked
            }
            Item { Layout.fillWidth: true }
            Label {
                objectName: "unreadLabel"
                text: qsTr("%n unread", "", view.model.unreadCount)
                color: view.model.unreadCount > 0 ? Theme.accent : Theme.mutedText
                font.bold: view.model.unreadCount > 0
            }
            Label {
                visible: view.model.replayedCount > 0
                text: qsTr("%n replayed", "", view.model.replayedCount)
                color: Theme.warning
            }
            Button {
                objectName: "markAllRead"
                text: qsTr("Mark all read")
                enabled: view.model.unreadCount > 0
                onClicked: view.model.markAllRead()
            }
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: Theme.spacing

            Item {
                Layout.fillWidth: true
                Layout.fillHeight: true

                ListView {
                    id: list
                    objectName: "notificationList"
                    anchors.fill: parent
                    clip: true
                    spacing: Theme.spacing / 2
                    model: view.model
                    focus: true
                    keyNavigationEnabled: true
                    currentIndex: -1
                    visible: count > 0
                    ScrollBar.vertical: ScrollBar {}
                    Keys.onReturnPressed: if (currentIndex >= 0) view.model.markRead(currentIndex)
                    Keys.onSpacePressed: if (currentIndex >= 0) view.model.markRead(currentIndex)
                    Keys.onEscapePressed: currentIndex = -1
                    Keys.onPressed: event => {
                        if (event.key === Qt.Key_U && currentIndex >= 0) {
                            view.model.markUnread(currentIndex)
                            event.accepted = true
                        }
                    }

                    // The history: the next page when the end of the list is in sight (also
                    // when the rows do not fill the view yet).
                    function loadOlderIfAtEnd() {
                        if (count > 0 && atYEnd && !view.session.historyLoading
                                && !view.session.historyComplete && view.session.historyError === ""
                                && view.session.connection.state === HubConnection.State.Connected)
                            view.session.loadOlderNotifications()
                    }
                    onAtYEndChanged: loadOlderIfAtEnd()
                    onCountChanged: Qt.callLater(loadOlderIfAtEnd) /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                    Connections {
                        target: view.session
                        function onHistoryChanged() { Qt.callLater(list.loadOlderIfAtEnd) } /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                    }
                    footer: Item {
                        id: footerItem
                        readonly property Session session: view.session /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                        width: ListView.view ? ListView.view.width : 0
                        height: historyFooter.implicitHeight + Theme.spacing * 2
                        RowLayout {
                            id: historyFooter
                            anchors.centerIn: parent
                            spacing: Theme.spacing
                            BusyIndicator {
                                visible: footerItem.session.historyLoading
                                running: visible
                                implicitWidth: 24
                                implicitHeight: 24
                            }
                            Label {
                                objectName: "historyStatus"
                                text: footerItem.session.historyLoading ? qsTr("Loading older notifications…")
                                    : footerItem.session.historyError !== "" ? footerItem.session.historyError
                                    : footerItem.session.historyComplete ? qsTr("No older notifications.")
                                    : ""
                                color: footerItem.session.historyError !== "" ? Theme.error : Theme.mutedText
                            }
                            Button {
                                objectName: "loadOlderButton"
                                visible: !footerItem.session.historyLoading && !footerItem.session.historyComplete
                                enabled: footerItem.session.connection.state === HubConnection.State.Connected
                                text: footerItem.session.historyError !== "" ? qsTr("Try again") : qsTr("Load older")
                                onClicked: footerItem.session.loadOlderNotifications()
                            }
                        }
                    }

                    // Newest first. A row inserted above the first visible one is placed out of
                    // sight, and a view a few pixels from the top (a current item followed, a
                    // delegate that grew) counts as scrolled: so the view keeps to the top while
                    // the user is near it. Scrolled away to read, the rows under the pointer stay
                    // and the pill counts what arrived above.
                    readonly property bool nearTop: contentY - originY < 48
                    property bool followTop: true
                    property int newAbove: 0
                    onNearTopChanged: if (nearTop) newAbove = 0
                    function toTop() {
                        newAbove = 0
                        positionViewAtBeginning()
                    }
                    Connections {
                        target: view.model
                        function onRowsAboutToBeInserted() { list.followTop = list.count === 0 || list.nearTop }
                        function onRowsInserted(parent, first, last) {
                            if (list.followTop)
                                Qt.callLater(list.toTop) /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                            else if (first === 0)
                                list.newAbove += last - first + 1
                        }
                        function onTypeFilterChanged() { Qt.callLater(list.toTop) } /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                        function onUnreadOnlyChanged() { Qt.callLater(list.toTop) } /* Qt 6.4 bug: its QtQml qmltypes declare Qt.callLater a QJSValue property */ // qmllint disable type
                    }

                    delegate: ListRow {
                        id: row
                        required property int index
                        required property string title
                        required property string body
                        required property string type
                        required property var createdAt
                        required property bool read
                        required property bool replayed
                        readonly property NotificationFilterModel filterModel: view.model /* Qt 6.4's qmllint treats every Component as bound; the outer id resolves at runtime */ // qmllint disable unqualified
                        /// The pointer is on the time label (its tooltip shows the full date).
                        property bool timeHovered: false
                        width: ListView.view.width
                        // The first row of a day has the day's name above it.
                        readonly property bool firstOfDay: {
                            if (!createdAt || isNaN(createdAt.getTime()))
                                return false
                            if (index === 0)
                                return true
                            const previous = row.filterModel.createdAtOf(index - 1)
                            return isNaN(previous.getTime()) || !Clock.sameDay(previous, createdAt)
                        }
                        readonly property real dayHeight: firstOfDay ? dayLabel.implicitHeight + Theme.spacing : 0
                        topInset: dayHeight
                        topPadding: padding + dayHeight
                        Label {
                            id: dayLabel
                            objectName: "daySeparator"
                            visible: row.firstOfDay
                            y: Theme.spacing / 4
                            x: Theme.spacing / 2
                            text: row.firstOfDay ? Clock.dayLabel(row.createdAt, Clock.now) : ""
                            color: Theme.mutedText
                            font.bold: true
                            font.pointSize: Application.font.pointSize * Theme.smallFont
                        }
                        onClicked: {
                            ListView.view.currentIndex = index
                            row.filterModel.markRead(index)
                        }
                        Accessible.name: (read ? "" : qsTr("Unread: ")) + title + ". " + body
                        contentItem: RowLayout {
                            spacing: Theme.spacing
                            Rectangle {
                                objectName: "unreadDot"
                                Layout.alignment: Qt.AlignTop
                                Layout.topMargin: 6
                                implicitWidth: 8
                                implicitHeight: 8
                                radius: 4
                                color: row.read ? "transparent" : Theme.accent
                            }
                            ColumnLayout {
                                Layout.fillWidth: true
                                spacing: 2
                                RowLayout {
                                    Layout.fillWidth: true
                                    Label {
                                        Layout.fillWidth: true
                                        text: row.title
                                        color: Theme.text
                                        font.bold: !row.read
                                        elide: Text.ElideRight
                                    }
                                    Label {
                                        visible: row.replayed
                                        text: qsTr("replayed")
                                        color: Theme.warning
                                        font.pointSize: Application.font.pointSize * Theme.smallFont
                                    }
                                    Label {
                                        text: row.type
                                        color: Theme.mutedText
                                        font.pointSize: Application.font.pointSize * Theme.smallFont
                                    }
                                    Label {
                                        objectName: "timeLabel"
                                        text: row.createdAt ? Clock.relative(row.createdAt, Clock.now) : ""
                                        color: Theme.mutedText
                                        font.pointSize: Application.font.pointSize * Theme.smallFont
                                        readonly property string fullDate: Clock.full(row.createdAt)
                                        readonly property bool fullDateShown: ToolTip.visible
                                        HoverHandler { onHoveredChanged: row.timeHovered = hovered }
                                        ToolTip.visible: row.timeHovered
                                        ToolTip.text: fullDate
                                        ToolTip.delay: 500
                                    }
                                }
                                Label {
                                    Layout.fillWidth: true
                                    text: row.body
                                    wrapMode: Text.WordWrap
                                    maximumLineCount: 3
                                    elide: Text.ElideRight
                                    color: Theme.mutedText
                                }
                            }
                        }
                    }
                }

                Button {
                    objectName: "newNotificationsPill"
                    anchors.horizontalCenter: parent.horizontalCenter
                    anchors.top: parent.top
                    anchors.topMargin: Theme.spacing
                    visible: list.newAbove > 0 && list.visible
                    text: qsTr("%n new", "", list.newAbove)
                    icon.name: "go-up"
                    highlighted: true
                    onClicked: list.toTop()
                }

                StateView {
                    anchors.fill: parent
                    loading: view.session.connection.state === HubConnection.State.Connecting
                    errorText: view.session.connection.state === HubConnection.State.Disconnected ? view.session.connection.errorString : ""
                    empty: list.count === 0
                    emptyText: view.model.typeFilter !== "" || view.model.unreadOnly
                               ? qsTr("No notifications match the filter.")
                               : qsTr("No notifications yet. New ones appear here as they arrive.")
                    visible: list.count === 0
                }
            }

            // The picked notification in full.
            Pane {
                id: detail
                objectName: "notificationDetail"
                // The current delegate (its roles are its properties; a delegate has no type to name).
                readonly property var row: list.currentItem
                visible: row !== null && list.currentIndex >= 0
                Layout.fillHeight: true
                Layout.preferredWidth: Math.max(260, view.width * 0.38)
                padding: Theme.padding
                background: Rectangle {
                    color: Theme.surface
                    border.color: Theme.separator
                    radius: Theme.radius
                }
                Accessible.role: Accessible.Pane
                Accessible.name: qsTr("Notification details")

                ColumnLayout {
                    anchors.fill: parent
                    spacing: Theme.spacing
                    RowLayout {
                        Layout.fillWidth: true
                        Label {
                            objectName: "detailTitle"
                            Layout.fillWidth: true
                            text: detail.row ? detail.row.title : ""
                            color: Theme.text
                            font.bold: true
                            font.pointSize: Application.font.pointSize * Theme.titleFont
                            wrapMode: Text.WordWrap
                        }
                        ToolButton {
                            objectName: "closeDetailButton"
                            text: qsTr("Close")
                            icon.name: "window-close"
                            ToolTip.visible: hovered
                            ToolTip.text: qsTr("Close the details (Esc)")
                            onClicked: list.currentIndex = -1
                        }
                    }
                    Label {
                        objectName: "detailMeta"
                        Layout.fillWidth: true
                        wrapMode: Text.WordWrap
                        color: Theme.mutedText
                        text: {
                            if (!detail.row)
                                return ""
                            const parts = [detail.row.type]
                            if (detail.row.createdAt)
                                parts.push(detail.row.createdAt.toLocaleString(Qt.locale(), Locale.LongFormat))
                            if (detail.row.replayed)
                                parts.push(qsTr("replayed after an outage"))
                            return parts.filter(p => p !== "").join(" · ")
                        }
                    }
                    ScrollView {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        TextArea {
                            objectName: "detailBody"
                            readOnly: true
                            selectByMouse: true
                            wrapMode: TextEdit.Wrap
                            text: detail.row ? detail.row.body : ""
                            color: Theme.text
                            background: null
                            Accessible.name: qsTr("Message")
                        }
                    }
                    RowLayout {
                        Layout.fillWidth: true
                        Item { Layout.fillWidth: true }
                        Button {
                            objectName: "toggleReadButton"
                            text: detail.row && detail.row.read ? qsTr("Mark unread") : qsTr("Mark read")
                            onClicked: {
                                if (detail.row.read)
                                    view.model.markUnread(list.currentIndex)
                                else
                                    view.model.markRead(list.currentIndex)
                            }
                        }
                    }
                }
            }
        }
    }
}
