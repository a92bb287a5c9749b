// SPDX-License-Identifier: MIT
// NotificationModel from QML, fed by heliograph-server's notification hub; notifications
// are pushed through the server's push API (POST /api/tenants/{t}/users/{u}/notifications).
import QtQuick
import QtTest
import Heliograph.Client
import HeliographTest

TestCase {
    id: testCase
    name: "NotificationModel"

    Component {
        id: hubComponent
        HubConnection {}
    }
    Component {
        id: modelComponent
        NotificationModel {}
    }
    // a view over the model: roles by name, as delegates see them
    Component {
        id: viewComponent
        ListView {
            width: 200
            height: 400
            delegate: Text {
                required property string title
                required property bool read
                required property var createdAt
                text: title + (read ? "" : " *")
            }
        }
    }

    property var hubs: []

    function init_data() {
        return [
            {tag: "websockets-json", transports: HubConnection.Transport.WebSockets, protocol: HubConnection.Protocol.Json},
            {tag: "websockets-messagepack", transports: HubConnection.Transport.WebSockets, protocol: HubConnection.Protocol.MessagePack},
            {tag: "longpolling-json", transports: HubConnection.Transport.LongPolling, protocol: HubConnection.Protocol.Json}
        ]
    }

    function cleanup() {
        for (const h of hubs) {
            if (h && h.state !== HubConnection.State.Disconnected) {
                h.stop()
                tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
            }
        }
        hubs = []
    }

    /// POSTs a notification through the push API and waits for 202; returns {id, sequence}.
    function push(tenant, user, title) {
        const reply = {done: false, status: 0, text: ""}
        const xhr = new XMLHttpRequest()
        xhr.onreadystatechange = () => {
            if (xhr.readyState === XMLHttpRequest.DONE) {
                reply.status = xhr.status
                reply.text = xhr.responseText
                reply.done = true
            }
        }
        xhr.open("POST", TestServer.baseUrl + "/api/tenants/" + tenant + "/users/" + user
                 + "/notifications")
        xhr.setRequestHeader("Authorization", "Bearer " + TestServer.token("pusher", tenant, ["Service"]))
        xhr.setRequestHeader("Content-Type", "application/json")
        xhr.send(JSON.stringify({title: title, body: "body of " + title, type: "news"}))
        tryVerify(() => reply.done, 10000, "push API answered")
        compare(reply.status, 202, reply.text)
        return JSON.parse(reply.text)
    }

    function sameId(rowId, pushedId) {
        return rowId === pushedId || rowId === Qt.btoa(pushedId)
    }

    function test_fillsFromTheHub(data) {
        const tenant = "qml-" + data.tag
        const h = createTemporaryObject(hubComponent, testCase, {
            url: TestServer.notificationsUrl,
            accessToken: TestServer.token("ann", tenant),
            transports: data.transports,
            protocol: data.protocol
        })
        hubs.push(h)
        const model = createTemporaryObject(modelComponent, testCase, {connection: h.connection})
        compare(model.method, "ReceiveNotification")
        compare(model.count, 0)
        compare(model.unreadCount, 0)
        const view = createTemporaryObject(viewComponent, testCase, {model: model})
        h.active = true
        tryCompare(h, "state", HubConnection.State.Connected, 15000, h.errorString)

        const first = push(tenant, "ann", "first")
        tryCompare(model, "count", 1, 10000)
        compare(model.unreadCount, 1)
        let row = model.get(0)
        // the hub sends ids as bytes (base64 text over JSON); the push API answers text
        verify(sameId(row.id, first.id), row.id + " vs " + first.id)
        compare(row.title, "first")
        compare(row.body, "body of first")
        compare(row.type, "news")
        compare(row.sequence, first.sequence)
        verify(Number.isInteger(row.sequence))
        verify(row.createdAt instanceof Date, "createdAt is a Date")
        verify(Math.abs(row.createdAt.getTime() - Date.now()) < 60000, row.createdAt)
        compare(row.read, false)
        compare(row.replayed, false)
        compare(row.payload.title, "first")

        const second = push(tenant, "ann", "second")
        tryCompare(model, "count", 2, 10000)
        compare(model.get(0).title, "second") // newest first
        compare(model.get(1).title, "first")
        compare(model.unreadCount, 2)
        tryCompare(view, "count", 2)
        view.forceLayout()
        compare(view.itemAtIndex(0).text, "second *")

        // markRead updates unreadCount and the delegates
        model.markRead(1)
        compare(model.unreadCount, 1)
        compare(model.get(1).read, true)
        compare(model.get(0).read, false)
        tryCompare(view.itemAtIndex(1), "text", "first")

        // reconnect with a replay from the start: first and second again (dropped), and the
        // one pushed while offline
        h.stop()
        tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
        const third = push(tenant, "ann", "third")
        h.url = TestServer.notificationsUrl + "?lastSequence=0"
        h.start()
        tryCompare(model, "count", 3, 15000)
        verify(sameId(model.get(0).id, third.id))
        verify(sameId(model.get(1).id, second.id))
        verify(sameId(model.get(2).id, first.id))
        compare(model.unreadCount, 2)
        compare(model.get(2).read, true) // the row kept its state

        model.markAllRead()
        compare(model.unreadCount, 0)

        model.maximumCount = 2
        compare(model.count, 2)
        compare(model.get(1).title, "second")

        model.clear()
        compare(model.count, 0)
        compare(model.unreadCount, 0)
    }
}
