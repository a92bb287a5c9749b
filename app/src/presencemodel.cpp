// SPDX-License-Identifier: MIT
#include "presencemodel.h"

#include <QtCore/QSet>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;
namespace {

bool lessThan(const QString &nameA, const QString &idA, const QString &nameB, const QString &idB)
{
    const int c = QString::localeAwareCompare(nameA, nameB);
    return c != 0 ? c < 0 : idA < idB;
}

} // namespace

PresenceModel::PresenceModel(QObject *parent)
    : QAbstractListModel(parent)
{
    // Joins and leaves come in bursts: one GetOnlineUsers() for a burst keeps the counts right.
    m_burstTimer.setSingleShot(true);
    m_burstTimer.setInterval(300);
    connect(&m_burstTimer, &QTimer::timeout, this, &PresenceModel::refresh);
}

void PresenceModel::setConnection(HubConnection *connection)
{
    if (connection == m_connection)
        return;
    for (const QMetaObject::Connection &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    for (Subscription &handler : m_handlers)
        handler.disconnect();
    m_handlers.clear();
    ++m_generation;
    m_burstTimer.stop();
    setLoading(false);
    m_connection = connection;
    if (!connection)
        return;
    m_connections = {
        connect(connection, &HubConnection::connected, this, &PresenceModel::refresh),
        connect(connection, &HubConnection::reconnected, this, &PresenceModel::refresh),
    };
    m_handlers = {
        connection->on("UserJoined", this,
                       [this](const ValueList &args) {
                           join(args.value(0).toString(), args.value(1).toString());
                           m_burstTimer.start();
                       }),
        connection->on("UserLeft", this,
                       [this](const ValueList &args) {
                           leave(args.value(0).toString());
                           m_burstTimer.start();
                       }),
    };
    refresh();
}

void PresenceModel::refresh()
{
    if (!m_connection || m_connection->state() != HubConnection::State::Connected)
        return;
    setLoading(true);
    const quint64 generation = m_generation;
    m_connection->invoke(
        "GetOnlineUsers", {}, this, [this, generation](const HubResult<Value> &result) {
            if (generation != m_generation)
                return;
            if (result) {
                setError({});
                replace(result.value().toVariant().toList());
            } else {
                setError(u"Could not load who is online: %1"_s.arg(result.error().message));
            }
            setLoading(false);
        });
}

void PresenceModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged();
}

void PresenceModel::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    Q_EMIT errorChanged();
}

int PresenceModel::connectionCount() const
{
    int n = 0;
    for (const Row &r : m_rows)
        n += r.connections;
    return n;
}

void PresenceModel::setMe(const QString &userId)
{
    if (userId == m_me)
        return;
    m_me = userId;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0), index(int(m_rows.size()) - 1), {IsMeRole});
}

int PresenceModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant PresenceModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case DisplayNameRole:
        return r.displayName;
    case UserIdRole:
        return r.userId;
    case ConnectionsRole:
        return r.connections;
    case IsMeRole:
        return r.userId == m_me;
    default:
        return {};
    }
}

QHash<int, QByteArray> PresenceModel::roleNames() const
{
    return {{UserIdRole, "userId"},
            {DisplayNameRole, "displayName"},
            {ConnectionsRole, "connections"},
            {IsMeRole, "isMe"}};
}

qsizetype PresenceModel::indexOf(const QString &userId) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).userId == userId)
            return i;
    }
    return -1;
}

qsizetype PresenceModel::insertPosition(const Row &row) const
{
    qsizetype i = 0;
    while (i < m_rows.size()
           && lessThan(m_rows.at(i).displayName, m_rows.at(i).userId, row.displayName, row.userId))
        ++i;
    return i;
}

void PresenceModel::upsert(const Row &row)
{
    const qsizetype at = indexOf(row.userId);
    if (at >= 0 && m_rows.at(at).displayName == row.displayName) {
        if (m_rows.at(at).connections != row.connections) {
            m_rows[at].connections = row.connections;
            Q_EMIT dataChanged(index(int(at)), index(int(at)), {ConnectionsRole});
        }
        return;
    }
    if (at >= 0) { // renamed: it may move
        beginRemoveRows({}, int(at), int(at));
        m_rows.removeAt(at);
        endRemoveRows();
    }
    const qsizetype pos = insertPosition(row);
    beginInsertRows({}, int(pos), int(pos));
    m_rows.insert(pos, row);
    endInsertRows();
}

void PresenceModel::replace(const QVariantList &users)
{
    QSet<QString> seen;
    for (const QVariant &u : users) {
        const QVariantMap m = u.toMap();
        Row row {m.value(u"userId"_s).toString(), m.value(u"displayName"_s).toString(),
                 qMax(1, m.value(u"connections"_s).toInt())};
        if (row.userId.isEmpty() || seen.contains(row.userId))
            continue;
        if (row.displayName.isEmpty())
            row.displayName = row.userId;
        seen.insert(row.userId);
        upsert(row);
    }
    for (qsizetype i = m_rows.size() - 1; i >= 0; --i) {
        if (!seen.contains(m_rows.at(i).userId)) {
            beginRemoveRows({}, int(i), int(i));
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    Q_EMIT countChanged();
}

void PresenceModel::join(const QString &userId, const QString &displayName)
{
    if (userId.isEmpty())
        return;
    const qsizetype at = indexOf(userId);
    upsert({userId, displayName.isEmpty() ? userId : displayName,
            at >= 0 ? m_rows.at(at).connections : 1});
    Q_EMIT countChanged();
}

void PresenceModel::leave(const QString &userId)
{
    const qsizetype at = indexOf(userId);
    if (at < 0)
        return;
    beginRemoveRows({}, int(at), int(at));
    m_rows.removeAt(at);
    endRemoveRows();
    Q_EMIT countChanged();
}

void PresenceModel::clear()
{
    setError({});
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
    Q_EMIT countChanged();
}

} // namespace Heliograph::Desktop
