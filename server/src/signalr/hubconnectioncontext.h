// SPDX-License-Identifier: MIT
// One logical SignalR connection on the server: handshake, message loop, dispatch to the hub,
// keep-alive and timeouts. Transport-agnostic: WebSockets, SSE and long polling feed it bytes
// and carry its output.
#pragma once

#include "signalr/connectionregistry.h"
#include "signalr/hub.h"
#include "signalr/hubtypes.h"
#include "signalr/serverstream.h"
#include "transport/metrics.h"

#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/reconnectbuffer.h>

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QVariantHash>

#include <optional>

namespace Heliograph::Server {

class HubLifetimeManager;

/// What a connection needs from its transport. Lives on the connection's thread.
class ConnectionTransport {
public:
    virtual ~ConnectionTransport() = default;
    virtual TransferFormat supportedFormats() const = 0;
    /// Called once the handshake has picked a protocol, before its response is written.
    virtual void setTransferFormat(TransferFormat) { }
    /// Writes one or more complete messages.
    virtual void write(const QByteArray &bytes) = 0;
    /// Ends the transport once what was written is flushed.
    virtual void end() = 0;
    /// Long polling: no pings, no client timeout.
    virtual bool hasInherentKeepAlive() const { return false; }
};

class HubConnectionContext : public QObject {
    Q_OBJECT
public:
    enum class State : quint8 { Handshaking, Connected, Closed };

    HubConnectionContext(Hub &hub, HubLifetimeManager &lifetime, const HubOptions &options,
                         QByteArray connectionId, Principal user, ConnectionInfo info = {},
                         QObject *parent = nullptr);
    ~HubConnectionContext() override;

    const QByteArray &connectionId() const noexcept { return m_connectionId; }
    const Principal &user() const noexcept { return m_user; }
    const QSet<QByteArray> &groups() const noexcept { return m_groups; }
    const ConnectionInfo &info() const noexcept { return m_info; }
    /// The path of the hub this connection talks to.
    const QByteArray &hubPath() const noexcept { return m_hub.path(); }
    /// Per-connection state for the hub's own use (like ASP.NET Core's Context.Items).
    QVariantHash &items() noexcept { return m_items; }
    const HubProtocol *protocol() const noexcept { return m_protocol; }
    State state() const noexcept { return m_state; }

    /// Starts the handshake clock; the transport must outlive the connection or detach first.
    void attachTransport(ConnectionTransport *transport);
    /// Bytes from the client, in order, split anyhow.
    void receive(QByteArrayView data);
    /// The transport is gone (socket closed or failed): the connection ends without writing.
    void transportEnded();

    /// Stateful reconnect (negotiated, WebSockets only): takes effect if the handshake asks for
    /// protocol version 2. Call before the handshake arrives.
    void allowStatefulReconnect() { m_statefulAllowed = true; }
    bool isStateful() const noexcept { return m_stateful; }
    /// The transport dropped without a close: a stateful connection waits for its client to
    /// reconnect (up to HubOptions::disconnectTimeout); any other connection ends.
    void transportLost();
    bool isAwaitingReconnect() const noexcept { return m_transport == nullptr && m_awaiting; }
    ConnectionTransport *transport() const noexcept { return m_transport; }
    /// Continues on a new transport: sends Sequence and every unacknowledged message again.
    bool resumeTransport(ConnectionTransport *transport);

    /// Fan-out delivery (already serialized for every protocol). Returns the bytes written (0
    /// when not connected).
    qsizetype send(const SharedMessage &message);
    void sendMessage(const HubMessage &message);

    /// Invokes a client method that returns a result (ids "s1", "s2", ...). `handler` runs on
    /// this connection's thread, once: with the client's result, its error, or
    /// "Connection disconnected." if the connection ends first.
    void invokeClient(QByteArray target, ValueList arguments, ClientResultHandler handler);
    /// The same for a call another node serialized (its invocation id inside `invocation`).
    void invokeClientSerialized(const SharedMessage &invocation, const QByteArray &invocationId,
                                ClientResultHandler handler);

    /// Sends Close (with an error text and reconnect advice), then ends the transport.
    void close(std::optional<QByteArray> error = {}, bool allowReconnect = false);

Q_SIGNALS:
    /// The logical connection is over: the hub has seen onDisconnected, nothing more is sent.
    void closed();

private:
    /// "connection ID (tenant T, user U)" for log lines.
    QByteArray who() const;
    /// Counts a received message (and its size on the wire) for /metrics, by hub method.
    void countReceived(const HubMessage &message, qsizetype bytes);
    friend class HubLifetimeManager;
    friend class Heartbeat;
    friend class ServerStream;
    friend class HubReply;
    void asyncInvocationDone(HubReply *reply);
    static bool isInvocation(const HubMessage &m) { return m.index() == 0 || m.index() == 3; }

    void tick(qint64 nowMs);
    void completeHandshake(QByteArrayView rest);
    void failHandshake(const QByteArray &error);
    void processMessages();
    void dispatch(HubMessage &message);
    void invoke(const QByteArray &invocationId, const QByteArray &target, const ValueList &args,
                bool streaming, const QList<QByteArray> &streamIds = {});
    void writeRaw(const QByteArray &bytes);
    /// Writes a message; sequenced ones are numbered and kept for replay when stateful.
    void writeMessage(const QByteArray &bytes, bool sequenced);
    /// Stateful reconnect bookkeeping for an incoming message; false: drop it (duplicate).
    bool acceptIncoming(const HubMessage &message);
    void finish();
    /// Tells the hub's registry (if any) that `group` joined or left m_groups.
    void groupChanged(const QByteArray &group, bool added);
    Metrics::Labels metricLabels() const;
    QByteArray withDetail(const QString &base, const QString &detail, bool always = false) const;

    Hub &m_hub;
    HubLifetimeManager &m_lifetime;
    const HubOptions &m_options;
    QByteArray m_connectionId;
    Principal m_user;
    ConnectionInfo m_info;
    QVariantHash m_items;
    QSet<QByteArray> m_groups;
    QHash<QByteArray, ServerStreamPtr> m_streams; ///< running server-to-client streams
    QHash<HubReply *, HubReplyPtr> m_replies; ///< pending async invocations
    QHash<QByteArray, UploadStreamPtr> m_uploads; ///< open client-to-server streams, by stream id
    QHash<HubReply *, QList<QByteArray>> m_uploadsOf; ///< the streams each pending call owns
    QList<HubMessage> m_deferred; ///< invocations waiting for a parallel-invocation slot
    QHash<QByteArray, ClientResultHandler> m_clientResults;
    // Stateful reconnect: messages 1-5 are counted both ways; what we sent stays buffered
    // (framed bytes) until the client acknowledges it.
    ReconnectBuffer m_reconnect;
    qint64 m_lostAt = 0;
    // After a stateful handshake, output waits for the client's first message: the official
    // JavaScript client creates its message counter only after the handshake completes, so
    // anything that reaches it earlier would not be counted and replay would repeat it.
    QByteArray m_held;
    bool m_holding = false;
    qint64 m_holdingSince = 0;
    void releaseHeld();
    bool m_statefulAllowed = false;
    bool m_stateful = false;
    bool m_awaiting = false;
    quint64 m_clientResultCounter = 0;
    ConnectionTransport *m_transport = nullptr;
    /// Message counts for the admin console (set while listed in the hub's registry).
    std::shared_ptr<MessageCounters> m_counters;
    const HubProtocol *m_protocol = nullptr;
    std::optional<MessageReader> m_reader;
    QByteArray m_handshakeBuffer;
    State m_state = State::Handshaking;
    bool m_connectedHookRan = false;
    bool m_receivedPing = false;
    bool m_dispatching = false;
    qint64 m_startedAt = 0;
    qint64 m_lastReceived = 0;
    qint64 m_lastPingSent = 0;
};

} // namespace Heliograph::Server
