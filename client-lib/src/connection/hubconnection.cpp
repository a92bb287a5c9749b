// SPDX-License-Identifier: MIT
#include "hubconnection_helpers_p.h"
#include "logging_p.h"

#include <heliograph/protocol/handshake.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>
#include <QtCore/QThread>
#include <QtCore/QVariant>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QNetworkAccessManager>

#include <algorithm>
#include <exception>
#include <limits>

using namespace Qt::StringLiterals;

namespace Heliograph {

using Detail::lcHubConnection;

void HubConnection::warnHandlerArguments(const QByteArray &method, const QString &why)
{
    qCWarning(lcHubConnection).noquote()
        << "handler of" << QString::fromUtf8(method) << "not called:" << why;
}

// --- Private: lifecycle -------------------------------------------------------------------

HubConnection::Private::Private(HubConnection *qq)
    : q(qq)
{
    clock.start();
    handshakeTimer.setSingleShot(true);
    heartbeatTimer.setSingleShot(true);
    retryTimer.setSingleShot(true);
    QObject::connect(&handshakeTimer, &QTimer::timeout, q, [this] {
        attemptFailed(Error::HandshakeFailed,
                      u"Handshake timed out after %1 ms."_s.arg(active.handshakeTimeout.count()));
    });
    QObject::connect(&heartbeatTimer, &QTimer::timeout, q, [this] { heartbeat(); });
    QObject::connect(&retryTimer, &QTimer::timeout, q, [this] {
        if (state == State::Reconnecting)
            startAttempt();
    });
    ackTimer.setSingleShot(true);
    QObject::connect(&ackTimer, &QTimer::timeout, q, [this] { sendAck(); });
    outboxTimer.setSingleShot(true);
    QObject::connect(&outboxTimer, &QTimer::timeout, q, [this] { expireOutbox(); });
}

QNetworkAccessManager *HubConnection::Private::manager()
{
    if (config.manager)
        return config.manager;
    // One manager per thread for the connections without one of their own: each manager has
    // an HTTP thread and keeps its sockets alive, which cost every connection about 55 KB
    // (docs/benchmarks.md, "Clients"). Cookies and cached credentials are shared by them.
    static thread_local QPointer<QNetworkAccessManager> shared;
    if (!shared) {
        shared = new QNetworkAccessManager;
        QThread *thread = QThread::currentThread();
        if (QCoreApplication *app = QCoreApplication::instance(); app && app->thread() == thread)
            shared->setParent(app);
        else
            QObject::connect(thread, &QThread::finished, shared.data(), &QObject::deleteLater);
    }
    return shared;
}

void HubConnection::Private::start()
{
    if (state != State::Disconnected) {
        qCWarning(lcHubConnection) << "start() ignored: the connection is" << state;
        return;
    }
    QString invalid;
    if (config.url.isEmpty() || !config.url.isValid())
        invalid = u"No valid URL is set."_s;
    else if (config.skipNegotiationEnabled
             && config.transports != Transports(Transport::WebSockets))
        invalid = u"Negotiation can only be skipped when using the WebSocket transport directly."_s;
    else if (!(config.transports
               & (config.protocol == Protocol::Json
                      ? Transports(Transport::WebSockets | Transport::ServerSentEvents
                                   | Transport::LongPolling)
                      : Transports(Transport::WebSockets | Transport::LongPolling))))
        invalid
            = u"No transport is enabled that can carry the %1 protocol."_s.arg(q->protocolName());
    if (!invalid.isEmpty()) {
        // Refused like every other failed start (see the state table): Connecting now, then,
        // from the event loop, Disconnected with errorOccurred() and disconnected().
        setError(Error::NoError, {});
        setState(State::Connecting);
        const quint64 transition = transitions;
        QMetaObject::invokeMethod(
            q,
            [this, transition, invalid] {
                if (transition == transitions && state == State::Connecting)
                    attemptFailed(Error::InvalidConfiguration, invalid);
            },
            Qt::QueuedConnection);
        notify(Event::None);
        return;
    }
    active = config;
    protocol = active.protocol == Protocol::Json
        ? &HubProtocol::json()
        : &HubProtocol::messagePack(active.messagePackKeyCase);
    if (!monitorChosen) {
        // The system's view of the network says nothing about a hub on this machine.
        const QHostAddress host(active.url.host());
        const bool loopback = active.url.host() == u"localhost"_s || host.isLoopback();
        monitorChosen = true;
        if (!loopback) {
            if (NetworkMonitor *m = NetworkMonitor::createSystemMonitor(q))
                q->setNetworkMonitor(m);
        }
    }
    roundTripTime = -1;
    reconnectCount = 0;
    resumeCount = 0;
    replayedMessages = 0;
    retryPausedOffline = false;
    restoreOutbox();
    bytesReceived = 0;
    bytesSent = 0;
    statisticsTouched();
    setError(Error::NoError, {});
    setState(State::Connecting);
    qCInfo(lcHubConnection) << "connecting to" << Detail::redacted(active.url);
    startAttempt();
    notify(Event::None);
}

void HubConnection::Private::startAttempt()
{
    setNextRetryAt({});
    teardownSession(false);
    makeConnector(false);
}

Detail::Connector *HubConnection::Private::makeConnector(bool resume)
{
    Detail::Connector::Settings s;
    s.url = urlWithCursors();
    s.transports = active.transports;
    s.format = protocol->transferFormat();
    s.skipNegotiation = active.skipNegotiationEnabled;
    s.statefulReconnect = active.statefulReconnectEnabled && !active.skipNegotiationEnabled;
    if (resume) {
        s.resumeUrl = sr.url;
        s.transports = Transport::WebSockets;
    }
    s.tokenProvider = active.tokenProvider;
    s.request.headers = active.headers;
    s.request.manager = active.manager ? active.manager.data() : manager();
#if QT_CONFIG(ssl)
    s.request.ssl = active.ssl;
#endif
    s.stepTimeoutMs = timerMs(active.handshakeTimeout.count(), 1);
    s.maxMessageSize = active.maxReceiveMessageSize;
    auto *c = new Detail::Connector(std::move(s), q);
    connector = c;
    QObject::connect(c, &Detail::Connector::succeeded, q, [this, c] {
        if (connector != c)
            return;
        if (sr.resuming)
            onResumed();
        else
            onConnectorSucceeded();
    });
    QObject::connect(c, &Detail::Connector::failed, q, [this, c](Error e, const QString &message) {
        if (connector == c)
            onConnectorFailed(e, message);
    });
    c->start();
    return c;
}

void HubConnection::Private::onConnectorSucceeded()
{
    Detail::Connector *c = std::exchange(connector, nullptr);
    Detail::Transport *t = c->takeTransport();
    pendingConnectionId = QString::fromUtf8(c->connectionId());
    pendingTransport = c->transportKind();
    sr = Stateful {};
    sr.enabled = c->statefulReconnect();
    sr.url = c->transportUrl();
    c->disconnect(q);
    c->deleteLater();
    ++currentSession;
    attachTransport(t);
    handshakeDone = false;
    handshakeBuffer.clear();
    reader.emplace(*protocol, qsizetype(active.maxReceiveMessageSize));
    // Version 2 turns stateful reconnect on at the server; 1 otherwise, as the official
    // clients send.
    const QByteArray request
        = Handshake::writeRequest({protocol->name().toByteArray(), sr.enabled ? 2 : 1});
    bytesSent += quint64(request.size());
    lastSentMs = lastReceivedMs = clock.elapsed();
    statisticsTouched();
    handshakeClock.start();
    handshakeTimer.start(timerMs(active.handshakeTimeout.count(), 1));
    qCDebug(lcHubConnection) << "sending the handshake over" << pendingTransport;
    t->send(request, {});
}

void HubConnection::Private::attachTransport(Detail::Transport *t)
{
    transport = t;
    t->setParent(q);
    QObject::connect(t, &Detail::Transport::received, q, [this, t](const QByteArray &payload) {
        if (transport == t)
            onTransportReceived(payload);
    });
    QObject::connect(t, &Detail::Transport::closed, q, [this, t](const Detail::TransportError &e) {
        if (transport == t)
            onTransportClosed(e);
    });
    QObject::connect(t, &Detail::Transport::roundTripMeasured, q, [this](qint64 ms) {
        roundTripTime = ms;
        statisticsTouched();
    });
}

void HubConnection::Private::onConnectorFailed(Error e, const QString &message)
{
    if (sr.resuming) {
        // One attempt, as the official clients: then the connection is lost for real.
        qCInfo(lcHubConnection).noquote() << "stateful reconnect failed:" << message;
        sr.resuming = false;
        const Error lossError = sr.lossError;
        const QString lossMessage = sr.lossMessage;
        connectionLost(lossError, lossMessage, true);
        return;
    }
    attemptFailed(e, message);
}

void HubConnection::Private::onTransportClosed(const Detail::TransportError &e)
{
    switch (state) {
    case State::Disconnecting:
        finishStop();
        return;
    case State::Connecting:
    case State::Reconnecting: {
        if (e.code == Error::ProtocolError) { // a transport's size limit, before the handshake
            attemptFailed(Error::HandshakeFailed,
                          u"Error parsing handshake response: %1"_s.arg(e.message));
            return;
        }
        const QString message
            = u"The server disconnected before sending a handshake response. %1"_s.arg(e.message);
        attemptFailed(e.code == Error::TransportFailed ? e.code : Error::HandshakeFailed,
                      message.trimmed());
        return;
    }
    case State::Connected:
        if (sr.enabled && e.abrupt && !sr.awaitingSequence) {
            beginResume(e.code, e.message);
            return;
        }
        connectionLost(e.isError() ? e.code : Error::ServerClosed,
                       e.message.isEmpty() ? u"The transport closed."_s : e.message, true);
        return;
    case State::Disconnected:
        return;
    }
}

void HubConnection::Private::attemptFailed(Error e, const QString &message)
{
    teardownSession(false);
    if (state == State::Connecting) {
        qCWarning(lcHubConnection).noquote() << "could not connect:" << message;
        setError(e, message);
        setState(State::Disconnected);
        failOutbox({Error::ConnectionLost, message});
        notify(Event::Failed);
        return;
    }
    if (state != State::Reconnecting)
        return;
    ++retryCount;
    const auto elapsed = std::chrono::milliseconds(reconnectClock.elapsed());
    const std::optional<std::chrono::milliseconds> delay
        = askRetryPolicy({retryCount, elapsed, e, message});
    if (delay) {
        qCInfo(lcHubConnection).noquote()
            << "reconnect attempt" << retryCount << "failed:" << message << "- next in"
            << delay->count() << "ms";
        setError(e, message);
        scheduleRetry(*delay);
        notify(Event::None);
        return;
    }
    const QString text
        = u"Reconnect retries have been exhausted after %1 failed attempts and %2 ms "
          u"elapsed. %3"_s.arg(retryCount)
              .arg(elapsed.count())
              .arg(message);
    qCWarning(lcHubConnection).noquote() << text;
    setError(e, text);
    setState(State::Disconnected);
    failOutbox({Error::ConnectionLost, text});
    notify(Event::Failed);
}

void HubConnection::Private::scheduleRetry(std::chrono::milliseconds delay)
{
    if (monitor && !monitor->isOnline()) {
        qCInfo(lcHubConnection) << "the network is offline: the next attempt waits for it";
        retryPausedOffline = true;
        retryTimer.stop();
        setNextRetryAt({});
        return;
    }
    retryPausedOffline = false;
    retryTimer.start(timerMs(delay.count(), 0));
    setNextRetryAt(QDateTime::currentDateTimeUtc().addMSecs(delay.count()));
}

void HubConnection::Private::setNextRetryAt(const QDateTime &at)
{
    if (nextRetryAt == at)
        return;
    nextRetryAt = at;
    statisticsTouched();
}

void HubConnection::Private::onNetworkOnlineChanged(bool online)
{
    if (state != State::Reconnecting || connector)
        return; // an attempt is under way, or nothing to resume
    if (!online) {
        if (retryTimer.isActive()) {
            qCInfo(lcHubConnection) << "the network went offline: reconnect attempts paused";
            retryTimer.stop();
            retryPausedOffline = true;
            setNextRetryAt({});
        }
        return;
    }
    if (retryPausedOffline || retryTimer.isActive()) {
        qCInfo(lcHubConnection) << "the network is back: reconnecting now";
        retryPausedOffline = false;
        retryTimer.stop();
        startAttempt();
    }
}

void HubConnection::Private::connectionLost(Error e, const QString &message, bool mayReconnect)
{
    if (state != State::Connected)
        return;
    // A Close from the server ends the transport cleanly; anything else is dead already.
    teardownSession(e == Error::ServerClosed);
    setConnectionId({});
    setTransportKind(Transport::None);
    setError(e, message);
    std::optional<std::chrono::milliseconds> delay;
    if (mayReconnect && active.retryPolicy) {
        reconnectClock.start();
        retryCount = 0;
        delay = askRetryPolicy({0, std::chrono::milliseconds(0), e, message});
    }
    if (delay) {
        qCInfo(lcHubConnection).noquote()
            << "connection lost:" << message << "- reconnecting in" << delay->count() << "ms";
        setState(State::Reconnecting);
        scheduleRetry(*delay);
    } else {
        qCWarning(lcHubConnection).noquote() << "connection ended:" << message;
        setState(State::Disconnected);
    }
    // Pending calls fail once the state says why (a continuation may look at it).
    const quint64 transition = transitions;
    QPointer<HubConnection> guard(q);
    failEverything({Error::ConnectionLost, CanceledText + u' ' + message});
    if (!guard || transition != transitions)
        return; // a continuation moved on (stop(), start())
    if (!delay) {
        failOutbox({Error::ConnectionLost, CanceledText + u' ' + message});
        if (!guard || transition != transitions)
            return;
    }
    notify(delay ? Event::Reconnecting : Event::Failed);
}

std::optional<std::chrono::milliseconds>
HubConnection::Private::askRetryPolicy(const RetryContext &context)
{
    const std::shared_ptr<RetryPolicy> policy = active.retryPolicy;
    if (!policy)
        return std::nullopt;
    try {
        return policy->nextRetryDelay(context);
    } catch (const std::exception &ex) {
        qCWarning(lcHubConnection) << "the retry policy threw:" << exceptionText(ex);
    } catch (...) {
        qCWarning(lcHubConnection) << "the retry policy threw";
    }
    return std::nullopt;
}

void HubConnection::Private::stop()
{
    switch (state) {
    case State::Disconnected:
    case State::Disconnecting:
        return;
    case State::Connecting:
    case State::Reconnecting:
        qCInfo(lcHubConnection) << "stopped while" << state;
        retryTimer.stop();
        setNextRetryAt({});
        teardownSession(false);
        setError(Error::NoError, {});
        setState(State::Disconnected);
        {
            const quint64 transition = transitions;
            QPointer<HubConnection> guard(q);
            failOutbox({Error::ConnectionLost, CanceledText});
            if (!guard || transition != transitions)
                return;
        }
        notify(Event::Disconnected);
        return;
    case State::Connected:
        break;
    }
    qCInfo(lcHubConnection) << "stopping";
    sendMessage(CloseMessage {});
    heartbeatTimer.stop();
    setState(State::Disconnecting);
    const quint64 transition = transitions;
    QPointer<HubConnection> guard(q);
    failEverything({Error::ConnectionLost, CanceledText});
    if (guard && transition == transitions)
        failOutbox({Error::ConnectionLost, CanceledText});
    notify(Event::None);
    if (!guard || transition != transitions)
        return; // a slot moved on
    if (transport)
        transport->close(); // closed() -> finishStop(), possibly right away
    else
        finishStop();
}

void HubConnection::Private::finishStop()
{
    teardownSession(false);
    setConnectionId({});
    setTransportKind(Transport::None);
    setState(State::Disconnected);
    qCInfo(lcHubConnection) << "disconnected";
    notify(Event::Disconnected);
}

void HubConnection::Private::teardownSession(bool graceful)
{
    ++currentSession;
    handshakeTimer.stop();
    heartbeatTimer.stop();
    if (Detail::Connector *c = std::exchange(connector, nullptr)) {
        c->disconnect(q);
        c->cancel();
        c->deleteLater();
    }
    if (Detail::Transport *t = std::exchange(transport, nullptr)) {
        t->disconnect(q);
        if (graceful && t->isOpen()) {
            QObject::connect(t, &Detail::Transport::closed, t, &QObject::deleteLater);
            t->close();
        } else {
            t->deleteLater(); // its destructor aborts
        }
    }
    reader.reset();
    handshakeBuffer.clear();
    handshakeDone = false;
    ackTimer.stop();
    releaseHeldSends(false);
    sr = Stateful {};
    rejoinsPending = 0;
}

void HubConnection::Private::failEverything(const HubError &err)
{
    QPointer<HubConnection> guard(q);
    const auto calls = std::exchange(pending, {});
    for (const ResultCallback &callback : calls) {
        callback(err);
        if (!guard)
            return;
    }
    const auto runningStreams = std::exchange(streams, {});
    for (const QPointer<HubStream> &s : runningStreams) {
        if (!s || s->d->finished)
            continue;
        s->d->finished = true;
        s->d->error = err;
        if (destroying)
            continue; // no signals from a destructor
        Q_EMIT s->errorOccurred(err);
        if (s)
            Q_EMIT s->finished();
        if (!guard)
            return;
    }
    const auto openUploads = std::exchange(uploads, {});
    for (const QPointer<UploadStream> &u : openUploads) {
        if (!u || u->d->state == UploadStream::Private::State::Closed)
            continue;
        u->d->state = UploadStream::Private::State::Closed;
        if (destroying)
            continue;
        Q_EMIT u->closed();
        if (!guard)
            return;
    }
}

// --- Private: timers ----------------------------------------------------------------------

void HubConnection::Private::scheduleHeartbeat()
{
    if (state != State::Connected || transportKind == Transport::LongPolling) {
        heartbeatTimer.stop();
        return;
    }
    constexpr qint64 Never = std::numeric_limits<qint64>::max();
    qint64 next = Never;
    if (active.keepAlive.count() > 0)
        next = qMin(next, lastSentMs + active.keepAlive.count());
    if (active.serverTimeout.count() > 0)
        next = qMin(next, lastReceivedMs + active.serverTimeout.count());
    if (next == Never) {
        heartbeatTimer.stop();
        return;
    }
    heartbeatTimer.start(timerMs(next - clock.elapsed(), 0));
}

void HubConnection::Private::liveTimingChanged()
{
    // Only on an established transport: a resume or a handshake has timers of its own.
    if (state == State::Connected && transport && handshakeDone && !sr.resuming)
        scheduleHeartbeat();
}

void HubConnection::Private::heartbeat()
{
    if (state != State::Connected)
        return;
    const qint64 now = clock.elapsed();
    if (active.serverTimeout.count() > 0 && now - lastReceivedMs >= active.serverTimeout.count()) {
        const QString message
            = u"Server timeout elapsed without receiving a message from the server."_s;
        if (sr.enabled && !sr.awaitingSequence)
            beginResume(Error::ServerTimeout, message); // a half-open socket: try a new one
        else
            connectionLost(Error::ServerTimeout, message, true);
        return;
    }
    if (active.keepAlive.count() > 0 && now - lastSentMs >= active.keepAlive.count()) {
        sendMessage(PingMessage {});
        if (transport)
            transport->ping();
    }
    scheduleHeartbeat();
}

// --- Private: properties ------------------------------------------------------------------

void HubConnection::Private::setState(State s)
{
    if (state == s)
        return;
    state = s;
    dirty.state = true;
    ++transitions;
}

void HubConnection::Private::setError(Error e, const QString &message)
{
    if (error == e && errorString == message)
        return;
    error = e;
    errorString = message;
    dirty.error = true;
}

void HubConnection::Private::setConnectionId(const QString &id)
{
    if (connectionId == id)
        return;
    connectionId = id;
    dirty.connectionId = true;
}

void HubConnection::Private::setTransportKind(Transport t)
{
    if (transportKind == t)
        return;
    transportKind = t;
    dirty.transport = true;
}

void HubConnection::Private::notify(Event event)
{
    QPointer<HubConnection> guard(q);
    const quint64 transition = transitions;
    if (std::exchange(dirty.connectionId, false)) {
        Q_EMIT q->connectionIdChanged();
        if (!guard)
            return;
    }
    if (std::exchange(dirty.transport, false)) {
        Q_EMIT q->transportChanged();
        if (!guard)
            return;
    }
    if (std::exchange(dirty.error, false)) {
        Q_EMIT q->errorChanged();
        if (!guard)
            return;
    }
    if (std::exchange(dirty.state, false)) {
        Q_EMIT q->stateChanged(state);
        if (!guard)
            return;
    }
    if (transition != transitions)
        return; // a slot moved on: the event is stale
    switch (event) {
    case Event::None:
        return;
    case Event::Connected:
        Q_EMIT q->connected();
        return;
    case Event::Reconnecting:
        Q_EMIT q->reconnecting(error);
        return;
    case Event::Reconnected:
        Q_EMIT q->reconnected(connectionId);
        return;
    case Event::Failed:
        Q_EMIT q->errorOccurred(error);
        if (guard && transition == transitions)
            Q_EMIT q->disconnected();
        return;
    case Event::Disconnected:
        Q_EMIT q->disconnected();
        return;
    }
}

void HubConnection::Private::statisticsTouched()
{
    if (statisticsQueued)
        return;
    statisticsQueued = true;
    QMetaObject::invokeMethod(
        q,
        [this] {
            statisticsQueued = false;
            Q_EMIT q->statisticsChanged();
        },
        Qt::QueuedConnection);
}

// --- HubConnection ------------------------------------------------------------------------

HubConnection::HubConnection(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{ }

HubConnection::HubConnection(const QUrl &url, QObject *parent)
    : HubConnection(parent)
{
    d->config.url = url;
}

HubConnection::~HubConnection()
{
    d->destroying = true;
    d->retryTimer.stop();
    d->teardownSession(false);
    d->failEverything({Error::ConnectionLost, CanceledText});
    d->failOutbox({Error::ConnectionLost, CanceledText});
}

void HubConnection::setUrl(const QUrl &url)
{
    if (d->config.url == url)
        return;
    d->config.url = url;
    d->active.url = url; // the next connect attempt (a reconnect's too) goes there
    Q_EMIT urlChanged();
}

QUrl HubConnection::url() const
{
    return d->config.url;
}

void HubConnection::setProtocol(Protocol protocol)
{
    if (d->config.protocol == protocol)
        return;
    d->config.protocol = protocol;
    Q_EMIT protocolChanged();
}

HubConnection::Protocol HubConnection::protocol() const
{
    return d->config.protocol;
}

void HubConnection::setMessagePackKeyCase(StructKeyCase keyCase)
{
    d->config.messagePackKeyCase = keyCase;
}

StructKeyCase HubConnection::messagePackKeyCase() const
{
    return d->config.messagePackKeyCase;
}

QString HubConnection::protocolName() const
{
    return d->config.protocol == Protocol::Json ? u"json"_s : u"messagepack"_s;
}

QString HubConnection::transportName(Transport transport)
{
    switch (transport) {
    case Transport::WebSockets:
        return u"WebSockets"_s;
    case Transport::ServerSentEvents:
        return u"ServerSentEvents"_s;
    case Transport::LongPolling:
        return u"LongPolling"_s;
    case Transport::None:
        break;
    }
    return u"None"_s;
}

void HubConnection::setTransports(Transports transports)
{
    if (d->config.transports == transports)
        return;
    d->config.transports = transports;
    Q_EMIT transportsChanged();
}

HubConnection::Transports HubConnection::transports() const
{
    return d->config.transports;
}

void HubConnection::setSkipNegotiationEnabled(bool enabled)
{
    d->config.skipNegotiationEnabled = enabled;
}

bool HubConnection::isSkipNegotiationEnabled() const
{
    return d->config.skipNegotiationEnabled;
}

void HubConnection::setAccessTokenProvider(AccessTokenProvider provider)
{
    d->config.tokenProvider = std::move(provider);
    d->active.tokenProvider = d->config.tokenProvider;
}

HubConnection::AccessTokenProvider HubConnection::accessTokenProvider() const
{
    return d->config.tokenProvider;
}

void HubConnection::setHeaders(const HttpHeaders &headers)
{
    d->config.headers = headers;
    d->active.headers = headers;
}

HubConnection::HttpHeaders HubConnection::headers() const
{
    return d->config.headers;
}

void HubConnection::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    d->config.manager = manager;
}

QNetworkAccessManager *HubConnection::networkAccessManager() const
{
    return d->config.manager ? d->config.manager.data() : d->manager();
}

void HubConnection::setSslConfiguration(const QSslConfiguration &configuration)
{
#if QT_CONFIG(ssl)
    d->config.ssl = configuration;
#else
    Q_UNUSED(configuration)
#endif
}

#if QT_CONFIG(ssl) // QSslConfiguration exists only in a Qt built with TLS
QSslConfiguration HubConnection::sslConfiguration() const
{
    return d->config.ssl.value_or(QSslConfiguration::defaultConfiguration());
}
#endif

void HubConnection::setKeepAliveInterval(std::chrono::milliseconds interval)
{
    d->config.keepAlive = interval;
    d->active.keepAlive = interval;
    d->liveTimingChanged();
}

std::chrono::milliseconds HubConnection::keepAliveInterval() const
{
    return d->config.keepAlive;
}

void HubConnection::setServerTimeout(std::chrono::milliseconds timeout)
{
    d->config.serverTimeout = timeout;
    d->active.serverTimeout = timeout;
    d->liveTimingChanged();
}

std::chrono::milliseconds HubConnection::serverTimeout() const
{
    return d->config.serverTimeout;
}

void HubConnection::setHandshakeTimeout(std::chrono::milliseconds timeout)
{
    d->config.handshakeTimeout = timeout;
    d->active.handshakeTimeout = timeout;
}

std::chrono::milliseconds HubConnection::handshakeTimeout() const
{
    return d->config.handshakeTimeout;
}

void HubConnection::setMaximumReceiveMessageSize(qint64 bytes)
{
    d->config.maxReceiveMessageSize = qMax<qint64>(bytes, 0);
}

qint64 HubConnection::maximumReceiveMessageSize() const
{
    return d->config.maxReceiveMessageSize;
}

void HubConnection::setRetryPolicy(std::shared_ptr<RetryPolicy> policy)
{
    d->config.retryPolicy = std::move(policy);
    d->active.retryPolicy = d->config.retryPolicy;
}

std::shared_ptr<RetryPolicy> HubConnection::retryPolicy() const
{
    return d->config.retryPolicy;
}

HubConnection::State HubConnection::state() const
{
    return d->state;
}

QString HubConnection::connectionId() const
{
    return d->connectionId;
}

HubConnection::Transport HubConnection::transport() const
{
    return d->transportKind;
}

Error HubConnection::error() const
{
    return d->error;
}

QString HubConnection::errorString() const
{
    return d->errorString;
}

qint64 HubConnection::roundTripTime() const
{
    return d->roundTripTime;
}

QDateTime HubConnection::nextRetryAt() const
{
    return d->nextRetryAt;
}

int HubConnection::reconnectCount() const
{
    return d->reconnectCount;
}

quint64 HubConnection::bytesReceived() const
{
    return d->bytesReceived;
}

quint64 HubConnection::bytesSent() const
{
    return d->bytesSent;
}

QFuture<Value> HubConnection::invoke(const QByteArray &method, const ValueList &arguments,
                                     const QList<UploadStream *> &uploads)
{
    auto promise = std::make_shared<QPromise<Value>>();
    promise->start();
    QFuture<Value> future = promise->future();
    d->call(
        Private::CallKind::Invoke, method, arguments, uploads,
        [promise](const HubResult<Value> &r) {
            if (r)
                promise->addResult(*r);
            else
                promise->setException(HubErrorException(r.error()));
            promise->finish();
        },
        {}, nullptr);
    return future;
}

void HubConnection::invoke(const QByteArray &method, const ValueList &arguments,
                           const QObject *context, ResultCallback callback,
                           const QList<UploadStream *> &uploads)
{
    d->call(
        Private::CallKind::Invoke, method, arguments, uploads,
        [ctx = QPointer<const QObject>(context), hasContext = context != nullptr,
         callback = std::move(callback)](const HubResult<Value> &r) {
            if ((hasContext && !ctx) || !callback)
                return;
            callback(r);
        },
        {}, nullptr);
}

QFuture<void> HubConnection::send(const QByteArray &method, const ValueList &arguments,
                                  const QList<UploadStream *> &uploads)
{
    auto promise = std::make_shared<QPromise<void>>();
    promise->start();
    QFuture<void> future = promise->future();
    d->call(
        Private::CallKind::Send, method, arguments, uploads,
        [promise](const HubResult<Value> &r) { // fails before sending
            promise->setException(HubErrorException(r.error()));
            promise->finish();
        },
        [promise](bool ok) {
            if (!ok)
                promise->setException(HubErrorException({Error::ConnectionLost, CanceledText}));
            promise->finish();
        },
        nullptr);
    return future;
}

HubStream *HubConnection::stream(const QByteArray &method, const ValueList &arguments,
                                 const QList<UploadStream *> &uploads)
{
    auto *s = new HubStream(this);
    d->call(Private::CallKind::Stream, method, arguments, uploads, {}, {}, s);
    return s;
}

UploadStream *HubConnection::createUploadStream()
{
    return new UploadStream(this);
}

Subscription HubConnection::on(const QByteArray &method, Handler handler)
{
    return d->addHandler(method, nullptr, std::move(handler));
}

Subscription HubConnection::on(const QByteArray &method, const QObject *context, Handler handler)
{
    return d->addHandler(method, context, std::move(handler));
}

Subscription HubConnection::onInvoke(const QByteArray &method, ResultHandler handler)
{
    return d->addResultHandler(method, std::move(handler));
}

Subscription HubConnection::onInvoke(const QByteArray &method, SyncResultHandler handler)
{
    return d->addResultHandler(method, [handler = std::move(handler)](const ValueList &args) {
        return readyFuture(handler(args));
    });
}

void HubConnection::off(const QByteArray &method)
{
    const QByteArray key = method.toLower();
    for (const auto &e : d->handlers.value(key))
        e->removed = true;
    d->handlers.remove(key);
    d->resultHandlers.remove(key);
}

void HubConnection::off(const Subscription &subscription)
{
    if (subscription.d && subscription.d->connection == this)
        d->removeHandler(subscription.d->id);
}

void HubConnection::start()
{
    d->start();
}

void HubConnection::stop()
{
    d->stop();
}

} // namespace Heliograph
