// SPDX-License-Identifier: MIT
// The admin console's live data: once a second the monitor samples the connection registry
// into a metrics point (per tenant, plus the server's health), keeps the last 15 minutes of
// points, and hands the point and the events of that second to the subscribed admin streams,
// each filtered to what its caller may see.
#pragma once

#include "signalr/connectionregistry.h"
#include "signalr/hubtypes.h"
#include "signalr/serverstream.h"

#include <heliograph/protocol/convert.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <deque>
#include <functional>
#include <optional>

namespace Heliograph::Server {

/// What an admin connection may see: Operator every tenant, Admin its own.
struct AdminScope {
    bool everyTenant = false;
    QByteArray tenant;
    /// Null for a principal with neither role (or an Admin without a tenant).
    static std::optional<AdminScope> of(const Principal &principal);
    bool sees(const QByteArray &t) const noexcept { return everyTenant || t == tenant; }
};

struct TenantMetricsDto {
    QString tenant;
    int connections = 0;
    int onlineUsers = 0;
    double messagesInPerSecond = 0;
    double messagesOutPerSecond = 0;
    int activeDocuments = 0;
};
HELIOGRAPH_DESCRIBE(TenantMetricsDto, tenant, connections, onlineUsers, messagesInPerSecond,
                    messagesOutPerSecond, activeDocuments)

struct ServerHealthDto {
    qint64 uptimeSeconds = 0;
    int connections = 0; ///< Operator: the server's; Admin: its tenant's
    qint64 rssBytes = 0;
    bool storageOk = false;
    QString version;
};
HELIOGRAPH_DESCRIBE(ServerHealthDto, uptimeSeconds, connections, rssBytes, storageOk, version)

/// A node of the cluster (one entry when the server runs alone): Operators only.
struct NodeDto {
    QString name;
    int connections = 0;
    qint64 uptimeSeconds = 0;
    bool healthy = true;
    bool self = false; ///< the node this admin connection is on
};
HELIOGRAPH_DESCRIBE(NodeDto, name, connections, uptimeSeconds, healthy, self)

struct MetricsSnapshotDto {
    QDateTime at;
    QList<TenantMetricsDto> tenants;
    ServerHealthDto health;
    QList<NodeDto> nodes;
};
HELIOGRAPH_DESCRIBE(MetricsSnapshotDto, at, tenants, health, nodes)

/// kind: connectionOpened, connectionClosed, userJoined, userLeft, action.
struct AdminEventDto {
    QDateTime at;
    QString kind;
    QString tenant;
    QString userId;
    QString displayName;
    QString connectionId;
    QString hub;
    QString transport;
    QString details; ///< actions: what was done
};
HELIOGRAPH_DESCRIBE(AdminEventDto, at, kind, tenant, userId, displayName, connectionId, hub,
                    transport, details)

class AdminMonitor : public QObject {
public:
    /// Points kept: one per second for 15 minutes.
    static constexpr int HistoryPoints = 15 * 60;
    /// Events buffered between two ticks at most; more are dropped (and counted in a log line).
    static constexpr int MaxPendingEvents = 10000;

    /// Samples on the calling thread's event loop, from now on, every second.
    AdminMonitor(ConnectionRegistry &registry, std::function<bool()> storageOk,
                 QObject *parent = nullptr);
    ~AdminMonitor() override;

    /// The newest point as `scope` sees it (a fresh one before the first tick).
    MetricsSnapshotDto latest(const AdminScope &scope) const;
    /// Every kept point, oldest first, as `scope` sees it.
    QList<MetricsSnapshotDto> history(const AdminScope &scope) const;

    /// Writes the newest point to `stream` now (call on the stream's thread), then each new
    /// one as it is taken.
    void subscribeMetrics(const AdminScope &scope, const ServerStreamPtr &stream);
    /// Events from now on, delivered once a second.
    void subscribeEvents(const AdminScope &scope, const ServerStreamPtr &stream);
    void unsubscribe(const ServerStream *stream);

    /// Thread-safe; reaches the event streams with the next tick.
    void record(AdminEventDto event);

    /// The cluster's nodes for each point, given this node's health (asked on the monitor's
    /// thread). Before the first tick.
    void setNodesProvider(std::function<QList<NodeDto>(const ServerHealthDto &)> provider)
    {
        m_nodes = std::move(provider);
    }

    /// Takes a point and delivers it (the timer calls this every second).
    void tick();

private:
    struct Point {
        QDateTime at;
        QList<TenantMetricsDto> tenants; ///< every tenant with connections or traffic
        ServerHealthDto health; ///< server-wide
        QList<NodeDto> nodes;
    };
    struct Subscriber {
        std::weak_ptr<ServerStream> stream;
        AdminScope scope;
        bool events = false;
    };
    static MetricsSnapshotDto view(const Point &point, const AdminScope &scope);
    Point sample();

    ConnectionRegistry &m_registry;
    std::function<bool()> m_storageOk;
    std::function<QList<NodeDto>(const ServerHealthDto &)> m_nodes;
    QTimer m_timer;
    QElapsedTimer m_uptime;
    // Touched only by tick() (the monitor's thread).
    QHash<QByteArray, std::pair<quint64, quint64>> m_previous; ///< tenant -> totals in/out
    qint64 m_previousAt = -1;

    mutable QMutex m_mutex; ///< guards what follows
    std::deque<Point> m_history;
    QList<Subscriber> m_subscribers;
    QList<AdminEventDto> m_pending;
    qint64 m_dropped = 0;
};

} // namespace Heliograph::Server
