// SPDX-License-Identifier: MIT
#include "bench/benchhub.h"

#include "signalr/lifetimemanager.h"

#include <stdexcept>

namespace Heliograph::Server {
namespace {

/// A `string` argument kept as the UTF-8 Value it arrived as (a String, or Null as .NET binds
/// it), so echoing or fanning it out neither copies nor converts it to UTF-16 and back.
struct Utf8Argument {
    Value value;
};

/// Group names and user ids: .NET refuses null ones (ArgumentNullException, which the caller
/// sees as the generic error completion); so does this.
const QByteArray &required(const Utf8Argument &a, const char *whyNot)
{
    if (!a.value.isString())
        throw std::invalid_argument(whyNot);
    return a.value.bytes();
}

SharedMessage receive(const Utf8Argument &payload)
{
    return makeInvocation("Receive", ValueList {payload.value});
}

} // namespace
} // namespace Heliograph::Server

namespace Heliograph {
template<> struct ValueTraits<Server::Utf8Argument> {
    static Value toValue(const Server::Utf8Argument &a) { return a.value; }
    static bool fromValue(const Value &v, Server::Utf8Argument &out, QString &error)
    {
        if (!v.isString() && !v.isNull())
            return error = Detail::typeMismatch("String", v), false;
        out.value = v;
        return true;
    }
};
} // namespace Heliograph

namespace Heliograph::Server {

BenchHub::BenchHub()
    : Hub("/hubs/bench")
{
    anonymousIdentity = [](const QList<std::pair<QByteArray, QByteArray>> &query) {
        Principal p;
        for (const auto &[name, value] : query) {
            if (QByteArrayView(name).compare("user", Qt::CaseInsensitive) == 0) {
                p.userId = value;
                break;
            }
        }
        p.name = QString::fromUtf8(p.userId);
        return p;
    };
    MethodPolicy anyone;
    anyone.allowAnonymous = true;
    connectPolicy = anyone;

    addMethod(
        "Echo", [](HubCallContext &, const Utf8Argument &payload) { return payload.value; },
        anyone);
    addMethod(
        "JoinGroup",
        [](HubCallContext &ctx, const Utf8Argument &group) {
            ctx.clients().addToGroup(ctx.connectionId(), required(group, "the group name is null"));
        },
        anyone);
    addMethod(
        "BroadcastToGroup",
        [](HubCallContext &ctx, const Utf8Argument &group, const Utf8Argument &payload) {
            ctx.clients().sendGroup(required(group, "the group name is null"), receive(payload));
        },
        anyone);
    addMethod(
        "SendToUser",
        [](HubCallContext &ctx, const Utf8Argument &userId, const Utf8Argument &payload) {
            ctx.clients().sendUser(required(userId, "the user id is null"), receive(payload));
        },
        anyone);
    // Queues every message at once (the ASP.NET Core peer awaits each send): hence the cap.
    addMethod(
        "Flood",
        [](HubCallContext &ctx, qint64 count, const Utf8Argument &payload) {
            if (count < 0 || count > 100000)
                throw HubException(QStringLiteral("count must be between 0 and 100000"));
            const SharedMessage message = receive(payload);
            for (qint64 i = 0; i < count; ++i)
                ctx.clients().sendConnection(ctx.connectionId(), message);
            return Value(count);
        },
        anyone);
}

} // namespace Heliograph::Server
