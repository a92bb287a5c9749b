// SPDX-License-Identifier: MIT
// SQLite backend. Qt's SQL connections belong to the thread that opened them, so each thread
// opens its own connection to the same file; SQLite serializes writers (BEGIN IMMEDIATE), WAL
// lets readers run beside them, synchronous=FULL makes a commit durable before we acknowledge.
#include "storage/storage.h"

#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

#include <QtCore/QDir>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QUuid>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlError>
#include <QtSql/QSqlQuery>

#include <limits>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcStorage, "heliograph.server.storage", QtInfoMsg)

namespace Heliograph::Server {

namespace {

ProtocolError storageError(const QString &what, const QSqlError &e)
{
    return ProtocolError {ProtocolErrorCode::InvalidData, what + u": "_s + e.text()};
}

constexpr const char *Schema[] = {
    "CREATE TABLE IF NOT EXISTS notifications (tenant BLOB NOT NULL, user BLOB NOT NULL, "
    "sequence INTEGER NOT NULL, id BLOB NOT NULL, title TEXT, body TEXT, type TEXT, "
    "created_ms INTEGER NOT NULL, PRIMARY KEY (tenant, user, sequence)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_ms)",
    "CREATE TABLE IF NOT EXISTS sequences (tenant BLOB NOT NULL, user BLOB NOT NULL, "
    "last INTEGER NOT NULL, PRIMARY KEY (tenant, user)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS last_seen (tenant BLOB NOT NULL, user BLOB NOT NULL, "
    "at_ms INTEGER NOT NULL, PRIMARY KEY (tenant, user)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS patches (tenant BLOB NOT NULL, document BLOB NOT NULL, "
    "version INTEGER NOT NULL, patch BLOB NOT NULL, author BLOB NOT NULL, at_ms INTEGER NOT NULL, "
    "PRIMARY KEY (tenant, document, version)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant BLOB NOT NULL, "
    "at_ms INTEGER NOT NULL, actor BLOB, action BLOB, details TEXT)",
    "CREATE INDEX IF NOT EXISTS audit_tenant ON audit (tenant, at_ms)",
    "CREATE TABLE IF NOT EXISTS users (username BLOB NOT NULL PRIMARY KEY, tenant BLOB NOT NULL, "
    "display_name TEXT NOT NULL, roles BLOB NOT NULL, password_hash BLOB NOT NULL, "
    "created_ms INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS refresh_tokens (token_hash BLOB NOT NULL PRIMARY KEY, "
    "username BLOB NOT NULL, family BLOB NOT NULL, expires_ms INTEGER NOT NULL, "
    "revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family)",
    "CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (username)",
};

/// Roles are stored as one comma-separated field (role names never hold commas).
QByteArray joinRoles(const QList<QByteArray> &roles)
{
    return roles.isEmpty() ? QByteArray() : QByteArrayList(roles).join(',');
}

QList<QByteArray> splitRoles(const QByteArray &field)
{
    return field.isEmpty() ? QList<QByteArray>() : field.split(',');
}

QDateTime fromMs(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

class SqliteStorage final : public Storage {
public:
    explicit SqliteStorage(QString path)
        : m_path(std::move(path))
        , m_prefix(QUuid::createUuid().toString())
    { }
    ~SqliteStorage() override
    {
        // The connections belong to the worker threads (gone by now): removing one closes it;
        // asking for it from this thread would only get a warning and an invalid handle.
        QMutexLocker lock(&m_mutex);
        for (const QString &name : std::as_const(m_connectionNames))
            QSqlDatabase::removeDatabase(name);
    }

    Expected<bool> open()
    {
        QSqlDatabase db = connection();
        if (!db.isOpen())
            return storageError(u"cannot open %1"_s.arg(m_path), db.lastError());
        QSqlQuery q(db);
        for (const char *stmt : Schema)
            if (!q.exec(QString::fromLatin1(stmt)))
                return storageError(u"cannot create the schema"_s, q.lastError());
        return true;
    }

    Expected<StoredNotification> appendNotification(const QByteArray &tenant,
                                                    const QByteArray &user, const QString &title,
                                                    const QString &body,
                                                    const QString &type) override
    {
        QSqlDatabase db = connection();
        QSqlQuery q(db);
        if (!q.exec(u"BEGIN IMMEDIATE"_s))
            return storageError(u"begin"_s, q.lastError());
        auto rollback = qScopeGuard([&] { QSqlQuery(db).exec(u"ROLLBACK"_s); });
        q.prepare(u"INSERT INTO sequences (tenant, user, last) VALUES (?, ?, 1) "
                  "ON CONFLICT (tenant, user) DO UPDATE SET last = last + 1 RETURNING last"_s);
        q.addBindValue(tenant);
        q.addBindValue(user);
        if (!q.exec() || !q.next())
            return storageError(u"next sequence"_s, q.lastError());
        StoredNotification n {Negotiate::newConnectionId(), title, body, type, fromMs(nowMs()),
                              q.value(0).toLongLong()};
        q.finish();
        q.prepare(u"INSERT INTO notifications (tenant, user, sequence, id, title, body, type, "
                  "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
        for (const QVariant &v : {QVariant(tenant), QVariant(user), QVariant(n.sequence),
                                  QVariant(n.id), QVariant(title), QVariant(body), QVariant(type),
                                  QVariant(n.createdAt.toMSecsSinceEpoch())})
            q.addBindValue(v);
        if (!q.exec())
            return storageError(u"insert notification"_s, q.lastError());
        if (!QSqlQuery(db).exec(u"COMMIT"_s))
            return storageError(u"commit"_s, db.lastError());
        rollback.dismiss();
        return n;
    }

    Expected<QList<StoredNotification>> notificationsAfter(const QByteArray &tenant,
                                                           const QByteArray &user, qint64 after,
                                                           int limit) override
    {
        return selectNotifications(u"sequence > ?"_s, QVariant(after), tenant, user, limit);
    }

    Expected<QList<StoredNotification>> notificationsBefore(const QByteArray &tenant,
                                                            const QByteArray &user, qint64 before,
                                                            int limit) override
    {
        return selectNotifications(
            u"sequence < ?"_s, QVariant(before <= 0 ? std::numeric_limits<qint64>::max() : before),
            tenant, user, limit, u"DESC"_s);
    }

    Expected<qint64> lastNotificationSequence(const QByteArray &tenant,
                                              const QByteArray &user) override
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT last FROM sequences WHERE tenant = ? AND user = ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(user);
        if (!q.exec())
            return storageError(u"last sequence"_s, q.lastError());
        return q.next() ? q.value(0).toLongLong() : qint64(0);
    }

    Expected<QList<StoredNotification>> notificationsSince(const QByteArray &tenant,
                                                           const QByteArray &user,
                                                           const QDateTime &since,
                                                           int limit) override
    {
        return selectNotifications(u"created_ms >= ?"_s, QVariant(since.toMSecsSinceEpoch()),
                                   tenant, user, limit);
    }

    Expected<bool> setLastSeen(const QByteArray &tenant, const QByteArray &user,
                               const QDateTime &at) override
    {
        QSqlQuery q(connection());
        q.prepare(u"INSERT INTO last_seen (tenant, user, at_ms) VALUES (?, ?, ?) "
                  "ON CONFLICT (tenant, user) DO UPDATE SET at_ms = excluded.at_ms"_s);
        q.addBindValue(tenant);
        q.addBindValue(user);
        q.addBindValue(at.toMSecsSinceEpoch());
        if (!q.exec())
            return storageError(u"last seen"_s, q.lastError());
        return true;
    }

    Expected<std::optional<QDateTime>> lastSeen(const QByteArray &tenant,
                                                const QByteArray &user) override
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT at_ms FROM last_seen WHERE tenant = ? AND user = ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(user);
        if (!q.exec())
            return storageError(u"last seen"_s, q.lastError());
        if (!q.next())
            return std::optional<QDateTime>();
        return std::optional<QDateTime>(fromMs(q.value(0).toLongLong()));
    }

    Expected<qint64> appendPatch(const QByteArray &tenant, const QByteArray &document,
                                 const QByteArray &patchJson, const QByteArray &author) override
    {
        QSqlDatabase db = connection();
        QSqlQuery q(db);
        if (!q.exec(u"BEGIN IMMEDIATE"_s))
            return storageError(u"begin"_s, q.lastError());
        auto rollback = qScopeGuard([&] { QSqlQuery(db).exec(u"ROLLBACK"_s); });
        q.prepare(u"INSERT INTO patches (tenant, document, version, patch, author, at_ms) "
                  "SELECT ?, ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM patches "
                  "WHERE tenant = ? AND document = ? RETURNING version"_s);
        for (const QVariant &v :
             {QVariant(tenant), QVariant(document), QVariant(patchJson), QVariant(author),
              QVariant(nowMs()), QVariant(tenant), QVariant(document)})
            q.addBindValue(v);
        if (!q.exec() || !q.next())
            return storageError(u"insert patch"_s, q.lastError());
        const qint64 version = q.value(0).toLongLong();
        q.finish();
        if (!QSqlQuery(db).exec(u"COMMIT"_s))
            return storageError(u"commit"_s, db.lastError());
        rollback.dismiss();
        return version;
    }

    Expected<qint64> documentVersion(const QByteArray &tenant, const QByteArray &document) override
    {
        QSqlQuery q(connection());
        q.prepare(
            u"SELECT COALESCE(MAX(version), 0) FROM patches WHERE tenant = ? AND document = ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(document);
        if (!q.exec() || !q.next())
            return storageError(u"document version"_s, q.lastError());
        return q.value(0).toLongLong();
    }

    Expected<QList<DocumentPatch>> patchesSince(const QByteArray &tenant,
                                                const QByteArray &document, qint64 version,
                                                int limit) override
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT version, patch, author, at_ms FROM patches WHERE tenant = ? AND "
                  "document = ? AND version > ? ORDER BY version LIMIT ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(document);
        q.addBindValue(version);
        q.addBindValue(limit);
        if (!q.exec())
            return storageError(u"patches"_s, q.lastError());
        QList<DocumentPatch> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toByteArray(), q.value(2).toByteArray(),
                        fromMs(q.value(3).toLongLong())});
        return out;
    }

    Expected<AuditEvent> appendAudit(const QByteArray &tenant, const QByteArray &actor,
                                     const QByteArray &action, const QString &details) override
    {
        QSqlQuery q(connection());
        const qint64 at = nowMs();
        q.prepare(
            u"INSERT INTO audit (tenant, at_ms, actor, action, details) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id"_s);
        for (const QVariant &v :
             {QVariant(tenant), QVariant(at), QVariant(actor), QVariant(action), QVariant(details)})
            q.addBindValue(v);
        if (!q.exec() || !q.next())
            return storageError(u"audit"_s, q.lastError());
        return AuditEvent {q.value(0).toLongLong(), fromMs(at), actor, action, details};
    }

    Expected<QList<AuditEvent>> auditSince(const QByteArray &tenant, const QDateTime &from,
                                           int limit) override
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT id, at_ms, actor, action, details FROM audit WHERE tenant = ? AND "
                  "at_ms >= ? ORDER BY id LIMIT ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(from.toMSecsSinceEpoch());
        q.addBindValue(limit);
        if (!q.exec())
            return storageError(u"audit"_s, q.lastError());
        QList<AuditEvent> out;
        while (q.next())
            out.append({q.value(0).toLongLong(), fromMs(q.value(1).toLongLong()),
                        q.value(2).toByteArray(), q.value(3).toByteArray(), q.value(4).toString()});
        return out;
    }

    Expected<bool> addUser(const UserRecord &u) override
    {
        QSqlQuery q(connection());
        q.prepare(u"INSERT INTO users (username, tenant, display_name, roles, password_hash, "
                  "created_ms, disabled) VALUES (?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (username) DO NOTHING"_s);
        for (const QVariant &v :
             {QVariant(u.username.toLower()), QVariant(u.tenant), QVariant(u.displayName),
              QVariant(joinRoles(u.roles)), QVariant(u.passwordHash),
              QVariant(u.createdAt.toMSecsSinceEpoch()), QVariant(u.disabled ? 1 : 0)})
            q.addBindValue(v);
        if (!q.exec())
            return storageError(u"add user"_s, q.lastError());
        return q.numRowsAffected() == 1;
    }

    Expected<bool> updateUser(const UserRecord &u) override
    {
        QSqlQuery q(connection());
        q.prepare(u"UPDATE users SET tenant = ?, display_name = ?, roles = ?, password_hash = ?, "
                  "disabled = ? WHERE username = ?"_s);
        for (const QVariant &v : {QVariant(u.tenant), QVariant(u.displayName),
                                  QVariant(joinRoles(u.roles)), QVariant(u.passwordHash),
                                  QVariant(u.disabled ? 1 : 0), QVariant(u.username.toLower())})
            q.addBindValue(v);
        if (!q.exec())
            return storageError(u"update user"_s, q.lastError());
        return q.numRowsAffected() == 1;
    }

    Expected<bool> removeUser(const QByteArray &username) override
    {
        QSqlDatabase db = connection();
        QSqlQuery q(db);
        if (!q.exec(u"BEGIN IMMEDIATE"_s))
            return storageError(u"begin"_s, q.lastError());
        auto rollback = qScopeGuard([&] { QSqlQuery(db).exec(u"ROLLBACK"_s); });
        q.prepare(u"DELETE FROM users WHERE username = ?"_s);
        q.addBindValue(username.toLower());
        if (!q.exec())
            return storageError(u"remove user"_s, q.lastError());
        const bool removed = q.numRowsAffected() == 1;
        q.prepare(u"DELETE FROM refresh_tokens WHERE username = ?"_s);
        q.addBindValue(username.toLower());
        if (!q.exec())
            return storageError(u"remove user"_s, q.lastError());
        if (!QSqlQuery(db).exec(u"COMMIT"_s))
            return storageError(u"commit"_s, db.lastError());
        rollback.dismiss();
        return removed;
    }

    Expected<std::optional<UserRecord>> findUser(const QByteArray &username) override
    {
        auto found = selectUsers(u" WHERE username = ?"_s, username.toLower());
        if (!found)
            return found.error();
        return found->isEmpty() ? std::optional<UserRecord>()
                                : std::optional<UserRecord>(found->first());
    }

    Expected<QList<UserRecord>> users() override { return selectUsers({}, {}); }

    Expected<bool> addRefreshToken(const RefreshTokenRecord &t) override
    {
        QSqlQuery q(connection());
        q.prepare(u"INSERT INTO refresh_tokens (token_hash, username, family, expires_ms, revoked) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING"_s);
        for (const QVariant &v :
             {QVariant(t.tokenHash), QVariant(t.username.toLower()), QVariant(t.familyId),
              QVariant(t.expiresAt.toMSecsSinceEpoch()), QVariant(t.revoked ? 1 : 0)})
            q.addBindValue(v);
        if (!q.exec())
            return storageError(u"add refresh token"_s, q.lastError());
        return q.numRowsAffected() == 1;
    }

    Expected<std::optional<RefreshTokenRecord>>
    findRefreshToken(const QByteArray &tokenHash) override
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT username, family, expires_ms, revoked FROM refresh_tokens "
                  "WHERE token_hash = ?"_s);
        q.addBindValue(tokenHash);
        if (!q.exec())
            return storageError(u"refresh token"_s, q.lastError());
        if (!q.next())
            return std::optional<RefreshTokenRecord>();
        return std::optional<RefreshTokenRecord>(
            RefreshTokenRecord {tokenHash, q.value(0).toByteArray(), q.value(1).toByteArray(),
                                fromMs(q.value(2).toLongLong()), q.value(3).toInt() != 0});
    }

    Expected<RefreshRotationResult> rotateRefreshToken(const QByteArray &oldHash,
                                                       const QByteArray &newHash,
                                                       const QDateTime &newExpiresAt,
                                                       const QDateTime &now) override
    {
        QSqlDatabase db = connection();
        QSqlQuery q(db);
        if (!q.exec(u"BEGIN IMMEDIATE"_s))
            return storageError(u"begin"_s, q.lastError());
        auto rollback = qScopeGuard([&] { QSqlQuery(db).exec(u"ROLLBACK"_s); });
        q.prepare(u"SELECT username, family, expires_ms, revoked FROM refresh_tokens "
                  "WHERE token_hash = ?"_s);
        q.addBindValue(oldHash);
        if (!q.exec())
            return storageError(u"refresh token"_s, q.lastError());
        if (!q.next())
            return RefreshRotationResult {};
        RefreshRotationResult r {RefreshRotation::Rotated, q.value(0).toByteArray(),
                                 q.value(1).toByteArray()};
        const qint64 expiresMs = q.value(2).toLongLong();
        const bool revoked = q.value(3).toInt() != 0;
        q.finish();
        if (revoked) {
            r.outcome = RefreshRotation::Reused;
            q.prepare(u"UPDATE refresh_tokens SET revoked = 1 WHERE family = ?"_s);
            q.addBindValue(r.familyId);
        } else if (expiresMs <= now.toMSecsSinceEpoch()) {
            r.outcome = RefreshRotation::Expired;
            return r; // the scope guard rolls the read-only transaction back
        } else {
            q.prepare(u"UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?"_s);
            q.addBindValue(oldHash);
            if (!q.exec())
                return storageError(u"rotate refresh token"_s, q.lastError());
            q.prepare(u"INSERT INTO refresh_tokens (token_hash, username, family, expires_ms, "
                      "revoked) VALUES (?, ?, ?, ?, 0)"_s);
            for (const QVariant &v : {QVariant(newHash), QVariant(r.username), QVariant(r.familyId),
                                      QVariant(newExpiresAt.toMSecsSinceEpoch())})
                q.addBindValue(v);
        }
        if (!q.exec())
            return storageError(u"rotate refresh token"_s, q.lastError());
        if (!QSqlQuery(db).exec(u"COMMIT"_s))
            return storageError(u"commit"_s, db.lastError());
        rollback.dismiss();
        return r;
    }

    Expected<qint64> revokeRefreshFamily(const QByteArray &familyId) override
    {
        return revokeWhere(u"family"_s, familyId);
    }

    Expected<qint64> revokeUserRefreshTokens(const QByteArray &username) override
    {
        return revokeWhere(u"username"_s, username.toLower());
    }

    Expected<qint64> prune(const RetentionPolicy &policy, const QDateTime &now) override
    {
        QSqlQuery q(connection());
        q.prepare(u"DELETE FROM refresh_tokens WHERE expires_ms < ?"_s);
        q.addBindValue(now.toMSecsSinceEpoch());
        if (!q.exec())
            return storageError(u"prune"_s, q.lastError());
        q.prepare(u"DELETE FROM notifications WHERE created_ms < ?"_s);
        q.addBindValue(now.addSecs(-policy.maxAgeSeconds).toMSecsSinceEpoch());
        if (!q.exec())
            return storageError(u"prune"_s, q.lastError());
        qint64 removed = q.numRowsAffected();
        q.prepare(
            u"DELETE FROM notifications WHERE (tenant, user, sequence) IN (SELECT tenant, "
            "user, sequence FROM (SELECT tenant, user, sequence, ROW_NUMBER() OVER (PARTITION "
            "BY tenant, user ORDER BY sequence DESC) AS rn FROM notifications) WHERE rn > ?)"_s);
        q.addBindValue(policy.maxPerUser);
        if (!q.exec())
            return storageError(u"prune"_s, q.lastError());
        removed += q.numRowsAffected();
        return removed;
    }

    bool isReady() override
    {
        QSqlQuery q(connection());
        return q.exec(u"SELECT 1"_s) && q.next();
    }

private:
    /// `column` is one of our own column names, never input.
    Expected<qint64> revokeWhere(const QString &column, const QByteArray &value)
    {
        QSqlQuery q(connection());
        q.prepare(u"UPDATE refresh_tokens SET revoked = 1 WHERE revoked = 0 AND "_s + column
                  + u" = ?"_s);
        q.addBindValue(value);
        if (!q.exec())
            return storageError(u"revoke refresh tokens"_s, q.lastError());
        return qint64(q.numRowsAffected());
    }

    Expected<QList<UserRecord>> selectUsers(const QString &condition, const QByteArray &bound)
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT username, tenant, display_name, roles, password_hash, created_ms, "
                  "disabled FROM users"_s
                  + condition + u" ORDER BY username"_s);
        if (!condition.isEmpty())
            q.addBindValue(bound);
        if (!q.exec())
            return storageError(u"users"_s, q.lastError());
        QList<UserRecord> out;
        while (q.next())
            out.append({q.value(0).toByteArray(), q.value(1).toByteArray(), q.value(2).toString(),
                        splitRoles(q.value(3).toByteArray()), q.value(4).toByteArray(),
                        fromMs(q.value(5).toLongLong()), q.value(6).toInt() != 0});
        return out;
    }

    Expected<QList<StoredNotification>>
    selectNotifications(const QString &condition, const QVariant &bound, const QByteArray &tenant,
                        const QByteArray &user, int limit, const QString &order = u"ASC"_s)
    {
        QSqlQuery q(connection());
        q.prepare(u"SELECT id, title, body, type, created_ms, sequence FROM notifications WHERE "
                  "tenant = ? AND user = ? AND "_s
                  + condition + u" ORDER BY sequence "_s + order + u" LIMIT ?"_s);
        q.addBindValue(tenant);
        q.addBindValue(user);
        q.addBindValue(bound);
        q.addBindValue(limit);
        if (!q.exec())
            return storageError(u"notifications"_s, q.lastError());
        QList<StoredNotification> out;
        while (q.next())
            out.append({q.value(0).toByteArray(), q.value(1).toString(), q.value(2).toString(),
                        q.value(3).toString(), fromMs(q.value(4).toLongLong()),
                        q.value(5).toLongLong()});
        return out;
    }

    /// This thread's connection to the database file.
    QSqlDatabase connection()
    {
        const QString name = m_prefix + QString::number(quintptr(QThread::currentThreadId()));
        QSqlDatabase db = QSqlDatabase::database(name, false);
        if (db.isValid())
            return db;
        db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(m_path);
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=10000"_s);
        if (db.open()) {
            QSqlQuery q(db);
            q.exec(u"PRAGMA journal_mode=WAL"_s);
            q.exec(u"PRAGMA synchronous=FULL"_s);
            q.exec(u"PRAGMA foreign_keys=ON"_s);
        } else {
            qCWarning(lcStorage) << "cannot open" << m_path << db.lastError().text();
        }
        QMutexLocker lock(&m_mutex);
        m_connectionNames.append(name);
        return db;
    }

    QString m_path;
    QString m_prefix;
    QMutex m_mutex;
    QStringList m_connectionNames;
};

} // namespace

Expected<std::unique_ptr<Storage>> createSqliteStorage(const QString &dataDir)
{
    if (!QDir().mkpath(dataDir))
        return ProtocolError {ProtocolErrorCode::InvalidData, u"cannot create %1"_s.arg(dataDir)};
    auto s = std::make_unique<SqliteStorage>(QDir(dataDir).filePath(u"heliograph.db"_s));
    auto opened = s->open();
    if (!opened)
        return opened.error();
    return std::unique_ptr<Storage>(std::move(s));
}

} // namespace Heliograph::Server
