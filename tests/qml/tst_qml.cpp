// SPDX-License-Identifier: MIT
// Qt Quick Test runner for the Heliograph.Client QML module (one CTest entry per tst_*.qml).
// The setup starts the real heliograph-server in-process (port 0, bench hub on) and gives QML
// its URLs and tokens through the singleton TestServer (import HeliographTest).
#include "clienttestsupport.h"

#include <QtQml/QQmlEngine>
#include <QtQml/qqml.h>
#include <QtQuickTest/quicktest.h>

using namespace Qt::StringLiterals;

namespace {

quint16 serverPort = 0;

/// What QML needs to know about the server.
class TestServer : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString baseUrl READ baseUrl CONSTANT)
    Q_PROPERTY(QString benchUrl READ benchUrl CONSTANT)
    Q_PROPERTY(QString notificationsUrl READ notificationsUrl CONSTANT)
public:
    QString baseUrl() const { return u"http://127.0.0.1:%1"_s.arg(serverPort); }
    QString benchUrl() const { return baseUrl() + u"/hubs/bench"_s; }
    QString notificationsUrl() const { return baseUrl() + u"/hubs/notifications"_s; }
    /// A token for the notification hub and the push API (role Service: any tenant).
    Q_INVOKABLE QString token(const QString &user, const QString &tenant,
                              const QStringList &roles = {}) const
    {
        QList<QByteArray> r;
        for (const QString &role : roles)
            r.append(role.toUtf8());
        return Heliograph::Testing::token(user.toUtf8(), tenant.toUtf8(), r);
    }
};

class Setup : public QObject {
    Q_OBJECT
    std::unique_ptr<Heliograph::Server::ServerApp> m_server;

public Q_SLOTS:
    void applicationAvailable()
    {
        m_server = Heliograph::Testing::startServer();
        if (!m_server)
            qFatal("the server did not start");
        serverPort = m_server->port();
        qmlRegisterSingletonType<TestServer>(
            "HeliographTest", 1, 0, "TestServer",
            [](QQmlEngine *, QJSEngine *) -> QObject * { return new TestServer; });
    }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral(HELIOGRAPH_QML_IMPORT_DIR));
    }
    void cleanupTestCase() { m_server.reset(); }
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
