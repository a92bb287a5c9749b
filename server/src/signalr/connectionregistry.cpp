// SPDX-License-Identifier: MIT
#include "signalr/connectionregistry.h"

#include "signalr/handoff.h"
#include "signalr/hubconnectioncontext.h"

#include <algorithm>

namespace Heliograph::Server {

ConnectionRegistry::ConnectionRegistry() = default;
ConnectionRegistry::~ConnectionRegistry() = default;

void ConnectionRegistry::setListener(Listener listener)
{
    QMutexLocker lock(&m_mutex);
    m_listener = std::move(listener);
}

void ConnectionRegistry::notify(const QList<RegistryEvent> &events) const
{
    Listener listener;
    {
        QMutexLocker lock(&m_mutex);
        listener = m_listener;
    }
    if (listener)
        for (const RegistryEvent &e : events)
            listener(e);
}

std::shared_ptr<MessageCounters> ConnectionRegistry::opened(HubConnectionContext &connection)
{
    const Principal &user = connection.user();
    Entry entry;
    entry.connection = &connection;
    entry.counters = std::make_shared<MessageCounters>();
    RegisteredConnection &info = entry.info;
    info.connectionId = connection.connectionId();
    info.hub = connection.hubPath();
    info.tenant = user.tenantId;
    info.userId = user.userId;
    info.displayName = user.name;
    info.transport = connection.info().transport;
    info.protocol
        = connection.protocol() ? connection.protocol()->name().toByteArray() : QByteArray();
    info.userAgent = connection.info().userAgent;
    info.remoteAddress = connection.info().remoteAddress;
    info.connectedAt = connection.info().connectedAt;
    info.groups = connection.groups();

    RegistryEvent opened {RegistryEvent::Kind::ConnectionOpened,
                          QDateTime::currentDateTimeUtc(),
                          info.tenant,
                          info.userId,
                          info.displayName,
                          info.connectionId,
                          info.hub,
                          info.transport};
    QList<RegistryEvent> events {opened};
    std::shared_ptr<MessageCounters> counters = entry.counters;
    {
        QMutexLocker lock(&m_mutex);
        Tenant &t = m_tenants[user.tenantId];
        t.connections.emplace(info.connectionId, std::move(entry));
        ++m_connections;
        if (++t.users[user.userId] == 1) {
            RegistryEvent joined = opened;
            joined.kind = RegistryEvent::Kind::UserJoined;
            events.append(joined);
        }
    }
    notify(events);
    return counters;
}

void ConnectionRegistry::closed(const HubConnectionContext &connection)
{
    const Principal &user = connection.user();
    QList<RegistryEvent> events;
    {
        QMutexLocker lock(&m_mutex);
        auto t = m_tenants.find(user.tenantId);
        if (t == m_tenants.end())
            return;
        auto e = t->connections.find(connection.connectionId());
        if (e == t->connections.end())
            return;
        t->retiredIn += e->counters->in.load(std::memory_order_relaxed);
        t->retiredOut += e->counters->out.load(std::memory_order_relaxed);
        RegistryEvent closed {RegistryEvent::Kind::ConnectionClosed,
                              QDateTime::currentDateTimeUtc(),
                              e->info.tenant,
                              e->info.userId,
                              e->info.displayName,
                              e->info.connectionId,
                              e->info.hub,
                              e->info.transport};
        events.append(closed);
        t->connections.remove(connection.connectionId());
        --m_connections;
        auto u = t->users.find(user.userId);
        if (u != t->users.end() && --*u <= 0) {
            t->users.remove(user.userId);
            closed.kind = RegistryEvent::Kind::UserLeft;
            events.append(closed);
        }
        // The tenant stays (its retired totals keep its counts monotonic).
    }
    notify(events);
}

void ConnectionRegistry::groupChanged(const HubConnectionContext &connection,
                                      const QByteArray &group, bool added)
{
    QMutexLocker lock(&m_mutex);
    auto t = m_tenants.find(connection.user().tenantId);
    if (t == m_tenants.end())
        return;
    auto e = t->connections.find(connection.connectionId());
    if (e == t->connections.end())
        return;
    if (added)
        e->info.groups.insert(group);
    else
        e->info.groups.remove(group);
}

QList<TenantTotals> ConnectionRegistry::totals() const
{
    QList<TenantTotals> out;
    QMutexLocker lock(&m_mutex);
    out.reserve(m_tenants.size());
    for (auto t = m_tenants.cbegin(); t != m_tenants.cend(); ++t) {
        TenantTotals totals;
        totals.tenant = t.key();
        totals.connections = int(t->connections.size());
        totals.onlineUsers = int(t->users.size());
        totals.messagesIn = t->retiredIn;
        totals.messagesOut = t->retiredOut;
        const QByteArray documentPrefix = "doc:" + t.key() + ':';
        QSet<QByteArray> documents;
        for (const Entry &e : t->connections) {
            totals.messagesIn += e.counters->in.load(std::memory_order_relaxed);
            totals.messagesOut += e.counters->out.load(std::memory_order_relaxed);
            for (const QByteArray &g : e.info.groups)
                if (g.startsWith(documentPrefix))
                    documents.insert(g);
        }
        totals.activeDocuments = int(documents.size());
        out.append(totals);
    }
    std::sort(out.begin(), out.end(),
              [](const TenantTotals &a, const TenantTotals &b) { return a.tenant < b.tenant; });
    return out;
}

int ConnectionRegistry::connectionCount() const
{
    QMutexLocker lock(&m_mutex);
    return m_connections;
}

QList<RegisteredConnection> ConnectionRegistry::connections(const QByteArray &tenant) const
{
    QList<RegisteredConnection> out;
    {
        QMutexLocker lock(&m_mutex);
        auto t = m_tenants.constFind(tenant);
        if (t == m_tenants.cend())
            return out;
        out.reserve(t->connections.size());
        for (const Entry &e : t->connections)
            out.append(e.info);
    }
    std::sort(out.begin(), out.end(),
              [](const RegisteredConnection &a, const RegisteredConnection &b) {
                  return a.connectionId < b.connectionId;
              });
    return out;
}

std::optional<RegisteredConnection> ConnectionRegistry::find(const QByteArray &tenant,
                                                             const QByteArray &connectionId) const
{
    QMutexLocker lock(&m_mutex);
    auto t = m_tenants.constFind(tenant);
    if (t == m_tenants.cend())
        return std::nullopt;
    auto e = t->connections.constFind(connectionId);
    if (e == t->connections.cend())
        return std::nullopt;
    return e->info;
}

bool ConnectionRegistry::close(const QByteArray &tenant, const QByteArray &connectionId,
                               const QByteArray &error)
{
    QMutexLocker lock(&m_mutex);
    auto t = m_tenants.constFind(tenant);
    if (t == m_tenants.cend())
        return false;
    auto e = t->connections.constFind(connectionId);
    if (e == t->connections.cend())
        return false;
    // Posted while the entry exists: the connection leaves the registry (under this lock)
    // before it is destroyed, so the pointer is alive here; a post to an object destroyed
    // before it runs is dropped.
    HubConnectionContext *c = e->connection;
    postTo(c, [c, error] { c->close(error, false); });
    return true;
}

} // namespace Heliograph::Server
