// SPDX-License-Identifier: MIT
// Internal: UTF-8 validation (utf8.h's, for pointer and length), ISO 8601 timestamps,
// integer/double formatting.
#pragma once

#include <heliograph/protocol/utf8.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <cstdint>

namespace Heliograph {
inline namespace Protocol {
namespace Text {

/// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
inline bool isValidUtf8(const char *s, qsizetype n) noexcept
{
    return Protocol::isValidUtf8(QByteArrayView(s, n));
}

/// Appends `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (fraction trimmed of trailing zeros).
void appendIso8601(QByteArray &out, qint64 seconds, quint32 nanos);
/// Parses ISO 8601 date-times with an optional fraction and `Z` / `+hh:mm` offset (no offset =
/// UTC). Returns false on anything else.
bool parseIso8601(QByteArrayView s, qint64 *seconds, quint32 *nanos) noexcept;

void appendInt(QByteArray &out, qint64 v);
void appendUInt(QByteArray &out, quint64 v);
/// Shortest round-trip form; integral values get ".0" so they read back as doubles.
void appendDouble(QByteArray &out, double v, bool single);

} // namespace Text
} // namespace Protocol
} // namespace Heliograph
