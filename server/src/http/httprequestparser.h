// SPDX-License-Identifier: MIT
// Incremental HTTP/1.1 request parser (RFC 9112) for the server's TCP connections, and
// the query-string helper. Bytes stay bytes (QByteArray): nothing here converts to UTF-16.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>

#include <utility>

namespace Heliograph::Server {

enum class HttpVersion : quint8 { Http10, Http11 };

struct HttpHeader {
    QByteArray name; ///< lower-cased
    QByteArray value; ///< without leading/trailing whitespace; raw bytes (may hold obs-text)
    friend bool operator==(const HttpHeader &, const HttpHeader &) = default;
};
using HttpHeaders = QList<HttpHeader>;

struct HttpRequest {
    QByteArray method; ///< as sent (methods are case-sensitive): "GET", "POST", ...
    QByteArray target; ///< the request-target as sent
    /// Percent-decoded UTF-8, dot segments removed; "%2F" stays encoded (like Kestrel) so it
    /// never splits a segment. "*" for OPTIONS *, empty for CONNECT.
    QByteArray path;
    QByteArray query; ///< raw (still encoded), without the '?'
    HttpVersion version = HttpVersion::Http11;
    HttpHeaders headers; ///< in arrival order, names lower-cased
    HttpHeaders trailers; ///< trailer fields of a chunked body, same form
    QByteArray body; ///< de-chunked
    bool keepAlive = true; ///< from the version and the Connection header
    /// HTTP/1.1 with an Upgrade header and "upgrade" in Connection. The bytes after such a
    /// request may belong to the new protocol: see HttpRequestParser::takeBuffered().
    bool isUpgrade = false;

    /// The first value of the field `name` (any case), empty if there is none.
    QByteArrayView header(QByteArrayView name) const noexcept;
    bool hasHeader(QByteArrayView name) const noexcept;
    /// How many field lines named `name` there are.
    qsizetype headerCount(QByteArrayView name) const noexcept;
    /// True if a comma-separated list in the field(s) `name` holds `token` (ASCII
    /// case-insensitive), e.g. headerHasToken("connection", "upgrade").
    bool headerHasToken(QByteArrayView name, QByteArrayView token) const noexcept;

    friend bool operator==(const HttpRequest &, const HttpRequest &) = default;
};

/// A request the parser rejected: the status to answer with (then close the connection).
struct HttpError {
    int status = 0; ///< 400, 413, 414, 431, 501 or 505
    QByteArray reason; ///< short ASCII text
    friend bool operator==(const HttpError &, const HttpError &) = default;
};

struct HttpRequestLimits {
    /// Longest request line (without its CRLF) -> 414.
    qsizetype maxRequestLineSize = 8 * 1024;
    /// Largest header section, counting every field line with its CRLF and the empty line that
    /// ends the section -> 431. Also applies to the trailer section of a chunked body.
    qsizetype maxHeaderBytes = 32 * 1024;
    /// Most field lines -> 431. Also applies to the trailer section.
    int maxHeaderCount = 100;
    /// Largest body (Content-Length, or the sum of the chunk sizes) -> 413.
    qint64 maxBodySize = 1024 * 1024;
    /// RFC 9112 section 2.2 lets a recipient accept a bare LF as a line terminator; the
    /// default rejects it (400), which closes a request smuggling vector. A bare CR is always
    /// rejected.
    bool allowBareLf = false;
};

/// Feed it what the socket delivers; take complete requests out with next(). Pipelined
/// requests stay buffered until asked for. After an error the parser stays failed: answer
/// with error().status and close the connection.
///
/// Also enforced: exactly one Host in HTTP/1.1 requests, at most one Content-Length, no
/// Content-Length with Transfer-Encoding, no Transfer-Encoding in HTTP/1.0, "chunked" as the
/// only transfer coding, no obs-fold, no whitespace before the colon of a field, no control
/// characters (other than HTAB) in field values, chunk lines of at most 4 KiB.
class HttpRequestParser {
public:
    enum class Status : quint8 { NeedMoreData, Request, Error };
    struct Result {
        Status status = Status::NeedMoreData;
        HttpRequest request; ///< when status is Request
        HttpError error; ///< when status is Error
    };

    /// Longest chunk-size line (with extensions) of a chunked body -> 400.
    static constexpr qsizetype MaxChunkLineSize = 4096;

    HttpRequestParser();
    explicit HttpRequestParser(const HttpRequestLimits &limits);

    /// Adds received bytes. Passing a QByteArray into an empty parser takes it without copying.
    /// Ignored once the parser has failed.
    void feed(QByteArrayView data);
    void feed(const QByteArray &data);

    /// The next complete request, NeedMoreData, or Error (again on every later call).
    Result next();

    bool hasFailed() const noexcept { return m_state == State::Failed; }
    const HttpError &error() const noexcept { return m_error; }
    const HttpRequestLimits &limits() const noexcept { return m_limits; }

    /// Bytes received and not parsed yet (the parts of a request that were parsed already are
    /// held in the request in progress).
    qsizetype bufferedBytes() const noexcept { return m_buffer.size() - m_pos; }
    /// Everything the parser holds for requests not returned yet: unparsed bytes, and the head
    /// and body parts of the request in progress (what a server counts against its memory).
    qsizetype heldBytes() const noexcept
    {
        return m_buffer.size() + m_request.body.size() + m_sectionBytes;
    }
    /// True if no part of a request has been received since the last one was returned
    /// (ignoring what next() has not looked at yet): the connection is idle.
    bool isIdle() const noexcept;

    /// True once if the request in progress sent "Expect: 100-continue" and its body has not
    /// arrived yet: the caller should then write HttpResponse::continueResponse().
    bool takeExpectContinue() noexcept { return std::exchange(m_expectContinue, false); }

    /// Takes the unparsed bytes out, e.g. the first WebSocket frames that followed an upgrade
    /// request, and resets the parser for a new request.
    QByteArray takeBuffered();

private:
    enum class State : quint8 {
        RequestLine,
        Headers,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Failed
    };
    enum class LineStatus : quint8 { Complete, Incomplete, TooLong, BareLf, BareCr };
    struct Line {
        LineStatus status;
        QByteArrayView text; ///< without the terminator
        qsizetype consumed = 0; ///< with the terminator
    };

    Line readLine(qsizetype maxBytes);
    void consume(qsizetype n);
    Result fail(int status, QByteArray reason);
    Result failLine(LineStatus status);
    bool parseRequestLine(QByteArrayView line);
    bool parseFieldLine(QByteArrayView line, HttpHeaders &into);
    bool finishHeaders(); ///< false on error
    bool parseChunkSize(QByteArrayView line);
    void resetRequest();
    Result complete();

    HttpRequestLimits m_limits;
    QByteArray m_buffer;
    qsizetype m_pos = 0; ///< start of the unparsed bytes in m_buffer
    qsizetype m_scanned = 0; ///< bytes after m_pos already searched for LF
    HttpRequest m_request; ///< the request in progress
    qint64 m_remaining = 0; ///< body or chunk bytes still to come
    qsizetype m_sectionBytes = 0; ///< bytes of the header or trailer section so far
    int m_sectionLines = 0;
    State m_state = State::RequestLine;
    bool m_expectContinue = false;
    HttpError m_error;
};

/// Decoded query string parameters: `a=b&c=%20d+e` -> (a, b), (c, " d e"). Names match ASCII
/// case-insensitively (non-ASCII names by Unicode case folding), like ASP.NET Core's
/// IQueryCollection. Empty segments are skipped; a segment without '=' has an empty value;
/// malformed %-escapes are kept as they are.
class QueryString {
public:
    using Item = std::pair<QByteArray, QByteArray>;

    QueryString() = default;
    /// Parses `query` (a leading '?' is skipped).
    static QueryString parse(QByteArrayView query);
    /// Percent-decodes `s`, and decodes '+' as a space if `plusAsSpace`.
    static QByteArray decode(QByteArrayView s, bool plusAsSpace = true);

    const QList<Item> &items() const noexcept { return m_items; }
    bool isEmpty() const noexcept { return m_items.isEmpty(); }
    bool contains(QByteArrayView name) const;
    /// The first value of `name`, or a null QByteArray if it is absent.
    QByteArray value(QByteArrayView name) const;
    QList<QByteArray> values(QByteArrayView name) const;

    /// The name comparison used by the lookups.
    static bool namesEqual(QByteArrayView a, QByteArrayView b);

private:
    QList<Item> m_items;
};

} // namespace Heliograph::Server
