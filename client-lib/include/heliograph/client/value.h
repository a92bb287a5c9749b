// SPDX-License-Identifier: MIT
#pragma once

#include <heliograph/client/heliographclient_export.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

#include <concepts>
#include <cstdint>
#include <memory>

QT_BEGIN_NAMESPACE
class QVariant;
class QJsonValue;
class QDebug;
QT_END_NAMESPACE

namespace Heliograph {

class Value;
struct MapEntry;
using ValueList = QList<Value>;
/// Maps keep their insertion order and may have non-string keys (MessagePack allows them).
using ValueMap = QList<MapEntry>;

/// A protocol value: what hub arguments, results and stream items are made of.
///
/// It round-trips both hub protocols faithfully: integers stay 64-bit integers, binary stays
/// binary, strings are UTF-8 bytes (never converted to UTF-16 on the wire paths), maps keep
/// their order, timestamps keep nanoseconds. JSON has no binary or timestamp type: those are
/// written as base64 and ISO 8601 strings, and converted back when bound to a C++ type.
/// Copies are cheap: strings share their bytes, arrays and maps share their storage and
/// detach on write.
class HELIOGRAPH_CLIENT_EXPORT Value {
public:
    enum class Type : quint8 {
        Null,
        Bool,
        Integer, ///< signed 64-bit
        UnsignedInteger, ///< only for values above INT64_MAX
        Double,
        String, ///< UTF-8
        Binary,
        Array,
        Map,
        Timestamp, ///< seconds since the Unix epoch + nanoseconds, UTC
        Extension, ///< a MessagePack extension other than the timestamp
    };

    Value() noexcept = default;
    Value(std::nullptr_t) noexcept { }
    Value(bool b) noexcept
        : m_type(Type::Bool)
    {
        m_scalar.b = b;
    }
    template<std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>) Value(I v)
    noexcept
    {
        if constexpr (std::is_signed_v<I> || sizeof(I) < sizeof(qint64)) {
            m_type = Type::Integer;
            m_scalar.i = static_cast<qint64>(v);
        } else if (v > static_cast<quint64>(std::numeric_limits<qint64>::max())) {
            m_type = Type::UnsignedInteger;
            m_scalar.u = static_cast<quint64>(v);
        } else {
            m_type = Type::Integer;
            m_scalar.i = static_cast<qint64>(v);
        }
    }
    Value(double d) noexcept
        : m_type(Type::Double)
    {
        m_scalar.d = d;
    }
    /// A single-precision number: encoded as MessagePack float32, like .NET's `float`.
    static Value fromFloat(float f) noexcept;
    Value(const char *utf8);
    Value(const QString &s);
    Value(QStringView s);
    Value(QLatin1StringView s);
    Value(ValueList array);
    Value(ValueMap map);
    Value(const QDateTime &dt);

    /// Takes UTF-8 bytes as a string (no validation: the parsers validate what they read).
    static Value fromUtf8(QByteArray utf8);
    static Value fromUtf8(QByteArrayView utf8) { return fromUtf8(utf8.toByteArray()); }
    static Value fromBinary(QByteArray bytes);
    static Value fromTimestamp(qint64 seconds, quint32 nanoseconds = 0);
    static Value fromExtension(qint8 type, QByteArray data);
    static Value fromVariant(const QVariant &v);
    static Value fromJsonValue(const QJsonValue &v);

    Type type() const noexcept { return m_type; }
    bool isNull() const noexcept { return m_type == Type::Null; }
    bool isBool() const noexcept { return m_type == Type::Bool; }
    bool isInteger() const noexcept
    {
        return m_type == Type::Integer || m_type == Type::UnsignedInteger;
    }
    bool isDouble() const noexcept { return m_type == Type::Double; }
    bool isNumber() const noexcept { return isInteger() || isDouble(); }
    bool isString() const noexcept { return m_type == Type::String; }
    bool isBinary() const noexcept { return m_type == Type::Binary; }
    bool isArray() const noexcept { return m_type == Type::Array; }
    bool isMap() const noexcept { return m_type == Type::Map; }
    bool isTimestamp() const noexcept { return m_type == Type::Timestamp; }
    /// True for a Double made by fromFloat() or read from a MessagePack float32.
    bool isSinglePrecision() const noexcept { return m_single; }

    bool toBool(bool defaultValue = false) const noexcept;
    /// The integer value; a Double converts only if it is integral and in range.
    qint64 toInteger(bool *ok = nullptr) const noexcept;
    quint64 toUnsignedInteger(bool *ok = nullptr) const noexcept;
    double toDouble(bool *ok = nullptr) const noexcept;
    /// String or binary bytes (UTF-8 for strings); empty for other types.
    const QByteArray &bytes() const noexcept { return m_bytes; }
    QByteArrayView utf8() const noexcept { return m_bytes; }
    QString toString() const;
    /// Timestamp seconds/nanoseconds; parses ISO 8601 strings (as JSON carries them) too.
    bool toTimestamp(qint64 *seconds, quint32 *nanoseconds) const;
    QDateTime toDateTime() const;
    qint8 extensionType() const noexcept { return static_cast<qint8>(m_scalar.i); }

    const ValueList &array() const noexcept;
    const ValueMap &map() const noexcept;
    /// Mutable access; converts a Null into an empty array/map, detaches shared storage.
    ValueList &asArray();
    ValueMap &asMap();
    qsizetype size() const noexcept; ///< array/map element count, bytes for string/binary

    /// Map lookup by string key (case-sensitive); a shared null Value when absent.
    const Value &operator[](QByteArrayView key) const noexcept;
    const Value &operator[](qsizetype index) const noexcept;
    /// Map lookup ignoring ASCII case, as .NET's JSON binder does.
    const Value *find(QByteArrayView key,
                      Qt::CaseSensitivity cs = Qt::CaseSensitive) const noexcept;
    void insert(Value key, Value value);

    QVariant toVariant() const;
    QJsonValue toJsonValue() const;

    friend HELIOGRAPH_CLIENT_EXPORT bool operator==(const Value &a, const Value &b) noexcept;
    friend bool operator!=(const Value &a, const Value &b) noexcept { return !(a == b); }

    static const Value &null() noexcept;

private:
    Type m_type = Type::Null;
    bool m_single = false;
    quint32 m_nanos = 0;
    union {
        bool b;
        qint64 i;
        quint64 u;
        double d;
    } m_scalar {.i = 0};
    QByteArray m_bytes;
    std::shared_ptr<void> m_container;
};

struct MapEntry {
    Value key;
    Value value;
    friend bool operator==(const MapEntry &, const MapEntry &) = default;
};

HELIOGRAPH_CLIENT_EXPORT QDebug operator<<(QDebug dbg, const Value &v);
HELIOGRAPH_CLIENT_EXPORT const char *typeName(Value::Type t) noexcept;

} // namespace Heliograph
