// SPDX-License-Identifier: MIT
// The offline outbox, the rejoin registry, replay cursors and network awareness of
// HubConnection, and the stores and monitor they use.
#include "hubconnection_p.h"
#include "logging_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QSaveFile>
#include <QtCore/QSettings>
#include <QtCore/QUrlQuery>
#include <QtCore/QtEndian>
#include <QtNetwork/QNetworkInformation>

using namespace Qt::StringLiterals;

namespace Heliograph {

using Detail::lcHubConnection;

namespace {

/// Outbox records: one MessagePack Invocation (no id) each; the time it was queued travels in
/// a header.
constexpr QByteArrayView EnqueuedHeader = "heliograph-enqueued-ms";

QByteArray encodeRecord(const QByteArray &method, const ValueList &arguments, qint64 enqueuedAtMs)
{
    InvocationMessage m;
    m.headers.append({EnqueuedHeader.toByteArray(), QByteArray::number(enqueuedAtMs)});
    m.target = method;
    m.arguments = arguments;
    QByteArray bytes;
    HubProtocol::messagePack().write(m, bytes);
    return bytes;
}

std::optional<InvocationMessage> decodeRecord(const QByteArray &record, qint64 &enqueuedAtMs)
{
    MessageReader reader(HubProtocol::messagePack());
    reader.append(record);
    MessageReader::Result r = reader.read();
    if (r.status != MessageReader::Status::Message)
        return std::nullopt;
    auto *m = std::get_if<InvocationMessage>(&*r.message);
    if (!m)
        return std::nullopt;
    enqueuedAtMs = 0;
    for (const auto &[name, value] : std::as_const(m->headers)) {
        if (name == EnqueuedHeader)
            enqueuedAtMs = value.toLongLong();
    }
    return std::move(*m);
}

/// A field of the first argument, ignoring case (a server may write .NET's `Sequence`).
const Value &firstArgumentField(const ValueList &arguments, QByteArrayView name)
{
    const Value *v
        = arguments.isEmpty() ? nullptr : arguments.first().find(name, Qt::CaseInsensitive);
    return v ? *v : Value::null();
}

std::optional<qint64> defaultSequenceOf(const ValueList &arguments)
{
    const Value &v = firstArgumentField(arguments, "sequence");
    if (v.isInteger())
        return v.toInteger();
    if (v.isDouble())
        return qint64(v.toDouble());
    return std::nullopt;
}

bool defaultIsReplayed(const ValueList &arguments)
{
    return firstArgumentField(arguments, "replayed").toBool();
}

constexpr QByteArrayView OutboxMagic = "HGOUTBOX1\n";

} // namespace

// --- outbox -------------------------------------------------------------------------------

bool HubConnection::Private::enqueue(CallKind kind, const QByteArray &method,
                                     const ValueList &arguments, ResultCallback onResult,
                                     std::function<void(bool)> onSent)
{
    if (outbox.size() >= size_t(qMax(active.outboxLimit, 0)))
        return false;
    Queued entry {kind,
                  method,
                  arguments,
                  std::move(onResult),
                  std::move(onSent),
                  clock.elapsed() + active.outboxTimeout.count(),
                  QDateTime::currentMSecsSinceEpoch(),
                  false};
    const bool persist = kind == CallKind::Send && active.outboxStore;
    outbox.push_back(std::move(entry));
    qCDebug(lcHubConnection) << "queued" << method << "(" << outbox.size() << "waiting)";
    if (persist) {
        outbox.back().persisted = true;
        if (persistOutbox()) {
            // Durably queued: it will be sent by this run or the next one.
            outbox.back().onResult = {};
            if (auto done = std::exchange(outbox.back().onSent, {}))
                done(true);
        } else {
            outbox.back().persisted = false;
        }
    }
    if (!outboxTimer.isActive())
        outboxTimer.start(0);
    statisticsTouched();
    return true;
}

void HubConnection::Private::expireOutbox()
{
    const qint64 now = clock.elapsed();
    qint64 next = std::numeric_limits<qint64>::max();
    QList<Queued> expired;
    for (auto it = outbox.begin(); it != outbox.end();) {
        if (!it->persisted && it->deadlineMs <= now) {
            expired.append(std::move(*it));
            it = outbox.erase(it);
        } else {
            if (!it->persisted)
                next = qMin(next, it->deadlineMs);
            ++it;
        }
    }
    if (next != std::numeric_limits<qint64>::max())
        outboxTimer.start(
            int(qBound<qint64>(0, next - now, qint64(std::numeric_limits<int>::max()))));
    if (expired.isEmpty())
        return;
    statisticsTouched();
    QPointer<HubConnection> guard(q);
    for (const Queued &e : std::as_const(expired)) {
        const HubError err {
            Error::TimedOut,
            u"'%1' waited %2 ms in the outbox without a connection."_s.arg(
                QString::fromUtf8(e.method), QString::number(active.outboxTimeout.count()))};
        qCInfo(lcHubConnection) << "outbox:" << e.method << "timed out";
        if (e.onResult)
            e.onResult(err);
        else if (e.onSent)
            e.onSent(false);
        if (!guard)
            return;
    }
}

void HubConnection::Private::failOutbox(const HubError &reason)
{
    outboxTimer.stop();
    if (outbox.empty())
        return;
    // Persisted sends stay in the store for the next start(); the rest fail.
    std::deque<Queued> entries = std::exchange(outbox, {});
    statisticsTouched();
    QPointer<HubConnection> guard(q);
    for (Queued &e : entries) {
        if (e.persisted)
            continue;
        if (e.onResult)
            e.onResult(reason);
        else if (e.onSent)
            e.onSent(false);
        if (!guard)
            return;
    }
}

bool HubConnection::Private::persistOutbox()
{
    if (!active.outboxStore)
        return false;
    QList<QByteArray> records;
    for (const Queued &e : outbox) {
        if (e.persisted)
            records.append(encodeRecord(e.method, e.arguments, e.enqueuedAtMs));
    }
    if (!active.outboxStore->save(records)) {
        qCWarning(lcHubConnection)
            << "the outbox store could not save" << records.size() << "calls";
        return false;
    }
    return true;
}

void HubConnection::Private::restoreOutbox()
{
    if (!active.outboxStore)
        return;
    const QList<QByteArray> records = active.outboxStore->load();
    int restored = 0, broken = 0;
    for (const QByteArray &record : records) {
        qint64 enqueuedAt = 0;
        std::optional<InvocationMessage> m = decodeRecord(record, enqueuedAt);
        if (!m) {
            ++broken;
            continue;
        }
        Queued entry {CallKind::Send,
                      m->target,
                      m->arguments,
                      {},
                      {},
                      clock.elapsed() + active.outboxTimeout.count(),
                      enqueuedAt,
                      true};
        outbox.push_back(std::move(entry));
        ++restored;
    }
    if (restored || broken) {
        qCInfo(lcHubConnection) << "outbox: restored" << restored << "queued sends;" << broken
                                << "unreadable records dropped";
        persistOutbox();
        statisticsTouched();
    }
}

void HubConnection::Private::flushOutbox()
{
    const quint64 session = currentSession;
    QPointer<HubConnection> guard(q);
    bool persistedSent = false;
    while (!outbox.empty() && guard && isCurrent(session)) {
        Queued e = std::move(outbox.front());
        outbox.pop_front();
        persistedSent = persistedSent || e.persisted;
        bypassOutbox = true;
        call(e.kind, e.method, e.arguments, {}, std::move(e.onResult), std::move(e.onSent),
             nullptr);
        if (guard)
            bypassOutbox = false;
    }
    if (!guard)
        return;
    if (outbox.empty())
        outboxTimer.stop();
    if (persistedSent)
        persistOutbox();
    statisticsTouched();
}

// --- rejoin registry ----------------------------------------------------------------------

void HubConnection::Private::runRejoins()
{
    if (rejoins.isEmpty())
        return;
    const quint64 session = currentSession;
    const QList<Rejoin> calls = rejoins;
    rejoinsPending += int(calls.size());
    QPointer<HubConnection> guard(q);
    for (const Rejoin &r : calls) {
        bypassOutbox = true;
        call(
            CallKind::Invoke, r.method, r.arguments, {},
            [this, session, method = r.method](const HubResult<Value> &result) {
                if (session != currentSession)
                    return; // that connection is gone; the next one rejoins again
                if (!result && result.error().code != Error::ConnectionLost) {
                    qCWarning(lcHubConnection).noquote()
                        << "rejoin call" << QString::fromUtf8(method)
                        << "failed:" << result.error().message;
                    QPointer<HubConnection> alive(q);
                    Q_EMIT q->rejoinFailed(method, result.error());
                    if (!alive || session != currentSession)
                        return;
                }
                if (--rejoinsPending == 0 && isCurrent(session))
                    flushOutbox();
            },
            {}, nullptr);
        if (!guard)
            return;
        bypassOutbox = false;
        if (!isCurrent(session))
            return;
    }
}

// --- replay cursors -----------------------------------------------------------------------

QUrl HubConnection::Private::urlWithCursors() const
{
    QUrl url = active.url;
    if (cursors.isEmpty())
        return url;
    QUrlQuery query(url);
    for (const Cursor &c : cursors) {
        if (!c.value)
            continue;
        query.removeAllQueryItems(c.options.queryParameter);
        query.addQueryItem(c.options.queryParameter, QString::number(*c.value));
    }
    url.setQuery(query);
    return url;
}

bool HubConnection::Private::applyCursor(const InvocationMessage &invocation)
{
    const QByteArray key = invocation.target.toLower();
    for (Cursor &c : cursors) {
        if (!c.options.resetMethod.isEmpty() && c.options.resetMethod.toLower() == key) {
            bool ok = false;
            const qint64 reset = invocation.arguments.value(0).toInteger(&ok);
            if (!ok || reset < 0)
                return false;
            qCWarning(lcHubConnection) << "the server reset the cursor of" << c.options.method
                                       << "from" << c.value.value_or(0) << "to" << reset;
            c.value = reset;
            if (c.store)
                c.store->save(c.options.key, reset);
            return false;
        }
        if (c.key != key)
            continue;
        const auto sequenceOf = c.options.sequenceOf ? c.options.sequenceOf : &defaultSequenceOf;
        const std::optional<qint64> sequence = sequenceOf(invocation.arguments);
        if (!sequence)
            return true; // not part of the sequence: delivered as it is
        if (c.value && *sequence <= *c.value) {
            qCDebug(lcHubConnection) << "dropping duplicate" << invocation.target << *sequence
                                     << "(cursor" << *c.value << ")";
            return false;
        }
        const bool gap = c.options.contiguous && c.value && *sequence > *c.value + 1;
        const qint64 expected = c.value ? *c.value + 1 : 0;
        c.value = *sequence;
        if (c.store)
            c.store->save(c.options.key, *sequence);
        const auto isReplayed = c.options.isReplayed ? c.options.isReplayed : &defaultIsReplayed;
        if (isReplayed(invocation.arguments)) {
            ++replayedMessages;
            statisticsTouched();
        }
        if (gap) {
            qCWarning(lcHubConnection) << "replay gap in" << invocation.target << ": expected"
                                       << expected << "received" << *sequence;
            setRecovered(false);
            Q_EMIT q->gapDetected(invocation.target, expected, *sequence);
        }
        return true;
    }
    return true;
}

void HubConnection::Private::setRecovered(bool value)
{
    if (recovered == value)
        return;
    recovered = value;
    Q_EMIT q->recoveredChanged();
}

// --- HubConnection: configuration ---------------------------------------------------------

void HubConnection::setStatefulReconnectEnabled(bool enabled)
{
    d->config.statefulReconnectEnabled = enabled;
}

bool HubConnection::isStatefulReconnectEnabled() const
{
    return d->config.statefulReconnectEnabled;
}

void HubConnection::setStatefulReconnectBufferSize(qsizetype bytes)
{
    d->config.statefulBufferSize = qMax<qsizetype>(bytes, 1);
}

qsizetype HubConnection::statefulReconnectBufferSize() const
{
    return d->config.statefulBufferSize;
}

void HubConnection::setOutboxEnabled(bool enabled)
{
    d->config.outboxEnabled = enabled;
    d->active.outboxEnabled = enabled;
}

bool HubConnection::isOutboxEnabled() const
{
    return d->config.outboxEnabled;
}

void HubConnection::setOutboxLimit(int calls)
{
    d->config.outboxLimit = qMax(calls, 0);
    d->active.outboxLimit = d->config.outboxLimit;
}

int HubConnection::outboxLimit() const
{
    return d->config.outboxLimit;
}

void HubConnection::setOutboxTimeout(std::chrono::milliseconds timeout)
{
    d->config.outboxTimeout = timeout;
}

std::chrono::milliseconds HubConnection::outboxTimeout() const
{
    return d->config.outboxTimeout;
}

void HubConnection::setOutboxStore(std::shared_ptr<OutboxStore> store)
{
    d->config.outboxStore = std::move(store);
}

std::shared_ptr<OutboxStore> HubConnection::outboxStore() const
{
    return d->config.outboxStore;
}

void HubConnection::setNetworkMonitor(NetworkMonitor *monitor)
{
    d->monitorChosen = true;
    if (d->monitor == monitor)
        return;
    if (d->monitor)
        d->monitor->disconnect(this);
    d->monitor = monitor;
    if (monitor)
        connect(monitor, &NetworkMonitor::onlineChanged, this,
                [this](bool online) { d->onNetworkOnlineChanged(online); });
}

NetworkMonitor *HubConnection::networkMonitor() const
{
    return d->monitor;
}

quint64 HubConnection::addRejoin(const QByteArray &method, const ValueList &arguments)
{
    const quint64 id = d->nextRejoinId++;
    d->rejoins.append({id, method, arguments});
    if (d->state == State::Connected) {
        d->bypassOutbox = true;
        d->call(
            Private::CallKind::Invoke, method, arguments, {},
            [this, method](const HubResult<Value> &result) {
                if (!result)
                    Q_EMIT rejoinFailed(method, result.error());
            },
            {}, nullptr);
        d->bypassOutbox = false;
    }
    return id;
}

void HubConnection::removeRejoin(quint64 id)
{
    d->rejoins.removeIf([id](const Private::Rejoin &r) { return r.id == id; });
}

void HubConnection::addReplayCursor(const ReplayCursorOptions &options,
                                    std::shared_ptr<CursorStore> store)
{
    Private::Cursor c;
    c.options = options;
    if (c.options.key.isEmpty())
        c.options.key = QString::fromUtf8(options.method);
    c.key = options.method.toLower();
    c.store = std::move(store);
    if (c.store)
        c.value = c.store->load(c.options.key);
    d->cursors.removeIf([&c](const Private::Cursor &other) { return other.key == c.key; });
    d->cursors.append(std::move(c));
}

std::optional<qint64> HubConnection::replayCursor(const QByteArray &method) const
{
    const QByteArray key = method.toLower();
    for (const Private::Cursor &c : d->cursors) {
        if (c.key == key)
            return c.value;
    }
    return std::nullopt;
}

int HubConnection::resumeCount() const
{
    return d->resumeCount;
}

int HubConnection::queuedMessages() const
{
    return int(d->outbox.size());
}

quint64 HubConnection::replayedMessages() const
{
    return d->replayedMessages;
}

bool HubConnection::isRecovered() const
{
    return d->recovered;
}

// --- stores -------------------------------------------------------------------------------

CursorStore::~CursorStore() = default;
OutboxStore::~OutboxStore() = default;

struct Q_DECL_HIDDEN FileCursorStore::Private {
    explicit Private(const QString &path)
        : settings(path, QSettings::IniFormat)
    { }
    QSettings settings;
};

FileCursorStore::FileCursorStore(const QString &path)
    : d(std::make_unique<Private>(path))
{ }

FileCursorStore::~FileCursorStore() = default;

std::optional<qint64> FileCursorStore::load(const QString &key)
{
    bool ok = false;
    const qint64 v = d->settings.value(u"cursors/"_s + key).toLongLong(&ok);
    return ok ? std::optional<qint64>(v) : std::nullopt;
}

void FileCursorStore::save(const QString &key, qint64 sequence)
{
    d->settings.setValue(u"cursors/"_s + key, sequence);
    d->settings.sync();
    if (d->settings.status() != QSettings::NoError)
        qCWarning(lcHubConnection) << "could not save the replay cursor" << key;
}

struct Q_DECL_HIDDEN FileOutboxStore::Private {
    QString path;
};

FileOutboxStore::FileOutboxStore(const QString &path)
    : d(std::make_unique<Private>(Private {path}))
{ }

FileOutboxStore::~FileOutboxStore() = default;

QString FileOutboxStore::path() const
{
    return d->path;
}

// The file: a magic line, then each record as a 32-bit big-endian length and its bytes.
QList<QByteArray> FileOutboxStore::load()
{
    QFile file(d->path);
    if (!file.exists())
        return {};
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcHubConnection) << "cannot read the outbox" << d->path << file.errorString();
        return {};
    }
    const QByteArray data = file.readAll();
    if (!data.startsWith(OutboxMagic)) {
        qCWarning(lcHubConnection) << "the outbox" << d->path << "is not an outbox file";
        return {};
    }
    QList<QByteArray> records;
    qsizetype at = OutboxMagic.size();
    while (at + 4 <= data.size()) {
        const quint32 size = qFromBigEndian<quint32>(data.constData() + at);
        at += 4;
        if (qsizetype(size) > data.size() - at) {
            qCWarning(lcHubConnection) << "the outbox" << d->path << "is truncated";
            break;
        }
        records.append(data.mid(at, size));
        at += size;
    }
    return records;
}

bool FileOutboxStore::save(const QList<QByteArray> &records)
{
    QSaveFile file(d->path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    QByteArray data(OutboxMagic.toByteArray());
    for (const QByteArray &r : records) {
        char size[4];
        qToBigEndian<quint32>(quint32(r.size()), size);
        data.append(size, 4);
        data.append(r);
    }
    file.write(data);
    return file.commit();
}

// --- network monitor ----------------------------------------------------------------------

NetworkMonitor::NetworkMonitor(QObject *parent)
    : QObject(parent)
{ }

NetworkMonitor::~NetworkMonitor() = default;

namespace {
class SystemNetworkMonitor final : public NetworkMonitor {
public:
    SystemNetworkMonitor(QNetworkInformation *info, QObject *parent)
        : NetworkMonitor(parent)
        , m_online(isOnline(info->reachability()))
    {
        connect(info, &QNetworkInformation::reachabilityChanged, this,
                [this](QNetworkInformation::Reachability r) {
                    const bool online = isOnline(r);
                    if (online == m_online)
                        return;
                    m_online = online;
                    Q_EMIT onlineChanged(online);
                });
    }
    bool isOnline() const override { return m_online; }

private:
    static bool isOnline(QNetworkInformation::Reachability r)
    {
        // Unknown (no information) counts as online: never pause on a guess.
        return r != QNetworkInformation::Reachability::Disconnected;
    }
    bool m_online;
};
} // namespace

NetworkMonitor *NetworkMonitor::createSystemMonitor(QObject *parent)
{
    if (!QNetworkInformation::instance()
        && !QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability))
        return nullptr;
    QNetworkInformation *info = QNetworkInformation::instance();
    if (!info || !info->supports(QNetworkInformation::Feature::Reachability))
        return nullptr;
    return new SystemNetworkMonitor(info, parent);
}

} // namespace Heliograph
