// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Expected, the result type of every synchronous protocol operation, and ProtocolError.

#include <heliograph/protocol/heliographprotocol_export.h>

#include <QtCore/QString>

#include <utility>
#include <variant>

namespace Heliograph {
inline namespace Protocol {

/// What went wrong in a synchronous protocol operation (parsing, binding, negotiation).
/// The codes are stable; the message is for humans and follows the official
/// SignalR implementations' wording where the peers can observe it.
enum class ProtocolErrorCode : quint8 {
    InvalidData = 1, ///< malformed bytes: bad JSON/MessagePack, wrong types, missing fields
    MessageTooLarge, ///< a frame exceeds the configured maximum message size
    UnsupportedProtocol, ///< handshake names an unknown or disabled protocol
    UnsupportedVersion, ///< handshake or negotiate asks for a version we do not speak
    UnsupportedTransferFormat, ///< protocol needs a transfer format the transport lacks
    HandshakeFailed, ///< the peer answered the handshake with an error
    NegotiateFailed, ///< the negotiate response carries an error or is unusable
    ConversionFailed, ///< a Value could not be converted to the requested C++ type
};

/// The error of a failed synchronous protocol operation.
struct ProtocolError {
    ProtocolErrorCode code = ProtocolErrorCode::InvalidData; ///< what kind of failure
    QString message; ///< human-readable details (ASP.NET Core's wording where peers see it)
    friend bool operator==(const ProtocolError &, const ProtocolError &) = default;
};

/// A minimal std::expected stand-in (std::expected is C++23): either a value or an error,
/// a ProtocolError unless said otherwise.
template<typename T, typename E = ProtocolError> class [[nodiscard]] Expected {
public:
    /// Holds a copy of the value.
    Expected(const T &v)
        : m_data(std::in_place_index<0>, v)
    { }
    /// Holds the moved value.
    Expected(T &&v)
        : m_data(std::in_place_index<0>, std::move(v))
    { }
    /// Holds the error.
    Expected(E e)
        : m_data(std::in_place_index<1>, std::move(e))
    { }

    /// True when a value is held, false when an error is.
    bool has_value() const noexcept { return m_data.index() == 0; }
    /// has_value().
    explicit operator bool() const noexcept { return has_value(); }
    /// The value. Only valid when has_value() (throws std::bad_variant_access otherwise).
    T &value() & { return std::get<0>(m_data); }
    /// \overload
    const T &value() const & { return std::get<0>(m_data); }
    /// \overload
    T &&value() && { return std::get<0>(std::move(m_data)); }
    /// value().
    T &operator*() & { return value(); }
    /// \overload
    const T &operator*() const & { return value(); }
    /// \overload
    T &&operator*() && { return std::get<0>(std::move(m_data)); }
    /// Member access to the value; only valid when has_value().
    T *operator->() { return &value(); }
    /// \overload
    const T *operator->() const { return &value(); }
    /// The error. Only valid when !has_value() (throws std::bad_variant_access otherwise).
    const E &error() const { return std::get<1>(m_data); }

private:
    std::variant<T, E> m_data;
};

/// Shorthand for a ProtocolError with ProtocolErrorCode::InvalidData.
inline ProtocolError invalidData(QString message)
{
    return ProtocolError {ProtocolErrorCode::InvalidData, std::move(message)};
}

} // namespace Protocol
} // namespace Heliograph
