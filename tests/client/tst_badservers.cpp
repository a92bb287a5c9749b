// SPDX-License-Identifier: MIT
// HubConnection against servers that misbehave (a FakeHub sending what a real hub never
// would): garbage frames, unknown message types, completions and stream items for unknown
// ids, oversize and truncated messages, messages over maximumReceiveMessageSize(), invalid
// UTF-8, handshake errors, invocations nobody handles. Each case asserts the exact outcome:
// ignored (the connection carries on and pending calls stay pending), or the connection ends
// with a given Error and errorString and pending calls fail with ConnectionLost. Never a crash.
#include "clientcalls.h"

#include <heliograph/client/hubconnection.h>
#include <heliograph/client/testing/fakehub.h>

#include <QtCore/QPromise>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Testing;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

using State = HubConnection::State;
using Transport = HubConnection::Transport;
using HubProtocolKind = HubConnection::Protocol;
using Frame = FakeHub::Frame;

namespace {

const QString CanceledText
    = u"Invocation canceled due to the underlying connection being closed."_s;

/// A MessagePack frame: the varint length prefix, then `body`.
QByteArray mp(const QByteArray &body)
{
    QByteArray out;
    quint32 n = quint32(body.size());
    do {
        quint8 b = n & 0x7f;
        n >>= 7;
        if (n)
            b |= 0x80;
        out.append(char(b));
    } while (n);
    return out + body;
}

/// The framed JSON invocation of Notify with one string argument padded so that the record,
/// separator included, is exactly `size` bytes.
QByteArray jsonNotifyOfSize(qsizetype size)
{
    const QByteArray head = "{\"type\":1,\"target\":\"Notify\",\"arguments\":[\"";
    const QByteArray tail = "\"]}\x1e";
    return head + QByteArray(size - head.size() - tail.size(), 'x') + tail;
}

/// The framed MessagePack invocation of Notify with one string argument (str 16) padded so
/// that the frame, length prefix included, is exactly `size` bytes (128 + 3 .. 16 384).
QByteArray msgPackNotifyOfSize(qsizetype size)
{
    const qsizetype body = size - 2; // a 2-byte length prefix
    const QByteArray head = "\x95\x01\x80\xc0\xa6Notify\x91\xda";
    const qsizetype pad = body - head.size() - 2;
    QByteArray out = head;
    out.append(char(pad >> 8)).append(char(pad & 0xff)).append(QByteArray(pad, 'x'));
    return mp(out);
}

/// A WebSocket frame header (binary, final, unmasked) announcing `length` payload bytes.
QByteArray webSocketHeader(quint64 length)
{
    QByteArray out("\x82\x7f", 2);
    for (int shift = 56; shift >= 0; shift -= 8)
        out.append(char((length >> shift) & 0xff));
    return out;
}

/// A long-polling hub reduced to what a client needs to connect (the FakeHub has no long
/// polling): negotiate offers LongPolling only, the first poll answers the handshake, POSTs
/// and DELETE are accepted, and every later poll is answered with `nextPoll` (a whole HTTP
/// response, written as it is, the socket left open).
class LongPollingHub : public QObject {
public:
    LongPollingHub()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                auto buffer = std::make_shared<QByteArray>();
                QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
                    *buffer += socket->readAll();
                    while (serve(socket, *buffer)) { }
                });
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    QUrl url() const { return QUrl(u"http://127.0.0.1:%1/hub"_s.arg(m_server.serverPort())); }

    QByteArray nextPoll; ///< the answer of every poll after the first
    int polls = 0;

private:
    static QByteArray response(const QByteArray &status, const QByteArray &body)
    {
        return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    }

    /// Answers the first complete request in `buffer`; false if there is none.
    bool serve(QTcpSocket *socket, QByteArray &buffer)
    {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        const QByteArray head = buffer.left(end);
        qsizetype length = 0;
        for (const QByteArray &line : head.split('\n')) {
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        }
        if (buffer.size() < end + 4 + length)
            return false;
        buffer.remove(0, end + 4 + length);
        if (head.startsWith("POST") && head.contains("/negotiate")) {
            socket->write(response(
                "200 OK",
                "{\"connectionId\":\"c1\",\"connectionToken\":\"t1\",\"negotiateVersion\":1,"
                "\"availableTransports\":[{\"transport\":\"LongPolling\",\"transferFormats\":["
                "\"Text\",\"Binary\"]}]}"));
        } else if (head.startsWith("GET")) {
            socket->write(++polls == 1 ? response("200 OK", "{}\x1e") : nextPoll);
        } else if (head.startsWith("DELETE")) {
            socket->write(response("202 Accepted", {}));
        } else {
            socket->write(response("200 OK", {}));
        }
        return true;
    }

    QTcpServer m_server;
};

/// A client connected to its own FakeHub with one invocation pending ("Never" is never
/// answered), and "Echo" to prove the connection still works.
struct Session {
    FakeHub hub;
    HubConnection client;
    std::shared_ptr<QPromise<Value>> never = std::make_shared<QPromise<Value>>();
    QFuture<Value> pending;
    QList<ValueList> notified;

    Session()
        : client(hub.url())
    {
        hub.handle("Echo", [](const ValueList &a) { return a.value(0); });
        hub.handleAsync("Never", [p = never](const ValueList &) {
            p->start();
            return p->future();
        });
        client.on("Notify", [this](const ValueList &a) { notified.append(a); });
    }

    bool open(HubProtocolKind protocol, Transport transport = Transport::WebSockets,
              std::shared_ptr<RetryPolicy> retry = {})
    {
        client.setProtocol(protocol);
        client.setTransports(transport);
        client.setRetryPolicy(std::move(retry));
        if (!connectNow(client))
            return false;
        pending = client.invoke("Never");
        return QTest::qWaitFor([&] { return !hub.received(MessageType::Invocation).isEmpty(); });
    }

    QString id() const { return client.connectionId(); }

    /// Hub-protocol bytes as one WebSocket message, or as one Server-Sent Event.
    void sendHubBytes(const QByteArray &bytes)
    {
        hub.sendRaw(client.transport() == Transport::ServerSentEvents
                        ? "data: " + bytes + "\r\n\r\n"
                        : bytes);
    }

    /// The connection ended with a ProtocolError for a message over `limit`; nothing was
    /// dispatched and the pending call failed.
    bool endedTooLarge(QSignalSpy &errors, qint64 limit)
    {
        const QString text
            = u"The server sent a message larger than the limit of %1 bytes."_s.arg(limit);
        if (errors.isEmpty() && !errors.wait(5000))
            return false;
        bool ok = true;
        auto check = [&ok](bool condition, const char *what) {
            if (!condition) {
                qWarning("failed: %s", what);
                ok = false;
            }
        };
        check(errors.size() == 1, "one errorOccurred");
        check(errors.first().first().value<Error>() == Error::ProtocolError, "ProtocolError");
        check(client.error() == Error::ProtocolError, "error()");
        if (client.errorString() != text)
            qWarning("errorString: %s", qPrintable(client.errorString()));
        check(client.errorString() == text, "errorString()");
        check(client.state() == State::Disconnected, "Disconnected");
        check(notified.isEmpty(), "nothing dispatched");
        check(pending.isFinished() && failure(pending)
                  && failure(pending)->code == Error::ConnectionLost
                  && failure(pending)->message == CanceledText + u' ' + text,
              "the pending call failed with ConnectionLost");
        return ok;
    }

    /// The connection still works and the pending call is still pending.
    bool survived()
    {
        if (call(client, "Echo", {"alive"}) != Value("alive")) {
            qWarning("Echo failed: %s", qPrintable(client.errorString()));
            return false;
        }
        return client.state() == State::Connected && client.error() == Error::NoError
            && !pending.isFinished();
    }
};

/// A normal JSON invocation of Notify.
QByteArray jsonNotify()
{
    return QByteArrayLiteral("{\"type\":1,\"target\":\"Notify\",\"arguments\":[\"n\"]}\x1e");
}
/// [1, {}, nil, "Notify", ["n"]]
QByteArray msgPackNotify()
{
    return mp("\x95\x01\x80\xc0\xa6Notify\x91\xa1n");
}

} // namespace

class tst_BadServers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void ignored_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::addColumn<QByteArray>("bytes");
        // The protocol: unknown message types are skipped (the official clients do too).
        QTest::newRow("json unknown type")
            << HubProtocolKind::Json << QByteArray("{\"type\":99,\"x\":[1]}\x1e");
        QTest::newRow("msgpack unknown type") << HubProtocolKind::MessagePack << mp("\x92\x63\x01");
        // A completion or a stream item nobody waits for: dropped (a debug log).
        QTest::newRow("json completion for an unknown id")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":3,\"invocationId\":\"999\",\"result\":1}\x1e");
        QTest::newRow("msgpack completion for an unknown id") << HubProtocolKind::MessagePack
                                                              << mp("\x95\x03\x80\xa3"
                                                                    "999\x03\x01");
        QTest::newRow("json stream item for an unknown id")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":2,\"invocationId\":\"999\",\"item\":1}\x1e");
        QTest::newRow("msgpack stream item for an unknown id") << HubProtocolKind::MessagePack
                                                               << mp("\x94\x02\x80\xa3"
                                                                     "999\x01");
        // The pending invocation's id (1) is not a stream: its item is dropped, the call
        // stays pending.
        QTest::newRow("json stream item for an invocation")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":2,\"invocationId\":\"1\",\"item\":1}\x1e");
        // Messages a server never sends: ignored.
        QTest::newRow("json stream invocation")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":4,\"invocationId\":\"5\",\"target\":\"Notify\",\"arguments\":["
                          "]}\x1e");
        QTest::newRow("json cancel invocation")
            << HubProtocolKind::Json << QByteArray("{\"type\":5,\"invocationId\":\"1\"}\x1e");
        QTest::newRow("json ack and sequence")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":8,\"sequenceId\":3}\x1e{\"type\":9,\"sequenceId\":1}\x1e");
        QTest::newRow("json ping with extra properties")
            << HubProtocolKind::Json << QByteArray("{\"type\":6,\"extra\":{\"a\":[1,2]}}\x1e");
        // An invocation of a method the client has no handler for (a warning is logged).
        QTest::newRow("json invocation without handler")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":1,\"target\":\"Unknown\",\"arguments\":[1]}\x1e");
        QTest::newRow("msgpack invocation without handler")
            << HubProtocolKind::MessagePack << mp("\x95\x01\x80\xc0\xa7Unknown\x90");
        // Handler arguments that do not convert: the typed handler is skipped (a warning).
        QTest::newRow("json arguments that do not convert")
            << HubProtocolKind::Json
            << QByteArray("{\"type\":1,\"target\":\"Typed\",\"arguments\":[{}]}\x1e");
    }
    void ignored()
    {
        QFETCH(HubProtocolKind, protocol);
        QFETCH(QByteArray, bytes);
        Session s;
        int typedCalls = 0;
        s.client.on<int>("Typed", [&](int) { ++typedCalls; });
        QSignalSpy states(&s.client, &HubConnection::stateChanged);
        QVERIFY(s.open(protocol));
        states.clear();
        s.hub.sendRaw(bytes);
        QVERIFY(s.survived());
        QCOMPARE(states.size(), 0);
        QCOMPARE(typedCalls, 0);
        QVERIFY(s.notified.isEmpty());
        // and the next message is read normally
        s.hub.sendRaw(protocol == HubProtocolKind::Json ? jsonNotify() : msgPackNotify());
        QTRY_COMPARE(s.notified.size(), 1);
        QCOMPARE(s.notified.first(), ValueList {"n"});
    }

    void fatal_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::addColumn<Frame>("frame");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<Error>("error");
        QTest::addColumn<QString>("errorString");

        QTest::newRow("json garbage")
            << HubProtocolKind::Json << Frame::Auto << QByteArray("hello\x1e")
            << Error::ProtocolError
            << u"Unexpected JSON Token Type 'Invalid'. Expected a JSON Object."_s;
        QTest::newRow("json without type")
            << HubProtocolKind::Json << Frame::Auto << QByteArray("{}\x1e") << Error::ProtocolError
            << u"Missing required property 'type'."_s;
        QTest::newRow("json cut-off object")
            << HubProtocolKind::Json << Frame::Auto << QByteArray("{\"type\":1,\x1e")
            << Error::ProtocolError << u"Expected a JSON string at offset 10."_s;
        QTest::newRow("json text after the object")
            << HubProtocolKind::Json << Frame::Auto << QByteArray("{\"type\":6} x\x1e")
            << Error::ProtocolError << u"Unexpected data after the JSON object at offset 11."_s;
        QTest::newRow("json wrong type of a property")
            << HubProtocolKind::Json << Frame::Auto
            << QByteArray("{\"type\":3,\"invocationId\":1,\"result\":1}\x1e")
            << Error::ProtocolError << u"Expected 'invocationId' to be of type String."_s;
        QTest::newRow("json nested too deep")
            << HubProtocolKind::Json << Frame::Auto
            << QByteArray("{\"type\":1,\"target\":\"Notify\",\"arguments\":[" + QByteArray(70, '[')
                          + QByteArray(70, ']') + "]}\x1e")
            << Error::ProtocolError << u"The maximum nesting depth of 64 was exceeded."_s;
        QTest::newRow("msgpack garbage")
            << HubProtocolKind::MessagePack << Frame::Auto << mp("\xc1\xc1\xc1")
            << Error::ProtocolError << u"Reading array length for 'message' failed."_s;
        QTest::newRow("msgpack zero length")
            << HubProtocolKind::MessagePack << Frame::Auto << QByteArray(1, '\0')
            << Error::ProtocolError << u"Invalid payload: a MessagePack message cannot be empty."_s;
        QTest::newRow("msgpack not an array")
            << HubProtocolKind::MessagePack << Frame::Auto << mp("\x01") << Error::ProtocolError
            << u"Reading array length for 'message' failed."_s;
        // The length prefix covers the body, but the body ends inside the array.
        QTest::newRow("msgpack truncated body")
            << HubProtocolKind::MessagePack << Frame::Auto << mp("\x95\x01\x80")
            << Error::ProtocolError << u"Reading array length for 'message' failed."_s;
        QTest::newRow("msgpack length prefix over 2 GB")
            << HubProtocolKind::MessagePack << Frame::Auto << QByteArray("\xff\xff\xff\xff\x7f")
            << Error::ProtocolError << u"Messages over 2GB in size are not supported."_s;
        // Invalid UTF-8 inside the hub protocol (a binary frame: the WebSocket does not check).
        QTest::newRow("json invalid utf-8")
            << HubProtocolKind::Json << Frame::Binary
            << QByteArray("{\"type\":1,\"target\":\"Notify\",\"arguments\":[\"\xff\"]}\x1e")
            << Error::ProtocolError << u"Invalid UTF-8 in JSON string at offset 42."_s;
        QTest::newRow("msgpack invalid utf-8")
            << HubProtocolKind::MessagePack << Frame::Auto
            << mp("\x95\x01\x80\xc0\xa6Notify\x91\xa1\xff") << Error::ProtocolError
            << u"Invalid UTF-8 in MessagePack string."_s;
        // A text frame that is not UTF-8 breaks the WebSocket protocol itself (RFC 6455 8.1).
        QTest::newRow("json invalid utf-8 text frame")
            << HubProtocolKind::Json << Frame::Text
            << QByteArray("{\"type\":1,\"target\":\"Notify\",\"arguments\":[\"\xc3\x28\"]}\x1e")
            << Error::TransportFailed
            << u"WebSocket closed with status code: 1007 (Invalid UTF-8 code encountered.)."_s;
    }
    void fatal()
    {
        QFETCH(HubProtocolKind, protocol);
        QFETCH(Frame, frame);
        QFETCH(QByteArray, bytes);
        QFETCH(Error, error);
        QFETCH(QString, errorString);
        Session s;
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(protocol));
        s.hub.sendRaw(bytes, {}, frame);
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors.first().first().value<Error>(), error);
        QCOMPARE(s.client.error(), error);
        QCOMPARE(s.client.errorString(), errorString);
        QCOMPARE(s.client.state(), State::Disconnected);
        QVERIFY(s.notified.isEmpty());
        QVERIFY(s.pending.isFinished());
        QCOMPARE(failure(s.pending)->code, Error::ConnectionLost);
        QCOMPARE(failure(s.pending)->message, CanceledText + u' ' + errorString);
        QTRY_COMPARE(s.hub.connectionCount(), 0); // the client dropped the transport
    }

    /// A protocol error is a lost connection: with a retry policy, the client reconnects.
    void protocolErrorReconnects()
    {
        Session s;
        QSignalSpy reconnecting(&s.client, &HubConnection::reconnecting);
        QSignalSpy reconnected(&s.client, &HubConnection::reconnected);
        QVERIFY(s.open(HubProtocolKind::Json, Transport::WebSockets,
                       std::make_shared<DefaultRetryPolicy>(QList<std::chrono::milliseconds> {10ms},
                                                            true, 0.0)));
        const QString first = s.id();
        s.hub.sendRaw("garbage\x1e");
        QVERIFY(reconnected.wait(5000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::ProtocolError);
        QCOMPARE(failure(s.pending)->code, Error::ConnectionLost);
        QVERIFY(s.id() != first);
        QCOMPARE(s.hub.connectionIds(), QStringList {s.id()});
        QCOMPARE(call(s.client, "Echo", {1}), Value(1));
    }

    /// Broken WebSocket framing (a reserved opcode) under the hub protocol.
    void garbageWebSocketFrame()
    {
        Session s;
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::Json));
        s.hub.sendRawSocket(QByteArray("\x83\x03"
                                       "abc",
                                       5));
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::TransportFailed);
        QCOMPARE(s.client.errorString(),
                 u"WebSocket closed with status code: 1002 (Used reserved opcode)."_s);
        QCOMPARE(failure(s.pending)->code, Error::ConnectionLost);
    }

    /// Garbage in the Server-Sent Events stream: lines that are not fields are ignored,
    /// a data field that is not JSON is a protocol error.
    void garbageEventStream()
    {
        Session s;
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::Json, Transport::ServerSentEvents));
        s.hub.sendRaw("\x01\x02 not a field\r\nevent: x\r\nid: 3\r\nretry: 1\r\n: comment\r\n\r\n");
        QVERIFY(s.survived());
        // a message split over two data lines is joined with a newline (JSON whitespace)
        s.hub.sendRaw(
            "data: {\"type\":1,\"target\":\"Notify\",\r\ndata: \"arguments\":[\"n\"]}\x1e\r\n\r\n");
        QTRY_COMPARE(s.notified.size(), 1);
        s.hub.sendRaw("data: \xff\xfe\x1e\r\n\r\n");
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::ProtocolError);
        QCOMPARE(s.client.errorString(),
                 u"Unexpected JSON Token Type 'Invalid'. Expected a JSON Object."_s);
        QCOMPARE(failure(s.pending)->code, Error::ConnectionLost);
    }

    /// A 4 MB message (under the default limit of 32 MiB) arrives intact, in both protocols.
    void oversizeMessage_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::newRow("json") << HubProtocolKind::Json;
        QTest::newRow("messagepack") << HubProtocolKind::MessagePack;
    }
    void oversizeMessage()
    {
        QFETCH(HubProtocolKind, protocol);
        Session s;
        QVERIFY(s.open(protocol));
        const QByteArray big(4 * 1024 * 1024, 'x');
        s.hub.sendInvocation("Notify", {Value::fromUtf8(big)});
        QTRY_COMPARE_WITH_TIMEOUT(s.notified.size(), 1, 10000);
        QCOMPARE(s.notified.first().value(0).bytes(), big);
        QVERIFY(s.survived());
    }

    /// maximumReceiveMessageSize(): its default, and what 0 and negative values mean.
    void sizeLimitDefault()
    {
        HubConnection c;
        QCOMPARE(c.maximumReceiveMessageSize(), qint64(32 * 1024 * 1024));
        c.setMaximumReceiveMessageSize(1024);
        QCOMPARE(c.maximumReceiveMessageSize(), qint64(1024));
        c.setMaximumReceiveMessageSize(-5);
        QCOMPARE(c.maximumReceiveMessageSize(), qint64(0));
    }

    /// Every transport x protocol the FakeHub speaks (it has no long polling).
    void sizeLimit_data()
    {
        QTest::addColumn<Transport>("transport");
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::newRow("websockets-json") << Transport::WebSockets << HubProtocolKind::Json;
        QTest::newRow("websockets-messagepack")
            << Transport::WebSockets << HubProtocolKind::MessagePack;
        QTest::newRow("sse-json") << Transport::ServerSentEvents << HubProtocolKind::Json;
    }

    /// A message of exactly the limit (framing included) is read; a second one is too.
    void sizeLimitExactlyAtTheLimit_data() { sizeLimit_data(); }
    void sizeLimitExactlyAtTheLimit()
    {
        QFETCH(Transport, transport);
        QFETCH(HubProtocolKind, protocol);
        constexpr qint64 Limit = 1024;
        Session s;
        s.client.setMaximumReceiveMessageSize(Limit);
        QVERIFY(s.open(protocol, transport));
        const QByteArray frame = protocol == HubProtocolKind::Json ? jsonNotifyOfSize(Limit)
                                                                   : msgPackNotifyOfSize(Limit);
        QCOMPARE(frame.size(), Limit);
        s.sendHubBytes(frame);
        s.sendHubBytes(frame);
        QTRY_COMPARE(s.notified.size(), 2);
        QCOMPARE(s.notified.first().value(0).toString().size(),
                 qsizetype(Limit) - (protocol == HubProtocolKind::Json ? 46 : 17));
        QVERIFY(s.survived());
    }

    /// A complete message one byte over the limit ends the connection.
    void sizeLimitOneByteOver_data() { sizeLimit_data(); }
    void sizeLimitOneByteOver()
    {
        QFETCH(Transport, transport);
        QFETCH(HubProtocolKind, protocol);
        constexpr qint64 Limit = 1024;
        Session s;
        s.client.setMaximumReceiveMessageSize(Limit);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(protocol, transport));
        s.sendHubBytes(protocol == HubProtocolKind::Json ? jsonNotifyOfSize(Limit + 1)
                                                         : msgPackNotifyOfSize(Limit + 1));
        QVERIFY(s.endedTooLarge(errors, Limit));
        QTRY_COMPARE(s.hub.connectionCount(), 0); // the client dropped the transport
    }

    /// A JSON record that never ends, streamed in pieces: the connection ends as soon as the
    /// unfinished record reaches the limit (it could only be over it once complete), without
    /// waiting for more.
    void sizeLimitJsonRecordWithoutSeparator_data()
    {
        QTest::addColumn<Transport>("transport");
        QTest::newRow("websockets") << Transport::WebSockets;
        QTest::newRow("sse") << Transport::ServerSentEvents;
    }
    void sizeLimitJsonRecordWithoutSeparator()
    {
        QFETCH(Transport, transport);
        constexpr qint64 Limit = 1024;
        Session s;
        s.client.setMaximumReceiveMessageSize(Limit);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::Json, transport));
        const QByteArray record = jsonNotifyOfSize(4 * Limit).chopped(4); // no `"]}` + RS
        for (qsizetype sent = 0; sent < Limit; sent += 256)
            s.sendHubBytes(record.sliced(sent, 256)); // exactly Limit bytes in all
        QVERIFY(s.endedTooLarge(errors, Limit));
    }

    /// A MessagePack length prefix announcing more than the limit ends the connection at
    /// once: the body is never waited for. With the default limit (32 MiB) too.
    void sizeLimitMessagePackPrefix_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<quint32>("announced");
        QTest::newRow("1024, one byte over") << qint64(1024) << quint32(1024 - 2 + 1);
        QTest::newRow("1024, 100 MB") << qint64(1024) << quint32(100'000'000);
        QTest::newRow("default, 33 MiB") << qint64(-1) << quint32(33 * 1024 * 1024);
    }
    void sizeLimitMessagePackPrefix()
    {
        QFETCH(qint64, limit);
        QFETCH(quint32, announced);
        Session s;
        if (limit >= 0)
            s.client.setMaximumReceiveMessageSize(limit);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::MessagePack));
        QByteArray prefix;
        for (quint32 n = announced;; n >>= 7) {
            prefix.append(char((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
            if (n <= 0x7f)
                break;
        }
        s.hub.sendRaw(prefix + "\x95\x01"); // the body's first bytes only
        QVERIFY(s.endedTooLarge(errors, s.client.maximumReceiveMessageSize()));
    }

    /// A WebSocket frame whose header announces more than the transport buffers (twice the
    /// limit, at least 1 MiB) ends the connection before its payload is read; with the
    /// default limit too.
    void sizeLimitWebSocketFrame_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<quint64>("announced");
        QTest::newRow("1024, 1 MiB + 1") << qint64(1024) << quint64(1024 * 1024 + 1);
        QTest::newRow("default, 100 MB") << qint64(-1) << quint64(100'000'000);
    }
    void sizeLimitWebSocketFrame()
    {
        QFETCH(qint64, limit);
        QFETCH(quint64, announced);
        Session s;
        if (limit >= 0)
            s.client.setMaximumReceiveMessageSize(limit);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::MessagePack));
        s.hub.sendRawSocket(webSocketHeader(announced) + "\x01\x02\x03");
        QVERIFY(s.endedTooLarge(errors, s.client.maximumReceiveMessageSize()));
    }

    /// A Server-Sent Events line that never ends is not buffered past twice the limit (at
    /// least 1 MiB).
    void sizeLimitEventStreamLine()
    {
        constexpr qint64 Limit = 1024;
        Session s;
        s.client.setMaximumReceiveMessageSize(Limit);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QVERIFY(s.open(HubProtocolKind::Json, Transport::ServerSentEvents));
        s.hub.sendRaw("data: ");
        const QByteArray piece(64 * 1024, 'x');
        for (int i = 0; i < 17; ++i) // 1 MiB + 64 KiB, no line break
            s.hub.sendRaw(piece);
        QVERIFY(s.endedTooLarge(errors, Limit));
    }

    /// Long polling: a response holding a message over the limit is refused by the reader; a
    /// response whose Content-Length announces more than the transport buffers (twice the
    /// limit, at least 1 MiB) fails before its body arrives.
    void sizeLimitLongPolling_data()
    {
        QTest::addColumn<QByteArray>("poll");
        const QByteArray over = jsonNotifyOfSize(1025);
        QTest::newRow("a message over the limit") << "HTTP/1.1 200 OK\r\nContent-Length: "
                + QByteArray::number(over.size()) + "\r\n\r\n" + over;
        QTest::newRow("content-length over the bound")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n{\"type\":1");
    }
    void sizeLimitLongPolling()
    {
        QFETCH(QByteArray, poll);
        LongPollingHub hub;
        hub.nextPoll = poll;
        HubConnection client(hub.url());
        client.setTransports(Transport::LongPolling);
        client.setRetryPolicy({});
        client.setMaximumReceiveMessageSize(1024);
        QSignalSpy errors(&client, &HubConnection::errorOccurred);
        QSignalSpy connected(&client, &HubConnection::connected);
        client.start();
        QTRY_COMPARE_WITH_TIMEOUT(errors.size(), 1, 5000);
        QCOMPARE(connected.size(), 1); // the handshake in the first poll was read
        QCOMPARE(errors.first().first().value<Error>(), Error::ProtocolError);
        QCOMPARE(client.errorString(),
                 u"The server sent a message larger than the limit of 1024 bytes."_s);
        QCOMPARE(client.state(), State::Disconnected);
    }

    /// 0 is unlimited: a message over the default limit of 32 MiB is read.
    void sizeLimitUnlimited_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::newRow("json") << HubProtocolKind::Json;
        QTest::newRow("messagepack") << HubProtocolKind::MessagePack;
    }
    void sizeLimitUnlimited()
    {
        QFETCH(HubProtocolKind, protocol);
        Session s;
        s.client.setMaximumReceiveMessageSize(0);
        QVERIFY(s.open(protocol));
        const QByteArray big(33 * 1024 * 1024, 'x');
        s.hub.sendInvocation("Notify", {Value::fromUtf8(big)});
        QTRY_COMPARE_WITH_TIMEOUT(s.notified.size(), 1, 30000);
        QCOMPARE(s.notified.first().value(0).bytes(), big);
        QVERIFY(s.survived());
    }

    /// A message over the limit is a protocol error like any other: with a retry policy the
    /// client reconnects.
    void sizeLimitReconnects()
    {
        constexpr qint64 Limit = 1024;
        Session s;
        s.client.setMaximumReceiveMessageSize(Limit);
        QSignalSpy reconnecting(&s.client, &HubConnection::reconnecting);
        QSignalSpy reconnected(&s.client, &HubConnection::reconnected);
        QVERIFY(s.open(HubProtocolKind::Json, Transport::WebSockets,
                       std::make_shared<DefaultRetryPolicy>(QList<std::chrono::milliseconds> {10ms},
                                                            true, 0.0)));
        s.hub.sendRaw(jsonNotifyOfSize(Limit + 1));
        QVERIFY(reconnected.wait(5000));
        QCOMPARE(reconnecting.first().first().value<Error>(), Error::ProtocolError);
        QCOMPARE(failure(s.pending)->message,
                 CanceledText
                     + u" The server sent a message larger than the limit of 1024 bytes."_s);
        QVERIFY(s.notified.isEmpty());
        QCOMPARE(call(s.client, "Echo", {1}), Value(1));
    }

    /// The limit applies to the handshake response too: the attempt fails.
    void sizeLimitHandshake()
    {
        constexpr qint64 Limit = 1024;
        Session s;
        s.hub.setHandshakeResponse("{\"x\":\"" + QByteArray(2 * Limit, 'x')); // no end
        s.client.setMaximumReceiveMessageSize(Limit);
        s.client.setTransports(Transport::WebSockets);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        s.client.start();
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::HandshakeFailed);
        QCOMPARE(s.client.errorString(),
                 u"Error parsing handshake response: The server sent a message larger than the "
                 u"limit of 1024 bytes."_s);
        QCOMPARE(s.client.state(), State::Disconnected);
    }

    /// A MessagePack frame split over two WebSocket messages is put together again (the
    /// reader keeps partial frames, as the official clients' pipes do); so is JSON.
    void splitFrames_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::newRow("json") << HubProtocolKind::Json;
        QTest::newRow("messagepack") << HubProtocolKind::MessagePack;
    }
    void splitFrames()
    {
        QFETCH(HubProtocolKind, protocol);
        Session s;
        QVERIFY(s.open(protocol));
        const QByteArray whole = protocol == HubProtocolKind::Json ? jsonNotify() : msgPackNotify();
        // (nothing can be read behind a partial frame: no call in between)
        s.hub.sendRaw(whole.first(5));
        s.hub.sendRaw(whole.sliced(5) + whole); // the rest, and a second one
        QTRY_COMPARE(s.notified.size(), 2);
        QVERIFY(s.survived());
    }

    void handshakeResponses_data()
    {
        QTest::addColumn<HubProtocolKind>("protocol");
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<QString>("errorString");
        QTest::newRow("error") << HubProtocolKind::Json << QByteArray("{\"error\":\"go away\"}\x1e")
                               << u"Server returned handshake error: go away"_s;
        QTest::newRow("error msgpack")
            << HubProtocolKind::MessagePack << QByteArray("{\"error\":\"go away\"}\x1e")
            << u"Server returned handshake error: go away"_s;
        QTest::newRow("garbage")
            << HubProtocolKind::Json << QByteArray("garbage\x1e")
            << u"Error parsing handshake response: Unexpected JSON Token Type 'Invalid'. Expected a JSON Object."_s;
        QTest::newRow("a hub message")
            << HubProtocolKind::Json << QByteArray("{\"type\":6}\x1e")
            << u"Error parsing handshake response: Expected a handshake response from the server."_s;
        QTest::newRow("invalid utf-8 error")
            << HubProtocolKind::MessagePack << QByteArray("{\"error\":\"\xff\"}\x1e")
            << u"Error parsing handshake response: Invalid UTF-8 in JSON string at offset 10."_s;
    }
    void handshakeResponses()
    {
        QFETCH(HubProtocolKind, protocol);
        QFETCH(QByteArray, response);
        QFETCH(QString, errorString);
        Session s;
        s.hub.setHandshakeResponse(response);
        s.client.setProtocol(protocol);
        s.client.setTransports(Transport::WebSockets);
        QSignalSpy errors(&s.client, &HubConnection::errorOccurred);
        QSignalSpy states(&s.client, &HubConnection::stateChanged);
        s.client.start();
        QVERIFY(errors.wait(5000));
        QCOMPARE(errors.first().first().value<Error>(), Error::HandshakeFailed);
        QCOMPARE(s.client.errorString(), errorString);
        QCOMPARE(s.client.state(), State::Disconnected);
        QCOMPARE(states.size(), 2); // Connecting, Disconnected: never Connected
        QTRY_COMPARE(s.hub.connectionCount(), 0);
    }

    /// Hub messages right behind the handshake response, in the same frame, are read.
    void messagesBehindTheHandshake()
    {
        Session s;
        s.hub.setHandshakeResponse("{}\x1e" + jsonNotify());
        QVERIFY(s.open(HubProtocolKind::Json));
        QTRY_COMPARE(s.notified.size(), 1);
        QVERIFY(s.survived());
    }

    /// The server invokes a client method that expects a result: without a result handler
    /// the client answers with an error, and a throwing handler answers with its text.
    void clientResultsWithoutHandler()
    {
        Session s;
        QVERIFY(s.open(HubProtocolKind::Json));
        QFuture<Value> none = s.hub.invokeClient(s.id(), "NoSuchMethod", {1});
        QVERIFY(settle(none));
        QCOMPARE(failure(none)->code, Error::ServerError);
        QCOMPARE(failure(none)->message, u"Client didn't provide a result."_s);

        s.client.on("OnlyEvents", [](const ValueList &) {});
        QFuture<Value> events = s.hub.invokeClient(s.id(), "OnlyEvents", {});
        QVERIFY(settle(events));
        QCOMPARE(failure(events)->message, u"Client didn't provide a result."_s);

        s.client.onInvoke("Throws",
                          HubConnection::SyncResultHandler([](const ValueList &) -> Value {
                              throw std::runtime_error("client says no");
                          }));
        QFuture<Value> thrown = s.hub.invokeClient(s.id(), "Throws", {});
        QVERIFY(settle(thrown));
        QCOMPARE(failure(thrown)->message, u"client says no"_s);
        QVERIFY(s.survived());
    }
};

QTEST_GUILESS_MAIN(tst_BadServers)
#include "tst_badservers.moc"
