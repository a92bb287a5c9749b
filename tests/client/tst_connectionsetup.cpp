// SPDX-License-Identifier: MIT
// How a HubConnection gets connected, and how it fails: negotiate versions and redirects,
// transport fallback, skipNegotiation, access tokens, handshake and server timeouts,
// keep-alive, Close without reconnect, the default retry policy, configuration errors, and
// logs that never show a token. Against the real heliograph-server (one for the run, or a
// test's own) and small misbehaving peers.
#include "clienttestsupport.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QGlobalStatic>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMetaEnum>
#include <QtCore/QMutex>
#include <QtCore/QPromise>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <stdexcept>
#include <type_traits>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

using State = HubConnection::State;
using Transport = HubConnection::Transport;

namespace {

/// What captureLog() saw (a message handler may be called from any thread).
struct CapturedLogs {
    QMutex mutex;
    QStringList lines;
};
Q_GLOBAL_STATIC(CapturedLogs, capturedLogs)

void captureLog(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    QMutexLocker lock(&capturedLogs->mutex);
    capturedLogs->lines.append(QString::fromUtf8(context.category ? context.category : "") + u": "_s
                               + message);
}

} // namespace

class tst_ConnectionSetup : public QObject {
    Q_OBJECT

    std::unique_ptr<Server::ServerApp> m_server;

    QUrl url(const QString &pathAndQuery, quint16 port = 0, const QString &scheme = u"http"_s) const
    {
        return QUrl(u"%1://127.0.0.1:%2%3"_s.arg(scheme)
                        .arg(port ? port : m_server->port())
                        .arg(pathAndQuery));
    }

    static bool connectNow(HubConnection &c)
    {
        c.start();
        (void)QTest::qWaitFor([&] { return c.state() != State::Connecting; }, 15000);
        if (c.state() != State::Connected)
            qWarning("not connected: %s", qPrintable(c.errorString()));
        return c.state() == State::Connected;
    }

    /// Starts a connection that must fail; returns the error it reported (NoError if none).
    static Error failToConnect(HubConnection &c)
    {
        QSignalSpy errors(&c, &HubConnection::errorOccurred);
        c.start();
        if (errors.isEmpty() && !errors.wait(15000))
            return Error::NoError;
        if (c.state() != State::Disconnected)
            return Error::NoError;
        return errors.first().first().value<Error>();
    }

    static Value call(HubConnection &c, const QByteArray &method, const ValueList &args = {})
    {
        QFuture<Value> f = c.invoke(method, args);
        if (!settle(f))
            return Value("timed out");
        if (auto e = failure(f))
            return Value(QString(u"error: "_s + e->message));
        return f.result();
    }

private Q_SLOTS:
    /// The names negotiate and ASP.NET Core use (HubConnection::transportName).
    void transportNames()
    {
        using T = HubConnection::Transport;
        QCOMPARE(HubConnection::transportName(T::WebSockets), u"WebSockets"_s);
        QCOMPARE(HubConnection::transportName(T::ServerSentEvents), u"ServerSentEvents"_s);
        QCOMPARE(HubConnection::transportName(T::LongPolling), u"LongPolling"_s);
        QCOMPARE(HubConnection::transportName(T::None), u"None"_s);
    }

    void initTestCase()
    {
        m_server = startServer();
        QVERIFY(m_server);
    }

    void cleanupTestCase() { m_server.reset(); }

    void negotiateVersions_data()
    {
        QTest::addColumn<Transport>("transport");
        QTest::newRow("websockets") << Transport::WebSockets;
        QTest::newRow("sse") << Transport::ServerSentEvents;
        QTest::newRow("longpolling") << Transport::LongPolling;
    }
    void negotiateVersions()
    {
        QFETCH(Transport, transport);
        TcpProxy proxy(m_server->port());
        HubConnection c(url(u"/hubs/bench?user=n1"_s, proxy.port()));
        c.setTransports(transport);

        // v1: the transport names the connection by its token, not by its public id
        QVERIFY(connectNow(c));
        // stateful reconnect (on by default) is asked for when WebSockets may be used
        QCOMPARE(proxy.countRequests(transport == Transport::WebSockets
                                         ? "/negotiate?user=n1&negotiateVersion=1"
                                           "&useStatefulReconnect=true "
                                         : "/negotiate?user=n1&negotiateVersion=1 "),
                 1);
        QVERIFY(proxy.countRequests("&id=") >= 1);
        QCOMPARE(proxy.countRequests(QByteArray("id=" + c.connectionId().toUtf8())), 0);
        QCOMPARE(call(c, "Echo", {Value("v1")}), Value("v1"));
        c.stop();
        QTRY_COMPARE(c.state(), State::Disconnected);

        // a server that answers version 0: the id is the token
        proxy.requests.clear();
        proxy.setRewrite("negotiateVersion=1", "negotiateVersion=0");
        QVERIFY(connectNow(c));
        QVERIFY(proxy.countRequests(QByteArray("id=" + c.connectionId().toUtf8())) >= 1);
        QCOMPARE(call(c, "Echo", {Value("v0")}), Value("v0"));
    }

    void redirects()
    {
        const quint16 real = m_server->port();
        std::unique_ptr<ScriptedHttpServer> fake;
        fake = std::make_unique<ScriptedHttpServer>(
            [&](const QByteArray &head) -> std::pair<int, QByteArray> {
                if (head.startsWith(
                        "POST /first/negotiate?negotiateVersion=1&useStatefulReconnect=true "))
                    return {
                        200,
                        QByteArray("{\"url\":\"http://127.0.0.1:" + QByteArray::number(fake->port())
                                   + "/second\",\"accessToken\":\"redirect-token\"}")};
                if (head.startsWith(
                        "POST /second/negotiate?negotiateVersion=1&useStatefulReconnect=true "))
                    return {200,
                            QByteArray("{\"url\":\"http://127.0.0.1:" + QByteArray::number(real)
                                       + "/hubs/bench?user=r1\"}")};
                return {404, QByteArray("{}")};
            });
        HubConnection c(QUrl(u"http://127.0.0.1:%1/first"_s.arg(fake->port())));
        int tokenCalls = 0;
        c.setAccessTokenProvider([&] {
            ++tokenCalls;
            return readyToken(u"provider-token"_s);
        });
        QVERIFY(connectNow(c));
        QCOMPARE(fake->requests.size(), 2);
        QVERIFY2(fake->requests[0].contains("\r\nAuthorization: Bearer provider-token"),
                 fake->requests[0].constData());
        QVERIFY2(fake->requests[1].contains("\r\nAuthorization: Bearer redirect-token"),
                 fake->requests[1].constData());
        QVERIFY(fake->requests[0].contains("\r\nX-Requested-With: XMLHttpRequest"));
        QVERIFY(fake->requests[0].contains("\r\nUser-Agent: Heliograph/"));
        QCOMPARE(tokenCalls, 1);
        QCOMPARE(c.transport(), Transport::WebSockets);
        QCOMPARE(call(c, "Echo", {Value("redirected")}), Value("redirected"));
    }

    void redirectLimit()
    {
        std::unique_ptr<ScriptedHttpServer> fake;
        fake = std::make_unique<ScriptedHttpServer>(
            [&](const QByteArray &) -> std::pair<int, QByteArray> {
                return {200,
                        QByteArray("{\"url\":\"http://127.0.0.1:" + QByteArray::number(fake->port())
                                   + "/loop\"}")};
            });
        HubConnection c(QUrl(u"http://127.0.0.1:%1/loop"_s.arg(fake->port())));
        QCOMPARE(failToConnect(c), Error::NegotiationFailed);
        QCOMPARE(c.errorString(), u"Negotiate redirection limit exceeded."_s);
        QCOMPARE(fake->requests.size(), 101); // the first request and 100 redirects
    }

    void negotiateFailures_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error>("error");
        QTest::addColumn<QString>("text");
        QTest::newRow("error text") << 200 << QByteArray(R"({"error":"The server says no."})")
                                    << Error::NegotiationFailed << u"The server says no."_s;
        // As the JavaScript client words them: the reason phrase (the scripted server's is
        // "Scripted") or the server's text, and the status code.
        QTest::newRow("404")
            << 404 << QByteArray() << Error::NegotiationFailed
            << u"Failed to complete negotiation with the server: Scripted: Status code '404' "
               u"Either this is not a SignalR endpoint or there is a proxy blocking the "
               u"connection."_s;
        QTest::newRow("401") << 401 << QByteArray() << Error::Unauthorized
                             << u"Failed to complete negotiation with the server: Scripted: "
                                u"Status code '401'"_s;
        QTest::newRow("403 with the server's text")
            << 403 << QByteArray("text/plain:The hub needs the role Admin.\n")
            << Error::Unauthorized
            << u"Failed to complete negotiation with the server: The hub needs the role Admin.: "
               u"Status code '403'"_s;
        QTest::newRow("500") << 500 << QByteArray("{\"detail\":\"json is not shown\"}")
                             << Error::NegotiationFailed
                             << u"Failed to complete negotiation with the server: Scripted: "
                                u"Status code '500'"_s;
        QTest::newRow("503 with the server's text")
            << 503 << QByteArray("text/plain:Down for maintenance.") << Error::NegotiationFailed
            << u"Failed to complete negotiation with the server: Down for maintenance.: Status "
               u"code '503'"_s;
        QTest::newRow("204") << 204 << QByteArray() << Error::NegotiationFailed
                             << u"Unexpected status code returned from negotiate '204'."_s;
        QTest::newRow("not json") << 200 << QByteArray("<html>") << Error::NegotiationFailed
                                  << u"Failed to complete negotiation with the server: "_s;
        QTest::newRow("classic ASP.NET SignalR")
            << 200 << QByteArray(R"({"ProtocolVersion":"1.5","ConnectionId":"x"})")
            << Error::NegotiationFailed
            << u"Failed to complete negotiation with the server: Detected a connection attempt "
               u"to an ASP.NET SignalR Server."_s;
        QTest::newRow("no transports for us")
            << 200
            << QByteArray(R"({"negotiateVersion":1,"connectionId":"a","connectionToken":"b",)"
                          R"("availableTransports":[{"transport":"Carrier pigeon",)"
                          R"("transferFormats":["Text"]}]})")
            << Error::TransportFailed
            << u"None of the transports supported by the client are supported by the server."_s;
    }
    void negotiateFailures()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error, error);
        QFETCH(QString, text);
        const bool plain = body.startsWith("text/plain:");
        if (plain)
            body = body.mid(11);
        ScriptedHttpServer fake([&](const QByteArray &) -> std::pair<int, QByteArray> {
            return {status, body};
        });
        if (plain)
            fake.contentType = "text/plain; charset=utf-8";
        HubConnection c(QUrl(u"http://127.0.0.1:%1/hub"_s.arg(fake.port())));
        QCOMPARE(failToConnect(c), error);
        if (status == 200)
            QVERIFY2(c.errorString().startsWith(text), qPrintable(c.errorString()));
        else
            QCOMPARE(c.errorString(), text);
    }

    void skipNegotiation()
    {
        HubConnection c(url(u"/hubs/bench?user=k1"_s, 0, u"ws"_s));
        c.setTransports(Transport::WebSockets);
        c.setSkipNegotiationEnabled(true);
        QVERIFY(connectNow(c));
        QVERIFY(c.connectionId().isEmpty());
        QCOMPARE(c.transport(), Transport::WebSockets);
        QCOMPARE(call(c, "Echo", {Value("direct")}), Value("direct"));

        HubConnection wrong(url(u"/hubs/bench"_s));
        wrong.setSkipNegotiationEnabled(true); // with every transport enabled
        QSignalSpy states(&wrong, &HubConnection::stateChanged);
        QCOMPARE(failToConnect(wrong), Error::InvalidConfiguration);
        QCOMPARE(states.size(), 2); // Connecting, Disconnected: as every failed start
    }

    void transportFallback_data()
    {
        QTest::addColumn<HubConnection::Protocol>("protocol");
        QTest::addColumn<Transport>("expected");
        QTest::newRow("json") << HubConnection::Protocol::Json << Transport::ServerSentEvents;
        QTest::newRow("messagepack")
            << HubConnection::Protocol::MessagePack << Transport::LongPolling;
    }
    void transportFallback()
    {
        QFETCH(HubConnection::Protocol, protocol);
        QFETCH(Transport, expected);
        TcpProxy proxy(m_server->port());
        proxy.setRejectWebSockets(true);
        HubConnection c(url(u"/hubs/bench?user=f1"_s, proxy.port()));
        c.setProtocol(protocol);
        QVERIFY(connectNow(c));
        QCOMPARE(c.transport(), expected);
        // a new negotiate before the next transport, as the official clients do
        QCOMPARE(proxy.countRequests("/negotiate?"), 2);
        QCOMPARE(call(c, "Echo", {Value("fallback")}), Value("fallback"));
    }

    void accessTokens()
    {
        // no token: refused at negotiate, and at the WebSocket upgrade
        HubConnection none(url(u"/hubs/notifications"_s));
        QCOMPARE(failToConnect(none), Error::Unauthorized);
        QCOMPARE(none.errorString(),
                 u"Failed to complete negotiation with the server: Unauthorized: Status code "
                 u"'401'"_s);
        HubConnection direct(url(u"/hubs/notifications"_s, 0, u"ws"_s));
        direct.setTransports(Transport::WebSockets);
        direct.setSkipNegotiationEnabled(true);
        QCOMPARE(failToConnect(direct), Error::Unauthorized);
        QVERIFY2(direct.errorString().contains(u"401"_s), qPrintable(direct.errorString()));

        // a provider that fails
        HubConnection failing(url(u"/hubs/notifications"_s));
        failing.setAccessTokenProvider([] {
            QPromise<QString> p;
            p.start();
            p.setException(std::make_exception_ptr(std::runtime_error("no token for you")));
            p.finish();
            return p.future();
        });
        QCOMPARE(failToConnect(failing), Error::Unauthorized);
        QCOMPARE(failing.errorString(), u"The access token provider failed: no token for you"_s);

        // an asynchronous provider (reconnects call it again: tst_clientreconnect)
        HubConnection c(url(u"/hubs/notifications"_s));
        int calls = 0;
        const QString t = token("tina");
        c.setAccessTokenProvider([&] {
            ++calls;
            auto promise = std::make_shared<QPromise<QString>>();
            promise->start();
            QTimer::singleShot(10, &c, [promise, t] {
                promise->addResult(t);
                promise->finish();
            });
            return promise->future();
        });
        QVERIFY(connectNow(c));
        QCOMPARE(calls, 1);
        QVERIFY(call(c, "GetOnlineUsers").isArray());
        c.stop();
        QTRY_COMPARE(c.state(), State::Disconnected);
        QVERIFY(connectNow(c));
        QCOMPARE(calls, 2);
    }

    void handshakeFailures_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<QString>("text");
        QTest::newRow("no answer") << QByteArray() << u"Handshake timed out after 300 ms."_s;
        QTest::newRow("refused") << QByteArray("{\"error\":\"We do not speak that.\"}\x1e")
                                 << u"Server returned handshake error: We do not speak that."_s;
        QTest::newRow("a hub message instead")
            << QByteArray("{\"type\":6}\x1e") << u"Error parsing handshake response: "_s;
    }
    void handshakeFailures()
    {
        QFETCH(QByteArray, answer);
        QFETCH(QString, text);
        SilentHubServer peer(answer);
        HubConnection c(peer.url());
        c.setTransports(Transport::WebSockets);
        c.setSkipNegotiationEnabled(true);
        c.setHandshakeTimeout(300ms);
        QCOMPARE(failToConnect(c), Error::HandshakeFailed);
        QVERIFY2(c.errorString().startsWith(text), qPrintable(c.errorString()));
        QVERIFY(peer.received.startsWith("{\"protocol\":\"json\",\"version\":1}\x1e"));
    }

    void unresponsiveServer()
    {
        BlackHole hole;
        HubConnection negotiating(QUrl(u"http://127.0.0.1:%1/hub"_s.arg(hole.port())));
        negotiating.setHandshakeTimeout(300ms);
        QCOMPARE(failToConnect(negotiating), Error::NegotiationFailed);
        QCOMPARE(negotiating.errorString(), u"Negotiation timed out after 300 ms."_s);

        HubConnection opening(QUrl(u"ws://127.0.0.1:%1/hub"_s.arg(hole.port())));
        opening.setTransports(Transport::WebSockets);
        opening.setSkipNegotiationEnabled(true);
        opening.setHandshakeTimeout(300ms);
        QCOMPARE(failToConnect(opening), Error::TransportFailed);
        QCOMPARE(opening.errorString(),
                 u"Opening the WebSockets transport timed out after 300 ms."_s);

        // stop() while connecting: no error, and nothing fires later
        HubConnection stopped(QUrl(u"http://127.0.0.1:%1/hub"_s.arg(hole.port())));
        stopped.setHandshakeTimeout(300ms);
        QSignalSpy errors(&stopped, &HubConnection::errorOccurred);
        QSignalSpy disconnected(&stopped, &HubConnection::disconnected);
        stopped.start();
        QCOMPARE(stopped.state(), State::Connecting);
        stopped.stop();
        QCOMPARE(stopped.state(), State::Disconnected);
        QCOMPARE(disconnected.size(), 1);
        QVERIFY(!errors.wait(600));
        QCOMPARE(stopped.error(), Error::NoError);
    }

    void serverTimeoutAndKeepAlive()
    {
        SilentHubServer quiet("{}\x1e"); // answers the handshake, then nothing ever
        HubConnection c(quiet.url());
        c.setTransports(Transport::WebSockets);
        c.setSkipNegotiationEnabled(true);
        c.setKeepAliveInterval(100ms);
        c.setServerTimeout(700ms);
        c.setRetryPolicy(nullptr);
        QSignalSpy errors(&c, &HubConnection::errorOccurred);
        QSignalSpy reconnecting(&c, &HubConnection::reconnecting);
        QVERIFY(connectNow(c));
        QElapsedTimer clock;
        clock.start();
        QVERIFY(errors.wait(5000));
        QVERIFY2(clock.elapsed() >= 600, QByteArray::number(clock.elapsed()).constData());
        QCOMPARE(errors.first().first().value<Error>(), Error::ServerTimeout);
        QCOMPARE(c.errorString(),
                 u"Server timeout elapsed without receiving a message from the server."_s);
        QCOMPARE(c.state(), State::Disconnected);
        QCOMPARE(reconnecting.size(), 0);
        // the Ping right after the handshake, then one every 100 ms of silence
        QVERIFY2(quiet.received.count("{\"type\":6}\x1e") >= 4, quiet.received.constData());
    }

    /// keepAliveInterval and serverTimeout set after start() apply to the live connection
    /// (the JavaScript suite sets the timeout after start).
    void liveKeepAliveAndServerTimeout()
    {
        SilentHubServer quiet("{}\x1e"); // answers the handshake, then nothing ever
        HubConnection c(quiet.url());
        c.setTransports(Transport::WebSockets);
        c.setSkipNegotiationEnabled(true);
        c.setRetryPolicy(nullptr);
        QSignalSpy errors(&c, &HubConnection::errorOccurred);
        QVERIFY(connectNow(c)); // the defaults: a Ping every 15 s, timeout after 30 s
        const QByteArray ping = "{\"type\":6}\x1e";
        const qsizetype pingsAtConnect = quiet.received.count(ping);

        c.setKeepAliveInterval(50ms);
        QCOMPARE(c.keepAliveInterval(), 50ms);
        QTRY_VERIFY_WITH_TIMEOUT(quiet.received.count(ping) >= pingsAtConnect + 3, 5000);
        QCOMPARE(c.state(), State::Connected);

        c.setServerTimeout(400ms);
        QCOMPARE(c.serverTimeout(), 400ms);
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::ServerTimeout);
        QCOMPARE(c.state(), State::Disconnected);
    }

    /// A URL changed while Reconnecting is the one the next attempt uses.
    void urlChangedWhileReconnecting()
    {
        TcpProxy before(m_server->port());
        TcpProxy after(m_server->port());
        HubConnection c(url(u"/hubs/bench?user=u1"_s, before.port()));
        c.setStatefulReconnectEnabled(false);
        c.setRetryPolicy(std::make_shared<FixedRetryPolicy>(300ms));
        QSignalSpy reconnecting(&c, &HubConnection::reconnecting);
        QSignalSpy reconnected(&c, &HubConnection::reconnected);
        QVERIFY(connectNow(c));

        before.setMode(TcpProxy::Mode::Refusing);
        before.dropAll();
        QVERIFY(reconnecting.wait(5000));
        const QUrl moved = url(u"/hubs/bench?user=u1"_s, after.port());
        c.setUrl(moved);
        QCOMPARE(c.url(), moved);
        QVERIFY(reconnected.wait(10000));
        QCOMPARE(c.state(), State::Connected);
        QCOMPARE(after.countRequests("/negotiate?"), 1);
        QCOMPARE(call(c, "Echo", {Value("moved")}), Value("moved"));
    }

    void closeWithoutReconnect()
    {
        // Over the per-user limit the server refuses at negotiate (429, its reason as text):
        // the start fails with that reason, and the first connection is unaffected.
        auto server = startServer(0, [](Server::ServeOptions &o) { o.maxConnectionsPerUser = 1; });
        QVERIFY(server);
        const QString t = token("solo");
        HubConnection first(url(u"/hubs/notifications"_s, server->port()));
        first.setAccessTokenProvider([t] { return readyToken(t); });
        QVERIFY(connectNow(first));

        HubConnection second(url(u"/hubs/notifications"_s, server->port()));
        second.setAccessTokenProvider([t] { return readyToken(t); });
        second.setRetryPolicy(std::make_shared<FixedRetryPolicy>(10ms));
        QSignalSpy states(&second, &HubConnection::stateChanged);
        QSignalSpy errors(&second, &HubConnection::errorOccurred);
        QSignalSpy reconnecting(&second, &HubConnection::reconnecting);
        second.start();
        QVERIFY(errors.wait(10000));
        QCOMPARE(errors.first().first().value<Error>(), Error::NegotiationFailed);
        QCOMPARE(second.errorString(),
                 u"Failed to complete negotiation with the server: Too many connections for "
                 u"this user (the limit is 1).: Status code '429'"_s);
        QTRY_COMPARE(second.state(), State::Disconnected);
        QCOMPARE(reconnecting.size(), 0); // a start that fails is not retried
        QCOMPARE(first.state(), State::Connected);
    }

    void defaultRetryPolicy()
    {
        DefaultRetryPolicy policy;
        const QList<qint64> bases {0, 2000, 5000, 10000, 30000, 30000, 30000, 30000};
        for (int i = 0; i < bases.size(); ++i) {
            RetryContext context;
            context.previousRetryCount = i;
            const auto delay = policy.nextRetryDelay(context);
            QVERIFY(delay.has_value());
            QVERIFY2(delay->count() >= bases[i] * 0.8 && delay->count() <= bases[i] * 1.2,
                     qPrintable(u"attempt %1: %2 ms"_s.arg(i).arg(delay->count())));
        }
        DefaultRetryPolicy once({1s, 3s}, false, 0);
        RetryContext context;
        QVERIFY(once.nextRetryDelay(context) == std::optional(std::chrono::milliseconds(1s)));
        context.previousRetryCount = 1;
        QVERIFY(once.nextRetryDelay(context) == std::optional(std::chrono::milliseconds(3s)));
        context.previousRetryCount = 2;
        QVERIFY(!once.nextRetryDelay(context).has_value());

        HubConnection c;
        QVERIFY(std::dynamic_pointer_cast<DefaultRetryPolicy>(c.retryPolicy()));
        c.setRetryPolicy(nullptr);
        QVERIFY(!c.retryPolicy());
        QVERIFY(c.keepAliveInterval() == 15s);
        QVERIFY(c.serverTimeout() == 30s);
        QVERIFY(c.handshakeTimeout() == 15s);
        QCOMPARE(c.transports(),
                 Transport::WebSockets | Transport::ServerSentEvents | Transport::LongPolling);
        QCOMPARE(c.protocol(), HubConnection::Protocol::Json);
    }

    /// Every setter has a getter, and booleans are setXEnabled() / isXEnabled() (switches)
    /// and isX() (states). No connection is made.
    void configurationGetters()
    {
        HubConnection c;
        QVERIFY(!c.isSkipNegotiationEnabled());
        c.setSkipNegotiationEnabled(true);
        QVERIFY(c.isSkipNegotiationEnabled());
        c.setSkipNegotiationEnabled(false);
        QVERIFY(!c.isSkipNegotiationEnabled());

        QVERIFY(c.isStatefulReconnectEnabled());
        c.setStatefulReconnectEnabled(false);
        QVERIFY(!c.isStatefulReconnectEnabled());
        QVERIFY(c.isOutboxEnabled());
        c.setOutboxEnabled(false);
        QVERIFY(!c.isOutboxEnabled());
        QVERIFY(c.isRecovered());

        QVERIFY(!c.accessTokenProvider());
        c.setAccessTokenProvider([] { return readyToken(u"token"_s); });
        QVERIFY(c.accessTokenProvider());
        QCOMPARE(c.accessTokenProvider()().result(), u"token"_s);

        QVERIFY(!c.outboxStore());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto store = std::make_shared<FileOutboxStore>(dir.filePath(u"outbox"_s));
        c.setOutboxStore(store);
        QVERIFY(c.outboxStore() == store);
        c.setOutboxStore(nullptr);
        QVERIFY(!c.outboxStore());

        QCOMPARE(c.sslConfiguration(), QSslConfiguration::defaultConfiguration());
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
        c.setSslConfiguration(ssl);
        QCOMPARE(c.sslConfiguration(), ssl);

        QVERIFY(DefaultRetryPolicy().isRepeatLastEnabled());
        const DefaultRetryPolicy once({1s}, false, 0.1);
        QVERIFY(!once.isRepeatLastEnabled());
        QCOMPARE(once.delays(), QList<std::chrono::milliseconds>({1s}));
        QCOMPARE(once.jitter(), 0.1);
    }

    /// One enum for the connection and its calls, in bands: 0, 1..99 the connection,
    /// 100..199 one call. The former names are the same type.
    void errorBands()
    {
        static_assert(std::is_same_v<HubConnection::Error, Error>);
        static_assert(std::is_same_v<HubError::Code, Error>);
        static_assert(std::is_same_v<decltype(RetryContext::reason), Error>);
        const QStringList connection {u"NegotiationFailed"_s, u"Unauthorized"_s,
                                      u"TransportFailed"_s,   u"HandshakeFailed"_s,
                                      u"ServerTimeout"_s,     u"ServerClosed"_s,
                                      u"ProtocolError"_s,     u"InvalidConfiguration"_s};
        const QStringList calls {u"ServerError"_s,      u"NotConnected"_s, u"ConnectionLost"_s,
                                 u"ConversionFailed"_s, u"Canceled"_s,     u"InvalidArgument"_s,
                                 u"QueueFull"_s,        u"TimedOut"_s};
        const QMetaEnum e = QMetaEnum::fromType<Error>();
        QCOMPARE(e.keyCount(), 1 + connection.size() + calls.size());
        QCOMPARE(e.keyToValue("NoError"), 0);
        for (int i = 0; i < e.keyCount(); ++i) {
            const QString key = QString::fromLatin1(e.key(i));
            const int value = e.value(i);
            if (connection.contains(key))
                QVERIFY2(value >= 1 && value <= 99, qPrintable(key));
            else if (calls.contains(key))
                QVERIFY2(value >= 100 && value <= 199, qPrintable(key));
            else
                QCOMPARE(key, u"NoError"_s);
        }
        // The values are part of the ABI: they never change.
        QCOMPARE(int(Error::NegotiationFailed), 1);
        QCOMPARE(int(Error::InvalidConfiguration), 8);
        QCOMPARE(int(Error::ServerError), 100);
        QCOMPARE(int(Error::TimedOut), 107);

        QCOMPARE(HubError().code, Error::ServerError);
        const QMetaProperty code = HubError::staticMetaObject.property(
            HubError::staticMetaObject.indexOfProperty("code"));
        QCOMPARE(code.metaType(), QMetaType::fromType<Error>());
        const QMetaProperty error = HubConnection::staticMetaObject.property(
            HubConnection::staticMetaObject.indexOfProperty("error"));
        QCOMPARE(error.metaType(), QMetaType::fromType<Error>());
        QVERIFY(error.isEnumType());
    }

    void invalidConfiguration()
    {
        HubConnection noUrl;
        QCOMPARE(failToConnect(noUrl), Error::InvalidConfiguration);
        QCOMPARE(noUrl.error(), Error::InvalidConfiguration);
        QCOMPARE(noUrl.errorString(), u"No valid URL is set."_s);
        QCOMPARE(noUrl.state(), State::Disconnected);

        HubConnection sseMessagePack(url(u"/hubs/bench"_s));
        sseMessagePack.setProtocol(HubConnection::Protocol::MessagePack);
        sseMessagePack.setTransports(Transport::ServerSentEvents);
        QCOMPARE(failToConnect(sseMessagePack), Error::InvalidConfiguration);
        QCOMPARE(sseMessagePack.errorString(),
                 u"No transport is enabled that can carry the messagepack protocol."_s);

        // a call made meanwhile waits in the outbox, and fails with the start
        HubConnection refused;
        QSignalSpy refusedDisconnected(&refused, &HubConnection::disconnected);
        refused.start();
        QFuture<Value> queued = refused.invoke("Echo", {Value("x")});
        QVERIFY(refusedDisconnected.wait(5000));
        QVERIFY(settle(queued));
        QCOMPARE(failure(queued)->code, Error::ConnectionLost);
        // and the connection can start again once the configuration is right
        refused.setUrl(url(u"/hubs/bench?user=w2"_s));
        QVERIFY(connectNow(refused));

        // start() twice: the second is ignored
        HubConnection twice(url(u"/hubs/bench?user=w1"_s));
        twice.start();
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"start\\(\\) ignored: the connection is"_s));
        twice.start();
        QTRY_COMPARE(twice.state(), State::Connected);
    }

    /// Every way a start can fail ends the same way: Connecting before start() returns, then
    /// from the event loop errorChanged, Disconnected, errorOccurred, disconnected.
    void startFailures_data()
    {
        QTest::addColumn<QString>("how");
        QTest::addColumn<Error>("error");
        QTest::newRow("configuration refused (SSE + MessagePack)")
            << u"sse-messagepack"_s << Error::InvalidConfiguration;
        QTest::newRow("configuration refused (no URL)")
            << u"no-url"_s << Error::InvalidConfiguration;
        QTest::newRow("token provider throws") << u"token-throws"_s << Error::Unauthorized;
        QTest::newRow("negotiate failure") << u"negotiate-500"_s << Error::NegotiationFailed;
        QTest::newRow("transport failure") << u"transport"_s << Error::TransportFailed;
        QTest::newRow("handshake failure") << u"handshake"_s << Error::HandshakeFailed;
    }
    void startFailures()
    {
        QFETCH(QString, how);
        QFETCH(Error, error);
        ScriptedHttpServer scripted([](const QByteArray &) -> std::pair<int, QByteArray> {
            return {500, QByteArray()};
        });
        TcpProxy noWebSockets(m_server->port());
        noWebSockets.setRejectWebSockets(true);
        SilentHubServer refusing("{\"error\":\"No.\"}\x1e");

        HubConnection c;
        if (how == u"sse-messagepack"_s) {
            c.setUrl(url(u"/hubs/bench"_s));
            c.setProtocol(HubConnection::Protocol::MessagePack);
            c.setTransports(Transport::ServerSentEvents);
        } else if (how == u"token-throws"_s) {
            c.setUrl(url(u"/hubs/bench"_s));
            c.setAccessTokenProvider(
                []() -> QFuture<QString> { throw std::runtime_error("no token today"); });
        } else if (how == u"negotiate-500"_s) {
            c.setUrl(QUrl(u"http://127.0.0.1:%1/hub"_s.arg(scripted.port())));
        } else if (how == u"transport"_s) {
            c.setUrl(url(u"/hubs/bench?user=sf"_s, noWebSockets.port()));
            c.setTransports(Transport::WebSockets);
        } else if (how == u"handshake"_s) {
            c.setUrl(refusing.url());
            c.setTransports(Transport::WebSockets);
            c.setSkipNegotiationEnabled(true);
        }

        QStringList seen;
        connect(&c, &HubConnection::stateChanged, this, [&](State s) {
            seen << u"state "_s
                    + QString::fromLatin1(QMetaEnum::fromType<State>().valueToKey(int(s)));
        });
        connect(&c, &HubConnection::errorChanged, this, [&] { seen << u"errorChanged"_s; });
        connect(&c, &HubConnection::errorOccurred, this, [&](Error e) {
            seen << u"errorOccurred "_s
                    + QString::fromLatin1(QMetaEnum::fromType<Error>().valueToKey(int(e)));
        });
        connect(&c, &HubConnection::disconnected, this, [&] {
            seen << u"disconnected "_s
                    + QString::fromLatin1(QMetaEnum::fromType<Error>().valueToKey(int(c.error())));
        });
        connect(&c, &HubConnection::connected, this, [&] { seen << u"connected"_s; });

        c.start();
        QCOMPARE(seen, QStringList {u"state Connecting"_s});
        QCOMPARE(c.state(), State::Connecting);
        QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Disconnected, 15000);
        const QString name
            = QString::fromLatin1(QMetaEnum::fromType<Error>().valueToKey(int(error)));
        QCOMPARE(seen,
                 (QStringList {u"state Connecting"_s, u"errorChanged"_s, u"state Disconnected"_s,
                               u"errorOccurred "_s + name, u"disconnected "_s + name}));
        QCOMPARE(c.error(), error);
        QVERIFY(!c.errorString().isEmpty());
    }

    void noTokensInLogs_data()
    {
        QTest::addColumn<Transport>("transport");
        QTest::newRow("websockets") << Transport::WebSockets;
        QTest::newRow("sse") << Transport::ServerSentEvents;
        QTest::newRow("longpolling") << Transport::LongPolling;
    }
    void noTokensInLogs()
    {
        QFETCH(Transport, transport);
        const QString headerToken = token("logan");
        const QString queryToken = token("logan", "t1", {"Viewer"});
        QVERIFY(headerToken != queryToken);
        {
            QMutexLocker lock(&capturedLogs->mutex);
            capturedLogs->lines.clear();
        }
        QLoggingCategory::setFilterRules(u"heliograph.*.debug=true"_s);
        QtMessageHandler previous = qInstallMessageHandler(captureLog);
        {
            // one token in the Authorization header, one in the URL
            HubConnection c(url(u"/hubs/notifications?access_token="_s + queryToken));
            c.setTransports(transport);
            c.setAccessTokenProvider([headerToken] { return readyToken(headerToken); });
            const bool ok = connectNow(c);
            const Value online = call(c, "GetOnlineUsers");
            c.stop();
            (void)QTest::qWaitFor([&] { return c.state() == State::Disconnected; }, 10000);
            qInstallMessageHandler(previous);
            QLoggingCategory::setFilterRules(QString());
            QVERIFY(ok);
            QVERIFY(online.isArray());
        }
        QMutexLocker lock(&capturedLogs->mutex);
        QVERIFY(capturedLogs->lines.size() > 5);
        bool sawUrl = false;
        for (const QString &line : std::as_const(capturedLogs->lines)) {
            QVERIFY2(!line.contains(headerToken.left(40)), qPrintable(line));
            QVERIFY2(!line.contains(queryToken.left(40)), qPrintable(line));
            sawUrl = sawUrl || line.contains(u"access_token=redacted"_s);
        }
        QVERIFY(sawUrl);
    }
};

QTEST_MAIN(tst_ConnectionSetup)
#include "tst_connectionsetup.moc"
