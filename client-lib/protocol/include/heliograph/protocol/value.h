// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Value, the data model of hub arguments, results and stream items.

#include <heliograph/protocol/heliographprotocol_export.h>

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
inline namespace Protocol {

class Value;
struct MapEntry;
/// The elements of an Array Value; also a hub invocation's arguments.
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
class HELIOGRAPH_PROTOCOL_EXPORT Value {
public:
    /// The kind of value held.
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

    /// A Null.
    Value() noexcept = default;
    /// A Null.
    Value(std::nullptr_t) noexcept { }
    /// A Bool.
    Value(bool b) noexcept
        : m_type(Type::Bool)
    {
        m_scalar.b = b;
    }
    /// An Integer; an unsigned value above INT64_MAX becomes an UnsignedInteger. `char` is
    /// not accepted (it would be ambiguous with text): use a string or another integer type.
    template<std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>) Value(I v)
    noexcept
    {
        if constexpr (!std::is_signed_v<I> && sizeof(I) >= sizeof(qint64)) {
            if (v > static_cast<quint64>(std::numeric_limits<qint64>::max())) {
                m_type = Type::UnsignedInteger;
                m_scalar.u = static_cast<quint64>(v);
                return;
            }
        }
        m_type = Type::Integer;
        m_scalar.i = static_cast<qint64>(v);
    }
    /// A Double (double precision; see fromFloat()).
    Value(double d) noexcept
        : m_type(Type::Double)
    {
        m_scalar.d = d;
    }
    /// A single-precision number: encoded as MessagePack float32, like .NET's `float`.
    static Value fromFloat(float f) noexcept;
    /// A String of the NUL-terminated UTF-8 text (not validated).
    Value(const char *utf8);
    /// A String (stored as UTF-8).
    Value(const QString &s);
    /// A String (stored as UTF-8).
    Value(QStringView s);
    /// A String (stored as UTF-8).
    Value(QLatin1StringView s);
    /// An Array.
    Value(ValueList array);
    /// A Map.
    Value(ValueMap map);
    /// A Map of a struct's members, keyed by member name: what toValue() makes of a type
    /// described with HELIOGRAPH_DESCRIBE (camelCase keys). It is an ordinary Map that also
    /// says its keys are names, not data: a MessagePack protocol with StructKeyCase::PascalCase
    /// writes them capitalised (see HubProtocol::messagePack()); every other Map is written as
    /// it is. See isStructMap().
    static Value fromStructMap(ValueMap members);
    /// A Timestamp with the date-time's milliseconds; an invalid QDateTime gives a Null.
    Value(const QDateTime &dt);

    /// Takes UTF-8 bytes as a string (no validation: the parsers validate what they read).
    static Value fromUtf8(QByteArray utf8);
    /// \overload
    static Value fromUtf8(QByteArrayView utf8) { return fromUtf8(utf8.toByteArray()); }
    /// A Binary (MessagePack bin; base64 text in JSON).
    static Value fromBinary(QByteArray bytes);
    /// A Timestamp: seconds since the Unix epoch (UTC) plus nanoseconds; nanoseconds of a
    /// second or more carry into the seconds.
    static Value fromTimestamp(qint64 seconds, quint32 nanoseconds = 0);
    /// A MessagePack extension of the given type with its raw data.
    static Value fromExtension(qint8 type, QByteArray data);
    /// Converts a QVariant: null, bool, integers, floating point (float stays single
    /// precision), QString, QByteArray (Binary), QDateTime (Timestamp), lists, QVariantMap and
    /// QVariantHash (Maps with String keys), Qt JSON types. Anything else that converts to
    /// QString becomes a String, the rest a Null.
    static Value fromVariant(const QVariant &v);
    /// Converts a QJsonValue; numbers that are integers of 64 bits stay Integers, objects
    /// become Maps with String keys.
    static Value fromJsonValue(const QJsonValue &v);

    /// The kind of value held.
    Type type() const noexcept { return m_type; }
    /// type() is Null.
    bool isNull() const noexcept { return m_type == Type::Null; }
    /// type() is Bool.
    bool isBool() const noexcept { return m_type == Type::Bool; }
    /// type() is Integer or UnsignedInteger.
    bool isInteger() const noexcept
    {
        return m_type == Type::Integer || m_type == Type::UnsignedInteger;
    }
    /// type() is Double.
    bool isDouble() const noexcept { return m_type == Type::Double; }
    /// isInteger() or isDouble().
    bool isNumber() const noexcept { return isInteger() || isDouble(); }
    /// type() is String.
    bool isString() const noexcept { return m_type == Type::String; }
    /// type() is Binary.
    bool isBinary() const noexcept { return m_type == Type::Binary; }
    /// type() is Array.
    bool isArray() const noexcept { return m_type == Type::Array; }
    /// type() is Map.
    bool isMap() const noexcept { return m_type == Type::Map; }
    /// type() is Timestamp.
    bool isTimestamp() const noexcept { return m_type == Type::Timestamp; }
    /// True for a Double made by fromFloat() or read from a MessagePack float32.
    bool isSinglePrecision() const noexcept { return m_single; }
    /// True for a Map made by fromStructMap() (or a copy of one, edited or not); false for
    /// every Map a parser produced. Not part of equality.
    bool isStructMap() const noexcept { return m_structMap; }

    /// The value of a Bool; `defaultValue` for every other type.
    bool toBool(bool defaultValue = false) const noexcept;
    /// The integer value; a Double converts only if it is integral and in range. `*ok` (when
    /// given) tells whether it converted; 0 when it did not.
    qint64 toInteger(bool *ok = nullptr) const noexcept;
    /// The same for unsigned: a negative number does not convert.
    quint64 toUnsignedInteger(bool *ok = nullptr) const noexcept;
    /// A number as double; the strings "NaN", "Infinity" and "-Infinity" (how JSON carries
    /// non-finite numbers) convert too. `*ok` as for toInteger().
    double toDouble(bool *ok = nullptr) const noexcept;
    /// String or binary bytes (UTF-8 for strings); empty for other types.
    const QByteArray &bytes() const noexcept { return m_bytes; }
    /// bytes() as a view.
    QByteArrayView utf8() const noexcept { return m_bytes; }
    /// A String as QString; a null QString for every other type.
    QString toString() const;
    /// Timestamp seconds/nanoseconds; parses ISO 8601 strings (as JSON carries them) too.
    bool toTimestamp(qint64 *seconds, quint32 *nanoseconds) const;
    /// toTimestamp() as a UTC QDateTime (milliseconds); invalid when it does not convert.
    QDateTime toDateTime() const;
    /// The type byte of an Extension (meaningless for other types).
    qint8 extensionType() const noexcept { return static_cast<qint8>(m_scalar.i); }

    /// The elements of an Array; an empty list for every other type.
    const ValueList &array() const noexcept;
    /// The entries of a Map, in order; an empty list for every other type.
    const ValueMap &map() const noexcept;
    /// Mutable access to the elements; a value of any other type (typically a Null) is
    /// replaced by an empty Array first, shared storage is detached.
    ValueList &asArray();
    /// The same for a Map.
    ValueMap &asMap();
    qsizetype size() const noexcept; ///< array/map element count, bytes for string/binary

    /// Map lookup by string key (case-sensitive); a shared null Value when absent.
    const Value &operator[](QByteArrayView key) const noexcept;
    /// Array element by index; a shared null Value when out of range or not an Array.
    const Value &operator[](qsizetype index) const noexcept;
    /// Map lookup ignoring ASCII case, as .NET's JSON binder does.
    const Value *find(QByteArrayView key,
                      Qt::CaseSensitivity cs = Qt::CaseSensitive) const noexcept;
    /// Sets the entry of `key` (replacing the value of an equal key, else appending); makes
    /// this a Map first, as asMap() does.
    void insert(Value key, Value value);

    /// The matching QVariant: nullptr for Null, qint64/quint64, double or float, QString,
    /// QByteArray (Binary and Extension data), QDateTime, QVariantList, QVariantMap (non-string
    /// keys as their JSON text).
    QVariant toVariant() const;
    /// The matching QJsonValue: Binary and Extension data as base64, Timestamps as ISO 8601
    /// strings, UnsignedInteger as double, non-string map keys as their JSON text.
    QJsonValue toJsonValue() const;

    /// Same type and content. Integers and Doubles never compare equal to each other; NaN
    /// equals NaN; isStructMap() is not compared.
    friend HELIOGRAPH_PROTOCOL_EXPORT bool operator==(const Value &a, const Value &b) noexcept;
    /// !(a == b).
    friend bool operator!=(const Value &a, const Value &b) noexcept { return !(a == b); }

    /// A shared Null, for returning references.
    static const Value &null() noexcept;

private:
    Type m_type = Type::Null;
    bool m_single = false;
    bool m_structMap = false;
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

/// One entry of a ValueMap.
struct MapEntry {
    Value key; ///< usually a String; MessagePack allows any type
    Value value; ///< the entry's value
    friend bool operator==(const MapEntry &, const MapEntry &) = default;
};

/// Writes `Value(<type>, <JSON text>)`.
HELIOGRAPH_PROTOCOL_EXPORT QDebug operator<<(QDebug dbg, const Value &v);
/// The name of a type ("Null", "Bool", "Integer", ...), as conversion errors use it.
HELIOGRAPH_PROTOCOL_EXPORT const char *typeName(Value::Type t) noexcept;

} // namespace Protocol
} // namespace Heliograph
