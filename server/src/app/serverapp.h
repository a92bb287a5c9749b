// SPDX-License-Identifier: MIT
// heliograph-server as a library: the options of the `serve` command, and the running server
// built from them (storage, hubs, HTTP routes, authentication). main.cpp only parses the
// command line; tests start a ServerApp in-process.
#pragma once

#include "auth/authservice.h"
#include "server/hubserver.h"

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
    int threads = 0;
    QList<QByteArray> allowedOrigins;
    bool memoryStorage = false; ///< no SQLite: nothing survives a restart (tests)
    HubOptions hub;
    int maxConnectionsPerUser = 10;
    std::chrono::milliseconds requestHeadersTimeout = 30s;
    double retentionHours = 24; ///< notifications older than this are pruned
    int maxNotificationsPerUser = 1000; ///< the newest N per user are kept
    qsizetype maxQueuedOutputBytes = 4 * 1024 * 1024;
    bool benchHub = false; ///< the unauthenticated benchmark hub at /hubs/bench
    AuthOptions auth; ///< sign-in (/auth/login, /auth/refresh) and demo mode
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
    /// Stop accepting, Close every connection (allowReconnect), flush storage.
    void stop();

private:
    bool startSignIn(const ServeOptions &options, const QByteArray &hs256Secret, QString &error);

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Heliograph::Server
