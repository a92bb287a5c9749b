// SPDX-License-Identifier: MIT
// heliograph-desktop: the sign-in screen and the dashboard (notifications, presence,
// documents, the status bar), on Qt Quick Controls.
//
//   heliograph-desktop [--server URL --username NAME --password-stdin | --token-stdin]
//
// With --password-stdin the password is read from the first line of standard input (never
// from the command line, where other users could see it) and the app signs in at once; with
// --token-stdin the line is an access token. Without either, the app signs in with the
// refresh token the keychain keeps for the last profile, or shows the sign-in screen.
#include "desktoplogging.h"
#include "preferences.h"
#include "profilemodel.h"
#include "session.h"
#include "trayicon.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMetaEnum>
#include <QtCore/QStandardPaths>
#include <QtCore/QTextStream>
#include <QtGui/QGuiApplication>
#include <QtGui/QWindow>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickControls2/QQuickStyle>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Heliograph_DesktopPlugin)

using namespace Qt::StringLiterals;
using namespace Heliograph::Desktop;

Q_LOGGING_CATEGORY(lcMain, "heliograph.desktop")

namespace {

QString readSecretLine()
{
    QTextStream in(stdin);
    return in.readLine().trimmed();
}

} // namespace

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    QGuiApplication::setOrganizationName(u"Heliograph"_s);
    QGuiApplication::setApplicationName(u"heliograph-desktop"_s);
    QGuiApplication::setApplicationDisplayName(u"Heliograph"_s);
    QGuiApplication::setApplicationVersion(u"0.1.0"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Heliograph desktop: notifications, presence, documents."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption server(u"server"_s, u"The server's URL."_s, u"url"_s);
    const QCommandLineOption username(u"username"_s, u"Sign in as this user."_s, u"name"_s);
    const QCommandLineOption passwordStdin(u"password-stdin"_s,
                                           u"Read the password from standard input."_s);
    const QCommandLineOption tokenStdin(u"token-stdin"_s,
                                        u"Read an access token from standard input."_s);
    const QCommandLineOption view(
        u"view"_s, u"Open this view: notifications, presence, documents, admin."_s, u"view"_s);
    parser.addOptions({server, username, passwordStdin, tokenStdin, view});
    parser.process(app);

    const QString logFile = installDesktopLogging(
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + u"/logs"_s);
    qCInfo(lcMain) << "heliograph-desktop" << QGuiApplication::applicationVersion()
                   << "log file:" << (logFile.isEmpty() ? u"none"_s : logFile);

    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE"))
        QQuickStyle::setStyle(u"Fusion"_s); // follows the system palette, light or dark

    auto *session = new Session(&app);
    auto *profiles = new ProfileModel(&app);
    auto *preferences = new Preferences(&app);
    if (parser.isSet(view))
        preferences->setLastView(parser.value(view));

    QQmlApplicationEngine engine;
    engine.addImportPath(u"qrc:/qt/qml"_s);
    engine.setInitialProperties({{u"session"_s, QVariant::fromValue(session)},
                                 {u"profiles"_s, QVariant::fromValue(profiles)},
                                 {u"preferences"_s, QVariant::fromValue(preferences)}});
    QObject::connect(
        &engine, &QQmlApplicationEngine::objectCreationFailed, &app,
        [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
    engine.load(QUrl(u"qrc:/qt/qml/Heliograph/Desktop/Main.qml"_s));

    // The tray icon (a StatusNotifierItem, where the desktop has a tray): unread count and
    // connection state; a click brings the window back.
    auto *tray = new TrayIcon(&app);
    const auto updateTray = [tray, session] {
        tray->setUnreadCount(session->notifications()->unreadCount());
        if (session->status() != Session::SignedIn)
            tray->setStatusText(session->status() == Session::SigningIn ? u"Signing in"_s
                                                                        : u"Signed out"_s);
        else
            tray->setStatusText(
                QString::fromLatin1(QMetaEnum::fromType<Session::ConnectionState>().valueToKey(
                    session->connectionState())));
    };
    updateTray();
    QObject::connect(session->notifications(), &NotificationFilterModel::countChanged, tray,
                     updateTray);
    QObject::connect(session, &Session::statusChanged, tray, updateTray);
    QObject::connect(session, &Session::connectionChanged, tray, updateTray);
    QObject::connect(tray, &TrayIcon::activated, &app, [&engine] {
        const QList<QObject *> roots = engine.rootObjects();
        auto *window = roots.isEmpty() ? nullptr : qobject_cast<QWindow *>(roots.constFirst());
        if (!window)
            return;
        if (window->windowStates() & Qt::WindowMinimized)
            window->showNormal();
        else
            window->show();
        window->raise();
        window->requestActivate();
    });

    const QUrl serverUrl(parser.value(server));
    if (parser.isSet(tokenStdin)) {
        session->signInWithToken(serverUrl, readSecretLine());
    } else if (parser.isSet(passwordStdin)) {
        if (!parser.isSet(server) || !parser.isSet(username)) {
            std::fprintf(stderr, "--password-stdin needs --server and --username\n");
            return 2;
        }
        session->signIn(serverUrl, parser.value(username), readSecretLine());
    } else if (profiles->count() > 0) {
        const QVariantMap last = profiles->get(0);
        session->resume(last.value(u"url"_s).toUrl(), last.value(u"username"_s).toString());
    }
    return QGuiApplication::exec();
}
