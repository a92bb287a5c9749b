// SPDX-License-Identifier: MIT
#pragma once

// Heliograph Client test kit: an in-process fake SignalR hub for testing code that embeds a
// HubConnection, with scripted answers and deterministic fault injection.
//
//   Heliograph::Testing::FakeHub hub;                      // listens on 127.0.0.1, port 0
//   hub.handle("Add", [](const ValueList &a) { return a[0].toInteger() + a[1].toInteger(); });
//   Heliograph::HubConnection client(hub.url());
//   client.start();                                        // negotiate, WebSocket, handshake
//   ... wait for Connected (QSignalSpy / QTRY_COMPARE) ...
//   hub.dropNext(1);                                       // the next answer is lost
//   QFuture<Value> lost = client.invoke("Add", {1, 2});    // stays pending
//   hub.sendInvocation("Notify", {u"hello"_s});            // to every connected client
//   hub.close("maintenance", true);                        // Close with allowReconnect
//
// What it speaks: negotiate v1 (`POST <path>/negotiate`, any path) offering WebSockets and
// Server-Sent Events (setTransports()), the WebSocket upgrade, the SignalR handshake and the
// JSON and MessagePack hub protocols (the client picks one in its handshake, as with a real
// server). Long polling is not offered. A connection that skips negotiation gets an id too.
//
// Connections are named by the connection id negotiate gave them (what
// HubConnection::connectionId() shows); an empty id means every connected client.
//
// Fault injection applies to the hub messages the hub sends after the handshake (handler
// answers, sendMessage(), sendInvocation(), invokeClient(), stream items): each delivery to
// one connection is one decision, in this order: dropNext(), the drop probability (a
// QRandomGenerator seeded by setDropProbability(), so a run is reproducible), then
// duplicateNext(). setDelay() holds back everything sent after the handshake (also Close and
// sendRaw()) and keeps the order. The handshake answer, close() and sendRaw() are never
// dropped or duplicated.
//
// Everything runs on the thread that owns the FakeHub (normally the test's main thread, the
// same as the HubConnection); nothing blocks. Logs go to `heliograph.client.testkit`.

#include <heliograph/client/heliographclienttestkit_export.h>
#include <heliograph/client/hubconnection.h>
#include <heliograph/protocol/hubmessage.h>
#include <heliograph/protocol/value.h>

#include <QtCore/QFuture>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QUrl>

#include <chrono>
#include <functional>
#include <memory>

namespace Heliograph::Testing {

class HELIOGRAPH_CLIENT_TESTKIT_EXPORT FakeHub : public QObject {
    Q_OBJECT
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY connectionCountChanged)
public:
    /// Answers an invocation: the returned value is the result; a thrown exception (its
    /// what(), or a HubErrorException's message) is sent as the error.
    using Handler = std::function<Value(const ValueList &arguments)>;
    /// The same, answered when the future finishes (a failed future sends its error).
    using AsyncHandler = std::function<QFuture<Value>(const ValueList &arguments)>;
    /// Answers a StreamInvocation: each item is sent as a StreamItem, then a Completion.
    using StreamHandler = std::function<ValueList(const ValueList &arguments)>;

    /// How sendRaw() frames its bytes on a WebSocket.
    enum class Frame {
        Auto, ///< the connection's format: text for JSON, binary for MessagePack
        Text, ///< a text frame, bytes as given (may be invalid UTF-8)
        Binary,
    };
    Q_ENUM(Frame)

    /// One message a client sent, in arrival order (the handshake request is not included).
    struct Received {
        QString connectionId;
        HubMessage message;
    };

    /// Listens on 127.0.0.1 at a free port.
    explicit FakeHub(QObject *parent = nullptr);
    ~FakeHub() override;

    bool isListening() const;
    quint16 port() const;
    /// `http://127.0.0.1:<port>/hub`; any path works.
    QUrl url() const;

    /// What negotiate offers: WebSockets and/or ServerSentEvents (default: both). Long
    /// polling is ignored.
    void setTransports(HubConnection::Transports transports);
    /// What negotiate offers (as set).
    HubConnection::Transports transports() const;

    /// Connections that completed the handshake and are still open, in the order they did.
    QStringList connectionIds() const;
    int connectionCount() const;
    /// "json" or "messagepack"; empty for an unknown id.
    QByteArray protocolOf(const QString &connectionId) const;
    /// WebSockets or ServerSentEvents; None for an unknown id.
    HubConnection::Transport transportOf(const QString &connectionId) const;

    // --- answering the client ----------------------------------------------------------------

    /// Method names are ASCII case-insensitive. A new handler for a method replaces the old
    /// one. Invocations of a method without a handler are answered with ASP.NET Core's
    /// "Method does not exist." error.
    void handle(const QByteArray &method, Handler handler);
    void handleAsync(const QByteArray &method, AsyncHandler handler);
    void handleStream(const QByteArray &method, StreamHandler handler);
    void removeHandler(const QByteArray &method);

    /// Bytes to answer every following handshake with, instead of `{}` + RS (e.g. an error
    /// response, or garbage). The hub then treats the handshake as done. Empty: normal.
    void setHandshakeResponse(const QByteArray &raw);
    /// The bytes every handshake is answered with; empty: the normal `{}` + RS.
    QByteArray handshakeResponse() const;

    // --- sending to clients (empty connectionId: every connection) --------------------------

    void sendMessage(const HubMessage &message, const QString &connectionId = {});
    /// A non-blocking invocation (no answer expected).
    void sendInvocation(const QByteArray &method, const ValueList &arguments,
                        const QString &connectionId = {});
    /// A blocking invocation of a client result handler: the future gets the client's result
    /// or fails with a HubErrorException (ServerError with the client's error text, or
    /// ConnectionLost when the connection ends first).
    QFuture<Value> invokeClient(const QString &connectionId, const QByteArray &method,
                                const ValueList &arguments);
    /// The bytes as they are, without any hub-protocol framing or check: one WebSocket frame
    /// (see Frame), or bytes written into the Server-Sent Events stream as they are (no
    /// `data:` lines added: write them yourself).
    void sendRaw(const QByteArray &bytes, const QString &connectionId = {},
                 Frame frame = Frame::Auto);
    /// Bytes straight onto the TCP connection under the WebSocket or event stream (broken
    /// WebSocket framing, a half-written frame...).
    void sendRawSocket(const QByteArray &bytes, const QString &connectionId = {});
    /// Sends a Close message, then closes the transport (WebSocket close code 1000).
    void close(const QByteArray &error = {}, bool allowReconnect = false,
               const QString &connectionId = {});
    /// Closes the transport only (no Close message) with this WebSocket close code.
    void closeTransport(quint16 webSocketCloseCode = 1000, const QString &connectionId = {});
    /// Drops the TCP connection at once: no Close message, no close frame.
    void abort(const QString &connectionId = {});

    // --- fault injection (see the top of this header) ---------------------------------------

    /// Drops the next `count` deliveries (adds to what is left).
    void dropNext(int count);
    /// Drops each delivery with probability `p` (0 disables), decided by a generator seeded
    /// with `seed`: the same messages in the same order give the same drops.
    void setDropProbability(double p, quint32 seed);
    /// The probability each delivery is dropped with (0: none).
    double dropProbability() const;
    /// Sends the next `count` deliveries twice (adds to what is left).
    void duplicateNext(int count);
    /// Holds back everything sent after the handshake by `delay` (0: none), order kept.
    void setDelay(std::chrono::milliseconds delay);
    /// How long everything sent after the handshake is held back (0: not at all).
    std::chrono::milliseconds delay() const;
    /// Clears drops, probability, duplicates and the delay (held-back messages still go).
    void resetFaults();
    /// Deliveries dropped so far.
    quint64 droppedCount() const;

    // --- what clients sent ------------------------------------------------------------------

    QList<Received> received() const;
    /// Only the messages of one type (e.g. MessageType::Invocation), any connection.
    QList<HubMessage> received(MessageType type) const;
    void clearReceived();
    /// Off: received() stays empty and what it held is cleared (signals are still emitted).
    /// Default on.
    void setRecordingEnabled(bool enabled);
    /// Whether received() records what clients send.
    bool isRecordingEnabled() const;

Q_SIGNALS:
    /// A client completed the handshake.
    void clientConnected(const QString &connectionId);
    /// A connected client's transport ended.
    void clientDisconnected(const QString &connectionId);
    void messageReceived(const QString &connectionId, const Heliograph::HubMessage &message);
    void connectionCountChanged();

private:
    class Private;
    const std::unique_ptr<Private> d;
};

} // namespace Heliograph::Testing
