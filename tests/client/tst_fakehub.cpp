// SPDX-License-Identifier: MIT
// The test kit itself: a HubConnection against Heliograph::Testing::FakeHub over WebSockets
// (JSON and MessagePack) and Server-Sent Events. Handlers answer invocations; dropped answers
// leave calls pending; delays delay; duplicates arrive twice; Close, closed transports and
// aborted connections produce the client's documented reactions.
#include "clientcalls.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/testing/fakehub.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QPromise>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <stdexcept>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

using State = HubConnection::State;
using Transport = HubConnection::Transport;
using HubProtocolKind = HubConnection::Protocol;

namespace {

void addRows()
{
    QTest::addColumn<Transport>("transport");
    QTest::addColumn<HubProtocolKind>("protocol");
    QTest::newRow("websockets-json") << Transport::WebSockets << HubProtocolKind::Json;
    QTest::newRow("websockets-messagepack")
        << Transport::WebSockets << HubProtocolKind::MessagePack;
    QTest::newRow("sse-json") << Transport::ServerSentEvents << HubProtocolKind::Json;
}

/// A client for `hub` with the row's transport and protocol, and a fast fixed retry policy
/// (or none).
std::unique_ptr<HubConnection> makeClient(const FakeHub &hub, bool reconnect = false)
{
    QFETCH(Transport, transport);
    QFETCH(HubProtocolKind, protocol);
    auto c = std::make_unique<HubConnection>(hub.url());
    c->setTransports(transport);
    c->setProtocol(protocol);
    c->setRetryPolicy(reconnect ? std::make_shared<DefaultRetryPolicy>(
                          QList<std::chrono::milliseconds> {10ms}, true, 0.0)
                                : nullptr);
    return c;
}

/// Every invocation target the hub received, in order.
QList<QByteArray> invokedTargets(const FakeHub &hub)
{
    QList<QByteArray> out;
    for (const HubMessage &m : hub.received(MessageType::Invocation))
        out.append(std::get<InvocationMessage>(m).target);
    return out;
}

} // namespace

class tst_FakeHub : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void handlersAnswer_data() { addRows(); }
    void handlersAnswer()
    {
        QFETCH(Transport, transport);
        FakeHub hub;
        QVERIFY(hub.isListening());
        hub.handle("Add", [](const ValueList &a) { return a[0].toInteger() + a[1].toInteger(); });
        hub.handle("Fail", [](const ValueList &) -> Value { throw std::runtime_error("no way"); });
        auto promise = std::make_shared<QPromise<Value>>();
        hub.handleAsync("Later", [promise](const ValueList &) {
            promise->start();
            return promise->future();
        });
        hub.handleStream("Count", [](const ValueList &a) {
            ValueList items;
            for (qint64 i = 1; i <= a[0].toInteger(); ++i)
                items.append(i);
            return items;
        });
        QSignalSpy connectedSpy(&hub, &FakeHub::clientConnected);
        auto client = makeClient(hub);
        QVERIFY(connectNow(*client));
        QCOMPARE(client->transport(), transport);
        QCOMPARE(hub.connectionIds(), QStringList {client->connectionId()});
        QCOMPARE(connectedSpy.size(), 1);
        QCOMPARE(connectedSpy.first().first().toString(), client->connectionId());
        QCOMPARE(hub.protocolOf(client->connectionId()), client->protocolName().toUtf8());
        QCOMPARE(hub.transportOf(client->connectionId()), transport);

        QCOMPARE(call(*client, "Add", {2, 40}), Value(42));
        QCOMPARE(call(*client, "add", {1, 1}), Value(2)); // case-insensitive
        QCOMPARE(call(*client, "Fail"), Value("error: no way"));
        QCOMPARE(call(*client, "Nope"),
                 Value("error: Failed to invoke 'Nope' due to an error on the server. "
                       "HubException: Method does not exist."));

        QFuture<Value> later = client->invoke("Later");
        QTRY_VERIFY(promise->future().isStarted());
        QVERIFY(!settle(later, 100)); // not answered before the promise is
        promise->addResult(Value("done"));
        promise->finish();
        QVERIFY(settle(later));
        QCOMPARE(later.result(), Value("done"));

        HubStream *stream = client->stream("Count", {3});
        QSignalSpy items(stream, &HubStream::item);
        QSignalSpy completed(stream, &HubStream::completed);
        QVERIFY(completed.wait(5000));
        QCOMPARE(items.size(), 3);
        QCOMPARE(items.at(2).first().value<Value>(), Value(3));
        delete stream;

        QCOMPARE(invokedTargets(hub), (QList<QByteArray> {"Add", "add", "Fail", "Nope", "Later"}));
        QCOMPARE(hub.received(MessageType::StreamInvocation).size(), 1);
        QVERIFY(!hub.received(MessageType::Ping).isEmpty()); // the Ping after the handshake
        QCOMPARE(hub.received().constFirst().connectionId, client->connectionId());
        hub.clearReceived();
        QVERIFY(hub.received().isEmpty());

        QSignalSpy gone(&hub, &FakeHub::clientDisconnected);
        client->stop();
        QTRY_COMPARE(client->state(), State::Disconnected);
        QTRY_COMPARE(gone.size(), 1);
        QCOMPARE(hub.connectionCount(), 0);
        QCOMPARE(hub.received(MessageType::Close).size(), 1);
    }

    /// Every setter of the fake hub has a getter; recording is a switch.
    void settings()
    {
        FakeHub hub;
        QVERIFY(hub.isListening());
        QCOMPARE(hub.transports(), Transport::WebSockets | Transport::ServerSentEvents);
        hub.setTransports(Transport::WebSockets);
        QCOMPARE(hub.transports(), HubConnection::Transports(Transport::WebSockets));
        QVERIFY(hub.handshakeResponse().isEmpty());
        hub.setHandshakeResponse("{\"error\":\"no\"}\x1e");
        QCOMPARE(hub.handshakeResponse(), QByteArray("{\"error\":\"no\"}\x1e"));
        QCOMPARE(hub.dropProbability(), 0.0);
        hub.setDropProbability(0.25, 1);
        QCOMPARE(hub.dropProbability(), 0.25);
        QCOMPARE(hub.delay(), 0ms);
        hub.setDelay(20ms);
        QCOMPARE(hub.delay(), 20ms);
        hub.resetFaults();
        QCOMPARE(hub.dropProbability(), 0.0);
        QCOMPARE(hub.delay(), 0ms);
        QVERIFY(hub.isRecordingEnabled());
        hub.setRecordingEnabled(false);
        QVERIFY(!hub.isRecordingEnabled());
    }

    void sendToClients_data() { addRows(); }
    void sendToClients()
    {
        FakeHub hub;
        auto first = makeClient(hub);
        auto second = makeClient(hub);
        QList<ValueList> firstGot, secondGot;
        first->on("Notify", [&](const ValueList &a) { firstGot.append(a); });
        second->on("notify", [&](const ValueList &a) { secondGot.append(a); });
        QVERIFY(connectNow(*first));
        QVERIFY(connectNow(*second));
        QCOMPARE(hub.connectionCount(), 2);

        hub.sendInvocation("Notify", {"all", 1});
        QTRY_COMPARE(firstGot.size(), 1);
        QTRY_COMPARE(secondGot.size(), 1);
        QCOMPARE(firstGot.first(), (ValueList {"all", 1}));

        hub.sendInvocation("Notify", {"one"}, second->connectionId());
        QTRY_COMPARE(secondGot.size(), 2);
        QCOMPARE(secondGot.last(), ValueList {"one"});
        // the first client got nothing more: a call answered after the send proves it
        QCOMPARE(call(*first, "Nope").toString().startsWith(u"error:"_s), true);
        QCOMPARE(firstGot.size(), 1);

        // client results
        first->onInvoke("Name", HubConnection::SyncResultHandler([](const ValueList &a) {
                            return Value(u"first:"_s + a[0].toString());
                        }));
        QFuture<Value> name = hub.invokeClient(first->connectionId(), "Name", {"x"});
        QVERIFY(settle(name));
        QCOMPARE(name.result(), Value("first:x"));
        QFuture<Value> none = hub.invokeClient(second->connectionId(), "Name", {});
        QVERIFY(settle(none));
        QCOMPARE(failure(none)->message, u"Client didn't provide a result."_s);
        QFuture<Value> nobody = hub.invokeClient(u"no such id"_s, "Name", {});
        QVERIFY(nobody.isFinished());
        QCOMPARE(failure(nobody)->code, Error::NotConnected);
    }

    void drop_data() { addRows(); }
    void drop()
    {
        FakeHub hub;
        hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
        auto client = makeClient(hub);
        QVERIFY(connectNow(*client));

        hub.dropNext(1);
        QFuture<Value> lost = client->invoke("Echo", {"lost"});
        // Answers go out in order: once the next call is answered, the first one's answer
        // would have arrived.
        QCOMPARE(call(*client, "Echo", {"kept"}), Value("kept"));
        QVERIFY(!lost.isFinished());
        QCOMPARE(hub.droppedCount(), quint64(1));
        QCOMPARE(invokedTargets(hub).size(), 2); // the hub did get both calls

        // a dropped invocation from the hub never reaches the handler
        int notified = 0;
        client->on("Notify", [&](const ValueList &) { ++notified; });
        hub.dropNext(1);
        hub.sendInvocation("Notify", {});
        QCOMPARE(call(*client, "Echo", {1}), Value(1));
        QCOMPARE(notified, 0);
        hub.sendInvocation("Notify", {});
        QTRY_COMPARE(notified, 1);

        // the pending call fails when the connection ends
        client->stop();
        QVERIFY(settle(lost));
        QCOMPARE(failure(lost)->code, Error::ConnectionLost);
    }

    void dropProbabilityIsSeeded_data() { addRows(); }
    void dropProbabilityIsSeeded()
    {
        auto run = [](quint32 seed) {
            FakeHub hub;
            hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
            auto client = makeClient(hub);
            if (!connectNow(*client))
                return QList<bool>();
            hub.setDropProbability(0.5, seed);
            QList<QFuture<Value>> calls;
            for (int i = 0; i < 24; ++i)
                calls.append(client->invoke("Echo", {i}));
            // the hub decides when it answers: reset the faults once it has answered all
            if (!QTest::qWaitFor(
                    [&] { return hub.received(MessageType::Invocation).size() == 24; }))
                return QList<bool>();
            hub.resetFaults();
            if (call(*client, "Echo", {"sync"}) != Value("sync"))
                return QList<bool>();
            QList<bool> answered;
            for (const QFuture<Value> &f : std::as_const(calls))
                answered.append(f.isFinished());
            if (quint64(answered.count(false)) != hub.droppedCount())
                return QList<bool>();
            return answered;
        };
        const QList<bool> first = run(42);
        const QList<bool> again = run(42);
        const QList<bool> other = run(7);
        QCOMPARE(first.size(), 24);
        QCOMPARE(again, first);
        QVERIFY(first.count(false) > 0 && first.count(true) > 0);
        QCOMPARE(other.size(), 24);
        QVERIFY(other != first);
    }

    void delay_data() { addRows(); }
    void delay()
    {
        FakeHub hub;
        hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
        auto client = makeClient(hub);
        QList<Value> notified;
        client->on("Notify", [&](const ValueList &a) { notified.append(a.value(0)); });
        QVERIFY(connectNow(*client));

        hub.setDelay(400ms);
        QElapsedTimer clock;
        clock.start();
        QFuture<Value> f = client->invoke("Echo", {"slow"});
        hub.sendInvocation("Notify", {1});
        hub.sendInvocation("Notify", {2});
        QTRY_COMPARE(hub.received(MessageType::Invocation).size(), 1); // answered, held back
        hub.setDelay(0ms); // later messages do not overtake the held-back ones
        hub.sendInvocation("Notify", {3});
        QVERIFY(settle(f));
        QVERIFY2(clock.elapsed() >= 390, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(f.result(), Value("slow"));
        QTRY_COMPARE(notified.size(), 3);
        QCOMPARE(notified, (QList<Value> {1, 2, 3}));

        clock.restart();
        QCOMPARE(call(*client, "Echo", {"fast"}), Value("fast"));
        QVERIFY2(clock.elapsed() < 390, QByteArray::number(clock.elapsed()).constData());
    }

    void duplicate_data() { addRows(); }
    void duplicate()
    {
        FakeHub hub;
        hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
        auto client = makeClient(hub);
        int notified = 0;
        client->on("Notify", [&](const ValueList &) { ++notified; });
        QVERIFY(connectNow(*client));

        hub.duplicateNext(1);
        hub.sendInvocation("Notify", {});
        QTRY_COMPARE(notified, 2);

        // a duplicated Completion: the second copy is for an id no longer pending, ignored
        hub.duplicateNext(1);
        QCOMPARE(call(*client, "Echo", {"once"}), Value("once"));
        QCOMPARE(call(*client, "Echo", {"next"}), Value("next"));
        QCOMPARE(client->state(), State::Connected);
        QCOMPARE(notified, 2);
    }

    void closeAndAbort_data() { addRows(); }
    void closeAndAbort()
    {
        QFETCH(Transport, transport);
        FakeHub hub;
        auto client = makeClient(hub, true);
        QSignalSpy errors(client.get(), &HubConnection::errorOccurred);
        QSignalSpy reconnecting(client.get(), &HubConnection::reconnecting);
        QSignalSpy reconnected(client.get(), &HubConnection::reconnected);
        QVERIFY(connectNow(*client));
        QString id = client->connectionId();

        // Close with allowReconnect: a new connection
        hub.close("draining", true);
        QVERIFY(reconnected.wait(5000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::ServerClosed);
        QVERIFY(client->connectionId() != id);
        QCOMPARE(hub.connectionIds(), QStringList {client->connectionId()});
        id = client->connectionId();

        // abort: the transport fails; pending calls fail with ConnectionLost
        auto never = std::make_shared<QPromise<Value>>(); // never finished
        hub.handleAsync("Never", [never](const ValueList &) {
            never->start();
            return never->future();
        });
        QFuture<Value> pending = client->invoke("Never");
        QTRY_COMPARE(invokedTargets(hub).count("Never"), 1);
        hub.abort();
        QVERIFY(reconnected.wait(5000));
        QCOMPARE(reconnecting.size(), 2);
        QCOMPARE(reconnecting.last().first().value<Error>(), Error::TransportFailed);
        QVERIFY(pending.isFinished());
        QCOMPARE(failure(pending)->code, Error::ConnectionLost);
        QVERIFY2(failure(pending)->message.startsWith(
                     u"Invocation canceled due to the underlying connection being closed."_s),
                 qPrintable(failure(pending)->message));

        if (transport == Transport::WebSockets) {
            // a normal close frame without a Close message: the server closed it
            hub.closeTransport(1000);
            QVERIFY(reconnected.wait(5000));
            QCOMPARE(reconnecting.last().first().value<Error>(), Error::ServerClosed);
            // another close code: a failed transport
            hub.closeTransport(1011);
            QVERIFY(reconnected.wait(5000));
            QCOMPARE(reconnecting.last().first().value<Error>(), Error::TransportFailed);
        }
        QCOMPARE(errors.size(), 0);

        // Close without allowReconnect: the end, with the server's error text
        hub.close("bye");
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::ServerClosed);
        QCOMPARE(client->error(), Error::ServerClosed);
        QCOMPARE(client->errorString(), u"Server returned an error on close: bye"_s);
        QCOMPARE(client->state(), State::Disconnected);
        QTRY_COMPARE(hub.connectionCount(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_FakeHub)
#include "tst_fakehub.moc"
