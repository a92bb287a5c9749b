// SPDX-License-Identifier: MIT
#include "signalr/serverstream.h"

#include "signalr/handoff.h"
#include "signalr/hubconnectioncontext.h"

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

ServerStream::ServerStream(HubConnectionContext *connection, QByteArray invocationId)
    : m_connection(connection)
    , m_invocationId(std::move(invocationId))
    , m_context(new QObject, [](QObject *o) { o->deleteLater(); })
{ }

ServerStream::~ServerStream() = default;

void ServerStream::write(const Value &item)
{
    if (m_connection)
        m_connection->sendMessage(StreamItemMessage {{}, m_invocationId, item});
}

void ServerStream::complete()
{
    if (!m_connection)
        return;
    m_connection->sendMessage(CompletionMessage::empty(m_invocationId));
    end();
}

void ServerStream::fail(const QString &detail)
{
    if (!m_connection)
        return;
    m_connection->sendMessage(CompletionMessage::withError(
        m_invocationId,
        m_connection->withDetail(u"An error occurred on the server while streaming results."_s,
                                 detail)));
    end();
}

void ServerStream::end()
{
    HubConnectionContext *c = std::exchange(m_connection, nullptr);
    m_onCancel = nullptr;
    c->m_streams.remove(m_invocationId);
}

void ServerStream::cancel()
{
    if (!m_connection)
        return;
    m_connection = nullptr;
    if (auto handler = std::exchange(m_onCancel, nullptr))
        handler();
}

void ServerStream::post(std::function<void(ServerStream &)> f)
{
    postTo(m_context.get(), [self = shared_from_this(), f = std::move(f)] {
        if (self->isActive())
            f(*self);
    });
}

} // namespace Heliograph::Server
