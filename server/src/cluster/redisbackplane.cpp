// SPDX-License-Identifier: MIT
#include "cluster/redisbackplane.h"

#include "cluster/backplaneprotocol.h"
#include "signalr/handoff.h"
#include "signalr/lifetimemanager.h"
#include "transport/metrics.h"

#include <heliograph/protocol/hubside.h>

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QRandomGenerator>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <algorithm>
#include <atomic>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcBackplane, "heliograph.server.backplane", QtInfoMsg)

namespace Heliograph::Server {

namespace {

/// How long a group change on another node, or a client result from one, is waited for.
constexpr qint64 AckTimeoutMs = 30'000;
constexpr qint64 ClientResultTimeoutMs = 60'000;

QByteArray randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->generate(raw.begin(), raw.end());
    return raw.toHex();
}

void countDropped(const char *reason)
{
    Metrics::instance().add("heliograph_backplane_dropped_total", {{"reason", reason}});
}

/// The one message a framed payload holds, or why not.
Expected<HubMessage> parseOne(const HubProtocol &protocol, const QByteArray &framed)
{
    auto messages = protocol.parseAll(framed);
    if (!messages)
        return messages.error();
    if (messages->size() != 1)
        return invalidData(u"Expected one message, found %1."_s.arg(messages->size()));
    return std::move(messages->first());
}

} // namespace

// --- the hub's channels ----------------------------------------------------------------------

class HubChannels;

struct RedisBackplane::Private {
    BackplaneOptions options;
    QThread thread;
    std::unique_ptr<QObject> context; ///< lives on `thread`; target of every posted task
    RedisConnection *commands = nullptr; ///< on `thread`
    RedisConnection *subscriber = nullptr; ///< on `thread`
    std::atomic<bool> commandsUp {false};
    std::atomic<bool> subscriberUp {false};
    QList<std::shared_ptr<HubChannels>> hubs; ///< fixed once started
    QTimer *sweep = nullptr; ///< on `thread`: expires acks and client results
    QTimer *heartbeat = nullptr; ///< on `thread`
    std::function<NodeStatus()> status;
    mutable QMutex mutex; ///< guards `closed`, the last error and `nodes`
    bool closed = false;
    QString lastError = u"not connected to Redis yet"_s;
    QList<NodeStatus> nodes;

    QByteArray nodesKey() const { return options.channelPrefix + "heliograph:nodes"; }
    void beat();

    /// Runs `f` on the Redis thread, after everything posted before it; dropped once closed.
    template<typename F> void post(F &&f)
    {
        QMutexLocker lock(&mutex);
        if (!closed)
            postTo(context.get(), std::forward<F>(f));
    }
    void publish(const QByteArray &channel, const QByteArray &payload,
                 std::function<void(const RedisReply &)> done = {});
    void onMessage(const QByteArray &channel, const QByteArray &payload);
};

class HubChannels : public HubBackplane, public std::enable_shared_from_this<HubChannels> {
public:
    HubChannels(std::weak_ptr<RedisBackplane::Private> backplane, HubLifetimeManager &lifetime,
                QByteArray prefix, QByteArray serverName, StructKeyCase keyCase)
        : m_backplane(std::move(backplane))
        , m_lifetime(lifetime)
        , m_prefix(std::move(prefix))
        , m_serverName(std::move(serverName))
        , m_keyCase(keyCase)
    { }

    const QByteArray &prefix() const { return m_prefix; }
    QByteArray channel(QByteArrayView kind, QByteArrayView name = {}) const
    {
        QByteArray c;
        c.reserve(m_prefix.size() + kind.size() + name.size() + 2);
        c.append(m_prefix).append(':').append(kind);
        if (!name.isNull())
            c.append(':').append(name);
        return c;
    }
    QByteArray ackChannel(QByteArrayView server) const { return channel("internal:ack", server); }
    QByteArray returnChannel() const { return channel("internal:return", m_serverName); }

    /// The start-up subscriptions, in ASP.NET Core's order (on the Redis thread).
    void subscribeFixed(RedisConnection &subscriber) const
    {
        subscriber.subscribe(channel("all"));
        subscriber.subscribe(channel("internal:groups"));
        subscriber.subscribe(ackChannel(m_serverName));
        subscriber.subscribe(returnChannel());
    }

    // --- HubBackplane (any thread) ------------------------------------------------------------

    void publish(Target target, const QByteArray &name, const SharedMessage &message,
                 const QList<QByteArray> &excluded) override
    {
        Backplane::Invocation inv;
        if (target == Target::All || target == Target::Group)
            inv.excluded = excluded;
        inv.payloads = {{"json", message->json},
                        {"messagepack", message->bytesFor(HubProtocol::messagePack(m_keyCase))}};
        QByteArray ch;
        switch (target) {
        case Target::All:
            ch = channel("all");
            break;
        case Target::Group:
            ch = channel("group", name);
            break;
        case Target::User:
            ch = channel("user", name);
            break;
        case Target::Connection:
            ch = channel("connection", name);
            break;
        }
        withBackplane([ch = std::move(ch), payload = Backplane::write(inv)](auto &b) mutable {
            b.publish(std::move(ch), std::move(payload));
        });
    }

    void connectionAdded(const QByteArray &connectionId, const QByteArray &userId) override
    {
        withBackplane([self = shared_from_this(), connectionId, userId](auto &b) {
            b.subscriber->subscribe(self->channel("connection", connectionId));
            if (!userId.isEmpty() && self->m_userRefs[userId]++ == 0)
                b.subscriber->subscribe(self->channel("user", userId));
        });
    }
    void connectionRemoved(const QByteArray &connectionId, const QByteArray &userId,
                           const QList<QByteArray> &groups) override
    {
        withBackplane([self = shared_from_this(), connectionId, userId, groups](auto &b) {
            b.subscriber->unsubscribe(self->channel("connection", connectionId));
            if (!userId.isEmpty()) {
                auto it = self->m_userRefs.find(userId);
                if (it != self->m_userRefs.end() && --*it <= 0) {
                    self->m_userRefs.remove(userId);
                    b.subscriber->unsubscribe(self->channel("user", userId));
                }
            }
            for (const QByteArray &g : groups)
                self->leave(b, g);
        });
    }
    void groupJoined(const QByteArray &group) override
    {
        withBackplane([self = shared_from_this(), group](auto &b) {
            if (self->m_groupRefs[group]++ == 0)
                b.subscriber->subscribe(self->channel("group", group));
        });
    }
    void whenGroupSubscribed(const QByteArray &group, std::function<void()> then) override
    {
        const bool posted
            = withBackplane([self = shared_from_this(), group, then](auto &b) mutable {
                  b.subscriber->whenSubscribed(self->channel("group", group), std::move(then));
              });
        if (!posted)
            then();
    }
    void groupLeft(const QByteArray &group) override
    {
        withBackplane([self = shared_from_this(), group](auto &b) { self->leave(b, group); });
    }

    void changeRemoteGroup(const QByteArray &connectionId, const QByteArray &group, bool add,
                           std::function<void(bool)> done) override
    {
        const bool posted = withBackplane(
            [self = shared_from_this(), connectionId, group, add, done](auto &b) mutable {
                Backplane::GroupCommand cmd;
                cmd.id = self->m_nextAckId = self->m_nextAckId == std::numeric_limits<qint32>::max()
                    ? std::numeric_limits<qint32>::min()
                    : self->m_nextAckId + 1;
                cmd.serverName = self->m_serverName;
                cmd.action = add ? Backplane::GroupCommand::Add : Backplane::GroupCommand::Remove;
                cmd.group = group;
                cmd.connectionId = connectionId;
                self->m_acks.insert(cmd.id, {std::move(done), nowMs() + AckTimeoutMs});
                b.publish(self->channel("internal:groups"), Backplane::write(cmd),
                          [self, id = cmd.id](const RedisReply &r) {
                              if (r.isError())
                                  self->settleAck(id, false);
                          });
            });
        if (!posted && done)
            done(false);
    }

    void invokeRemote(const QByteArray &connectionId, QByteArray target, ValueList arguments,
                      ClientResultHandler handler) override
    {
        // 22 characters from 16 random bytes, like ASP.NET Core's (peers treat it as opaque).
        const QByteArray id = Negotiate::newConnectionId();
        const HubMessage message
            = InvocationMessage {{}, id, std::move(target), std::move(arguments), {}};
        Backplane::Invocation inv;
        inv.payloads = {{"json", HubProtocol::json().serialize(message)},
                        {"messagepack", HubProtocol::messagePack(m_keyCase).serialize(message)}};
        inv.invocationId = id;
        inv.returnChannel = returnChannel();
        const bool posted
            = withBackplane([self = shared_from_this(), connectionId, id,
                             payload = Backplane::write(inv), handler](auto &b) mutable {
                  self->m_results.insert(id, {handler, nowMs() + ClientResultTimeoutMs});
                  b.publish(self->channel("connection", connectionId), std::move(payload),
                            [self, id, connectionId](const RedisReply &r) {
                                // No node has the connection (nobody is subscribed to its channel).
                                if (r.isError() || r.integer == 0)
                                    self->settleResult(
                                        id,
                                        ClientResult {false,
                                                      {},
                                                      u"Connection '%1' does not exist."_s.arg(
                                                          QString::fromUtf8(connectionId))});
                            });
              });
        if (!posted)
            handler(ClientResult {false, {}, u"The backplane is shut down."_s});
    }

    bool isAvailable() const override
    {
        auto b = m_backplane.lock();
        return b && b->commandsUp.load() && b->subscriberUp.load();
    }

    // --- on the Redis thread ------------------------------------------------------------------

    /// A message on one of this hub's channels (`rest`: the channel after "prefix:").
    void handle(QByteArrayView rest, const QByteArray &payload)
    {
        Metrics::instance().add("heliograph_backplane_messages_total", {{"direction", "in"}});
        if (rest == "all") {
            if (auto inv = decode(rest, payload))
                m_lifetime.deliverAll(inv->second, inv->first.excluded);
        } else if (rest.startsWith("group:")) {
            if (auto inv = decode(rest, payload))
                m_lifetime.deliverGroup(rest.sliced(6).toByteArray(), inv->second,
                                        inv->first.excluded);
        } else if (rest.startsWith("user:")) {
            if (auto inv = decode(rest, payload))
                m_lifetime.deliverUser(rest.sliced(5).toByteArray(), inv->second);
        } else if (rest.startsWith("connection:")) {
            if (auto inv = decode(rest, payload)) {
                const QByteArray connectionId = rest.sliced(11).toByteArray();
                if (inv->first.invocationId.isEmpty())
                    m_lifetime.deliverConnection(connectionId, inv->second);
                else
                    answerClientResult(connectionId, *inv);
            }
        } else if (rest == "internal:groups") {
            onGroupCommand(payload);
        } else if (rest.startsWith("internal:ack:")) {
            auto ack = Backplane::readAck(payload);
            if (!ack)
                return dropped(rest, ack.error().message);
            settleAck(ack->id, true);
        } else if (rest.startsWith("internal:return:")) {
            onCompletion(rest, payload);
        }
    }

    /// Expires what was waited for too long.
    void sweep(qint64 now)
    {
        QList<qint32> acks;
        for (auto it = m_acks.cbegin(); it != m_acks.cend(); ++it)
            if (it->deadline <= now)
                acks.append(it.key());
        for (qint32 id : acks)
            settleAck(id, false);
        QList<QByteArray> results;
        for (auto it = m_results.cbegin(); it != m_results.cend(); ++it)
            if (it->deadline <= now)
                results.append(it.key());
        for (const QByteArray &id : results)
            settleResult(id, ClientResult {false, {}, u"The client did not answer in time."_s});
    }

private:
    static qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

    /// Runs `f(backplane)` on the Redis thread; false if the backplane is gone.
    template<typename F> bool withBackplane(F &&f)
    {
        auto b = m_backplane.lock();
        if (!b)
            return false;
        RedisBackplane::Private *raw = b.get();
        b->post([raw, f = std::forward<F>(f)]() mutable { f(*raw); });
        return true;
    }

    void leave(RedisBackplane::Private &b, const QByteArray &group)
    {
        auto it = m_groupRefs.find(group);
        if (it == m_groupRefs.end())
            return;
        if (--*it <= 0) {
            m_groupRefs.remove(group);
            b.subscriber->unsubscribe(channel("group", group));
        }
    }

    void dropped(QByteArrayView channelRest, const QString &why)
    {
        countDropped("malformed");
        qCWarning(lcBackplane).noquote()
            << "dropped a malformed message on"
            << QString::fromUtf8(m_prefix) + u':' + QString::fromUtf8(channelRest) << "-" << why;
    }

    /// An Invocation and the message it carries, serialized as received.
    std::optional<std::pair<Backplane::Invocation, SharedMessage>> decode(QByteArrayView rest,
                                                                          const QByteArray &payload)
    {
        auto inv = Backplane::readInvocation(payload);
        if (!inv) {
            dropped(rest, inv.error().message);
            return std::nullopt;
        }
        const QByteArray *json = inv->payloadFor("json");
        const QByteArray *mp = inv->payloadFor("messagepack");
        if (!json && !mp) {
            dropped(rest, u"it has neither a json nor a messagepack payload"_s);
            return std::nullopt;
        }
        auto message = json ? parseOne(HubProtocol::json(), *json)
                            : parseOne(HubProtocol::messagePack(), *mp);
        if (!message) {
            dropped(rest, message.error().message);
            return std::nullopt;
        }
        if (!std::holds_alternative<InvocationMessage>(*message)) {
            dropped(rest, u"the payload is not an Invocation"_s);
            return std::nullopt;
        }
        auto serialized = std::make_shared<const SerializedMessage>(
            std::move(*message), json ? *json : QByteArray(), mp ? *mp : QByteArray());
        return std::pair {std::move(*inv), SharedMessage(std::move(serialized))};
    }

    void onGroupCommand(const QByteArray &payload)
    {
        auto cmd = Backplane::readGroupCommand(payload);
        if (!cmd)
            return dropped("internal:groups", cmd.error().message);
        // Only the node that has the connection answers; other action values are acknowledged
        // without a change, as ASP.NET Core does.
        // The ack goes out once this node receives the group's messages (Redis confirmed the
        // SUBSCRIBE), as ASP.NET Core acks after its subscribe completed.
        std::weak_ptr<RedisBackplane::Private> weak = m_backplane;
        auto ack = [weak, channel = ackChannel(cmd->serverName), id = cmd->id,
                    group = this->channel("group", cmd->group)](bool applied) {
            auto b = weak.lock();
            if (!b || !applied)
                return;
            RedisBackplane::Private *raw = b.get();
            b->post([raw, channel, id, group] {
                raw->subscriber->whenSubscribed(group, [raw, channel, id] {
                    raw->publish(channel, Backplane::write(Backplane::Ack {id}));
                });
            });
        };
        if (cmd->action == Backplane::GroupCommand::Add
            || cmd->action == Backplane::GroupCommand::Remove) {
            m_lifetime.applyGroupChange(cmd->connectionId, cmd->group,
                                        cmd->action == Backplane::GroupCommand::Add, ack);
        } else if (m_lifetime.isLocal(cmd->connectionId)) {
            ack(true);
        }
    }

    void answerClientResult(const QByteArray &connectionId,
                            const std::pair<Backplane::Invocation, SharedMessage> &inv)
    {
        std::weak_ptr<RedisBackplane::Private> weak = m_backplane;
        const QByteArray id = inv.first.invocationId;
        const QByteArray returnTo = inv.first.returnChannel;
        auto reply = [weak, id, returnTo](const ClientResult &r, const HubProtocol &protocol) {
            const HubMessage completion = r.ok
                ? HubMessage(CompletionMessage::withResult(id, r.value))
                : HubMessage(CompletionMessage::withError(id, r.error.toUtf8()));
            const QByteArray payload = Backplane::write(Backplane::Completion {
                protocol.name().toByteArray(), protocol.serialize(completion)});
            if (auto b = weak.lock()) {
                RedisBackplane::Private *raw = b.get();
                b->post([raw, returnTo, payload] { raw->publish(returnTo, payload); });
            }
        };
        if (!m_lifetime.invokeLocal(connectionId, inv.second, id, reply))
            reply(ClientResult {false, {}, u"Connection disconnected."_s}, HubProtocol::json());
    }

    void onCompletion(QByteArrayView rest, const QByteArray &payload)
    {
        auto c = Backplane::readCompletion(payload);
        if (!c)
            return dropped(rest, c.error().message);
        const HubProtocol *protocol = HubProtocol::find(c->protocol);
        if (!protocol)
            return dropped(rest, u"unknown protocol \"%1\""_s.arg(QString::fromUtf8(c->protocol)));
        auto message = parseOne(*protocol, c->completion);
        if (!message)
            return dropped(rest, message.error().message);
        const auto *completion = std::get_if<CompletionMessage>(&*message);
        if (!completion)
            return dropped(rest, u"the payload is not a Completion"_s);
        settleResult(completion->invocationId,
                     ClientResult {completion->kind != CompletionMessage::Kind::Error,
                                   completion->result, QString::fromUtf8(completion->error)});
    }

    void settleAck(qint32 id, bool ok)
    {
        auto pending = m_acks.take(id);
        if (pending.done)
            pending.done(ok);
        if (!ok && pending.deadline != 0)
            qCWarning(lcBackplane) << "a group change on another node was not acknowledged";
    }
    void settleResult(const QByteArray &id, const ClientResult &result)
    {
        auto pending = m_results.take(id);
        if (pending.handler)
            pending.handler(result);
    }

    struct PendingAck {
        std::function<void(bool)> done;
        qint64 deadline = 0;
    };
    struct PendingResult {
        ClientResultHandler handler;
        qint64 deadline = 0;
    };

    std::weak_ptr<RedisBackplane::Private> m_backplane;
    HubLifetimeManager &m_lifetime;
    const QByteArray m_prefix; ///< channel prefix + hub name
    const QByteArray m_serverName;
    const StructKeyCase m_keyCase;
    // On the Redis thread only:
    QHash<QByteArray, int> m_userRefs;
    QHash<QByteArray, int> m_groupRefs;
    qint32 m_nextAckId = 0;
    QHash<qint32, PendingAck> m_acks;
    QHash<QByteArray, PendingResult> m_results;
};

// --- RedisBackplane --------------------------------------------------------------------------

void RedisBackplane::Private::publish(const QByteArray &channel, const QByteArray &payload,
                                      std::function<void(const RedisReply &)> done)
{
    Metrics::instance().add("heliograph_backplane_messages_total", {{"direction", "out"}});
    commands->command(
        {"PUBLISH", channel, payload}, [channel, done = std::move(done)](const RedisReply &r) {
            if (r.isError()) {
                countDropped("publish-failed");
                qCWarning(lcBackplane).noquote() << "publishing on" << QString::fromUtf8(channel)
                                                 << "failed:" << QString::fromUtf8(r.string);
            }
            if (done)
                done(r);
        });
}

// A node's heartbeat: its status in the nodes hash, then the hash read back. Entries silent for
// 5 s leave the list; after a minute they are deleted (by whichever node sees them first).
void RedisBackplane::Private::beat()
{
    if (!commandsUp.load())
        return;
    NodeStatus self = status ? status() : NodeStatus {};
    self.healthy = commandsUp.load() && subscriberUp.load();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QByteArray json = QJsonDocument(QJsonObject {{u"connections"_s, self.connections},
                                                       {u"uptimeSeconds"_s, self.uptimeSeconds},
                                                       {u"healthy"_s, self.healthy},
                                                       {u"at"_s, now}})
                                .toJson(QJsonDocument::Compact);
    commands->command({"HSET", nodesKey(), options.nodeName, json});
    commands->command({"HGETALL", nodesKey()}, [this](const RedisReply &r) {
        if (r.type != RedisReply::Type::Array)
            return;
        const qint64 readAt = QDateTime::currentMSecsSinceEpoch();
        QList<NodeStatus> fresh;
        for (qsizetype i = 0; i + 1 < r.elements.size(); i += 2) {
            const QJsonObject o = QJsonDocument::fromJson(r.elements[i + 1].string).object();
            NodeStatus n {r.elements[i].string, o.value(u"connections"_s).toInt(),
                          qint64(o.value(u"uptimeSeconds"_s).toDouble()),
                          o.value(u"healthy"_s).toBool(), qint64(o.value(u"at"_s).toDouble())};
            if (readAt - n.lastSeenMs > 60'000)
                commands->command({"HDEL", nodesKey(), n.name});
            else if (readAt - n.lastSeenMs <= 5'000)
                fresh.append(std::move(n));
        }
        std::sort(fresh.begin(), fresh.end(),
                  [](const NodeStatus &a, const NodeStatus &b) { return a.name < b.name; });
        QMutexLocker lock(&mutex);
        nodes = std::move(fresh);
    });
}

void RedisBackplane::Private::onMessage(const QByteArray &channel, const QByteArray &payload)
{
    for (const auto &hub : std::as_const(hubs)) {
        const QByteArray &p = hub->prefix();
        if (channel.size() > p.size() && channel.startsWith(p) && channel[p.size()] == ':') {
            hub->handle(QByteArrayView(channel).sliced(p.size() + 1), payload);
            return;
        }
    }
}

RedisBackplane::RedisBackplane(BackplaneOptions options)
    : d(std::make_shared<Private>())
{
    d->options = std::move(options);
    Metrics &m = Metrics::instance();
    m.describe("heliograph_backplane_messages_total", "counter",
               "Messages published to (out) and received from (in) the Redis backplane.");
    m.describe("heliograph_backplane_dropped_total", "counter",
               "Backplane messages dropped, by reason (malformed, publish-failed).");
}

RedisBackplane::~RedisBackplane()
{
    {
        QMutexLocker lock(&d->mutex);
        d->closed = true;
    }
    if (d->thread.isRunning()) {
        // The connections and their socket notifiers go on their own thread (runOnAndWait: a
        // hand-off ThreadSanitizer sees, unlike a bare blocking queued call).
        runOnAndWait(d->context.get(), [p = d.get()] {
            delete p->sweep;
            delete p->heartbeat;
            delete p->commands;
            delete p->subscriber;
            p->commands = p->subscriber = nullptr;
        });
        d->thread.quit();
        d->thread.wait();
    }
    d->hubs.clear();
}

std::shared_ptr<HubBackplane> RedisBackplane::attach(HubLifetimeManager &lifetime,
                                                     const QByteArray &hubName)
{
    // ASP.NET Core names a server per hub: machine name, '_', 32 hex digits.
    auto hub = std::make_shared<HubChannels>(d, lifetime, d->options.channelPrefix + hubName,
                                             d->options.nodeName + '_' + randomHex(16),
                                             d->options.messagePackKeyCase);
    d->hubs.append(hub);
    return hub;
}

void RedisBackplane::start()
{
    d->thread.setObjectName(u"heliograph-redis"_s);
    d->context = std::make_unique<QObject>();
    d->context->moveToThread(&d->thread);
    d->thread.start();
    std::weak_ptr<Private> weak = d;
    d->post([p = d.get(), weak] {
        p->commands
            = new RedisConnection(p->options.address, RedisConnection::Mode::Commands, "commands");
        p->subscriber = new RedisConnection(p->options.address, RedisConnection::Mode::Subscriber,
                                            "subscriber");
        for (const auto &hub : std::as_const(p->hubs))
            hub->subscribeFixed(*p->subscriber);
        auto track = [p](RedisConnection *c, std::atomic<bool> &up) {
            QObject::connect(c, &RedisConnection::connected, c, [&up] { up.store(true); });
            QObject::connect(c, &RedisConnection::disconnected, c, [p, &up](const QString &why) {
                up.store(false);
                QMutexLocker lock(&p->mutex);
                p->lastError = why;
            });
        };
        track(p->commands, p->commandsUp);
        track(p->subscriber, p->subscriberUp);
        QObject::connect(p->subscriber, &RedisConnection::message, p->subscriber,
                         [p](const QByteArray &channel, const QByteArray &payload) {
                             p->onMessage(channel, payload);
                         });
        p->sweep = new QTimer;
        QObject::connect(p->sweep, &QTimer::timeout, p->sweep, [p] {
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            for (const auto &hub : std::as_const(p->hubs))
                hub->sweep(now);
        });
        p->sweep->start(5s);
        p->heartbeat = new QTimer;
        QObject::connect(p->heartbeat, &QTimer::timeout, p->heartbeat, [p] { p->beat(); });
        // A heartbeat as soon as either connection comes up (the second one reports healthy).
        for (RedisConnection *c : {p->commands, p->subscriber})
            QObject::connect(c, &RedisConnection::connected, p->heartbeat, [p] { p->beat(); });
        p->heartbeat->start(1s);
        p->commands->start();
        p->subscriber->start();
    });
    qCInfo(lcBackplane).noquote() << "node" << QString::fromUtf8(d->options.nodeName)
                                  << "joins the backplane at" << d->options.address.display();
}

bool RedisBackplane::isAvailable() const
{
    return d->commandsUp.load() && d->subscriberUp.load();
}

QString RedisBackplane::unavailableReason() const
{
    if (isAvailable())
        return {};
    QMutexLocker lock(&d->mutex);
    return u"Redis unavailable: "_s + d->lastError;
}

const BackplaneOptions &RedisBackplane::options() const
{
    return d->options;
}

void RedisBackplane::setStatusProvider(std::function<NodeStatus()> provider)
{
    d->status = std::move(provider);
}

QList<NodeStatus> RedisBackplane::nodes() const
{
    QMutexLocker lock(&d->mutex);
    return d->nodes;
}

} // namespace Heliograph::Server
