// SPDX-License-Identifier: MIT
#pragma once

#include "http/websocket.h"
#include "transport/hubserver_p.h"

#include <functional>

namespace Heliograph::Server {

/// One TCP connection: HTTP/1.1 requests (parsing, pipelining back-pressure, lingering close,
/// routing), or the socket of a WebSocket or Server-Sent Events transport once it has become
/// one. The hub endpoint's part (negotiate, authentication, admission, transports, forwarding)
/// is in hubendpoint.cpp.
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
        if (HubConnectionContext *c = std::exchange(m_connection, nullptr))
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
        } else if ((m_mode == Mode::WebSocket && m_closeSent) || m_mode == Mode::Lingering) {
            // No answer to our close frame, or the client kept sending past the linger time.
            m_socket->abort();
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
        if (HubConnectionContext *c = std::exchange(m_connection, nullptr)) {
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
            respond(
                request,
                textResponse(429,
                             QStringLiteral("Too many connections for this user (the limit is %1).")
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
    void receiveEarlySends(const EntryPtr &entry, HubConnectionContext *c)
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
    void startServerSentEvents(const HttpRequest &request, const EntryPtr &entry);
    void forward(const HttpRequest &request, const EntryPtr &entry);
    RouteResponder deferRoute(const HttpRequest &request);
    HubConnectionContext *createConnection(const EntryPtr &entry, TransportKind kind,
                                           const HttpRequest &request, const QueryString &query,
                                           ConnectionTransport *transport, bool stateful = false);
    void resumeWebSocket(const HttpRequest &request, const EntryPtr &entry, Worker *home);
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
    HubConnectionContext *m_connection = nullptr; ///< WebSockets / SSE
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

} // namespace Heliograph::Server
