// SPDX-License-Identifier: MIT
// The HTTP side of the hub server: listens, spreads connections over event-loop threads, and
// serves the SignalR endpoints of every hub (negotiate, WebSockets, Server-Sent Events, long
// polling) plus the application's own routes.
#pragma once

#include "http/httprequestparser.h"
#include "http/httpresponse.h"
#include "signalr/hubtypes.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

#include <functional>
#include <memory>

namespace Heliograph::Server {

class Hub;
class HubLifetimeManager;

struct ServerConfig {
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 0; ///< 0: any free port (see HubServer::port())
    int threads = 0; ///< event-loop threads; 0: one per core
    HubOptions hub;
    /// Origins allowed by CORS; "*" allows any. Empty: no CORS headers (same-origin only).
    QList<QByteArray> allowedOrigins;
    std::chrono::milliseconds longPollTimeout = 90s;
    /// How long a negotiated connection, or a long-polling one between polls, may stay idle.
    std::chrono::milliseconds disconnectTimeout = 15s;
    HttpRequestLimits httpLimits;
    /// Offer stateful reconnect (WebSockets) to clients that ask for it in negotiate.
    bool allowStatefulReconnects = true;
    /// A client that does not read: the connection is closed once this much output is queued.
    qsizetype maxQueuedOutputBytes = 4 * 1024 * 1024;
    /// Requests that have not completed their headers within this time are cut off.
    std::chrono::milliseconds requestHeadersTimeout = 30s;
    /// Pending TCP connections the kernel queues before accept (capped by net.core.somaxconn).
    int listenBacklog = 4096;
    /// TCP connections served at once (0: no limit). Past it a new connection is answered 503
    /// and closed at once.
    int maxConnections = 10000;
    /// TCP connections from one client address at once (0: no limit, the default, since behind
    /// a load balancer or proxy every client has its address). Past it: 503, closed at once.
    int maxConnectionsPerAddress = 0;
    /// Request bytes held across all connections while requests arrive (unfinished heads and
    /// bodies; 0: no limit). A request that would take the total past it is answered 503.
    qint64 maxRequestBufferBytes = 64 * 1024 * 1024;
    /// Negotiated connections that have not started a transport yet (0: no limit); past it
    /// negotiate answers 503.
    int maxPendingNegotiations = 10000;
    /// Connections of one user (tenant and user id) per hub, negotiated or started, counted in
    /// one step with the check (0: no limit); past it negotiate answers 429. Hubs that name
    /// their callers themselves (Hub::anonymousIdentity) are not counted.
    int maxConnectionsPerUser = 0;
    /// An HTTP connection whose unsent responses exceed this stops being read (pipelined
    /// requests wait in the kernel) until they have been sent.
    qsizetype httpOutputHighWater = 64 * 1024;
};

/// Turns an access token into a principal, or says why not (never echoing the token).
using Authenticator
    = std::function<bool(QByteArrayView token, Principal &principal, QString &error)>;

/// The answer to a deferred route request (RouteRequest::defer). Call it once, from any thread;
/// it sends nothing when the client has gone or the server has stopped in the meantime. If it
/// is destroyed without having been called, the request gets 500.
using RouteResponder = std::function<void(HttpResponse response)>;

/// An application route: runs on the thread of the request's connection.
struct RouteRequest {
    const HttpRequest &http;
    QByteArrayView bearerToken;
    QByteArray remoteAddress;
    /// Answers later, for handlers that must not hold up the connection's thread (long work
    /// elsewhere): called while the handler runs, it makes the server ignore the handler's
    /// return value and returns the responder that answers instead. The connection reads no
    /// further request until then. Empty where requests are not served by HubServer.
    std::function<RouteResponder()> defer = {};
};
using RouteHandler = std::function<HttpResponse(const RouteRequest &request)>;

class HubServer : public QObject {
    Q_OBJECT
public:
    HubServer(ServerConfig config, Authenticator authenticator, QObject *parent = nullptr);
    ~HubServer() override;

    /// Serves `hub` at hub.path(); both must outlive the server. Every request that opens or
    /// uses a connection of the hub (negotiate, the WebSocket upgrade, Server-Sent Events, long
    /// polling, DELETE) is authenticated, then checked against hub.connectPolicy: a caller it
    /// refuses gets 403 Forbidden with `refusal` as its text/plain body (empty: no text).
    void addHub(Hub &hub, HubLifetimeManager &lifetime, QByteArray refusal = {});
    /// `path` matches exactly, or as a prefix when it ends with '/'; method "*" takes any.
    void addRoute(QByteArray method, QByteArray path, RouteHandler handler);

    bool listen();
    quint16 port() const;
    QString errorString() const;
    int threadCount() const;
    /// Logical connections (negotiated or connected).
    int connectionCount() const;
    /// TCP connections being served (HTTP, WebSocket, Server-Sent Events), idle ones included.
    int sessionCount() const;

    /// Stops accepting, sends Close (allowReconnect) to every connection, closes every TCP
    /// connection (idle keep-alive ones too), ends the threads. Blocks; not restartable (create
    /// a new server, also on the same port).
    void stop();

    struct Private;

private:
    std::unique_ptr<Private> d;
};

} // namespace Heliograph::Server
