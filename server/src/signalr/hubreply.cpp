// SPDX-License-Identifier: MIT
#include "signalr/hubreply.h"

#include "signalr/handoff.h"
#include "signalr/hubconnectioncontext.h"

using namespace Qt::StringLiterals;

namespace Heliograph::Server {

HubReply::HubReply(HubConnectionContext *connection, QByteArray invocationId, QByteArray target)
    : m_connection(connection)
    , m_invocationId(std::move(invocationId))
    , m_target(std::move(target))
    , m_context(new QObject, [](QObject *o) { o->deleteLater(); })
{ }

HubReply::~HubReply() = default;

void HubReply::resolve(const Value &result)
{
    if (!m_connection)
        return;
    if (!m_invocationId.isEmpty())
        m_connection->sendMessage(CompletionMessage::withResult(m_invocationId, result));
    finish();
}

void HubReply::reject(const QString &message)
{
    if (!m_connection)
        return;
    if (!m_invocationId.isEmpty())
        m_connection->sendMessage(CompletionMessage::withError(
            m_invocationId,
            (u"An unexpected error occurred invoking '%1' on the server. HubException: %2"_s.arg(
                 QString::fromUtf8(m_target), message))
                .toUtf8()));
    finish();
}

void HubReply::finish()
{
    HubConnectionContext *c = std::exchange(m_connection, nullptr);
    c->asyncInvocationDone(this);
}

void HubReply::abandon()
{
    m_connection = nullptr;
}

void HubReply::post(std::function<void(HubReply &)> f)
{
    postTo(m_context.get(), [self = shared_from_this(), f = std::move(f)] {
        if (self->isPending())
            f(*self);
    });
}

} // namespace Heliograph::Server
