// SPDX-License-Identifier: MIT
// Internal to server/src/transport: what HubServer's parts share. The table of logical
// connections (ConnectionEntry, under Private::mutex), the worker threads, and HubServer::Private.
//
// Threading: every socket lives on one event-loop thread (a Worker), whose session registry
// owns it. A logical SignalR connection (HubConnectionContext) lives on the thread of the request
// that started its transport. Requests for it that arrive on other threads (long-polling polls,
// SSE/long-polling POSTs) are forwarded to that thread's worker; the answer goes back to the
// requesting session's worker, which looks the session up by id: it never deletes itself while
// an answer is outstanding, and once stop() has deleted it the answer is dropped. Every
// forwarded request is answered exactly once. Deferred route answers (RouteRequest::defer) may
// come from any thread, even after stop(): they reach the worker through its WorkerLink, which
// stop() cuts once the worker has shut down.
#pragma once

#include "http/httprequestparser.h"
#include "http/httpresponse.h"
#include "signalr/handoff.h"
#include "signalr/hub.h"
#include "signalr/hubconnectioncontext.h"
#include "transport/hubserver.h"
#include "transport/metrics.h"
#include "transport/tcpconnection.h"

#include <heliograph/protocol/hubside.h>

#include <QtCore/QBasicTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QTimerEvent>
#include <QtNetwork/QTcpServer>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace Heliograph::Server {

class Worker;
class LongPollingTransport;
class HttpSession;

enum class TransportKind : quint8 { None, WebSockets, ServerSentEvents, LongPolling };

/// How long a refused client may go on sending before the connection is cut (lingering close).
constexpr std::chrono::milliseconds LingerTime {5000};

inline QByteArrayView transportName(TransportKind k)
{
    switch (k) {
    case TransportKind::WebSockets:
        return "WebSockets";
    case TransportKind::ServerSentEvents:
        return "ServerSentEvents";
    case TransportKind::LongPolling:
        return "LongPolling";
    case TransportKind::None:
        break;
    }
    return "None";
}

struct Endpoint {
    Hub *hub = nullptr;
    HubLifetimeManager *lifetime = nullptr;
    QByteArray refusal; ///< the body of the 403 answer to a caller connectPolicy refuses
};

/// A negotiated logical connection. Fields are guarded by the manager's mutex; `connection` and
/// `longPolling` are only dereferenced on `worker`'s thread.
struct ConnectionEntry {
    QByteArray id;
    QByteArray token;
    Endpoint endpoint;
    Principal principal;
    TransportKind transport = TransportKind::None;
    Worker *worker = nullptr;
    HubConnectionContext *connection = nullptr;
    LongPollingTransport *longPolling = nullptr;
    qint64 createdAt = 0;
    bool stateful = false; ///< negotiated useStatefulReconnect
    QByteArray userKey; ///< the per-user count this entry is in (empty: not counted)
    /// Long polling: messages POSTed before the first poll started the transport (ASP.NET Core
    /// accepts them and keeps them for the connection); handed to it when it starts.
    QByteArray earlySends;
};
using EntryPtr = std::shared_ptr<ConnectionEntry>;

inline qint64 monotonicMs()
{
    static const QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

/// A connection belongs to the identity that negotiated it: the tenant and the user together
/// (two tenants may each have a user "bob").
inline bool sameIdentity(const Principal &a, const Principal &b)
{
    return a.tenantId == b.tenantId && a.userId == b.userId;
}

inline HttpResponse textResponse(int status, QByteArrayView text = {})
{
    HttpResponse r(status);
    if (!text.isEmpty() || status >= 400)
        r.setBody(text.toByteArray(), "text/plain");
    return r;
}

/// The token of an `Authorization: Bearer` header (the scheme in any case); nullopt without one.
inline std::optional<QByteArray> bearerToken(const HttpRequest &request)
{
    constexpr QByteArrayView Scheme = "Bearer ";
    const QByteArrayView auth = request.header("authorization");
    if (auth.size() > Scheme.size()
        && auth.first(Scheme.size()).compare(Scheme, Qt::CaseInsensitive) == 0)
        return auth.sliced(Scheme.size()).trimmed().toByteArray();
    return std::nullopt;
}

/// Long-polling answers must not be cached by anything between the client and the server.
inline void setNoCache(HttpResponse &response)
{
    response.setHeader("Cache-Control", "no-cache, no-store");
    response.setHeader("Pragma", "no-cache");
    response.setHeader("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
}

/// How a deferred route answer, from any thread, reaches a worker: `worker` is null once the
/// worker has shut down (then answers are dropped). Posting happens under `mutex`.
struct WorkerLink {
    QMutex mutex;
    Worker *worker = nullptr;
};

/// One event-loop thread: its epoll set and the sessions (TCP connections) it serves. Every
/// member is used on the worker's thread only.
class Worker : public QObject {
public:
    explicit Worker(HubServer::Private &server)
        : m_server(server)
        , m_link(std::make_shared<WorkerLink>())
    {
        m_link->worker = this;
    }
    /// Deletes the sessions still registered (none once stop() has run).
    ~Worker() override;
    HubServer::Private &server() { return m_server; }
    /// The thread's epoll set; created on first use, which is on the worker's thread.
    Reactor &reactor()
    {
        if (!m_reactor)
            m_reactor = new Reactor(this);
        return *m_reactor;
    }

    /// The session registry. A session joins it when created or when it arrives from another
    /// worker, and leaves it when deleted or when it moves away; ids are never reused, so an id
    /// that is not found is a session that is gone.
    void addSession(quint64 id, HttpSession *session) { m_sessions.insert(id, session); }
    void removeSession(quint64 id) { m_sessions.remove(id); }
    HttpSession *session(quint64 id) const { return m_sessions.value(id); }
    const std::shared_ptr<WorkerLink> &link() const { return m_link; }

    /// HubServer::stop(): ends what is left on this thread: connections started while
    /// stopping, long polls still held, and every session, idle keep-alive ones included.
    void shutDown();

private:
    void cutLink()
    {
        QMutexLocker lock(&m_link->mutex);
        m_link->worker = nullptr;
    }

    HubServer::Private &m_server;
    std::shared_ptr<WorkerLink> m_link;
    Reactor *m_reactor = nullptr;
    QHash<quint64, HttpSession *> m_sessions;
};

struct HubServer::Private {
    HubServer *q = nullptr;
    ServerConfig config;
    QByteArray keepAliveHeader; ///< "timeout=N": how long an idle keep-alive connection lives
    Authenticator authenticator;
    QList<Endpoint> endpoints;
    struct Route {
        QByteArray method;
        QByteArray path;
        RouteHandler handler;
    };
    QList<Route> routes;

    class Listener : public QTcpServer {
    public:
        explicit Listener(Private &p)
            : m_p(p)
        { }

    protected:
        void incomingConnection(qintptr fd) override { m_p.adopt(fd); }

    private:
        Private &m_p;
    };
    std::unique_ptr<Listener> listener;
    class Acceptor;
    Acceptor *acceptor = nullptr; ///< lives on the first worker's thread
    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<Worker *> workers;
    std::atomic<size_t> nextWorker {0};

    mutable QMutex mutex;
    QHash<QByteArray, EntryPtr> connections; ///< by token
    int pending = 0; ///< entries that have not started a transport (under `mutex`)
    QHash<QByteArray, int> perUser; ///< entries per ConnectionEntry::userKey (under `mutex`)
    /// Request bytes held by all sessions' parsers (unfinished heads and bodies).
    std::atomic<qint64> requestBufferBytes {0};
    /// A closed long-polling connection finished draining. Not QWaitCondition: it unlocks and
    /// relocks `mutex` inside libQt6Core, out of ThreadSanitizer's sight.
    std::condition_variable_any drained;
    QBasicTimer sweepTimer;
    std::atomic<bool> stopping {false};
    /// stop() has drained long polling and closes every session now: no keep-alive, no accept.
    /// Until then (while stopping) the listener stays open, so that a long-polling client can
    /// fetch its Close with a new poll, and responses keep their connections alive.
    std::atomic<bool> closingSessions {false};
    std::atomic<quint64> nextSessionId {1};
    std::atomic<int> sessions {0}; ///< HttpSession objects alive or on their way to a worker
    QElapsedTimer refusalLog; ///< rate-limits the log line of refused connections (Acceptor)

    void adopt(qintptr fd);
    /// A session counted in perAddress has ended.
    void releaseAddress(const QByteArray &address);
    QMutex addressMutex;
    QHash<QByteArray, int> perAddress; ///< sessions by peer address (maxConnectionsPerAddress)
    EntryPtr find(const QByteArray &token) const
    {
        QMutexLocker lock(&mutex);
        return connections.value(token);
    }
    /// A new logical connection in the table; for negotiate v0 (and without negotiate) the
    /// token is the id.
    /// Why newEntry() refused.
    enum class Refusal : quint8 { None, UserLimit, PendingLimit };
    /// A new logical connection in the table; for negotiate v0 (and without negotiate) the
    /// token is the id. Checked and counted in one step under `mutex`: the user's connections
    /// of this hub (negotiated or started) against maxConnectionsPerUser, and negotiated
    /// connections that have not started a transport against maxPendingNegotiations.
    EntryPtr newEntry(const Endpoint &endpoint, Principal principal, bool separateToken,
                      Refusal &refusal)
    {
        refusal = Refusal::None;
        auto entry = std::make_shared<ConnectionEntry>();
        if (!endpoint.hub->anonymousIdentity && config.maxConnectionsPerUser > 0)
            entry->userKey
                = endpoint.hub->path() + '\n' + principal.tenantId + '\n' + principal.userId;
        QMutexLocker lock(&mutex);
        if (!entry->userKey.isEmpty()
            && perUser.value(entry->userKey) >= config.maxConnectionsPerUser) {
            refusal = Refusal::UserLimit;
            return {};
        }
        if (config.maxPendingNegotiations > 0 && pending >= config.maxPendingNegotiations) {
            refusal = Refusal::PendingLimit;
            return {};
        }
        entry->id = Negotiate::newConnectionId();
        entry->token = separateToken ? Negotiate::newConnectionId() : entry->id;
        entry->endpoint = endpoint;
        entry->principal = std::move(principal);
        entry->createdAt = monotonicMs();
        connections.insert(entry->token, entry);
        ++pending;
        if (!entry->userKey.isEmpty())
            ++perUser[entry->userKey];
        return entry;
    }
    /// The entry starts its transport (under `mutex`).
    void startTransportLocked(ConnectionEntry &entry, TransportKind kind, Worker *worker)
    {
        if (entry.transport == TransportKind::None && kind != TransportKind::None)
            --pending;
        entry.transport = kind;
        entry.worker = worker;
    }
    /// Removes the entry from the table and from the counts (under `mutex`).
    void eraseLocked(const EntryPtr &entry)
    {
        const auto it = connections.constFind(entry->token);
        if (it == connections.cend() || *it != entry)
            return;
        connections.erase(it);
        forgetLocked(*entry);
    }
    void forgetLocked(ConnectionEntry &entry)
    {
        if (entry.transport == TransportKind::None)
            --pending;
        if (!entry.userKey.isEmpty()) {
            auto u = perUser.find(entry.userKey);
            if (u != perUser.end() && --*u <= 0)
                perUser.remove(entry.userKey);
            entry.userKey.clear();
        }
    }
    void removeEntry(const EntryPtr &entry)
    {
        QMutexLocker lock(&mutex);
        eraseLocked(entry);
    }
    void sweep();

    /// CORS: the headers for `request`'s Origin, if it is allowed.
    void addCors(const HttpRequest &request, HttpResponse &response) const
    {
        addCors(request.header("origin"), response);
    }
    void addCors(QByteArrayView origin, HttpResponse &response) const
    {
        if (origin.isEmpty() || config.allowedOrigins.isEmpty())
            return;
        // A listed origin is reflected with credentials. "*" allows any other origin without
        // them (a wildcard never comes with credentials, as the CORS standard and ASP.NET
        // Core's policy builder require), and never the opaque origin "null" (sandboxed
        // frames, file: pages, some redirects), which is allowed only when listed itself.
        bool listed = false;
        bool wildcard = false;
        for (const QByteArray &o : config.allowedOrigins) {
            if (o == "*")
                wildcard = true;
            else if (QByteArrayView(o).compare(origin, Qt::CaseInsensitive) == 0)
                listed = true;
        }
        response.addHeader("Vary", "Origin");
        if (listed) {
            response.setHeader("Access-Control-Allow-Origin", origin);
            response.setHeader("Access-Control-Allow-Credentials", "true");
        } else if (wildcard && origin != "null") {
            response.setHeader("Access-Control-Allow-Origin", "*");
        }
    }

    bool authenticate(const Endpoint &endpoint, const HttpRequest &request,
                      const QueryString &query, Principal &principal, QString &error,
                      QByteArray *tokenOut = nullptr) const
    {
        if (endpoint.hub->anonymousIdentity) { // a hub without tokens names its callers itself
            principal = endpoint.hub->anonymousIdentity(query.items());
            return true;
        }
        // The Authorization header wins; browsers' WebSockets and SSE can only use the query.
        QByteArray token = bearerToken(request).value_or(query.value("access_token"));
        if (tokenOut)
            *tokenOut = token;
        if (!token.isEmpty() && authenticator && authenticator(token, principal, error))
            return true;
        if (token.isEmpty())
            error = QStringLiteral("no access token");
        Metrics::instance().add("heliograph_auth_failures_total", {});
        return false;
    }
};

} // namespace Heliograph::Server
