// SPDX-License-Identifier: MIT
#include <heliograph/protocol/utf8.h>

#include <cstring>

namespace Heliograph {
inline namespace Protocol {

bool Utf8Validator::feed(QByteArrayView data) noexcept
{
    if (m_failed)
        return false;
    const auto *p = reinterpret_cast<const uchar *>(data.data());
    const auto *const end = p + data.size();
    quint8 need = m_need;
    quint8 lo = m_lo;
    quint8 hi = m_hi;
    while (p != end) {
        if (need == 0) {
            // ASCII runs, 8 bytes at a time.
            while (end - p >= 8) {
                quint64 word;
                std::memcpy(&word, p, 8);
                if (word & 0x8080808080808080ULL)
                    break;
                p += 8;
            }
            if (p == end)
                break;
            const uchar b = *p++;
            if (b < 0x80)
                continue;
            // Table 3-7 of the Unicode standard: the lead byte fixes the length and the range
            // of the first continuation byte (excluding overlongs, surrogates, > U+10FFFF).
            if (b < 0xC2 || b >= 0xF5) {
                m_failed = true;
                return false;
            }
            if (b < 0xE0) {
                need = 1;
            } else if (b < 0xF0) {
                need = 2;
                lo = b == 0xE0 ? 0xA0 : 0x80;
                hi = b == 0xED ? 0x9F : 0xBF;
            } else {
                need = 3;
                lo = b == 0xF0 ? 0x90 : 0x80;
                hi = b == 0xF4 ? 0x8F : 0xBF;
            }
        } else {
            const uchar b = *p++;
            if (b < lo || b > hi) {
                m_failed = true;
                return false;
            }
            --need;
            lo = 0x80;
            hi = 0xBF;
        }
    }
    m_need = need;
    m_lo = lo;
    m_hi = hi;
    return true;
}

bool isValidUtf8(QByteArrayView data) noexcept
{
    Utf8Validator v;
    return v.feed(data) && v.isComplete();
}

} // namespace Protocol
} // namespace Heliograph
