// SPDX-License-Identifier: MIT
// The hub endpoint: what HttpSession does with a request for a hub's path. Negotiate,
// authentication and the connect policy (admission), starting WebSockets, Server-Sent Events
// and long polling, resuming a stateful connection, and forwarding a long-polling or SSE
// request to the thread of its connection.
#include "signalr/lifetimemanager.h"
#include "transport/httpsession.h"
#include "transport/longpollingtransport.h"

#include <QtCore/QThread>

namespace Heliograph::Server {

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
        error = QStringLiteral("the token names another tenant or user");
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

HubConnectionContext *HttpSession::createConnection(const EntryPtr &entry, TransportKind kind,
                                                    const HttpRequest &request,
                                                    const QueryString &query,
                                                    ConnectionTransport *transport, bool stateful)
{
    ConnectionInfo info;
    info.transport = transportName(kind).toByteArray();
    info.remoteAddress = m_remote;
    info.userAgent = request.header("user-agent").toByteArray();
    for (const auto &item : query.items())
        info.query.append(item);
    auto *c = new HubConnectionContext(*entry->endpoint.hub, *entry->endpoint.lifetime,
                                       m_server.config.hub, entry->id, entry->principal,
                                       std::move(info));
    HubServer::Private *server = &m_server; // outlives every connection
    Worker *worker = m_worker;
    QObject::connect(c, &HubConnectionContext::closed, c, [server, entry, c, worker] {
        LongPollingTransport *lp;
        {
            QMutexLocker lock(&server->mutex);
            entry->connection = nullptr;
            lp = entry->longPolling;
        }
        if (lp && lp->hasUndelivered()) {
            // Long polling: the client still has to poll what the connection said last (its
            // Close, typically), as ASP.NET Core keeps the transport until it drains.
            lp->setParent(worker);
            lp->setOnFinished([server, entry, lp] {
                {
                    QMutexLocker lock(&server->mutex);
                    server->eraseLocked(entry);
                    entry->longPolling = nullptr;
                    server->drained.notify_all();
                }
                lp->deleteLater();
            });
        } else {
            QMutexLocker lock(&server->mutex);
            server->eraseLocked(entry);
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

void HttpSession::resumeWebSocket(const HttpRequest &request, const EntryPtr &entry, Worker *home)
{
    const WebSocket::Handshake hs = WebSocket::validateUpgrade(request);
    if (!hs.isAccepted()) {
        m_socket->write(hs.response());
        m_socket->disconnectFromHost();
        return;
    }
    auto resume = [this, hs, request, entry] {
        HubConnectionContext *c;
        {
            QMutexLocker lock(&m_server.mutex);
            c = entry->connection;
        }
        if (c && c->isStateful() && c->state() == HubConnectionContext::State::Connected
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

void HttpSession::startServerSentEvents(const HttpRequest &request, const EntryPtr &entry)
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

void HttpSession::forward(const HttpRequest &request, const EntryPtr &entry)
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
            HubConnectionContext *c = createConnection(entry, TransportKind::LongPolling, request,
                                                       QueryString::parse(request.query), lp);
            lp->setParent(c);
            receiveEarlySends(entry, c);
            HttpResponse r(200);
            r.setBody({}, "application/octet-stream");
            setNoCache(r);
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
        HubConnectionContext *c = nullptr;
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
                setNoCache(r);
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

} // namespace Heliograph::Server
