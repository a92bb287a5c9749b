// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The decisions a hub makes and a client never does: which negotiate version to answer, new
/// connection ids, which protocol a handshake gets. heliograph-server and the test kit's FakeHub
/// share them; they are not installed and not part of the client's API. Also the text helpers
/// the server's HTTP parser shares with the library's codecs (hexDigitValue()).

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/negotiate.h>

#include <QtCore/QByteArrayView>

#include <optional>

namespace Heliograph {
inline namespace Protocol {

namespace Negotiate {

/// The version to answer for the `negotiateVersion` query value (absent -> version 0) with
/// ASP.NET Core's error texts.
HELIOGRAPH_PROTOCOL_EXPORT Expected<int> selectVersion(std::optional<QByteArrayView> requested,
                                                       int minimumVersion = 0);

/// A new 16-byte random id as 22 characters of unpadded base64url (connection ids, tokens).
HELIOGRAPH_PROTOCOL_EXPORT QByteArray newConnectionId();

} // namespace Negotiate

namespace Handshake {

/// Picks the protocol for a parsed request, with the exact error texts of ASP.NET Core (unknown
/// protocol, unsupported version, transfer format not supported by the transport). `enabled`
/// empty means json + messagepack.
HELIOGRAPH_PROTOCOL_EXPORT Expected<const HubProtocol *>
resolve(const HandshakeRequest &request, TransferFormat transportFormats,
        const QList<const HubProtocol *> &enabled = {});

} // namespace Handshake

namespace Text {

/// The value of one hexadecimal digit (0-9, a-f, A-F), or -1. The JSON reader's unicode escapes and
/// the server's percent-decoding and chunk sizes.
constexpr int hexDigitValue(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace Text

} // namespace Protocol
} // namespace Heliograph
