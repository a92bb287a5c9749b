// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The nine messages of the SignalR hub protocol as plain structs, and HubMessage.

#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <optional>
#include <utility>
#include <variant>

namespace Heliograph {
inline namespace Protocol {

/// The message types of the SignalR hub protocol, numbered as on the wire.
enum class MessageType : quint8 {
    Invocation = 1,
    StreamItem = 2,
    Completion = 3,
    StreamInvocation = 4,
    CancelInvocation = 5,
    Ping = 6,
    Close = 7,
    Ack = 8,
    Sequence = 9,
};

/// Message headers: string -> string, in the order they were read or added. UTF-8.
using Headers = QList<std::pair<QByteArray, QByteArray>>;

/// Invocation (1): call a method. Without an invocationId it is fire-and-forget.
struct InvocationMessage {
    Headers headers; ///< optional message headers
    QByteArray invocationId; ///< empty: non-blocking (no Completion expected)
    QByteArray target; ///< the method name (UTF-8)
    ValueList arguments; ///< the method's arguments, in order
    QList<QByteArray> streamIds; ///< client-to-server upload streams
    friend bool operator==(const InvocationMessage &, const InvocationMessage &) = default;
};

/// StreamItem (2): one item of a server stream or of a client upload stream.
struct StreamItemMessage {
    Headers headers; ///< optional message headers
    QByteArray invocationId; ///< the stream: its invocation id, or an upload's stream id
    Value item; ///< the item
    friend bool operator==(const StreamItemMessage &, const StreamItemMessage &) = default;
};

/// Completion (3): the end of an invocation or stream, with a result, an error or neither.
struct CompletionMessage {
    /// What the completion carries; the values are MessagePack's result kinds.
    enum class Kind : quint8 { Error = 1, Void = 2, Result = 3 };
    Headers headers; ///< optional message headers
    QByteArray invocationId; ///< the invocation or stream that ends
    Kind kind = Kind::Void; ///< which of result and error is meaningful
    Value result; ///< meaningful for Kind::Result (may be null)
    QByteArray error; ///< meaningful for Kind::Error, UTF-8

    /// A Completion of invocation `id` with a result.
    static CompletionMessage withResult(QByteArray id, Value result)
    {
        return {{}, std::move(id), Kind::Result, std::move(result), {}};
    }
    /// A Completion of invocation `id` with an error text (UTF-8).
    static CompletionMessage withError(QByteArray id, QByteArray error)
    {
        return {{}, std::move(id), Kind::Error, {}, std::move(error)};
    }
    /// A Completion of invocation `id` without result (void method, or a stream's end).
    static CompletionMessage empty(QByteArray id)
    {
        return {{}, std::move(id), Kind::Void, {}, {}};
    }
    friend bool operator==(const CompletionMessage &, const CompletionMessage &) = default;
};

/// StreamInvocation (4): start a server-to-client stream.
struct StreamInvocationMessage {
    Headers headers; ///< optional message headers
    QByteArray invocationId; ///< identifies the stream's items and its Completion
    QByteArray target; ///< the method name (UTF-8)
    ValueList arguments; ///< the method's arguments, in order
    QList<QByteArray> streamIds; ///< client-to-server upload streams
    friend bool operator==(const StreamInvocationMessage &, const StreamInvocationMessage &)
        = default;
};

/// CancelInvocation (5): stop a server stream.
struct CancelInvocationMessage {
    Headers headers; ///< optional message headers
    QByteArray invocationId; ///< the stream to stop
    friend bool operator==(const CancelInvocationMessage &, const CancelInvocationMessage &)
        = default;
};

/// Ping (6): keep-alive.
struct PingMessage {
    friend bool operator==(const PingMessage &, const PingMessage &) = default;
};

/// Close (7): the sender ends the connection, optionally with an error and reconnect advice.
struct CloseMessage {
    std::optional<QByteArray> error; ///< absent vs empty string are distinct in JSON
    bool allowReconnect = false; ///< the client may reconnect (e.g. the server is draining)
    friend bool operator==(const CloseMessage &, const CloseMessage &) = default;
};

/// Ack (8), stateful reconnect: highest sequence id received so far.
struct AckMessage {
    qint64 sequenceId = 0; ///< every message up to and including this one was received
    friend bool operator==(const AckMessage &, const AckMessage &) = default;
};

/// Sequence (9), stateful reconnect: the id of the next message after a transport reconnect.
struct SequenceMessage {
    qint64 sequenceId = 0; ///< the sequence id of the message that follows
    friend bool operator==(const SequenceMessage &, const SequenceMessage &) = default;
};

/// One hub message. The alternative's index + 1 is its MessageType.
using HubMessage
    = std::variant<InvocationMessage, StreamItemMessage, CompletionMessage, StreamInvocationMessage,
                   CancelInvocationMessage, PingMessage, CloseMessage, AckMessage, SequenceMessage>;

/// The wire type of a message.
inline MessageType messageType(const HubMessage &m) noexcept
{
    return static_cast<MessageType>(m.index() + 1);
}

/// Types 1-5 are counted and buffered by stateful reconnect; Ping/Close/Ack/Sequence are not.
inline bool isSequenced(const HubMessage &m) noexcept
{
    return m.index() < 5;
}

/// The name of a message type ("Invocation", "StreamItem", ...), for logs and errors.
HELIOGRAPH_PROTOCOL_EXPORT const char *messageTypeName(MessageType t) noexcept;

} // namespace Protocol
} // namespace Heliograph
