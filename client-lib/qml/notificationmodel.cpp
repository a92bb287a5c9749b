// SPDX-License-Identifier: MIT
#include "notificationmodel.h"

#include "logging_p.h"

#include <QtCore/QDateTime>

namespace Heliograph::Qml {
namespace {

QString text(const Value &v)
{
    if (v.isString())
        return v.toString();
    if (v.isInteger())
        return QString::number(v.toInteger());
    if (v.isBinary()) // an id serialized from bytes (MessagePack bin)
        return QString::fromUtf8(v.bytes());
    return {};
}

} // namespace

NotificationModel::NotificationModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

NotificationModel::~NotificationModel()
{
    m_subscription.disconnect();
}

void NotificationModel::setConnection(HubConnection *connection)
{
    if (connection == m_connection)
        return;
    disconnect(m_destroyedConnection);
    m_connection = connection;
    if (connection) {
        m_destroyedConnection = connect(connection, &QObject::destroyed, this, [this] {
            m_subscription = {};
            Q_EMIT connectionChanged();
        });
    }
    subscribe();
    Q_EMIT connectionChanged();
}

void NotificationModel::setMethod(const QString &method)
{
    if (method == m_method)
        return;
    m_method = method;
    subscribe();
    Q_EMIT methodChanged();
}

void NotificationModel::setMaximumCount(int maximum)
{
    maximum = qMax(maximum, 0);
    if (maximum == m_maximumCount)
        return;
    m_maximumCount = maximum;
    trim();
    Q_EMIT maximumCountChanged();
}

void NotificationModel::subscribe()
{
    m_subscription.disconnect();
    m_subscription = {};
    if (!m_connection || m_method.isEmpty())
        return;
    m_subscription = m_connection->on(m_method.toUtf8(), this, [this](const ValueList &args) {
        if (!add(args.value(0)) && !args.value(0).isMap())
            qCWarning(lcQml) << "NotificationModel: an invocation of" << m_method
                             << "without a map as its first argument was ignored";
    });
}

int NotificationModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant NotificationModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole:
        return r.title;
    case IdRole:
        return r.id;
    case BodyRole:
        return r.body;
    case TypeRole:
        return r.type;
    case CreatedAtRole:
        return r.createdAt.isValid() ? QVariant(r.createdAt) : QVariant();
    case SequenceRole:
        return r.sequence;
    case ReadRole:
        return r.read;
    case ReplayedRole:
        return r.replayed;
    case PayloadRole:
        return r.payload.toVariant();
    default:
        return {};
    }
}

bool NotificationModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (role != ReadRole
        || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    Row &r = m_rows[index.row()];
    const bool read = value.toBool();
    if (read != r.read) {
        r.read = read;
        Q_EMIT dataChanged(index, index, {ReadRole});
        setUnread(m_unread + (read ? -1 : 1));
    }
    return true;
}

Qt::ItemFlags NotificationModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable | Qt::ItemNeverHasChildren;
}

QHash<int, QByteArray> NotificationModel::roleNames() const
{
    return {
        {IdRole, "id"},     {TitleRole, "title"},         {BodyRole, "body"},
        {TypeRole, "type"}, {CreatedAtRole, "createdAt"}, {SequenceRole, "sequence"},
        {ReadRole, "read"}, {ReplayedRole, "replayed"},   {PayloadRole, "payload"},
    };
}

bool NotificationModel::add(const QVariantMap &notification)
{
    return add(Value::fromVariant(notification));
}

bool NotificationModel::add(const Value &n)
{
    if (!n.isMap())
        return false;
    // Field names ignore case: a server may write .NET's PascalCase (`CreatedAt`).
    auto field = [&n](QByteArrayView name) -> const Value & {
        const Value *v = n.find(name, Qt::CaseInsensitive);
        return v ? *v : Value::null();
    };
    Row row;
    row.id = text(field("id"));
    row.title = field("title").toString();
    row.body = field("body").toString();
    row.type = field("type").toString();
    row.createdAt = field("createdAt").toDateTime();
    row.sequence = field("sequence").toInteger();
    row.replayed = field("replayed").toBool();
    row.payload = n;
    if (!row.id.isEmpty() && m_ids.contains(row.id))
        return false;

    // Newest first: above the first row with a lower sequence; without a sequence: the top.
    qsizetype position = 0;
    if (row.sequence > 0) {
        position = m_rows.size();
        for (qsizetype i = 0; i < m_rows.size(); ++i) {
            if (m_rows.at(i).sequence > 0 && m_rows.at(i).sequence < row.sequence) {
                position = i;
                break;
            }
        }
    }
    if (m_maximumCount > 0 && position >= m_maximumCount)
        return false; // older than every row kept

    beginInsertRows({}, int(position), int(position));
    if (!row.id.isEmpty())
        m_ids.insert(row.id);
    m_rows.insert(position, std::move(row));
    endInsertRows();
    trim();
    Q_EMIT countChanged();
    setUnread(m_unread + 1);
    return true;
}

void NotificationModel::trim()
{
    if (m_maximumCount <= 0 || m_rows.size() <= m_maximumCount)
        return;
    const int first = m_maximumCount;
    const int last = int(m_rows.size()) - 1;
    beginRemoveRows({}, first, last);
    int unread = m_unread;
    for (int i = last; i >= first; --i) {
        const Row &r = m_rows.at(i);
        m_ids.remove(r.id);
        if (!r.read)
            --unread;
    }
    m_rows.resize(first);
    endRemoveRows();
    Q_EMIT countChanged();
    setUnread(unread);
}

void NotificationModel::setUnread(int unread)
{
    if (unread == m_unread)
        return;
    m_unread = unread;
    Q_EMIT unreadCountChanged();
}

QVariantMap NotificationModel::get(int row) const
{
    QVariantMap out;
    if (row < 0 || row >= m_rows.size())
        return out;
    const QModelIndex i = index(row);
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        out.insert(QString::fromLatin1(it.value()), data(i, it.key()));
    return out;
}

void NotificationModel::markRead(int row)
{
    if (row >= 0 && row < m_rows.size())
        setData(index(row), true, ReadRole);
}

void NotificationModel::markAllRead()
{
    if (m_unread == 0)
        return;
    for (Row &r : m_rows)
        r.read = true;
    Q_EMIT dataChanged(index(0), index(int(m_rows.size()) - 1), {ReadRole});
    setUnread(0);
}

void NotificationModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginResetModel();
    m_rows.clear();
    m_ids.clear();
    endResetModel();
    Q_EMIT countChanged();
    setUnread(0);
}

} // namespace Heliograph::Qml
