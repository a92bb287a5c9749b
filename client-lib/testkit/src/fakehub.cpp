// SPDX-License-Identifier: MIT
#include <heliograph/client/testing/fakehub.h>
#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QFutureWatcher>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QPromise>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtCore/QUrlQuery>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtWebSockets/QWebSocket>
#include <QtWebSockets/QWebSocketServer>

#include <exception>
#include <optional>

using namespace Qt::StringLiterals;

namespace Heliograph::Testing {

namespace {

Q_LOGGING_CATEGORY(lcFakeHub, "heliograph.client.testkit", QtInfoMsg)

/// A request head larger than this is refused (the fake serves tests, not the Internet).
constexpr qsizetype MaxHeadSize = 65536;

QByteArray methodMissing(const QByteArray &method)
{
    return "Failed to invoke '" + method
        + "' due to an error on the server. HubException: Method does not exist.";
}

struct HttpHead {
    QByteArray method;
    QByteArray target;
    QList<std::pair<QByteArray, QByteArray>> headers; ///< names lower-cased
    qsizetype size = 0; ///< through the blank line
    qsizetype contentLength = 0;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[n, v] : headers)
            if (n == name)
                return v;
        return {};
    }
    bool isUpgrade() const { return header("upgrade").toLower() == "websocket"; }
    QByteArray path() const
    {
        const qsizetype q = target.indexOf('?');
        return q < 0 ? target : target.first(q);
    }
    QByteArray queryValue(const QString &name) const
    {
        const QUrlQuery query(QUrl::fromEncoded("http://h" + target));
        return query.queryItemValue(name, QUrl::FullyDecoded).toUtf8();
    }
};

/// The head at the start of `data`: nullopt while incomplete; a head with an empty method
/// when it is malformed.
std::optional<HttpHead> parseHead(QByteArrayView data)
{
    const qsizetype end = data.indexOf(QByteArrayView("\r\n\r\n"));
    if (end < 0)
        return std::nullopt;
    HttpHead head;
    head.size = end + 4;
    const QList<QByteArray> lines = data.first(end).toByteArray().split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3)
        return head;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon <= 0)
            continue;
        head.headers.append(
            {lines[i].first(colon).trimmed().toLower(), lines[i].sliced(colon + 1).trimmed()});
    }
    bool ok = true;
    const QByteArray length = head.header("content-length");
    head.contentLength = length.isEmpty() ? 0 : length.toLongLong(&ok);
    if (!ok || head.contentLength < 0)
        return head;
    head.method = requestLine[0];
    head.target = requestLine[1];
    return head;
}

/// An unmasked (server-to-client) WebSocket frame with FIN set.
QByteArray webSocketFrame(quint8 opcode, QByteArrayView payload)
{
    QByteArray frame;
    frame.reserve(payload.size() + 10);
    frame.append(char(0x80 | opcode));
    const quint64 n = quint64(payload.size());
    if (n < 126) {
        frame.append(char(n));
    } else if (n < 65536) {
        frame.append(char(126));
        frame.append(char(n >> 8));
        frame.append(char(n & 0xff));
    } else {
        frame.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.append(char((n >> shift) & 0xff));
    }
    frame.append(payload);
    return frame;
}

/// One Server-Sent Event carrying `payload` (a line per `data:` field).
QByteArray sseEvent(QByteArrayView payload)
{
    QByteArray event;
    event.reserve(payload.size() + 16);
    qsizetype start = 0;
    while (true) {
        const qsizetype nl = payload.indexOf('\n', start);
        const QByteArrayView line
            = nl < 0 ? payload.sliced(start) : payload.sliced(start, nl - start);
        event += "data: ";
        event += line;
        event += "\r\n";
        if (nl < 0)
            break;
        start = nl + 1;
    }
    event += "\r\n";
    return event;
}

QByteArray httpResponse(int status, QByteArrayView reason, QByteArrayView contentType,
                        QByteArrayView body)
{
    QByteArray r = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason.toByteArray()
        + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    if (!contentType.isEmpty())
        r += "Content-Type: " + contentType.toByteArray() + "\r\n";
    r += "\r\n";
    r += body;
    return r;
}

QString exceptionText(const std::exception &e)
{
    if (auto *hub = dynamic_cast<const HubErrorException *>(&e))
        return hub->error().message;
    return QString::fromUtf8(e.what());
}

} // namespace

class Q_DECL_HIDDEN FakeHub::Private {
public:
    struct Out {
        enum class Kind : quint8 { Handshake, Payload, RawFrame, RawSocket, CloseTransport };
        Kind kind = Kind::Payload;
        qint64 due = 0;
        QByteArray bytes;
        Frame frame = Frame::Auto;
        quint16 closeCode = 1000;
    };

    struct Connection {
        QString id;
        QByteArray token;
        HubConnection::Transport kind = HubConnection::Transport::None;
        QPointer<QWebSocket> webSocket;
        QPointer<QTcpSocket> socket; ///< under the WebSocket, or the event stream
        const HubProtocol *protocol = nullptr;
        bool binaryHandshake = false;
        bool handshakeDone = false;
        bool ended = false;
        QByteArray handshakeBuffer;
        std::optional<MessageReader> reader;
        QList<Out> queue;
    };
    using ConnectionPtr = std::shared_ptr<Connection>;

    struct ClientCall {
        QString connectionId;
        std::shared_ptr<QPromise<Value>> promise;
    };

    explicit Private(FakeHub *qq)
        : q(qq)
        , webSockets(u"heliograph-fakehub"_s, QWebSocketServer::NonSecureMode)
    {
        clock.start();
        flushTimer.setSingleShot(true);
        QObject::connect(&flushTimer, &QTimer::timeout, q, [this] { flushAll(); });
        QObject::connect(&tcp, &QTcpServer::newConnection, q, [this] { acceptTcp(); });
        QObject::connect(&webSockets, &QWebSocketServer::newConnection, q,
                         [this] { acceptWebSockets(); });
        if (!tcp.listen(QHostAddress::LocalHost, 0))
            qCWarning(lcFakeHub) << "cannot listen:" << tcp.errorString();
    }

    ~Private()
    {
        // No signals from a dying hub; clients see their connections drop.
        for (const ConnectionPtr &c : std::as_const(connections)) {
            c->ended = true;
            if (c->webSocket) {
                c->webSocket->disconnect(q);
                c->webSocket->abort();
            }
            if (c->socket) {
                c->socket->disconnect(q);
                c->socket->abort();
            }
        }
        for (const ClientCall &call : std::as_const(clientCalls)) {
            call.promise->setException(
                HubErrorException({Error::ConnectionLost, u"The fake hub was destroyed."_s}));
            call.promise->finish();
        }
    }

    // --- accepting --------------------------------------------------------------------------

    void acceptTcp()
    {
        while (QTcpSocket *s = tcp.nextPendingConnection()) {
            s->setParent(q);
            auto buffer = std::make_shared<QByteArray>();
            QObject::connect(s, &QTcpSocket::readyRead, q,
                             [this, s, buffer] { onHttpReadyRead(s, *buffer); });
            QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    }

    void onHttpReadyRead(QTcpSocket *s, QByteArray &buffer)
    {
        if (buffer.isEmpty() && !httpSockets.contains(s)) {
            // The first request decides what the socket is: a WebSocket upgrade is handed to
            // QWebSocketServer with its bytes still unread.
            const QByteArray peeked = s->peek(s->bytesAvailable());
            const std::optional<HttpHead> head = parseHead(peeked);
            if (!head) {
                if (peeked.size() > MaxHeadSize)
                    s->abort();
                return;
            }
            if (head->isUpgrade()) {
                s->disconnect(q);
                upgrading.append(s);
                webSockets.handleConnection(s);
                return;
            }
            httpSockets.append(s);
            QObject::connect(s, &QObject::destroyed, q, [this, s] { httpSockets.removeAll(s); });
        }
        buffer += s->readAll();
        while (true) {
            const std::optional<HttpHead> head = parseHead(buffer);
            if (!head) {
                if (buffer.size() > MaxHeadSize)
                    s->abort();
                return;
            }
            if (head->method.isEmpty()) {
                s->write(httpResponse(400, "Bad Request", {}, {}));
                s->disconnectFromHost();
                return;
            }
            if (buffer.size() < head->size + head->contentLength)
                return;
            const QByteArray body = buffer.mid(head->size, head->contentLength);
            buffer.remove(0, head->size + head->contentLength);
            const QPointer<QTcpSocket> guard(s);
            if (!handleHttp(s, *head, body) || !guard)
                return; // the socket became an event stream, or is gone
        }
    }

    /// False when the socket must not be read as HTTP any more.
    bool handleHttp(QTcpSocket *s, const HttpHead &head, const QByteArray &body)
    {
        if (head.path().endsWith("/negotiate")) {
            if (head.method != "POST") {
                s->write(httpResponse(405, "Method Not Allowed", {}, {}));
                return true;
            }
            negotiate(s, head);
            return true;
        }
        const QByteArray token = head.queryValue(u"id"_s);
        if (head.method == "GET" && head.header("accept").contains("text/event-stream")) {
            if (!(transports & HubConnection::Transport::ServerSentEvents) || token.isEmpty()) {
                s->write(httpResponse(404, "Not Found", {}, {}));
                return true;
            }
            openEventStream(s, token);
            return false;
        }
        if (head.method == "POST") {
            const ConnectionPtr c = byToken(token);
            if (!c) {
                s->write(
                    httpResponse(404, "Not Found", "text/plain", "No Connection with that ID"));
                return true;
            }
            s->write(httpResponse(200, "OK", "text/plain", {}));
            onClientBytes(c, body, false);
            return true;
        }
        if (head.method == "DELETE") {
            s->write(httpResponse(202, "Accepted", {}, {}));
            return true;
        }
        s->write(httpResponse(404, "Not Found", {}, {}));
        return true;
    }

    void negotiate(QTcpSocket *s, const HttpHead &head)
    {
        const QByteArray requested = head.queryValue(u"negotiateVersion"_s);
        const Expected<int> version = Negotiate::selectVersion(
            requested.isEmpty() ? std::nullopt : std::optional<QByteArrayView>(requested));
        NegotiateResponse r;
        if (!version) {
            r = NegotiateResponse::failure(version.error().message);
        } else {
            r.negotiateVersion = *version;
            r.connectionId = Negotiate::newConnectionId();
            r.connectionToken = *version > 0 ? Negotiate::newConnectionId() : QByteArray();
            if (transports & HubConnection::Transport::WebSockets)
                r.availableTransports.append(
                    AvailableTransport {"WebSockets", QList<QByteArray> {"Text", "Binary"}});
            if (transports & HubConnection::Transport::ServerSentEvents)
                r.availableTransports.append(
                    AvailableTransport {"ServerSentEvents", QList<QByteArray> {"Text"}});
            negotiated.insert(r.effectiveToken(), QString::fromUtf8(r.connectionId));
        }
        s->write(httpResponse(200, "OK", "application/json", r.toJson()));
    }

    ConnectionPtr newConnection(const QByteArray &token, HubConnection::Transport kind)
    {
        auto c = std::make_shared<Connection>();
        c->token = token;
        c->kind = kind;
        const auto it = negotiated.constFind(token);
        if (it != negotiated.constEnd()) {
            c->id = it.value();
            negotiated.erase(it);
        } else {
            c->id = QString::fromUtf8(Negotiate::newConnectionId());
        }
        connections.append(c);
        return c;
    }

    ConnectionPtr byToken(const QByteArray &token) const
    {
        for (const ConnectionPtr &c : connections)
            if (!c->token.isEmpty() && c->token == token && !c->ended)
                return c;
        return nullptr;
    }

    ConnectionPtr byId(const QString &id) const
    {
        for (const ConnectionPtr &c : connections)
            if (c->id == id && !c->ended)
                return c;
        return nullptr;
    }

    /// The open connections past the handshake that `id` names (empty: all).
    QList<ConnectionPtr> targets(const QString &id) const
    {
        QList<ConnectionPtr> out;
        for (const ConnectionPtr &c : connections)
            if (c->handshakeDone && !c->ended && (id.isEmpty() || c->id == id))
                out.append(c);
        if (!id.isEmpty() && out.isEmpty())
            qCWarning(lcFakeHub) << "no connected client with id" << id;
        return out;
    }

    void openEventStream(QTcpSocket *s, const QByteArray &token)
    {
        if (byToken(token)) {
            s->write(httpResponse(409, "Conflict", {}, {}));
            s->disconnectFromHost();
            return;
        }
        s->disconnect(q);
        httpSockets.removeAll(s);
        const ConnectionPtr c = newConnection(token, HubConnection::Transport::ServerSentEvents);
        c->socket = s;
        // The body runs until the connection closes: no length, no chunking.
        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 "Connection: close\r\n\r\n:\r\n");
        const std::weak_ptr<Connection> weak = c;
        QObject::connect(s, &QTcpSocket::readyRead, q, [s] { s->readAll(); });
        QObject::connect(s, &QTcpSocket::disconnected, q, [this, weak] {
            if (ConnectionPtr conn = weak.lock())
                ended(conn);
        });
        qCDebug(lcFakeHub) << "event stream opened for" << c->id;
    }

    void acceptWebSockets()
    {
        while (QWebSocket *ws = webSockets.nextPendingConnection()) {
            ws->setParent(q);
            const QByteArray token
                = QUrlQuery(ws->requestUrl()).queryItemValue(u"id"_s, QUrl::FullyDecoded).toUtf8();
            const ConnectionPtr c = newConnection(token, HubConnection::Transport::WebSockets);
            c->webSocket = ws;
            for (qsizetype i = 0; i < upgrading.size(); ++i) {
                if (!upgrading[i]) {
                    upgrading.removeAt(i--);
                } else if (upgrading[i]->peerPort() == ws->peerPort()) {
                    c->socket = upgrading.takeAt(i);
                    break;
                }
            }
            const std::weak_ptr<Connection> weak = c;
            QObject::connect(ws, &QWebSocket::textMessageReceived, q,
                             [this, weak](const QString &text) {
                                 if (ConnectionPtr conn = weak.lock())
                                     onClientBytes(conn, text.toUtf8(), false);
                             });
            QObject::connect(ws, &QWebSocket::binaryMessageReceived, q,
                             [this, weak](const QByteArray &bytes) {
                                 if (ConnectionPtr conn = weak.lock())
                                     onClientBytes(conn, bytes, true);
                             });
            QObject::connect(ws, &QWebSocket::disconnected, q, [this, weak, ws] {
                ws->deleteLater();
                if (ConnectionPtr conn = weak.lock())
                    ended(conn);
            });
            qCDebug(lcFakeHub) << "WebSocket opened for" << c->id;
        }
    }

    // --- reading from clients ---------------------------------------------------------------

    void onClientBytes(const ConnectionPtr &c, const QByteArray &bytes, bool binary)
    {
        if (c->ended)
            return;
        if (!c->handshakeDone) {
            c->handshakeBuffer += bytes;
            c->binaryHandshake = binary;
            HandshakeRequest request;
            const Expected<qsizetype> used
                = Handshake::parseRequest(c->handshakeBuffer, request, MaxHeadSize);
            if (!used) {
                qCWarning(lcFakeHub)
                    << "bad handshake request from" << c->id << ":" << used.error().message;
                abortConnection(c);
                return;
            }
            if (*used == 0)
                return;
            const TransferFormat formats = c->kind == HubConnection::Transport::WebSockets
                ? TransferFormat::Text | TransferFormat::Binary
                : TransferFormat::Text;
            const Expected<const HubProtocol *> protocol = Handshake::resolve(request, formats);
            if (!protocol) {
                writeNow(c,
                         Out {Out::Kind::Handshake, 0,
                              Handshake::writeResponse({protocol.error().message.toUtf8()}),
                              binary ? Frame::Binary : Frame::Text, 1000});
                closeTransportNow(c, 1000);
                return;
            }
            const QByteArray rest = c->handshakeBuffer.mid(*used);
            c->handshakeBuffer.clear();
            c->protocol = *protocol;
            c->reader.emplace(**protocol);
            c->handshakeDone = true;
            writeNow(
                c,
                Out {Out::Kind::Handshake, 0,
                     handshakeResponse.isEmpty() ? Handshake::writeResponse({}) : handshakeResponse,
                     binary ? Frame::Binary : Frame::Text, 1000});
            if (c->ended)
                return;
            qCDebug(lcFakeHub) << c->id << "connected with" << c->protocol->name();
            const QPointer<FakeHub> guard(q);
            Q_EMIT q->clientConnected(c->id);
            if (!guard)
                return;
            Q_EMIT q->connectionCountChanged();
            if (!guard || c->ended || rest.isEmpty())
                return;
            c->reader->append(rest);
        } else {
            c->reader->append(bytes);
        }
        readMessages(c);
    }

    void readMessages(const ConnectionPtr &c)
    {
        const QPointer<FakeHub> guard(q);
        while (guard && !c->ended && c->reader) {
            MessageReader::Result r = c->reader->read();
            if (r.status == MessageReader::Status::NeedMoreData)
                return;
            if (r.status == MessageReader::Status::Error) {
                qCWarning(lcFakeHub)
                    << "unreadable message from" << c->id << ":" << r.error.message;
                abortConnection(c);
                return;
            }
            if (recording)
                log.append({c->id, *r.message});
            Q_EMIT q->messageReceived(c->id, *r.message);
            if (!guard || c->ended)
                return;
            dispatch(c, std::move(*r.message));
        }
    }

    void dispatch(const ConnectionPtr &c, HubMessage &&message)
    {
        if (auto *inv = std::get_if<InvocationMessage>(&message)) {
            answerInvocation(c, inv->invocationId, inv->target, inv->arguments);
        } else if (auto *s = std::get_if<StreamInvocationMessage>(&message)) {
            answerStream(c, s->invocationId, s->target, s->arguments);
        } else if (auto *done = std::get_if<CompletionMessage>(&message)) {
            const auto it = clientCalls.constFind(done->invocationId);
            if (it == clientCalls.cend() || it->connectionId != c->id)
                return;
            const std::shared_ptr<QPromise<Value>> promise = it->promise;
            clientCalls.erase(it);
            if (done->kind == CompletionMessage::Kind::Error)
                promise->setException(
                    HubErrorException({Error::ServerError, QString::fromUtf8(done->error)}));
            else
                promise->addResult(done->result);
            promise->finish();
        }
    }

    void answerInvocation(const ConnectionPtr &c, const QByteArray &id, const QByteArray &target,
                          const ValueList &arguments)
    {
        const QByteArray key = target.toLower();
        const auto complete = [this, c, id](CompletionMessage m) {
            if (!id.isEmpty() && !c->ended)
                deliver(c, m);
        };
        if (auto it = handlers.constFind(key); it != handlers.constEnd()) {
            const Handler handler = it.value();
            try {
                complete(CompletionMessage::withResult(id, handler(arguments)));
            } catch (const std::exception &e) {
                complete(CompletionMessage::withError(id, exceptionText(e).toUtf8()));
            } catch (...) {
                complete(CompletionMessage::withError(id, "The handler failed."));
            }
            return;
        }
        if (auto it = asyncHandlers.constFind(key); it != asyncHandlers.constEnd()) {
            const AsyncHandler handler = it.value();
            QFuture<Value> future;
            try {
                future = handler(arguments);
            } catch (const std::exception &e) {
                complete(CompletionMessage::withError(id, exceptionText(e).toUtf8()));
                return;
            }
            auto *watcher = new QFutureWatcher<Value>(q);
            QObject::connect(watcher, &QFutureWatcherBase::finished, q, [watcher, complete, id] {
                watcher->deleteLater();
                QFuture<Value> f = watcher->future();
                try {
                    f.waitForFinished(); // finished: only rethrows a stored exception
                } catch (const std::exception &e) {
                    complete(CompletionMessage::withError(id, exceptionText(e).toUtf8()));
                    return;
                } catch (...) {
                    complete(CompletionMessage::withError(id, "The handler failed."));
                    return;
                }
                if (f.resultCount() == 0)
                    complete(CompletionMessage::withError(id, "The handler gave no result."));
                else
                    complete(CompletionMessage::withResult(id, f.result()));
            });
            watcher->setFuture(future);
            return;
        }
        qCDebug(lcFakeHub) << "no handler for" << target;
        complete(CompletionMessage::withError(id, methodMissing(target)));
    }

    void answerStream(const ConnectionPtr &c, const QByteArray &id, const QByteArray &target,
                      const ValueList &arguments)
    {
        const auto it = streamHandlers.constFind(target.toLower());
        if (it == streamHandlers.constEnd()) {
            deliver(c, CompletionMessage::withError(id, methodMissing(target)));
            return;
        }
        const StreamHandler handler = it.value();
        ValueList items;
        try {
            items = handler(arguments);
        } catch (const std::exception &e) {
            deliver(c, CompletionMessage::withError(id, exceptionText(e).toUtf8()));
            return;
        }
        for (const Value &item : std::as_const(items)) {
            if (c->ended)
                return;
            deliver(c, StreamItemMessage {{}, id, item});
        }
        if (!c->ended)
            deliver(c, CompletionMessage::empty(id));
    }

    // --- writing to clients -----------------------------------------------------------------

    /// A hub message through the fault injection.
    void deliver(const ConnectionPtr &c, const HubMessage &message)
    {
        if (c->ended || !c->handshakeDone)
            return;
        if (dropNext > 0) {
            --dropNext;
            ++dropped;
            qCDebug(lcFakeHub) << "dropping a message to" << c->id;
            return;
        }
        if (dropProbability > 0 && random.generateDouble() < dropProbability) {
            ++dropped;
            qCDebug(lcFakeHub) << "dropping a message to" << c->id << "(probability)";
            return;
        }
        QByteArray bytes;
        c->protocol->write(message, bytes);
        const int copies = duplicateNext > 0 ? 2 : 1;
        if (duplicateNext > 0)
            --duplicateNext;
        for (int i = 0; i < copies && !c->ended; ++i)
            enqueue(c, Out {Out::Kind::Payload, 0, bytes, Frame::Auto, 1000});
    }

    void enqueue(const ConnectionPtr &c, Out out)
    {
        out.due = clock.elapsed() + delay.count();
        c->queue.append(std::move(out));
        flush(c);
    }

    void flush(const ConnectionPtr &c)
    {
        const qint64 now = clock.elapsed();
        while (!c->ended && !c->queue.isEmpty() && c->queue.first().due <= now)
            writeNow(c, c->queue.takeFirst());
        scheduleFlush();
    }

    void flushAll()
    {
        const QList<ConnectionPtr> all = connections;
        for (const ConnectionPtr &c : all)
            flush(c);
    }

    void scheduleFlush()
    {
        std::optional<qint64> next;
        for (const ConnectionPtr &c : std::as_const(connections))
            if (!c->ended && !c->queue.isEmpty())
                next = qMin(next.value_or(c->queue.first().due), c->queue.first().due);
        if (!next) {
            flushTimer.stop();
            return;
        }
        flushTimer.start(int(qMax<qint64>(0, *next - clock.elapsed())));
    }

    void writeNow(const ConnectionPtr &c, const Out &out)
    {
        if (c->ended)
            return;
        switch (out.kind) {
        case Out::Kind::Handshake:
        case Out::Kind::Payload:
        case Out::Kind::RawFrame:
            if (c->kind == HubConnection::Transport::ServerSentEvents) {
                if (c->socket)
                    c->socket->write(out.kind == Out::Kind::RawFrame ? out.bytes
                                                                     : sseEvent(out.bytes));
                return;
            }
            writeFrame(c, out.bytes, out.frame);
            return;
        case Out::Kind::RawSocket:
            if (c->socket)
                c->socket->write(out.bytes);
            return;
        case Out::Kind::CloseTransport:
            closeTransportNow(c, out.closeCode);
            return;
        }
    }

    void writeFrame(const ConnectionPtr &c, const QByteArray &bytes, Frame frame)
    {
        if (!c->webSocket)
            return;
        if (frame == Frame::Auto)
            frame = c->protocol && c->protocol->transferFormat() == TransferFormat::Binary
                ? Frame::Binary
                : Frame::Text;
        if (frame == Frame::Binary) {
            c->webSocket->sendBinaryMessage(bytes);
        } else if (QByteArrayView(bytes).isValidUtf8()) {
            c->webSocket->sendTextMessage(QString::fromUtf8(bytes));
        } else if (c->socket) {
            // QWebSocket cannot send invalid UTF-8 as text: write the frame ourselves.
            c->socket->write(webSocketFrame(0x1, bytes));
        } else {
            qCWarning(lcFakeHub) << "cannot send an invalid UTF-8 text frame to" << c->id;
        }
    }

    void closeTransportNow(const ConnectionPtr &c, quint16 code)
    {
        if (c->webSocket)
            c->webSocket->close(QWebSocketProtocol::CloseCode(code));
        else if (c->socket)
            c->socket->disconnectFromHost();
    }

    void abortConnection(const ConnectionPtr &c)
    {
        if (c->webSocket)
            c->webSocket->abort();
        else if (c->socket)
            c->socket->abort();
        ended(c); // abort() may not emit disconnected() synchronously
    }

    void ended(const ConnectionPtr &c)
    {
        if (c->ended)
            return;
        c->ended = true;
        c->queue.clear();
        connections.removeAll(c);
        const QPointer<FakeHub> guard(q);
        // Taken out first: a continuation of a failed call may call back into the hub.
        QList<std::shared_ptr<QPromise<Value>>> orphaned;
        clientCalls.removeIf([&](QHash<QByteArray, ClientCall>::iterator it) {
            if (it->connectionId != c->id)
                return false;
            orphaned.append(it->promise);
            return true;
        });
        for (const std::shared_ptr<QPromise<Value>> &promise : std::as_const(orphaned)) {
            promise->setException(
                HubErrorException({Error::ConnectionLost, u"The connection ended."_s}));
            promise->finish();
        }
        if (!c->handshakeDone)
            return;
        qCDebug(lcFakeHub) << c->id << "disconnected";
        Q_EMIT q->clientDisconnected(c->id);
        if (guard)
            Q_EMIT q->connectionCountChanged();
    }

    FakeHub *const q;
    QTcpServer tcp;
    QWebSocketServer webSockets;
    QList<QPointer<QTcpSocket>> upgrading;
    QList<QTcpSocket *> httpSockets;
    HubConnection::Transports transports
        = HubConnection::Transport::WebSockets | HubConnection::Transport::ServerSentEvents;
    QHash<QByteArray, QString> negotiated; ///< token -> connection id, until the transport opens
    QList<ConnectionPtr> connections;
    QHash<QByteArray, ClientCall> clientCalls;
    quint64 nextClientCall = 1;

    QHash<QByteArray, Handler> handlers;
    QHash<QByteArray, AsyncHandler> asyncHandlers;
    QHash<QByteArray, StreamHandler> streamHandlers;
    QByteArray handshakeResponse;

    int dropNext = 0;
    int duplicateNext = 0;
    double dropProbability = 0;
    QRandomGenerator random;
    std::chrono::milliseconds delay {0};
    quint64 dropped = 0;
    QElapsedTimer clock;
    QTimer flushTimer;

    bool recording = true;
    QList<Received> log;
};

FakeHub::FakeHub(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{ }

FakeHub::~FakeHub() = default;

bool FakeHub::isListening() const
{
    return d->tcp.isListening();
}

quint16 FakeHub::port() const
{
    return d->tcp.serverPort();
}

QUrl FakeHub::url() const
{
    return QUrl(u"http://127.0.0.1:%1/hub"_s.arg(port()));
}

void FakeHub::setTransports(HubConnection::Transports transports)
{
    d->transports = transports;
}

HubConnection::Transports FakeHub::transports() const
{
    return d->transports;
}

QStringList FakeHub::connectionIds() const
{
    QStringList ids;
    for (const Private::ConnectionPtr &c : std::as_const(d->connections))
        if (c->handshakeDone && !c->ended)
            ids.append(c->id);
    return ids;
}

int FakeHub::connectionCount() const
{
    return int(connectionIds().size());
}

QByteArray FakeHub::protocolOf(const QString &connectionId) const
{
    const Private::ConnectionPtr c = d->byId(connectionId);
    return c && c->protocol ? c->protocol->name().toByteArray() : QByteArray();
}

HubConnection::Transport FakeHub::transportOf(const QString &connectionId) const
{
    const Private::ConnectionPtr c = d->byId(connectionId);
    return c ? c->kind : HubConnection::Transport::None;
}

void FakeHub::handle(const QByteArray &method, Handler handler)
{
    d->asyncHandlers.remove(method.toLower());
    d->handlers.emplace(method.toLower(), std::move(handler));
}

void FakeHub::handleAsync(const QByteArray &method, AsyncHandler handler)
{
    d->handlers.remove(method.toLower());
    d->asyncHandlers.emplace(method.toLower(), std::move(handler));
}

void FakeHub::handleStream(const QByteArray &method, StreamHandler handler)
{
    d->streamHandlers.emplace(method.toLower(), std::move(handler));
}

void FakeHub::removeHandler(const QByteArray &method)
{
    const QByteArray key = method.toLower();
    d->handlers.remove(key);
    d->asyncHandlers.remove(key);
    d->streamHandlers.remove(key);
}

void FakeHub::setHandshakeResponse(const QByteArray &raw)
{
    d->handshakeResponse = raw;
}

QByteArray FakeHub::handshakeResponse() const
{
    return d->handshakeResponse;
}

void FakeHub::sendMessage(const HubMessage &message, const QString &connectionId)
{
    for (const Private::ConnectionPtr &c : d->targets(connectionId))
        d->deliver(c, message);
}

void FakeHub::sendInvocation(const QByteArray &method, const ValueList &arguments,
                             const QString &connectionId)
{
    sendMessage(InvocationMessage {{}, {}, method, arguments, {}}, connectionId);
}

QFuture<Value> FakeHub::invokeClient(const QString &connectionId, const QByteArray &method,
                                     const ValueList &arguments)
{
    auto promise = std::make_shared<QPromise<Value>>();
    promise->start();
    QFuture<Value> future = promise->future();
    const Private::ConnectionPtr c = d->byId(connectionId);
    if (!c || !c->handshakeDone) {
        promise->setException(
            HubErrorException({Error::NotConnected, u"No connected client with that id."_s}));
        promise->finish();
        return future;
    }
    const QByteArray id = "fakehub-" + QByteArray::number(d->nextClientCall++);
    d->clientCalls.insert(id, {connectionId, promise});
    d->deliver(c, InvocationMessage {{}, id, method, arguments, {}});
    return future;
}

void FakeHub::sendRaw(const QByteArray &bytes, const QString &connectionId, Frame frame)
{
    for (const Private::ConnectionPtr &c : d->targets(connectionId))
        d->enqueue(c, Private::Out {Private::Out::Kind::RawFrame, 0, bytes, frame, 1000});
}

void FakeHub::sendRawSocket(const QByteArray &bytes, const QString &connectionId)
{
    for (const Private::ConnectionPtr &c : d->targets(connectionId))
        d->enqueue(c, Private::Out {Private::Out::Kind::RawSocket, 0, bytes, Frame::Auto, 1000});
}

void FakeHub::close(const QByteArray &error, bool allowReconnect, const QString &connectionId)
{
    CloseMessage message;
    if (!error.isEmpty())
        message.error = error;
    message.allowReconnect = allowReconnect;
    for (const Private::ConnectionPtr &c : d->targets(connectionId)) {
        QByteArray bytes;
        c->protocol->write(message, bytes);
        d->enqueue(c, Private::Out {Private::Out::Kind::Payload, 0, bytes, Frame::Auto, 1000});
        d->enqueue(c, Private::Out {Private::Out::Kind::CloseTransport, 0, {}, Frame::Auto, 1000});
    }
}

void FakeHub::closeTransport(quint16 webSocketCloseCode, const QString &connectionId)
{
    for (const Private::ConnectionPtr &c : d->targets(connectionId))
        d->enqueue(c,
                   Private::Out {
                       Private::Out::Kind::CloseTransport, 0, {}, Frame::Auto, webSocketCloseCode});
}

void FakeHub::abort(const QString &connectionId)
{
    for (const Private::ConnectionPtr &c : d->targets(connectionId))
        d->abortConnection(c);
}

void FakeHub::dropNext(int count)
{
    d->dropNext += qMax(0, count);
}

void FakeHub::setDropProbability(double p, quint32 seed)
{
    d->dropProbability = qBound(0.0, p, 1.0);
    d->random.seed(seed);
}

double FakeHub::dropProbability() const
{
    return d->dropProbability;
}

void FakeHub::duplicateNext(int count)
{
    d->duplicateNext += qMax(0, count);
}

void FakeHub::setDelay(std::chrono::milliseconds delay)
{
    d->delay = qMax(delay, std::chrono::milliseconds(0));
}

std::chrono::milliseconds FakeHub::delay() const
{
    return d->delay;
}

void FakeHub::resetFaults()
{
    d->dropNext = 0;
    d->duplicateNext = 0;
    d->dropProbability = 0;
    d->delay = std::chrono::milliseconds(0);
}

quint64 FakeHub::droppedCount() const
{
    return d->dropped;
}

QList<FakeHub::Received> FakeHub::received() const
{
    return d->log;
}

QList<HubMessage> FakeHub::received(MessageType type) const
{
    QList<HubMessage> out;
    for (const Received &r : std::as_const(d->log))
        if (messageType(r.message) == type)
            out.append(r.message);
    return out;
}

void FakeHub::clearReceived()
{
    d->log.clear();
}

void FakeHub::setRecordingEnabled(bool enabled)
{
    d->recording = enabled;
    if (!enabled)
        d->log.clear();
}

bool FakeHub::isRecordingEnabled() const
{
    return d->recording;
}

} // namespace Heliograph::Testing
