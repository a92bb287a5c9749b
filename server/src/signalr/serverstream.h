// SPDX-License-Identifier: MIT
// A server-to-client stream (StreamInvocation): the hub method gets one and writes items until
// it completes, fails, or the client cancels. Lives on its connection's thread; producers on
// other threads use post().
#pragma once

#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QObject>

#include <functional>
#include <memory>

namespace Heliograph::Server {

class HubConnectionContext;

class ServerStream : public std::enable_shared_from_this<ServerStream> {
public:
    ServerStream(HubConnectionContext *connection, QByteArray invocationId);
    ~ServerStream();
    Q_DISABLE_COPY_MOVE(ServerStream)

    const QByteArray &invocationId() const noexcept { return m_invocationId; }
    /// False once completed, failed, cancelled, or the connection ended.
    bool isActive() const noexcept { return m_connection != nullptr; }

    void write(const Value &item);
    void complete();
    /// Ends the stream with "An error occurred on the server while streaming results." (the
    /// detail is added when detailed errors are on).
    void fail(const QString &detail);
    /// Called once if the client cancels or the connection ends first.
    void setCancelHandler(std::function<void()> handler) { m_onCancel = std::move(handler); }

    /// Runs `f` on the stream's thread, from any thread; skipped if the stream has ended.
    void post(std::function<void(ServerStream &)> f);

private:
    friend class HubConnectionContext;
    void cancel(); ///< by the connection: CancelInvocation or connection end
    void end();

    HubConnectionContext *m_connection;
    QByteArray m_invocationId;
    std::function<void()> m_onCancel;
    std::shared_ptr<QObject> m_context; ///< on the connection's thread; target of post()
};

using ServerStreamPtr = std::shared_ptr<ServerStream>;

} // namespace Heliograph::Server
