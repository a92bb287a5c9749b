// SPDX-License-Identifier: MIT
#include "notificationfilter.h"

namespace Heliograph::Desktop {

NotificationFilterModel::NotificationFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(true);
    const auto changed = [this] { Q_EMIT countChanged(); };
    connect(this, &QAbstractItemModel::rowsInserted, this, changed);
    connect(this, &QAbstractItemModel::rowsRemoved, this, changed);
    connect(this, &QAbstractItemModel::modelReset, this, changed);
    connect(this, &QAbstractItemModel::layoutChanged, this, changed);
    connect(this, &QAbstractItemModel::dataChanged, this, changed);
}

void NotificationFilterModel::setSourceModel(QAbstractItemModel *source)
{
    if (QAbstractItemModel *old = sourceModel())
        disconnect(old, nullptr, this, nullptr);
    QSortFilterProxyModel::setSourceModel(source);
    m_types.clear();
    if (source) {
        connect(source, &QAbstractItemModel::rowsInserted, this,
                [this](const QModelIndex &, int first, int last) { collectTypes(first, last); });
        // Types of rows that are gone go too.
        const auto recollect = [this] {
            m_types.clear();
            collectTypes(0, sourceModel()->rowCount() - 1);
            Q_EMIT typesChanged();
        };
        connect(source, &QAbstractItemModel::modelReset, this, recollect);
        connect(source, &QAbstractItemModel::rowsRemoved, this, recollect);
        // Read flags change without rows moving: the unread count follows.
        connect(source, &QAbstractItemModel::dataChanged, this, [this] { Q_EMIT countChanged(); });
        collectTypes(0, source->rowCount() - 1);
    }
    Q_EMIT typesChanged();
    Q_EMIT countChanged();
}

int NotificationFilterModel::role(const char *name) const
{
    return sourceModel() ? sourceModel()->roleNames().key(name, -1) : -1;
}

void NotificationFilterModel::collectTypes(int first, int last)
{
    const int typeRole = role("type");
    bool added = false;
    for (int r = first; r <= last && typeRole >= 0; ++r) {
        const QString type = sourceModel()->index(r, 0).data(typeRole).toString();
        if (!type.isEmpty() && !m_types.contains(type)) {
            m_types.append(type);
            added = true;
        }
    }
    if (added) {
        m_types.sort();
        Q_EMIT typesChanged();
    }
}

void NotificationFilterModel::setTypeFilter(const QString &type)
{
    if (type == m_type)
        return;
    m_type = type;
    invalidateRowsFilter();
    Q_EMIT typeFilterChanged();
    Q_EMIT countChanged();
}

void NotificationFilterModel::setUnreadOnly(bool on)
{
    if (on == m_unreadOnly)
        return;
    m_unreadOnly = on;
    invalidateRowsFilter();
    Q_EMIT unreadOnlyChanged();
    Q_EMIT countChanged();
}

bool NotificationFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex i = sourceModel()->index(sourceRow, 0, sourceParent);
    if (!m_type.isEmpty() && i.data(role("type")).toString() != m_type)
        return false;
    if (m_unreadOnly && i.data(role("read")).toBool())
        return false;
    return true;
}

int NotificationFilterModel::unreadCount() const
{
    const int readRole = role("read");
    int n = 0;
    for (int r = 0; sourceModel() && r < sourceModel()->rowCount(); ++r)
        n += sourceModel()->index(r, 0).data(readRole).toBool() ? 0 : 1;
    return n;
}

int NotificationFilterModel::replayedCount() const
{
    const int replayedRole = role("replayed");
    int n = 0;
    for (int r = 0; sourceModel() && r < sourceModel()->rowCount(); ++r)
        n += sourceModel()->index(r, 0).data(replayedRole).toBool() ? 1 : 0;
    return n;
}

void NotificationFilterModel::markRead(int row)
{
    const QModelIndex source = mapToSource(index(row, 0));
    if (source.isValid())
        sourceModel()->setData(source, true, role("read"));
}

QDateTime NotificationFilterModel::createdAtOf(int row) const
{
    return index(row, 0).data(role("createdAt")).toDateTime();
}

void NotificationFilterModel::markUnread(int row)
{
    const QModelIndex source = mapToSource(index(row, 0));
    if (source.isValid())
        sourceModel()->setData(source, false, role("read"));
}

void NotificationFilterModel::markAllRead()
{
    if (!sourceModel())
        return;
    QMetaObject::invokeMethod(sourceModel(), "markAllRead");
}

} // namespace Heliograph::Desktop
