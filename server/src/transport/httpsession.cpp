// SPDX-License-Identifier: MIT
#include "transport/httpsession.h"

#include <QtCore/QThread>

namespace Heliograph::Server {

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
        constexpr QByteArrayView NegotiateSuffix = "/negotiate";
        if (request.path.size() == path.size() + NegotiateSuffix.size()
            && request.path.startsWith(path) && request.path.endsWith(NegotiateSuffix)) {
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
        const QByteArray token = bearerToken(request).value_or(QByteArray());
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
    // The SignalR limit applies per message (HubConnectionContext checks it); a frame may carry
    // several messages (the official JavaScript client batches what it queues while a send is in
    // flight), so frames are bounded like request bodies.
    m_frames = std::make_unique<WebSocket::FrameParser>(qMax<qsizetype>(
        m_server.config.httpLimits.maxBodySize, m_server.config.hub.maximumReceiveMessageSize * 2));
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
            // A graceful end from the client: end the connection, then answer the close. In
            // this order a client that has seen the answer has also left the per-user count,
            // so it may connect again at once (its stop() resolves on the answer).
            if (HubConnectionContext *c = std::exchange(m_connection, nullptr))
                c->transportEnded();
            if (!m_closeSent)
                writeSocket(WebSocket::closeFrame(WebSocket::CloseCode::Normal));
            m_closeSent = true;
            m_socket->disconnectFromHost();
            return;
        case WebSocket::FrameParser::Status::Error:
            qCInfo(lcHttp) << "WebSocket protocol error from" << m_remote << r.closeCode
                           << r.reason;
            writeSocket(WebSocket::closeFrame(r.closeCode, r.reason));
            m_closeSent = true;
            if (HubConnectionContext *c = std::exchange(m_connection, nullptr))
                c->transportEnded();
            m_socket->disconnectFromHost();
            return;
        }
    }
}

} // namespace Heliograph::Server
