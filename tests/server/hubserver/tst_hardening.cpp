// SPDX-License-Identifier: MIT
// heliograph-server against clients that push, connect and ask at the same time from several
// threads, and against requests that try to reach past their identity or the server's limits:
// the in-process server (so that the AddressSanitizer and ThreadSanitizer stages run it too),
// Heliograph Client connections over WebSockets without negotiate (no QNetworkAccessManager,
// whose thread ThreadSanitizer cannot follow), and plain blocking sockets on std::threads for
// the concurrent HTTP clients. The black-box counterpart, against the binary and with
// Microsoft's JavaScript client, is tests/abuse/hardening.test.mjs.
#include "clienttestsupport.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <arpa/inet.h>
#include <atomic>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace Heliograph;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using HubProtocolKind = Heliograph::HubConnection::Protocol;
using Transport = Heliograph::HubConnection::Transport;

namespace {

constexpr int Timeout = 15000;

/// An access token as the bytes of an Authorization header (tests/support/clienttestsupport.h
/// signs it with the in-process server's secret).
QByteArray token(const QByteArray &user, const QByteArray &tenant, QList<QByteArray> roles = {})
{
    return Testing::token(user, tenant, std::move(roles)).toUtf8();
}

/// The in-process server of tests/client (memory storage, two threads), tweaked.
std::unique_ptr<Server::ServerApp>
startServer(const std::function<void(Server::ServeOptions &)> &tweak = {})
{
    return Testing::startServer(0, tweak);
}

/// A blocking loopback TCP connection (usable from any thread): plain POSIX, so that nothing
/// of Qt's crosses threads where ThreadSanitizer cannot see.
class RawSocket {
public:
    /// `source`: the local address to connect from (the loopback network is 127.0.0.0/8).
    explicit RawSocket(quint16 port, const char *source = nullptr)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv {10, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (source) {
            sockaddr_in local {};
            local.sin_family = AF_INET;
            ::inet_pton(AF_INET, source, &local.sin_addr);
            ::bind(m_fd, reinterpret_cast<sockaddr *>(&local), sizeof local);
        }
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    }
    ~RawSocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    RawSocket(const RawSocket &) = delete;
    RawSocket &operator=(const RawSocket &) = delete;

    bool isConnected() const { return m_connected; }
    bool write(QByteArrayView bytes)
    {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n
                = ::send(m_fd, bytes.data() + done, size_t(bytes.size() - done), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            done += n;
        }
        return true;
    }
    /// Everything until the peer closes (or the receive timeout).
    QByteArray readToEnd()
    {
        QByteArray out;
        char buffer[16384];
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                return out;
            out.append(buffer, n);
        }
    }
    /// One response (Content-Length framing), or what arrived before the peer closed.
    QByteArray readResponse()
    {
        char buffer[16384];
        for (;;) {
            const qsizetype head = m_pending.indexOf("\r\n\r\n");
            if (head >= 0) {
                qsizetype length = 0;
                const qsizetype cl = m_pending.toLower().indexOf("content-length:");
                if (cl >= 0 && cl < head)
                    length = m_pending.mid(cl + 15, m_pending.indexOf("\r\n", cl) - cl - 15)
                                 .trimmed()
                                 .toLongLong();
                if (m_pending.size() >= head + 4 + length) {
                    const QByteArray response = m_pending.left(head + 4 + length);
                    m_pending.remove(0, head + 4 + length);
                    return response;
                }
            }
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                return std::exchange(m_pending, {});
            m_pending.append(buffer, n);
        }
    }

private:
    int m_fd = -1;
    bool m_connected = false;
    QByteArray m_pending;
};

int statusOf(const QByteArray &response)
{
    if (!response.startsWith("HTTP/1.1 "))
        return 0;
    return response.mid(9, 3).toInt();
}

QByteArray bodyOf(const QByteArray &response)
{
    const qsizetype head = response.indexOf("\r\n\r\n");
    return head < 0 ? QByteArray() : response.mid(head + 4);
}

QByteArray headerOf(const QByteArray &response, QByteArrayView name)
{
    const QByteArray head = response.left(response.indexOf("\r\n\r\n"));
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

/// One request on its own connection (Connection: close); the whole response.
QByteArray request(quint16 port, QByteArrayView method, QByteArrayView target,
                   QByteArrayView bearer = {}, QByteArrayView body = {},
                   QByteArrayView extraHeaders = {})
{
    RawSocket s(port);
    if (!s.isConnected())
        return {};
    QByteArray r = method.toByteArray() + ' ' + target.toByteArray()
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!bearer.isEmpty())
        r += "Authorization: Bearer " + bearer.toByteArray() + "\r\n";
    if (!body.isEmpty())
        r += "Content-Type: application/json\r\n";
    r += extraHeaders.toByteArray();
    r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body.toByteArray();
    if (!s.write(r))
        return {};
    return s.readToEnd();
}

/// Runs `count` calls of `f(i)` on as many threads at once; returns when all are done.
void concurrently(int count, const std::function<void(int)> &f)
{
    std::atomic<int> ready {0};
    std::vector<std::thread> threads;
    threads.reserve(size_t(count));
    for (int i = 0; i < count; ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready.load() < count) // start together
                std::this_thread::yield();
            f(i);
        });
    for (auto &t : threads)
        t.join();
}

/// A notification hub connection that records the sequences it receives, in order.
struct Receiver {
    std::unique_ptr<HubConnection> connection;
    QList<qint64> sequences;
    QList<qint64> resets; ///< ReplayCursorReset arguments
};

} // namespace

class tst_Hardening : public QObject {
    Q_OBJECT

    std::unique_ptr<Receiver> connectReceiver(quint16 port, const QByteArray &user,
                                              const QByteArray &tenant, HubProtocolKind protocol,
                                              const QString &query = {})
    {
        auto r = std::make_unique<Receiver>();
        r->connection = std::make_unique<HubConnection>(
            QUrl(u"ws://127.0.0.1:%1/hubs/notifications%2"_s.arg(port).arg(query)));
        r->connection->setSkipNegotiationEnabled(true);
        r->connection->setTransports(Transport::WebSockets);
        r->connection->setProtocol(protocol);
        const QString t = QString::fromUtf8(token(user, tenant));
        r->connection->setAccessTokenProvider([t] { return QtFuture::makeReadyFuture(t); });
        Receiver *raw = r.get();
        r->connection->on("ReceiveNotification", [raw](const ValueList &args) {
            raw->sequences.append(args.value(0).find("sequence")->toInteger());
        });
        r->connection->on("ReplayCursorReset", [raw](const ValueList &args) {
            raw->resets.append(args.value(0).toInteger());
        });
        QSignalSpy connected(r->connection.get(), &HubConnection::connected);
        r->connection->start();
        if (!connected.wait(Timeout))
            return nullptr;
        return r;
    }

private Q_SLOTS:
    void initTestCase() { qputenv("QT_FATAL_CRITICALS", "1"); }

    // Issue 17, finding 0: pushes handled on several threads at once, to a user with several
    // connections on different worker threads (JSON and MessagePack, one without a cursor):
    // each connection gets every notification once, in sequence order. Before the fix, a push
    // handled on a connection's own thread overtook pushes queued from the other thread, and
    // the connection's cursor then skipped those.
    void concurrentPushesReachEveryConnectionInOrder()
    {
        auto server = startServer([](Server::ServeOptions &o) { o.threads = 2; });
        QVERIFY(server);
        const quint16 port = server->port();
        std::vector<std::unique_ptr<Receiver>> receivers;
        receivers.push_back(connectReceiver(port, "dana", "acme", HubProtocolKind::Json));
        receivers.push_back(connectReceiver(port, "dana", "acme", HubProtocolKind::MessagePack));
        receivers.push_back(
            connectReceiver(port, "dana", "acme", HubProtocolKind::Json, u"?lastSequence=0"_s));
        receivers.push_back(connectReceiver(port, "dana", "acme", HubProtocolKind::MessagePack,
                                            u"?lastSequence=0"_s));
        for (const auto &r : receivers)
            QVERIFY(r);
        const QByteArray service = token("pusher", "acme", {"Service"});
        constexpr int Pushers = 4;
        constexpr int PerPusher = 50;
        for (int round = 0; round < 2; ++round) {
            std::atomic<int> accepted {0};
            // Qt's event loop keeps running on this thread while the pushers work, so that the
            // connections (on the worker threads) are read as they are written.
            std::thread pushers([&] {
                concurrently(Pushers, [&](int i) {
                    for (int n = 0; n < PerPusher; ++n) {
                        const QByteArray body = R"({"title":"p)" + QByteArray::number(i) + '-'
                            + QByteArray::number(n) + R"("})";
                        if (statusOf(request(port, "POST",
                                             "/api/tenants/acme/users/dana/notifications", service,
                                             body))
                            == 202)
                            ++accepted;
                    }
                });
            });
            const auto joinPushers = qScopeGuard([&] { pushers.join(); });
            const int expected = (round + 1) * Pushers * PerPusher;
            QTRY_COMPARE_WITH_TIMEOUT(int(receivers.back()->sequences.size()), expected, 60000);
            QTRY_VERIFY_WITH_TIMEOUT(accepted.load() == Pushers * PerPusher, Timeout);
            QCOMPARE(accepted.load(), Pushers * PerPusher);
            for (const auto &r : receivers) {
                QTRY_COMPARE_WITH_TIMEOUT(int(r->sequences.size()), expected, Timeout);
                for (int i = 0; i < expected; ++i)
                    QCOMPARE(r->sequences.at(i), qint64(i + 1));
            }
        }
    }

    // Finding 8: the per-user limit is checked and counted in one step, for negotiations made
    // at the same time on several threads, on the notification hub and the admin hub alike.
    void perUserLimitHoldsUnderConcurrency_data()
    {
        QTest::addColumn<QByteArray>("hub");
        QTest::addColumn<QByteArray>("role");
        QTest::newRow("notifications") << QByteArray("/hubs/notifications") << QByteArray();
        QTest::newRow("admin") << QByteArray("/hubs/admin") << QByteArray("Admin");
    }
    void perUserLimitHoldsUnderConcurrency()
    {
        QFETCH(QByteArray, hub);
        QFETCH(QByteArray, role);
        auto server = startServer([](Server::ServeOptions &o) {
            o.threads = 4;
            o.maxConnectionsPerUser = 10;
        });
        QVERIFY(server);
        const quint16 port = server->port();
        const QList<QByteArray> roles
            = role.isEmpty() ? QList<QByteArray> {} : QList<QByteArray> {role};
        const QByteArray t = token("erin", "globex", roles);
        std::atomic<int> ok {0}, tooMany {0}, other {0};
        concurrently(16, [&](int) {
            const QByteArray r
                = request(port, "POST", QByteArray(hub + "/negotiate?negotiateVersion=1"), t);
            const int status = statusOf(r);
            if (status == 200)
                ++ok;
            else if (status == 429 && bodyOf(r).contains("the limit is 10"))
                ++tooMany;
            else
                ++other;
        });
        QCOMPARE(ok.load(), 10);
        QCOMPARE(tooMany.load(), 6);
        QCOMPARE(other.load(), 0);
        // Another user of the same tenant, and the same user id in another tenant, still get in.
        QCOMPARE(statusOf(request(port, "POST", QByteArray(hub + "/negotiate?negotiateVersion=1"),
                                  token("frank", "globex", roles))),
                 200);
        QCOMPARE(statusOf(request(port, "POST", QByteArray(hub + "/negotiate?negotiateVersion=1"),
                                  token("erin", "acme", roles))),
                 200);
    }

    // Finding 3: negotiated connections that never start are bounded, server-wide.
    void pendingNegotiationsAreBounded()
    {
        auto server = startServer([](Server::ServeOptions &o) { o.maxPendingNegotiations = 3; });
        QVERIFY(server);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(statusOf(request(server->port(), "POST",
                                      "/hubs/notifications/negotiate?negotiateVersion=1",
                                      token("u" + QByteArray::number(i), "acme"))),
                     200);
        const QByteArray refused
            = request(server->port(), "POST", "/hubs/notifications/negotiate?negotiateVersion=1",
                      token("u9", "acme"));
        QCOMPARE(statusOf(refused), 503);
        QCOMPARE(headerOf(refused, "retry-after"), QByteArray("5"));
    }

    // Finding 6: a connection token belongs to the tenant and the user that negotiated it.
    void connectionTokenIsBoundToTenantAndUser()
    {
        auto server = startServer();
        QVERIFY(server);
        const quint16 port = server->port();
        const QByteArray negotiated = request(
            port, "POST", "/hubs/notifications/negotiate?negotiateVersion=1", token("bob", "acme"));
        QCOMPARE(statusOf(negotiated), 200);
        const QByteArray body = bodyOf(negotiated);
        const qsizetype at = body.indexOf("\"connectionToken\":\"") + 19;
        const QByteArray id = body.mid(at, body.indexOf('"', at) - at);
        QVERIFY(!id.isEmpty());
        const QByteArray target = "/hubs/notifications?id=" + id;
        QCOMPARE(statusOf(request(port, "GET", target, token("bob", "globex"))), 401);
        QCOMPARE(statusOf(request(port, "POST", target, token("bob", "globex"), "{}\x1e")), 401);
        QCOMPARE(statusOf(request(port, "GET", target, token("bob", "acme"))), 200);
    }

    // Finding 7 and 11: tenant and user ids come from one alphabet, in lower case everywhere.
    void idsAreValidatedAndNormalized()
    {
        auto server = startServer();
        QVERIFY(server);
        const quint16 port = server->port();
        for (const QByteArray &tenant : {QByteArray("acme:x"), QByteArray("acme/x"),
                                         QByteArray("acme x"), QByteArray("acme\nx")})
            QCOMPARE(
                statusOf(request(port, "POST", "/hubs/notifications/negotiate?negotiateVersion=1",
                                 token("carol", tenant))),
                401);
        QCOMPARE(statusOf(request(port, "POST", "/hubs/notifications/negotiate?negotiateVersion=1",
                                  token("carol/x", "acme"))),
                 401);
        // "Carol" of "ACME" is carol of acme: a push to either spelling reaches her.
        auto carol = connectReceiver(port, "Carol", "ACME", HubProtocolKind::Json);
        QVERIFY(carol);
        const QByteArray service = token("pusher", "acme", {"Service"});
        QCOMPARE(statusOf(request(port, "POST", "/api/tenants/acme/users/Carol/notifications",
                                  service, R"({"title":"one"})")),
                 202);
        QCOMPARE(statusOf(request(port, "POST", "/api/tenants/Acme/users/carol/notifications",
                                  service, R"({"title":"two"})")),
                 202);
        QTRY_COMPARE_WITH_TIMEOUT(carol->sequences, (QList<qint64> {1, 2}), Timeout);
        const QByteArray bad
            = request(port, "POST", "/api/tenants/acme/users/bad%20id/notifications", service,
                      R"({"title":"x"})");
        QCOMPARE(statusOf(bad), 400);
        QVERIFY(bodyOf(bad).contains("may only contain"));
        QCOMPARE(statusOf(request(port, "POST",
                                  QByteArray("/api/tenants/acme/users/" + QByteArray(129, 'a')
                                             + "/notifications"),
                                  service, R"({"title":"x"})")),
                 400);
    }

    // Finding 10: a cursor above what is stored is reset to it, and the client is told.
    void cursorFromTheFutureIsReset()
    {
        auto server = startServer();
        QVERIFY(server);
        const quint16 port = server->port();
        const QByteArray service = token("pusher", "acme", {"Service"});
        for (int i = 0; i < 3; ++i)
            QCOMPARE(statusOf(request(port, "POST", "/api/tenants/acme/users/dana/notifications",
                                      service, R"({"title":"stored"})")),
                     202);
        auto dana
            = connectReceiver(port, "dana", "acme", HubProtocolKind::Json, u"?lastSequence=1000"_s);
        QVERIFY(dana);
        QTRY_COMPARE_WITH_TIMEOUT(dana->resets, (QList<qint64> {3}), Timeout);
        QVERIFY(dana->sequences.isEmpty());
        QCOMPARE(statusOf(request(port, "POST", "/api/tenants/acme/users/dana/notifications",
                                  service, R"({"title":"live"})")),
                 202);
        QTRY_COMPARE_WITH_TIMEOUT(dana->sequences, (QList<qint64> {4}), Timeout);
    }

    // Finding 13: a wildcard never comes with credentials, and "null" only when listed.
    void corsNeverCombinesWildcardAndCredentials()
    {
        auto server = startServer([](Server::ServeOptions &o) { o.allowedOrigins = {"*"}; });
        QVERIFY(server);
        const QByteArray any
            = request(server->port(), "GET", "/health", {}, {}, "Origin: https://evil.example\r\n");
        QCOMPARE(headerOf(any, "access-control-allow-origin"), QByteArray("*"));
        QCOMPARE(headerOf(any, "access-control-allow-credentials"), QByteArray());
        const QByteArray opaque
            = request(server->port(), "GET", "/health", {}, {}, "Origin: null\r\n");
        QCOMPARE(headerOf(opaque, "access-control-allow-origin"), QByteArray());

        auto listed = startServer([](Server::ServeOptions &o) {
            o.allowedOrigins = {"https://app.example", "null"};
        });
        QVERIFY(listed);
        const QByteArray app
            = request(listed->port(), "GET", "/health", {}, {}, "Origin: https://app.example\r\n");
        QCOMPARE(headerOf(app, "access-control-allow-origin"), QByteArray("https://app.example"));
        QCOMPARE(headerOf(app, "access-control-allow-credentials"), QByteArray("true"));
        QCOMPARE(headerOf(request(listed->port(), "GET", "/health", {}, {},
                                  "Origin: https://evil.example\r\n"),
                          "access-control-allow-origin"),
                 QByteArray());
        QCOMPARE(headerOf(request(listed->port(), "GET", "/health", {}, {}, "Origin: null\r\n"),
                          "access-control-allow-origin"),
                 QByteArray("null"));
    }

    // Finding 12: /metrics is an operator endpoint.
    void metricsNeedACredential()
    {
        auto server = startServer([](Server::ServeOptions &o) { o.metricsToken = "scrape-me"; });
        QVERIFY(server);
        const quint16 port = server->port();
        QCOMPARE(statusOf(request(port, "GET", "/metrics")), 401);
        QCOMPARE(statusOf(request(port, "GET", "/metrics", "scrape-mf")), 401);
        QCOMPARE(statusOf(request(port, "GET", "/metrics", token("v", "acme", {"Viewer"}))), 401);
        const QByteArray scraped = request(port, "GET", "/metrics", "scrape-me");
        QCOMPARE(statusOf(scraped), 200);
        QVERIFY(bodyOf(scraped).contains("heliograph_limit{name=\"max-connections\"}"));
        QCOMPARE(statusOf(request(port, "GET", "/metrics", token("o", "ops", {"Operator"}))), 200);

        auto separate = startServer([](Server::ServeOptions &o) {
            o.metricsListen = std::pair {QHostAddress(QHostAddress::LocalHost), quint16(0)};
        });
        QVERIFY(separate);
        QVERIFY(separate->metricsPort() != 0);
        QCOMPARE(statusOf(request(separate->port(), "GET", "/metrics", "anything")), 404);
        QCOMPARE(statusOf(request(separate->metricsPort(), "GET", "/metrics")), 200);
    }

    // Finding 2: a cap on TCP connections; past it a new one is answered 503 at once.
    void connectionsAreCapped()
    {
        auto server = startServer([](Server::ServeOptions &o) { o.maxConnections = 3; });
        QVERIFY(server);
        std::vector<std::unique_ptr<RawSocket>> held;
        for (int i = 0; i < 3; ++i) {
            held.push_back(std::make_unique<RawSocket>(server->port()));
            QVERIFY(held.back()->isConnected());
        }
        // The fourth waits its turn in the accept queue behind the three.
        RawSocket fourth(server->port());
        QVERIFY(fourth.isConnected());
        const QByteArray answer = fourth.readToEnd();
        QCOMPARE(statusOf(answer), 503);
        QVERIFY(answer.contains("connection limit"));
        held.clear();
        // Once they are gone, new clients are served again.
        QTRY_COMPARE_WITH_TIMEOUT(statusOf(request(server->port(), "GET", "/health")), 200,
                                  Timeout);
    }

    // One client address may be held to a share of the connections (off by default: behind a
    // proxy every client has the proxy's address). 127.0.0.1 and 127.0.0.2 are two addresses.
    void connectionsPerAddressAreCapped()
    {
        auto server = startServer([](Server::ServeOptions &o) {
            o.address = QHostAddress(QHostAddress::AnyIPv4);
            o.maxConnectionsPerAddress = 2;
        });
        QVERIFY(server);
        RawSocket a(server->port()), b(server->port());
        QVERIFY(a.isConnected() && b.isConnected());
        RawSocket c(server->port());
        QVERIFY(c.isConnected());
        const QByteArray refused = c.readToEnd();
        QCOMPARE(statusOf(refused), 503);
        QVERIFY(refused.contains("from this address"));
        // Another client address is served.
        RawSocket other(server->port(), "127.0.0.2");
        QVERIFY(other.isConnected());
        QVERIFY(other.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        QCOMPARE(statusOf(other.readToEnd()), 200);
    }

    // Finding 2: request bytes held across all connections are capped; the connection whose
    // request would go past the cap gets 503, the others keep theirs.
    void heldRequestBytesAreCapped()
    {
        auto server = startServer([](Server::ServeOptions &o) {
            o.maxRequestBufferBytes = 200 * 1024;
            o.requestHeadersTimeout = 30s;
            o.metricsToken = "scrape-me";
        });
        QVERIFY(server);
        const QByteArray head = "POST /api/tenants/acme/alerts HTTP/1.1\r\nHost: x\r\n"
                                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
        const QByteArray part(90 * 1024, ' ');
        RawSocket a(server->port()), b(server->port()), c(server->port());
        QVERIFY(a.write(QByteArray(head + part)));
        QVERIFY(b.write(QByteArray(head + part)));
        // a and b are held (the gauge is refreshed once a second) before c arrives.
        auto held = [&] {
            const QByteArray m = bodyOf(request(server->port(), "GET", "/metrics", "scrape-me"));
            const qsizetype at = m.indexOf("\nheliograph_request_buffer_bytes ");
            return at < 0 ? 0 : m.mid(at + 33, m.indexOf('\n', at + 1) - at - 33).toLongLong();
        };
        QTRY_VERIFY_WITH_TIMEOUT(held() >= 2 * part.size(), Timeout);
        QVERIFY(c.write(QByteArray(head + part)));
        const QByteArray refused = c.readResponse();
        QCOMPARE(statusOf(refused), 503);
        QCOMPARE(headerOf(refused, "retry-after"), QByteArray("5"));
        // a and b finish their requests: answered (401: no token), not refused.
        const QByteArray rest(100000 - part.size(), ' ');
        QVERIFY(a.write(rest));
        QVERIFY(b.write(rest));
        QCOMPARE(statusOf(a.readResponse()), 401);
        QCOMPARE(statusOf(b.readResponse()), 401);
    }

    // Found with the Python client: a long-polling client may POST its handshake before its
    // first poll; it is kept for the connection, as ASP.NET Core does.
    void longPollingSendBeforeFirstPoll()
    {
        auto server = startServer();
        QVERIFY(server);
        const quint16 port = server->port();
        const QByteArray t = token("gus", "acme");
        const QByteArray negotiated
            = request(port, "POST", "/hubs/notifications/negotiate?negotiateVersion=1", t);
        const QByteArray body = bodyOf(negotiated);
        const qsizetype at = body.indexOf("\"connectionToken\":\"") + 19;
        const QByteArray target
            = "/hubs/notifications?id=" + body.mid(at, body.indexOf('"', at) - at);
        QCOMPARE(
            statusOf(request(port, "POST", target, t, "{\"protocol\":\"json\",\"version\":1}\x1e")),
            200);
        QCOMPARE(statusOf(request(port, "GET", target, t)), 200); // starts the transport
        const QByteArray poll = request(port, "GET", target, t);
        QCOMPARE(statusOf(poll), 200);
        QVERIFY2(bodyOf(poll).startsWith("{}\x1e"), poll.constData());
        QVERIFY(bodyOf(poll).contains("ConnectionAcknowledged"));
    }
};

QTEST_GUILESS_MAIN(tst_Hardening)
#include "tst_hardening.moc"
