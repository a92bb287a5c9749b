// SPDX-License-Identifier: MIT
// One connection to Redis over hiredis's asynchronous API, driven by the Qt event loop of the
// thread it lives on (our own adapter: the one hiredis ships uses Qt 5's string-based connect
// to QSocketNotifier::activated(int), a signal Qt 6 no longer has). It connects by itself and
// reconnects with backoff; in Subscriber mode it subscribes to its channels again after every
// reconnect. Commands pipeline: each is written as soon as the socket takes it.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTimer>

#include <chrono>
#include <functional>
#include <optional>

struct redisAsyncContext;

namespace Heliograph::Server {

/// Where Redis is: `redis://[user:password@]host[:port][/db]`.
struct RedisAddress {
    QByteArray host = "127.0.0.1";
    quint16 port = 6379;
    QByteArray user;
    QByteArray password;
    int db = 0;

    /// Parses a redis:// URL; std::nullopt with `error` set if it is not one.
    static std::optional<RedisAddress> parse(const QString &url, QString *error);
    /// The URL without the password, for logs.
    QString display() const;
};

/// A reply, copied out of hiredis's (which it frees after the callback).
struct RedisReply {
    enum class Type : quint8 { Nil, Status, Error, Integer, String, Array };
    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray string; ///< Status, Error, String
    QList<RedisReply> elements; ///< Array

    bool isError() const noexcept { return type == Type::Error; }
    static RedisReply error(QByteArray text)
    {
        RedisReply r;
        r.type = Type::Error;
        r.string = std::move(text);
        return r;
    }
};

class RedisConnection : public QObject {
    Q_OBJECT
public:
    enum class Mode : quint8 { Commands, Subscriber };
    using Callback = std::function<void(const RedisReply &)>;

    RedisConnection(RedisAddress address, Mode mode, QByteArray name, QObject *parent = nullptr);
    ~RedisConnection() override;

    /// Starts connecting (and keeps trying: 100 ms, doubling, at most `maxBackoff` apart).
    void start();
    bool isConnected() const noexcept { return m_announced; }
    QString lastError() const { return m_lastError; }
    std::chrono::milliseconds maxBackoff = std::chrono::seconds(30);

    /// Commands mode: sends a command; `callback` gets its reply, or an Error reply if the
    /// connection is down or drops before the answer ("ERR not connected to Redis").
    void command(const QList<QByteArray> &args, Callback callback = {});

    /// Subscriber mode: the set of channels to be subscribed, kept across reconnects.
    void subscribe(const QByteArray &channel);
    void unsubscribe(const QByteArray &channel);
    bool isSubscribed(const QByteArray &channel) const { return m_channels.contains(channel); }
    /// Runs `then` once Redis confirmed the subscription to `channel` (at once if it has, or if
    /// the channel is not wanted); after a reconnect, once it is confirmed again.
    void whenSubscribed(const QByteArray &channel, std::function<void()> then);

Q_SIGNALS:
    /// Connected, authenticated, database selected (Commands) or subscriptions renewed
    /// (Subscriber).
    void connected();
    void disconnected(const QString &why);
    /// Subscriber mode: a message on a subscribed channel.
    void message(const QByteArray &channel, const QByteArray &payload);

private:
    struct Adapter;
    static void onConnect(const redisAsyncContext *ac, int status);
    static void onDisconnect(const redisAsyncContext *ac, int status);
    static void onCommandReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onSubscriberReply(redisAsyncContext *ac, void *reply, void *privdata);
    void connectNow();
    void connectionFailed(const QString &why);
    void ready();
    void send(const QList<QByteArray> &args, void (*fn)(redisAsyncContext *, void *, void *),
              void *privdata);

    RedisAddress m_address;
    Mode m_mode;
    QByteArray m_name; ///< for logs: "commands", "subscriber"
    redisAsyncContext *m_context = nullptr;
    Adapter *m_adapter = nullptr;
    bool m_ready = false; ///< the link is up and authenticated: commands may be sent
    bool m_announced = false; ///< connected() was emitted (Subscriber: every channel confirmed)
    void announce();
    bool m_destroying = false;
    QString m_lastError;
    std::chrono::milliseconds m_backoff {100};
    QTimer m_retry;
    QTimer m_connectTimeout;
    QHash<QByteArray, bool> m_channels; ///< subscriber: wanted channels -> confirmed by Redis
    QHash<QByteArray, QList<std::function<void()>>> m_waiting; ///< whenSubscribed()
    void confirmed(const QByteArray &channel);
};

} // namespace Heliograph::Server
