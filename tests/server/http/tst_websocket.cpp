// SPDX-License-Identifier: MIT
// RFC 6455 on the server side: the opening handshake, the client frame parser (RFC 6455
// examples, fragmentation, every protocol violation and its close code, feeding in any split),
// the server frame writers, and the UTF-8 validator behind text messages.
#include "http/httprequestparser.h"
#include "http/websocket.h"

#include <heliograph/protocol/utf8.h>

#include <QtCore/QCryptographicHash>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Heliograph::Server;
namespace WS = Heliograph::Server::WebSocket;
using Status = WS::FrameParser::Status;

namespace {

constexpr quint8 Fin = 0x80;

enum class Length { Minimal, Force16, Force64 };

/// A client frame, built here independently of the library's writers: `b0` is FIN | RSV |
/// opcode; the payload is masked with `mask` unless `mask` is empty.
QByteArray frame(quint8 b0, QByteArrayView payload, Length form = Length::Minimal,
                 QByteArray mask = QByteArray::fromHex("37fa213d"))
{
    QByteArray out;
    out.append(char(b0));
    const quint8 maskBit = mask.isEmpty() ? 0 : 0x80;
    const auto n = quint64(payload.size());
    if (form == Length::Minimal && n < 126) {
        out.append(char(maskBit | n));
    } else if (form != Length::Force64 && n <= 0xFFFF) {
        out.append(char(maskBit | 126));
        out.append(char(n >> 8));
        out.append(char(n & 0xFF));
    } else {
        out.append(char(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((n >> shift) & 0xFF));
    }
    out.append(mask);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(mask.isEmpty() ? payload[i] : char(payload[i] ^ mask[i % 4]));
    return out;
}

QByteArray closePayload(quint16 code, QByteArrayView reason = {})
{
    QByteArray p;
    p.append(char(code >> 8));
    p.append(char(code & 0xFF));
    p.append(reason);
    return p;
}

QByteArray pattern(qsizetype n)
{
    QByteArray p(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i)
        p[i] = char((i * 7 + i / 251) & 0xFF);
    return p;
}

/// Short printable payloads as they are, others by size and hash.
QByteArray describe(const QByteArray &payload)
{
    bool printable = payload.size() <= 40;
    for (const char c : payload)
        printable = printable && c >= 0x20 && c < 0x7F;
    if (printable)
        return payload;
    return '#' + QByteArray::number(payload.size()) + ':'
        + QCryptographicHash::hash(payload, QCryptographicHash::Sha1).toHex().left(8);
}

QByteArray describe(const WS::FrameParser::Result &r)
{
    switch (r.status) {
    case Status::Message:
        return QByteArray(r.type == WS::FrameParser::MessageType::Text ? "text:" : "binary:")
            + describe(r.payload);
    case Status::Ping:
        return "ping:" + describe(r.payload);
    case Status::Pong:
        return "pong:" + describe(r.payload);
    case Status::Close:
        return "close:" + QByteArray::number(r.closeCode) + ':' + r.reason;
    case Status::Error:
        return "error:" + QByteArray::number(r.closeCode) + ':' + r.reason;
    case Status::NeedMoreData:
        break;
    }
    return "need-more-data";
}

struct Events {
    QList<QByteArray> described;
    QList<QByteArray> payloads;
    qsizetype buffered = 0;
};

/// Feeds `input` in pieces of `step` bytes (0: at once; < 0: as QByteArray copies), draining
/// after each. Checks that an error sticks and that nothing follows a close.
bool run(const QByteArray &input, qsizetype maxSize, qsizetype step, Events &out)
{
    WS::FrameParser parser(maxSize);
    out = Events();
    const qsizetype n = step == 0 ? qMax<qsizetype>(input.size(), 1) : qAbs(step);
    for (qsizetype at = 0; at < input.size(); at += n) {
        if (step < 0)
            parser.feed(input.mid(at, n));
        else
            parser.feed(QByteArrayView(input).sliced(at, qMin(n, input.size() - at)));
        while (true) {
            const WS::FrameParser::Result r = parser.next();
            if (r.status == Status::NeedMoreData)
                break;
            out.described.append(describe(r));
            out.payloads.append(r.payload);
            if (r.status == Status::Error) {
                parser.feed(frame(Fin | 0x1, "more"));
                const WS::FrameParser::Result again = parser.next();
                if (again.status != Status::Error || again.closeCode != r.closeCode
                    || again.reason != r.reason || !parser.hasFailed()) {
                    qWarning("the frame parser recovered from an error");
                    return false;
                }
                out.buffered = parser.bufferedBytes();
                return true;
            }
            if (r.status == Status::Close && !parser.isClosed()) {
                qWarning("isClosed() is false after a close");
                return false;
            }
        }
    }
    out.buffered = parser.bufferedBytes();
    return true;
}

bool runAllWays(const QByteArray &input, qsizetype maxSize, Events &out)
{
    if (!run(input, maxSize, 0, out))
        return false;
    const QList<qsizetype> steps {1, 2, 3, -5, 7, -64};
    for (const qsizetype step : steps) {
        Events other;
        if (!run(input, maxSize, step, other))
            return false;
        if (other.described != out.described || other.payloads != out.payloads
            || other.buffered != out.buffered) {
            qWarning("feeding in pieces of %lld bytes gives other events", qint64(step));
            return false;
        }
    }
    if (input.size() <= 400) {
        for (qsizetype split = 1; split < input.size(); ++split) {
            WS::FrameParser parser(maxSize);
            Events other;
            auto drain = [&] {
                while (!parser.hasFailed()) {
                    const WS::FrameParser::Result r = parser.next();
                    if (r.status == Status::NeedMoreData)
                        return;
                    other.described.append(describe(r));
                    other.payloads.append(r.payload);
                }
            };
            parser.feed(QByteArrayView(input).first(split));
            drain();
            parser.feed(QByteArrayView(input).sliced(split));
            drain();
            other.buffered = parser.bufferedBytes();
            if (other.described != out.described || other.payloads != out.payloads
                || other.buffered != out.buffered) {
                qWarning("splitting at %lld gives other events", qint64(split));
                return false;
            }
        }
    }
    return true;
}

HttpRequest parseRequest(const QByteArray &bytes)
{
    HttpRequestParser parser;
    parser.feed(bytes);
    HttpRequestParser::Result r = parser.next();
    if (r.status != HttpRequestParser::Status::Request)
        qFatal("test request does not parse: %s", r.error.reason.constData());
    return r.request;
}

/// The opening handshake of RFC 6455 section 1.2, with `fields` instead of the defaults.
QByteArray upgradeRequest(QByteArray fields, QByteArray method = "GET",
                          QByteArray version = "HTTP/1.1")
{
    return method + " /chat " + version
        + "\r\nHost: server.example.com\r\nOrigin: http://example.com\r\n" + fields + "\r\n";
}

const QByteArray defaultUpgradeFields = "Upgrade: websocket\r\n"
                                        "Connection: Upgrade\r\n"
                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                        "Sec-WebSocket-Version: 13\r\n";

} // namespace

class tst_WebSocket : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void acceptKey_data();
    void acceptKey();
    void upgrade_data();
    void upgrade();
    void acceptedResponse();
    void rejectedResponses();

    void frames_data();
    void frames();
    void singleFrameMessageIsNotCopied();
    void clientFrameRoundTrip_data();
    void clientFrameRoundTrip();
    void closeCodes();

    void writers_data();
    void writers();
    void writeHeader_data();
    void writeHeader();
    void unmask();

    void utf8_data();
    void utf8();
};

void tst_WebSocket::acceptKey_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("accept");
    QTest::newRow("RFC 6455 section 1.3")
        << QByteArray("dGhlIHNhbXBsZSBub25jZQ==") << QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // The example of Wikipedia's WebSocket article.
    QTest::newRow("Wikipedia example")
        << QByteArray("x3JJHMbDL1EzLkh9GBhXDw==") << QByteArray("HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

void tst_WebSocket::acceptKey()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, accept);
    QCOMPARE(WS::acceptKey(key), accept);
}

void tst_WebSocket::upgrade_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");

    const QByteArray key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const QByteArray version = "Sec-WebSocket-Version: 13\r\n";
    const QByteArray upgradeFields = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

    QTest::newRow("RFC 6455 section 1.2")
        << upgradeRequest(defaultUpgradeFields
                          + "Sec-WebSocket-Protocol: chat, superchat\r\n"
                            "Sec-WebSocket-Extensions: permessage-deflate; "
                            "client_max_window_bits\r\n")
        << 101 << QByteArray();
    QTest::newRow("tokens in any case, in lists") << upgradeRequest(
        "upgrade: foo/2, WebSocket\r\nconnection: keep-alive, UPGRADE\r\n" + key + version)
                                                  << 101 << QByteArray();
    QTest::newRow("POST") << upgradeRequest(defaultUpgradeFields, "POST") << 400
                          << QByteArray("WebSocket upgrade requires GET");
    QTest::newRow("HTTP/1.0") << upgradeRequest(defaultUpgradeFields, "GET", "HTTP/1.0") << 400
                              << QByteArray("WebSocket upgrade requires HTTP/1.1");
    QTest::newRow("no Upgrade") << upgradeRequest("Connection: Upgrade\r\n" + key + version) << 400
                                << QByteArray("missing Upgrade: websocket");
    QTest::newRow("Upgrade to another protocol")
        << upgradeRequest("Upgrade: h2c\r\nConnection: Upgrade\r\n" + key + version) << 400
        << QByteArray("missing Upgrade: websocket");
    QTest::newRow("no Connection: Upgrade")
        << upgradeRequest("Upgrade: websocket\r\nConnection: keep-alive\r\n" + key + version) << 400
        << QByteArray("missing Connection: Upgrade");
    QTest::newRow("version 8") << upgradeRequest(upgradeFields + key
                                                 + "Sec-WebSocket-Version: 8\r\n")
                               << 426 << QByteArray("unsupported Sec-WebSocket-Version");
    QTest::newRow("no version") << upgradeRequest(upgradeFields + key) << 426
                                << QByteArray("unsupported Sec-WebSocket-Version");
    QTest::newRow("two versions") << upgradeRequest(upgradeFields + key + version
                                                    + "Sec-WebSocket-Version: 8\r\n")
                                  << 426 << QByteArray("unsupported Sec-WebSocket-Version");
    QTest::newRow("version list") << upgradeRequest(upgradeFields + key
                                                    + "Sec-WebSocket-Version: 13, 8\r\n")
                                  << 426 << QByteArray("unsupported Sec-WebSocket-Version");
    QTest::newRow("no key") << upgradeRequest(upgradeFields + version) << 400
                            << QByteArray("missing or repeated Sec-WebSocket-Key");
    QTest::newRow("two keys") << upgradeRequest(upgradeFields + key + key + version) << 400
                              << QByteArray("missing or repeated Sec-WebSocket-Key");
    QTest::newRow("key of 15 bytes")
        << upgradeRequest(upgradeFields + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" + version)
        << 400 << QByteArray("invalid Sec-WebSocket-Key");
    QTest::newRow("key of 17 bytes") << upgradeRequest(
        upgradeFields + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n" + version)
                                     << 400 << QByteArray("invalid Sec-WebSocket-Key");
    QTest::newRow("key not base64") << upgradeRequest(
        upgradeFields + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!=\r\n" + version)
                                    << 400 << QByteArray("invalid Sec-WebSocket-Key");
    QTest::newRow("key without padding")
        << upgradeRequest(upgradeFields + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" + version)
        << 400 << QByteArray("invalid Sec-WebSocket-Key");
    QTest::newRow("empty key") << upgradeRequest(upgradeFields + "Sec-WebSocket-Key:\r\n" + version)
                               << 400 << QByteArray("invalid Sec-WebSocket-Key");
    QTest::newRow("with a body") << QByteArray(
        upgradeRequest(defaultUpgradeFields + "Content-Length: 2\r\n") + "hi")
                                 << 400 << QByteArray("WebSocket upgrade with a body");
}

void tst_WebSocket::upgrade()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);

    const WS::Handshake h = WS::validateUpgrade(parseRequest(request));
    QCOMPARE(h.status, status);
    QCOMPARE(h.reason, reason);
    QCOMPARE(h.isAccepted(), status == 101);
    if (h.isAccepted())
        QCOMPARE(h.accept, QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    else
        QVERIFY(h.accept.isEmpty());
}

void tst_WebSocket::acceptedResponse()
{
    const HttpRequest request = parseRequest(upgradeRequest(defaultUpgradeFields));
    QVERIFY(request.isUpgrade);
    QCOMPARE(WS::validateUpgrade(request).response(),
             QByteArray("HTTP/1.1 101 Switching Protocols\r\n"
                        "Connection: Upgrade\r\n"
                        "Upgrade: websocket\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
}

void tst_WebSocket::rejectedResponses()
{
    const QByteArray versionResponse
        = WS::validateUpgrade(
              parseRequest(upgradeRequest("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                          "Sec-WebSocket-Version: 7\r\n")))
              .response();
    QCOMPARE(versionResponse,
             QByteArray("HTTP/1.1 426 Upgrade Required\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Upgrade: websocket\r\n"
                        "Sec-WebSocket-Version: 13\r\n"
                        "Connection: Upgrade, close\r\n"
                        "Content-Length: 34\r\n\r\n"
                        "unsupported Sec-WebSocket-Version\n"));

    const QByteArray badRequest
        = WS::validateUpgrade(parseRequest(upgradeRequest(defaultUpgradeFields, "PUT"))).response();
    QCOMPARE(badRequest,
             QByteArray("HTTP/1.1 400 Bad Request\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Connection: close\r\n"
                        "Content-Length: 31\r\n\r\n"
                        "WebSocket upgrade requires GET\n"));
}

void tst_WebSocket::frames_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("maxSize");
    QTest::addColumn<QList<QByteArray>>("events");

    const qsizetype defaultMax = WS::FrameParser::DefaultMaxMessageSize;
    using Events = QList<QByteArray>;
    auto row = [&](const char *name, const QByteArray &input, Events events,
                   qsizetype maxSize = WS::FrameParser::DefaultMaxMessageSize) {
        QTest::newRow(name) << input << maxSize << events;
    };
    const QByteArray e1002 = "error:1002:";

    // RFC 6455 section 5.7 (client frames must be masked: the unmasked examples fail).
    row("RFC: single-frame unmasked text", QByteArray::fromHex("810548656c6c6f"),
        {e1002 + "unmasked client frame"});
    row("RFC: single-frame masked text", QByteArray::fromHex("818537fa213d7f9f4d5158"),
        {"text:Hello"});
    row("RFC: fragmented unmasked text", QByteArray::fromHex("010348656c80026c6f"),
        {e1002 + "unmasked client frame"});
    row("RFC: unmasked ping", QByteArray::fromHex("890548656c6c6f"),
        {e1002 + "unmasked client frame"});
    row("RFC: masked pong", QByteArray::fromHex("8a8537fa213d7f9f4d5158"), {"pong:Hello"});
    row("RFC: 256 bytes unmasked binary",
        QByteArray(QByteArray::fromHex("827e0100") + pattern(256)),
        {e1002 + "unmasked client frame"});
    row("RFC: 64 KiB unmasked binary",
        QByteArray(QByteArray::fromHex("827f0000000000010000") + pattern(65536)),
        {e1002 + "unmasked client frame"});

    // The same, masked.
    row("fragmented text", frame(0x01, "Hel") + frame(Fin | 0x00, "lo"), {"text:Hello"});
    row("masked ping", frame(Fin | 0x9, "Hello"), {"ping:Hello"});
    row("16-bit length", frame(Fin | 0x2, pattern(256)), {"binary:" + describe(pattern(256))});
    row("16-bit length, largest", frame(Fin | 0x2, pattern(65535)),
        {"binary:" + describe(pattern(65535))});
    row("64-bit length", frame(Fin | 0x2, pattern(65536)), {"binary:" + describe(pattern(65536))});
    row("16-bit length for 5 bytes", frame(Fin | 0x1, "Hello", Length::Force16), {"text:Hello"});
    row("64-bit length for 5 bytes", frame(Fin | 0x1, "Hello", Length::Force64), {"text:Hello"});
    row("64-bit length for 300 bytes, fragmented",
        frame(0x2, pattern(300), Length::Force64) + frame(Fin, "", Length::Force64),
        {"binary:" + describe(pattern(300))});
    row("zero mask key", frame(Fin | 0x1, "Hello", Length::Minimal, QByteArray(4, '\0')),
        {"text:Hello"});
    row("empty text", frame(Fin | 0x1, ""), {"text:"});
    row("empty binary", frame(Fin | 0x2, ""), {"binary:"});
    row("empty ping and pong", frame(Fin | 0x9, "") + frame(Fin | 0xA, ""), {"ping:", "pong:"});
    row("ping of 125 bytes", frame(Fin | 0x9, QByteArray(125, 'p')),
        {"ping:#125:"
         + QCryptographicHash::hash(QByteArray(125, 'p'), QCryptographicHash::Sha1)
               .toHex()
               .left(8)});
    row("binary may be anything", frame(Fin | 0x2, "\xff\xfe\xc3\x28"),
        {"binary:" + describe("\xff\xfe\xc3\x28")});
    row("control frames in a fragmented message",
        frame(0x01, "Hel") + frame(Fin | 0x9, "p1") + frame(0x00, "l") + frame(Fin | 0xA, "p2")
            + frame(Fin | 0x9, "") + frame(Fin | 0x00, "o"),
        {"ping:p1", "pong:p2", "ping:", "text:Hello"});
    row("many fragments, some empty",
        frame(0x02, "") + frame(0x00, "a") + frame(0x00, "") + frame(0x00, "bc")
            + frame(Fin | 0x00, ""),
        {"binary:abc"});
    row("messages back to back",
        frame(Fin | 0x1, "one") + frame(Fin | 0x2, "two") + frame(0x1, "thr") + frame(Fin, "ee")
            + frame(Fin | 0x9, "x"),
        {"text:one", "binary:two", "text:three", "ping:x"});
    row("UTF-8 split between fragments",
        frame(0x01, "price: \xe2") + frame(0x00, "\x82") + frame(Fin, "\xac"),
        {"text:" + describe("price: \xe2\x82\xac")});
    row("4-byte UTF-8", frame(Fin | 0x1, "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"),
        {"text:" + describe("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf")});
    row("incomplete frame waits", frame(Fin | 0x1, "Hello").chopped(1), {});
    row("incomplete header waits", QByteArray::fromHex("81fe00"), {});

    // Close.
    row("close with code and reason", frame(Fin | 0x8, closePayload(1000, "bye")),
        {"close:1000:bye"});
    row("close without payload", frame(Fin | 0x8, ""), {"close:1005:"});
    row("close with a UTF-8 reason", frame(Fin | 0x8, closePayload(4000, "\xc3\xa9t\xc3\xa9")),
        {"close:4000:\xc3\xa9t\xc3\xa9"});
    row("nothing after a close", frame(Fin | 0x8, closePayload(1001)) + frame(Fin | 0x1, "late"),
        {"close:1001:"});
    row("garbage after a close is ignored", frame(Fin | 0x8, "") + QByteArray("\x00\x00garbage", 9),
        {"close:1005:"});
    row("close in a fragmented message", frame(0x01, "Hel") + frame(Fin | 0x8, closePayload(1000)),
        {"close:1000:"});

    // 1002.
    row("RSV1", frame(Fin | 0x40 | 0x1, "Hello"), {e1002 + "reserved bits set"});
    row("RSV2", frame(Fin | 0x20 | 0x1, "Hello"), {e1002 + "reserved bits set"});
    row("RSV3", frame(Fin | 0x10 | 0x2, "Hello"), {e1002 + "reserved bits set"});
    row("RSV on a ping", frame(Fin | 0x40 | 0x9, ""), {e1002 + "reserved bits set"});
    for (const quint8 opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        QTest::addRow("opcode %d", opcode)
            << frame(Fin | opcode, "x") << defaultMax << Events {e1002 + "unknown opcode"};
    }
    row("unknown opcode in a fragmented message", frame(0x1, "a") + frame(Fin | 0x3, "b"),
        {e1002 + "unknown opcode"});
    row("ping of 126 bytes", frame(Fin | 0x9, QByteArray(126, 'p')),
        {e1002 + "control frame too long"});
    row("close of 126 bytes", frame(Fin | 0x8, closePayload(1000, QByteArray(124, 'r'))),
        {e1002 + "control frame too long"});
    row("pong with a 16-bit length", frame(Fin | 0xA, "p", Length::Force16),
        {e1002 + "control frame too long"});
    row("fragmented ping", frame(0x9, "p") + frame(Fin, "q"), {e1002 + "fragmented control frame"});
    row("fragmented close", frame(0x8, ""), {e1002 + "fragmented control frame"});
    row("continuation without a message", frame(Fin | 0x0, "x"),
        {e1002 + "unexpected continuation"});
    row("non-final continuation without a message", frame(0x0, "x"),
        {e1002 + "unexpected continuation"});
    row("continuation after a whole message", frame(Fin | 0x1, "a") + frame(Fin | 0x0, "b"),
        {"text:a", e1002 + "unexpected continuation"});
    row("text inside a fragmented message", frame(0x1, "a") + frame(Fin | 0x1, "b"),
        {e1002 + "expected a continuation"});
    row("binary inside a fragmented message", frame(0x2, "a") + frame(0x2, "b"),
        {e1002 + "expected a continuation"});
    row("64-bit length with the MSB set", QByteArray::fromHex("82ff8000000000000005"),
        {e1002 + "invalid payload length"});
    row("64-bit length of all ones", QByteArray::fromHex("82ffffffffffffffffff"),
        {e1002 + "invalid payload length"});
    row("unmasked after masked", frame(Fin | 0x1, "a") + frame(Fin | 0x1, "b", Length::Minimal, {}),
        {"text:a", e1002 + "unmasked client frame"});
    row("close with 1 byte", frame(Fin | 0x8, "\x03"), {e1002 + "invalid close payload"});

    // 1007.
    const QByteArray e1007 = "error:1007:text is not UTF-8";
    row("invalid UTF-8", frame(Fin | 0x1, "\xc3\x28"), {e1007});
    row("overlong UTF-8", frame(Fin | 0x1, "\xc0\xaf"), {e1007});
    row("UTF-8 surrogate", frame(Fin | 0x1, "\xed\xa0\x80"), {e1007});
    row("UTF-8 above U+10FFFF", frame(Fin | 0x1, "\xf4\x90\x80\x80"), {e1007});
    row("truncated UTF-8", frame(Fin | 0x1, "ok\xe2\x82"), {e1007});
    row("invalid UTF-8 in a first fragment fails at once", frame(0x1, "\xff"), {e1007});
    row("invalid UTF-8 in a middle fragment", frame(0x1, "ok") + frame(0x0, "\xe2\x28"), {e1007});
    row("UTF-8 truncated by the last fragment", frame(0x1, "a\xe2") + frame(Fin, "\x82"), {e1007});
    row("close reason not UTF-8", frame(Fin | 0x8, closePayload(1000, "\xc3\x28")),
        {"error:1007:close reason is not UTF-8"});

    // 1009.
    const QByteArray e1009 = "error:1009:message too big";
    row("message at the limit", frame(Fin | 0x2, "0123456789"), {"binary:0123456789"}, 10);
    row("message over the limit", frame(Fin | 0x2, "0123456789a"), {e1009}, 10);
    row("fragments at the limit", frame(0x1, "01234") + frame(Fin, "56789"), {"text:0123456789"},
        10);
    row("fragments over the limit", frame(0x1, "01234") + frame(Fin, "56789a"), {e1009}, 10);
    row("control frames do not count",
        frame(0x1, "01234") + frame(Fin | 0x9, "ping ping") + frame(Fin, "56789"),
        {"ping:ping ping", "text:0123456789"}, 10);
    row("too big, known from the header", QByteArray::fromHex("82ff0000000000100001"), {e1009});
    row("too big, 16-bit length", QByteArray::fromHex("82fe000b"), {e1009}, 10);
    row("no limit", frame(Fin | 0x2, pattern(70000)), {"binary:" + describe(pattern(70000))}, 0);
}

void tst_WebSocket::frames()
{
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, maxSize);
    QFETCH(QList<QByteArray>, events);

    Events out;
    QVERIFY(runAllWays(input, maxSize, out));
    QCOMPARE(out.described, events);
}

void tst_WebSocket::singleFrameMessageIsNotCopied()
{
    // A frame that ends the buffer is unmasked to the start of the buffer, which becomes the
    // payload.
    WS::FrameParser parser;
    QByteArray input = frame(Fin | 0x2, pattern(1000));
    parser.feed(input);
    const char *const inputStart = input.constData();
    input = QByteArray(); // the parser holds the only reference
    QCOMPARE(parser.bufferedBytes(), 1008);
    WS::FrameParser::Result r = parser.next();
    QCOMPARE(r.status, Status::Message);
    QCOMPARE(r.payload, pattern(1000));
    QVERIFY(r.payload.constData() == inputStart);
    QCOMPARE(parser.bufferedBytes(), 0);

    // Also when earlier frames were consumed from the same buffer.
    QByteArray two = frame(Fin | 0x9, "p") + frame(Fin | 0x1, "Hello");
    parser.feed(two);
    const char *const bufferStart = two.constData();
    two = QByteArray();
    QCOMPARE(parser.next().status, Status::Ping);
    r = parser.next();
    QCOMPARE(r.payload, QByteArray("Hello"));
    QVERIFY(r.payload.constData() == bufferStart);
}

void tst_WebSocket::clientFrameRoundTrip_data()
{
    QTest::addColumn<qsizetype>("size");
    for (const qsizetype size : {0, 1, 7, 8, 9, 125, 126, 127, 1000, 65535, 65536, 100000})
        QTest::addRow("%lld bytes", qint64(size)) << size;
}

void tst_WebSocket::clientFrameRoundTrip()
{
    QFETCH(qsizetype, size);
    const QByteArray payload = pattern(size);

    // appendClientFrame() against the RFC vector and the independent builder here.
    QByteArray rfc;
    WS::appendClientFrame(rfc, WS::Opcode::Text, "Hello", 0x37fa213d);
    QCOMPARE(rfc, QByteArray::fromHex("818537fa213d7f9f4d5158"));
    QByteArray bytes;
    WS::appendClientFrame(bytes, WS::Opcode::Binary, payload, 0x37fa213d);
    QCOMPARE(bytes, frame(Fin | 0x2, payload));

    // Fragmented in three with different masks, a ping in between.
    QByteArray fragmented;
    const qsizetype third = size / 3;
    WS::appendClientFrame(fragmented, WS::Opcode::Binary, payload.first(third), 0x01020304, false);
    WS::appendClientFrame(fragmented, WS::Opcode::Ping, "p", 0xdeadbeef);
    WS::appendClientFrame(fragmented, WS::Opcode::Continuation, payload.sliced(third, third),
                          0xffffffff, false);
    WS::appendClientFrame(fragmented, WS::Opcode::Continuation, payload.sliced(2 * third), 0);

    WS::FrameParser parser(0);
    parser.feed(QByteArray(bytes + fragmented));
    WS::FrameParser::Result r = parser.next();
    QCOMPARE(r.status, Status::Message);
    QCOMPARE(r.type, WS::FrameParser::MessageType::Binary);
    QCOMPARE(r.payload, payload);
    r = parser.next();
    QCOMPARE(r.status, Status::Ping);
    QVERIFY(parser.inMessage());
    r = parser.next();
    QCOMPARE(r.status, Status::Message);
    QCOMPARE(r.payload, payload);
    QVERIFY(!parser.inMessage());
    QCOMPARE(parser.next().status, Status::NeedMoreData);
}

void tst_WebSocket::closeCodes()
{
    for (int code = 0; code <= 65535; ++code) {
        const bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
            || (code >= 3000 && code <= 4999);
        QCOMPARE(WS::isValidCloseCode(quint16(code)), valid);
    }
    // The parser applies it: a sample of both kinds.
    for (const int code : {0,    999,  1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011,
                           1012, 1014, 1015, 1016, 2000, 2999, 3000, 4999, 5000, 65535}) {
        WS::FrameParser parser;
        parser.feed(frame(Fin | 0x8, closePayload(quint16(code), "r")));
        const WS::FrameParser::Result r = parser.next();
        if (WS::isValidCloseCode(quint16(code))) {
            QCOMPARE(r.status, Status::Close);
            QCOMPARE(r.closeCode, quint16(code));
            QCOMPARE(r.reason, QByteArray("r"));
        } else {
            QCOMPARE(r.status, Status::Error);
            QCOMPARE(r.closeCode, WS::CloseCode::ProtocolError);
            QCOMPARE(r.reason, QByteArray("invalid close code"));
        }
    }
}

void tst_WebSocket::writers_data()
{
    QTest::addColumn<QByteArray>("written");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("text") << WS::textFrame("Hello") << QByteArray::fromHex("810548656c6c6f");
    QTest::newRow("empty text") << WS::textFrame({}) << QByteArray::fromHex("8100");
    QTest::newRow("binary 256 (RFC)") << WS::binaryFrame(pattern(256))
                                      << QByteArray(QByteArray::fromHex("827e0100") + pattern(256));
    QTest::newRow("binary 64 KiB (RFC)")
        << WS::binaryFrame(pattern(65536))
        << QByteArray(QByteArray::fromHex("827f0000000000010000") + pattern(65536));
    QTest::newRow("ping (RFC)") << WS::pingFrame("Hello") << QByteArray::fromHex("890548656c6c6f");
    QTest::newRow("empty ping") << WS::pingFrame() << QByteArray::fromHex("8900");
    QTest::newRow("pong") << WS::pongFrame("Hello") << QByteArray::fromHex("8a0548656c6c6f");
    QTest::newRow("long ping is cut")
        << WS::pingFrame(QByteArray(200, 'p')) << QByteArray("\x89\x7d" + QByteArray(125, 'p'));
    QTest::newRow("close") << WS::closeFrame() << QByteArray::fromHex("880203e8");
    QTest::newRow("close with reason") << WS::closeFrame(WS::CloseCode::MessageTooBig, "too big")
                                       << QByteArray(QByteArray::fromHex("880903f1") + "too big");
    QTest::newRow("close 1005 has no payload")
        << WS::closeFrame(WS::CloseCode::NoStatus, "x") << QByteArray::fromHex("8800");
    QTest::newRow("close 1006 has no payload")
        << WS::closeFrame(WS::CloseCode::Abnormal) << QByteArray::fromHex("8800");
    QTest::newRow("close reason cut to 123 bytes")
        << WS::closeFrame(1000, QByteArray(130, 'r'))
        << QByteArray(QByteArray::fromHex("887d03e8") + QByteArray(123, 'r'));
    // 121 ASCII bytes, then a 3-byte character that does not fit: cut before it.
    QTest::newRow("close reason cut on a UTF-8 boundary")
        << WS::closeFrame(1000, QByteArray(QByteArray(121, 'r') + "\xe2\x82\xac"))
        << QByteArray(QByteArray::fromHex("887b03e8") + QByteArray(121, 'r'));
    QTest::newRow("close reason of exactly 123 bytes")
        << WS::closeFrame(1000, QByteArray(QByteArray(120, 'r') + "\xe2\x82\xac"))
        << QByteArray(QByteArray::fromHex("887d03e8") + QByteArray(120, 'r') + "\xe2\x82\xac");
    QByteArray appended = "prefix";
    WS::appendFrame(appended, WS::Opcode::Text, "a", false);
    WS::appendFrame(appended, WS::Opcode::Continuation, "b");
    QTest::newRow("appendFrame, fragmented") << appended
                                             << QByteArray("prefix\x01\x01"
                                                           "a\x80\x01"
                                                           "b");
}

void tst_WebSocket::writers()
{
    QFETCH(QByteArray, written);
    QFETCH(QByteArray, expected);
    QCOMPARE(written, expected);
}

void tst_WebSocket::writeHeader_data()
{
    QTest::addColumn<quint64>("size");
    QTest::addColumn<bool>("fin");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("0") << quint64(0) << true << QByteArray::fromHex("8200");
    QTest::newRow("125") << quint64(125) << true << QByteArray::fromHex("827d");
    QTest::newRow("126") << quint64(126) << true << QByteArray::fromHex("827e007e");
    QTest::newRow("65535") << quint64(65535) << true << QByteArray::fromHex("827effff");
    QTest::newRow("65536") << quint64(65536) << false
                           << QByteArray::fromHex("027f0000000000010000");
    QTest::newRow("2^32") << (quint64(1) << 32) << true
                          << QByteArray::fromHex("827f0000000100000000");
}

void tst_WebSocket::writeHeader()
{
    QFETCH(quint64, size);
    QFETCH(bool, fin);
    QFETCH(QByteArray, expected);

    char header[WS::MaxHeaderSize];
    const qsizetype n = WS::writeHeader(header, WS::Opcode::Binary, size, fin);
    QCOMPARE(QByteArray(header, n), expected);
    QCOMPARE(WS::headerSize(size), n);

    QByteArray appended = "x";
    WS::appendHeader(appended, WS::Opcode::Binary, size, fin);
    QCOMPARE(appended, QByteArray('x' + expected));

    // Reserve room in front of a payload, then put the header right before it.
    if (size <= 70000) {
        QByteArray buffer(WS::MaxHeaderSize, '\0');
        buffer.append(pattern(qsizetype(size)));
        const qsizetype h = WS::headerSize(size);
        WS::writeHeader(buffer.data() + WS::MaxHeaderSize - h, WS::Opcode::Binary, size, fin);
        QCOMPARE(buffer.sliced(WS::MaxHeaderSize - h),
                 QByteArray(expected + pattern(qsizetype(size))));
    }
}

void tst_WebSocket::unmask()
{
    const QByteArray data = pattern(300);
    const uchar mask[4] = {0x12, 0x34, 0x56, 0x78};
    for (qsizetype size : {0, 1, 3, 7, 8, 9, 15, 16, 17, 299}) {
        for (qsizetype phase = 0; phase < 4; ++phase) {
            QByteArray expected(size, Qt::Uninitialized);
            for (qsizetype i = 0; i < size; ++i)
                expected[i] = char(data[i] ^ mask[(phase + i) % 4]);

            QByteArray out(size, Qt::Uninitialized);
            WS::unmask(out.data(), data.constData(), size, mask, phase);
            QCOMPARE(out, expected);

            QByteArray inPlace = data.first(size);
            WS::unmask(inPlace.data(), inPlace.constData(), size, mask, phase);
            QCOMPARE(inPlace, expected);

            // Moving towards the start of the buffer, overlapping (as for a frame's payload).
            for (qsizetype shift : {1, 2, 6, 14}) {
                QByteArray buffer = QByteArray(shift, 'h') + data.first(size);
                WS::unmask(buffer.data(), buffer.constData() + shift, size, mask, phase);
                QCOMPARE(buffer.first(size), expected);
            }
        }
    }
}

void tst_WebSocket::utf8_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("valid");

    QTest::newRow("empty") << QByteArray() << true;
    QTest::newRow("ASCII") << QByteArray("Hello, world! 0123456789 long enough for words") << true;
    QTest::newRow("NUL") << QByteArray("a\0b", 3) << true;
    QTest::newRow("2-byte") << QByteArray("caf\xc3\xa9") << true;
    QTest::newRow("3-byte") << QByteArray("\xe2\x82\xac") << true;
    QTest::newRow("4-byte") << QByteArray("\xf0\x9f\x98\x80") << true;
    QTest::newRow("boundaries") << QByteArray(
        "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f"
        "\xbf\xbf") << true;
    QTest::newRow("U+D7FF and U+E000") << QByteArray("\xed\x9f\xbf\xee\x80\x80") << true;
    QTest::newRow("non-ASCII after 8 ASCII") << QByteArray("12345678\xc3\xa9xyz") << true;
    QTest::newRow("lone continuation") << QByteArray("\x80") << false;
    QTest::newRow("continuation after ASCII run") << QByteArray("abcdefghijk\xbf") << false;
    QTest::newRow("C0 overlong") << QByteArray("\xc0\x80") << false;
    QTest::newRow("C1 overlong") << QByteArray("\xc1\xbf") << false;
    QTest::newRow("E0 overlong") << QByteArray("\xe0\x9f\xbf") << false;
    QTest::newRow("F0 overlong") << QByteArray("\xf0\x8f\xbf\xbf") << false;
    QTest::newRow("surrogate D800") << QByteArray("\xed\xa0\x80") << false;
    QTest::newRow("surrogate DFFF") << QByteArray("\xed\xbf\xbf") << false;
    QTest::newRow("above U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << false;
    QTest::newRow("F5") << QByteArray("\xf5\x80\x80\x80") << false;
    QTest::newRow("FF") << QByteArray("\xff") << false;
    QTest::newRow("truncated 2-byte") << QByteArray("\xc3") << false;
    QTest::newRow("truncated 4-byte") << QByteArray("\xf0\x9f\x98") << false;
    QTest::newRow("ASCII inside a sequence") << QByteArray("\xe2\x82x") << false;
}

void tst_WebSocket::utf8()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, valid);

    QCOMPARE(isValidUtf8(input), valid);
    QCOMPARE(QByteArrayView(input).isValidUtf8(), valid); // Qt agrees
    // Streaming: any split gives the same verdict.
    for (qsizetype split = 0; split <= input.size(); ++split) {
        Utf8Validator v;
        const bool first = v.feed(QByteArrayView(input).first(split));
        const bool second = v.feed(QByteArrayView(input).sliced(split));
        QCOMPARE(first && second && v.isComplete(), valid);
        QCOMPARE(v.hasFailed(), !(first && second));
    }
    Utf8Validator v;
    for (const char c : input)
        v.feed(QByteArrayView(&c, 1));
    QCOMPARE(v.isComplete(), valid);
    v.reset();
    QVERIFY(v.isComplete());
}

QTEST_GUILESS_MAIN(tst_WebSocket)
#include "tst_websocket.moc"
