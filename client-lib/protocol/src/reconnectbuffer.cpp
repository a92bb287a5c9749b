// SPDX-License-Identifier: MIT
#include <heliograph/protocol/reconnectbuffer.h>

namespace Heliograph {
inline namespace Protocol {

qint64 ReconnectBuffer::append(const QByteArray &bytes)
{
    m_sent.push_back({++m_lastSent, bytes});
    m_sentBytes += bytes.size();
    return m_lastSent;
}

qsizetype ReconnectBuffer::acknowledge(qint64 sequenceId)
{
    qsizetype dropped = 0;
    while (dropped < m_sent.size() && m_sent.at(dropped).id <= sequenceId) {
        m_sentBytes -= m_sent.at(dropped).bytes.size();
        ++dropped;
    }
    m_sent.remove(0, dropped); // moves the list's start; nothing is copied
    return dropped;
}

void ReconnectBuffer::clear()
{
    m_sent.clear();
    m_sentBytes = 0;
}

qint64 ReconnectBuffer::firstUnacknowledged() const noexcept
{
    return m_sent.isEmpty() ? m_lastSent + 1 : m_sent.constFirst().id;
}

bool ReconnectBuffer::receive() noexcept
{
    const qint64 id = m_nextExpected++;
    if (id <= m_latestReceived)
        return false;
    m_latestReceived = id;
    return true;
}

bool ReconnectBuffer::resetReceive(qint64 sequenceId) noexcept
{
    if (sequenceId > m_nextExpected)
        return false;
    m_nextExpected = sequenceId;
    return true;
}

std::optional<qint64> ReconnectBuffer::takeAckDue() noexcept
{
    if (m_latestReceived <= m_lastAcked)
        return std::nullopt;
    m_lastAcked = m_latestReceived;
    return m_latestReceived;
}

} // namespace Protocol
} // namespace Heliograph
