// SPDX-License-Identifier: MIT
// heliograph-bench: a SignalR load generator for comparing hub servers under the same load.
// It speaks the protocol through Heliograph's protocol core (negotiate, handshake, the JSON and
// MessagePack hub protocols) over its own WebSocket client on raw sockets, one epoll loop per
// thread, against a hub at /hubs/bench with Echo, JoinGroup, BroadcastToGroup (-> Receive) and
// SendToUser: heliograph-server's `serve --bench-hub` (server/src/bench/benchhub.h) and the
// ASP.NET Core peer in bench/aspnetcore. bench/run-servers.sh (./dev bench) compares the two.
//
// Scenarios:
//   echo     N connections invoke Echo(payload) as fast as the replies come (--inflight each):
//            round trips/s and round-trip latency
//   fanout   N connections join group "g"; one more connection invokes BroadcastToGroup
//            --rate times per second: deliveries/s and delivery latency
//   idle     N connections kept alive with pings: the server's RSS per connection
//   connect  N connections (negotiate + WebSocket + handshake), --concurrency at a time:
//            connections/s
// Latency: the sender writes its steady_clock nanoseconds at the start of the payload (20
// digits, then padding), the receiver subtracts them from the kernel's receive timestamp of the
// data (SO_TIMESTAMPNS), so that time the generator spends on other sockets is not counted; it
// is reported apart as the "read delay". Percentiles come from a log-linear histogram (0.2 %).
// Each connection negotiates and upgrades on one keep-alive TCP connection (a new one if the
// server closes after negotiate), as user u<index>, and sends a Ping after 15 s without output.

#include "loadgen/loadgen.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QSysInfo>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>

using namespace Heliograph;
using namespace Heliograph::Bench;
using namespace Qt::StringLiterals;

namespace {

constexpr char Usage[] = R"(Usage: heliograph-bench [options]

  --scenario echo|fanout|idle|connect   what to run (default echo)
  --protocol json|messagepack           hub protocol (default json)
  --url http://HOST:PORT[/path]         server; the path defaults to /hubs/bench
  --connections N                       default: echo 100, fanout 1000, idle 10000, connect 2000
  --duration S                          measured seconds (default 10)
  --warmup S                            seconds of load before the measurement (default 2)
  --threads T                           event-loop threads (default: CPUs in the affinity mask)
  --payload BYTES                       payload size, at least 20 (default 256)
  --rate R                              fanout: broadcasts per second (default 10)
  --inflight K                          echo: outstanding invocations per connection (default 1)
  --concurrency C                       connections being set up at once (default 100)
  --warmup-connections K                connect: open K connections (kept open) before the
                                        N measured ones (default 0)
  --source-addresses K                  spread connections over 127.0.0.2 .. 127.0.0.(K+1)
                                        (default: one more per 25,000 connections)
  --server-pid PID                      read the server's CPU time and RSS from /proc
  --ping-interval S                     keep-alive Ping after S seconds without sending (15)
  --setup-timeout S                     give up when setup takes longer (default 300)
  --no-kernel-timestamps                take the receive time when epoll reports the data
                                        instead of the kernel's receive timestamp
  --json FILE                           write the results as one JSON object
  --strict                              exit 3 on any error or zero throughput
  --quiet                               no progress lines
)";

[[noreturn]] void usageError(const char *what, const char *arg = "")
{
    std::fprintf(stderr, "heliograph-bench: %s%s (see --help)\n", what, arg);
    std::exit(2);
}

double number(const char *s, const char *flag, double min)
{
    char *end = nullptr;
    const double v = std::strtod(s, &end);
    if (!end || *end || v < min)
        usageError("bad value for ", flag);
    return v;
}

QString grouped(double v)
{
    QString digits = QString::number(std::llround(v));
    for (qsizetype i = digits.size() - 3; i > (digits.startsWith(u'-') ? 1 : 0); i -= 3)
        digits.insert(i, u',');
    return digits;
}

QString duration(uint64_t ns)
{
    if (ns < 10'000)
        return QString::number(double(ns) / 1e3, 'f', 2) + u" us"_s;
    if (ns < 10'000'000)
        return QString::number(double(ns) / 1e3, 'f', 0) + u" us"_s;
    return QString::number(double(ns) / 1e6, 'f', 1) + u" ms"_s;
}

QString megabytes(uint64_t kb)
{
    return QString::number(double(kb) / 1024.0, 'f', 1) + u" MB"_s;
}

void line(const char *label, const QString &text)
{
    std::printf("  %-18s %s\n", label, qPrintable(text));
}

double rssPerConnection(const Results &r)
{
    if (!r.serverBefore || !r.serverWindowEnd || r.counters.established == 0)
        return 0;
    return (double(r.serverWindowEnd->rssKb) - double(r.serverBefore->rssKb)) * 1024.0
        / double(r.counters.established);
}

bool generatorSaturated(const Results &r)
{
    return r.generatorCpu >= 0.9 * std::min(r.threads, allowedCpus());
}

void printHuman(const Results &r)
{
    const Options &o = r.options;
    const Counters &c = r.counters;
    std::printf("heliograph-bench %s/%s: %d connections, %d B payload, %d thread%s, against "
                "%s%s\n",
                scenarioName(o.scenario), o.protocol->name().toByteArray().constData(),
                r.connections, std::max(o.payload, 20), r.threads, r.threads == 1 ? "" : "s",
                o.url.constData(), o.url.contains(o.hubPath) ? "" : o.hubPath.constData());
    line("established",
         u"%1 / %2 (setup %3 s: p50 %4, p99 %5)"_s.arg(
             grouped(double(c.established)),
             grouped(r.connections + (o.scenario == Scenario::Fanout ? 1 : 0)),
             QString::number(r.setupSeconds, 'f', 2), duration(r.setupLatency.percentile(50)),
             duration(r.setupLatency.percentile(99))));
    switch (o.scenario) {
    case Scenario::Echo:
        line("round trips/s",
             u"%1 (%2 in %3 s, %4 in flight per connection)"_s
                 .arg(grouped(r.throughput()), grouped(double(c.roundTrips)),
                      QString::number(r.windowSeconds, 'f', 1))
                 .arg(o.inflight));
        break;
    case Scenario::Fanout:
        line("deliveries/s",
             u"%1 (%2 of %3 expected: %4 broadcasts/s to %5 members)"_s.arg(
                 grouped(r.throughput()), grouped(double(c.deliveries)),
                 grouped(double(c.broadcastsInWindow) * r.connections), QString::number(o.rate),
                 grouped(r.connections)));
        break;
    case Scenario::Connect:
        line("connections/s",
             u"%1 (%2 concurrently, after %3 warm-up connections)"_s.arg(grouped(r.throughput()))
                 .arg(o.concurrency)
                 .arg(o.warmupConnections));
        break;
    case Scenario::Idle:
        if (r.serverBefore && r.serverWindowEnd)
            line("server RSS/conn",
                 u"%1 B (%2 -> %3 after %4 s idle)"_s.arg(
                     grouped(rssPerConnection(r)), megabytes(r.serverBefore->rssKb),
                     megabytes(r.serverWindowEnd->rssKb),
                     QString::number(o.warmup + o.duration, 'f', 0)));
        line("pings sent", grouped(double(c.pingsSent)));
        break;
    }
    if (r.latency.count() > 0)
        line("latency",
             u"p50 %1  p99 %2  p99.9 %3  max %4  (%5 samples)"_s.arg(
                 duration(r.latency.percentile(50)), duration(r.latency.percentile(99)),
                 duration(r.latency.percentile(99.9)), duration(r.latency.max()),
                 grouped(double(r.latency.count()))));
    if (r.serverWindowEnd)
        line("server",
             u"CPU %1 cores, RSS %2 before, %3 at the end (peak %4)"_s.arg(
                 QString::number(r.serverCpu, 'f', 2),
                 r.serverBefore ? megabytes(r.serverBefore->rssKb) : u"?"_s,
                 megabytes(r.serverWindowEnd->rssKb), megabytes(r.serverPeakRssKb)));
    line("generator",
         u"CPU %1 cores (%2 thread%3, %4 CPU%5 allowed)%6"_s
             .arg(QString::number(r.generatorCpu, 'f', 2))
             .arg(r.threads)
             .arg(r.threads == 1 ? ""_L1 : "s"_L1)
             .arg(allowedCpus())
             .arg(allowedCpus() == 1 ? ""_L1 : "s"_L1)
             .arg(generatorSaturated(r) ? u" SATURATED: the generator may be the bottleneck"_s
                                        : QString()));
    if (r.receiveDelay.count() > 0)
        line("read delay",
             u"p50 %1  p99 %2  max %3 (kernel receive to read; not in the latency)"_s.arg(
                 duration(r.receiveDelay.percentile(50)), duration(r.receiveDelay.percentile(99)),
                 duration(r.receiveDelay.max())));
    else if (o.kernelTimestamps && r.counters.bytesIn > 0)
        line("read delay", u"no kernel receive timestamps: latency counted from epoll"_s);
    line("errors",
         u"%1 (failed connections %2, error completions %3, closed %4, protocol %5, timeouts %6)"_s
             .arg(grouped(double(c.errors())))
             .arg(c.failedConnections)
             .arg(c.errorCompletions)
             .arg(c.closedByServer)
             .arg(c.protocolErrors)
             .arg(c.timeouts));
    for (const QByteArray &e : r.errorSamples)
        std::printf("    %s\n", e.constData());
    if (!r.abortReason.isEmpty())
        std::printf("  ABORTED: %s\n", r.abortReason.constData());
    std::fflush(stdout);
}

QJsonObject toJson(const Results &r)
{
    const Options &o = r.options;
    const Counters &c = r.counters;
    auto us = [](uint64_t ns) { return double(ns) / 1e3; };
    QJsonObject j;
    j["tool"_L1] = u"heliograph-bench"_s;
    j["qtVersion"_L1] = QString::fromLatin1(qVersion());
    j["os"_L1] = QSysInfo::prettyProductName();
    j["scenario"_L1] = QString::fromLatin1(scenarioName(o.scenario));
    j["protocol"_L1] = QString::fromLatin1(o.protocol->name());
    j["url"_L1] = QString::fromUtf8(o.url);
    j["hubPath"_L1] = QString::fromUtf8(o.hubPath);
    j["connections"_L1] = r.connections;
    j["threads"_L1] = r.threads;
    j["cpusAllowed"_L1] = allowedCpus();
    j["payloadBytes"_L1] = std::max(o.payload, 20);
    j["durationSeconds"_L1] = o.duration;
    j["warmupSeconds"_L1] = o.warmup;
    j["windowSeconds"_L1] = r.windowSeconds;
    j["rate"_L1] = o.rate;
    j["inflight"_L1] = o.inflight;
    j["concurrency"_L1] = o.concurrency;
    j["warmupConnections"_L1] = o.warmupConnections;
    j["sourceAddresses"_L1] = r.sourceAddresses;

    j["established"_L1] = double(c.established);
    j["failedConnections"_L1] = double(c.failedConnections);
    j["errorCompletions"_L1] = double(c.errorCompletions);
    j["closedByServer"_L1] = double(c.closedByServer);
    j["protocolErrors"_L1] = double(c.protocolErrors);
    j["timeouts"_L1] = double(c.timeouts);
    j["errors"_L1] = double(c.errors());
    QJsonArray samples;
    for (const QByteArray &e : r.errorSamples)
        samples.append(QString::fromUtf8(e));
    j["errorSamples"_L1] = samples;
    j["aborted"_L1] = QString::fromUtf8(r.abortReason);

    j["throughput"_L1] = r.throughput();
    j["roundTrips"_L1] = double(c.roundTrips);
    j["roundTripsPerSec"_L1] = o.scenario == Scenario::Echo ? r.throughput() : 0.0;
    j["deliveries"_L1] = double(c.deliveries);
    j["deliveriesPerSec"_L1] = o.scenario == Scenario::Fanout ? r.throughput() : 0.0;
    j["broadcastsSent"_L1] = double(c.broadcastsSent);
    j["expectedDeliveries"_L1] = double(c.broadcastsInWindow) * r.connections;
    j["connectsPerSec"_L1] = o.scenario == Scenario::Connect ? r.throughput() : 0.0;
    j["setupSeconds"_L1] = r.setupSeconds;
    j["setupP50Us"_L1] = us(r.setupLatency.percentile(50));
    j["setupP99Us"_L1] = us(r.setupLatency.percentile(99));
    j["pingsSent"_L1] = double(c.pingsSent);
    j["bytesIn"_L1] = double(c.bytesIn);
    j["bytesOut"_L1] = double(c.bytesOut);

    j["latencySamples"_L1] = double(r.latency.count());
    j["latencyP50Us"_L1] = us(r.latency.percentile(50));
    j["latencyP99Us"_L1] = us(r.latency.percentile(99));
    j["latencyP999Us"_L1] = us(r.latency.percentile(99.9));
    j["latencyMaxUs"_L1] = us(r.latency.max());
    j["latencyMeanUs"_L1] = r.latency.mean() / 1e3;

    j["serverPid"_L1] = int(o.serverPid);
    j["serverCpu"_L1] = r.serverCpu;
    j["serverRssBeforeKb"_L1] = r.serverBefore ? double(r.serverBefore->rssKb) : 0.0;
    j["serverRssWindowStartKb"_L1] = r.serverWindowStart ? double(r.serverWindowStart->rssKb) : 0.0;
    j["serverRssEndKb"_L1] = r.serverWindowEnd ? double(r.serverWindowEnd->rssKb) : 0.0;
    j["serverRssPeakKb"_L1] = double(r.serverPeakRssKb);
    j["rssPerConnectionBytes"_L1] = rssPerConnection(r);
    j["generatorCpu"_L1] = r.generatorCpu;
    j["generatorSaturated"_L1] = generatorSaturated(r);
    j["kernelTimestamps"_L1] = o.kernelTimestamps;
    j["badTimestamps"_L1] = double(c.badTimestamps);
    j["receiveDelayP50Us"_L1] = us(r.receiveDelay.percentile(50));
    j["receiveDelayP99Us"_L1] = us(r.receiveDelay.percentile(99));
    j["receiveDelayMaxUs"_L1] = us(r.receiveDelay.max());
    return j;
}

} // namespace

int main(int argc, char **argv)
{
    Options opt;
    QString jsonFile;
    bool strict = false;
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView a(argv[i]);
        if (a == "--help" || a == "-h") {
            std::fputs(Usage, stdout);
            return 0;
        }
        if (a == "--strict") {
            strict = true;
            continue;
        }
        if (a == "--quiet") {
            opt.quiet = true;
            continue;
        }
        if (a == "--no-kernel-timestamps") {
            opt.kernelTimestamps = false;
            continue;
        }
        if (i + 1 >= argc)
            usageError("unknown option or missing value: ", argv[i]);
        const char *v = argv[++i];
        const QByteArrayView value(v);
        if (a == "--scenario") {
            if (value == "echo")
                opt.scenario = Scenario::Echo;
            else if (value == "fanout")
                opt.scenario = Scenario::Fanout;
            else if (value == "idle")
                opt.scenario = Scenario::Idle;
            else if (value == "connect")
                opt.scenario = Scenario::Connect;
            else
                usageError("unknown scenario ", v);
        } else if (a == "--protocol") {
            opt.protocol = HubProtocol::find(value);
            if (!opt.protocol)
                usageError("unknown protocol ", v);
        } else if (a == "--url") {
            opt.url = value.toByteArray();
        } else if (a == "--connections") {
            opt.connections = int(number(v, "--connections", 1));
        } else if (a == "--duration") {
            opt.duration = number(v, "--duration", 0.1);
        } else if (a == "--warmup") {
            opt.warmup = number(v, "--warmup", 0);
        } else if (a == "--threads") {
            opt.threads = int(number(v, "--threads", 1));
        } else if (a == "--payload") {
            opt.payload = int(number(v, "--payload", 0));
        } else if (a == "--rate") {
            opt.rate = number(v, "--rate", 0.001);
        } else if (a == "--inflight") {
            opt.inflight = int(number(v, "--inflight", 1));
        } else if (a == "--warmup-connections") {
            opt.warmupConnections = int(number(v, "--warmup-connections", 0));
        } else if (a == "--concurrency") {
            opt.concurrency = int(number(v, "--concurrency", 1));
        } else if (a == "--source-addresses") {
            opt.sourceAddresses = int(number(v, "--source-addresses", 1));
            if (opt.sourceAddresses > 250)
                usageError("at most 250 source addresses");
        } else if (a == "--server-pid") {
            opt.serverPid = pid_t(number(v, "--server-pid", 1));
        } else if (a == "--ping-interval") {
            opt.pingInterval = number(v, "--ping-interval", 0.1);
        } else if (a == "--setup-timeout") {
            opt.setupTimeout = number(v, "--setup-timeout", 1);
        } else if (a == "--json") {
            jsonFile = QString::fromLocal8Bit(v);
        } else {
            usageError("unknown option ", argv[i - 1]);
        }
    }
    if (const QByteArray error = resolveUrl(opt); !error.isEmpty())
        usageError(error.constData());

    // One descriptor per connection plus a few per thread: raise the soft limit to the hard one.
    const int connections
        = (opt.connections > 0 ? opt.connections : defaultConnections(opt.scenario))
        + (opt.scenario == Scenario::Connect ? opt.warmupConnections : 0);
    rlimit lim {};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur != RLIM_INFINITY && rlim_t(connections) + 64 > lim.rlim_cur) {
        std::fprintf(stderr,
                     "heliograph-bench: %d connections need more open files than the limit of "
                     "%llu (ulimit -n)\n",
                     connections, static_cast<unsigned long long>(lim.rlim_cur));
        return 2;
    }

    const Results r = run(opt);
    printHuman(r);
    if (!jsonFile.isEmpty()) {
        QFile f(jsonFile);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            std::fprintf(stderr, "heliograph-bench: cannot write %s\n", qPrintable(jsonFile));
            return 1;
        }
        f.write(QJsonDocument(toJson(r)).toJson(QJsonDocument::Indented));
    }
    if (!r.abortReason.isEmpty())
        return 1;
    if (strict) {
        const bool zero = opt.scenario == Scenario::Idle ? false : !(r.throughput() > 0);
        const bool incomplete = r.counters.established + r.counters.warmupEstablished
            < uint64_t(r.connections) + uint64_t(r.options.warmupConnections)
                + (opt.scenario == Scenario::Fanout ? 1 : 0);
        if (r.counters.errors() > 0 || zero || incomplete) {
            std::fprintf(stderr, "heliograph-bench: --strict: %s\n",
                         r.counters.errors() > 0 ? "errors were reported"
                             : zero              ? "zero throughput"
                                                 : "not every connection was established");
            return 3;
        }
    }
    return 0;
}
