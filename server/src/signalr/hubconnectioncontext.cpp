// SPDX-License-Identifier: MIT
#include "signalr/hubconnectioncontext.h"

#include "signalr/handoff.h"
#include "signalr/heartbeat_p.h"
#include "signalr/lifetimemanager.h"
#include "transport/metrics.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubside.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcConnection, "heliograph.server.connection", QtInfoMsg)

namespace Heliograph::Server {

namespace {
/// Empties `container` first, then calls `f` on each value it held (a callback may add to the
/// container again, or close the connection).
template<typename Container, typename F> void takeEach(Container &container, F f)
{
    const Container taken = std::exchange(container, {});
    for (const auto &value : taken)
        f(value);
}
} // namespace

QByteArray HubConnectionContext::who() const
{
    // Every log line names the tenant and user, so an operator can tell whose connection it was.
    return "connection " + m_connectionId + " (tenant " + m_user.tenantId + ", user "
        + m_user.userId + ")";
}

const Principal &HubCallContext::user() const noexcept
{
    return m_caller.user();
}

const QByteArray &HubCallContext::connectionId() const noexcept
{
    return m_caller.connectionId();
}

HubConnectionContext::HubConnectionContext(Hub &hub, HubLifetimeManager &lifetime,
                                           const HubOptions &options, QByteArray connectionId,
                                           Principal user, ConnectionInfo info, QObject *parent)
    : QObject(parent)
    , m_hub(hub)
    , m_lifetime(lifetime)
    , m_options(options)
    , m_connectionId(std::move(connectionId))
    , m_user(std::move(user))
    , m_info(std::move(info))
{
    if (!m_info.connectedAt.isValid())
        m_info.connectedAt = QDateTime::currentDateTimeUtc();
}

HubConnectionContext::~HubConnectionContext()
{
    if (m_state != State::Closed) {
        m_transport = nullptr;
        finish();
    }
}

void HubConnectionContext::attachTransport(ConnectionTransport *transport)
{
    m_transport = transport;
    m_startedAt = m_lastReceived = Heartbeat::now();
    Heartbeat::forCurrentThread()->add(this);
}

void HubConnectionContext::receive(QByteArrayView data)
{
    if (m_state == State::Closed || data.isEmpty())
        return;
    m_lastReceived = Heartbeat::now();
    Metrics::instance().add("heliograph_received_bytes_total", {{"transport", m_info.transport}},
                            double(data.size()));
    if (m_state == State::Handshaking) {
        m_handshakeBuffer.append(data.data(), data.size());
        HandshakeRequest request;
        auto parsed = Handshake::parseRequest(m_handshakeBuffer, request,
                                              m_options.maximumReceiveMessageSize);
        if (!parsed) {
            if (parsed.error().code == ProtocolErrorCode::MessageTooLarge)
                failHandshake("Handshake was canceled.");
            else
                failHandshake(
                    withDetail(u"An unexpected error occurred during connection handshake."_s,
                               u"InvalidDataException: "_s + parsed.error().message));
            return;
        }
        if (*parsed == 0)
            return; // incomplete
        auto protocol = Handshake::resolve(
            request, m_transport ? m_transport->supportedFormats() : TransferFormat::Text,
            {&HubProtocol::json(), &HubProtocol::messagePack(m_options.messagePackKeyCase)});
        if (!protocol) {
            failHandshake(protocol.error().message.toUtf8());
            return;
        }
        m_protocol = *protocol;
        m_stateful = m_statefulAllowed && request.version >= 2;
        const QByteArray rest = m_handshakeBuffer.mid(*parsed);
        m_handshakeBuffer.clear();
        m_handshakeBuffer.squeeze();
        completeHandshake(rest);
        return;
    }
    releaseHeld(); // the client is talking: its message counter exists
    m_reader->append(data);
    processMessages();
}

void HubConnectionContext::releaseHeld()
{
    if (!m_holding)
        return;
    m_holding = false;
    if (!m_held.isEmpty())
        writeRaw(std::exchange(m_held, {}));
}

void HubConnectionContext::failHandshake(const QByteArray &error)
{
    qCInfo(lcConnection).noquote() << who() << "handshake failed:" << error;
    Metrics::instance().add("heliograph_rejected_connections_total", {{"reason", "handshake"}});
    writeRaw(Handshake::writeResponse(HandshakeResponse {error}));
    if (m_transport)
        m_transport->end();
    finish();
}

void HubConnectionContext::completeHandshake(QByteArrayView rest)
{
    if (m_transport)
        m_transport->setTransferFormat(m_protocol->transferFormat());
    m_reader.emplace(*m_protocol, m_options.maximumReceiveMessageSize);
    writeRaw(Handshake::writeResponse({}));
    m_holding = m_stateful;
    m_holdingSince = Heartbeat::now();
    m_state = State::Connected;
    m_lastPingSent = Heartbeat::now();
    Metrics::instance().add("heliograph_connections", metricLabels());
    m_lifetime.add(this);
    if (m_hub.registry)
        m_counters = m_hub.registry->opened(*this);
    HubCallContext ctx(*this, m_lifetime);
    try {
        m_connectedHookRan = true;
        m_hub.onConnected(ctx);
    } catch (const std::exception &e) {
        const bool isHub = dynamic_cast<const HubException *>(&e) != nullptr;
        qCWarning(lcConnection).noquote() << who() << "rejected in OnConnected:" << e.what();
        close(withDetail(u"Connection closed with an error."_s,
                         (isHub ? u"HubException: "_s : QString()) + QString::fromUtf8(e.what()),
                         isHub),
              false);
        return;
    }
    if (m_state != State::Connected)
        return; // the hook closed the connection
    if (!rest.isEmpty()) {
        m_reader->append(rest);
        processMessages();
    }
}

void HubConnectionContext::processMessages()
{
    if (m_dispatching)
        return; // re-entered from a hub method: the outer loop picks the messages up
    m_dispatching = true;
    const int limit = qMax(1, m_options.maximumParallelInvocationsPerClient);
    while (m_state == State::Connected) {
        if (!m_deferred.isEmpty() && m_replies.size() < limit) {
            HubMessage next = m_deferred.takeFirst();
            dispatch(next);
            continue;
        }
        const qsizetype buffered = m_reader->bufferedBytes();
        auto r = m_reader->read();
        if (r.status == MessageReader::Status::NeedMoreData)
            break;
        if (r.status == MessageReader::Status::Error) {
            qCInfo(lcConnection).noquote() << who() << "closed: bad message:" << r.error.message;
            close(withDetail(u"Connection closed with an error."_s,
                             u"InvalidDataException: "_s + r.error.message),
                  true);
            break;
        }
        if (!acceptIncoming(*r.message))
            continue;
        countReceived(*r.message, buffered - m_reader->bufferedBytes());
        if (m_counters && isSequenced(*r.message))
            m_counters->in.fetch_add(1, std::memory_order_relaxed);
        if (isInvocation(*r.message) && (m_replies.size() >= limit || !m_deferred.isEmpty())) {
            // Wait for a slot; completions, pings and cancellations still go through.
            if (m_deferred.size() >= 1024) {
                close(withDetail(u"Connection closed with an error."_s,
                                 u"InvalidOperationException: too many pending invocations."_s),
                      true);
                break;
            }
            m_deferred.append(std::move(*r.message));
            continue;
        }
        dispatch(*r.message);
    }
    m_dispatching = false;
}

void HubConnectionContext::countReceived(const HubMessage &message, qsizetype bytes)
{
    // Per hub method, and only for methods the hub has: names a client makes up must not
    // create metric series.
    QByteArrayView target;
    if (const auto *inv = std::get_if<InvocationMessage>(&message))
        target = inv->target;
    else if (const auto *s = std::get_if<StreamInvocationMessage>(&message))
        target = s->target;
    const Hub::Method *method = target.isEmpty() ? nullptr : m_hub.method(target);
    const Metrics::Labels labels {{"method", method ? method->name : QByteArray("(other)")}};
    Metrics::instance().add("heliograph_received_messages_total", labels);
    Metrics::instance().add("heliograph_received_message_bytes_total", labels, double(bytes));
}

void HubConnectionContext::dispatch(HubMessage &message)
{
    switch (messageType(message)) {
    case MessageType::Invocation: {
        const auto &m = std::get<InvocationMessage>(message);
        invoke(m.invocationId, m.target, m.arguments, false, m.streamIds);
        break;
    }
    case MessageType::StreamInvocation: {
        const auto &m = std::get<StreamInvocationMessage>(message);
        invoke(m.invocationId, m.target, m.arguments, true, m.streamIds);
        break;
    }
    case MessageType::Ping:
        m_receivedPing = true;
        break;
    case MessageType::Close:
        // The client is leaving: answer with our own Close, then end.
        close();
        break;
    case MessageType::CancelInvocation: {
        // The stream ends with a plain Completion; ids of no running stream are ignored.
        const QByteArray id = std::get<CancelInvocationMessage>(message).invocationId;
        if (ServerStreamPtr s = m_streams.take(id)) {
            s->cancel();
            sendMessage(CompletionMessage::empty(id));
        }
        break;
    }
    case MessageType::StreamItem: {
        const auto &item = std::get<StreamItemMessage>(message);
        if (UploadStreamPtr u = m_uploads.value(item.invocationId)) {
            if (u->queued() >= 1000) { // a client that uploads faster than the method reads
                close(withDetail(u"Connection closed with an error."_s,
                                 u"InvalidOperationException: upload stream buffer full."_s),
                      true);
                break;
            }
            u->deliver(item.item);
        }
        break; // items for unknown streams are ignored
    }
    case MessageType::Completion: {
        auto &c = std::get<CompletionMessage>(message);
        if (UploadStreamPtr u = m_uploads.take(c.invocationId)) {
            u->end(c.kind == CompletionMessage::Kind::Error
                       ? std::optional<QString>(QString::fromUtf8(c.error))
                       : std::nullopt);
            break;
        }
        if (ClientResultHandler handler = m_clientResults.take(c.invocationId)) {
            ClientResult result;
            result.ok = c.kind != CompletionMessage::Kind::Error;
            result.value = c.result;
            result.error = QString::fromUtf8(c.error);
            handler(result);
        }
        break; // completions for unknown ids are ignored, as ASP.NET Core does
    }
    case MessageType::Ack: {
        m_reconnect.acknowledge(std::get<AckMessage>(message).sequenceId);
        break;
    }
    case MessageType::Sequence: {
        const qint64 s = std::get<SequenceMessage>(message).sequenceId;
        if (!m_stateful)
            break;
        if (!m_reconnect.resetReceive(s)) {
            close(
                withDetail(
                    u"Connection closed with an error."_s,
                    u"InvalidOperationException: Sequence ID greater than amount of messages we've received."_s,
                    true),
                false);
            break;
        }
        break;
    }
    }
}

Metrics::Labels HubConnectionContext::metricLabels() const
{
    return {{"transport", m_info.transport},
            {"protocol", m_protocol ? m_protocol->name().toByteArray() : QByteArray()},
            {"tenant", m_user.tenantId}};
}

QByteArray HubConnectionContext::withDetail(const QString &base, const QString &detail,
                                            bool always) const
{
    if ((always || m_options.enableDetailedErrors) && !detail.isEmpty())
        return (base + u' ' + detail).toUtf8();
    return base.toUtf8();
}

void HubConnectionContext::invoke(const QByteArray &invocationId, const QByteArray &target,
                                  const ValueList &args, bool streaming,
                                  const QList<QByteArray> &streamIds)
{
    const QString t = QString::fromUtf8(target);
    auto fail = [&](const QByteArray &error) {
        if (!invocationId.isEmpty())
            sendMessage(CompletionMessage::withError(invocationId, error));
    };
    const Hub::Method *method = m_hub.method(target);
    if (!method) {
        fail(
            u"Failed to invoke '%1' due to an error on the server. HubException: Method does not exist."_s
                .arg(t)
                .toUtf8());
        return;
    }
    if (streaming && !method->streaming) {
        fail(
            u"The client attempted to invoke the non-streaming '%1' method with a streaming invocation."_s
                .arg(t)
                .toUtf8());
        return;
    }
    if (!streaming && method->streaming) {
        fail(
            u"The client attempted to invoke the streaming '%1' method with a non-streaming invocation."_s
                .arg(t)
                .toUtf8());
        return;
    }
    Hub::Handles handles;
    ServerStreamPtr &stream = handles.stream;
    if (method->async)
        handles.reply = std::make_shared<HubReply>(this, invocationId, method->name);
    if (streaming) {
        if (m_streams.contains(invocationId)) {
            fail(u"Invocation ID '%1' is already in use."_s.arg(QString::fromUtf8(invocationId))
                     .toUtf8());
            return;
        }
        stream = std::make_shared<ServerStream>(this, invocationId);
    }
    if (!method->policy.allows(m_user)) {
        qCInfo(lcConnection).noquote() << who() << "not authorized for" << target;
        fail(u"Failed to invoke '%1' because user is unauthorized"_s.arg(t).toUtf8());
        return;
    }
    HubCallContext ctx(*this, m_lifetime);
    QElapsedTimer timer;
    timer.start();
    if (stream)
        m_streams.insert(invocationId, stream);
    if (streamIds.size() != method->uploadStreams) {
        fail(
            u"An unexpected error occurred invoking '%1' on the server. HubException: Client sent %2 stream(s), Hub method expects %3."_s
                .arg(t)
                .arg(streamIds.size())
                .arg(method->uploadStreams)
                .toUtf8());
        return;
    }
    for (const QByteArray &id : streamIds) {
        auto upload = std::make_shared<UploadStream>(id);
        handles.uploads.append(upload);
        m_uploads.insert(id, upload);
    }
    if (handles.reply && !streamIds.isEmpty())
        m_uploadsOf.insert(handles.reply.get(), streamIds);
    if (handles.reply)
        m_replies.insert(handles.reply.get(), handles.reply);
    InvocationOutcome out = method->invoke(ctx, args, handles);
    if (handles.reply && out.status != InvocationOutcome::Status::Ok
        && handles.reply->isPending()) {
        m_replies.remove(handles.reply.get());
        handles.reply->abandon(); // the error completion below answers the call
    }
    const Metrics::Labels methodLabel {{"method", method->name}};
    Metrics::instance().observe("heliograph_invocation_duration_seconds", methodLabel,
                                double(timer.nsecsElapsed()) / 1e9);
    Metrics::instance().add(
        "heliograph_invocations_total",
        {{"method", method->name},
         {"outcome", out.status == InvocationOutcome::Status::Ok ? "ok" : "error"}});
    if (stream && out.status != InvocationOutcome::Status::Ok && stream->isActive()) {
        m_streams.remove(invocationId);
        stream->cancel();
    }
    if (m_state != State::Connected || invocationId.isEmpty())
        return;
    switch (out.status) {
    case InvocationOutcome::Status::Ok:
        if (!stream && !handles.reply) // streams and async methods complete themselves
            sendMessage(CompletionMessage::withResult(invocationId, std::move(out.result)));
        break;
    case InvocationOutcome::Status::BindingFailed:
        fail(withDetail(u"Failed to invoke '%1' due to an error on the server."_s.arg(t),
                        out.detail));
        break;
    case InvocationOutcome::Status::Unauthorized:
        fail(u"Failed to invoke '%1' because user is unauthorized"_s.arg(t).toUtf8());
        break;
    case InvocationOutcome::Status::HubError:
        fail(withDetail(u"An unexpected error occurred invoking '%1' on the server."_s.arg(t),
                        out.detail, true));
        break;
    case InvocationOutcome::Status::Threw:
        qCWarning(lcConnection).noquote()
            << who() << "hub method" << target << "threw:" << out.detail;
        fail(withDetail(u"An unexpected error occurred invoking '%1' on the server."_s.arg(t),
                        out.detail));
        break;
    }
}

void HubConnectionContext::invokeClient(QByteArray target, ValueList arguments,
                                        ClientResultHandler handler)
{
    if (m_state != State::Connected) {
        handler(ClientResult {false, {}, u"Connection disconnected."_s});
        return;
    }
    const QByteArray id = 's' + QByteArray::number(++m_clientResultCounter);
    m_clientResults.emplace(id, std::move(handler));
    sendMessage(InvocationMessage {{}, id, std::move(target), std::move(arguments), {}});
}

void HubConnectionContext::invokeClientSerialized(const SharedMessage &invocation,
                                                  const QByteArray &invocationId,
                                                  ClientResultHandler handler)
{
    if (m_state != State::Connected || m_clientResults.contains(invocationId)) {
        handler(ClientResult {false, {}, u"Connection disconnected."_s});
        return;
    }
    m_clientResults.emplace(invocationId, std::move(handler));
    send(invocation);
}

void HubConnectionContext::asyncInvocationDone(HubReply *reply)
{
    m_replies.remove(reply);
    // The method is done: streams it did not read to the end are closed.
    for (const QByteArray &id : m_uploadsOf.take(reply))
        if (UploadStreamPtr u = m_uploads.take(id))
            u->end(std::nullopt);
    if (!m_deferred.isEmpty() && !m_dispatching)
        postTo(this, [this] { processMessages(); });
}

void HubConnectionContext::writeRaw(const QByteArray &bytes)
{
    if (m_holding) {
        // Copied, not shared: `bytes` may be a broadcast's buffer that other threads release,
        // and a later append here must not find it shared inside libQt6Core (invisible to
        // ThreadSanitizer).
        m_held.append(bytes.constData(), bytes.size());
        return;
    }
    if (m_transport)
        m_transport->write(bytes);
}

qsizetype HubConnectionContext::send(const SharedMessage &message)
{
    if (m_state != State::Connected)
        return 0;
    const QByteArray &bytes = message->bytesFor(*m_protocol);
    if (bytes.isEmpty()) {
        // A message from another node that did not serialize it for this protocol: writing
        // nothing would lose it silently; ASP.NET Core closes the connection too.
        qCWarning(lcConnection).noquote()
            << who() << "closed: a message from another node lacks the"
            << m_protocol->name().toByteArray() << "protocol";
        close(withDetail(u"Connection closed with an error."_s,
                         u"InvalidOperationException: This message was received from another "
                         "server that did not have the requested protocol available."_s),
              true);
        return 0;
    }
    writeMessage(bytes, isSequenced(message->message));
    return bytes.size();
}

void HubConnectionContext::sendMessage(const HubMessage &message)
{
    if (m_state != State::Connected)
        return;
    writeMessage(m_protocol->serialize(message), isSequenced(message));
}

void HubConnectionContext::writeMessage(const QByteArray &bytes, bool sequenced)
{
    if (sequenced && m_counters)
        m_counters->out.fetch_add(1, std::memory_order_relaxed);
    if (m_stateful && sequenced) {
        m_reconnect.append(bytes); // shares the bytes, no copy
        if (m_reconnect.bufferedBytes() > m_options.statefulReconnectBufferSize * 10) {
            // A client that never acknowledges would make us buffer forever.
            qCInfo(lcConnection).noquote() << who() << "closed: replay buffer full";
            m_reconnect.clear();
            m_stateful = false;
            close(withDetail(
                      u"Connection closed with an error."_s,
                      u"InvalidOperationException: the client does not acknowledge messages."_s),
                  true);
            return;
        }
    }
    writeRaw(bytes);
}

bool HubConnectionContext::acceptIncoming(const HubMessage &message)
{
    if (!m_stateful || !isSequenced(message))
        return true;
    return m_reconnect.receive(); // false: replayed by the client after a reconnect
}

void HubConnectionContext::transportLost()
{
    if (m_state != State::Connected || !m_stateful) {
        transportEnded();
        return;
    }
    qCInfo(lcConnection).noquote() << who() << "lost its transport; waiting for a reconnect";
    m_transport = nullptr;
    m_awaiting = true;
    m_lostAt = Heartbeat::now();
}

bool HubConnectionContext::resumeTransport(ConnectionTransport *transport)
{
    if (!isAwaitingReconnect() || m_state != State::Connected)
        return false;
    m_transport = transport;
    m_awaiting = false;
    m_holding = false;
    m_held.clear(); // never delivered; the sequenced ones are replayed below
    m_lastReceived = m_lastPingSent = Heartbeat::now();
    transport->setTransferFormat(m_protocol->transferFormat());
    QByteArray out = m_protocol->serialize(SequenceMessage {m_reconnect.firstUnacknowledged()});
    for (const ReconnectBuffer::Entry &e : m_reconnect.unacknowledged())
        out += e.bytes;
    writeRaw(out);
    qCInfo(lcConnection).noquote()
        << who() << "resumed; replayed" << m_reconnect.unacknowledged().size() << "messages";
    return true;
}

void HubConnectionContext::close(std::optional<QByteArray> error, bool allowReconnect)
{
    if (m_state == State::Closed)
        return;
    releaseHeld();
    if (m_state == State::Connected)
        writeRaw(m_protocol->serialize(CloseMessage {std::move(error), allowReconnect}));
    if (m_transport)
        m_transport->end();
    finish();
}

void HubConnectionContext::transportEnded()
{
    m_transport = nullptr;
    finish();
}

void HubConnectionContext::finish()
{
    if (m_state == State::Closed)
        return;
    const bool wasConnected = m_state == State::Connected;
    m_state = State::Closed;
    Heartbeat::forCurrentThread()->remove(this);
    takeEach(m_streams, [](const ServerStreamPtr &s) { s->cancel(); });
    takeEach(m_replies, [](const HubReplyPtr &r) { r->abandon(); });
    m_uploadsOf.clear();
    takeEach(m_uploads, [](const UploadStreamPtr &u) { u->end(u"Connection disconnected."_s); });
    m_deferred.clear();
    takeEach(m_clientResults, [](const ClientResultHandler &h) {
        h(ClientResult {false, {}, u"Connection disconnected."_s});
    });
    if (wasConnected) {
        Metrics::instance().add("heliograph_connections", metricLabels(), -1);
        m_lifetime.remove(this);
        if (m_hub.registry)
            m_hub.registry->closed(*this);
        if (m_connectedHookRan) {
            HubCallContext ctx(*this, m_lifetime);
            try {
                m_hub.onDisconnected(ctx);
            } catch (const std::exception &e) {
                qCWarning(lcConnection).noquote() << who() << "OnDisconnected threw:" << e.what();
            }
        }
    }
    Q_EMIT closed();
}

void HubConnectionContext::groupChanged(const QByteArray &group, bool added)
{
    if (m_hub.registry && m_state == State::Connected)
        m_hub.registry->groupChanged(*this, group, added);
}

void HubConnectionContext::tick(qint64 now)
{
    switch (m_state) {
    case State::Handshaking:
        if (now - m_startedAt >= m_options.handshakeTimeout.count()) {
            qCInfo(lcConnection).noquote() << who() << "handshake timed out";
            failHandshake("Handshake was canceled.");
        }
        break;
    case State::Connected:
        if (m_awaiting && !m_transport) {
            if (now - m_lostAt >= m_options.disconnectTimeout.count()) {
                qCInfo(lcConnection)
                    << "connection" << m_connectionId << "did not reconnect in time";
                finish();
            }
            break;
        }
        if (m_holding && now - m_holdingSince >= 2000)
            releaseHeld(); // a client that does not ping after the handshake
        if (m_stateful && m_transport) {
            if (const std::optional<qint64> ack = m_reconnect.takeAckDue())
                writeRaw(m_protocol->serialize(AckMessage {*ack}));
        }
        if (m_transport && m_transport->hasInherentKeepAlive())
            break;
        if (m_receivedPing && now - m_lastReceived >= m_options.clientTimeoutInterval.count()) {
            qCInfo(lcConnection).noquote() << who() << "client timeout";
            close(
                withDetail(u"Connection closed with an error."_s,
                           u"OperationCanceledException: Client hasn't sent a message/ping within "
                           "the configured ClientTimeoutInterval."_s),
                true);
            break;
        }
        if (now - m_lastPingSent >= m_options.keepAliveInterval.count()) {
            m_lastPingSent = now;
            sendMessage(PingMessage {});
        }
        break;
    case State::Closed:
        break;
    }
}

} // namespace Heliograph::Server
