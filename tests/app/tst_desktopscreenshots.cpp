// SPDX-License-Identifier: MIT
// Opens the app's window (Main.qml) under Xvfb with live data from the in-process server and
// saves each main view (sign-in, notifications, presence, documents, the admin console and its
// audit log, an Operator's console with the nodes) as a PNG in
// <build>/screenshots/, kept for review. Fails when a picture is too small or blank (almost
// one colour), or when QML reported an error or a warning.
#include "adminconsole.h"
#include "desktoptestsupport.h"
#include "preferences.h"
#include "profilemodel.h"
#include "session.h"

#include <QtCore/QDir>
#include <QtCore/QMutex>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QPalette>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlContext>
#include <QtQml/QQmlExpression>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>
#include <QtQuickControls2/QQuickStyle>
#include <QtTest/QTest>

Q_IMPORT_QML_PLUGIN(Heliograph_DesktopPlugin)

using namespace Heliograph;
using namespace Heliograph::Desktop;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;

namespace {

QMutex problemsMutex;
QStringList problems;
QtMessageHandler previousHandler = nullptr;

void collectProblems(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray category = context.category ? context.category : "";
    const bool qml = category == "qml" || category == "js" || category.startsWith("qt.qml")
        || message.contains(u"qrc:/"_s) || message.contains(u".qml"_s);
    if (type != QtDebugMsg && type != QtInfoMsg && qml) {
        QMutexLocker lock(&problemsMutex);
        problems.append(message);
    }
    previousHandler(type, context, message);
}

/// Distinct colours in a grid of samples: a blank or broken view has one or two.
int distinctColours(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3) {
        for (int x = 0; x < image.width(); x += 3)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

} // namespace

class tst_DesktopScreenshots : public QObject {
    Q_OBJECT
    QTemporaryDir m_settings;
    std::unique_ptr<Server::ServerApp> m_server;
    QList<HubConnection *> m_others;

    HubConnection *connectAs(const QByteArray &user, const QByteArray &role)
    {
        auto *hub = new HubConnection(
            QUrl(u"http://127.0.0.1:%1/hubs/notifications"_s.arg(m_server->port())), this);
        const QString t = token(user, "acme", {role});
        hub->setAccessTokenProvider([t] { return readyToken(t); });
        m_others.append(hub);
        QSignalSpy connected(hub, &HubConnection::connected);
        hub->start();
        if (!connected.wait(10'000))
            qWarning("%s did not connect", user.constData());
        return hub;
    }

    void check(QQuickWindow *window, const QString &name)
    {
        // Two frames, so that what changed last is painted.
        QTest::qWait(0);
        QVERIFY(QTest::qWaitForWindowExposed(window));
        const QImage image = window->grabWindow();
        // A run at another scale (the high-DPI CTest entry) keeps its pictures apart.
        const QString suffix = qEnvironmentVariable("HELIOGRAPH_SCREENSHOT_SUFFIX");
        const QString path = QDir(QStringLiteral(HELIOGRAPH_SCREENSHOT_DIR))
                                 .filePath(u"%1%2.png"_s.arg(name, suffix));
        QVERIFY2(image.save(path), qPrintable(path));
        qInfo("%s: %dx%d, %d colours", qPrintable(path), image.width(), image.height(),
              distinctColours(image));
        QVERIFY2(image.width() >= 640 && image.height() >= 420, qPrintable(name + u" too small"_s));
        QVERIFY2(distinctColours(image) >= 16, qPrintable(name + u" is blank"_s));
        QMutexLocker lock(&problemsMutex);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    }

private Q_SLOTS:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(collectProblems);
        QVERIFY(m_settings.isValid());
        isolateSettings(m_settings);
        QVERIFY(QDir().mkpath(QStringLiteral(HELIOGRAPH_SCREENSHOT_DIR)));
        m_server = startDesktopServer();
        QVERIFY(m_server);
        QQuickStyle::setStyle(u"Fusion"_s);
    }

    void cleanupTestCase()
    {
        qDeleteAll(m_others);
        m_others.clear();
        m_server.reset();
        qInstallMessageHandler(previousHandler);
    }

    void mainViews()
    {
        Session session;
        session.auth()->setKeychainEnabled(false);
        session.setDesktopNotifications(false);
        ProfileModel profiles;
        Preferences preferences;
        preferences.setLastView(u"notifications"_s);
        QQmlApplicationEngine engine;
        engine.addImportPath(u"qrc:/qt/qml"_s);
        engine.setInitialProperties({{u"session"_s, QVariant::fromValue(&session)},
                                     {u"profiles"_s, QVariant::fromValue(&profiles)},
                                     {u"preferences"_s, QVariant::fromValue(&preferences)}});
        engine.load(QUrl(u"qrc:/qt/qml/Heliograph/Desktop/Main.qml"_s));
        QCOMPARE(engine.rootObjects().size(), 1);
        auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
        QVERIFY(window);
        window->resize(1100, 720);
        check(window, u"signin"_s);

        // Live data: others online, notifications, a document with edits.
        connectAs("bob", "Editor");
        HubConnection *editor = m_others.constLast();
        connectAs("carol", "Viewer");
        session.signInWithToken(QUrl(u"http://127.0.0.1:%1"_s.arg(m_server->port())),
                                token("alice", "acme", {"Admin"}));
        QTRY_COMPARE_WITH_TIMEOUT(session.hubConnection()->state(), HubConnection::State::Connected,
                                  10'000);
        const QStringList titles {u"Build finished"_s, u"You were mentioned"_s,
                                  u"Deployment started"_s, u"Disk almost full"_s};
        const QStringList types {u"info"_s, u"mention"_s, u"deploy"_s, u"alert"_s};
        for (int i = 0; i < titles.size(); ++i)
            QVERIFY(pushNotification(m_server->port(), "acme", "alice", titles.at(i), types.at(i)));
        QTRY_COMPARE_WITH_TIMEOUT(session.notifications()->count(), 4, 10'000);
        session.notifications()->markRead(3);
        QTRY_VERIFY_WITH_TIMEOUT(session.hubConnection()->roundTripTime() >= 0, 10'000);
        window->setProperty("currentView", u"notifications"_s);
        check(window, u"notifications"_s);

        window->setProperty("currentView", u"presence"_s);
        QTRY_COMPARE_WITH_TIMEOUT(session.presence()->count(), 3, 10'000);
        check(window, u"presence"_s);

        window->setProperty("currentView", u"documents"_s);
        session.document()->join(u"welcome"_s);
        QTRY_VERIFY_WITH_TIMEOUT(!session.document()->isLoading(), 10'000);
        for (const char *word : {"sunrise", "signal", "mirror"}) {
            const QByteArray patch = QByteArray("{\"op\":\"append\",\"text\":\"") + word + "\"}";
            editor->invoke("SendDocumentPatch",
                           {Value::fromUtf8(QByteArrayLiteral("welcome")), Value::fromUtf8(patch)});
        }
        QTRY_COMPARE_WITH_TIMEOUT(session.document()->count(), 3, 10'000);
        session.document()->sendPatch(u"{\"op\":\"append\",\"text\":\"hello from alice\"}"_s);
        QTRY_COMPARE_WITH_TIMEOUT(session.document()->count(), 4, 10'000);
        check(window, u"documents"_s);

        // The admin console (alice is an Admin of acme): live tenants, charts with some
        // history, the drill-down; then the audit log after an action.
        window->setProperty("currentView", u"admin"_s);
        QObject *view = window->findChild<QObject *>(u"adminView"_s);
        QVERIFY(view);
        auto *admin = qobject_cast<AdminConsole *>(view->property("admin").value<QObject *>());
        QVERIFY(admin);
        QTRY_COMPARE_WITH_TIMEOUT(admin->state(), AdminConsole::Live, 10'000);
        QTRY_COMPARE_WITH_TIMEOUT(admin->connections()->count(), 3, 10'000);
        for (int i = 0; i < 6; ++i) {
            QVERIFY(pushNotification(m_server->port(), "acme", "bob", u"Update %1"_s.arg(i)));
            const int points = admin->history()->count();
            QTRY_VERIFY_WITH_TIMEOUT(admin->history()->count() > points, 10'000);
        }
        check(window, u"admin"_s);

        QSignalSpy finished(admin, &AdminConsole::actionFinished);
        admin->broadcastAlert(u"acme"_s, u"Maintenance tonight at 22:00"_s);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
        QVERIFY2(finished.last().at(1).toBool(), qPrintable(finished.last().at(2).toString()));
        QTRY_VERIFY_WITH_TIMEOUT(admin->auditLog()->count() >= 1, 10'000);
        view->setProperty("section", u"audit"_s);
        check(window, u"admin-audit"_s);

        // The system turns dark: the theme follows the palette, everything stays readable.
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x20, 0x22, 0x26));
        dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Base, QColor(0x18, 0x1a, 0x1d));
        dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
        dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Button, QColor(0x2c, 0x2f, 0x34));
        dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Highlight, QColor(0x3d, 0x8b, 0xd9));
        dark.setColor(QPalette::HighlightedText, Qt::white);
        QGuiApplication::setPalette(dark);
        // Theme is a QML singleton: ask the window's own context, which imports it.
        QQmlExpression themeIsDark(qmlContext(window), window, u"Theme.dark"_s);
        QTRY_VERIFY(themeIsDark.evaluate().toBool());
        check(window, u"admin-audit-dark"_s);
        QCOMPARE(window->grabWindow().pixelColor(4, window->height() / 2).lightnessF() < 0.5, true);
        window->setProperty("currentView", u"notifications"_s);
        check(window, u"notifications-dark"_s);
        QGuiApplication::setPalette(QPalette());

        // An Operator's console: every tenant, and the server's nodes (this one alone).
        session.signInWithToken(QUrl(u"http://127.0.0.1:%1"_s.arg(m_server->port())),
                                token("oscar", "ops", {"Operator"}));
        window->setProperty("currentView", u"admin"_s);
        const auto operatorConsole = [window]() -> AdminConsole * {
            for (QObject *v : window->findChildren<QObject *>(u"adminView"_s)) {
                auto *a = qobject_cast<AdminConsole *>(v->property("admin").value<QObject *>());
                if (a && a->allTenants() && a->state() == AdminConsole::Live
                    && a->nodes()->count() == 1 && a->tenants()->indexOfKey(u"acme"_s) >= 0)
                    return a;
            }
            return nullptr;
        };
        QTRY_VERIFY_WITH_TIMEOUT(operatorConsole(), 10'000);
        AdminConsole *op = operatorConsole();
        op->setSelectedTenant(u"acme"_s);
        QTRY_COMPARE_WITH_TIMEOUT(op->connections()->count(), 2, 10'000); // bob and carol
        for (int i = 0; i < 3; ++i) {
            const int points = op->history()->count();
            QTRY_VERIFY_WITH_TIMEOUT(op->history()->count() > points, 10'000);
        }
        check(window, u"admin-operator"_s);
    }
};

QTEST_MAIN(tst_DesktopScreenshots)
#include "tst_desktopscreenshots.moc"
