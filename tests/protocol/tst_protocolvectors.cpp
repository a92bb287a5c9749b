// SPDX-License-Identifier: MIT
// The byte-exact test vectors of the protocol digest (docs/signalr-protocol.md, section 8, plus
// the value encodings of sections 4.3 and 8.5), one data row each.
#include "testutil.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubprotocol.h>
#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

#include <QtTest/QTest>

using namespace Heliograph;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Heliograph::NegotiateResponse)

namespace {

const Headers testHeaders {
    {"Foo", "Bar"},
    {"KeyWith\nNew\r\nLines", "Still Works"},
    {"ValueWithNewLines", "Also\nWorks\r\nFine"},
};

QList<AvailableTransport> allTransports()
{
    return {{"WebSockets", {"Text", "Binary"}},
            {"ServerSentEvents", {"Text"}},
            {"LongPolling", {"Text", "Binary"}}};
}

const QByteArray allTransportsJson
    = R"([{"transport":"WebSockets","transferFormats":["Text","Binary"]},)"
      R"({"transport":"ServerSentEvents","transferFormats":["Text"]},)"
      R"({"transport":"LongPolling","transferFormats":["Text","Binary"]}])";

void drain(MessageReader &reader, QList<HubMessage> &out)
{
    while (true) {
        auto r = reader.read();
        if (r.status != MessageReader::Status::Message) {
            QCOMPARE(r.status, MessageReader::Status::NeedMoreData);
            return;
        }
        out.append(std::move(*r.message));
    }
}

} // namespace

class tst_ProtocolVectors : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // 8.1
    void handshakeRequest_data();
    void handshakeRequest();
    void handshakeResponse_data();
    void handshakeResponse();
    void negotiate_data();
    void negotiate();

    // 8.2
    void jsonDotNetWriter_data();
    void jsonDotNetWriter();
    void jsonJsClient_data();
    void jsonJsClient();
    void jsonHexFrames_data();
    void jsonHexFrames();
    void jsonParserErrors_data();
    void jsonParserErrors();
    void jsonParserIgnoresExtraProperty();

    // 8.3
    void messagePackDotNetWriter_data();
    void messagePackDotNetWriter();
    void messagePackDecodeOnly_data();
    void messagePackDecodeOnly();
    void messagePackJsClient_data();
    void messagePackJsClient();
    void messagePackMultiMessagePayload();
    void messagePackTruncatedPayload();
    void messagePackParserErrors_data();
    void messagePackParserErrors();
    void messagePackParserIgnoresExtraItems();
    void varIntPrefix_data();
    void varIntPrefix();

    // 4.3 and 8.5: value encodings
    void messagePackValues_data();
    void messagePackValues();

    // 8.4
    void transportBodies_data();
    void transportBodies();
    void sseAndWebSocketBytes();
};

// --- 8.1 ------------------------------------------------------------------------------------

void tst_ProtocolVectors::handshakeRequest_data()
{
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<int>("version");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("json v1")
        << QByteArray("json") << 1
        << hex("7b 22 70 72 6f 74 6f 63 6f 6c 22 3a 22 6a 73 6f 6e 22 2c 22 76 "
               "65 72 73 69 6f 6e 22 3a 31 7d 1e");
    QTest::newRow("messagepack v2 (stateful reconnect)")
        << QByteArray("messagepack") << 2 << rs(R"({"protocol":"messagepack","version":2})");
    QTest::newRow("messagepack v1 (8.4 WebSocket)")
        << QByteArray("messagepack") << 1 << rs(R"({"protocol":"messagepack","version":1})");
}

void tst_ProtocolVectors::handshakeRequest()
{
    QFETCH(QByteArray, protocol);
    QFETCH(int, version);
    QFETCH(QByteArray, bytes);

    QCOMPARE(Handshake::writeRequest({protocol, version}), bytes);

    HandshakeRequest parsed;
    auto consumed = Handshake::parseRequest(bytes, parsed);
    VERIFY_OK(consumed);
    QCOMPARE(*consumed, bytes.size());
    QCOMPARE(parsed, (HandshakeRequest {protocol, version}));
}

void tst_ProtocolVectors::handshakeResponse_data()
{
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("success") << QByteArray() << hex("7b 7d 1e");
    QTest::newRow("error") << QByteArray("The protocol 'foo' is not supported.")
                           << rs(R"({"error":"The protocol 'foo' is not supported."})");
}

void tst_ProtocolVectors::handshakeResponse()
{
    QFETCH(QByteArray, error);
    QFETCH(QByteArray, bytes);

    checkHandshakeResponseRoundTrip(error, bytes);
}

void tst_ProtocolVectors::negotiate_data()
{
    QTest::addColumn<NegotiateResponse>("response");
    QTest::addColumn<QByteArray>("json");

    {
        auto version = Negotiate::selectVersion(QByteArrayView("one"));
        QVERIFY(!version);
        QTest::newRow("error") << NegotiateResponse::failure(version.error().message)
                               << QByteArray(R"({"error":"The client requested a non-integer )"
                                             R"(protocol version."})");
    }
    {
        NegotiateResponse r;
        r.negotiateVersion = 0;
        r.connectionId = "oU1T4xTlCk0bUNhpLj5GIg";
        r.availableTransports = allTransports();
        QTest::newRow("v0") << r
                            << QByteArray(R"({"negotiateVersion":0,"connectionId":)"
                                          R"("oU1T4xTlCk0bUNhpLj5GIg","availableTransports":)"
                                          + allTransportsJson + '}');
    }
    {
        NegotiateResponse r;
        r.negotiateVersion = 1;
        r.connectionId = "oU1T4xTlCk0bUNhpLj5GIg";
        r.connectionToken = "Qm9vX3Rva2VuXzEyMzQ1Ng";
        r.availableTransports = allTransports();
        QTest::newRow("v1 all transports (1.2)")
            << r
            << QByteArray(R"({"negotiateVersion":1,"connectionId":"oU1T4xTlCk0bUNhpLj5GIg",)"
                          R"("connectionToken":"Qm9vX3Rva2VuXzEyMzQ1Ng","availableTransports":)"
                          + allTransportsJson + '}');
        r.useStatefulReconnect = true;
        r.availableTransports = {{"WebSockets", {"Text", "Binary"}}};
        QTest::newRow("stateful reconnect")
            << r
            << QByteArray(R"({"useStatefulReconnect":true,"negotiateVersion":1,)"
                          R"("connectionId":"oU1T4xTlCk0bUNhpLj5GIg",)"
                          R"("connectionToken":"Qm9vX3Rva2VuXzEyMzQ1Ng",)"
                          R"("availableTransports":[{"transport":"WebSockets",)"
                          R"("transferFormats":["Text","Binary"]}]})");
    }
}

void tst_ProtocolVectors::negotiate()
{
    QFETCH(NegotiateResponse, response);
    QFETCH(QByteArray, json);

    QCOMPARE(response.toJson(), json);
    auto parsed = NegotiateResponse::fromJson(json);
    VERIFY_OK(parsed);
    QVERIFY(*parsed == response);
}

// --- 8.2 ------------------------------------------------------------------------------------

void tst_ProtocolVectors::jsonDotNetWriter_data()
{
    QTest::addColumn<HubMessage>("message");
    QTest::addColumn<QByteArray>("bytes");

    auto row
        = [](const char *json, HubMessage m) { QTest::newRow(json) << std::move(m) << rs(json); };
    row(R"({"type":1,"invocationId":"123","target":"Target","arguments":[1,"Foo"]})",
        invocation("123", "Target", {1, "Foo"}));
    row(R"({"type":1,"target":"Target","arguments":[true]})", invocation({}, "Target", {true}));
    row(R"({"type":1,"target":"Target","arguments":[null]})", invocation({}, "Target", {Value()}));
    row(R"({"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__"]})",
        invocation({}, "Target", {}, {"__test_id__"}));
    row(R"({"type":1,"target":"Target","arguments":[42],"streamIds":["__test_id__"]})",
        invocation({}, "Target", {42}, {"__test_id__"}));
    row(R"({"type":1,"target":"Method","arguments":["2016-05-10T13:51:20+12:34"]})",
        invocation({}, "Method", {"2016-05-10T13:51:20+12:34"}));
    row(R"({"type":2,"invocationId":"123","item":1})", streamItem("123", 1));
    row(R"({"type":2,"invocationId":"123","item":null})", streamItem("123", Value()));
    row(R"({"type":3,"invocationId":"123","result":1})", completionResult("123", 1));
    row(R"({"type":3,"invocationId":"123","result":null})", completionResult("123", Value()));
    row(R"({"type":3,"invocationId":"123","error":"Whoops!"})", completionError("123", "Whoops!"));
    row(R"({"type":3,"headers":{"Foo":"Bar","KeyWith\nNew\r\nLines":"Still Works",)"
        R"("ValueWithNewLines":"Also\nWorks\r\nFine"},"invocationId":"123","error":"Whoops!"})",
        completionError("123", "Whoops!", testHeaders));
    row(R"({"type":4,"invocationId":"123","target":"Target","arguments":[1,"Foo"]})",
        streamInvocation("123", "Target", {1, "Foo"}));
    row(R"({"type":4,"invocationId":"123","target":"Target","arguments":[],)"
        R"("streamIds":["__test_id__"]})",
        streamInvocation("123", "Target", {}, {"__test_id__"}));
    row(R"({"type":5,"invocationId":"123"})", cancelInvocation("123"));
    row(R"({"type":6})", ping());
    row(R"({"type":7})", closeMessage());
    row(R"({"type":7,"error":"Error!"})", closeMessage("Error!"));
    row(R"({"type":7,"error":""})", closeMessage(""));
    row(R"({"type":7,"error":"Connection closed with an error.","allowReconnect":true})",
        closeMessage("Connection closed with an error.", true));
    row(R"({"type":8,"sequenceId":42})", ack(42));
    row(R"({"type":9,"sequenceId":146})", sequence(146));
}

void tst_ProtocolVectors::jsonDotNetWriter()
{
    QFETCH(HubMessage, message);
    QFETCH(QByteArray, bytes);

    const HubProtocol &json = HubProtocol::json();
    QCOMPARE(json.serialize(message), bytes);

    auto decoded = parseOne(json, bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::jsonJsClient_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<HubMessage>("message");

    auto row
        = [](const char *json, HubMessage m) { QTest::newRow(json) << rs(json) << std::move(m); };
    row(R"({"target":"Send","arguments":[42,"hi"],"invocationId":"0","type":1})",
        invocation("0", "Send", {42, "hi"}));
    row(R"({"target":"Send","arguments":[42],"type":1})", invocation({}, "Send", {42}));
    row(R"({"invocationId":"1","result":42,"type":3})", completionResult("1", 42));
    row(R"({"type":7})", closeMessage());
    // 8.4: the long-polling example's JS invocation
    row(R"({"target":"Echo","arguments":["x"],"invocationId":"0","type":1})",
        invocation("0", "Echo", {"x"}));
}

void tst_ProtocolVectors::jsonJsClient()
{
    QFETCH(QByteArray, bytes);
    QFETCH(HubMessage, message);

    auto decoded = parseOne(HubProtocol::json(), bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::jsonHexFrames_data()
{
    QTest::addColumn<HubMessage>("message");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("ping") << ping() << hex("7b 22 74 79 70 65 22 3a 36 7d 1e");
    QTest::newRow("close") << closeMessage() << hex("7b 22 74 79 70 65 22 3a 37 7d 1e");
    QTest::newRow("completion void")
        << completionVoid("0")
        << hex("7b 22 74 79 70 65 22 3a 33 2c 22 69 6e 76 6f 63 61 74 69 6f 6e 49 64 22 3a 22 "
               "30 22 7d 1e");
    QTest::newRow("ack 3") << ack(3)
                           << hex("7b 22 74 79 70 65 22 3a 38 2c 22 73 65 71 75 65 6e 63 65 49 64 "
                                  "22 3a 33 7d 1e");
}

void tst_ProtocolVectors::jsonHexFrames()
{
    QFETCH(HubMessage, message);
    QFETCH(QByteArray, bytes);

    QCOMPARE(HubProtocol::json().serialize(message), bytes);
    auto decoded = parseOne(HubProtocol::json(), bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::jsonParserErrors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("error");

    auto row = [](const char *json, const char16_t *error) {
        QTest::newRow(json) << rs(json) << QString::fromUtf16(error);
    };
    row("{}", u"Missing required property 'type'.");
    row(R"({"type":"foo"})", u"Expected 'type' to be of type Number.");
    row(R"({"type":1})", u"Missing required property 'target'.");
    row(R"({"type":1,"invocationId":42})", u"Expected 'invocationId' to be of type String.");
    row(R"({"type":1,"invocationId":"42","target":"foo"})",
        u"Missing required property 'arguments'.");
    row(R"({"type":1,"invocationId":"42","target":"foo","arguments":{}})",
        u"Expected 'arguments' to be of type Array.");
    row(R"({"type":2,"invocationId":"42"})", u"Missing required property 'item'.");
    row(R"({"type":3,"invocationId":"42","error":[]})", u"Expected 'error' to be of type String.");
    row(R"({"type":8,"sequenceId":true})", u"Expected 'sequenceId' to be of type Number.");
    row(R"({"type":1,"headers":{"Foo": 42},"target":"test","arguments":[]})",
        u"Expected header 'Foo' to be of type String.");
    row("null", u"Unexpected JSON Token Type 'Null'. Expected a JSON Object.");
    row(R"("foo")", u"Unexpected JSON Token Type 'String'. Expected a JSON Object.");
    row("[42]", u"Unexpected JSON Token Type 'Array'. Expected a JSON Object.");
    // from 3.3, 3.8 and 4.4
    row(R"({"type":3,"invocationId":"1","error":"e","result":1})",
        u"The 'error' and 'result' properties are mutually exclusive.");
    row(R"({"type":8})", u"Missing required property 'sequenceId'.");
}

void tst_ProtocolVectors::jsonParserErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, error);

    auto decoded = parseOne(HubProtocol::json(), input);
    QVERIFY(!decoded);
    QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
    QCOMPARE(decoded.error().message, error);

    // The same error through the streaming reader, which then stays failed.
    MessageReader reader(HubProtocol::json());
    reader.append(input + rs(R"({"type":6})"));
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.message, error);
    QCOMPARE(reader.read().status, MessageReader::Status::Error);
}

void tst_ProtocolVectors::jsonParserIgnoresExtraProperty()
{
    auto decoded = parseOne(HubProtocol::json(),
                            rs(R"({"type":1,"invocationId":"42","target":"foo","arguments":[],)"
                               R"("extraParameter":"1"})"));
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, invocation("42", "foo", {}));
}

// --- 8.3 ------------------------------------------------------------------------------------

void tst_ProtocolVectors::messagePackDotNetWriter_data()
{
    QTest::addColumn<HubMessage>("message");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("invocation xyz method no args")
        << invocation("xyz", "method", {})
        << hex("10 96 01 80 a3 78 79 7a a6 6d 65 74 68 6f 64 90 90");
    QTest::newRow("invocation no id no args")
        << invocation({}, "method", {}) << hex("0d 96 01 80 c0 a6 6d 65 74 68 6f 64 90 90");
    QTest::newRow("invocation no id [42]")
        << invocation({}, "method", {42}) << hex("0e 96 01 80 c0 a6 6d 65 74 68 6f 64 91 2a 90");
    QTest::newRow("invocation no id [42,string]")
        << invocation({}, "method", {42, "string"})
        << hex("15 96 01 80 c0 a6 6d 65 74 68 6f 64 92 2a a6 73 74 72 69 6e 67 90");
    QTest::newRow("invocation xyz [42] (spec)")
        << invocation("xyz", "method", {42})
        << hex("11 96 01 80 a3 78 79 7a a6 6d 65 74 68 6f 64 91 2a 90");
    QTest::newRow("invocation streamIds")
        << invocation({}, "Target", {}, {"__test_id__"})
        << hex("19 96 01 80 c0 a6 54 61 72 67 65 74 90 91 ab 5f 5f 74 65 73 74 5f 69 64 5f 5f");
    QTest::newRow("invocation with headers (spec body)")
        << invocation("xyz", "method", {42}, {}, {{"x", "y"}, {"z", "z"}})
        << framed(hex("96 01 82 a1 78 a1 79 a1 7a a1 7a a3 78 79 7a a6 6d 65 74 68 6f 64 91 "
                      "2a 90"));
    QTest::newRow("streamitem 42") << streamItem("xyz", 42) << hex("08 94 02 80 a3 78 79 7a 2a");
    QTest::newRow("streamitem 42.0f") << streamItem("xyz", Value::fromFloat(42.0f))
                                      << hex("0c 94 02 80 a3 78 79 7a ca 42 28 00 00");
    QTest::newRow("streamitem true")
        << streamItem("xyz", true) << hex("08 94 02 80 a3 78 79 7a c3");
    QTest::newRow("completion error")
        << completionError("xyz", "Error not found!")
        << hex("19 95 03 80 a3 78 79 7a 01 b0 45 72 72 6f 72 20 6e 6f 74 20 66 6f 75 6e 64 21");
    QTest::newRow("completion void") << completionVoid("xyz") << hex("08 94 03 80 a3 78 79 7a 02");
    QTest::newRow("completion 42")
        << completionResult("xyz", 42) << hex("09 95 03 80 a3 78 79 7a 03 2a");
    QTest::newRow("completion string") << completionResult("xyz", "string")
                                       << hex("0f 95 03 80 a3 78 79 7a 03 a6 73 74 72 69 6e 67");
    QTest::newRow("completion true")
        << completionResult("xyz", true) << hex("09 95 03 80 a3 78 79 7a 03 c3");
    QTest::newRow("completion null (void hub method)")
        << completionResult("1", Value()) << hex("07 95 03 80 a1 31 03 c0");
    QTest::newRow("completion void with test headers")
        << completionVoid("xyz", testHeaders)
        << hex("52 94 03 83 a3 46 6f 6f a3 42 61 72 b2 4b 65 79 57 69 74 68 0a 4e 65 77 0d 0a "
               "4c 69 6e 65 73 ab 53 74 69 6c 6c 20 57 6f 72 6b 73 b1 56 61 6c 75 65 57 69 74 "
               "68 4e 65 77 4c 69 6e 65 73 b0 41 6c 73 6f 0a 57 6f 72 6b 73 0d 0a 46 69 6e 65 "
               "a3 78 79 7a 02");
    QTest::newRow("streaminvocation")
        << streamInvocation("xyz", "method", {42})
        << hex("11 96 04 80 a3 78 79 7a a6 6d 65 74 68 6f 64 91 2a 90");
    QTest::newRow("cancel") << cancelInvocation("xyz") << hex("07 93 05 80 a3 78 79 7a");
    QTest::newRow("ping") << ping() << hex("02 91 06");
    QTest::newRow("close empty") << closeMessage() << hex("04 93 07 c0 c2");
    QTest::newRow("close error") << closeMessage("Error!")
                                 << hex("0a 93 07 a6 45 72 72 6f 72 21 c2");
    QTest::newRow("close allowReconnect") << closeMessage({}, true) << hex("04 93 07 c0 c3");
    QTest::newRow("close error allowReconnect")
        << closeMessage("Error!", true) << hex("0a 93 07 a6 45 72 72 6f 72 21 c3");
    QTest::newRow("ack 42") << ack(42) << hex("03 92 08 2a");
    QTest::newRow("sequence 146") << sequence(146) << hex("04 92 09 cc 92");
}

void tst_ProtocolVectors::messagePackDotNetWriter()
{
    QFETCH(HubMessage, message);
    QFETCH(QByteArray, bytes);

    const HubProtocol &mp = HubProtocol::messagePack();
    QCOMPARE(mp.serialize(message).toHex(' '), bytes.toHex(' '));

    auto decoded = parseOne(mp, bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::messagePackDecodeOnly_data()
{
    // Spec examples in a wider integer form than .NET writes: readers accept any width.
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<HubMessage>("message");

    QTest::newRow("ack 36 uint8") << hex("04 92 08 cc 24") << ack(36);
    QTest::newRow("sequence 19 uint8") << hex("04 92 09 cc 13") << sequence(19);
}

void tst_ProtocolVectors::messagePackDecodeOnly()
{
    QFETCH(QByteArray, bytes);
    QFETCH(HubMessage, message);

    auto decoded = parseOne(HubProtocol::messagePack(), bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::messagePackJsClient_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<HubMessage>("message");

    QTest::newRow("invoke Send(42,hi) 5 items")
        << hex("0f 95 01 80 a1 30 a4 53 65 6e 64 92 2a a2 68 69")
        << invocation("0", "Send", {42, "hi"});
    QTest::newRow("send Send(42)")
        << hex("0b 95 01 80 c0 a4 53 65 6e 64 91 2a") << invocation({}, "Send", {42});
    QTest::newRow("invoke Upload streamIds")
        << hex("10 96 01 80 a1 30 a6 55 70 6c 6f 61 64 90 91 a1 31")
        << invocation("0", "Upload", {}, {"1"});
    QTest::newRow("stream Counter(10)") << hex("0f 95 04 80 a1 31 a7 43 6f 75 6e 74 65 72 91 0a")
                                        << streamInvocation("1", "Counter", {10});
    QTest::newRow("cancel") << hex("05 93 05 80 a1 31") << cancelInvocation("1");
    QTest::newRow("completion void") << hex("06 94 03 80 a1 31 02") << completionVoid("1");
    QTest::newRow("completion 42") << hex("07 95 03 80 a1 31 03 2a") << completionResult("1", 42);
    QTest::newRow("completion error")
        << hex("0b 95 03 80 a1 31 01 a4 62 6f 6f 6d") << completionError("1", "boom");
    QTest::newRow("close") << hex("03 92 07 c0") << closeMessage();
    QTest::newRow("ack 1") << hex("03 92 08 01") << ack(1);
    QTest::newRow("sequence 1") << hex("03 92 09 01") << sequence(1);
    QTest::newRow("Date argument") << hex("0d 95 01 80 c0 a1 54 91 d6 ff 65 92 00 80")
                                   << invocation({}, "T", {Value::fromTimestamp(1704067200)});
    QTest::newRow("Uint8Array argument")
        << hex("0c 95 01 80 c0 a1 54 91 c4 03 01 02 03")
        << invocation({}, "T", {Value::fromBinary(hex("01 02 03"))});
    QTest::newRow("initial ping (8.4)") << hex("02 91 06") << ping();
}

void tst_ProtocolVectors::messagePackJsClient()
{
    QFETCH(QByteArray, bytes);
    QFETCH(HubMessage, message);

    auto decoded = parseOne(HubProtocol::messagePack(), bytes);
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, message);
}

void tst_ProtocolVectors::messagePackMultiMessagePayload()
{
    const QByteArray payload = hex("02 91 06 06 94 03 80 a1 31 02");
    const QList<HubMessage> expected {ping(), completionVoid("1")};

    auto all = HubProtocol::messagePack().parseAll(payload);
    VERIFY_OK(all);
    QCOMPARE(*all, expected);

    MessageReader reader(HubProtocol::messagePack());
    reader.append(payload);
    QList<HubMessage> got;
    drain(reader, got);
    QCOMPARE(got, expected);
    QCOMPARE(reader.bufferedBytes(), 0);
}

void tst_ProtocolVectors::messagePackTruncatedPayload()
{
    const QByteArray payload = hex("0e 95 03 80 a1 31 03");
    const HubProtocol &mp = HubProtocol::messagePack();

    QCOMPARE(mp.scanFrame(payload).status, FrameInfo::Status::Incomplete);

    // A whole-buffer parse (the JS client's model) fails with the JS text.
    auto all = mp.parseAll(payload);
    QVERIFY(!all);
    QCOMPARE(all.error().message, u"Incomplete message."_s);

    // A streaming reader waits for the rest instead.
    MessageReader reader(mp);
    reader.append(payload);
    QCOMPARE(reader.read().status, MessageReader::Status::NeedMoreData);
    QCOMPARE(reader.bufferedBytes(), payload.size());
}

void tst_ProtocolVectors::messagePackParserErrors_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("error");

    QTest::newRow("messageType not an int")
        << hex("91 a3 66 6f 6f") << u"Reading 'messageType' as Int32 failed."_s;
    QTest::newRow("headers not a map")
        << hex("92 01 a3 66 6f 6f") << u"Reading map length for 'headers' failed."_s;
    QTest::newRow("header key not a string")
        << hex("92 01 82 2a a3 66 6f 6f") << u"Reading 'headers[0].Key' as String failed."_s;
    QTest::newRow("invocationId not a string")
        << hex("91 01 80 c2") << u"Reading 'invocationId' as String failed."_s;
    QTest::newRow("target not a string")
        << hex("94 01 80 a3 61 62 63 2a") << u"Reading 'target' as String failed."_s;
    QTest::newRow("completion kind 4")
        << hex("95 03 80 a3 78 79 7a 04 2a") << u"Invalid invocation result kind."_s;
    // 4.2
    QTest::newRow("empty header key")
        << hex("96 01 81 a0 a1 79 c0 a1 54 90 90") << u"Null or empty key in header."_s;
    QTest::newRow("empty header value")
        << hex("96 01 81 a1 78 a0 c0 a1 54 90 90") << u"Null or empty value in header."_s;
    QTest::newRow("empty target") << hex("96 01 80 c0 a0 90 90")
                                  << u"Null or empty target for Invocation message."_s;
    QTest::newRow("streaminvocation without id")
        << hex("96 04 80 c0 a1 54 90 90")
        << u"Null or empty invocation ID for StreamInvocation message."_s;
    QTest::newRow("streamitem without id")
        << hex("94 02 80 c0 2a") << u"Null or empty invocation ID for StreamItem message."_s;
    QTest::newRow("completion without id")
        << hex("94 03 80 a0 02") << u"Null or empty invocation ID for Completion message."_s;
    QTest::newRow("cancel without id")
        << hex("93 05 80 c0") << u"Null or empty invocation ID for CancelInvocation message."_s;
}

void tst_ProtocolVectors::messagePackParserErrors()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, error);

    auto decoded = HubProtocol::messagePack().parsePayload(body);
    QVERIFY(!decoded);
    QCOMPARE(decoded.error().code, ProtocolErrorCode::InvalidData);
    QCOMPARE(decoded.error().message, error);

    MessageReader reader(HubProtocol::messagePack());
    reader.append(framed(body) + hex("02 91 06"));
    auto r = reader.read();
    QCOMPARE(r.status, MessageReader::Status::Error);
    QCOMPARE(r.error.message, error);
}

void tst_ProtocolVectors::messagePackParserIgnoresExtraItems()
{
    // An Invocation with 8 items: two extra ones (true, "ex") after the stream ids.
    const QByteArray body = hex("98 01 80 c0 a6 6d 65 74 68 6f 64 90 90 c3 a2 65 78");
    auto decoded = parseOne(HubProtocol::messagePack(), framed(body));
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, invocation({}, "method", {}));
}

void tst_ProtocolVectors::varIntPrefix_data()
{
    QTest::addColumn<qsizetype>("length");
    QTest::addColumn<QByteArray>("prefix");

    QTest::newRow("0") << qsizetype(0) << hex("00");
    QTest::newRow("1") << qsizetype(1) << hex("01");
    QTest::newRow("127") << qsizetype(127) << hex("7f");
    QTest::newRow("128") << qsizetype(128) << hex("80 01");
    QTest::newRow("5248") << qsizetype(5248) << hex("80 29");
    QTest::newRow("16383") << qsizetype(16383) << hex("ff 7f");
    QTest::newRow("16384") << qsizetype(16384) << hex("80 80 01");
    QTest::newRow("32768") << qsizetype(32768) << hex("80 80 02");
    QTest::newRow("2147483647") << qsizetype(2147483647) << hex("ff ff ff ff 07");
}

void tst_ProtocolVectors::varIntPrefix()
{
    QFETCH(qsizetype, length);
    QFETCH(QByteArray, prefix);

    const HubProtocol &mp = HubProtocol::messagePack();
    if (length <= 100000) // the test's own framing helper agrees with the table
        QCOMPARE(framed(QByteArray(length, 'x')).left(prefix.size()), prefix);
    if (length == 0) {
        // A zero-length body is invalid (JS: "Invalid payload.").
        QCOMPARE(mp.scanFrame(prefix).status, FrameInfo::Status::Invalid);
        return;
    }
    // Reading: the prefix alone announces a body that has not arrived.
    QCOMPARE(mp.scanFrame(prefix).status, FrameInfo::Status::Incomplete);
    if (length > 100000)
        return; // too large to materialise here

    QByteArray frame = prefix + QByteArray(length, '\x90');
    FrameInfo f = mp.scanFrame(frame);
    QCOMPARE(f.status, FrameInfo::Status::Complete);
    QCOMPARE(f.payloadOffset, prefix.size());
    QCOMPARE(f.payloadSize, length);
    QCOMPARE(f.frameSize, frame.size());
    frame.chop(1);
    QCOMPARE(mp.scanFrame(frame).status, FrameInfo::Status::Incomplete);

    // Writing: a StreamItem whose binary item makes the body exactly `length` bytes long.
    // Body = 94 02 80 a1 78 + bin8/bin16 header (2/3 bytes) + data.
    qsizetype dataSize = length - 7;
    if (dataSize > 255)
        dataSize = length - 8;
    if (dataSize < 0)
        return; // shorter than any StreamItem
    const QByteArray bytes
        = mp.serialize(streamItem("x", Value::fromBinary(QByteArray(dataSize, 'b'))));
    QCOMPARE(bytes.left(prefix.size()).toHex(' '), prefix.toHex(' '));
    QCOMPARE(bytes.size(), prefix.size() + length);
}

// --- 4.3 and 8.5 ----------------------------------------------------------------------------

void tst_ProtocolVectors::messagePackValues_data()
{
    QTest::addColumn<Value>("value");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("timestamp32 2024-01-01")
        << Value::fromTimestamp(1704067200) << hex("d6 ff 65 92 00 80");
    QTest::newRow("timestamp64 2024-01-01 +500ms")
        << Value::fromTimestamp(1704067200, 500000000) << hex("d7 ff 77 35 94 00 65 92 00 80");
    QTest::newRow("QDateTime 2024-01-01")
        << Value(QDateTime(QDate(2024, 1, 1), QTime(0, 0), Qt::UTC)) << hex("d6 ff 65 92 00 80");
    QTest::newRow("2^40 (JS encoder)")
        << Value(qint64(1) << 40) << hex("cf 00 00 01 00 00 00 00 00");
    QTest::newRow("float32") << Value::fromFloat(42.0f) << hex("ca 42 28 00 00");
    QTest::newRow("float64") << Value(42.5) << hex("cb 40 45 40 00 00 00 00 00");

    const QByteArray jsonSendAll = rs(R"({"type":1,"target":"Send","arguments":["hi"]})");
    const QByteArray mpSendAll = hex("0e 96 01 80 c0 a4 53 65 6e 64 91 a2 68 69 90");
    const Value serializedBoth(ValueMap {{"json", Value::fromBinary(jsonSendAll)},
                                         {"messagepack", Value::fromBinary(mpSendAll)}});
    QTest::newRow("redis SendAll json+messagepack")
        << Value(ValueList {ValueList {}, serializedBoth})
        << QByteArray(hex("92 90 82 a4 6a 73 6f 6e c4 2e") + jsonSendAll
                      + hex("ab 6d 65 73 73 61 67 65 70 61 63 6b c4 0f") + mpSendAll);
    QTest::newRow("redis SendAll excluding abc")
        << Value(ValueList {ValueList {"abc"}, ValueMap {{"json", Value::fromBinary(jsonSendAll)}}})
        << QByteArray(hex("92 91 a3 61 62 63 81 a4 6a 73 6f 6e c4 2e") + jsonSendAll);
    QTest::newRow("redis group add")
        << Value(ValueList {7, "srv1_0123", 1, "room", "conn1"})
        << hex("95 07 a9 73 72 76 31 5f 30 31 32 33 01 a4 72 6f 6f 6d a5 63 6f 6e 6e 31");
    QTest::newRow("redis ack") << Value(ValueList {7}) << hex("91 07");
    const QByteArray jsonCompletion = rs(R"({"type":3,"invocationId":"s1","result":42})");
    QTest::newRow("redis completion")
        << Value(ValueList {"json", Value::fromBinary(jsonCompletion)})
        << QByteArray(hex("92 a4 6a 73 6f 6e c4 2b") + jsonCompletion);
    const QByteArray jsonAsk
        = rs(R"({"type":1,"invocationId":"AbC","target":"Ask","arguments":[]})");
    QTest::newRow("redis client-result invocation")
        << Value(ValueList {ValueList {}, ValueMap {{"json", Value::fromBinary(jsonAsk)}}, "AbC",
                            "Chat:internal:return:srv1"})
        << QByteArray(hex("94 90 81 a4 6a 73 6f 6e c4 3e") + jsonAsk + hex("a3 41 62 43 b9")
                      + "Chat:internal:return:srv1");
}

void tst_ProtocolVectors::messagePackValues()
{
    QFETCH(Value, value);
    QFETCH(QByteArray, bytes);

    QCOMPARE(messagePackValue(value).toHex(' '), bytes.toHex(' '));

    // And back, as the item of a StreamItem.
    auto decoded = parseOne(HubProtocol::messagePack(), framed(hex("94 02 80 a1 78") + bytes));
    VERIFY_OK(decoded);
    QCOMPARE(*decoded, streamItem("x", value));
    QCOMPARE(std::get<StreamItemMessage>(*decoded).item.isSinglePrecision(),
             value.isSinglePrecision());
}

// --- 8.4 ------------------------------------------------------------------------------------

void tst_ProtocolVectors::transportBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("handshakeResponse"); // expected handshake in the body, if any
    QTest::addColumn<QList<HubMessage>>("messages"); // JSON messages after it

    QTest::newRow("LP GET handshake response")
        << QByteArray("{}\x1e") << QByteArray("ok") << QList<HubMessage> {};
    QTest::newRow("LP GET completion")
        << rs(R"({"type":3,"invocationId":"0","result":"x"})") << QByteArray()
        << QList<HubMessage> {completionResult("0", "x")};
    // SSE: `data: ` + payload + CRLF CRLF; the payload is what the codecs see.
    QTest::newRow("SSE handshake + ping")
        << rs("{}") + rs(R"({"type":6})") << QByteArray("ok") << QList<HubMessage> {ping()};
}

void tst_ProtocolVectors::transportBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, handshakeResponse);
    QFETCH(QList<HubMessage>, messages);

    QByteArrayView rest = body;
    if (!handshakeResponse.isEmpty()) {
        HandshakeResponse r;
        auto consumed = Handshake::parseResponse(rest, r);
        VERIFY_OK(consumed);
        QVERIFY(r.isSuccess());
        QCOMPARE(*consumed, 3);
        rest = rest.sliced(*consumed);
    }
    auto parsed = HubProtocol::json().parseAll(rest);
    VERIFY_OK(parsed);
    QCOMPARE(*parsed, messages);

    // The server side writes the same bytes.
    QByteArray written = handshakeResponse.isEmpty() ? QByteArray() : Handshake::writeResponse({});
    for (const HubMessage &m : messages)
        HubProtocol::json().write(m, written);
    QCOMPARE(written, body);
}

void tst_ProtocolVectors::sseAndWebSocketBytes()
{
    // SSE: `:\r\n` then `data: {}` RS `\r\n\r\n`: the event payload is our handshake response.
    const QByteArray event = hex("64 61 74 61 3a 20 7b 7d 1e 0d 0a 0d 0a");
    QCOMPARE(event.sliced(6, event.size() - 10), Handshake::writeResponse({}));

    // WebSocket with MessagePack: handshake as JSON, response `7b 7d 1e`, then a binary ping.
    QCOMPARE(Handshake::writeRequest({"messagepack", 1}),
             rs(R"({"protocol":"messagepack","version":1})"));
    QCOMPARE(Handshake::writeResponse({}), hex("7b 7d 1e"));
    QCOMPARE(HubProtocol::messagePack().serialize(ping()), hex("02 91 06"));

    // Long polling: the first POST carries the JSON handshake.
    QCOMPARE(Handshake::writeRequest({"json", 1}), rs(R"({"protocol":"json","version":1})"));
}

QTEST_GUILESS_MAIN(tst_ProtocolVectors)
#include "tst_protocolvectors.moc"
