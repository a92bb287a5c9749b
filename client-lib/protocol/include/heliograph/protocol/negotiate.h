// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The negotiate exchange (`POST [endpoint]/negotiate`) that precedes a connection.

#include <heliograph/protocol/expected.h>
#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace Heliograph {
inline namespace Protocol {

/// One entry of `availableTransports`.
struct HELIOGRAPH_PROTOCOL_EXPORT AvailableTransport {
    QByteArray transport; ///< "WebSockets", "ServerSentEvents", "LongPolling"
    QList<QByteArray> transferFormats; ///< "Text", "Binary"
    /// transferFormats lists `f` (by its exact name).
    bool supports(TransferFormat f) const;
    friend bool operator==(const AvailableTransport &, const AvailableTransport &) = default;
};

/// The body of `POST [endpoint]/negotiate`.
struct HELIOGRAPH_PROTOCOL_EXPORT NegotiateResponse {
    int negotiateVersion = 0; ///< 0 or 1 (MaxVersion)
    QByteArray connectionId; ///< the connection's public id
    QByteArray connectionToken; ///< v1 only; for v0 the id is the token
    QList<AvailableTransport> availableTransports; ///< in the server's order of preference
    QByteArray url; ///< redirect (Azure SignalR style)
    QByteArray accessToken; ///< with url
    std::optional<QString> error; ///< present: the negotiate failed with this text
    bool useStatefulReconnect = false; ///< the server accepted stateful reconnect

    /// The token to put into `id=` of transport requests.
    QByteArray effectiveToken() const
    {
        return negotiateVersion > 0 ? connectionToken : connectionId;
    }
    /// The response sends the client to another url (with accessToken) instead.
    bool isRedirect() const noexcept { return !url.isEmpty(); }

    /// Compact JSON with the properties in the order ASP.NET Core writes them.
    QByteArray toJson() const;
    /// Client-side parsing with the official clients' rules (unknown properties skipped,
    /// required properties checked, classic ASP.NET SignalR detected).
    static Expected<NegotiateResponse> fromJson(QByteArrayView json);

    /// A response that carries only an error (server side: refuse the negotiate).
    static NegotiateResponse failure(QString message)
    {
        NegotiateResponse r;
        r.error = std::move(message);
        return r;
    }
    friend bool operator==(const NegotiateResponse &, const NegotiateResponse &) = default;
};

/// The negotiate protocol version.
namespace Negotiate {

/// The highest negotiate version we speak.
inline constexpr int MaxVersion = 1;

} // namespace Negotiate

} // namespace Protocol
} // namespace Heliograph
