// SPDX-License-Identifier: MIT
// Connections, groups and users of one hub, and fan-out to them.
//
// Connections live on event-loop threads. Each thread has a shard with that thread's
// connections, group and user memberships, touched only on that thread: a fan-out serializes
// the message once per protocol and posts one task per thread, which writes to its members.
// Only the connection-id -> shard directory is shared (under a mutex).
#pragma once

#include "signalr/hubreply.h"
#include "signalr/hubtypes.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QSet>

#include <functional>
#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QThread;
QT_END_NAMESPACE

namespace Heliograph::Server {

class HubConnectionContext;

class HubLifetimeManager {
public:
    HubLifetimeManager();
    ~HubLifetimeManager();
    Q_DISABLE_COPY_MOVE(HubLifetimeManager)

    /// Called on the connection's thread.
    void add(HubConnectionContext *connection);
    void remove(HubConnectionContext *connection);

    /// Membership changes and sends are applied on each member's thread in the order they were
    /// issued: a change takes effect in order with the sends made before and after it from the
    /// same thread, and sends issued in a global order (under NotificationService's lock)
    /// reach every member in that order, whichever threads issued them.
    void addToGroup(const QByteArray &connectionId, const QByteArray &group);
    void removeFromGroup(const QByteArray &connectionId, const QByteArray &group);

    void sendAll(SharedMessage message, QList<QByteArray> excluded = {});
    void sendGroup(const QByteArray &group, SharedMessage message, QList<QByteArray> excluded = {});
    /// Sends to the members for which `filter` (run on each member's thread) returns true.
    using Filter = std::function<bool(HubConnectionContext &)>;
    void sendGroupIf(const QByteArray &group, SharedMessage message, Filter filter);
    /// Runs `f` on the thread of every member of `group`, once per member.
    void forEachInGroup(const QByteArray &group, std::function<void(HubConnectionContext &)> f);
    void sendUser(const QByteArray &userId, SharedMessage message);
    void sendConnection(const QByteArray &connectionId, SharedMessage message);

    /// Invokes a client method with a result on any connection. `handler` runs once on the
    /// target's thread (or on this one if the connection does not exist); `accept` (run on the
    /// target's thread) may refuse the target, e.g. another tenant's connection.
    void invokeClient(const QByteArray &connectionId, QByteArray target, ValueList arguments,
                      ClientResultHandler handler,
                      std::function<bool(const HubConnectionContext &)> accept = {});

    int connectionCount() const;

private:
    struct Shard;
    Shard *shardForCurrentThread();
    Shard *shardOf(const QByteArray &connectionId) const;
    template<typename F> void forEachShard(F &&f);
    template<typename F> static void runOn(Shard *shard, F f);

    mutable QMutex m_mutex;
    std::vector<std::unique_ptr<Shard>> m_shards;
    QHash<QByteArray, Shard *> m_directory; ///< connection id -> shard
};

} // namespace Heliograph::Server
