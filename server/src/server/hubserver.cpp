// SPDX-License-Identifier: MIT
// Threading: every socket lives on one event-loop thread (a Worker), whose session registry
// owns it. A logical SignalR connection (HubConnection) lives on the thread of the request that
// started its transport. Requests for it that arrive on other threads (long-polling polls,
// SSE/long-polling POSTs) are forwarded to that thread's worker; the answer goes back to the
// requesting session's worker, which looks the session up by id: it never deletes itself while
// an answer is outstanding, and once stop() has deleted it the answer is dropped. Every
// forwarded request is answered exactly once. Deferred route answers (RouteRequest::defer) may
// come from any thread, even after stop(): they reach the worker through its WorkerLink, which
// stop() cuts once the worker has shut down.
#include "server/hubserver.h"

#include "http/websocket.h"
#include "server/metrics.h"
#include "server/tcpconnection.h"
#include "signalr/handoff.h"
#include "signalr/hub.h"
#include "signalr/hubconnection.h"
#include "signalr/lifetimemanager.h"

#include <heliograph/client/negotiate.h>

#include <QtCore/QBasicTimer>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>
#include <QtCore/QThread>
#include <QtCore/QTimerEvent>
#include <QtNetwork/QTcpServer>

#include <atomic>
#include <condition_variable>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcHttp, "heliograph.server.http", QtInfoMsg)

namespace Heliograph::Server {

class Worker;
class LongPollingTransport;

namespace {

enum class TransportKind : quint8 { None, WebSockets, ServerSentEvents, LongPolling };

/// How long a refused client may go on sending before the connection is cut (lingering close).
constexpr std::chrono::milliseconds LingerTime {5000};

QByteArrayView transportName(TransportKind k)
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
    HubConnection *connection = nullptr;
    LongPollingTransport *longPolling = nullptr;
    qint64 createdAt = 0;
    bool stateful = false; ///< negotiated useStatefulReconnect
    QByteArray userKey; ///< the per-user count this entry is in (empty: not counted)
    /// Long polling: messages POSTed before the first poll started the transport (ASP.NET Core
    /// accepts them and keeps them for the connection); handed to it when it starts.
    QByteArray earlySends;
};
using EntryPtr = std::shared_ptr<ConnectionEntry>;

qint64 monotonicMs()
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
bool sameIdentity(const Principal &a, const Principal &b)
{
    return a.tenantId == b.tenantId && a.userId == b.userId;
}

HttpResponse textResponse(int status, QByteArrayView text = {})
{
    HttpResponse r(status);
    if (!text.isEmpty() || status >= 400)
        r.setBody(text.toByteArray(), "text/plain");
    return r;
}

} // namespace

class HttpSession;

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
        auto it = connections.find(entry->token);
        if (it == connections.end() || *it != entry)
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
                perUser.erase(u);
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
        QByteArray token;
        const QByteArrayView auth = request.header("authorization");
        if (auth.size() > 7 && auth.first(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
            token = auth.sliced(7).trimmed().toByteArray();
        else
            token = query.value("access_token");
        if (tokenOut)
            *tokenOut = token;
        if (!token.isEmpty() && authenticator && authenticator(token, principal, error))
            return true;
        if (token.isEmpty())
            error = u"no access token"_s;
        Metrics::instance().add("heliograph_auth_failures_total", {});
        return false;
    }
};

// --- long polling -----------------------------------------------------------------------------

/// Output buffer + the outstanding poll of a long-polling connection. Lives on the connection's
/// thread.
class LongPollingTransport : public QObject, public ConnectionTransport {
public:
    using Reply = std::function<void(HttpResponse)>;

    LongPollingTransport(HubServer::Private &server, EntryPtr entry)
        : m_server(server)
        , m_entry(std::move(entry))
    {
        m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
    }

    TransferFormat supportedFormats() const override
    {
        return TransferFormat::Text | TransferFormat::Binary;
    }
    bool hasInherentKeepAlive() const override { return true; }

    void write(const QByteArray &bytes) override
    {
        // Over the limit before this message: the client has stopped polling. One message
        // larger than the limit is not a reason (a large result is not a slow reader).
        const bool overLimit = m_buffer.size() > m_server.config.maxQueuedOutputBytes;
        m_buffer.append(bytes.constData(), bytes.size()); // copied: see HubConnection::writeRaw
        if (overLimit) {
            qCInfo(lcHttp) << "connection" << m_entry->id
                           << "long-polling client is not polling: closing";
            m_buffer.clear();
            // Queued: ending the connection here would re-enter the hub from inside a send.
            postTo(this, [this] { dispose(); });
            return;
        }
        flush();
    }

    void end() override
    {
        m_ended = true;
        flush();
    }

    void poll(Reply reply)
    {
        if (m_pending) // a newer poll supersedes the outstanding one
            std::exchange(m_pending, nullptr)(textResponse(204));
        m_idle.stop();
        if (m_disposed) {
            reply(textResponse(204));
            return;
        }
        m_pending = std::move(reply);
        m_pollTimer.start(int(m_server.config.longPollTimeout.count()), this);
        flush();
    }

    /// Output the client has not polled yet.
    bool hasUndelivered() const noexcept { return !m_buffer.isEmpty() && !m_disposed; }
    /// After the connection ended: called once everything was polled (or the client is gone).
    void setOnFinished(std::function<void()> f) { m_onFinished = std::move(f); }

    /// DELETE, timeout, or a client that stopped polling.
    void dispose()
    {
        if (m_disposed)
            return;
        m_disposed = true;
        if (auto f = std::exchange(m_onFinished, nullptr))
            postTo(this, std::move(f));
        if (m_pending)
            std::exchange(m_pending, nullptr)(textResponse(204));
        m_pollTimer.stop();
        m_idle.stop();
        if (HubConnection *c = m_entry->connection)
            c->transportEnded();
    }

protected:
    void timerEvent(QTimerEvent *e) override
    {
        if (e->timerId() == m_pollTimer.timerId()) {
            m_pollTimer.stop();
            if (m_pending) { // nothing to say within the poll timeout: an empty 200
                HttpResponse r(200);
                r.setBody({}, "text/plain");
                std::exchange(m_pending, nullptr)(std::move(r));
                m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
            }
        } else if (e->timerId() == m_idle.timerId()) {
            qCInfo(lcHttp) << "connection" << m_entry->id
                           << "long polling: no poll within the disconnect timeout";
            dispose();
        }
    }

private:
    void flush()
    {
        if (!m_pending)
            return;
        if (!m_buffer.isEmpty()) {
            HttpResponse r(200);
            r.setBody(std::exchange(m_buffer, {}), "application/octet-stream");
            std::exchange(m_pending, nullptr)(std::move(r));
        } else if (m_ended) {
            std::exchange(m_pending, nullptr)(textResponse(204));
            dispose();
        } else {
            return;
        }
        m_pollTimer.stop();
        if (!m_disposed)
            m_idle.start(int(m_server.config.disconnectTimeout.count()), this);
    }

    HubServer::Private &m_server;
    EntryPtr m_entry;
    QByteArray m_buffer;
    Reply m_pending;
    QBasicTimer m_pollTimer;
    QBasicTimer m_idle;
    bool m_ended = false;
    bool m_disposed = false;
    std::function<void()> m_onFinished;
};

// --- one TCP connection ------------------------------------------------------------------------

class HttpSession : public QObject, public ConnectionTransport, public TcpConnection::Handler {
public:
    /// `addressKey`: the peer address this session is counted under (maxConnectionsPerAddress),
    /// or null.
    HttpSession(HubServer::Private &server, Worker &worker, qintptr fd, QByteArray addressKey)
        : m_server(server)
        , m_worker(&worker)
        , m_id(server.nextSessionId++)
        , m_socket(std::make_unique<TcpConnection>(int(fd), *this))
        , m_parser(server.config.httpLimits)
        , m_addressKey(std::move(addressKey))
    {
        join(worker);
        m_remote = m_socket->peerAddress();
        if (!m_socket->attach(worker.reactor()))
            return; // closed() has scheduled the deletion
        m_headerTimer.start(int(server.config.requestHeadersTimeout.count()), this);
    }
    ~HttpSession() override
    {
        if (HubConnection *c = std::exchange(m_connection, nullptr))
            c->transportEnded();
        if (m_registered)
            m_worker->removeSession(m_id);
        m_socket.reset();
        releaseHeldBytes();
        if (!m_addressKey.isNull())
            m_server.releaseAddress(m_addressKey);
        --m_server.sessions; // counted by adopt()
    }

    // ConnectionTransport (WebSockets and Server-Sent Events)
    TransferFormat supportedFormats() const override
    {
        return m_mode == Mode::ServerSentEvents ? TransferFormat::Text
                                                : TransferFormat::Text | TransferFormat::Binary;
    }
    void setTransferFormat(TransferFormat f) override { m_binary = f == TransferFormat::Binary; }
    void write(const QByteArray &bytes) override
    {
        if (m_mode == Mode::WebSocket) {
            QByteArray frame;
            frame.reserve(bytes.size() + WebSocket::MaxHeaderSize);
            WebSocket::appendHeader(frame,
                                    m_binary ? WebSocket::Opcode::Binary : WebSocket::Opcode::Text,
                                    quint64(bytes.size()));
            frame += bytes;
            writeSocket(frame);
        } else if (m_mode == Mode::ServerSentEvents) {
            // Compact JSON never holds a raw line feed, so each batch is one "data:" line.
            writeSocket(QByteArray("data: " + bytes + "\r\n\r\n"));
        }
    }
    void end() override
    {
        m_connection = nullptr;
        if (m_mode == Mode::WebSocket) {
            writeSocket(WebSocket::closeFrame(WebSocket::CloseCode::Normal));
            m_closeSent = true;
            // Wait (briefly) for the client's close frame, then close the TCP connection.
            m_headerTimer.start(5000, this);
        } else {
            m_socket->disconnectFromHost();
        }
        m_socket->flush(); // now: HubServer::stop() may end this thread before its loop writes
    }

    /// A reply to a request this session forwarded to another thread.
    void deliver(HttpResponse response, bool keepAlive)
    {
        m_waiting = false;
        if (m_orphaned) {
            deleteLater();
            return;
        }
        sendResponse(response, keepAlive && !m_server.closingSessions);
        processRequests();
    }

    /// The answer of a deferred route request (see deferRoute()).
    void deliverDeferred(HttpResponse response)
    {
        if (!m_orphaned)
            m_server.addCors(m_deferredOrigin, response);
        m_deferredOrigin.clear();
        deliver(std::move(response), m_deferredKeepAlive);
    }

    /// HubServer::stop(): closes the TCP connection now, whatever it is doing. What was written
    /// goes out first (as far as the kernel takes it); what the client sent and nobody read is
    /// dropped first, so that the close is a FIN, not a reset that could destroy the response.
    void closeForShutdown()
    {
        m_headerTimer.stop();
        if (m_socket->state() == TcpConnection::State::Closed)
            return;
        m_socket->flush();
        for (int i = 0; i < 4 && !m_socket->readAll().isEmpty(); ++i) { }
        m_socket->abort(); // closed(): the session ends as for a client that went away
    }

protected:
    void timerEvent(QTimerEvent *e) override
    {
        if (e->timerId() != m_headerTimer.timerId())
            return;
        m_headerTimer.stop();
        if (m_mode == Mode::Http && !m_waiting) {
            qCInfo(lcHttp) << "closing" << m_remote << ": request headers timeout";
            m_socket->abort();
        } else if (m_mode == Mode::WebSocket && m_closeSent) {
            m_socket->abort();
        } else if (m_mode == Mode::Lingering) {
            m_socket->abort(); // the client kept sending past the linger time
        }
    }

private:
    enum class Mode : quint8 { Http, WebSocket, ServerSentEvents, Lingering };

    /// Ends a connection whose client may still be sending: a refused request (400, 413, 431).
    /// Closing at once would make the kernel answer the unread bytes with a reset, which can
    /// destroy the response before the client has read it (RFC 9112, section 9.6). Instead:
    /// write the response, half-close once it has left, and read and drop what still arrives
    /// until the client closes or the linger time is up.
    void lingeringClose(const QByteArray &response)
    {
        m_mode = Mode::Lingering;
        m_headerTimer.start(int(LingerTime.count()), this);
        m_socket->write(response);
        m_socket->shutdownWrite(); // once the response has left
    }

    // TcpConnection::Handler
    void readable() override { onReadyRead(); }
    void closed() override { onDisconnected(); }
    void drained() override
    {
        if (!m_outputBlocked)
            return;
        // Pipelined requests go on once the client has taken the responses.
        m_outputBlocked = false;
        m_socket->setReadingPaused(false);
        processRequests();
        accountHeldBytes();
    }

    /// Keeps the server-wide count of buffered request bytes up to date with this session's
    /// parser. A session that would take the total past the limit gets 503 and is closed: the
    /// server's memory is bounded whatever many clients hold unfinished requests.
    void accountHeldBytes()
    {
        const qint64 held = m_mode == Mode::Http ? m_parser.heldBytes() : 0;
        const qint64 delta = held - m_heldBytes;
        if (delta == 0)
            return;
        const qint64 total = m_server.requestBufferBytes.fetch_add(delta) + delta;
        m_heldBytes = held;
        const qint64 limit = m_server.config.maxRequestBufferBytes;
        if (delta > 0 && limit > 0 && total > limit) {
            qCInfo(lcHttp) << "refusing a request from" << m_remote << ": request buffers hold"
                           << total << "bytes, over the limit of" << limit;
            Metrics::instance().add("heliograph_connections_refused_total",
                                    {{"reason", "request-buffer"}});
            releaseHeldBytes();
            m_parser = HttpRequestParser(m_server.config.httpLimits); // frees the buffers
            HttpResponse r = textResponse(503, "The server is busy; try again later.");
            r.setHeader("Retry-After", "5");
            r.setConnectionClose();
            lingeringClose(r.serialize());
        }
    }
    void releaseHeldBytes()
    {
        if (m_heldBytes != 0)
            m_server.requestBufferBytes.fetch_sub(std::exchange(m_heldBytes, 0));
    }

    void writeSocket(const QByteArray &bytes)
    {
        if (!m_socket->isConnected())
            return;
        // What is still queued from before is what tells a client that does not read; a single
        // message larger than the limit is sent (a large result is not a slow reader).
        if (m_socket->bytesToWrite() > m_server.config.maxQueuedOutputBytes) {
            qCInfo(lcHttp) << "closing" << m_remote
                           << ": the client does not read (output queue full)";
            // Queued: a synchronous abort re-enters the hub (OnDisconnected) from inside a send.
            postTo(this, [this] { m_socket->abort(); });
            return;
        }
        m_socket->write(bytes);
    }

    void onReadyRead()
    {
        if (m_migrating)
            return; // the bytes wait in the socket until the session has moved
        const QByteArray data = m_socket->readAll();
        if (m_mode == Mode::WebSocket) {
            m_frames->feed(data);
            processFrames();
        } else if (m_mode == Mode::Http) {
            m_parser.feed(data);
            processRequests();
            accountHeldBytes();
        }
        // SSE: the client has nothing to say on this socket; lingering: dropped.
    }

    /// The client resumed its stateful connection on another socket before this one was seen
    /// to drop: this socket is dropped without a word to the connection.
    void supersede()
    {
        m_connection = nullptr;
        m_socket->abort();
    }

    void onDisconnected()
    {
        // A WebSocket that ends without a close frame may come back (stateful reconnect).
        if (HubConnection *c = std::exchange(m_connection, nullptr)) {
            if (m_mode == Mode::WebSocket && !m_closeSent)
                c->transportLost();
            else
                c->transportEnded();
        }
        if (m_waiting) {
            m_orphaned = true; // deleted when the outstanding answer arrives
            return;
        }
        deleteLater();
    }

    void processRequests()
    {
        while (m_mode == Mode::Http && !m_waiting && m_socket->isConnected() && !m_outputBlocked) {
            if (m_socket->bytesToWrite() > m_server.config.httpOutputHighWater) {
                m_socket->flush();
                if (m_socket->bytesToWrite() > m_server.config.httpOutputHighWater) {
                    // A client that pipelines requests and does not read the responses: no
                    // more reading or parsing until it has taken them (drained()). The
                    // request timeout still runs, so one that never reads is cut off.
                    m_outputBlocked = true;
                    m_socket->setReadingPaused(true);
                    return;
                }
            }
            auto r = m_parser.next();
            if (r.status == HttpRequestParser::Status::NeedMoreData) {
                if (m_parser.takeExpectContinue())
                    m_socket->write(HttpResponse::continueResponse().toByteArray());
                return;
            }
            if (r.status == HttpRequestParser::Status::Error) {
                qCInfo(lcHttp) << "bad request from" << m_remote << r.error.status
                               << r.error.reason;
                lingeringClose(HttpResponse::errorResponse(r.error));
                return;
            }
            m_headerTimer.stop();
            handle(r.request);
            if (m_mode == Mode::Http && !m_waiting)
                m_headerTimer.start(int(m_server.config.requestHeadersTimeout.count()), this);
        }
    }

    void sendResponse(HttpResponse &response, bool keepAlive)
    {
        if (!keepAlive)
            response.setConnectionClose();
        else
            response.setHeader("Keep-Alive", m_server.keepAliveHeader);
        m_socket->write(response.serialize());
        if (m_server.stopping)
            m_socket->flush(); // the thread may end before the event loop writes it
        if (!keepAlive)
            m_socket->disconnectFromHost();
    }

    void respondUnauthorized(const HttpRequest &request)
    {
        HttpResponse r = textResponse(401);
        r.setHeader("WWW-Authenticate", "Bearer");
        respond(request, std::move(r));
    }

    /// The endpoint's connect policy, checked after authentication: false (and 403 sent) when
    /// it refuses `principal`, as ASP.NET Core's authorization of a hub endpoint does.
    bool admit(const HttpRequest &request, const Endpoint &endpoint, const Principal &principal,
               QByteArrayView what)
    {
        if (endpoint.hub->connectPolicy.allows(principal))
            return true;
        qCInfo(lcHttp) << what << "from" << m_remote << "tenant" << principal.tenantId << "user"
                       << principal.userId << "forbidden by the connect policy of"
                       << endpoint.hub->path();
        respond(request, textResponse(403, endpoint.refusal));
        return false;
    }

    void respond(const HttpRequest &request, HttpResponse response)
    {
        m_server.addCors(request, response);
        sendResponse(response, request.keepAlive && !m_server.closingSessions);
    }

    /// Answers a negotiate (or a WebSocket without negotiate) that newEntry() refused.
    void refuseEntry(const HttpRequest &request, HubServer::Private::Refusal refusal)
    {
        if (refusal == HubServer::Private::Refusal::UserLimit) {
            Metrics::instance().add("heliograph_connections_refused_total",
                                    {{"reason", "user-limit"}});
            respond(request,
                    textResponse(429,
                                 u"Too many connections for this user (the limit is %1)."_s
                                     .arg(m_server.config.maxConnectionsPerUser)
                                     .toUtf8()));
            return;
        }
        Metrics::instance().add("heliograph_connections_refused_total",
                                {{"reason", "pending-negotiations"}});
        HttpResponse r
            = textResponse(503, "Too many connections are being negotiated; try again later.");
        r.setHeader("Retry-After", "5");
        respond(request, std::move(r));
    }

    /// Hands what was POSTed before the transport started to the new connection.
    void receiveEarlySends(const EntryPtr &entry, HubConnection *c)
    {
        QByteArray early;
        {
            QMutexLocker lock(&m_server.mutex);
            early = std::exchange(entry->earlySends, {});
        }
        if (!early.isEmpty() && c)
            c->receive(early);
    }

    void handle(const HttpRequest &request);
    void handleHub(const HttpRequest &request, const Endpoint &endpoint, bool negotiate);
    void negotiate(const HttpRequest &request, const QueryString &query, const Endpoint &endpoint);
    void startWebSocket(const HttpRequest &request, const QueryString &query,
                        const Endpoint &endpoint);
    void startServerSentEvents(const HttpRequest &request, EntryPtr entry);
    void forward(const HttpRequest &request, EntryPtr entry);
    RouteResponder deferRoute(const HttpRequest &request);
    HubConnection *createConnection(const EntryPtr &entry, TransportKind kind,
                                    const HttpRequest &request, const QueryString &query,
                                    ConnectionTransport *transport, bool stateful = false);
    void resumeWebSocket(const HttpRequest &request, EntryPtr entry, Worker *home);
    void becomeWebSocket();
    /// Enters `worker`'s registry (on its thread).
    void join(Worker &worker)
    {
        worker.addSession(m_id, this);
        m_registered = true;
    }
    /// Moves this session (and its socket) to `target`'s thread, then runs `then` there.
    void migrateTo(Worker *target, std::function<void()> then);
    void processFrames();

    HubServer::Private &m_server;
    Worker *m_worker;
    const quint64 m_id; ///< the key in m_worker's registry
    std::unique_ptr<TcpConnection> m_socket;
    HttpRequestParser m_parser;
    std::unique_ptr<WebSocket::FrameParser> m_frames;
    HubConnection *m_connection = nullptr; ///< WebSockets / SSE
    QByteArray m_remote;
    QBasicTimer m_headerTimer;
    Mode m_mode = Mode::Http;
    bool m_binary = false;
    bool m_waiting = false;
    bool m_orphaned = false;
    bool m_deferredKeepAlive = false;
    QByteArray m_deferredOrigin; ///< of the request a deferred route answer is for
    bool m_closeSent = false;
    bool m_migrating = false;
    bool m_registered = false; ///< in m_worker's registry (not while moving between workers)
    bool m_outputBlocked = false; ///< reading paused until the responses have been sent
    qint64 m_heldBytes = 0; ///< this session's share of Private::requestBufferBytes
    QByteArray m_addressKey; ///< counted in Private::perAddress (null: not counted)
};

namespace {
/// Answers a TCP connection the server does not take (503) and closes it, without a session:
/// a refusal must cost next to nothing. What the client already sent is read and dropped first,
/// so that the close is a FIN and not a reset that could destroy the answer.
void refuseSocket(int fd, QByteArrayView reason)
{
    const QByteArray answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                              "Content-Length: "
        + QByteArray::number(reason.size()) + "\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
        + reason;
    char sink[4096];
    for (int i = 0; i < 4 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) { }
    [[maybe_unused]] const ssize_t sent
        = ::send(fd, answer.constData(), size_t(answer.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
}
} // namespace

void HubServer::Private::adopt(qintptr fd)
{
    if (workers.empty() || closingSessions) {
        ::close(int(fd));
        return;
    }
    if (config.maxConnections > 0 && sessions.load() >= config.maxConnections) {
        Metrics::instance().add("heliograph_connections_refused_total",
                                {{"reason", "max-connections"}});
        if (refusalLog.elapsed() > 1000 || !refusalLog.isValid()) {
            refusalLog.start();
            qCWarning(lcHttp) << "refusing connections: at the limit of" << config.maxConnections
                              << "(max-connections)";
        }
        refuseSocket(int(fd), "The server is at its connection limit.");
        return;
    }
    QByteArray address; // null: not counted per address
    if (config.maxConnectionsPerAddress > 0) {
        address = QByteArrayLiteral("?"); // an address getpeername() cannot tell
        sockaddr_storage peer {};
        socklen_t length = sizeof peer;
        if (::getpeername(int(fd), reinterpret_cast<sockaddr *>(&peer), &length) == 0) {
            if (peer.ss_family == AF_INET6)
                address = QByteArray(reinterpret_cast<const char *>(
                                         &reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_addr),
                                     16);
            else if (peer.ss_family == AF_INET)
                address = QByteArray(reinterpret_cast<const char *>(
                                         &reinterpret_cast<const sockaddr_in *>(&peer)->sin_addr),
                                     4);
        }
        QMutexLocker lock(&addressMutex);
        int &count = perAddress[address];
        if (count >= config.maxConnectionsPerAddress) {
            if (count == 0)
                perAddress.remove(address);
            lock.unlock();
            Metrics::instance().add("heliograph_connections_refused_total",
                                    {{"reason", "address-limit"}});
            refuseSocket(int(fd), "Too many connections from this address.");
            return;
        }
        ++count;
    }
    ++sessions; // here, not on the worker: the next accept must see it
    Worker *w = workers[nextWorker++ % workers.size()];
    postTo(w, [this, w, fd, address] {
        new HttpSession(*this, *w, fd, address); // registered with `w`
    });
}

void HubServer::Private::releaseAddress(const QByteArray &address)
{
    QMutexLocker lock(&addressMutex);
    auto it = perAddress.find(address);
    if (it != perAddress.end() && --*it <= 0)
        perAddress.erase(it);
}

/// Accepts connections on the first worker's thread, not on the thread that owns the
/// HubServer: stop() blocks that one while long polling drains, and accepting must go on
/// meanwhile. QTcpServer binds and listens; its own accepting is paused.
///
/// Out of descriptors (EMFILE, ENFILE), accept() fails at once and the pending connection stays
/// in the queue, so a level-triggered watcher would spin. Instead the head of the queue is taken
/// with a descriptor kept in reserve and answered 503, and accepting pauses for a moment.
class HubServer::Private::Acceptor : public QObject {
public:
    Acceptor(HubServer::Private &server, int fd)
        : m_server(server)
        , m_fd(fd)
    { }
    ~Acceptor() override
    {
        if (m_reserve >= 0)
            ::close(m_reserve);
    }
    /// On the acceptor's thread.
    void start()
    {
        m_reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
        QObject::connect(m_notifier, &QSocketNotifier::activated, this, [this] { acceptReady(); });
    }

protected:
    void timerEvent(QTimerEvent *e) override
    {
        if (e->timerId() != m_pause.timerId())
            return;
        m_pause.stop();
        m_notifier->setEnabled(true);
    }

private:
    static constexpr std::chrono::milliseconds PauseAfterError {250};

    void acceptReady()
    {
        // A bounded batch per wake-up: the thread also serves its own connections.
        for (int i = 0; i < 64; ++i) {
            const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                m_server.adopt(fd);
                continue;
            }
            switch (errno) {
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
                continue;
            case EAGAIN:
#if EAGAIN != EWOULDBLOCK
            case EWOULDBLOCK:
#endif
                return;
            default:
                outOfResources(errno);
                return;
            }
        }
    }

    void outOfResources(int error)
    {
        Metrics::instance().add("heliograph_connections_refused_total",
                                {{"reason", "accept-error"}});
        if (!m_errorLog.isValid() || m_errorLog.elapsed() > 5000) {
            m_errorLog.start();
            qCWarning(lcHttp) << "accepting connections failed:" << qt_error_string(error)
                              << "- pausing; raise the open-file limit or lower max-connections";
        }
        if ((error == EMFILE || error == ENFILE) && m_reserve >= 0) {
            ::close(m_reserve);
            const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
                refuseSocket(fd, "The server is out of resources; try again later.");
            m_reserve = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        m_notifier->setEnabled(false);
        m_pause.start(int(PauseAfterError.count()), this);
    }

    HubServer::Private &m_server;
    const int m_fd;
    int m_reserve = -1;
    QSocketNotifier *m_notifier = nullptr;
    QBasicTimer m_pause;
    QElapsedTimer m_errorLog;
};

Worker::~Worker()
{
    cutLink();
    // A session's destructor removes it from the registry.
    while (!m_sessions.isEmpty())
        delete *m_sessions.cbegin();
}

void Worker::shutDown()
{
    QList<EntryPtr> entries;
    {
        QMutexLocker lock(&m_server.mutex);
        for (const EntryPtr &e : std::as_const(m_server.connections))
            if (e->worker == this)
                entries.append(e);
    }
    for (const EntryPtr &e : std::as_const(entries)) {
        HubConnection *c;
        {
            QMutexLocker lock(&m_server.mutex);
            c = e->connection;
        }
        if (c) // started after stop() closed the others
            c->close(std::nullopt, true);
        LongPollingTransport *lp;
        {
            QMutexLocker lock(&m_server.mutex);
            lp = e->longPolling;
        }
        // Answers a poll still held (the answer is dropped if its session is gone); the
        // transport is deleted with its connection, or (still draining) with this worker.
        if (lp)
            lp->dispose();
    }
    // Closing a session cannot delete another (deletion is deferred), nor add one.
    const QList<HttpSession *> sessions = m_sessions.values();
    for (HttpSession *s : sessions)
        s->closeForShutdown();
    // Sessions waiting for a forwarded answer go too: answers that arrive later find no session
    // under their id and are dropped. Deferred route answers are no longer posted here.
    while (!m_sessions.isEmpty())
        delete *m_sessions.cbegin();
    cutLink();
}

void HttpSession::handle(const HttpRequest &request)
{
    if (request.method == "OPTIONS") { // CORS preflight
        HttpResponse r(204);
        r.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        const QByteArrayView wanted = request.header("access-control-request-headers");
        if (!wanted.isEmpty())
            r.setHeader("Access-Control-Allow-Headers", wanted);
        r.setHeader("Access-Control-Max-Age", "600");
        respond(request, std::move(r));
        return;
    }
    for (const Endpoint &e : std::as_const(m_server.endpoints)) {
        const QByteArray &path = e.hub->path();
        if (request.path == path) {
            handleHub(request, e, false);
            return;
        }
        if (request.path.size() == path.size() + 10 && request.path.startsWith(path)
            && request.path.endsWith("/negotiate")) {
            handleHub(request, e, true);
            return;
        }
    }
    for (const auto &route : std::as_const(m_server.routes)) {
        const bool matches = route.path.endsWith('/') ? request.path.startsWith(route.path)
                                                      : request.path == route.path;
        if (!matches)
            continue;
        if (route.method != "*" && route.method != request.method) {
            HttpResponse r = textResponse(405);
            r.setHeader("Allow", route.method);
            respond(request, std::move(r));
            return;
        }
        QByteArray token;
        const QByteArrayView auth = request.header("authorization");
        if (auth.size() > 7 && auth.first(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
            token = auth.sliced(7).trimmed().toByteArray();
        bool deferred = false;
        RouteRequest routeRequest {request, token, m_remote};
        routeRequest.defer = [this, &request, &deferred]() -> RouteResponder {
            Q_ASSERT(!deferred);
            deferred = true;
            return deferRoute(request);
        };
        HttpResponse response = route.handler(routeRequest);
        if (!deferred)
            respond(request, std::move(response));
        return;
    }
    respond(request, textResponse(404, "Not Found"));
}

RouteResponder HttpSession::deferRoute(const HttpRequest &request)
{
    // Like a forwarded request: the answer goes to this session's worker, which looks the
    // session up by id (it may be gone by then), through the link (the worker may be gone too).
    m_waiting = true;
    m_deferredKeepAlive = request.keepAlive;
    m_deferredOrigin = request.header("origin").toByteArray();
    struct Answer {
        std::shared_ptr<WorkerLink> link;
        quint64 id = 0;
        std::atomic<bool> answered {false};
        void send(HttpResponse response)
        {
            QMutexLocker lock(&link->mutex);
            Worker *w = link->worker;
            if (!w)
                return; // the server has stopped
            postTo(w, [w, id = id, r = std::move(response)]() mutable {
                if (HttpSession *session = w->session(id))
                    session->deliverDeferred(std::move(r));
            });
        }
        ~Answer()
        {
            if (!answered.exchange(true))
                send(textResponse(500, "Internal Server Error"));
        }
    };
    auto answer = std::make_shared<Answer>();
    answer->link = m_worker->link();
    answer->id = m_id;
    return [answer](HttpResponse response) {
        if (!answer->answered.exchange(true))
            answer->send(std::move(response));
    };
}

void HttpSession::handleHub(const HttpRequest &request, const Endpoint &endpoint,
                            bool negotiateRequest)
{
    const QueryString query = QueryString::parse(request.query);
    if (m_server.stopping && (negotiateRequest || request.isUpgrade)) {
        // Shutting down: connections still open drain, new ones go elsewhere (or come back).
        HttpResponse r = textResponse(503, "The server is shutting down.");
        r.setHeader("Retry-After", "5");
        respond(request, std::move(r));
        return;
    }
    if (negotiateRequest) {
        if (request.method != "POST") {
            HttpResponse r(405);
            r.setBody({}, "text/plain");
            respond(request, std::move(r));
            return;
        }
        negotiate(request, query, endpoint);
        return;
    }
    if (request.method == "GET" && request.isUpgrade) {
        startWebSocket(request, query, endpoint);
        return;
    }
    if (request.method != "GET" && request.method != "POST" && request.method != "DELETE") {
        respond(request, textResponse(405));
        return;
    }
    const QByteArray token = query.value("id");
    if (token.isEmpty()) {
        respond(request, textResponse(400, "Connection ID required"));
        return;
    }
    EntryPtr entry = m_server.find(token);
    if (!entry || entry->endpoint.hub != endpoint.hub) {
        respond(request, textResponse(404, "No Connection with that ID"));
        return;
    }
    Principal principal;
    QString error;
    const bool authenticated = m_server.authenticate(endpoint, request, query, principal, error);
    if (authenticated && !sameIdentity(principal, entry->principal))
        error = u"the token names another tenant or user"_s;
    if (!authenticated || !error.isEmpty()) {
        qCInfo(lcHttp) << "connection" << entry->id << "tenant" << entry->principal.tenantId
                       << "user" << entry->principal.userId << "request rejected:" << error;
        respondUnauthorized(request);
        return;
    }
    if (!admit(request, endpoint, principal, request.method))
        return;
    if (request.method == "GET" && request.header("accept").contains("text/event-stream")) {
        startServerSentEvents(request, entry);
        return;
    }
    forward(request, entry);
}

void HttpSession::negotiate(const HttpRequest &request, const QueryString &query,
                            const Endpoint &endpoint)
{
    Principal principal;
    QString error;
    if (!m_server.authenticate(endpoint, request, query, principal, error)) {
        qCInfo(lcHttp) << "negotiate from" << m_remote << "rejected:" << error;
        respondUnauthorized(request);
        return;
    }
    if (!admit(request, endpoint, principal, "negotiate"))
        return;
    NegotiateResponse n;
    std::optional<QByteArrayView> requested;
    const QByteArray version = query.value("negotiateVersion");
    if (query.contains("negotiateVersion"))
        requested = version;
    auto v = Negotiate::selectVersion(requested);
    if (!v) {
        n = NegotiateResponse::failure(v.error().message);
    } else {
        HubServer::Private::Refusal refusal;
        auto entry = m_server.newEntry(endpoint, std::move(principal), *v > 0, refusal);
        if (!entry) {
            refuseEntry(request, refusal);
            return;
        }
        const QByteArray stateful = query.value("useStatefulReconnect");
        entry->stateful = m_server.config.allowStatefulReconnects
            && QByteArrayView(stateful).compare("true", Qt::CaseInsensitive) == 0;
        n.useStatefulReconnect = entry->stateful;
        n.negotiateVersion = *v;
        n.connectionId = entry->id;
        n.connectionToken = entry->token;
        n.availableTransports = {{"WebSockets", {"Text", "Binary"}},
                                 {"ServerSentEvents", {"Text"}},
                                 {"LongPolling", {"Text", "Binary"}}};
    }
    HttpResponse r(200);
    r.setBody(n.toJson(), "application/json");
    respond(request, std::move(r));
}

HubConnection *HttpSession::createConnection(const EntryPtr &entry, TransportKind kind,
                                             const HttpRequest &request, const QueryString &query,
                                             ConnectionTransport *transport, bool stateful)
{
    ConnectionInfo info;
    info.transport = transportName(kind).toByteArray();
    info.remoteAddress = m_remote;
    info.userAgent = request.header("user-agent").toByteArray();
    for (const auto &item : query.items())
        info.query.append(item);
    auto *c = new HubConnection(*entry->endpoint.hub, *entry->endpoint.lifetime,
                                m_server.config.hub, entry->id, entry->principal, std::move(info));
    HubServer::Private &server = m_server;
    Worker *worker = m_worker;
    QObject::connect(c, &HubConnection::closed, c, [&server, entry, c, worker] {
        LongPollingTransport *lp;
        {
            QMutexLocker lock(&server.mutex);
            entry->connection = nullptr;
            lp = entry->longPolling;
        }
        if (lp && lp->hasUndelivered()) {
            // Long polling: the client still has to poll what the connection said last (its
            // Close, typically), as ASP.NET Core keeps the transport until it drains.
            lp->setParent(worker);
            lp->setOnFinished([&server, entry, lp] {
                {
                    QMutexLocker lock(&server.mutex);
                    server.eraseLocked(entry);
                    entry->longPolling = nullptr;
                    server.drained.notify_all();
                }
                lp->deleteLater();
            });
        } else {
            QMutexLocker lock(&server.mutex);
            server.eraseLocked(entry);
            entry->longPolling = nullptr;
        }
        c->deleteLater();
    });
    {
        QMutexLocker lock(&m_server.mutex);
        entry->connection = c;
    }
    if (stateful)
        c->allowStatefulReconnect();
    c->attachTransport(transport);
    return c;
}

void HttpSession::startWebSocket(const HttpRequest &request, const QueryString &query,
                                 const Endpoint &endpoint)
{
    Principal principal;
    QString error;
    if (!m_server.authenticate(endpoint, request, query, principal, error)) {
        qCInfo(lcHttp) << "WebSocket from" << m_remote << "rejected:" << error;
        respondUnauthorized(request);
        return;
    }
    if (!admit(request, endpoint, principal, "WebSocket"))
        return;
    EntryPtr entry;
    const QByteArray token = query.value("id");
    if (token.isEmpty()) { // negotiate skipped: a new connection whose token is its id
        HubServer::Private::Refusal refusal;
        entry = m_server.newEntry(endpoint, principal, false, refusal);
        if (!entry) {
            refuseEntry(request, refusal);
            return;
        }
    } else {
        entry = m_server.find(token);
        if (!entry || entry->endpoint.hub != endpoint.hub) {
            respond(request, textResponse(404, "No Connection with that ID"));
            return;
        }
        if (!sameIdentity(principal, entry->principal)) {
            qCInfo(lcHttp) << "connection" << entry->id << "WebSocket from" << m_remote
                           << "rejected: the token names another tenant or user";
            respondUnauthorized(request);
            return;
        }
    }
    {
        QMutexLocker lock(&m_server.mutex);
        if (entry->transport == TransportKind::WebSockets && entry->stateful) {
            Worker *home = entry->worker;
            lock.unlock();
            resumeWebSocket(request, entry, home);
            return;
        }
        if (entry->transport != TransportKind::None) {
            lock.unlock();
            respond(request,
                    entry->transport == TransportKind::WebSockets
                        ? textResponse(409)
                        : textResponse(400, "Cannot change transports mid-connection"));
            return;
        }
        m_server.startTransportLocked(*entry, TransportKind::WebSockets, m_worker);
    }
    const WebSocket::Handshake hs = WebSocket::validateUpgrade(request);
    if (!hs.isAccepted()) {
        m_socket->write(hs.response());
        m_socket->disconnectFromHost();
        m_server.removeEntry(entry);
        return;
    }
    m_socket->write(hs.response());
    becomeWebSocket();
    m_connection
        = createConnection(entry, TransportKind::WebSockets, request, query, this, entry->stateful);
    // Bytes after the upgrade request already belong to the WebSocket.
    const QByteArray rest = m_parser.takeBuffered();
    if (!rest.isEmpty()) {
        m_frames->feed(rest);
        processFrames();
    }
}

void HttpSession::migrateTo(Worker *target, std::function<void()> then)
{
    m_migrating = true;
    m_headerTimer.stop();
    // Not from inside a socket signal: the socket must not be in the middle of its own work.
    m_socket->detach(); // the bytes wait in the kernel until the session has moved
    postTo(this, [this, target, then = std::move(then)]() mutable {
        // Out of this thread's registry (stop() cannot reach the session while it moves)...
        m_worker->removeSession(m_id);
        m_registered = false;
        moveToThread(target->thread());
        m_worker = target;
        postTo(this, [this, then = std::move(then)] {
            // ... and into the target's. Posted before stop() began its shutdown round on the
            // source worker, this runs before the target's round ends (see HubServer::stop).
            join(*m_worker);
            m_migrating = false;
            if (m_server.stopping) {
                closeForShutdown();
                return;
            }
            if (!m_socket->attach(m_worker->reactor()))
                return; // closed() has scheduled the deletion
            then();
            if (m_socket->bytesAvailable() > 0)
                onReadyRead();
        });
    });
}

void HttpSession::becomeWebSocket()
{
    m_mode = Mode::WebSocket;
    m_headerTimer.stop();
    // The SignalR limit applies per message (HubConnection checks it); a frame may carry several
    // messages (the official JavaScript client batches what it queues while a send is in flight),
    // so frames are bounded like request bodies.
    m_frames = std::make_unique<WebSocket::FrameParser>(qMax<qsizetype>(
        m_server.config.httpLimits.maxBodySize, m_server.config.hub.maximumReceiveMessageSize * 2));
}

void HttpSession::resumeWebSocket(const HttpRequest &request, EntryPtr entry, Worker *home)
{
    const WebSocket::Handshake hs = WebSocket::validateUpgrade(request);
    if (!hs.isAccepted()) {
        m_socket->write(hs.response());
        m_socket->disconnectFromHost();
        return;
    }
    auto resume = [this, hs, request, entry] {
        HubConnection *c;
        {
            QMutexLocker lock(&m_server.mutex);
            c = entry->connection;
        }
        if (c && c->isStateful() && c->state() == HubConnection::State::Connected
            && !c->isAwaitingReconnect()) {
            // The client saw its socket drop before this side did: the new socket replaces the
            // old one, as ASP.NET Core does (the old session is on this thread, as c is).
            if (auto *old = dynamic_cast<HttpSession *>(c->transport()))
                old->supersede();
            c->transportLost();
        }
        if (!c || !c->isAwaitingReconnect()) {
            respond(request,
                    c ? textResponse(409) : textResponse(404, "No Connection with that ID"));
            return;
        }
        m_socket->write(hs.response());
        becomeWebSocket();
        m_connection = c;
        c->resumeTransport(this);
        const QByteArray rest = m_parser.takeBuffered();
        if (!rest.isEmpty()) {
            m_frames->feed(rest);
            processFrames();
        }
    };
    if (home == m_worker)
        resume();
    else
        migrateTo(home, std::move(resume));
}

void HttpSession::processFrames()
{
    while (m_mode == Mode::WebSocket) {
        auto r = m_frames->next();
        switch (r.status) {
        case WebSocket::FrameParser::Status::NeedMoreData:
            return;
        case WebSocket::FrameParser::Status::Message:
            if (m_connection)
                m_connection->receive(r.payload);
            break;
        case WebSocket::FrameParser::Status::Ping:
            writeSocket(WebSocket::pongFrame(r.payload));
            break;
        case WebSocket::FrameParser::Status::Pong:
            break;
        case WebSocket::FrameParser::Status::Close:
            // A graceful end from the client: answer the close, then close the socket.
            if (!m_closeSent)
                writeSocket(WebSocket::closeFrame(WebSocket::CloseCode::Normal));
            m_closeSent = true;
            if (HubConnection *c = std::exchange(m_connection, nullptr))
                c->transportEnded();
            m_socket->disconnectFromHost();
            return;
        case WebSocket::FrameParser::Status::Error:
            qCInfo(lcHttp) << "WebSocket protocol error from" << m_remote << r.closeCode
                           << r.reason;
            writeSocket(WebSocket::closeFrame(r.closeCode, r.reason));
            m_closeSent = true;
            if (HubConnection *c = std::exchange(m_connection, nullptr))
                c->transportEnded();
            m_socket->disconnectFromHost();
            return;
        }
    }
}

void HttpSession::startServerSentEvents(const HttpRequest &request, EntryPtr entry)
{
    {
        QMutexLocker lock(&m_server.mutex);
        if (entry->transport != TransportKind::None) {
            lock.unlock();
            respond(request,
                    entry->transport == TransportKind::ServerSentEvents
                        ? textResponse(409)
                        : textResponse(400, "Cannot change transports mid-connection"));
            return;
        }
        m_server.startTransportLocked(*entry, TransportKind::ServerSentEvents, m_worker);
    }
    HttpResponse r(200);
    r.setHeader("Content-Type", "text/event-stream");
    r.setHeader("Cache-Control", "no-cache,no-store");
    r.setHeader("Pragma", "no-cache");
    r.setHeader("Content-Encoding", "identity");
    r.setHeader("Connection", "close"); // the body runs until the connection ends
    m_server.addCors(request, r);
    m_socket->write(QByteArray(r.serializeHead(HttpResponse::Framing::None) + ":\r\n"));
    m_mode = Mode::ServerSentEvents;
    m_headerTimer.stop();
    m_connection = createConnection(entry, TransportKind::ServerSentEvents, request,
                                    QueryString::parse(request.query), this);
    receiveEarlySends(entry, m_connection);
}

void HttpSession::forward(const HttpRequest &request, EntryPtr entry)
{
    Worker *target = nullptr;
    TransportKind kind;
    {
        QMutexLocker lock(&m_server.mutex);
        kind = entry->transport;
        if (kind == TransportKind::None && request.method == "POST") {
            // Sent before the first poll (the Python signalrcore client POSTs its handshake
            // first): kept for the connection, as ASP.NET Core's pipe keeps it, within the
            // body limit.
            if (entry->earlySends.size() + request.body.size()
                > m_server.config.httpLimits.maxBodySize) {
                lock.unlock();
                respond(request, textResponse(413, "Payload Too Large"));
                return;
            }
            entry->earlySends += request.body;
            lock.unlock();
            HttpResponse r(200);
            r.setBody({}, "text/plain");
            respond(request, std::move(r));
            return;
        }
        if (kind == TransportKind::None && request.method == "GET") {
            // The first long poll starts the connection, on this thread.
            kind = TransportKind::LongPolling;
            m_server.startTransportLocked(*entry, kind, m_worker);
            lock.unlock();
            auto *lp = new LongPollingTransport(m_server, entry);
            entry->longPolling = lp;
            HubConnection *c = createConnection(entry, TransportKind::LongPolling, request,
                                                QueryString::parse(request.query), lp);
            lp->setParent(c);
            receiveEarlySends(entry, c);
            HttpResponse r(200);
            r.setBody({}, "application/octet-stream");
            r.setHeader("Cache-Control", "no-cache, no-store");
            r.setHeader("Pragma", "no-cache");
            r.setHeader("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
            respond(request, std::move(r));
            return;
        }
        target = entry->worker;
    }
    if (kind == TransportKind::None) {
        respond(request, textResponse(400, "The connection has not started a transport yet"));
        return;
    }
    if (kind == TransportKind::WebSockets) {
        respond(request,
                request.method == "POST"
                    ? textResponse(405, "POST requests are not allowed for WebSocket connections.")
                    : textResponse(400, "Cannot change transports mid-connection"));
        return;
    }
    if (request.method == "DELETE" && kind != TransportKind::LongPolling) {
        respond(request,
                textResponse(400, "Cannot terminate this connection using the DELETE endpoint."));
        return;
    }
    if (request.method == "GET" && kind != TransportKind::LongPolling) {
        respond(request, textResponse(400, "Cannot change transports mid-connection"));
        return;
    }

    // Run on the connection's thread; answer here exactly once. The answer goes to this
    // session's worker, never to the session itself: the session may be gone by then (stop()).
    // A session waiting for an answer does not move to another worker.
    m_waiting = true;
    HubServer::Private &server = m_server;
    const bool keepAlive = request.keepAlive;
    Worker *home = m_worker;
    const quint64 id = m_id;
    auto reply = [home, id, keepAlive, &server, request](HttpResponse r) {
        server.addCors(request, r);
        auto deliver = [home, id, keepAlive, r = std::move(r)]() mutable {
            if (HttpSession *session = home->session(id))
                session->deliver(std::move(r), keepAlive);
        };
        if (QThread::currentThread() == home->thread())
            deliver();
        else
            postTo(home, std::move(deliver));
    };
    auto work = [entry, request, reply, &server]() {
        HubConnection *c = nullptr;
        LongPollingTransport *lp = nullptr;
        {
            QMutexLocker lock(&server.mutex);
            c = entry->connection;
            lp = entry->longPolling;
        }
        if (!c && (!lp || request.method == "POST")) {
            reply(textResponse(404, "No Connection with that ID"));
            return;
        }
        if (request.method == "POST") {
            c->receive(request.body);
            HttpResponse r(200);
            r.setBody({}, "text/plain");
            reply(std::move(r));
        } else if (request.method == "DELETE") {
            if (lp)
                lp->dispose();
            HttpResponse r(202);
            r.setBody({}, "text/plain");
            reply(std::move(r));
        } else if (lp) {
            lp->poll([reply](HttpResponse r) {
                r.setHeader("Cache-Control", "no-cache, no-store");
                r.setHeader("Pragma", "no-cache");
                r.setHeader("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
                reply(std::move(r));
            });
        } else {
            reply(textResponse(404, "No Connection with that ID"));
        }
    };
    if (target == m_worker)
        work();
    else
        postTo(target, std::move(work));
}

void HubServer::Private::sweep()
{
    // Negotiated connections that never started a transport are dropped after the timeout.
    const qint64 now = monotonicMs();
    Metrics &m = Metrics::instance();
    m.set("heliograph_tcp_connections", {}, sessions.load());
    m.set("heliograph_request_buffer_bytes", {}, double(requestBufferBytes.load()));
    QMutexLocker lock(&mutex);
    m.set("heliograph_pending_negotiations", {}, pending);
    for (auto it = connections.begin(); it != connections.end();) {
        if ((*it)->transport == TransportKind::None
            && now - (*it)->createdAt > config.disconnectTimeout.count()) {
            forgetLocked(**it);
            it = connections.erase(it);
        } else {
            ++it;
        }
    }
}

// --- HubServer ----------------------------------------------------------------------------------

HubServer::HubServer(ServerConfig config, Authenticator authenticator, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->config = std::move(config);
    d->authenticator = std::move(authenticator);
    d->keepAliveHeader = "timeout="
        + QByteArray::number(std::chrono::duration_cast<std::chrono::seconds>(
                                 d->config.requestHeadersTimeout)
                                 .count());
}

HubServer::~HubServer()
{
    stop();
}

void HubServer::addHub(Hub &hub, HubLifetimeManager &lifetime, QByteArray refusal)
{
    d->endpoints.append({&hub, &lifetime, std::move(refusal)});
}

void HubServer::addRoute(QByteArray method, QByteArray path, RouteHandler handler)
{
    d->routes.append({std::move(method), std::move(path), std::move(handler)});
}

bool HubServer::listen()
{
    int n = d->config.threads > 0 ? d->config.threads : qMax(1, QThread::idealThreadCount());
    for (int i = 0; i < n; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(u"hub-worker-%1"_s.arg(i));
        auto *w = new Worker(*d);
        w->moveToThread(thread.get());
        QObject::connect(thread.get(), &QThread::finished, w, &QObject::deleteLater);
        thread->start();
        d->workers.push_back(w);
        d->threads.push_back(std::move(thread));
    }
    d->listener = std::make_unique<Private::Listener>(*d);
    d->listener->setMaxPendingConnections(1024);
    // Qt's default backlog (50) drops SYNs in a connect storm; the kernel caps this at somaxconn.
    d->listener->setListenBacklogSize(d->config.listenBacklog);
    if (!d->listener->listen(d->config.address, d->config.port))
        return false;
    // Accepting happens on the first worker (see Acceptor).
    d->listener->pauseAccepting();
    d->acceptor = new Private::Acceptor(*d, int(d->listener->socketDescriptor()));
    d->acceptor->moveToThread(d->threads.front().get());
    runOnAndWait(d->workers.front(), [a = d->acceptor] { a->start(); });
    struct Sweeper : QObject {
        HubServer::Private *p;
        void timerEvent(QTimerEvent *) override { p->sweep(); }
    };
    auto *sweeper = new Sweeper;
    sweeper->p = d.get();
    sweeper->setParent(this);
    d->sweepTimer.start(1000, sweeper);
    return true;
}

quint16 HubServer::port() const
{
    return d->listener ? d->listener->serverPort() : 0;
}

QString HubServer::errorString() const
{
    return d->listener ? d->listener->errorString() : QString();
}

int HubServer::threadCount() const
{
    return int(d->workers.size());
}

int HubServer::connectionCount() const
{
    QMutexLocker lock(&d->mutex);
    return int(d->connections.size());
}

int HubServer::sessionCount() const
{
    return d->sessions.load();
}

void HubServer::stop()
{
    if (d->stopping.exchange(true))
        return;
    d->sweepTimer.stop();
    // The listener stays open until long polling has drained (see closingSessions).
    // Tell every connection to come back later, on its own thread.
    QList<EntryPtr> entries;
    {
        QMutexLocker lock(&d->mutex);
        entries = d->connections.values();
    }
    for (const EntryPtr &e : std::as_const(entries)) {
        Worker *w;
        {
            QMutexLocker lock(&d->mutex);
            w = e->worker;
        }
        if (!w)
            continue;
        runOnAndWait(w, [e, d = d.get()] {
            HubConnection *c;
            {
                QMutexLocker lock(&d->mutex);
                c = e->connection;
            }
            if (c)
                c->close(std::nullopt, true);
        });
    }
    // Long-polling clients fetch their Close with their next poll: give them a moment.
    {
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        QMutexLocker lock(&d->mutex);
        auto draining = [&] {
            for (const EntryPtr &e : std::as_const(d->connections))
                if (e->longPolling && !e->connection)
                    return true;
            return false;
        };
        while (draining() && std::chrono::steady_clock::now() < deadline)
            d->drained.wait_until(*lock.mutex(), deadline);
    }
    d->closingSessions = true;
    if (Private::Acceptor *a = std::exchange(d->acceptor, nullptr))
        runOnAndWait(d->workers.front(), [a] { delete a; });
    if (d->listener)
        d->listener->close();
    // Let what the closes produced reach the sockets: replies posted from one worker to
    // another (long polling), then the writes. Two rounds drain replies posted during the first.
    for (int round = 0; round < 2; ++round)
        for (Worker *w : d->workers)
            runOnAndWait(w, [] {});
    // Every worker ends what is left on its thread and deletes all of its sessions, while every
    // thread still runs. After its round a worker has no session and no long poll, so it
    // starts no cross-thread work of its own. What other workers posted before their rounds
    // (forwarded requests; sessions moving to another worker) is queued ahead of the last
    // round below, so it has run when that round is over: a forwarded request's answer goes to
    // the requester's worker, which no longer finds the session and drops it (or, arriving
    // after that worker's last round, is discarded with the worker when its thread ends); a
    // moving session closes itself on arrival. Nothing is posted to a worker after that.
    for (Worker *w : d->workers)
        runOnAndWait(w, [w] { w->shutDown(); });
    for (Worker *w : d->workers)
        runOnAndWait(w, [] {});
    for (auto &t : d->threads) {
        t->quit();
        t->wait();
    }
    d->threads.clear();
    d->workers.clear();
    QMutexLocker lock(&d->mutex);
    // Negotiated but never started, or long polls that never drained.
    for (const EntryPtr &e : std::as_const(d->connections))
        d->forgetLocked(*e);
    d->connections.clear();
}

} // namespace Heliograph::Server
