// SPDX-License-Identifier: MIT
// A small HTTP/1.1 response builder: status line, header fields, and either a body with
// Content-Length or just the head of a streamed body (chunked, or raw for SSE to HTTP/1.0
// clients and for upgrades).
#pragma once

#include "http/httprequestparser.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QDateTime>

namespace Heliograph::Server {

class HttpResponse {
public:
    /// How a body written after serializeHead() is delimited.
    enum class Framing : quint8 {
        Chunked, ///< adds "Transfer-Encoding: chunked"; write appendChunk() pieces, then
                 ///< lastChunk()
        None, ///< no framing field: the body ends when the connection closes (or none follows)
    };

    explicit HttpResponse(int status = 200);

    int status() const noexcept { return m_status; }
    /// Sets the status (100..999, anything else becomes 500) and its reason phrase; an empty
    /// `reason` picks the standard phrase. CR, LF and other control characters in `reason`
    /// become spaces.
    void setStatus(int status, QByteArrayView reason = {});
    QByteArray reason() const;

    /// Adds a field line as given (names keep their case). Returns false and adds nothing if
    /// `name` is not a token or `value` holds CR, LF, NUL or another control other than HTAB.
    bool addHeader(QByteArrayView name, QByteArrayView value);
    /// Replaces every field named `name` (any case) by one with `value`.
    bool setHeader(QByteArrayView name, QByteArrayView value);
    void removeHeader(QByteArrayView name);
    bool hasHeader(QByteArrayView name) const noexcept;
    /// The first value of `name` (any case), empty if absent.
    QByteArrayView header(QByteArrayView name) const noexcept;
    const HttpHeaders &headers() const noexcept { return m_headers; }

    /// Adds "Date: <IMF-fixdate>" for `when` (UTC).
    void addDateHeader(const QDateTime &when = QDateTime::currentDateTimeUtc());
    /// Adds "Connection: close".
    void setConnectionClose() { setHeader("Connection", "close"); }

    void setBody(QByteArray body) { m_body = std::move(body); }
    /// Sets the body and its Content-Type.
    void setBody(QByteArray body, QByteArrayView contentType);
    const QByteArray &body() const noexcept { return m_body; }

    /// The whole response: status line, fields, "Content-Length" (except for 1xx, 204 and 304,
    /// which have no body), empty line, body. A Content-Length or Transfer-Encoding field added
    /// by hand is dropped.
    QByteArray serialize() const;
    /// Status line and fields only; the body follows separately, framed as `framing` says.
    /// Fields added by hand are written as they are.
    QByteArray serializeHead(Framing framing) const;

    /// The standard reason phrase of `status`, empty for unknown codes.
    static QByteArrayView reasonPhrase(int status) noexcept;
    /// IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
    static QByteArray httpDate(const QDateTime &when);
    /// Appends `data` as one chunk (hex size CRLF data CRLF). Empty data appends nothing: an
    /// empty chunk would end the body.
    static void appendChunk(QByteArray &out, QByteArrayView data);
    /// The last chunk without trailers: "0\r\n\r\n".
    static QByteArrayView lastChunk() noexcept { return "0\r\n\r\n"; }
    /// "HTTP/1.1 100 Continue\r\n\r\n", the answer to "Expect: 100-continue".
    static QByteArrayView continueResponse() noexcept { return "HTTP/1.1 100 Continue\r\n\r\n"; }
    /// A complete text/plain response with "Connection: close", e.g. for a parser error.
    static QByteArray errorResponse(int status, QByteArrayView text);
    static QByteArray errorResponse(const HttpError &error)
    {
        return errorResponse(error.status, error.reason);
    }

private:
    void appendHead(QByteArray &out, bool skipFraming) const;

    int m_status = 200;
    QByteArray m_reason; ///< empty: the standard phrase
    HttpHeaders m_headers; ///< names as given
    QByteArray m_body;
};

} // namespace Heliograph::Server
