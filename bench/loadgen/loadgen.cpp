// SPDX-License-Identifier: MIT
#include "loadgen.h"

#include "wsclient.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubmessage.h>
#include <heliograph/protocol/negotiate.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace Heliograph::Bench {

const char *scenarioName(Scenario s) noexcept
{
    switch (s) {
    case Scenario::Echo:
        return "echo";
    case Scenario::Fanout:
        return "fanout";
    case Scenario::Idle:
        return "idle";
    case Scenario::Connect:
        return "connect";
    }
    return "?";
}

int defaultConnections(Scenario s) noexcept
{
    switch (s) {
    case Scenario::Echo:
        return 100;
    case Scenario::Fanout:
        return 1000;
    case Scenario::Idle:
        return 10000;
    case Scenario::Connect:
        return 2000;
    }
    return 100;
}

void Counters::add(const Counters &o)
{
    established += o.established;
    warmupEstablished += o.warmupEstablished;
    failedConnections += o.failedConnections;
    errorCompletions += o.errorCompletions;
    closedByServer += o.closedByServer;
    protocolErrors += o.protocolErrors;
    timeouts += o.timeouts;
    roundTrips += o.roundTrips;
    deliveries += o.deliveries;
    broadcastsSent += o.broadcastsSent;
    broadcastsInWindow += o.broadcastsInWindow;
    pingsSent += o.pingsSent;
    badTimestamps += o.badTimestamps;
    bytesIn += o.bytesIn;
    bytesOut += o.bytesOut;
}

double Results::throughput() const
{
    switch (options.scenario) {
    case Scenario::Echo:
        return windowSeconds > 0 ? double(counters.roundTrips) / windowSeconds : 0;
    case Scenario::Fanout:
        return windowSeconds > 0 ? double(counters.deliveries) / windowSeconds : 0;
    case Scenario::Connect:
        return setupSeconds > 0 ? double(counters.established) / setupSeconds : 0;
    case Scenario::Idle:
        return 0;
    }
    return 0;
}

QByteArray resolveUrl(Options &o)
{
    QByteArrayView rest(o.url);
    if (rest.startsWith("https://") || rest.startsWith("wss://"))
        return "TLS is not supported: use an http:// URL";
    if (rest.startsWith("http://"))
        rest = rest.sliced(7);
    else if (rest.startsWith("ws://"))
        rest = rest.sliced(5);
    else
        return "the URL must start with http://";
    const qsizetype slash = rest.indexOf('/');
    QByteArrayView authority = slash < 0 ? rest : rest.first(slash);
    if (slash >= 0 && rest.size() > slash + 1) {
        QByteArray path = rest.sliced(slash).toByteArray();
        while (path.size() > 1 && path.endsWith('/'))
            path.chop(1);
        o.hubPath = path;
    }
    QByteArray hostName = authority.toByteArray();
    int port = 80;
    const qsizetype colon = authority.lastIndexOf(':');
    if (colon >= 0) {
        bool ok = false;
        port = authority.sliced(colon + 1).toInt(&ok);
        if (!ok || port <= 0 || port > 65535)
            return "bad port in the URL";
        hostName = authority.first(colon).toByteArray();
    }
    if (hostName.isEmpty())
        return "no host in the URL";
    addrinfo hints {};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *res = nullptr;
    if (getaddrinfo(hostName.constData(), nullptr, &hints, &res) != 0 || !res)
        return "cannot resolve " + hostName + " to an IPv4 address";
    std::memcpy(&o.target, res->ai_addr, sizeof(sockaddr_in));
    freeaddrinfo(res);
    o.target.sin_port = htons(uint16_t(port));
    o.host = authority.toByteArray();
    return {};
}

namespace {

constexpr int64_t Second = 1'000'000'000;
constexpr qsizetype MaxFrame = 16 * 1024 * 1024;
constexpr qsizetype ReadChunk = 256 * 1024;
constexpr int TimestampDigits = 20;

enum class Phase : int { Setup, Running, Stopping };

/// What the main thread and the workers share. Workers only read the options and the window;
/// they report progress through the counters.
struct Shared {
    const Options *options = nullptr;
    std::atomic<Phase> phase {Phase::Setup};
    std::atomic<int64_t> runStart {0};
    std::atomic<int64_t> windowStart {INT64_MAX};
    std::atomic<int64_t> windowEnd {0};
    std::atomic<int> ready {0};
    std::atomic<int> failed {0};
};

// --- payloads -------------------------------------------------------------------------------

/// The payload string: the send time as 20 decimal digits (steady_clock ns), a space, then
/// padding up to `size` bytes.
QByteArray makePayload(int64_t sentNs, int size)
{
    QByteArray p(std::max(size, TimestampDigits), 'x');
    char *d = p.data();
    auto v = uint64_t(sentNs);
    for (int i = TimestampDigits - 1; i >= 0; --i) {
        d[i] = char('0' + v % 10);
        v /= 10;
    }
    if (p.size() > TimestampDigits)
        d[TimestampDigits] = ' ';
    return p;
}

/// The send time in a payload, or -1 if it does not start with 20 digits.
int64_t payloadTimestamp(QByteArrayView p) noexcept
{
    if (p.size() < TimestampDigits)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < TimestampDigits; ++i) {
        const char c = p[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + uint64_t(c - '0');
    }
    return int64_t(v);
}

// --- HTTP responses -------------------------------------------------------------------------

struct ResponseHead {
    enum class Status : uint8_t { Incomplete, Complete, Invalid };
    Status status = Status::Incomplete;
    int code = 0;
    qsizetype headerSize = 0; ///< through the blank line
    qsizetype contentLength = -1;
    bool connectionClose = false;
    bool chunked = false;
    QByteArray accept; ///< Sec-WebSocket-Accept
};

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b) noexcept
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

ResponseHead parseHead(QByteArrayView data)
{
    ResponseHead h;
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        if (data.size() > 64 * 1024)
            h.status = ResponseHead::Status::Invalid;
        return h;
    }
    h.headerSize = end + 4;
    QByteArrayView head = data.first(end);
    qsizetype lineEnd = head.indexOf("\r\n");
    QByteArrayView statusLine = lineEnd < 0 ? head : head.first(lineEnd);
    if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12) {
        h.status = ResponseHead::Status::Invalid;
        return h;
    }
    bool ok = false;
    h.code = statusLine.sliced(9, 3).toInt(&ok);
    if (!ok) {
        h.status = ResponseHead::Status::Invalid;
        return h;
    }
    const bool http10 = statusLine.startsWith("HTTP/1.0");
    bool keepAlive = false;
    while (lineEnd >= 0) {
        const qsizetype start = lineEnd + 2;
        lineEnd = head.indexOf("\r\n", start);
        QByteArrayView line = head.sliced(start, (lineEnd < 0 ? head.size() : lineEnd) - start);
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        QByteArrayView name = line.first(colon).trimmed();
        QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (equalsIgnoringCase(name, "content-length")) {
            h.contentLength = value.toLongLong(&ok);
            if (!ok || h.contentLength < 0) {
                h.status = ResponseHead::Status::Invalid;
                return h;
            }
        } else if (equalsIgnoringCase(name, "connection")) {
            const QByteArray v = value.toByteArray().toLower();
            h.connectionClose |= v.contains("close");
            keepAlive |= v.contains("keep-alive");
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            h.chunked = value.toByteArray().toLower().contains("chunked");
        } else if (equalsIgnoringCase(name, "sec-websocket-accept")) {
            h.accept = value.toByteArray();
        }
    }
    if (http10 && !keepAlive)
        h.connectionClose = true;
    h.status = ResponseHead::Status::Complete;
    return h;
}

// --- connections ----------------------------------------------------------------------------

enum class Role : uint8_t { Client, Receiver, Sender };

enum class State : uint8_t {
    Pending, ///< not started yet
    TcpConnecting, ///< for the negotiate request
    Negotiating,
    TcpReconnecting, ///< the server closed after negotiate: a new connection for the upgrade
    Upgrading,
    Handshaking,
    Open,
    Closed,
};

struct Connection {
    explicit Connection(const HubProtocol &protocol)
        : reader(protocol, MaxFrame)
    { }

    int fd = -1;
    int index = 0; ///< global, 0-based; the user id is "u<index>"
    Role role = Role::Client;
    State state = State::Pending;
    bool ready = false; ///< counted as established
    bool warmup = false; ///< connect: opened before the measured ones
    bool dirty = false; ///< in the worker's flush list
    bool wantWrite = false; ///< output left over after EAGAIN
    int outstanding = 0; ///< invocations without a Completion
    uint64_t nextInvocationId = 0;
    int64_t startNs = 0;
    int64_t lastSendNs = 0;
    int64_t lastReceiveNs = 0;
    QByteArray in; ///< unparsed input (HTTP head or partial WebSocket frame)
    QByteArray out; ///< output not yet written
    qsizetype outPos = 0;
    QByteArray token; ///< connection token from negotiate
    QByteArray wsKey;
    QByteArray handshakeBuffer; ///< hub bytes until the handshake response is complete
    MessageReader reader;
};

class Worker {
public:
    Worker(Shared &shared, int index, std::vector<std::unique_ptr<Connection>> connections,
           int concurrency)
        : m_shared(shared)
        , m_opt(*shared.options)
        , m_proto(*m_opt.protocol)
        , m_connections(std::move(connections))
        , m_concurrency(std::max(1, concurrency))
        , m_rng(0x9E3779B97F4A7C15ULL * uint64_t(index + 1) ^ uint64_t(nowNs()))
    {
        m_opcode = m_proto.transferFormat() == TransferFormat::Binary ? Ws::Opcode::Binary
                                                                      : Ws::Opcode::Text;
        m_ping = m_proto.serialize(PingMessage {});
        m_scratch.reserve(64 * 1024);
        for (auto &c : m_connections) {
            if (c->role == Role::Sender)
                m_sender = c.get();
            if (c->warmup)
                ++m_startLimit;
        }
        // The connect scenario opens its warm-up connections first and the measured ones
        // when the run starts; the others open everything at once.
        if (m_opt.scenario != Scenario::Connect)
            m_startLimit = m_connections.size();
    }

    ~Worker()
    {
        if (m_thread.joinable())
            m_thread.join();
        if (m_epoll >= 0)
            ::close(m_epoll);
        if (m_wake >= 0)
            ::close(m_wake);
    }

    bool init(QByteArray &error)
    {
        m_epoll = epoll_create1(EPOLL_CLOEXEC);
        m_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_epoll < 0 || m_wake < 0) {
            error = QByteArray("epoll/eventfd: ") + std::strerror(errno);
            return false;
        }
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
        return true;
    }

    void start()
    {
        m_thread = std::thread([this] { run(); });
    }
    void wake()
    {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(m_wake, &one, sizeof one);
    }
    void join()
    {
        if (m_thread.joinable())
            m_thread.join();
    }

    const Counters &counters() const { return m_counters; }
    const Histogram &latency() const { return m_latency; }
    const Histogram &setupLatency() const { return m_setupLatency; }
    const Histogram &receiveDelay() const { return m_receiveDelay; }
    const QList<QByteArray> &errorSamples() const { return m_errorSamples; }
    int64_t firstStartNs() const { return m_firstStartNs; }
    int64_t lastReadyNs() const { return m_lastReadyNs; }

private:
    enum class Failure : uint8_t { Setup, Closed, Protocol, Timeout };

    // --- the loop -------------------------------------------------------------------------

    void run()
    {
        std::vector<epoll_event> events(1024);
        Phase seen = Phase::Setup;
        int64_t nextTick = nowNs() + Second;
        for (;;) {
            // New connections as earlier ones become ready or fail (synchronous failures
            // free their slot at once, so this loop keeps going until the slots are taken).
            startPending(nowNs());
            int64_t now = nowNs();
            int64_t wait = nextTick - now;
            if (m_sender && m_senderActive)
                wait = std::min(wait, m_nextBroadcastNs - now);
            const int timeoutMs = wait <= 0 ? 0 : int((wait + 999'999) / 1'000'000);
            const int n = epoll_wait(m_epoll, events.data(), int(events.size()), timeoutMs);
            // One timestamp for the whole batch: every socket in it had its data when
            // epoll_wait returned, so the time spent on earlier sockets of the batch does not
            // count against later ones.
            now = nowNs();
            if (m_opt.kernelTimestamps)
                m_realtimeOffset = realtimeNs() - now;
            for (int i = 0; i < n; ++i) {
                auto *c = static_cast<Connection *>(events[size_t(i)].data.ptr);
                if (!c) {
                    uint64_t v;
                    [[maybe_unused]] auto r = ::read(m_wake, &v, sizeof v);
                    continue;
                }
                handleEvent(*c, events[size_t(i)].events, now);
            }
            const Phase phase = m_shared.phase.load(std::memory_order_acquire);
            if (phase != seen) {
                seen = phase;
                if (phase == Phase::Running)
                    onRunStart(nowNs());
                else if (phase == Phase::Stopping)
                    break;
            }
            if (m_senderActive)
                paceBroadcasts(nowNs());
            now = nowNs();
            if (now >= nextTick) {
                tick(now);
                nextTick = now + Second;
            }
            flushDirty();
        }
        closeAll();
    }

    void handleEvent(Connection &c, uint32_t ev, int64_t now)
    {
        if (c.fd < 0)
            return;
        if (c.state == State::TcpConnecting || c.state == State::TcpReconnecting) {
            if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                return;
            onTcpConnected(c, now);
            if (c.fd < 0)
                return;
        }
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            readInput(c, ev, now);
        if (c.fd >= 0 && (ev & EPOLLOUT) && c.wantWrite)
            flush(c);
    }

    void readInput(Connection &c, uint32_t ev, int64_t now)
    {
        const bool drain = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
        for (;;) {
            iovec iov {m_readBuffer.get(), size_t(ReadChunk)};
            msghdr msg {};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            if (m_opt.kernelTimestamps) {
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
            }
            const ssize_t n = ::recvmsg(c.fd, &msg, 0);
            if (n > 0) {
                m_counters.bytesIn += uint64_t(n);
                const int64_t received = receiveTime(msg, now);
                c.lastReceiveNs = received;
                processInput(c, QByteArrayView(m_readBuffer.get(), qsizetype(n)), received);
                if (c.fd < 0)
                    return;
                // A short read emptied the socket; edge-triggered epoll reports new data.
                if (n < ReadChunk && !drain)
                    return;
                continue;
            }
            if (n == 0) {
                fail(c, Failure::Closed, "the server closed the connection");
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fail(c, Failure::Closed, QByteArray("recv: ") + std::strerror(errno));
            return;
        }
    }

    /// When the data of a read arrived: the kernel's receive timestamp (SO_TIMESTAMPNS, the
    /// arrival of the last segment read, in CLOCK_REALTIME) moved to the steady clock, so that
    /// the time this loop spends on other sockets is not counted as latency. Without one, the
    /// time epoll reported the batch.
    int64_t receiveTime(msghdr &msg, int64_t batchNow)
    {
        if (!m_opt.kernelTimestamps)
            return batchNow;
        for (cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
                continue;
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            const int64_t received = int64_t(ts.tv_sec) * Second + ts.tv_nsec - m_realtimeOffset;
            const int64_t readAt = nowNs();
            // Sanity: not in the future, not older than the batch by more than a second.
            if (received > readAt || batchNow - received > Second) {
                ++m_counters.badTimestamps;
                return batchNow;
            }
            m_receiveDelay.record(uint64_t(readAt - received));
            return received;
        }
        ++m_counters.badTimestamps;
        return batchNow;
    }

    void tick(int64_t now)
    {
        const auto connectTimeout = int64_t(m_opt.connectTimeout * double(Second));
        const auto pingInterval = int64_t(m_opt.pingInterval * double(Second));
        const auto serverTimeout = int64_t(m_opt.serverTimeout * double(Second));
        for (auto &cp : m_connections) {
            Connection &c = *cp;
            if (c.fd < 0)
                continue;
            if (!c.ready && now - c.startNs > connectTimeout) {
                fail(c, Failure::Timeout, "connection setup timed out");
                continue;
            }
            if (c.state != State::Open)
                continue;
            if (now - c.lastReceiveNs > serverTimeout) {
                fail(c, Failure::Timeout, "server timeout: nothing received for 30 s");
                continue;
            }
            if (now - c.lastSendNs >= pingInterval) {
                sendHubBytes(c, m_ping, now);
                ++m_counters.pingsSent;
            }
        }
    }

    // --- connection setup -----------------------------------------------------------------

    void startPending(int64_t now)
    {
        if (m_shared.phase.load(std::memory_order_relaxed) == Phase::Stopping)
            return;
        while (m_inSetup < m_concurrency && m_nextPending < m_startLimit) {
            Connection &c = *m_connections[m_nextPending++];
            ++m_inSetup;
            c.startNs = now;
            if (m_firstStartNs == 0 && !c.warmup)
                m_firstStartNs = now;
            openSocket(c, State::TcpConnecting);
        }
    }

    void openSocket(Connection &c, State state)
    {
        c.state = state;
        c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            fail(c, Failure::Setup, QByteArray("socket: ") + std::strerror(errno));
            return;
        }
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (m_opt.kernelTimestamps)
            setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        if (m_opt.sourceAddresses > 1) {
            // 127.0.0.2, 127.0.0.3, ...: each source address has its own ephemeral ports.
            // IP_BIND_ADDRESS_NO_PORT leaves the port choice to connect(), which only needs the
            // whole 4-tuple to be unique.
            setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            sockaddr_in src {};
            src.sin_family = AF_INET;
            src.sin_addr.s_addr
                = htonl((127u << 24) | uint32_t(2 + c.index % m_opt.sourceAddresses));
            if (::bind(c.fd, reinterpret_cast<sockaddr *>(&src), sizeof src) != 0) {
                fail(c, Failure::Setup, QByteArray("bind: ") + std::strerror(errno));
                return;
            }
        }
        epoll_event ev {};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = &c;
        if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
            fail(c, Failure::Setup, QByteArray("epoll_ctl: ") + std::strerror(errno));
            return;
        }
        const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr *>(&m_opt.target),
                                 sizeof m_opt.target);
        if (rc != 0 && errno != EINPROGRESS) {
            const int e = errno;
            fail(c, Failure::Setup,
                 QByteArray("connect: ") + std::strerror(e)
                     + (e == EADDRNOTAVAIL ? " (out of ephemeral ports: use --source-addresses)"
                                           : ""));
        }
    }

    void onTcpConnected(Connection &c, int64_t now)
    {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(c, Failure::Setup,
                 QByteArray("connect: ") + std::strerror(err)
                     + (err == EADDRNOTAVAIL ? " (out of ephemeral ports: use --source-addresses)"
                                             : ""));
            return;
        }
        if (c.state == State::TcpConnecting) {
            c.state = State::Negotiating;
            QByteArray req;
            req.reserve(256);
            req += "POST " + m_opt.hubPath + "/negotiate?user=u" + QByteArray::number(c.index)
                + "&negotiateVersion=1 HTTP/1.1\r\nHost: " + m_opt.host
                + "\r\nContent-Length: 0\r\nX-Requested-With: XMLHttpRequest\r\n"
                  "User-Agent: heliograph-bench\r\n\r\n";
            sendRaw(c, req, now);
        } else {
            sendUpgrade(c, now);
        }
    }

    void sendUpgrade(Connection &c, int64_t now)
    {
        c.state = State::Upgrading;
        c.wsKey = Ws::newKey(m_rng);
        QByteArray req;
        req.reserve(320);
        req += "GET " + m_opt.hubPath + "?user=u" + QByteArray::number(c.index) + "&id=" + c.token
            + " HTTP/1.1\r\nHost: " + m_opt.host
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.wsKey
            + "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: heliograph-bench\r\n\r\n";
        sendRaw(c, req, now);
    }

    void processInput(Connection &c, QByteArrayView data, int64_t now)
    {
        switch (c.state) {
        case State::Negotiating:
            c.in.append(data);
            onNegotiateBytes(c, now);
            return;
        case State::Upgrading:
            c.in.append(data);
            onUpgradeBytes(c, now);
            return;
        case State::Handshaking:
        case State::Open:
            processFrames(c, data, now);
            return;
        default:
            fail(c, Failure::Protocol, "data before the request was sent");
            return;
        }
    }

    void onNegotiateBytes(Connection &c, int64_t now)
    {
        const ResponseHead h = parseHead(c.in);
        if (h.status == ResponseHead::Status::Incomplete)
            return;
        if (h.status == ResponseHead::Status::Invalid) {
            fail(c, Failure::Setup, "negotiate: unreadable HTTP response");
            return;
        }
        if (h.chunked) {
            fail(c, Failure::Setup, "negotiate: chunked responses are not supported");
            return;
        }
        const qsizetype bodySize = std::max<qsizetype>(0, h.contentLength);
        if (c.in.size() < h.headerSize + bodySize)
            return;
        if (h.code != 200) {
            fail(c, Failure::Setup, "negotiate: HTTP status " + QByteArray::number(h.code));
            return;
        }
        auto parsed
            = NegotiateResponse::fromJson(QByteArrayView(c.in).sliced(h.headerSize, bodySize));
        if (!parsed) {
            fail(c, Failure::Setup, "negotiate: " + parsed.error().message.toUtf8());
            return;
        }
        if (parsed->error) {
            fail(c, Failure::Setup, "negotiate: " + parsed->error->toUtf8());
            return;
        }
        const bool webSockets = std::any_of(
            parsed->availableTransports.cbegin(), parsed->availableTransports.cend(),
            [this](const AvailableTransport &t) {
                return t.transport == "WebSockets" && t.supports(m_proto.transferFormat());
            });
        if (!webSockets) {
            fail(c, Failure::Setup, "negotiate: WebSockets not offered for this protocol");
            return;
        }
        c.token = parsed->effectiveToken();
        if (c.in.size() > h.headerSize + bodySize) {
            fail(c, Failure::Protocol, "negotiate: unexpected bytes after the response");
            return;
        }
        c.in.clear();
        if (h.connectionClose || h.contentLength < 0) {
            // The server will not take another request on this connection: a new one.
            closeSocket(c);
            openSocket(c, State::TcpReconnecting);
            return;
        }
        sendUpgrade(c, now);
    }

    void onUpgradeBytes(Connection &c, int64_t now)
    {
        const ResponseHead h = parseHead(c.in);
        if (h.status == ResponseHead::Status::Incomplete)
            return;
        if (h.status == ResponseHead::Status::Invalid) {
            fail(c, Failure::Setup, "upgrade: unreadable HTTP response");
            return;
        }
        if (h.code != 101) {
            fail(c, Failure::Setup, "upgrade: HTTP status " + QByteArray::number(h.code));
            return;
        }
        if (h.accept != Ws::acceptKey(c.wsKey)) {
            fail(c, Failure::Setup, "upgrade: wrong Sec-WebSocket-Accept");
            return;
        }
        const QByteArray rest = c.in.sliced(h.headerSize);
        c.in.clear();
        c.wsKey.clear();
        c.state = State::Handshaking;
        sendHubBytes(c, Handshake::writeRequest({QByteArray(m_proto.name().toByteArray()), 1}),
                     now);
        if (!rest.isEmpty())
            processFrames(c, rest, now);
    }

    // --- WebSocket frames and hub messages -----------------------------------------------

    void processFrames(Connection &c, QByteArrayView data, int64_t now)
    {
        const bool buffered = !c.in.isEmpty();
        if (buffered)
            c.in.append(data);
        const QByteArrayView buf = buffered ? QByteArrayView(c.in) : data;
        qsizetype pos = 0;
        while (pos < buf.size()) {
            const Ws::Frame f = Ws::scanFrame(buf.sliced(pos), MaxFrame);
            if (f.status == Ws::Frame::Status::Incomplete)
                break;
            if (f.status == Ws::Frame::Status::Invalid) {
                fail(c, Failure::Protocol, "invalid WebSocket frame from the server");
                return;
            }
            const QByteArrayView payload = buf.sliced(pos + f.headerSize, f.payloadSize);
            pos += f.size();
            switch (f.opcode) {
            case Ws::Opcode::Text:
            case Ws::Opcode::Binary:
            case Ws::Opcode::Continuation:
                // SignalR reads the WebSocket as a byte stream: no reassembly needed.
                onHubBytes(c, payload, now);
                break;
            case Ws::Opcode::Ping:
                Ws::appendClientFrame(c.out, Ws::Opcode::Pong, payload,
                                      uint32_t(Ws::nextRandom(m_rng)));
                markDirty(c);
                break;
            case Ws::Opcode::Pong:
                break;
            case Ws::Opcode::Close:
                fail(c, Failure::Closed, "WebSocket close from the server");
                break;
            default:
                fail(c, Failure::Protocol, "unknown WebSocket opcode");
                break;
            }
            if (c.fd < 0)
                return;
        }
        if (buffered)
            c.in.remove(0, pos);
        else if (pos < buf.size())
            c.in = buf.sliced(pos).toByteArray();
    }

    void onHubBytes(Connection &c, QByteArrayView bytes, int64_t now)
    {
        if (c.state == State::Handshaking) {
            c.handshakeBuffer.append(bytes);
            HandshakeResponse response;
            auto consumed = Handshake::parseResponse(c.handshakeBuffer, response, 64 * 1024);
            if (!consumed) {
                fail(c, Failure::Setup, "handshake: " + consumed.error().message.toUtf8());
                return;
            }
            if (*consumed == 0)
                return;
            if (!response.isSuccess()) {
                fail(c, Failure::Setup, "handshake: " + response.error);
                return;
            }
            const QByteArray rest = c.handshakeBuffer.sliced(*consumed);
            c.handshakeBuffer = QByteArray();
            c.state = State::Open;
            onOpen(c, now);
            if (c.fd >= 0 && !rest.isEmpty())
                feedReader(c, rest, now);
            return;
        }
        feedReader(c, bytes, now);
    }

    void feedReader(Connection &c, QByteArrayView bytes, int64_t now)
    {
        c.reader.append(bytes);
        for (;;) {
            MessageReader::Result r = c.reader.read();
            if (r.status == MessageReader::Status::NeedMoreData)
                return;
            if (r.status == MessageReader::Status::Error) {
                fail(c, Failure::Protocol, "hub protocol: " + r.error.message.toUtf8());
                return;
            }
            onMessage(c, *r.message, now);
            if (c.fd < 0)
                return;
        }
    }

    void onMessage(Connection &c, const HubMessage &m, int64_t now)
    {
        if (const auto *completion = std::get_if<CompletionMessage>(&m)) {
            if (c.outstanding > 0)
                --c.outstanding;
            if (completion->kind == CompletionMessage::Kind::Error) {
                ++m_counters.errorCompletions;
                sampleError("error completion: " + completion->error);
                if (!c.ready)
                    fail(c, Failure::Setup, "JoinGroup failed: " + completion->error);
                return;
            }
            if (!c.ready) { // the JoinGroup of a fan-out receiver
                markReady(c, now);
                return;
            }
            if (m_opt.scenario == Scenario::Echo)
                onEchoCompletion(c, *completion, now);
            return;
        }
        if (const auto *invocation = std::get_if<InvocationMessage>(&m)) {
            if (invocation->target != "Receive")
                return;
            const int64_t sent = invocation->arguments.isEmpty()
                ? -1
                : payloadTimestamp(invocation->arguments.front().utf8());
            if (sent < 0) {
                ++m_counters.protocolErrors;
                sampleError("Receive without a timestamped payload");
                return;
            }
            if (inWindow(now)) {
                ++m_counters.deliveries;
                m_latency.record(uint64_t(std::max<int64_t>(0, now - sent)));
            }
            return;
        }
        if (const auto *close = std::get_if<CloseMessage>(&m)) {
            fail(c, Failure::Closed,
                 "Close from the server" + (close->error ? ": " + *close->error : QByteArray()));
            return;
        }
        // Ping, and anything else the server may send, needs no answer.
    }

    void onOpen(Connection &c, int64_t now)
    {
        if (c.role == Role::Receiver) {
            InvocationMessage join;
            join.invocationId = QByteArray::number(++c.nextInvocationId);
            join.target = "JoinGroup";
            join.arguments = {Value("g")};
            sendInvocation(c, join, now);
            return;
        }
        markReady(c, now);
    }

    void markReady(Connection &c, int64_t now)
    {
        c.ready = true;
        if (c.warmup) {
            ++m_counters.warmupEstablished;
        } else {
            ++m_counters.established;
            m_setupLatency.record(uint64_t(now - c.startNs));
            m_lastReadyNs = std::max(m_lastReadyNs, now);
        }
        --m_inSetup;
        m_shared.ready.fetch_add(1, std::memory_order_relaxed);
    }

    // --- scenarios -----------------------------------------------------------------------

    // The window is read from the shared atomics (not cached at the phase change), so that a
    // delivery processed in the same batch as the wake-up already counts.
    bool inWindow(int64_t now) const noexcept
    {
        return now >= m_shared.windowStart.load(std::memory_order_relaxed) && now < windowEnd();
    }
    int64_t windowEnd() const noexcept
    {
        const int64_t end = m_shared.windowEnd.load(std::memory_order_relaxed);
        return end > 0 ? end : INT64_MAX;
    }

    void onRunStart(int64_t now)
    {
        m_startLimit = m_connections.size();
        if (m_opt.scenario == Scenario::Echo) {
            for (auto &c : m_connections)
                if (c->ready && c->fd >= 0)
                    for (int i = 0; i < m_opt.inflight; ++i)
                        sendEcho(*c, now);
        } else if (m_opt.scenario == Scenario::Fanout && m_sender && m_sender->ready) {
            m_senderActive = true;
            m_broadcastStartNs = m_shared.runStart.load(std::memory_order_relaxed);
            m_broadcastIndex = 0;
            m_nextBroadcastNs = m_broadcastStartNs;
        }
    }

    void sendEcho(Connection &c, int64_t now)
    {
        InvocationMessage echo;
        echo.invocationId = QByteArray::number(++c.nextInvocationId);
        echo.target = "Echo";
        echo.arguments = {Value::fromUtf8(makePayload(nowNs(), m_opt.payload))};
        sendInvocation(c, echo, now);
    }

    void onEchoCompletion(Connection &c, const CompletionMessage &completion, int64_t now)
    {
        const QByteArrayView result = completion.result.utf8();
        const int64_t sent = payloadTimestamp(result);
        if (sent < 0 || result.size() != std::max(m_opt.payload, TimestampDigits)) {
            ++m_counters.protocolErrors;
            sampleError("Echo returned something else than the payload");
            return;
        }
        if (inWindow(now)) {
            ++m_counters.roundTrips;
            m_latency.record(uint64_t(std::max<int64_t>(0, now - sent)));
        }
        if (now < windowEnd())
            sendEcho(c, now);
    }

    void paceBroadcasts(int64_t now)
    {
        Connection &s = *m_sender;
        if (s.fd < 0 || now >= windowEnd()) {
            m_senderActive = false;
            return;
        }
        while (m_nextBroadcastNs <= now) {
            InvocationMessage b;
            b.invocationId = QByteArray::number(++s.nextInvocationId);
            b.target = "BroadcastToGroup";
            const int64_t sentAt = nowNs();
            b.arguments = {Value("g"), Value::fromUtf8(makePayload(sentAt, m_opt.payload))};
            sendInvocation(s, b, now);
            ++m_counters.broadcastsSent;
            if (inWindow(sentAt))
                ++m_counters.broadcastsInWindow;
            ++m_broadcastIndex;
            m_nextBroadcastNs
                = m_broadcastStartNs + int64_t(double(m_broadcastIndex) * 1e9 / m_opt.rate);
        }
        flush(s);
    }

    // --- output --------------------------------------------------------------------------

    void sendInvocation(Connection &c, const InvocationMessage &m, int64_t now)
    {
        m_scratch.resize(0);
        m_proto.write(m, m_scratch);
        ++c.outstanding;
        sendHubBytes(c, m_scratch, now);
    }

    void sendHubBytes(Connection &c, QByteArrayView bytes, int64_t now)
    {
        Ws::appendClientFrame(c.out, m_opcode, bytes, uint32_t(Ws::nextRandom(m_rng)));
        c.lastSendNs = now;
        markDirty(c);
    }

    void sendRaw(Connection &c, QByteArrayView bytes, int64_t now)
    {
        c.out.append(bytes);
        c.lastSendNs = now;
        markDirty(c);
    }

    void markDirty(Connection &c)
    {
        if (!c.dirty) {
            c.dirty = true;
            m_dirty.push_back(&c);
        }
    }

    void flushDirty()
    {
        for (size_t i = 0; i < m_dirty.size(); ++i) { // flush() may fail() and append nothing
            Connection *c = m_dirty[i];
            c->dirty = false;
            if (c->fd >= 0)
                flush(*c);
        }
        m_dirty.clear();
    }

    void flush(Connection &c)
    {
        while (c.outPos < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.constData() + c.outPos,
                                     size_t(c.out.size() - c.outPos), MSG_NOSIGNAL);
            if (n > 0) {
                c.outPos += n;
                m_counters.bytesOut += uint64_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                c.wantWrite = true; // EPOLLOUT will come
                return;
            }
            fail(c, Failure::Closed, QByteArray("send: ") + std::strerror(errno));
            return;
        }
        c.wantWrite = false;
        c.outPos = 0;
        c.out.resize(0); // keeps the capacity
    }

    // --- failures and shutdown -----------------------------------------------------------

    void sampleError(const QByteArray &text)
    {
        if (m_errorSamples.size() < 8 && !m_errorSamples.contains(text))
            m_errorSamples.append(text);
    }

    void closeSocket(Connection &c)
    {
        if (c.fd >= 0) {
            ::close(c.fd); // also leaves the epoll set
            c.fd = -1;
        }
        c.out.clear();
        c.outPos = 0;
        c.wantWrite = false;
        c.in.clear();
    }

    void fail(Connection &c, Failure kind, const QByteArray &why)
    {
        const bool stopping = m_shared.phase.load(std::memory_order_relaxed) == Phase::Stopping;
        closeSocket(c);
        c.state = State::Closed;
        if (stopping)
            return;
        sampleError(why);
        if (!c.ready) {
            ++m_counters.failedConnections;
            --m_inSetup;
            m_shared.failed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        switch (kind) {
        case Failure::Setup:
        case Failure::Closed:
            ++m_counters.closedByServer;
            break;
        case Failure::Protocol:
            ++m_counters.protocolErrors;
            break;
        case Failure::Timeout:
            ++m_counters.timeouts;
            break;
        }
    }

    void closeAll()
    {
        // A WebSocket close (1000) where the connection is open, then the socket goes.
        for (auto &cp : m_connections) {
            Connection &c = *cp;
            if (c.fd < 0)
                continue;
            if (c.state == State::Handshaking || c.state == State::Open) {
                const char code[2] = {char(1000 >> 8), char(1000 & 0xFF)};
                QByteArray frame;
                Ws::appendClientFrame(frame, Ws::Opcode::Close, QByteArrayView(code, 2),
                                      uint32_t(Ws::nextRandom(m_rng)));
                [[maybe_unused]] auto n = ::send(c.fd, frame.constData(), size_t(frame.size()),
                                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                ::shutdown(c.fd, SHUT_WR);
            }
            ::close(c.fd);
            c.fd = -1;
            c.state = State::Closed;
        }
    }

    Shared &m_shared;
    const Options &m_opt;
    const HubProtocol &m_proto;
    std::vector<std::unique_ptr<Connection>> m_connections;
    size_t m_nextPending = 0;
    size_t m_startLimit = 0; ///< connections that may be started in the current phase
    int m_inSetup = 0;
    int m_concurrency;
    uint64_t m_rng;
    Ws::Opcode m_opcode = Ws::Opcode::Text;
    QByteArray m_ping;
    QByteArray m_scratch;
    std::unique_ptr<char[]> m_readBuffer {new char[ReadChunk]};
    std::vector<Connection *> m_dirty;
    int m_epoll = -1;
    int m_wake = -1;
    std::thread m_thread;

    Connection *m_sender = nullptr;
    bool m_senderActive = false;
    int64_t m_broadcastStartNs = 0;
    int64_t m_nextBroadcastNs = 0;
    uint64_t m_broadcastIndex = 0;

    Counters m_counters;
    Histogram m_latency;
    Histogram m_setupLatency;
    Histogram m_receiveDelay;
    int64_t m_realtimeOffset = 0; ///< CLOCK_REALTIME - steady clock, per batch
    QList<QByteArray> m_errorSamples;
    int64_t m_firstStartNs = 0;
    int64_t m_lastReadyNs = 0;
};

} // namespace

int allowedCpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return std::max(1, CPU_COUNT(&set));
    return std::max(1, int(std::thread::hardware_concurrency()));
}

namespace {

__attribute__((format(printf, 2, 3))) void progress(const Options &o, const char *fmt, ...)
{
    if (o.quiet)
        return;
    va_list args;
    va_start(args, fmt);
    std::vfprintf(stderr, fmt, args);
    va_end(args);
    std::fflush(stderr);
}

/// Sleeps in short steps until `deadline`, keeping track of the server's peak RSS.
void waitUntil(int64_t deadline, pid_t pid, uint64_t &peakRssKb)
{
    for (;;) {
        const int64_t now = nowNs();
        if (now >= deadline)
            return;
        if (pid > 0)
            if (auto s = sampleProcess(pid))
                peakRssKb = std::max(peakRssKb, s->rssKb);
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(deadline - now, 100'000'000)));
    }
}

} // namespace

Results run(const Options &opt)
{
    Results r;
    r.options = opt;
    r.connections = opt.connections > 0 ? opt.connections : defaultConnections(opt.scenario);
    r.options.connections = r.connections;
    const bool connect = opt.scenario == Scenario::Connect;
    const int warmupConnections = connect ? std::max(0, opt.warmupConnections) : 0;
    r.options.warmupConnections = warmupConnections;
    const int total
        = warmupConnections + r.connections + (opt.scenario == Scenario::Fanout ? 1 : 0);
    r.threads = std::clamp(opt.threads > 0 ? opt.threads : allowedCpus(), 1, total);
    r.sourceAddresses
        = opt.sourceAddresses > 0 ? opt.sourceAddresses : std::max(1, (total + 24999) / 25000);
    r.options.sourceAddresses = r.sourceAddresses;

    Shared shared;
    shared.options = &r.options;

    // Connections are dealt round robin (each worker starts its own in index order); connect's
    // warm-up connections come first, the fan-out sender last.
    std::vector<std::vector<std::unique_ptr<Connection>>> perWorker(size_t(r.threads));
    for (int i = 0; i < total; ++i) {
        auto c = std::make_unique<Connection>(*opt.protocol);
        c->index = i;
        c->warmup = i < warmupConnections;
        if (opt.scenario == Scenario::Fanout)
            c->role = i == r.connections ? Role::Sender : Role::Receiver;
        perWorker[size_t(i % r.threads)].push_back(std::move(c));
    }
    std::vector<std::unique_ptr<Worker>> workers;
    const int concurrencyPerWorker = (std::max(1, opt.concurrency) + r.threads - 1) / r.threads;
    for (int w = 0; w < r.threads; ++w) {
        workers.push_back(std::make_unique<Worker>(shared, w, std::move(perWorker[size_t(w)]),
                                                   concurrencyPerWorker));
        QByteArray error;
        if (!workers.back()->init(error)) {
            r.abortReason = error;
            return r;
        }
    }

    const pid_t pid = opt.serverPid;
    auto sampleServer = [pid]() { return pid > 0 ? sampleProcess(pid) : std::nullopt; };
    r.serverBefore = sampleServer();
    if (r.serverBefore)
        r.serverPeakRssKb = r.serverBefore->rssKb;

    progress(opt, "%s/%s: opening %d connections (%d threads, %d in flight, %d source address%s)\n",
             scenarioName(opt.scenario), opt.protocol->name().toByteArray().constData(), total,
             r.threads, std::max(1, opt.concurrency), r.sourceAddresses,
             r.sourceAddresses > 1 ? "es" : "");
    const int64_t setupStart = nowNs();
    const auto setupDeadline = setupStart + int64_t(opt.setupTimeout * 1e9);
    for (auto &w : workers)
        w->start();

    // Waits until `target` connections are ready or failed.
    auto waitForSetup = [&](int target) {
        int64_t nextReport = nowNs() + 2 * Second;
        for (;;) {
            if (shared.ready.load() + shared.failed.load() >= target)
                return true;
            const int64_t now = nowNs();
            if (now >= setupDeadline) {
                r.abortReason = "connection setup did not finish within "
                    + QByteArray::number(opt.setupTimeout) + " s";
                return false;
            }
            if (now >= nextReport) {
                progress(opt, "  %d ready, %d failed\n", shared.ready.load(), shared.failed.load());
                nextReport = now + 2 * Second;
            }
            waitUntil(std::min(now + 20'000'000, setupDeadline), pid, r.serverPeakRssKb);
        }
    };
    auto startRun = [&](int64_t runStart, int64_t windowStart, int64_t windowEnd) {
        shared.runStart.store(runStart);
        shared.windowStart.store(windowStart);
        shared.windowEnd.store(windowEnd);
        shared.phase.store(Phase::Running, std::memory_order_release);
        for (auto &w : workers)
            w->wake();
    };

    if (connect) {
        // Warm-up connections first (they stay open), then the measured ones: the window.
        if (warmupConnections > 0 && waitForSetup(warmupConnections))
            progress(opt, "  %d warm-up connections ready\n", shared.ready.load());
        if (r.abortReason.isEmpty()) {
            const int64_t t0 = nowNs();
            const double cpu0 = ownCpuSeconds();
            r.serverWindowStart = sampleServer();
            startRun(t0, t0, INT64_MAX);
            waitForSetup(total);
            const int64_t t1 = nowNs();
            r.generatorCpu = (ownCpuSeconds() - cpu0) / (double(t1 - t0) / 1e9);
            r.serverWindowEnd = sampleServer();
            if (r.serverWindowStart && r.serverWindowEnd)
                r.serverCpu = (r.serverWindowEnd->cpuSeconds - r.serverWindowStart->cpuSeconds)
                    / (double(t1 - t0) / 1e9);
        }
    } else if (waitForSetup(total)) {
        progress(opt, "  %d ready, %d failed after %.2f s\n", shared.ready.load(),
                 shared.failed.load(), double(nowNs() - setupStart) / 1e9);
        if (shared.ready.load() == 0) {
            r.abortReason = "no connection could be established";
        } else {
            const int64_t runStart = nowNs();
            const int64_t windowStart = runStart + int64_t(opt.warmup * 1e9);
            const int64_t windowEnd = windowStart + int64_t(opt.duration * 1e9);
            startRun(runStart, windowStart, windowEnd);
            progress(opt, "  running: %.1f s warm-up, %.1f s measured\n", opt.warmup, opt.duration);
            waitUntil(windowStart, pid, r.serverPeakRssKb);
            const int64_t t0 = nowNs();
            const double cpu0 = ownCpuSeconds();
            r.serverWindowStart = sampleServer();
            waitUntil(windowEnd, pid, r.serverPeakRssKb);
            const int64_t t1 = nowNs();
            const double cpu1 = ownCpuSeconds();
            r.serverWindowEnd = sampleServer();
            const double seconds = double(t1 - t0) / 1e9;
            r.windowSeconds = double(windowEnd - windowStart) / 1e9;
            r.generatorCpu = (cpu1 - cpu0) / seconds;
            if (r.serverWindowStart && r.serverWindowEnd)
                r.serverCpu
                    = (r.serverWindowEnd->cpuSeconds - r.serverWindowStart->cpuSeconds) / seconds;
        }
    }
    if (r.serverWindowEnd)
        r.serverPeakRssKb = std::max(r.serverPeakRssKb, r.serverWindowEnd->rssKb);

    shared.phase.store(Phase::Stopping, std::memory_order_release);
    for (auto &w : workers)
        w->wake();
    int64_t firstStart = INT64_MAX, lastReady = 0;
    for (auto &w : workers) {
        w->join();
        r.counters.add(w->counters());
        r.latency.merge(w->latency());
        r.setupLatency.merge(w->setupLatency());
        r.receiveDelay.merge(w->receiveDelay());
        for (const QByteArray &e : w->errorSamples())
            if (r.errorSamples.size() < 8 && !r.errorSamples.contains(e))
                r.errorSamples.append(e);
        if (w->firstStartNs() > 0)
            firstStart = std::min(firstStart, w->firstStartNs());
        lastReady = std::max(lastReady, w->lastReadyNs());
    }
    if (lastReady > firstStart)
        r.setupSeconds = double(lastReady - firstStart) / 1e9;
    return r;
}

} // namespace Heliograph::Bench
