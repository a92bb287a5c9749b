// SPDX-License-Identifier: MIT
#pragma once

#include "text_p.h"

#include <heliograph/protocol/hubprotocol.h>

namespace Heliograph {
inline namespace Protocol {

ProtocolError tooLarge(qsizetype maxMessageSize);

class JsonHubProtocol final : public HubProtocol {
public:
    QByteArrayView name() const noexcept override;
    int version() const noexcept override { return 2; }
    TransferFormat transferFormat() const noexcept override { return TransferFormat::Text; }
    void write(const HubMessage &message, QByteArray &out) const override;
    FrameInfo scanFrame(QByteArrayView data, qsizetype maxMessageSize,
                        qsizetype scanFrom) const override;
    Expected<std::optional<HubMessage>> parsePayload(QByteArrayView payload) const override;
};

class MessagePackHubProtocol final : public HubProtocol {
public:
    explicit MessagePackHubProtocol(StructKeyCase keyCase)
        : m_keyCase(keyCase)
    { }
    QByteArrayView name() const noexcept override;
    int version() const noexcept override { return 2; }
    TransferFormat transferFormat() const noexcept override { return TransferFormat::Binary; }
    void write(const HubMessage &message, QByteArray &out) const override;
    FrameInfo scanFrame(QByteArrayView data, qsizetype maxMessageSize,
                        qsizetype scanFrom) const override;
    Expected<std::optional<HubMessage>> parsePayload(QByteArrayView payload) const override;

private:
    StructKeyCase m_keyCase;
};

namespace MsgPack {
/// Appends the MessagePack encoding of a Value (used by the hub protocol and the backplane);
/// the keys of struct maps in `keyCase`.
void writeValue(const Value &v, QByteArray &out, StructKeyCase keyCase = StructKeyCase::CamelCase);
/// Decodes one MessagePack value at data[*offset], advancing it.
bool readValue(QByteArrayView data, qsizetype *offset, Value &out, QString &error);
/// VarInt length prefix (7 bits per byte, little-endian groups).
void writeVarInt(QByteArray &out, quint32 value);
} // namespace MsgPack

} // namespace Protocol
} // namespace Heliograph
