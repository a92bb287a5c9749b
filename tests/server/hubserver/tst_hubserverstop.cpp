// SPDX-License-Identifier: MIT
// HubServer::stop() against real clients on every kind of TCP connection the server holds:
// idle keep-alive HTTP connections, a WebSocket, a long poll held for a connection on another
// worker thread. Each client must see its connection close, no session object may survive the
// stop, and a server restarted on the same port must answer a client that reuses a pooled
// keep-alive connection (as an HTTP client's connection pool does). Plain QTcpSockets, not
// QNetworkAccessManager: its HTTP thread hands data over inside Qt, out of ThreadSanitizer's
// sight.
#include "bench/benchhub.h"
#include "signalr/lifetimemanager.h"
#include "transport/hubserver.h"

#include <heliograph/protocol/handshake.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWebSockets/QWebSocket>

#include <memory>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

constexpr int Timeout = 10000;

struct Response {
    int status = 0; ///< 0: none (timeout, or the connection closed first)
    QByteArray headers;
    QByteArray body;
};

/// One HTTP/1.1 client connection that stays open between requests (keep-alive).
class HttpClient {
public:
    explicit HttpClient(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_connected = m_socket.waitForConnected(Timeout);
    }
    bool isConnected() const
    {
        return m_connected && m_socket.state() == QAbstractSocket::ConnectedState;
    }
    QTcpSocket &socket() { return m_socket; }

    void send(QByteArrayView method, QByteArrayView target, QByteArrayView body = {})
    {
        QByteArray request = method.toByteArray() + ' ' + target.toByteArray()
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + QByteArray::number(body.size())
            + "\r\n\r\n" + body.toByteArray();
        m_socket.write(request);
        m_socket.flush();
    }

    /// The next complete response (status 0 if none arrives in time or the server closes).
    Response next(int timeout = Timeout)
    {
        Response r;
        const bool settled = QTest::qWaitFor(
            [&] { return parse(r) || m_socket.state() != QAbstractSocket::ConnectedState; },
            timeout);
        Q_UNUSED(settled); // the status says what happened
        if (r.status == 0)
            parse(r); // what arrived together with the close
        return r;
    }

    Response request(QByteArrayView method, QByteArrayView target, QByteArrayView body = {})
    {
        send(method, target, body);
        return next();
    }

private:
    bool parse(Response &r)
    {
        m_buffer += m_socket.readAll();
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end < 0 || !m_buffer.startsWith("HTTP/1.1 "))
            return false;
        const QByteArray head = m_buffer.left(end + 2);
        qsizetype length = 0;
        for (const QByteArray &line : head.split('\n'))
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        if (m_buffer.size() < end + 4 + length)
            return false;
        r.status = m_buffer.mid(9, 3).toInt();
        r.headers = head;
        r.body = m_buffer.mid(end + 4, length);
        m_buffer.remove(0, end + 4 + length);
        return true;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
    bool m_connected = false;
};

/// A client's connection pool of one: a request goes out on the pooled connection if it is still
/// open; if that connection turns out to be closed before any answer arrived, the request is
/// sent again on a new one (what HTTP clients do for a request that was never answered).
Response pooledRequest(std::unique_ptr<HttpClient> &pooled, quint16 port, QByteArrayView target)
{
    if (pooled && pooled->isConnected()) {
        Response r = pooled->request("GET", target);
        if (r.status != 0 || pooled->isConnected())
            return r; // answered, or left hanging on a connection that is still open
    }
    pooled = std::make_unique<HttpClient>(port);
    return pooled->request("GET", target);
}

} // namespace

class tst_HubServerStop : public QObject {
    Q_OBJECT

    BenchHub m_hub;
    std::unique_ptr<HubLifetimeManager> m_lifetime;
    std::unique_ptr<HubServer> m_server;

    bool start(quint16 port = 0)
    {
        m_server.reset();
        m_lifetime = std::make_unique<HubLifetimeManager>();
        ServerConfig config;
        config.port = port;
        config.threads = 2; // long polls forwarded between threads
        m_server = std::make_unique<HubServer>(config, nullptr);
        m_server->addHub(m_hub, *m_lifetime);
        return m_server->listen();
    }

private Q_SLOTS:
    void cleanup()
    {
        m_server.reset();
        m_lifetime.reset();
    }

    void stopClosesEverySession()
    {
        QVERIFY(start());
        const quint16 port = m_server->port();

        // Idle keep-alive connections, on both threads (connections are dealt round robin).
        std::vector<std::unique_ptr<HttpClient>> idle;
        for (int i = 0; i < 3; ++i) {
            idle.push_back(std::make_unique<HttpClient>(port));
            QCOMPARE(idle.back()->request("GET", "/nothing-here").status, 404);
            QVERIFY(idle.back()->isConnected());
        }

        // A WebSocket with a completed handshake.
        QWebSocket ws;
        QByteArray wsReceived;
        connect(&ws, &QWebSocket::textMessageReceived, this,
                [&](const QString &text) { wsReceived += text.toUtf8(); });
        QSignalSpy wsConnected(&ws, &QWebSocket::connected);
        QSignalSpy wsDisconnected(&ws, &QWebSocket::disconnected);
        ws.open(QUrl(u"ws://127.0.0.1:%1/hubs/bench?user=ws"_s.arg(port)));
        QVERIFY(wsConnected.wait(Timeout));
        ws.sendTextMessage(QString::fromUtf8(Handshake::writeRequest({"json", 1})));
        QTRY_VERIFY_WITH_TIMEOUT(wsReceived.contains('\x1e'), Timeout);

        // A long-polling connection started on one connection (its home thread), with a poll
        // held on the next one (the other thread): the poll is forwarded between threads.
        HttpClient home(port);
        const Response negotiated
            = home.request("POST", "/hubs/bench/negotiate?negotiateVersion=1&user=lp");
        QCOMPARE(negotiated.status, 200);
        const QByteArray token = QJsonDocument::fromJson(negotiated.body)
                                     .object()
                                     .value(u"connectionToken"_s)
                                     .toString()
                                     .toUtf8();
        QVERIFY(!token.isEmpty());
        const QByteArray target = QByteArray("/hubs/bench?user=lp&id=")
            + QUrl::toPercentEncoding(QString::fromUtf8(token));
        QCOMPARE(home.request("GET", target).status, 200); // starts the transport
        QCOMPARE(home.request("POST", target, Handshake::writeRequest({"json", 1})).status, 200);
        HttpClient poller(port);
        const Response handshake = poller.request("GET", target);
        QCOMPARE(handshake.status, 200);
        QCOMPARE(handshake.body, QByteArray("{}\x1e"));
        poller.send("GET", target); // held until there is something to say
        // Round trips through both threads, so that the poll is most likely held by the time
        // the server stops (if not, it fetches the Close from the buffer: the same outcome).
        for (auto &c : idle)
            QCOMPARE(c->request("GET", "/nothing-here").status, 404);

        QCOMPARE(m_server->connectionCount(), 2);
        QCOMPARE(m_server->sessionCount(), int(idle.size()) + 3);

        m_server->stop();

        // The held poll is answered with the Close message (reconnect allowed), and closed.
        const Response last = poller.next();
        QCOMPARE(last.status, 200);
        QVERIFY2(last.body.contains("\"type\":7"), last.body.constData());
        // While long polling drains, responses keep their connections alive (a client that
        // was between polls can still fetch its Close); the connection is closed right after.
        QTRY_VERIFY_WITH_TIMEOUT(!poller.isConnected(), Timeout);
        // The WebSocket got its Close message and its connection ends.
        QTRY_VERIFY_WITH_TIMEOUT(wsReceived.contains("\"type\":7"), Timeout);
        QTRY_COMPARE_WITH_TIMEOUT(wsDisconnected.size(), 1, Timeout);
        // Idle keep-alive connections, and the long-polling client's own, are closed too.
        for (auto &c : idle)
            QTRY_VERIFY_WITH_TIMEOUT(!c->isConnected(), Timeout);
        QTRY_VERIFY_WITH_TIMEOUT(!home.isConnected(), Timeout);
        // Nothing is left behind.
        QCOMPARE(m_server->sessionCount(), 0);
        QCOMPARE(m_server->connectionCount(), 0);
    }

    void restartAnswersPooledRequest()
    {
        QVERIFY(start());
        const quint16 port = m_server->port();
        auto pooled = std::make_unique<HttpClient>(port);
        QCOMPARE(pooled->request("GET", "/nothing-here").status, 404);
        QVERIFY(pooled->isConnected());

        m_server->stop();
        QVERIFY(start(port));
        QCOMPARE(m_server->port(), port);
        const Response r = pooledRequest(pooled, port, "/hubs/bench/negotiate");
        QCOMPARE(r.status, 405); // answered by the new server (negotiate wants POST)
        QCOMPARE(m_server->sessionCount(), 1);
    }

    void stopWithoutListening()
    {
        HubLifetimeManager lifetime;
        HubServer server(ServerConfig {}, nullptr);
        server.addHub(m_hub, lifetime);
        server.stop();
        QCOMPARE(server.sessionCount(), 0);
    }
};

QTEST_MAIN(tst_HubServerStop)
#include "tst_hubserverstop.moc"
