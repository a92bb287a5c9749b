// SPDX-License-Identifier: MIT
#include "storage/storage.h"

#include <heliograph/client/negotiate.h>

#include <QtCore/QHash>
#include <QtCore/QMutex>

namespace Heliograph::Server {

namespace {

QByteArray key(const QByteArray &a, const QByteArray &b)
{
    return a + '\0' + b;
}

QDateTime nowUtc()
{
    return QDateTime::currentDateTimeUtc();
}

class MemoryStorage final : public Storage {
public:
    Expected<StoredNotification> appendNotification(const QByteArray &tenant,
                                                    const QByteArray &user, const QString &title,
                                                    const QString &body,
                                                    const QString &type) override
    {
        QMutexLocker lock(&m_mutex);
        auto &box = m_notifications[key(tenant, user)];
        StoredNotification n {Negotiate::newConnectionId(),       title, body, type, nowUtc(),
                              ++m_nextSequence[key(tenant, user)]};
        box.append(n);
        return n;
    }

    Expected<QList<StoredNotification>> notificationsAfter(const QByteArray &tenant,
                                                           const QByteArray &user, qint64 after,
                                                           int limit) override
    {
        QMutexLocker lock(&m_mutex);
        QList<StoredNotification> out;
        for (const auto &n : std::as_const(m_notifications[key(tenant, user)]))
            if (n.sequence > after && out.size() < limit)
                out.append(n);
        return out;
    }

    Expected<QList<StoredNotification>> notificationsSince(const QByteArray &tenant,
                                                           const QByteArray &user,
                                                           const QDateTime &since,
                                                           int limit) override
    {
        QMutexLocker lock(&m_mutex);
        QList<StoredNotification> out;
        for (const auto &n : std::as_const(m_notifications[key(tenant, user)]))
            if (n.createdAt >= since && out.size() < limit)
                out.append(n);
        return out;
    }

    Expected<bool> setLastSeen(const QByteArray &tenant, const QByteArray &user,
                               const QDateTime &at) override
    {
        QMutexLocker lock(&m_mutex);
        m_lastSeen.insert(key(tenant, user), at);
        return true;
    }

    Expected<std::optional<QDateTime>> lastSeen(const QByteArray &tenant,
                                                const QByteArray &user) override
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_lastSeen.constFind(key(tenant, user));
        return it == m_lastSeen.cend() ? std::optional<QDateTime>() : std::optional<QDateTime>(*it);
    }

    Expected<qint64> appendPatch(const QByteArray &tenant, const QByteArray &document,
                                 const QByteArray &patchJson, const QByteArray &author) override
    {
        QMutexLocker lock(&m_mutex);
        auto &patches = m_patches[key(tenant, document)];
        const qint64 version = patches.size() + 1;
        patches.append({version, patchJson, author, nowUtc()});
        return version;
    }

    Expected<qint64> documentVersion(const QByteArray &tenant, const QByteArray &document) override
    {
        QMutexLocker lock(&m_mutex);
        return qint64(m_patches.value(key(tenant, document)).size());
    }

    Expected<QList<DocumentPatch>> patchesSince(const QByteArray &tenant,
                                                const QByteArray &document, qint64 version,
                                                int limit) override
    {
        QMutexLocker lock(&m_mutex);
        QList<DocumentPatch> out;
        for (const auto &p : std::as_const(m_patches[key(tenant, document)]))
            if (p.version > version && out.size() < limit)
                out.append(p);
        return out;
    }

    Expected<AuditEvent> appendAudit(const QByteArray &tenant, const QByteArray &actor,
                                     const QByteArray &action, const QString &details) override
    {
        QMutexLocker lock(&m_mutex);
        AuditEvent e {++m_nextAudit, nowUtc(), actor, action, details};
        m_audit[tenant].append(e);
        return e;
    }

    Expected<QList<AuditEvent>> auditSince(const QByteArray &tenant, const QDateTime &from,
                                           int limit) override
    {
        QMutexLocker lock(&m_mutex);
        QList<AuditEvent> out;
        for (const auto &e : std::as_const(m_audit[tenant]))
            if (e.at >= from && out.size() < limit)
                out.append(e);
        return out;
    }

    Expected<qint64> prune(const RetentionPolicy &policy, const QDateTime &now) override
    {
        QMutexLocker lock(&m_mutex);
        qint64 removed = 0;
        const QDateTime cutoff = now.addSecs(-policy.maxAgeSeconds);
        for (auto &box : m_notifications) {
            const qsizetype before = box.size();
            box.removeIf([&](const StoredNotification &n) { return n.createdAt < cutoff; });
            if (box.size() > policy.maxPerUser)
                box.remove(0, box.size() - policy.maxPerUser);
            removed += before - box.size();
        }
        return removed;
    }

    bool isReady() override { return true; }

private:
    QMutex m_mutex;
    QHash<QByteArray, QList<StoredNotification>> m_notifications;
    QHash<QByteArray, qint64> m_nextSequence; ///< survives pruning: sequences never repeat
    QHash<QByteArray, QDateTime> m_lastSeen;
    QHash<QByteArray, QList<DocumentPatch>> m_patches;
    QHash<QByteArray, QList<AuditEvent>> m_audit;
    qint64 m_nextAudit = 0;
};

} // namespace

std::unique_ptr<Storage> createMemoryStorage()
{
    return std::make_unique<MemoryStorage>();
}

} // namespace Heliograph::Server
