// SPDX-License-Identifier: MIT
// The client side of RFC 6455 as far as a load generator needs it: the upgrade request and the
// check of the server's answer, masked frames out, unmasked frames in. Server frames are
// reported one by one (continuations included): SignalR treats the WebSocket as a byte stream,
// so data frames are fed to the hub protocol reader as they come, without reassembly.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <cstdint>

namespace Heliograph::Bench::Ws {

enum class Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

/// A fresh Sec-WebSocket-Key (16 random bytes, base64) from a caller's random state.
QByteArray newKey(uint64_t &rng);
/// The Sec-WebSocket-Accept a server must answer for `key`.
QByteArray expectedAccept(QByteArrayView key);

/// Appends a masked frame with `payload` to `out`, masking while copying.
void appendMaskedFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, uint32_t maskKey);

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
