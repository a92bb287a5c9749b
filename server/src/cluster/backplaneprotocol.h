// SPDX-License-Identifier: MIT
// The messages ASP.NET Core's Redis backplane (Microsoft.AspNetCore.SignalR.StackExchangeRedis)
// publishes, byte for byte: each Redis message is one MessagePack array. docs/cluster.md has
// the channels and shapes; tests/server/tst_backplaneprotocol.cpp has captured vectors.
#pragma once

#include <heliograph/protocol/expected.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <utility>

namespace Heliograph::Server::Backplane {

/// A send to `all`, `group:G`, `user:U` or `connection:C`: the message framed once per hub
/// protocol, so every node writes the bytes it received.
struct Invocation {
    /// Connection ids `all` and `group` sends skip (AllExcept, GroupExcept).
    QList<QByteArray> excluded;
    /// (protocol name, framed message), e.g. ("json", `{...}` 0x1E), ("messagepack", varint +
    /// body). Unknown names are kept and ignored.
    QList<std::pair<QByteArray, QByteArray>> payloads;
    /// A client-result call: the invocation id inside the payloads, and the caller's return
    /// channel. Both empty for a plain send.
    QByteArray invocationId;
    QByteArray returnChannel;

    /// The framed bytes for `protocol` (compared exactly), or null.
    const QByteArray *payloadFor(QByteArrayView protocol) const noexcept;
};

/// Add (1) or remove (2) a connection that lives on another node to or from a group; the node
/// that has it answers with an Ack on `internal:ack:<serverName>`.
struct GroupCommand {
    enum Action : quint8 { Add = 1, Remove = 2 };
    qint32 id = 0;
    QByteArray serverName;
    quint8 action = Add; ///< other values are acknowledged and otherwise ignored, as ASP.NET does
    QByteArray group;
    QByteArray connectionId;
};

/// The answer to a GroupCommand.
struct Ack {
    qint32 id = 0;
};

/// A client's answer to a client-result call, framed with the client's protocol.
struct Completion {
    QByteArray protocol;
    QByteArray completion;
};

QByteArray write(const Invocation &message);
QByteArray write(const GroupCommand &message);
QByteArray write(const Ack &message);
QByteArray write(const Completion &message);

/// Readers accept what ASP.NET's accept: any integer width, nil for a string or binary, extra
/// trailing items. Errors carry ASP.NET's texts where it has one ("Insufficient items in
/// Invocation array.").
Expected<Invocation> readInvocation(QByteArrayView data);
Expected<GroupCommand> readGroupCommand(QByteArrayView data);
Expected<Ack> readAck(QByteArrayView data);
Expected<Completion> readCompletion(QByteArrayView data);

} // namespace Heliograph::Server::Backplane
