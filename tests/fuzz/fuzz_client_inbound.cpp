// SPDX-License-Identifier: MIT
// The client's inbound path, end to end: whatever a server sends to a real HubConnection
// after the handshake (WebSocket frames with JSON or MessagePack, or the raw bytes of a
// Server-Sent Events stream), and the handshake response itself. The input goes through a
// FakeHub (Heliograph::ClientTestKit) in the same process; the library is reached only through
// its public API. A crash, a sanitizer report or a hang is a finding.
//
// Input: byte 0 chooses the path, the rest is what the server sends.
//   bits 0-1: 0 WebSockets + JSON, 1 WebSockets + MessagePack, 2 Server-Sent Events + JSON
//             (raw event-stream bytes), 3 the handshake response
//   bit 2:    WebSockets: binary frame instead of text (JSON); handshake: MessagePack
//   bit 3:    WebSockets: split into two frames; handshake: over Server-Sent Events (JSON)
//
// One QCoreApplication and one FakeHub for the run; each path keeps its connection while it
// stays up (a handler, a pending invocation and a pending stream exist on it), so thousands
// of inputs run per minute. Handshake inputs need a new connection each.
#include "fuzz_common.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/testing/fakehub.h>
#include <heliograph/protocol/handshake.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPromise>
#include <QtCore/QTimer>

#include <memory>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

using State = HubConnection::State;
using Transport = HubConnection::Transport;
using HubProtocolKind = HubConnection::Protocol;

class Harness {
public:
    Harness()
    {
        // Warnings about what the fuzzer sends are expected; keep the output readable.
        QLoggingCategory::setFilterRules(u"heliograph.*=false"_s);
        m_hub.setRecordingEnabled(false);
        m_hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
        m_hub.handleAsync("Never", [this](const ValueList &) {
            auto p = std::make_shared<QPromise<Value>>();
            p->start();
            m_never.append(p);
            return p->future();
        });
        m_wake.setInterval(2);
        m_wake.start(); // processEvents(WaitForMoreEvents) never waits long

        m_clients[0] = makeClient(Transport::WebSockets, HubProtocolKind::Json, true);
        m_clients[1] = makeClient(Transport::WebSockets, HubProtocolKind::MessagePack, true);
        m_clients[2] = makeClient(Transport::ServerSentEvents, HubProtocolKind::Json, false);
    }

    void run(QByteArrayView input)
    {
        if (input.isEmpty())
            return;
        const quint8 control = quint8(input[0]);
        const QByteArray payload = input.sliced(1).toByteArray();
        const int path = control & 3;
        if (path == 3)
            handshake(payload, control & 4 ? HubProtocolKind::MessagePack : HubProtocolKind::Json,
                      control & 8 ? Transport::ServerSentEvents : Transport::WebSockets);
        else if (path == 2)
            eventStream(payload);
        else
            webSocket(*m_clients[path], payload, control);
        // Qt deletes deleteLater()'d objects only from an event loop: do it here.
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }

private:
    std::unique_ptr<HubConnection> makeClient(Transport transport, HubProtocolKind protocol,
                                              bool skipNegotiation)
    {
        QUrl url = m_hub.url();
        if (skipNegotiation)
            url.setScheme(u"ws"_s);
        auto c = std::make_unique<HubConnection>(url);
        c->setTransports(transport);
        c->setProtocol(protocol);
        c->setSkipNegotiationEnabled(skipNegotiation);
        c->setRetryPolicy(nullptr);
        c->setHandshakeTimeout(3000ms);
        c->setKeepAliveInterval(0ms);
        c->setServerTimeout(0ms);
        HubConnection *raw = c.get();
        c->on("Notify", [](const ValueList &) {});
        c->on<int, QString>("Typed", [](int, const QString &) {});
        c->on("Stop", [raw](const ValueList &) { raw->stop(); });
        c->on("Sync", [this](const ValueList &a) { m_synced = a.value(0).toInteger(); });
        c->onInvoke("Result", HubConnection::SyncResultHandler([](const ValueList &a) {
                        return a.value(0);
                    }));
        c->onInvoke("Throw", HubConnection::SyncResultHandler([](const ValueList &) -> Value {
                        throw std::runtime_error("no");
                    }));
        return c;
    }

    /// Runs events until `done` or the deadline.
    template<typename F> bool pump(F done, int ms)
    {
        QDeadlineTimer deadline(ms);
        while (!done()) {
            if (deadline.hasExpired())
                return false;
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        }
        return true;
    }

    /// Connected, with invocation "Never" and a stream pending (ids 1 and 2).
    bool ensureConnected(HubConnection &c)
    {
        if (c.state() == State::Connected)
            return true;
        for (int attempt = 1; c.state() != State::Connected; ++attempt) {
            if (c.state() != State::Disconnected)
                restart(c); // e.g. Disconnecting after the input's "Stop"
            m_never.clear(); // answered with an error on a connection that is gone
            c.start();
            pump([&] { return c.state() != State::Connecting; }, 10000);
            if (c.state() == State::Connected)
                break;
            std::fprintf(stderr, "cannot connect (attempt %d): %s\n", attempt,
                         qPrintable(c.errorString()));
            if (attempt == 3)
                std::abort(); // the harness, or the client, is broken
        }
        c.invoke("Never");
        m_hub.dropNext(1); // the hub's "no such method" answer: the stream stays open
        m_stream.reset(c.stream("Stream"));
        return true;
    }

    void restart(HubConnection &c)
    {
        c.stop();
        pump([&] { return c.state() == State::Disconnected; }, 6000);
    }

    void webSocket(HubConnection &c, const QByteArray &payload, quint8 control)
    {
        if (!ensureConnected(c))
            return;
        const bool json = c.protocol() == HubProtocolKind::Json;
        const FakeHub::Frame frame
            = json && !(control & 4) ? FakeHub::Frame::Text : FakeHub::Frame::Binary;
        const quint64 before = c.bytesReceived();
        if (control & 8) {
            const qsizetype split = HeliographFuzz::splitPoint(payload);
            m_hub.sendRaw(payload.first(split), {}, frame);
            m_hub.sendRaw(payload.sliced(split), {}, frame);
        } else {
            m_hub.sendRaw(payload, {}, frame);
        }
        // The client reads every payload completely when it arrives: once the byte count is
        // reached, all of it was processed (or the connection ended on the way).
        const quint64 expected = before + quint64(payload.size());
        pump([&] { return c.state() != State::Connected || c.bytesReceived() >= expected; }, 2000);
        if (c.state() != State::Connected)
            return;
        // A partial frame stays buffered and would swallow the next input: start afresh.
        MessageReader reader(json ? HubProtocol::json() : HubProtocol::messagePack());
        reader.append(payload);
        while (reader.read().status == MessageReader::Status::Message) { }
        if (reader.bufferedBytes() > 0 || c.bytesReceived() < expected)
            restart(c);
    }

    void eventStream(const QByteArray &payload)
    {
        HubConnection &c = *m_clients[2];
        if (!ensureConnected(c))
            return;
        // The raw bytes, then a blank line that ends any event, then a marker invocation.
        const qint64 marker = ++m_nextSync;
        m_hub.sendRaw(payload);
        m_hub.sendRaw("\r\n\r\ndata: {\"type\":1,\"target\":\"Sync\",\"arguments\":["
                      + QByteArray::number(marker) + "]}\x1e\r\n\r\n");
        if (!pump([&] { return c.state() != State::Connected || m_synced == marker; }, 300)
            && c.state() == State::Connected)
            restart(c); // the marker was swallowed by a partial message
    }

    void handshake(const QByteArray &payload, HubProtocolKind protocol, Transport transport)
    {
        if (transport == Transport::ServerSentEvents)
            protocol = HubProtocolKind::Json;
        std::unique_ptr<HubConnection> &slot = transport == Transport::ServerSentEvents
            ? m_handshakeClients[2]
            : m_handshakeClients[protocol == HubProtocolKind::Json ? 0 : 1];
        if (!slot)
            slot = makeClient(transport, protocol, transport == Transport::WebSockets);
        HubConnection &c = *slot;
        m_hub.setHandshakeResponse(payload.isEmpty() ? QByteArray("\x1e") : payload);
        c.start();
        HandshakeResponse response;
        const Expected<qsizetype> used = Handshake::parseResponse(payload, response);
        if (used && *used == 0) {
            // Incomplete: the client would wait for its timeout. Stop once it has it all.
            pump(
                [&] {
                    return c.state() != State::Connecting
                        || c.bytesReceived() >= quint64(payload.size());
                },
                1000);
        } else {
            pump([&] { return c.state() != State::Connecting; }, 1000);
        }
        m_hub.setHandshakeResponse({});
        if (c.state() == State::Connected) {
            // messages behind the response were read; say hello once more, then close
            (void)c.invoke("Echo", {1});
        }
        restart(c);
    }

    FakeHub m_hub;
    std::unique_ptr<HubConnection> m_clients[3];
    std::unique_ptr<HubConnection> m_handshakeClients[3];
    std::unique_ptr<HubStream> m_stream;
    QList<std::shared_ptr<QPromise<Value>>> m_never;
    QTimer m_wake;
    qint64 m_nextSync = 0;
    qint64 m_synced = -1;
};

Harness &harness()
{
    static int argc = 1;
    static char name[] = "fuzz_client_inbound";
    static char *argv[] = {name, nullptr};
    static auto *app = new QCoreApplication(argc, argv);
    static auto *h = new Harness;
    Q_UNUSED(app)
    return *h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness().run(HeliographFuzz::view(data, size));
    return 0;
}
