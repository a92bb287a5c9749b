// SPDX-License-Identifier: MIT
#include "text_p.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace Heliograph {
inline namespace Protocol {
namespace Text {

namespace {

// Days since 1970-01-01 -> civil date, and back (proleptic Gregorian, era-based arithmetic).
void civilFromDays(qint64 z, qint64 &y, unsigned &m, unsigned &d) noexcept
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<qint64>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

qint64 daysFromCivil(qint64 y, unsigned m, unsigned d) noexcept
{
    y -= m <= 2 ? 1 : 0;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<qint64>(doe) - 719468;
}

void appendPadded(QByteArray &out, qint64 v, int width)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    for (auto len = r.ptr - buf; len < width; ++len)
        out.append('0');
    out.append(buf, r.ptr - buf);
}

bool digits(QByteArrayView s, qsizetype pos, int count, int &out) noexcept
{
    if (pos + count > s.size())
        return false;
    out = 0;
    for (int i = 0; i < count; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

} // namespace

void appendIso8601(QByteArray &out, qint64 seconds, quint32 nanos)
{
    qint64 days = seconds / 86400;
    qint64 rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    qint64 y;
    unsigned m, d;
    civilFromDays(days, y, m, d);
    if (y < 0) {
        out.append('-');
        y = -y;
    }
    appendPadded(out, y, 4);
    out.append('-');
    appendPadded(out, m, 2);
    out.append('-');
    appendPadded(out, d, 2);
    out.append('T');
    appendPadded(out, rem / 3600, 2);
    out.append(':');
    appendPadded(out, (rem / 60) % 60, 2);
    out.append(':');
    appendPadded(out, rem % 60, 2);
    if (nanos) {
        char frac[10];
        quint32 n = nanos % 1000000000u;
        for (int i = 8; i >= 0; --i) {
            frac[i] = char('0' + n % 10);
            n /= 10;
        }
        int len = 9;
        while (len > 1 && frac[len - 1] == '0')
            --len;
        out.append('.');
        out.append(frac, len);
    }
    out.append('Z');
}

bool parseIso8601(QByteArrayView s, qint64 *seconds, quint32 *nanos) noexcept
{
    int year, month, day, hour = 0, minute = 0, second = 0;
    qsizetype p = 0;
    if (!digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, month)
        || s[7] != '-' || !digits(s, 8, 2, day))
        return false;
    p = 10;
    quint32 frac = 0;
    qint64 offset = 0;
    if (p < s.size()) {
        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ')
            return false;
        if (!digits(s, p + 1, 2, hour) || p + 3 >= s.size() || s[p + 3] != ':'
            || !digits(s, p + 4, 2, minute))
            return false;
        p += 6;
        if (p < s.size() && s[p] == ':') {
            if (!digits(s, p + 1, 2, second))
                return false;
            p += 3;
        }
        if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
            ++p;
            int n = 0;
            while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                if (n < 9) {
                    frac = frac * 10 + quint32(s[p] - '0');
                    ++n;
                }
                ++p;
            }
            if (n == 0)
                return false;
            for (; n < 9; ++n)
                frac *= 10;
        }
        if (p < s.size()) {
            if (s[p] == 'Z' || s[p] == 'z') {
                ++p;
            } else if (s[p] == '+' || s[p] == '-') {
                const int sign = s[p] == '-' ? -1 : 1;
                int oh, om = 0;
                if (!digits(s, p + 1, 2, oh))
                    return false;
                p += 3;
                if (p < s.size() && s[p] == ':')
                    ++p;
                if (p < s.size()) {
                    if (!digits(s, p, 2, om))
                        return false;
                    p += 2;
                }
                if (oh > 23 || om > 59)
                    return false;
                offset = sign * (oh * 3600 + om * 60);
            }
        }
        if (p != s.size())
            return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return false;
    static constexpr unsigned char monthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > monthDays[month - 1] || (month == 2 && day == 29 && !leap))
        return false;
    const qint64 days = daysFromCivil(year, unsigned(month), unsigned(day));
    *seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
    *nanos = frac;
    return true;
}

void appendInt(QByteArray &out, qint64 v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr - buf);
}

void appendUInt(QByteArray &out, quint64 v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr - buf);
}

void appendDouble(QByteArray &out, double v, bool single)
{
    if (std::isnan(v)) {
        out.append("\"NaN\"");
        return;
    }
    if (std::isinf(v)) {
        out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char buf[40];
    auto r = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                    : std::to_chars(buf, buf + sizeof buf, v);
    const qsizetype len = r.ptr - buf;
    out.append(buf, len);
    if (!std::memchr(buf, '.', size_t(len)) && !std::memchr(buf, 'e', size_t(len)))
        out.append(".0");
}

} // namespace Text
} // namespace Protocol
} // namespace Heliograph
