// SPDX-License-Identifier: MIT
// A TCP proxy for client tests that can freeze, cut and refuse connections: what a flaky
// network does to a client. Qt Network only, so suites against any server can use it.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

#include <memory>
#include <utility>

namespace Heliograph::Testing {

/// Forwards TCP connections to a target port, and can misbehave.
class TcpProxy : public QObject {
public:
    enum class Mode {
        Forward,
        Frozen, ///< accepts, but drops every byte in both directions
        Refusing, ///< new connections are closed at once
    };

    explicit TcpProxy(quint16 targetPort)
        : m_target(targetPort)
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }
    void setMode(Mode mode) { m_mode = mode; }
    /// Client-to-server bytes: every `from` becomes `to` (same length, within one read).
    void setRewrite(QByteArray from, QByteArray to)
    {
        m_from = std::move(from);
        m_to = std::move(to);
    }
    /// WebSocket upgrade requests get 503.
    void setRejectWebSockets(bool reject) { m_rejectWebSockets = reject; }
    /// Holds back client-to-server bytes: a connection that sends `needle` has that read and
    /// everything after it kept until release() (the server sees them late, in order).
    void holdFrom(QByteArray needle) { m_holdNeedle = std::move(needle); }
    void release()
    {
        m_holdNeedle.clear();
        for (const Pair &p : std::as_const(m_pairs))
            if (p.server && !p.held->isEmpty())
                p.server->write(std::exchange(*p.held, {}));
    }
    qsizetype heldBytes() const
    {
        qsizetype n = 0;
        for (const Pair &p : m_pairs)
            n += p.held->size();
        return n;
    }
    /// Aborts every proxied connection (the peers see a reset, no close handshake).
    void dropAll()
    {
        const auto pairs = std::exchange(m_pairs, {});
        for (const Pair &p : pairs) {
            if (p.client)
                p.client->abort();
            if (p.server)
                p.server->abort();
        }
    }
    /// Aborts the client side of every proxied connection and leaves the server side open and
    /// silent: the client sees its socket drop, the server sees nothing yet.
    void dropClientsOnly()
    {
        const auto pairs = std::exchange(m_pairs, {});
        for (const Pair &p : pairs) {
            if (p.server)
                p.server->disconnect(); // no more forwarding, no close passed on
            if (p.client) {
                p.client->disconnect();
                p.client->abort();
            }
        }
    }
    /// Every request head seen (the first chunk of each client connection and later ones).
    QList<QByteArray> requests;
    int countRequests(QByteArrayView needle) const
    {
        int n = 0;
        for (const QByteArray &r : requests)
            if (r.contains(needle))
                ++n;
        return n;
    }

private:
    struct Pair {
        QPointer<QTcpSocket> client;
        QPointer<QTcpSocket> server;
        std::shared_ptr<QByteArray> held = std::make_shared<QByteArray>(); ///< holdFrom()
    };

    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            client->setParent(this);
            if (m_mode == Mode::Refusing) {
                client->abort();
                client->deleteLater();
                continue;
            }
            auto *server = new QTcpSocket(this);
            m_pairs.append(Pair {client, server});
            std::shared_ptr<QByteArray> held = m_pairs.constLast().held;
            auto pending = std::make_shared<QByteArray>();
            QObject::connect(server, &QTcpSocket::connected, server, [server, pending] {
                server->write(*pending);
                pending->clear();
            });
            QObject::connect(client, &QTcpSocket::readyRead, client, [=, this] {
                QByteArray data = client->readAll();
                if (m_mode == Mode::Frozen)
                    return;
                if (!held->isEmpty() || (!m_holdNeedle.isEmpty() && data.contains(m_holdNeedle))) {
                    held->append(data);
                    return;
                }
                if (data.contains("HTTP/1.1\r\n"))
                    requests.append(data.left(data.indexOf("\r\n\r\n")));
                if (!m_from.isEmpty())
                    data.replace(m_from, m_to);
                if (m_rejectWebSockets && data.toLower().contains("upgrade: websocket")) {
                    client->write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n");
                    client->disconnectFromHost();
                    server->abort();
                    return;
                }
                if (server->state() == QAbstractSocket::ConnectedState)
                    server->write(data);
                else
                    pending->append(data);
            });
            QObject::connect(server, &QTcpSocket::readyRead, server, [=, this] {
                const QByteArray data = server->readAll();
                if (m_mode != Mode::Frozen && client)
                    client->write(data);
            });
            QObject::connect(client, &QTcpSocket::disconnected, server,
                             [server] { server->disconnectFromHost(); });
            QObject::connect(server, &QTcpSocket::disconnected, client,
                             [client] { client->disconnectFromHost(); });
            server->connectToHost(QHostAddress::LocalHost, m_target);
        }
    }

    QTcpServer m_server;
    quint16 m_target;
    Mode m_mode = Mode::Forward;
    QByteArray m_from, m_to;
    bool m_rejectWebSockets = false;
    QByteArray m_holdNeedle;
    QList<Pair> m_pairs;
};

} // namespace Heliograph::Testing
