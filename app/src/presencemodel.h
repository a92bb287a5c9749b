// SPDX-License-Identifier: MIT
// Who is online in the signed-in user's tenant: one row per user, sorted by display name
// (then id), with the number of live connections. Fed by the notification hub's
// GetOnlineUsers() (replace()) and its UserJoined / UserLeft invocations (join(), leave()).
#pragma once

#include <QtCore/QAbstractListModel>
#include <QtCore/QVariantList>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Desktop {

class PresenceModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("a Session owns it")
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    /// The connections of every user together.
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY countChanged)
public:
    enum Roles { UserIdRole = Qt::UserRole + 1, DisplayNameRole, ConnectionsRole, IsMeRole };
    Q_ENUM(Roles)

    explicit PresenceModel(QObject *parent = nullptr);

    int count() const { return int(m_rows.size()); }
    int connectionCount() const;
    /// The signed-in user (its row has IsMeRole true).
    void setMe(const QString &userId);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    /// The whole list, from GetOnlineUsers(): [{userId, displayName, connections}]. Rows are
    /// updated, inserted and removed, never reset.
    void replace(const QVariantList &users);
    /// A user came online (UserJoined); a known user keeps its count.
    void join(const QString &userId, const QString &displayName);
    /// A user's last connection closed (UserLeft).
    void leave(const QString &userId);
    /// Removes every row.
    void clear();

Q_SIGNALS:
    void countChanged();

private:
    struct Row {
        QString userId;
        QString displayName;
        int connections = 0;
    };
    qsizetype indexOf(const QString &userId) const;
    qsizetype insertPosition(const Row &row) const;
    void upsert(const Row &row);

    QList<Row> m_rows;
    QString m_me;
};

} // namespace Heliograph::Desktop
