// SPDX-License-Identifier: MIT
// Internal to src/connection: texts and small helpers the parts of HubConnection share
// (hubconnection.cpp, dispatcher.cpp, statefulreconnect.cpp).
#pragma once

#include "hubconnection_p.h"

#include <QtCore/QDebug>
#include <QtCore/QPromise>
#include <QtCore/QVariant>

#include <algorithm>
#include <exception>
#include <limits>

namespace Heliograph {

inline const QString NotConnectedText
    = QStringLiteral("Cannot send data if the connection is not in the 'Connected' State.");
inline const QString CanceledText
    = QStringLiteral("Invocation canceled due to the underlying connection being closed.");
inline const QByteArray NoResultText = QByteArrayLiteral("Client didn't provide a result.");

inline QString exceptionText(const std::exception &e)
{
    if (auto *hub = dynamic_cast<const HubErrorException *>(&e))
        return hub->error().message;
    return QString::fromUtf8(e.what());
}

/// What a client result's handler that threw (or whose future failed) reports to the hub.
inline QByteArray failureText(const std::exception_ptr &failure)
{
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception &e) {
        return exceptionText(e).toUtf8();
    } catch (...) {
        return QByteArrayLiteral("The client's handler failed.");
    }
}

/// What a message is, for debug logs (contents only at debug level).
inline QDebug operator<<(QDebug dbg, const HubMessage &m)
{
    QDebugStateSaver saver(dbg);
    dbg.nospace() << messageTypeName(messageType(m));
    if (auto *inv = std::get_if<InvocationMessage>(&m))
        dbg << ' ' << inv->target << " id=" << inv->invocationId << ' ' << inv->arguments;
    else if (auto *s = std::get_if<StreamInvocationMessage>(&m))
        dbg << ' ' << s->target << " id=" << s->invocationId << ' ' << s->arguments;
    else if (auto *item = std::get_if<StreamItemMessage>(&m))
        dbg << " id=" << item->invocationId << ' ' << item->item;
    else if (auto *c = std::get_if<CompletionMessage>(&m))
        dbg << " id=" << c->invocationId << ' '
            << (c->kind == CompletionMessage::Kind::Error ? QVariant(c->error)
                                                          : c->result.toVariant());
    else if (auto *cl = std::get_if<CloseMessage>(&m))
        dbg << " error=" << cl->error.value_or(QByteArray())
            << " allowReconnect=" << cl->allowReconnect;
    return dbg;
}

/// A QTimer interval: at least `minimum`, at most INT_MAX.
inline int timerMs(qint64 ms, qint64 minimum)
{
    return int(std::clamp<qint64>(ms, minimum, std::numeric_limits<int>::max()));
}

inline QFuture<Value> readyFuture(const Value &v)
{
    QPromise<Value> p;
    p.start();
    p.addResult(v);
    p.finish();
    return p.future();
}

} // namespace Heliograph
