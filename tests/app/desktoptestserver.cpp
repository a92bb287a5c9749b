// SPDX-License-Identifier: MIT
#include "desktoptestserver.h"

#include "desktoptestsupport.h"

#include <QtNetwork/QTcpSocket>

using namespace Qt::StringLiterals;

namespace {
quint16 serverPort = 0;
} // namespace

void DesktopTestServer::setPort(quint16 port)
{
    serverPort = port;
}

QString DesktopTestServer::url() const
{
    return u"http://127.0.0.1:%1"_s.arg(serverPort);
}

QString DesktopTestServer::silentUrl()
{
    if (!m_silent.isListening()) {
        if (!m_silent.listen(QHostAddress::LocalHost))
            qFatal("the silent port could not listen");
        connect(&m_silent, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_silent.nextPendingConnection())
                socket->setParent(this); // kept open, never read or answered
        });
    }
    return u"http://127.0.0.1:%1"_s.arg(m_silent.serverPort());
}

int DesktopTestServer::port() const
{
    return serverPort;
}

QString DesktopTestServer::token(const QString &user, const QString &tenant,
                                 const QStringList &roles) const
{
    QList<QByteArray> r;
    for (const QString &role : roles)
        r.append(role.toUtf8());
    return Heliograph::Testing::token(user.toUtf8(), tenant.toUtf8(), r);
}

QString DesktopTestServer::namedToken(const QString &user, const QString &tenant,
                                      const QString &name, const QStringList &roles) const
{
    auto signer = Heliograph::Server::JwtSigner::withSecret(Heliograph::Testing::JwtSecret);
    Heliograph::Server::TokenRequest request;
    request.subject = user.toUtf8();
    request.tenantId = tenant.toUtf8();
    request.name = name;
    for (const QString &role : roles)
        request.roles.append(role.toUtf8());
    auto t = signer->sign(request);
    return t ? QString::fromUtf8(*t) : QString();
}

bool DesktopTestServer::push(const QString &tenant, const QString &user, const QString &title,
                             const QString &type) const
{
    return Heliograph::Testing::pushNotification(serverPort, tenant.toUtf8(), user.toUtf8(), title,
                                                 type);
}
