// SPDX-License-Identifier: MIT
#include "wsclient.h"

#include <QtCore/QCryptographicHash>

#include <cstring>

namespace Heliograph::Bench::Ws {

QByteArray newKey(uint64_t &rng)
{
    char raw[16];
    const uint64_t a = nextRandom(rng), b = nextRandom(rng);
    std::memcpy(raw, &a, 8);
    std::memcpy(raw + 8, &b, 8);
    return QByteArray(raw, 16).toBase64();
}

QByteArray expectedAccept(QByteArrayView key)
{
    QByteArray material = key.toByteArray();
    material += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    return QCryptographicHash::hash(material, QCryptographicHash::Sha1).toBase64();
}

void appendMaskedFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, uint32_t maskKey)
{
    const auto size = uint64_t(payload.size());
    const qsizetype header = 2 + (size < 126 ? 0 : size <= 0xFFFF ? 2 : 8) + 4;
    const qsizetype start = out.size();
    out.resize(start + header + payload.size());
    auto *p = reinterpret_cast<uchar *>(out.data() + start);
    *p++ = uchar(0x80 | uint8_t(opcode));
    if (size < 126) {
        *p++ = uchar(0x80 | size);
    } else if (size <= 0xFFFF) {
        *p++ = 0x80 | 126;
        *p++ = uchar(size >> 8);
        *p++ = uchar(size);
    } else {
        *p++ = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            *p++ = uchar(size >> shift);
    }
    uchar mask[4];
    std::memcpy(mask, &maskKey, 4);
    std::memcpy(p, mask, 4);
    p += 4;

    // Mask eight bytes at a time, then the tail.
    const auto *src = reinterpret_cast<const uchar *>(payload.data());
    uint64_t wide;
    uchar pattern[8] = {mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]};
    std::memcpy(&wide, pattern, 8);
    qsizetype i = 0;
    for (; i + 8 <= payload.size(); i += 8) {
        uint64_t chunk;
        std::memcpy(&chunk, src + i, 8);
        chunk ^= wide;
        std::memcpy(p + i, &chunk, 8);
    }
    for (; i < payload.size(); ++i)
        p[i] = src[i] ^ mask[i & 3];
}

Frame scanFrame(QByteArrayView data, qsizetype maxPayload) noexcept
{
    Frame f;
    if (data.size() < 2)
        return f;
    const auto *p = reinterpret_cast<const uchar *>(data.data());
    f.fin = (p[0] & 0x80) != 0;
    f.opcode = Opcode(p[0] & 0x0F);
    if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0) { // RSV bits, or a masked server frame
        f.status = Frame::Status::Invalid;
        return f;
    }
    uint64_t len = p[1] & 0x7F;
    qsizetype header = 2;
    if (len == 126) {
        if (data.size() < 4)
            return f;
        len = (uint64_t(p[2]) << 8) | p[3];
        header = 4;
    } else if (len == 127) {
        if (data.size() < 10)
            return f;
        len = 0;
        for (int i = 2; i < 10; ++i)
            len = (len << 8) | p[i];
        header = 10;
    }
    if (len > uint64_t(maxPayload)) {
        f.status = Frame::Status::Invalid;
        return f;
    }
    f.headerSize = header;
    f.payloadSize = qsizetype(len);
    if (data.size() >= f.size())
        f.status = Frame::Status::Complete;
    return f;
}

} // namespace Heliograph::Bench::Ws
