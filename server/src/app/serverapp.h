// SPDX-License-Identifier: MIT
// heliograph-server as a library: the options of the `serve` command, and the running server
// built from them (storage, hubs, HTTP routes, authentication). main.cpp only parses the
// command line; tests start a ServerApp in-process.
#pragma once

#include "auth/authservice.h"
#include "auth/jwt.h"
#include "transport/hubserver.h"

#include <QtCore/QHash>
#include <QtCore/QString>

#include <memory>
#include <optional>

namespace Heliograph::Server {

struct ServeOptions {
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 5000;
    QString dataDir; ///< empty: ./heliograph-data
    QByteArray jwtSecret; ///< HS256; empty and no public key: the data folder's secret
    QString jwtPublicKeyFile; ///< RS256/ES256 PEM
    QByteArray jwtIssuer;
    QByteArray jwtAudience;
    /// An identity provider's keys instead of jwtSecret / jwtPublicKeyFile: OpenID Connect
    /// discovery from its issuer URL, or a JWK Set URL (https; http only to loopback).
    QString jwtAuthority;
    QString jwtJwksUrl;
    int jwtJwksRefreshSeconds = 3600; ///< scheduled refresh of the provider's keys
    double jwtJwksMinRefreshSeconds = 30; ///< least time between refreshes for unknown `kid`s
    /// Claims (names or dotted paths) the principal is read from (JwtValidationOptions).
    QByteArray jwtUserClaim {"sub"};
    QByteArray jwtTenantClaim {"tenant_id"};
    QList<QByteArray> jwtNameClaims {QByteArray("name"), QByteArray(DotNetNameClaim)};
    QList<QByteArray> jwtRoleClaims {QByteArray("role"), QByteArray(DotNetRoleClaim)};
    int threads = 0;
    QList<QByteArray> allowedOrigins;
    bool memoryStorage = false; ///< no SQLite: nothing survives a restart (tests)
    HubOptions hub;
    int maxConnectionsPerUser = 10;
    std::chrono::milliseconds requestHeadersTimeout = 30s;
    double retentionHours = 24; ///< notifications older than this are pruned
    int maxNotificationsPerUser = 1000; ///< the newest N per user are kept
    qsizetype maxQueuedOutputBytes = 4 * 1024 * 1024;
    /// TCP connections at once; -1: min(10000, the open-file limit - 64).
    int maxConnections = -1;
    int maxConnectionsPerAddress = 0;
    qint64 maxRequestBufferBytes = 64 * 1024 * 1024;
    int maxPendingNegotiations = 10000;
    /// /metrics: a bearer token that may read it (besides a JWT of role Operator).
    QByteArray metricsToken;
    /// /metrics on its own address (no token there; the main listener's /metrics is 404).
    std::optional<std::pair<QHostAddress, quint16>> metricsListen;
    bool benchHub = false; ///< the unauthenticated benchmark hub at /hubs/bench
    AuthOptions auth; ///< sign-in (/auth/login, /auth/refresh) and demo mode
    /// Several nodes (docs/cluster.md): the Redis URL (empty: one node), this node's name
    /// (empty: host name and pid), the channel prefix, and hub names on the backplane by hub.
    QString redis;
    QByteArray nodeName;
    QByteArray redisPrefix;
    QHash<QByteArray, QByteArray> backplaneHubNames;
};

/// Reads `--config FILE` (JSON), HELIOGRAPH_* environment variables and flags, in that order of
/// increasing precedence, into `options`. `args` are the arguments after `serve`.
bool parseServeOptions(const QStringList &args, ServeOptions &options, QString &error);

class ServerApp {
public:
    ServerApp();
    ~ServerApp();
    /// Opens storage and starts listening.
    bool start(const ServeOptions &options, QString &error);
    quint16 port() const;
    /// The port of the metrics listener (metricsListen), or 0.
    quint16 metricsPort() const;
    /// Stop accepting, Close every connection (allowReconnect), flush storage.
    void stop();

private:
    bool startSignIn(const ServeOptions &options, const QByteArray &hs256Secret, QString &error);
    bool startBackplane(const ServeOptions &options, QString &error);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Heliograph::Server
