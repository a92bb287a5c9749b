// SPDX-License-Identifier: MIT
// The admin hub (/hubs/admin): live metrics, history, drill-down, events, audited actions and
// the audit log for the desktop app's admin console. Role Admin sees and acts on its own
// tenant only, role Operator on every tenant; any other caller gets 403 Forbidden (the hub's
// connectPolicy, applied by HubServer). See docs/hubs.md, "The admin hub".
#pragma once

#include "admin/adminmonitor.h"
#include "signalr/hub.h"

namespace Heliograph::Server {

class NotificationService;

struct AdminConnectionDto {
    QString connectionId;
    QString hub;
    QString transport;
    QString protocol;
    QString client; ///< the User-Agent
    QDateTime connectedSince;
    QString remoteAddress;
};
HELIOGRAPH_DESCRIBE(AdminConnectionDto, connectionId, hub, transport, protocol, client,
                    connectedSince, remoteAddress)

struct AdminUserDto {
    QString userId;
    QString displayName;
    QList<AdminConnectionDto> connections;
};
HELIOGRAPH_DESCRIBE(AdminUserDto, userId, displayName, connections)

struct AdminGroupDto {
    QString name;
    int members = 0; ///< connections in the group
};
HELIOGRAPH_DESCRIBE(AdminGroupDto, name, members)

struct TenantDetailsDto {
    QString tenant;
    QList<AdminUserDto> users;
    QList<AdminGroupDto> groups;
    int activeDocuments = 0;
};
HELIOGRAPH_DESCRIBE(TenantDetailsDto, tenant, users, groups, activeDocuments)

class AdminHub : public Hub {
public:
    AdminHub(AdminMonitor &adminMonitor, ConnectionRegistry &connections,
             NotificationService &service);

    /// Refuses (closes with an error, reconnect not allowed) a caller with neither role. Only
    /// reachable if a connection bypasses HubServer's connect policy check.
    void onConnected(HubCallContext &ctx) override;

    /// Why a caller without the role is refused: the body of the 403 answer, and the Close
    /// error of onConnected().
    static QString refusal();
    /// The Close error of a connection an administrator disconnects.
    static QByteArray disconnectedByAdmin();

private:
    /// The caller's scope; throws HubUnauthorizedException if it has none.
    AdminScope authorize(const HubCallContext &ctx) const;
    /// The tenant a method names, normalized (signalr/identity.h), if the caller may act on
    /// it; throws HubUnauthorizedException otherwise, also for a missing (null) or empty one.
    QByteArray authorizeTenant(const HubCallContext &ctx, const QString &tenant) const;
    /// Writes the audit event first; throws if it cannot be written (the action is not done).
    void audit(const HubCallContext &ctx, const QByteArray &tenant, const QByteArray &action,
               const QString &details);
    TenantDetailsDto details(const QByteArray &tenant) const;
    void streamAuditLog(HubCallContext &ctx, const ServerStreamPtr &stream, const QString &tenant,
                        const QString &from);

    AdminMonitor &m_monitor;
    ConnectionRegistry &m_registry;
    NotificationService &m_service;
};

} // namespace Heliograph::Server
