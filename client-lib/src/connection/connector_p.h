// SPDX-License-Identifier: MIT
// One connect attempt up to an open transport: the access token, negotiate (v1, redirects),
// the choice of transport in the server's order with fallback (re-negotiating before the next
// transport, as the official clients do). The handshake is the HubConnection's.
#pragma once

#include "transport_p.h"

#include <heliograph/protocol/negotiate.h>

#include <QtCore/QFutureWatcher>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

namespace Heliograph::Detail {

class Connector : public QObject {
    Q_OBJECT
public:
    struct Settings {
        QUrl url;
        HubConnection::Transports transports;
        TransferFormat format = TransferFormat::Text;
        bool skipNegotiation = false;
        /// Ask for stateful reconnect in negotiate (only while WebSockets may still be used).
        bool statefulReconnect = false;
        /// Resuming a stateful connection: no negotiate, a WebSocket straight to this URL
        /// (the previous transport's, with its `id=`), after a fresh access token.
        QUrl resumeUrl;
        HubConnection::AccessTokenProvider tokenProvider;
        RequestSettings request; ///< without the token: the Connector adds it
        int stepTimeoutMs = 15000;
        qint64 maxMessageSize = 0; ///< HubConnection::maximumReceiveMessageSize()
    };

    Connector(Settings settings, QObject *parent);
    ~Connector() override; ///< aborts what is in flight, without signals

    void start();
    /// Aborts what is in flight; no signal follows.
    void cancel();

    /// After succeeded(): the open transport (the caller takes ownership) and its facts.
    Transport *takeTransport();
    QByteArray connectionId() const { return m_negotiated.connectionId; }
    QByteArray accessToken() const { return m_settings.request.accessToken; }
    HubConnection::Transport transportKind() const { return m_kind; }
    /// The URL the transport was opened with (with `id=`): what a resume reconnects to.
    QUrl transportUrl() const { return m_transportUrl; }
    /// Stateful reconnect is on for this connection: asked for, granted by the server, and
    /// the transport is WebSockets.
    bool statefulReconnect() const
    {
        return m_settings.statefulReconnect && m_negotiated.useStatefulReconnect
            && m_kind == HubConnection::Transport::WebSockets;
    }

    static QUrl negotiateUrl(const QUrl &endpoint);
    static QUrl httpUrl(QUrl url);

Q_SIGNALS:
    void succeeded();
    void failed(Heliograph::Error error, const QString &message);

private:
    void fetchToken();
    void negotiate();
    void onNegotiated(QNetworkReply *reply);
    void chooseTransport();
    void openTransport(HubConnection::Transport kind, const QUrl &url);
    void transportFailed(const TransportError &error);
    void fail(Error error, const QString &message);
    void abortAll();
    void discardReply();

    Settings m_settings;
    QUrl m_url; ///< the endpoint, after redirects
    int m_redirects = 0;
    bool m_tokenFromRedirect = false;
    bool m_askedStateful = false;
    NegotiateResponse m_negotiated;
    HubConnection::Transports m_failedTransports;
    TransportError m_lastTransportError;
    HubConnection::Transport m_kind = HubConnection::Transport::None;
    QUrl m_transportUrl;
    QPointer<QFutureWatcher<QString>> m_tokenWatcher;
    QPointer<QNetworkReply> m_negotiateReply;
    Transport *m_transport = nullptr;
    QTimer m_stepTimer;
    bool m_done = false;
    bool m_starting = false; ///< inside start(): failures are queued
};

} // namespace Heliograph::Detail
