// SPDX-License-Identifier: MIT
// Deferred hub-method results and server-to-client invocations that expect a result.
#pragma once

#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>

namespace Heliograph::Server {

class HubConnectionContext;

/// The Completion of an async hub method (addAsyncMethod): resolve or reject it once, now or
/// later, from the connection's thread or (through post()) any other.
class HubReply : public std::enable_shared_from_this<HubReply> {
public:
    HubReply(HubConnectionContext *connection, QByteArray invocationId, QByteArray target);
    ~HubReply();
    Q_DISABLE_COPY_MOVE(HubReply)

    bool isPending() const noexcept { return m_connection != nullptr; }
    void resolve(const Value &result);
    /// Sent as ASP.NET Core sends a HubException: "An unexpected error occurred invoking
    /// '<method>' on the server. HubException: <message>".
    void reject(const QString &message);
    /// Runs `f` on the connection's thread; skipped once the reply is done or the connection gone.
    void post(std::function<void(HubReply &)> f);

private:
    friend class HubConnectionContext;
    void finish();
    void abandon(); ///< the connection ended first

    HubConnectionContext *m_connection;
    QByteArray m_invocationId;
    QByteArray m_target;
    std::shared_ptr<QObject> m_context;
};
using HubReplyPtr = std::shared_ptr<HubReply>;

/// The outcome of a client result: the client's return value, or an error text (the client's
/// error, "Client didn't provide a result.", or "Connection disconnected.").
struct ClientResult {
    bool ok = false;
    Value value;
    QString error;
};
using ClientResultHandler = std::function<void(const ClientResult &)>;

} // namespace Heliograph::Server
