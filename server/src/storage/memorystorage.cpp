// SPDX-License-Identifier: MIT
#include "storage/storage.h"

#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

#include <QtCore/QHash>
#include <QtCore/QMap>
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

    Expected<QList<StoredNotification>> notificationsBefore(const QByteArray &tenant,
                                                            const QByteArray &user, qint64 before,
                                                            int limit) override
    {
        QMutexLocker lock(&m_mutex);
        QList<StoredNotification> out;
        const QList<StoredNotification> &box = m_notifications[key(tenant, user)];
        for (auto it = box.crbegin(); it != box.crend() && out.size() < limit; ++it)
            if (before <= 0 || it->sequence < before)
                out.append(*it);
        return out;
    }

    Expected<qint64> lastNotificationSequence(const QByteArray &tenant,
                                              const QByteArray &user) override
    {
        QMutexLocker lock(&m_mutex);
        return m_nextSequence.value(key(tenant, user));
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

    Expected<bool> addUser(const UserRecord &user) override
    {
        QMutexLocker lock(&m_mutex);
        const QByteArray name = user.username.toLower();
        if (m_users.contains(name))
            return false;
        UserRecord u = user;
        u.username = name;
        m_users.insert(name, u);
        return true;
    }

    Expected<bool> updateUser(const UserRecord &user) override
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_users.find(user.username.toLower());
        if (it == m_users.end())
            return false;
        const QByteArray name = it->username;
        const QDateTime created = it->createdAt;
        *it = user;
        it->username = name;
        it->createdAt = created;
        return true;
    }

    Expected<bool> removeUser(const QByteArray &username) override
    {
        QMutexLocker lock(&m_mutex);
        const QByteArray name = username.toLower();
        if (!m_users.remove(name))
            return false;
        m_refresh.removeIf([&](RefreshMap::iterator it) { return it.value().username == name; });
        return true;
    }

    Expected<std::optional<UserRecord>> findUser(const QByteArray &username) override
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_users.constFind(username.toLower());
        return it == m_users.cend() ? std::optional<UserRecord>() : std::optional<UserRecord>(*it);
    }

    Expected<QList<UserRecord>> users() override
    {
        QMutexLocker lock(&m_mutex);
        return m_users.values(); // QMap: ordered by username
    }

    Expected<bool> addRefreshToken(const RefreshTokenRecord &token) override
    {
        QMutexLocker lock(&m_mutex);
        if (m_refresh.contains(token.tokenHash))
            return false;
        RefreshTokenRecord t = token;
        t.username = t.username.toLower();
        m_refresh.insert(t.tokenHash, t);
        return true;
    }

    Expected<std::optional<RefreshTokenRecord>>
    findRefreshToken(const QByteArray &tokenHash) override
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_refresh.constFind(tokenHash);
        return it == m_refresh.cend() ? std::optional<RefreshTokenRecord>()
                                      : std::optional<RefreshTokenRecord>(*it);
    }

    Expected<RefreshRotationResult> rotateRefreshToken(const QByteArray &oldHash,
                                                       const QByteArray &newHash,
                                                       const QDateTime &newExpiresAt,
                                                       const QDateTime &now) override
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_refresh.find(oldHash);
        if (it == m_refresh.end())
            return RefreshRotationResult {};
        RefreshRotationResult r {RefreshRotation::Rotated, it->username, it->familyId};
        if (it->revoked) {
            revokeFamilyLocked(it->familyId);
            r.outcome = RefreshRotation::Reused;
        } else if (it->expiresAt <= now) {
            r.outcome = RefreshRotation::Expired;
        } else {
            it->revoked = true;
            m_refresh.insert(newHash, {newHash, r.username, r.familyId, newExpiresAt, false});
        }
        return r;
    }

    Expected<qint64> revokeRefreshFamily(const QByteArray &familyId) override
    {
        QMutexLocker lock(&m_mutex);
        return revokeFamilyLocked(familyId);
    }

    Expected<qint64> revokeUserRefreshTokens(const QByteArray &username) override
    {
        QMutexLocker lock(&m_mutex);
        const QByteArray name = username.toLower();
        qint64 n = 0;
        for (auto &t : m_refresh)
            if (t.username == name && !t.revoked) {
                t.revoked = true;
                ++n;
            }
        return n;
    }

    Expected<qint64> prune(const RetentionPolicy &policy, const QDateTime &now) override
    {
        QMutexLocker lock(&m_mutex);
        m_refresh.removeIf([&](RefreshMap::iterator it) { return it.value().expiresAt < now; });
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
    qint64 revokeFamilyLocked(const QByteArray &familyId)
    {
        qint64 n = 0;
        for (auto &t : m_refresh)
            if (t.familyId == familyId && !t.revoked) {
                t.revoked = true;
                ++n;
            }
        return n;
    }

    QMutex m_mutex;
    QMap<QByteArray, UserRecord> m_users;
    using RefreshMap = QHash<QByteArray, RefreshTokenRecord>;
    RefreshMap m_refresh;
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
