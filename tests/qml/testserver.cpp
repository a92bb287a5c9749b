// SPDX-License-Identifier: MIT
#include "testserver.h"

#include "clienttestsupport.h"

using namespace Qt::StringLiterals;

namespace {
quint16 serverPort = 0;
} // namespace

void TestServer::setPort(quint16 port)
{
    serverPort = port;
}

QString TestServer::baseUrl() const
{
    return u"http://127.0.0.1:%1"_s.arg(serverPort);
}

QString TestServer::benchUrl() const
{
    return baseUrl() + u"/hubs/bench"_s;
}

QString TestServer::notificationsUrl() const
{
    return baseUrl() + u"/hubs/notifications"_s;
}

QString TestServer::token(const QString &user, const QString &tenant,
                          const QStringList &roles) const
{
    QList<QByteArray> r;
    for (const QString &role : roles)
        r.append(role.toUtf8());
    return Heliograph::Testing::token(user.toUtf8(), tenant.toUtf8(), r);
}
