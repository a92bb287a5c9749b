// SPDX-License-Identifier: MIT
// libFuzzer target: the server's HTTP/1.1 request parser. The input is parsed fed at once, split
// in two at a position derived from it, and byte by byte: all three must give the same requests,
// the same error and the same leftover. Every request is checked against the limits and the
// parser's invariants, written back in a canonical form and parsed again, and run through the
// query-string helper, the WebSocket upgrade validation and the response builder. Half of the
// inputs run with small limits derived from the input, to reach every limit.
//
// Self-contained (no client-lib headers): build with the server's http sources, e.g.
//   clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iserver/src \
//     tests/fuzz/fuzz_http_request.cpp server/src/http/*.cpp $(pkg-config --cflags --libs Qt6Core)
#include "http/httprequestparser.h"
#include "http/httpresponse.h"
#include "http/websocket.h"

#include <heliograph/protocol/utf8.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace Heliograph;
using namespace Heliograph::Server;

[[noreturn]] void violated(const char *what, QByteArrayView input)
{
    std::fprintf(stderr, "\n*** fuzz invariant violated: %s\n    input: %s\n", what,
                 input.toByteArray().toHex(' ').constData());
    std::fflush(stderr);
    std::abort();
}

void require(bool condition, const char *what, QByteArrayView input)
{
    if (!condition)
        violated(what, input);
}

/// FNV-1a over the input: split positions and limits that depend on every byte.
quint64 hashOf(QByteArrayView data)
{
    quint64 h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
        h ^= quint8(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

HttpRequestLimits limitsFor(quint64 h)
{
    HttpRequestLimits limits;
    limits.allowBareLf = (h >> 1) & 1;
    if (h & 1) {
        limits.maxRequestLineSize = qsizetype(1 + (h >> 8) % 64);
        limits.maxHeaderBytes = qsizetype(1 + (h >> 16) % 256);
        limits.maxHeaderCount = int((h >> 24) % 8);
        limits.maxBodySize = qint64((h >> 32) % 128);
    }
    return limits;
}

struct Outcome {
    QList<HttpRequest> requests;
    HttpError error;
    qsizetype buffered = 0;
    bool operator==(const Outcome &) const = default;
};

void drain(HttpRequestParser &parser, Outcome &out, QByteArrayView input)
{
    while (!parser.hasFailed()) {
        HttpRequestParser::Result r = parser.next();
        switch (r.status) {
        case HttpRequestParser::Status::NeedMoreData:
            return;
        case HttpRequestParser::Status::Request:
            out.requests.append(std::move(r.request));
            break;
        case HttpRequestParser::Status::Error: {
            out.error = r.error;
            const HttpRequestParser::Result again = parser.next();
            require(again.status == HttpRequestParser::Status::Error && again.error == r.error
                        && parser.error() == r.error,
                    "the parser recovered from an error", input);
            return;
        }
        }
    }
}

/// `split` < 0: byte by byte.
Outcome parse(QByteArrayView input, const HttpRequestLimits &limits, qsizetype split)
{
    HttpRequestParser parser(limits);
    Outcome out;
    if (split < 0) {
        for (qsizetype i = 0; i < input.size() && !parser.hasFailed(); ++i) {
            parser.feed(input.sliced(i, 1));
            drain(parser, out, input);
        }
    } else {
        parser.feed(input.first(split));
        drain(parser, out, input);
        parser.feed(input.sliced(split).toByteArray()); // the shared-QByteArray path
        drain(parser, out, input);
    }
    out.buffered = parser.bufferedBytes();
    require(!parser.hasFailed() || out.buffered == 0, "a failed parser keeps input", input);
    return out;
}

bool isLowerToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (const char c : s) {
        const auto u = uchar(c);
        if (u <= 0x20 || u >= 0x7F || (u >= 'A' && u <= 'Z')
            || QByteArrayView("\"(),/:;<=>?@[\\]{}").contains(c))
            return false;
    }
    return true;
}

void checkFields(const HttpHeaders &fields, const HttpRequestLimits &limits, QByteArrayView input)
{
    require(fields.size() <= limits.maxHeaderCount, "more fields than the limit", input);
    for (const HttpHeader &h : fields) {
        require(isLowerToken(h.name), "field name is not a lower-case token", input);
        require(h.value.isEmpty()
                    || (h.value.front() != ' ' && h.value.front() != '\t' && h.value.back() != ' '
                        && h.value.back() != '\t'),
                "field value not trimmed", input);
        for (const char c : h.value) {
            require((uchar(c) >= 0x20 || c == '\t') && uchar(c) != 0x7F,
                    "control character in a field value", input);
        }
    }
}

/// The request in canonical form: one Content-Length for a body, no Transfer-Encoding.
QByteArray canonical(const HttpRequest &r)
{
    QByteArray out = r.method + ' ' + r.target
        + (r.version == HttpVersion::Http11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
    for (const HttpHeader &h : r.headers) {
        if (h.name != "content-length" && h.name != "transfer-encoding")
            out += h.name + ": " + h.value + "\r\n";
    }
    if (!r.body.isEmpty())
        out += "content-length: " + QByteArray::number(r.body.size()) + "\r\n";
    return out + "\r\n" + r.body;
}

HttpHeaders withoutFraming(HttpHeaders fields)
{
    fields.removeIf([](const HttpHeader &h) {
        return h.name == "content-length" || h.name == "transfer-encoding";
    });
    return fields;
}

void checkRequest(const HttpRequest &r, const HttpRequestLimits &limits, QByteArrayView input)
{
    require(!r.method.isEmpty() && !r.target.isEmpty(), "empty method or target", input);
    require(r.method.size() + r.target.size() + 10 <= limits.maxRequestLineSize,
            "request line over the limit", input);
    require(r.body.size() <= limits.maxBodySize, "body over the limit", input);
    checkFields(r.headers, limits, input);
    checkFields(r.trailers, limits, input);
    require(r.version == HttpVersion::Http11 || r.trailers.isEmpty(), "trailers in HTTP/1.0",
            input);
    require(r.version == HttpVersion::Http11 || !r.isUpgrade, "upgrade in HTTP/1.0", input);
    require(r.version == HttpVersion::Http10 || r.headerCount("host") == 1,
            "HTTP/1.1 request without exactly one Host", input);
    require(r.headerCount("content-length") <= 1, "more than one Content-Length", input);
    require(!r.hasHeader("content-length") || !r.hasHeader("transfer-encoding"),
            "Content-Length with Transfer-Encoding", input);
    require(r.keepAlive
                == (!r.headerHasToken("connection", "close")
                    && (r.version == HttpVersion::Http11
                        || r.headerHasToken("connection", "keep-alive"))),
            "keepAlive does not follow Connection", input);

    // The path: decoded, valid UTF-8, no NUL, no dot segments, absolute (or "*" / empty).
    require(isValidUtf8(r.path) && QByteArrayView(r.path).isValidUtf8(), "path is not valid UTF-8",
            input);
    require(!r.path.contains('\0'), "NUL in path", input);
    require(r.path.isEmpty() || r.path == "*" || r.path.startsWith('/'), "relative path", input);
    require(!r.path.contains("/./") && !r.path.contains("/../") && !r.path.endsWith("/.")
                && !r.path.endsWith("/.."),
            "dot segment left in path", input);
    require(r.query.isEmpty() || r.target.contains('?'), "query without '?'", input);

    // Query strings: every name is found with its first value.
    const QueryString query = QueryString::parse(r.query);
    for (const QueryString::Item &item : query.items()) {
        require(query.contains(item.first), "query name not found", input);
        require(!query.value(item.first).isNull(), "query value is null", input);
    }

    // Written back canonically, it parses to the same request.
    // (Canonical field lines may be longer: "n:v" LF becomes "n: v" CRLF.)
    HttpRequestLimits relaxed = limits;
    relaxed.maxHeaderBytes = 2 * limits.maxHeaderBytes + 64;
    relaxed.maxHeaderCount += 1;
    relaxed.allowBareLf = false;
    HttpRequestParser again(relaxed);
    again.feed(canonical(r));
    const HttpRequestParser::Result reparsed = again.next();
    require(reparsed.status == HttpRequestParser::Status::Request,
            "the canonical form does not parse", input);
    const HttpRequest &c = reparsed.request;
    require(c.method == r.method && c.target == r.target && c.path == r.path && c.query == r.query
                && c.version == r.version && c.body == r.body && c.keepAlive == r.keepAlive
                && c.isUpgrade == r.isUpgrade
                && withoutFraming(c.headers) == withoutFraming(r.headers),
            "the canonical form parses differently", input);
    require(again.bufferedBytes() == 0, "the canonical form leaves bytes", input);

    // WebSocket upgrade validation.
    const WebSocket::Handshake h = WebSocket::validateUpgrade(r);
    const QByteArray response = h.response();
    if (h.isAccepted()) {
        require(r.isUpgrade && r.method == "GET" && h.accept.size() == 28, "accepted a bad upgrade",
                input);
        require(response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), "bad 101", input);
    } else {
        require((h.status == 400 || h.status == 426) && !h.reason.isEmpty(),
                "bad upgrade rejection", input);
    }

    // A response echoing request data: a header is added only if it is safe.
    HttpResponse out(200);
    const bool added = out.addHeader(r.method, r.header("user-agent"));
    out.setBody(r.body);
    const QByteArray bytes = out.serialize();
    require(bytes.endsWith(r.body), "response body", input);
    require(bytes.count("\r\n\r\n") >= 1 && (!added || out.headers().size() == 1), "response head",
            input);
}

void checkError(const HttpError &e, QByteArrayView input)
{
    switch (e.status) {
    case 0:
    case 400:
    case 413:
    case 414:
    case 431:
    case 501:
    case 505:
        break;
    default:
        violated("unexpected error status", input);
    }
    require((e.status == 0) == e.reason.isEmpty(), "error without reason", input);
    if (e.status)
        require(HttpResponse::errorResponse(e).startsWith("HTTP/1.1 "), "error response", input);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const quint64 h = hashOf(input);
    const HttpRequestLimits limits = limitsFor(h);

    const Outcome whole = parse(input, limits, input.size());
    const Outcome split = parse(input, limits, qsizetype(h % quint64(input.size() + 1)));
    const Outcome bytewise = parse(input, limits, -1);
    require(split == whole, "split feeding gives another outcome", input);
    require(bytewise == whole, "byte-by-byte feeding gives another outcome", input);

    checkError(whole.error, input);
    for (const HttpRequest &r : whole.requests)
        checkRequest(r, limits, input);

    // The validator against Qt's, and the query helper on raw input.
    require(isValidUtf8(input) == input.isValidUtf8(), "UTF-8 validators disagree", input);
    const QueryString q = QueryString::parse(input);
    require(q.items().size() <= input.size(), "more query items than bytes", input);
    return 0;
}
