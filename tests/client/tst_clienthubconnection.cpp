// SPDX-License-Identifier: MIT
// HubConnection against the real heliograph-server in-process, once per transport and
// protocol (Server-Sent Events with JSON only): calls, handlers, typed calls, server errors,
// streams both ways, client results, state signals. One server for the whole run; each row
// uses its own tenant and group names. Reconnecting: tst_clientreconnect.
#include "clienttestsupport.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QPromise>
#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

using State = HubConnection::State;

namespace {

QList<State> statesOf(const QSignalSpy &spy)
{
    QList<State> out;
    for (const QList<QVariant> &args : spy)
        out.append(args.first().value<State>());
    return out;
}

} // namespace

class tst_ClientHubConnection : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;

    QUrl url(const QString &pathAndQuery, quint16 port = 0) const
    {
        return QUrl(
            u"http://127.0.0.1:%1%2"_s.arg(port ? port : m_server->port()).arg(pathAndQuery));
    }

    /// Connections of the current test, stopped by cleanup() (a long-polling connection left
    /// behind would delay the server's shutdown).
    std::vector<std::unique_ptr<HubConnection>> m_connections;

    /// A connection configured for the current row; reconnects quickly.
    HubConnection *connection(const QString &pathAndQuery, quint16 port = 0)
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        auto c = std::make_unique<HubConnection>(url(pathAndQuery, port));
        c->setTransports(transport);
        c->setProtocol(protocol);
        c->setRetryPolicy(std::make_shared<FixedRetryPolicy>(50ms));
        m_connections.push_back(std::move(c));
        return m_connections.back().get();
    }

    /// This row's tenant and group name: rows share the server.
    static QByteArray tag()
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        return QByteArray::number(int(transport)) + '-' + QByteArray::number(int(protocol));
    }
    static Value group()
    {
        return Value::fromUtf8(QByteArray(QTest::currentTestFunction()) + '-' + tag());
    }

    HubConnection *notificationConnection(const QByteArray &user, QList<QByteArray> roles)
    {
        HubConnection *c = connection(u"/hubs/notifications"_s);
        const QString t = token(user, tag(), std::move(roles));
        c->setAccessTokenProvider([t] { return readyToken(t); });
        return c;
    }

private Q_SLOTS:
    void initTestCase_data() { addTransportProtocolRows(); }

    void initTestCase()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }

    void cleanup()
    {
        for (const auto &c : m_connections)
            c->stop();
        for (const auto &c : m_connections)
            QTRY_COMPARE(c->state(), State::Disconnected);
        m_connections.clear();
    }

    void cleanupTestCase() { m_server.reset(); }

    void startInvokeSendOnStop()
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        HubConnection *c = connection(u"/hubs/bench?user=u1"_s);
        QSignalSpy states(c, &HubConnection::stateChanged);
        QSignalSpy connected(c, &HubConnection::connected);
        QSignalSpy disconnected(c, &HubConnection::disconnected);
        QSignalSpy errors(c, &HubConnection::errorOccurred);
        QSignalSpy ids(c, &HubConnection::connectionIdChanged);

        c->start();
        QCOMPARE(c->state(), State::Connecting);
        QVERIFY2(connected.wait(15000), qPrintable(c->errorString()));
        QCOMPARE(statesOf(states), (QList<State> {State::Connecting, State::Connected}));
        QCOMPARE(c->transport(), transport);
        QCOMPARE(c->protocolName(),
                 protocol == HubConnection::Protocol::Json ? u"json"_s : u"messagepack"_s);
        QCOMPARE(c->connectionId().size(), 22);
        QCOMPARE(ids.size(), 1);
        QCOMPARE(c->error(), Error::NoError);
        QVERIFY(c->roundTripTime() >= 0);
        QTRY_VERIFY(c->bytesSent() > 0 && c->bytesReceived() > 0);

        // invoke: the result; a void method: null
        QCOMPARE(call(*c, "Echo", {Value("hello")}), Value("hello"));
        QCOMPARE(call(*c, "Echo", {Value::fromUtf8(QByteArray(20000, 'x'))}),
                 Value::fromUtf8(QByteArray(20000, 'x')));
        QCOMPARE(call(*c, "JoinGroup", {group()}), Value());

        // several handlers per method, names ignoring case
        ValueList first, second, third;
        Subscription s1 = c->on("Receive", [&](const ValueList &a) { first.append(a.value(0)); });
        Subscription s2 = c->on("receive", [&](const ValueList &a) { second.append(a.value(0)); });
        QVERIFY(s1.isActive());
        QCOMPARE(s1.method(), QByteArray("Receive"));
        QFuture<void> sent = c->send("BroadcastToGroup", {group(), Value("one")});
        QVERIFY(settle(sent));
        QVERIFY(!failure(sent));
        QTRY_COMPARE(first, ValueList {Value("one")});
        QTRY_COMPARE(second, ValueList {Value("one")});

        // a removed handler is not called; the other one is
        s1.disconnect();
        QVERIFY(!s1.isActive());
        QVERIFY(s2.isActive());
        c->send("BroadcastToGroup", {group(), Value("two")});
        QTRY_COMPARE(second.size(), 2);
        QCOMPARE(first.size(), 1);

        // a handler with a context object goes with it
        {
            QObject context;
            Subscription s3
                = c->on("Receive", &context, [&](const ValueList &a) { third.append(a.value(0)); });
            c->send("BroadcastToGroup", {group(), Value("three")});
            QTRY_COMPARE(third, ValueList {Value("three")});
            QVERIFY(s3.isActive());
        }
        // off(method) removes the rest; what the server sends before a completion arrives
        // before it, so the Echo below proves "four" was not handled
        c->off("RECEIVE");
        QVERIFY(!s2.isActive());
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"no handler for .*Receive"_s));
        c->send("BroadcastToGroup", {group(), Value("four")});
        QCOMPARE(call(*c, "Echo", {Value("sync")}), Value("sync"));
        QCOMPARE(second.size(), 3);
        QCOMPARE(third.size(), 1);
        QCOMPARE(first.size(), 1);

        // stop: Disconnecting, then Disconnected, without an error
        c->stop();
        QVERIFY(c->state() == State::Disconnecting || c->state() == State::Disconnected);
        QVERIFY(!disconnected.isEmpty() || disconnected.wait(10000));
        QCOMPARE(statesOf(states).mid(2),
                 (QList<State> {State::Disconnecting, State::Disconnected}));
        QCOMPARE(errors.size(), 0);
        QCOMPARE(c->error(), Error::NoError);
        QVERIFY(c->connectionId().isEmpty());
        QCOMPARE(c->transport(), HubConnection::Transport::None);

        // calls while disconnected fail at once, asynchronously
        QFuture<Value> late = c->invoke("Echo", {Value("late")});
        QVERIFY(settle(late));
        QCOMPARE(failure(late)->code, Error::NotConnected);
        QFuture<void> lateSend = c->send("Echo", {Value("late")});
        QVERIFY(settle(lateSend));
        QCOMPARE(failure(lateSend)->code, Error::NotConnected);

        // and it starts again
        QVERIFY(connectNow(*c));
        QCOMPARE(connected.size(), 2);
        QCOMPARE(call(*c, "Echo", {Value("again")}), Value("again"));
    }

    // A burst from the server (bench hub Flood: every message queued at once) arrives whole and
    // in order, before the invocation's completion.
    void burstFromServer()
    {
        HubConnection *c = connection(u"/hubs/bench?user=burst"_s);
        QVERIFY(connectNow(*c));
        QStringList received;
        c->on<QString>("Receive", [&](const QString &payload) { received.append(payload); });
        QCOMPARE(call(*c, "Flood", {Value(3000), Value(u"burst ✓"_s)}), Value(3000));
        QCOMPARE(received.size(), 3000);
        QCOMPARE(received.count(u"burst ✓"_s), 3000);
        QCOMPARE(call(*c, "Flood", {Value(100001), Value("x")}),
                 Value("error: An unexpected error occurred invoking 'Flood' on the server. "
                       "HubException: count must be between 0 and 100000"));
    }

    void typedCalls()
    {
        HubConnection *c = connection(u"/hubs/bench?user=u2"_s);
        QVERIFY(connectNow(*c));

        QFuture<QString> typed = c->invokeAs<QString>("Echo", u"typed \u00e9"_s);
        QVERIFY(settle(typed));
        QCOMPARE(typed.result(), u"typed \u00e9"_s);
        QFuture<void> joined = c->invokeAs<void>("JoinGroup", QString::fromUtf8(group().bytes()));
        QVERIFY(settle(joined));
        QVERIFY(!failure(joined));

        QStringList strings;
        QList<qint64> numbers;
        int calls = 0;
        c->on<>("Receive", [&] { ++calls; }); // arguments ignored
        c->on<QString>("Receive", [&](const QString &s) { strings.append(s); });
        c->on<qint64>("Receive", [&](qint64 n) { numbers.append(n); });
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"handler of Receive not called: argument 0: "_s));
        QFuture<void> broadcast = c->invokeAs<void>(
            "BroadcastToGroup", QString::fromUtf8(group().bytes()), u"payload"_s);
        QVERIFY(settle(broadcast));
        QTRY_COMPARE(strings, QStringList {u"payload"_s});
        QCOMPARE(numbers.size(), 0);
        QCOMPARE(calls, 1);

        // a result that does not convert fails the future
        QFuture<int> wrong = c->invokeAs<int>("Echo", u"not a number"_s);
        QVERIFY(settle(wrong));
        QCOMPARE(failure(wrong)->code, Error::ConversionFailed);
        QVERIFY2(failure(wrong)->message.startsWith(u"Echo: "_s),
                 qPrintable(failure(wrong)->message));

        // the callback flavour
        std::optional<HubResult<Value>> result;
        c->invoke("Echo", {Value("callback")}, this,
                  [&](const HubResult<Value> &r) { result = r; });
        QTRY_VERIFY(result.has_value());
        QVERIFY(result->has_value());
        QCOMPARE(**result, Value("callback"));
        // ...is not called once its context is gone
        bool called = false;
        {
            QObject context;
            c->invoke("Echo", {Value("gone")}, &context,
                      [&](const HubResult<Value> &) { called = true; });
        }
        QCOMPARE(call(*c, "Echo", {Value("sync")}), Value("sync"));
        QVERIFY(!called);
    }

    void serverErrors()
    {
        HubConnection *c = connection(u"/hubs/bench?user=u3"_s);
        QVERIFY(connectNow(*c));
        QCOMPARE(call(*c, "Echo", {Value("a"), Value("b")}),
                 Value("error: Failed to invoke 'Echo' due to an error on the server."));
        QCOMPARE(call(*c, "NoSuchMethod"),
                 Value("error: Failed to invoke 'NoSuchMethod' due to an error on the server. "
                       "HubException: Method does not exist."));
        QCOMPARE(call(*c, "JoinGroup", {Value()}),
                 Value("error: An unexpected error occurred invoking 'JoinGroup' on the server."));
        QFuture<Value> f = c->invoke("Echo", {Value(1)});
        QVERIFY(settle(f));
        QCOMPARE(failure(f)->code, Error::ServerError);

        std::optional<HubResult<Value>> result;
        c->invoke("Echo", {}, this, [&](const HubResult<Value> &r) { result = r; });
        QTRY_VERIFY(result.has_value());
        QVERIFY(!result->has_value());
        QCOMPARE(result->error().code, Error::ServerError);
        // errors do not hurt the connection
        QCOMPARE(call(*c, "Echo", {Value("fine")}), Value("fine"));
        QCOMPARE(c->state(), State::Connected);
    }

    void serverStream()
    {
        auto admin = notificationConnection("ann", {"Admin"});
        QVERIFY(connectNow(*admin));
        QCOMPARE(call(*admin, "BroadcastSystemAlert", {Value("one")}), Value());
        QCOMPARE(call(*admin, "BroadcastSystemAlert", {Value("two")}), Value());

        HubStream *stream = admin->stream("StreamAuditLog", {Value("2000-01-01T00:00:00Z")});
        QVERIFY(!stream->invocationId().isEmpty());
        QSignalSpy items(stream, &HubStream::item);
        QSignalSpy finished(stream, &HubStream::finished);
        QTRY_COMPARE(items.size(), 2);
        QCOMPARE(items.at(0).first().value<Value>()["details"], Value("one"));
        QCOMPARE(items.at(1).first().value<Value>()["action"], Value("BroadcastSystemAlert"));
        // live items
        QCOMPARE(call(*admin, "BroadcastSystemAlert", {Value("three")}), Value());
        QTRY_COMPARE(items.size(), 3);
        QCOMPARE(items.at(2).first().value<Value>()["details"], Value("three"));

        // cancel: finished at once, nothing after
        stream->cancel();
        QCOMPARE(finished.size(), 1);
        QVERIFY(stream->isFinished());
        QCOMPARE(stream->error()->code, Error::Canceled);
        QCOMPARE(call(*admin, "BroadcastSystemAlert", {Value("four")}), Value());
        QCOMPARE(call(*admin, "GetOnlineUsers").isArray(), true);
        QCOMPARE(items.size(), 3);
        delete stream;

        // an error completion
        HubStream *bad = admin->stream("StreamAuditLog", {Value("not a date")});
        QSignalSpy badErrors(bad, &HubStream::errorOccurred);
        QSignalSpy badCompleted(bad, &HubStream::completed);
        QVERIFY(badErrors.wait(10000));
        const auto error = badErrors.first().first().value<HubError>();
        QCOMPARE(error.code, Error::ServerError);
        QVERIFY2(error.message.contains(u"'from' must be an ISO 8601 date-time."_s),
                 qPrintable(error.message));
        QCOMPARE(badCompleted.size(), 0);
        QVERIFY(bad->isFinished());

        // not allowed for this user
        auto user = notificationConnection("bob", {});
        QVERIFY(connectNow(*user));
        HubStream *refused = user->stream("StreamAuditLog", {Value("2000-01-01T00:00:00Z")});
        QSignalSpy refusedErrors(refused, &HubStream::errorOccurred);
        QVERIFY(refusedErrors.wait(10000));
        QCOMPARE(refusedErrors.first().first().value<HubError>().message,
                 u"Failed to invoke 'StreamAuditLog' because user is unauthorized"_s);

        // while disconnected: an error, after stream() returned
        user->stop();
        QTRY_COMPARE(user->state(), State::Disconnected);
        HubStream *offline = user->stream("StreamAuditLog", {});
        QSignalSpy offlineErrors(offline, &HubStream::errorOccurred);
        QCOMPARE(offlineErrors.size(), 0);
        QVERIFY(offlineErrors.wait(5000));
        QCOMPARE(offlineErrors.first().first().value<HubError>().code, Error::NotConnected);
    }

    void uploadStream()
    {
        auto editor = notificationConnection("eve", {"Editor"});
        QVERIFY(connectNow(*editor));

        UploadStream *up = editor->createUploadStream();
        QVERIFY(up->isOpen());
        QVERIFY(up->write(Value(R"({"op":"first"})"))); // buffered until the call
        QFuture<Value> done = editor->invoke("UploadDocumentPatches", {Value("doc-1")}, {up});
        QVERIFY(!up->streamId().isEmpty());
        QVERIFY(up->writeAs(u"{\"op\":\"second\"}"_s));
        QVERIFY(up->write(Value(R"({"op":"third"})")));
        QSignalSpy closed(up, &UploadStream::closed);
        up->complete();
        QCOMPARE(closed.size(), 1);
        QVERIFY(!up->isOpen());
        QVERIFY(!up->write(Value("late")));
        QVERIFY(settle(done));
        QVERIFY2(!failure(done), qPrintable(failure(done) ? failure(done)->message : QString()));
        QCOMPARE(done.result(), Value(3));
        const Value patches = call(*editor, "GetDocumentPatchesSince", {Value("doc-1"), Value(0)});
        QCOMPARE(patches.size(), 3);
        QCOMPARE(patches[1]["patchJson"], Value(R"({"op":"second"})"));

        // one call per upload stream
        QFuture<Value> again = editor->invoke("UploadDocumentPatches", {Value("doc-2")}, {up});
        QVERIFY(settle(again));
        QCOMPARE(failure(again)->code, Error::InvalidArgument);

        // a failed upload: the server sees the error
        UploadStream *broken = editor->createUploadStream();
        QFuture<Value> failed = editor->invoke("UploadDocumentPatches", {Value("doc-3")}, {broken});
        broken->fail(u"disk on fire"_s);
        QVERIFY(settle(failed));
        QVERIFY2(failure(failed) && failure(failed)->message.contains(u"disk on fire"_s),
                 qPrintable(failure(failed) ? failure(failed)->message : u"no error"_s));
    }

    void clientResults()
    {
        auto admin = notificationConnection("ann", {"Admin"});
        auto bob = notificationConnection("bob", {});
        QVERIFY(connectNow(*admin));
        QVERIFY(connectNow(*bob));
        const Value bobId(bob->connectionId());

        // a synchronous handler
        Subscription s = bob->onInvoke("GetClientInfo",
                                       [](const ValueList &) { return Value("bob's client"); });
        QVERIFY(s.isActive());
        QCOMPARE(call(*admin, "QueryClient", {bobId}), Value("bob's client"));

        // an asynchronous one replaces it
        bob->onInvoke("getclientinfo", [&](const ValueList &) {
            auto promise = std::make_shared<QPromise<Value>>();
            promise->start();
            QTimer::singleShot(20, bob, [promise] {
                promise->addResult(Value(ValueList {Value("later"), Value(2)}));
                promise->finish();
            });
            return promise->future();
        });
        QVERIFY(!s.isActive());
        QCOMPARE(call(*admin, "QueryClient", {bobId}), Value(ValueList {Value("later"), Value(2)}));

        // a handler that throws: its text goes to the server
        bob->onInvoke("GetClientInfo", [](const ValueList &) -> Value {
            throw std::runtime_error("no info today");
        });
        const Value thrown = call(*admin, "QueryClient", {bobId});
        QVERIFY2(thrown.toString().startsWith(u"error: "_s)
                     && thrown.toString().contains(u"no info today"_s),
                 qPrintable(thrown.toString()));

        // no handler
        bob->off("GetClientInfo");
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"no handler for the server's invocation"_s));
        const Value none = call(*admin, "QueryClient", {bobId});
        QVERIFY2(none.toString().contains(u"Client didn't provide a result."_s),
                 qPrintable(none.toString()));
    }
};

QTEST_MAIN(tst_ClientHubConnection)
#include "tst_clienthubconnection.moc"
