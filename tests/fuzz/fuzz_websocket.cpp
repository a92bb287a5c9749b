// SPDX-License-Identifier: MIT
// libFuzzer target: the server's WebSocket frame parser. The input (client frames) is parsed
// fed at once, split in two at a position derived from it, and byte by byte: all three must give
// the same events. The events are checked (text is UTF-8, sizes within the limits, close codes
// valid), masked again as client frames and parsed back to the same events, and written with
// the server frame writers. The message size limit is derived from the input.
//
// Self-contained (no client-lib headers): build with the server's http sources, e.g.
//   clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Iserver/src \
//     tests/fuzz/fuzz_websocket.cpp server/src/http/*.cpp $(pkg-config --cflags --libs Qt6Core)
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
using Parser = WebSocket::FrameParser;
using Status = Parser::Status;

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

quint64 hashOf(QByteArrayView data)
{
    quint64 h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
        h ^= quint8(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

struct Event {
    Status status;
    Parser::MessageType type;
    QByteArray payload;
    quint16 closeCode;
    QByteArray reason;
    bool operator==(const Event &) const = default;
};

struct Outcome {
    QList<Event> events;
    qsizetype buffered = 0;
    bool operator==(const Outcome &) const = default;
};

void drain(Parser &parser, Outcome &out, QByteArrayView input)
{
    while (!parser.hasFailed()) {
        Parser::Result r = parser.next();
        if (r.status == Status::NeedMoreData)
            return;
        require(out.events.isEmpty() || out.events.back().status != Status::Close,
                "an event after a close", input);
        out.events.append(
            Event {r.status, r.type, std::move(r.payload), r.closeCode, std::move(r.reason)});
        if (r.status == Status::Error) {
            const Parser::Result again = parser.next();
            require(again.status == Status::Error && again.closeCode == out.events.back().closeCode
                        && again.reason == out.events.back().reason,
                    "the parser recovered from an error", input);
        }
    }
}

/// `split` < 0: byte by byte.
Outcome parse(QByteArrayView input, qsizetype maxSize, qsizetype split)
{
    Parser parser(maxSize);
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
    require(!(parser.hasFailed() || parser.isClosed()) || out.buffered == 0,
            "a failed or closed parser keeps input", input);
    return out;
}

void checkEvent(const Event &e, qsizetype maxSize, QByteArrayView input)
{
    switch (e.status) {
    case Status::Message:
        require(maxSize <= 0 || e.payload.size() <= maxSize, "message over the limit", input);
        if (e.type == Parser::MessageType::Text) {
            require(isValidUtf8(e.payload) && QByteArrayView(e.payload).isValidUtf8(),
                    "text message is not UTF-8", input);
        }
        break;
    case Status::Ping:
    case Status::Pong:
        require(e.payload.size() <= 125, "control payload over 125 bytes", input);
        break;
    case Status::Close:
        require(e.closeCode == WebSocket::CloseCode::NoStatus
                    || WebSocket::isValidCloseCode(e.closeCode),
                "invalid close code accepted", input);
        require(e.closeCode != WebSocket::CloseCode::NoStatus || e.reason.isEmpty(),
                "reason without code", input);
        require(e.reason.size() <= 123 && isValidUtf8(e.reason), "bad close reason", input);
        break;
    case Status::Error:
        require(e.closeCode == WebSocket::CloseCode::ProtocolError
                    || e.closeCode == WebSocket::CloseCode::InvalidPayload
                    || e.closeCode == WebSocket::CloseCode::MessageTooBig,
                "unexpected error close code", input);
        require(!e.reason.isEmpty(), "error without reason", input);
        break;
    case Status::NeedMoreData:
        violated("NeedMoreData as an event", input);
    }
}

/// The events, masked again as single client frames (masks derived from `h`).
QByteArray reencode(const QList<Event> &events, quint64 h)
{
    QByteArray out;
    for (const Event &e : events) {
        const auto mask = quint32(h >> (e.payload.size() % 32));
        switch (e.status) {
        case Status::Message:
            WebSocket::appendClientFrame(out,
                                         e.type == Parser::MessageType::Text
                                             ? WebSocket::Opcode::Text
                                             : WebSocket::Opcode::Binary,
                                         e.payload, mask);
            break;
        case Status::Ping:
            WebSocket::appendClientFrame(out, WebSocket::Opcode::Ping, e.payload, mask);
            break;
        case Status::Pong:
            WebSocket::appendClientFrame(out, WebSocket::Opcode::Pong, e.payload, mask);
            break;
        case Status::Close: {
            QByteArray payload;
            if (e.closeCode != WebSocket::CloseCode::NoStatus) {
                payload.append(char(e.closeCode >> 8));
                payload.append(char(e.closeCode & 0xFF));
                payload.append(e.reason);
            }
            WebSocket::appendClientFrame(out, WebSocket::Opcode::Close, payload, mask);
            break;
        }
        case Status::Error:
        case Status::NeedMoreData:
            break;
        }
    }
    return out;
}

/// Reads a server frame header written by the library: opcode, FIN and payload size.
void checkServerFrame(const QByteArray &frame, quint8 opcode, qsizetype payloadSize,
                      QByteArrayView input)
{
    require(frame.size() >= 2 && uchar(frame[0]) == (0x80 | opcode) && !(uchar(frame[1]) & 0x80),
            "server frame header", input);
    const quint8 length7 = frame[1] & 0x7F;
    qsizetype headerSize = 2;
    quint64 length = length7;
    if (length7 == 126) {
        headerSize = 4;
        length = (quint64(uchar(frame[2])) << 8) | uchar(frame[3]);
    } else if (length7 == 127) {
        headerSize = 10;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = (length << 8) | uchar(frame[2 + i]);
    }
    require(headerSize == WebSocket::headerSize(length) && length == quint64(payloadSize)
                && frame.size() == headerSize + payloadSize,
            "server frame length", input);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const quint64 h = hashOf(input);
    // Mostly a small limit (to reach 1009), sometimes the default, sometimes none.
    const qsizetype maxSize = h % 4 == 0 ? Parser::DefaultMaxMessageSize
        : h % 4 == 1                     ? 0
                                         : qsizetype(1 + (h >> 8) % 300);

    const Outcome whole = parse(input, maxSize, input.size());
    const Outcome split = parse(input, maxSize, qsizetype((h >> 16) % quint64(input.size() + 1)));
    const Outcome bytewise = parse(input, maxSize, -1);
    require(split == whole, "split feeding gives other events", input);
    require(bytewise == whole, "byte-by-byte feeding gives other events", input);

    QList<Event> valid;
    for (const Event &e : whole.events) {
        checkEvent(e, maxSize, input);
        if (e.status != Status::Error)
            valid.append(e);
    }

    // Masked again, the events parse back to themselves.
    const QByteArray again = reencode(valid, h);
    const Outcome reparsed = parse(again, maxSize, again.size());
    require(reparsed.events == valid && reparsed.buffered == 0,
            "re-encoded events parse differently", input);

    // Server frames of the same events.
    for (const Event &e : valid) {
        if (e.status == Status::Message) {
            const bool text = e.type == Parser::MessageType::Text;
            checkServerFrame(text ? WebSocket::textFrame(e.payload)
                                  : WebSocket::binaryFrame(e.payload),
                             text ? 0x1 : 0x2, e.payload.size(), input);
        } else if (e.status == Status::Ping) {
            checkServerFrame(WebSocket::pongFrame(e.payload), 0xA, e.payload.size(), input);
        } else if (e.status == Status::Close) {
            const QByteArray close = WebSocket::closeFrame(e.closeCode, e.reason);
            checkServerFrame(
                close, 0x8, e.closeCode == WebSocket::CloseCode::NoStatus ? 0 : 2 + e.reason.size(),
                input);
        }
    }
    // Close frames from arbitrary reasons stay within 125 bytes of payload, and cut valid UTF-8
    // on a character boundary.
    const QByteArray close = WebSocket::closeFrame(quint16(h), input);
    require(close.size() <= 2 + 125, "close frame too long", input);
    if (close.size() > 4 && input.isValidUtf8()) {
        const QByteArrayView reason = QByteArrayView(close).sliced(4);
        require(input.startsWith(reason) && isValidUtf8(reason)
                    && (reason.size() == input.size() || reason.size() >= 120),
                "close reason cut badly", input);
    }

    // The streaming UTF-8 validator: any split, same verdict as Qt's.
    Utf8Validator v;
    const qsizetype at = qsizetype(h % quint64(input.size() + 1));
    const bool ok = v.feed(input.first(at)) && v.feed(input.sliced(at)) && v.isComplete();
    require(ok == input.isValidUtf8(), "UTF-8 validators disagree", input);
    return 0;
}
