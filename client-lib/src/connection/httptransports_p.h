// SPDX-License-Identifier: MIT
// The HTTP transports: Server-Sent Events and long polling, both sending through HttpSender.
#pragma once

#include "transport_p.h"

#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace Heliograph::Detail {

/// Server-Sent Events: `GET ?id=` with `Accept: text/event-stream`; every event's data lines,
/// joined with "\n", are one payload. Text only.
class ServerSentEventsTransport : public Transport {
    Q_OBJECT
public:
    explicit ServerSentEventsTransport(QObject *parent);
    ~ServerSentEventsTransport() override;

    HubConnection::Transport kind() const override
    {
        return HubConnection::Transport::ServerSentEvents;
    }
    void open(const Options &options) override;
    void send(const QByteArray &payload, std::function<void(bool ok)> done) override;
    void close() override;

private:
    void onReadyRead();
    void onFinished();
    void parse();
    void stopStream();

    QPointer<QNetworkReply> m_reply;
    HttpSender m_sender;
    QByteArray m_buffer;
    qsizetype m_scanned = 0; ///< bytes of m_buffer known to hold no line break
    QByteArray m_data; ///< data lines of the event being read
    bool m_hasData = false;
    qint64 m_maxMessageSize = 0; ///< HubConnection::maximumReceiveMessageSize()
    QTimer m_closeTimer;
};

/// Long polling: the first `GET ?id=` must answer 200 at once (the transport is then open);
/// one poll stays outstanding; 204 means the server ended the connection. Closing sends
/// DELETE. No keep-alive on this transport.
class LongPollingTransport : public Transport {
    Q_OBJECT
public:
    explicit LongPollingTransport(QObject *parent);
    ~LongPollingTransport() override;

    HubConnection::Transport kind() const override { return HubConnection::Transport::LongPolling; }
    void open(const Options &options) override;
    void send(const QByteArray &payload, std::function<void(bool ok)> done) override;
    void close() override;

private:
    void poll();
    void sendDelete();

    Options m_options;
    QPointer<QNetworkReply> m_poll;
    QPointer<QNetworkReply> m_delete;
    HttpSender m_sender;
    QTimer m_closeTimer;
};

} // namespace Heliograph::Detail
