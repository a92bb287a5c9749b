// SPDX-License-Identifier: MIT
// The multi-tenant notification hub: notifications with exact replay, presence, collaborative
// document patches, system alerts. Identity comes from the token only (sub, tenant_id, role).
#pragma once

#include "signalr/hub.h"
#include "storage/storage.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>

namespace Heliograph::Server {

class HubLifetimeManager;

struct NotificationDto {
    QString id; ///< text on every protocol (a QByteArray would be binary in MessagePack)
    QString title;
    QString body;
    QString type;
    QDateTime createdAt;
    qint64 sequence = 0;
    bool replayed = false; ///< sent again on connect because the client had missed it
};
HELIOGRAPH_DESCRIBE(NotificationDto, id, title, body, type, createdAt, sequence, replayed)

struct DocumentUpdateDto {
    qint64 version = 0;
    QString patchJson;
    QString authorId;
};
HELIOGRAPH_DESCRIBE(DocumentUpdateDto, version, patchJson, authorId)

struct OnlineUserDto {
    QString userId;
    QString displayName;
    int connections = 0;
};
HELIOGRAPH_DESCRIBE(OnlineUserDto, userId, displayName, connections)

struct AuditEventDto {
    qint64 id = 0;
    QDateTime at;
    QString actor;
    QString action;
    QString details;
};
HELIOGRAPH_DESCRIBE(AuditEventDto, id, at, actor, action, details)
AuditEventDto toDto(const AuditEvent &e);

struct SystemAlertDto {
    QString level;
    QString message;
};
HELIOGRAPH_DESCRIBE(SystemAlertDto, level, message)

/// Live connections per user and tenant, shared by every thread.
class Presence {
public:
    /// Returns the user's live connection count after the change.
    int connect(const QByteArray &tenant, const QByteArray &user, const QString &displayName);
    int disconnect(const QByteArray &tenant, const QByteArray &user);
    int connections(const QByteArray &tenant, const QByteArray &user) const;
    QList<OnlineUserDto> online(const QByteArray &tenant) const;

private:
    struct Entry {
        QString displayName;
        int connections = 0;
    };
    mutable QMutex m_mutex;
    QHash<QByteArray, QHash<QByteArray, Entry>> m_tenants;
};

/// Group names. Users are qualified by tenant: two tenants may have a user with the same id.
namespace Groups {
inline QByteArray tenant(const QByteArray &t)
{
    return "tenant:" + t;
}
inline QByteArray user(const QByteArray &t, const QByteArray &u)
{
    return "user:" + t + '/' + u;
}
inline QByteArray document(const QByteArray &t, const QByteArray &d)
{
    return "doc:" + t + ':' + d;
}
} // namespace Groups

/// Stores and delivers notifications: used by the hub and by the push API. A notification is
/// durably stored before it is delivered or acknowledged, and every connection receives each
/// notification exactly once, in sequence order, whether by replay or live.
class NotificationService {
public:
    NotificationService(Storage &storage, HubLifetimeManager &lifetime);

    Expected<StoredNotification> push(const QByteArray &tenant, const QByteArray &user,
                                      const QString &title, const QString &body,
                                      const QString &type);
    /// Sends `target(arguments)` to a group, serialized with other deliveries of this service.
    void broadcast(const QByteArray &group, QByteArray target, ValueList arguments,
                   const QList<QByteArray> &excluded = {});
    /// Patches: stored and broadcast in version order.
    Expected<qint64> appendPatch(const QByteArray &tenant, const QByteArray &document,
                                 const QByteArray &patchJson, const QByteArray &author,
                                 const QByteArray &excludedConnection);

    /// Records an audit event and streams it to the tenant's StreamAuditLog subscribers.
    Expected<AuditEvent> audit(const QByteArray &tenant, const QByteArray &actor,
                               const QByteArray &action, const QString &details);
    /// `lastId` (touched only on the stream's thread) skips events the stream already sent.
    void subscribeAudit(const QByteArray &tenant, const ServerStreamPtr &stream,
                        std::shared_ptr<qint64> lastId);
    void unsubscribeAudit(const QByteArray &tenant, const ServerStream *stream);

    Storage &storage() noexcept { return m_storage; }
    HubLifetimeManager &lifetime() noexcept { return m_lifetime; }

    /// The per-connection replay cursor lives in HubConnectionContext::items() under this key.
    static constexpr const char *CursorKey = "notificationCursor";

private:
    Storage &m_storage;
    HubLifetimeManager &m_lifetime;
    QMutex m_orderMutex; ///< store + post as one step, so posts reach threads in order
    struct AuditSubscriber {
        std::weak_ptr<ServerStream> stream;
        std::shared_ptr<qint64> lastId;
    };
    QMutex m_auditMutex;
    QHash<QByteArray, QList<AuditSubscriber>> m_auditFeeds;
};

struct NotificationHubOptions {
    int maxReplay = 1000;
};

class NotificationHub : public Hub {
public:
    NotificationHub(NotificationService &service, NotificationHubOptions options = {});

    void onConnected(HubCallContext &ctx) override;
    void onDisconnected(HubCallContext &ctx) override;

    Presence &presence() noexcept { return m_presence; }

private:
    void replay(HubCallContext &ctx);
    /// With a backplane: what was stored between replay() and the moment this node receives
    /// the user's live notifications (its Redis subscription confirmed).
    void catchUp(HubConnectionContext &connection);
    /// The item holding the newest sequence stored when the connection started (catchUp()
    /// sends what came after it).
    static constexpr const char *CatchUpKey = "notificationCatchUpFrom";
    void streamAuditLog(HubCallContext &ctx, const ServerStreamPtr &stream, const QString &from);

    NotificationService &m_service;
    NotificationHubOptions m_options;
    Presence m_presence;
};

} // namespace Heliograph::Server
