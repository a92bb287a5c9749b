// SPDX-License-Identifier: MIT
#include "wsclient.h"

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
