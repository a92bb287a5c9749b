// SPDX-License-Identifier: MIT
// heliograph-server: command-line front end. Everything else lives in heliograph_server_core.
#include "app/serverapp.h"
#include "app/settings.h"
#include "auth/authservice.h"
#include "auth/jwt.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTextStream>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

namespace {

enum ExitCode { Ok = 0, Failure = 1, Usage = 2, Config = 3, Listen = 4 };

const char Help[] = R"(Usage:
  heliograph-server serve [--config FILE] [--SETTING VALUE]...   (serve --help lists them)
  heliograph-server token --user U --tenant T [--name DISPLAY] [--role R]... [--ttl SECONDS]
                          [--secret S | --data DIR] [--issuer ISS] [--audience AUD]
  heliograph-server user add --username U --tenant T [--name DISPLAY] --role R [--role R]...
                          (--password-stdin | --password P) [--data DIR] [--config FILE]
  heliograph-server user passwd --username U (--password-stdin | --password P) [--data DIR]
  heliograph-server user remove|disable|enable --username U [--data DIR]
  heliograph-server user list [--data DIR]
  heliograph-server token --help | user --help | --help | --version

Settings come from the config file (JSON, keys as the flag names), then HELIOGRAPH_* environment
variables (HELIOGRAPH_LISTEN, HELIOGRAPH_JWT_SECRET, ...), then flags; later sources win.
Without a JWT option the server creates a random HS256 secret in the data folder and reuses it.

Users sign in with POST /auth/login; roles: Admin, Editor, Viewer, Operator, Service.
`user` commands work on the SQLite database of the data folder (also while the server runs)
and take the password-hash-* settings from --config / HELIOGRAPH_* like `serve`.
--demo seeds tenants acme and globex with demo users and prints their (public) passwords.

Exit codes: 0 ok, 1 runtime failure (e.g. no such user, user exists), 2 usage,
3 configuration, 4 cannot listen.
)";

/// One record, one line: control characters in what clients sent (a protocol name, a user
/// agent, a method name) are written as escapes, so that nobody can forge a log line.
std::string oneLine(const QString &msg)
{
    const QByteArray utf8 = msg.toUtf8();
    std::string out;
    out.reserve(size_t(utf8.size()));
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            static constexpr char Hex[] = "0123456789abcdef";
            out += "\\x";
            out += Hex[u >> 4];
            out += Hex[u & 15];
        }
    }
    return out;
}

void messageHandler(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    const std::string text = ctx.category && qstrcmp(ctx.category, "default") != 0
        ? std::string(ctx.category) + ": " + oneLine(msg)
        : oneLine(msg);
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

/// Parses a command's arguments (after its name) with `parser`, which has the command's options;
/// adds --help. Returns the exit code when the command should end here: a usage error (printed
/// with the command's name) or --help (the parser's help text on stdout).
std::optional<int> parseCommand(QCommandLineParser &parser, const char *command,
                                const char *synopsis, const QStringList &args, const QString &usage)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.setApplicationDescription(usage);
    const QCommandLineOption help({u"h"_s, u"help"_s}, u"Shows this help."_s);
    parser.addOption(help);
    if (!parser.parse(QStringList {u"heliograph-server"_s} + args)) {
        const QStringList unknown = parser.unknownOptionNames();
        if (!unknown.isEmpty())
            std::fprintf(stderr, "%s: unknown option --%s (see heliograph-server %s --help)\n",
                         command, qPrintable(unknown.first()), command);
        else
            std::fprintf(stderr, "%s: %s\n", command, qPrintable(parser.errorText()));
        return Usage;
    }
    if (parser.isSet(help)) {
        // The parser's first line names argv[0]; ours names the command.
        QString text = parser.helpText();
        text.remove(0, text.indexOf(u'\n') + 1);
        std::printf("Usage: %s\n%s", synopsis, qPrintable(text));
        return Ok;
    }
    return std::nullopt;
}

QList<QByteArray> utf8Values(const QCommandLineParser &parser, const QCommandLineOption &option)
{
    QList<QByteArray> out;
    for (const QString &v : parser.values(option))
        out.append(v.toUtf8());
    return out;
}

int token(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption user(u"user"_s, u"The token's subject (sub)."_s, u"U"_s);
    const QCommandLineOption tenant(u"tenant"_s, u"The tenant (tenant_id)."_s, u"T"_s);
    const QCommandLineOption name(u"name"_s, u"The display name (name)."_s, u"DISPLAY"_s);
    const QCommandLineOption role(u"role"_s, u"A role; repeat for several."_s, u"R"_s);
    const QCommandLineOption ttl(u"ttl"_s, u"Lifetime in seconds (default 3600)."_s, u"SECONDS"_s,
                                 u"3600"_s);
    const QCommandLineOption secret(u"secret"_s,
                                    u"The HS256 secret (default: the data folder's)."_s, u"S"_s);
    const QCommandLineOption data(u"data"_s, u"The data folder (default heliograph-data)."_s,
                                  u"DIR"_s);
    const QCommandLineOption issuer(u"issuer"_s, u"The issuer (iss)."_s, u"ISS"_s);
    const QCommandLineOption audience(u"audience"_s, u"An audience (aud); repeat for several."_s,
                                      u"AUD"_s);
    parser.addOptions({user, tenant, name, role, ttl, secret, data, issuer, audience});
    if (auto exit = parseCommand(parser, "token",
                                 "heliograph-server token --user U --tenant T [options]", args,
                                 u"Prints a signed access token (JWT) for "
                                 "the server's HS256 secret."_s))
        return *exit;
    if (const QStringList stray = parser.positionalArguments(); !stray.isEmpty()) {
        std::fprintf(stderr, "token: unexpected argument %s\n", qPrintable(stray.constFirst()));
        return Usage;
    }
    TokenRequest req;
    req.subject = parser.value(user).toUtf8();
    req.tenantId = parser.value(tenant).toUtf8();
    req.name = parser.value(name);
    req.roles = utf8Values(parser, role);
    req.issuer = parser.value(issuer).toUtf8();
    req.audiences = utf8Values(parser, audience);
    bool ttlOk = false;
    const qint64 seconds = parser.value(ttl).toLongLong(&ttlOk);
    if (req.subject.isEmpty() || req.tenantId.isEmpty() || !ttlOk || seconds <= 0) {
        std::fprintf(stderr, "token: --user and --tenant are required, --ttl must be positive\n");
        return Usage;
    }
    req.lifetime = std::chrono::seconds(seconds);
    QByteArray key = parser.value(secret).toUtf8();
    if (key.isEmpty()) {
        const QString dataDir = parser.value(data);
        auto s = loadOrCreateSecret(dataDir.isEmpty() ? u"heliograph-data"_s : dataDir);
        if (!s) {
            std::fprintf(stderr, "token: %s\n", qPrintable(s.error().message));
            return Config;
        }
        key = *s;
    }
    auto signer = JwtSigner::withSecret(key);
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

/// `heliograph-server user add|passwd|remove|disable|enable|list ...`
int user(const QStringList &args)
{
    QCommandLineParser parser;
    const QCommandLineOption usernameOption(u"username"_s, u"The user's sign-in name."_s, u"U"_s);
    const QCommandLineOption tenantOption(u"tenant"_s, u"add: the user's tenant."_s, u"T"_s);
    const QCommandLineOption nameOption(u"name"_s, u"add: the display name."_s, u"DISPLAY"_s);
    const QCommandLineOption roleOption(u"role"_s, u"add: a role; repeat for several."_s, u"R"_s);
    const QCommandLineOption passwordOption(u"password"_s,
                                            u"add, passwd: the password (visible to other "
                                            "local users in the process list)."_s,
                                            u"P"_s);
    const QCommandLineOption passwordStdinOption(
        u"password-stdin"_s, u"add, passwd: read the password from the first line of stdin."_s);
    const QCommandLineOption dataOption(u"data"_s, u"The data folder (default heliograph-data)."_s,
                                        u"DIR"_s);
    const QCommandLineOption configOption(
        u"config"_s, u"A config file, for the data folder and password-hash-* settings."_s,
        u"FILE"_s);
    parser.addOptions({usernameOption, tenantOption, nameOption, roleOption, passwordOption,
                       passwordStdinOption, dataOption, configOption});
    parser.addPositionalArgument(u"command"_s, u"add, passwd, remove, disable, enable or list"_s);
    if (auto exit = parseCommand(parser, "user",
                                 "heliograph-server user add|passwd|remove|disable|enable|list "
                                 "[options]",
                                 args,
                                 u"Manages the users who sign in with "
                                 "POST /auth/login (the SQLite database of the data folder)."_s))
        return *exit;
    const QStringList positional = parser.positionalArguments();
    const QString sub = positional.value(0);
    const QStringList subcommands {u"add"_s,     u"passwd"_s, u"remove"_s,
                                   u"disable"_s, u"enable"_s, u"list"_s};
    if (!subcommands.contains(sub)) {
        std::fprintf(stderr, "user: expected one of add, passwd, remove, disable, enable, list\n");
        return Usage;
    }
    if (positional.size() > 1) {
        std::fprintf(stderr, "user %s: unexpected argument %s\n", qPrintable(sub),
                     qPrintable(positional.at(1)));
        return Usage;
    }
    const QByteArray username = parser.value(usernameOption).toUtf8();
    const QByteArray tenant = parser.value(tenantOption).toUtf8();
    const QString name = parser.value(nameOption);
    const QList<QByteArray> roles = utf8Values(parser, roleOption);
    QByteArray password = parser.value(passwordOption).toUtf8();
    const bool passwordGiven = parser.isSet(passwordOption);
    const bool passwordStdin = parser.isSet(passwordStdinOption);
    QStringList serveArgs; // --data / --config: read like `serve` does
    for (const QCommandLineOption *o : {&dataOption, &configOption})
        if (parser.isSet(*o))
            serveArgs << u"--"_s + o->names().constFirst() << parser.value(*o);
    const bool needsPassword = sub == u"add"_s || sub == u"passwd"_s;
    if (sub != u"list"_s && username.isEmpty()) {
        std::fprintf(stderr, "user %s: --username is required\n", qPrintable(sub));
        return Usage;
    }
    if (sub == u"add"_s && (tenant.isEmpty() || roles.isEmpty())) {
        std::fprintf(stderr, "user add: --tenant and at least one --role are required\n");
        return Usage;
    }
    if (needsPassword && passwordStdin == passwordGiven) {
        std::fprintf(stderr, "user %s: give exactly one of --password-stdin and --password\n",
                     qPrintable(sub));
        return Usage;
    }
    if (!needsPassword && (passwordStdin || passwordGiven)) {
        std::fprintf(stderr, "user %s: takes no password\n", qPrintable(sub));
        return Usage;
    }
    if (passwordStdin) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly)) {
            std::fprintf(stderr, "user %s: cannot read stdin\n", qPrintable(sub));
            return Failure;
        }
        password = in.readLine(4096);
        while (password.endsWith('\n') || password.endsWith('\r'))
            password.chop(1);
    }
    if (sub == u"add"_s) {
        for (const QByteArray &role : roles)
            if (const QString why = checkRole(role); !why.isEmpty()) {
                std::fprintf(stderr, "user add: %s\n", qPrintable(why));
                return Usage;
            }
    }

    ServeOptions options;
    QString error;
    if (!parseServeOptions(serveArgs, options, error)) {
        std::fprintf(stderr, "user: %s\n", qPrintable(error));
        return Config;
    }
    if (options.memoryStorage) {
        std::fprintf(stderr,
                     "user: the users of memory storage live only in the server; "
                     "use sqlite storage\n");
        return Config;
    }
    if (const QString why = PasswordHasher::checkParameters(options.auth.passwordHashing);
        !why.isEmpty()) {
        std::fprintf(stderr, "user: %s\n", qPrintable(why));
        return Config;
    }
    auto storage
        = createSqliteStorage(options.dataDir.isEmpty() ? u"heliograph-data"_s : options.dataDir);
    if (!storage) {
        std::fprintf(stderr, "user: %s\n", qPrintable(storage.error().message));
        return Config;
    }
    Storage &db = **storage;
    const PasswordHasher hasher(needsPassword ? options.auth.passwordHashing
                                              : Argon2Parameters {8, 1, 1});

    if (sub == u"add"_s) {
        auto added = addUser(db, hasher, username, tenant, name, roles, password);
        if (!added) {
            std::fprintf(stderr, "user add: %s\n", qPrintable(added.error().message));
            return Failure;
        }
        std::printf("added %s (tenant %s, roles %s)\n", added->username.constData(),
                    added->tenant.constData(), QByteArrayList(added->roles).join(',').constData());
        return Ok;
    }
    if (sub == u"passwd"_s) {
        auto changed = setPassword(db, hasher, username, password);
        if (!changed) {
            std::fprintf(stderr, "user passwd: %s\n", qPrintable(changed.error().message));
            return Failure;
        }
        std::printf("password of %s changed; its sessions were ended\n",
                    username.toLower().constData());
        return Ok;
    }
    if (sub == u"remove"_s) {
        auto removed = db.removeUser(username);
        if (!removed || !*removed) {
            std::fprintf(stderr, "user remove: %s\n",
                         removed ? qPrintable(
                             u"there is no user '%1'"_s.arg(QString::fromUtf8(username.toLower())))
                                 : qPrintable(removed.error().message));
            return Failure;
        }
        std::printf("removed %s\n", username.toLower().constData());
        return Ok;
    }
    if (sub == u"disable"_s || sub == u"enable"_s) {
        auto found = db.findUser(username);
        if (!found || !*found) {
            std::fprintf(stderr, "user %s: there is no user '%s'\n", qPrintable(sub),
                         username.toLower().constData());
            return Failure;
        }
        UserRecord u = **found;
        u.disabled = sub == u"disable"_s;
        if (!db.updateUser(u) || (u.disabled && !db.revokeUserRefreshTokens(u.username))) {
            std::fprintf(stderr, "user %s: storage failed\n", qPrintable(sub));
            return Failure;
        }
        std::printf("%s %sd\n", u.username.constData(), qPrintable(sub));
        return Ok;
    }
    // list: never the hashes
    auto all = db.users();
    if (!all) {
        std::fprintf(stderr, "user list: %s\n", qPrintable(all.error().message));
        return Failure;
    }
    QTextStream out(stdout);
    out << u"USERNAME\tTENANT\tROLES\tCREATED\tSTATE\tNAME\n"_s;
    for (const UserRecord &u : std::as_const(*all))
        out << QString::fromUtf8(u.username) << '\t' << QString::fromUtf8(u.tenant) << '\t'
            << QString::fromUtf8(QByteArrayList(u.roles).join(',')) << '\t'
            << u.createdAt.toString(Qt::ISODate) << '\t'
            << (u.disabled ? u"disabled"_s : u"active"_s) << '\t' << u.displayName << '\n';
    return Ok;
}

int serve(QCoreApplication &app, const QStringList &args)
{
    if (args.contains(u"--help"_s) || args.contains(u"-h"_s)) {
        std::fputs(Help, stdout);
        std::printf("\nSettings of serve (flag, environment variable; a config file key is the "
                    "flag's name):\n  --config FILE   (HELIOGRAPH_CONFIG)\n      a JSON object "
                    "of settings\n%s",
                    qPrintable(settingsHelp()));
        std::puts("\nEvery setting: docs/configuration.md; limits and exposing the server: "
                  "docs/security.md.");
        return Ok;
    }
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
    // SIGTERM/SIGINT: drain (Close with allowReconnect to everyone), flush, exit 0. The notifier
    // is this function's, declared after `server`: it goes first, and no late signal reaches a
    // destroyed server.
    std::unique_ptr<QSocketNotifier> notifier;
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) == 0) {
        notifier = std::make_unique<QSocketNotifier>(signalPipe[0], QSocketNotifier::Read);
        QObject::connect(notifier.get(), &QSocketNotifier::activated, notifier.get(),
                         [&server, &app] {
                             spdlog::info("signal received: draining");
                             server.stop();
                             app.quit();
                         });
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
    }
    std::printf("heliograph-server listening on port %u\n", unsigned(server.port()));
    if (const quint16 metricsPort = server.metricsPort())
        std::printf("metrics listening on port %u\n", unsigned(metricsPort));
    if (options.auth.demo) {
        // Demo only: fixed, publicly known passwords (printed, never logged).
        std::printf("demo mode: sign in with POST /auth/login as\n");
        for (const DemoAccount &a : demoAccounts())
            std::printf("  %-6s / %-16s tenant %-7s %s\n", a.username.constData(),
                        a.password.constData(), a.tenant.constData(), a.role.constData());
        std::printf("(a demo user whose password was changed with `user passwd` keeps it)\n");
    }
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
    QCoreApplication::setApplicationVersion(QStringLiteral(HELIOGRAPH_VERSION_STRING));
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
        std::printf("heliograph-server %s\n", HELIOGRAPH_VERSION_STRING);
        return Ok;
    }
    const QString command = args.takeFirst();
    if (command == u"serve"_s)
        return serve(app, args);
    if (command == u"token"_s)
        return token(args);
    if (command == u"user"_s)
        return user(args);
    std::fprintf(stderr, "unknown command '%s'\n%s", qPrintable(command), Help);
    return Usage;
}
