// SPDX-License-Identifier: MIT
// The saved server profiles (server URL and username; never a password or a token), most
// recently used first, kept in QSettings under "profiles".
#pragma once

#include <QtCore/QAbstractListModel>
#include <QtCore/QUrl>
#include <QtQml/qqmlregistration.h>

namespace Heliograph::Desktop {

class ProfileModel : public QAbstractListModel {
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Roles { NameRole = Qt::UserRole + 1, UrlRole, UsernameRole };
    Q_ENUM(Roles)

    /// Loads the profiles from the application's QSettings.
    explicit ProfileModel(QObject *parent = nullptr);

    int count() const { return int(m_rows.size()); }
    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    /// Adds the profile, or moves an existing one (same URL and username) to the top; saved.
    Q_INVOKABLE void use(const QUrl &url, const QString &username);
    /// Removes a row; saved.
    Q_INVOKABLE void remove(int row);
    /// Every role of one row as a map ({} for a bad row).
    Q_INVOKABLE QVariantMap get(int row) const;

Q_SIGNALS:
    void countChanged();

private:
    struct Row {
        QUrl url;
        QString username;
    };
    void save() const;
    QList<Row> m_rows;
};

} // namespace Heliograph::Desktop
