// SPDX-License-Identifier: MIT
// The load generator behind heliograph-bench: SignalR clients (negotiate, WebSocket upgrade,
// handshake, hub messages through the protocol core) on raw non-blocking sockets, one epoll
// loop per thread, and the scenarios that drive them.
#pragma once

#include "histogram.h"
#include "procstats.h"

#include <heliograph/protocol/hubprotocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

#include <cstdint>
#include <netinet/in.h>
#include <optional>
#include <sys/types.h>

namespace Heliograph::Bench {

enum class Scenario : uint8_t { Echo, Fanout, Idle, Connect };

const char *scenarioName(Scenario s) noexcept;

struct Options {
    Scenario scenario = Scenario::Echo;
    const HubProtocol *protocol = &HubProtocol::json();
    QByteArray url = "http://127.0.0.1:5000";
    QByteArray host; ///< for the Host header: host[:port]
    QByteArray hubPath = "/hubs/bench";
    sockaddr_in target {};
    int connections = 0; ///< 0: the scenario's default
    double duration = 10; ///< seconds measured
    double warmup = 2; ///< seconds of traffic before the measured window
    int threads = 0; ///< 0: the CPUs this process may run on
    int payload = 256; ///< bytes of the payload string (at least the timestamp)
    double rate = 10; ///< fan-out: broadcasts per second
    int inflight = 1; ///< echo: outstanding invocations per connection
    int concurrency = 100; ///< connections being set up at a time
    int warmupConnections = 0; ///< connect: opened (and kept) before the measured ones
    int sourceAddresses = 0; ///< 0: auto (127.0.0.2.. when ports would run short), 1: none
    pid_t serverPid = 0;
    double connectTimeout = 30; ///< seconds one connection may take to become ready
    double setupTimeout = 300; ///< seconds for all connections to become ready
    double pingInterval = 15; ///< keep-alive Ping when nothing was sent for this long
    double serverTimeout = 30; ///< a connection that hears nothing for this long failed
    bool kernelTimestamps = true; ///< latency from SO_TIMESTAMPNS receive timestamps
    bool quiet = false;
};

/// Counters of one worker, summed at the end.
struct Counters {
    uint64_t established = 0; ///< connections that became ready (without warm-up ones)
    uint64_t warmupEstablished = 0; ///< connect: warm-up connections that became ready
    uint64_t failedConnections = 0; ///< could not connect, negotiate, upgrade, handshake, join
    uint64_t errorCompletions = 0; ///< Completions with an error
    uint64_t closedByServer = 0; ///< Close message, WebSocket close or EOF while running
    uint64_t protocolErrors = 0; ///< unreadable frames or messages, unexpected answers
    uint64_t timeouts = 0; ///< nothing heard from the server for serverTimeout
    uint64_t roundTrips = 0; ///< echo: completions inside the window
    uint64_t deliveries = 0; ///< fan-out: Receive invocations inside the window
    uint64_t broadcastsSent = 0; ///< fan-out: BroadcastToGroup invocations (all)
    uint64_t broadcastsInWindow = 0; ///< fan-out: sent inside the window
    uint64_t pingsSent = 0;
    uint64_t badTimestamps = 0; ///< reads without a usable kernel receive timestamp
    uint64_t bytesIn = 0;
    uint64_t bytesOut = 0;

    void add(const Counters &o);
    uint64_t errors() const noexcept
    {
        return failedConnections + errorCompletions + closedByServer + protocolErrors + timeouts;
    }
};

struct Results {
    Options options;
    int connections = 0; ///< requested (without the fan-out sender)
    int threads = 0;
    int sourceAddresses = 1;
    Counters counters;
    Histogram latency; ///< ns: echo round trip or fan-out delivery, inside the window
    Histogram setupLatency; ///< ns: socket() to ready (handshake done, group joined)
    /// ns: kernel receive timestamp to the read (the generator's own queueing delay)
    Histogram receiveDelay;
    double setupSeconds = 0; ///< first connection started to last one ready
    double windowSeconds = 0; ///< measured window (0 for connect)
    std::optional<ProcSample> serverBefore; ///< before any connection was opened
    std::optional<ProcSample> serverWindowStart;
    std::optional<ProcSample> serverWindowEnd;
    uint64_t serverPeakRssKb = 0;
    double serverCpu = -1; ///< CPU seconds per second over the window; -1 unknown
    double generatorCpu = 0; ///< same for this process
    QList<QByteArray> errorSamples; ///< the first few error texts
    QByteArray abortReason; ///< set if the run could not proceed

    /// Headline throughput of the scenario (round trips/s, deliveries/s, connections/s; 0 for
    /// idle).
    double throughput() const;
};

/// Parses `http://host[:port][/path]` into the options (target address, Host header, hub
/// path). Returns an error text or an empty string.
QByteArray resolveUrl(Options &options);

/// The CPUs this process may run on (its affinity mask).
int allowedCpus();

/// Default connection count per scenario.
int defaultConnections(Scenario s) noexcept;

/// Runs the scenario. Progress goes to stderr unless quiet.
Results run(const Options &options);

} // namespace Heliograph::Bench
