// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The SignalR handshake: the request a client sends first and the server's response.

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>

namespace Heliograph {
inline namespace Protocol {

/// `{"protocol":"json","version":1}` + RS: the first thing a client sends.
struct HandshakeRequest {
    QByteArray protocol; ///< "json" or "messagepack"
    int version = 1; ///< the hub protocol version asked for
    friend bool operator==(const HandshakeRequest &, const HandshakeRequest &) = default;
};

/// `{}` + RS on success, `{"error":"..."}` + RS on failure.
struct HandshakeResponse {
    QByteArray error; ///< empty on success (UTF-8)
    /// The handshake succeeded (no error).
    bool isSuccess() const noexcept { return error.isEmpty(); }
    friend bool operator==(const HandshakeResponse &, const HandshakeResponse &) = default;
};

/// Writing and parsing the handshake.
namespace Handshake {

/// The request as JSON text with its record separator, exactly as ASP.NET Core clients write it.
HELIOGRAPH_PROTOCOL_EXPORT QByteArray writeRequest(const HandshakeRequest &request);
/// The response as JSON text with its record separator.
HELIOGRAPH_PROTOCOL_EXPORT QByteArray writeResponse(const HandshakeResponse &response);

/// Parses a handshake request at the start of `data`. Returns the number of bytes consumed
/// (including the record separator), 0 if the request is not complete yet, or an error.
/// Bytes after the separator are hub messages and belong to the caller.
/// `maxSize` (0 = unlimited) bounds how long an unterminated request may grow.
HELIOGRAPH_PROTOCOL_EXPORT Expected<qsizetype>
parseRequest(QByteArrayView data, HandshakeRequest &out, qsizetype maxSize = 0);

/// Same for the server's response, as a client reads it.
HELIOGRAPH_PROTOCOL_EXPORT Expected<qsizetype>
parseResponse(QByteArrayView data, HandshakeResponse &out, qsizetype maxSize = 0);

} // namespace Handshake

/// Lets a TransferFormat be used as a set of formats ("Text | Binary").
constexpr TransferFormat operator|(TransferFormat a, TransferFormat b) noexcept
{
    return static_cast<TransferFormat>(static_cast<quint8>(a) | static_cast<quint8>(b));
}
/// `set` (a combination made with `|`) contains the format `f`.
constexpr bool supports(TransferFormat set, TransferFormat f) noexcept
{
    return (static_cast<quint8>(set) & static_cast<quint8>(f)) != 0;
}

} // namespace Protocol
} // namespace Heliograph
