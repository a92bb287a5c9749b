// SPDX-License-Identifier: MIT
// The benchmark hub (serve --bench-hub) end to end: a ServerApp in-process on a free port, real
// WebSockets (QWebSocket) speaking JSON and MessagePack, no access tokens.
#include "app/serverapp.h"
#include "auth/jwt.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryFile>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWebSockets/QWebSocket>

#include <memory>
#include <optional>

using namespace Heliograph;
using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

const QByteArray Secret = "tst_benchhub secret of at least 32 bytes";

/// A SignalR client over a real WebSocket: sends the handshake, then reads hub messages.
class HubClient {
public:
    explicit HubClient(const HubProtocol &protocol)
        : m_protocol(protocol)
        , m_reader(protocol)
    {
        QObject::connect(&m_socket, &QWebSocket::textMessageReceived, &m_socket,
                         [this](const QString &text) { received(text.toUtf8()); });
        QObject::connect(&m_socket, &QWebSocket::binaryMessageReceived, &m_socket,
                         [this](const QByteArray &bytes) { received(bytes); });
    }

    /// Opens `url` and completes the handshake; false if either fails.
    bool connect(const QUrl &url)
    {
        QSignalSpy connected(&m_socket, &QWebSocket::connected);
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
        QSignalSpy failed(&m_socket, &QWebSocket::errorOccurred);
#else
        QSignalSpy failed(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error));
#endif
        m_socket.open(url);
        // Connected, or refused (Qt 6.4 reports an error upgrade response only as an error).
        const bool settled
            = QTest::qWaitFor([&] { return !connected.isEmpty() || !failed.isEmpty(); });
        if (!settled || connected.isEmpty())
            return false;
        const QByteArray handshake = Handshake::writeRequest(
            {&m_protocol == &HubProtocol::json() ? "json" : "messagepack", 1});
        m_socket.sendTextMessage(QString::fromUtf8(handshake));
        return QTest::qWaitFor([this] { return m_handshake.has_value(); })
            && m_handshake->isSuccess();
    }

    QWebSocket &socket()
    {
        return m_socket;
    }

    /// Sends an invocation; returns its id.
    QByteArray send(QByteArray target, ValueList arguments)
    {
        const QByteArray id = QByteArray::number(++m_nextId);
        const QByteArray bytes = m_protocol.serialize(
            InvocationMessage {{}, id, std::move(target), std::move(arguments), {}});
        if (&m_protocol == &HubProtocol::json())
            m_socket.sendTextMessage(QString::fromUtf8(bytes));
        else
            m_socket.sendBinaryMessage(bytes);
        return id;
    }

    /// The completion of invocation `id`, once it has arrived.
    std::optional<CompletionMessage> completion(const QByteArray &id) const
    {
        for (const HubMessage &m : m_messages)
            if (auto *c = std::get_if<CompletionMessage>(&m); c && c->invocationId == id)
                return *c;
        return std::nullopt;
    }

    /// Invokes and waits for the completion (an Error completion with "no completion" if none).
    CompletionMessage call(QByteArray target, ValueList arguments)
    {
        const QByteArray id = send(std::move(target), std::move(arguments));
        if (!QTest::qWaitFor([&] { return completion(id).has_value(); }))
            return CompletionMessage::withError(id, "no completion");
        return *completion(id);
    }

    /// The arguments of every Receive invocation so far.
    ValueList received() const
    {
        ValueList out;
        for (const HubMessage &m : m_messages)
            if (auto *inv = std::get_if<InvocationMessage>(&m); inv && inv->target == "Receive")
                out.append(inv->arguments.value(0));
        return out;
    }

private:
    void received(const QByteArray &bytes)
    {
        if (!m_handshake) {
            m_pending += bytes;
            HandshakeResponse response;
            auto n = Handshake::parseResponse(m_pending, response);
            if (!n || *n == 0)
                return;
            m_handshake = response;
            m_reader.append(m_pending.mid(*n));
            m_pending.clear();
        } else {
            m_reader.append(bytes);
        }
        for (auto r = m_reader.read(); r.status == MessageReader::Status::Message;
             r = m_reader.read())
            m_messages.append(*r.message);
    }

    const HubProtocol &m_protocol;
    QWebSocket m_socket;
    QByteArray m_pending;
    std::optional<HandshakeResponse> m_handshake;
    MessageReader m_reader;
    QList<HubMessage> m_messages;
    int m_nextId = 0;
};

/// A void hub method's completion: a null result, as ASP.NET Core sends it.
bool returnedNull(const CompletionMessage &c)
{
    return c.kind == CompletionMessage::Kind::Result && c.result.isNull();
}

const HubProtocol &protocolNamed(const QByteArray &name)
{
    return name == "json" ? HubProtocol::json() : HubProtocol::messagePack();
}

} // namespace

class tst_BenchHub : public QObject {
    Q_OBJECT

    std::unique_ptr<ServerApp> m_app;

    QUrl url(const QString &pathAndQuery, const QString &scheme = u"ws"_s) const
    {
        return QUrl(u"%1://127.0.0.1:%2%3"_s.arg(scheme).arg(m_app->port()).arg(pathAndQuery));
    }

    /// POSTs `path` and returns the status code and body. A plain socket, not
    /// QNetworkAccessManager: its HTTP thread hands data over inside Qt, where ThreadSanitizer
    /// cannot see the locking.
    std::pair<int, QByteArray> post(const QString &path, const QByteArray &token = {})
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_app->port());
        if (!socket.waitForConnected(10000))
            return {0, {}};
        QByteArray request = "POST " + path.toUtf8()
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n";
        if (!token.isEmpty())
            request += "Authorization: Bearer " + token + "\r\n";
        socket.write(request + "\r\n");
        QSignalSpy closed(&socket, &QTcpSocket::disconnected);
        if (socket.state() == QAbstractSocket::ConnectedState && !closed.wait(10000))
            return {0, {}};
        const QByteArray response = socket.readAll();
        const qsizetype headerEnd = response.indexOf("\r\n\r\n");
        if (!response.startsWith("HTTP/1.1 ") || headerEnd < 0)
            return {0, response};
        return {response.mid(9, 3).toInt(), response.mid(headerEnd + 4)};
    }

private Q_SLOTS:
    void init()
    {
        ServeOptions options;
        options.port = 0;
        options.threads = 2; // group and user fan-out crosses threads
        options.memoryStorage = true;
        options.jwtSecret = Secret;
        options.benchHub = true;
        m_app = std::make_unique<ServerApp>();
        QString error;
        QVERIFY2(m_app->start(options, error), qPrintable(error));
    }

    void cleanup() { m_app.reset(); }

    void echo_data()
    {
        QTest::addColumn<QByteArray>("protocol");
        QTest::newRow("json") << QByteArray("json");
        QTest::newRow("messagepack") << QByteArray("messagepack");
    }
    void echo()
    {
        QFETCH(QByteArray, protocol);
        HubClient c(protocolNamed(protocol));
        QVERIFY(c.connect(url(u"/hubs/bench?user=u17"_s)));

        for (const QByteArray &payload :
             {QByteArray("hello"), QByteArray(), QByteArray("h\xc3\xa9llo \xe2\x9c\x93 \"q\"\n"),
              QByteArray(16 * 1024, 'x')}) {
            const CompletionMessage done = c.call("Echo", {Value::fromUtf8(payload)});
            QCOMPARE(done.kind, CompletionMessage::Kind::Result);
            QVERIFY(done.result.isString());
            QCOMPARE(done.result.bytes(), payload);
        }
        // A string parameter binds null (as .NET's does) and nothing but strings.
        const CompletionMessage null = c.call("Echo", {Value()});
        QCOMPARE(null.kind, CompletionMessage::Kind::Result);
        QVERIFY(null.result.isNull());
        const CompletionMessage wrongType = c.call("Echo", {Value(42)});
        QCOMPARE(wrongType.kind, CompletionMessage::Kind::Error);
        QCOMPARE(wrongType.error,
                 QByteArray("Failed to invoke 'Echo' due to an error on the server."));
        // Method names ignore case, as in ASP.NET Core.
        QCOMPARE(c.call("echo", {Value("x")}).result.bytes(), QByteArray("x"));
    }

    void groups()
    {
        HubClient a(HubProtocol::json());
        HubClient b(HubProtocol::messagePack());
        HubClient outsider(HubProtocol::json());
        QVERIFY(a.connect(url(u"/hubs/bench?user=u1"_s)));
        QVERIFY(b.connect(url(u"/hubs/bench?user=u2"_s)));
        QVERIFY(outsider.connect(url(u"/hubs/bench?user=u3"_s)));

        const CompletionMessage joined = a.call("JoinGroup", {Value("g1")});
        QVERIFY(returnedNull(joined));
        QVERIFY(returnedNull(b.call("JoinGroup", {Value("g1")})));

        // From a non-member: both members get it, in either protocol; the sender does not.
        const CompletionMessage sent
            = outsider.call("BroadcastToGroup", {Value("g1"), Value("to g1")});
        QVERIFY(returnedNull(sent));
        QTRY_COMPARE(a.received(), ValueList {Value("to g1")});
        QTRY_COMPARE(b.received(), ValueList {Value("to g1")});
        QCOMPARE(outsider.received(), ValueList {});

        // From a member: the sender is included, before its completion.
        const CompletionMessage own = a.call("BroadcastToGroup", {Value("g1"), Value("own")});
        QVERIFY(returnedNull(own));
        QCOMPARE(a.received(), (ValueList {Value("to g1"), Value("own")}));
        QTRY_COMPARE(b.received(), (ValueList {Value("to g1"), Value("own")}));

        // Another group, and an empty one.
        QVERIFY(returnedNull(outsider.call("BroadcastToGroup", {Value("g2"), Value("nobody")})));
        QVERIFY(returnedNull(outsider.call("JoinGroup", {Value("g2")})));
        QVERIFY(returnedNull(a.call("BroadcastToGroup", {Value("g2"), Value("to g2")})));
        QTRY_COMPARE(outsider.received(), ValueList {Value("to g2")});
        // Whatever a and b were sent is written before the completions of their next calls.
        a.call("Echo", {Value("sync")});
        b.call("Echo", {Value("sync")});
        QCOMPARE(a.received().size(), 2);
        QCOMPARE(b.received().size(), 2);

        // A null group name fails like .NET's ArgumentNullException: the generic error.
        const CompletionMessage nullGroup = a.call("JoinGroup", {Value()});
        QCOMPARE(nullGroup.kind, CompletionMessage::Kind::Error);
        QCOMPARE(nullGroup.error,
                 QByteArray("An unexpected error occurred invoking 'JoinGroup' on the server."));
    }

    void sendToUser()
    {
        HubClient tab1(HubProtocol::json());
        HubClient tab2(HubProtocol::messagePack());
        HubClient other(HubProtocol::messagePack());
        QVERIFY(tab1.connect(url(u"/hubs/bench?user=u7"_s)));
        QVERIFY(tab2.connect(url(u"/hubs/bench?user=u7"_s)));
        QVERIFY(other.connect(url(u"/hubs/bench?user=u8"_s)));

        const CompletionMessage sent = other.call("SendToUser", {Value("u7"), Value("for u7")});
        QVERIFY(returnedNull(sent));
        QTRY_COMPARE(tab1.received(), ValueList {Value("for u7")});
        QTRY_COMPARE(tab2.received(), ValueList {Value("for u7")});

        // To oneself (every own connection), and to a user without connections.
        QVERIFY(returnedNull(other.call("SendToUser", {Value("u8"), Value("self")})));
        QCOMPARE(other.received(), ValueList {Value("self")});
        QVERIFY(returnedNull(other.call("SendToUser", {Value("nobody"), Value("lost")})));
        tab1.call("Echo", {Value("sync")});
        tab2.call("Echo", {Value("sync")});
        QCOMPARE(tab1.received().size(), 1);
        QCOMPARE(tab2.received().size(), 1);
    }

    void noUserParameter()
    {
        // No `user`: an anonymous connection with an empty user id, still served.
        HubClient anonymous(HubProtocol::json());
        QVERIFY(anonymous.connect(url(u"/hubs/bench"_s)));
        QCOMPARE(anonymous.call("Echo", {Value("hi")}).result.bytes(), QByteArray("hi"));
        QVERIFY(returnedNull(anonymous.call("JoinGroup", {Value("g")})));
        QVERIFY(returnedNull(anonymous.call("BroadcastToGroup", {Value("g"), Value("p")})));
        QCOMPARE(anonymous.received(), ValueList {Value("p")});
    }

    void noTokenNeededButNotificationsStillDo()
    {
        // The bench hub: negotiate and the negotiated WebSocket without a token.
        const auto [status, body] = post(u"/hubs/bench/negotiate?negotiateVersion=1&user=u5"_s);
        QCOMPARE(status, 200);
        const QJsonObject negotiated = QJsonDocument::fromJson(body).object();
        const QString connectionToken = negotiated.value(u"connectionToken"_s).toString();
        QVERIFY2(!connectionToken.isEmpty(), body.constData());
        HubClient negotiatedClient(HubProtocol::messagePack());
        QVERIFY(negotiatedClient.connect(url(u"/hubs/bench?user=u5&id=%1"_s.arg(
            QString::fromUtf8(QUrl::toPercentEncoding(connectionToken))))));
        QCOMPARE(negotiatedClient.call("Echo", {Value("negotiated")}).result.bytes(),
                 QByteArray("negotiated"));
        HubClient sender(HubProtocol::json());
        QVERIFY(sender.connect(url(u"/hubs/bench?user=u6"_s)));
        QVERIFY(returnedNull(sender.call("SendToUser", {Value("u5"), Value("via negotiate")})));
        QTRY_COMPARE(negotiatedClient.received(), ValueList {Value("via negotiate")});

        // The notification hub on the same server still refuses requests without a token...
        QCOMPARE(post(u"/hubs/notifications/negotiate?negotiateVersion=1&user=u5"_s).first, 401);
        HubClient refused(HubProtocol::json());
        QVERIFY(!refused.connect(url(u"/hubs/notifications?user=u5"_s)));
        QVERIFY2(refused.socket().errorString().contains(u"401"_s),
                 qPrintable(refused.socket().errorString()));
        // ...and accepts a valid one.
        auto signer = JwtSigner::withSecret(Secret);
        QVERIFY(signer);
        TokenRequest request;
        request.subject = "u5";
        request.tenantId = "t1";
        auto token = signer->sign(request);
        QVERIFY(token);
        QCOMPARE(post(u"/hubs/notifications/negotiate?negotiateVersion=1"_s, *token).first, 200);
        HubClient accepted(HubProtocol::json());
        QVERIFY(accepted.connect(url(u"/hubs/notifications?access_token=%1"_s.arg(
            QString::fromUtf8(QUrl::toPercentEncoding(QString::fromUtf8(*token)))))));
    }

    void offByDefault()
    {
        m_app.reset();
        ServeOptions options;
        options.port = 0;
        options.threads = 1;
        options.memoryStorage = true;
        options.jwtSecret = Secret;
        m_app = std::make_unique<ServerApp>();
        QString error;
        QVERIFY2(m_app->start(options, error), qPrintable(error));
        QCOMPARE(post(u"/hubs/bench/negotiate?negotiateVersion=1"_s).first, 404);
        HubClient c(HubProtocol::json());
        QVERIFY(!c.connect(url(u"/hubs/bench"_s)));
        QVERIFY2(c.socket().errorString().contains(u"404"_s), qPrintable(c.socket().errorString()));
    }

    void settings()
    {
        QString error;
        {
            ServeOptions o;
            QVERIFY(parseServeOptions({}, o, error));
            QVERIFY(!o.benchHub);
        }
        {
            ServeOptions o;
            QVERIFY(parseServeOptions({u"--bench-hub"_s, u"--memory"_s}, o, error));
            QVERIFY(o.benchHub);
            QVERIFY(o.memoryStorage);
        }
        {
            ServeOptions o;
            QVERIFY(parseServeOptions({u"--bench-hub=false"_s}, o, error));
            QVERIFY(!o.benchHub);
        }
        {
            ServeOptions o;
            QVERIFY(!parseServeOptions({u"--bench-hub=maybe"_s}, o, error));
            QCOMPARE(error, u"invalid value for bench-hub: 'maybe'"_s);
        }
        {
            qputenv("HELIOGRAPH_BENCH_HUB", "1");
            ServeOptions o;
            const bool ok = parseServeOptions({}, o, error);
            qunsetenv("HELIOGRAPH_BENCH_HUB");
            QVERIFY(ok);
            QVERIFY(o.benchHub);
        }
        {
            QTemporaryFile config;
            QVERIFY(config.open());
            config.write(R"({"bench-hub": true, "listen": "127.0.0.1:0"})");
            config.close();
            ServeOptions o;
            QVERIFY2(parseServeOptions({u"--config"_s, config.fileName()}, o, error),
                     qPrintable(error));
            QVERIFY(o.benchHub);
            QCOMPARE(o.port, quint16(0));
        }
    }
};

QTEST_MAIN(tst_BenchHub)
#include "tst_benchhub.moc"
