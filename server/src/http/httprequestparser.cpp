// SPDX-License-Identifier: MIT
#include "http/httprequestparser.h"

#include <heliograph/protocol/hubside.h>
#include <heliograph/protocol/utf8.h>

#include <QtCore/QString>

#include <cstring>

namespace Heliograph::Server {

namespace {

// tchar of RFC 9110 section 5.6.2.
constexpr bool isTokenChar(uchar c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s) noexcept
{
    if (s.isEmpty())
        return false;
    for (const char c : s) {
        if (!isTokenChar(uchar(c)))
            return false;
    }
    return true;
}

constexpr bool isWhitespace(char c) noexcept
{
    return c == ' ' || c == '\t';
}

constexpr uchar asciiLower(uchar c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? uchar(c | 0x20) : c;
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (asciiLower(uchar(a[i])) != asciiLower(uchar(b[i])))
            return false;
    }
    return true;
}

QByteArrayView trimWhitespace(QByteArrayView s) noexcept
{
    while (!s.isEmpty() && isWhitespace(s.front()))
        s = s.sliced(1);
    while (!s.isEmpty() && isWhitespace(s.back()))
        s.chop(1);
    return s;
}

/// Calls `f(element)` for each non-empty, trimmed element of a comma-separated list; stops
/// early when `f` returns false.
template<typename F> bool forEachListElement(QByteArrayView list, F &&f)
{
    while (true) {
        const qsizetype comma = list.indexOf(',');
        const QByteArrayView element = trimWhitespace(comma < 0 ? list : list.first(comma));
        if (!element.isEmpty() && !f(element))
            return false;
        if (comma < 0)
            return true;
        list = list.sliced(comma + 1);
    }
}

/// Field values: HTAB, SP, VCHAR, obs-text.
bool isValidFieldValue(QByteArrayView v) noexcept
{
    for (const char c : v) {
        const auto u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return false;
    }
    return true;
}

/// uri-host [ ":" port ], loosely: the characters of reg-name, IP literals and ports.
bool isValidHost(QByteArrayView v) noexcept
{
    for (const char c : v) {
        const auto u = uchar(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9'))
            continue;
        if (!std::strchr("-._~!$&'()*+,;=:[]%", c) || c == 0)
            return false;
    }
    return true;
}

/// Removes "." and ".." segments (RFC 3986 section 5.2.4) from an absolute path.
QByteArray removeDotSegments(const QByteArray &path)
{
    QList<QByteArrayView> out;
    QByteArrayView rest = QByteArrayView(path).sliced(1);
    while (true) {
        const qsizetype slash = rest.indexOf('/');
        const QByteArrayView segment = slash < 0 ? rest : rest.first(slash);
        const bool last = slash < 0;
        if (segment == ".") {
            if (last)
                out.append(QByteArrayView(""));
        } else if (segment == "..") {
            if (!out.isEmpty())
                out.removeLast();
            if (last)
                out.append(QByteArrayView(""));
        } else {
            out.append(segment);
        }
        if (last)
            break;
        rest = rest.sliced(slash + 1);
    }
    QByteArray result;
    result.reserve(path.size());
    for (const QByteArrayView segment : out) {
        result.append('/');
        result.append(segment);
    }
    if (result.isEmpty())
        result.append('/');
    return result;
}

bool hasDotSegment(QByteArrayView path) noexcept
{
    for (qsizetype i = path.indexOf("/."); i >= 0; i = path.indexOf("/.", i + 1)) {
        const QByteArrayView tail = path.sliced(i + 2);
        if (tail.isEmpty() || tail.front() == '/'
            || (tail.front() == '.' && (tail.size() == 1 || tail[1] == '/')))
            return true;
    }
    return false;
}

enum class PathError : quint8 { None, BadEscape, Nul, NotUtf8 };

/// Percent-decodes a path, except "%2F" (kept encoded so it never acts as a separator).
PathError decodePath(QByteArrayView raw, QByteArray &out)
{
    out.reserve(raw.size());
    bool nonAscii = false;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c != '%') {
            out.append(c);
            continue;
        }
        if (i + 2 >= raw.size())
            return PathError::BadEscape;
        const int hi = Text::hexDigitValue(raw[i + 1]);
        const int lo = Text::hexDigitValue(raw[i + 2]);
        if (hi < 0 || lo < 0)
            return PathError::BadEscape;
        const auto decoded = char(hi * 16 + lo);
        if (decoded == 0)
            return PathError::Nul;
        if (decoded == '/')
            out.append(raw.sliced(i, 3));
        else
            out.append(decoded);
        nonAscii |= uchar(decoded) >= 0x80;
        i += 2;
    }
    if (nonAscii && !isValidUtf8(out))
        return PathError::NotUtf8;
    return PathError::None;
}

constexpr qint64 SaturatedSize = qint64(1) << 62;

} // namespace

// --- HttpRequest ----------------------------------------------------------------------------

QByteArrayView HttpRequest::header(QByteArrayView name) const noexcept
{
    for (const HttpHeader &h : headers) {
        if (equalsIgnoringCase(h.name, name))
            return h.value;
    }
    return {};
}

bool HttpRequest::hasHeader(QByteArrayView name) const noexcept
{
    return headerCount(name) > 0;
}

qsizetype HttpRequest::headerCount(QByteArrayView name) const noexcept
{
    qsizetype n = 0;
    for (const HttpHeader &h : headers)
        n += equalsIgnoringCase(h.name, name) ? 1 : 0;
    return n;
}

bool HttpRequest::headerHasToken(QByteArrayView name, QByteArrayView token) const noexcept
{
    for (const HttpHeader &h : headers) {
        if (!equalsIgnoringCase(h.name, name))
            continue;
        const bool found = !forEachListElement(
            h.value, [&](QByteArrayView element) { return !equalsIgnoringCase(element, token); });
        if (found)
            return true;
    }
    return false;
}

// --- HttpRequestParser ----------------------------------------------------------------------

HttpRequestParser::HttpRequestParser()
    : HttpRequestParser(HttpRequestLimits())
{ }

HttpRequestParser::HttpRequestParser(const HttpRequestLimits &limits)
    : m_limits(limits)
{ }

void HttpRequestParser::feed(QByteArrayView data)
{
    if (m_state == State::Failed || data.isEmpty())
        return;
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    m_buffer.append(data);
}

void HttpRequestParser::feed(const QByteArray &data)
{
    if (m_state != State::Failed && m_buffer.size() == m_pos && !data.isEmpty()) {
        m_buffer = data;
        m_pos = 0;
        m_scanned = 0;
        return;
    }
    feed(QByteArrayView(data));
}

bool HttpRequestParser::isIdle() const noexcept
{
    return m_state == State::RequestLine && m_buffer.size() == m_pos;
}

QByteArray HttpRequestParser::takeBuffered()
{
    QByteArray rest = m_pos == 0 ? std::move(m_buffer) : m_buffer.sliced(m_pos);
    m_buffer = QByteArray();
    m_pos = 0;
    m_scanned = 0;
    if (m_state != State::Failed) {
        m_state = State::RequestLine;
        resetRequest();
    }
    return rest;
}

void HttpRequestParser::consume(qsizetype n)
{
    m_pos += n;
    m_scanned = 0;
    if (m_pos == m_buffer.size()) {
        // Idle connections keep no buffer.
        m_buffer = QByteArray();
        m_pos = 0;
    }
}

HttpRequestParser::Line HttpRequestParser::readLine(qsizetype maxBytes)
{
    const qsizetype available = m_buffer.size() - m_pos;
    const qsizetype window = qMin(available, maxBytes);
    const char *const begin = m_buffer.constData() + m_pos;
    if (m_scanned < window) {
        const void *lf = std::memchr(begin + m_scanned, '\n', size_t(window - m_scanned));
        if (lf) {
            const qsizetype at = static_cast<const char *>(lf) - begin;
            m_scanned = 0;
            if (at == 0 || begin[at - 1] != '\r') {
                if (!m_limits.allowBareLf)
                    return {LineStatus::BareLf, {}, 0};
                const QByteArrayView text(begin, at);
                if (text.contains('\r'))
                    return {LineStatus::BareCr, {}, 0};
                return {LineStatus::Complete, text, at + 1};
            }
            const QByteArrayView text(begin, at - 1);
            if (text.contains('\r'))
                return {LineStatus::BareCr, {}, 0};
            return {LineStatus::Complete, text, at + 1};
        }
        m_scanned = window;
    }
    if (available > 0 && available >= maxBytes)
        return {LineStatus::TooLong, {}, 0};
    return {LineStatus::Incomplete, {}, 0};
}

HttpRequestParser::Result HttpRequestParser::fail(int status, QByteArray reason)
{
    m_state = State::Failed;
    m_error = HttpError {status, std::move(reason)};
    m_buffer = QByteArray();
    m_pos = 0;
    m_scanned = 0;
    m_request = HttpRequest();
    m_expectContinue = false;
    Result r;
    r.status = Status::Error;
    r.error = m_error;
    return r;
}

HttpRequestParser::Result HttpRequestParser::failLine(LineStatus status)
{
    if (status == LineStatus::BareLf)
        return fail(400, QByteArrayLiteral("bare LF line terminator"));
    return fail(400, QByteArrayLiteral("bare CR"));
}

void HttpRequestParser::resetRequest()
{
    m_request = HttpRequest();
    m_remaining = 0;
    m_sectionBytes = 0;
    m_sectionLines = 0;
    m_expectContinue = false;
}

HttpRequestParser::Result HttpRequestParser::complete()
{
    Result r;
    r.status = Status::Request;
    r.request = std::move(m_request);
    m_state = State::RequestLine;
    resetRequest();
    return r;
}

HttpRequestParser::Result HttpRequestParser::next()
{
    while (true) {
        switch (m_state) {
        case State::Failed: {
            Result r;
            r.status = Status::Error;
            r.error = m_error;
            return r;
        }
        case State::RequestLine: {
            const Line line = readLine(m_limits.maxRequestLineSize + 2);
            if (line.status == LineStatus::Incomplete)
                return {};
            if (line.status == LineStatus::TooLong)
                return fail(414, QByteArrayLiteral("request line too long"));
            if (line.status != LineStatus::Complete)
                return failLine(line.status);
            if (line.text.size() > m_limits.maxRequestLineSize)
                return fail(414, QByteArrayLiteral("request line too long"));
            if (line.text.isEmpty()) {
                // RFC 9112 section 2.2: ignore empty lines before a request line.
                consume(line.consumed);
                continue;
            }
            if (!parseRequestLine(line.text))
                return next();
            consume(line.consumed);
            m_state = State::Headers;
            continue;
        }
        case State::Headers:
        case State::Trailers: {
            const bool trailers = m_state == State::Trailers;
            const Line line = readLine(m_limits.maxHeaderBytes - m_sectionBytes);
            if (line.status == LineStatus::Incomplete)
                return {};
            if (line.status == LineStatus::TooLong) {
                return fail(431,
                            trailers ? QByteArrayLiteral("trailer section too large")
                                     : QByteArrayLiteral("header section too large"));
            }
            if (line.status != LineStatus::Complete)
                return failLine(line.status);
            m_sectionBytes += line.consumed;
            if (line.text.isEmpty()) {
                consume(line.consumed);
                if (trailers)
                    return complete();
                if (!finishHeaders())
                    return next();
                if (m_state == State::RequestLine)
                    return complete();
                continue;
            }
            if (isWhitespace(line.text.front())) {
                return fail(400,
                            m_request.headers.isEmpty() && !trailers
                                ? QByteArrayLiteral("whitespace before the first field")
                                : QByteArrayLiteral("obsolete line folding"));
            }
            if (++m_sectionLines > m_limits.maxHeaderCount) {
                return fail(431,
                            trailers ? QByteArrayLiteral("too many trailer fields")
                                     : QByteArrayLiteral("too many header fields"));
            }
            if (!parseFieldLine(line.text, trailers ? m_request.trailers : m_request.headers))
                return next();
            consume(line.consumed);
            continue;
        }
        case State::Body:
        case State::ChunkData: {
            const qsizetype available = m_buffer.size() - m_pos;
            if (available == 0)
                return {};
            const qsizetype n = qsizetype(qMin(qint64(available), m_remaining));
            if (m_request.body.isEmpty() && m_pos == 0 && n == m_buffer.size()) {
                // The whole buffer is body: take it without copying.
                m_request.body = std::move(m_buffer);
                m_buffer = QByteArray();
                m_scanned = 0;
            } else {
                m_request.body.append(m_buffer.constData() + m_pos, n);
                consume(n);
            }
            m_remaining -= n;
            if (m_remaining > 0)
                return {};
            if (m_state == State::Body)
                return complete();
            m_state = State::ChunkDataEnd;
            continue;
        }
        case State::ChunkDataEnd: {
            const Line line = readLine(2);
            if (line.status == LineStatus::Incomplete)
                return {};
            if (line.status == LineStatus::BareLf || line.status == LineStatus::BareCr)
                return failLine(line.status);
            if (line.status == LineStatus::TooLong || !line.text.isEmpty())
                return fail(400, QByteArrayLiteral("chunk data not followed by CRLF"));
            consume(line.consumed);
            m_state = State::ChunkSize;
            continue;
        }
        case State::ChunkSize: {
            const Line line = readLine(MaxChunkLineSize);
            if (line.status == LineStatus::Incomplete)
                return {};
            if (line.status == LineStatus::TooLong)
                return fail(400, QByteArrayLiteral("chunk line too long"));
            if (line.status != LineStatus::Complete)
                return failLine(line.status);
            if (!parseChunkSize(line.text))
                return next();
            consume(line.consumed);
            if (m_remaining == 0) {
                m_state = State::Trailers;
                m_sectionBytes = 0;
                m_sectionLines = 0;
            } else {
                m_state = State::ChunkData;
            }
            continue;
        }
        }
    }
}

bool HttpRequestParser::parseRequestLine(QByteArrayView line)
{
    // method SP request-target SP HTTP-version, single spaces.
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp2 < 0) {
        fail(400, QByteArrayLiteral("malformed request line"));
        return false;
    }
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (target.isEmpty()) {
        fail(400, QByteArrayLiteral("malformed request line"));
        return false;
    }

    // HTTP-version = "HTTP/" DIGIT "." DIGIT; a well-formed other version is a 505.
    auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || !version.startsWith("HTTP/") || !isDigit(version[5])
        || version[6] != '.' || !isDigit(version[7])) {
        fail(400, QByteArrayLiteral("malformed HTTP version"));
        return false;
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        fail(505, QByteArrayLiteral("HTTP version not supported"));
        return false;
    }
    m_request.version = version[7] == '1' ? HttpVersion::Http11 : HttpVersion::Http10;

    if (!isToken(method)) {
        fail(400, QByteArrayLiteral("invalid method"));
        return false;
    }
    for (const char c : target) {
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7F || c == '#') {
            fail(400, QByteArrayLiteral("invalid character in request target"));
            return false;
        }
    }

    QByteArrayView rawPath;
    QByteArrayView query;
    bool hasQuery = false;
    auto splitQuery = [&](QByteArrayView pathAndQuery) {
        const qsizetype q = pathAndQuery.indexOf('?');
        hasQuery = q >= 0;
        rawPath = hasQuery ? pathAndQuery.first(q) : pathAndQuery;
        query = hasQuery ? pathAndQuery.sliced(q + 1) : QByteArrayView();
    };
    if (target.front() == '/') {
        splitQuery(target); // origin-form
    } else if (target == "*") {
        if (method != "OPTIONS") {
            fail(400, QByteArrayLiteral("asterisk-form request target without OPTIONS"));
            return false;
        }
    } else if (method == "CONNECT") {
        // authority-form: no path.
    } else {
        // absolute-form: http(s)://authority[/path][?query]
        const qsizetype schemeEnd = target.indexOf("://");
        const QByteArrayView scheme = schemeEnd < 0 ? QByteArrayView() : target.first(schemeEnd);
        if (!equalsIgnoringCase(scheme, "http") && !equalsIgnoringCase(scheme, "https")) {
            fail(400, QByteArrayLiteral("invalid request target"));
            return false;
        }
        const QByteArrayView rest = target.sliced(schemeEnd + 3);
        qsizetype authorityEnd = 0;
        while (authorityEnd < rest.size() && rest[authorityEnd] != '/' && rest[authorityEnd] != '?')
            ++authorityEnd;
        if (authorityEnd == 0) {
            fail(400, QByteArrayLiteral("invalid request target"));
            return false;
        }
        splitQuery(rest.sliced(authorityEnd));
        if (rawPath.isEmpty())
            rawPath = QByteArrayView("/");
    }

    QByteArray path;
    if (target == "*") {
        path = QByteArrayLiteral("*");
    } else if (!rawPath.isEmpty()) {
        switch (decodePath(rawPath, path)) {
        case PathError::None:
            break;
        case PathError::BadEscape:
            fail(400, QByteArrayLiteral("invalid percent-encoding in path"));
            return false;
        case PathError::Nul:
            fail(400, QByteArrayLiteral("NUL in path"));
            return false;
        case PathError::NotUtf8:
            fail(400, QByteArrayLiteral("path is not valid UTF-8"));
            return false;
        }
        if (hasDotSegment(path))
            path = removeDotSegments(path);
    }
    m_request.method = method.toByteArray();
    m_request.target = target.toByteArray();
    m_request.path = std::move(path);
    if (hasQuery)
        m_request.query = query.toByteArray();
    return true;
}

bool HttpRequestParser::parseFieldLine(QByteArrayView line, HttpHeaders &into)
{
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0) {
        fail(400, QByteArrayLiteral("malformed field line"));
        return false;
    }
    const QByteArrayView name = line.first(colon);
    if (!isToken(name)) {
        fail(400,
             isWhitespace(name.back()) ? QByteArrayLiteral("whitespace before colon")
                                       : QByteArrayLiteral("invalid field name"));
        return false;
    }
    const QByteArrayView value = trimWhitespace(line.sliced(colon + 1));
    if (!isValidFieldValue(value)) {
        fail(400, QByteArrayLiteral("invalid character in field value"));
        return false;
    }
    QByteArray lowerName(name.data(), name.size());
    char *p = lowerName.data();
    for (qsizetype i = 0; i < lowerName.size(); ++i)
        p[i] = char(asciiLower(uchar(p[i])));
    into.append(HttpHeader {std::move(lowerName), value.toByteArray()});
    return true;
}

bool HttpRequestParser::finishHeaders()
{
    HttpRequest &r = m_request;
    const bool http11 = r.version == HttpVersion::Http11;

    int hosts = 0;
    int contentLengths = 0;
    qint64 contentLength = 0;
    bool transferEncoding = false;
    bool close = false;
    bool keepAlive = false;
    bool connectionUpgrade = false;
    bool upgrade = false;
    bool expectContinue = false;
    for (const HttpHeader &h : std::as_const(r.headers)) {
        const QByteArrayView name = h.name;
        if (name == "host") {
            if (++hosts > 1) {
                fail(400, QByteArrayLiteral("duplicate Host"));
                return false;
            }
            if (!isValidHost(h.value)) {
                fail(400, QByteArrayLiteral("invalid Host"));
                return false;
            }
        } else if (name == "content-length") {
            if (++contentLengths > 1) {
                fail(400, QByteArrayLiteral("duplicate Content-Length"));
                return false;
            }
            if (h.value.isEmpty()) {
                fail(400, QByteArrayLiteral("invalid Content-Length"));
                return false;
            }
            for (const char c : h.value) {
                if (c < '0' || c > '9') {
                    fail(400, QByteArrayLiteral("invalid Content-Length"));
                    return false;
                }
                contentLength = contentLength >= SaturatedSize / 10
                    ? SaturatedSize
                    : contentLength * 10 + (c - '0');
            }
        } else if (name == "transfer-encoding") {
            transferEncoding = true;
        } else if (name == "connection") {
            forEachListElement(h.value, [&](QByteArrayView token) {
                close |= equalsIgnoringCase(token, "close");
                keepAlive |= equalsIgnoringCase(token, "keep-alive");
                connectionUpgrade |= equalsIgnoringCase(token, "upgrade");
                return true;
            });
        } else if (name == "upgrade") {
            upgrade |= !h.value.isEmpty();
        } else if (name == "expect") {
            expectContinue |= equalsIgnoringCase(h.value, "100-continue");
        }
    }
    if (http11 && hosts == 0) {
        fail(400, QByteArrayLiteral("missing Host"));
        return false;
    }

    bool chunked = false;
    if (transferEncoding) {
        if (!http11) {
            fail(400, QByteArrayLiteral("Transfer-Encoding in an HTTP/1.0 request"));
            return false;
        }
        if (contentLengths > 0) {
            fail(400, QByteArrayLiteral("both Content-Length and Transfer-Encoding"));
            return false;
        }
        int status = 0;
        QByteArray reason;
        for (const HttpHeader &h : std::as_const(r.headers)) {
            if (h.name != "transfer-encoding")
                continue;
            forEachListElement(h.value, [&](QByteArrayView coding) {
                if (chunked) {
                    // chunked must be the final coding, and is applied once only.
                    status = 400;
                    reason = QByteArrayLiteral("chunked is not the final transfer coding");
                } else if (equalsIgnoringCase(coding, "chunked")) {
                    chunked = true;
                    return true;
                } else {
                    const qsizetype semicolon = coding.indexOf(';');
                    const QByteArrayView name
                        = trimWhitespace(semicolon < 0 ? coding : coding.first(semicolon));
                    if (!isToken(name) || equalsIgnoringCase(name, "chunked")) {
                        status = 400;
                        reason = QByteArrayLiteral("invalid Transfer-Encoding");
                    } else {
                        status = 501;
                        reason = QByteArrayLiteral("unsupported transfer coding");
                    }
                }
                return false;
            });
            if (status)
                break;
        }
        if (!status && !chunked) {
            status = 400;
            reason = QByteArrayLiteral("empty Transfer-Encoding");
        }
        if (status) {
            fail(status, std::move(reason));
            return false;
        }
    }

    r.keepAlive = !close && (http11 || keepAlive);
    r.isUpgrade = http11 && upgrade && connectionUpgrade;

    if (chunked) {
        m_state = State::ChunkSize;
    } else if (contentLength > m_limits.maxBodySize) {
        fail(413, QByteArrayLiteral("request body too large"));
        return false;
    } else if (contentLength > 0) {
        m_state = State::Body;
        m_remaining = contentLength;
    } else {
        m_state = State::RequestLine;
        return true;
    }
    m_expectContinue = http11 && expectContinue;
    return true;
}

bool HttpRequestParser::parseChunkSize(QByteArrayView line)
{
    // chunk-size [ chunk-ext ], chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
    qsizetype i = 0;
    qint64 size = 0;
    while (i < line.size()) {
        const int digit = Text::hexDigitValue(line[i]);
        if (digit < 0)
            break;
        size = size >= SaturatedSize / 16 ? SaturatedSize : size * 16 + digit;
        ++i;
    }
    if (i == 0) {
        fail(400, QByteArrayLiteral("invalid chunk size"));
        return false;
    }
    auto skipWhitespace = [&] {
        while (i < line.size() && isWhitespace(line[i]))
            ++i;
    };
    auto token = [&] {
        const qsizetype start = i;
        while (i < line.size() && isTokenChar(uchar(line[i])))
            ++i;
        return i > start;
    };
    auto quotedString = [&] {
        if (i >= line.size() || line[i] != '"')
            return false;
        for (++i; i < line.size(); ++i) {
            const auto c = uchar(line[i]);
            if (c == '"') {
                ++i;
                return true;
            }
            if (c == '\\') {
                if (++i >= line.size())
                    return false;
                const auto q = uchar(line[i]);
                if ((q < 0x20 && q != '\t') || q == 0x7F)
                    return false;
            } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return false;
            }
        }
        return false;
    };
    if (i < line.size() && line[i] != ';' && !isWhitespace(line[i])) {
        fail(400, QByteArrayLiteral("invalid chunk size"));
        return false;
    }
    while (i < line.size()) {
        skipWhitespace();
        // Whitespace is only allowed before a ';', not at the end of the line.
        if (i == line.size() || line[i] != ';') {
            fail(400, QByteArrayLiteral("invalid chunk extension"));
            return false;
        }
        ++i;
        skipWhitespace();
        if (!token()) {
            fail(400, QByteArrayLiteral("invalid chunk extension"));
            return false;
        }
        const qsizetype afterName = i;
        skipWhitespace();
        if (i < line.size() && line[i] == '=') {
            ++i;
            skipWhitespace();
            if (!token() && !quotedString()) {
                fail(400, QByteArrayLiteral("invalid chunk extension"));
                return false;
            }
        } else {
            i = afterName;
        }
    }
    if (size > m_limits.maxBodySize - m_request.body.size()) {
        fail(413, QByteArrayLiteral("request body too large"));
        return false;
    }
    m_remaining = size;
    return true;
}

// --- QueryString ----------------------------------------------------------------------------

QByteArray QueryString::decode(QByteArrayView s, bool plusAsSpace)
{
    QByteArray out(s.size(), Qt::Uninitialized);
    char *o = out.data();
    qsizetype n = 0;
    for (qsizetype i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+' && plusAsSpace) {
            o[n++] = ' ';
        } else if (c == '%' && i + 2 < s.size() && Text::hexDigitValue(s[i + 1]) >= 0
                   && Text::hexDigitValue(s[i + 2]) >= 0) {
            o[n++] = char(Text::hexDigitValue(s[i + 1]) * 16 + Text::hexDigitValue(s[i + 2]));
            i += 2;
        } else {
            o[n++] = c;
        }
    }
    out.truncate(n);
    return out;
}

QueryString QueryString::parse(QByteArrayView query)
{
    QueryString result;
    if (query.startsWith('?'))
        query = query.sliced(1);
    while (!query.isEmpty()) {
        const qsizetype amp = query.indexOf('&');
        const QByteArrayView segment = amp < 0 ? query : query.first(amp);
        if (!segment.isEmpty()) {
            const qsizetype eq = segment.indexOf('=');
            if (eq < 0)
                result.m_items.append({decode(segment), QByteArray("", 0)});
            else
                result.m_items.append({decode(segment.first(eq)), decode(segment.sliced(eq + 1))});
        }
        if (amp < 0)
            break;
        query = query.sliced(amp + 1);
    }
    return result;
}

bool QueryString::namesEqual(QByteArrayView a, QByteArrayView b)
{
    if (equalsIgnoringCase(a, b))
        return true;
    auto ascii = [](QByteArrayView s) {
        for (const char c : s) {
            if (uchar(c) >= 0x80)
                return false;
        }
        return true;
    };
    if (ascii(a) && ascii(b))
        return false;
    return QString::fromUtf8(a).compare(QString::fromUtf8(b), Qt::CaseInsensitive) == 0;
}

bool QueryString::contains(QByteArrayView name) const
{
    for (const Item &item : m_items) {
        if (namesEqual(item.first, name))
            return true;
    }
    return false;
}

QByteArray QueryString::value(QByteArrayView name) const
{
    for (const Item &item : m_items) {
        if (namesEqual(item.first, name))
            return item.second.isNull() ? QByteArray("", 0) : item.second;
    }
    return QByteArray();
}

QList<QByteArray> QueryString::values(QByteArrayView name) const
{
    QList<QByteArray> out;
    for (const Item &item : m_items) {
        if (namesEqual(item.first, name))
            out.append(item.second);
    }
    return out;
}

} // namespace Heliograph::Server
