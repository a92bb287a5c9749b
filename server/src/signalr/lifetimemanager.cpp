// SPDX-License-Identifier: MIT
#include "signalr/lifetimemanager.h"

#include "signalr/handoff.h"
#include "signalr/hubconnectioncontext.h"
#include "transport/metrics.h"

#include <QtCore/QThread>

#include <array>
#include <atomic>

namespace Heliograph::Server {

struct HubLifetimeManager::Shard {
    QThread *thread = nullptr;
    std::unique_ptr<QObject> context; ///< lives on `thread`; target of queued tasks
    QHash<QByteArray, HubConnectionContext *> connections;
    QHash<QByteArray, QSet<HubConnectionContext *>> groups;
    QHash<QByteArray, QSet<HubConnectionContext *>> users;
    std::atomic<int> queued {0}; ///< tasks posted to `thread` and not run yet
};

HubLifetimeManager::HubLifetimeManager() = default;
HubLifetimeManager::~HubLifetimeManager() = default;

HubLifetimeManager::Shard *HubLifetimeManager::shardForCurrentThread()
{
    QThread *t = QThread::currentThread();
    QMutexLocker lock(&m_mutex);
    for (auto &s : m_shards)
        if (s->thread == t)
            return s.get();
    auto s = std::make_unique<Shard>();
    s->thread = t;
    s->context = std::make_unique<QObject>();
    m_shards.push_back(std::move(s));
    return m_shards.back().get();
}

HubLifetimeManager::Shard *HubLifetimeManager::shardOf(const QByteArray &connectionId) const
{
    QMutexLocker lock(&m_mutex);
    return m_directory.value(connectionId);
}

// A shard's work runs on its thread in the order it was issued. The calling thread's own
// shard is served at once only while nothing is queued for it: work another thread queued
// earlier must not be overtaken (a push with sequence 5 handled on the member's own thread
// would be delivered before sequence 4 queued from another thread, and the connection's
// cursor would then drop 4). Pushes check and queue under NotificationService's lock, so
// their order is the sequence order on every shard.
template<typename F> void HubLifetimeManager::runOn(Shard *shard, F f)
{
    if (shard->thread == QThread::currentThread()
        && shard->queued.load(std::memory_order_acquire) == 0) {
        f(*shard);
        return;
    }
    shard->queued.fetch_add(1, std::memory_order_acq_rel);
    postTo(shard->context.get(), [shard, f = std::move(f)]() mutable {
        f(*shard);
        shard->queued.fetch_sub(1, std::memory_order_acq_rel);
    });
}

template<typename F> void HubLifetimeManager::forEachShard(F &&f)
{
    std::vector<Shard *> shards;
    {
        QMutexLocker lock(&m_mutex);
        shards.reserve(m_shards.size());
        for (auto &s : m_shards)
            shards.push_back(s.get());
    }
    for (Shard *s : shards)
        runOn(s, f); // a copy per shard
}

void HubLifetimeManager::setDeliveryFilter(const QByteArray &target, const Filter &filter)
{
    m_filters.insert(target, filter);
}

void HubLifetimeManager::add(HubConnectionContext *connection)
{
    Shard *s = shardForCurrentThread();
    s->connections.insert(connection->connectionId(), connection);
    if (!connection->user().userId.isEmpty())
        s->users[connection->user().userId].insert(connection);
    {
        QMutexLocker lock(&m_mutex);
        m_directory.insert(connection->connectionId(), s);
    }
    if (m_backplane)
        m_backplane->connectionAdded(connection->connectionId(), connection->user().userId);
}

void HubLifetimeManager::remove(HubConnectionContext *connection)
{
    Shard *s = shardOf(connection->connectionId());
    if (!s)
        return;
    Q_ASSERT(s->thread == QThread::currentThread());
    s->connections.remove(connection->connectionId());
    const QByteArray &user = connection->user().userId;
    if (!user.isEmpty()) {
        auto it = s->users.find(user);
        if (it != s->users.end()) {
            it->remove(connection);
            if (it->isEmpty())
                s->users.remove(user);
        }
    }
    for (const QByteArray &g : connection->groups()) {
        auto it = s->groups.find(g);
        if (it != s->groups.end()) {
            it->remove(connection);
            if (it->isEmpty())
                s->groups.remove(g);
        }
    }
    {
        QMutexLocker lock(&m_mutex);
        m_directory.remove(connection->connectionId());
    }
    if (m_backplane)
        m_backplane->connectionRemoved(connection->connectionId(), user,
                                       connection->groups().values());
}

bool HubLifetimeManager::applyGroupChange(const QByteArray &connectionId, const QByteArray &group,
                                          bool add, std::function<void(bool)> applied)
{
    Shard *s = shardOf(connectionId);
    if (!s)
        return false;
    runOn(s, [this, connectionId, group, add, applied = std::move(applied)](Shard &shard) {
        HubConnectionContext *c = shard.connections.value(connectionId);
        if (c && add && !c->m_groups.contains(group)) {
            shard.groups[group].insert(c);
            c->m_groups.insert(group);
            c->groupChanged(group, true);
            if (m_backplane)
                m_backplane->groupJoined(group);
        } else if (c && !add && c->m_groups.contains(group)) {
            auto it = shard.groups.find(group);
            if (it != shard.groups.end()) {
                it->remove(c);
                if (it->isEmpty())
                    shard.groups.remove(group);
            }
            c->m_groups.remove(group);
            c->groupChanged(group, false);
            if (m_backplane)
                m_backplane->groupLeft(group);
        }
        if (applied)
            applied(c != nullptr); // false: the connection left before the change
    });
    return true;
}

void HubLifetimeManager::changeGroup(const QByteArray &connectionId, const QByteArray &group,
                                     bool add, std::function<void(bool)> done)
{
    std::function<void(bool)> applied;
    if (done)
        applied = [done](bool ok) { done(ok); };
    if (applyGroupChange(connectionId, group, add, std::move(applied)))
        return;
    if (m_backplane)
        m_backplane->changeRemoteGroup(connectionId, group, add, std::move(done));
    else if (done)
        done(false);
}

void HubLifetimeManager::addToGroup(const QByteArray &connectionId, const QByteArray &group,
                                    std::function<void(bool)> done)
{
    changeGroup(connectionId, group, true, std::move(done));
}

void HubLifetimeManager::removeFromGroup(const QByteArray &connectionId, const QByteArray &group,
                                         std::function<void(bool)> done)
{
    changeGroup(connectionId, group, false, std::move(done));
}

void HubLifetimeManager::whenGroupReady(const QByteArray &connectionId, const QByteArray &group,
                                        std::function<void(HubConnectionContext &)> f)
{
    Shard *s = shardOf(connectionId);
    if (!s)
        return;
    auto run = [s, connectionId, f = std::move(f)] {
        runOn(s, [connectionId, f](Shard &shard) {
            if (HubConnectionContext *c = shard.connections.value(connectionId))
                f(*c);
        });
    };
    if (!m_backplane) {
        run();
        return;
    }
    // Through the shard first: a group change issued before this call may still be queued
    // there, and its groupJoined() must reach the backplane before this question does.
    runOn(s, [this, group, run = std::move(run)](Shard &) mutable {
        m_backplane->whenGroupSubscribed(group, std::move(run));
    });
}

namespace {
void countDeliveries(const SharedMessage &m, qsizetype n, qsizetype bytes)
{
    if (n == 0)
        return;
    const auto *inv = std::get_if<InvocationMessage>(&m->message);
    QByteArray target = inv ? inv->target : QByteArray(messageTypeName(messageType(m->message)));
    if (m->isFromBackplane()) {
        // Anyone who can publish on the Redis server names these targets: a bounded set of
        // label values, the rest counted as "(other)".
        static QMutex mutex;
        static QSet<QByteArray> seen;
        QMutexLocker lock(&mutex);
        if (!seen.contains(target)) {
            if (seen.size() >= 256)
                target = "(other)";
            else
                seen.insert(target);
        }
    }
    const Metrics::Labels labels {{"target", target}};
    Metrics::instance().add("heliograph_messages_sent_total", labels, double(n));
    Metrics::instance().add("heliograph_sent_message_bytes_total", labels, double(bytes));
}

bool excludedFrom(const QList<QByteArray> &excluded, const QByteArray &id)
{
    return !excluded.isEmpty() && excluded.contains(id);
}
} // namespace

// `members` is a copy (QHash::value): a send may close a connection, which edits the set.
template<typename Range>
void HubLifetimeManager::deliverTo(const Range &members, const SharedMessage &message,
                                   const QList<QByteArray> &excluded) const
{
    const Filter *filter = nullptr;
    if (!m_filters.isEmpty()) {
        if (const auto *inv = std::get_if<InvocationMessage>(&message->message)) {
            auto it = m_filters.constFind(inv->target);
            if (it != m_filters.cend())
                filter = &*it;
        }
    }
    qsizetype n = 0, bytes = 0;
    for (HubConnectionContext *c : members) {
        if (excludedFrom(excluded, c->connectionId()))
            continue;
        if (filter && !(*filter)(*c, message->message))
            continue;
        bytes += c->send(message), ++n;
    }
    countDeliveries(message, n, bytes);
}

void HubLifetimeManager::sendAll(const SharedMessage &message, const QList<QByteArray> &excluded)
{
    if (m_backplane) {
        m_backplane->publish(HubBackplane::Target::All, {}, message, excluded);
        return;
    }
    deliverAll(message, excluded);
}

void HubLifetimeManager::deliverAll(const SharedMessage &message, const QList<QByteArray> &excluded)
{
    forEachShard([this, message, excluded](Shard &shard) {
        deliverTo(shard.connections.values(), message, excluded);
    });
}

void HubLifetimeManager::sendGroup(const QByteArray &group, const SharedMessage &message,
                                   const QList<QByteArray> &excluded)
{
    if (m_backplane) {
        m_backplane->publish(HubBackplane::Target::Group, group, message, excluded);
        return;
    }
    deliverGroup(group, message, excluded);
}

void HubLifetimeManager::deliverGroup(const QByteArray &group, const SharedMessage &message,
                                      const QList<QByteArray> &excluded)
{
    forEachShard([this, group, message, excluded](Shard &shard) {
        deliverTo(shard.groups.value(group), message, excluded);
    });
}

void HubLifetimeManager::forEachInGroup(const QByteArray &group,
                                        std::function<void(HubConnectionContext &)> f)
{
    forEachShard([group, f = std::move(f)](Shard &shard) {
        // A copy (QHash::value): a send may close a connection, which edits the set.
        const QSet<HubConnectionContext *> members = shard.groups.value(group);
        for (HubConnectionContext *c : members)
            f(*c);
    });
}

void HubLifetimeManager::sendUser(const QByteArray &userId, const SharedMessage &message)
{
    if (m_backplane) {
        m_backplane->publish(HubBackplane::Target::User, userId, message, {});
        return;
    }
    deliverUser(userId, message);
}

void HubLifetimeManager::deliverUser(const QByteArray &userId, const SharedMessage &message)
{
    forEachShard([this, userId, message](Shard &shard) {
        deliverTo(shard.users.value(userId), message, {});
    });
}

void HubLifetimeManager::sendConnection(const QByteArray &connectionId, SharedMessage message)
{
    Shard *s = shardOf(connectionId);
    if (!s) {
        if (m_backplane)
            m_backplane->publish(HubBackplane::Target::Connection, connectionId, message, {});
        return;
    }
    runOn(s, [this, connectionId, message = std::move(message)](Shard &shard) {
        if (HubConnectionContext *c = shard.connections.value(connectionId))
            deliverTo(std::array {c}, message, {});
    });
}

void HubLifetimeManager::deliverConnection(const QByteArray &connectionId,
                                           const SharedMessage &message)
{
    Shard *s = shardOf(connectionId);
    if (!s)
        return;
    runOn(s, [this, connectionId, message](Shard &shard) {
        if (HubConnectionContext *c = shard.connections.value(connectionId))
            deliverTo(std::array {c}, message, {});
    });
}

void HubLifetimeManager::invokeClient(const QByteArray &connectionId, QByteArray target,
                                      ValueList arguments, ClientResultHandler handler,
                                      std::function<bool(const HubConnectionContext &)> accept)
{
    const ClientResult missing {
        false,
        {},
        QStringLiteral("Connection '%1' does not exist.").arg(QString::fromUtf8(connectionId))};
    Shard *s = shardOf(connectionId);
    if (!s) {
        // Another node's connection: only without an `accept` condition, which that node could
        // not check (it would take the caller's tenant on trust).
        if (m_backplane && !accept)
            m_backplane->invokeRemote(connectionId, std::move(target), std::move(arguments),
                                      std::move(handler));
        else
            handler(missing);
        return;
    }
    runOn(s,
          [connectionId, target = std::move(target), arguments = std::move(arguments),
           handler = std::move(handler), accept = std::move(accept), missing](Shard &shard) {
              HubConnectionContext *c = shard.connections.value(connectionId);
              if (!c || (accept && !accept(*c))) {
                  handler(missing);
                  return;
              }
              c->invokeClient(target, arguments, handler);
          });
}

bool HubLifetimeManager::invokeLocal(const QByteArray &connectionId,
                                     const SharedMessage &invocation,
                                     const QByteArray &invocationId,
                                     SerializedResultHandler handler)
{
    Shard *s = shardOf(connectionId);
    if (!s)
        return false;
    runOn(s, [connectionId, invocation, invocationId, handler = std::move(handler)](Shard &shard) {
        HubConnectionContext *c = shard.connections.value(connectionId);
        if (!c) {
            handler(ClientResult {false, {}, QStringLiteral("Connection disconnected.")},
                    HubProtocol::json());
            return;
        }
        const HubProtocol &protocol = *c->protocol();
        c->invokeClientSerialized(
            invocation, invocationId,
            [handler, &protocol](const ClientResult &r) { handler(r, protocol); });
    });
    return true;
}

int HubLifetimeManager::connectionCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_directory.size());
}

} // namespace Heliograph::Server
