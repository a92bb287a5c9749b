// SPDX-License-Identifier: MIT
// The client side of RFC 6455 as far as a load generator needs it, on top of heliograph-server's
// own framing (server/src/http/websocket.h: the opcodes, Sec-WebSocket-Accept, masked client
// frames with appendClientFrame()): a Sec-WebSocket-Key, and a reader of the server's unmasked
// frames. Server frames are reported one by one (continuations included): SignalR treats the
// WebSocket as a byte stream, so data frames are fed to the hub protocol reader as they come,
// without reassembly or copies (the server's FrameParser reads client frames: masked, reassembled,
// copied).
#pragma once

#include "http/websocket.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <cstdint>

namespace Heliograph::Bench::Ws {

using Server::WebSocket::acceptKey;
using Server::WebSocket::appendClientFrame;
using Server::WebSocket::Opcode;

/// A fresh Sec-WebSocket-Key (16 random bytes, base64) from a caller's random state.
QByteArray newKey(uint64_t &rng);

/// One server frame found at the start of a buffer.
struct Frame {
    enum class Status : uint8_t { Complete, Incomplete, Invalid };
    Status status = Status::Incomplete;
    Opcode opcode = Opcode::Continuation;
    bool fin = false;
    qsizetype headerSize = 0;
    qsizetype payloadSize = 0;
    qsizetype size() const noexcept { return headerSize + payloadSize; }
};

/// Decodes the frame header at the start of `data` (server frames: no mask bit, no RSV bits).
/// `maxPayload` bounds a frame's declared size (Invalid above it).
Frame scanFrame(QByteArrayView data, qsizetype maxPayload) noexcept;

/// xorshift64*: cheap, good enough for mask keys and WebSocket keys.
inline uint64_t nextRandom(uint64_t &state) noexcept
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

} // namespace Heliograph::Bench::Ws
