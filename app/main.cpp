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

#include <heliograph/client/hubconnection.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QLibraryInfo>
#include <QtCore/QLocale>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMetaEnum>
#include <QtCore/QStandardPaths>
#include <QtCore/QTextStream>
#include <QtCore/QTranslator>
#include <QtGui/QGuiApplication>
#include <QtGui/QIcon>
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

// The options, for both the display-less --help/--version path and the app itself.
struct Options {
    static QString tr(const char *text) { return QCoreApplication::translate("main", text); }

    QCommandLineOption server {u"server"_s, tr("The server's URL."), u"url"_s};
    QCommandLineOption username {u"username"_s, tr("Sign in as this user."), u"name"_s};
    QCommandLineOption passwordStdin {u"password-stdin"_s,
                                      tr("Read the password from standard input.")};
    QCommandLineOption tokenStdin {u"token-stdin"_s,
                                   tr("Read an access token from standard input.")};
    QCommandLineOption view {
        u"view"_s, tr("Open this view: notifications, presence, documents, admin."), u"view"_s};

    void addTo(QCommandLineParser &parser) const
    {
        parser.setApplicationDescription(
            tr("Heliograph desktop: notifications, presence, documents."));
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addOptions({server, username, passwordStdin, tokenStdin, view});
    }
};

void setApplicationNames()
{
    QCoreApplication::setOrganizationName(u"Heliograph"_s);
    QCoreApplication::setApplicationName(u"heliograph-desktop"_s);
    QCoreApplication::setApplicationVersion(u"0.1.0"_s);
}

// --help and --version are answered without a display: a QCoreApplication is enough to print
// them, and QGuiApplication would abort where there is no display to connect to.
bool wantsHelpOrVersion(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView arg(argv[i]);
        if (arg == "--")
            break;
        if (arg == "-h" || arg == "--help" || arg == "-?" || arg == "--help-all" || arg == "-v"
            || arg == "--version")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    const Options options;
    if (wantsHelpOrVersion(argc, argv)) {
        QCoreApplication app(argc, argv);
        setApplicationNames();
        QCommandLineParser parser;
        options.addTo(parser);
        parser.process(app); // prints and exits
        return 0;
    }

    QGuiApplication app(argc, argv);
    setApplicationNames();
    QGuiApplication::setApplicationDisplayName(u"Heliograph"_s);
    QGuiApplication::setDesktopFileName(u"heliograph-desktop"_s);
    QGuiApplication::setWindowIcon(QIcon::fromTheme(u"heliograph"_s, [] {
        QIcon icon;
        for (const int size : {32, 64, 256})
            icon.addFile(u":/icons/%1x%1/apps/heliograph.png"_s.arg(size));
        return icon;
    }()));

    // The user interface in the locale's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), from
    // the translations built into the executable; Qt's own strings from Qt's translations.
    QTranslator qtTranslator;
    if (qtTranslator.load(QLocale(), u"qtbase"_s, u"_"_s,
                          QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(&qtTranslator);
    QTranslator translator;
    if (translator.load(QLocale(), u"heliograph"_s, u"_"_s, u":/i18n"_s))
        QCoreApplication::installTranslator(&translator);

    QCommandLineParser parser;
    options.addTo(parser);
    parser.process(app);
    const QCommandLineOption &server = options.server;
    const QCommandLineOption &username = options.username;
    const QCommandLineOption &passwordStdin = options.passwordStdin;
    const QCommandLineOption &tokenStdin = options.tokenStdin;
    const QCommandLineOption &view = options.view;

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
            tray->setStatusText(QString::fromLatin1(
                QMetaEnum::fromType<Heliograph::HubConnection::State>().valueToKey(
                    int(session->hubConnection()->state()))));
    };
    const auto followConnection = [tray, session, updateTray] {
        QObject::connect(session->hubConnection(), &Heliograph::HubConnection::stateChanged, tray,
                         updateTray);
        updateTray();
    };
    followConnection();
    QObject::connect(session->notifications(), &NotificationFilterModel::countChanged, tray,
                     updateTray);
    QObject::connect(session, &Session::statusChanged, tray, updateTray);
    QObject::connect(session, &Session::connectionChanged, tray, followConnection);
    QObject::connect(tray, &TrayIcon::activated, &engine, [engine = &engine] {
        const QList<QObject *> roots = engine->rootObjects();
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
