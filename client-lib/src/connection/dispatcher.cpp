// SPDX-License-Identifier: MIT
// HubConnection's messages: the handshake, dispatching what the hub sends (invocations of
// handlers, client results, completions, Close), sending invocations and the handler registry.
#include "hubconnection_helpers_p.h"
#include "logging_p.h"

#include <heliograph/protocol/handshake.h>

#include <QtCore/QFutureWatcher>

#include <exception>

using namespace Qt::StringLiterals;

namespace Heliograph {

using Detail::lcHubConnection;

void HubConnection::Private::onTransportReceived(const QByteArray &payload)
{
    bytesReceived += quint64(payload.size());
    lastReceivedMs = clock.elapsed();
    statisticsTouched();
    if (!handshakeDone) {
        handshakeBuffer += payload;
        processHandshake();
        return;
    }
    if (state != State::Connected)
        return;
    reader->append(payload);
    processMessages();
}

void HubConnection::Private::processHandshake()
{
    HandshakeResponse response;
    const Expected<qsizetype> used = Handshake::parseResponse(
        handshakeBuffer, response, qsizetype(active.maxReceiveMessageSize));
    if (!used) {
        const QString why = used.error().code == ProtocolErrorCode::MessageTooLarge
            ? Detail::messageTooLargeText(active.maxReceiveMessageSize)
            : used.error().message;
        attemptFailed(Error::HandshakeFailed, u"Error parsing handshake response: %1"_s.arg(why));
        return;
    }
    if (*used == 0)
        return;
    handshakeTimer.stop();
    if (!response.isSuccess()) {
        attemptFailed(
            Error::HandshakeFailed,
            u"Server returned handshake error: %1"_s.arg(QString::fromUtf8(response.error)));
        return;
    }
    roundTripTime = handshakeClock.elapsed();
    const QByteArray rest = handshakeBuffer.mid(*used);
    handshakeBuffer.clear();
    handshakeDone = true;
    reader->append(rest);
    const quint64 session = currentSession;
    QPointer<HubConnection> guard(q);
    established();
    if (guard && isCurrent(session))
        processMessages();
}

void HubConnection::Private::established()
{
    const bool wasReconnecting = state == State::Reconnecting;
    setConnectionId(pendingConnectionId);
    setTransportKind(pendingTransport);
    retryCount = 0;
    if (wasReconnecting) {
        ++reconnectCount;
        setError(Error::NoError, {});
    }
    statisticsTouched();
    setState(State::Connected);
    // Tells the server to start its client timeout (not on long polling, as the official
    // clients do).
    if (transportKind != Transport::LongPolling)
        sendMessage(PingMessage {});
    scheduleHeartbeat();
    qCInfo(lcHubConnection).noquote()
        << (wasReconnecting ? "reconnected" : "connected") << "over" << transportKind << "with"
        << protocol->name() << "connection id" << connectionId;
    setRecovered(true);
    // The rejoin calls go first; the outbox follows once they are answered.
    const quint64 session = currentSession;
    runRejoins();
    if (isCurrent(session) && rejoinsPending == 0)
        flushOutbox();
    if (isCurrent(session))
        notify(wasReconnecting ? Event::Reconnected : Event::Connected);
}

void HubConnection::Private::processMessages()
{
    QPointer<HubConnection> guard(q);
    const quint64 session = currentSession;
    while (guard && isCurrent(session)) {
        MessageReader::Result r = reader->read();
        if (r.status == MessageReader::Status::NeedMoreData)
            return;
        if (r.status == MessageReader::Status::Error) {
            const QString message = r.error.code == ProtocolErrorCode::MessageTooLarge
                ? Detail::messageTooLargeText(active.maxReceiveMessageSize)
                : r.error.message;
            qCWarning(lcHubConnection) << "the server sent data the" << protocol->name()
                                       << "protocol cannot read:" << message;
            connectionLost(Error::ProtocolError, message, true);
            return;
        }
        qCDebug(lcHubConnection) << "received" << *r.message;
        dispatch(std::move(*r.message));
    }
}

void HubConnection::Private::dispatch(HubMessage &&message)
{
    if (sr.enabled && isSequenced(message) && !acceptSequenced())
        return;
    switch (messageType(message)) {
    case MessageType::Invocation:
        handleInvocation(std::get<InvocationMessage>(std::move(message)));
        return;
    case MessageType::StreamItem: {
        auto &item = std::get<StreamItemMessage>(message);
        if (HubStream *s = streams.value(item.invocationId); s && !s->d->finished)
            Q_EMIT s->item(item.item);
        return;
    }
    case MessageType::Completion:
        handleCompletion(std::get<CompletionMessage>(std::move(message)));
        return;
    case MessageType::Ping:
        return;
    case MessageType::Close:
        handleClose(std::get<CloseMessage>(message));
        return;
    case MessageType::Ack:
        if (sr.enabled) {
            trimReplayBuffer(std::get<AckMessage>(message).sequenceId);
            return;
        }
        break;
    case MessageType::Sequence:
        if (sr.enabled) {
            const qint64 next = std::get<SequenceMessage>(message).sequenceId;
            if (next < 1 || !sr.messages.resetReceive(next)) {
                connectionLost(Error::ProtocolError,
                               u"Sequence ID greater than amount of messages we've received."_s,
                               true);
                return;
            }
            sr.awaitingSequence = false;
            return;
        }
        break;
    case MessageType::StreamInvocation:
    case MessageType::CancelInvocation:
        break;
    }
    {
        qCDebug(lcHubConnection) << "ignoring" << messageTypeName(messageType(message))
                                 << "from the server";
    }
}

void HubConnection::Private::handleInvocation(InvocationMessage &&invocation)
{
    if (!cursors.isEmpty() && !applyCursor(invocation))
        return;
    const QByteArray key = invocation.target.toLower();
    const QList<std::shared_ptr<HandlerEntry>> list = handlers.value(key);
    QPointer<HubConnection> guard(q);
    const quint64 session = currentSession;
    for (const std::shared_ptr<HandlerEntry> &e : list) {
        if (e->removed)
            continue;
        if (e->hasContext && !e->context) {
            removeHandler(e->id);
            continue;
        }
        try {
            e->handler(invocation.arguments);
        } catch (const std::exception &ex) {
            qCWarning(lcHubConnection)
                << "handler of" << invocation.target << "threw:" << exceptionText(ex);
        } catch (...) {
            qCWarning(lcHubConnection) << "handler of" << invocation.target << "threw";
        }
        if (!guard)
            return;
    }
    // A client result (an invocation with an id) that cannot be given ends here, once: an
    // error completion, while the connection the server asked on is still the current one.
    const QByteArray id = invocation.invocationId;
    auto fail = [this, id, session](const QByteArray &text) {
        if (!id.isEmpty() && isCurrent(session))
            sendMessage(CompletionMessage::withError(id, text));
    };
    auto rit = resultHandlers.constFind(key);
    if (rit == resultHandlers.constEnd()) {
        // Once per method: a hub that calls methods the application ignores would flood the log.
        const bool warn = list.isEmpty() && !warnedNoHandler.contains(key);
        if (warn) {
            warnedNoHandler.insert(key);
            if (!id.isEmpty() && isCurrent(session))
                qCWarning(lcHubConnection)
                    << "no handler for the server's invocation of" << invocation.target;
            else
                qCWarning(lcHubConnection)
                    << "no handler for" << invocation.target << "(reported once per method)";
        }
        fail(NoResultText);
        return;
    }
    const ResultHandler handler = rit->handler;
    QFuture<Value> future;
    try {
        future = handler(invocation.arguments);
    } catch (...) {
        if (guard)
            fail(failureText(std::current_exception()));
        return;
    }
    if (!guard || id.isEmpty())
        return;
    auto *watcher = new QFutureWatcher<Value>(q);
    QObject::connect(watcher, &QFutureWatcherBase::finished, q, [this, watcher, id, session, fail] {
        watcher->deleteLater();
        QFuture<Value> f = watcher->future();
        try {
            f.waitForFinished(); // finished already: only rethrows a stored exception
        } catch (...) {
            fail(failureText(std::current_exception()));
            return;
        }
        if (f.resultCount() == 0)
            fail(NoResultText);
        else if (isCurrent(session)) // the server forgot this invocation with the connection
            sendMessage(CompletionMessage::withResult(id, f.result()));
    });
    watcher->setFuture(future);
}

void HubConnection::Private::handleCompletion(CompletionMessage &&completion)
{
    if (pending.contains(completion.invocationId)) {
        const ResultCallback callback = pending.take(completion.invocationId);
        if (completion.kind == CompletionMessage::Kind::Error)
            callback(HubError {Error::ServerError, QString::fromUtf8(completion.error)});
        else
            callback(completion.result);
        return;
    }
    if (streams.contains(completion.invocationId)) {
        const QPointer<HubStream> s = streams.take(completion.invocationId);
        if (!s || s->d->finished)
            return;
        s->d->finished = true;
        if (completion.kind == CompletionMessage::Kind::Error) {
            s->d->error = HubError {Error::ServerError, QString::fromUtf8(completion.error)};
            Q_EMIT s->errorOccurred(*s->d->error);
        } else {
            Q_EMIT s->completed();
        }
        if (s)
            Q_EMIT s->finished();
        return;
    }
    qCDebug(lcHubConnection) << "completion for an unknown invocation" << completion.invocationId;
}

void HubConnection::Private::handleClose(const CloseMessage &close)
{
    const QString message = close.error && !close.error->isEmpty()
        ? u"Server returned an error on close: %1"_s.arg(QString::fromUtf8(*close.error))
        : u"The server closed the connection."_s;
    qCInfo(lcHubConnection) << "the server sent Close, allowReconnect" << close.allowReconnect
                            << message;
    connectionLost(Error::ServerClosed, message, close.allowReconnect);
}

// --- Private: sending ---------------------------------------------------------------------

bool HubConnection::Private::sendMessage(const HubMessage &message, std::function<void(bool)> done)
{
    const bool sequenced = sr.enabled && isSequenced(message);
    if (state != State::Connected || (!transport && !(sequenced && sr.resuming))) {
        if (done)
            done(false);
        return false;
    }
    QByteArray bytes;
    protocol->write(message, bytes);
    qCDebug(lcHubConnection) << "sending" << message;
    if (sequenced) {
        // Kept until the server acknowledges it; past the limit the sender waits for that.
        const qint64 id = sr.messages.append(bytes);
        if (sr.messages.bufferedBytes() > active.statefulBufferSize && done)
            sr.held.push_back({id, std::exchange(done, {})});
        if (!transport) { // resuming: goes out with the replay
            if (done)
                done(true);
            return true;
        }
    }
    bytesSent += quint64(bytes.size());
    lastSentMs = clock.elapsed();
    statisticsTouched();
    transport->send(bytes, std::move(done));
    return true;
}

void HubConnection::Private::call(CallKind kind, const QByteArray &method,
                                  const ValueList &arguments, const QList<UploadStream *> &ups,
                                  ResultCallback onResult, std::function<void(bool)> onSent,
                                  HubStream *stream)
{
    auto failLater = [this, stream, onResult, onSent](const HubError &err) {
        // Never call back from inside the call: the caller may not be ready for it.
        QMetaObject::invokeMethod(
            q,
            [err, onResult, onSent, s = QPointer<HubStream>(stream)] {
                if (onResult)
                    onResult(err);
                else if (onSent)
                    onSent(false);
                if (s && !s->d->finished) {
                    s->d->finished = true;
                    s->d->error = err;
                    Q_EMIT s->errorOccurred(err);
                    if (s)
                        Q_EMIT s->finished();
                }
            },
            Qt::QueuedConnection);
    };
    const bool queueable = kind != CallKind::Stream && ups.isEmpty();
    const bool waiting = state == State::Connecting || state == State::Reconnecting
        || (state == State::Connected && !bypassOutbox && outboxBlocksCalls());
    if (waiting && queueable && active.outboxEnabled) {
        if (!enqueue(kind, method, arguments, onResult, onSent))
            failLater({Error::QueueFull,
                       u"The outbox is full (%1 calls waiting for the connection)."_s.arg(
                           outbox.size())});
        return;
    }
    if (state != State::Connected || (!transport && !sr.resuming)) {
        failLater({Error::NotConnected, NotConnectedText});
        return;
    }
    for (UploadStream *u : ups) {
        if (!u || u->d->connection != q || u->d->state != UploadStream::Private::State::Unbound) {
            failLater({Error::InvalidArgument,
                       u"An upload stream must come from this connection's createUploadStream() "
                       u"and can be passed to one call only."_s});
            return;
        }
    }
    const QByteArray id = kind == CallKind::Send ? QByteArray() : nextInvocationId();
    QList<QByteArray> streamIds;
    streamIds.reserve(ups.size());
    for (qsizetype i = 0; i < ups.size(); ++i)
        streamIds.append(nextInvocationId());
    HubMessage message = kind == CallKind::Stream
        ? HubMessage(StreamInvocationMessage {{}, id, method, arguments, streamIds})
        : HubMessage(InvocationMessage {{}, id, method, arguments, streamIds});
    if (kind == CallKind::Invoke)
        pending.emplace(id, std::move(onResult));
    if (kind == CallKind::Stream) {
        stream->d->invocationId = id;
        stream->d->session = currentSession;
        streams.insert(id, stream);
    }
    const quint64 session = currentSession;
    QPointer<HubConnection> guard(q);
    sendMessage(message, std::move(onSent));
    if (!guard || !isCurrent(session))
        return;
    for (qsizetype i = 0; i < ups.size(); ++i) {
        UploadStream *u = ups[i];
        u->d->state = UploadStream::Private::State::Open;
        u->d->streamId = streamIds[i];
        u->d->session = session;
        uploads.append(u);
        const ValueList buffered = std::exchange(u->d->buffered, {});
        for (const Value &item : buffered)
            sendMessage(StreamItemMessage {{}, u->d->streamId, item});
        if (u->d->failRequested)
            u->fail(*u->d->failRequested);
        else if (u->d->completeRequested)
            u->complete();
    }
}

// --- Private: handlers --------------------------------------------------------------------

Subscription HubConnection::Private::addHandler(const QByteArray &method, const QObject *context,
                                                Handler handler)
{
    auto e = std::make_shared<HandlerEntry>();
    e->id = nextHandlerId++;
    e->method = method;
    e->handler = std::move(handler);
    e->context = context;
    e->hasContext = context != nullptr;
    handlers[method.toLower()].append(e);
    auto data = std::make_shared<Subscription::Data>();
    data->connection = q;
    data->method = method;
    data->id = e->id;
    return Subscription(std::move(data));
}

Subscription HubConnection::Private::addResultHandler(const QByteArray &method,
                                                      ResultHandler handler)
{
    const QByteArray key = method.toLower();
    if (resultHandlers.contains(key))
        qCDebug(lcHubConnection) << "replacing the result handler of" << method;
    const quint64 id = nextHandlerId++;
    resultHandlers.insert(key, ResultEntry {id, method, std::move(handler)});
    auto data = std::make_shared<Subscription::Data>();
    data->connection = q;
    data->method = method;
    data->id = id;
    return Subscription(std::move(data));
}

void HubConnection::Private::removeHandler(quint64 id)
{
    for (auto it = handlers.begin(); it != handlers.end(); ++it) {
        QList<std::shared_ptr<HandlerEntry>> &list = it.value();
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (list[i]->id == id) {
                const std::shared_ptr<HandlerEntry> entry = list.takeAt(i);
                entry->removed = true;
                if (list.isEmpty())
                    handlers.remove(entry->method.toLower()); // the key addHandler() used
                return;
            }
        }
    }
    for (auto it = resultHandlers.cbegin(); it != resultHandlers.cend(); ++it) {
        if (it->id == id) {
            resultHandlers.erase(it);
            return;
        }
    }
}

bool HubConnection::Private::hasHandler(quint64 id) const
{
    for (const auto &list : handlers)
        for (const auto &e : list)
            if (e->id == id)
                return !e->hasContext || e->context;
    for (const ResultEntry &r : resultHandlers)
        if (r.id == id)
            return true;
    return false;
}

} // namespace Heliograph
