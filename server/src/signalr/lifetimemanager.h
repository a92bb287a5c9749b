// SPDX-License-Identifier: MIT
// Connections, groups and users of one hub, and fan-out to them.
//
// Connections live on event-loop threads. Each thread has a shard with that thread's
// connections, group and user memberships, touched only on that thread: a fan-out serializes
// the message once per protocol and posts one task per thread, which writes to its members.
// Only the connection-id -> shard directory is shared (under a mutex).
//
// With a backplane (several nodes), sends to all, a group or a user are published and come back
// through deliver*(), on every node alike; see signalr/backplane.h.
#pragma once

#include "signalr/backplane.h"
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

    /// Set once, before connections arrive.
    void setBackplane(std::shared_ptr<HubBackplane> backplane)
    {
        m_backplane = std::move(backplane);
    }
    HubBackplane *backplane() const noexcept { return m_backplane.get(); }

    /// Decides, on each member's thread, whether a message with `target` is delivered to it
    /// (e.g. a notification its replay already covered is not). Set before connections arrive.
    using Filter = std::function<bool(HubConnectionContext &, const HubMessage &)>;
    void setDeliveryFilter(const QByteArray &target, const Filter &filter);

    /// Called on the connection's thread.
    void add(HubConnectionContext *connection);
    void remove(HubConnectionContext *connection);

    /// Membership changes and sends are applied on each member's thread in the order they were
    /// issued: a change takes effect in order with the sends made before and after it from the
    /// same thread, and sends issued in a global order (under NotificationService's lock)
    /// reach every member in that order, whichever threads issued them.
    /// A connection on another node (with a backplane) is changed there; `done` (optional, any
    /// thread) tells whether that node acknowledged.
    void addToGroup(const QByteArray &connectionId, const QByteArray &group,
                    std::function<void(bool)> done = {});
    void removeFromGroup(const QByteArray &connectionId, const QByteArray &group,
                         std::function<void(bool)> done = {});

    /// Runs `f` on the connection's thread once its node receives what is published to `group`
    /// (with a backplane: once Redis confirmed the subscription; without one: next on its
    /// thread). Nothing if the connection is gone by then.
    void whenGroupReady(const QByteArray &connectionId, const QByteArray &group,
                        std::function<void(HubConnectionContext &)> f);

    void sendAll(const SharedMessage &message, const QList<QByteArray> &excluded = {});
    void sendGroup(const QByteArray &group, const SharedMessage &message,
                   const QList<QByteArray> &excluded = {});
    /// Runs `f` on the thread of every local member of `group`, once per member.
    void forEachInGroup(const QByteArray &group, std::function<void(HubConnectionContext &)> f);
    void sendUser(const QByteArray &userId, const SharedMessage &message);
    void sendConnection(const QByteArray &connectionId, SharedMessage message);

    /// Invokes a client method with a result on any connection. `handler` runs once on the
    /// target's thread (or on this one if the connection does not exist); `accept` (run on the
    /// target's thread) may refuse the target, e.g. another tenant's connection.
    void invokeClient(const QByteArray &connectionId, QByteArray target, ValueList arguments,
                      ClientResultHandler handler,
                      std::function<bool(const HubConnectionContext &)> accept = {});

    int connectionCount() const;
    bool isLocal(const QByteArray &connectionId) const { return shardOf(connectionId) != nullptr; }

    // --- what the backplane delivers (this node's connections only) ---------------------------
    void deliverAll(const SharedMessage &message, const QList<QByteArray> &excluded);
    void deliverGroup(const QByteArray &group, const SharedMessage &message,
                      const QList<QByteArray> &excluded);
    void deliverUser(const QByteArray &userId, const SharedMessage &message);
    void deliverConnection(const QByteArray &connectionId, const SharedMessage &message);
    /// A group change for a connection of this node; false if it is not here. `applied` runs on
    /// the connection's thread once the change is made.
    bool applyGroupChange(const QByteArray &connectionId, const QByteArray &group, bool add,
                          std::function<void(bool)> applied);
    /// A client-result call from another node, already serialized with its invocation id;
    /// false if the connection is not here.
    /// `handler` also gets the connection's protocol (the answer goes back framed with it).
    using SerializedResultHandler = std::function<void(const ClientResult &, const HubProtocol &)>;
    bool invokeLocal(const QByteArray &connectionId, const SharedMessage &invocation,
                     const QByteArray &invocationId, SerializedResultHandler handler);

private:
    struct Shard;
    Shard *shardForCurrentThread();
    Shard *shardOf(const QByteArray &connectionId) const;
    template<typename F> void forEachShard(F &&f);
    template<typename F> static void runOn(Shard *shard, F f);

    template<typename Range>
    void deliverTo(const Range &members, const SharedMessage &message,
                   const QList<QByteArray> &excluded) const;
    void changeGroup(const QByteArray &connectionId, const QByteArray &group, bool add,
                     std::function<void(bool)> done);

    std::shared_ptr<HubBackplane> m_backplane;
    QHash<QByteArray, Filter> m_filters; ///< by target; read-only once connections arrive
    mutable QMutex m_mutex;
    std::vector<std::unique_ptr<Shard>> m_shards;
    QHash<QByteArray, Shard *> m_directory; ///< connection id -> shard
};

} // namespace Heliograph::Server
