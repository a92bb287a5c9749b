// SPDX-License-Identifier: MIT
#include "logging_p.h"
#include "transport_p.h"

#include <heliograph/client/heliographclient_version.h>

#include <QtCore/QSysInfo>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

#include <limits>

using namespace Qt::StringLiterals;

namespace Heliograph::Detail {

namespace {
constexpr int PostTimeoutMs = 100000;
constexpr qint64 MinTransportBuffer = 1024 * 1024;
} // namespace

QString messageTooLargeText(qint64 limit)
{
    return u"The server sent a message larger than the limit of %1 bytes."_s.arg(limit);
}

TransportError messageTooLarge(qint64 limit)
{
    return {Error::ProtocolError, messageTooLargeText(limit), 0};
}

qint64 transportBufferLimit(qint64 limit)
{
    if (limit <= 0)
        return 0;
    return limit > std::numeric_limits<qint64>::max() / 2 ? std::numeric_limits<qint64>::max()
                                                          : qMax(2 * limit, MinTransportBuffer);
}

QByteArray userAgent()
{
    // The official clients' shape: "<name>/<major>.<minor> (<version>; <OS>; <runtime>; <runtime
    // version>)". Purely informational.
    static const QByteArray agent = "Heliograph/"
        + QByteArray::number(HELIOGRAPH_CLIENT_VERSION_MAJOR) + '.'
        + QByteArray::number(HELIOGRAPH_CLIENT_VERSION_MINOR) + " ("
        + HELIOGRAPH_CLIENT_VERSION_STRING + "; " + QSysInfo::kernelType().toUtf8() + "; Qt; "
        + qVersion() + ')';
    return agent;
}

QNetworkRequest makeRequest(const QUrl &url, const RequestSettings &settings)
{
    QNetworkRequest request(url);
    request.setRawHeader("User-Agent", userAgent());
    // Makes ASP.NET Core's cookie authentication answer 401 instead of redirecting.
    request.setRawHeader("X-Requested-With", "XMLHttpRequest");
    if (!settings.accessToken.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + settings.accessToken);
    for (const auto &[name, value] : settings.headers)
        request.setRawHeader(name, value);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
#if QT_CONFIG(ssl)
    if (settings.ssl)
        request.setSslConfiguration(*settings.ssl);
#endif
    return request;
}

TransportError replyError(QNetworkReply *reply, const QString &what)
{
    TransportError e;
    e.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (e.httpStatus == 401 || e.httpStatus == 403) {
        e.code = Error::Unauthorized;
        e.message = u"%1 was refused: HTTP %2 %3."_s.arg(
            what, QString::number(e.httpStatus),
            reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString());
    } else if (e.httpStatus != 0) {
        e.code = Error::TransportFailed;
        e.message = u"%1 failed: HTTP %2 %3."_s.arg(
            what, QString::number(e.httpStatus),
            reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString());
    } else {
        e.code = Error::TransportFailed;
        e.message = u"%1 failed: %2."_s.arg(what, redacted(reply->errorString()));
    }
    return e;
}

// --- Transport ----------------------------------------------------------------------------

Transport::Transport(QObject *parent)
    : QObject(parent)
{ }

Transport::~Transport() = default;

void Transport::setOpened()
{
    if (m_state != State::Opening)
        return;
    m_state = State::Open;
    Q_EMIT opened();
}

void Transport::finish(const TransportError &error)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    if (error.isError())
        qCDebug(lcHubTransport) << "transport" << kind() << "ended:" << error.message;
    else
        qCDebug(lcHubTransport) << "transport" << kind() << "closed";
    Q_EMIT closed(error);
}

// --- HttpSender ---------------------------------------------------------------------------

HttpSender::HttpSender(QObject *parent)
    : QObject(parent)
{ }

HttpSender::~HttpSender()
{
    if (m_inFlight) {
        m_inFlight->disconnect(this);
        m_inFlight->abort();
        m_inFlight->deleteLater();
    }
}

void HttpSender::setTarget(const QUrl &url, const RequestSettings &settings)
{
    m_url = url;
    m_settings = settings;
}

void HttpSender::send(const QByteArray &payload, std::function<void(bool)> done)
{
    m_queue.append(payload);
    m_queuedCallbacks.append(std::move(done));
    if (!m_inFlight)
        postNext();
}

void HttpSender::abort()
{
    const auto callbacks
        = std::exchange(m_queuedCallbacks, {}) + std::exchange(m_inFlightCallbacks, {});
    m_queue.clear();
    if (m_inFlight) {
        QNetworkReply *reply = m_inFlight;
        m_inFlight = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
    for (const auto &done : callbacks)
        if (done)
            done(false);
}

void HttpSender::postNext()
{
    if (m_queue.isEmpty()) {
        Q_EMIT idle();
        return;
    }
    if (!m_settings.manager) {
        const TransportError e {Error::TransportFailed, u"The network access manager is gone."_s,
                                0};
        abort();
        Q_EMIT failed(e);
        return;
    }
    QNetworkRequest request = makeRequest(m_url, m_settings);
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      QByteArrayLiteral("application/octet-stream"));
    // A POST that moves no byte for this long is dead (the JavaScript client's 100 s).
    request.setTransferTimeout(PostTimeoutMs);
    m_inFlightCallbacks = std::exchange(m_queuedCallbacks, {});
    const QByteArray body = std::exchange(m_queue, {});
    qCDebug(lcHubTransport) << "POST" << body.size() << "bytes to" << redacted(m_url);
    m_postTimer.start();
    QNetworkReply *reply = m_settings.manager->post(request, body);
    m_inFlight = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (m_inFlight != reply)
            return;
        m_inFlight = nullptr;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const auto callbacks = std::exchange(m_inFlightCallbacks, {});
        if (reply->error() != QNetworkReply::NoError || status != 200) {
            const TransportError e = replyError(reply, u"Sending (POST)"_s);
            abort();
            for (const auto &done : callbacks)
                if (done)
                    done(false);
            Q_EMIT failed(e);
            return;
        }
        Q_EMIT roundTripMeasured(m_postTimer.elapsed());
        QPointer<HttpSender> self(this);
        for (const auto &done : callbacks) {
            if (done)
                done(true);
            if (!self)
                return;
        }
        postNext();
    });
}

} // namespace Heliograph::Detail
