// SPDX-License-Identifier: MIT
#include "notifications/notificationhub.h"

#include "signalr/hubconnectioncontext.h"
#include "signalr/lifetimemanager.h"
#include "transport/metrics.h"

#include <QtCore/QLoggingCategory>

#include <algorithm>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcNotifications, "heliograph.server.notifications", QtInfoMsg)

namespace Heliograph::Server {

// --- Presence -------------------------------------------------------------------------------

int Presence::connect(const QByteArray &tenant, const QByteArray &user, const QString &displayName)
{
    QMutexLocker lock(&m_mutex);
    Entry &e = m_tenants[tenant][user];
    if (!displayName.isEmpty())
        e.displayName = displayName;
    return ++e.connections;
}

int Presence::disconnect(const QByteArray &tenant, const QByteArray &user)
{
    QMutexLocker lock(&m_mutex);
    auto t = m_tenants.find(tenant);
    if (t == m_tenants.end())
        return 0;
    auto u = t->find(user);
    if (u == t->end())
        return 0;
    const int left = --u->connections;
    if (left <= 0) {
        t->remove(user);
        if (t->isEmpty())
            m_tenants.remove(tenant);
    }
    return qMax(left, 0);
}

int Presence::connections(const QByteArray &tenant, const QByteArray &user) const
{
    QMutexLocker lock(&m_mutex);
    return m_tenants.value(tenant).value(user).connections;
}

QList<OnlineUserDto> Presence::online(const QByteArray &tenant) const
{
    QMutexLocker lock(&m_mutex);
    QList<OnlineUserDto> out;
    const auto users = m_tenants.value(tenant);
    for (auto it = users.cbegin(); it != users.cend(); ++it)
        out.append({QString::fromUtf8(it.key()), it->displayName, it->connections});
    std::sort(out.begin(), out.end(),
              [](const OnlineUserDto &a, const OnlineUserDto &b) { return a.userId < b.userId; });
    return out;
}

// --- NotificationService --------------------------------------------------------------------

NotificationService::NotificationService(Storage &storage, HubLifetimeManager &lifetime)
    : m_storage(storage)
    , m_lifetime(lifetime)
{
    // Live delivery skips connections whose replay already covered this sequence. A filter by
    // target rather than one per send: with a backplane the send comes back from Redis, and
    // each node applies it to its own connections.
    m_lifetime.setDeliveryFilter(
        "ReceiveNotification", [](HubConnectionContext &c, const HubMessage &message) {
            if (c.state() != HubConnectionContext::State::Connected)
                return false;
            const auto *inv = std::get_if<InvocationMessage>(&message);
            if (!inv || inv->arguments.isEmpty())
                return true;
            const qint64 sequence = inv->arguments.constFirst()["sequence"].toInteger();
            QVariant &cursor = c.items()[QString::fromLatin1(CursorKey)];
            if (cursor.toLongLong() >= sequence)
                return false;
            cursor = sequence;
            return true;
        });
}

Expected<StoredNotification> NotificationService::push(const QByteArray &tenant,
                                                       const QByteArray &user, const QString &title,
                                                       const QString &body, const QString &type)
{
    QMutexLocker lock(&m_orderMutex);
    auto stored = m_storage.appendNotification(tenant, user, title, body, type);
    if (!stored)
        return stored;
    Metrics::instance().add("heliograph_notifications_stored_total", {{"tenant", tenant}});
    const NotificationDto dto {QString::fromUtf8(stored->id),
                               stored->title,
                               stored->body,
                               stored->type,
                               stored->createdAt,
                               stored->sequence};
    m_lifetime.sendGroup(Groups::user(tenant, user),
                         makeInvocation("ReceiveNotification", {toValue(dto)}));
    return stored;
}

void NotificationService::broadcast(const QByteArray &group, QByteArray target, ValueList arguments,
                                    const QList<QByteArray> &excluded)
{
    QMutexLocker lock(&m_orderMutex);
    m_lifetime.sendGroup(group, makeInvocation(std::move(target), std::move(arguments)), excluded);
}

Expected<qint64> NotificationService::appendPatch(const QByteArray &tenant,
                                                  const QByteArray &document,
                                                  const QByteArray &patchJson,
                                                  const QByteArray &author,
                                                  const QByteArray &excludedConnection)
{
    QMutexLocker lock(&m_orderMutex);
    auto version = m_storage.appendPatch(tenant, document, patchJson, author);
    if (!version)
        return version;
    const DocumentUpdateDto update {*version, QString::fromUtf8(patchJson),
                                    QString::fromUtf8(author)};
    m_lifetime.sendGroup(
        Groups::document(tenant, document),
        makeInvocation("DocumentUpdated", {Value::fromUtf8(document), toValue(update)}),
        {excludedConnection});
    return version;
}

AuditEventDto toDto(const AuditEvent &e)
{
    return {e.id, e.at, QString::fromUtf8(e.actor), QString::fromUtf8(e.action), e.details};
}

Expected<AuditEvent> NotificationService::audit(const QByteArray &tenant, const QByteArray &actor,
                                                const QByteArray &action, const QString &details)
{
    auto event = m_storage.appendAudit(tenant, actor, action, details);
    if (!event)
        return event;
    QList<AuditSubscriber> subscribers;
    {
        QMutexLocker lock(&m_auditMutex);
        subscribers = m_auditFeeds.value(tenant);
    }
    const Value item = toValue(toDto(*event));
    const qint64 id = event->id;
    for (const AuditSubscriber &s : std::as_const(subscribers)) {
        if (ServerStreamPtr stream = s.stream.lock()) {
            stream->post([item, id, lastId = s.lastId](ServerStream &st) {
                if (id <= *lastId)
                    return; // already sent with the history
                *lastId = id;
                st.write(item);
            });
        }
    }
    return event;
}

void NotificationService::subscribeAudit(const QByteArray &tenant, const ServerStreamPtr &stream,
                                         std::shared_ptr<qint64> lastId)
{
    QMutexLocker lock(&m_auditMutex);
    auto &feed = m_auditFeeds[tenant];
    feed.removeIf([](const AuditSubscriber &s) { return s.stream.expired(); });
    feed.append({stream, std::move(lastId)});
}

void NotificationService::unsubscribeAudit(const QByteArray &tenant, const ServerStream *stream)
{
    QMutexLocker lock(&m_auditMutex);
    auto it = m_auditFeeds.find(tenant);
    if (it == m_auditFeeds.end())
        return;
    it->removeIf([stream](const AuditSubscriber &s) {
        auto p = s.stream.lock();
        return !p || p.get() == stream;
    });
    if (it->isEmpty())
        m_auditFeeds.remove(tenant);
}

// --- NotificationHub ------------------------------------------------------------------------

namespace {
MethodPolicy anyOf(QList<QByteArray> roles)
{
    MethodPolicy p;
    p.anyRole = std::move(roles);
    return p;
}

/// Sends stored notifications above `cursor` (ascending), marked replayed, and moves the
/// cursor to the last one sent.
void sendFromStore(HubConnectionContext &c, const QList<StoredNotification> &stored, qint64 &cursor)
{
    for (const StoredNotification &n : stored) {
        if (n.sequence <= cursor)
            continue;
        const NotificationDto dto {
            QString::fromUtf8(n.id), n.title, n.body, n.type, n.createdAt, n.sequence, true};
        c.sendMessage(InvocationMessage {{}, {}, "ReceiveNotification", {toValue(dto)}, {}});
        cursor = n.sequence;
    }
}

void requireTenant(const HubCallContext &ctx)
{
    if (ctx.user().tenantId.isEmpty())
        throw HubException(u"The access token has no tenant."_s);
}

/// Methods that store something and send it to other connections: in a cluster whose Redis is
/// away, refused before anything is stored (the others would not hear of it).
void requireBackplane(const HubCallContext &ctx)
{
    if (const HubBackplane *b = ctx.clients().backplane(); b && !b->isAvailable())
        throw HubException(u"The cluster's Redis is unavailable: nothing was changed. Try again "
                           "shortly."_s);
}

/// GetDocumentPatchesSince: the most patch text one answer carries, far below the output
/// limit of a connection (max-queued-output, 4 MiB by default), and how many rows are read
/// from storage at a time while filling it.
constexpr qsizetype PatchPageBytes = 1024 * 1024;
constexpr int PatchBatch = 64;
/// GetNotifications: the most rows one page carries (a larger limit is capped to it).
constexpr int MaxNotificationPage = 100;

/// Documents one connection may have joined at once (its tenant and user groups come on top).
constexpr qsizetype MaxDocuments = 1000;
constexpr qsizetype MaxGroupsPerConnection = MaxDocuments + 2;

QByteArray documentKey(const QString &documentId)
{
    if (documentId.isEmpty() || documentId.size() > 200)
        throw HubException(u"A document id must have 1 to 200 characters."_s);
    return documentId.toUtf8();
}
} // namespace

NotificationHub::NotificationHub(NotificationService &service, NotificationHubOptions options)
    : Hub("/hubs/notifications")
    , m_service(service)
    , m_options(options)
{
    addMethod("JoinDocument", [this](HubCallContext &ctx, const QString &documentId) -> qint64 {
        requireTenant(ctx);
        const QByteArray doc = documentKey(documentId);
        // Every group a connection is in costs memory on its thread and in the registry.
        if (ctx.caller().groups().size() >= MaxGroupsPerConnection
            && !ctx.caller().groups().contains(Groups::document(ctx.user().tenantId, doc)))
            throw HubException(
                u"A connection may be in at most %1 documents at once."_s.arg(MaxDocuments));
        ctx.clients().addToGroup(ctx.connectionId(), Groups::document(ctx.user().tenantId, doc));
        auto v = m_service.storage().documentVersion(ctx.user().tenantId, doc);
        if (!v)
            throw std::runtime_error(v.error().message.toStdString());
        return *v;
    });
    addMethod("LeaveDocument", [](HubCallContext &ctx, const QString &documentId) {
        requireTenant(ctx);
        ctx.clients().removeFromGroup(
            ctx.connectionId(), Groups::document(ctx.user().tenantId, documentKey(documentId)));
    });
    addMethod(
        "SendDocumentPatch",
        [this](HubCallContext &ctx, const QString &documentId, const QString &patchJson) -> qint64 {
            requireTenant(ctx);
            requireBackplane(ctx);
            auto v
                = m_service.appendPatch(ctx.user().tenantId, documentKey(documentId),
                                        patchJson.toUtf8(), ctx.user().userId, ctx.connectionId());
            if (!v)
                throw std::runtime_error(v.error().message.toStdString());
            return *v;
        },
        anyOf({"Editor", "Admin"}));
    // One page: the patches after `version`, in order, up to PatchPageBytes of patch text
    // (at least one). The caller asks again from the last version it got, until a page is empty.
    addMethod("GetDocumentPatchesSince",
              [this](HubCallContext &ctx, const QString &documentId, qint64 version) {
                  requireTenant(ctx);
                  const QByteArray doc = documentKey(documentId);
                  QList<DocumentUpdateDto> out;
                  qsizetype bytes = 0;
                  for (;;) {
                      auto patches = m_service.storage().patchesSince(ctx.user().tenantId, doc,
                                                                      version, PatchBatch);
                      if (!patches)
                          throw std::runtime_error(patches.error().message.toStdString());
                      for (const DocumentPatch &p : std::as_const(*patches)) {
                          if (!out.isEmpty() && bytes + p.patchJson.size() > PatchPageBytes)
                              return out;
                          bytes += p.patchJson.size() + p.authorId.size();
                          out.append({p.version, QString::fromUtf8(p.patchJson),
                                      QString::fromUtf8(p.authorId)});
                          version = p.version;
                      }
                      if (patches->size() < PatchBatch)
                          return out;
                  }
              });
    addStreamMethod(
        "StreamAuditLog",
        [this](HubCallContext &ctx, const ServerStreamPtr &stream, const QString &from) {
            streamAuditLog(ctx, stream, from);
        },
        anyOf({"Admin"}));
    // Admin: ask one connection of the tenant about its client (a client result).
    addAsyncMethod(
        "QueryClient",
        [](HubCallContext &ctx, const HubReplyPtr &reply, const QString &connectionId) {
            requireTenant(ctx);
            const QByteArray tenant = ctx.user().tenantId;
            ctx.clients().invokeClient(
                connectionId.toUtf8(), "GetClientInfo", {},
                [reply](const ClientResult &r) {
                    reply->post([r](HubReply &rep) {
                        if (r.ok)
                            rep.resolve(r.value);
                        else
                            rep.reject(r.error);
                    });
                },
                [tenant](const HubConnectionContext &c) { return c.user().tenantId == tenant; });
        },
        anyOf({"Admin"}));
    // Editor/Admin: a client-to-server stream of patches for one document (bulk import);
    // returns the last version assigned.
    addUploadMethod(
        "UploadDocumentPatches", 1,
        [this](HubCallContext &ctx, const HubReplyPtr &reply, QList<UploadStreamPtr> streams,
               const QString &documentId) {
            requireTenant(ctx);
            requireBackplane(ctx);
            const QByteArray tenant = ctx.user().tenantId;
            const QByteArray doc = documentKey(documentId);
            const QByteArray author = ctx.user().userId;
            const QByteArray &connectionId = ctx.connectionId();
            auto last = std::make_shared<qint64>(0);
            UploadStreamPtr stream = streams.first();
            stream->onItem(
                [this, reply, tenant, doc, author, connectionId, last](const Value &item) {
                    if (!reply->isPending())
                        return;
                    if (!item.isString()) {
                        reply->reject(u"Every patch must be a JSON text (a string)."_s);
                        return;
                    }
                    auto v = m_service.appendPatch(tenant, doc, item.bytes(), author, connectionId);
                    if (!v) {
                        reply->reject(u"The patch could not be stored."_s);
                        return;
                    }
                    *last = *v;
                });
            stream->onEnd([reply, last](const std::optional<QString> &error) {
                if (error)
                    reply->reject(u"The upload failed: %1"_s.arg(*error));
                else
                    reply->resolve(Value(*last));
            });
        },
        anyOf({"Editor", "Admin"}));
    // One page of the caller's own notification history, newest first: the notifications
    // with a sequence below `beforeSequence` (the newest when it is 0 or less), at most `limit`
    // (1 to MaxNotificationPage; more is capped). The caller pages on from the last sequence
    // it got, until a page is shorter than asked.
    addMethod("GetNotifications", [this](HubCallContext &ctx, qint64 beforeSequence, int limit) {
        requireTenant(ctx);
        if (limit < 1)
            throw HubException(u"'limit' must be at least 1."_s);
        auto page = m_service.storage().notificationsBefore(ctx.user().tenantId, ctx.user().userId,
                                                            beforeSequence,
                                                            qMin(limit, MaxNotificationPage));
        if (!page)
            throw std::runtime_error(page.error().message.toStdString());
        QList<NotificationDto> out;
        out.reserve(page->size());
        for (const StoredNotification &n : std::as_const(*page))
            out.append({QString::fromUtf8(n.id), n.title, n.body, n.type, n.createdAt, n.sequence});
        return out;
    });
    addMethod("GetOnlineUsers", [this](HubCallContext &ctx) {
        requireTenant(ctx);
        return m_presence.online(ctx.user().tenantId);
    });
    addMethod(
        "BroadcastSystemAlert",
        [this](HubCallContext &ctx, const QString &message) {
            requireTenant(ctx);
            requireBackplane(ctx);
            // Audited first: an alert that could not be recorded is not sent.
            if (!m_service.audit(ctx.user().tenantId, ctx.user().userId, "BroadcastSystemAlert",
                                 message))
                throw HubException(u"The alert could not be recorded in the audit log."_s);
            m_service.broadcast(Groups::tenant(ctx.user().tenantId), "ReceiveSystemAlert",
                                {toValue(SystemAlertDto {u"info"_s, message})});
        },
        anyOf({"Admin"}));
}

void NotificationHub::streamAuditLog(HubCallContext &ctx, const ServerStreamPtr &stream,
                                     const QString &from)
{
    requireTenant(ctx);
    const QDateTime since = Value(from).toDateTime();
    if (!since.isValid())
        throw HubException(u"'from' must be an ISO 8601 date-time."_s);
    const QByteArray tenant = ctx.user().tenantId;
    auto lastId = std::make_shared<qint64>(0);
    // Subscribe first, then send the history: live events already in it are skipped by id.
    m_service.subscribeAudit(tenant, stream, lastId);
    NotificationService *service = &m_service;
    stream->setCancelHandler(
        [service, tenant, raw = stream.get()] { service->unsubscribeAudit(tenant, raw); });
    auto history = m_service.storage().auditSince(tenant, since, 10000);
    if (!history) {
        stream->fail(history.error().message);
        return;
    }
    for (const AuditEvent &e : std::as_const(*history)) {
        stream->write(toValue(toDto(e)));
        *lastId = qMax(*lastId, e.id);
    }
}

void NotificationHub::onConnected(HubCallContext &ctx)
{
    const Principal &user = ctx.user();
    requireTenant(ctx);
    // The per-user connection limit is HubServer's (ServerConfig::maxConnectionsPerUser): it
    // counts negotiated and started connections in one step with the check, so concurrent
    // connects cannot pass it together.
    HubConnectionContext &c = ctx.caller();
    ctx.clients().addToGroup(c.connectionId(), Groups::tenant(user.tenantId));
    ctx.clients().addToGroup(c.connectionId(), Groups::user(user.tenantId, user.userId));
    c.sendMessage(InvocationMessage {
        {},
        {},
        "ConnectionAcknowledged",
        {Value::fromUtf8(c.connectionId()), Value(QDateTime::currentDateTimeUtc())},
        {}});
    if (ctx.clients().backplane()) {
        // Live notifications reach this node once Redis confirms its subscription to the
        // user's group; what was stored before that and not replayed is sent from the store
        // then, before any live one (both come through the Redis thread, in order). The mark
        // is read before replay(): whatever is stored after it is either replayed or caught up.
        auto high = m_service.storage().lastNotificationSequence(user.tenantId, user.userId);
        c.items()[QString::fromLatin1(CatchUpKey)] = high ? *high : 0;
        replay(ctx);
        ctx.clients().whenGroupReady(c.connectionId(), Groups::user(user.tenantId, user.userId),
                                     [this](HubConnectionContext &conn) { catchUp(conn); });
    } else {
        replay(ctx);
    }
    const int live = m_presence.connect(user.tenantId, user.userId, user.name);
    c.items()[u"presence"_s] = true;
    if (live == 1)
        m_service.broadcast(Groups::tenant(user.tenantId), "UserJoined",
                            {Value::fromUtf8(user.userId), Value(user.name)});
}

void NotificationHub::replay(HubCallContext &ctx)
{
    const Principal &user = ctx.user();
    HubConnectionContext &c = ctx.caller();
    qint64 cursor = 0;
    Expected<QList<StoredNotification>> missed = QList<StoredNotification> {};
    bool ok = false;
    if (auto last = c.info().queryValue("lastSequence");
        last && (cursor = last->toLongLong(&ok), ok)) {
        auto stored = m_service.storage().lastNotificationSequence(user.tenantId, user.userId);
        if (!stored) {
            qCWarning(lcNotifications)
                << "replay failed for" << user.userId << stored.error().message;
            throw std::runtime_error("storage unavailable");
        }
        if (cursor > *stored) {
            // A cursor from the future (a restored backup, another server): live
            // notifications would all be skipped as already seen. Start from what is stored,
            // and say so, so the client can reset its own cursor.
            qCInfo(lcNotifications)
                << "tenant" << user.tenantId << "user" << user.userId << "lastSequence" << cursor
                << "is past the stored" << *stored << ": reset";
            cursor = *stored;
            c.sendMessage(InvocationMessage {{}, {}, "ReplayCursorReset", {Value(*stored)}, {}});
        }
        missed = m_service.storage().notificationsAfter(user.tenantId, user.userId, cursor,
                                                        m_options.maxReplay);
    } else if (auto seen = m_service.storage().lastSeen(user.tenantId, user.userId);
               seen && seen->has_value()) {
        missed = m_service.storage().notificationsSince(user.tenantId, user.userId, **seen,
                                                        m_options.maxReplay);
    }
    if (!missed) {
        qCWarning(lcNotifications) << "replay failed for" << user.userId << missed.error().message;
        throw std::runtime_error("storage unavailable");
    }
    Metrics::instance().add("heliograph_replayed_notifications_total", {}, double(missed->size()));
    sendFromStore(c, *missed, cursor);
    c.items()[QString::fromLatin1(NotificationService::CursorKey)] = cursor;
}

void NotificationHub::catchUp(HubConnectionContext &c)
{
    if (c.state() != HubConnectionContext::State::Connected)
        return;
    const Principal &user = c.user();
    QVariant &cursorItem = c.items()[QString::fromLatin1(NotificationService::CursorKey)];
    qint64 cursor = cursorItem.toLongLong();
    const qint64 from = qMax(cursor, c.items().value(QString::fromLatin1(CatchUpKey)).toLongLong());
    auto missed = m_service.storage().notificationsAfter(user.tenantId, user.userId, from,
                                                         m_options.maxReplay);
    if (!missed) {
        qCWarning(lcNotifications)
            << "catch-up failed for" << user.userId << missed.error().message;
        return;
    }
    sendFromStore(c, *missed, cursor);
    cursorItem = cursor;
}

void NotificationHub::onDisconnected(HubCallContext &ctx)
{
    const Principal &user = ctx.user();
    HubConnectionContext &c = ctx.caller();
    if (!c.items().value(u"presence"_s).toBool())
        return;
    if (auto saved = m_service.storage().setLastSeen(user.tenantId, user.userId,
                                                     QDateTime::currentDateTimeUtc());
        !saved)
        qCWarning(lcNotifications) << "tenant" << user.tenantId << "user" << user.userId
                                   << "last-seen not saved:" << saved.error().message;
    if (m_presence.disconnect(user.tenantId, user.userId) == 0)
        m_service.broadcast(Groups::tenant(user.tenantId), "UserLeft",
                            {Value::fromUtf8(user.userId)});
}

} // namespace Heliograph::Server
