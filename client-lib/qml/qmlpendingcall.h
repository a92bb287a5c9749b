// SPDX-License-Identifier: MIT
// PendingCall: what HubConnection.invoke() and send() return in QML. A promise-like object:
//
//   hub.invoke("Echo", "hi").then(result => console.log(result),
//                                 error => console.log(error.message))
//
// then() may be called before or after the call finished, any number of times; the callbacks
// run later on the GUI thread (never inside then()). Because it has then(), it is a
// "thenable": `Promise.resolve(call)` and `await call` work too. Until it is finished and
// its callbacks ran, the object is kept alive even when no JavaScript reference is left.
#pragma once

#include <heliograph/client/error.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtQml/QJSValue>
#include <QtQml/qqmlregistration.h>

QT_BEGIN_NAMESPACE
class QJSEngine;
QT_END_NAMESPACE

namespace Heliograph::Qml {

class QmlPendingCall : public QObject {
    Q_OBJECT
    QML_NAMED_ELEMENT(PendingCall)
    QML_UNCREATABLE("PendingCall is returned by HubConnection.invoke() and send().")
    // errorCode's values are Heliograph::Error's: PendingCall.NoError, PendingCall.NotConnected...
    QML_EXTENDED_NAMESPACE(Heliograph)
    Q_PROPERTY(QString method READ method CONSTANT)
    Q_PROPERTY(bool finished READ isFinished NOTIFY finishedChanged)
    Q_PROPERTY(bool succeeded READ succeeded NOTIFY finishedChanged)
    /// The hub method's return value (null for void methods and send()); undefined until
    /// succeeded.
    Q_PROPERTY(QJSValue result READ result NOTIFY finishedChanged)
    /// The error text; empty unless finished with an error.
    Q_PROPERTY(QString error READ error NOTIFY finishedChanged)
    /// NoError, or why it failed (the call band of Heliograph::Error).
    Q_PROPERTY(Heliograph::Error errorCode READ errorCode NOTIFY finishedChanged)

public:
    /// The call is owned by JavaScript (`engine`); it keeps itself alive while pending.
    QmlPendingCall(QJSEngine *engine, const QString &method);
    ~QmlPendingCall() override;

    QString method() const { return m_method; }
    bool isFinished() const { return m_finished; }
    bool succeeded() const { return m_finished && m_errorCode == Error::NoError; }
    QJSValue result() const;
    QString error() const { return m_error; }
    Error errorCode() const { return m_errorCode; }

    /// `onResult(result)` when it succeeds, `onError(error)` when it fails; `error` is an
    /// object {code, message} (code: a Heliograph::Error value, e.g. PendingCall.ServerError).
    /// Either may be omitted/null.
    Q_INVOKABLE void then(const QJSValue &onResult, const QJSValue &onError = QJSValue());

    // --- for HubConnection -------------------------------------------------------------------
    void succeed(const Value &result);
    void fail(Error code, const QString &message);
    /// Drops the callbacks and the self reference without calling anything (the connection
    /// or the engine is going away).
    void abandon();

Q_SIGNALS:
    void finishedChanged();

private:
    void deliver();
    void scheduleDelivery();
    QJSValue errorObject() const;

    struct Callbacks {
        QJSValue onResult;
        QJSValue onError;
    };

    QPointer<QJSEngine> m_engine;
    QString m_method;
    bool m_finished = false;
    bool m_deliveryQueued = false;
    Value m_result;
    QString m_error;
    Error m_errorCode = Error::NoError;
    QList<Callbacks> m_callbacks;
    /// This object's own JavaScript wrapper: a root that keeps it from being collected while
    /// pending or while callbacks wait to run.
    QJSValue m_self;
};

} // namespace Heliograph::Qml
