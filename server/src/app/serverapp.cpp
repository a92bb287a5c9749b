// SPDX-License-Identifier: MIT
#include "app/serverapp.h"

#include "admin/adminhub.h"
#include "app/authapi.h"
#include "app/pushapi.h"
#include "auth/jwt.h"
#include "bench/benchhub.h"
#include "notifications/notificationhub.h"
#include "server/metrics.h"
#include "signalr/connectionregistry.h"
#include "signalr/lifetimemanager.h"
#include "storage/storage.h"

#include <heliograph/client/json.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QLoggingCategory>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QTimer>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcApp, "heliograph.server", QtInfoMsg)

namespace Heliograph::Server {

namespace {

bool parseListen(const QString &value, ServeOptions &o, QString &error)
{
    const qsizetype colon = value.lastIndexOf(u':');
    bool ok = false;
    const uint port = value.mid(colon + 1).toUInt(&ok);
    if (colon < 0 || !ok || port > 65535) {
        error = u"--listen expects HOST:PORT, got '%1'"_s.arg(value);
        return false;
    }
    QString host = value.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    if (host.isEmpty() || host == u"*"_s || host == u"0.0.0.0"_s)
        o.address = host == u"0.0.0.0"_s ? QHostAddress(QHostAddress::AnyIPv4)
                                         : QHostAddress(QHostAddress::Any);
    else if (host == u"localhost"_s)
        o.address = QHostAddress::LocalHost;
    else if (!o.address.setAddress(host)) {
        error = u"--listen: '%1' is not an IP address"_s.arg(host);
        return false;
    }
    o.port = quint16(port);
    return true;
}

/// One setting from any source.
bool apply(const QString &key, const QString &value, ServeOptions &o, QString &error)
{
    bool ok = true;
    if (const std::optional<bool> done = applyAuthSetting(key, value, o.auth, error))
        return *done;
    if (key == u"listen"_s)
        return parseListen(value, o, error);
    if (key == u"data"_s)
        o.dataDir = value;
    else if (key == u"jwt-secret"_s)
        o.jwtSecret = value.toUtf8();
    else if (key == u"jwt-public-key"_s)
        o.jwtPublicKeyFile = value;
    else if (key == u"jwt-issuer"_s)
        o.jwtIssuer = value.toUtf8();
    else if (key == u"jwt-audience"_s)
        o.jwtAudience = value.toUtf8();
    else if (key == u"threads"_s)
        o.threads = value.toInt(&ok);
    else if (key == u"allowed-origins"_s) {
        o.allowedOrigins.clear();
        for (const QString &s : value.split(u',', Qt::SkipEmptyParts))
            o.allowedOrigins.append(s.trimmed().toUtf8());
    } else if (key == u"max-message-size"_s)
        o.hub.maximumReceiveMessageSize = value.toLongLong(&ok);
    else if (key == u"keep-alive"_s)
        o.hub.keepAliveInterval = std::chrono::milliseconds(qint64(value.toDouble(&ok) * 1000));
    else if (key == u"client-timeout"_s)
        o.hub.clientTimeoutInterval = std::chrono::milliseconds(qint64(value.toDouble(&ok) * 1000));
    else if (key == u"handshake-timeout"_s)
        o.hub.handshakeTimeout = std::chrono::milliseconds(qint64(value.toDouble(&ok) * 1000));
    else if (key == u"retention-hours"_s)
        o.retentionHours = value.toDouble(&ok);
    else if (key == u"max-notifications-per-user"_s)
        o.maxNotificationsPerUser = value.toInt(&ok);
    else if (key == u"request-timeout"_s)
        o.requestHeadersTimeout = std::chrono::milliseconds(qint64(value.toDouble(&ok) * 1000));
    else if (key == u"max-queued-output"_s)
        o.maxQueuedOutputBytes = value.toLongLong(&ok);
    else if (key == u"max-connections-per-user"_s)
        o.maxConnectionsPerUser = value.toInt(&ok);
    else if (key == u"detailed-errors"_s)
        o.hub.enableDetailedErrors = value == u"true"_s || value == u"1"_s;
    else if (key == u"bench-hub"_s) {
        ok = value == u"true"_s || value == u"1"_s || value == u"false"_s || value == u"0"_s;
        o.benchHub = value == u"true"_s || value == u"1"_s;
    } else if (key == u"storage"_s) {
        if (value != u"sqlite"_s && value != u"memory"_s) {
            error = u"storage must be sqlite or memory"_s;
            return false;
        }
        o.memoryStorage = value == u"memory"_s;
    } else {
        error = u"unknown setting '%1'"_s.arg(key);
        return false;
    }
    if (!ok)
        error = u"invalid value for %1: '%2'"_s.arg(key, value);
    return ok;
}

const char *const Keys[] = {"listen",
                            "data",
                            "jwt-secret",
                            "jwt-public-key",
                            "jwt-issuer",
                            "jwt-audience",
                            "threads",
                            "allowed-origins",
                            "max-message-size",
                            "keep-alive",
                            "client-timeout",
                            "handshake-timeout",
                            "max-connections-per-user",
                            "detailed-errors",
                            "storage",
                            "request-timeout",
                            "max-queued-output",
                            "retention-hours",
                            "max-notifications-per-user",
                            "bench-hub"};

} // namespace

bool parseServeOptions(const QStringList &args, ServeOptions &o, QString &error)
{
    // 1. the config file
    QString configFile;
    for (qsizetype i = 0; i < args.size(); ++i) {
        if (args[i] == u"--config"_s && i + 1 < args.size())
            configFile = args[i + 1];
        else if (args[i].startsWith(u"--config="_s))
            configFile = args[i].mid(9);
    }
    if (configFile.isEmpty())
        configFile = QProcessEnvironment::systemEnvironment().value(u"HELIOGRAPH_CONFIG"_s);
    if (!configFile.isEmpty()) {
        QFile f(configFile);
        if (!f.open(QIODevice::ReadOnly)) {
            error = u"cannot read the config file %1"_s.arg(configFile);
            return false;
        }
        auto doc = Json::parse(f.readAll());
        if (!doc || !doc->isMap()) {
            error = u"%1: not a JSON object%2"_s.arg(
                configFile, doc ? QString() : u": "_s + doc.error().message);
            return false;
        }
        for (const MapEntry &e : doc->map()) {
            const QString key = e.key.toString();
            QString value;
            if (e.value.isString())
                value = e.value.toString();
            else if (e.value.isArray()) {
                QStringList parts;
                for (const Value &v : e.value.array())
                    parts.append(v.toString());
                value = parts.join(u',');
            } else
                value = QString::fromUtf8(Json::serialize(e.value));
            if (!apply(key, value, o, error)) {
                error = configFile + u": "_s + error;
                return false;
            }
        }
    }
    // 2. the environment: HELIOGRAPH_LISTEN, HELIOGRAPH_JWT_SECRET, ...
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *k : Keys) {
        const QString key = QString::fromLatin1(k);
        const QString var = u"HELIOGRAPH_"_s + key.toUpper().replace(u'-', u'_');
        if (env.contains(var) && !apply(key, env.value(var), o, error)) {
            error = var + u": "_s + error;
            return false;
        }
    }
    for (const QString &key : authSettingKeys()) {
        const QString var = u"HELIOGRAPH_"_s + key.toUpper().replace(u'-', u'_');
        if (env.contains(var) && !apply(key, env.value(var), o, error)) {
            error = var + u": "_s + error;
            return false;
        }
    }
    // 3. flags
    for (qsizetype i = 0; i < args.size(); ++i) {
        QString arg = args[i];
        if (!arg.startsWith(u"--"_s)) {
            error = u"unexpected argument '%1'"_s.arg(arg);
            return false;
        }
        QString key = arg.mid(2), value;
        if (const qsizetype eq = key.indexOf(u'='); eq >= 0) {
            value = key.mid(eq + 1);
            key = key.left(eq);
        } else if (key == u"memory"_s) {
            o.memoryStorage = true;
            continue;
        } else if (key == u"bench-hub"_s) {
            o.benchHub = true;
            continue;
        } else if (key == u"demo"_s) {
            o.auth.demo = true;
            continue;
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            error = u"%1 needs a value"_s.arg(arg);
            return false;
        }
        if (key == u"config"_s)
            continue;
        if (!apply(key, value, o, error))
            return false;
    }
    if (!o.jwtSecret.isEmpty() && !o.jwtPublicKeyFile.isEmpty()) {
        error = u"--jwt-secret and --jwt-public-key exclude each other"_s;
        return false;
    }
    return true;
}

struct ServerApp::Private {
    std::unique_ptr<Storage> storage;
    std::unique_ptr<ConnectionRegistry> registry; ///< the admin console's view of connections
    std::unique_ptr<HubLifetimeManager> lifetime;
    std::unique_ptr<NotificationService> service;
    std::unique_ptr<NotificationHub> hub;
    std::unique_ptr<HubLifetimeManager> benchLifetime;
    std::unique_ptr<BenchHub> benchHub;
    std::unique_ptr<AdminMonitor> adminMonitor;
    std::unique_ptr<HubLifetimeManager> adminLifetime;
    std::unique_ptr<AdminHub> adminHub;
    std::unique_ptr<HubServer> server;
    std::optional<JwtValidator> validator;
    std::unique_ptr<PushApi> pushApi;
    std::unique_ptr<AuthService> authService;
    std::unique_ptr<AuthApi> authApi;
    QTimer retention;
};

ServerApp::ServerApp()
    : d(std::make_unique<Private>())
{ }

ServerApp::~ServerApp()
{
    stop();
}

bool ServerApp::start(const ServeOptions &o, QString &error)
{
    const QString dataDir = o.dataDir.isEmpty() ? u"heliograph-data"_s : o.dataDir;
    QByteArray hs256Secret;
    JwtValidationOptions jwtOptions;
    jwtOptions.issuer = o.jwtIssuer;
    jwtOptions.audience = o.jwtAudience;
    if (!o.jwtPublicKeyFile.isEmpty()) {
        QFile f(o.jwtPublicKeyFile);
        if (!f.open(QIODevice::ReadOnly)) {
            error = u"cannot read %1"_s.arg(o.jwtPublicKeyFile);
            return false;
        }
        auto v = JwtValidator::withPublicKeyPem(f.readAll(), jwtOptions);
        if (!v) {
            error = v.error().message;
            return false;
        }
        d->validator = *v;
    } else {
        QByteArray &secret = hs256Secret;
        secret = o.jwtSecret;
        if (secret.isEmpty()) {
            auto s = loadOrCreateSecret(dataDir);
            if (!s) {
                error = s.error().message;
                return false;
            }
            secret = *s;
        }
        auto v = JwtValidator::withSecret(secret, jwtOptions);
        if (!v) {
            error = v.error().message;
            return false;
        }
        d->validator = *v;
    }

    Metrics &m = Metrics::instance();
    m.describe("heliograph_connections", "gauge",
               "Live hub connections by transport, protocol and tenant.");
    m.describe("heliograph_received_bytes_total", "counter", "Bytes received from hub clients.");
    m.describe("heliograph_messages_sent_total", "counter",
               "Messages delivered to hub clients, by target.");
    m.describe("heliograph_sent_message_bytes_total", "counter",
               "Bytes of the messages delivered to hub clients, by target.");
    m.describe("heliograph_received_messages_total", "counter",
               "Messages received from hub clients, by hub method ((other): not a method call).");
    m.describe("heliograph_received_message_bytes_total", "counter",
               "Bytes of the messages received from hub clients, by hub method.");
    m.describe("heliograph_invocations_total", "counter",
               "Hub method invocations by method and outcome.");
    m.describe("heliograph_invocation_duration_seconds", "histogram", "Hub method run time.");
    m.describe("heliograph_replayed_notifications_total", "counter",
               "Notifications replayed on connect.");
    m.describe("heliograph_notifications_stored_total", "counter",
               "Notifications stored, by tenant.");
    m.describe("heliograph_auth_failures_total", "counter",
               "Requests refused for a missing or invalid token.");
    m.describe("heliograph_rejected_connections_total", "counter",
               "Connections refused by the hub, by reason.");

    if (o.memoryStorage) {
        d->storage = createMemoryStorage();
    } else {
        auto s = createSqliteStorage(dataDir);
        if (!s) {
            error = s.error().message;
            return false;
        }
        d->storage = std::move(*s);
    }
    d->lifetime = std::make_unique<HubLifetimeManager>();
    d->service = std::make_unique<NotificationService>(*d->storage, *d->lifetime);
    d->hub = std::make_unique<NotificationHub>(
        *d->service, NotificationHubOptions {o.maxConnectionsPerUser, 1000});
    // The admin hub lists the notification hub's connections (not its own, nor the bench hub's).
    d->registry = std::make_unique<ConnectionRegistry>();
    d->hub->registry = d->registry.get();
    Storage *storageForHealth = d->storage.get();
    d->adminMonitor = std::make_unique<AdminMonitor>(
        *d->registry, [storageForHealth] { return storageForHealth->isReady(); });
    d->adminLifetime = std::make_unique<HubLifetimeManager>();
    d->adminHub = std::make_unique<AdminHub>(*d->adminMonitor, *d->registry, *d->service);

    ServerConfig config;
    config.address = o.address;
    config.port = o.port;
    config.threads = o.threads;
    config.hub = o.hub;
    config.allowedOrigins = o.allowedOrigins;
    config.requestHeadersTimeout = o.requestHeadersTimeout;
    config.maxQueuedOutputBytes = o.maxQueuedOutputBytes;
    const JwtValidator validator = *d->validator;
    d->server = std::make_unique<HubServer>(
        config, [validator](QByteArrayView token, Principal &p, QString &why) {
            auto claims = validator.validate(token);
            if (!claims) {
                why = claims.error().message;
                return false;
            }
            p.userId = claims->subject;
            p.tenantId = claims->tenantId;
            p.name = claims->name.isEmpty() ? QString::fromUtf8(claims->subject) : claims->name;
            p.roles = claims->roles;
            p.claims = claims->payload;
            return true;
        });
    d->server->addHub(*d->hub, *d->lifetime);
    d->server->addHub(*d->adminHub, *d->adminLifetime, AdminHub::refusal().toUtf8());
    if (o.benchHub) {
        d->benchLifetime = std::make_unique<HubLifetimeManager>();
        d->benchHub = std::make_unique<BenchHub>();
        d->server->addHub(*d->benchHub, *d->benchLifetime);
        qCWarning(lcApp) << "the benchmark hub is enabled at" << d->benchHub->path()
                         << "without authentication: for benchmarks only";
    }
    // Service tokens for the push API need no tenant.
    JwtValidationOptions apiOptions = d->validator->options();
    apiOptions.requiredClaims = {"sub"};
    JwtValidator apiValidator = validator;
    if (!o.jwtPublicKeyFile.isEmpty()) {
        QFile f(o.jwtPublicKeyFile);
        if (f.open(QIODevice::ReadOnly))
            if (auto v = JwtValidator::withPublicKeyPem(f.readAll(), apiOptions))
                apiValidator = *v;
    } else if (auto v = JwtValidator::withSecret(hs256Secret, apiOptions)) {
        apiValidator = *v;
    }
    d->pushApi = std::make_unique<PushApi>(apiValidator, *d->service, d->hub->presence());
    PushApi *api = d->pushApi.get();
    d->server->addRoute("*", "/api/tenants/",
                        [api](const RouteRequest &r) { return api->handle(r); });
    if (!startSignIn(o, hs256Secret, error))
        return false;
    d->server->addRoute("GET", "/metrics", [](const RouteRequest &) {
        HttpResponse r(200);
        r.setBody(Metrics::instance().exposition(), "text/plain; version=0.0.4; charset=utf-8");
        return r;
    });
    Storage *storage = d->storage.get();
    d->server->addRoute("GET", "/health", [](const RouteRequest &) {
        HttpResponse r(200);
        r.setBody("Healthy", "text/plain");
        return r;
    });
    d->server->addRoute("GET", "/ready", [storage](const RouteRequest &) {
        const bool ready = storage->isReady();
        HttpResponse r(ready ? 200 : 503);
        r.setBody(ready ? "Ready" : "Storage unavailable", "text/plain");
        return r;
    });
    // Retention: now, then every ten minutes.
    const RetentionPolicy policy {qint64(o.retentionHours * 3600), o.maxNotificationsPerUser};
    auto prune = [storage, policy] {
        auto removed = storage->prune(policy, QDateTime::currentDateTimeUtc());
        if (!removed)
            qCWarning(lcApp) << "retention failed:" << removed.error().message;
        else if (*removed > 0)
            qCInfo(lcApp) << "retention removed" << *removed << "notifications";
    };
    prune();
    QObject::connect(&d->retention, &QTimer::timeout, &d->retention, prune);
    d->retention.start(10 * 60 * 1000);

    if (!d->server->listen()) {
        error = u"cannot listen on %1:%2: %3"_s.arg(o.address.toString())
                    .arg(o.port)
                    .arg(d->server->errorString());
        return false;
    }
    qCInfo(lcApp) << "listening on" << o.address.toString() << d->server->port() << "with"
                  << d->server->threadCount() << "threads, data in" << QDir(dataDir).absolutePath();
    return true;
}

bool ServerApp::startSignIn(const ServeOptions &o, const QByteArray &hs256Secret, QString &error)
{
    if (hs256Secret.isEmpty()) {
        // With a public key the server cannot issue tokens itself.
        if (o.auth.demo) {
            error = u"demo mode signs tokens itself: it needs jwt-secret or the data folder's "
                    "secret, not jwt-public-key"_s;
            return false;
        }
        qCInfo(lcApp) << "sign-in (/auth/login) is off: the server holds no signing key";
        return true;
    }
    if (const QString why = PasswordHasher::checkParameters(o.auth.passwordHashing);
        !why.isEmpty()) {
        error = why;
        return false;
    }
    auto signer = JwtSigner::withSecret(hs256Secret);
    if (!signer) {
        error = signer.error().message;
        return false;
    }
    QList<QByteArray> audiences;
    if (!o.jwtAudience.isEmpty())
        audiences.append(o.jwtAudience);
    d->authService = std::make_unique<AuthService>(*d->storage, std::move(*signer), o.jwtIssuer,
                                                   audiences, o.auth);
    if (o.auth.demo) {
        auto seeded = seedDemoAccounts(*d->storage, d->authService->hasher());
        if (!seeded) {
            error = u"demo mode: "_s + seeded.error().message;
            return false;
        }
        qCWarning(lcApp).nospace() << "demo mode: demo users with publicly known passwords "
                                      "can sign in ("
                                   << *seeded << " created now)";
    }
    d->authApi = std::make_unique<AuthApi>(*d->authService);
    AuthApi *api = d->authApi.get();
    d->server->addRoute("*", "/auth/", [api](const RouteRequest &r) { return api->handle(r); });
    return true;
}

quint16 ServerApp::port() const
{
    return d->server ? d->server->port() : 0;
}

void ServerApp::stop()
{
    d->retention.stop();
    if (d->server)
        d->server->stop();
    d->server.reset();
    d->authApi.reset();
    d->authService.reset();
    d->benchHub.reset();
    d->benchLifetime.reset();
    d->adminHub.reset();
    d->adminLifetime.reset();
    d->adminMonitor.reset();
    d->hub.reset();
    d->registry.reset();
    d->service.reset();
    d->lifetime.reset();
    d->storage.reset(); // closes the database: everything acknowledged is on disk already
}

} // namespace Heliograph::Server
