// SPDX-License-Identifier: MIT
// The notifications view's model: Heliograph.Client's NotificationModel (newest first)
// filtered by type and, optionally, to unread ones. It also knows every type seen so far (for
// the filter's choices) and how many rows were replayed after an outage.
#pragma once

#include <QtCore/QDateTime>
#include <QtCore/QSortFilterProxyModel>
#include <QtCore/QStringList>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Desktop {

class NotificationFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("a Session owns it")
    /// Only rows of this type; empty: every type.
    Q_PROPERTY(QString typeFilter READ typeFilter WRITE setTypeFilter NOTIFY typeFilterChanged)
    /// Only unread rows.
    Q_PROPERTY(bool unreadOnly READ unreadOnly WRITE setUnreadOnly NOTIFY unreadOnlyChanged)
    /// Every type seen in the source, sorted.
    Q_PROPERTY(QStringList types READ types NOTIFY typesChanged)
    /// Rows shown.
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    /// Unread rows in the source (every type).
    Q_PROPERTY(int unreadCount READ unreadCount NOTIFY countChanged)
    /// Rows in the source marked replayed (delivered by the replay after an outage).
    Q_PROPERTY(int replayedCount READ replayedCount NOTIFY countChanged)
public:
    explicit NotificationFilterModel(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *source) override;

    QString typeFilter() const { return m_type; }
    void setTypeFilter(const QString &type);
    bool unreadOnly() const { return m_unreadOnly; }
    void setUnreadOnly(bool on);
    QStringList types() const { return m_types; }
    int count() const { return rowCount(); }
    int unreadCount() const;
    int replayedCount() const;

    /// Marks the row shown at `row` read.
    Q_INVOKABLE void markRead(int row);
    /// When the row shown at `row` was created (invalid for a bad row): the views compare
    /// neighbours for their day separators.
    Q_INVOKABLE QDateTime createdAtOf(int row) const;
    /// Marks the row shown at `row` unread again.
    Q_INVOKABLE void markUnread(int row);
    /// Marks every row of the source read.
    Q_INVOKABLE void markAllRead();

Q_SIGNALS:
    void typeFilterChanged();
    void unreadOnlyChanged();
    void typesChanged();
    void countChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    int role(const char *name) const;
    void collectTypes(int first, int last);

    QString m_type;
    bool m_unreadOnly = false;
    QStringList m_types;
};

} // namespace Heliograph::Desktop
