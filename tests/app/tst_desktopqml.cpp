// SPDX-License-Identifier: MIT
// Qt Quick Test runner for the desktop app's QML (one CTest entry per tst_*.qml). The setup
// starts heliograph-server in-process with sign-in and the demo accounts, and gives QML the
// singleton DesktopTestServer (import HeliographDesktopTest): its URL, tokens, and the push
// API.
#include "desktoptestsupport.h"

#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQml/qqml.h>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(Heliograph_DesktopPlugin)

using namespace Qt::StringLiterals;

namespace {

quint16 serverPort = 0;

class DesktopTestServer : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString url READ url CONSTANT)
    /// A loopback port that accepts connections and never answers (a server that hangs).
    Q_PROPERTY(QString silentUrl READ silentUrl CONSTANT)
public:
    QString url() const { return u"http://127.0.0.1:%1"_s.arg(serverPort); }
    QString silentUrl()
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
    /// The port of the real server.
    Q_INVOKABLE int port() const { return serverPort; }
    Q_INVOKABLE QString token(const QString &user, const QString &tenant,
                              const QStringList &roles = {}) const
    {
        QList<QByteArray> r;
        for (const QString &role : roles)
            r.append(role.toUtf8());
        return Heliograph::Testing::token(user.toUtf8(), tenant.toUtf8(), r);
    }
    /// A token with a display name (the `name` claim), which the admin console shows.
    Q_INVOKABLE QString namedToken(const QString &user, const QString &tenant, const QString &name,
                                   const QStringList &roles = {}) const
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
    /// Pushes a notification to (tenant, user); true once the server stored it.
    Q_INVOKABLE bool push(const QString &tenant, const QString &user, const QString &title,
                          const QString &type = u"info"_s) const
    {
        return Heliograph::Testing::pushNotification(serverPort, tenant.toUtf8(), user.toUtf8(),
                                                     title, type);
    }

private:
    QTcpServer m_silent;
};

class Setup : public QObject {
    Q_OBJECT
    std::unique_ptr<Heliograph::Server::ServerApp> m_server;
    QTemporaryDir m_settings;

public Q_SLOTS:
    void applicationAvailable()
    {
        Heliograph::Testing::isolateSettings(m_settings);
        m_server = Heliograph::Testing::startDesktopServer();
        if (!m_server)
            qFatal("the server did not start");
        serverPort = m_server->port();
        qmlRegisterSingletonType<DesktopTestServer>(
            "HeliographDesktopTest", 1, 0, "DesktopTestServer",
            [](QQmlEngine *, QJSEngine *) -> QObject * { return new DesktopTestServer; });
    }
    void qmlEngineAvailable(QQmlEngine *engine) { engine->addImportPath(u"qrc:/qt/qml"_s); }
    void cleanupTestCase() { m_server.reset(); }
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(tst_desktopqml, Setup)

#include "tst_desktopqml.moc"
