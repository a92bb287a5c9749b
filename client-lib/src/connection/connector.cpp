// SPDX-License-Identifier: MIT
#include "connector_p.h"
#include "httptransports_p.h"
#include "logging_p.h"
#include "websockettransport_p.h"

#include <QtCore/QUrlQuery>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>

#include <exception>

using namespace Qt::StringLiterals;

namespace Heliograph::Detail {

namespace {
constexpr int MaxRedirects = 100;

HubConnection::Transport transportNamed(QByteArrayView name)
{
    if (name == "WebSockets")
        return HubConnection::Transport::WebSockets;
    if (name == "ServerSentEvents")
        return HubConnection::Transport::ServerSentEvents;
    if (name == "LongPolling")
        return HubConnection::Transport::LongPolling;
    return HubConnection::Transport::None;
}

/// The body of a failed request if it is a short text/plain one (e.g. "Too many connections
/// for this user (the limit is 10)."), control characters blanked; empty otherwise.
QString serverText(QNetworkReply *reply)
{
    if (!reply->header(QNetworkRequest::ContentTypeHeader).toString().startsWith(u"text/plain"_s))
        return {};
    const QByteArray text = reply->read(512).trimmed();
    if (text.isEmpty() || text.size() >= 512 || !text.isValidUtf8())
        return {};
    QString why = QString::fromUtf8(text);
    for (QChar &c : why)
        if (c.category() == QChar::Other_Control)
            c = u' ';
    return why;
}

/// `url` + `id=<token>`; the token is URL-safe in practice, percent-encoded to be sure.
QUrl withConnectionToken(QUrl url, const QByteArray &token)
{
    QString query = url.query(QUrl::FullyEncoded);
    if (!query.isEmpty())
        query += u'&';
    query += u"id="_s + QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(token)));
    url.setQuery(query, QUrl::StrictMode);
    return url;
}
} // namespace

Connector::Connector(Settings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
{
    m_stepTimer.setSingleShot(true);
    connect(&m_stepTimer, &QTimer::timeout, this, [this] {
        if (m_negotiateReply) {
            discardReply();
            fail(Error::NegotiationFailed,
                 u"Negotiation timed out after %1 ms."_s.arg(m_settings.stepTimeoutMs));
        } else if (m_transport) {
            transportFailed({Error::TransportFailed,
                             u"Opening the %1 transport timed out after %2 ms."_s
                                 .arg(HubConnection::transportName(m_transport->kind()))
                                 .arg(m_settings.stepTimeoutMs),
                             0});
        }
    });
}

Connector::~Connector()
{
    abortAll();
}

QUrl Connector::httpUrl(QUrl url)
{
    if (url.scheme() == u"ws"_s)
        url.setScheme(u"http"_s);
    else if (url.scheme() == u"wss"_s)
        url.setScheme(u"https"_s);
    return url;
}

QUrl Connector::negotiateUrl(const QUrl &endpoint)
{
    QUrl url = endpoint;
    QString path = url.path();
    if (!path.endsWith(u'/'))
        path += u'/';
    url.setPath(path + u"negotiate"_s);
    if (!QUrlQuery(url).hasQueryItem(u"negotiateVersion"_s)) {
        QString query = url.query(QUrl::FullyEncoded);
        if (!query.isEmpty())
            query += u'&';
        query += u"negotiateVersion=1"_s;
        url.setQuery(query, QUrl::StrictMode);
    }
    return url;
}

void Connector::start()
{
    // A failure found before start() returns (a token provider that throws, a transport that
    // cannot even begin to open) is reported from the event loop, like every other one.
    m_starting = true;
    m_url = httpUrl(m_settings.url);
    if (!m_settings.request.manager)
        fail(Error::InvalidConfiguration, u"No network access manager."_s);
    else
        fetchToken();
    m_starting = false;
}

void Connector::fetchToken()
{
    auto next = [this] {
        if (!m_settings.resumeUrl.isEmpty())
            openTransport(HubConnection::Transport::WebSockets, m_settings.resumeUrl);
        else if (m_settings.skipNegotiation)
            openTransport(HubConnection::Transport::WebSockets, m_url);
        else
            negotiate();
    };
    if (!m_settings.tokenProvider) {
        next();
        return;
    }
    QFuture<QString> future;
    try {
        future = m_settings.tokenProvider();
    } catch (const std::exception &e) {
        fail(Error::Unauthorized,
             u"The access token provider failed: %1"_s.arg(QString::fromUtf8(e.what())));
        return;
    } catch (...) {
        fail(Error::Unauthorized, u"The access token provider failed."_s);
        return;
    }
    auto *watcher = new QFutureWatcher<QString>(this);
    m_tokenWatcher = watcher;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, next] {
        watcher->deleteLater();
        m_tokenWatcher = nullptr;
        QFuture<QString> f = watcher->future();
        try {
            f.waitForFinished(); // finished already: only rethrows a stored exception
        } catch (const std::exception &e) {
            fail(Error::Unauthorized,
                 u"The access token provider failed: %1"_s.arg(QString::fromUtf8(e.what())));
            return;
        } catch (...) {
            fail(Error::Unauthorized, u"The access token provider failed."_s);
            return;
        }
        if (f.resultCount() == 0) {
            fail(Error::Unauthorized, u"The access token provider canceled its future."_s);
            return;
        }
        m_settings.request.accessToken = f.result().toUtf8();
        next();
    });
    watcher->setFuture(future);
}

void Connector::negotiate()
{
    if (!m_settings.request.manager) {
        fail(Error::NegotiationFailed, u"The network access manager is gone."_s);
        return;
    }
    QUrl url = negotiateUrl(m_url);
    // Stateful reconnect is for WebSockets only: after WebSockets failed, the next negotiate
    // does not ask for it (as the .NET client does).
    m_askedStateful = m_settings.statefulReconnect
        && (m_settings.transports & HubConnection::Transport::WebSockets)
        && !(m_failedTransports & HubConnection::Transport::WebSockets);
    if (m_askedStateful)
        url.setQuery(url.query(QUrl::FullyEncoded) + u"&useStatefulReconnect=true"_s,
                     QUrl::StrictMode);
    qCDebug(lcHubConnection) << "negotiating with" << redacted(url);
    QNetworkRequest request = makeRequest(url, m_settings.request);
    request.setRawHeader("Accept", "*/*");
    // Not kept alive: an idle pooled socket per connection costs memory, and after a network
    // loss a reconnect's negotiate would go out on a dead one and wait for the step timeout
    // (the manager is shared by every connection of the thread, so its pool cannot be
    // cleared for one of them).
    request.setRawHeader("Connection", "close");
    // No body, as the official clients; the type only keeps QNetworkAccessManager quiet.
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      QByteArrayLiteral("text/plain;charset=UTF-8"));
    QNetworkReply *reply = m_settings.request.manager->post(request, QByteArray());
    m_negotiateReply = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onNegotiated(reply); });
    m_stepTimer.start(m_settings.stepTimeoutMs);
}

void Connector::discardReply()
{
    if (QNetworkReply *r = m_negotiateReply.data()) {
        m_negotiateReply = nullptr;
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
}

void Connector::onNegotiated(QNetworkReply *reply)
{
    reply->deleteLater();
    if (m_negotiateReply != reply)
        return;
    m_negotiateReply = nullptr;
    m_stepTimer.stop();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 0 && (status < 200 || status > 299)) {
        // What the JavaScript client says (its HttpError: the server's text, else the reason
        // phrase, then the status code), so that logs of mixed fleets read alike; e.g.
        // "Failed to complete negotiation with the server: Too many connections for this user
        // (the limit is 10).: Status code '429'".
        QString why = serverText(reply);
        if (why.isEmpty())
            why = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString().trimmed();
        QString message = u"Failed to complete negotiation with the server: "_s;
        if (!why.isEmpty())
            message += why + u": "_s;
        message += u"Status code '%1'"_s.arg(status);
        if (status == 404)
            message += u" Either this is not a SignalR endpoint or there is a proxy blocking "
                       u"the connection."_s;
        fail(status == 401 || status == 403 ? Error::Unauthorized : Error::NegotiationFailed,
             message);
        return;
    }
    if (status != 0 && status != 200) { // another success code: as the JavaScript client
        fail(Error::NegotiationFailed,
             u"Unexpected status code returned from negotiate '%1'."_s.arg(status));
        return;
    }
    if (reply->error() != QNetworkReply::NoError) {
        fail(Error::NegotiationFailed,
             u"Failed to complete negotiation with the server: %1"_s.arg(
                 redacted(reply->errorString())));
        return;
    }
    const QByteArray body = reply->readAll();
    Expected<NegotiateResponse> parsed = NegotiateResponse::fromJson(body);
    if (!parsed) {
        fail(Error::NegotiationFailed,
             u"Failed to complete negotiation with the server: %1"_s.arg(parsed.error().message));
        return;
    }
    if (parsed->error) {
        fail(Error::NegotiationFailed, *parsed->error);
        return;
    }
    if (parsed->isRedirect()) {
        if (m_redirects >= MaxRedirects) {
            fail(Error::NegotiationFailed, u"Negotiate redirection limit exceeded."_s);
            return;
        }
        ++m_redirects;
        m_url = httpUrl(QUrl::fromEncoded(parsed->url));
        if (!parsed->accessToken.isEmpty()) {
            // Replaces the provider's token for the rest of this attempt.
            m_settings.request.accessToken = parsed->accessToken;
            m_tokenFromRedirect = true;
        }
        qCDebug(lcHubConnection) << "negotiate redirected to" << redacted(m_url);
        negotiate();
        return;
    }
    if (parsed->useStatefulReconnect && !m_askedStateful) {
        fail(Error::NegotiationFailed,
             u"Client didn't negotiate Stateful Reconnect but the server did."_s);
        return;
    }
    m_negotiated = std::move(*parsed);
    qCDebug(lcHubConnection) << "negotiated version" << m_negotiated.negotiateVersion
                             << "connection id" << m_negotiated.connectionId;
    chooseTransport();
}

void Connector::chooseTransport()
{
    for (const AvailableTransport &t : std::as_const(m_negotiated.availableTransports)) {
        const HubConnection::Transport kind = transportNamed(t.transport);
        if (kind == HubConnection::Transport::None || !(m_settings.transports & kind)
            || (m_failedTransports & kind))
            continue;
        if (kind == HubConnection::Transport::ServerSentEvents
            && m_settings.format != TransferFormat::Text)
            continue;
        if (!t.supports(m_settings.format))
            continue;
        openTransport(kind, withConnectionToken(m_url, m_negotiated.effectiveToken()));
        return;
    }
    if (m_failedTransports) {
        fail(m_lastTransportError.code,
             u"Unable to connect to the server with any of the available transports. %1"_s.arg(
                 m_lastTransportError.message));
    } else {
        fail(Error::TransportFailed,
             u"None of the transports supported by the client are supported by the server."_s);
    }
}

void Connector::openTransport(HubConnection::Transport kind, const QUrl &url)
{
    Transport *transport;
    switch (kind) {
    case HubConnection::Transport::WebSockets:
        transport = new WebSocketTransport(this);
        break;
    case HubConnection::Transport::ServerSentEvents:
        transport = new ServerSentEventsTransport(this);
        break;
    default:
        transport = new LongPollingTransport(this);
        break;
    }
    m_transport = transport;
    m_transportUrl = url;
    connect(transport, &Transport::opened, this, [this, transport, kind] {
        if (m_transport != transport)
            return;
        m_stepTimer.stop();
        m_kind = kind;
        m_done = true;
        qCDebug(lcHubConnection) << "transport" << HubConnection::transportName(kind) << "open";
        Q_EMIT succeeded();
    });
    connect(transport, &Transport::closed, this, [this, transport](const TransportError &e) {
        if (m_transport == transport && !m_done)
            transportFailed(e.isError()
                                ? e
                                : TransportError {Error::TransportFailed,
                                                  u"The transport closed while opening."_s, 0});
    });
    m_stepTimer.start(m_settings.stepTimeoutMs);
    transport->open({url, m_settings.request, m_settings.format, m_settings.maxMessageSize});
}

void Connector::transportFailed(const TransportError &error)
{
    m_stepTimer.stop();
    Transport *transport = std::exchange(m_transport, nullptr);
    const HubConnection::Transport kind = transport->kind();
    transport->disconnect(this);
    transport->deleteLater();
    qCInfo(lcHubConnection) << "the" << HubConnection::transportName(kind)
                            << "transport failed:" << error.message;
    if (error.code == Error::Unauthorized || m_settings.skipNegotiation
        || !m_settings.resumeUrl.isEmpty()) {
        fail(error.code, error.message);
        return;
    }
    m_failedTransports |= kind;
    m_lastTransportError = error;
    // The official clients negotiate a new connection before trying the next transport.
    negotiate();
}

void Connector::cancel()
{
    m_done = true;
    abortAll();
}

Transport *Connector::takeTransport()
{
    Transport *t = std::exchange(m_transport, nullptr);
    if (t) {
        t->disconnect(this);
        t->setParent(nullptr);
    }
    return t;
}

void Connector::fail(Error error, const QString &message)
{
    if (m_done)
        return;
    m_done = true;
    abortAll();
    if (m_starting) {
        QMetaObject::invokeMethod(
            this, [this, error, message] { Q_EMIT failed(error, message); }, Qt::QueuedConnection);
        return;
    }
    Q_EMIT failed(error, message);
}

void Connector::abortAll()
{
    m_stepTimer.stop();
    if (m_tokenWatcher) {
        m_tokenWatcher->disconnect(this);
        m_tokenWatcher->deleteLater();
        m_tokenWatcher = nullptr;
    }
    discardReply();
    if (Transport *t = std::exchange(m_transport, nullptr)) {
        t->disconnect(this);
        t->deleteLater();
    }
}

} // namespace Heliograph::Detail
