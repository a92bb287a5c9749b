// SPDX-License-Identifier: MIT
#include "logging_p.h"
#include "websockettransport_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QRegularExpression>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkCookie>
#include <QtNetwork/QNetworkCookieJar>

using namespace Qt::StringLiterals;

namespace Heliograph::Detail {

namespace {
constexpr int CloseTimeoutMs = 5000;

/// Qt 6.4 reports a refused upgrade only through the error string:
/// "QWebSocketPrivate::processHandshake: Unhandled http status code: 401 (Unauthorized)."
int statusFromErrorString(const QString &error)
{
    static const QRegularExpression status(u"status code: (\\d{3})"_s);
    const QRegularExpressionMatch m = status.match(error);
    return m.hasMatch() ? m.captured(1).toInt() : 0;
}

/// QWebSocket closes with 1009 itself when a frame header announces more than
/// maxAllowedIncomingFrameSize() or a message grows past maxAllowedIncomingMessageSize(); a
/// close frame from the server carries the same code, but (in practice) not these texts.
bool isOwnSizeLimit(const QString &reason)
{
    static const char *const frame = "Maximum framesize exceeded.";
    static const char *const message = "Received message is too big.";
    return reason == QLatin1String(frame) || reason == QLatin1String(message)
        || reason == QCoreApplication::translate("QWebSocketFrame", frame)
        || reason == QCoreApplication::translate("QWebSocketDataProcessor", message);
}
} // namespace

WebSocketTransport::WebSocketTransport(QObject *parent)
    : Transport(parent)
{
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        qCDebug(lcHubTransport) << "WebSocket close handshake timed out; aborting";
        m_socket.abort();
        finish({});
    });
    connect(&m_socket, &QWebSocket::connected, this, [this] {
        qCDebug(lcHubTransport) << "WebSocket open";
        setOpened();
    });
    connect(&m_socket, &QWebSocket::disconnected, this, &WebSocketTransport::onDisconnected);
    // QWebSocket says aboutToClose when it answers the server's close frame; a socket that just
    // drops ends without it. Both report RemoteHostClosedError, so the error cannot tell them
    // apart (Qt 6.4).
    connect(&m_socket, &QWebSocket::aboutToClose, this, [this] {
        if (m_state == State::Open)
            m_peerClosed = true;
    });
#if QT_VERSION >= QT_VERSION_CHECK(6, 5, 0)
    connect(&m_socket, &QWebSocket::errorOccurred, this, &WebSocketTransport::onError);
#else
    connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            &WebSocketTransport::onError);
#endif
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        if (m_state == State::Open || m_state == State::Closing)
            Q_EMIT received(text.toUtf8());
    });
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &bytes) {
        if (m_state == State::Open || m_state == State::Closing)
            Q_EMIT received(bytes);
    });
    connect(&m_socket, &QWebSocket::pong, this, [this](quint64 elapsed, const QByteArray &) {
        Q_EMIT roundTripMeasured(qint64(elapsed));
    });
}

WebSocketTransport::~WebSocketTransport()
{
    m_socket.disconnect(this);
    m_socket.abort();
}

QUrl WebSocketTransport::webSocketUrl(QUrl url)
{
    if (url.scheme() == u"http"_s)
        url.setScheme(u"ws"_s);
    else if (url.scheme() == u"https"_s)
        url.setScheme(u"wss"_s);
    return url;
}

void WebSocketTransport::open(const Options &options)
{
    m_state = State::Opening;
    m_format = options.format;
    m_maxMessageSize = options.maxMessageSize;
    if (const qint64 bound = transportBufferLimit(options.maxMessageSize)) {
        // Checked by QWebSocket before it reads a frame's payload, and as a message grows.
        m_socket.setMaxAllowedIncomingFrameSize(
            qMin(quint64(bound), QWebSocket::maxIncomingFrameSize()));
        m_socket.setMaxAllowedIncomingMessageSize(
            qMin(quint64(bound), QWebSocket::maxIncomingMessageSize()));
    }
    const QUrl url = webSocketUrl(options.url);
    QNetworkRequest request = makeRequest(url, options.request);
    if (QNetworkAccessManager *manager = options.request.manager) {
        QUrl httpUrl = url;
        httpUrl.setScheme(url.scheme() == u"wss"_s ? u"https"_s : u"http"_s);
        if (QNetworkCookieJar *jar = manager->cookieJar()) {
            QByteArray cookies;
            for (const QNetworkCookie &c : jar->cookiesForUrl(httpUrl)) {
                if (!cookies.isEmpty())
                    cookies += "; ";
                cookies += c.toRawForm(QNetworkCookie::NameAndValueOnly);
            }
            if (!cookies.isEmpty())
                request.setRawHeader("Cookie", cookies);
        }
        m_socket.setProxy(manager->proxy());
    }
#if QT_CONFIG(ssl)
    if (options.request.ssl)
        m_socket.setSslConfiguration(*options.request.ssl);
#endif
    qCDebug(lcHubTransport) << "opening WebSocket" << redacted(url);
    m_socket.open(request);
}

void WebSocketTransport::send(const QByteArray &payload, std::function<void(bool)> done)
{
    if (m_state != State::Open) {
        if (done)
            done(false);
        return;
    }
    qint64 written;
    if (m_format == TransferFormat::Text)
        written = m_socket.sendTextMessage(QString::fromUtf8(payload));
    else
        written = m_socket.sendBinaryMessage(payload);
    // Out now rather than on the socket's next write notification, one event-loop pass later:
    // a round trip is that much shorter (docs/benchmarks.md, "Clients").
    m_socket.flush();
    if (done)
        done(written >= 0);
}

void WebSocketTransport::close()
{
    switch (m_state) {
    case State::Idle:
        finish({});
        return;
    case State::Opening:
    case State::Open:
        m_state = State::Closing;
        m_closeTimer.start(CloseTimeoutMs);
        m_socket.close(QWebSocketProtocol::CloseCodeNormal);
        return;
    case State::Closing:
    case State::Closed:
        return;
    }
}

void WebSocketTransport::ping()
{
    if (m_state == State::Open)
        m_socket.ping();
}

void WebSocketTransport::onError(QAbstractSocket::SocketError error)
{
    m_lastError = redacted(m_socket.errorString());
    if (const int status = statusFromErrorString(m_lastError))
        m_httpStatus = status;
    qCDebug(lcHubTransport) << "WebSocket error" << error << m_lastError;
    if (m_state == State::Opening) {
        // Any error while opening is fatal; a refused upgrade (Qt 6.4) is not followed by
        // disconnected().
        onDisconnected();
        m_socket.disconnect(this);
        m_socket.abort();
    }
}

void WebSocketTransport::onDisconnected()
{
    m_closeTimer.stop();
    TransportError e;
    switch (m_state) {
    case State::Idle:
    case State::Closed:
        return;
    case State::Closing:
        break; // the close we asked for
    case State::Opening:
        e.httpStatus = m_httpStatus;
        e.code = (m_httpStatus == 401 || m_httpStatus == 403) ? Error::Unauthorized
                                                              : Error::TransportFailed;
        e.message = m_httpStatus
            ? u"The WebSocket upgrade was refused: HTTP %1."_s.arg(m_httpStatus)
            : u"The WebSocket could not connect: %1."_s.arg(m_lastError.isEmpty() ? u"closed"_s
                                                                                  : m_lastError);
        break;
    case State::Open:
        qCDebug(lcHubTransport) << "WebSocket ended: close code" << m_socket.closeCode() << "reason"
                                << m_socket.closeReason() << "error" << m_lastError;
        if (m_maxMessageSize > 0 && m_socket.closeCode() == QWebSocketProtocol::CloseCodeTooMuchData
            && isOwnSizeLimit(m_socket.closeReason())) {
            e = messageTooLarge(m_maxMessageSize);
        } else if (!m_peerClosed
                   && (!m_lastError.isEmpty()
                       || m_socket.closeCode()
                           == QWebSocketProtocol::CloseCodeAbnormalDisconnection)) {
            e.code = Error::TransportFailed;
            e.abrupt = true;
            e.message = u"The WebSocket failed: %1."_s.arg(
                m_lastError.isEmpty() ? u"closed without a close frame"_s : m_lastError);
        } else if (m_socket.closeCode() == QWebSocketProtocol::CloseCodeNormal) {
            e.code = Error::ServerClosed;
            e.message = u"The server closed the WebSocket."_s;
        } else {
            e.code = Error::TransportFailed;
            const QString reason = m_socket.closeReason();
            e.message = u"WebSocket closed with status code: %1 (%2)."_s.arg(
                QString::number(int(m_socket.closeCode())),
                reason.isEmpty() ? u"no reason given"_s : reason);
        }
        break;
    }
    finish(e);
}

} // namespace Heliograph::Detail
