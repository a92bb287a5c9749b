// SPDX-License-Identifier: MIT
#include "app/settings.h"

#include "app/serverapp.h"
#include "cluster/redisclient.h"

#include <QtCore/QRegularExpression>

#include <limits>

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

namespace {

bool invalid(const char *name, const QString &value, QString &error)
{
    error = u"invalid value for %1: '%2'"_s.arg(QLatin1StringView(name), value);
    return false;
}

bool parseAddress(const char *key, const QString &value, QHostAddress &address, quint16 &portOut,
                  QString &error)
{
    const qsizetype colon = value.lastIndexOf(u':');
    bool ok = false;
    const uint port = QStringView(value).mid(colon + 1).toUInt(&ok);
    if (colon < 0 || !ok || port > 65535) {
        error = u"--%1 expects HOST:PORT, got '%2'"_s.arg(QLatin1StringView(key), value);
        return false;
    }
    QString host = value.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    if (host.isEmpty() || host == u"*"_s || host == u"0.0.0.0"_s)
        address = host == u"0.0.0.0"_s ? QHostAddress(QHostAddress::AnyIPv4)
                                       : QHostAddress(QHostAddress::Any);
    else if (host == u"localhost"_s)
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(host)) {
        error = u"--%1: '%2' is not an IP address"_s.arg(QLatin1StringView(key), host);
        return false;
    }
    portOut = quint16(port);
    return true;
}

std::optional<bool> parseBool(const QString &value)
{
    if (value == u"true"_s || value == u"1"_s)
        return true;
    if (value == u"false"_s || value == u"0"_s)
        return false;
    return std::nullopt;
}

// A row's apply function: a lambda without captures, converted to a function pointer.
#define HG_SETTING_FN(...)                                                                         \
    [](const Setting &self, const QString &value, ServeOptions &o, QString &error) -> bool {       \
        Q_UNUSED(self);                                                                            \
        Q_UNUSED(o);                                                                               \
        __VA_ARGS__                                                                                \
    }

/// Seconds (fractions allowed) into a duration.
template<typename Duration>
bool parseSeconds(const char *name, const QString &value, Duration &out, QString &error,
                  double min = 0)
{
    bool ok = false;
    const double s = value.toDouble(&ok);
    if (!ok || s < min || s > 1e9)
        return invalid(name, value, error);
    out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
    return true;
}

template<typename T>
bool number(const char *name, const QString &value, T &out, QString &error,
            qint64 min = std::numeric_limits<int>::min(),
            qint64 max = std::numeric_limits<T>::max())
{
    bool ok = false;
    const qint64 n = value.toLongLong(&ok);
    if (!ok || n < min || n > max)
        return invalid(name, value, error);
    out = T(n);
    return true;
}

QList<QByteArray> commaList(const QString &value)
{
    QList<QByteArray> out;
    for (const QString &s : value.split(u',', Qt::SkipEmptyParts)) {
        if (!s.trimmed().isEmpty())
            out.append(s.trimmed().toUtf8());
    }
    return out;
}

constexpr auto S = Setting::Group::Server;
constexpr auto T = Setting::Group::Tokens;
constexpr auto A = Setting::Group::SignIn;
constexpr auto C = Setting::Group::Cluster;
constexpr qint64 U32 = std::numeric_limits<quint32>::max();

const Setting Settings[] = {
    // --- the server ---------------------------------------------------------------------------
    {"listen", "HOST:PORT", "`127.0.0.1:5000`",
     "address and port; `0.0.0.0:PORT` or `*:PORT` for all interfaces; port 0 picks a free one "
     "(printed on stdout)",
     S, false, HG_SETTING_FN(return parseAddress(self.name, value, o.address, o.port, error);)},
    {"data", "DIR", "`./heliograph-data`",
     "data folder: `heliograph.db` (SQLite, WAL) and `jwt-hs256.secret`", S, false,
     HG_SETTING_FN(Q_UNUSED(error); o.dataDir = value; return true;)},
    {"storage", "sqlite|memory", "`sqlite`",
     "`sqlite` or `memory` (nothing survives a restart; `--memory` is short for it)", S, false,
     HG_SETTING_FN(if (value != u"sqlite"_s && value != u"memory"_s) {
         error = u"storage must be sqlite or memory"_s;
         return false;
     } o.memoryStorage
                   = value == u"memory"_s;
                   return true;)},
    {"memory", "", "`false`", "short for `storage` `memory`", S, true,
     HG_SETTING_FN(const auto b = parseBool(value); if (!b) return invalid(self.name, value, error);
                   o.memoryStorage = *b; return true;)},
    {"threads", "N", "number of cores", "event-loop threads the connections are spread over", S,
     false, HG_SETTING_FN(return number(self.name, value, o.threads, error, 0, 1024);)},
    {"allowed-origins", "LIST", "none",
     "CORS: comma-separated origins, or `*`; none means same-origin only. A listed origin is "
     "answered with itself and `Access-Control-Allow-Credentials: true`; `*` lets any other "
     "origin in *without* credentials (never both); the opaque origin `null` only when it is "
     "listed itself",
     S, false, HG_SETTING_FN(Q_UNUSED(error); o.allowedOrigins = commaList(value); return true;)},
    {"max-message-size", "BYTES", "`32768`",
     "largest hub message a client may send, framed (0 = unlimited)", S, false,
     HG_SETTING_FN(return number(self.name, value, o.hub.maximumReceiveMessageSize, error, 0);)},
    {"keep-alive", "SECONDS", "`15`", "seconds between server pings", S, false,
     HG_SETTING_FN(return parseSeconds(self.name, value, o.hub.keepAliveInterval, error, 0.001);)},
    {"client-timeout", "SECONDS", "`60`",
     "seconds without anything from a client (after its first ping) before it is closed", S, false,
     HG_SETTING_FN(
         return parseSeconds(self.name, value, o.hub.clientTimeoutInterval, error, 0.001);)},
    {"handshake-timeout", "SECONDS", "`15`", "seconds for the SignalR handshake", S, false,
     HG_SETTING_FN(return parseSeconds(self.name, value, o.hub.handshakeTimeout, error, 0.001);)},
    {"request-timeout", "SECONDS", "`30`",
     "seconds for an HTTP request's headers (slow or idle sockets are closed)", S, false,
     HG_SETTING_FN(return parseSeconds(self.name, value, o.requestHeadersTimeout, error, 0.001);)},
    {"max-queued-output", "BYTES", "`4194304`",
     "bytes queued for a client that does not read before it is disconnected (what was queued "
     "before a message counts: one large result is not a slow reader). An HTTP client that "
     "pipelines requests stops being read once 64 KiB of its responses wait to be sent",
     S, false, HG_SETTING_FN(return number(self.name, value, o.maxQueuedOutputBytes, error, 1);)},
    {"max-connections-per-user", "N", "`10`",
     "connections of one user (tenant and user id) per hub, negotiated or started, checked and "
     "counted in one step; past it negotiate (or a WebSocket without negotiate) answers `429` "
     "\"Too many connections for this user (the limit is N).\" 0: no limit",
     S, false, HG_SETTING_FN(return number(self.name, value, o.maxConnectionsPerUser, error, 0);)},
    {"max-connections", "N", "10 000, or the open-file limit − 64 if lower",
     "TCP connections served at once; past it a new connection is answered `503` "
     "(`Retry-After: 5`) and closed without being read",
     S, false, HG_SETTING_FN(return number(self.name, value, o.maxConnections, error, -1);)},
    {"max-connections-per-address", "N", "`0` (no limit)",
     "TCP connections from one client address at once; past it `503`, closed at once. For a "
     "server exposed directly (behind a proxy or load balancer every client has its "
     "address)",
     S, false,
     HG_SETTING_FN(return number(self.name, value, o.maxConnectionsPerAddress, error, 0);)},
    {"max-request-buffer", "BYTES", "`67108864`",
     "request bytes (unfinished heads and bodies) held across all connections; the request that "
     "would go past it is answered `503` and its connection closed",
     S, false, HG_SETTING_FN(return number(self.name, value, o.maxRequestBufferBytes, error, 0);)},
    {"max-pending-negotiations", "N", "`10000`",
     "negotiated connections that have not started a transport (each is dropped after 15 s); "
     "past it negotiate answers `503`",
     S, false, HG_SETTING_FN(return number(self.name, value, o.maxPendingNegotiations, error, 0);)},
    {"metrics-token", "TOKEN", "—",
     "a secret that may read `/metrics` as `Authorization: Bearer <token>` (a JWT of role "
     "Operator may too)",
     S, false, HG_SETTING_FN(Q_UNUSED(error); o.metricsToken = value.toUtf8(); return true;)},
    {"metrics-listen", "HOST:PORT", "—",
     "serve `/metrics` there, without a token, and not on `listen` (its port is printed as "
     "`metrics listening on port N`)",
     S, false,
     HG_SETTING_FN(if (value.isEmpty()) {
         o.metricsListen.reset();
         return true;
     } std::pair<QHostAddress, quint16>
                       a;
                   if (!parseAddress(self.name, value, a.first, a.second, error)) return false;
                   o.metricsListen = a; return true;)},
    {"retention-hours", "HOURS", "`24`",
     "notifications older than this are deleted (checked at start and every 10 minutes)", S, false,
     HG_SETTING_FN(bool ok = false; o.retentionHours = value.toDouble(&ok);
                   return ok && o.retentionHours > 0 ? true : invalid(self.name, value, error);)},
    {"max-notifications-per-user", "N", "`1000`", "only the newest N are kept per user", S, false,
     HG_SETTING_FN(return number(self.name, value, o.maxNotificationsPerUser, error, 1);)},
    {"messagepack-key-case", "camel|pascal", "`camel`",
     "how MessagePack writes the keys of the objects the hubs send: `camel` (`createdAt`, as "
     "JSON always does; what the JavaScript client shows the app) or `pascal` (`CreatedAt`, "
     "which .NET classes without `[Key]` attributes need). Server-wide; maps that are an app's "
     "own data keep their keys; readers accept either case. See `docs/hubs.md`, \"From .NET and "
     "JavaScript clients\"",
     S, false,
     HG_SETTING_FN(if (value != u"camel"_s && value != u"pascal"_s) {
         error = u"messagepack-key-case must be camel or pascal"_s;
         return false;
     } o.hub.messagePackKeyCase
                   = value == u"pascal"_s ? StructKeyCase::PascalCase : StructKeyCase::CamelCase;
                   return true;)},
    {"detailed-errors", "true|false", "`false`",
     "add exception details to error completions and Close messages", S, false,
     HG_SETTING_FN(Q_UNUSED(error); // anything but true/1 is false, as before
                   o.hub.enableDetailedErrors = value == u"true"_s || value == u"1"_s;
                   return true;)},
    {"bench-hub", "", "`false`",
     "serve the benchmark hub at `/hubs/bench`. **For benchmarks only; unauthenticated**: anyone "
     "who can reach the port may connect, and the user id is whatever the `user` query "
     "parameter says",
     S, true,
     HG_SETTING_FN(const auto b = parseBool(value); if (!b) return invalid(self.name, value, error);
                   o.benchHub = *b; return true;)},
    // --- tokens -------------------------------------------------------------------------------
    {"jwt-secret", "SECRET", "—",
     "HS256 secret (≥ 32 bytes). Without it and without `jwt-public-key`, a random secret is "
     "created in the data folder (mode 0600) and reused",
     T, false, HG_SETTING_FN(Q_UNUSED(error); o.jwtSecret = value.toUtf8(); return true;)},
    {"jwt-public-key", "PEM_FILE", "—",
     "PEM file of an RS256 (RSA ≥ 2048) or ES256 (P-256) public key; excludes `jwt-secret`", T,
     false, HG_SETTING_FN(Q_UNUSED(error); o.jwtPublicKeyFile = value; return true;)},
    {"jwt-issuer", "ISS", "—", "required `iss`", T, false,
     HG_SETTING_FN(Q_UNUSED(error); o.jwtIssuer = value.toUtf8(); return true;)},
    {"jwt-audience", "AUD", "—", "required member of `aud`", T, false,
     HG_SETTING_FN(Q_UNUSED(error); o.jwtAudience = value.toUtf8(); return true;)},
    {"jwt-authority", "URL", "—",
     "an identity provider's issuer URL: its keys come from OpenID Connect discovery; excludes "
     "`jwt-secret`, `jwt-public-key`, `jwt-jwks-url`",
     T, false, HG_SETTING_FN(Q_UNUSED(error); o.jwtAuthority = value.trimmed(); return true;)},
    {"jwt-jwks-url", "URL", "—",
     "an identity provider's JWK Set URL, fetched directly; excludes the three others", T, false,
     HG_SETTING_FN(Q_UNUSED(error); o.jwtJwksUrl = value.trimmed(); return true;)},
    {"jwt-jwks-refresh", "SECONDS", "`3600`",
     "seconds between scheduled refreshes of the provider's keys", T, false,
     HG_SETTING_FN(return number(self.name, value, o.jwtJwksRefreshSeconds, error, 1);)},
    {"jwt-jwks-min-refresh", "SECONDS", "`30`",
     "least seconds between two refreshes caused by tokens with an unknown `kid`", T, false,
     HG_SETTING_FN(bool ok = false; const double s = value.toDouble(&ok);
                   if (!ok || s < 0 || s > 86400) return invalid(self.name, value, error);
                   o.jwtJwksMinRefreshSeconds = s; return true;)},
    {"jwt-user-claim", "CLAIM", "`sub`", "the claim (or dotted path) that is the user id", T, false,
     HG_SETTING_FN(if (value.trimmed().isEmpty()) return invalid(self.name, value, error);
                   o.jwtUserClaim = value.trimmed().toUtf8(); return true;)},
    {"jwt-tenant-claim", "CLAIM", "`tenant_id`", "the claim (or dotted path) that is the tenant id",
     T, false,
     HG_SETTING_FN(if (value.trimmed().isEmpty()) return invalid(self.name, value, error);
                   o.jwtTenantClaim = value.trimmed().toUtf8(); return true;)},
    {"jwt-name-claim", "CLAIM,...", "`name`, then the .NET name claim",
     "comma-separated: the first one holding a non-empty string is the display name", T, false,
     HG_SETTING_FN(QList<QByteArray> claims = commaList(value);
                   if (claims.isEmpty()) return invalid(self.name, value, error);
                   o.jwtNameClaims = std::move(claims); return true;)},
    {"jwt-roles-claim", "CLAIM,...", "`role` and the .NET role claim",
     "comma-separated: the roles are all of these, merged", T, false,
     HG_SETTING_FN(QList<QByteArray> claims = commaList(value);
                   if (claims.isEmpty()) return invalid(self.name, value, error);
                   o.jwtRoleClaims = std::move(claims); return true;)},
    // --- sign-in ------------------------------------------------------------------------------
    {"access-token-lifetime", "SECONDS", "`900`", "seconds an access token is valid (15 min)", A,
     false,
     HG_SETTING_FN(qint64 n = 0; if (!number(self.name, value, n, error, 1, U32)) return false;
                   o.auth.accessTokenLifetime = std::chrono::seconds(n); return true;)},
    {"refresh-token-lifetime", "SECONDS", "`2592000`",
     "seconds a refresh token is valid (30 days); every refresh issues a new one with a new "
     "lifetime",
     A, false,
     HG_SETTING_FN(qint64 n = 0; if (!number(self.name, value, n, error, 1, U32)) return false;
                   o.auth.refreshTokenLifetime = std::chrono::seconds(n); return true;)},
    {"password-hash-memory", "KIB", "`65536`", "Argon2id memory in KiB (64 MiB)", A, false,
     HG_SETTING_FN(
         return number(self.name, value, o.auth.passwordHashing.memoryKiB, error, 0, U32);)},
    {"password-hash-iterations", "N", "`3`", "Argon2id passes", A, false,
     HG_SETTING_FN(
         return number(self.name, value, o.auth.passwordHashing.iterations, error, 0, U32);)},
    {"password-hash-parallelism", "N", "`1`", "Argon2id lanes (1..16)", A, false,
     HG_SETTING_FN(
         return number(self.name, value, o.auth.passwordHashing.parallelism, error, 0, U32);)},
    {"max-failed-logins", "N", "`5`",
     "failed logins per username within `failed-login-window`; more get `429` with "
     "`Retry-After` (0: no limit)",
     A, false,
     HG_SETTING_FN(return number(self.name, value, o.auth.maxFailedLogins, error, 0, 1000000);)},
    {"max-failed-logins-per-address", "N", "`20`",
     "the same per remote address, whatever the usernames", A, false,
     HG_SETTING_FN(
         return number(self.name, value, o.auth.maxFailedLoginsPerAddress, error, 0, 1000000);)},
    {"failed-login-window", "SECONDS", "`60`", "seconds", A, false,
     HG_SETTING_FN(qint64 n = 0; if (!number(self.name, value, n, error, 1, U32)) return false;
                   o.auth.failedLoginWindow = std::chrono::seconds(n); return true;)},
    {"password-hash-threads", "N", "half the cores, at least 1",
     "threads that check login passwords", A, false,
     HG_SETTING_FN(return number(self.name, value, o.auth.hashingThreads, error, 0, 1024);)},
    {"max-pending-logins", "N", "4 × `password-hash-threads`",
     "logins being checked or waiting for a hash thread; more get `503` with "
     "`Retry-After: 1`",
     A, false,
     HG_SETTING_FN(return number(self.name, value, o.auth.maxPendingLogins, error, 0, 1000000);)},
    {"demo", "", "`false`",
     "demo mode: seeds tenants acme and globex with demo users and prints their (public) "
     "passwords",
     A, true,
     HG_SETTING_FN(const auto b = parseBool(value); if (!b) return invalid(self.name, value, error);
                   o.auth.demo = *b; return true;)},
    // --- cluster ------------------------------------------------------------------------------
    {"redis", "URL", "—",
     "`redis://[user:password@]host[:port][/db]`: join the nodes on this Redis. Sends to all, a "
     "group or a user reach every node's connections, in ASP.NET Core's Redis backplane format "
     "(see `docs/cluster.md`). Without it the server is one node",
     C, false,
     HG_SETTING_FN(QString why;
                   if (!RedisAddress::parse(value, &why)) {
                       error = why;
                       return false;
                   } o.redis
                   = value;
                   return true;)},
    {"node-name", "NAME", "host name and process id",
     "this node's name in logs, `/health` and its server names on the backplane", C, false,
     HG_SETTING_FN(const QByteArray name = value.trimmed().toUtf8();
                   if (name.isEmpty() || name.contains(':')
                       || name.size() > 100) return invalid(self.name, value, error);
                   o.nodeName = name; return true;)},
    {"redis-prefix", "PREFIX", "none",
     "prepended to every backplane channel without a separator, as StackExchange.Redis's "
     "`ChannelPrefix` (to share one Redis between clusters)",
     C, false, HG_SETTING_FN(Q_UNUSED(error); o.redisPrefix = value.toUtf8(); return true;)},
    {"backplane-hub-name", "HUB=NAME,...", "`Heliograph.Server.NotificationHub` and alike",
     "the name each hub (`notifications`, `admin`, `bench`) has on the backplane. To join an "
     "ASP.NET Core cluster, the full name of its hub class, e.g. "
     "`notifications=MyApp.Hubs.NotificationHub`",
     C, false,
     HG_SETTING_FN(for (const QString &pair
                        : value.split(u',', Qt::SkipEmptyParts)) {
         const qsizetype eq = pair.indexOf(u'=');
         const QString hub = pair.left(eq).trimmed();
         const QString name = pair.mid(eq + 1).trimmed();
         if (eq <= 0 || name.isEmpty()
             || (hub != u"notifications"_s && hub != u"admin"_s && hub != u"bench"_s)) {
             error = u"backplane-hub-name expects HUB=NAME with HUB one of notifications, "
                     "admin, bench; got '%1'"_s.arg(pair);
             return false;
         }
         o.backplaneHubNames.insert(hub.toUtf8(), name.toUtf8());
     } return true;)},
};

#undef HG_SETTING_FN

/// Markdown to terminal text: code spans lose their backticks, emphasis loses its stars (a star
/// inside a code span, as in `*:PORT`, stays).
QString plain(const char *markdown)
{
    const QStringList parts = QString::fromUtf8(markdown).split(u'`');
    QString out;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        QString part = parts[i];
        if (i % 2 == 0) // outside a code span
            part.remove(u'*');
        out += part;
    }
    return out;
}

/// `text` wrapped at `width` columns, each line indented by `indent` spaces.
QString wrap(const QString &text, int indent, int width)
{
    QString out;
    QString line;
    const QString pad(indent, u' ');
    for (const QString &word : text.split(u' ', Qt::SkipEmptyParts)) {
        if (!line.isEmpty() && indent + line.size() + 1 + word.size() > width) {
            out += pad + line + u'\n';
            line.clear();
        }
        if (!line.isEmpty())
            line += u' ';
        line += word;
    }
    if (!line.isEmpty())
        out += pad + line + u'\n';
    return out;
}

} // namespace

QString Setting::environmentVariable() const
{
    return u"HELIOGRAPH_"_s + QString::fromLatin1(name).toUpper().replace(u'-', u'_');
}

std::span<const Setting> serveSettings()
{
    return Settings;
}

const Setting *findSetting(QStringView name)
{
    for (const Setting &s : Settings) {
        if (QLatin1StringView(s.name) == name)
            return &s;
    }
    return nullptr;
}

QString settingsHelp()
{
    QString out;
    for (const Setting &s : Settings) {
        out += u"  --"_s + QLatin1StringView(s.name);
        if (*s.valueName)
            out += u' ' + QLatin1StringView(s.valueName);
        out += u"   ("_s + s.environmentVariable() + u')' + u'\n';
        out += wrap(plain(s.help) + u" [default: "_s + plain(s.defaultValue) + u']', 6, 100);
    }
    return out;
}

QString settingsMarkdown(Setting::Group group)
{
    QString out = u"| setting | default | meaning |\n| --- | --- | --- |\n"_s;
    for (const Setting &s : Settings) {
        if (s.group == group)
            out += u"| `"_s + QLatin1StringView(s.name) + u"` | "_s
                + QString::fromUtf8(s.defaultValue) + u" | "_s + QString::fromUtf8(s.help)
                + u" |\n"_s;
    }
    return out;
}

} // namespace Heliograph::Server
