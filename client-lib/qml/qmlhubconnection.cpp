// SPDX-License-Identifier: MIT
#include "qmlhubconnection.h"

#include "jsvalue_p.h"
#include "logging_p.h"
#include "qmlpendingcall.h"

#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>
#include <QtQml/QJSEngine>
#include <QtQml/QQmlInfo>

#include <stdexcept>

using namespace Qt::StringLiterals;

namespace Heliograph::Qml {

Q_LOGGING_CATEGORY(lcQml, "heliograph.client.qml", QtInfoMsg)

namespace {

/// Settles the future an access token provider returned as a thenable: its two JavaScript
/// callbacks call resolve() / reject().
class TokenResolver : public QObject {
    Q_OBJECT
public:
    explicit TokenResolver(std::shared_ptr<QPromise<QString>> promise)
        : m_promise(std::move(promise))
    { }
    Q_INVOKABLE void resolve(const QJSValue &token)
    {
        if (std::exchange(m_done, true))
            return;
        m_promise->addResult(token.isString() ? token.toString() : QString());
        m_promise->finish();
    }
    Q_INVOKABLE void reject(const QJSValue &reason)
    {
        if (std::exchange(m_done, true))
            return;
        m_promise->setException(std::make_exception_ptr(std::runtime_error(
            QStringLiteral("rejected: %1").arg(reason.toString()).toStdString())));
        m_promise->finish();
    }

private:
    std::shared_ptr<QPromise<QString>> m_promise;
    bool m_done = false;
};

QFuture<QString> readyToken(const QString &token)
{
    QPromise<QString> promise;
    promise.start();
    promise.addResult(token);
    promise.finish();
    return promise.future();
}

QFuture<QString> failedToken(const QString &why)
{
    QPromise<QString> promise;
    promise.start();
    promise.setException(std::make_exception_ptr(std::runtime_error(why.toStdString())));
    promise.finish();
    return promise.future();
}

ValueList argumentList(const QJSValue &arguments)
{
    ValueList out;
    if (arguments.isArray()) {
        const int length = arguments.property(u"length"_s).toInt();
        out.reserve(length);
        for (int i = 0; i < length; ++i)
            out.append(fromScriptValue(arguments.property(quint32(i))));
    } else if (!arguments.isUndefined()) {
        out.append(fromScriptValue(arguments));
    }
    return out;
}

} // namespace

QmlHubConnection::QmlHubConnection(QObject *parent)
    : QmlErrorValues(parent)
    , m_hub(std::make_unique<HubConnection>())
{
    HubConnection *hub = m_hub.get();
    m_hub->setAccessTokenProvider([this] { return callTokenProvider(); });

    connect(hub, &HubConnection::urlChanged, this, &QmlHubConnection::urlChanged);
    connect(hub, &HubConnection::protocolChanged, this, &QmlHubConnection::protocolChanged);
    connect(hub, &HubConnection::transportsChanged, this, &QmlHubConnection::transportsChanged);
    connect(hub, &HubConnection::stateChanged, this, &QmlHubConnection::stateChanged);
    connect(hub, &HubConnection::connectionIdChanged, this, &QmlHubConnection::connectionIdChanged);
    connect(hub, &HubConnection::transportChanged, this, &QmlHubConnection::transportChanged);
    connect(hub, &HubConnection::errorChanged, this, &QmlHubConnection::errorChanged);
    connect(hub, &HubConnection::statisticsChanged, this, &QmlHubConnection::statisticsChanged);
    connect(hub, &HubConnection::recoveredChanged, this, &QmlHubConnection::recoveredChanged);
    connect(hub, &HubConnection::resumed, this, &QmlHubConnection::resumed);

    connect(hub, &HubConnection::connected, this, &QmlHubConnection::connected);
    connect(hub, &HubConnection::reconnecting, this, &QmlHubConnection::reconnecting);
    connect(hub, &HubConnection::reconnected, this, &QmlHubConnection::reconnected);
    connect(hub, &HubConnection::errorOccurred, this, &QmlHubConnection::errorOccurred);
    connect(hub, &HubConnection::disconnected, this, [this] {
        if (m_restartPending) {
            // active went false and true again while stopping: start once the stop is over
            m_restartPending = false;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    if (m_active && m_hub->state() == HubConnection::State::Disconnected)
                        m_hub->start();
                },
                Qt::QueuedConnection);
        } else {
            setActiveInternal(false);
        }
        Q_EMIT disconnected();
    });
}

QmlHubConnection::~QmlHubConnection()
{
    // Nothing reaches QML from a connection that is going away.
    disconnect(m_hub.get(), nullptr, this, nullptr);
    for (const QPointer<QmlPendingCall> &call : std::as_const(m_pending))
        if (call)
            call->abandon();
    m_hub.reset();
    m_handlers.clear();
}

// --- configuration -----------------------------------------------------------------------

QUrl QmlHubConnection::url() const
{
    return m_hub->url();
}

void QmlHubConnection::setUrl(const QUrl &url)
{
    m_hub->setUrl(url);
}

QmlHubConnection::Protocol QmlHubConnection::protocol() const
{
    return m_hub->protocol();
}

void QmlHubConnection::setProtocol(Protocol protocol)
{
    m_hub->setProtocol(protocol);
}

QString QmlHubConnection::protocolName() const
{
    return m_hub->protocolName();
}

QmlHubConnection::Transports QmlHubConnection::transports() const
{
    return m_hub->transports();
}

void QmlHubConnection::setTransports(Transports transports)
{
    m_hub->setTransports(transports);
}

bool QmlHubConnection::skipNegotiation() const
{
    return m_hub->isSkipNegotiationEnabled();
}

void QmlHubConnection::setSkipNegotiation(bool skip)
{
    if (skip == m_hub->isSkipNegotiationEnabled())
        return;
    m_hub->setSkipNegotiationEnabled(skip);
    Q_EMIT skipNegotiationChanged();
}

void QmlHubConnection::setAccessToken(const QString &token)
{
    if (token == m_accessToken)
        return;
    m_accessToken = token;
    Q_EMIT accessTokenChanged();
}

void QmlHubConnection::setAccessTokenProvider(const QJSValue &provider)
{
    if (!provider.isCallable() && !provider.isUndefined() && !provider.isNull()) {
        qmlWarning(this) << "accessTokenProvider must be a function";
        return;
    }
    m_tokenProvider = provider;
    Q_EMIT accessTokenProviderChanged();
}

void QmlHubConnection::setHeaders(const QVariantMap &headers)
{
    if (headers == m_headers)
        return;
    m_headers = headers;
    HubConnection::HttpHeaders list;
    for (auto it = headers.cbegin(); it != headers.cend(); ++it)
        list.append({it.key().toUtf8(), it.value().toString().toUtf8()});
    m_hub->setHeaders(list);
    Q_EMIT headersChanged();
}

void QmlHubConnection::setAutomaticReconnect(bool on)
{
    if (on == m_automaticReconnect)
        return;
    m_automaticReconnect = on;
    applyRetryPolicy();
    Q_EMIT automaticReconnectChanged();
}

void QmlHubConnection::setReconnectDelays(const QList<int> &delays)
{
    if (delays == m_reconnectDelays)
        return;
    m_reconnectDelays = delays;
    applyRetryPolicy();
    Q_EMIT reconnectDelaysChanged();
}

void QmlHubConnection::applyRetryPolicy()
{
    if (!m_automaticReconnect) {
        m_hub->setRetryPolicy(nullptr);
    } else if (m_reconnectDelays.isEmpty()) {
        m_hub->setRetryPolicy(std::make_shared<DefaultRetryPolicy>());
    } else {
        QList<std::chrono::milliseconds> delays;
        for (int ms : std::as_const(m_reconnectDelays))
            delays.append(std::chrono::milliseconds(qMax(ms, 0)));
        m_hub->setRetryPolicy(std::make_shared<DefaultRetryPolicy>(delays));
    }
}

QFuture<QString> QmlHubConnection::callTokenProvider()
{
    if (!m_tokenProvider.isCallable())
        return readyToken(m_accessToken);
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return failedToken(u"the access token provider needs a QML engine"_s);
    QJSValue provider = m_tokenProvider; // the call may replace the property
    const QJSValue token = provider.call();
    if (token.isError())
        return failedToken(u"the access token provider threw: %1"_s.arg(token.toString()));
    if (token.isString())
        return readyToken(token.toString());
    if (token.isUndefined() || token.isNull())
        return readyToken(QString());
    QJSValue then = token.property(u"then"_s);
    if (!then.isCallable())
        return failedToken(u"the access token provider returned neither a string nor a thenable"_s);

    auto promise = std::make_shared<QPromise<QString>>();
    promise->start();
    QFuture<QString> future = promise->future();
    QJSValue resolver = engine->newQObject(new TokenResolver(promise));
    // Two plain functions for then(), each forwarding to the resolver.
    const QJSValue bind = engine->evaluate(
        u"(function (r) { return [function (v) { r.resolve(v) }, function (e) { r.reject(e) }] })"_s);
    const QJSValue pair = QJSValue(bind).call({resolver});
    const QJSValue called
        = then.callWithInstance(token, {pair.property(quint32(0)), pair.property(quint32(1))});
    if (called.isError()) {
        resolver.property(u"reject"_s).callWithInstance(resolver, {called});
    }
    return future;
}

void QmlHubConnection::setActive(bool active)
{
    if (active == m_active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
    applyActive();
}

void QmlHubConnection::setActiveInternal(bool active)
{
    if (active == m_active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
}

void QmlHubConnection::applyActive()
{
    if (!m_complete)
        return;
    const HubConnection::State s = m_hub->state();
    if (m_active) {
        if (s == HubConnection::State::Disconnected)
            m_hub->start();
        else if (s == HubConnection::State::Disconnecting)
            m_restartPending = true;
    } else {
        m_restartPending = false;
        if (s != HubConnection::State::Disconnected)
            m_hub->stop();
    }
}

void QmlHubConnection::classBegin()
{
    m_complete = false;
}

void QmlHubConnection::componentComplete()
{
    m_complete = true;
    applyActive();
}

void QmlHubConnection::start()
{
    if (!m_active) {
        m_active = true;
        Q_EMIT activeChanged();
    }
    applyActive();
}

void QmlHubConnection::stop()
{
    if (m_active) {
        m_active = false;
        Q_EMIT activeChanged();
    }
    m_restartPending = false;
    if (m_hub->state() != HubConnection::State::Disconnected)
        m_hub->stop();
}

// --- state -------------------------------------------------------------------------------

QmlHubConnection::State QmlHubConnection::state() const
{
    return m_hub->state();
}

QString QmlHubConnection::connectionId() const
{
    return m_hub->connectionId();
}

QmlHubConnection::Transport QmlHubConnection::transport() const
{
    return m_hub->transport();
}

QString QmlHubConnection::transportName() const
{
    return HubConnection::transportName(m_hub->transport());
}

QmlHubConnection::Error QmlHubConnection::error() const
{
    return m_hub->error();
}

QString QmlHubConnection::errorString() const
{
    return m_hub->errorString();
}

qint64 QmlHubConnection::roundTripTime() const
{
    return m_hub->roundTripTime();
}

double QmlHubConnection::roundTripTimeForQml() const
{
    return static_cast<double>(m_hub->roundTripTime());
}

int QmlHubConnection::reconnectCount() const
{
    return m_hub->reconnectCount();
}

quint64 QmlHubConnection::bytesReceived() const
{
    return m_hub->bytesReceived();
}

quint64 QmlHubConnection::bytesSent() const
{
    return m_hub->bytesSent();
}

int QmlHubConnection::resumeCount() const
{
    return m_hub->resumeCount();
}

int QmlHubConnection::queuedMessages() const
{
    return m_hub->queuedMessages();
}

quint64 QmlHubConnection::replayedMessages() const
{
    return m_hub->replayedMessages();
}

bool QmlHubConnection::recovered() const
{
    return m_hub->isRecovered();
}

QDateTime QmlHubConnection::nextRetryAt() const
{
    return m_hub->nextRetryAt();
}

// --- calls -------------------------------------------------------------------------------

QmlPendingCall *QmlHubConnection::newCall(const QString &method)
{
    m_pending.removeIf([](const QPointer<QmlPendingCall> &c) { return !c || c->isFinished(); });
    QJSEngine *engine = qjsEngine(this);
    auto *call = new QmlPendingCall(engine, method);
    if (!engine)
        call->setParent(this); // used from C++ without QML: owned here
    m_pending.append(call);
    return call;
}

QmlPendingCall *QmlHubConnection::invokeWithArguments(const QString &method,
                                                      const QJSValue &arguments)
{
    QmlPendingCall *call = newCall(method);
    QPointer<QmlPendingCall> guard(call);
    m_hub->invoke(method.toUtf8(), argumentList(arguments), call,
                  [guard](const HubResult<Value> &result) {
                      if (!guard)
                          return;
                      if (result)
                          guard->succeed(*result);
                      else
                          guard->fail(result.error().code, result.error().message);
                  });
    return call;
}

QmlPendingCall *QmlHubConnection::sendWithArguments(const QString &method,
                                                    const QJSValue &arguments)
{
    QmlPendingCall *call = newCall(method);
    auto *watcher = new QFutureWatcher<void>(call);
    connect(watcher, &QFutureWatcherBase::finished, call, [call, watcher] {
        try {
            watcher->future().waitForFinished(); // finished: only rethrows a stored exception
        } catch (const HubErrorException &e) {
            call->fail(e.error().code, e.error().message);
            return;
        } catch (const std::exception &e) {
            call->fail(Error::ServerError, QString::fromUtf8(e.what()));
            return;
        }
        call->succeed(Value());
    });
    watcher->setFuture(m_hub->send(method.toUtf8(), argumentList(arguments)));
    return call;
}

// --- handlers ------------------------------------------------------------------------------

int QmlHubConnection::on(const QString &method, const QJSValue &callback)
{
    if (method.isEmpty() || !callback.isCallable()) {
        qmlWarning(this) << "on() needs a method name and a function";
        return 0;
    }
    const int handle = m_nextHandle++;
    Subscription subscription
        = m_hub->on(method.toUtf8(), this, [this, handle](const ValueList &args) {
              const auto it = m_handlers.constFind(handle);
              if (it != m_handlers.cend())
                  callHandler(it->method, it->callback, args);
          });
    m_handlers.insert(handle, Handler {method, callback, std::move(subscription)});
    return handle;
}

void QmlHubConnection::off(const QJSValue &methodOrHandle, const QJSValue &callback)
{
    if (methodOrHandle.isNumber()) {
        const int handle = methodOrHandle.toInt();
        const auto it = m_handlers.find(handle);
        if (it == m_handlers.end())
            return;
        it->subscription.disconnect();
        m_handlers.remove(handle);
        return;
    }
    const QString method = methodOrHandle.toString();
    m_handlers.removeIf([&](QHash<int, Handler>::iterator it) {
        const bool match = it->method.compare(method, Qt::CaseInsensitive) == 0
            && (!callback.isCallable() || it->callback.strictlyEquals(callback));
        if (match)
            it->subscription.disconnect();
        return match;
    });
}

void QmlHubConnection::callHandler(const QString &method, const QJSValue &callback,
                                   const ValueList &args)
{
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return;
    // A copy: the handler may remove itself (off()), which destroys the QJSValue `callback`
    // refers to while it runs.
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): see above
    QJSValue function = callback;
    const QJSValue thrown = function.call(toScriptValues(engine, args));
    if (thrown.isError())
        qCWarning(lcQml).noquote() << "the handler of" << method << "threw:" << thrown.toString();
}

} // namespace Heliograph::Qml

#include "qmlhubconnection.moc"
