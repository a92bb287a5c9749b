// SPDX-License-Identifier: MIT
// NotificationModel: the notifications a hub pushes, as a list model for QML views.
//
//   NotificationModel { id: inbox; connection: hub.connection }  // method: "ReceiveNotification"
//   ListView { model: inbox; delegate: Text { text: model.title + (model.read ? "" : " *") } }
//
// Each invocation of `method` adds a row from its first argument, a map such as
// {id, title, body, type, createdAt, sequence[, replayed]} (heliograph-server's notification
// hub; names matched ignoring case). Rows are newest first (by sequence; rows without one go to the
// top), a row whose id is already present is dropped (a replay after a reconnect), and at most
// maximumCount rows are kept (the oldest go). Anything else in the map is kept in `payload`.
//
// It listens on a Heliograph::HubConnection (C++); in QML, that is the `connection` property
// of a HubConnection item.
#pragma once

#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Qml {

class NotificationModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    /// The connection to listen on (in QML: a HubConnection's `connection`); null: none. Not
    /// owned.
    Q_PROPERTY(Heliograph::HubConnection *connection READ connection WRITE setConnection NOTIFY
                   connectionChanged)
    /// The hub method that delivers a notification. Default "ReceiveNotification".
    Q_PROPERTY(QString method READ method WRITE setMethod NOTIFY methodChanged)
    /// At most this many rows; older ones are removed. Default 500; 0: no limit.
    Q_PROPERTY(int maximumCount READ maximumCount WRITE setMaximumCount NOTIFY maximumCountChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(int unreadCount READ unreadCount NOTIFY unreadCountChanged)

public:
    enum Roles {
        IdRole = Qt::UserRole + 1,
        TitleRole,
        BodyRole,
        TypeRole,
        CreatedAtRole, ///< a date-time (JSON's ISO 8601 text and MessagePack timestamps)
        SequenceRole, ///< qint64; 0 when absent
        ReadRole, ///< settable (setData) as well as through markRead()
        ReplayedRole, ///< the map's "replayed" field; false when absent
        PayloadRole, ///< the whole map
    };
    Q_ENUM(Roles)

    explicit NotificationModel(QObject *parent = nullptr);
    ~NotificationModel() override;

    HubConnection *connection() const { return m_connection; }
    void setConnection(HubConnection *connection);
    QString method() const { return m_method; }
    void setMethod(const QString &method);
    int maximumCount() const { return m_maximumCount; }
    void setMaximumCount(int maximum);
    int count() const { return int(m_rows.size()); }
    int unreadCount() const { return m_unread; }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QHash<int, QByteArray> roleNames() const override;

    /// Adds a notification as if `method` had delivered it (for notifications that come
    /// another way, e.g. a REST history). Returns false if it was dropped (a duplicate id,
    /// not a map, or older than the maximumCount newest).
    Q_INVOKABLE bool add(const QVariantMap &notification);
    bool add(const Value &notification);
    /// Every role of one row as a map (an empty map for a bad row).
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE void markRead(int row);
    Q_INVOKABLE void markAllRead();
    /// Removes every row (and forgets their ids).
    Q_INVOKABLE void clear();

Q_SIGNALS:
    void connectionChanged();
    void methodChanged();
    void maximumCountChanged();
    void countChanged();
    void unreadCountChanged();

private:
    struct Row {
        QString id;
        QString title;
        QString body;
        QString type;
        QDateTime createdAt;
        qint64 sequence = 0;
        bool read = false;
        bool replayed = false;
        Value payload;
    };

    void subscribe();
    void trim();
    void setUnread(int unread);

    QPointer<HubConnection> m_connection;
    QMetaObject::Connection m_destroyedConnection;
    Subscription m_subscription;
    QString m_method = QStringLiteral("ReceiveNotification");
    int m_maximumCount = 500;
    QList<Row> m_rows;
    QSet<QString> m_ids;
    int m_unread = 0;
};

} // namespace Heliograph::Qml
