// SPDX-License-Identifier: MIT
#include "http/httpresponse.h"

#include <QtCore/QTimeZone>

namespace Heliograph::Server {

namespace {

bool isTokenChar(uchar c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && QByteArrayView("!#$%&'*+-.^_`|~").contains(char(c));
}

bool isValidName(QByteArrayView name) noexcept
{
    if (name.isEmpty())
        return false;
    for (const char c : name) {
        if (!isTokenChar(uchar(c)))
            return false;
    }
    return true;
}

bool isValidValue(QByteArrayView value) noexcept
{
    for (const char c : value) {
        const auto u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return false;
    }
    return true;
}

bool sameName(QByteArrayView a, QByteArrayView b) noexcept
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

void appendDecimal(QByteArray &out, quint64 v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out.append(digits[--n]);
}

void appendTwoDigits(QByteArray &out, int v)
{
    out.append(char('0' + v / 10));
    out.append(char('0' + v % 10));
}

bool hasNoBody(int status) noexcept
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace

HttpResponse::HttpResponse(int status)
{
    setStatus(status);
}

void HttpResponse::setStatus(int status, QByteArrayView reason)
{
    m_status = (status >= 100 && status <= 999) ? status : 500;
    m_reason = reason.toByteArray();
    for (char &c : m_reason) {
        if ((uchar(c) < 0x20 && c != '\t') || uchar(c) == 0x7F)
            c = ' ';
    }
}

QByteArray HttpResponse::reason() const
{
    return m_reason.isEmpty() ? reasonPhrase(m_status).toByteArray() : m_reason;
}

bool HttpResponse::addHeader(QByteArrayView name, QByteArrayView value)
{
    if (!isValidName(name) || !isValidValue(value))
        return false;
    m_headers.append(HttpHeader {name.toByteArray(), value.toByteArray()});
    return true;
}

bool HttpResponse::setHeader(QByteArrayView name, QByteArrayView value)
{
    if (!isValidName(name) || !isValidValue(value))
        return false;
    removeHeader(name);
    m_headers.append(HttpHeader {name.toByteArray(), value.toByteArray()});
    return true;
}

void HttpResponse::removeHeader(QByteArrayView name)
{
    m_headers.removeIf([&](const HttpHeader &h) { return sameName(h.name, name); });
}

bool HttpResponse::hasHeader(QByteArrayView name) const noexcept
{
    for (const HttpHeader &h : m_headers) {
        if (sameName(h.name, name))
            return true;
    }
    return false;
}

QByteArrayView HttpResponse::header(QByteArrayView name) const noexcept
{
    for (const HttpHeader &h : m_headers) {
        if (sameName(h.name, name))
            return h.value;
    }
    return {};
}

void HttpResponse::addDateHeader(const QDateTime &when)
{
    m_headers.append(HttpHeader {QByteArrayLiteral("Date"), httpDate(when)});
}

void HttpResponse::setBody(QByteArray body, QByteArrayView contentType)
{
    m_body = std::move(body);
    setHeader("Content-Type", contentType);
}

void HttpResponse::appendHead(QByteArray &out, bool skipFraming) const
{
    out.append("HTTP/1.1 ");
    appendDecimal(out, quint64(m_status));
    out.append(' ');
    out.append(m_reason.isEmpty() ? reasonPhrase(m_status) : QByteArrayView(m_reason));
    out.append("\r\n");
    for (const HttpHeader &h : m_headers) {
        if (skipFraming
            && (sameName(h.name, "content-length") || sameName(h.name, "transfer-encoding")))
            continue;
        out.append(h.name);
        out.append(": ");
        out.append(h.value);
        out.append("\r\n");
    }
}

QByteArray HttpResponse::serialize() const
{
    QByteArray out;
    qsizetype size = 64 + m_body.size();
    for (const HttpHeader &h : m_headers)
        size += h.name.size() + h.value.size() + 4;
    out.reserve(size);
    appendHead(out, true);
    if (!hasNoBody(m_status)) {
        out.append("Content-Length: ");
        appendDecimal(out, quint64(m_body.size()));
        out.append("\r\n\r\n");
        out.append(m_body);
    } else {
        out.append("\r\n");
    }
    return out;
}

QByteArray HttpResponse::serializeHead(Framing framing) const
{
    QByteArray out;
    appendHead(out, framing == Framing::Chunked);
    if (framing == Framing::Chunked)
        out.append("Transfer-Encoding: chunked\r\n");
    out.append("\r\n");
    return out;
}

QByteArrayView HttpResponse::reasonPhrase(int status) noexcept
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return {};
    }
}

QByteArray HttpResponse::httpDate(const QDateTime &when)
{
    static constexpr const char days[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr const char months[12][4]
        = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const QDateTime utc = when.toUTC();
    const QDate date = utc.date();
    const QTime time = utc.time();
    QByteArray out;
    out.reserve(29);
    out.append(days[(date.dayOfWeek() + 6) % 7], 3);
    out.append(", ");
    appendTwoDigits(out, date.day());
    out.append(' ');
    out.append(months[(date.month() + 11) % 12], 3);
    out.append(' ');
    const int year = qBound(0, date.year(), 9999);
    appendTwoDigits(out, year / 100);
    appendTwoDigits(out, year % 100);
    out.append(' ');
    appendTwoDigits(out, time.hour());
    out.append(':');
    appendTwoDigits(out, time.minute());
    out.append(':');
    appendTwoDigits(out, time.second());
    out.append(" GMT");
    return out;
}

void HttpResponse::appendChunk(QByteArray &out, QByteArrayView data)
{
    if (data.isEmpty())
        return;
    char hex[16];
    int n = 0;
    auto size = quint64(data.size());
    do {
        hex[n++] = "0123456789abcdef"[size & 0xF];
        size >>= 4;
    } while (size);
    out.reserve(out.size() + n + data.size() + 4);
    while (n)
        out.append(hex[--n]);
    out.append("\r\n");
    out.append(data);
    out.append("\r\n");
}

QByteArray HttpResponse::errorResponse(int status, QByteArrayView text)
{
    HttpResponse r(status);
    QByteArray body = text.toByteArray();
    if (body.isEmpty())
        body = r.reason();
    body.append('\n');
    r.setBody(std::move(body), "text/plain; charset=utf-8");
    r.setConnectionClose();
    return r.serialize();
}

} // namespace Heliograph::Server
