// SPDX-License-Identifier: MIT
#include "cluster/redisclient.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>
#include <QtCore/QUrl>

#include <algorithm>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <vector>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcRedis, "heliograph.server.redis", QtInfoMsg)

namespace Heliograph::Server {

// --- RedisAddress ----------------------------------------------------------------------------

std::optional<RedisAddress> RedisAddress::parse(const QString &url, QString *error)
{
    const QUrl u(url, QUrl::StrictMode);
    auto fail = [&](const QString &why) -> std::optional<RedisAddress> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (!u.isValid() || u.scheme() != u"redis"_s || u.host().isEmpty())
        return fail(
            u"redis must be a URL redis://[user:password@]host[:port][/db], not \"%1\""_s.arg(
                u.toDisplayString(QUrl::RemovePassword)));
    if (!u.query().isEmpty() || !u.fragment().isEmpty())
        return fail(u"the redis URL takes no query or fragment"_s);
    RedisAddress a;
    a.host = u.host().toUtf8();
    const int port = u.port(6379);
    if (port <= 0 || port > 65535)
        return fail(u"the redis URL's port is not valid"_s);
    a.port = quint16(port);
    a.user = u.userName().toUtf8();
    a.password = u.password().toUtf8();
    const QString path = u.path();
    if (!path.isEmpty() && path != u"/"_s) {
        bool ok = false;
        a.db = QStringView(path).mid(1).toInt(&ok);
        if (!ok || a.db < 0)
            return fail(u"the redis URL's path must be a database number, not \"%1\""_s.arg(path));
    }
    return a;
}

QString RedisAddress::display() const
{
    QString s = u"redis://"_s;
    if (!user.isEmpty() || !password.isEmpty())
        s += QString::fromUtf8(user) + (password.isEmpty() ? QString() : u":***"_s) + u'@';
    s += QString::fromUtf8(host) + u':' + QString::number(port);
    if (db != 0)
        s += u'/' + QString::number(db);
    return s;
}

// --- the event-loop adapter ------------------------------------------------------------------

// hiredis asks for read and write interest on its socket; QSocketNotifiers give it. A notifier
// is never deleted inside its own activation (hiredis frees the context, and asks us to drop
// interest, from within redisAsyncHandleRead): it is disabled at once and deleted later.
struct RedisConnection::Adapter {
    redisAsyncContext *context = nullptr;
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;

    static void drop(QSocketNotifier *&n)
    {
        if (!n)
            return;
        n->setEnabled(false);
        n->disconnect();
        n->deleteLater();
        n = nullptr;
    }
    // Interest is switched on and off with every command (hiredis asks for write interest
    // until its buffer is flushed): the notifiers are made once and only enabled or disabled.
    static void addRead(void *p)
    {
        auto *a = static_cast<Adapter *>(p);
        if (!a->read) {
            a->read = new QSocketNotifier(a->context->c.fd, QSocketNotifier::Read);
            QObject::connect(a->read, &QSocketNotifier::activated, a->read,
                             [ctx = a->context] { redisAsyncHandleRead(ctx); });
        }
        a->read->setEnabled(true);
    }
    static void delRead(void *p)
    {
        if (auto *n = static_cast<Adapter *>(p)->read)
            n->setEnabled(false);
    }
    static void addWrite(void *p)
    {
        auto *a = static_cast<Adapter *>(p);
        if (!a->write) {
            a->write = new QSocketNotifier(a->context->c.fd, QSocketNotifier::Write);
            QObject::connect(a->write, &QSocketNotifier::activated, a->write,
                             [ctx = a->context] { redisAsyncHandleWrite(ctx); });
        }
        a->write->setEnabled(true);
    }
    static void delWrite(void *p)
    {
        if (auto *n = static_cast<Adapter *>(p)->write)
            n->setEnabled(false);
    }
    /// The context is being freed: drop interest and ourselves.
    static void cleanup(void *p)
    {
        auto *a = static_cast<Adapter *>(p);
        drop(a->read);
        drop(a->write);
        delete a;
    }
    static Adapter *attach(redisAsyncContext *ac)
    {
        auto *a = new Adapter;
        a->context = ac;
        ac->ev.data = a;
        ac->ev.addRead = addRead;
        ac->ev.delRead = delRead;
        ac->ev.addWrite = addWrite;
        ac->ev.delWrite = delWrite;
        ac->ev.cleanup = cleanup;
        return a;
    }
};

namespace {

RedisReply copyReply(const redisReply *r)
{
    RedisReply out;
    if (!r)
        return RedisReply::error("ERR not connected to Redis");
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(copyReply(r->element[i]));
        break;
    default:
        out.type = RedisReply::Type::Nil;
    }
    return out;
}

RedisConnection *owner(const redisAsyncContext *ac)
{
    return static_cast<RedisConnection *>(ac->data);
}

} // namespace

// --- RedisConnection -------------------------------------------------------------------------

RedisConnection::RedisConnection(RedisAddress address, Mode mode, QByteArray name, QObject *parent)
    : QObject(parent)
    , m_address(std::move(address))
    , m_mode(mode)
    , m_name(std::move(name))
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &RedisConnection::connectNow);
    // A connect that neither succeeds nor fails (packets dropped) is given up after 5 s.
    m_connectTimeout.setSingleShot(true);
    m_connectTimeout.setInterval(std::chrono::seconds(5));
    connect(&m_connectTimeout, &QTimer::timeout, this, [this] {
        if (m_context && !m_ready) {
            redisAsyncContext *ac = std::exchange(m_context, nullptr);
            ac->data = nullptr; // no callbacks into us
            redisAsyncFree(ac);
            connectionFailed(u"connect timed out"_s);
        }
    });
}

RedisConnection::~RedisConnection()
{
    m_destroying = true;
    if (redisAsyncContext *ac = std::exchange(m_context, nullptr))
        redisAsyncFree(ac); // pending callbacks run with no reply; they only free their data
}

void RedisConnection::start()
{
    if (!m_context && !m_retry.isActive())
        connectNow();
}

void RedisConnection::connectNow()
{
    redisAsyncContext *ac = redisAsyncConnect(m_address.host.constData(), m_address.port);
    if (!ac) {
        connectionFailed(u"out of memory"_s);
        return;
    }
    if (ac->err) {
        const QString why = QString::fromUtf8(ac->errstr);
        redisAsyncFree(ac);
        connectionFailed(why);
        return;
    }
    ac->data = this;
    m_adapter = Adapter::attach(ac);
    redisAsyncSetConnectCallback(ac, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnect);
    m_context = ac;
    m_connectTimeout.start();
}

void RedisConnection::onConnect(const redisAsyncContext *ac, int status)
{
    RedisConnection *self = owner(ac);
    if (!self || self->m_destroying)
        return;
    if (status != REDIS_OK) {
        self->m_connectTimeout.stop();
        // hiredis frees the context after this callback.
        self->m_context = nullptr;
        self->connectionFailed(QString::fromUtf8(ac->errstr));
        return;
    }
    // Authenticate and pick the database before anything else is sent.
    QPointer<RedisConnection> guard(self);
    auto *step = new Callback([self, guard](const RedisReply &r) {
        if (!guard || self->m_destroying)
            return;
        if (r.isError()) {
            self->m_lastError = QString::fromUtf8(r.string);
            qCWarning(lcRedis).noquote()
                << self->m_name << "connection to" << self->m_address.display()
                << "refused:" << self->m_lastError;
            if (redisAsyncContext *c = self->m_context)
                redisAsyncDisconnect(c); // then retried with backoff
            return;
        }
        self->ready();
    });
    if (!self->m_address.password.isEmpty()) {
        QList<QByteArray> auth {"AUTH"};
        if (!self->m_address.user.isEmpty())
            auth.append(self->m_address.user);
        auth.append(self->m_address.password);
        if (self->m_mode == Mode::Commands && self->m_address.db != 0) {
            self->send(auth, &RedisConnection::onCommandReply,
                       new Callback([self, guard](const RedisReply &r) {
                           if (guard && r.isError())
                               self->m_lastError = QString::fromUtf8(r.string);
                       }));
        } else {
            self->send(auth, &RedisConnection::onCommandReply, step);
            return;
        }
    }
    if (self->m_mode == Mode::Commands && self->m_address.db != 0) {
        self->send({"SELECT", QByteArray::number(self->m_address.db)},
                   &RedisConnection::onCommandReply, step);
        return;
    }
    self->send({"PING"}, &RedisConnection::onCommandReply, step);
}

void RedisConnection::ready()
{
    m_ready = true;
    m_connectTimeout.stop();
    m_backoff = std::chrono::milliseconds(100);
    m_lastError.clear();
    if (m_mode == Mode::Subscriber && !m_channels.isEmpty()) {
        // Connected only once Redis confirmed every channel again (confirmed()): until then
        // this node would miss what is published to them.
        QList<QByteArray> args {"SUBSCRIBE"};
        for (auto it = m_channels.begin(); it != m_channels.end(); ++it) {
            it.value() = false;
            args.append(it.key());
        }
        send(args, &RedisConnection::onSubscriberReply, nullptr);
        return;
    }
    announce();
}

void RedisConnection::announce()
{
    if (m_announced)
        return;
    m_announced = true;
    qCInfo(lcRedis).noquote() << m_name << "connection to" << m_address.display() << "ready";
    Q_EMIT connected();
}

void RedisConnection::onDisconnect(const redisAsyncContext *ac, int status)
{
    RedisConnection *self = owner(ac);
    if (!self || self->m_destroying)
        return;
    Q_UNUSED(status);
    // hiredis frees the context after this callback.
    self->m_context = nullptr;
    self->m_ready = false;
    for (auto it = self->m_channels.begin(); it != self->m_channels.end(); ++it)
        it.value() = false; // to be confirmed again after the reconnect
    const bool wasReady = std::exchange(self->m_announced, false);
    const QString why = ac->err ? QString::fromUtf8(ac->errstr) : u"connection closed"_s;
    if (wasReady) {
        qCWarning(lcRedis).noquote()
            << self->m_name << "connection to" << self->m_address.display() << "lost:" << why;
        Q_EMIT self->disconnected(why);
    }
    self->connectionFailed(why);
}

void RedisConnection::connectionFailed(const QString &why)
{
    m_ready = false;
    m_announced = false;
    if (m_destroying)
        return;
    if (m_lastError != why || m_backoff >= maxBackoff)
        qCInfo(lcRedis).noquote() << m_name << "connection to" << m_address.display()
                                  << "failed:" << why << "- retrying in" << m_backoff.count()
                                  << "ms";
    m_lastError = why;
    m_retry.start(m_backoff);
    m_backoff = std::min(m_backoff * 2, maxBackoff);
}

void RedisConnection::send(const QList<QByteArray> &args,
                           void (*fn)(redisAsyncContext *, void *, void *), void *privdata)
{
    std::vector<const char *> argv;
    std::vector<size_t> argvlen;
    argv.reserve(size_t(args.size()));
    argvlen.reserve(size_t(args.size()));
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        argvlen.push_back(size_t(a.size()));
    }
    if (!m_context
        || redisAsyncCommandArgv(m_context, fn, privdata, int(argv.size()), argv.data(),
                                 argvlen.data())
            != REDIS_OK) {
        if (fn == &RedisConnection::onCommandReply && privdata) {
            auto *cb = static_cast<Callback *>(privdata);
            // Not from inside command(): the caller may hold a lock.
            QMetaObject::invokeMethod(
                this,
                [cb] {
                    if (*cb)
                        (*cb)(RedisReply::error("ERR not connected to Redis"));
                    delete cb;
                },
                Qt::QueuedConnection);
        }
    }
}

void RedisConnection::onCommandReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    auto *cb = static_cast<Callback *>(privdata);
    RedisConnection *self = owner(ac);
    if (cb && *cb && self && !self->m_destroying)
        (*cb)(copyReply(static_cast<redisReply *>(reply)));
    delete cb;
}

void RedisConnection::onSubscriberReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    Q_UNUSED(privdata);
    RedisConnection *self = owner(ac);
    const auto *r = static_cast<const redisReply *>(reply);
    if (!self || self->m_destroying || !r || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    const redisReply *kind = r->element[0];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    const QByteArrayView what(kind->str, qsizetype(kind->len));
    if (what == "subscribe" && r->element[1]->type == REDIS_REPLY_STRING) {
        self->confirmed(QByteArray(r->element[1]->str, qsizetype(r->element[1]->len)));
        return;
    }
    if (what != "message")
        return;
    const redisReply *channel = r->element[1];
    const redisReply *payload = r->element[2];
    if (channel->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING)
        return;
    Q_EMIT self->message(QByteArray(channel->str, qsizetype(channel->len)),
                         QByteArray(payload->str, qsizetype(payload->len)));
}

void RedisConnection::command(const QList<QByteArray> &args, Callback callback)
{
    Q_ASSERT(m_mode == Mode::Commands);
    if (!m_ready) {
        if (callback)
            QMetaObject::invokeMethod(
                this,
                [callback = std::move(callback)] {
                    callback(RedisReply::error("ERR not connected to Redis"));
                },
                Qt::QueuedConnection);
        return;
    }
    send(args, &RedisConnection::onCommandReply,
         callback ? new Callback(std::move(callback)) : nullptr);
}

void RedisConnection::subscribe(const QByteArray &channel)
{
    Q_ASSERT(m_mode == Mode::Subscriber);
    if (m_channels.contains(channel))
        return;
    m_channels.insert(channel, false); // until Redis confirms
    if (m_ready)
        send({"SUBSCRIBE", channel}, &RedisConnection::onSubscriberReply, nullptr);
}

void RedisConnection::whenSubscribed(const QByteArray &channel, std::function<void()> then)
{
    auto it = m_channels.constFind(channel);
    if (it == m_channels.cend() || it.value()) {
        then();
        return;
    }
    m_waiting[channel].append(std::move(then));
}

void RedisConnection::confirmed(const QByteArray &channel)
{
    auto it = m_channels.find(channel);
    if (it == m_channels.end())
        return; // unsubscribed meanwhile
    it.value() = true;
    for (const auto &then : m_waiting.take(channel))
        then();
    if (m_ready && !m_announced
        && std::all_of(m_channels.cbegin(), m_channels.cend(), [](bool c) { return c; }))
        announce();
}

void RedisConnection::unsubscribe(const QByteArray &channel)
{
    Q_ASSERT(m_mode == Mode::Subscriber);
    if (!m_channels.remove(channel))
        return;
    for (const auto &then : m_waiting.take(channel))
        then(); // nothing to wait for any more

    if (m_ready)
        send({"UNSUBSCRIBE", channel}, &RedisConnection::onSubscriberReply, nullptr);
}

} // namespace Heliograph::Server
