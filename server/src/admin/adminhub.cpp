// SPDX-License-Identifier: MIT
#include "admin/adminhub.h"

#include "notifications/notificationhub.h"
#include "signalr/hubconnectioncontext.h"
#include "signalr/identity.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QMap>

#include <algorithm>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAdminHub, "heliograph.server.admin", QtInfoMsg)

namespace Heliograph::Server {

namespace {
MethodPolicy adminOrOperator()
{
    MethodPolicy p;
    p.anyRole = {"Admin", "Operator"};
    return p;
}

AdminConnectionDto toDto(const RegisteredConnection &c)
{
    return {QString::fromUtf8(c.connectionId), QString::fromUtf8(c.hub),
            QString::fromUtf8(c.transport),    QString::fromUtf8(c.protocol),
            QString::fromUtf8(c.userAgent),    c.connectedAt,
            QString::fromUtf8(c.remoteAddress)};
}
} // namespace

QString AdminHub::refusal()
{
    return u"The admin hub needs the role Admin or Operator."_s;
}

QByteArray AdminHub::disconnectedByAdmin()
{
    return "Connection closed by an administrator.";
}

AdminHub::AdminHub(AdminMonitor &adminMonitor, ConnectionRegistry &connections,
                   NotificationService &service)
    : Hub("/hubs/admin")
    , m_monitor(adminMonitor)
    , m_registry(connections)
    , m_service(service)
{
    // Checked by HubServer on every request of a connection (403 Forbidden at negotiate or
    // at the WebSocket upgrade): an Admin needs a tenant as well, as in onConnected().
    connectPolicy = adminOrOperator();
    connectPolicy.requirement = [](const Principal &p) { return AdminScope::of(p).has_value(); };

    addStreamMethod(
        "StreamMetrics",
        [this](HubCallContext &ctx, const ServerStreamPtr &stream) {
            const AdminScope scope = authorize(ctx);
            AdminMonitor *feed = &m_monitor;
            stream->setCancelHandler([feed, raw = stream.get()] { feed->unsubscribe(raw); });
            m_monitor.subscribeMetrics(scope, stream);
        },
        adminOrOperator());
    addMethod(
        "GetHistory", [this](HubCallContext &ctx) { return m_monitor.history(authorize(ctx)); },
        adminOrOperator());
    addMethod(
        "GetTenantDetails",
        [this](HubCallContext &ctx, const QString &tenant) {
            return details(authorizeTenant(ctx, tenant));
        },
        adminOrOperator());
    addStreamMethod(
        "StreamEvents",
        [this](HubCallContext &ctx, const ServerStreamPtr &stream) {
            const AdminScope scope = authorize(ctx);
            AdminMonitor *feed = &m_monitor;
            stream->setCancelHandler([feed, raw = stream.get()] { feed->unsubscribe(raw); });
            m_monitor.subscribeEvents(scope, stream);
        },
        adminOrOperator());
    addMethod(
        "BroadcastAlert",
        [this](HubCallContext &ctx, const QString &tenant, const QString &message) {
            const QByteArray t = authorizeTenant(ctx, tenant);
            if (message.isEmpty())
                throw HubException(u"The alert needs a message."_s);
            audit(ctx, t, "admin.BroadcastAlert", message);
            m_service.broadcast(Groups::tenant(t), "ReceiveSystemAlert",
                                {toValue(SystemAlertDto {u"info"_s, message})});
        },
        adminOrOperator());
    addMethod(
        "SendNotification",
        [this](HubCallContext &ctx, const QString &tenant, const QString &userId,
               const QString &title, const QString &body, const QString &type) {
            const QByteArray t = authorizeTenant(ctx, tenant);
            if (userId.isEmpty() || title.isEmpty())
                throw HubException(u"A notification needs a user id and a title."_s);
            QByteArray user = userId.toUtf8();
            QString invalid;
            if (!Identity::normalizeUserId(user, &invalid))
                throw HubException(invalid);
            audit(ctx, t, "admin.SendNotification",
                  u"to %1 (%2): %3"_s.arg(QString::fromUtf8(user), type, title));
            auto stored = m_service.push(t, user, title, body, type);
            if (!stored)
                throw HubException(u"The notification could not be stored."_s);
            return NotificationDto {QString::fromLatin1(stored->id),
                                    stored->title,
                                    stored->body,
                                    stored->type,
                                    stored->createdAt,
                                    stored->sequence};
        },
        adminOrOperator());
    addMethod(
        "DisconnectConnection",
        [this](HubCallContext &ctx, const QString &tenant, const QString &connectionId) {
            const QByteArray t = authorizeTenant(ctx, tenant);
            const QByteArray id = connectionId.toUtf8();
            const auto target = m_registry.find(t, id);
            if (!target)
                throw HubException(
                    u"Tenant '%1' has no connection '%2'."_s.arg(tenant, connectionId));
            audit(ctx, t, "admin.DisconnectConnection",
                  u"connection %1 of user %2 (%3, %4)"_s.arg(
                      connectionId, QString::fromUtf8(target->userId),
                      QString::fromUtf8(target->hub), QString::fromUtf8(target->transport)));
            // Gone meanwhile: the audit stands (the action was asked for), the answer says so.
            return m_registry.close(t, id, disconnectedByAdmin());
        },
        adminOrOperator());
    addStreamMethod(
        "StreamAuditLog",
        [this](HubCallContext &ctx, const ServerStreamPtr &stream, const QString &tenant,
               const QString &from) { streamAuditLog(ctx, stream, tenant, from); },
        adminOrOperator());
}

void AdminHub::onConnected(HubCallContext &ctx)
{
    // Defence in depth: HubServer refuses such callers with 403 before any connection exists.
    if (!AdminScope::of(ctx.user())) {
        qCInfo(lcAdminHub) << "tenant" << ctx.user().tenantId << "user" << ctx.user().userId
                           << "refused: neither Admin nor Operator";
        throw HubException(refusal());
    }
}

AdminScope AdminHub::authorize(const HubCallContext &ctx) const
{
    const auto scope = AdminScope::of(ctx.user());
    if (!scope)
        throw HubUnauthorizedException();
    return *scope;
}

QByteArray AdminHub::authorizeTenant(const HubCallContext &ctx, const QString &tenant) const
{
    const AdminScope scope = authorize(ctx);
    // A null tenant (JSON null, MessagePack nil) is no tenant: it never means "any".
    QByteArray t = tenant.toUtf8();
    if (tenant.isNull() || !Identity::normalizeTenantId(t) || !scope.sees(t))
        throw HubUnauthorizedException();
    return t;
}

void AdminHub::audit(const HubCallContext &ctx, const QByteArray &tenant, const QByteArray &action,
                     const QString &details)
{
    const Principal &who = ctx.user();
    QString text = details;
    if (who.tenantId != tenant) // an Operator from elsewhere: say where the actor comes from
        text += u" (by an Operator of tenant %1)"_s.arg(QString::fromUtf8(who.tenantId));
    if (!m_service.audit(tenant, who.userId, action, text))
        throw HubException(u"The action could not be recorded in the audit log, so it was not "
                           "taken."_s);
    m_monitor.record(AdminEventDto {QDateTime::currentDateTimeUtc(), u"action"_s,
                                    QString::fromUtf8(tenant), QString::fromUtf8(who.userId),
                                    who.name, QString(), QString(), QString(),
                                    QString::fromUtf8(action) + u": "_s + text});
}

TenantDetailsDto AdminHub::details(const QByteArray &tenant) const
{
    TenantDetailsDto out;
    out.tenant = QString::fromUtf8(tenant);
    QHash<QByteArray, int> groups;
    QMap<QByteArray, AdminUserDto> users; // sorted by user id
    for (const RegisteredConnection &c : m_registry.connections(tenant)) {
        AdminUserDto &u = users[c.userId];
        u.userId = QString::fromUtf8(c.userId);
        u.displayName = c.displayName;
        u.connections.append(toDto(c));
        for (const QByteArray &g : c.groups)
            ++groups[g];
    }
    out.users = users.values();
    const QByteArray documentPrefix = "doc:" + tenant + ':';
    for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
        out.groups.append({QString::fromUtf8(it.key()), it.value()});
        if (it.key().startsWith(documentPrefix))
            ++out.activeDocuments;
    }
    std::sort(out.groups.begin(), out.groups.end(),
              [](const AdminGroupDto &a, const AdminGroupDto &b) { return a.name < b.name; });
    return out;
}

void AdminHub::streamAuditLog(HubCallContext &ctx, const ServerStreamPtr &stream,
                              const QString &tenant, const QString &from)
{
    const QByteArray t = authorizeTenant(ctx, tenant);
    const QDateTime since = Value(from).toDateTime();
    if (!since.isValid())
        throw HubException(u"'from' must be an ISO 8601 date-time."_s);
    auto lastId = std::make_shared<qint64>(0);
    // Subscribe first, then send the history: live events already in it are skipped by id.
    m_service.subscribeAudit(t, stream, lastId);
    NotificationService *service = &m_service;
    stream->setCancelHandler(
        [service, t, raw = stream.get()] { service->unsubscribeAudit(t, raw); });
    auto history = m_service.storage().auditSince(t, since, 10000);
    if (!history) {
        stream->fail(history.error().message);
        return;
    }
    for (const AuditEvent &e : std::as_const(*history)) {
        stream->write(toValue(toDto(e)));
        *lastId = qMax(*lastId, e.id);
    }
}

} // namespace Heliograph::Server
