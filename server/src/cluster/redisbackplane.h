// SPDX-License-Identifier: MIT
// Fan-out across nodes over Redis pub/sub, in ASP.NET Core's Redis backplane format
// (Microsoft.AspNetCore.SignalR.StackExchangeRedis), so heliograph nodes and ASP.NET Core nodes
// on one Redis deliver each other's sends. docs/cluster.md describes it.
//
// The Redis connections live on a thread of their own ("heliograph-redis"); HubBackplane calls
// from worker threads are posted to it in the order made, and what Redis delivers is handed to
// the lifetime manager there, which posts it on to the connections' threads.
#pragma once

#include "cluster/redisclient.h"
#include "signalr/backplane.h"

#include <QtCore/QObject>

#include <functional>
#include <memory>

namespace Heliograph::Server {

class HubLifetimeManager;

struct BackplaneOptions {
    RedisAddress address;
    /// This node's name: part of its servers' names on the backplane, in logs and /health.
    QByteArray nodeName;
    /// Prepended to every channel, without a separator (StackExchange.Redis's ChannelPrefix).
    QByteArray channelPrefix;
    /// How MessagePack writes struct keys in what this node publishes (HubOptions).
    StructKeyCase messagePackKeyCase = StructKeyCase::CamelCase;
};

/// What a node says about itself in its heartbeat (once a second, in the hash
/// `{prefix}heliograph:nodes`; a node silent for 5 s is gone from the list).
struct NodeStatus {
    QByteArray name;
    int connections = 0;
    qint64 uptimeSeconds = 0;
    bool healthy = true;
    qint64 lastSeenMs = 0; ///< when its last heartbeat was written (ms since the epoch)
};

class RedisBackplane {
public:
    explicit RedisBackplane(BackplaneOptions options);
    ~RedisBackplane();
    Q_DISABLE_COPY_MOVE(RedisBackplane)

    /// Adds a hub under its backplane name (ASP.NET Core: the hub class's full name, e.g.
    /// `MyApp.Hubs.NotificationHub`); returns what its lifetime manager uses. Before start().
    std::shared_ptr<HubBackplane> attach(HubLifetimeManager &lifetime, const QByteArray &hubName);
    /// Connects (and keeps reconnecting with backoff).
    void start();
    /// Both Redis connections are up and subscribed.
    bool isAvailable() const;
    /// Why not, for /ready ("" when available).
    QString unavailableReason() const;
    const BackplaneOptions &options() const;

    /// This node's heartbeat content, asked once a second on the Redis thread. Before start().
    void setStatusProvider(std::function<NodeStatus()> provider);
    /// The nodes whose heartbeat is fresh, this one included, by name (thread-safe; as of the
    /// last heartbeat read).
    QList<NodeStatus> nodes() const;

    struct Private;

private:
    std::shared_ptr<Private> d;
};

} // namespace Heliograph::Server
