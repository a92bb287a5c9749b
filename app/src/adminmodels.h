// SPDX-License-Identifier: MIT
// The admin console's data: RecordListModel (one list model for every table the console
// shows: tenants, connections, groups, events, the audit log) and MetricsHistory (the last
// 15 minutes of MetricsSnapshots, behind the charts).
#pragma once

#include <QtCore/QAbstractListModel>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QPointF>
#include <QtCore/QVariantList>
#include <QtQml/qqmlregistration.h>

#include <optional>

namespace Heliograph {
inline namespace Protocol {
class Value;
} // namespace Protocol
} // namespace Heliograph

namespace Heliograph::Desktop {

/// Rows of values with named roles (the first role is the row's key). Keyed tables are
/// updated with setRecords(): rows are updated in place, inserted and removed, never reset,
/// so views keep their scroll position and selection. Logs use prepend() with a limit.
class RecordListModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("an AdminConsole owns it")
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    /// One value per role, in the order of the role names given to the constructor.
    using Record = QVariantList;

    /// `roles`: the role names QML sees; roles[0] is the key, compared as text.
    explicit RecordListModel(const QList<QByteArray> &roles, QObject *parent = nullptr);

    int count() const { return int(m_rows.size()); }
    const QList<Record> &records() const { return m_rows; }

    /// Makes the rows `records`, sorted by key (the caller's order does not matter). Records
    /// with the same key as a row replace it (dataChanged only when a value differs).
    void setRecords(QList<Record> records);
    /// Inserts `record` as the first row and drops rows beyond `limit` from the end.
    void prepend(Record record, int limit);
    void clear();

    /// The row's values by role name (for QML); empty out of range.
    Q_INVOKABLE QVariantMap get(int row) const;
    /// The row of `key`; -1 when absent.
    Q_INVOKABLE int indexOfKey(const QString &key) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    void countChanged();

private:
    QList<QByteArray> m_roles;
    QList<Record> m_rows;
};

/// MetricsSnapshots of the admin hub ({at, tenants: [...], health}), one per second, at most
/// 15 minutes of them, and the series the charts draw from them.
class MetricsHistory : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("an AdminConsole owns it")
    Q_PROPERTY(int count READ count NOTIFY changed)
    Q_PROPERTY(QDateTime first READ first NOTIFY changed)
    Q_PROPERTY(QDateTime last READ last NOTIFY changed)
public:
    enum Metric { Connections, OnlineUsers, MessagesIn, MessagesOut, ActiveDocuments };
    Q_ENUM(Metric)
    /// How many snapshots are kept: 15 minutes at one a second.
    static constexpr int Capacity = 900;

    explicit MetricsHistory(QObject *parent = nullptr);

    int count() const { return int(m_points.size()); }
    QDateTime first() const;
    QDateTime last() const;

    /// GetHistory()'s answer: an array of snapshots, oldest first. Replaces everything.
    void replace(const Value &snapshots);
    /// One snapshot of StreamMetrics(). One not newer than the last one kept is ignored (the
    /// stream starts with the newest snapshot, which GetHistory() may already have given).
    /// False when it was ignored or is not a snapshot.
    bool append(const Value &snapshot);
    void clear();

    /// (milliseconds since the epoch, value) of one metric of `tenant`, oldest first; an empty
    /// tenant sums every tenant. A second in which the tenant was idle counts as 0.
    QList<QPointF> series(const QString &tenant, Metric metric) const;
    /// The metric's name in a snapshot ("connections", "messagesInPerSecond", ...) to the enum.
    static std::optional<Metric> metricFromName(QStringView name);

Q_SIGNALS:
    void changed();

private:
    struct Sample {
        double values[5] = {};
    };
    struct Point {
        qint64 atMs = 0;
        QHash<QString, Sample> tenants;
    };
    static std::optional<Point> parse(const Value &snapshot);

    QList<Point> m_points;
};

} // namespace Heliograph::Desktop
