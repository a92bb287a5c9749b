// SPDX-License-Identifier: MIT
#include "protocols_p.h"

#include <heliograph/protocol/hubprotocol.h>

using namespace Qt::StringLiterals;

namespace Heliograph {
inline namespace Protocol {

ProtocolError tooLarge(qsizetype maxMessageSize)
{
    return ProtocolError {ProtocolErrorCode::MessageTooLarge,
                          u"The maximum message size of %1B was exceeded."_s.arg(maxMessageSize)};
}

HubProtocol::~HubProtocol() = default;

QByteArray HubProtocol::serialize(const HubMessage &message) const
{
    QByteArray out;
    write(message, out);
    return out;
}

Expected<QList<HubMessage>> HubProtocol::parseAll(QByteArrayView data) const
{
    QList<HubMessage> messages;
    while (!data.isEmpty()) {
        const FrameInfo f = scanFrame(data, 0, 0);
        if (f.status == FrameInfo::Status::Invalid)
            return f.error;
        if (f.status == FrameInfo::Status::Incomplete)
            return invalidData(u"Incomplete message."_s);
        auto m = parsePayload(data.sliced(f.payloadOffset, f.payloadSize));
        if (!m)
            return m.error();
        if (*m)
            messages.append(std::move(**m));
        data = data.sliced(f.frameSize);
    }
    return messages;
}

const HubProtocol &HubProtocol::json() noexcept
{
    static const JsonHubProtocol p;
    return p;
}

const HubProtocol &HubProtocol::messagePack() noexcept
{
    static const MessagePackHubProtocol p(StructKeyCase::CamelCase);
    return p;
}

const HubProtocol &HubProtocol::messagePack(StructKeyCase keyCase) noexcept
{
    if (keyCase == StructKeyCase::CamelCase)
        return messagePack();
    static const MessagePackHubProtocol pascal(StructKeyCase::PascalCase);
    return pascal;
}

const HubProtocol *HubProtocol::find(QByteArrayView name) noexcept
{
    if (name.compare("json", Qt::CaseInsensitive) == 0)
        return &json();
    if (name.compare("messagepack", Qt::CaseInsensitive) == 0)
        return &messagePack();
    return nullptr;
}

const char *messageTypeName(MessageType t) noexcept
{
    switch (t) {
    case MessageType::Invocation:
        return "Invocation";
    case MessageType::StreamItem:
        return "StreamItem";
    case MessageType::Completion:
        return "Completion";
    case MessageType::StreamInvocation:
        return "StreamInvocation";
    case MessageType::CancelInvocation:
        return "CancelInvocation";
    case MessageType::Ping:
        return "Ping";
    case MessageType::Close:
        return "Close";
    case MessageType::Ack:
        return "Ack";
    case MessageType::Sequence:
        return "Sequence";
    }
    return "Unknown";
}

// --- MessageReader --------------------------------------------------------------------------

MessageReader::MessageReader(const HubProtocol &protocol, qsizetype maxMessageSize)
    : m_protocol(&protocol)
    , m_maxMessageSize(maxMessageSize)
{ }

void MessageReader::compact()
{
    if (m_offset == 0)
        return;
    if (m_offset >= m_buffer.size()) {
        m_buffer.clear();
    } else {
        m_buffer.remove(0, m_offset);
    }
    m_offset = 0;
}

void MessageReader::append(QByteArrayView data)
{
    if (data.isEmpty() || m_failed)
        return;
    // Drop consumed bytes before growing, so the buffer never holds more than one partial
    // frame plus what was just received.
    compact();
    m_buffer.append(data.data(), data.size());
}

void MessageReader::append(const QByteArray &data)
{
    if (data.isEmpty() || m_failed)
        return;
    if (m_offset >= m_buffer.size()) {
        m_buffer = data; // implicitly shared: no copy
        m_offset = 0;
        m_scanned = 0;
        return;
    }
    append(QByteArrayView(data));
}

MessageReader::Result MessageReader::read()
{
    Result result;
    if (m_failed) {
        result.status = Status::Error;
        result.error = m_error;
        return result;
    }
    while (true) {
        const QByteArrayView pending = QByteArrayView(m_buffer).sliced(m_offset);
        if (pending.isEmpty()) {
            m_buffer.clear();
            m_offset = 0;
            m_scanned = 0;
            return result; // NeedMoreData
        }
        const FrameInfo f = m_protocol->scanFrame(pending, m_maxMessageSize, m_scanned);
        if (f.status == FrameInfo::Status::Incomplete) {
            m_scanned = pending.size();
            return result;
        }
        if (f.status == FrameInfo::Status::Invalid) {
            m_failed = true;
            m_error = f.error;
            result.status = Status::Error;
            result.error = f.error;
            return result;
        }
        auto parsed = m_protocol->parsePayload(pending.sliced(f.payloadOffset, f.payloadSize));
        m_offset += f.frameSize;
        m_scanned = 0;
        if (!parsed) {
            m_failed = true;
            m_error = parsed.error();
            result.status = Status::Error;
            result.error = m_error;
            return result;
        }
        if (!*parsed) {
            ++m_skipped;
            continue;
        }
        result.status = Status::Message;
        result.message = std::move(**parsed);
        return result;
    }
}

void MessageReader::clear()
{
    m_buffer.clear();
    m_offset = 0;
    m_scanned = 0;
    m_failed = false;
    m_error = {};
}

} // namespace Protocol
} // namespace Heliograph
