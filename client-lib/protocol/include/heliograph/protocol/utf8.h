// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), streaming
/// or in one piece: what the codecs check strings with and the server checks WebSocket text
/// messages, close reasons and paths with.

#include <heliograph/protocol/heliographprotocol_export.h>

#include <QtCore/QByteArrayView>

namespace Heliograph {
inline namespace Protocol {

/// Validates UTF-8 that arrives in pieces (a code point may be split between pieces).
class HELIOGRAPH_PROTOCOL_EXPORT Utf8Validator {
public:
    /// Checks the next bytes. Returns false once an invalid sequence was seen (and stays false).
    bool feed(QByteArrayView data) noexcept;
    /// True if everything so far was valid and ended on a code point boundary.
    bool isComplete() const noexcept { return !m_failed && m_need == 0; }
    /// True once an invalid sequence was seen.
    bool hasFailed() const noexcept { return m_failed; }
    /// Starts again, as a new validator.
    void reset() noexcept { *this = Utf8Validator(); }

private:
    quint8 m_need = 0; ///< continuation bytes still expected
    quint8 m_lo = 0x80; ///< allowed range of the next continuation byte
    quint8 m_hi = 0xBF;
    bool m_failed = false;
};

/// True if `data` is complete, well-formed UTF-8.
HELIOGRAPH_PROTOCOL_EXPORT bool isValidUtf8(QByteArrayView data) noexcept;

} // namespace Protocol
} // namespace Heliograph
