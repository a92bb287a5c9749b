// SPDX-License-Identifier: MIT
// Small types shared by the hub layer.
#pragma once

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubmessage.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QByteArray>
#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace Heliograph::Server {

using namespace std::chrono_literals;

/// Server-side hub options, with ASP.NET Core's names and the defaults an operator would pick.
struct HubOptions {
    qsizetype maximumReceiveMessageSize = 32 * 1024; ///< framed size; 0 = unlimited
    std::chrono::milliseconds keepAliveInterval = 15s;
    std::chrono::milliseconds clientTimeoutInterval = 60s;
    std::chrono::milliseconds handshakeTimeout = 15s;
    bool enableDetailedErrors = false;
    int maximumParallelInvocationsPerClient = 1;
    qsizetype statefulReconnectBufferSize = 100000;
    /// How long a stateful-reconnect connection waits for its client to come back.
    std::chrono::milliseconds disconnectTimeout = 15s;
    /// How MessagePack writes the keys of described structs (`messagepack-key-case`): camelCase
    /// like JSON (what the JavaScript client sees), or PascalCase for .NET clients whose classes
    /// have no [Key] attributes. Server-wide: fanned-out messages are serialized once per protocol.
    StructKeyCase messagePackKeyCase = StructKeyCase::CamelCase;
};

/// Who is on the other end, from the access token.
struct Principal {
    QByteArray userId; ///< `sub`
    QByteArray tenantId; ///< `tenant_id`
    QString name;
    QList<QByteArray> roles;
    Value claims; ///< every claim of the token
    bool isAuthenticated() const noexcept { return !userId.isEmpty(); }
    bool hasRole(QByteArrayView role) const noexcept
    {
        for (const QByteArray &r : roles)
            if (r == role)
                return true;
        return false;
    }
};

/// Facts about a connection's transport, for hooks, logs and the admin console.
struct ConnectionInfo {
    QByteArray transport; ///< "WebSockets", "ServerSentEvents", "LongPolling"
    QByteArray remoteAddress;
    QByteArray userAgent;
    QList<std::pair<QByteArray, QByteArray>> query; ///< the hub request's decoded query
    QDateTime connectedAt;

    /// A query parameter (names compared ignoring ASCII case, as ASP.NET Core does).
    std::optional<QByteArray> queryValue(QByteArrayView name) const
    {
        for (const auto &[k, v] : query)
            if (QByteArrayView(k).compare(name, Qt::CaseInsensitive) == 0)
                return v;
        return std::nullopt;
    }
};

/// Thrown by a hub method to send its message to the caller (like .NET's HubException);
/// any other exception sends only a generic text unless detailed errors are on.
class HubException : public std::runtime_error {
public:
    explicit HubException(const QString &message)
        : std::runtime_error(message.toStdString())
    { }
};

/// Thrown by a hub method whose caller may not do what it asked (e.g. act on another tenant):
/// the caller gets the same error as for a role its token lacks ("Failed to invoke 'M' because
/// user is unauthorized"), so the refusal says nothing about what exists elsewhere.
class HubUnauthorizedException : public std::runtime_error {
public:
    HubUnauthorizedException()
        : std::runtime_error("unauthorized")
    { }
};

/// A message serialized once per protocol, shared by every connection it fans out to. JSON and
/// MessagePack with camelCase struct keys are written at once; MessagePack with PascalCase keys
/// (HubOptions::messagePackKeyCase) by the first connection that needs it, on its thread.
struct SerializedMessage {
    HubMessage message;
    QByteArray json;
    QByteArray messagePack;

    explicit SerializedMessage(HubMessage m)
        : message(std::move(m))
    {
        HubProtocol::json().write(message, json);
        HubProtocol::messagePack().write(message, messagePack);
    }
    /// A message another node serialized: its bytes are written as they are (an empty one means
    /// that node did not serialize for the protocol). `m` is the message they hold.
    SerializedMessage(HubMessage m, QByteArray jsonBytes, QByteArray messagePackBytes)
        : message(std::move(m))
        , json(std::move(jsonBytes))
        , messagePack(std::move(messagePackBytes))
        , m_preserialized(true)
    { }
    const QByteArray &bytesFor(const HubProtocol &p) const
    {
        if (&p == &HubProtocol::json())
            return json;
        if (!m_preserialized && &p == &HubProtocol::messagePack(StructKeyCase::PascalCase)) {
            std::call_once(m_pascalOnce, [this, &p] { p.write(message, m_pascal); });
            return m_pascal;
        }
        return messagePack;
    }

    /// Serialized by another node (what it names is not ours to trust, e.g. as a metric label).
    bool isFromBackplane() const noexcept { return m_preserialized; }

private:
    bool m_preserialized = false;
    mutable std::once_flag m_pascalOnce;
    mutable QByteArray m_pascal;
};
using SharedMessage = std::shared_ptr<const SerializedMessage>;

inline SharedMessage makeInvocation(QByteArray target, ValueList arguments)
{
    return std::make_shared<const SerializedMessage>(
        InvocationMessage {{}, {}, std::move(target), std::move(arguments), {}});
}

} // namespace Heliograph::Server
