// SPDX-License-Identifier: MIT
// What HubConnection does so that nothing is lost across outages, against the real
// heliograph-server in-process: stateful reconnect through a proxy that cuts the socket, the
// offline outbox (order, limit, timeout, persistence across an application restart), the
// rejoin registry, replay cursors (duplicates, gaps, the notification hub's replay after a
// restart of the app) and network awareness.
#include "clienttestsupport.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

using State = HubConnection::State;

namespace {

/// The network state under the test's control.
class ManualMonitor : public NetworkMonitor {
public:
    bool isOnline() const override { return m_online; }
    void set(bool online)
    {
        if (m_online == online)
            return;
        m_online = online;
        Q_EMIT onlineChanged(online);
    }

private:
    bool m_online = true;
};

QStringList strings(const QList<Value> &values)
{
    QStringList out;
    for (const Value &v : values)
        out.append(v.toString());
    return out;
}

} // namespace

class tst_ClientResilience : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;
    QTemporaryDir m_dir;

    QUrl url(const QString &pathAndQuery, quint16 port = 0) const
    {
        return QUrl(
            u"http://127.0.0.1:%1%2"_s.arg(port ? port : m_server->port()).arg(pathAndQuery));
    }

    std::unique_ptr<HubConnection> connection(const QString &pathAndQuery, quint16 port = 0,
                                              HubConnection::Protocol protocol
                                              = HubConnection::Protocol::Json)
    {
        auto c = std::make_unique<HubConnection>(url(pathAndQuery, port));
        c->setProtocol(protocol);
        c->setRetryPolicy(std::make_shared<FixedRetryPolicy>(50ms));
        c->setNetworkMonitor(nullptr); // the machine's network state is not the test's
        return c;
    }

    /// Stops the server (Close with allowReconnect) and waits until `c` is Reconnecting.
    bool serverDown(HubConnection &c)
    {
        m_server->stop();
        return QTest::qWaitFor([&] { return c.state() == State::Reconnecting; }, 10000);
    }

    bool serverUp(quint16 port, const std::function<void(Server::ServeOptions &)> &tweak = {})
    {
        m_server.reset();
        m_server = startServer(port, tweak);
        return m_server != nullptr;
    }

    /// POSTs a notification for `user` through the push API; its sequence, or -1.
    qint64 push(const QByteArray &user, const QString &title)
    {
        QNetworkAccessManager nam;
        QNetworkRequest request(
            url(u"/api/tenants/t1/users/%1/notifications"_s.arg(QString::fromUtf8(user))));
        request.setRawHeader("Authorization", "Bearer " + token("svc", "t1", {"Service"}).toUtf8());
        request.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/json"));
        QNetworkReply *reply = nam.post(
            request, R"({"title":")" + title.toUtf8() + R"(","body":"b","type":"info"})");
        if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 10000))
            return -1;
        reply->deleteLater();
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() != 202) {
            qWarning("push failed: %s", reply->readAll().constData());
            return -1;
        }
        return Value::fromJsonValue(
                   QJsonDocument::fromJson(reply->readAll()).object().value(u"sequence"_s))
            .toInteger();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void init()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }

    void cleanup() { m_server.reset(); }

    void statefulResume_data()
    {
        QTest::addColumn<HubConnection::Protocol>("protocol");
        QTest::newRow("json") << HubConnection::Protocol::Json;
        QTest::newRow("messagepack") << HubConnection::Protocol::MessagePack;
    }

    // The socket is cut without a close handshake while an invocation and two server-to-client
    // messages are in flight: the connection resumes on a new socket with the same id, the
    // state never leaves Connected, the invocation completes and each message arrives once.
    void statefulResume()
    {
        QFETCH(HubConnection::Protocol, protocol);
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=r1"_s, proxy.port(), protocol);
        c->setTransports(HubConnection::Transport::WebSockets);
        QList<Value> received;
        c->on("Receive", [&](const ValueList &args) { received.append(args.value(0)); });
        QVERIFY(connectNow(*c));
        QCOMPARE(proxy.countRequests("useStatefulReconnect=true"), 1);
        auto peer = connection(u"/hubs/bench?user=peer"_s, 0, protocol);
        QVERIFY(connectNow(*peer));
        QCOMPARE(call(*peer, "SendToUser", {Value("r1"), Value("before")}), Value());
        QTRY_COMPARE(received.size(), 1);

        const QString id = c->connectionId();
        QSignalSpy states(c.get(), &HubConnection::stateChanged);
        QSignalSpy resumed(c.get(), &HubConnection::resumed);
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);

        proxy.setMode(TcpProxy::Mode::Frozen); // both directions go nowhere from here
        QFuture<Value> during = c->invoke("Echo", {Value("during the cut")});
        QCOMPARE(call(*peer, "SendToUser", {Value("r1"), Value("lost 1")}), Value());
        QCOMPARE(call(*peer, "SendToUser", {Value("r1"), Value("lost 2")}), Value());
        proxy.dropAll();
        proxy.setMode(TcpProxy::Mode::Forward);

        QVERIFY(resumed.wait(15000));
        QVERIFY(settle(during));
        QVERIFY(!failure(during));
        QCOMPARE(during.result(), Value("during the cut"));
        QTRY_COMPARE(received.size(), 3);
        QCOMPARE(strings(received), QStringList({u"before"_s, u"lost 1"_s, u"lost 2"_s}));
        QCOMPARE(states.size(), 0);
        QCOMPARE(reconnecting.size(), 0);
        QCOMPARE(c->state(), State::Connected);
        QCOMPARE(c->connectionId(), id);
        QCOMPARE(c->resumeCount(), 1);
        QCOMPARE(c->reconnectCount(), 0);
        // the resumed connection carries on; nothing arrives twice
        QCOMPARE(call(*c, "Echo", {Value("after")}), Value("after"));
        QCOMPARE(call(*peer, "SendToUser", {Value("r1"), Value("after")}), Value());
        QTRY_COMPARE(received.size(), 4);
        QCOMPARE(received.last(), Value("after"));
    }

    // The client sees its socket drop before the server does (the server's side stays open):
    // the resume must replace the old socket rather than be refused with 409.
    void statefulResumeBeforeServerNotices()
    {
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=r4"_s, proxy.port());
        c->setTransports(HubConnection::Transport::WebSockets);
        QVERIFY(connectNow(*c));
        const QString id = c->connectionId();
        QSignalSpy resumed(c.get(), &HubConnection::resumed);
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        proxy.setMode(TcpProxy::Mode::Frozen);
        QFuture<Value> during = c->invoke("Echo", {Value("across the swap")});
        proxy.dropClientsOnly();
        proxy.setMode(TcpProxy::Mode::Forward);
        QVERIFY(resumed.wait(15000));
        QVERIFY(settle(during));
        QVERIFY(!failure(during));
        QCOMPARE(during.result(), Value("across the swap"));
        QCOMPARE(c->connectionId(), id);
        QCOMPARE(reconnecting.size(), 0);
        QCOMPARE(call(*c, "Echo", {Value("after")}), Value("after"));
    }

    // A resume that cannot connect (the proxy refuses) falls back to automatic reconnect: the
    // pending call fails, a new connection follows.
    void statefulResumeFailsThenReconnects()
    {
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=r2"_s, proxy.port());
        c->setTransports(HubConnection::Transport::WebSockets);
        QVERIFY(connectNow(*c));
        const QString id = c->connectionId();
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        QSignalSpy resumed(c.get(), &HubConnection::resumed);
        proxy.setMode(TcpProxy::Mode::Frozen);
        QFuture<Value> pending = c->invoke("Echo", {Value("lost")});
        proxy.setMode(TcpProxy::Mode::Refusing);
        proxy.dropAll();
        QVERIFY(reconnecting.wait(15000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::TransportFailed);
        QVERIFY(settle(pending));
        QCOMPARE(failure(pending)->code, Error::ConnectionLost);
        proxy.setMode(TcpProxy::Mode::Forward);
        QVERIFY(reconnected.wait(15000));
        QVERIFY(c->connectionId() != id);
        QCOMPARE(resumed.size(), 0);
        QCOMPARE(c->resumeCount(), 0);
    }

    void statefulOffUsesClassicReconnect()
    {
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=r3"_s, proxy.port());
        c->setTransports(HubConnection::Transport::WebSockets);
        c->setStatefulReconnectEnabled(false);
        QVERIFY(connectNow(*c));
        QCOMPARE(proxy.countRequests("useStatefulReconnect"), 0);
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        proxy.dropAll();
        QVERIFY(reconnected.wait(15000));
        QCOMPARE(c->resumeCount(), 0);
        QCOMPARE(c->reconnectCount(), 1);
    }

    void outboxFlushesInOrder_data() { addTransportProtocolRows(); }

    // Calls made while reconnecting wait in the outbox and go out in order once connected.
    void outboxFlushesInOrder()
    {
        QFETCH(HubConnection::Transport, transport);
        QFETCH(HubConnection::Protocol, protocol);
        auto c = connection(u"/hubs/bench?user=o1"_s, 0, protocol);
        c->setTransports(transport);
        QStringList events;
        c->on("Receive", [&](const ValueList &args) { events.append(args.value(0).toString()); });
        QVERIFY(connectNow(*c));
        const quint16 port = m_server->port();
        QVERIFY(serverDown(*c));

        QFuture<Value> a = c->invoke("Echo", {Value("a")});
        QFuture<void> b = c->send("SendToUser", {Value("o1"), Value("b")});
        QFuture<Value> d = c->invoke("Echo", {Value("c")});
        a.then([&](const Value &v) { events.append(v.toString()); });
        d.then([&](const Value &v) { events.append(v.toString()); });
        QCOMPARE(c->queuedMessages(), 3);
        HubStream *stream = c->stream("Echo"); // streams are never queued
        QSignalSpy streamError(stream, &HubStream::errorOccurred);
        QVERIFY(streamError.wait(1000));
        QCOMPARE(streamError.first().first().value<HubError>().code, Error::NotConnected);
        delete stream;

        QVERIFY(serverUp(port));
        QTRY_COMPARE_WITH_TIMEOUT(events.size(), 3, 15000);
        QCOMPARE(events, QStringList({u"a"_s, u"b"_s, u"c"_s}));
        QVERIFY(b.isFinished() && !failure(b));
        QCOMPARE(c->queuedMessages(), 0);
    }

    void outboxLimitAndTimeout()
    {
        auto c = connection(u"/hubs/bench?user=o2"_s);
        c->setOutboxLimit(2);
        c->setOutboxTimeout(300ms);
        QVERIFY(connectNow(*c));
        QVERIFY(serverDown(*c));
        QFuture<Value> first = c->invoke("Echo", {Value(1)});
        QFuture<void> second = c->send("Echo", {Value(2)});
        QFuture<Value> third = c->invoke("Echo", {Value(3)});
        QVERIFY(settle(third));
        QCOMPARE(failure(third)->code, Error::QueueFull);
        QCOMPARE(c->queuedMessages(), 2);
        QVERIFY(settle(first, 5000));
        QVERIFY(settle(second, 5000));
        QCOMPARE(failure(first)->code, Error::TimedOut);
        QCOMPARE(failure(second)->code, Error::TimedOut);
        QCOMPARE(c->queuedMessages(), 0);

        // a disabled outbox fails at once, as the official clients do
        c->setOutboxEnabled(false);
        QFuture<Value> refused = c->invoke("Echo", {Value(4)});
        QVERIFY(settle(refused));
        QCOMPARE(failure(refused)->code, Error::NotConnected);
        // stop() fails what is queued
        c->setOutboxEnabled(true);
        QFuture<Value> queued = c->invoke("Echo", {Value(5)});
        c->stop();
        QVERIFY(settle(queued));
        QCOMPARE(failure(queued)->code, Error::ConnectionLost);
    }

    // The rejoin calls run first after every new connection: a broadcast queued while
    // reconnecting reaches the group the connection rejoined.
    void rejoinBeforeOutbox()
    {
        auto c = connection(u"/hubs/bench?user=j1"_s);
        QStringList received;
        c->on("Receive", [&](const ValueList &args) { received.append(args.value(0).toString()); });
        QSignalSpy rejoinFailed(c.get(), &HubConnection::rejoinFailed);
        c->addRejoin("JoinGroup", {Value("room")});
        const quint64 broken = c->addRejoin("NoSuchMethod");
        QVERIFY(connectNow(*c));
        QVERIFY(rejoinFailed.wait(5000));
        QCOMPARE(rejoinFailed.first().first().toByteArray(), "NoSuchMethod");
        c->removeRejoin(broken);
        QCOMPARE(call(*c, "BroadcastToGroup", {Value("room"), Value("first")}), Value());
        QTRY_COMPARE(received, QStringList({u"first"_s}));

        const quint16 port = m_server->port();
        QVERIFY(serverDown(*c));
        QFuture<Value> queued = c->invoke("BroadcastToGroup", {Value("room"), Value("second")});
        QVERIFY(serverUp(port)); // a new server: no group survives
        QVERIFY(settle(queued, 15000));
        QVERIFY(!failure(queued));
        QTRY_COMPARE(received, QStringList({u"first"_s, u"second"_s}));
        QCOMPARE(rejoinFailed.size(), 1);
    }

    // Sends queued with an OutboxStore survive the application: a new HubConnection on the
    // same store delivers them once connected.
    void outboxPersistsAcrossRestart()
    {
        const QString path = m_dir.filePath(u"outbox.bin"_s);
        auto store = std::make_shared<FileOutboxStore>(path);
        QList<Value> got;
        auto listener = connection(u"/hubs/bench?user=p2"_s);
        listener->on("Receive", [&](const ValueList &args) { got.append(args.value(0)); });
        listener->setRetryPolicy(std::make_shared<FixedRetryPolicy>(50ms));
        {
            auto app = connection(u"/hubs/bench?user=p1"_s);
            app->setOutboxStore(store);
            QVERIFY(connectNow(*app));
            QVERIFY(connectNow(*listener));
            const quint16 port = m_server->port();
            QVERIFY(serverDown(*app));
            QFuture<void> kept = app->send("SendToUser", {Value("p2"), Value("kept 1")});
            QFuture<void> kept2 = app->send("SendToUser", {Value("p2"), Value("kept 2")});
            QVERIFY(settle(kept) && settle(kept2));
            QVERIFY(!failure(kept) && !failure(kept2)); // durably queued
            QCOMPARE(store->load().size(), 2);
            // the application quits while offline; the server comes back later
            app.reset();
            QCOMPARE(store->load().size(), 2);
            QVERIFY(serverUp(port));
        }
        QTRY_COMPARE_WITH_TIMEOUT(listener->state(), State::Connected, 15000);
        auto app = connection(u"/hubs/bench?user=p1"_s);
        app->setOutboxStore(store);
        QVERIFY(connectNow(*app));
        QTRY_COMPARE_WITH_TIMEOUT(got.size(), 2, 10000);
        QCOMPARE(strings(got), QStringList({u"kept 1"_s, u"kept 2"_s}));
        QCOMPARE(store->load().size(), 0);
        QCOMPARE(call(*app, "Echo", {Value("x")}), Value("x"));
        QCOMPARE(got.size(), 2); // once each
    }

    // A replay cursor drops duplicates and notices gaps (bench hub, sequences in the payload).
    void replayCursorDuplicatesAndGaps()
    {
        auto c = connection(u"/hubs/bench?user=s1"_s);
        ReplayCursorOptions options;
        options.method = "Receive";
        options.sequenceOf = [](const ValueList &args) -> std::optional<qint64> {
            bool ok = false;
            const qint64 n = args.value(0).toString().toLongLong(&ok);
            return ok ? std::optional<qint64>(n) : std::nullopt;
        };
        c->addReplayCursor(options);
        QList<Value> got;
        c->on("Receive", [&](const ValueList &args) { got.append(args.value(0)); });
        QSignalSpy gaps(c.get(), &HubConnection::gapDetected);
        QSignalSpy recovered(c.get(), &HubConnection::recoveredChanged);
        QVERIFY(connectNow(*c));
        QVERIFY(c->isRecovered());
        for (const char *n : {"1", "2", "2", "1", "3", "not a sequence", "5"})
            QCOMPARE(call(*c, "SendToUser", {Value("s1"), Value(n)}), Value());
        QTRY_COMPARE(got.size(), 5);
        QCOMPARE(strings(got), QStringList({u"1"_s, u"2"_s, u"3"_s, u"not a sequence"_s, u"5"_s}));
        QCOMPARE(gaps.size(), 1);
        QCOMPARE(gaps.first().at(1).toLongLong(), 4);
        QCOMPARE(gaps.first().at(2).toLongLong(), 5);
        QVERIFY(!c->isRecovered());
        QCOMPARE(recovered.size(), 1);
        QCOMPARE(c->replayCursor("receive"), std::optional<qint64>(5));

        // the cursor goes to the server on the next connect; a new connection is recovered
        TcpProxy proxy(m_server->port());
        c->stop();
        c->setUrl(url(u"/hubs/bench?user=s1"_s, proxy.port()));
        QVERIFY(connectNow(*c));
        QVERIFY(proxy.countRequests("lastSequence=5") >= 1);
        QVERIFY(c->isRecovered());
    }

    // The notification hub replays what a user missed while the application was closed: the
    // cursor comes from a FileCursorStore, each notification arrives exactly once, replayed
    // ones are counted.
    void notificationReplayAfterAppRestart()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const auto sqlite = [&](Server::ServeOptions &o) {
            o.memoryStorage = false;
            o.dataDir = data.path();
        };
        QVERIFY(serverUp(0, sqlite));
        const QString cursorFile = m_dir.filePath(u"cursors.ini"_s);
        const auto open = [&] {
            auto c = connection(u"/hubs/notifications"_s);
            c->setAccessTokenProvider([] { return readyToken(token("nu1")); });
            ReplayCursorOptions options;
            options.method = "ReceiveNotification";
            c->addReplayCursor(options, std::make_shared<FileCursorStore>(cursorFile));
            return c;
        };
        QList<qint64> sequences;
        QList<bool> replayed;
        const auto listen = [&](HubConnection &c) {
            c.on("ReceiveNotification", [&](const ValueList &args) {
                sequences.append(args.value(0)[QByteArrayView("sequence")].toInteger());
                replayed.append(args.value(0)[QByteArrayView("replayed")].toBool());
            });
        };
        {
            auto c = open();
            listen(*c);
            QVERIFY(connectNow(*c));
            QCOMPARE(push("nu1", u"one"_s), 1);
            QCOMPARE(push("nu1", u"two"_s), 2);
            QTRY_COMPARE(sequences, QList<qint64>({1, 2}));
            QCOMPARE(c->replayCursor("ReceiveNotification"), std::optional<qint64>(2));
            c->stop();
        }
        // missed while the app was closed
        QCOMPARE(push("nu1", u"three"_s), 3);
        QCOMPARE(push("nu1", u"four"_s), 4);
        sequences.clear();
        replayed.clear();
        auto c = open();
        listen(*c);
        QCOMPARE(c->replayCursor("ReceiveNotification"), std::optional<qint64>(2));
        QVERIFY(connectNow(*c));
        QTRY_COMPARE(sequences, QList<qint64>({3, 4}));
        QCOMPARE(replayed, QList<bool>({true, true}));
        QCOMPARE(c->replayedMessages(), 2u);
        QVERIFY(c->isRecovered());
        QCOMPARE(push("nu1", u"five"_s), 5);
        QTRY_COMPARE(sequences, QList<qint64>({3, 4, 5}));
        QCOMPARE(replayed.last(), false);
        QCOMPARE(c->replayedMessages(), 2u);
    }

    // A cursor from the future (the server's storage was restored from a backup): the server
    // says ReplayCursorReset(stored), the cursor follows, and what comes next is not dropped as
    // a duplicate.
    void replayCursorResetByTheServer()
    {
        QVERIFY(serverUp(0));
        QCOMPARE(push("rc1", u"one"_s), 1);
        QCOMPARE(push("rc1", u"two"_s), 2);
        const QString cursorFile = m_dir.filePath(u"future-cursor.ini"_s);
        auto store = std::make_shared<FileCursorStore>(cursorFile);
        store->save(u"ReceiveNotification"_s, 1000);
        auto c = connection(u"/hubs/notifications"_s);
        c->setAccessTokenProvider([] { return readyToken(token("rc1")); });
        ReplayCursorOptions options;
        options.method = "ReceiveNotification";
        c->addReplayCursor(options, store);
        QList<qint64> sequences;
        c->on("ReceiveNotification", [&](const ValueList &args) {
            sequences.append(args.value(0)[QByteArrayView("sequence")].toInteger());
        });
        QVERIFY(connectNow(*c));
        QTRY_COMPARE(c->replayCursor("ReceiveNotification"), std::optional<qint64>(2));
        QCOMPARE(store->load(u"ReceiveNotification"_s), std::optional<qint64>(2));
        QCOMPARE(push("rc1", u"three"_s), 3);
        QTRY_COMPARE(sequences, QList<qint64>({3}));
    }

    // With `messagepack-key-case pascal` the cursor still finds `Sequence` (names ignore case).
    void replayCursorWithPascalKeys()
    {
        QVERIFY(serverUp(0, [](Server::ServeOptions &o) {
            o.hub.messagePackKeyCase = StructKeyCase::PascalCase;
        }));
        auto c = connection(u"/hubs/notifications"_s, 0, HubConnection::Protocol::MessagePack);
        c->setAccessTokenProvider([] { return readyToken(token("pk1")); });
        ReplayCursorOptions options;
        options.method = "ReceiveNotification";
        c->addReplayCursor(options);
        QList<Value> got;
        c->on("ReceiveNotification", [&](const ValueList &args) { got.append(args.value(0)); });
        QVERIFY(connectNow(*c));
        QCOMPARE(push("pk1", u"one"_s), 1);
        QCOMPARE(push("pk1", u"two"_s), 2);
        QTRY_COMPARE(got.size(), 2);
        QCOMPARE(got[1]["Title"].toString(), u"two"_s);
        QCOMPARE(got[1]["Sequence"], Value(2));
        QCOMPARE(c->replayCursor("ReceiveNotification"), std::optional<qint64>(2));
    }

    // The server restarts (SQLite, same port) while the app is busy: automatic reconnect, the
    // rejoin registry runs again (the document's updates arrive again), the patches queued
    // meanwhile go out in order after it, and the notifications pushed during the outage
    // arrive exactly once through the replay cursor.
    void serverRestartEndToEnd()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const auto sqlite = [&](Server::ServeOptions &o) {
            o.memoryStorage = false;
            o.dataDir = data.path();
        };
        QVERIFY(serverUp(0, sqlite));
        const quint16 port = m_server->port();
        auto c = connection(u"/hubs/notifications"_s);
        c->setAccessTokenProvider([] { return readyToken(token("e1", "t1", {"Editor"})); });
        ReplayCursorOptions cursor;
        cursor.method = "ReceiveNotification";
        c->addReplayCursor(cursor);
        c->addRejoin("JoinDocument", {Value("plan")});
        QList<qint64> notifications;
        c->on("ReceiveNotification", [&](const ValueList &args) {
            notifications.append(args.value(0)[QByteArrayView("sequence")].toInteger());
        });
        QList<std::pair<QString, qint64>> updates; // (author, version)
        c->on("DocumentUpdated", [&](const ValueList &args) {
            updates.append({args.value(1)[QByteArrayView("authorId")].toString(),
                            args.value(1)[QByteArrayView("version")].toInteger()});
        });
        QVERIFY(connectNow(*c));
        QCOMPARE(push("e1", u"before"_s), 1);
        QTRY_COMPARE(notifications, QList<qint64>({1}));

        auto other = connection(u"/hubs/notifications"_s);
        other->setAccessTokenProvider([] { return readyToken(token("e2", "t1", {"Editor"})); });
        QVERIFY(connectNow(*other));
        QCOMPARE(call(*other, "SendDocumentPatch", {Value("plan"), Value("{\"op\":1}")}), Value(1));
        QTRY_COMPARE(updates.size(), 1);

        QVERIFY(serverDown(*c));
        // queued while the server is away: they must reach the document in this order
        QList<QFuture<Value>> patches;
        for (int i = 0; i < 3; ++i)
            patches.append(
                c->invoke("SendDocumentPatch", {Value("plan"), Value(u"{\"mine\":%1}"_s.arg(i))}));
        QCOMPARE(c->queuedMessages(), 3);
        QVERIFY(serverUp(port, sqlite));
        // missed while the client was away (the server is back, the client not yet)
        const qint64 missed1 = push("e1", u"missed 1"_s);
        const qint64 missed2 = push("e1", u"missed 2"_s);
        QCOMPARE(missed1, 2);
        QCOMPARE(missed2, 3);

        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        QVERIFY(c->state() == State::Connected || reconnected.wait(15000));
        for (const QFuture<Value> &f : patches)
            QVERIFY(settle(f, 15000));
        QList<qint64> versions;
        for (const QFuture<Value> &f : patches) {
            QVERIFY2(!failure(f), qPrintable(failure(f) ? failure(f)->message : QString()));
            versions.append(f.result().toInteger());
        }
        QCOMPARE(versions, QList<qint64>({2, 3, 4}));
        QTRY_COMPARE(notifications, QList<qint64>({1, 2, 3}));
        QVERIFY(c->isRecovered());

        // the rejoined document delivers the other editor's next patch
        QTRY_COMPARE_WITH_TIMEOUT(other->state(), State::Connected, 15000);
        QCOMPARE(call(*other, "SendDocumentPatch", {Value("plan"), Value("{\"op\":2}")}), Value(5));
        QTRY_COMPARE(updates.size(), 2);
        QCOMPARE(updates.last(), std::make_pair(u"e2"_s, qint64(5)));
        QCOMPARE(push("e1", u"live"_s), 4);
        QTRY_COMPARE(notifications, QList<qint64>({1, 2, 3, 4}));
    }

    // No attempts while offline; an attempt at once when the network is back.
    void networkAwareness()
    {
        ManualMonitor monitor;
        auto c = connection(u"/hubs/bench?user=n1"_s);
        int attempts = 0;
        c->setAccessTokenProvider([&] {
            ++attempts;
            return readyToken(u"ignored"_s);
        });
        c->setNetworkMonitor(&monitor);
        QCOMPARE(c->networkMonitor(), &monitor);
        QVERIFY(connectNow(*c));
        const quint16 port = m_server->port();
        monitor.set(false);
        QVERIFY(serverDown(*c));
        QVERIFY(serverUp(port));
        const int before = attempts;
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        QVERIFY(!reconnected.wait(500)); // the retry policy says 50 ms; offline says wait
        QCOMPARE(attempts, before);
        QCOMPARE(c->state(), State::Reconnecting);
        QVERIFY(!c->nextRetryAt().isValid()); // no countdown while offline

        monitor.set(true);
        QVERIFY(reconnected.wait(10000));
        QCOMPARE(attempts, before + 1);
    }
};

QTEST_MAIN(tst_ClientResilience)
#include "tst_clientresilience.moc"
