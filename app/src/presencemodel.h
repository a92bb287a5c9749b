// SPDX-License-Identifier: MIT
// Who is online in the signed-in user's tenant: one row per user, sorted by display name
// (then id), with the number of live connections. Fed by the notification hub given to
// setConnection(): GetOnlineUsers() (replace()) at every connect and reconnect and after a
// burst of UserJoined / UserLeft invocations (join(), leave()), which update the rows at once.
#pragma once

#include <heliograph/client/hubconnection.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QPointer>
#include <QtCore/QTimer>
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
    /// A GetOnlineUsers() call is under way.
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)
    /// Why the latest GetOnlineUsers() failed; empty otherwise.
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
public:
    enum Roles { UserIdRole = Qt::UserRole + 1, DisplayNameRole, ConnectionsRole, IsMeRole };
    Q_ENUM(Roles)

    explicit PresenceModel(QObject *parent = nullptr);

    int count() const { return int(m_rows.size()); }
    int connectionCount() const;
    /// The signed-in user (its row has IsMeRole true).
    void setMe(const QString &userId);
    /// Follows `connection` (nullptr: none; the rows stay until clear()). Not owned.
    void setConnection(HubConnection *connection);
    bool isLoading() const { return m_loading; }
    QString error() const { return m_error; }

    /// Asks the hub for the online users again (nothing happens unless it is Connected).
    Q_INVOKABLE void refresh();

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
    /// Removes every row, and forgets the latest error.
    void clear();

Q_SIGNALS:
    void countChanged();
    void loadingChanged();
    void errorChanged();

private:
    struct Row {
        QString userId;
        QString displayName;
        int connections = 0;
    };
    qsizetype indexOf(const QString &userId) const;
    qsizetype insertPosition(const Row &row) const;
    void upsert(const Row &row);
    void setLoading(bool loading);
    void setError(const QString &error);

    QList<Row> m_rows;
    QString m_me;
    QPointer<HubConnection> m_connection;
    QList<QMetaObject::Connection> m_connections; ///< to m_connection's signals
    QList<Subscription> m_handlers; ///< UserJoined, UserLeft on m_connection
    QTimer m_burstTimer; ///< one GetOnlineUsers() for a burst of joins and leaves
    quint64 m_generation = 0; ///< bumped by setConnection(): answers for an old one dropped
    bool m_loading = false;
    QString m_error;
};

} // namespace Heliograph::Desktop
