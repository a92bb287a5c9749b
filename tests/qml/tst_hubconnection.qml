// SPDX-License-Identifier: MIT
// HubConnection from QML against heliograph-server's bench hub (and the notification hub
// for tokens): calls and their promise-like results, errors, handlers, state, statistics,
// declarative start/stop. Every test runs per transport x protocol row.
import QtQuick
import QtTest
import Heliograph.Client
import HeliographTest

TestCase {
    id: testCase
    name: "HubConnection"

    Component {
        id: hubComponent
        HubConnection {
            reconnectDelays: [50]
        }
    }

    // declared active before its url: starts once the component is complete
    Component {
        id: declarativeHub
        HubConnection {
            active: true
            url: TestServer.benchUrl + "?user=declarative"
        }
    }

    Component {
        id: spyComponent
        SignalSpy {}
    }

    property var hubs: []

    function init_data() {
        return [
            {tag: "websockets-json", transports: HubConnection.Transport.WebSockets, protocol: HubConnection.Protocol.Json},
            {tag: "websockets-messagepack", transports: HubConnection.Transport.WebSockets, protocol: HubConnection.Protocol.MessagePack},
            {tag: "longpolling-json", transports: HubConnection.Transport.LongPolling, protocol: HubConnection.Protocol.Json}
        ]
    }

    function hub(data, url, extra) {
        let properties = {url: url, transports: data.transports, protocol: data.protocol}
        for (const key in extra)
            properties[key] = extra[key]
        const h = createTemporaryObject(hubComponent, testCase, properties)
        verify(h, "HubConnection created")
        hubs.push(h)
        return h
    }

    function benchHub(data, user, extra) {
        return hub(data, TestServer.benchUrl + "?user=" + user, extra)
    }

    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, {target: target, signalName: signalName})
    }

    function waitConnected(h) {
        tryCompare(h, "state", HubConnection.State.Connected, 15000, h.errorString)
    }

    // a long-polling connection left behind would hold the server's shutdown
    function cleanup() {
        for (const h of hubs) {
            if (h && h.state !== HubConnection.State.Disconnected) {
                h.stop()
                tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
            }
        }
        hubs = []
    }

    function test_invoke(data) {
        const h = benchHub(data, "invoke-" + data.tag, {active: true})
        waitConnected(h)
        compare(h.active, true)
        compare(h.transport, data.transports)
        compare(h.transportName, data.transports === HubConnection.Transport.WebSockets ? "WebSockets" : "LongPolling")
        compare(h.protocolName, data.protocol === HubConnection.Protocol.Json ? "json" : "messagepack")
        compare(h.connectionId.length, 22)
        compare(h.error, HubConnection.Error.NoError)

        const text = "h\u00e9llo w\u00f6rld \u2713 \u{1F600} \u2211"
        let result, failure
        const call = h.invoke("Echo", text)
        compare(call.method, "Echo")
        compare(call.finished, false)
        call.then(r => result = r, e => failure = e)
        compare(result, undefined, "then() never calls back inside then()")
        tryVerify(() => call.finished, 10000)
        compare(call.succeeded, true)
        compare(call.result, text)
        compare(call.error, "")
        compare(call.errorCode, PendingCall.Error.NoError)
        tryVerify(() => result === text)
        compare(failure, undefined)

        // then() after it finished: called later, with the same result
        let late
        call.then(r => late = r)
        compare(late, undefined)
        tryVerify(() => late === text)

        // a thenable: Promise.resolve() adopts it
        let adopted
        Promise.resolve(h.invoke("Echo", "adopted")).then(r => adopted = r)
        tryVerify(() => adopted === "adopted", 10000)

        // null in, null out
        let nothing = "unset"
        h.invoke("Echo", null).then(r => nothing = r)
        tryVerify(() => nothing === null, 10000)

        // no reference kept to the calls: each stays alive until its callbacks ran, however
        // often the garbage collector runs meanwhile
        let results = 0
        for (let i = 0; i < 30; ++i)
            h.invoke("Echo", "unreferenced " + i).then(() => ++results)
        gc()
        tryVerify(() => { gc(); return results === 30 }, 10000, "results: " + results)

        // a long string
        const longText = "x".repeat(20000) + "\u00e9"
        let echoed
        h.invoke("Echo", longText).then(r => echoed = r)
        tryVerify(() => echoed === longText, 10000)
    }

    function test_integerArguments(data) {
        // int64 parameters (.NET long): integral JavaScript numbers are sent as integers,
        // integer results come back as numbers
        const tenant = "ints-" + data.tag
        const h = hub(data, TestServer.notificationsUrl,
                      {accessToken: TestServer.token("ed", tenant, ["Editor"]), active: true})
        waitConnected(h)
        let version
        h.invoke("SendDocumentPatch", "doc", "{\"op\":1}").then(v => version = v)
        tryVerify(() => version !== undefined, 10000)
        compare(version, 1)
        verify(Number.isInteger(version))
        let patches
        h.invoke("GetDocumentPatchesSince", "doc", 0).then(r => patches = r)
        tryVerify(() => patches !== undefined, 10000)
        compare(patches.length, 1)
        compare(patches[0].version, 1)
        compare(patches[0].patchJson, "{\"op\":1}")
        let none
        h.invoke("GetDocumentPatchesSince", "doc", 9007199254740991).then(r => none = r)
        tryVerify(() => none !== undefined, 10000)
        compare(none.length, 0)
        // 1.5 is no integer: the server refuses it
        let refused
        h.invoke("GetDocumentPatchesSince", "doc", 1.5).then(null, e => refused = e)
        tryVerify(() => refused !== undefined, 10000)
        compare(refused.code, PendingCall.Error.ServerError)
    }

    function test_errors(data) {
        const h = benchHub(data, "errors-" + data.tag, {active: true})
        waitConnected(h)

        let error, unexpected
        const call = h.invoke("NoSuchMethod", 1, "two")
        call.then(r => unexpected = r, e => error = e)
        tryVerify(() => error !== undefined, 10000)
        compare(error.code, PendingCall.Error.ServerError)
        verify(error.message.indexOf("Method does not exist") >= 0, error.message)
        compare(call.finished, true)
        compare(call.succeeded, false)
        compare(call.errorCode, PendingCall.Error.ServerError)
        compare(call.error, error.message)
        compare(call.result, undefined)
        compare(unexpected, undefined)

        // an argument of the wrong type
        let typeError
        h.invoke("Echo", 42).then(null, e => typeError = e)
        tryVerify(() => typeError !== undefined, 10000)
        compare(typeError.code, PendingCall.Error.ServerError)

        // callbacks that throw are logged; the connection and later calls are fine
        ignoreWarning(/a result callback of Echo threw: Error: result boom/)
        ignoreWarning(/an? error callback of Nope threw: Error: error boom/)
        h.invoke("Echo", "boom").then(() => { throw new Error("result boom") })
        h.invoke("Nope").then(null, () => { throw new Error("error boom") })
        let after
        h.invoke("Echo", "after").then(r => after = r)
        tryVerify(() => after === "after", 10000)
        compare(h.state, HubConnection.State.Connected)

        // not connected: rejected
        h.stop()
        tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
        let offline
        h.invoke("Echo", "x").then(null, e => offline = e)
        tryVerify(() => offline !== undefined, 10000)
        verify(offline.code !== PendingCall.Error.NoError)
        let sendOffline
        h.send("Echo", "x").then(null, e => sendOffline = e)
        tryVerify(() => sendOffline !== undefined, 10000)
    }

    function test_handlers(data) {
        const user = "handlers-" + data.tag
        const h = benchHub(data, user, {active: true})
        waitConnected(h)
        let first = [], second = [], third = []
        const handle = h.on("Receive", v => first.push(v))
        verify(handle > 0)
        h.on("receive", v => second.push(v)) // method names ignore case
        const thirdCallback = v => third.push(v)
        h.on("Receive", thirdCallback)

        let sent = false
        h.send("SendToUser", user, "one").then(() => sent = true)
        tryVerify(() => first.length === 1 && second.length === 1 && third.length === 1, 10000)
        compare(first[0], "one")
        tryVerify(() => sent, 10000)

        // off(handle): that handler only; off(method, callback): that function only
        h.off(handle)
        h.off("Receive", thirdCallback)
        h.send("SendToUser", user, "two")
        tryVerify(() => second.length === 2, 10000)
        compare(second[1], "two")
        compare(first.length, 1)
        compare(third.length, 1)

        // a handler that throws is logged; the others still run
        ignoreWarning(/the handler of Receive threw: Error: handler boom/)
        h.on("Receive", () => { throw new Error("handler boom") })
        h.send("SendToUser", user, "three")
        tryVerify(() => second.length === 3, 10000)

        // off(method): every handler of it; the Echo after proves "four" was not handled
        h.off("RECEIVE")
        ignoreWarning(/no handler for .*Receive/)
        h.send("SendToUser", user, "four")
        let sync
        h.invoke("Echo", "sync").then(r => sync = r)
        tryVerify(() => sync === "sync", 10000)
        compare(second.length, 3)
        compare(first.length, 1)
    }

    function test_stateAndStatistics(data) {
        const h = benchHub(data, "state-" + data.tag)
        compare(h.state, HubConnection.State.Disconnected)
        compare(h.active, false)
        compare(h.roundTripTime, -1)
        let states = []
        h.stateChanged.connect(() => states.push(h.state))
        const connected = spy(h, "connected")
        const disconnected = spy(h, "disconnected")
        const errors = spy(h, "errorOccurred")
        const statistics = spy(h, "statisticsChanged")

        h.start()
        compare(h.active, true)
        compare(h.state, HubConnection.State.Connecting)
        waitConnected(h)
        compare(states, [HubConnection.State.Connecting, HubConnection.State.Connected])
        compare(connected.count, 1)
        verify(h.roundTripTime >= 0)
        compare(h.reconnectCount, 0)
        tryVerify(() => h.bytesSent > 0 && h.bytesReceived > 0, 10000)
        verify(statistics.count > 0)
        const received = h.bytesReceived, sentBytes = h.bytesSent
        let done
        h.invoke("Echo", "count me").then(r => done = r)
        tryVerify(() => done === "count me", 10000)
        tryVerify(() => h.bytesReceived > received && h.bytesSent > sentBytes, 10000)

        // active false stops
        h.active = false
        tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
        compare(states.slice(-2), [HubConnection.State.Disconnecting, HubConnection.State.Disconnected])
        compare(disconnected.count, 1)
        compare(errors.count, 0)
        compare(h.error, HubConnection.Error.NoError)
        compare(h.connectionId, "")
        compare(h.transport, HubConnection.Transport.None)
        compare(h.transportName, "None")

        // active true starts again
        h.active = true
        waitConnected(h)
        compare(connected.count, 2)
        // and stop() clears it
        h.stop()
        compare(h.active, false)
        tryCompare(h, "state", HubConnection.State.Disconnected, 10000)
    }

    function test_failure(data) {
        // no such hub: negotiate fails, active falls back to false
        const h = hub(data, TestServer.baseUrl + "/hubs/nothing-here", {})
        const errors = spy(h, "errorOccurred")
        h.active = true
        tryCompare(errors, "count", 1, 15000)
        compare(errors.signalArguments[0][0], HubConnection.Error.NegotiationFailed) /* Qt 6.4's qmllint does not find enums of a base type's extension (HubConnectionBase's QmlErrorValues); the engine does */ // qmllint disable type
        compare(h.error, HubConnection.Error.NegotiationFailed)
        verify(h.errorString.length > 0)
        compare(h.state, HubConnection.State.Disconnected)
        compare(h.active, false)
    }

    function test_declarative(data) {
        const h = createTemporaryObject(declarativeHub, testCase,
                                        {transports: data.transports, protocol: data.protocol})
        hubs.push(h)
        waitConnected(h)
        compare(h.active, true)
        let r
        h.invoke("Echo", "declared").then(v => r = v)
        tryVerify(() => r === "declared", 10000)
    }

    function test_accessToken(data) {
        const tenant = "tokens-" + data.tag
        const token = TestServer.token("tia", tenant)

        // a fixed token
        const fixed = hub(data, TestServer.notificationsUrl, {accessToken: token, active: true})
        waitConnected(fixed)

        // a provider returning a string, called for every start
        let calls = 0
        const provided = hub(data, TestServer.notificationsUrl,
                             {accessTokenProvider: () => { ++calls; return token }})
        provided.start()
        waitConnected(provided)
        compare(calls, 1)

        // a provider returning a promise
        const promised = hub(data, TestServer.notificationsUrl,
                             {accessTokenProvider: () => new Promise(resolve => resolve(token))})
        promised.start()
        waitConnected(promised)

        // no token: Unauthorized
        const anonymous = hub(data, TestServer.notificationsUrl, {})
        anonymous.start()
        tryCompare(anonymous, "active", false, 15000)
        compare(anonymous.error, HubConnection.Error.Unauthorized)

        // a provider that throws or rejects: Unauthorized, and the text says why
        const throwing = hub(data, TestServer.notificationsUrl,
                             {accessTokenProvider: () => { throw new Error("no token today") }})
        throwing.start()
        tryCompare(throwing, "active", false, 15000)
        compare(throwing.error, HubConnection.Error.Unauthorized)
        verify(throwing.errorString.indexOf("no token today") >= 0, throwing.errorString)
        const rejecting = hub(data, TestServer.notificationsUrl,
                              {accessTokenProvider: () => Promise.reject("refused")})
        rejecting.start()
        tryCompare(rejecting, "active", false, 15000)
        compare(rejecting.error, HubConnection.Error.Unauthorized)
        verify(rejecting.errorString.indexOf("refused") >= 0, rejecting.errorString)
    }
}
