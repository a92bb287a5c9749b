// SPDX-License-Identifier: MIT
#include "app/serverapp.h"

#include "admin/adminhub.h"
#include "app/authapi.h"
#include "app/pushapi.h"
#include "app/settings.h"
#include "auth/jwks.h"
#include "auth/jwt.h"
#include "bench/benchhub.h"
#include "cluster/redisbackplane.h"
#include "notifications/notificationhub.h"
#include "signalr/connectionregistry.h"
#include "signalr/identity.h"
#include "signalr/lifetimemanager.h"
#include "storage/storage.h"
#include "transport/metrics.h"

#include <heliograph/protocol/json.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QLoggingCategory>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QSysInfo>
#include <QtCore/QTimer>

#include <algorithm>
#include <sys/resource.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcApp, "heliograph.server", QtInfoMsg)

namespace Heliograph::Server {

namespace {

/// Compares a presented secret without leaking, through timing, how much of it matched.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0, n = qMin(a.size(), b.size()); i < n; ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

/// max-connections by default: 10,000, or fewer where the open-file limit would not hold them
/// (64 descriptors are left for storage, logs and the listeners).
int defaultMaxConnections()
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return 10000;
    return int(qBound<rlim_t>(16, limit.rlim_cur > 64 ? limit.rlim_cur - 64 : 16, 10000));
}

/// At most one key source; identity provider URLs that may be fetched.
bool checkIdentityProviderOptions(const ServeOptions &o, QString &error)
{
    const int sources = int(!o.jwtSecret.isEmpty()) + int(!o.jwtPublicKeyFile.isEmpty())
        + int(!o.jwtAuthority.isEmpty()) + int(!o.jwtJwksUrl.isEmpty());
    if (sources > 1) {
        error = u"--jwt-secret, --jwt-public-key, --jwt-authority and --jwt-jwks-url exclude "
                "each other"_s;
        return false;
    }
    QString why;
    if (!o.jwtAuthority.isEmpty())
        why = JwksClient::checkUrl(QUrl(o.jwtAuthority, QUrl::StrictMode), u"--jwt-authority"_s);
    else if (!o.jwtJwksUrl.isEmpty())
        why = JwksClient::checkUrl(QUrl(o.jwtJwksUrl, QUrl::StrictMode), u"--jwt-jwks-url"_s);
    if (why.isEmpty())
        return true;
    error = why;
    return false;
}

/// The client of --jwt-authority / --jwt-jwks-url, started: it fetches the keys on this thread
/// and retries by itself while the provider is unreachable (tokens are refused until then).
std::unique_ptr<JwksClient> startIdentityProvider(const ServeOptions &o, QString &error)
{
    if (!checkIdentityProviderOptions(o, error))
        return nullptr;
    JwksClientOptions options;
    options.authority = o.jwtAuthority.isEmpty() ? QUrl() : QUrl(o.jwtAuthority, QUrl::StrictMode);
    options.jwksUrl = o.jwtJwksUrl.isEmpty() ? QUrl() : QUrl(o.jwtJwksUrl, QUrl::StrictMode);
    options.refreshInterval = std::chrono::seconds(o.jwtJwksRefreshSeconds);
    options.minRefreshInterval
        = std::chrono::milliseconds(qint64(o.jwtJwksMinRefreshSeconds * 1000));
    if (o.jwtAudience.isEmpty())
        qCWarning(lcApp) << "jwt-audience is not set: the identity provider's tokens for any "
                            "application are accepted; set it to this server's audience";
    if (o.jwtAuthority.isEmpty() && o.jwtIssuer.isEmpty())
        qCWarning(lcApp) << "jwt-issuer is not set: the issuer of tokens signed with the JWK "
                            "Set's keys is not checked";
    auto client = std::make_unique<JwksClient>(options);
    client->start();
    return client;
}

/// One setting from any source.
bool apply(const QString &key, const QString &value, ServeOptions &o, QString &error)
{
    const Setting *setting = findSetting(key);
    if (!setting) {
        error = u"unknown setting '%1'"_s.arg(key);
        return false;
    }
    return setting->apply(*setting, value, o, error);
}

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
    for (const Setting &setting : serveSettings()) {
        const QString var = setting.environmentVariable();
        if (env.contains(var) && !setting.apply(setting, env.value(var), o, error)) {
            error = var + u": "_s + error;
            return false;
        }
    }
    // 3. flags
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args[i];
        if (!arg.startsWith(u"--"_s)) {
            error = u"unexpected argument '%1'"_s.arg(arg);
            return false;
        }
        QString key = arg.mid(2), value;
        if (const qsizetype eq = key.indexOf(u'='); eq >= 0) {
            value = key.mid(eq + 1);
            key = key.left(eq);
        } else if (const Setting *setting = findSetting(key); setting && setting->isSwitch) {
            value = u"true"_s; // `--bench-hub` alone
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
    if (!checkIdentityProviderOptions(o, error))
        return false;
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
    std::unique_ptr<RedisBackplane> backplane; ///< --redis
    std::unique_ptr<HubServer> server;
    std::unique_ptr<HubServer> metricsServer; ///< --metrics-listen
    std::optional<JwtValidator> validator;
    std::unique_ptr<JwksClient> jwks; ///< the identity provider's keys (jwt-authority/jwks-url)
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
    jwtOptions.userClaim = o.jwtUserClaim;
    jwtOptions.tenantClaim = o.jwtTenantClaim;
    jwtOptions.nameClaims = o.jwtNameClaims;
    jwtOptions.roleClaims = o.jwtRoleClaims;
    jwtOptions.requiredClaims = {o.jwtUserClaim, o.jwtTenantClaim};
    if (!o.jwtAuthority.isEmpty() || !o.jwtJwksUrl.isEmpty()) {
        d->jwks = startIdentityProvider(o, error);
        if (!d->jwks)
            return false;
        d->validator = *JwtValidator::withKeySet(d->jwks->store(), jwtOptions);
    } else if (!o.jwtPublicKeyFile.isEmpty()) {
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
    m.describe("heliograph_tcp_connections", "gauge", "TCP connections being served.");
    m.describe("heliograph_connections_refused_total", "counter",
               "Connections and requests refused by a limit, by reason (max-connections, "
               "request-buffer, pending-negotiations, user-limit, accept-error).");
    m.describe("heliograph_request_buffer_bytes", "gauge",
               "Request bytes held while requests arrive, across all connections.");
    m.describe("heliograph_pending_negotiations", "gauge",
               "Negotiated connections that have not started a transport.");
    m.describe("heliograph_limit", "gauge", "The limits in force, by name.");
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
    d->hub = std::make_unique<NotificationHub>(*d->service, NotificationHubOptions {1000});
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
    config.maxConnections = o.maxConnections >= 0 ? o.maxConnections : defaultMaxConnections();
    config.maxConnectionsPerAddress = o.maxConnectionsPerAddress;
    config.maxRequestBufferBytes = o.maxRequestBufferBytes;
    config.maxPendingNegotiations = o.maxPendingNegotiations;
    config.maxConnectionsPerUser = o.maxConnectionsPerUser;
    for (const auto &[name, value] :
         {std::pair<QByteArray, double> {"max-connections", config.maxConnections},
          {"max-connections-per-address", config.maxConnectionsPerAddress},
          {"max-request-buffer", double(config.maxRequestBufferBytes)},
          {"max-pending-negotiations", config.maxPendingNegotiations},
          {"max-connections-per-user", config.maxConnectionsPerUser},
          {"max-queued-output", double(config.maxQueuedOutputBytes)}})
        m.set("heliograph_limit", {{"name", name}}, value);
    const JwtValidator validator = *d->validator;
    d->server = std::make_unique<HubServer>(
        config, [validator](QByteArrayView token, Principal &p, QString &why) {
            auto claims = validator.validate(token);
            if (!claims) {
                why = claims.error().message;
                return false;
            }
            // Ids from the alphabet group and storage keys are built from, in lower case.
            if (!claims->tenantId.isEmpty() && !Identity::normalizeTenantId(claims->tenantId, &why))
                return false;
            if (!claims->subject.isEmpty() && !Identity::normalizeUserId(claims->subject, &why))
                return false;
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
    if (!o.redis.isEmpty() && !startBackplane(o, error))
        return false;
    // The admin console's nodes: this one alone, or every node with a fresh heartbeat.
    const QString selfName = d->backplane ? QString::fromUtf8(d->backplane->options().nodeName)
                                          : QSysInfo::machineHostName();
    d->adminMonitor->setNodesProvider(
        [backplane = d->backplane.get(), selfName](const ServerHealthDto &health) {
            const NodeDto self {selfName, health.connections, health.uptimeSeconds,
                                health.storageOk && (!backplane || backplane->isAvailable()), true};
            QList<NodeDto> out;
            if (backplane) {
                for (const NodeStatus &n : backplane->nodes()) {
                    const QString name = QString::fromUtf8(n.name);
                    if (name != selfName)
                        out.append({name, n.connections, n.uptimeSeconds, n.healthy, false});
                }
            }
            out.append(self);
            std::sort(out.begin(), out.end(),
                      [](const NodeDto &a, const NodeDto &b) { return a.name < b.name; });
            return out;
        });
    // Service tokens for the push API need no tenant.
    JwtValidationOptions apiOptions = d->validator->options();
    apiOptions.requiredClaims = {o.jwtUserClaim};
    JwtValidator apiValidator = validator;
    if (d->jwks) {
        apiValidator = validator.withOptions(apiOptions);
    } else if (!o.jwtPublicKeyFile.isEmpty()) {
        QFile f(o.jwtPublicKeyFile);
        if (f.open(QIODevice::ReadOnly))
            if (auto v = JwtValidator::withPublicKeyPem(f.readAll(), apiOptions))
                apiValidator = *v;
    } else if (auto v = JwtValidator::withSecret(hs256Secret, apiOptions)) {
        apiValidator = *v;
    }
    d->pushApi = std::make_unique<PushApi>(apiValidator, *d->service, d->hub->presence());
    if (RedisBackplane *backplane = d->backplane.get())
        d->pushApi->setAvailabilityCheck([backplane] { return backplane->unavailableReason(); });
    PushApi *api = d->pushApi.get();
    d->server->addRoute("*", "/api/tenants/",
                        [api](const RouteRequest &r) { return api->handle(r); });
    if (!startSignIn(o, hs256Secret, error))
        return false;
    // /metrics names every tenant: an operator endpoint. On the main listener it needs the
    // metrics token or a JWT of role Operator; --metrics-listen serves it on an address of its
    // own instead (for a scraper on a private network), and the main listener has none.
    auto exposition = [] {
        HttpResponse r(200);
        r.setBody(Metrics::instance().exposition(), "text/plain; version=0.0.4; charset=utf-8");
        r.setHeader("Cache-Control", "no-store");
        return r;
    };
    if (!o.metricsListen) {
        const QByteArray metricsToken = o.metricsToken;
        d->server->addRoute(
            "GET", "/metrics", [exposition, metricsToken, validator](const RouteRequest &r) {
                if (!r.bearerToken.isEmpty()) {
                    if (!metricsToken.isEmpty() && constantTimeEquals(r.bearerToken, metricsToken))
                        return exposition();
                    auto claims = validator.validate(r.bearerToken);
                    if (claims && claims->hasRole("Operator"))
                        return exposition();
                }
                HttpResponse denied(401);
                denied.setHeader("WWW-Authenticate", "Bearer");
                denied.setBody("The metrics need the metrics token or a token "
                               "of role Operator.",
                               "text/plain");
                return denied;
            });
    } else {
        ServerConfig metricsConfig;
        metricsConfig.address = o.metricsListen->first;
        metricsConfig.port = o.metricsListen->second;
        metricsConfig.threads = 1;
        metricsConfig.maxConnections = 64;
        d->metricsServer = std::make_unique<HubServer>(metricsConfig, Authenticator {});
        d->metricsServer->addRoute("GET", "/metrics",
                                   [exposition](const RouteRequest &) { return exposition(); });
        if (!d->metricsServer->listen()) {
            error = u"cannot listen for metrics on %1:%2: %3"_s.arg(
                o.metricsListen->first.toString(), QString::number(o.metricsListen->second),
                d->metricsServer->errorString());
            return false;
        }
    }
    Storage *storage = d->storage.get();
    const QByteArray node = d->backplane ? d->backplane->options().nodeName : QByteArray();
    d->server->addRoute("GET", "/health", [node](const RouteRequest &) {
        HttpResponse r(200);
        // A cluster's node says which it is (a load balancer's health check names it).
        r.setBody(node.isEmpty() ? QByteArray("Healthy") : "Healthy\nnode: " + node, "text/plain");
        if (!node.isEmpty())
            r.setHeader("X-Heliograph-Node", node);
        return r;
    });
    // With an identity provider: not ready until its keys are loaded (no token could pass).
    std::shared_ptr<JwksKeyStore> providerKeys = d->jwks ? d->jwks->store() : nullptr;
    RedisBackplane *backplane = d->backplane.get();
    d->server->addRoute("GET", "/ready", [storage, providerKeys, backplane](const RouteRequest &) {
        if (providerKeys && !providerKeys->current()) {
            HttpResponse r(503);
            r.setBody("Identity provider keys not loaded", "text/plain");
            return r;
        }
        if (backplane && !backplane->isAvailable()) {
            HttpResponse r(503);
            r.setBody(backplane->unavailableReason().toUtf8(), "text/plain");
            return r;
        }
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

bool ServerApp::startBackplane(const ServeOptions &o, QString &error)
{
    BackplaneOptions options;
    std::optional<RedisAddress> address = RedisAddress::parse(o.redis, &error);
    if (!address)
        return false;
    options.address = std::move(*address);
    options.nodeName = o.nodeName;
    if (options.nodeName.isEmpty())
        options.nodeName = QSysInfo::machineHostName().toUtf8() + '-'
            + QByteArray::number(QCoreApplication::applicationPid());
    options.channelPrefix = o.redisPrefix;
    options.messagePackKeyCase = o.hub.messagePackKeyCase;
    d->backplane = std::make_unique<RedisBackplane>(std::move(options));
    // ASP.NET Core's channels carry the hub class's full name; ours have stable names of the
    // same shape, and an operator joining an ASP.NET Core cluster names its classes instead.
    auto join = [&](HubLifetimeManager *lifetime, const QByteArray &hub, const QByteArray &name) {
        if (lifetime)
            lifetime->setBackplane(
                d->backplane->attach(*lifetime, o.backplaneHubNames.value(hub, name)));
    };
    join(d->lifetime.get(), "notifications", "Heliograph.Server.NotificationHub");
    join(d->adminLifetime.get(), "admin", "Heliograph.Server.AdminHub");
    join(d->benchLifetime.get(), "bench", "Heliograph.Server.BenchHub");
    // The heartbeat's figures (asked on the Redis thread: both calls are thread-safe).
    HubLifetimeManager *lifetime = d->lifetime.get();
    auto uptime = std::make_shared<QElapsedTimer>();
    uptime->start();
    d->backplane->setStatusProvider([lifetime, uptime] {
        NodeStatus s;
        s.connections = lifetime->connectionCount();
        s.uptimeSeconds = uptime->elapsed() / 1000;
        return s;
    });
    d->backplane->start();
    qCWarning(lcApp) << "cluster: fan-out is shared over Redis; the notification store, presence, "
                        "documents and the per-user limit are still per node (docs/cluster.md)";
    return true;
}

bool ServerApp::startSignIn(const ServeOptions &o, const QByteArray &hs256Secret, QString &error)
{
    if (hs256Secret.isEmpty()) {
        // With a public key the server cannot issue tokens itself.
        if (o.auth.demo) {
            error = u"demo mode signs tokens itself: it needs jwt-secret or the data folder's "
                    "secret, not jwt-public-key, jwt-authority or jwt-jwks-url"_s;
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

quint16 ServerApp::metricsPort() const
{
    return d->metricsServer ? d->metricsServer->port() : 0;
}

void ServerApp::stop()
{
    d->retention.stop();
    d->jwks.reset(); // no more key fetches; validators keep the last keys
    if (d->metricsServer)
        d->metricsServer->stop();
    d->metricsServer.reset();
    if (d->server)
        d->server->stop();
    d->server.reset();
    // No more deliveries into the lifetime managers below.
    d->backplane.reset();
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
