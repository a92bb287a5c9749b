// SPDX-License-Identifier: MIT
#pragma once

#include <heliograph/client/heliographclient_export.h>

#include <QtCore/QString>

#include <utility>
#include <variant>

namespace Heliograph {

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

struct ProtocolError {
    ProtocolErrorCode code = ProtocolErrorCode::InvalidData;
    QString message;
    friend bool operator==(const ProtocolError &, const ProtocolError &) = default;
};

/// A minimal std::expected stand-in (std::expected is C++23): either a value or an error,
/// a ProtocolError unless said otherwise.
template<typename T, typename E = ProtocolError> class [[nodiscard]] Expected {
public:
    Expected(const T &v)
        : m_data(std::in_place_index<0>, v)
    { }
    Expected(T &&v)
        : m_data(std::in_place_index<0>, std::move(v))
    { }
    Expected(E e)
        : m_data(std::in_place_index<1>, std::move(e))
    { }

    bool has_value() const noexcept { return m_data.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T &value() & { return std::get<0>(m_data); }
    const T &value() const & { return std::get<0>(m_data); }
    T &&value() && { return std::get<0>(std::move(m_data)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T &&operator*() && { return std::get<0>(std::move(m_data)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    const E &error() const { return std::get<1>(m_data); }

private:
    std::variant<T, E> m_data;
};

inline ProtocolError invalidData(QString message)
{
    return ProtocolError {ProtocolErrorCode::InvalidData, std::move(message)};
}

} // namespace Heliograph
