// SPDX-License-Identifier: MIT
// heliograph-client-bench: Heliograph::HubConnection in the client benchmark
// (bench/run-clients.sh). Same command line, behaviour and one-line JSON result as the official
// .NET client's program (dotnet/Program.cs) and the JavaScript client's (node/clientbench.mjs):
//
//   heliograph-client-bench --url http://127.0.0.1:PORT/hubs/bench --protocol json|messagepack
//                           --scenario invoke|receive|memory [--inflight N] [--payload BYTES]
//                           [--duration S] [--warmup S] [--batch N] [--connections N]
//                           [--concurrency N] [--settle S] [--min-operations N]
//
// The measured window lasts `duration` seconds, and longer until `min-operations` were counted
// (default 0; the smoke test sets it so that a loaded machine cannot fail it).
// invoke:  one connection, N Echo(payload) calls in flight (default 1), each completion issues
//          the next; round trips counted in the measured window after the warm-up.
// receive: one connection, two Flood(batch, payload) calls in flight; the hub sends
//          Receive(payload) `batch` times per call; handler calls counted in the window.
// memory:  RSS at start, with one idle connection, then with N more (`concurrency` connecting at
//          a time), each reading after `settle` seconds.
// Every connection uses the defaults (negotiate, then WebSockets) and only the public API.
// Only here: `--shared-network-manager 1` gives every connection one QNetworkAccessManager
// (setNetworkAccessManager) instead of each its own, to measure what that saves.

#include <heliograph/client/hubconnection.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>

#include <cstdio>
#include <functional>
#include <memory>
#include <sys/resource.h>
#include <utility>
#include <vector>

using namespace Qt::StringLiterals;
using Heliograph::HubConnection;
using Heliograph::HubResult;
using Heliograph::Value;
using Heliograph::ValueList;

namespace {

struct Options {
    QUrl url;
    QString protocol = u"json"_s;
    QString scenario = u"invoke"_s;
    int inflight = 1;
    int payload = 64;
    int batch = 2000;
    int connections = 1000;
    int concurrency = 50;
    double duration = 5;
    double warmup = 1;
    double settle = 1;
    qint64 minOperations = 0;
    bool sharedNetworkManager = false;
};

bool parse(const QStringList &args, Options &o)
{
    if (args.size() % 2 != 0)
        return false;
    for (qsizetype i = 0; i + 1 < args.size(); i += 2) {
        const QString &name = args[i];
        const QString &v = args[i + 1];
        bool ok = true;
        if (name == "--url"_L1)
            o.url = QUrl(v);
        else if (name == "--protocol"_L1)
            o.protocol = v;
        else if (name == "--scenario"_L1)
            o.scenario = v;
        else if (name == "--inflight"_L1)
            o.inflight = v.toInt(&ok);
        else if (name == "--payload"_L1)
            o.payload = v.toInt(&ok);
        else if (name == "--batch"_L1)
            o.batch = v.toInt(&ok);
        else if (name == "--connections"_L1)
            o.connections = v.toInt(&ok);
        else if (name == "--concurrency"_L1)
            o.concurrency = v.toInt(&ok);
        else if (name == "--duration"_L1)
            o.duration = v.toDouble(&ok);
        else if (name == "--warmup"_L1)
            o.warmup = v.toDouble(&ok);
        else if (name == "--settle"_L1)
            o.settle = v.toDouble(&ok);
        else if (name == "--min-operations"_L1)
            o.minOperations = v.toLongLong(&ok);
        else if (name == "--shared-network-manager"_L1)
            o.sharedNetworkManager = v.toInt(&ok) != 0;
        else
            return false;
        if (!ok)
            return false;
    }
    return o.url.isValid() && !o.url.isEmpty()
        && (o.protocol == "json"_L1 || o.protocol == "messagepack"_L1);
}

[[noreturn]] void fail(const QString &why)
{
    std::fprintf(stderr, "heliograph-client-bench: %s\n", qPrintable(why));
    std::exit(1);
}

double cpuSeconds()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
        + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

qint64 rssKb()
{
    QFile f(u"/proc/self/status"_s);
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return 0;
}

QString makePayload(int n)
{
    QString s;
    s.reserve(n);
    for (int i = 0; i < n; ++i)
        s.append(QChar(u'a' + i % 26));
    return s;
}

QString num(double v)
{
    return QString::number(v, 'f', 3);
}

int ms(double seconds)
{
    return int(seconds * 1000);
}

HubConnection *build(const Options &o, QObject *parent)
{
    auto *hub = new HubConnection(o.url, parent);
    if (o.sharedNetworkManager) {
        static auto *shared = new QNetworkAccessManager(QCoreApplication::instance());
        hub->setNetworkAccessManager(shared);
    }
    hub->setProtocol(o.protocol == "messagepack"_L1 ? HubConnection::Protocol::MessagePack
                                                    : HubConnection::Protocol::Json);
    return hub;
}

/// Starts `hub`; `then` runs once it is connected; a failure ends the program.
void startOrDie(HubConnection *hub, std::function<void()> then)
{
    QObject::connect(hub, &HubConnection::connected, hub, std::move(then),
                     Qt::SingleShotConnection);
    QObject::connect(hub, &HubConnection::errorOccurred, hub, [hub] {
        if (hub->state() == HubConnection::State::Disconnected)
            fail(u"connection failed: "_s + hub->errorString());
    });
    hub->start();
}

/// The invoke and receive scenarios: `issue(next)` makes one call and runs `next(ok)` when it
/// completes; `inflight` calls run at once until the measured window is over, counted by
/// `counter`. Prints the result and quits when the last call has completed.
class Loop : public QObject {
public:
    using Issue = std::function<void(std::function<void(bool)>)>;

    Loop(const Options &o, HubConnection *hub, int inflight, std::function<qint64()> counter,
         std::function<qint64()> errors)
        : m_o(o)
        , m_hub(hub)
        , m_inflight(inflight)
        , m_counter(std::move(counter))
        , m_errors(std::move(errors))
    { }

    void run(Issue issue)
    {
        m_issue = std::move(issue);
        m_pending = m_inflight;
        for (int i = 0; i < m_inflight; ++i)
            next();
        QTimer::singleShot(ms(m_o.warmup), this, [this] {
            m_c0 = m_counter();
            m_cpu0 = cpuSeconds();
            m_clock.start();
            QTimer::singleShot(ms(m_o.duration), this, [this] { endWindow(); });
        });
    }

private:
    void endWindow()
    {
        if (m_counter() - m_c0 < m_o.minOperations) {
            QTimer::singleShot(10, this, [this] { endWindow(); });
            return;
        }
        m_operations = m_counter() - m_c0;
        m_seconds = double(m_clock.nsecsElapsed()) / 1e9;
        m_cpu = cpuSeconds() - m_cpu0;
        m_stop = true;
    }

    void next()
    {
        m_issue([this](bool ok) {
            if (ok && !m_stop)
                return next();
            if (!ok)
                ++m_failed;
            if (--m_pending == 0)
                finish();
        });
    }

    void finish()
    {
        QObject::connect(m_hub, &HubConnection::disconnected, this, [this] {
            std::printf("{\"client\":\"heliograph\",\"scenario\":\"%s\",\"protocol\":\"%s\","
                        "\"inflight\":%d,\"payload\":%d,\"seconds\":%s,\"operations\":%lld,"
                        "\"perSec\":%s,\"cpuSeconds\":%s,\"cpuUsPerOp\":%s,\"errors\":%lld}\n",
                        qPrintable(m_o.scenario), qPrintable(m_o.protocol), m_inflight, m_o.payload,
                        qPrintable(num(m_seconds)), m_operations,
                        qPrintable(num(double(m_operations) / m_seconds)), qPrintable(num(m_cpu)),
                        qPrintable(num(m_operations > 0 ? m_cpu * 1e6 / double(m_operations) : 0)),
                        m_failed + m_errors());
            std::fflush(stdout);
            QCoreApplication::quit();
        });
        m_hub->stop();
    }

    const Options &m_o;
    HubConnection *m_hub;
    int m_inflight;
    int m_pending = 0;
    std::function<qint64()> m_counter;
    std::function<qint64()> m_errors;
    Issue m_issue;
    bool m_stop = false;
    qint64 m_failed = 0;
    qint64 m_c0 = 0;
    double m_cpu0 = 0;
    QElapsedTimer m_clock;
    qint64 m_operations = 0;
    double m_seconds = 0;
    double m_cpu = 0;
};

void runInvoke(const Options &o, QObject *root)
{
    auto *hub = build(o, root);
    const QString payload = makePayload(o.payload);
    auto errors = std::make_shared<qint64>(0);
    auto done = std::make_shared<qint64>(0);
    auto *loop = new Loop(
        o, hub, o.inflight, [done] { return *done; }, [errors] { return *errors; });
    loop->setParent(root);
    startOrDie(hub, [=] {
        loop->run([=](std::function<void(bool)> next) {
            hub->invoke("Echo", ValueList {Value(payload)}, hub,
                        [=, next = std::move(next)](const HubResult<Value> &r) {
                            if (!r)
                                return next(false);
                            if (r->toString().size() != payload.size())
                                ++*errors;
                            ++*done;
                            next(true);
                        });
        });
    });
}

void runReceive(const Options &o, QObject *root)
{
    auto *hub = build(o, root);
    const QString payload = makePayload(o.payload);
    auto errors = std::make_shared<qint64>(0);
    auto received = std::make_shared<qint64>(0);
    hub->on<QString>("Receive", [=](const QString &p) {
        if (p.size() != payload.size())
            ++*errors;
        ++*received;
    });
    auto *loop = new Loop(
        o, hub, 2, [received] { return *received; }, [errors] { return *errors; });
    loop->setParent(root);
    startOrDie(hub, [=] {
        loop->run([=](std::function<void(bool)> next) {
            hub->invoke("Flood", ValueList {Value(o.batch), Value(payload)}, hub,
                        [=, next = std::move(next)](const HubResult<Value> &r) {
                            if (!r)
                                return next(false);
                            if (r->toInteger() != o.batch)
                                ++*errors;
                            next(true);
                        });
        });
    });
}

/// The memory scenario, step by step on the event loop.
class Memory : public QObject {
public:
    explicit Memory(const Options &o)
        : m_o(o)
    { }

    void run()
    {
        settled([this](qint64 start) {
            m_start = start;
            m_first = build(m_o, this);
            startOrDie(m_first, [this] {
                settled([this](qint64 idle) {
                    m_idle = idle;
                    m_hubs.reserve(size_t(m_o.connections));
                    for (int i = 0; i < m_o.connections; ++i)
                        m_hubs.push_back(build(m_o, this));
                    const int n = qMax(1, qMin(m_o.concurrency, m_o.connections));
                    if (m_o.connections == 0)
                        return connectedAll();
                    for (int i = 0; i < n; ++i)
                        connectNext();
                });
            });
        });
    }

private:
    void settled(std::function<void(qint64)> then)
    {
        QTimer::singleShot(ms(m_o.settle), this, [then = std::move(then)] { then(rssKb()); });
    }

    void connectNext()
    {
        if (m_next >= m_hubs.size())
            return;
        HubConnection *hub = m_hubs[m_next++];
        // Connected or failed, whichever comes first; a later drop is not counted again.
        auto settledOne = [this, counted = std::make_shared<bool>(false)] {
            if (std::exchange(*counted, true))
                return;
            if (++m_settled == m_hubs.size())
                connectedAll();
            else
                connectNext();
        };
        QObject::connect(hub, &HubConnection::connected, this, settledOne,
                         Qt::SingleShotConnection);
        QObject::connect(hub, &HubConnection::errorOccurred, this, settledOne,
                         Qt::SingleShotConnection);
        hub->start();
    }

    void connectedAll()
    {
        settled([this](qint64 after) {
            qint64 connected = 0;
            for (HubConnection *hub : m_hubs)
                connected += hub->state() == HubConnection::State::Connected;
            const bool firstUp = m_first->state() == HubConnection::State::Connected;
            const qint64 errors = m_o.connections - connected + (firstUp ? 0 : 1);
            std::printf(
                "{\"client\":\"heliograph\",\"scenario\":\"memory\",\"protocol\":\"%s\","
                "\"connections\":%d,\"connected\":%lld,\"rssStartKb\":%lld,"
                "\"rssIdleKb\":%lld,\"rssAfterKb\":%lld,\"kbPerConnection\":%s,"
                "\"errors\":%lld}\n",
                qPrintable(m_o.protocol), m_o.connections, connected, m_start, m_idle, after,
                qPrintable(num(double(after - m_idle) / double(qMax(1, m_o.connections)))), errors);
            std::fflush(stdout);
            m_hubs.push_back(m_first);
            for (HubConnection *hub : m_hubs) {
                if (hub->state() == HubConnection::State::Disconnected) {
                    stopped();
                    continue;
                }
                QObject::connect(hub, &HubConnection::disconnected, this, [this] { stopped(); });
                hub->stop();
            }
        });
    }

    void stopped()
    {
        if (++m_stopped == m_hubs.size())
            QCoreApplication::quit();
    }

    const Options &m_o;
    HubConnection *m_first = nullptr;
    std::vector<HubConnection *> m_hubs;
    size_t m_next = 0;
    size_t m_settled = 0;
    size_t m_stopped = 0;
    qint64 m_start = 0;
    qint64 m_idle = 0;
};

} // namespace

int main(int argc, char **argv)
{
    // As quiet as the other clients by default (the .NET one logs nothing without a logging
    // provider, the Node script sets LogLevel.Warning): no per-connection info lines.
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(u"heliograph.*.debug=false\nheliograph.*.info=false"_s);
    QCoreApplication app(argc, argv);
    Options o;
    if (!parse(app.arguments().mid(1), o)) {
        std::fprintf(stderr,
                     "usage: heliograph-client-bench --url URL --protocol json|messagepack "
                     "--scenario invoke|receive|memory [--inflight N] [--payload BYTES] "
                     "[--duration S] [--warmup S] [--batch N] [--connections N] "
                     "[--concurrency N] [--settle S] [--min-operations N]\n");
        return 2;
    }
    QObject root;
    if (o.scenario == "invoke"_L1) {
        runInvoke(o, &root);
    } else if (o.scenario == "receive"_L1) {
        runReceive(o, &root);
    } else if (o.scenario == "memory"_L1) {
        auto *memory = new Memory(o);
        memory->setParent(&root);
        memory->run();
    } else {
        fail(u"unknown scenario "_s + o.scenario);
    }
    return app.exec();
}
