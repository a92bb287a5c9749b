// SPDX-License-Identifier: MIT
// Client-only test helpers for HubConnection suites (no server code): waiting for futures and
// connections, and calls reduced to a Value so QCOMPARE can show what went wrong.
#pragma once

#include <heliograph/client/hubconnection.h>

#include <QtCore/QFuture>
#include <QtTest/QTest>

#include <optional>

namespace Heliograph::Testing {

/// The data rows "transport" x "protocol" every client suite runs: each transport with each
/// protocol it can carry (Server-Sent Events are text only).
inline void addTransportProtocolRows()
{
    QTest::addColumn<HubConnection::Transport>("transport");
    QTest::addColumn<HubConnection::Protocol>("protocol");
    QTest::newRow("websockets-json")
        << HubConnection::Transport::WebSockets << HubConnection::Protocol::Json;
    QTest::newRow("websockets-messagepack")
        << HubConnection::Transport::WebSockets << HubConnection::Protocol::MessagePack;
    QTest::newRow("sse-json") << HubConnection::Transport::ServerSentEvents
                              << HubConnection::Protocol::Json;
    QTest::newRow("longpolling-json")
        << HubConnection::Transport::LongPolling << HubConnection::Protocol::Json;
    QTest::newRow("longpolling-messagepack")
        << HubConnection::Transport::LongPolling << HubConnection::Protocol::MessagePack;
}

/// The HubError a finished future failed with, if it did.
template<typename T> std::optional<HubError> failure(QFuture<T> future)
{
    try {
        future.waitForFinished(); // finished already: rethrows a stored exception only
    } catch (const HubErrorException &e) {
        return e.error();
    } catch (...) {
        return HubError {Error::ServerError, QStringLiteral("unexpected exception type")};
    }
    return std::nullopt;
}

/// How long settle() and call() wait by default; a suite against a slower peer raises it.
inline int defaultWaitMs = 10000;

/// Waits until the future is finished (events keep running).
template<typename T> bool settle(const QFuture<T> &future, int timeoutMs = -1)
{
    return QTest::qWaitFor([&] { return future.isFinished(); },
                           timeoutMs < 0 ? defaultWaitMs : timeoutMs);
}

/// Starts `c` and waits for Connected or a failure.
inline bool connectNow(HubConnection &c, int timeoutMs = 15000)
{
    c.start();
    (void)QTest::qWaitFor([&] { return c.state() != HubConnection::State::Connecting; }, timeoutMs);
    if (c.state() != HubConnection::State::Connected)
        qWarning("not connected: %s", qPrintable(c.errorString()));
    return c.state() == HubConnection::State::Connected;
}

/// The result, or "error: <text>" / "timed out" as a string Value.
inline Value call(HubConnection &c, const QByteArray &method, const ValueList &args = {})
{
    QFuture<Value> f = c.invoke(method, args);
    if (!settle(f))
        return Value("timed out");
    if (auto e = failure(f))
        return Value(QString(QStringLiteral("error: ") + e->message));
    return f.result();
}

} // namespace Heliograph::Testing
