// SPDX-License-Identifier: MIT
// Qt Quick Test runner for the desktop app's QML (one CTest entry per tst_*.qml). The setup
// starts heliograph-server in-process with sign-in and the demo accounts, and gives QML the
// singleton DesktopTestServer (import HeliographDesktopTest): its URL, tokens, and the push
// API (the QML module HeliographDesktopTestQml, a static library with a static plugin,
// desktoptestserver.h).
#include "desktoptestserver.h"
#include "desktoptestsupport.h"

#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(Heliograph_DesktopPlugin)
Q_IMPORT_QML_PLUGIN(HeliographDesktopTestPlugin)

using namespace Qt::StringLiterals;

namespace {

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
        DesktopTestServer::setPort(m_server->port());
    }
    void qmlEngineAvailable(QQmlEngine *engine) { engine->addImportPath(u"qrc:/qt/qml"_s); }
    void cleanupTestCase() { m_server.reset(); }
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(tst_desktopqml, Setup)

#include "tst_desktopqml.moc"
