// SPDX-License-Identifier: MIT
#include "profilemodel.h"

#include <QtCore/QSettings>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

namespace {
constexpr int MaxProfiles = 20;
}

ProfileModel::ProfileModel(QObject *parent)
    : QAbstractListModel(parent)
{
    QSettings settings;
    const int n = settings.beginReadArray(u"profiles"_s);
    for (int i = 0; i < n && i < MaxProfiles; ++i) {
        settings.setArrayIndex(i);
        Row row {settings.value(u"url"_s).toUrl(), settings.value(u"username"_s).toString()};
        if (row.url.isValid() && !row.username.isEmpty())
            m_rows.append(row);
    }
    settings.endArray();
}

int ProfileModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant ProfileModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return u"%1 @ %2"_s.arg(r.username, r.url.toDisplayString(QUrl::RemoveUserInfo));
    case UrlRole:
        return r.url;
    case UsernameRole:
        return r.username;
    default:
        return {};
    }
}

QHash<int, QByteArray> ProfileModel::roleNames() const
{
    return {{NameRole, "name"}, {UrlRole, "url"}, {UsernameRole, "username"}};
}

void ProfileModel::use(const QUrl &url, const QString &username)
{
    if (!url.isValid() || username.isEmpty())
        return;
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).url == url && m_rows.at(i).username == username) {
            if (i != 0) {
                beginMoveRows({}, int(i), int(i), {}, 0);
                m_rows.move(i, 0);
                endMoveRows();
            }
            save();
            return;
        }
    }
    beginInsertRows({}, 0, 0);
    m_rows.prepend({url, username});
    endInsertRows();
    if (m_rows.size() > MaxProfiles) {
        beginRemoveRows({}, MaxProfiles, int(m_rows.size()) - 1);
        m_rows.resize(MaxProfiles);
        endRemoveRows();
    }
    save();
    Q_EMIT countChanged();
}

void ProfileModel::remove(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
    save();
    Q_EMIT countChanged();
}

QVariantMap ProfileModel::get(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return {};
    return {{u"name"_s, data(index(row), NameRole)},
            {u"url"_s, m_rows.at(row).url},
            {u"username"_s, m_rows.at(row).username}};
}

void ProfileModel::save() const
{
    QSettings settings;
    settings.beginWriteArray(u"profiles"_s, int(m_rows.size()));
    for (int i = 0; i < m_rows.size(); ++i) {
        settings.setArrayIndex(i);
        settings.setValue(u"url"_s, m_rows.at(i).url);
        settings.setValue(u"username"_s, m_rows.at(i).username);
    }
    settings.endArray();
}

} // namespace Heliograph::Desktop
