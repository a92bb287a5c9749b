// SPDX-License-Identifier: MIT
// heliograph-server: command-line front end. Everything else lives in heliograph_server_core.
#include "app/serverapp.h"
#include "auth/jwt.h"

#include <heliograph/client/heliographclient_version.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTextStream>

#include <csignal>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

enum ExitCode { Ok = 0, Failure = 1, Usage = 2, Config = 3, Listen = 4 };

const char Help[] = R"(Usage:
  heliograph-server serve [--listen 127.0.0.1:5000] [--data DIR] [--config FILE]
                          [--jwt-secret SECRET | --jwt-public-key PEM_FILE]
                          [--jwt-issuer ISS] [--jwt-audience AUD] [--threads N]
                          [--allowed-origins LIST] [--memory] [--storage sqlite|memory]
                          [--max-message-size BYTES] [--keep-alive S] [--client-timeout S]
                          [--handshake-timeout S] [--request-timeout S] [--max-queued-output BYTES]
                          [--max-connections-per-user N] [--detailed-errors true]
                          [--retention-hours H] [--max-notifications-per-user N]
                          [--bench-hub]
  heliograph-server token --user U --tenant T [--name DISPLAY] [--role R]... [--ttl SECONDS]
                          [--secret S | --data DIR] [--issuer ISS] [--audience AUD]
  heliograph-server --help | --version

Settings come from the config file (JSON, keys as the flag names), then HELIOGRAPH_* environment
variables (HELIOGRAPH_LISTEN, HELIOGRAPH_JWT_SECRET, ...), then flags; later sources win.
Without a JWT option the server creates a random HS256 secret in the data folder and reuses it.

Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 configuration, 4 cannot listen.
)";

void messageHandler(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    const std::string text = ctx.category && qstrcmp(ctx.category, "default") != 0
        ? std::string(ctx.category) + ": " + msg.toStdString()
        : msg.toStdString();
    switch (type) {
    case QtDebugMsg:
        spdlog::debug(text);
        break;
    case QtInfoMsg:
        spdlog::info(text);
        break;
    case QtWarningMsg:
        spdlog::warn(text);
        break;
    case QtCriticalMsg:
    case QtFatalMsg:
        spdlog::error(text);
        break;
    }
}

int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] auto n = ::write(signalPipe[1], &c, 1);
}

int token(const QStringList &args)
{
    TokenRequest req;
    QByteArray secret;
    QString dataDir;
    qint64 ttl = 3600;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        auto next = [&]() -> QString { return i + 1 < args.size() ? args[++i] : QString(); };
        if (a == u"--user"_s)
            req.subject = next().toUtf8();
        else if (a == u"--tenant"_s)
            req.tenantId = next().toUtf8();
        else if (a == u"--name"_s)
            req.name = next();
        else if (a == u"--role"_s)
            req.roles.append(next().toUtf8());
        else if (a == u"--ttl"_s)
            ttl = next().toLongLong();
        else if (a == u"--secret"_s)
            secret = next().toUtf8();
        else if (a == u"--data"_s)
            dataDir = next();
        else if (a == u"--issuer"_s)
            req.issuer = next().toUtf8();
        else if (a == u"--audience"_s)
            req.audiences.append(next().toUtf8());
        else {
            std::fprintf(stderr, "token: unknown argument %s\n%s", qPrintable(a), Help);
            return Usage;
        }
    }
    if (req.subject.isEmpty() || req.tenantId.isEmpty() || ttl <= 0) {
        std::fprintf(stderr, "token: --user and --tenant are required, --ttl must be positive\n");
        return Usage;
    }
    req.lifetime = std::chrono::seconds(ttl);
    if (secret.isEmpty()) {
        auto s = loadOrCreateSecret(dataDir.isEmpty() ? u"heliograph-data"_s : dataDir);
        if (!s) {
            std::fprintf(stderr, "token: %s\n", qPrintable(s.error().message));
            return Config;
        }
        secret = *s;
    }
    auto signer = JwtSigner::withSecret(secret);
    if (!signer) {
        std::fprintf(stderr, "token: %s\n", qPrintable(signer.error().message));
        return Config;
    }
    auto jwt = signer->sign(req);
    if (!jwt) {
        std::fprintf(stderr, "token: %s\n", qPrintable(jwt.error().message));
        return Failure;
    }
    std::printf("%s\n", jwt->constData());
    return Ok;
}

int serve(QCoreApplication &app, const QStringList &args)
{
    ServeOptions options;
    QString error;
    if (!parseServeOptions(args, options, error)) {
        std::fprintf(stderr, "serve: %s\n", qPrintable(error));
        return Config;
    }
    ServerApp server;
    if (!server.start(options, error)) {
        std::fprintf(stderr, "serve: %s\n", qPrintable(error));
        return error.startsWith(u"cannot listen"_s) ? Listen : Config;
    }
    // SIGTERM/SIGINT: drain (Close with allowReconnect to everyone), flush, exit 0.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) == 0) {
        auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, [&server, &app] {
            spdlog::info("signal received: draining");
            server.stop();
            app.quit();
        });
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
    }
    std::printf("heliograph-server listening on port %u\n", unsigned(server.port()));
    std::fflush(stdout);
    const int rc = app.exec();
    server.stop();
    spdlog::info("stopped");
    return rc;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"heliograph-server"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(HELIOGRAPH_CLIENT_VERSION_STRING));
    spdlog::set_default_logger(spdlog::stderr_color_mt("heliograph"));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    qInstallMessageHandler(messageHandler);

    QStringList args = app.arguments().mid(1);
    if (args.isEmpty() || args.first() == u"--help"_s || args.first() == u"-h"_s
        || args.first() == u"help"_s) {
        std::fputs(Help, args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? Usage : Ok;
    }
    if (args.first() == u"--version"_s) {
        std::printf("heliograph-server %s\n", HELIOGRAPH_CLIENT_VERSION_STRING);
        return Ok;
    }
    const QString command = args.takeFirst();
    if (command == u"serve"_s)
        return serve(app, args);
    if (command == u"token"_s)
        return token(args);
    std::fprintf(stderr, "unknown command '%s'\n%s", qPrintable(command), Help);
    return Usage;
}
