// SPDX-License-Identifier: MIT
// Helpers for the HubConnection suites: the real heliograph-server in-process, a TCP proxy
// that can freeze, drop and refuse connections, a scripted HTTP server for negotiate, a
// WebSocket server that never answers the handshake (or answers it and then stays silent),
// and a TCP server that accepts and never answers. Everything is asynchronous: tests wait with
// QSignalSpy::wait / QTRY_*, never with sleeps.
#pragma once

#include "app/serverapp.h"
#include "auth/jwt.h"
#include "clientcalls.h"
#include "tcpproxy.h"

#include <heliograph/client/hubconnection.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPointer>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>
#include <QtWebSockets/QWebSocket>
#include <QtWebSockets/QWebSocketServer>

#include <functional>
#include <memory>

namespace Heliograph::Testing {

using namespace std::chrono_literals;
using namespace Qt::StringLiterals;

inline const QByteArray JwtSecret = "tests/client secret of at least 32 bytes";

/// heliograph-server in-process (memory storage, bench hub on) on `port` (0: a free one).
inline std::unique_ptr<Server::ServerApp>
startServer(quint16 port = 0, const std::function<void(Server::ServeOptions &)> &tweak = {})
{
    Server::ServeOptions options;
    options.port = port;
    options.threads = 2;
    options.memoryStorage = true;
    options.jwtSecret = JwtSecret;
    options.benchHub = true;
    if (tweak)
        tweak(options);
    auto app = std::make_unique<Server::ServerApp>();
    QString error;
    if (!app->start(options, error)) {
        qWarning("cannot start the server: %s", qPrintable(error));
        return nullptr;
    }
    return app;
}

/// A token for the notification hub.
inline QString token(const QByteArray &user, const QByteArray &tenant = "t1",
                     QList<QByteArray> roles = {})
{
    auto signer = Server::JwtSigner::withSecret(JwtSecret);
    Server::TokenRequest request;
    request.subject = user;
    request.tenantId = tenant;
    request.roles = std::move(roles);
    auto t = signer->sign(request);
    return t ? QString::fromUtf8(*t) : QString();
}

inline QFuture<QString> readyToken(const QString &t)
{
    QPromise<QString> p;
    p.start();
    p.addResult(t);
    p.finish();
    return p.future();
}

/// A retry policy with a fixed short delay, that records what it was told.
class FixedRetryPolicy : public RetryPolicy {
public:
    explicit FixedRetryPolicy(std::chrono::milliseconds delay, int maxRetries = -1)
        : m_delay(delay)
        , m_max(maxRetries)
    { }
    std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryContext &context) override
    {
        contexts.append(context);
        if (m_max >= 0 && context.previousRetryCount >= m_max)
            return std::nullopt;
        return m_delay;
    }
    QList<RetryContext> contexts;

private:
    std::chrono::milliseconds m_delay;
    int m_max;
};

/// An HTTP server that answers each request with what `respond` returns (status, body); the
/// request heads are recorded.
class ScriptedHttpServer : public QObject {
public:
    using Responder = std::function<std::pair<int, QByteArray>(const QByteArray &head)>;
    explicit ScriptedHttpServer(Responder respond)
        : m_respond(std::move(respond))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                s->setParent(this);
                auto buffer = std::make_shared<QByteArray>();
                QObject::connect(s, &QTcpSocket::readyRead, s, [this, s, buffer] {
                    *buffer += s->readAll();
                    const qsizetype end = buffer->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QByteArray head = buffer->left(end);
                    buffer->clear();
                    requests.append(head);
                    const auto [status, body] = m_respond(head);
                    s->write("HTTP/1.1 " + QByteArray::number(status)
                             + " Scripted\r\n"
                               "Content-Type: "
                             + contentType
                             + "\r\nContent-Length: " + QByteArray::number(body.size())
                             + "\r\nConnection: close\r\n\r\n" + body);
                    s->disconnectFromHost();
                });
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }
    QList<QByteArray> requests;
    QByteArray contentType = "application/json"; ///< of every response

private:
    QTcpServer m_server;
    Responder m_respond;
};

/// A WebSocket server that accepts upgrades and then either never answers the SignalR
/// handshake (`answer` empty), or answers it with `answer` and then never sends anything
/// again. It records what the client sends.
class SilentHubServer : public QObject {
public:
    explicit SilentHubServer(QByteArray answer = {})
        : m_server(u"silent"_s, QWebSocketServer::NonSecureMode)
        , m_answer(std::move(answer))
    {
        QObject::connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *s = m_server.nextPendingConnection()) {
                s->setParent(this);
                auto handle = [this, s](const QByteArray &bytes) {
                    received += bytes;
                    if (!m_answer.isEmpty() && !m_answered && bytes.contains('\x1e')) {
                        m_answered = true;
                        s->sendTextMessage(QString::fromUtf8(m_answer));
                    }
                };
                QObject::connect(s, &QWebSocket::textMessageReceived, s,
                                 [handle](const QString &t) { handle(t.toUtf8()); });
                QObject::connect(s, &QWebSocket::binaryMessageReceived, s, handle);
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    QUrl url() const { return QUrl(u"ws://127.0.0.1:%1/hub"_s.arg(m_server.serverPort())); }
    QByteArray received;

private:
    QWebSocketServer m_server;
    QByteArray m_answer;
    bool m_answered = false;
};

/// Accepts TCP connections and never says a word.
class BlackHole : public QObject {
public:
    BlackHole()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                s->setParent(this);
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    QTcpServer m_server;
};

} // namespace Heliograph::Testing
