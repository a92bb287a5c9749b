// SPDX-License-Identifier: MIT
// Durable state of the notification hub, behind a small interface: an in-memory backend for
// tests and ephemeral runs, SQLite (WAL) by default. Every method is thread-safe; every write
// is durable when the call returns (what is acknowledged is never lost).
#pragma once

#include <heliograph/client/expected.h>

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

#include <memory>
#include <optional>

namespace Heliograph::Server {

struct StoredNotification {
    QByteArray id; ///< 22-char random id
    QString title;
    QString body;
    QString type;
    QDateTime createdAt; ///< UTC, millisecond precision
    qint64 sequence = 0; ///< per (tenant, user), strictly increasing from 1
    friend bool operator==(const StoredNotification &, const StoredNotification &) = default;
};

struct DocumentPatch {
    qint64 version = 0; ///< per (tenant, document), 1, 2, 3, ...
    QByteArray patchJson;
    QByteArray authorId;
    QDateTime at;
    friend bool operator==(const DocumentPatch &, const DocumentPatch &) = default;
};

struct AuditEvent {
    qint64 id = 0; ///< global, increasing
    QDateTime at;
    QByteArray actor;
    QByteArray action;
    QString details;
    friend bool operator==(const AuditEvent &, const AuditEvent &) = default;
};

struct RetentionPolicy {
    qint64 maxAgeSeconds = 24 * 3600; ///< notifications older than this are pruned
    int maxPerUser = 1000; ///< newest N kept per user
};

class Storage {
public:
    virtual ~Storage() = default;

    /// Stores a notification with the next sequence of (tenant, user); durable on return.
    virtual Expected<StoredNotification>
    appendNotification(const QByteArray &tenant, const QByteArray &user, const QString &title,
                       const QString &body, const QString &type)
        = 0;
    /// Stored notifications with sequence > `after`, oldest first, at most `limit`.
    virtual Expected<QList<StoredNotification>>
    notificationsAfter(const QByteArray &tenant, const QByteArray &user, qint64 after, int limit)
        = 0;
    /// Stored notifications created at or after `since` (fallback without a cursor).
    virtual Expected<QList<StoredNotification>>
    notificationsSince(const QByteArray &tenant, const QByteArray &user, const QDateTime &since,
                       int limit)
        = 0;
    virtual Expected<bool> setLastSeen(const QByteArray &tenant, const QByteArray &user,
                                       const QDateTime &at)
        = 0;
    virtual Expected<std::optional<QDateTime>> lastSeen(const QByteArray &tenant,
                                                        const QByteArray &user)
        = 0;

    /// Appends a patch with the next version of (tenant, document), atomically.
    virtual Expected<qint64> appendPatch(const QByteArray &tenant, const QByteArray &document,
                                         const QByteArray &patchJson, const QByteArray &author)
        = 0;
    virtual Expected<qint64> documentVersion(const QByteArray &tenant, const QByteArray &document)
        = 0;
    virtual Expected<QList<DocumentPatch>>
    patchesSince(const QByteArray &tenant, const QByteArray &document, qint64 version, int limit)
        = 0;

    virtual Expected<AuditEvent> appendAudit(const QByteArray &tenant, const QByteArray &actor,
                                             const QByteArray &action, const QString &details)
        = 0;
    virtual Expected<QList<AuditEvent>> auditSince(const QByteArray &tenant, const QDateTime &from,
                                                   int limit)
        = 0;

    /// Applies the retention policy; returns how many notifications were removed.
    virtual Expected<qint64> prune(const RetentionPolicy &policy, const QDateTime &now) = 0;
    /// Storage usable (for /ready).
    virtual bool isReady() = 0;
};

std::unique_ptr<Storage> createMemoryStorage();
/// Opens (creating if needed) `heliograph.db` in `dataDir`, WAL, synchronous FULL.
Expected<std::unique_ptr<Storage>> createSqliteStorage(const QString &dataDir);

} // namespace Heliograph::Server
