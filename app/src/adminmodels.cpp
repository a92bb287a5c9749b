// SPDX-License-Identifier: MIT
#include "adminmodels.h"

#include <heliograph/protocol/value.h>

#include <algorithm>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

namespace {

QString keyOf(const RecordListModel::Record &r)
{
    return r.isEmpty() ? QString() : r.constFirst().toString();
}

bool keyLess(const RecordListModel::Record &a, const RecordListModel::Record &b)
{
    return keyOf(a) < keyOf(b);
}

// The snapshot's field of each Metric, in enum order.
constexpr QByteArrayView metricFields[] = {"connections", "onlineUsers", "messagesInPerSecond",
                                           "messagesOutPerSecond", "activeDocuments"};
// The short names QML uses, in enum order.
constexpr QStringView metricNames[]
    = {u"connections", u"onlineUsers", u"messagesIn", u"messagesOut", u"activeDocuments"};

} // namespace

// --- RecordListModel -----------------------------------------------------------------------

RecordListModel::RecordListModel(const QList<QByteArray> &roles, QObject *parent)
    : QAbstractListModel(parent)
    , m_roles(roles)
{ }

void RecordListModel::setRecords(QList<Record> records)
{
    std::stable_sort(records.begin(), records.end(), keyLess);
    const int before = count();
    // A merge of two sorted lists: what is only in the old one goes, what is only in the new
    // one comes, equal keys are compared value by value.
    qsizetype row = 0;
    qsizetype next = 0;
    while (next < records.size()) {
        if (row >= m_rows.size()) {
            const int last = int(row + (records.size() - next) - 1);
            beginInsertRows({}, int(row), last);
            for (; next < records.size(); ++next)
                m_rows.append(std::move(records[next]));
            endInsertRows();
            row = m_rows.size();
            break;
        }
        const QString oldKey = keyOf(m_rows.at(row));
        const QString newKey = keyOf(records.at(next));
        if (oldKey == newKey) {
            if (m_rows.at(row) != records.at(next)) {
                m_rows[row] = std::move(records[next]);
                Q_EMIT dataChanged(index(int(row)), index(int(row)));
            }
            ++row;
            ++next;
        } else if (oldKey < newKey) {
            beginRemoveRows({}, int(row), int(row));
            m_rows.removeAt(row);
            endRemoveRows();
        } else {
            beginInsertRows({}, int(row), int(row));
            m_rows.insert(row, std::move(records[next]));
            endInsertRows();
            ++row;
            ++next;
        }
    }
    if (row < m_rows.size()) {
        beginRemoveRows({}, int(row), int(m_rows.size()) - 1);
        m_rows.resize(row);
        endRemoveRows();
    }
    if (count() != before)
        Q_EMIT countChanged();
}

void RecordListModel::prepend(Record record, int limit)
{
    beginInsertRows({}, 0, 0);
    m_rows.prepend(std::move(record));
    endInsertRows();
    if (limit >= 0 && m_rows.size() > limit) {
        beginRemoveRows({}, limit, int(m_rows.size()) - 1);
        m_rows.resize(limit);
        endRemoveRows();
    }
    Q_EMIT countChanged();
}

void RecordListModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_rows.size()) - 1);
    m_rows.clear();
    endRemoveRows();
    Q_EMIT countChanged();
}

QVariantMap RecordListModel::get(int row) const
{
    QVariantMap out;
    if (row < 0 || row >= m_rows.size())
        return out;
    const Record &r = m_rows.at(row);
    for (qsizetype i = 0; i < m_roles.size(); ++i)
        out.insert(QString::fromLatin1(m_roles.at(i)), r.value(i));
    return out;
}

int RecordListModel::indexOfKey(const QString &key) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (keyOf(m_rows.at(i)) == key)
            return int(i);
    }
    return -1;
}

int RecordListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant RecordListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Record &r = m_rows.at(index.row());
    if (role == Qt::DisplayRole)
        return r.value(0);
    return r.value(role - Qt::UserRole - 1);
}

QHash<int, QByteArray> RecordListModel::roleNames() const
{
    QHash<int, QByteArray> names;
    for (qsizetype i = 0; i < m_roles.size(); ++i)
        names.insert(Qt::UserRole + 1 + int(i), m_roles.at(i));
    return names;
}

// --- MetricsHistory ------------------------------------------------------------------------

MetricsHistory::MetricsHistory(QObject *parent)
    : QObject(parent)
{ }

QDateTime MetricsHistory::first() const
{
    return m_points.isEmpty() ? QDateTime()
                              : QDateTime::fromMSecsSinceEpoch(m_points.constFirst().atMs).toUTC();
}

QDateTime MetricsHistory::last() const
{
    return m_points.isEmpty() ? QDateTime()
                              : QDateTime::fromMSecsSinceEpoch(m_points.constLast().atMs).toUTC();
}

std::optional<MetricsHistory::Point> MetricsHistory::parse(const Value &snapshot)
{
    const QDateTime at = snapshot["at"].toDateTime();
    if (!at.isValid() || !snapshot["tenants"].isArray())
        return std::nullopt;
    Point p;
    p.atMs = at.toMSecsSinceEpoch();
    for (const Value &t : snapshot["tenants"].array()) {
        Sample s;
        for (int m = 0; m < 5; ++m)
            s.values[m] = t[metricFields[m]].toDouble();
        p.tenants.insert(t["tenant"].toString(), s);
    }
    return p;
}

void MetricsHistory::replace(const Value &snapshots)
{
    m_points.clear();
    for (const Value &s : snapshots.array()) {
        std::optional<Point> p = parse(s);
        if (p && (m_points.isEmpty() || p->atMs > m_points.constLast().atMs))
            m_points.append(std::move(*p));
    }
    if (m_points.size() > Capacity)
        m_points.remove(0, m_points.size() - Capacity);
    Q_EMIT changed();
}

bool MetricsHistory::append(const Value &snapshot)
{
    std::optional<Point> p = parse(snapshot);
    if (!p || (!m_points.isEmpty() && p->atMs <= m_points.constLast().atMs))
        return false;
    m_points.append(std::move(*p));
    if (m_points.size() > Capacity)
        m_points.removeFirst();
    Q_EMIT changed();
    return true;
}

void MetricsHistory::clear()
{
    if (m_points.isEmpty())
        return;
    m_points.clear();
    Q_EMIT changed();
}

QList<QPointF> MetricsHistory::series(const QString &tenant, Metric metric) const
{
    QList<QPointF> out;
    out.reserve(m_points.size());
    for (const Point &p : m_points) {
        double v = 0;
        if (tenant.isEmpty()) {
            for (const Sample &s : p.tenants)
                v += s.values[metric];
        } else if (const auto it = p.tenants.constFind(tenant); it != p.tenants.cend()) {
            v = it->values[metric];
        }
        out.append(QPointF(double(p.atMs), v));
    }
    return out;
}

std::optional<MetricsHistory::Metric> MetricsHistory::metricFromName(QStringView name)
{
    for (int m = 0; m < 5; ++m) {
        if (name == metricNames[m])
            return Metric(m);
    }
    return std::nullopt;
}

} // namespace Heliograph::Desktop
