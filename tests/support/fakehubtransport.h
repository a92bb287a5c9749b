// SPDX-License-Identifier: MIT
// An in-memory transport for server-side connection tests.
#pragma once

#include "signalr/hubconnectioncontext.h"

#include <heliograph/protocol/hubprotocol.h>

namespace Heliograph::Testing {

using Server::ConnectionTransport;

class FakeTransport : public ConnectionTransport {
public:
    explicit FakeTransport(TransferFormat formats = TransferFormat::Text | TransferFormat::Binary)
        : m_formats(formats)
    { }
    TransferFormat supportedFormats() const override { return m_formats; }
    void setTransferFormat(TransferFormat f) override { active = f; }
    void write(const QByteArray &bytes) override { written += bytes; }
    void end() override { ended = true; }

    QByteArray written;
    bool ended = false;
    TransferFormat active = TransferFormat::Text;

    /// Parses what was written after the handshake response.
    QList<HubMessage> messages(const HubProtocol &p) const
    {
        const qsizetype rs = written.indexOf('\x1e');
        auto all = p.parseAll(QByteArrayView(written).sliced(rs + 1));
        return all ? *all : QList<HubMessage> {};
    }

private:
    TransferFormat m_formats;
};

} // namespace Heliograph::Testing
