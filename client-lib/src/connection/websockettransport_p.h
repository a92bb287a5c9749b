// SPDX-License-Identifier: MIT
#pragma once

#include "transport_p.h"

#include <QtCore/QTimer>
#include <QtWebSockets/QWebSocket>

namespace Heliograph::Detail {

/// WebSockets: Text frames for JSON, Binary frames for MessagePack; received frames of either
/// type are payloads. Headers (Authorization, cookies of the manager's jar, the user's) go
/// into the upgrade request; the manager's proxy is used.
class WebSocketTransport : public Transport {
    Q_OBJECT
public:
    explicit WebSocketTransport(QObject *parent);
    ~WebSocketTransport() override;

    HubConnection::Transport kind() const override { return HubConnection::Transport::WebSockets; }
    void open(const Options &options) override;
    void send(const QByteArray &payload, std::function<void(bool ok)> done) override;
    void close() override;
    void ping() override;

    /// ws(s):// for http(s)://.
    static QUrl webSocketUrl(QUrl url);

private:
    void onDisconnected();
    void onError(QAbstractSocket::SocketError error);

    QWebSocket m_socket;
    TransferFormat m_format = TransferFormat::Text;
    QTimer m_closeTimer;
    QString m_lastError;
    int m_httpStatus = 0;
    qint64 m_maxMessageSize = 0; ///< HubConnection::maximumReceiveMessageSize()
    bool m_peerClosed = false; ///< the server sent a close frame
};

} // namespace Heliograph::Detail
