// SPDX-License-Identifier: MIT
// The live connections of the hubs that list themselves here (Hub::registry), for the admin
// console: who is connected, how, in which groups, and how many messages each tenant sends and
// receives.
//
// Thread-safety: connections join, leave and change groups on their own threads, under one
// mutex (none of this is on a per-message path). Message counts are not: each connection owns
// a pair of relaxed atomics that only its thread writes; the sampler sums them once a second
// under the mutex. A closing connection folds its counts into its tenant's retired totals, so
// a tenant's totals never go backwards.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMutex>
#include <QtCore/QSet>
#include <QtCore/QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace Heliograph::Server {

class HubConnectionContext;

/// Messages of one connection (invocations, stream items, completions, cancellations; no
/// pings, acks or closes). Written only on the connection's thread.
struct MessageCounters {
    std::atomic<quint64> in {0};
    std::atomic<quint64> out {0};
};

/// One live connection, as the drill-down shows it.
struct RegisteredConnection {
    QByteArray connectionId;
    QByteArray hub; ///< the hub's path
    QByteArray tenant;
    QByteArray userId;
    QString displayName;
    QByteArray transport;
    QByteArray protocol; ///< "json", "messagepack"
    QByteArray userAgent;
    QByteArray remoteAddress;
    QDateTime connectedAt;
    QSet<QByteArray> groups;
};

/// What changed, delivered to the listener on the thread of the change.
struct RegistryEvent {
    enum class Kind : quint8 { ConnectionOpened, ConnectionClosed, UserJoined, UserLeft };
    Kind kind = Kind::ConnectionOpened;
    QDateTime at;
    QByteArray tenant;
    QByteArray userId;
    QString displayName;
    QByteArray connectionId;
    QByteArray hub;
    QByteArray transport;
};

/// A tenant at one instant; message counts are totals since the server started.
struct TenantTotals {
    QByteArray tenant;
    int connections = 0;
    int onlineUsers = 0;
    int activeDocuments = 0; ///< groups "doc:<tenant>:<id>" with at least one member
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
};

class ConnectionRegistry {
public:
    ConnectionRegistry();
    ~ConnectionRegistry();
    Q_DISABLE_COPY_MOVE(ConnectionRegistry)

    /// Hooks of HubConnectionContext, called on the connection's thread.
    std::shared_ptr<MessageCounters> opened(HubConnectionContext &connection);
    void closed(const HubConnectionContext &connection);
    /// `group` was added to (or removed from) the connection's groups: one change at a time,
    /// so that joining N groups costs N, not N squared.
    void groupChanged(const HubConnectionContext &connection, const QByteArray &group, bool added);

    /// Every tenant that has live connections or ever had some (for the totals).
    QList<TenantTotals> totals() const;
    int connectionCount() const;
    /// The live connections of `tenant`, by connection id.
    QList<RegisteredConnection> connections(const QByteArray &tenant) const;
    std::optional<RegisteredConnection> find(const QByteArray &tenant,
                                             const QByteArray &connectionId) const;
    /// Sends Close (with `error`, reconnect not allowed) to a connection of `tenant`, on its
    /// thread. False if `tenant` has no such connection.
    bool close(const QByteArray &tenant, const QByteArray &connectionId, const QByteArray &error);

    /// Gets every change; runs on the changing connection's thread, outside the registry's
    /// lock, so it must be thread-safe and quick. Set before connections arrive, cleared after
    /// they are gone.
    using Listener = std::function<void(const RegistryEvent &)>;
    void setListener(Listener listener);

private:
    struct Entry {
        RegisteredConnection info;
        HubConnectionContext *connection = nullptr;
        std::shared_ptr<MessageCounters> counters;
    };
    struct Tenant {
        QHash<QByteArray, Entry> connections;
        QHash<QByteArray, int> users; ///< user id -> live connections
        quint64 retiredIn = 0;
        quint64 retiredOut = 0;
    };
    void notify(const QList<RegistryEvent> &events) const;

    mutable QMutex m_mutex;
    QHash<QByteArray, Tenant> m_tenants;
    int m_connections = 0;
    Listener m_listener;
};

} // namespace Heliograph::Server
