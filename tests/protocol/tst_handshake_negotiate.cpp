// SPDX-License-Identifier: MIT
// Handshake request/response and negotiate: writing, parsing, incremental input, the official
// clients' parsing rules and the server's version selection.
#include "testutil.h"

#include <heliograph/protocol/handshake.h>
#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/negotiate.h>

#include <QtCore/QSet>
#include <QtTest/QTest>

using namespace Heliograph;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Heliograph::NegotiateResponse)

namespace {

const QString classicServerError
    = u"Detected a connection attempt to an ASP.NET SignalR Server. This client only supports "
      "connecting to an ASP.NET Core SignalR Server. See "
      "https://aka.ms/signalr-core-differences for details."_s;

NegotiateResponse v1Response()
{
    NegotiateResponse r;
    r.negotiateVersion = 1;
    r.connectionId = "id-1";
    r.connectionToken = "token-1";
    r.availableTransports = {{"WebSockets", {"Text", "Binary"}},
                             {"ServerSentEvents", {"Text"}},
                             {"LongPolling", {"Text", "Binary"}}};
    return r;
}

} // namespace

class tst_HandshakeNegotiate : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void requestRoundTrip_data();
    void requestRoundTrip();
    void requestParsing_data();
    void requestParsing();
    void requestIncremental();
    void responseRoundTrip_data();
    void responseRoundTrip();
    void responseParsing_data();
    void responseParsing();
    void responseIncremental();

    void negotiateToJson_data();
    void negotiateToJson();
    void negotiateFromJson_data();
    void negotiateFromJson();
    void negotiateFromJsonErrors_data();
    void negotiateFromJsonErrors();
    void transportSupports();
    void selectVersion_data();
    void selectVersion();
    void newConnectionId();
};

// --- handshake request ----------------------------------------------------------------------

void tst_HandshakeNegotiate::requestRoundTrip_data()
{
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<int>("version");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("json 1") << QByteArray("json") << 1 << rs(R"({"protocol":"json","version":1})");
    QTest::newRow("json 2") << QByteArray("json") << 2 << rs(R"({"protocol":"json","version":2})");
    QTest::newRow("messagepack 2")
        << QByteArray("messagepack") << 2 << rs(R"({"protocol":"messagepack","version":2})");
    QTest::newRow("blazorpack 1") << QByteArray("blazorpack") << 1
                                  << rs(R"({"protocol":"blazorpack","version":1})");
    QTest::newRow("escaped name") << QByteArray("a\"b\\c\x1e") << 10
                                  << rs(R"({"protocol":"a\"b\\c\u001E","version":10})");
    QTest::newRow("unicode name") << QByteArray("pr\xc3\xb6t") << 1
                                  << rs("{\"protocol\":\"pr\xc3\xb6t\",\"version\":1}");
}

void tst_HandshakeNegotiate::requestRoundTrip()
{
    QFETCH(QByteArray, protocol);
    QFETCH(int, version);
    QFETCH(QByteArray, bytes);

    QCOMPARE(Handshake::writeRequest({protocol, version}), bytes);
    HandshakeRequest parsed;
    auto n = Handshake::parseRequest(bytes, parsed);
    VERIFY_OK(n);
    QCOMPARE(*n, bytes.size());
    QCOMPARE(parsed, (HandshakeRequest {protocol, version}));
}

void tst_HandshakeNegotiate::requestParsing_data()
{
    QTest::addColumn<QByteArray>("data"); // consumed: up to and including the first RS
    QTest::addColumn<QByteArray>("protocol");
    QTest::addColumn<int>("version");

    const QByteArray json1 = rs(R"({"protocol":"json","version":1})");
    QTest::newRow("trailing ping")
        << QByteArray(json1 + rs(R"({"type":6})")) << QByteArray("json") << 1;
    QTest::newRow("trailing msgpack ping")
        << QByteArray(json1 + hex("02 91 06")) << QByteArray("json") << 1;
    QTest::newRow("trailing second RS") << QByteArray(json1 + '\x1e') << QByteArray("json") << 1;
    QTest::newRow("reversed order")
        << rs(R"({"version":2,"protocol":"messagepack"})") << QByteArray("messagepack") << 2;
    QTest::newRow("whitespace") << rs(" {\n\"protocol\" : \"json\" ,\t\"version\" : 1 }\r\n")
                                << QByteArray("json") << 1;
    QTest::newRow("extra properties")
        << rs(R"({"protocol":"json","extra":{"a":[1,null,true]},"version":1,"minor":0})")
        << QByteArray("json") << 1;
    QTest::newRow("escaped protocol")
        << rs(R"({"protocol":"\u006Ason","version":1})") << QByteArray("json") << 1;
    QTest::newRow("negative version (resolve rejects it)")
        << rs(R"({"protocol":"json","version":-1})") << QByteArray("json") << -1;
}

void tst_HandshakeNegotiate::requestParsing()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, protocol);
    QFETCH(int, version);

    HandshakeRequest parsed;
    auto n = Handshake::parseRequest(data, parsed);
    VERIFY_OK(n);
    QCOMPARE(*n, data.indexOf('\x1e') + 1);
    QCOMPARE(parsed.protocol, protocol);
    QCOMPARE(parsed.version, version);
}

void tst_HandshakeNegotiate::requestIncremental()
{
    const QByteArray full = rs(R"({"protocol":"messagepack","version":1})") + hex("02 91 06");
    const qsizetype end = full.indexOf('\x1e') + 1;
    for (qsizetype len = 0; len < end; ++len) {
        HandshakeRequest parsed;
        auto n = Handshake::parseRequest(QByteArrayView(full).first(len), parsed);
        VERIFY_OK(n);
        QCOMPARE(*n, 0);
    }
    for (qsizetype len = end; len <= full.size(); ++len) {
        HandshakeRequest parsed;
        auto n = Handshake::parseRequest(QByteArrayView(full).first(len), parsed);
        VERIFY_OK(n);
        QCOMPARE(*n, end);
        QCOMPARE(parsed, (HandshakeRequest {"messagepack", 1}));
    }
    // Incomplete but within the limit is not an error either.
    HandshakeRequest parsed;
    auto n = Handshake::parseRequest(QByteArrayView(full).first(10), parsed, 32);
    VERIFY_OK(n);
    QCOMPARE(*n, 0);
}

// --- handshake response ---------------------------------------------------------------------

void tst_HandshakeNegotiate::responseRoundTrip_data()
{
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("success") << QByteArray() << QByteArray("{}\x1e");
    QTest::newRow("handshake canceled")
        << QByteArray("Handshake was canceled.") << rs(R"({"error":"Handshake was canceled."})");
    QTest::newRow("escapes") << QByteArray("a\"b\nc\\") << rs(R"({"error":"a\"b\nc\\"})");
    QTest::newRow("non-ASCII") << QByteArray("\xe2\x82\xac \xf0\x9f\x98\x80")
                               << rs("{\"error\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}");
}

void tst_HandshakeNegotiate::responseRoundTrip()
{
    QFETCH(QByteArray, error);
    QFETCH(QByteArray, bytes);

    checkHandshakeResponseRoundTrip(error, bytes);
}

void tst_HandshakeNegotiate::responseParsing_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<qsizetype>("consumed");
    QTest::addColumn<QByteArray>("error");

    QTest::newRow("followed by messages") << QByteArray(
        "{}\x1e" + rs(R"({"type":6})") + rs(R"({"type":1,"target":"a","arguments":[]})"))
                                          << qsizetype(3) << QByteArray();
    QTest::newRow("followed by msgpack")
        << QByteArray("{}\x1e" + hex("02 91 06")) << qsizetype(3) << QByteArray();
    QTest::newRow("old server minorVersion")
        << rs(R"({"minorVersion":1})") << qsizetype(19) << QByteArray();
    QTest::newRow("unknown property")
        << rs(R"({"x":[{}],"error":"e"})") << qsizetype(23) << QByteArray("e");
    QTest::newRow("whitespace") << rs(" { } ") << qsizetype(6) << QByteArray();
}

void tst_HandshakeNegotiate::responseParsing()
{
    QFETCH(QByteArray, data);
    QFETCH(qsizetype, consumed);
    QFETCH(QByteArray, error);

    HandshakeResponse parsed;
    auto n = Handshake::parseResponse(data, parsed);
    VERIFY_OK(n);
    QCOMPARE(*n, consumed);
    QCOMPARE(parsed.error, error);

    // The rest parses as hub messages.
    if (consumed < data.size() && data.at(consumed) == '{') {
        auto rest = HubProtocol::json().parseAll(QByteArrayView(data).sliced(consumed));
        VERIFY_OK(rest);
        QCOMPARE(rest->size(), 2);
        QCOMPARE(rest->first(), ping());
    }
}

void tst_HandshakeNegotiate::responseIncremental()
{
    const QByteArray full = rs(R"({"error":"The protocol 'x' is not supported."})");
    for (qsizetype len = 0; len < full.size(); ++len) {
        HandshakeResponse parsed;
        auto n = Handshake::parseResponse(QByteArrayView(full).first(len), parsed);
        VERIFY_OK(n);
        QCOMPARE(*n, 0);
    }
    HandshakeResponse parsed;
    auto n = Handshake::parseResponse(full, parsed);
    VERIFY_OK(n);
    QCOMPARE(*n, full.size());
    QCOMPARE(parsed.error, QByteArray("The protocol 'x' is not supported."));
    QVERIFY(!parsed.isSuccess());
}

// --- negotiate ------------------------------------------------------------------------------

void tst_HandshakeNegotiate::negotiateToJson_data()
{
    QTest::addColumn<NegotiateResponse>("response");
    QTest::addColumn<QByteArray>("json");

    const QByteArray transports
        = R"([{"transport":"WebSockets","transferFormats":["Text","Binary"]},)"
          R"({"transport":"ServerSentEvents","transferFormats":["Text"]},)"
          R"({"transport":"LongPolling","transferFormats":["Text","Binary"]}])";

    NegotiateResponse v0 = v1Response();
    v0.negotiateVersion = 0;
    v0.connectionToken.clear();
    QTest::newRow("v0") << v0
                        << QByteArray(R"({"negotiateVersion":0,"connectionId":"id-1",)"
                                      R"("availableTransports":)"
                                      + transports + '}');
    QTest::newRow("v1") << v1Response()
                        << QByteArray(R"({"negotiateVersion":1,"connectionId":"id-1",)"
                                      R"("connectionToken":"token-1","availableTransports":)"
                                      + transports + '}');
    NegotiateResponse stateful = v1Response();
    stateful.useStatefulReconnect = true;
    stateful.availableTransports = {{"WebSockets", {"Text", "Binary"}}};
    QTest::newRow("stateful reconnect")
        << stateful
        << QByteArray(R"({"useStatefulReconnect":true,"negotiateVersion":1,"connectionId":)"
                      R"("id-1","connectionToken":"token-1","availableTransports":)"
                      R"([{"transport":"WebSockets","transferFormats":["Text","Binary"]}]})");
    NegotiateResponse lpOnly = v1Response();
    lpOnly.availableTransports = {{"LongPolling", {"Text", "Binary"}}};
    QTest::newRow("long polling only")
        << lpOnly
        << QByteArray(R"({"negotiateVersion":1,"connectionId":"id-1","connectionToken":)"
                      R"("token-1","availableTransports":[{"transport":"LongPolling",)"
                      R"("transferFormats":["Text","Binary"]}]})");
    QTest::newRow("error") << NegotiateResponse::failure(u"Negotiate \"failed\" – €"_s)
                           << QByteArray("{\"error\":\"Negotiate \\\"failed\\\" \xe2\x80\x93 "
                                         "\xe2\x82\xac\"}");
    NegotiateResponse redirect;
    redirect.negotiateVersion = 0;
    redirect.url = "https://example.azure.com/client/?hub=chat";
    redirect.accessToken = "jwt.token.sig";
    QTest::newRow("redirect")
        << redirect
        << QByteArray(R"({"negotiateVersion":0,"url":"https://example.azure.com/client/?hub=chat",)"
                      R"("accessToken":"jwt.token.sig"})");
}

void tst_HandshakeNegotiate::negotiateToJson()
{
    QFETCH(NegotiateResponse, response);
    QFETCH(QByteArray, json);

    QCOMPARE(response.toJson(), json);
    auto parsed = NegotiateResponse::fromJson(json);
    VERIFY_OK(parsed);
    QVERIFY(*parsed == response);
    QCOMPARE(parsed->isRedirect(), !response.url.isEmpty());
}

void tst_HandshakeNegotiate::negotiateFromJson_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<NegotiateResponse>("expected");

    NegotiateResponse v1 = v1Response();
    v1.availableTransports = {{"WebSockets", {"Text", "Binary"}}};
    const QByteArray ws = R"([{"transport":"WebSockets","transferFormats":["Text","Binary"]}])";

    QTest::newRow("unknown properties skipped")
        << QByteArray(R"({"tokenLifetimeSeconds":3600,"negotiateVersion":1,"x":{"y":[1,{}]},)"
                      R"("connectionId":"id-1","connectionToken":"token-1","z":null,)"
                      R"("availableTransports":[{"transport":"WebSockets","extra":1,)"
                      R"("transferFormats":["Text","Binary"]}]})")
        << v1;
    QTest::newRow("any order, whitespace")
        << QByteArray(" {\n \"availableTransports\" : " + ws
                      + R"(, "connectionToken":"token-1", "connectionId":"id-1",)"
                        R"( "negotiateVersion":1 }  )")
        << v1;
    {
        NegotiateResponse v0 = v1;
        v0.negotiateVersion = 0;
        v0.connectionToken.clear();
        QTest::newRow("v0: negotiateVersion missing")
            << QByteArray(R"({"connectionId":"id-1","availableTransports":)" + ws + '}') << v0;
        QTest::newRow("v0 ignores a connectionToken (the id is the token)")
            << QByteArray(R"({"negotiateVersion":0,"connectionId":"id-1",)"
                          R"("connectionToken":"ignored","availableTransports":)"
                          + ws + '}')
            << v0;
    }
    {
        NegotiateResponse redirect;
        redirect.url = "https://other/hub";
        redirect.accessToken = "secret";
        QTest::newRow("redirect with access token")
            << QByteArray(R"({"url":"https://other/hub","accessToken":"secret"})") << redirect;
        redirect.accessToken.clear();
        QTest::newRow("redirect without access token")
            << QByteArray(R"({"url":"https://other/hub"})") << redirect;
    }
    QTest::newRow("error only") << QByteArray(R"({"error":"nope"})")
                                << NegotiateResponse::failure(u"nope"_s);
    {
        NegotiateResponse s = v1;
        s.useStatefulReconnect = true;
        QTest::newRow("stateful") << QByteArray(
            R"({"useStatefulReconnect":true,"negotiateVersion":1,)"
            R"("connectionId":"id-1","connectionToken":"token-1",)"
            R"("availableTransports":)"
            + ws + '}') << s;
    }
    {
        NegotiateResponse none = v1;
        none.availableTransports.clear();
        QTest::newRow("no transports")
            << QByteArray(R"({"negotiateVersion":1,"connectionId":"id-1",)"
                          R"("connectionToken":"token-1","availableTransports":[]})")
            << none;
    }
    {
        NegotiateResponse future = v1;
        future.negotiateVersion = 7;
        QTest::newRow("newer version")
            << QByteArray(R"({"negotiateVersion":7,"connectionId":"id-1",)"
                          R"("connectionToken":"token-1","availableTransports":)"
                          + ws + '}')
            << future;
    }
}

void tst_HandshakeNegotiate::negotiateFromJson()
{
    QFETCH(QByteArray, json);
    QFETCH(NegotiateResponse, expected);

    auto parsed = NegotiateResponse::fromJson(json);
    VERIFY_OK(parsed);
    QVERIFY(*parsed == expected);
    QCOMPARE(parsed->effectiveToken(),
             expected.negotiateVersion > 0 ? expected.connectionToken : expected.connectionId);
}

void tst_HandshakeNegotiate::negotiateFromJsonErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("mentions");

    const QByteArray ws = R"([{"transport":"WebSockets","transferFormats":["Text"]}])";
    QTest::newRow("missing connectionId") << QByteArray(
        R"({"negotiateVersion":1,"connectionToken":"t","availableTransports":)" + ws + '}')
                                          << u"connectionId"_s;
    QTest::newRow("connectionId null") << QByteArray(
        R"({"negotiateVersion":0,"connectionId":null,"availableTransports":)" + ws + '}')
                                       << u"connectionId"_s;
    QTest::newRow("names are case-sensitive") << QByteArray(
        R"({"negotiateVersion":0,"ConnectionId":"a","availableTransports":)" + ws + '}')
                                              << u"connectionId"_s;
    QTest::newRow("v1 missing connectionToken") << QByteArray(
        R"({"negotiateVersion":1,"connectionId":"i","availableTransports":)" + ws + '}')
                                                << u"connectionToken"_s;
    QTest::newRow("missing availableTransports")
        << QByteArray(R"({"negotiateVersion":1,"connectionId":"i","connectionToken":"t"})")
        << u"availableTransports"_s;
    QTest::newRow("availableTransports not an array")
        << QByteArray(R"({"negotiateVersion":0,"connectionId":"i","availableTransports":{}})")
        << u"availableTransports"_s;
    QTest::newRow("transport without transferFormats")
        << QByteArray(R"({"negotiateVersion":0,"connectionId":"i",)"
                      R"("availableTransports":[{"transport":"WebSockets"}]})")
        << u"transferFormats"_s;
    QTest::newRow("transport without name")
        << QByteArray(R"({"negotiateVersion":0,"connectionId":"i",)"
                      R"("availableTransports":[{"transferFormats":["Text"]}]})")
        << u"transport"_s;
    QTest::newRow("connectionId a number")
        << QByteArray(R"({"connectionId":5,"availableTransports":[]})") << u"connectionId"_s;
    QTest::newRow("negotiateVersion a string")
        << QByteArray(R"({"negotiateVersion":"1","connectionId":"i","availableTransports":[]})")
        << u"negotiateVersion"_s;
    QTest::newRow("not an object") << QByteArray("[]") << u"negotiation"_s;
    QTest::newRow("not JSON") << QByteArray("<html>404</html>") << u"negotiation"_s;
    QTest::newRow("empty") << QByteArray() << u"negotiation"_s;
    QTest::newRow("truncated") << QByteArray(R"({"connectionId":"i")") << u"negotiation"_s;
    QTest::newRow("trailing data") << QByteArray(R"({"error":"x"} {})") << u"negotiation"_s;
}

void tst_HandshakeNegotiate::negotiateFromJsonErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, mentions);

    auto parsed = NegotiateResponse::fromJson(json);
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().code, ProtocolErrorCode::NegotiateFailed);
    QVERIFY2(parsed.error().message.contains(mentions), qPrintable(parsed.error().message));
}

void tst_HandshakeNegotiate::transportSupports()
{
    const AvailableTransport ws {"WebSockets", {"Text", "Binary"}};
    const AvailableTransport sse {"ServerSentEvents", {"Text"}};
    QVERIFY(ws.supports(TransferFormat::Text));
    QVERIFY(ws.supports(TransferFormat::Binary));
    QVERIFY(sse.supports(TransferFormat::Text));
    QVERIFY(!sse.supports(TransferFormat::Binary));

    // ProtocolVersion (classic ASP.NET SignalR) is detected wherever it appears.
    for (const char *json : {R"({"Url":"/signalr","ConnectionToken":"x","ProtocolVersion":"1.5"})",
                             R"({"ProtocolVersion":"1.5","connectionId":"i"})"}) {
        auto parsed = NegotiateResponse::fromJson(json);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().code, ProtocolErrorCode::NegotiateFailed);
        QCOMPARE(parsed.error().message, classicServerError);
    }
}

void tst_HandshakeNegotiate::selectVersion_data()
{
    QTest::addColumn<bool>("present");
    QTest::addColumn<QByteArray>("requested");
    QTest::addColumn<int>("minimum");
    QTest::addColumn<int>("version"); // -1: error
    QTest::addColumn<QString>("error");

    QTest::newRow("absent -> 0") << false << QByteArray() << 0 << 0 << QString();
    QTest::newRow("0") << true << QByteArray("0") << 0 << 0 << QString();
    QTest::newRow("1") << true << QByteArray("1") << 0 << 1 << QString();
    QTest::newRow("2 -> 1") << true << QByteArray("2") << 0 << 1 << QString();
    QTest::newRow("int max -> 1") << true << QByteArray("2147483647") << 0 << 1 << QString();
    QTest::newRow("1 with minimum 1") << true << QByteArray("1") << 1 << 1 << QString();
    QTest::newRow("absent with minimum 1")
        << false << QByteArray() << 1 << -1
        << u"The client requested version '0', but the server does not support this version."_s;
    QTest::newRow("0 with minimum 1")
        << true << QByteArray("0") << 1 << -1
        << u"The client requested version '0', but the server does not support this version."_s;
    QTest::newRow("negative")
        << true << QByteArray("-1") << 0 << -1
        << u"The client requested version '-1', but the server does not support this version."_s;
    QTest::newRow("non-integer") << true << QByteArray("abc") << 0 << -1
                                 << u"The client requested a non-integer protocol version."_s;
    QTest::newRow("empty") << true << QByteArray() << 0 << -1
                           << u"The client requested a non-integer protocol version."_s;
    QTest::newRow("fraction") << true << QByteArray("1.0") << 0 << -1
                              << u"The client requested a non-integer protocol version."_s;
    QTest::newRow("beyond int") << true << QByteArray("2147483648") << 0 << -1
                                << u"The client requested a non-integer protocol version."_s;
}

void tst_HandshakeNegotiate::selectVersion()
{
    QFETCH(bool, present);
    QFETCH(QByteArray, requested);
    QFETCH(int, minimum);
    QFETCH(int, version);
    QFETCH(QString, error);

    std::optional<QByteArrayView> query;
    if (present)
        query = QByteArrayView(requested);
    auto r = Negotiate::selectVersion(query, minimum);
    if (version >= 0) {
        VERIFY_OK(r);
        QCOMPARE(*r, version);
        QVERIFY(*r <= Negotiate::MaxVersion);
        return;
    }
    QVERIFY(!r);
    QCOMPARE(r.error().message, error);
    // The server reports it inside a 200 negotiate response.
    QCOMPARE(NegotiateResponse::failure(r.error().message).toJson(),
             QByteArray(R"({"error":")" + error.toUtf8() + R"("})"));
}

void tst_HandshakeNegotiate::newConnectionId()
{
    QSet<QByteArray> seen;
    for (int i = 0; i < 2000; ++i) {
        const QByteArray id = Negotiate::newConnectionId();
        QCOMPARE(id.size(), 22);
        for (const char c : id) {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_';
            QVERIFY2(ok, id.constData());
        }
        auto raw = QByteArray::fromBase64Encoding(
            id, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
        QVERIFY(raw);
        QCOMPARE(raw.decoded.size(), 16);
        seen.insert(id);
    }
    QCOMPARE(seen.size(), 2000);
}

QTEST_GUILESS_MAIN(tst_HandshakeNegotiate)
#include "tst_handshake_negotiate.moc"
