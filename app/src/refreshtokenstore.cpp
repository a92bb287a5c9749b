// SPDX-License-Identifier: MIT
#include "refreshtokenstore.h"

#include <QtCore/QLoggingCategory>
#include <qt6keychain/keychain.h>

namespace Heliograph::Desktop {
using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcKeychain, "heliograph.desktop.keychain")

namespace {

RefreshTokenStore::Status statusOf(QKeychain::Error error)
{
    switch (error) {
    case QKeychain::NoError:
        return RefreshTokenStore::Status::Ok;
    case QKeychain::EntryNotFound:
        return RefreshTokenStore::Status::NotFound;
    default:
        return RefreshTokenStore::Status::Unavailable;
    }
}

} // namespace

RefreshTokenStore::RefreshTokenStore(QObject *parent)
    : QObject(parent)
    , m_service(u"Heliograph Desktop"_s)
{ }

QString RefreshTokenStore::keyFor(const QString &serverUrl, const QString &username)
{
    return u"%1 %2"_s.arg(username, serverUrl);
}

// The jobs have no parent: QtKeychain's libsecret backend keeps a raw pointer to a running job
// and calls it back when the D-Bus answer comes, so a job deleted with its store would be used
// after free. A job deletes itself once finished (autoDelete); the callbacks are connected
// with the store as context, so they are dropped when the store is gone.
void RefreshTokenStore::read(const QString &key, ReadCallback done)
{
    auto *job = new QKeychain::ReadPasswordJob(m_service);
    job->setKey(key);
    job->setInsecureFallback(false);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        auto *read = static_cast<QKeychain::ReadPasswordJob *>(j);
        const Status status = statusOf(j->error());
        if (status == Status::Unavailable)
            qCWarning(lcKeychain) << "keychain read failed:" << j->errorString();
        done(status, status == Status::Ok ? read->textData() : QString(), j->errorString());
    });
    job->start();
}

void RefreshTokenStore::write(const QString &key, const QString &token, WriteCallback done)
{
    auto *job = new QKeychain::WritePasswordJob(m_service);
    job->setKey(key);
    job->setInsecureFallback(false);
    job->setTextData(token);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job *j) {
        const Status status = statusOf(j->error());
        if (status != Status::Ok)
            qCWarning(lcKeychain) << "keychain write failed:" << j->errorString();
        done(status, j->errorString());
    });
    job->start();
}

void RefreshTokenStore::remove(const QString &key)
{
    auto *job = new QKeychain::DeletePasswordJob(m_service);
    job->setKey(key);
    job->setInsecureFallback(false);
    connect(job, &QKeychain::Job::finished, this, [](QKeychain::Job *j) {
        if (j->error() != QKeychain::NoError && j->error() != QKeychain::EntryNotFound)
            qCInfo(lcKeychain) << "keychain delete failed:" << j->errorString();
    });
    job->start();
}

} // namespace Heliograph::Desktop
