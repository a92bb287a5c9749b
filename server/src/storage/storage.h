// SPDX-License-Identifier: MIT
// Durable state of the notification hub, behind a small interface: an in-memory backend for
// tests and ephemeral runs, SQLite (WAL) by default. Every method is thread-safe; every write
// is durable when the call returns (what is acknowledged is never lost).
#pragma once

#include <heliograph/protocol/expected.h>

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

/// A user who signs in with a password (POST /auth/login, `heliograph-server user`).
struct UserRecord {
    QByteArray username; ///< unique, compared case-insensitively; stored in lower case
    QByteArray tenant;
    QString displayName;
    QList<QByteArray> roles;
    QByteArray passwordHash; ///< Argon2id PHC string
    QDateTime createdAt; ///< UTC, millisecond precision
    bool disabled = false;
    friend bool operator==(const UserRecord &, const UserRecord &) = default;
};

/// A refresh token, known to storage only by its SHA-256.
struct RefreshTokenRecord {
    QByteArray tokenHash; ///< SHA-256 of the token as sent
    QByteArray username; ///< lower case
    QByteArray familyId; ///< shared by a token and every token that replaced it
    QDateTime expiresAt;
    bool revoked = false;
    friend bool operator==(const RefreshTokenRecord &, const RefreshTokenRecord &) = default;
};

/// What rotateRefreshToken() found.
enum class RefreshRotation : quint8 {
    Rotated, ///< the old token was valid: it is revoked now and the new one stored
    Unknown, ///< no such token
    Expired, ///< the token has expired (nothing changed)
    Reused, ///< the token was already revoked: the whole family is revoked now (theft)
};

struct RefreshRotationResult {
    RefreshRotation outcome = RefreshRotation::Unknown;
    QByteArray username; ///< the token's user (all outcomes but Unknown)
    QByteArray familyId;
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
    /// Stored notifications with sequence < `before` (every one when `before` <= 0), newest
    /// first, at most `limit`: one page of the user's history.
    virtual Expected<QList<StoredNotification>>
    notificationsBefore(const QByteArray &tenant, const QByteArray &user, qint64 before, int limit)
        = 0;
    /// The last sequence assigned to (tenant, user), pruned notifications included; 0 if none.
    virtual Expected<qint64> lastNotificationSequence(const QByteArray &tenant,
                                                      const QByteArray &user)
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

    /// Adds a user; false (and nothing changed) if the username exists in any letter case.
    virtual Expected<bool> addUser(const UserRecord &user) = 0;
    /// Replaces display name, tenant, roles, password hash and disabled flag; false if there is
    /// no such user.
    virtual Expected<bool> updateUser(const UserRecord &user) = 0;
    /// Removes a user and its refresh tokens; false if there is no such user.
    virtual Expected<bool> removeUser(const QByteArray &username) = 0;
    virtual Expected<std::optional<UserRecord>> findUser(const QByteArray &username) = 0;
    /// Every user, by username.
    virtual Expected<QList<UserRecord>> users() = 0;

    virtual Expected<bool> addRefreshToken(const RefreshTokenRecord &token) = 0;
    virtual Expected<std::optional<RefreshTokenRecord>>
    findRefreshToken(const QByteArray &tokenHash) = 0;
    /// Atomically: if `oldHash` is a valid token (known, not revoked, expiresAt > now), revoke
    /// it and store `newHash` in the same family, expiring at `newExpiresAt`. A revoked one
    /// revokes its whole family instead.
    virtual Expected<RefreshRotationResult>
    rotateRefreshToken(const QByteArray &oldHash, const QByteArray &newHash,
                       const QDateTime &newExpiresAt, const QDateTime &now)
        = 0;
    /// Revokes every token of the family (sign-out); returns how many were still valid.
    virtual Expected<qint64> revokeRefreshFamily(const QByteArray &familyId) = 0;
    /// Revokes every token of the user (new password, disabled account).
    virtual Expected<qint64> revokeUserRefreshTokens(const QByteArray &username) = 0;

    /// Applies the retention policy (and drops refresh tokens that expired before `now`);
    /// returns how many notifications were removed.
    virtual Expected<qint64> prune(const RetentionPolicy &policy, const QDateTime &now) = 0;
    /// Storage usable (for /ready).
    virtual bool isReady() = 0;
};

std::unique_ptr<Storage> createMemoryStorage();
/// Opens (creating if needed) `heliograph.db` in `dataDir`, WAL, synchronous FULL.
Expected<std::unique_ptr<Storage>> createSqliteStorage(const QString &dataDir);

} // namespace Heliograph::Server
