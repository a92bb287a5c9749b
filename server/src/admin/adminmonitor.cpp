// SPDX-License-Identifier: MIT
#include "admin/adminmonitor.h"

#include <QtCore/QLoggingCategory>

#include <cstdio>

#ifdef Q_OS_LINUX
#include <unistd.h>
#endif

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAdmin, "heliograph.server.admin", QtInfoMsg)

namespace Heliograph::Server {

namespace {
qint64 residentBytes()
{
#ifdef Q_OS_LINUX
    std::FILE *f = std::fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lld %lld", &size, &resident);
    std::fclose(f);
    return n == 2 ? qint64(resident) * qint64(sysconf(_SC_PAGESIZE)) : 0;
#else
    return 0;
#endif
}

QString kindName(RegistryEvent::Kind kind)
{
    switch (kind) {
    case RegistryEvent::Kind::ConnectionOpened:
        return u"connectionOpened"_s;
    case RegistryEvent::Kind::ConnectionClosed:
        return u"connectionClosed"_s;
    case RegistryEvent::Kind::UserJoined:
        return u"userJoined"_s;
    case RegistryEvent::Kind::UserLeft:
        return u"userLeft"_s;
    }
    return {};
}
} // namespace

std::optional<AdminScope> AdminScope::of(const Principal &principal)
{
    if (!principal.isAuthenticated())
        return std::nullopt;
    if (principal.hasRole("Operator"))
        return AdminScope {true, principal.tenantId};
    if (principal.hasRole("Admin") && !principal.tenantId.isEmpty())
        return AdminScope {false, principal.tenantId};
    return std::nullopt;
}

AdminMonitor::AdminMonitor(ConnectionRegistry &registry, std::function<bool()> storageOk,
                           QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_storageOk(std::move(storageOk))
{
    m_uptime.start();
    m_registry.setListener([this](const RegistryEvent &e) {
        record(AdminEventDto {e.at, kindName(e.kind), QString::fromUtf8(e.tenant),
                              QString::fromUtf8(e.userId), e.displayName,
                              QString::fromUtf8(e.connectionId), QString::fromUtf8(e.hub),
                              QString::fromUtf8(e.transport), QString()});
    });
    m_timer.setInterval(1000);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &AdminMonitor::tick);
    m_timer.start();
}

AdminMonitor::~AdminMonitor()
{
    m_registry.setListener({});
}

AdminMonitor::Point AdminMonitor::sample()
{
    const qint64 now = m_uptime.elapsed();
    const double seconds = m_previousAt < 0 ? 0 : double(now - m_previousAt) / 1000.0;
    m_previousAt = now;
    Point p;
    p.at = QDateTime::currentDateTimeUtc();
    const QList<TenantTotals> totals = m_registry.totals();
    int connections = 0;
    for (const TenantTotals &t : totals) {
        connections += t.connections;
        auto previous = m_previous.constFind(t.tenant);
        double in = 0, out = 0;
        if (previous != m_previous.cend() && seconds > 0) {
            in = double(t.messagesIn - qMin(t.messagesIn, previous->first)) / seconds;
            out = double(t.messagesOut - qMin(t.messagesOut, previous->second)) / seconds;
        }
        m_previous.insert(t.tenant, {t.messagesIn, t.messagesOut});
        if (t.connections == 0 && in == 0 && out == 0)
            continue; // a tenant with nothing going on is not live
        p.tenants.append({QString::fromUtf8(t.tenant), t.connections, t.onlineUsers, in, out,
                          t.activeDocuments});
    }
    p.health.uptimeSeconds = m_uptime.elapsed() / 1000;
    p.health.connections = connections;
    p.health.rssBytes = residentBytes();
    p.health.storageOk = m_storageOk ? m_storageOk() : true;
    p.health.version = QString::fromLatin1(HELIOGRAPH_VERSION_STRING);
    if (m_nodes)
        p.nodes = m_nodes(p.health);
    return p;
}

MetricsSnapshotDto AdminMonitor::view(const Point &point, const AdminScope &scope)
{
    MetricsSnapshotDto out {point.at, {}, point.health, {}};
    if (scope.everyTenant) {
        out.tenants = point.tenants;
        out.nodes = point.nodes; // infrastructure: Operators only
        return out;
    }
    const QString own = QString::fromUtf8(scope.tenant);
    for (const TenantMetricsDto &t : point.tenants)
        if (t.tenant == own)
            out.tenants.append(t);
    if (out.tenants.isEmpty())
        out.tenants.append(TenantMetricsDto {own, 0, 0, 0, 0, 0}); // an Admin always sees its own
    out.health.connections = out.tenants.first().connections;
    return out;
}

MetricsSnapshotDto AdminMonitor::latest(const AdminScope &scope) const
{
    {
        QMutexLocker lock(&m_mutex);
        if (!m_history.empty())
            return view(m_history.back(), scope);
    }
    Point empty;
    empty.at = QDateTime::currentDateTimeUtc();
    empty.health.version = QString::fromLatin1(HELIOGRAPH_VERSION_STRING);
    return view(empty, scope);
}

QList<MetricsSnapshotDto> AdminMonitor::history(const AdminScope &scope) const
{
    QList<MetricsSnapshotDto> out;
    QMutexLocker lock(&m_mutex);
    out.reserve(qsizetype(m_history.size()));
    for (const Point &p : m_history)
        out.append(view(p, scope));
    return out;
}

void AdminMonitor::subscribeMetrics(const AdminScope &scope, const ServerStreamPtr &stream)
{
    MetricsSnapshotDto first;
    {
        // Under the lock that tick() takes to publish: the stream gets every point after this
        // one exactly once.
        QMutexLocker lock(&m_mutex);
        m_subscribers.append({stream, scope, false});
        if (!m_history.empty())
            first = view(m_history.back(), scope);
    }
    if (!first.at.isValid())
        first = latest(scope);
    stream->write(toValue(first));
}

void AdminMonitor::subscribeEvents(const AdminScope &scope, const ServerStreamPtr &stream)
{
    QMutexLocker lock(&m_mutex);
    m_subscribers.append({stream, scope, true});
}

void AdminMonitor::unsubscribe(const ServerStream *stream)
{
    QMutexLocker lock(&m_mutex);
    m_subscribers.removeIf([stream](const Subscriber &s) {
        auto p = s.stream.lock();
        return !p || p.get() == stream;
    });
}

void AdminMonitor::record(AdminEventDto event)
{
    QMutexLocker lock(&m_mutex);
    bool wanted = false;
    for (const Subscriber &s : std::as_const(m_subscribers))
        wanted = wanted || (s.events && s.scope.sees(event.tenant.toUtf8()));
    if (!wanted)
        return; // nobody listens: nothing is buffered
    if (m_pending.size() >= MaxPendingEvents) {
        ++m_dropped;
        return;
    }
    m_pending.append(std::move(event));
}

void AdminMonitor::tick()
{
    Point point = sample();
    QList<Subscriber> subscribers;
    QList<AdminEventDto> events;
    qint64 dropped = 0;
    {
        QMutexLocker lock(&m_mutex);
        m_history.push_back(point);
        while (m_history.size() > size_t(HistoryPoints))
            m_history.pop_front();
        m_subscribers.removeIf([](const Subscriber &s) { return s.stream.expired(); });
        subscribers = m_subscribers;
        events = std::exchange(m_pending, {});
        dropped = std::exchange(m_dropped, 0);
    }
    if (dropped > 0)
        qCWarning(lcAdmin) << "admin event streams: dropped" << dropped
                           << "events in one second (over" << MaxPendingEvents << ")";
    for (const Subscriber &s : std::as_const(subscribers)) {
        ServerStreamPtr stream = s.stream.lock();
        if (!stream)
            continue;
        if (!s.events) {
            stream->post(
                [item = toValue(view(point, s.scope))](ServerStream &st) { st.write(item); });
            continue;
        }
        ValueList items;
        for (const AdminEventDto &e : std::as_const(events))
            if (s.scope.sees(e.tenant.toUtf8()))
                items.append(toValue(e));
        if (!items.isEmpty())
            stream->post([items = std::move(items)](ServerStream &st) {
                for (const Value &v : items)
                    st.write(v);
            });
    }
}

} // namespace Heliograph::Server
