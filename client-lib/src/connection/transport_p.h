// SPDX-License-Identifier: MIT
// The transports under a HubConnection: a byte pipe that opens, carries whole hub-protocol
// payloads both ways and closes. WebSockets (QWebSocket), Server-Sent Events and long polling
// (QNetworkAccessManager, with POSTs for sending).
#pragma once

#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/qtnetwork-config.h>

#if QT_CONFIG(ssl)
#include <QtNetwork/QSslConfiguration>
#endif

#include <functional>
#include <optional>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace Heliograph::Detail {

/// How a transport ended or failed to open.
struct TransportError {
    Error code = Error::NoError;
    QString message;
    int httpStatus = 0;
    /// An open WebSocket ended without a close handshake (what stateful reconnect resumes).
    bool abrupt = false;
    bool isError() const noexcept { return code != Error::NoError; }
};

/// What every HTTP request and the WebSocket handshake carry.
struct RequestSettings {
    QByteArray accessToken; ///< never logged
    HubConnection::HttpHeaders headers;
    QPointer<QNetworkAccessManager> manager;
#if QT_CONFIG(ssl)
    std::optional<QSslConfiguration> ssl;
#endif
};

/// errorString of a message over HubConnection::maximumReceiveMessageSize() (`limit`).
QString messageTooLargeText(qint64 limit);
/// The ProtocolError a transport ends with when it would have to buffer more than
/// transportBufferLimit(`limit`).
TransportError messageTooLarge(qint64 limit);
/// What a transport may buffer of one unit (a WebSocket message, a Server-Sent Events line or
/// event, a long-polling response), which can carry several messages: twice the message limit,
/// at least 1 MiB; 0 (unlimited) when `limit` is.
qint64 transportBufferLimit(qint64 limit);

/// A request with our User-Agent, X-Requested-With, Authorization, the user's headers, no
/// caching, and the TLS settings.
QNetworkRequest makeRequest(const QUrl &url, const RequestSettings &settings);
/// TransportFailed / Unauthorized for a finished reply that failed or has a status other
/// than `expected`. `what` names the request ("Negotiate", "The long-polling request").
TransportError replyError(QNetworkReply *reply, const QString &what);
QByteArray userAgent();

class Transport : public QObject {
    Q_OBJECT
public:
    struct Options {
        QUrl url; ///< http(s):// with `id=` (WebSockets maps the scheme itself)
        RequestSettings request;
        TransferFormat format = TransferFormat::Text;
        /// HubConnection::maximumReceiveMessageSize() (0: unlimited); what the transport
        /// buffers is bounded by transportBufferLimit() of it.
        qint64 maxMessageSize = 0;
    };

    ~Transport() override; ///< aborts whatever is in flight, without signals

    virtual HubConnection::Transport kind() const = 0;
    /// Emits opened(), or closed() with the reason it could not open.
    virtual void open(const Options &options) = 0;
    /// Queues a payload (whole hub messages); `done(true)` once it was written or POSTed.
    virtual void send(const QByteArray &payload, std::function<void(bool ok)> done) = 0;
    /// Ends gracefully: what was queued is still sent, then the transport closes (WebSocket
    /// close handshake, long-polling DELETE) and emits closed() within about 5 s.
    virtual void close() = 0;
    /// Sends a WebSocket ping to measure the round trip (no-op on the HTTP transports).
    virtual void ping() { }

    bool isOpen() const noexcept { return m_state == State::Open; }

Q_SIGNALS:
    void opened();
    void received(const QByteArray &payload);
    /// Once, whether the transport opened or not. `error` is NoError for a close we asked
    /// for, ServerClosed for a clean end by the server.
    void closed(const Heliograph::Detail::TransportError &error);
    void roundTripMeasured(qint64 milliseconds);

protected:
    explicit Transport(QObject *parent);
    enum class State { Idle, Opening, Open, Closing, Closed };
    void setOpened();
    /// Emits closed() unless it was emitted already.
    void finish(const TransportError &error);
    State m_state = State::Idle;
};

/// The POST side of Server-Sent Events and long polling: one POST at a time, in order;
/// payloads queued meanwhile go into the next POST together.
class HttpSender : public QObject {
    Q_OBJECT
public:
    explicit HttpSender(QObject *parent);
    ~HttpSender() override;

    void setTarget(const QUrl &url, const RequestSettings &settings);
    void send(const QByteArray &payload, std::function<void(bool ok)> done);
    bool isIdle() const noexcept { return !m_inFlight && m_queue.isEmpty(); }
    /// Fails everything queued (done(false)) and aborts the POST in flight.
    void abort();

Q_SIGNALS:
    /// A POST failed: the connection is broken.
    void failed(const Heliograph::Detail::TransportError &error);
    void idle();
    void roundTripMeasured(qint64 milliseconds);

private:
    void postNext();

    QUrl m_url;
    RequestSettings m_settings;
    QByteArray m_queue;
    QList<std::function<void(bool)>> m_queuedCallbacks;
    QList<std::function<void(bool)>> m_inFlightCallbacks;
    QPointer<QNetworkReply> m_inFlight;
    QElapsedTimer m_postTimer;
};

} // namespace Heliograph::Detail
