// SPDX-License-Identifier: MIT
// Qt Quick Test runner for the Heliograph.Client QML module (one CTest entry per tst_*.qml).
// The setup starts the real heliograph-server in-process (port 0, bench hub on) and gives QML
// its URLs and tokens through the singleton TestServer (import HeliographTest: the QML module
// HeliographTestQml, a static library with a static plugin, testserver.h).
#include "clienttestsupport.h"
#include "testserver.h"

#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(HeliographTestPlugin)

using namespace Qt::StringLiterals;

namespace {

class Setup : public QObject {
    Q_OBJECT
    std::unique_ptr<Heliograph::Server::ServerApp> m_server;

public Q_SLOTS:
    void applicationAvailable()
    {
        m_server = Heliograph::Testing::startServer();
        if (!m_server)
            qFatal("the server did not start");
        TestServer::setPort(m_server->port());
    }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral(HELIOGRAPH_QML_IMPORT_DIR));
        engine->addImportPath(u"qrc:/qt/qml"_s); // HeliographTest (Qt 6.4 lacks it by default)
    }
    void cleanupTestCase() { m_server.reset(); }
};

} // namespace

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
