// SPDX-License-Identifier: MIT
#include "qmlpendingcall.h"

#include "jsvalue_p.h"
#include "logging_p.h"

#include <QtQml/QJSEngine>

namespace Heliograph::Qml {

QmlPendingCall::QmlPendingCall(QJSEngine *engine, const QString &method)
    : m_engine(engine)
    , m_method(method)
{
    // No parent and no explicit ownership: newQObject() makes it JavaScript-owned.
    if (m_engine)
        m_self = m_engine->newQObject(this);
}

QmlPendingCall::~QmlPendingCall() = default;

QJSValue QmlPendingCall::result() const
{
    if (!succeeded() || !m_engine)
        return {};
    return toScriptValue(m_engine, m_result);
}

void QmlPendingCall::then(const QJSValue &onResult, const QJSValue &onError)
{
    if (!onResult.isCallable() && !onError.isCallable())
        return;
    m_callbacks.append({onResult, onError});
    if (m_finished)
        scheduleDelivery();
}

void QmlPendingCall::succeed(const Value &result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result = result;
    Q_EMIT finishedChanged();
    deliver();
}

void QmlPendingCall::fail(Error code, const QString &message)
{
    if (m_finished)
        return;
    m_finished = true;
    m_errorCode = code;
    m_error = message;
    Q_EMIT finishedChanged();
    deliver();
}

void QmlPendingCall::abandon()
{
    m_callbacks.clear();
    m_self = QJSValue();
}

QJSValue QmlPendingCall::errorObject() const
{
    QJSValue e = m_engine->newObject();
    e.setProperty(QStringLiteral("code"), int(m_errorCode));
    e.setProperty(QStringLiteral("message"), m_error);
    return e;
}

void QmlPendingCall::scheduleDelivery()
{
    if (m_deliveryQueued)
        return;
    m_deliveryQueued = true;
    if (m_self.isUndefined() && m_engine)
        m_self = m_engine->newQObject(this); // alive until the queued delivery ran
    QMetaObject::invokeMethod(this, &QmlPendingCall::deliver, Qt::QueuedConnection);
}

void QmlPendingCall::deliver()
{
    m_deliveryQueued = false;
    const QList<Callbacks> callbacks = std::exchange(m_callbacks, {});
    if (m_engine) {
        const bool ok = m_errorCode == Error::NoError;
        for (const Callbacks &c : callbacks) {
            QJSValue callback = ok ? c.onResult : c.onError;
            if (!callback.isCallable())
                continue;
            const QJSValue thrown
                = callback.call({ok ? toScriptValue(m_engine, m_result) : errorObject()});
            if (thrown.isError())
                qCWarning(lcQml).noquote() << "a" << (ok ? "result" : "error") << "callback of"
                                           << m_method << "threw:" << thrown.toString();
        }
    }
    if (m_callbacks.isEmpty() && !m_deliveryQueued)
        m_self = QJSValue(); // nothing left to run: JavaScript references decide from now on
}

} // namespace Heliograph::Qml
