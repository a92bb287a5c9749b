// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Heliograph::Error, the one failure code of the connection API: why a connection failed,
/// was lost or ended (HubConnection::error()), and why one call on it did not succeed
/// (HubError::code).

#include <heliograph/client/heliographclient_export.h>

#include <QtCore/QObject>

namespace Heliograph {

Q_NAMESPACE_EXPORT(HELIOGRAPH_CLIENT_EXPORT)

/// Why a connection, or one call on it, did not succeed. One enum for both, with its values in
/// bands; a value never changes and a new one is added at the end of its band:
///
/// - 0, NoError: what HubConnection::error() holds after start() and a successful reconnect.
/// - 1..99, the connection band: why the connection failed to start, was lost or ended
///   (HubConnection::error(), errorOccurred(), reconnecting(), RetryContext::reason).
/// - 100..199, the call band: why an invocation, a send, a stream or an upload did not
///   succeed (HubError::code; a failed QFuture carries it as HubErrorException). ServerError
///   is the hub's completion error; the others are decided on this side.
///
/// The protocol library's ProtocolErrorCode is not part of it: it is the result of a synchronous
/// parse, and reaches a connection as ProtocolError, HandshakeFailed, NegotiationFailed or
/// ConversionFailed.
///
/// QML and the desktop application compare these by name; names are kept across releases.
enum class Error {
    NoError = 0, ///< nothing failed

    // --- the connection band (1..99) -------------------------------------------------------
    NegotiationFailed = 1, ///< negotiate failed: network, HTTP status, error text, redirects
    Unauthorized = 2, ///< HTTP 401/403, or the access token provider failed
    TransportFailed = 3, ///< no transport could be opened, or the open one failed
    HandshakeFailed = 4, ///< the handshake was refused, malformed or timed out
    ServerTimeout = 5, ///< nothing received within HubConnection::serverTimeout()
    ServerClosed = 6, ///< the server closed the connection (Close message, or the transport)
    ProtocolError = 7, ///< the server sent bytes the hub protocol cannot read
    InvalidConfiguration = 8, ///< e.g. no URL, skipping negotiation without WebSockets only

    // --- the call band (100..199) ----------------------------------------------------------
    ServerError = 100, ///< the server completed the invocation with an error (its text)
    NotConnected = 101, ///< the connection was Disconnected (or, without the outbox, not Connected)
    ConnectionLost = 102, ///< the connection ended (lost or stopped) before the completion
    ConversionFailed = 103, ///< the result or item did not convert to the requested C++ type
    Canceled = 104, ///< the client canceled it
    InvalidArgument = 105, ///< the call itself was wrong (e.g. an upload stream used twice)
    QueueFull = 106, ///< the offline outbox was full when the call was made
    TimedOut = 107, ///< the call waited in the offline outbox longer than its timeout
};
Q_ENUM_NS(Error)

} // namespace Heliograph
