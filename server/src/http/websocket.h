// SPDX-License-Identifier: MIT
// RFC 6455 WebSocket, server side, framed directly on the server's own sockets (no QtWebSockets: it
// costs ~19 KB per idle connection). The opening handshake, an incremental parser for client
// frames, and writers for server frames. No subprotocols, no extensions (permessage-deflate offers
// are ignored, so the client falls back to plain frames).
#pragma once

#include "http/httprequestparser.h"

#include <heliograph/protocol/utf8.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

namespace Heliograph::Server::WebSocket {

enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

/// Status codes of close frames (RFC 6455 section 7.4.1).
namespace CloseCode {
inline constexpr quint16 Normal = 1000;
inline constexpr quint16 GoingAway = 1001;
inline constexpr quint16 ProtocolError = 1002;
inline constexpr quint16 UnsupportedData = 1003;
inline constexpr quint16 NoStatus = 1005; ///< never sent: a close frame without a payload
inline constexpr quint16 Abnormal = 1006; ///< never sent: the connection dropped
inline constexpr quint16 InvalidPayload = 1007;
inline constexpr quint16 PolicyViolation = 1008;
inline constexpr quint16 MessageTooBig = 1009;
inline constexpr quint16 InternalError = 1011;
} // namespace CloseCode

/// Codes a peer may put in a close frame: 1000-1003, 1007-1014, 3000-4999 (as .NET accepts).
bool isValidCloseCode(quint16 code) noexcept;

// --- opening handshake ------------------------------------------------------------------------

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
QByteArray acceptKey(QByteArrayView key);

/// The outcome of validating an upgrade request.
struct Handshake {
    int status = 0; ///< 101 when accepted; 400 or 426 (unsupported Sec-WebSocket-Version)
    QByteArray reason; ///< why not, when rejected
    QByteArray accept; ///< the Sec-WebSocket-Accept value, when accepted
    bool isAccepted() const noexcept { return status == 101; }
    /// What to write: the 101 Switching Protocols response, or the rejection (426 carries
    /// "Sec-WebSocket-Version: 13") with "Connection: close".
    QByteArray response() const;
};

/// Checks a parsed request: GET, HTTP/1.1, "Upgrade: websocket", "upgrade" in Connection,
/// "Sec-WebSocket-Version: 13" (else 426), one Sec-WebSocket-Key of 16 base64-encoded bytes,
/// no body. Subprotocol and extension offers are ignored.
Handshake validateUpgrade(const HttpRequest &request);

// --- client frames ----------------------------------------------------------------------------

/// Incremental parser of the frames a client sends. Returns whole messages (fragments are
/// reassembled; text is validated as UTF-8) and control frames, which may arrive between the
/// fragments of a message. A protocol violation returns Error with the close code to send
/// (1002 protocol error, 1007 invalid UTF-8, 1009 too big); the parser then stays failed. After
/// a Close it ignores everything that follows.
class FrameParser {
public:
    enum class Status : quint8 { NeedMoreData, Message, Ping, Pong, Close, Error };
    enum class MessageType : quint8 { Text, Binary };
    struct Result {
        Status status = Status::NeedMoreData;
        MessageType type = MessageType::Binary; ///< of a Message
        QByteArray payload; ///< of a Message, Ping or Pong (unmasked)
        /// Close: the peer's code (1005 if its close frame had no payload). Error: the code to
        /// close the connection with.
        quint16 closeCode = 0;
        /// Close: the peer's reason (UTF-8). Error: a short description of the violation.
        QByteArray reason;
    };

    static constexpr qsizetype DefaultMaxMessageSize = 1024 * 1024;

    /// `maxMessageSize`: the largest message (all its fragments together) -> 1009; <= 0 means
    /// no limit.
    explicit FrameParser(qsizetype maxMessageSize = DefaultMaxMessageSize);

    /// Adds received bytes. Passing a QByteArray into an empty parser takes it without copying.
    void feed(QByteArrayView data);
    void feed(const QByteArray &data);

    /// The next event, or NeedMoreData.
    Result next();

    bool hasFailed() const noexcept { return m_failed; }
    /// A Close frame was returned.
    bool isClosed() const noexcept { return m_closed; }
    qsizetype bufferedBytes() const noexcept { return m_buffer.size() - m_pos; }
    qsizetype maxMessageSize() const noexcept { return m_maxMessageSize; }
    /// True if a fragmented message is in progress.
    bool inMessage() const noexcept { return m_inMessage; }

private:
    Result fail(quint16 code, QByteArray reason);

    QByteArray m_buffer;
    qsizetype m_pos = 0; ///< first unparsed byte in m_buffer
    QByteArray m_message; ///< fragments of the message in progress, unmasked
    qsizetype m_maxMessageSize;
    Utf8Validator m_utf8; ///< over the fragments of a text message
    MessageType m_messageType = MessageType::Binary;
    bool m_inMessage = false;
    bool m_failed = false;
    bool m_closed = false;
    quint16 m_errorCode = 0;
    QByteArray m_errorReason;
};

/// XORs `size` bytes of `src` with the 4-byte `mask` (starting at mask byte `phase` & 3) into
/// `dst`. `dst` may equal `src` or lie before it in the same buffer.
void unmask(char *dst, const char *src, qsizetype size, const uchar mask[4],
            qsizetype phase = 0) noexcept;

// --- server frames ----------------------------------------------------------------------------

/// Most bytes a server frame header takes (2 + 8, unmasked).
inline constexpr qsizetype MaxHeaderSize = 10;

/// The header size of a server frame with `payloadSize` bytes of payload: 2, 4 or 10.
constexpr qsizetype headerSize(quint64 payloadSize) noexcept
{
    return payloadSize < 126 ? 2 : payloadSize <= 0xFFFF ? 4 : 10;
}

/// Writes the header of an unmasked frame to `out` (room for MaxHeaderSize bytes) and returns
/// its size. Lets a caller reserve MaxHeaderSize bytes in front of a payload it encodes in
/// place, then put the header right before the payload.
qsizetype writeHeader(char *out, Opcode opcode, quint64 payloadSize, bool fin = true) noexcept;
/// Appends the header of an unmasked frame; the caller appends the payload right after it.
void appendHeader(QByteArray &out, Opcode opcode, quint64 payloadSize, bool fin = true);
/// Appends a whole unmasked frame.
void appendFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, bool fin = true);

QByteArray textFrame(QByteArrayView utf8);
QByteArray binaryFrame(QByteArrayView payload);
/// Control frames carry at most 125 bytes: longer payloads are cut.
QByteArray pingFrame(QByteArrayView payload = {});
QByteArray pongFrame(QByteArrayView payload = {});
/// A close frame with `code` and `reason` (cut to 123 bytes on a UTF-8 boundary). Codes that
/// must not be sent (1005, 1006, 1015, or 0) give a close frame without a payload.
QByteArray closeFrame(quint16 code = CloseCode::Normal, QByteArrayView reason = {});

/// Appends a masked frame as a client sends it: for tests and tools.
void appendClientFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, quint32 maskKey,
                       bool fin = true);

} // namespace Heliograph::Server::WebSocket
