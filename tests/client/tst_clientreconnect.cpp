// SPDX-License-Identifier: MIT
// HubConnection's automatic reconnect against the real heliograph-server in-process, once per
// transport and protocol: the server stops (Close with allowReconnect) and comes back on the
// same port, the network drops under pending calls, stop() while reconnecting, the server
// falls silent (server timeout), the retry policy gives up. Each test has its own server.
#include "clienttestsupport.h"

#include <heliograph/client/hubconnection.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

using State = HubConnection::State;

class tst_ClientReconnect : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;

    QUrl url(const QString &pathAndQuery, quint16 port = 0) const
    {
        return QUrl(
            u"http://127.0.0.1:%1%2"_s.arg(port ? port : m_server->port()).arg(pathAndQuery));
    }

    /// A connection configured for the current row; reconnects quickly.
    std::unique_ptr<HubConnection> connection(const QString &pathAndQuery, quint16 port = 0)
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        QFETCH_GLOBAL(HubConnection::Protocol, protocol);
        auto c = std::make_unique<HubConnection>(url(pathAndQuery, port));
        c->setTransports(transport);
        c->setProtocol(protocol);
        c->setRetryPolicy(std::make_shared<FixedRetryPolicy>(50ms));
        return c;
    }

private Q_SLOTS:
    void initTestCase_data() { addTransportProtocolRows(); }

    void init()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }

    void cleanup() { m_server.reset(); }

    void reconnectAfterServerRestart()
    {
        auto c = connection(u"/hubs/bench?user=u4"_s);
        int tokenCalls = 0;
        c->setAccessTokenProvider([&] {
            ++tokenCalls;
            return readyToken(u"bench-ignores-it"_s);
        });
        QVERIFY(connectNow(*c));
        QCOMPARE(tokenCalls, 1);
        const QString firstId = c->connectionId();
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        QSignalSpy errors(c.get(), &HubConnection::errorOccurred);
        QSignalSpy disconnected(c.get(), &HubConnection::disconnected);

        // stop() sends Close with allowReconnect to every connection
        const quint16 port = m_server->port();
        m_server->stop();
        QTRY_COMPARE_WITH_TIMEOUT(c->state(), State::Reconnecting, 10000);
        QCOMPARE(reconnecting.size(), 1);
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::ServerClosed);
        QVERIFY(c->connectionId().isEmpty());
        QCOMPARE(c->transport(), HubConnection::Transport::None);
        // queued in the outbox (tst_clientresilience has the details)
        QFuture<Value> meanwhile = c->invoke("Echo", {Value("meanwhile")});
        QCOMPARE(c->queuedMessages(), 1);

        // the server comes back on the same port
        m_server.reset();
        m_server = startServer(port);
        QVERIFY(m_server);
        QVERIFY(reconnected.wait(15000));
        QCOMPARE(c->state(), State::Connected);
        QCOMPARE(reconnected.first().first().toString(), c->connectionId());
        QVERIFY(c->connectionId() != firstId);
        QCOMPARE(c->reconnectCount(), 1);
        QCOMPARE(c->error(), Error::NoError);
        QCOMPARE(errors.size(), 0);
        QCOMPARE(disconnected.size(), 0);
        QVERIFY(tokenCalls >= 2); // once per attempt
        QVERIFY(settle(meanwhile));
        QCOMPARE(meanwhile.result(), Value("meanwhile"));
        QCOMPARE(call(*c, "Echo", {Value("back")}), Value("back"));
    }

    void lostConnectionFailsPendingCalls()
    {
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=u5"_s, proxy.port());
        QVERIFY(connectNow(*c));
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);

        proxy.setMode(TcpProxy::Mode::Frozen);
        QFuture<Value> pending = c->invoke("Echo", {Value("never answered")});
        proxy.setMode(TcpProxy::Mode::Refusing);
        proxy.dropAll();
        QVERIFY(reconnecting.wait(15000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::TransportFailed);
        QVERIFY(settle(pending));
        QCOMPARE(failure(pending)->code, Error::ConnectionLost);
        QVERIFY2(failure(pending)->message.startsWith(
                     u"Invocation canceled due to the underlying connection being closed."_s),
                 qPrintable(failure(pending)->message));

        proxy.setMode(TcpProxy::Mode::Forward);
        QVERIFY(reconnected.wait(15000));
        QCOMPARE(c->reconnectCount(), 1);
        QCOMPARE(call(*c, "Echo", {Value("again")}), Value("again"));
    }

    void stopWhileReconnecting()
    {
        auto waiting = connection(u"/hubs/bench?user=u6"_s);
        waiting->setRetryPolicy(std::make_shared<FixedRetryPolicy>(60s)); // stopped in the delay
        auto trying = connection(u"/hubs/bench?user=u7"_s);
        trying->setRetryPolicy(std::make_shared<FixedRetryPolicy>(0ms)); // stopped mid-attempt
        QVERIFY(connectNow(*waiting));
        QVERIFY(connectNow(*trying));
        const quint16 port = m_server->port();
        m_server->stop();
        QTRY_COMPARE_WITH_TIMEOUT(waiting->state(), State::Reconnecting, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(trying->state(), State::Reconnecting, 10000);
        // a countdown for the one waiting out its delay
        const qint64 left = QDateTime::currentDateTimeUtc().msecsTo(waiting->nextRetryAt());
        QVERIFY2(left > 30000 && left <= 72000, qPrintable(QString::number(left)));

        for (HubConnection *c : {waiting.get(), trying.get()}) {
            QSignalSpy disconnected(c, &HubConnection::disconnected);
            QSignalSpy errors(c, &HubConnection::errorOccurred);
            c->stop();
            QCOMPARE(c->state(), State::Disconnected);
            QCOMPARE(disconnected.size(), 1);
            QCOMPARE(errors.size(), 0);
            QCOMPARE(c->error(), Error::NoError);
            QVERIFY(!c->nextRetryAt().isValid());
        }
        // nothing reconnects once the server is back
        m_server.reset();
        m_server = startServer(port);
        QVERIFY(m_server);
        QSignalSpy states(trying.get(), &HubConnection::stateChanged);
        QVERIFY(!states.wait(300));
        QCOMPARE(waiting->state(), State::Disconnected);
        QCOMPARE(trying->state(), State::Disconnected);
    }

    void serverTimeoutReconnects()
    {
        QFETCH_GLOBAL(HubConnection::Transport, transport);
        if (transport == HubConnection::Transport::LongPolling)
            QSKIP("long polling has no server timeout: the transport keeps itself alive");
        // a server that pings every second
        m_server = startServer(0, [](Server::ServeOptions &o) { o.hub.keepAliveInterval = 1s; });
        QVERIFY(m_server);
        TcpProxy proxy(m_server->port());
        auto c = connection(u"/hubs/bench?user=t1"_s, proxy.port());
        c->setKeepAliveInterval(200ms);
        c->setServerTimeout(2500ms);
        c->setRetryPolicy(std::make_shared<FixedRetryPolicy>(300ms));
        // classic reconnect here; a stateful resume after a timeout is in tst_clientresilience
        c->setStatefulReconnectEnabled(false);
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        QSignalSpy reconnected(c.get(), &HubConnection::reconnected);
        QVERIFY(connectNow(*c));
        // the server's pings keep the connection alive...
        QVERIFY(!reconnecting.wait(3000));
        // ...until nothing gets through any more
        proxy.setMode(TcpProxy::Mode::Frozen);
        QVERIFY(reconnecting.wait(5000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::ServerTimeout);
        QCOMPARE(c->errorString(),
                 u"Server timeout elapsed without receiving a message from the server."_s);
        proxy.setMode(TcpProxy::Mode::Forward);
        QVERIFY(reconnected.wait(10000));
        QCOMPARE(call(*c, "Echo", {Value("awake")}), Value("awake"));
    }

    void retryPolicyGivesUp()
    {
        auto policy = std::make_shared<FixedRetryPolicy>(20ms, 2);
        auto c = connection(u"/hubs/bench?user=g1"_s);
        c->setRetryPolicy(policy);
        QVERIFY(connectNow(*c));
        QSignalSpy reconnecting(c.get(), &HubConnection::reconnecting);
        QSignalSpy errors(c.get(), &HubConnection::errorOccurred);
        QSignalSpy disconnected(c.get(), &HubConnection::disconnected);
        m_server.reset(); // Close with allowReconnect, then connections are refused
        QVERIFY(errors.wait(10000));
        QCOMPARE(c->state(), State::Disconnected);
        QCOMPARE(reconnecting.size(), 1);
        QCOMPARE(disconnected.size(), 1);
        QVERIFY2(c->errorString().startsWith(
                     u"Reconnect retries have been exhausted after 2 failed attempts"_s),
                 qPrintable(c->errorString()));
        QCOMPARE(c->error(), Error::NegotiationFailed); // the server is gone
        QCOMPARE(policy->contexts.size(), 3);
        QCOMPARE(policy->contexts[0].previousRetryCount, 0);
        QCOMPARE(policy->contexts[0].reason, Error::ServerClosed);
        QCOMPARE(policy->contexts[0].elapsed, 0ms);
        QCOMPARE(policy->contexts[1].previousRetryCount, 1);
        QCOMPARE(policy->contexts[1].reason, Error::NegotiationFailed);
        QCOMPARE(policy->contexts[2].previousRetryCount, 2);
        QVERIFY(policy->contexts[2].elapsed >= policy->contexts[1].elapsed);
        QVERIFY(policy->contexts[2].elapsed >= 20ms);
    }
};

QTEST_MAIN(tst_ClientReconnect)
#include "tst_clientreconnect.moc"
