// SPDX-License-Identifier: MIT
#include "http/websocket.h"

#include "http/httpresponse.h"

#include <QtCore/QCryptographicHash>

#include <cstring>

namespace Heliograph::Server::WebSocket {

namespace {

constexpr qsizetype MaxControlPayload = 125;

quint16 readBigEndian16(const uchar *p) noexcept
{
    return quint16((p[0] << 8) | p[1]);
}

quint64 readBigEndian64(const uchar *p) noexcept
{
    quint64 v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | p[i];
    return v;
}

/// The longest prefix of `s` of at most `max` bytes that does not end inside a UTF-8 sequence.
QByteArrayView cutUtf8(QByteArrayView s, qsizetype max) noexcept
{
    if (s.size() <= max)
        return s;
    qsizetype n = max;
    // Step back over continuation bytes to the lead byte of the cut sequence.
    while (n > 0 && (uchar(s[n]) & 0xC0) == 0x80)
        --n;
    return s.first(n);
}

} // namespace

bool isValidCloseCode(quint16 code) noexcept
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

// --- opening handshake ------------------------------------------------------------------------

QByteArray acceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return sha1.result().toBase64();
}

QByteArray Handshake::response() const
{
    if (isAccepted()) {
        QByteArray out;
        out.reserve(129);
        out.append("HTTP/1.1 101 Switching Protocols\r\n"
                   "Connection: Upgrade\r\n"
                   "Upgrade: websocket\r\n"
                   "Sec-WebSocket-Accept: ");
        out.append(accept);
        out.append("\r\n\r\n");
        return out;
    }
    HttpResponse r(status == 0 ? 400 : status);
    QByteArray body = reason;
    body.append('\n');
    r.setBody(std::move(body), "text/plain; charset=utf-8");
    if (status == 426) {
        // RFC 9110 section 15.5.22: a 426 names the protocol to upgrade to.
        r.addHeader("Upgrade", "websocket");
        r.addHeader("Sec-WebSocket-Version", "13");
        r.addHeader("Connection", "Upgrade, close");
    } else {
        r.addHeader("Connection", "close");
    }
    return r.serialize();
}

Handshake validateUpgrade(const HttpRequest &request)
{
    Handshake h;
    auto reject = [&h](int status, QByteArray reason) {
        h.status = status;
        h.reason = std::move(reason);
        return h;
    };
    if (request.method != "GET")
        return reject(400, QByteArrayLiteral("WebSocket upgrade requires GET"));
    if (request.version != HttpVersion::Http11)
        return reject(400, QByteArrayLiteral("WebSocket upgrade requires HTTP/1.1"));
    if (!request.headerHasToken("upgrade", "websocket"))
        return reject(400, QByteArrayLiteral("missing Upgrade: websocket"));
    if (!request.headerHasToken("connection", "upgrade"))
        return reject(400, QByteArrayLiteral("missing Connection: Upgrade"));
    if (request.headerCount("sec-websocket-version") != 1
        || request.header("sec-websocket-version") != "13")
        return reject(426, QByteArrayLiteral("unsupported Sec-WebSocket-Version"));
    if (request.headerCount("sec-websocket-key") != 1)
        return reject(400, QByteArrayLiteral("missing or repeated Sec-WebSocket-Key"));
    const QByteArrayView key = request.header("sec-websocket-key");
    const auto decoded = QByteArray::fromBase64Encoding(
        key.toByteArray(), QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    // 16 bytes are 24 base64 characters with "==" padding; anything else is malformed.
    if (key.size() != 24 || !decoded || decoded.decoded.size() != 16 || !key.endsWith("=="))
        return reject(400, QByteArrayLiteral("invalid Sec-WebSocket-Key"));
    if (!request.body.isEmpty())
        return reject(400, QByteArrayLiteral("WebSocket upgrade with a body"));
    h.status = 101;
    h.accept = acceptKey(key);
    return h;
}

// --- frame parser -----------------------------------------------------------------------------

void unmask(char *dst, const char *src, qsizetype size, const uchar mask[4],
            qsizetype phase) noexcept
{
    uchar m[8];
    for (int i = 0; i < 8; ++i)
        m[i] = mask[(phase + i) & 3];
    quint64 m64;
    std::memcpy(&m64, m, 8);
    qsizetype i = 0;
    // Eight bytes at a time; each block is read before it is written, so dst <= src works.
    for (; i + 8 <= size; i += 8) {
        quint64 w;
        std::memcpy(&w, src + i, 8);
        w ^= m64;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < size; ++i)
        dst[i] = char(uchar(src[i]) ^ m[i & 7]);
}

FrameParser::FrameParser(qsizetype maxMessageSize)
    : m_maxMessageSize(maxMessageSize)
{ }

void FrameParser::feed(QByteArrayView data)
{
    if (m_failed || m_closed || data.isEmpty())
        return;
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    m_buffer.append(data);
}

void FrameParser::feed(const QByteArray &data)
{
    if (!m_failed && !m_closed && m_buffer.size() == m_pos && !data.isEmpty()) {
        m_buffer = data;
        m_pos = 0;
        return;
    }
    feed(QByteArrayView(data));
}

FrameParser::Result FrameParser::fail(quint16 code, QByteArray reason)
{
    m_failed = true;
    m_errorCode = code;
    m_errorReason = std::move(reason);
    m_buffer = QByteArray();
    m_pos = 0;
    m_message = QByteArray();
    Result r;
    r.status = Status::Error;
    r.closeCode = m_errorCode;
    r.reason = m_errorReason;
    return r;
}

FrameParser::Result FrameParser::next()
{
    if (m_failed) {
        Result r;
        r.status = Status::Error;
        r.closeCode = m_errorCode;
        r.reason = m_errorReason;
        return r;
    }
    if (m_closed)
        return {};

    while (true) {
        const qsizetype available = m_buffer.size() - m_pos;
        if (available < 2)
            return {};
        const auto *const frame = reinterpret_cast<const uchar *>(m_buffer.constData() + m_pos);

        // Everything the first two bytes can violate, before waiting for the rest of the frame.
        const bool fin = frame[0] & 0x80;
        const auto opcode = Opcode(frame[0] & 0x0F);
        const bool masked = frame[1] & 0x80;
        const quint8 length7 = frame[1] & 0x7F;
        if (frame[0] & 0x70)
            return fail(CloseCode::ProtocolError, QByteArrayLiteral("reserved bits set"));
        switch (opcode) {
        case Opcode::Continuation:
            if (!m_inMessage)
                return fail(CloseCode::ProtocolError, QByteArrayLiteral("unexpected continuation"));
            break;
        case Opcode::Text:
        case Opcode::Binary:
            if (m_inMessage)
                return fail(CloseCode::ProtocolError, QByteArrayLiteral("expected a continuation"));
            break;
        case Opcode::Close:
        case Opcode::Ping:
        case Opcode::Pong:
            if (!fin)
                return fail(CloseCode::ProtocolError,
                            QByteArrayLiteral("fragmented control frame"));
            if (length7 > MaxControlPayload)
                return fail(CloseCode::ProtocolError, QByteArrayLiteral("control frame too long"));
            break;
        default:
            return fail(CloseCode::ProtocolError, QByteArrayLiteral("unknown opcode"));
        }
        if (!masked)
            return fail(CloseCode::ProtocolError, QByteArrayLiteral("unmasked client frame"));

        const qsizetype lengthBytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        if (available < 2 + lengthBytes)
            return {};
        quint64 length = length7;
        if (lengthBytes == 2) {
            length = readBigEndian16(frame + 2);
        } else if (lengthBytes == 8) {
            length = readBigEndian64(frame + 2);
            if (length >> 63)
                return fail(CloseCode::ProtocolError, QByteArrayLiteral("invalid payload length"));
        }
        const bool control = quint8(opcode) >= 0x8;
        if (!control && m_maxMessageSize > 0
            && length > quint64(m_maxMessageSize - (m_inMessage ? m_message.size() : 0)))
            return fail(CloseCode::MessageTooBig, QByteArrayLiteral("message too big"));

        const qsizetype headerSize = 2 + lengthBytes + 4;
        if (available < headerSize || quint64(available - headerSize) < length)
            return {};
        const auto size = qsizetype(length);
        const uchar *const maskAt = frame + 2 + lengthBytes;
        const uchar mask[4] = {maskAt[0], maskAt[1], maskAt[2], maskAt[3]};
        const qsizetype payloadAt = m_pos + headerSize;
        const qsizetype frameEnd = payloadAt + size;

        // Unmasks the payload into a new array and consumes the frame.
        auto takePayload = [&] {
            QByteArray payload(size, Qt::Uninitialized);
            unmask(payload.data(), m_buffer.constData() + payloadAt, size, mask);
            m_pos = frameEnd;
            return payload;
        };
        auto consumed = [&] {
            if (m_pos == m_buffer.size()) {
                m_buffer = QByteArray();
                m_pos = 0;
            }
        };

        Result r;
        if (control) {
            r.payload = takePayload();
            consumed();
            if (opcode == Opcode::Ping) {
                r.status = Status::Ping;
            } else if (opcode == Opcode::Pong) {
                r.status = Status::Pong;
            } else {
                if (r.payload.size() == 1)
                    return fail(CloseCode::ProtocolError,
                                QByteArrayLiteral("invalid close payload"));
                r.closeCode = CloseCode::NoStatus;
                if (r.payload.size() >= 2) {
                    r.closeCode
                        = readBigEndian16(reinterpret_cast<const uchar *>(r.payload.constData()));
                    if (!isValidCloseCode(r.closeCode))
                        return fail(CloseCode::ProtocolError,
                                    QByteArrayLiteral("invalid close code"));
                    r.reason = r.payload.sliced(2);
                    if (!isValidUtf8(r.reason))
                        return fail(CloseCode::InvalidPayload,
                                    QByteArrayLiteral("close reason is not UTF-8"));
                }
                r.payload = QByteArray();
                r.status = Status::Close;
                m_closed = true;
                m_buffer = QByteArray();
                m_pos = 0;
                m_message = QByteArray();
                m_inMessage = false;
            }
            return r;
        }

        if (fin && !m_inMessage) {
            // A single-frame message. If it ends the buffer (the usual case), unmask it to the
            // start of the buffer and hand the buffer out: no copy besides the unmasking pass.
            if (frameEnd == m_buffer.size()) {
                char *data = m_buffer.data(); // detaches if shared: `frame` is stale from here on
                unmask(data, data + payloadAt, size, mask);
                m_buffer.truncate(size);
                r.payload = std::move(m_buffer);
                m_buffer = QByteArray();
                m_pos = 0;
            } else {
                r.payload = takePayload();
            }
            r.type = opcode == Opcode::Text ? MessageType::Text : MessageType::Binary;
            if (r.type == MessageType::Text && !isValidUtf8(r.payload))
                return fail(CloseCode::InvalidPayload, QByteArrayLiteral("text is not UTF-8"));
            r.status = Status::Message;
            return r;
        }

        // A fragment.
        if (!m_inMessage) {
            m_inMessage = true;
            m_messageType = opcode == Opcode::Text ? MessageType::Text : MessageType::Binary;
            m_utf8.reset();
        }
        const qsizetype start = m_message.size();
        m_message.resize(start + size);
        unmask(m_message.data() + start, m_buffer.constData() + payloadAt, size, mask);
        m_pos = frameEnd;
        consumed();
        if (m_messageType == MessageType::Text
            && !m_utf8.feed(QByteArrayView(m_message).sliced(start)))
            return fail(CloseCode::InvalidPayload, QByteArrayLiteral("text is not UTF-8"));
        if (!fin)
            continue;
        if (m_messageType == MessageType::Text && !m_utf8.isComplete())
            return fail(CloseCode::InvalidPayload, QByteArrayLiteral("text is not UTF-8"));
        m_inMessage = false;
        r.status = Status::Message;
        r.type = m_messageType;
        r.payload = std::move(m_message);
        m_message = QByteArray();
        return r;
    }
}

// --- server frames ----------------------------------------------------------------------------

qsizetype writeHeader(char *out, Opcode opcode, quint64 payloadSize, bool fin) noexcept
{
    out[0] = char((fin ? 0x80 : 0x00) | quint8(opcode));
    if (payloadSize < 126) {
        out[1] = char(payloadSize);
        return 2;
    }
    if (payloadSize <= 0xFFFF) {
        out[1] = char(126);
        out[2] = char(payloadSize >> 8);
        out[3] = char(payloadSize);
        return 4;
    }
    out[1] = char(127);
    for (int i = 0; i < 8; ++i)
        out[2 + i] = char(payloadSize >> (56 - 8 * i));
    return 10;
}

void appendHeader(QByteArray &out, Opcode opcode, quint64 payloadSize, bool fin)
{
    char header[MaxHeaderSize];
    out.append(header, writeHeader(header, opcode, payloadSize, fin));
}

void appendFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, bool fin)
{
    out.reserve(out.size() + headerSize(quint64(payload.size())) + payload.size());
    appendHeader(out, opcode, quint64(payload.size()), fin);
    out.append(payload);
}

QByteArray textFrame(QByteArrayView utf8)
{
    QByteArray out;
    appendFrame(out, Opcode::Text, utf8);
    return out;
}

QByteArray binaryFrame(QByteArrayView payload)
{
    QByteArray out;
    appendFrame(out, Opcode::Binary, payload);
    return out;
}

QByteArray pingFrame(QByteArrayView payload)
{
    QByteArray out;
    appendFrame(out, Opcode::Ping, payload.first(qMin(payload.size(), MaxControlPayload)));
    return out;
}

QByteArray pongFrame(QByteArrayView payload)
{
    QByteArray out;
    appendFrame(out, Opcode::Pong, payload.first(qMin(payload.size(), MaxControlPayload)));
    return out;
}

QByteArray closeFrame(quint16 code, QByteArrayView reason)
{
    QByteArray out;
    if (code == 0 || code == CloseCode::NoStatus || code == CloseCode::Abnormal || code == 1015) {
        appendFrame(out, Opcode::Close, {});
        return out;
    }
    const QByteArrayView cut = cutUtf8(reason, MaxControlPayload - 2);
    appendHeader(out, Opcode::Close, quint64(2 + cut.size()));
    out.append(char(code >> 8));
    out.append(char(code & 0xFF));
    out.append(cut);
    return out;
}

void appendClientFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, quint32 maskKey,
                       bool fin)
{
    char header[MaxHeaderSize];
    const qsizetype n = writeHeader(header, opcode, quint64(payload.size()), fin);
    header[1] = char(header[1] | 0x80);
    out.append(header, n);
    const uchar mask[4]
        = {uchar(maskKey >> 24), uchar(maskKey >> 16), uchar(maskKey >> 8), uchar(maskKey)};
    out.append(reinterpret_cast<const char *>(mask), 4);
    const qsizetype at = out.size();
    out.resize(at + payload.size());
    unmask(out.data() + at, payload.data(), payload.size(), mask);
}

} // namespace Heliograph::Server::WebSocket
