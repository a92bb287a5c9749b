// SPDX-License-Identifier: MIT
// HubConnection's stateful reconnect: resuming the same logical connection on a new socket,
// the replay buffer of what was sent and not acknowledged, acks and sequence numbers.
#include "hubconnection_helpers_p.h"
#include "logging_p.h"

namespace Heliograph {

using Detail::lcHubConnection;

// --- Private: stateful reconnect ----------------------------------------------------------

void HubConnection::Private::beginResume(Error e, const QString &message)
{
    qCInfo(lcHubConnection).noquote()
        << "transport lost:" << message << "- resuming connection" << connectionId;
    sr.resuming = true;
    sr.awaitingSequence = true;
    sr.lossError = e;
    sr.lossMessage = message;
    heartbeatTimer.stop();
    ackTimer.stop();
    if (Detail::Transport *t = std::exchange(transport, nullptr)) {
        t->disconnect(q);
        t->deleteLater();
    }
    // a partial message of the old socket is gone with it
    reader.emplace(*protocol, qsizetype(active.maxReceiveMessageSize));
    makeConnector(true);
}

void HubConnection::Private::onResumed()
{
    Detail::Connector *c = std::exchange(connector, nullptr);
    Detail::Transport *t = c->takeTransport();
    c->disconnect(q);
    c->deleteLater();
    attachTransport(t);
    sr.resuming = false;
    sr.resumedOnce = true;
    lastSentMs = lastReceivedMs = clock.elapsed();
    // Sequence, then every unacknowledged message in its original bytes.
    const qint64 first = sr.messages.firstUnacknowledged();
    sendMessage(SequenceMessage {first});
    for (const ReconnectBuffer::Entry &m : sr.messages.unacknowledged()) {
        bytesSent += quint64(m.bytes.size());
        transport->send(m.bytes, {});
    }
    ++resumeCount;
    statisticsTouched();
    scheduleHeartbeat();
    qCInfo(lcHubConnection) << "resumed connection" << connectionId << "replaying"
                            << sr.messages.unacknowledged().size() << "messages from" << first;
    QPointer<HubConnection> guard(q);
    Q_EMIT q->resumed();
}

void HubConnection::Private::trimReplayBuffer(qint64 acknowledged)
{
    sr.messages.acknowledge(acknowledged);
    QList<std::function<void(bool)>> released;
    // Held sends finish once acknowledged, the others once the buffer is under its limit.
    const bool underLimit = sr.messages.bufferedBytes() < active.statefulBufferSize;
    while (!sr.held.isEmpty() && (underLimit || sr.held.constFirst().id <= acknowledged))
        released.append(sr.held.takeFirst().done);
    for (const auto &done : released)
        done(true);
}

void HubConnection::Private::releaseHeldSends(bool ok)
{
    const QList<Stateful::Held> held = std::exchange(sr.held, {});
    for (const Stateful::Held &h : held)
        h.done(ok);
}

void HubConnection::Private::sendAck()
{
    if (!sr.enabled || sr.resuming || !transport)
        return;
    if (const std::optional<qint64> ack = sr.messages.takeAckDue())
        sendMessage(AckMessage {*ack});
}

/// Counts a sequenced message from the server; false if it must not be dispatched.
bool HubConnection::Private::acceptSequenced()
{
    if (sr.awaitingSequence) {
        qCDebug(lcHubConnection) << "ignoring a message before the server's Sequence";
        return false;
    }
    if (!sr.messages.receive()) {
        qCDebug(lcHubConnection) << "dropping a replayed message (processed already)";
        return false;
    }
    if (!ackTimer.isActive())
        ackTimer.start(1000);
    return true;
}

} // namespace Heliograph
