// SPDX-License-Identifier: MIT
// Malformed and hostile input: every case must end in a clear ProtocolError (or, for a stream
// that is merely incomplete, in NeedMoreData) and never crash, hang or allocate what the input
// merely claims.
#include "testutil.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/hubside.h>

#include <QtTest/QTest>

using namespace Heliograph;
using namespace Qt::StringLiterals;

namespace {

const QString depthError = u"The maximum nesting depth of 64 was exceeded."_s;
const QString tooLargeError = u"The maximum message size of 32768B was exceeded."_s;
const QString over2GbError = u"Messages over 2GB in size are not supported."_s;

QByteArray repeated(const char *unit, int times)
{
    return QByteArray(unit).repeated(times);
}

/// An invocation of "T" whose single argument is the given MessagePack value bytes.
QByteArray mpInvocationWithArgument(const QByteArray &argument)
{
    return hex("96 01 80 c0 a1 54 91") + argument + hex("90");
}

} // namespace

class tst_Malformed : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void varIntPrefix_data();
    void varIntPrefix();
    void declaredLengthDoesNotWait_data();
    void declaredLengthDoesNotWait();

    void messagePackBodies_data();
    void messagePackBodies();
    void jsonPayloads_data();
    void jsonPayloads();

    void invalidUtf8Json_data();
    void invalidUtf8Json();
    void invalidUtf8MessagePack_data();
    void invalidUtf8MessagePack();

    void deepNesting_data();
    void deepNesting();
    void nestingLimitBoundary_data();
    void nestingLimitBoundary();

    void missingRecordSeparator();
    void maxMessageSize_data();
    void maxMessageSize();
    void readerStaysFailed_data();
    void readerStaysFailed();

    void handshakeResolve_data();
    void handshakeResolve();
    void malformedHandshakeRequest_data();
    void malformedHandshakeRequest();
    void malformedHandshakeResponse_data();
    void malformedHandshakeResponse();
    void oversizedHandshake();
};

// --- framing --------------------------------------------------------------------------------

void tst_Malformed::varIntPrefix_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("complete"); // false: the prefix is merely unfinished
    QTest::addColumn<QString>("error"); // empty: incomplete, not an error

    QTest::newRow("truncated 1 byte") << hex("80") << false << QString();
    QTest::newRow("truncated 4 bytes") << hex("ff ff ff ff") << false << QString();
    QTest::newRow("5th byte > 7") << hex("ff ff ff ff 08") << true << over2GbError;
    QTest::newRow("5th byte 0x7f") << hex("ff ff ff ff 7f 00") << true << over2GbError;
    QTest::newRow("5th byte with continuation, nothing after")
        << hex("ff ff ff ff ff") << true << over2GbError;
    QTest::newRow("5th byte with continuation, more after")
        << hex("80 80 80 80 80 01") << true << over2GbError;
    QTest::newRow("6 bytes") << hex("ff ff ff ff ff ff 01 00") << true << over2GbError;
    QTest::newRow("exactly 2 GB") << hex("80 80 80 80 08") << true << over2GbError;
    QTest::newRow("zero length") << hex("00 91 06") << true
                                 << u"Invalid payload: a MessagePack message cannot be empty."_s;
}

void tst_Malformed::varIntPrefix()
{
    QFETCH(QByteArray, data);
    QFETCH(bool, complete);
    QFETCH(QString, error);

    const HubProtocol &mp = HubProtocol::messagePack();
    const FrameInfo f = mp.scanFrame(data);
    if (!complete) {
        QCOMPARE(f.status, FrameInfo::Status::Incomplete);
        // A whole-buffer parse reports it; a streaming reader waits.
        auto all = mp.parseAll(data);
        QVERIFY(!all);
        QCOMPARE(all.error().message, u"Incomplete message."_s);
        MessageReader reader(mp);
        reader.append(data);
        QCOMPARE(reader.read().status, MessageReader::Status::NeedMoreData);
        return;
    }
    QCOMPARE(f.status, FrameInfo::Status::Invalid);
    QCOMPARE(f.error.code, ProtocolErrorCode::InvalidData);
    QCOMPARE(f.error.message, error);

    MessageReader reader(mp);
    reader.append(data);
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.message, error);
}

void tst_Malformed::declaredLengthDoesNotWait_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<qsizetype>("maxMessageSize");
    QTest::addColumn<ProtocolErrorCode>("code");

    // 2 GB - 1 is a legal length, but not under a 32 KB limit: fail at once, not after 2 GB.
    QTest::newRow("2GB-1 with limit")
        << hex("ff ff ff ff 07 91") << qsizetype(32768) << ProtocolErrorCode::MessageTooLarge;
    QTest::newRow("32766+3 with limit")
        << hex("fe ff 01") << qsizetype(32768) << ProtocolErrorCode::MessageTooLarge;
    QTest::newRow("2GB without limit")
        << hex("80 80 80 80 08 91 06") << qsizetype(0) << ProtocolErrorCode::InvalidData;
    QTest::newRow("4GB without limit")
        << hex("ff ff ff ff 0f 91 06") << qsizetype(0) << ProtocolErrorCode::InvalidData;
}

void tst_Malformed::declaredLengthDoesNotWait()
{
    QFETCH(QByteArray, data);
    QFETCH(qsizetype, maxMessageSize);
    QFETCH(ProtocolErrorCode, code);

    const HubProtocol &mp = HubProtocol::messagePack();
    const FrameInfo f = mp.scanFrame(data, maxMessageSize);
    QCOMPARE(f.status, FrameInfo::Status::Invalid);
    QCOMPARE(f.error.code, code);

    MessageReader reader(mp, maxMessageSize);
    reader.append(data);
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.code, code);
    if (code == ProtocolErrorCode::MessageTooLarge)
        QCOMPARE(r.error.message, tooLargeError);
}

// --- envelopes ------------------------------------------------------------------------------

void tst_Malformed::messagePackBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("mentions"); // the error names what failed

    // too short envelopes
    QTest::newRow("empty array") << hex("90") << u"messageType"_s;
    QTest::newRow("not an array") << hex("06") << u"message"_s;
    QTest::newRow("map instead of array") << hex("81 01 02") << u"message"_s;
    QTest::newRow("invocation [1]") << hex("91 01") << u"headers"_s;
    QTest::newRow("invocation no target") << hex("93 01 80 c0") << u"target"_s;
    QTest::newRow("invocation no arguments") << hex("94 01 80 c0 a1 54") << u"arguments"_s;
    QTest::newRow("streamitem no id") << hex("92 02 80") << u"invocationId"_s;
    QTest::newRow("streamitem no item") << hex("93 02 80 a1 31") << u"Truncated"_s;
    QTest::newRow("completion no kind") << hex("93 03 80 a1 31") << u"resultKind"_s;
    QTest::newRow("completion error kind without text") << hex("94 03 80 a1 31 01") << u"error"_s;
    QTest::newRow("completion result kind without result")
        << hex("94 03 80 a1 31 03") << u"Truncated"_s;
    QTest::newRow("cancel no id") << hex("92 05 80") << u"invocationId"_s;
    QTest::newRow("close [7]") << hex("91 07") << u"error"_s;
    QTest::newRow("ack [8]") << hex("91 08") << u"sequenceId"_s;
    QTest::newRow("sequence [9]") << hex("91 09") << u"sequenceId"_s;

    // wrong types
    QTest::newRow("type is a string") << hex("91 a1 31") << u"messageType"_s;
    QTest::newRow("type above int32") << hex("91 ce 80 00 00 00") << u"messageType"_s;
    QTest::newRow("type uint64 max") << hex("91 cf ff ff ff ff ff ff ff ff") << u"messageType"_s;
    QTest::newRow("type is nil") << hex("91 c0") << u"messageType"_s;
    QTest::newRow("headers is an array") << hex("96 01 90 c0 a1 54 90 90") << u"headers"_s;
    QTest::newRow("header value not a string")
        << hex("96 01 81 a1 78 2a c0 a1 54 90 90") << u"headers[0].Value"_s;
    QTest::newRow("target nil") << hex("96 01 80 c0 c0 90 90") << u"target"_s;
    QTest::newRow("id is an int") << hex("93 05 80 2a") << u"invocationId"_s;
    QTest::newRow("id is binary") << hex("93 05 80 c4 01 31") << u"invocationId"_s;
    QTest::newRow("arguments is a map") << hex("96 01 80 c0 a1 54 80 90") << u"arguments"_s;
    QTest::newRow("streamIds is a string") << hex("96 01 80 c0 a1 54 90 a1 31") << u"streamIds"_s;
    QTest::newRow("streamId is an int") << hex("96 01 80 c0 a1 54 90 91 01") << u"streamId"_s;
    QTest::newRow("streamId is nil") << hex("96 01 80 c0 a1 54 90 91 c0") << u"streamId"_s;
    QTest::newRow("result kind is a bool") << hex("95 03 80 a1 31 c3 2a") << u"resultKind"_s;
    QTest::newRow("result kind 0") << hex("95 03 80 a1 31 00 2a") << u"result kind"_s;
    QTest::newRow("error is an int") << hex("95 03 80 a1 31 01 2a") << u"error"_s;
    QTest::newRow("close error is an int") << hex("93 07 2a c2") << u"error"_s;
    QTest::newRow("close allowReconnect is an int") << hex("93 07 c0 01") << u"allowReconnect"_s;
    QTest::newRow("ack id is a string") << hex("92 08 a1 31") << u"sequenceId"_s;
    QTest::newRow("ack id is a float")
        << hex("92 08 cb 3f f0 00 00 00 00 00 00") << u"sequenceId"_s;
    QTest::newRow("sequence id above int64")
        << hex("92 09 cf 80 00 00 00 00 00 00 00") << u"sequenceId"_s;

    // hostile sizes
    QTest::newRow("envelope declares 2^32-1 items")
        << hex("dd ff ff ff ff 06 c0 c0") << u"message"_s;
    QTest::newRow("arguments declare 2^32-1 items")
        << hex("96 01 80 c0 a1 54 dd ff ff ff ff 01 02 03") << u"arguments"_s;
    QTest::newRow("argument array of 2^32-1 items")
        << mpInvocationWithArgument(hex("dd ff ff ff ff 01 02 03")) << u"MessagePack"_s;
    QTest::newRow("argument map of 2^32-1 entries")
        << mpInvocationWithArgument(hex("df ff ff ff ff 01 02 03")) << u"MessagePack"_s;
    QTest::newRow("headers declare 2^32-1 entries")
        << hex("96 01 df ff ff ff ff a1 78") << u"headers"_s;
    QTest::newRow("streamIds declare 2^32-1 items")
        << hex("96 01 80 c0 a1 54 90 dd ff ff ff ff a1 31") << u"streamId"_s;
    QTest::newRow("target str32 of 2 GB")
        << hex("96 01 80 c0 db 80 00 00 00 61 62 63") << u"target"_s;
    QTest::newRow("argument str32 of 2 GB")
        << mpInvocationWithArgument(hex("db 80 00 00 00 61 62 63")) << u"MessagePack"_s;
    QTest::newRow("argument str32 of 4 GB")
        << mpInvocationWithArgument(hex("db ff ff ff ff 61 62 63")) << u"MessagePack"_s;
    QTest::newRow("argument bin32 of 2 GB")
        << mpInvocationWithArgument(hex("c6 80 00 00 00 61 62 63")) << u"MessagePack"_s;
    QTest::newRow("argument ext32 of 2 GB")
        << mpInvocationWithArgument(hex("c9 80 00 00 00 05 61 62 63")) << u"MessagePack"_s;
    QTest::newRow("item str8 longer than the body")
        << hex("94 02 80 a1 31 d9 10 61") << u"MessagePack"_s;

    // invalid items
    QTest::newRow("reserved byte 0xc1") << mpInvocationWithArgument(hex("c1")) << u"MessagePack"_s;
    QTest::newRow("timestamp with 3 bytes")
        << mpInvocationWithArgument(hex("c7 03 ff 01 02 03")) << u"timestamp"_s;
    QTest::newRow("timestamp64 nanoseconds >= 1e9")
        << mpInvocationWithArgument(hex("d7 ff ff ff ff ff 00 00 00 00")) << u"timestamp"_s;
    QTest::newRow("timestamp96 nanoseconds >= 1e9")
        << mpInvocationWithArgument(hex("c7 0c ff 3b 9a ca 00 00 00 00 00 00 00 00 00"))
        << u"timestamp"_s;
}

void tst_Malformed::messagePackBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, mentions);

    const HubProtocol &mp = HubProtocol::messagePack();
    auto decoded = mp.parsePayload(body);
    QVERIFY2(!decoded, decoded && *decoded ? describe(**decoded).constData() : "skipped");
    QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
    QVERIFY2(decoded.error().message.contains(mentions, Qt::CaseInsensitive),
             qPrintable(decoded.error().message));

    MessageReader reader(mp);
    reader.append(framed(body));
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error, decoded.error());
}

void tst_Malformed::jsonPayloads_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("empty") << QByteArray() << u"JSON"_s;
    QTest::newRow("whitespace") << QByteArray(" \r\n\t") << u"JSON"_s;
    QTest::newRow("unterminated object") << QByteArray(R"({"type":1)") << u"JSON"_s;
    QTest::newRow("unterminated string") << QByteArray(R"({"type":1,"target":"abc)") << u"JSON"_s;
    QTest::newRow("trailing comma") << QByteArray(R"({"type":6,})") << u"offset"_s;
    QTest::newRow("comment") << QByteArray(R"({"type":6 /* c */})") << u"offset"_s;
    QTest::newRow("single quotes") << QByteArray(R"({'type':6})") << u"offset"_s;
    QTest::newRow("bare key") << QByteArray(R"({type:6})") << u"offset"_s;
    QTest::newRow("missing colon") << QByteArray(R"({"type" 6})") << u"':'"_s;
    QTest::newRow("two objects") << QByteArray(R"({"type":6}{"type":6})") << u"after"_s;
    QTest::newRow("trailing garbage") << QByteArray(R"({"type":6} x)") << u"after"_s;
    QTest::newRow("raw control char in string")
        << QByteArray("{\"type\":1,\"target\":\"a\x01\",\"arguments\":[]}") << u"control"_s;
    QTest::newRow("bad escape") << QByteArray(R"({"type":1,"target":"\q","arguments":[]})")
                                << u"escape"_s;
    QTest::newRow("short \\u escape")
        << QByteArray(R"({"type":1,"target":"\u12","arguments":[]})") << u"escape"_s;
    QTest::newRow("leading zero") << QByteArray(R"({"type":01})") << u"offset"_s;
    QTest::newRow("plus sign") << QByteArray(R"({"type":+1})") << u"type"_s;
    QTest::newRow("bare minus") << QByteArray(R"({"type":8,"sequenceId":-})") << u"offset"_s;
    QTest::newRow("dot without digits")
        << QByteArray(R"({"type":8,"sequenceId":1.})") << u"number"_s;
    QTest::newRow("exponent without digits")
        << QByteArray(R"({"type":8,"sequenceId":1e})") << u"number"_s;
    QTest::newRow("huge exponent")
        << QByteArray(R"({"type":2,"invocationId":"1","item":1e999})") << u"range"_s;
    QTest::newRow("NaN literal") << QByteArray(R"({"type":2,"invocationId":"1","item":NaN})")
                                 << u"offset"_s;
    QTest::newRow("truncated literal")
        << QByteArray(R"({"type":2,"invocationId":"1","item":tru})") << u"literal"_s;
    QTest::newRow("type is fractional") << QByteArray(R"({"type":1.5})") << u"type"_s;
    QTest::newRow("type is null") << QByteArray(R"({"type":null})") << u"type"_s;
    QTest::newRow("sequenceId beyond int64")
        << QByteArray(R"({"type":8,"sequenceId":9223372036854775808})") << u"sequenceId"_s;
    QTest::newRow("sequenceId is a string")
        << QByteArray(R"({"type":9,"sequenceId":"1"})") << u"sequenceId"_s;
    QTest::newRow("target is a number")
        << QByteArray(R"({"type":1,"target":1,"arguments":[]})") << u"target"_s;
    QTest::newRow("headers is an array")
        << QByteArray(R"({"type":1,"headers":[],"target":"a","arguments":[]})") << u"headers"_s;
    QTest::newRow("streamIds has a number")
        << QByteArray(R"({"type":1,"target":"a","arguments":[],"streamIds":[1]})")
        << u"streamIds"_s;
    QTest::newRow("streamIds is an object")
        << QByteArray(R"({"type":1,"target":"a","arguments":[],"streamIds":{}})") << u"streamIds"_s;
    QTest::newRow("allowReconnect is a string")
        << QByteArray(R"({"type":7,"allowReconnect":"true"})") << u"allowReconnect"_s;
    QTest::newRow("streaminvocation without id")
        << QByteArray(R"({"type":4,"target":"a","arguments":[]})") << u"invocationId"_s;
    QTest::newRow("streamitem with empty id")
        << QByteArray(R"({"type":2,"invocationId":"","item":1})") << u"invocationId"_s;
    QTest::newRow("completion without id")
        << QByteArray(R"({"type":3,"result":1})") << u"invocationId"_s;
    QTest::newRow("cancel without id") << QByteArray(R"({"type":5})") << u"invocationId"_s;
    QTest::newRow("lone high surrogate escape")
        << QByteArray(R"({"type":1,"target":"\ud800","arguments":[]})") << u"surrogate"_s;
    QTest::newRow("lone low surrogate escape")
        << QByteArray(R"({"type":1,"target":"\udc00","arguments":[]})") << u"surrogate"_s;
    QTest::newRow("high surrogate + non-surrogate")
        << QByteArray(R"({"type":1,"target":"\ud800\u0041","arguments":[]})") << u"surrogate"_s;
    QTest::newRow("record separator inside") << QByteArray("{\"type\":6}\x1e") << u"after"_s;
}

void tst_Malformed::jsonPayloads()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, mentions);

    const HubProtocol &json = HubProtocol::json();
    auto decoded = json.parsePayload(payload);
    QVERIFY2(!decoded, decoded && *decoded ? describe(**decoded).constData() : "skipped");
    QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
    QVERIFY2(decoded.error().message.contains(mentions, Qt::CaseInsensitive),
             qPrintable(decoded.error().message));
}

// --- invalid UTF-8 --------------------------------------------------------------------------

namespace {
void addInvalidUtf8Rows()
{
    QTest::addColumn<QByteArray>("bad");
    QTest::newRow("overlong '/' (c0 af)") << hex("c0 af");
    QTest::newRow("overlong NUL (c0 80)") << hex("c0 80");
    QTest::newRow("overlong 3-byte (e0 80 af)") << hex("e0 80 af");
    QTest::newRow("overlong 4-byte (f0 80 80 af)") << hex("f0 80 80 af");
    QTest::newRow("surrogate U+D800 (ed a0 80)") << hex("ed a0 80");
    QTest::newRow("surrogate U+DFFF (ed bf bf)") << hex("ed bf bf");
    QTest::newRow("surrogate pair as CESU-8") << hex("ed a0 bd ed b8 80");
    QTest::newRow("above U+10FFFF (f4 90 80 80)") << hex("f4 90 80 80");
    QTest::newRow("truncated 2-byte (c3)") << hex("c3");
    QTest::newRow("truncated 3-byte (e2 82)") << hex("e2 82");
    QTest::newRow("truncated 4-byte (f0 9f 98)") << hex("f0 9f 98");
    QTest::newRow("truncated then ASCII (e2 82 41)") << hex("e2 82 41");
    QTest::newRow("lone continuation (80)") << hex("80");
    QTest::newRow("0xff") << hex("ff");
    QTest::newRow("0xfe") << hex("fe");
    QTest::newRow("5-byte form (f8 88 80 80 80)") << hex("f8 88 80 80 80");
}
} // namespace

void tst_Malformed::invalidUtf8Json_data()
{
    addInvalidUtf8Rows();
}

void tst_Malformed::invalidUtf8Json()
{
    QFETCH(QByteArray, bad);

    const HubProtocol &json = HubProtocol::json();
    const QList<QByteArray> payloads {
        // in the target, plain and after an escape (the slow path)
        R"({"type":1,"target":"a)" + bad + R"(","arguments":[]})",
        R"({"type":1,"target":"\n)" + bad + R"(x","arguments":[]})",
        R"({"type":1,"target":"a","arguments":[]," )" + bad + R"(":1})", // as an unknown key
        R"({"type":1,"target":"a","arguments":[")" + bad + R"("]})", // in an argument
        R"({"type":1,"target":"a","arguments":[{")" + bad + R"(":1}]})", // as a map key
        R"({"type":2,"invocationId":")" + bad + R"(","item":1})",
        R"({"type":7,"error":")" + bad + R"("})",
        R"({"type":1,"headers":{"k":")" + bad + R"("},"target":"a","arguments":[]})",
        R"({"type":6,"unknown":")" + bad + R"("})", // in a skipped value
    };
    for (const QByteArray &p : payloads) {
        auto decoded = json.parsePayload(p);
        QVERIFY2(!decoded, p.toHex(' ').constData());
        QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
        QVERIFY2(decoded.error().message.contains(u"UTF-8"_s), qPrintable(decoded.error().message));
    }
}

void tst_Malformed::invalidUtf8MessagePack_data()
{
    addInvalidUtf8Rows();
}

void tst_Malformed::invalidUtf8MessagePack()
{
    QFETCH(QByteArray, bad);

    const HubProtocol &mp = HubProtocol::messagePack();
    const QByteArray str = QByteArray(1, char(0xa0 | bad.size())) + bad; // fixstr
    const QList<QByteArray> bodies {
        hex("96 01 80 c0") + str + hex("90 90"), // target
        hex("96 01 80") + str + hex("a1 54 90 90"), // invocation id
        hex("96 01 81") + str + hex("a1 76 c0 a1 54 90 90"), // header key
        hex("96 01 81 a1 6b") + str + hex("c0 a1 54 90 90"), // header value
        mpInvocationWithArgument(str), // argument
        mpInvocationWithArgument(hex("81") + str + hex("01")), // map key inside an argument
        mpInvocationWithArgument(hex("92 01 91") + str), // nested
        hex("96 01 80 c0 a1 54 90 91") + str, // stream id
        hex("95 03 80 a1 31 01") + str, // completion error
        hex("93 07") + str + hex("c2"), // close error
        hex("94 02 80 a1 31") + str, // stream item
    };
    for (const QByteArray &body : bodies) {
        auto decoded = mp.parsePayload(body);
        QVERIFY2(!decoded, body.toHex(' ').constData());
        QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
        QVERIFY(!decoded.error().message.isEmpty());
    }
    // Binary is not text: the same bytes as bin8 are fine.
    auto asBinary = mp.parsePayload(mpInvocationWithArgument(hex("c4") + char(bad.size()) + bad));
    VERIFY_OK(asBinary);
    QCOMPARE(**asBinary, invocation({}, "T", {Value::fromBinary(bad)}));
}

// --- nesting --------------------------------------------------------------------------------

void tst_Malformed::deepNesting_data()
{
    QTest::addColumn<bool>("messagePack");
    QTest::addColumn<QByteArray>("payload");

    constexpr int deep = 10000;
    QTest::newRow("json arrays in arguments")
        << false
        << QByteArray(R"({"type":1,"target":"a","arguments":[)" + repeated("[", deep)
                      + repeated("]", deep) + "]}");
    QTest::newRow("json unclosed arrays")
        << false << QByteArray(R"({"type":1,"target":"a","arguments":)" + repeated("[", deep));
    QTest::newRow("json objects in item")
        << false
        << QByteArray(R"({"type":2,"invocationId":"1","item":)" + repeated(R"({"a":)", deep) + "1"
                      + repeated("}", deep) + "}");
    QTest::newRow("json arrays in result")
        << false
        << QByteArray(R"({"type":3,"invocationId":"1","result":)" + repeated("[", deep)
                      + repeated("]", deep) + "}");
    QTest::newRow("json arrays in an unknown property")
        << false
        << QByteArray(R"({"type":6,"x":)" + repeated("[", deep) + repeated("]", deep) + "}");
    QTest::newRow("json objects in headers")
        << false
        << QByteArray(R"({"type":1,"headers":)" + repeated(R"({"a":)", deep) + "1"
                      + repeated("}", deep) + R"(,"target":"a","arguments":[]})");
    QTest::newRow("msgpack arrays in an argument")
        << true << mpInvocationWithArgument(repeated("\x91", deep) + hex("c0"));
    QTest::newRow("msgpack maps in an argument")
        << true << mpInvocationWithArgument(repeated("\x81\xa1\x61", deep) + hex("c0"));
    QTest::newRow("msgpack arrays as map keys")
        << true << mpInvocationWithArgument(repeated("\x81", deep) + hex("c0"));
    QTest::newRow("msgpack arrays in an item")
        << true << QByteArray(hex("94 02 80 a1 31") + repeated("\x91", deep) + hex("2a"));
    QTest::newRow("msgpack arrays in a result")
        << true << QByteArray(hex("95 03 80 a1 31 03") + repeated("\x91", deep) + hex("2a"));
    QTest::newRow("msgpack unclosed arrays")
        << true << mpInvocationWithArgument(repeated("\xdc\xff\xff", deep));
}

void tst_Malformed::deepNesting()
{
    QFETCH(bool, messagePack);
    QFETCH(QByteArray, payload);

    const HubProtocol &p = messagePack ? HubProtocol::messagePack() : HubProtocol::json();
    auto decoded = p.parsePayload(payload);
    QVERIFY(!decoded);
    QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
    QCOMPARE(decoded.error().message, depthError);

    // Through the reader, framed.
    MessageReader reader(p);
    reader.append(messagePack ? framed(payload) : rs(payload));
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.message, depthError);
}

void tst_Malformed::nestingLimitBoundary_data()
{
    QTest::addColumn<int>("depth"); // nesting of the value inside the message
    QTest::addColumn<bool>("messagePackOk");
    QTest::addColumn<bool>("jsonOk");

    // The limit is 64 containers. MessagePack counts within each value; JSON counts from the
    // message object (the envelope object and the arguments array take two levels).
    QTest::newRow("62") << 62 << true << true;
    QTest::newRow("63") << 63 << true << false;
    QTest::newRow("64") << 64 << true << false;
    QTest::newRow("65") << 65 << false << false;
}

void tst_Malformed::nestingLimitBoundary()
{
    QFETCH(int, depth);
    QFETCH(bool, messagePackOk);
    QFETCH(bool, jsonOk);

    Value v = 1;
    for (int i = 0; i < depth; ++i)
        v = Value(ValueList {v});
    const HubMessage m = invocation({}, "a", {v});

    for (const HubProtocol *p : {&HubProtocol::messagePack(), &HubProtocol::json()}) {
        const bool ok = p == &HubProtocol::json() ? jsonOk : messagePackOk;
        auto decoded = parseOne(*p, p->serialize(m));
        QCOMPARE(bool(decoded), ok);
        if (ok)
            QCOMPARE(*decoded, m);
        else
            QCOMPARE(decoded.error().message, depthError);
    }
}

// --- sizes ----------------------------------------------------------------------------------

void tst_Malformed::missingRecordSeparator()
{
    const QByteArray start = R"({"type":1,"target":"a","arguments":[")";
    const QByteArray chunk(1000, 'x');

    // With a limit: NeedMoreData while the buffer may still become a frame within the limit,
    // MessageTooLarge as soon as it cannot.
    MessageReader limited(HubProtocol::json(), 32768);
    limited.append(start);
    QCOMPARE(limited.read().status, MessageReader::Status::NeedMoreData);
    while (start.size() + 1000 * 31 > limited.bufferedBytes()) {
        limited.append(chunk);
        QCOMPARE(limited.read().status, MessageReader::Status::NeedMoreData);
    }
    limited.append(QByteArray(32767 - limited.bufferedBytes(), 'x'));
    QCOMPARE(limited.bufferedBytes(), 32767);
    QCOMPARE(limited.read().status, MessageReader::Status::NeedMoreData); // RS could still fit
    limited.append(QByteArray("x"));
    auto r = limited.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.code, ProtocolErrorCode::MessageTooLarge);
    QCOMPARE(r.error.message, tooLargeError);

    // Without a limit it simply waits.
    MessageReader unlimited(HubProtocol::json());
    unlimited.append(start);
    for (int i = 0; i < 200; ++i) {
        unlimited.append(chunk);
        QCOMPARE(unlimited.read().status, MessageReader::Status::NeedMoreData);
    }
    QCOMPARE(unlimited.bufferedBytes(), start.size() + 200 * 1000);
    // ...and finishes once the rest arrives.
    unlimited.append(QByteArray("\"]}\x1e"));
    r = unlimited.read();
    QCOMPARE(r.status, MessageReader::Status::Message);
    QCOMPARE(std::get<InvocationMessage>(*r.message).arguments.first().size(), 200 * 1000);
}

void tst_Malformed::maxMessageSize_data()
{
    QTest::addColumn<bool>("messagePack");
    QTest::addColumn<qsizetype>("frameSize");
    QTest::addColumn<bool>("ok");

    for (bool mp : {false, true}) {
        const char *name = mp ? "messagepack" : "json";
        QTest::addRow("%s 100", name) << mp << qsizetype(100) << true;
        QTest::addRow("%s 32767", name) << mp << qsizetype(32767) << true;
        QTest::addRow("%s 32768", name) << mp << qsizetype(32768) << true;
        QTest::addRow("%s 32769", name) << mp << qsizetype(32769) << false;
        QTest::addRow("%s 40000", name) << mp << qsizetype(40000) << false;
        QTest::addRow("%s 1000000", name) << mp << qsizetype(1000000) << false;
    }
}

void tst_Malformed::maxMessageSize()
{
    QFETCH(bool, messagePack);
    QFETCH(qsizetype, frameSize);
    QFETCH(bool, ok);

    const HubProtocol &p = messagePack ? HubProtocol::messagePack() : HubProtocol::json();
    // Grow a string argument until the framed message has exactly `frameSize` bytes.
    auto make = [&](qsizetype n) {
        return invocation({}, "Send", {Value::fromUtf8(QByteArray(n, 'a'))});
    };
    qsizetype n = frameSize - p.serialize(make(0)).size();
    QByteArray frame = p.serialize(make(n));
    while (frame.size() > frameSize) // wider length headers
        frame = p.serialize(make(--n));
    QCOMPARE(frame.size(), frameSize);

    // Whole frame at once, then byte by byte up to the point of no return.
    MessageReader reader(p, 32768);
    reader.append(frame + p.serialize(ping()));
    auto r = reader.read();
    if (ok) {
        QCOMPARE(r.status, MessageReader::Status::Message);
        QCOMPARE(*r.message, make(n));
        QCOMPARE(reader.read().status, MessageReader::Status::Message);
        QCOMPARE(p.scanFrame(frame, 32768).status, FrameInfo::Status::Complete);
        return;
    }
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.code, ProtocolErrorCode::MessageTooLarge);
    QCOMPARE(r.error.message, tooLargeError);

    // Fed in pieces, the reader fails no later than byte 32769 (JSON) or the length prefix
    // (MessagePack), without waiting for the rest.
    MessageReader pieces(p, 32768);
    qsizetype fed = 0;
    MessageReader::Result pr;
    while (fed < frame.size()) {
        const qsizetype step = qMin<qsizetype>(512, frame.size() - fed);
        pieces.append(QByteArrayView(frame).sliced(fed, step));
        fed += step;
        pr = pieces.read();
        if (pr.status != MessageReader::Status::NeedMoreData)
            break;
    }
    QCOMPARE(pr.status, MessageReader::Status::Error);
    QCOMPARE(pr.error.message, tooLargeError);
    QVERIFY2(fed <= (messagePack ? 512 : 32768 + 512), QByteArray::number(fed).constData());
}

void tst_Malformed::readerStaysFailed_data()
{
    QTest::addColumn<bool>("messagePack");
    QTest::addColumn<QByteArray>("bad");

    QTest::newRow("json parse error") << false << rs(R"({"type":"x"})");
    QTest::newRow("json too large") << false << QByteArray(40000, 'x');
    QTest::newRow("msgpack parse error") << true << hex("02 91 c0");
    QTest::newRow("msgpack bad prefix") << true << hex("ff ff ff ff ff");
}

void tst_Malformed::readerStaysFailed()
{
    QFETCH(bool, messagePack);
    QFETCH(QByteArray, bad);

    const HubProtocol &p = messagePack ? HubProtocol::messagePack() : HubProtocol::json();
    const QByteArray good = p.serialize(ping());
    MessageReader reader(p, 32768);
    reader.append(good + bad + good);
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Message);
    QCOMPARE(*r.message, ping());
    r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    const ProtocolError error = r.error;
    QVERIFY(!error.message.isEmpty());
    for (int i = 0; i < 3; ++i) {
        reader.append(good);
        r = reader.read();
        QCOMPARE(r.status, MessageReader::Status::Error);
        QCOMPARE(r.error, error);
        QVERIFY(!r.message);
    }
    // clear() makes it usable again.
    reader.clear();
    reader.append(good);
    QCOMPARE(reader.read().status, MessageReader::Status::Message);
}

// --- handshake ------------------------------------------------------------------------------

void tst_Malformed::handshakeResolve_data()
{
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<int>("version");
    QTest::addColumn<int>("transport"); // TransferFormat bits
    QTest::addColumn<bool>("onlyJson"); // enabled = { json }
    QTest::addColumn<ProtocolErrorCode>("code");
    QTest::addColumn<QString>("error");

    const int textOnly = int(TransferFormat::Text);
    const int both = int(TransferFormat::Text | TransferFormat::Binary);
    QTest::newRow("unknown protocol")
        << QByteArray("foo") << 1 << both << false << ProtocolErrorCode::UnsupportedProtocol
        << u"The protocol 'foo' is not supported."_s;
    QTest::newRow("empty protocol")
        << QByteArray() << 1 << both << false << ProtocolErrorCode::UnsupportedProtocol
        << u"The protocol '' is not supported."_s;
    QTest::newRow("disabled protocol")
        << QByteArray("messagepack") << 1 << both << true << ProtocolErrorCode::UnsupportedProtocol
        << u"The protocol 'messagepack' is not supported."_s;
    QTest::newRow("json v3") << QByteArray("json") << 3 << both << false
                             << ProtocolErrorCode::UnsupportedVersion
                             << u"The server does not support version 3 of the 'json' protocol."_s;
    QTest::newRow("messagepack v3")
        << QByteArray("messagepack") << 3 << both << false << ProtocolErrorCode::UnsupportedVersion
        << u"The server does not support version 3 of the 'messagepack' protocol."_s;
    QTest::newRow("messagepack over SSE")
        << QByteArray("messagepack") << 1 << textOnly << false
        << ProtocolErrorCode::UnsupportedTransferFormat
        << u"Cannot use the 'messagepack' protocol on the current transport. The transport "
           "does not support 'Binary' transfer format."_s;
    QTest::newRow("json v1 ok") << QByteArray("json") << 1 << textOnly << false
                                << ProtocolErrorCode::InvalidData << QString();
    QTest::newRow("json v2 ok") << QByteArray("json") << 2 << both << true
                                << ProtocolErrorCode::InvalidData << QString();
    QTest::newRow("MessagePack (case) v2 ok") << QByteArray("MessagePack") << 2 << both << false
                                              << ProtocolErrorCode::InvalidData << QString();
}

void tst_Malformed::handshakeResolve()
{
    QFETCH(QByteArray, protocol);
    QFETCH(int, version);
    QFETCH(int, transport);
    QFETCH(bool, onlyJson);
    QFETCH(ProtocolErrorCode, code);
    QFETCH(QString, error);

    QList<const HubProtocol *> enabled;
    if (onlyJson)
        enabled = {&HubProtocol::json()};
    auto r = Handshake::resolve({protocol, version}, TransferFormat(transport), enabled);
    if (error.isEmpty()) {
        VERIFY_OK(r);
        QCOMPARE(*r, HubProtocol::find(protocol));
        QVERIFY(*r != nullptr);
        return;
    }
    QVERIFY(!r);
    QCOMPARE(r.error().code, code);
    QCOMPARE(r.error().message, error);
    // The server answers the handshake with that text.
    QCOMPARE(Handshake::writeResponse({error.toUtf8()}),
             rs(R"({"error":")" + error.toUtf8() + R"("})"));
}

void tst_Malformed::malformedHandshakeRequest_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("missing version") << rs(R"({"protocol":"json"})") << u"'version'"_s;
    QTest::newRow("missing protocol") << rs(R"({"version":1})") << u"'protocol'"_s;
    QTest::newRow("protocol is a number") << rs(R"({"protocol":1,"version":1})") << u"'protocol'"_s;
    QTest::newRow("version is a string")
        << rs(R"({"protocol":"json","version":"1"})") << u"'version'"_s;
    QTest::newRow("version is fractional")
        << rs(R"({"protocol":"json","version":1.5})") << u"'version'"_s;
    QTest::newRow("version beyond int")
        << rs(R"({"protocol":"json","version":4294967297})") << u"'version'"_s;
    QTest::newRow("array") << rs(R"(["json",1])") << u"Array"_s;
    QTest::newRow("empty") << rs("") << u"None"_s;
    QTest::newRow("unterminated") << rs(R"({"protocol":"json","version":1)") << u"JSON"_s;
    QTest::newRow("trailing comma") << rs(R"({"protocol":"json","version":1,})") << u"offset"_s;
    QTest::newRow("trailing data") << rs(R"({"protocol":"json","version":1} x)") << u"after"_s;
    QTest::newRow("invalid UTF-8")
        << rs("{\"protocol\":\"js\xc0\xafon\",\"version\":1}") << u"UTF-8"_s;
    QTest::newRow("deep extra property") << rs(R"({"protocol":"json","version":1,"x":)"
                                               + repeated("[", 10000) + repeated("]", 10000) + "}")
                                         << u"depth"_s;
}

void tst_Malformed::malformedHandshakeRequest()
{
    QFETCH(QByteArray, data);
    QFETCH(QString, mentions);

    HandshakeRequest req;
    auto r = Handshake::parseRequest(data, req);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ProtocolErrorCode::InvalidData);
    QVERIFY2(r.error().message.contains(mentions, Qt::CaseInsensitive),
             qPrintable(r.error().message));
}

void tst_Malformed::malformedHandshakeResponse_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QString>("error"); // exact when it is a documented text

    QTest::newRow("hub message instead")
        << rs(R"({"type":6})") << u"Expected a handshake response from the server."_s;
    QTest::newRow("type after error")
        << rs(R"({"error":"x","type":1})") << u"Expected a handshake response from the server."_s;
    QTest::newRow("type null") << rs(R"({"type":null})")
                               << u"Expected a handshake response from the server."_s;
    QTest::newRow("error is a number") << rs(R"({"error":1})") << QString();
    QTest::newRow("array") << rs("[]") << QString();
    QTest::newRow("unterminated") << rs("{") << QString();
    QTest::newRow("garbage") << rs("xyz") << QString();
    QTest::newRow("messagepack instead") << hex("7b 7d 00 1e") << QString();
}

void tst_Malformed::malformedHandshakeResponse()
{
    QFETCH(QByteArray, data);
    QFETCH(QString, error);

    HandshakeResponse resp;
    auto r = Handshake::parseResponse(data, resp);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ProtocolErrorCode::InvalidData);
    QVERIFY(!r.error().message.isEmpty());
    if (!error.isEmpty())
        QCOMPARE(r.error().message, error);
}

void tst_Malformed::oversizedHandshake()
{
    // An unterminated handshake must not be buffered without bound when a limit is given.
    const QByteArray partial = R"({"protocol":")" + QByteArray(40000, 'j');
    HandshakeRequest req;
    auto r = Handshake::parseRequest(partial, req, 32768);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ProtocolErrorCode::MessageTooLarge);
    // Below the limit it is just incomplete.
    r = Handshake::parseRequest(partial.left(1000), req, 32768);
    VERIFY_OK(r);
    QCOMPARE(*r, 0);
    HandshakeResponse resp;
    auto rr = Handshake::parseResponse(QByteArray(40000, ' '), resp, 32768);
    QVERIFY(!rr);
    QCOMPARE(rr.error().code, ProtocolErrorCode::MessageTooLarge);
}

QTEST_GUILESS_MAIN(tst_Malformed)
#include "tst_malformed.moc"
