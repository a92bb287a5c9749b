// SPDX-License-Identifier: MIT
// What a hub's lifetime manager asks of a backplane (several nodes sharing fan-out). With
// one, sends to all, a group or a user are published and reach local connections only through
// the backplane's echo, so every node sees one order per channel; sends to one local
// connection and client results on a local connection stay local. Implemented by
// RedisBackplane (cluster/), in ASP.NET Core's Redis backplane format.
#pragma once

#include "signalr/hubreply.h"
#include "signalr/hubtypes.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <functional>

namespace Heliograph::Server {

class HubBackplane {
public:
    virtual ~HubBackplane() = default;

    enum class Target : quint8 { All, Group, User, Connection };
    /// Publishes a send. `excluded` applies to All and Group. May be called on any thread;
    /// calls from one thread are published in the order made.
    virtual void publish(Target target, const QByteArray &name, const SharedMessage &message,
                         const QList<QByteArray> &excluded)
        = 0;

    /// Membership of this node's connections (subscriptions are counted per node).
    virtual void connectionAdded(const QByteArray &connectionId, const QByteArray &userId) = 0;
    virtual void connectionRemoved(const QByteArray &connectionId, const QByteArray &userId,
                                   const QList<QByteArray> &groups)
        = 0;
    virtual void groupJoined(const QByteArray &group) = 0;
    virtual void groupLeft(const QByteArray &group) = 0;
    /// Runs `then` (on any thread) once this node receives what is published to `group`: after
    /// Redis confirmed the subscription a groupJoined() made before this call.
    virtual void whenGroupSubscribed(const QByteArray &group, std::function<void()> then) = 0;

    /// Adds or removes a connection that is not on this node; `done(true)` once the node that
    /// has it acknowledged, `done(false)` if none did in time. `done` runs on any thread.
    virtual void changeRemoteGroup(const QByteArray &connectionId, const QByteArray &group,
                                   bool add, std::function<void(bool)> done)
        = 0;

    /// A client result from a connection that is not on this node. `handler` runs once, on
    /// any thread: with the client's answer, or "Connection 'ID' does not exist.".
    virtual void invokeRemote(const QByteArray &connectionId, QByteArray target,
                              ValueList arguments, ClientResultHandler handler)
        = 0;

    /// Whether publishing works now (the Redis connections are up).
    virtual bool isAvailable() const = 0;
};

} // namespace Heliograph::Server
