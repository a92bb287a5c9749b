// SPDX-License-Identifier: MIT
// The HTTP/1.1 request parser (every limit and error status, pipelining, chunked bodies, feeding
// in any split), the query-string helper, and the response builder.
#include "http/httprequestparser.h"
#include "http/httpresponse.h"

#include <QtCore/QDateTime>
#include <QtCore/QTimeZone>
#include <QtTest/QTest>

using namespace Heliograph::Server;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(Heliograph::Server::HttpRequest)
Q_DECLARE_METATYPE(Heliograph::Server::HttpRequestLimits)

namespace Heliograph::Server {

char *toString(const HttpRequest &r)
{
    QByteArray s = r.method + ' ' + r.target + " path=" + r.path + " query=" + r.query
        + (r.version == HttpVersion::Http11 ? " 1.1" : " 1.0")
        + (r.keepAlive ? " keep-alive" : " close") + (r.isUpgrade ? " upgrade" : "") + " headers={";
    for (const HttpHeader &h : r.headers)
        s += h.name + ": " + h.value + "; ";
    s += "} trailers={";
    for (const HttpHeader &h : r.trailers)
        s += h.name + ": " + h.value + "; ";
    s += "} body(" + QByteArray::number(r.body.size()) + ")=" + r.body.left(64).toPercentEncoding();
    return qstrdup(s.constData());
}

char *toString(const HttpError &e)
{
    return qstrdup(QByteArray(QByteArray::number(e.status) + ' ' + e.reason).constData());
}

} // namespace Heliograph::Server

namespace {

HttpRequest request(QByteArray method, QByteArray target, QByteArray path, QByteArray query,
                    HttpHeaders headers, QByteArray body = {},
                    HttpVersion version = HttpVersion::Http11, bool keepAlive = true,
                    bool isUpgrade = false, HttpHeaders trailers = {})
{
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.path = std::move(path);
    r.query = std::move(query);
    r.version = version;
    r.headers = std::move(headers);
    r.trailers = std::move(trailers);
    r.body = std::move(body);
    r.keepAlive = keepAlive;
    r.isUpgrade = isUpgrade;
    return r;
}

HttpRequest get(QByteArray target, QByteArray path, QByteArray query = {})
{
    return request("GET", std::move(target), std::move(path), std::move(query),
                   {{"host", "example.com"}});
}

QByteArray getBytes(QByteArrayView target)
{
    return "GET " + target.toByteArray() + " HTTP/1.1\r\nHost: example.com\r\n\r\n";
}

/// What parsing an input produced.
struct Outcome {
    QList<HttpRequest> requests;
    HttpError error;
    qsizetype buffered = 0;
};

/// Feeds `input` in pieces of `step` bytes (0: all at once; < 0: as QByteArray copies, which
/// an empty parser takes without copying), draining after each piece. Checks that an error
/// sticks: the same error again, also after more input.
bool parse(const QByteArray &input, const HttpRequestLimits &limits, qsizetype step, Outcome &out)
{
    HttpRequestParser parser(limits);
    out = Outcome();
    const qsizetype n = step == 0 ? qMax<qsizetype>(input.size(), 1) : qAbs(step);
    for (qsizetype at = 0; at < input.size() || at == 0; at += n) {
        if (step < 0)
            parser.feed(input.mid(at, n));
        else
            parser.feed(QByteArrayView(input).sliced(at, qMin(n, input.size() - at)));
        while (true) {
            HttpRequestParser::Result r = parser.next();
            if (r.status == HttpRequestParser::Status::NeedMoreData)
                break;
            if (r.status == HttpRequestParser::Status::Request) {
                out.requests.append(std::move(r.request));
                continue;
            }
            out.error = r.error;
            parser.feed(QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
            const HttpRequestParser::Result again = parser.next();
            if (again.status != HttpRequestParser::Status::Error || !(again.error == r.error)
                || !parser.hasFailed() || !(parser.error() == r.error)) {
                qWarning("the parser recovered from an error");
                return false;
            }
            out.buffered = parser.bufferedBytes();
            return true;
        }
        if (input.isEmpty())
            break;
    }
    out.buffered = parser.bufferedBytes();
    return true;
}

/// Parses `input` whole, byte by byte, as shared QByteArrays of 7 bytes, and split in two at
/// every position (for short inputs); all must agree.
bool parseAllWays(const QByteArray &input, const HttpRequestLimits &limits, Outcome &out)
{
    if (!parse(input, limits, 0, out))
        return false;
    QList<qsizetype> steps {1, -7};
    for (const qsizetype step : steps) {
        Outcome other;
        if (!parse(input, limits, step, other))
            return false;
        if (other.requests != out.requests || !(other.error == out.error)
            || other.buffered != out.buffered) {
            qWarning("feeding in pieces of %lld bytes gives a different outcome", qint64(step));
            return false;
        }
    }
    if (input.size() <= 600) {
        for (qsizetype split = 1; split < input.size(); ++split) {
            HttpRequestParser parser(limits);
            Outcome other;
            auto drain = [&] {
                while (true) {
                    HttpRequestParser::Result r = parser.next();
                    if (r.status == HttpRequestParser::Status::Request)
                        other.requests.append(std::move(r.request));
                    else if (r.status == HttpRequestParser::Status::Error)
                        return (void)(other.error = r.error);
                    else
                        return;
                }
            };
            parser.feed(QByteArrayView(input).first(split));
            drain();
            parser.feed(QByteArrayView(input).sliced(split));
            drain();
            other.buffered = parser.bufferedBytes();
            if (other.requests != out.requests || !(other.error == out.error)
                || other.buffered != out.buffered) {
                qWarning("splitting at %lld gives a different outcome", qint64(split));
                return false;
            }
        }
    }
    return true;
}

HttpRequestLimits bareLf()
{
    HttpRequestLimits l;
    l.allowBareLf = true;
    return l;
}

HttpRequestLimits withMaxBody(qint64 max)
{
    HttpRequestLimits l;
    l.maxBodySize = max;
    return l;
}

/// A GET whose request line is exactly `size` bytes long.
QByteArray requestLineOfSize(qsizetype size)
{
    const QByteArray head = "GET /";
    const QByteArray tail = " HTTP/1.1";
    return head + QByteArray(size - head.size() - tail.size(), 'a') + tail;
}

/// A GET whose header section (fields with their CRLFs plus the final CRLF) is `size` bytes.
QByteArray headerSectionOfSize(qsizetype size)
{
    const QByteArray host = "Host: example.com\r\n";
    const QByteArray fill = "X-Fill: ";
    const qsizetype pad = size - host.size() - fill.size() - 2 - 2;
    return "GET / HTTP/1.1\r\n" + host + fill + QByteArray(pad, 'v') + "\r\n\r\n";
}

/// A GET with `count` field lines.
QByteArray requestWithFields(int count)
{
    QByteArray r = "GET / HTTP/1.1\r\nHost: example.com\r\n";
    for (int i = 1; i < count; ++i)
        r += "X-" + QByteArray::number(i) + ": v\r\n";
    return r + "\r\n";
}

QByteArray chunkedPost(const QByteArray &chunks)
{
    return "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks;
}

QByteArray postWithLength(QByteArrayView length, QByteArrayView body = {})
{
    return "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: " + length.toByteArray()
        + "\r\n\r\n" + body.toByteArray();
}

} // namespace

class tst_HttpRequestParser : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void validRequests_data();
    void validRequests();
    void errors_data();
    void errors();
    void limits_data();
    void limits();
    void pipelining();
    void upgradeLeavesFrameBytes();
    void expectContinue();
    void idleAndBuffered();
    void headerLookup();

    void queryString_data();
    void queryString();
    void queryDecode_data();
    void queryDecode();

    void responseSerialize_data();
    void responseSerialize();
    void responseHead();
    void responseRejectsInjection();
    void chunks();
    void httpDate_data();
    void httpDate();
    void errorResponse();
};

void tst_HttpRequestParser::validRequests_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<HttpRequestLimits>("limits");
    QTest::addColumn<HttpRequest>("expected");

    const HttpRequestLimits defaults;

    QTest::newRow("simple GET") << getBytes("/") << defaults << get("/", "/");

    QTest::newRow("negotiate POST")
        << QByteArray("POST /hubs/chat/negotiate?negotiateVersion=1 HTTP/1.1\r\n"
                      "Host: localhost:5000\r\n"
                      "User-Agent: Microsoft SignalR/8.0\r\n"
                      "X-Requested-With: XMLHttpRequest\r\n"
                      "Content-Type: text/plain;charset=UTF-8\r\n"
                      "Content-Length: 0\r\n\r\n")
        << defaults
        << request("POST", "/hubs/chat/negotiate?negotiateVersion=1", "/hubs/chat/negotiate",
                   "negotiateVersion=1",
                   {{"host", "localhost:5000"},
                    {"user-agent", "Microsoft SignalR/8.0"},
                    {"x-requested-with", "XMLHttpRequest"},
                    {"content-type", "text/plain;charset=UTF-8"},
                    {"content-length", "0"}});

    QTest::newRow("long polling send")
        << postWithLength("49",
                          R"({"type":1,"target":"Send","arguments":["hello"]})"
                          "\x1e")
        << defaults
        << request("POST", "/upload", "/upload", {},
                   {{"host", "example.com"}, {"content-length", "49"}},
                   R"({"type":1,"target":"Send","arguments":["hello"]})"
                   "\x1e");

    QTest::newRow("Content-Length with leading zeros")
        << postWithLength("0005", "hello") << defaults
        << request("POST", "/upload", "/upload", {},
                   {{"host", "example.com"}, {"content-length", "0005"}}, "hello");

    const HttpHeaders chunkedHeaders {{"host", "example.com"}, {"transfer-encoding", "chunked"}};
    QTest::newRow("chunked") << chunkedPost(
        "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n")
                             << defaults
                             << request("POST", "/upload", "/upload", {}, chunkedHeaders,
                                        "Wikipedia in\r\n\r\nchunks.");
    QTest::newRow("chunked, empty body")
        << chunkedPost("0\r\n\r\n") << defaults
        << request("POST", "/upload", "/upload", {}, chunkedHeaders);
    QTest::newRow("chunked, hex digits of both cases, leading zeros")
        << chunkedPost("0a\r\n0123456789\r\nA\r\nabcdefghij\r\n000\r\n\r\n") << defaults
        << request("POST", "/upload", "/upload", {}, chunkedHeaders, "0123456789abcdefghij");
    QTest::newRow("chunked with extensions and trailers")
        << chunkedPost("5;name=value;flag;q=\"quoted \\\" \\\\ str\"\r\nhello\r\n"
                       "6 ; a = b ;c\t=\t\"\"\r\n world\r\n"
                       "0;last\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\n")
        << defaults
        << request("POST", "/upload", "/upload", {}, chunkedHeaders, "hello world",
                   HttpVersion::Http11, true, false, {{"expires", "never"}, {"x-checksum", "abc"}});
    QTest::newRow("Transfer-Encoding in any case, with empty list elements")
        << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n"
                      "transfer-encoding:  ,CHUNKED , \r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        << defaults
        << request(
               "POST", "/", "/", {},
               {{"host", "a"}, {"transfer-encoding", ", ,"}, {"transfer-encoding", ",CHUNKED ,"}},
               "abc");

    QTest::newRow("HTTP/1.0 without Host closes")
        << QByteArray("GET /index.html HTTP/1.0\r\n\r\n") << defaults
        << request("GET", "/index.html", "/index.html", {}, {}, {}, HttpVersion::Http10, false);
    QTest::newRow("HTTP/1.0 keep-alive")
        << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << defaults
        << request("GET", "/", "/", {}, {{"connection", "Keep-Alive"}}, {}, HttpVersion::Http10,
                   true);
    QTest::newRow("HTTP/1.1 Connection: close")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n") << defaults
        << request("GET", "/", "/", {}, {{"host", "a"}, {"connection", "foo, close"}}, {},
                   HttpVersion::Http11, false);
    QTest::newRow("HTTP/1.0 keep-alive and close")
        << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
        << defaults
        << request("GET", "/", "/", {}, {{"connection", "keep-alive"}, {"connection", "close"}}, {},
                   HttpVersion::Http10, false);

    const QByteArray upgrade = "GET /hubs/chat?id=abc HTTP/1.1\r\n"
                               "Host: server.example.com\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: keep-alive, Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n\r\n";
    QTest::newRow("WebSocket upgrade")
        << upgrade << defaults
        << request("GET", "/hubs/chat?id=abc", "/hubs/chat", "id=abc",
                   {{"host", "server.example.com"},
                    {"upgrade", "websocket"},
                    {"connection", "keep-alive, Upgrade"},
                    {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
                    {"sec-websocket-version", "13"}},
                   {}, HttpVersion::Http11, true, true);
    QTest::newRow("Upgrade ignored in HTTP/1.0")
        << QByteArray("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")
        << defaults
        << request("GET", "/", "/", {}, {{"upgrade", "websocket"}, {"connection", "upgrade"}}, {},
                   HttpVersion::Http10, false, false);
    QTest::newRow("Upgrade without Connection: upgrade")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n") << defaults
        << request("GET", "/", "/", {}, {{"host", "a"}, {"upgrade", "websocket"}});

    QTest::newRow("absolute-form")
        << QByteArray("GET HTTP://example.com:8080/a%20b?x=1&y HTTP/1.1\r\nHost: "
                      "example.com\r\n\r\n")
        << defaults << get("HTTP://example.com:8080/a%20b?x=1&y", "/a b", "x=1&y");
    QTest::newRow("absolute-form without a path")
        << getBytes("https://example.com?q") << defaults << get("https://example.com?q", "/", "q");
    QTest::newRow("asterisk-form")
        << QByteArray("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n") << defaults
        << request("OPTIONS", "*", "*", {}, {{"host", "example.com"}});
    QTest::newRow("authority-form")
        << QByteArray("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        << defaults << request("CONNECT", "example.com:443", {}, {}, {{"host", "example.com:443"}});

    QTest::newRow("percent-decoded UTF-8 path")
        << getBytes("/hubs/%E2%9C%93/caf%c3%a9") << defaults
        << get("/hubs/%E2%9C%93/caf%c3%a9", "/hubs/\xE2\x9C\x93/caf\xC3\xA9");
    QTest::newRow("%2F stays encoded")
        << getBytes("/a%2Fb/%2f%41") << defaults << get("/a%2Fb/%2f%41", "/a%2Fb/%2fA");
    QTest::newRow("dot segments") << getBytes("/a/b/../c/./d/.") << defaults
                                  << get("/a/b/../c/./d/.", "/a/c/d/");
    QTest::newRow("encoded dot segments")
        << getBytes("/a/%2E%2e/x") << defaults << get("/a/%2E%2e/x", "/x");
    QTest::newRow("dot segments above the root")
        << getBytes("/../..") << defaults << get("/../..", "/");
    QTest::newRow("dots that are no segments")
        << getBytes("/a/.../b..//.c") << defaults << get("/a/.../b..//.c", "/a/.../b..//.c");
    QTest::newRow("empty query") << getBytes("/p?") << defaults << get("/p?", "/p", "");
    QTest::newRow("query with a '?'")
        << getBytes("/p?a=?&b=%3F") << defaults << get("/p?a=?&b=%3F", "/p", "a=?&b=%3F");

    QTest::newRow("empty lines before the request line")
        << QByteArray("\r\n\r\n" + getBytes("/")) << defaults << get("/", "/");
    QTest::newRow("field values trimmed, obs-text kept, names lower-cased")
        << QByteArray("GET / HTTP/1.1\r\nHost:example.com\r\nX-MiXeD:   spaced  value \t\r\n"
                      "X-Latin1: caf\xe9\r\nX-Empty:\r\nX-Tab:\ta\tb\r\n\r\n")
        << defaults
        << request("GET", "/", "/", {},
                   {{"host", "example.com"},
                    {"x-mixed", "spaced  value"},
                    {"x-latin1", "caf\xe9"},
                    {"x-empty", ""},
                    {"x-tab", "a\tb"}});
    QTest::newRow("extension method")
        << QByteArray("M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n") << defaults
        << request("M-SEARCH", "/x", "/x", {}, {{"host", "a"}});
    QTest::newRow("empty Host") << QByteArray("GET / HTTP/1.1\r\nHost:\r\n\r\n") << defaults
                                << request("GET", "/", "/", {}, {{"host", ""}});
    QTest::newRow("IPv6 Host") << QByteArray("GET / HTTP/1.1\r\nHost: [::1]:5000\r\n\r\n")
                               << defaults
                               << request("GET", "/", "/", {}, {{"host", "[::1]:5000"}});

    QTest::newRow("bare LF allowed")
        << QByteArray("GET / HTTP/1.1\nHost: example.com\n\n") << bareLf() << get("/", "/");
    QTest::newRow("bare LF allowed, chunked")
        << QByteArray("POST / HTTP/1.1\nHost: a\r\nTransfer-Encoding: chunked\n\n"
                      "3\nabc\n2;x=y\r\nde\r\n0\nT: v\n\n")
        << bareLf()
        << request("POST", "/", "/", {}, {{"host", "a"}, {"transfer-encoding", "chunked"}}, "abcde",
                   HttpVersion::Http11, true, false, {{"t", "v"}});
}

void tst_HttpRequestParser::validRequests()
{
    QFETCH(QByteArray, input);
    QFETCH(HttpRequestLimits, limits);
    QFETCH(HttpRequest, expected);

    Outcome out;
    QVERIFY(parseAllWays(input, limits, out));
    QCOMPARE(out.error.status, 0);
    QCOMPARE(out.requests.size(), 1);
    QCOMPARE(out.requests.first(), expected);
    QCOMPARE(out.buffered, 0);
}

void tst_HttpRequestParser::errors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<HttpRequestLimits>("limits");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");

    auto row = [&](const char *name, QByteArray input, int status, QByteArray reason,
                   HttpRequestLimits limits = {}) {
        QTest::newRow(name) << input << limits << status << reason;
    };
    auto withField = [](QByteArrayView field) -> QByteArray {
        return "GET / HTTP/1.1\r\nHost: a\r\n" + field.toByteArray() + "\r\n\r\n";
    };

    // Request line.
    row("one space only", "GET /\r\n\r\n", 400, "malformed request line");
    row("no spaces", "GET\r\n\r\n", 400, "malformed request line");
    row("two spaces before the target", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "malformed request line");
    row("space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400,
        "malformed HTTP version");
    row("space inside the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "malformed HTTP version");
    row("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "malformed HTTP version");
    row("version without dot", "GET / HTTP/11\r\nHost: a\r\n\r\n", 400, "malformed HTTP version");
    row("two-digit version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "malformed HTTP version");
    row("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
    row("method with a separator", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
    row("control character in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid character in request target");
    row("tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid character in request target");
    row("DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid character in request target");
    row("non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid character in request target");
    row("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid character in request target");
    row("asterisk without OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "asterisk-form request target without OPTIONS");
    row("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request target");
    row("absolute-form of another scheme", "GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid request target");
    row("absolute-form without authority", "GET http:///b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid request target");
    row("bad percent-encoding", "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid percent-encoding in path");
    row("truncated percent-encoding", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid percent-encoding in path");
    row("percent at the end", "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "invalid percent-encoding in path");
    row("encoded NUL", "GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "NUL in path");
    row("path not UTF-8", "GET /%C3%28 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "path is not valid UTF-8");
    row("path with an encoded surrogate", "GET /%ED%A0%80 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "path is not valid UTF-8");
    row("path with an overlong", "GET /%C0%AF HTTP/1.1\r\nHost: a\r\n\r\n", 400,
        "path is not valid UTF-8");

    // Line terminators.
    row("bare LF after the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400,
        "bare LF line terminator");
    row("bare LF after a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF line terminator");
    row("bare LF ending the header section", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400,
        "bare LF line terminator");
    row("bare LF alone", "\n", 400, "bare LF line terminator");
    row("bare CR in the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR");
    row("bare CR in a field value", withField("X: a\rb"), 400, "bare CR");
    row("bare CR with bare LF allowed", "GET / HTTP/1.1\rHost: a\n\n", 400, "bare CR", bareLf());
    row("CR CR LF", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400, "bare CR");

    // Field lines.
    row("field without colon", withField("X-Foo bar"), 400, "malformed field line");
    row("field with empty name", withField(": bar"), 400, "malformed field line");
    row("whitespace before colon", withField("X-Foo : bar"), 400, "whitespace before colon");
    row("tab before colon", withField("X-Foo\t: bar"), 400, "whitespace before colon");
    row("separator in field name", withField("X(Foo): bar"), 400, "invalid field name");
    row("non-ASCII field name", withField("X-Caf\xc3\xa9: bar"), 400, "invalid field name");
    row("control character in value", withField("X: a\x01 b"), 400,
        "invalid character in field value");
    row("NUL in value", withField(QByteArrayView("X: a\0b", 6)), 400,
        "invalid character in field value");
    row("DEL in value", withField("X: a\x7f"), 400, "invalid character in field value");
    row("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400,
        "obsolete line folding");
    row("obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400,
        "obsolete line folding");
    row("whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400,
        "whitespace before the first field");
    row("missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400, "missing Host");
    row("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "duplicate Host");
    row("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host");
    row("Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "invalid Host");
    row("duplicate Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400,
        "duplicate Host");

    // Framing.
    const QByteArray post = "POST / HTTP/1.1\r\nHost: a\r\n";
    row("duplicate equal Content-Length",
        post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400,
        "duplicate Content-Length");
    row("conflicting Content-Length", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400, "duplicate Content-Length");
    row("Content-Length list", post + "Content-Length: 3, 3\r\n\r\nabc", 400,
        "invalid Content-Length");
    row("negative Content-Length", post + "Content-Length: -1\r\n\r\n", 400,
        "invalid Content-Length");
    row("signed Content-Length", post + "Content-Length: +3\r\n\r\nabc", 400,
        "invalid Content-Length");
    row("hex Content-Length", post + "Content-Length: 0x3\r\n\r\nabc", 400,
        "invalid Content-Length");
    row("empty Content-Length", post + "Content-Length:\r\n\r\n", 400, "invalid Content-Length");
    row("Content-Length and Transfer-Encoding",
        post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
        "both Content-Length and Transfer-Encoding");
    row("Transfer-Encoding and Content-Length",
        post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
        "both Content-Length and Transfer-Encoding");
    row("Transfer-Encoding in HTTP/1.0",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
        "Transfer-Encoding in an HTTP/1.0 request");
    row("chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400,
        "chunked is not the final transfer coding");
    row("chunked twice in two lines",
        post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
        "chunked is not the final transfer coding");
    row("chunked not final", post + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400,
        "chunked is not the final transfer coding");
    row("empty Transfer-Encoding", post + "Transfer-Encoding:\r\n\r\n", 400,
        "empty Transfer-Encoding");
    row("Transfer-Encoding of commas", post + "Transfer-Encoding: , ,\r\n\r\n", 400,
        "empty Transfer-Encoding");
    row("chunked with a parameter", post + "Transfer-Encoding: chunked;q=1\r\n\r\n", 400,
        "invalid Transfer-Encoding");
    row("malformed transfer coding", post + "Transfer-Encoding: gz(ip), chunked\r\n\r\n", 400,
        "invalid Transfer-Encoding");

    // Chunked bodies.
    row("chunk size not hex", chunkedPost("zz\r\n"), 400, "invalid chunk size");
    row("empty chunk size", chunkedPost("\r\n"), 400, "invalid chunk size");
    row("negative chunk size", chunkedPost("-1\r\n"), 400, "invalid chunk size");
    row("0x chunk size", chunkedPost("0x5\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk size");
    row("chunk size with trailing space", chunkedPost("5 \r\nhello\r\n0\r\n\r\n"), 400,
        "invalid chunk extension");
    row("chunk extension without name", chunkedPost("5;\r\nhello\r\n0\r\n\r\n"), 400,
        "invalid chunk extension");
    row("chunk extension without value", chunkedPost("5;a=\r\nhello\r\n0\r\n\r\n"), 400,
        "invalid chunk extension");
    row("chunk extension with two names", chunkedPost("5;a b\r\nhello\r\n0\r\n\r\n"), 400,
        "invalid chunk extension");
    row("chunk extension with open quote", chunkedPost("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400,
        "invalid chunk extension");
    row("chunk extension with control character",
        chunkedPost("5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n"), 400, "invalid chunk extension");
    row("chunk data too long", chunkedPost("3\r\nabcd\r\n0\r\n\r\n"), 400,
        "chunk data not followed by CRLF");
    row("chunk data without CRLF", chunkedPost("3\r\nabc0\r\n\r\n"), 400,
        "chunk data not followed by CRLF");
    row("bare LF after chunk data", chunkedPost("3\r\nabc\n0\r\n\r\n"), 400,
        "bare LF line terminator");
    row("bare LF after chunk size", chunkedPost("3\nabc\r\n0\r\n\r\n"), 400,
        "bare LF line terminator");
    row("bare LF in trailers", chunkedPost("0\r\nT: v\n\r\n"), 400, "bare LF line terminator");
    row("chunk data too long, bare LF allowed", chunkedPost("3\nabcd\n0\n\n"), 400,
        "chunk data not followed by CRLF", bareLf());
    row("chunk line too long", chunkedPost("1;a=" + QByteArray(5000, 'b') + "\r\nx\r\n0\r\n\r\n"),
        400, "chunk line too long");
    row("chunk line too long, unterminated", chunkedPost("1;a=" + QByteArray(4092, 'b')), 400,
        "chunk line too long");
    row("obs-fold in trailers", chunkedPost("0\r\nT: a\r\n b\r\n\r\n"), 400,
        "obsolete line folding");
    row("malformed trailer", chunkedPost("0\r\nT a\r\n\r\n"), 400, "malformed field line");

    // 413.
    row("Content-Length over the default limit", postWithLength("1048577"), 413,
        "request body too large");
    row("huge Content-Length", postWithLength("99999999999999999999999999999"), 413,
        "request body too large");
    row("chunk over the default limit", chunkedPost("100001\r\n"), 413, "request body too large");
    row("huge chunk size", chunkedPost("ffffffffffffffffffffffffffff\r\n"), 413,
        "request body too large");
    row("chunks over a configured limit", chunkedPost("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        413, "request body too large", withMaxBody(10));

    // 501, 505.
    row("gzip then chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501,
        "unsupported transfer coding");
    row("gzip alone", post + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported transfer coding");
    row("identity", post + "Transfer-Encoding: identity\r\n\r\n", 501,
        "unsupported transfer coding");
    row("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP version not supported");
    row("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "HTTP version not supported");
    row("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505, "HTTP version not supported");
    row("HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505,
        "HTTP version not supported");
}

void tst_HttpRequestParser::errors()
{
    QFETCH(QByteArray, input);
    QFETCH(HttpRequestLimits, limits);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);

    Outcome out;
    QVERIFY(parseAllWays(input, limits, out));
    QCOMPARE(out.requests.size(), 0);
    QCOMPARE(out.error.status, status);
    QCOMPARE(out.error.reason, reason);
    QCOMPARE(out.buffered, 0);
}

void tst_HttpRequestParser::limits_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<HttpRequestLimits>("limits");
    QTest::addColumn<int>("status"); // 0: the request must parse
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<qsizetype>("bodySize");

    const HttpRequestLimits defaults;
    const QByteArray headers = "\r\nHost: a\r\n\r\n";

    // 414: the request line, without its CRLF, may have 8 KiB.
    QTest::newRow("request line of 8 KiB") << QByteArray(requestLineOfSize(8192) + headers)
                                           << defaults << 0 << QByteArray() << qsizetype(0);
    QTest::newRow("request line of 8 KiB + 1")
        << QByteArray(requestLineOfSize(8193) + headers) << defaults << 414
        << QByteArray("request line too long") << qsizetype(0);
    QTest::newRow("request line of 8 KiB + 1, bare LF allowed")
        << QByteArray(requestLineOfSize(8193) + "\nHost: a\n\n") << bareLf() << 414
        << QByteArray("request line too long") << qsizetype(0);
    QTest::newRow("request line of 8 KiB + CR waits for the LF")
        << QByteArray(requestLineOfSize(8192) + "\r") << defaults << 0 << QByteArray()
        << qsizetype(-1);
    QTest::newRow("request line of 8 KiB + 1 + CR, unterminated")
        << QByteArray(requestLineOfSize(8193) + "\r") << defaults << 414
        << QByteArray("request line too long") << qsizetype(0);
    QTest::newRow("request line of 8 KiB + 2, unterminated")
        << requestLineOfSize(8194) << defaults << 414 << QByteArray("request line too long")
        << qsizetype(0);
    HttpRequestLimits shortLine;
    shortLine.maxRequestLineSize = 20;
    QTest::newRow("configured request line limit")
        << QByteArray(requestLineOfSize(20) + headers + requestLineOfSize(21) + headers)
        << shortLine << 414 << QByteArray("request line too long") << qsizetype(0);

    // 431: the header section (field lines, CRLFs, final CRLF) may have 32 KiB...
    QTest::newRow("header section of 32 KiB")
        << headerSectionOfSize(32768) << defaults << 0 << QByteArray() << qsizetype(0);
    QTest::newRow("header section of 32 KiB + 1")
        << headerSectionOfSize(32769) << defaults << 431 << QByteArray("header section too large")
        << qsizetype(0);
    QTest::newRow("header section of 32 KiB + 1, unterminated")
        << QByteArray(headerSectionOfSize(32768).chopped(4) + "vvvv") << defaults << 431
        << QByteArray("header section too large") << qsizetype(0);
    HttpRequestLimits smallHeaders;
    smallHeaders.maxHeaderBytes = 64;
    QTest::newRow("configured header section limit")
        << QByteArray(headerSectionOfSize(64) + headerSectionOfSize(65)) << smallHeaders << 431
        << QByteArray("header section too large") << qsizetype(0);
    // ... in at most 100 field lines.
    QTest::newRow("100 fields") << requestWithFields(100) << defaults << 0 << QByteArray()
                                << qsizetype(0);
    QTest::newRow("101 fields") << requestWithFields(101) << defaults << 431
                                << QByteArray("too many header fields") << qsizetype(0);
    HttpRequestLimits fewFields;
    fewFields.maxHeaderCount = 3;
    QTest::newRow("configured field count")
        << QByteArray(requestWithFields(3) + requestWithFields(4)) << fewFields << 431
        << QByteArray("too many header fields") << qsizetype(0);
    // The trailer section has the same limits.
    QTest::newRow("trailer section of 32 KiB")
        << chunkedPost("0\r\nT: " + QByteArray(32768 - 7, 't') + "\r\n\r\n") << defaults << 0
        << QByteArray() << qsizetype(0);
    QTest::newRow("trailer section of 32 KiB + 1")
        << chunkedPost("0\r\nT: " + QByteArray(32768 - 6, 't') + "\r\n\r\n") << defaults << 431
        << QByteArray("trailer section too large") << qsizetype(0);
    QByteArray trailers;
    for (int i = 0; i < 101; ++i)
        trailers += "T" + QByteArray::number(i) + ": v\r\n";
    QTest::newRow("101 trailer fields")
        << chunkedPost("0\r\n" + trailers + "\r\n") << defaults << 431
        << QByteArray("too many trailer fields") << qsizetype(0);

    // 413: bodies of at most 1 MiB, rejected before they arrive.
    const qsizetype mib = 1024 * 1024;
    QTest::newRow("Content-Length of 1 MiB")
        << postWithLength("1048576", QByteArray(mib, 'b')) << defaults << 0 << QByteArray() << mib;
    QTest::newRow("Content-Length of 1 MiB + 1, no body sent")
        << postWithLength("1048577") << defaults << 413 << QByteArray("request body too large")
        << qsizetype(0);
    QTest::newRow("chunked body of 1 MiB")
        << chunkedPost("80000\r\n" + QByteArray(mib / 2, 'b') + "\r\n80000\r\n"
                       + QByteArray(mib / 2, 'c') + "\r\n0\r\n\r\n")
        << defaults << 0 << QByteArray() << mib;
    QTest::newRow("chunked body of 1 MiB + 1, before the last chunk's data")
        << chunkedPost("80000\r\n" + QByteArray(mib / 2, 'b') + "\r\n80001\r\n") << defaults << 413
        << QByteArray("request body too large") << qsizetype(0);
    QTest::newRow("configured body limit") << postWithLength("10", "0123456789") << withMaxBody(10)
                                           << 0 << QByteArray() << qsizetype(10);
    QTest::newRow("configured body limit + 1")
        << postWithLength("11") << withMaxBody(10) << 413 << QByteArray("request body too large")
        << qsizetype(0);
    QTest::newRow("configured chunked body limit")
        << chunkedPost("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n") << withMaxBody(10) << 0
        << QByteArray() << qsizetype(10);
}

void tst_HttpRequestParser::limits()
{
    QFETCH(QByteArray, input);
    QFETCH(HttpRequestLimits, limits);
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    QFETCH(qsizetype, bodySize);

    Outcome out;
    QVERIFY(parseAllWays(input, limits, out));
    QCOMPARE(out.error.status, status);
    QCOMPARE(out.error.reason, reason);
    if (status == 0 && bodySize >= 0) {
        QCOMPARE(out.requests.size(), 1);
        QCOMPARE(out.requests.first().body.size(), bodySize);
        QCOMPARE(out.buffered, 0);
    }
    if (bodySize < 0) {
        QCOMPARE(out.requests.size(), 0);
        QCOMPARE(out.buffered, input.size());
    }
}

void tst_HttpRequestParser::pipelining()
{
    const QByteArray first = getBytes("/first");
    const QByteArray second = postWithLength("5", "hello");
    const QByteArray third = chunkedPost("3\r\nabc\r\n0\r\nT: v\r\n\r\n");
    const QByteArray fourth
        = "GET /fourth HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
    const QByteArray partial = "GET /fifth HTTP/1.1\r\nHo";
    const QByteArray input = first + second + third + fourth + partial;

    Outcome out;
    QVERIFY(parseAllWays(input, {}, out));
    QCOMPARE(out.error.status, 0);
    QCOMPARE(out.requests.size(), 4);
    QCOMPARE(out.requests[0], get("/first", "/first"));
    QCOMPARE(out.requests[1].body, QByteArray("hello"));
    QCOMPARE(out.requests[2].body, QByteArray("abc"));
    QCOMPARE(out.requests[2].trailers, HttpHeaders({{"t", "v"}}));
    QCOMPARE(out.requests[3].path, QByteArray("/fourth"));
    QVERIFY(!out.requests[3].keepAlive);
    QCOMPARE(out.buffered, 2); // "Ho": the fifth request line is parsed already

    // One request at a time: the rest stays buffered until asked for.
    HttpRequestParser parser;
    parser.feed(QByteArray(first + second));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::Request);
    QCOMPARE(parser.bufferedBytes(), second.size());
    QVERIFY(!parser.isIdle());
    HttpRequestParser::Result r = parser.next();
    QCOMPARE(r.status, HttpRequestParser::Status::Request);
    QCOMPARE(r.request.body, QByteArray("hello"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    QVERIFY(parser.isIdle());

    // An error in a later request does not take back the earlier ones.
    QVERIFY(parseAllWays(QByteArray(first + "GET / HTTP/9.9\r\n\r\n" + second), {}, out));
    QCOMPARE(out.requests.size(), 1);
    QCOMPARE(out.error.status, 505);
}

void tst_HttpRequestParser::upgradeLeavesFrameBytes()
{
    const QByteArray upgrade = "GET /hub HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    const QByteArray frame = QByteArray::fromHex("818537fa213d7f9f4d5158");
    HttpRequestParser parser;
    parser.feed(QByteArray(upgrade + frame));
    HttpRequestParser::Result r = parser.next();
    QCOMPARE(r.status, HttpRequestParser::Status::Request);
    QVERIFY(r.request.isUpgrade);
    QCOMPARE(parser.bufferedBytes(), frame.size());
    QCOMPARE(parser.takeBuffered(), frame);
    QCOMPARE(parser.bufferedBytes(), 0);
    QVERIFY(parser.isIdle());

    // takeBuffered() also abandons a request in progress.
    parser.feed(QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\n"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    QCOMPARE(parser.takeBuffered(), QByteArray());
    QVERIFY(parser.isIdle());
    parser.feed(getBytes("/again"));
    r = parser.next();
    QCOMPARE(r.status, HttpRequestParser::Status::Request);
    QCOMPARE(r.request, get("/again", "/again"));
}

void tst_HttpRequestParser::expectContinue()
{
    const QByteArray head = "POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
                            "Content-Length: 5\r\n\r\n";
    HttpRequestParser parser;
    QVERIFY(!parser.takeExpectContinue());
    parser.feed(head);
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    QVERIFY(parser.takeExpectContinue());
    QVERIFY(!parser.takeExpectContinue()); // once
    parser.feed(QByteArrayLiteral("hello"));
    HttpRequestParser::Result r = parser.next();
    QCOMPARE(r.status, HttpRequestParser::Status::Request);
    QCOMPARE(r.request.body, QByteArray("hello"));

    // Not when the body came along, nor without a body, nor in HTTP/1.0.
    parser.feed(QByteArray(head + "hello"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::Request);
    QVERIFY(!parser.takeExpectContinue());
    parser.feed(QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::Request);
    QVERIFY(!parser.takeExpectContinue());
    parser.feed(
        QByteArrayLiteral("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    QVERIFY(!parser.takeExpectContinue());
    QCOMPARE(HttpResponse::continueResponse().toByteArray(),
             QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
}

void tst_HttpRequestParser::idleAndBuffered()
{
    HttpRequestParser parser;
    QVERIFY(parser.isIdle());
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    parser.feed(QByteArrayLiteral("GET"));
    QVERIFY(!parser.isIdle());
    QCOMPARE(parser.bufferedBytes(), 3);
    QCOMPARE(parser.next().status, HttpRequestParser::Status::NeedMoreData);
    parser.feed(QByteArrayLiteral(" / HTTP/1.1\r\nHost: a\r\n\r\n"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::Request);
    QVERIFY(parser.isIdle());
    QCOMPARE(parser.bufferedBytes(), 0);

    // Once failed, input is dropped.
    parser.feed(QByteArrayLiteral("GET / HTTP/3.0\r\n\r\n"));
    QCOMPARE(parser.next().status, HttpRequestParser::Status::Error);
    QVERIFY(parser.hasFailed());
    QCOMPARE(parser.error().status, 505);
    parser.feed(getBytes("/"));
    QCOMPARE(parser.bufferedBytes(), 0);
    QCOMPARE(parser.next().error.status, 505);
}

void tst_HttpRequestParser::headerLookup()
{
    HttpRequestParser parser;
    parser.feed(QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\n"
                                  "Connection: keep-alive , Upgrade\r\nX-Empty:\r\n"
                                  "accept: */*\r\nConnection: x-upgrade\r\n\r\n"));
    const HttpRequest r = parser.next().request;
    QCOMPARE(r.header("ACCEPT").toByteArray(), QByteArray("text/html"));
    QCOMPARE(r.header("accept").toByteArray(), QByteArray("text/html"));
    QCOMPARE(r.headerCount("Accept"), 2);
    QVERIFY(r.hasHeader("x-empty"));
    QVERIFY(r.header("x-empty").isEmpty());
    QVERIFY(!r.hasHeader("x-missing"));
    QVERIFY(r.header("x-missing").isEmpty());
    QCOMPARE(r.headerCount("x-missing"), 0);
    QVERIFY(r.headerHasToken("connection", "upgrade"));
    QVERIFY(r.headerHasToken("Connection", "KEEP-ALIVE"));
    QVERIFY(r.headerHasToken("connection", "x-upgrade"));
    QVERIFY(!r.headerHasToken("connection", "close"));
    QVERIFY(!r.headerHasToken("connection", "keep"));
    QVERIFY(!r.headerHasToken("accept", "text"));
}

void tst_HttpRequestParser::queryString_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QList<QByteArray>>("items"); // name, value, name, value...

    QTest::newRow("empty") << QByteArray() << QList<QByteArray>();
    QTest::newRow("only '?'") << QByteArray("?") << QList<QByteArray>();
    QTest::newRow("brief example")
        << QByteArray("a=b&c=%20d") << QList<QByteArray> {"a", "b", "c", " d"};
    QTest::newRow("leading '?'") << QByteArray("?a=1") << QList<QByteArray> {"a", "1"};
    QTest::newRow("plus is a space")
        << QByteArray("q=a+b%2Bc&n+m=1") << QList<QByteArray> {"q", "a b+c", "n m", "1"};
    QTest::newRow("no value and empty value")
        << QByteArray("flag&empty=&=v") << QList<QByteArray> {"flag", "", "empty", "", "", "v"};
    QTest::newRow("empty segments skipped")
        << QByteArray("&&a=1&&b=2&") << QList<QByteArray> {"a", "1", "b", "2"};
    QTest::newRow("'=' in the value")
        << QByteArray("token=ab==&x=a=b") << QList<QByteArray> {"token", "ab==", "x", "a=b"};
    QTest::newRow("UTF-8 escapes")
        << QByteArray("name=caf%C3%A9&%E2%9C%93=ok")
        << QList<QByteArray> {"name", "caf\xC3\xA9", "\xE2\x9C\x93", "ok"};
    QTest::newRow("malformed escapes kept")
        << QByteArray("a=%zz&b=%4&c=%&d=100%")
        << QList<QByteArray> {"a", "%zz", "b", "%4", "c", "%", "d", "100%"};
    QTest::newRow("SignalR connect")
        << QByteArray("id=Dj6CrOvWCpsAuQ5wcuBvbw&access_token=eyJhbGciOi.eyJzdWIi.sig")
        << QList<QByteArray> {"id", "Dj6CrOvWCpsAuQ5wcuBvbw", "access_token",
                              "eyJhbGciOi.eyJzdWIi.sig"};
}

void tst_HttpRequestParser::queryString()
{
    QFETCH(QByteArray, query);
    QFETCH(QList<QByteArray>, items);

    const QueryString q = QueryString::parse(query);
    QCOMPARE(q.items().size() * 2, items.size());
    QCOMPARE(q.isEmpty(), items.isEmpty());
    for (qsizetype i = 0; i < q.items().size(); ++i) {
        QCOMPARE(q.items()[i].first, items[2 * i]);
        QCOMPARE(q.items()[i].second, items[2 * i + 1]);
        // Every name is found, ignoring case, with the value of its first occurrence.
        const QByteArray upper = items[2 * i].toUpper();
        QVERIFY(q.contains(upper));
        QVERIFY(!q.value(upper).isNull());
        qsizetype first = 0;
        while (items[2 * first] != items[2 * i])
            ++first;
        QCOMPARE(q.value(upper), items[2 * first + 1]);
    }
    QVERIFY(!q.contains("not-there"));
    QVERIFY(q.value("not-there").isNull());
    QVERIFY(q.values("not-there").isEmpty());
}

void tst_HttpRequestParser::queryDecode_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QList<QByteArray>>("values");

    QTest::newRow("case-insensitive, repeated")
        << QByteArray("ID=1&id=2&Id=3&other=4") << QByteArray("iD")
        << QList<QByteArray> {"1", "2", "3"};
    QTest::newRow("non-ASCII names fold case")
        << QByteArray("%C3%89T%C3%89=1&%C3%A9t%C3%A9=2") << QByteArray("\xC3\xA9t\xC3\xA9")
        << QList<QByteArray> {"1", "2"};
    QTest::newRow("ASCII folding only for ASCII")
        << QByteArray("k=1&K=2&%C4%B8=3") << QByteArray("k") << QList<QByteArray> {"1", "2"};
    QTest::newRow("absent") << QByteArray("a=1") << QByteArray("b") << QList<QByteArray>();
}

void tst_HttpRequestParser::queryDecode()
{
    QFETCH(QByteArray, query);
    QFETCH(QByteArray, name);
    QFETCH(QList<QByteArray>, values);

    const QueryString q = QueryString::parse(query);
    QCOMPARE(q.values(name), values);
    QCOMPARE(q.contains(name), !values.isEmpty());
    QCOMPARE(q.value(name), values.value(0));
    QCOMPARE(QueryString::decode("a+b%20c", false), QByteArray("a+b c"));
}

void tst_HttpRequestParser::responseSerialize_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QList<QByteArray>>("headers");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("200 with body")
        << 200 << QByteArray() << QList<QByteArray> {"Content-Type", "application/json"}
        << QByteArray(R"({"a":1})")
        << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: 7\r\n\r\n{\"a\":1}");
    QTest::newRow("empty body") << 200 << QByteArray() << QList<QByteArray>() << QByteArray()
                                << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("custom reason")
        << 404 << QByteArray("Nope") << QList<QByteArray>() << QByteArray("x")
        << QByteArray("HTTP/1.1 404 Nope\r\nContent-Length: 1\r\n\r\nx");
    QTest::newRow("reason with CR LF")
        << 400 << QByteArray("a\r\nX-Evil: 1") << QList<QByteArray>() << QByteArray()
        << QByteArray("HTTP/1.1 400 a  X-Evil: 1\r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("unknown status") << 599 << QByteArray() << QList<QByteArray>() << QByteArray()
                                    << QByteArray("HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("invalid status") << 42 << QByteArray() << QList<QByteArray>() << QByteArray()
                                    << QByteArray("HTTP/1.1 500 Internal Server Error\r\n"
                                                  "Content-Length: 0\r\n\r\n");
    QTest::newRow("204 has no Content-Length")
        << 204 << QByteArray() << QList<QByteArray> {"X-A", "1"} << QByteArray()
        << QByteArray("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
    QTest::newRow("304 has no Content-Length")
        << 304 << QByteArray() << QList<QByteArray>() << QByteArray()
        << QByteArray("HTTP/1.1 304 Not Modified\r\n\r\n");
    QTest::newRow("framing fields added by hand are dropped")
        << 200 << QByteArray()
        << QList<QByteArray> {"content-length", "99", "Transfer-Encoding", "chunked", "X", "y"}
        << QByteArray("abc")
        << QByteArray("HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 3\r\n\r\nabc");
    QTest::newRow("repeated fields kept in order")
        << 200 << QByteArray()
        << QList<QByteArray> {"Set-Cookie", "a=1", "Cache-Control", "no-cache", "Set-Cookie", "b=2"}
        << QByteArray()
        << QByteArray("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nCache-Control: no-cache\r\n"
                      "Set-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
}

void tst_HttpRequestParser::responseSerialize()
{
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    QFETCH(QList<QByteArray>, headers);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);

    HttpResponse r;
    r.setStatus(status, reason);
    for (qsizetype i = 0; i < headers.size(); i += 2)
        QVERIFY(r.addHeader(headers[i], headers[i + 1]));
    r.setBody(body);
    QCOMPARE(r.serialize(), expected);
}

void tst_HttpRequestParser::responseHead()
{
    HttpResponse sse(200);
    sse.setHeader("Content-Type", "text/event-stream");
    sse.setHeader("Cache-Control", "no-cache");
    sse.addHeader("Content-Length", "5"); // dropped for chunked
    QCOMPARE(sse.serializeHead(HttpResponse::Framing::Chunked),
             QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"));
    sse.removeHeader("content-length");
    QVERIFY(!sse.hasHeader("Content-Length"));
    sse.setConnectionClose();
    QCOMPARE(sse.serializeHead(HttpResponse::Framing::None),
             QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        "Cache-Control: no-cache\r\nConnection: close\r\n\r\n"));

    // setHeader replaces in any case, keeping one field.
    HttpResponse r;
    r.addHeader("X-A", "1");
    r.addHeader("x-a", "2");
    QVERIFY(r.setHeader("X-a", "3"));
    QCOMPARE(r.headers().size(), 1);
    QCOMPARE(r.header("x-A").toByteArray(), QByteArray("3"));
    QCOMPARE(r.status(), 200);
    QCOMPARE(r.reason(), QByteArray("OK"));
    r.setBody("hi", "text/plain");
    QCOMPARE(r.header("content-type").toByteArray(), QByteArray("text/plain"));
    QCOMPARE(r.body(), QByteArray("hi"));
}

void tst_HttpRequestParser::responseRejectsInjection()
{
    HttpResponse r;
    QVERIFY(!r.addHeader("X-A", "1\r\nSet-Cookie: evil"));
    QVERIFY(!r.addHeader("X-A", "1\n"));
    QVERIFY(!r.addHeader("X-A", QByteArrayView("1\0", 2)));
    QVERIFY(!r.addHeader("X A", "1"));
    QVERIFY(!r.addHeader("", "1"));
    QVERIFY(!r.addHeader("X:A", "1"));
    QVERIFY(!r.setHeader("X-A", "\r"));
    QVERIFY(r.headers().isEmpty());
    QVERIFY(r.addHeader("X-A", "tab\tand caf\xc3\xa9"));
    QCOMPARE(r.headers().size(), 1);
}

void tst_HttpRequestParser::chunks()
{
    QByteArray out;
    HttpResponse::appendChunk(out, "hello");
    HttpResponse::appendChunk(out, {});
    HttpResponse::appendChunk(out, QByteArray(300, 'x'));
    out.append(HttpResponse::lastChunk());
    QCOMPARE(out, QByteArray("5\r\nhello\r\n12c\r\n" + QByteArray(300, 'x') + "\r\n0\r\n\r\n"));

    // Our own parser reads it back.
    HttpRequestParser parser;
    parser.feed(chunkedPost(out));
    const HttpRequestParser::Result r = parser.next();
    QCOMPARE(r.status, HttpRequestParser::Status::Request);
    QCOMPARE(r.request.body, QByteArray("hello" + QByteArray(300, 'x')));
}

void tst_HttpRequestParser::httpDate_data()
{
    QTest::addColumn<QDateTime>("when");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("RFC 9110 example")
        << QDateTime(QDate(1994, 11, 6), QTime(8, 49, 37), QTimeZone::utc())
        << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT");
    QTest::newRow("converted to UTC")
        << QDateTime(QDate(2024, 2, 29), QTime(1, 2, 3), QTimeZone(3600))
        << QByteArray("Thu, 29 Feb 2024 00:02:03 GMT");
    QTest::newRow("end of year") << QDateTime(QDate(1999, 12, 31), QTime(23, 59, 59),
                                              QTimeZone::utc())
                                 << QByteArray("Fri, 31 Dec 1999 23:59:59 GMT");
    QTest::newRow("Monday in January")
        << QDateTime(QDate(2001, 1, 1), QTime(0, 0, 0), QTimeZone::utc())
        << QByteArray("Mon, 01 Jan 2001 00:00:00 GMT");
}

void tst_HttpRequestParser::httpDate()
{
    QFETCH(QDateTime, when);
    QFETCH(QByteArray, expected);
    QCOMPARE(HttpResponse::httpDate(when), expected);

    HttpResponse r(204);
    r.addDateHeader(when);
    QCOMPARE(r.serialize(),
             QByteArray("HTTP/1.1 204 No Content\r\nDate: " + expected + "\r\n\r\n"));
}

void tst_HttpRequestParser::errorResponse()
{
    QCOMPARE(HttpResponse::errorResponse(HttpError {431, "too many header fields"}),
             QByteArray("HTTP/1.1 431 Request Header Fields Too Large\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                        "Content-Length: 23\r\n\r\ntoo many header fields\n"));
    QCOMPARE(HttpResponse::errorResponse(413, {}),
             QByteArray("HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; "
                        "charset=utf-8\r\nConnection: close\r\nContent-Length: 18\r\n\r\n"
                        "Content Too Large\n"));
    for (const int status : {400, 413, 414, 431, 501, 505})
        QVERIFY2(!HttpResponse::reasonPhrase(status).isEmpty(),
                 QByteArray::number(status).constData());
}

QTEST_GUILESS_MAIN(tst_HttpRequestParser)
#include "tst_httprequestparser.moc"
